//! Typed classification of everything that can go wrong talking to an instance.
//!
//! ServiceNow answers failures in several dialects: the Table API's JSON envelope
//! (`{"error":{"message","detail"},"status":"failure"}`), the token endpoint's OAuth-style body,
//! HTML pages (hibernation, login, SSO) where JSON was expected, and plain transport failures.
//! Callers need to branch on *what happened* (retry? exit 3? name the likely cause?) without
//! parsing strings, and users need a sentence that says what happened, to which record, and what
//! to do next. [`classify`] turns a response into one [`ErrorKind`]; [`SnError`]'s `Display` is
//! the sentence. It speaks of the wire and the instance only: the command line's flags and
//! variables are named by `commands::hint`, which knows them.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// Which request failed, for messages: `PATCH sys_user/6816f79c…`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestTarget {
    pub method: String,
    /// The URL path, without query string.
    pub path: String,
    pub table: Option<String>,
    pub sys_id: Option<String>,
    /// The instance origin, e.g. `https://acme.service-now.com`.
    pub instance: String,
}

impl RequestTarget {
    /// What the request was about, in words: "GET sys_user/abc on https://acme…".
    fn describe(&self) -> String {
        let what = match (&self.table, &self.sys_id) {
            (Some(t), Some(id)) => format!("{} table '{t}', record {id}", self.method),
            (Some(t), None) => format!("{} table '{t}'", self.method),
            _ => format!("{} {}", self.method, self.path),
        };
        if self.instance.is_empty() {
            what
        } else {
            format!("{what} on {}", self.instance)
        }
    }
}

/// Why a 403 was returned; each has a different fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForbiddenKind {
    /// `ACL Exception Insert Failed due to security constraints` (or Update/Delete).
    AclOperation {
        operation: String,
    },
    /// `Operation against file 'x' was denied due to table security.`
    TableSecurity,
    /// `Missing required api access scope`: the OAuth client lacks an auth scope for this API.
    ApiAccessScope,
    /// `Operation against file 'x' was aborted by Business Rule '…'`.
    BusinessRule,
    Other,
}

/// What happened, as something a caller can branch on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// The developer instance is asleep and answered its hibernation page.
    Hibernating,
    /// An HTML login or SSO page (or a redirect to one) where the API should have answered.
    LoginPage,
    /// Something answered, but not like a ServiceNow instance (wrong content type, unknown HTML).
    NotServiceNow,
    /// 400 `Invalid table <name>`.
    InvalidTable,
    /// 401 from the REST API; `mfa_required` when the instance sent `X-MFA_TOKEN: invalid`.
    Unauthorized {
        mfa_required: bool,
    },
    /// The token endpoint refused the grant; ServiceNow says `access_denied` whatever the cause.
    TokenDenied {
        error: String,
        description: String,
    },
    Forbidden(ForbiddenKind),
    /// 404 `No Record found` (the record does not exist or ACLs hide it).
    NotFound,
    RateLimited {
        retry_after: Option<Duration>,
    },
    Server {
        status: u16,
    },
    BadRequest {
        status: u16,
    },
    UnexpectedStatus {
        status: u16,
    },
    Timeout,
    Connect,
    /// The connection broke after the answer had started (a reset or close mid-body).
    ConnectionLost,
    Tls,
    /// The configured proxy would not open a tunnel to the instance: it
    /// refused the CONNECT, asked for credentials, hung up, or could not be reached at all.
    /// Told apart from `Connect` because the fix is in the proxy settings, not the address.
    Proxy,
    /// A success status with a body that is not the JSON it should be (truncated, wrong shape).
    MalformedJson,
    /// 431: a request header (Authorization carries the user name and password) was too large.
    HeaderTooLarge,
    /// The run's whole time (`--deadline`) ran out before the request was answered.
    DeadlinePassed {
        limit: Duration,
    },
    /// The answer was larger than the client reads (`limit` bytes); it was abandoned unread.
    TooLarge {
        limit: u64,
    },
    /// The extra CA certificate file could not be read or holds no PEM certificate.
    CaCert {
        path: PathBuf,
    },
    /// The HTTP client could not be built (a bad proxy variable, a TLS backend failure).
    ClientSetup,
}

