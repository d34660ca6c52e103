//! The HTTP client: one connection pool per instance, sessions per identity, and the single place
//! where requests are sent, retried, classified, counted and logged.
//!
//! Why one file of about 670 lines: sending is the one place every request passes, so the retry,
//! classification, counting and logging stay together; the Table API's request and page types
//! live in `table.rs` and the token endpoint in `token.rs`.
//!
//! Design choices, each for a reason in the facts sheet:
//! - No cookie store. ServiceNow binds cookies to a session and serialises a session's requests,
//!   which would undo concurrency; and cookies from an API session break `/oauth_token.do`.
//! - No redirects followed. The REST API does not redirect; a redirect means a login or SSO wall,
//!   which is reported as such instead of being followed to an HTML page.
//! - Loopback instances bypass proxies: reqwest applies `HTTP_PROXY` even to 127.0.0.1, and the
//!   sandbox must be reachable from a shell with a corporate proxy configured.

use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, CONTENT_TYPE};
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use url::Url;

use super::auth::Auth;
use super::error::{classify, classify_transport, parse_retry_after, ErrorKind, Expect};
use super::error::{RequestTarget, SnError};
use super::log::{redact_json, redact_params, LogSink, Logger};
use super::retry::{backoff, RetryPolicy};
use super::table::{link_next, offset_of, ListRequest, Page, Record, WriteOptions};
use super::token::{Grant, TokenResponse};
use crate::instance::Instance;

/// How the client behaves. Build with `ClientOptions { timeout, ..Default::default() }` so that
/// fields added later keep existing callers compiling.
#[derive(Clone)]
pub struct ClientOptions {
    /// Per request, from connecting until the whole body has arrived.
    pub timeout: Duration,
    /// An extra trusted root (PEM; a bundle is fine), added to the platform's roots.
    pub ca_cert: Option<PathBuf>,
    /// Log each request attempt (redacted) to `log`, or stderr.
    pub verbose: bool,
    /// Attempts in total for a retryable failure (429, 5xx), including the first. At least 1.
    pub max_attempts: u32,
    /// Where verbose lines go; `None` means stderr. Tests capture the log through this.
    pub log: Option<LogSink>,
    /// The first wait of the exponential backoff when the server sent no `Retry-After`.
    pub backoff_base: Duration,
    /// The whole run's time, counted from when the client is built: no request, retry or wait
    /// goes past it (`--deadline`). `None` for runs paced by a person (the setup wizard).
    pub deadline: Option<Duration>,
    /// Shared by the clients of a fleet run: one permit per request in flight, across every
    /// instance (`--max-in-flight`). `None`: no cap beyond the run's own rounds.
    pub in_flight: Option<Arc<tokio::sync::Semaphore>>,
}

impl Default for ClientOptions {
    fn default() -> ClientOptions {
        ClientOptions {
            timeout: Duration::from_secs(30),
            ca_cert: None,
            verbose: false,
            max_attempts: 4,
            log: None,
            backoff_base: Duration::from_millis(200),
            deadline: None,
            in_flight: None,
        }
    }
}

impl fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientOptions")
            .field("timeout", &self.timeout)
            .field("ca_cert", &self.ca_cert)
            .field("verbose", &self.verbose)
            .field("max_attempts", &self.max_attempts)
            .field("log", &self.log.as_ref().map(|_| "custom"))
            .field("backoff_base", &self.backoff_base)
            .field("deadline", &self.deadline)
            .field(
                "in_flight",
                &self.in_flight.as_ref().map(|s| s.available_permits()),
            )
            .finish()
    }
}

/// What the client has sent so far: attempts (retries included) and the most at once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestStats {
    pub requests: u64,
    pub max_in_flight: usize,
    /// Connections dialled (TCP, and TLS on top for https).
    pub connections: u64,
}

#[derive(Default)]
struct Counters {
    sent: AtomicU64,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

impl Counters {
    fn begin(&self) {
        self.sent.fetch_add(1, Ordering::Relaxed);
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
    }

    fn end(&self) {
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Decrements the in-flight count even when the request future is dropped mid-way.
struct InFlight<'a>(&'a Counters);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.end();
    }
}

