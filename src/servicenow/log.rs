//! The `-v` request log: one line per attempt, with secrets redacted.
//!
//! Secrets can reach a request in three places: the `Authorization` header (never logged at all),
//! the token endpoint's form body (never logged at all), and values of password-like fields in a
//! query string or a JSON write body (`user_password`, `client_secret`, …), which are replaced by
//! `[redacted]` before the line is formatted. The sink is injectable so tests can capture the log
//! and prove the redaction.

use std::fmt;
use std::sync::Arc;

use serde_json::Value;

/// Where log lines go. The default (no sink) is stderr.
pub type LogSink = Arc<dyn Fn(&str) + Send + Sync>;

pub const REDACTED: &str = "[redacted]";

#[derive(Clone)]
pub(crate) struct Logger {
    enabled: bool,
    sink: Option<LogSink>,
}

impl fmt::Debug for Logger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Logger")
            .field("enabled", &self.enabled)
            .field("sink", &self.sink.as_ref().map(|_| "custom"))
            .finish()
    }
}

impl Logger {
    pub(crate) fn new(enabled: bool, sink: Option<LogSink>) -> Logger {
        Logger { enabled, sink }
    }

    pub(crate) fn enabled(&self) -> bool {
        self.enabled
    }

    pub(crate) fn line(&self, line: &str) {
        if !self.enabled {
            return;
        }
        match &self.sink {
            Some(sink) => sink(line),
            None => eprintln!("{line}"),
        }
    }
}

/// Whether a field or parameter name holds a secret. Dot-walks are judged by their last segment
/// (`user.user_password`).
pub fn is_sensitive_key(key: &str) -> bool {
    let last = key.rsplit('.').next().unwrap_or(key).to_ascii_lowercase();
    last.contains("password")
        || last.contains("secret")
        || matches!(
            last.as_str(),
            "access_token" | "refresh_token" | "token" | "authorization" | "apikey" | "api_key"
        )
}

/// Redacts secret values in an encoded query: `user_password=x^active=true` becomes
/// `user_password=[redacted]^active=true`. `^^` (an escaped caret) stays inside its value.
pub fn redact_encoded_query(query: &str) -> String {
    // Split at single carets, keeping `^^` inside values.
    let mut conditions: Vec<String> = vec![String::new()];
    let mut chars = query.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '^' {
            if chars.peek() == Some(&'^') {
                chars.next();
                conditions.last_mut().unwrap().push_str("^^");
            } else {
                conditions.push(String::new());
            }
        } else {
            conditions.last_mut().unwrap().push(c);
        }
    }
    conditions
        .iter()
        .map(|cond| redact_condition(cond))
        .collect::<Vec<_>>()
        .join("^")
}

fn redact_condition(cond: &str) -> String {
    let (prefix, rest) = ["OR", "NQ"]
        .iter()
        .find_map(|p| cond.strip_prefix(p).map(|r| (*p, r)))
        .filter(|(_, r)| r.starts_with(|c: char| c.is_ascii_lowercase() || c == '_'))
        .unwrap_or(("", cond));
    // Field names are lower-case (dot-walks included); operators are upper-case words or symbols.
    let field_end = rest
        .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.'))
        .unwrap_or(rest.len());
    let (field, after) = rest.split_at(field_end);
    if field.is_empty() || !is_sensitive_key(field) {
        return cond.to_string();
    }
    let op = OPERATORS
        .iter()
        .find(|op| after.starts_with(*op))
        .copied()
        .unwrap_or("");
    let value = &after[op.len()..];
    if value.is_empty() {
        cond.to_string()
    } else {
        format!("{prefix}{field}{op}{REDACTED}")
    }
}

/// Encoded-query operators, longest first so that `!=` wins over `=` and `NOT IN` over `IN`.
/// When none matches, everything after the field name is treated as the value and redacted.
const OPERATORS: [&str; 19] = [
    "NOT LIKE",
    "NOT IN",
    "STARTSWITH",
    "ENDSWITH",
    "ISNOTEMPTY",
    "ISEMPTY",
    "NSAMEAS",
    "SAMEAS",
    "BETWEEN",
    "LIKE",
    "IN",
    "!=",
    ">=",
    "<=",
    "=",
    ">",
    "<",
    "ANYTHING",
    "EMPTYSTRING",
];