impl ErrorKind {
    /// Whether a retry could help: rate limits and server errors only. Hibernation is a 503 too,
    /// but it lasts until someone wakes the instance, so it is not retried.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ErrorKind::RateLimited { .. } | ErrorKind::Server { .. }
        )
    }

    /// Whether the instance cannot be used at all (the contract's exit 3 family), as opposed to a
    /// finding about one record.
    pub fn instance_unusable(&self) -> bool {
        matches!(
            self,
            ErrorKind::Hibernating
                | ErrorKind::LoginPage
                | ErrorKind::NotServiceNow
                | ErrorKind::Server { .. }
                | ErrorKind::RateLimited { .. }
                | ErrorKind::Timeout
                | ErrorKind::Connect
                | ErrorKind::ConnectionLost
                | ErrorKind::Tls
                | ErrorKind::Proxy
                | ErrorKind::DeadlinePassed { .. }
        )
    }
}

/// A failed request: what happened, to which record, and what the server said.
///
/// `Display` is written for users; it never contains a secret (requests' bodies and headers are
/// not part of it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnError {
    pub kind: ErrorKind,
    /// Boxed to keep `Result<_, SnError>` small (it travels through every request path).
    pub target: Box<RequestTarget>,
    /// The server's `error.message` (or OAuth `error_description`), when it sent one.
    pub server_message: Option<String>,
    /// The server's `error.detail`, or for transport failures the underlying cause.
    pub server_detail: Option<String>,
    /// How many attempts were made (more than 1 after retries of a 429 or 5xx).
    pub attempts: u32,
}

impl SnError {
    pub fn new(kind: ErrorKind, target: RequestTarget) -> SnError {
        SnError {
            kind,
            target: Box::new(target),
            server_message: None,
            server_detail: None,
            attempts: 1,
        }
    }

    fn with_server(mut self, message: Option<String>, detail: Option<String>) -> SnError {
        self.server_message = message;
        self.server_detail = detail;
        self
    }

    /// The HTTP status for kinds that carry one, for callers that report it.
    pub fn status(&self) -> Option<u16> {
        match &self.kind {
            ErrorKind::BadRequest { status: 0 } => None,
            ErrorKind::Server { status }
            | ErrorKind::BadRequest { status }
            | ErrorKind::UnexpectedStatus { status } => Some(*status),
            ErrorKind::InvalidTable => Some(400),
            ErrorKind::Unauthorized { .. } => Some(401),
            ErrorKind::Forbidden(_) => Some(403),
            ErrorKind::NotFound => Some(404),
            ErrorKind::RateLimited { .. } => Some(429),
            _ => None,
        }
    }