struct Inner {
    http: reqwest::Client,
    instance: Instance,
    max_attempts: u32,
    backoff_base: Duration,
    /// The longest any wait may be: the request timeout (`--timeout`).
    timeout: Duration,
    /// When the run's time is up, and how long it was (for the message).
    deadline: Option<(Instant, Duration)>,
    logger: Logger,
    counters: Counters,
    dials: Arc<super::dial::Dials>,
    /// The instance's TLS certificate (DER), from the first answer over https.
    peer_certificate: std::sync::OnceLock<Vec<u8>>,
    in_flight: Option<Arc<tokio::sync::Semaphore>>,
}

/// A client for one instance; cheap to clone and safe to share across tasks.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("instance", &self.inner.instance.as_str())
            .finish_non_exhaustive()
    }
}

/// A request body. The token form is kept secret until it is handed to the HTTP client.
enum Body<'a> {
    None,
    Json(&'a Value),
    TokenForm(SecretString),
}

/// Everything about one logical request (which may take several attempts).
struct Call<'a> {
    method: Method,
    url: Url,
    params: Vec<(String, String)>,
    body: Body<'a>,
    auth: &'a Auth,
    target: RequestTarget,
    expect: Expect,
    policy: RetryPolicy,
}

/// A successful answer: parsed JSON and the headers callers read (`X-Total-Count`, `Link`).
struct Answer {
    value: Value,
    headers: HeaderMap,
}

