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

use reqwest::header::HeaderMap;
use serde_json::Value;

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

    fn headline(&self) -> String {
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
                Some(d) => format!(
                    "the instance's rate limit was exceeded (429, retry after {} s)",
                    d.as_secs()
                ),
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

fn is_hibernation_page(body: &str) -> bool {
    body.contains("Instance Hibernating page") || body.contains("instance is hibernating")
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
fn retry_after_value(value: &str, now: std::time::SystemTime) -> Option<Duration> {
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
fn proxy_refusal(chain: &str) -> Option<String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_seconds_or_an_http_date() {
        let now = std::time::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(retry_after_value(" 7 ", now), Some(Duration::from_secs(7)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(42));
        assert_eq!(
            retry_after_value(&later, now),
            Some(Duration::from_secs(42))
        );
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(5));
        assert_eq!(retry_after_value(&earlier, now), Some(Duration::ZERO));
        assert_eq!(retry_after_value("soon", now), None);
    }
    use reqwest::header::{HeaderName, HeaderValue};

    fn target() -> RequestTarget {
        RequestTarget {
            method: "POST".into(),
            path: "/api/now/table/sys_security_acl".into(),
            table: Some("sys_security_acl".into()),
            sys_id: None,
            instance: "https://acme.service-now.com".into(),
        }
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    const JSON: (&str, &str) = ("content-type", "application/json;charset=UTF-8");
    const HTML: (&str, &str) = ("content-type", "text/html;charset=UTF-8");

    fn table(status: u16, hdrs: &[(&str, &str)], body: &str) -> Result<Value, SnError> {
        classify(
            status,
            &headers(hdrs),
            body.as_bytes(),
            &target(),
            Expect::Table,
        )
    }

    fn token(status: u16, hdrs: &[(&str, &str)], body: &str) -> Result<Value, SnError> {
        classify(
            status,
            &headers(hdrs),
            body.as_bytes(),
            &target(),
            Expect::Token,
        )
    }

    const HIBERNATING: &str = "<html><head><title>Instance Hibernating page</title></head>\
        <body>Your instance is hibernating. Visit the developer portal to wake it up.</body></html>";

    #[test]
    fn token_success_body_is_accepted() {
        let body = r#"{"scope":"useraccount","token_type":"Bearer","expires_in":1799,"refresh_token":"jZPdxyz","access_token":"2wRlabc"}"#;
        let v = token(200, &[JSON], body).unwrap();
        assert_eq!(v["scope"], "useraccount");
    }

    #[test]
    fn token_access_denied_is_token_denied() {
        let body = r#"{"error_description":"access_denied","error":"server_error"}"#;
        let e = token(401, &[JSON], body).unwrap_err();
        assert_eq!(
            e.kind,
            ErrorKind::TokenDenied {
                error: "server_error".into(),
                description: "access_denied".into()
            }
        );
        assert!(e.to_string().contains("system log"), "{e}");
    }

    #[test]
    fn rate_limit_body_and_headers() {
        let body = r#"{"error":{"message":"Rate limit exceeded","detail":"Rate limit of 100 requests per hour for Table API exceeded"},"status":"failure"}"#;
        let e = table(
            429,
            &[
                JSON,
                ("retry-after", "17"),
                ("x-ratelimit-limit", "100"),
                ("x-ratelimit-reset", "1700000000"),
                ("x-ratelimit-rule", "0123456789abcdef0123456789abcdef"),
            ],
            body,
        )
        .unwrap_err();
        assert_eq!(
            e.kind,
            ErrorKind::RateLimited {
                retry_after: Some(Duration::from_secs(17))
            }
        );
        assert_eq!(e.server_message.as_deref(), Some("Rate limit exceeded"));
        assert!(e.kind.is_transient());
        let e = table(429, &[JSON], body).unwrap_err();
        assert_eq!(e.kind, ErrorKind::RateLimited { retry_after: None });
    }

    #[test]
    fn hibernation_page_with_200_or_503() {
        for status in [200, 503] {
            let e = table(status, &[HTML], HIBERNATING).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Hibernating, "status {status}");
            assert!(!e.kind.is_transient());
            assert!(e.to_string().contains("developer portal"), "{e}");
        }
    }

    #[test]
    fn invalid_table() {
        let body = r#"{"error":{"message":"Invalid table x_casemgmt_case","detail":null},"status":"failure"}"#;
        let e = table(400, &[JSON], body).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidTable);
        assert_eq!(e.server_detail, None);
    }

    #[test]
    fn unauthorized_plain_and_with_mfa() {
        let body = r#"{"error":{"message":"User Not Authenticated","detail":"Required to provide Auth information"},"status":"failure"}"#;
        let e = table(401, &[JSON], body).unwrap_err();
        assert_eq!(
            e.kind,
            ErrorKind::Unauthorized {
                mfa_required: false
            }
        );
        assert_eq!(e.server_message.as_deref(), Some("User Not Authenticated"));
        let e = table(401, &[JSON, ("X-MFA_TOKEN", "invalid")], body).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Unauthorized { mfa_required: true });
        assert!(e.to_string().contains("bearer token"), "{e}");
    }

    #[test]
    fn forbidden_variants() {
        let cases = [
            (
                r#"{"error":{"message":"Operation Failed","detail":"ACL Exception Insert Failed due to security constraints"},"status":"failure"}"#,
                ForbiddenKind::AclOperation {
                    operation: "Insert".into(),
                },
            ),
            (
                r#"{"error":{"message":"Operation Failed","detail":"ACL Exception Update Failed due to security constraints"},"status":"failure"}"#,
                ForbiddenKind::AclOperation {
                    operation: "Update".into(),
                },
            ),
            (
                r#"{"error":{"message":"Operation against file 'sys_db_object' was denied due to table security.","detail":"Field(s) present in the query do not have permission to be read."},"status":"failure"}"#,
                ForbiddenKind::TableSecurity,
            ),
            (
                r#"{"error":{"message":"Missing required api access scope","detail":null},"status":"failure"}"#,
                ForbiddenKind::ApiAccessScope,
            ),
            (
                r#"{"error":{"message":"Operation against file 'sys_user' was aborted by Business Rule 'Block deletes^f00'. Business Rule Stack:Block deletes","detail":"Operation against file 'sys_user' was aborted by Business Rule"},"status":"failure"}"#,
                ForbiddenKind::BusinessRule,
            ),
            (
                r#"{"error":{"message":"Forbidden","detail":null},"status":"failure"}"#,
                ForbiddenKind::Other,
            ),
        ];
        for (body, want) in cases {
            let e = table(403, &[JSON], body).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Forbidden(want.clone()), "{body}");
        }
    }

    #[test]
    fn not_found() {
        let body = r#"{"error":{"message":"No Record found","detail":"Record doesn't exist or ACL restricts the record retrieval"},"status":"failure"}"#;
        let mut t = target();
        t.method = "GET".into();
        t.table = Some("sys_user".into());
        t.sys_id = Some("6816f79cc0a8016401c5a33be04be441".into());
        let e = classify(404, &headers(&[JSON]), body.as_bytes(), &t, Expect::Table).unwrap_err();
        assert_eq!(e.kind, ErrorKind::NotFound);
        let text = e.to_string();
        assert!(text.contains("sys_user"), "{text}");
        assert!(text.contains("6816f79cc0a8016401c5a33be04be441"), "{text}");
        assert!(text.contains("No Record found"), "{text}");
    }

    #[test]
    fn html_login_page_and_redirects() {
        let login = r#"<html><head><title>Log in | ServiceNow</title></head><body><form action="login.do"><input name="user_name"></form></body></html>"#;
        assert_eq!(
            table(200, &[HTML], login).unwrap_err().kind,
            ErrorKind::LoginPage
        );
        let e = table(
            302,
            &[("location", "https://acme.service-now.com/login.do")],
            "",
        )
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::LoginPage);
        let e = table(
            302,
            &[(
                "location",
                "https://idp.example.com/saml2/sso?SAMLRequest=x",
            )],
            "",
        )
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::LoginPage);
        let e = table(301, &[("location", "https://elsewhere.example.com/")], "").unwrap_err();
        assert_eq!(e.kind, ErrorKind::UnexpectedStatus { status: 301 });
        let other = "<!DOCTYPE html><html><body>Welcome to nginx</body></html>";
        assert_eq!(
            table(200, &[HTML], other).unwrap_err().kind,
            ErrorKind::NotServiceNow
        );
        // HTML served without any content type is still recognised as HTML.
        assert_eq!(
            table(200, &[], login).unwrap_err().kind,
            ErrorKind::LoginPage
        );
    }

    #[test]
    fn non_json_content_type_and_malformed_json() {
        let e = table(200, &[("content-type", "text/plain")], "hello").unwrap_err();
        assert_eq!(e.kind, ErrorKind::NotServiceNow);
        let e = table(200, &[JSON], r#"{"result":[{"sys_id":"a"#).unwrap_err();
        assert_eq!(e.kind, ErrorKind::MalformedJson);
        let e = table(200, &[JSON], r#"{"records":[]}"#).unwrap_err();
        assert_eq!(e.kind, ErrorKind::MalformedJson);
        let e = token(200, &[JSON], r#"{"token_type":"Bearer"}"#).unwrap_err();
        assert_eq!(e.kind, ErrorKind::MalformedJson);
    }

    #[test]
    fn server_errors_and_odd_statuses() {
        for status in [500, 502, 503, 504] {
            let e = table(
                status,
                &[("content-type", "text/html")],
                "<html>oops</html>",
            )
            .unwrap_err();
            assert_eq!(e.kind, ErrorKind::Server { status });
            assert!(e.kind.is_transient());
        }
        let e = table(
            405,
            &[JSON],
            r#"{"error":{"message":"Method not allowed","detail":null},"status":"failure"}"#,
        )
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadRequest { status: 405 });
        let e = table(404, &[HTML], "<html>Not Found</html>").unwrap_err();
        assert_eq!(e.kind, ErrorKind::NotServiceNow);
    }

    #[test]
    fn token_endpoint_5xx_is_a_server_error() {
        let e = token(503, &[JSON], "{}").unwrap_err();
        assert_eq!(e.kind, ErrorKind::Server { status: 503 });
    }

    #[test]
    fn classification_never_panics_on_arbitrary_bytes() {
        use proptest::prelude::*;
        proptest!(ProptestConfig::with_cases(300), |(
            status in 100u16..600,
            body in proptest::collection::vec(any::<u8>(), 0..200),
            html in any::<bool>(),
        )| {
            let ct = if html { HTML } else { JSON };
            let _ = classify(status, &headers(&[ct]), &body, &target(), Expect::Table);
            let _ = classify(status, &headers(&[ct]), &body, &target(), Expect::Token);
        });
    }

    #[test]
    fn a_429_from_the_token_endpoint_is_a_rate_limit_not_a_refused_grant() {
        let body = r#"{"error":"server_error","error_description":"too many requests"}"#;
        let e = token(429, &[JSON, ("retry-after", "5")], body).unwrap_err();
        assert_eq!(
            e.kind,
            ErrorKind::RateLimited {
                retry_after: Some(Duration::from_secs(5))
            }
        );
    }

    #[test]
    fn proxy_refusals_are_told_in_words() {
        let said = |chain: &str| proxy_refusal(chain).unwrap();
        assert_eq!(
            said("tunnel error: unsuccessful"),
            "it refused the CONNECT request"
        );
        assert!(said("tunnel error: proxy authorization required").contains("407"));
        assert!(said("tunnel error: unexpected end of file").contains("without answering"));
        assert_eq!(
            said("tunnel error: failed to create underlying connection: Connection refused (os error 111)"),
            "the proxy itself could not be reached: Connection refused (os error 111)"
        );
        assert_eq!(proxy_refusal("Connection refused (os error 111)"), None);
        assert_eq!(
            proxy_refusal("invalid peer certificate: UnknownIssuer"),
            None
        );
    }

    #[test]
    fn display_names_the_record_and_the_server_message() {
        let body = r#"{"error":{"message":"Operation Failed","detail":"ACL Exception Insert Failed due to security constraints"},"status":"failure"}"#;
        let text = table(403, &[JSON], body).unwrap_err().to_string();
        assert!(text.contains("POST table 'sys_security_acl'"), "{text}");
        assert!(text.contains("https://acme.service-now.com"), "{text}");
        assert!(text.contains("ACL Exception Insert Failed"), "{text}");
        assert!(text.contains("security_admin"), "{text}");
    }

    /// Properties of [`classify`] over arbitrary statuses, content types and bodies: beyond not
    /// panicking, the classification a caller branches on (hibernating, never retry a 401,
    /// retry only 429/5xx) holds whatever else the answer contains.
    mod properties {
        use super::*;
        use crate::servicenow::retry::RetryPolicy;
        use proptest::prelude::*;

        const MARKER: &str = "<title>Instance Hibernating page</title>";

        fn content_type() -> impl Strategy<Value = Option<String>> {
            prop::option::of(prop_oneof![
                Just("application/json".to_string()),
                Just("application/json;charset=UTF-8".to_string()),
                Just("text/html;charset=UTF-8".to_string()),
                Just("text/plain".to_string()),
                Just("application/xml".to_string()),
                "[ -~]{0,30}",
            ])
        }

        fn body() -> impl Strategy<Value = Vec<u8>> {
            prop_oneof![
                prop::collection::vec(any::<u8>(), 0..300),
                ".{0,200}".prop_map(String::into_bytes),
                (any::<bool>(), ".{0,40}", ".{0,40}").prop_map(|(obj, m, d)| {
                    let error = if obj {
                        serde_json::json!({"message": m, "detail": d})
                    } else {
                        serde_json::json!(m)
                    };
                    serde_json::json!({"error": error, "error_description": d, "status": "failure"})
                        .to_string()
                        .into_bytes()
                }),
                ".{0,60}".prop_map(
                    |t| format!("<html><head><title>{t}</title></head></html>").into_bytes()
                ),
            ]
        }

        fn expect() -> impl Strategy<Value = Expect> {
            prop_oneof![Just(Expect::Table), Just(Expect::Token)]
        }

        fn header_map(content_type: &Option<String>, extra: &[(&str, &str)]) -> HeaderMap {
            let mut h = HeaderMap::new();
            if let Some(ct) = content_type {
                if let Ok(v) = HeaderValue::from_str(ct) {
                    h.insert("content-type", v);
                }
            }
            for (k, v) in extra {
                if let (Ok(k), Ok(v)) = (
                    reqwest::header::HeaderName::from_bytes(k.as_bytes()),
                    HeaderValue::from_str(v),
                ) {
                    h.insert(k, v);
                }
            }
            h
        }

        fn tgt() -> RequestTarget {
            RequestTarget {
                method: "GET".into(),
                path: "/api/now/table/sys_user".into(),
                table: Some("sys_user".into()),
                sys_id: None,
                instance: "https://acme.service-now.com".into(),
            }
        }

        use reqwest::header::HeaderValue;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            /// Whatever the status, content type or surrounding bytes, the hibernation page is
            /// recognised, and it is never retried (it lasts until someone wakes the instance).
            #[test]
            fn the_hibernation_page_always_reads_as_hibernating(
                status in 100u16..600,
                ct in content_type(),
                before in prop::collection::vec(any::<u8>(), 0..80),
                after in prop::collection::vec(any::<u8>(), 0..80),
                expect in expect(),
            ) {
                let mut body = before;
                body.extend_from_slice(MARKER.as_bytes());
                body.extend_from_slice(&after);
                let e = classify(status, &header_map(&ct, &[]), &body, &tgt(), expect).unwrap_err();
                prop_assert_eq!(&e.kind, &ErrorKind::Hibernating);
                prop_assert!(!e.kind.is_transient());
                prop_assert!(e.kind.instance_unusable());
            }

            /// A 401 is a refused login whatever comes with it, and no policy retries it: a
            /// second attempt would be a second failed login towards the lockout.
            #[test]
            fn a_401_is_never_retried(
                ct in content_type(),
                body in body(),
                mfa in prop::option::of("[a-zA-Z]{0,10}"),
                expect in expect(),
            ) {
                prop_assume!(!is_hibernation_page(&String::from_utf8_lossy(&body)));
                let extra: Vec<(&str, &str)> = mfa.iter().map(|v| ("x-mfa_token", v.as_str())).collect();
                let e = classify(401, &header_map(&ct, &extra), &body, &tgt(), expect).unwrap_err();
                prop_assert!(
                    matches!(
                        e.kind,
                        ErrorKind::Unauthorized { .. }
                            | ErrorKind::LoginPage
                            | ErrorKind::TokenDenied { .. }
                    ),
                    "{:?}", e.kind
                );
                for policy in [RetryPolicy::Never, RetryPolicy::RateLimitOnly, RetryPolicy::Transient] {
                    prop_assert!(!policy.allows(&e.kind), "{:?} retries {:?}", policy, e.kind);
                }
                if let ErrorKind::Unauthorized { mfa_required } = e.kind {
                    let invalid = mfa.as_deref().is_some_and(|v| v.eq_ignore_ascii_case("invalid"));
                    prop_assert_eq!(mfa_required, invalid);
                }
            }

            /// Only 429 and 5xx are transient, and every 5xx (not the hibernation page) is a
            /// server error carrying its status; a 429 reads its Retry-After in seconds.
            #[test]
            fn only_429_and_5xx_are_transient(
                status in 200u16..600,
                ct in content_type(),
                body in body(),
                retry_after in prop::option::of(0u64..100_000),
                expect in expect(),
            ) {
                prop_assume!(!is_hibernation_page(&String::from_utf8_lossy(&body)));
                let ra = retry_after.map(|s| s.to_string());
                let extra: Vec<(&str, &str)> = ra.iter().map(|v| ("retry-after", v.as_str())).collect();
                let result = classify(status, &header_map(&ct, &extra), &body, &tgt(), expect);
                match result {
                    Ok(_) => prop_assert!((200..300).contains(&status)),
                    Err(e) => {
                        let transient = status == 429 || (500..600).contains(&status);
                        prop_assert_eq!(e.kind.is_transient(), transient, "{} -> {:?}", status, e.kind);
                        if (500..600).contains(&status) {
                            prop_assert_eq!(&e.kind, &ErrorKind::Server { status });
                        }
                        if status == 429 {
                            prop_assert_eq!(
                                &e.kind,
                                &ErrorKind::RateLimited { retry_after: retry_after.map(Duration::from_secs) }
                            );
                        }
                        // Every classification can be told to a user.
                        let text = e.to_string();
                        prop_assert!(text.len() > 20 && text.ends_with('.'), "{}", text);
                    }
                }
            }

            /// A well-formed Table API answer is accepted whatever JSON content type it has,
            /// and anything but a 2xx never is.
            #[test]
            fn a_result_envelope_with_2xx_is_accepted(
                status in 200u16..300,
                rows in prop::collection::vec(("[a-z_]{1,10}", ".{0,20}"), 0..4),
            ) {
                prop_assume!(status != 204);
                let result: serde_json::Map<String, Value> = rows
                    .into_iter()
                    .map(|(k, v)| (k, Value::String(v)))
                    .collect();
                let body = serde_json::json!({"result": [result]}).to_string();
                prop_assume!(!is_hibernation_page(&body));
                let ok = classify(
                    status,
                    &header_map(&Some("application/json;charset=UTF-8".into()), &[]),
                    body.as_bytes(),
                    &tgt(),
                    Expect::Table,
                );
                prop_assert!(ok.is_ok(), "{:?}", ok);
            }

            /// Redirects are never followed into success: a login-looking target is a login
            /// page, anything else an unexpected status.
            #[test]
            fn redirects_are_never_success(
                status in 300u16..400,
                location in "[ -~]{0,60}",
                body in body(),
            ) {
                prop_assume!(!is_hibernation_page(&String::from_utf8_lossy(&body)));
                let e = classify(
                    status,
                    &header_map(&None, &[("location", location.as_str())]),
                    &body,
                    &tgt(),
                    Expect::Table,
                )
                .unwrap_err();
                prop_assert!(
                    matches!(e.kind, ErrorKind::LoginPage | ErrorKind::UnexpectedStatus { .. }),
                    "{:?}", e.kind
                );
            }
        }
    }
}