/// Formats query parameters for the log (decoded, for readability), redacting secrets both as
/// parameter values and inside `sysparm_query`.
pub fn redact_params(params: &[(String, String)]) -> String {
    params
        .iter()
        .map(|(k, v)| {
            if is_sensitive_key(k) {
                format!("{k}={REDACTED}")
            } else if k == "sysparm_query" {
                format!("{k}={}", redact_encoded_query(v))
            } else {
                format!("{k}={v}")
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// A copy of a JSON write body with secret-named fields replaced, at any depth.
pub fn redact_json(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if is_sensitive_key(k) && !v.is_null() {
                        Value::String(REDACTED.into())
                    } else {
                        redact_json(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact_json).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sensitive_keys() {
        for k in [
            "user_password",
            "password",
            "client_secret",
            "refresh_token",
            "access_token",
            "user.user_password",
            "Password",
        ] {
            assert!(is_sensitive_key(k), "{k}");
        }
        for k in ["user_name", "token_format", "name", "client_id", "sys_id"] {
            assert!(!is_sensitive_key(k), "{k}");
        }
    }

    #[test]
    fn encoded_query_values_are_redacted() {
        assert_eq!(
            redact_encoded_query("user_name=bob^user_password=hunter2^active=true"),
            "user_name=bob^user_password=[redacted]^active=true"
        );
        assert_eq!(
            redact_encoded_query("active=true^ORuser_password!=x^^y"),
            "active=true^ORuser_password!=[redacted]"
        );
        assert_eq!(
            redact_encoded_query("client_secretSTARTSWITHabc"),
            "client_secretSTARTSWITH[redacted]"
        );
        assert_eq!(
            redact_encoded_query("user_password=ABC^x=1"),
            "user_password=[redacted]^x=1"
        );
        assert_eq!(
            redact_encoded_query("user_password~weird"),
            "user_password[redacted]"
        );
        assert_eq!(
            redact_encoded_query("user_passwordISEMPTY"),
            "user_passwordISEMPTY"
        );
        assert_eq!(
            redact_encoded_query("name=a^^user_password=b"),
            "name=a^^user_password=b",
            "an escaped caret is part of the value, not a new condition"
        );
        assert_eq!(
            redact_encoded_query("user.user_name=x^role.nameINa,b"),
            "user.user_name=x^role.nameINa,b"
        );
    }

    #[test]
    fn params_are_redacted() {
        let p = vec![
            ("sysparm_query".to_string(), "user_password=abc".to_string()),
            ("password".to_string(), "p".to_string()),
            ("sysparm_limit".to_string(), "1".to_string()),
        ];
        assert_eq!(
            redact_params(&p),
            "sysparm_query=user_password=[redacted]&password=[redacted]&sysparm_limit=1"
        );
    }

    #[test]
    fn json_bodies_are_redacted_at_any_depth() {
        let body = json!({
            "user_name": "incident.io",
            "user_password": "S3cret!",
            "nested": {"client_secret": "cs", "list": [{"password": "pw"}]},
            "client_secret": null
        });
        let r = redact_json(&body);
        let text = r.to_string();
        for s in ["S3cret!", "\"cs\"", "\"pw\""] {
            assert!(!text.contains(s), "{text}");
        }
        assert_eq!(r["user_name"], "incident.io");
        assert_eq!(r["user_password"], REDACTED);
        assert!(r["client_secret"].is_null());
    }

    #[test]
    fn disabled_logger_writes_nothing() {
        use std::sync::Mutex;
        let seen = Arc::new(Mutex::new(Vec::<String>::new()));
        let s2 = seen.clone();
        let sink: LogSink = Arc::new(move |l: &str| s2.lock().unwrap().push(l.to_string()));
        Logger::new(false, Some(sink.clone())).line("x");
        assert!(seen.lock().unwrap().is_empty());
        Logger::new(true, Some(sink)).line("y");
        assert_eq!(seen.lock().unwrap().as_slice(), ["y"]);
    }
}
