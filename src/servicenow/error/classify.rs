//! Reading a response (or a transport failure) into one [`ErrorKind`]: the Table API's JSON
//! envelope, the token endpoint's OAuth body, HTML pages where JSON was expected (hibernation,
//! login, SSO), and what reqwest reports when no answer came.

use std::time::Duration;

use reqwest::header::HeaderMap;
use serde_json::Value;

use super::{ErrorKind, ForbiddenKind, RequestTarget, SnError};

/// What a caller expects in a successful answer; the token endpoint speaks a different dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expect {
    /// Table API: `{"result": …}` envelope.
    Table,
    /// `/oauth_token.do`: a bare OAuth JSON object.
    Token,
}

/// `{"error":{"message","detail"}}` or OAuth's `{"error","error_description"}`.
fn server_text(body: &Value) -> (Option<String>, Option<String>) {
    let text = |v: Option<&Value>| -> Option<String> {
        match v? {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Null => None,
            Value::String(_) => None,
            other => Some(other.to_string()),
        }
    };
    match body.get("error") {
        Some(Value::Object(e)) => (text(e.get("message")), text(e.get("detail"))),
        Some(Value::String(_)) => (text(body.get("error_description")), None),
        _ => (None, None),
    }
}

fn is_html(content_type: &str, body: &str) -> bool {
    content_type.contains("html") || {
        let head = body
            .trim_start()
            .get(..15)
            .unwrap_or("")
            .to_ascii_lowercase();
        head.starts_with("<!doctype html") || head.starts_with("<html")
    }
}

fn is_json(content_type: &str) -> bool {
    content_type.contains("json")
}

/// The page a hibernating developer instance answers every route with (facts sheet, Corrections
/// 4: measured, from public code): `class="instance-hibernating-page"`, the title "Instance
/// Hibernating page" and the text "Your instance is hibernating". Any one marker is enough, in any
/// case, since the page's markup has changed over releases and only one of them may survive.
pub(super) fn is_hibernation_page(body: &str) -> bool {
    let lower = body.to_ascii_lowercase();
    [
        "instance-hibernating-page",
        "instance hibernating page",
        "your instance is hibernating",
    ]
    .iter()
    .any(|marker| lower.contains(marker))
}

/// Markers of ServiceNow's login form or of an SSO identity provider's page.
fn looks_like_login(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    [
        "login.do",
        "user_name",
        "user_password",
        "login",
        "log in",
        "sign in",
        "saml",
        "/sso",
        "sso/",
        "single sign",
        "/oauth2/authorize",
        "openid",
        "navpage.do",
    ]
    .iter()
    .any(|m| lower.contains(m))
}

fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// `Retry-After` in seconds (the form ServiceNow sends). HTTP dates are ignored: the backoff then
/// falls back to its own schedule.
pub(crate) fn parse_retry_after(headers: &HeaderMap) -> Option<Duration> {
    retry_after_value(
        header_str(headers, "retry-after")?,
        std::time::SystemTime::now(),
    )
}

