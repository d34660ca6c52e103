//! The OAuth token endpoint (`/oauth_token.do`): the response shape and the grants' form fields.
//!
//! A token request *is* a login attempt: ServiceNow counts failed ones towards locking the
//! account. That is why the client sends exactly one request per grant and never retries it, not
//! even on a 5xx (the instance may have counted the attempt before failing).

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use super::error::{ErrorKind, RequestTarget, SnError};

/// The documented success body:
/// `{"scope":"useraccount","token_type":"Bearer","expires_in":1799,"refresh_token":"…","access_token":"…"}`.
#[derive(Clone)]
pub struct TokenResponse {
    pub access_token: SecretString,
    /// Password grants always return one; refresh grants usually do not.
    pub refresh_token: Option<SecretString>,
    pub scope: Option<String>,
    pub token_type: String,
    pub expires_in: Option<u64>,
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &"[redacted]")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .field("scope", &self.scope)
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

impl TokenResponse {
    /// Reads a body already checked to hold a string `access_token`.
    pub(crate) fn from_json(v: &Value, target: &RequestTarget) -> Result<TokenResponse, SnError> {
        let access = v
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                let mut e = SnError::new(ErrorKind::MalformedJson, target.clone());
                e.server_detail = Some("the token response has no access_token".into());
                e
            })?;
        let expires_in = match v.get("expires_in") {
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(s)) => s.parse().ok(),
            _ => None,
        };
        Ok(TokenResponse {
            access_token: SecretString::from(access.to_string()),
            refresh_token: v
                .get("refresh_token")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(|s| SecretString::from(s.to_string())),
            scope: v.get("scope").and_then(Value::as_str).map(str::to_string),
            token_type: v
                .get("token_type")
                .and_then(Value::as_str)
                .unwrap_or("Bearer")
                .to_string(),
            expires_in,
        })
    }
}

/// A grant's form fields. Held as secrets until the moment the body is encoded, and never logged.
pub(crate) enum Grant<'a> {
    Password {
        client_id: &'a str,
        client_secret: &'a SecretString,
        username: &'a str,
        password: &'a SecretString,
    },
    Refresh {
        client_id: &'a str,
        client_secret: &'a SecretString,
        refresh_token: &'a SecretString,
    },
}

impl Grant<'_> {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Grant::Password { .. } => "password",
            Grant::Refresh { .. } => "refresh_token",
        }
    }

    /// The `application/x-www-form-urlencoded` body (ServiceNow refuses JSON here).
    pub(crate) fn form_body(&self) -> String {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("grant_type", self.name());
        match self {
            Grant::Password {
                client_id,
                client_secret,
                username,
                password,
            } => {
                form.append_pair("client_id", client_id);
                form.append_pair("client_secret", client_secret.expose_secret());
                form.append_pair("username", username);
                form.append_pair("password", password.expose_secret());
            }
            Grant::Refresh {
                client_id,
                client_secret,
                refresh_token,
            } => {
                form.append_pair("client_id", client_id);
                form.append_pair("client_secret", client_secret.expose_secret());
                form.append_pair("refresh_token", refresh_token.expose_secret());
            }
        }
        form.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_success_body() {
        let body: Value = serde_json::from_str(
            r#"{"scope":"useraccount","token_type":"Bearer","expires_in":1799,"refresh_token":"jZPd-refresh","access_token":"2wRl-access"}"#,
        )
        .unwrap();
        let t = TokenResponse::from_json(&body, &RequestTarget::default()).unwrap();
        assert_eq!(t.access_token.expose_secret(), "2wRl-access");
        assert_eq!(
            t.refresh_token
                .as_ref()
                .map(|s| s.expose_secret().to_string()),
            Some("jZPd-refresh".to_string())
        );
        assert_eq!(t.scope.as_deref(), Some("useraccount"));
        assert_eq!(t.token_type, "Bearer");
        assert_eq!(t.expires_in, Some(1799));
        let shown = format!("{t:?}");
        assert!(
            !shown.contains("2wRl-access") && !shown.contains("jZPd-refresh"),
            "{shown}"
        );
    }

    #[test]
    fn refresh_response_without_refresh_token() {
        let body: Value =
            serde_json::from_str(r#"{"access_token":"a1","expires_in":"1800"}"#).unwrap();
        let t = TokenResponse::from_json(&body, &RequestTarget::default()).unwrap();
        assert!(t.refresh_token.is_none());
        assert_eq!(t.expires_in, Some(1800));
        assert_eq!(t.token_type, "Bearer");
    }

    #[test]
    fn form_bodies_are_url_encoded() {
        let secret = SecretString::from("s&cr=t");
        let pw = SecretString::from("p w+");
        let g = Grant::Password {
            client_id: "cid",
            client_secret: &secret,
            username: "incident.io",
            password: &pw,
        };
        assert_eq!(
            g.form_body(),
            "grant_type=password&client_id=cid&client_secret=s%26cr%3Dt&username=incident.io&password=p+w%2B"
        );
        let rt = SecretString::from("rt");
        let g = Grant::Refresh {
            client_id: "cid",
            client_secret: &secret,
            refresh_token: &rt,
        };
        assert!(g.form_body().starts_with("grant_type=refresh_token&"));
    }
}