    /// What happened, in one clause: the first part of `Display`, without the request, the
    /// server's words or the advice.
    pub fn headline(&self) -> String {
        let t = &self.target;
        let table = t.table.as_deref().unwrap_or("?");
        match &self.kind {
            ErrorKind::Hibernating => "the instance is hibernating".into(),
            ErrorKind::LoginPage => {
                "the instance answered with an HTML login or single sign-on page instead of the \
                 REST API"
                    .into()
            }
            ErrorKind::NotServiceNow => {
                "the address answered, but not like a ServiceNow instance".into()
            }
            ErrorKind::InvalidTable => format!("table '{table}' does not exist on the instance"),
            ErrorKind::Unauthorized { mfa_required: true } => {
                "the credentials were refused because the account requires multi-factor \
                 authentication (X-MFA_TOKEN: invalid)"
                    .into()
            }
            ErrorKind::Unauthorized {
                mfa_required: false,
            } => "the credentials were refused (401 Unauthorized)".into(),
            ErrorKind::TokenDenied { error, description } => {
                format!("the token endpoint refused the grant ({error}: {description})")
            }
            ErrorKind::Forbidden(ForbiddenKind::AclOperation { operation }) => {
                format!("an ACL denied the {} (403)", operation.to_ascii_lowercase())
            }
            ErrorKind::Forbidden(ForbiddenKind::TableSecurity) => {
                format!("table security denied access to '{table}' (403)")
            }
            ErrorKind::Forbidden(ForbiddenKind::ApiAccessScope) => {
                "the OAuth client lacks the auth scope this API requires (403 Missing required \
                 api access scope)"
                    .into()
            }
            ErrorKind::Forbidden(ForbiddenKind::BusinessRule) => {
                "a business rule on the instance aborted the operation (403)".into()
            }
            ErrorKind::Forbidden(ForbiddenKind::Other) => "access was denied (403)".into(),
            ErrorKind::NotFound => {
                "no record found: it does not exist, or ACLs hide it from this account (404)".into()
            }
            ErrorKind::RateLimited { retry_after } => match retry_after {
                Some(d) => {
                    let until = std::time::SystemTime::now()
                        .checked_add(*d)
                        .filter(|t| {
                            t.duration_since(std::time::UNIX_EPOCH)
                                .is_ok_and(|since| since.as_secs() < 253_402_300_800)
                        })
                        .map_or(
                            "a date past the year 9999".to_string(),
                            httpdate::fmt_http_date,
                        );
                    format!(
                        "the instance's rate limit was exceeded (429, retry after {} s: rate \
                         limited until {until})",
                        d.as_secs()
                    )
                }
                None => "the instance's rate limit was exceeded (429)".into(),
            },
            ErrorKind::Server { status } => format!("the instance failed with HTTP {status}"),
            // Status 0: refused before sending (a table name or sys_id that cannot be valid).
            ErrorKind::BadRequest { status: 0 } => "the request was not sent".into(),
            ErrorKind::BadRequest { status } => {
                format!("the instance rejected the request (HTTP {status})")
            }
            ErrorKind::UnexpectedStatus { status } => {
                format!("the instance answered with unexpected HTTP {status}")
            }
            ErrorKind::Timeout => "the request timed out".into(),
            ErrorKind::Connect => "could not connect to the instance".into(),
            ErrorKind::ConnectionLost => {
                "the connection broke while the instance's answer was arriving".into()
            }
            ErrorKind::Tls => "the TLS connection to the instance failed".into(),
            ErrorKind::Proxy => "the proxy would not open a connection to the instance".into(),
            ErrorKind::MalformedJson => {
                "the instance's answer was not the JSON expected (truncated or malformed)".into()
            }
            ErrorKind::HeaderTooLarge => {
                "the instance refused a request header as too large (431)".into()
            }
            ErrorKind::DeadlinePassed { limit } => format!(
                "the run's time ({} s) ran out before the instance answered",
                limit.as_secs_f64()
            ),
            ErrorKind::TooLarge { limit } => format!(
                "the answer was larger than {} MiB, so it was not read",
                limit >> 20
            ),
            ErrorKind::CaCert { path } => {
                format!("cannot use the CA certificate file {}", path.display())
            }
            ErrorKind::ClientSetup => "could not set up the HTTP client".into(),
        }
    }