impl Client {
    /// Builds the HTTP client. Fails only on local problems: an unreadable `--ca-cert`, or a
    /// proxy variable reqwest cannot use.
    pub fn new(instance: &Instance, opts: &ClientOptions) -> Result<Client, SnError> {
        let setup_target = RequestTarget {
            instance: instance.as_str().to_string(),
            ..RequestTarget::default()
        };
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let mut builder = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(concat!("snconnect/", env!("CARGO_PKG_VERSION")))
            .timeout(opts.timeout)
            .redirect(reqwest::redirect::Policy::none())
            // Instances close idle keep-alive connections after tens of seconds; one idle longer
            // than this is not reused (the wizard waits for a person between requests). A
            // request on a connection the server closed before any byte was written is retried
            // by hyper on a new one, which is safe for every method, the token POST included:
            // nothing reached the instance.
            .pool_idle_timeout(Duration::from_secs(15))
            // The peer's certificate, for the warning before it expires.
            .tls_info(true);
        // HTTP/2 is offered by ALPN (reqwest's http2 feature) and used where the instance's front
        // accepts it; otherwise HTTP/1.1. rustls prefers TLS 1.3 and resumes sessions by default.
        let dials = Arc::new(super::dial::Dials::default());
        builder = builder.connector_layer(super::dial::CountDials(dials.clone()));
        if instance.is_loopback() {
            builder = builder.no_proxy();
        }
        if let Some(path) = &opts.ca_cert {
            let ca_err = |detail: String| {
                let mut e = SnError::new(
                    ErrorKind::CaCert { path: path.clone() },
                    setup_target.clone(),
                );
                e.server_detail = Some(detail);
                e
            };
            let pem = crate::localfile::read_small_file(path, MAX_LOCAL_FILE)
                .map_err(|e| ca_err(e.to_string()))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| ca_err(format!("not a PEM certificate file: {e}")))?;
            if certs.is_empty() {
                return Err(ca_err("the file holds no PEM certificate".into()));
            }
            builder = builder.tls_certs_merge(certs);
        }
        let http = builder.build().map_err(|e| {
            let mut err = SnError::new(ErrorKind::ClientSetup, setup_target.clone());
            err.server_detail = Some(error_chain(&e));
            err
        })?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                instance: instance.clone(),
                max_attempts: opts.max_attempts.max(1),
                backoff_base: opts.backoff_base,
                timeout: opts.timeout,
                deadline: opts.deadline.map(|d| (Instant::now() + d, d)),
                logger: Logger::new(opts.verbose, opts.log.clone()),
                counters: Counters::default(),
                dials,
                peer_certificate: std::sync::OnceLock::new(),
                in_flight: opts.in_flight.clone(),
            }),
        })
    }

    pub fn instance(&self) -> &Instance {
        &self.inner.instance
    }

    /// A handle that sends requests as `auth`. Sessions share this client's connections.
    pub fn session(&self, auth: Auth) -> Session {
        Session {
            client: self.clone(),
            auth: Arc::new(auth),
        }
    }

    /// When the instance's TLS certificate stops being valid (Unix seconds), once an https answer
    /// came; `None` over plain http or when the certificate cannot be read.
    pub fn certificate_expires(&self) -> Option<u64> {
        let der = self.inner.peer_certificate.get()?;
        let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
        u64::try_from(cert.validity().not_after.timestamp()).ok()
    }

    pub fn stats(&self) -> RequestStats {
        RequestStats {
            requests: self.inner.counters.sent.load(Ordering::SeqCst),
            max_in_flight: self.inner.counters.max_in_flight.load(Ordering::SeqCst),
            connections: self.inner.dials.count(),
        }
    }

    /// The OAuth password grant: exactly one POST to `/oauth_token.do`, never retried, because
    /// every attempt counts as a login towards the user's lockout.
    pub async fn password_grant(
        &self,
        client_id: &str,
        client_secret: &SecretString,
        username: &str,
        password: &SecretString,
    ) -> Result<TokenResponse, SnError> {
        self.token(Grant::Password {
            client_id,
            client_secret,
            username,
            password,
        })
        .await
    }

    /// The refresh grant; like the password grant, sent once.
    pub async fn refresh_grant(
        &self,
        client_id: &str,
        client_secret: &SecretString,
        refresh_token: &SecretString,
    ) -> Result<TokenResponse, SnError> {
        self.token(Grant::Refresh {
            client_id,
            client_secret,
            refresh_token,
        })
        .await
    }

    async fn token(&self, grant: Grant<'_>) -> Result<TokenResponse, SnError> {
        let url = self.url(&["oauth_token.do"]);
        let target = self.target(&Method::POST, &url, None, None);
        let call = Call {
            method: Method::POST,
            url,
            params: Vec::new(),
            body: Body::TokenForm(SecretString::from(grant.form_body())),
            auth: &Auth::Anonymous,
            target: target.clone(),
            expect: Expect::Token,
            policy: RetryPolicy::Never,
        };
        let answer = self.execute(call).await?;
        TokenResponse::from_json(&answer.value, &target)
    }

    /// The instance URL with these path segments, each percent-encoded (a table name can never
    /// smuggle a `/` or `?` into the path).
    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.inner.instance.base_url().clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    fn target(
        &self,
        method: &Method,
        url: &Url,
        table: Option<&str>,
        sys_id: Option<&str>,
    ) -> RequestTarget {
        RequestTarget {
            method: method.to_string(),
            path: url.path().to_string(),
            table: table.map(str::to_string),
            sys_id: sys_id.map(str::to_string),
            instance: self.inner.instance.as_str().to_string(),
        }
    }

    /// Sends a call, retrying as its policy allows, and classifies the outcome.
    async fn execute(&self, call: Call<'_>) -> Result<Answer, SnError> {
        let inner = &self.inner;
        let max = match call.policy {
            RetryPolicy::Never => 1,
            _ => inner.max_attempts,
        };
        let mut url = call.url.clone();
        if !call.params.is_empty() {
            url.query_pairs_mut().extend_pairs(&call.params);
        }
        let shown = self.describe_for_log(&call);
        let mut attempt = 1;
        loop {
            // What is left of the run's time bounds this attempt and any wait after it.
            let left = inner
                .deadline
                .map(|(at, _)| at.saturating_duration_since(Instant::now()));
            let budget = left.map_or(inner.timeout, |l| l.min(inner.timeout));
            if left.is_some_and(|l| l.is_zero()) {
                return Err(self.deadline_passed(&call, attempt, &shown));
            }
            let mut rb = inner.http.request(call.method.clone(), url.clone());
            if budget < inner.timeout {
                rb = rb.timeout(budget);
            }
            rb = call.auth.apply(rb);
            rb = match &call.body {
                Body::None => rb,
                Body::Json(v) => rb.json(v),
                Body::TokenForm(form) => rb
                    .header(
                        CONTENT_TYPE,
                        HeaderValue::from_static("application/x-www-form-urlencoded"),
                    )
                    .body(form.expose_secret().to_string()),
            };

            // A fleet's cap: waiting for a permit is not the instance's time.
            let permit = match &inner.in_flight {
                Some(cap) => cap.clone().acquire_owned().await.ok(),
                None => None,
            };
            let started = Instant::now();
            inner.counters.begin();
            let (outcome, dialled) = super::dial::during(async {
                let _guard = InFlight(&inner.counters);
                match rb.send().await {
                    Ok(resp) => {
                        let status = resp.status().as_u16();
                        let headers = resp.headers().clone();
                        if inner.peer_certificate.get().is_none() {
                            if let Some(der) = resp
                                .extensions()
                                .get::<reqwest::tls::TlsInfo>()
                                .and_then(|info| info.peer_certificate())
                            {
                                let _ = inner.peer_certificate.set(der.to_vec());
                            }
                        }
                        read_bounded(resp, MAX_BODY)
                            .await
                            .map(|b| (status, headers, b))
                    }
                    Err(e) => Err(e),
                }
            })
            .await;
            // Held for the request only, never through a backoff wait.
            drop(permit);
            let ms = started.elapsed().as_millis();
            let conn = if dialled {
                "new connection"
            } else {
                "reused connection"
            };

            let (status, headers, bytes) = match outcome {
                Ok((_, _, BoundedBody::TooLarge(seen))) => {
                    let mut err = SnError::new(
                        ErrorKind::TooLarge {
                            limit: MAX_BODY as u64,
                        },
                        call.target.clone(),
                    );
                    err.server_detail = Some(format!("at least {seen} bytes"));
                    err.attempts = attempt;
                    inner.logger.line(&format!(
                        "snconnect: {shown} -> answer over {} MiB, not read ({ms} ms)",
                        MAX_BODY >> 20
                    ));
                    return Err(err);
                }
                Ok((status, headers, BoundedBody::Read(bytes))) => (status, headers, bytes),
                Err(e) => {
                    let mut err = classify_transport(&e, &call.target);
                    if err.kind == ErrorKind::Timeout && budget < inner.timeout {
                        // Cut short by the run's deadline, not by the request timeout.
                        return Err(self.deadline_passed(&call, attempt, &shown));
                    }
                    err.attempts = attempt;
                    inner.logger.line(&format!(
                        "snconnect: {shown} -> failed: {} ({ms} ms, attempt {attempt}/{max})",
                        transport_word(&err.kind)
                    ));
                    return Err(err);
                }
            };
            inner.logger.line(&format!(
                "snconnect: {shown} -> {status} ({ms} ms, attempt {attempt}/{max}, {conn}){}",
                server_timing(&headers)
            ));

            match classify(status, &headers, &bytes, &call.target, call.expect) {
                Ok(value) => return Ok(Answer { value, headers }),
                Err(mut err) => {
                    err.attempts = attempt;
                    let retry_after = parse_retry_after(&headers);
                    // A Retry-After longer than the timeout, or than what is left of the run's
                    // time, is not waited out: the run ends now and says until when the
                    // instance asked to be left alone. A backoff is cut to what is left.
                    let beyond = retry_after.is_some_and(|d| d > budget);
                    if attempt < max && call.policy.allows(&err.kind) && !beyond {
                        let wait = backoff(attempt, retry_after, inner.backoff_base).min(budget);
                        inner
                            .logger
                            .line(&format!("snconnect: retrying in {} ms", wait.as_millis()));
                        tokio::time::sleep(wait).await;
                        attempt += 1;
                        continue;
                    }
                    return Err(err);
                }
            }
        }
    }

    /// The run's time ran out before `call` (attempt `attempt`) could be answered.
    fn deadline_passed(&self, call: &Call<'_>, attempt: u32, shown: &str) -> SnError {
        let limit = self.inner.deadline.map(|(_, d)| d).unwrap_or_default();
        self.inner
            .logger
            .line(&format!("snconnect: {shown} -> the run's time is up"));
        let mut err = SnError::new(ErrorKind::DeadlinePassed { limit }, call.target.clone());
        err.attempts = attempt;
        err
    }

    /// `METHOD path?query [body] as who`, with every secret redacted; computed only when logging.
    fn describe_for_log(&self, call: &Call<'_>) -> String {
        if !self.inner.logger.enabled() {
            return String::new();
        }
        let mut line = format!("{} {}", call.method, call.url.path());
        if !call.params.is_empty() {
            line.push('?');
            line.push_str(&redact_params(&call.params));
        }
        match &call.body {
            Body::None => {}
            Body::Json(v) => {
                line.push_str(" body ");
                line.push_str(&redact_json(v).to_string());
            }
            Body::TokenForm(_) => line.push_str(" [token request body not logged]"),
        }
        line.push_str(" as ");
        line.push_str(&call.auth.describe());
        line
    }
}