/// `Retry-After` is either seconds (what ServiceNow sends) or an HTTP date (what a proxy in front
/// of it may send); a date in the past means "now".
pub(super) fn retry_after_value(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Turns one HTTP response into parsed JSON or a classified error.
///
/// Order matters: the hibernation page is recognised whatever its status (sources report both
/// 200 and 503), then redirects and HTML where JSON was expected, then the status code with the
/// server's own message.
pub(crate) fn classify(
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
    target: &RequestTarget,
    expect: Expect,
) -> Result<Value, SnError> {
    let err = |kind: ErrorKind| SnError::new(kind, target.clone());
    let content_type = header_str(headers, "content-type")
        .unwrap_or("")
        .to_ascii_lowercase();
    let text = String::from_utf8_lossy(body);

    if is_hibernation_page(&text) {
        return Err(err(ErrorKind::Hibernating));
    }

    if (300..400).contains(&status) {
        let location = header_str(headers, "location").unwrap_or("").to_string();
        let kind = if looks_like_login(&location) {
            ErrorKind::LoginPage
        } else {
            ErrorKind::UnexpectedStatus { status }
        };
        let detail = (!location.is_empty()).then(|| format!("redirected to {location}"));
        return Err(err(kind).with_server(None, detail));
    }

    let parsed: Option<Value> = if is_json(&content_type) || !is_html(&content_type, &text) {
        serde_json::from_slice(body).ok()
    } else {
        None
    };

    if (200..300).contains(&status) {
        if status == 204 {
            return Ok(Value::Null);
        }
        if is_html(&content_type, &text) {
            let kind = if looks_like_login(&text) {
                ErrorKind::LoginPage
            } else {
                ErrorKind::NotServiceNow
            };
            return Err(err(kind).with_server(None, Some(format!("HTTP {status}, HTML page"))));
        }
        if !is_json(&content_type) {
            let shown = if content_type.is_empty() {
                "no content type".to_string()
            } else {
                format!("content type {content_type}")
            };
            return Err(err(ErrorKind::NotServiceNow)
                .with_server(None, Some(format!("HTTP {status}, {shown}"))));
        }
        let value = match parsed {
            Some(v) => v,
            None => {
                let detail = match serde_json::from_slice::<Value>(body) {
                    Err(e) => e.to_string(),
                    Ok(_) => "unparseable".into(),
                };
                return Err(err(ErrorKind::MalformedJson).with_server(None, Some(detail)));
            }
        };
        let shape_ok = match expect {
            Expect::Table => value.get("result").is_some(),
            Expect::Token => value.get("access_token").and_then(Value::as_str).is_some(),
        };
        if !shape_ok {
            let want = match expect {
                Expect::Table => "a JSON object with \"result\"",
                Expect::Token => "a JSON object with \"access_token\"",
            };
            return Err(
                err(ErrorKind::MalformedJson).with_server(None, Some(format!("expected {want}")))
            );
        }
        return Ok(value);
    }

    // Error statuses. An HTML error page from a 4xx means the address is not a ServiceNow REST
    // endpoint (or a login wall stands in front); a 5xx is a server failure whatever its body.
    let (message, detail) = parsed.as_ref().map(server_text).unwrap_or((None, None));
    let html = parsed.is_none() && is_html(&content_type, &text);

    // A 429 is a rate limit whatever its body says: read as a refused grant, it would send the
    // user looking for a wrong password or a locked account.
    if expect == Expect::Token && (400..500).contains(&status) && status != 429 {
        if let Some(Value::String(error)) = parsed.as_ref().and_then(|v| v.get("error")) {
            let description = parsed
                .as_ref()
                .and_then(|v| v.get("error_description"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            return Err(err(ErrorKind::TokenDenied {
                error: error.clone(),
                description,
            }));
        }
    }

    let kind = match status {
        401 => {
            if html && looks_like_login(&text) {
                ErrorKind::LoginPage
            } else {
                let mfa = headers
                    .get("x-mfa_token")
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.eq_ignore_ascii_case("invalid"));
                ErrorKind::Unauthorized { mfa_required: mfa }
            }
        }
        403 if html => ErrorKind::NotServiceNow,
        403 => ErrorKind::Forbidden(forbidden_kind(message.as_deref(), detail.as_deref())),
        // Before the HTML rule: a front end answers 431 with a page of its own, and the cause is an
        // oversized header (a huge password or user name in Basic auth), not the address.
        431 => ErrorKind::HeaderTooLarge,
        404 if html => ErrorKind::NotServiceNow,
        404 => ErrorKind::NotFound,
        429 => ErrorKind::RateLimited {
            retry_after: parse_retry_after(headers),
        },
        400 if message
            .as_deref()
            .is_some_and(|m| m.starts_with("Invalid table")) =>
        {
            ErrorKind::InvalidTable
        }
        400..=499 if html => ErrorKind::NotServiceNow,
        400..=499 => ErrorKind::BadRequest { status },
        500..=599 => ErrorKind::Server { status },
        _ => ErrorKind::UnexpectedStatus { status },
    };
    Err(err(kind).with_server(message, detail))
}

/// Reads a 403's message and detail for the documented causes.
fn forbidden_kind(message: Option<&str>, detail: Option<&str>) -> ForbiddenKind {
    let both = format!("{} {}", message.unwrap_or(""), detail.unwrap_or(""));
    if let Some(rest) = both.split("ACL Exception ").nth(1) {
        let operation = rest.split_whitespace().next().unwrap_or("").to_string();
        if !operation.is_empty() {
            return ForbiddenKind::AclOperation { operation };
        }
    }
    if both.contains("denied due to table security") {
        ForbiddenKind::TableSecurity
    } else if both
        .to_ascii_lowercase()
        .contains("missing required api access scope")
    {
        ForbiddenKind::ApiAccessScope
    } else if both.contains("aborted by Business Rule") {
        ForbiddenKind::BusinessRule
    } else {
        ForbiddenKind::Other
    }
}

/// Maps a transport failure (no HTTP status) to a kind, looking through the error's causes for a
/// TLS error: reqwest reports certificate failures as connection errors.
pub(crate) fn classify_transport(e: &reqwest::Error, target: &RequestTarget) -> SnError {
    let chain = cause_chain(e);
    if let Some(detail) = proxy_refusal(&chain) {
        return SnError::new(ErrorKind::Proxy, target.clone()).with_server(None, Some(detail));
    }
    let kind = if e.is_timeout() || chain_has_timeout(e) {
        ErrorKind::Timeout
    } else if chain_has_tls(e) {
        ErrorKind::Tls
    } else if e.is_connect() {
        ErrorKind::Connect
    } else if e.is_body() || e.is_decode() {
        ErrorKind::ConnectionLost
    } else if e.is_builder() {
        ErrorKind::ClientSetup
    } else {
        ErrorKind::Connect
    };
    SnError::new(kind, target.clone()).with_server(None, (!chain.is_empty()).then_some(chain))
}

/// A proxy's refusal in words, from the tunnel error in a cause chain (hyper-util's only trace
/// of it is its message: "tunnel error: unsuccessful" and the like).
pub(super) fn proxy_refusal(chain: &str) -> Option<String> {
    let (_, rest) = chain.split_once("tunnel error: ")?;
    let said = |reason: &str| rest.starts_with(reason);
    Some(if said("unsuccessful") {
        "it refused the CONNECT request".to_string()
    } else if said("proxy authorization required") {
        "it requires authentication (407 Proxy Authentication Required)".to_string()
    } else if said("unexpected end of file") {
        "it closed the connection without answering the CONNECT request".to_string()
    } else if said("failed to create underlying connection") {
        let cause = rest
            .trim_start_matches("failed to create underlying connection")
            .trim_start_matches(": ");
        if cause.is_empty() {
            "the proxy itself could not be reached".to_string()
        } else {
            format!("the proxy itself could not be reached: {cause}")
        }
    } else {
        format!("tunnel error: {rest}")
    })
}

/// The causes of an error joined with ": ", skipping reqwest's own "error sending request"
/// wrapper (which would repeat the URL).
fn cause_chain(e: &reqwest::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(c) = cur {
        let s = c.to_string();
        // hyper's "client error (Connect)" wrapper says nothing the kind does not.
        let wrapper = s.starts_with("client error (") || s.starts_with("error sending request");
        if !s.is_empty() && !wrapper && !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        cur = c.source();
    }
    parts.join(": ")
}

/// Walks the causes, also looking inside `io::Error`s (whose `source()` skips the error they
/// wrap), and asks `pred` of each.
fn any_cause(
    e: &(dyn std::error::Error + 'static),
    pred: &dyn Fn(&(dyn std::error::Error + 'static)) -> bool,
) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cur {
        if pred(c) {
            return true;
        }
        if let Some(io) = c.downcast_ref::<std::io::Error>() {
            if let Some(inner) = io.get_ref() {
                if any_cause(inner, pred) {
                    return true;
                }
            }
        }
        cur = c.source();
    }
    false
}

fn chain_has_tls(e: &reqwest::Error) -> bool {
    any_cause(e, &|c| {
        if c.downcast_ref::<rustls::Error>().is_some() {
            return true;
        }
        let s = c.to_string().to_ascii_lowercase();
        s.contains("certificate") || s.contains("tls handshake") || s.contains("invalid peer")
    })
}

fn chain_has_timeout(e: &reqwest::Error) -> bool {
    any_cause(e, &|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
    })
}