    fn advice(&self) -> String {
        match &self.kind {
            ErrorKind::Hibernating => {
                "Wake it from the developer portal (https://developer.servicenow.com, your \
                 instance's menu, Wake up instance), wait until it is awake, and run again."
                    .into()
            }
            ErrorKind::LoginPage => {
                "Check the instance address; if the instance forces single sign-on for the REST \
                 API, sign in with an OAuth bearer token or a local account instead."
                    .into()
            }
            ErrorKind::NotServiceNow => {
                "Check the instance address (and any proxy in between); it should be the \
                 instance's own host, e.g. https://acme.service-now.com."
                    .into()
            }
            ErrorKind::InvalidTable => {
                "The plugin or application that provides it may not be installed.".into()
            }
            ErrorKind::Unauthorized { mfa_required: true } => {
                "Sign in with an OAuth bearer token, or with an account without multi-factor \
                 authentication for integrations."
                    .into()
            }
            ErrorKind::Unauthorized {
                mfa_required: false,
            } => "Check the user name and password (the account may also be locked out or \
                 inactive); snconnect does not retry, so a wrong password costs one failed login."
                .into(),
            ErrorKind::TokenDenied { .. } => {
                "ServiceNow gives the same answer for a wrong client id or secret, a wrong or \
                 locked user, an inactive OAuth entry and a disabled password grant; the \
                 instance's system log has the real reason."
                    .into()
            }
            ErrorKind::Forbidden(ForbiddenKind::AclOperation { .. }) => {
                "Use an account allowed to make this change (creating ACLs needs security_admin \
                 elevation), or make it by hand in the instance."
                    .into()
            }
            ErrorKind::Forbidden(ForbiddenKind::TableSecurity) => {
                "Grant the account a role that may read the table, or check the table's ACLs."
                    .into()
            }
            ErrorKind::Forbidden(ForbiddenKind::ApiAccessScope) => {
                "Add the 'useraccount' auth scope to the OAuth application registry entry.".into()
            }
            ErrorKind::Forbidden(ForbiddenKind::BusinessRule) => {
                "Read the server message for the rule's name, and ask the instance's \
                 administrators about it."
                    .into()
            }
            ErrorKind::Forbidden(ForbiddenKind::Other) => {
                "Check the account's roles and the table's ACLs.".into()
            }
            ErrorKind::NotFound => "Check the sys_id, and that the account may read it.".into(),
            ErrorKind::RateLimited { .. } => {
                "Wait a while and run again, or ask for the account's REST rate limit \
                 (sys_rate_limit_rules) to be raised."
                    .into()
            }
            ErrorKind::Server { .. } => {
                "The instance may be overloaded or upgrading; try again in a few minutes.".into()
            }
            ErrorKind::BadRequest { .. } | ErrorKind::UnexpectedStatus { .. } => {
                "The request log shows the request; if it persists, report it with that log.".into()
            }
            ErrorKind::Timeout => {
                "The instance may be slow or unreachable; check the network, or allow it longer."
                    .into()
            }
            ErrorKind::Connect => {
                "Check the instance address, your network and the proxy settings.".into()
            }
            ErrorKind::ConnectionLost => {
                "A proxy or the network may have cut it; run again.".into()
            }
            ErrorKind::Tls => {
                "If a proxy inspects TLS traffic, its root certificate must be trusted.".into()
            }
            ErrorKind::Proxy => {
                "Check the proxy settings: the proxy must allow CONNECT to the instance's host on \
                 port 443, and if it asks for credentials (407) they go in the proxy URL."
                    .into()
            }
            ErrorKind::MalformedJson => "The connection may have been cut; run again.".into(),
            ErrorKind::DeadlinePassed { .. } => {
                "The instance answered too slowly (or asked to be left alone too long) for the \
                 whole run to finish in time; check the network, or allow the run longer."
                    .into()
            }
            ErrorKind::HeaderTooLarge => {
                "The credentials sent in the Authorization header are far longer than any real \
                 user name or password; check the values given."
                    .into()
            }
            ErrorKind::TooLarge { .. } => {
                "A proxy in between, or the instance, is sending far more than a Table API page; \
                 look at what answers at this address."
                    .into()
            }
            ErrorKind::CaCert { .. } => {
                "The file must be readable and hold at least one PEM certificate.".into()
            }
            ErrorKind::ClientSetup => "Check the proxy settings.".into(),
        }
    }
}

impl fmt::Display for SnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.headline())?;
        let no_target = matches!(self.kind, ErrorKind::CaCert { .. } | ErrorKind::ClientSetup);
        let tries = if self.attempts > 1 {
            format!(", after {} attempts", self.attempts)
        } else {
            String::new()
        };
        if !no_target && !self.target.method.is_empty() {
            write!(f, " ({}{tries})", self.target.describe())?;
        }
        match (&self.server_message, &self.server_detail) {
            (Some(m), Some(d)) => write!(f, "; the server said: \"{m}\" ({d})")?,
            (Some(m), None) => write!(f, "; the server said: \"{m}\"")?,
            (None, Some(d)) => write!(f, ": {d}")?,
            (None, None) => {}
        }
        write!(f, ". {}", self.advice())
    }
}

impl std::error::Error for SnError {}

mod classify;

pub(crate) use classify::{classify, classify_transport, parse_retry_after, Expect};
#[cfg(test)]
use classify::{is_hibernation_page, proxy_refusal, retry_after_value};

#[cfg(test)]
#[path = "error_tests.rs"]
mod tests;