fn transport_word(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Timeout => "timed out",
        ErrorKind::Tls => "TLS error",
        ErrorKind::Proxy => "the proxy refused",
        ErrorKind::Connect => "connection failed",
        ErrorKind::ConnectionLost => "connection lost mid-answer",
        _ => "transport error",
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(c) = cur {
        parts.push(c.to_string());
        cur = c.source();
    }
    parts.join(": ")
}

/// One identity's view of the instance. Clone it freely; clones share the client.
#[derive(Clone)]
pub struct Session {
    client: Client,
    auth: Arc<Auth>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("instance", &self.client.instance().as_str())
            .field("auth", &self.auth)
            .finish()
    }
}

impl Session {
    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    fn table_call<'a>(
        &'a self,
        method: Method,
        table: &str,
        sys_id: Option<&str>,
        params: Vec<(String, String)>,
        body: Body<'a>,
        policy: RetryPolicy,
    ) -> Result<Call<'a>, SnError> {
        let mut segments = vec!["api", "now", "table", table];
        if let Some(id) = sys_id {
            segments.push(id);
        }
        let url = self.client.url(&segments);
        let target = self.client.target(&method, &url, Some(table), sys_id);
        let bad = |what: &str, value: &str| -> Result<Call<'a>, SnError> {
            let mut e = SnError::new(ErrorKind::BadRequest { status: 0 }, target.clone());
            e.server_detail = Some(format!("'{value}' is not a valid {what}"));
            Err(e)
        };
        if !valid_table_name(table) {
            return bad("table name", table);
        }
        if let Some(id) = sys_id {
            if id.is_empty() || id == "." || id == ".." {
                return bad("sys_id", id);
            }
        }
        Ok(Call {
            method,
            url,
            params,
            body,
            auth: &self.auth,
            target,
            expect: Expect::Table,
            policy,
        })
    }

    /// One page of `table`. Read `Page::hidden_rows` before concluding that nothing exists.
    pub async fn list(&self, table: &str, req: &ListRequest) -> Result<Page, SnError> {
        let call = self.table_call(
            Method::GET,
            table,
            None,
            req.params(),
            Body::None,
            RetryPolicy::Transient,
        )?;
        let target = call.target.clone();
        let answer = self.client.execute(call).await?;
        page_from(&answer, &target)
    }

    /// Every page of `table`, following `Link: rel="next"`. `total_count` is the first page's.
    pub async fn list_all(&self, table: &str, req: &ListRequest) -> Result<Page, SnError> {
        /// A bound against a server whose `next` never ends; 1000 pages is far beyond any table
        /// this tool reads.
        const MAX_PAGES: usize = 1000;
        let mut all = self.list(table, req).await?;
        let mut next = all.next_offset;
        let mut pages = 1;
        let mut last_offset = req.offset.map(u64::from).unwrap_or(0);
        while let Some(offset) = next {
            if offset <= last_offset || pages >= MAX_PAGES {
                break;
            }
            let mut page_req = req.clone();
            page_req.offset = Some(u32::try_from(offset).unwrap_or(u32::MAX));
            let page = self.list(table, &page_req).await?;
            all.records.extend(page.records);
            last_offset = offset;
            next = page.next_offset;
            pages += 1;
        }
        all.next_offset = None;
        Ok(all)
    }

    /// One record by sys_id; a missing (or ACL-hidden) record is `ErrorKind::NotFound`.
    pub async fn get(&self, table: &str, sys_id: &str, fields: &[&str]) -> Result<Record, SnError> {
        let mut params = Vec::new();
        if !fields.is_empty() {
            params.push(("sysparm_fields".to_string(), fields.join(",")));
        }
        let call = self.table_call(
            Method::GET,
            table,
            Some(sys_id),
            params,
            Body::None,
            RetryPolicy::Transient,
        )?;
        let target = call.target.clone();
        let answer = self.client.execute(call).await?;
        record_from(&answer.value, &target)
    }

    /// Inserts one record. Retried on 429 only (see the retry module for why not on 5xx).
    pub async fn create(
        &self,
        table: &str,
        body: Value,
        opts: WriteOptions,
    ) -> Result<Record, SnError> {
        let call = self.table_call(
            Method::POST,
            table,
            None,
            write_params(opts),
            Body::Json(&body),
            RetryPolicy::RateLimitOnly,
        )?;
        let target = call.target.clone();
        let answer = self.client.execute(call).await?;
        record_from(&answer.value, &target)
    }

    /// Changes fields of one record (PATCH). Setting the same values twice is harmless, so 5xx
    /// is retried too.
    pub async fn update(
        &self,
        table: &str,
        sys_id: &str,
        body: Value,
        opts: WriteOptions,
    ) -> Result<Record, SnError> {
        let call = self.table_call(
            Method::PATCH,
            table,
            Some(sys_id),
            write_params(opts),
            Body::Json(&body),
            RetryPolicy::Transient,
        )?;
        let target = call.target.clone();
        let answer = self.client.execute(call).await?;
        record_from(&answer.value, &target)
    }

    /// Deletes one record. Used only to take back a record this run inserted a moment before,
    /// when another run inserted its twin at the same time (see `apply::execute`). Retried on
    /// 429 only: a retried delete of a record already gone would read as a failure.
    pub async fn delete(&self, table: &str, sys_id: &str) -> Result<(), SnError> {
        let call = self.table_call(
            Method::DELETE,
            table,
            Some(sys_id),
            Vec::new(),
            Body::None,
            RetryPolicy::RateLimitOnly,
        )?;
        self.client.execute(call).await.map(|_| ())
    }
}

