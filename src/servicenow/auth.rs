//! How a session proves who it is: nothing, Basic credentials, or an OAuth bearer token.
//!
//! The secret halves live in [`SecretString`], and `Debug` is written by hand so that printing an
//! `Auth` (in a log, a panic, a `{:?}` of a larger struct) shows who, never the secret.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

#[derive(Clone)]
pub enum Auth {
    /// No credentials: used to probe whether an address answers like an instance.
    Anonymous,
    Basic {
        user: String,
        password: SecretString,
    },
    /// An OAuth access token (from the password grant, or `SNCONNECT_ADMIN_TOKEN`).
    Bearer(SecretString),
}

impl Auth {
    pub fn basic(user: impl Into<String>, password: SecretString) -> Auth {
        Auth::Basic {
            user: user.into(),
            password,
        }
    }

    pub fn bearer(token: SecretString) -> Auth {
        Auth::Bearer(token)
    }

    /// The user name for Basic auth, for messages ("as admin"); bearer tokens carry no name.
    pub fn user(&self) -> Option<&str> {
        match self {
            Auth::Basic { user, .. } => Some(user),
            _ => None,
        }
    }

    /// A short description for logs and messages: `basic(admin)`, `bearer`, `anonymous`.
    pub fn describe(&self) -> String {
        match self {
            Auth::Anonymous => "anonymous".into(),
            Auth::Basic { user, .. } => format!("basic({user})"),
            Auth::Bearer(_) => "bearer".into(),
        }
    }

    /// Adds the `Authorization` header; reqwest marks it sensitive so its own debug output hides it.
    pub(crate) fn apply(&self, rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self {
            Auth::Anonymous => rb,
            Auth::Basic { user, password } => rb.basic_auth(user, Some(password.expose_secret())),
            Auth::Bearer(token) => rb.bearer_auth(token.expose_secret()),
        }
    }
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::Anonymous => f.write_str("Anonymous"),
            Auth::Basic { user, .. } => f
                .debug_struct("Basic")
                .field("user", user)
                .field("password", &"[redacted]")
                .finish(),
            Auth::Bearer(_) => f.debug_tuple("Bearer").field(&"[redacted]").finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_secrets() {
        let basic = Auth::basic("admin", SecretString::from("hunter2-pw"));
        let bearer = Auth::bearer(SecretString::from("tok-abcdef"));
        let shown = format!("{basic:?} {bearer:?} {:#?}", basic);
        assert!(shown.contains("admin"));
        assert!(!shown.contains("hunter2-pw"), "{shown}");
        assert!(!shown.contains("tok-abcdef"), "{shown}");
        assert_eq!(basic.describe(), "basic(admin)");
        assert_eq!(bearer.user(), None);
    }
}