/// The `Server-Timing` values an answer carries, for the request log (ServiceNow reports waits
/// for its API semaphore and the session there): a slow instance told from a slow network.
/// Server text, so bounded and escaped before it reaches a terminal.
fn server_timing(headers: &HeaderMap) -> String {
    let values: Vec<&str> = headers
        .get_all("server-timing")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if values.is_empty() {
        return String::new();
    }
    format!(
        " server-timing: {}",
        crate::text::for_terminal(&values.join(", "))
    )
}

/// ServiceNow table names: letters, digits and underscores (scoped tables too: `x_acme_table`).
fn valid_table_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 80
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn write_params(opts: WriteOptions) -> Vec<(String, String)> {
    if opts.input_display_value {
        vec![(
            "sysparm_input_display_value".to_string(),
            "true".to_string(),
        )]
    } else {
        Vec::new()
    }
}

fn malformed(target: &RequestTarget, detail: &str) -> SnError {
    let mut e = SnError::new(ErrorKind::MalformedJson, target.clone());
    e.server_detail = Some(detail.to_string());
    e
}

fn page_from(answer: &Answer, target: &RequestTarget) -> Result<Page, SnError> {
    let rows = answer
        .value
        .get("result")
        .and_then(Value::as_array)
        .ok_or_else(|| malformed(target, "\"result\" is not a list"))?;
    let records = rows
        .iter()
        .map(|row| match row {
            Value::Object(map) => Ok(Record(map.clone())),
            _ => Err(malformed(target, "a row of \"result\" is not an object")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let total_count = answer
        .headers
        .get("x-total-count")
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().parse().ok());
    let next_offset = answer
        .headers
        .get_all("link")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(link_next)
        .and_then(|l| offset_of(&l));
    Ok(Page {
        records,
        total_count,
        next_offset,
    })
}

fn record_from(value: &Value, target: &RequestTarget) -> Result<Record, SnError> {
    match value.get("result") {
        Some(Value::Object(map)) => Ok(Record(map.clone())),
        // Some releases answer a single-record GET with a one-element list.
        Some(Value::Array(rows)) if rows.len() == 1 => match &rows[0] {
            Value::Object(map) => Ok(Record(map.clone())),
            _ => Err(malformed(target, "\"result\" is not a record")),
        },
        _ => Err(malformed(target, "\"result\" is not a record")),
    }
}

/// The most of one answer that is read: a Table API page of rows limited to the fields the checks
/// read is a few kilobytes; 16 MiB is generous, and bounds memory against an instance or proxy
/// that answers with hundreds of megabytes.
pub const MAX_BODY: usize = 16 << 20;

pub use crate::localfile::MAX_LOCAL_FILE;

/// An answer's body, or how much of it arrived before it passed the limit.
enum BoundedBody {
    Read(Vec<u8>),
    TooLarge(usize),
}

/// Reads `resp`'s body chunk by chunk, stopping as soon as it passes `limit` bytes (or at once,
/// when `Content-Length` already says it will).
async fn read_bounded(
    mut resp: reqwest::Response,
    limit: usize,
) -> Result<BoundedBody, reqwest::Error> {
    if resp.content_length().is_some_and(|n| n > limit as u64) {
        return Ok(BoundedBody::TooLarge(
            resp.content_length().unwrap_or(0) as usize
        ));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        if body.len() + chunk.len() > limit {
            return Ok(BoundedBody::TooLarge(body.len() + chunk.len()));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(BoundedBody::Read(body))
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
