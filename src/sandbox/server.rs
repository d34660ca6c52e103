//! The HTTP face of the sandbox: the Table API, `/oauth_token.do`, and the `/__sandbox/` control
//! endpoints, with ServiceNow's envelopes, headers and status codes.
//!
//! One fallback handler dispatches on the path by hand: ServiceNow answers unknown tables, bad
//! bodies and wrong methods with its own JSON shapes, which generic routing would not give.
//!
//! Why one file of about 800 lines: the dispatcher and the renderers it calls (envelopes, `Link`,
//! display values, errors) are the wire format of one server; split apart, each shape would be
//! read far from the status code and headers it goes with.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::{json, Map, Value};

use super::access::{self, Operation};
use super::auth::{self, AuthFailure, Caller};
use super::db::{hash_password, Db, DbError, FieldKind, Row};
use super::faults;

/// One request as the sandbox saw it. Never holds a password, token or secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LoggedRequest {
    pub method: String,
    pub path: String,
    /// The raw query string, if any.
    pub query: Option<String>,
    pub status: u16,
    /// The authenticated user, `token:<user>` for bearer tokens, `None` when not authenticated.
    pub user: Option<String>,
}

/// State shared by the server tasks and the `Sandbox` handle.
pub struct Shared {
    pub db: Mutex<Db>,
    pub log: Mutex<Vec<LoggedRequest>>,
    pub in_flight: AtomicUsize,
    pub max_in_flight: AtomicUsize,
    /// Requests served at once, as a node's inbound REST semaphore (`API_INT`) allows; the
    /// rest queue. `None`: no cap.
    pub served_at_once: Option<Arc<tokio::sync::Semaphore>>,
}

impl Shared {
    pub fn new(db: Db) -> Shared {
        Shared {
            db: Mutex::new(db),
            log: Mutex::new(Vec::new()),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            served_at_once: None,
        }
    }

    /// The db, even if a handler panicked while holding it (the data is still usable for tests).
    pub fn db(&self) -> MutexGuard<'_, Db> {
        self.db.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn log(&self) -> MutexGuard<'_, Vec<LoggedRequest>> {
        self.log.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The router serving a sandbox.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

/// Counts a request in flight for as long as it lives.
struct InFlight<'a>(&'a Shared);

impl<'a> InFlight<'a> {
    fn enter(shared: &'a Shared) -> InFlight<'a> {
        let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        shared.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(shared)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What the dispatcher needs to know about a request.
struct Ctx<'a> {
    method: &'a Method,
    path: &'a str,
    params: Vec<(String, String)>,
    headers: &'a HeaderMap,
    body: &'a Bytes,
    /// `http://host:port` as the client addressed us, for links and `Location`.
    base: String,
}

impl Ctx<'_> {
    fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn flag(&self, name: &str) -> bool {
        self.param(name)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().map(str::to_string);
    if let Some(control) = path.strip_prefix("/__sandbox/") {
        let body = axum::body::to_bytes(body, 1 << 20)
            .await
            .unwrap_or_default();
        return control_endpoint(&shared, &parts.method, control, &body);
    }
    let _in_flight = InFlight::enter(&shared);
    // Queued here while the instance's API threads are busy; the server time below is spent
    // holding one.
    let _serving = match &shared.served_at_once {
        Some(cap) => cap.clone().acquire_owned().await.ok(),
        None => None,
    };
    let latency = shared.db().latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let body = axum::body::to_bytes(body, 8 << 20)
        .await
        .unwrap_or_default();
    let params = query
        .as_deref()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_string();
    let ctx = Ctx {
        method: &parts.method,
        path: &path,
        params,
        headers: &parts.headers,
        body: &body,
        base: format!("http://{host}"),
    };
    let (response, user) = {
        let mut db = shared.db();
        dispatch(&mut db, &ctx)
    };
    shared.log().push(LoggedRequest {
        method: parts.method.to_string(),
        path,
        query,
        status: response.status().as_u16(),
        user,
    });
    response
}

/// The control endpoints, for scripts driving a sandbox from outside the process:
/// - `GET /__sandbox/requests`: the request log and the peak concurrency;
/// - `GET /__sandbox/faults`: the faults in force;
/// - `POST /__sandbox/faults` with a JSON object: changes the fields it names.
fn control_endpoint(shared: &Shared, method: &Method, path: &str, body: &Bytes) -> Response {
    match (method, path) {
        (&Method::GET, "requests") => {
            let requests = shared.log().clone();
            Json(json!({
                "requests": requests,
                "max_in_flight": shared.max_in_flight.load(Ordering::SeqCst),
            }))
            .into_response()
        }
        (&Method::GET, "faults") => Json(faults_json(&shared.db().faults)).into_response(),
        (&Method::POST, "faults") => {
            let Ok(Value::Object(changes)) = serde_json::from_slice::<Value>(body) else {
                return sn_error(
                    StatusCode::BAD_REQUEST,
                    "Exception while reading request",
                    Some("send a JSON object such as {\"rate_limit_next\": 2}"),
                );
            };
            let mut db = shared.db();
            match apply_fault_changes(&mut db.faults, &changes) {
                Ok(()) => Json(faults_json(&db.faults)).into_response(),
                Err(message) => sn_error(StatusCode::BAD_REQUEST, &message, None),
            }
        }
        // What an admin elevated to security_admin does in the UI: import an update-set file,
        // preview it, commit it.
        (&Method::POST, "import_update_set") => {
            let xml = String::from_utf8_lossy(body);
            match shared.db().import_update_set(&xml, "admin") {
                Ok(outcome) => Json(outcome).into_response(),
                Err(message) => sn_error(StatusCode::BAD_REQUEST, &message, None),
            }
        }
        _ => sn_error(
            StatusCode::BAD_REQUEST,
            "Requested URI does not represent any resource",
            Some(
                "the sandbox control endpoints are GET /__sandbox/requests, GET or POST \
                 /__sandbox/faults and POST /__sandbox/import_update_set",
            ),
        ),
    }
}

fn faults_json(f: &faults::Faults) -> Value {
    json!({
        "hibernating": f.hibernating.map(|h| match h {
            faults::Hibernation::Ok200 => 200,
            faults::Hibernation::Unavailable503 => 503,
        }),
        "login_page": f.login_page,
        "rate_limit_next": f.rate_limit_next,
        "rate_limit_retry_after": f.rate_limit_retry_after,
        "server_errors_next": f.server_errors_next,
        "server_error_status": f.server_error_status,
    })
}

fn apply_fault_changes(f: &mut faults::Faults, changes: &Map<String, Value>) -> Result<(), String> {
    let count = |v: &Value, key: &str| {
        v.as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| format!("{key} must be a whole number"))
    };
    let flag = |v: &Value, key: &str| {
        v.as_bool()
            .ok_or_else(|| format!("{key} must be true or false"))
    };
    for (key, value) in changes {
        match key.as_str() {
            "hibernating" => {
                f.hibernating = match value {
                    Value::Null => None,
                    Value::Bool(false) => None,
                    v if v.as_u64() == Some(503) => Some(faults::Hibernation::Unavailable503),
                    v if v.as_u64() == Some(200) || v.as_bool() == Some(true) => {
                        Some(faults::Hibernation::Ok200)
                    }
                    _ => return Err("hibernating must be null, 200 or 503".to_string()),
                }
            }
            "login_page" => f.login_page = flag(value, key)?,
            "rate_limit_next" => f.rate_limit_next = count(value, key)?,
            "rate_limit_retry_after" => f.rate_limit_retry_after = flag(value, key)?,
            "server_errors_next" => f.server_errors_next = count(value, key)?,
            "server_error_status" => {
                let status = count(value, key)?;
                if !(500..=599).contains(&status) {
                    return Err("server_error_status must be a 5xx status".to_string());
                }
                f.server_error_status = status as u16;
            }
            other => return Err(format!("unknown fault '{other}'")),
        }
    }
    Ok(())
}

/// ServiceNow's error envelope.
pub fn sn_error(status: StatusCode, message: &str, detail: Option<&str>) -> Response {
    (
        status,
        Json(json!({
            "error": {"message": message, "detail": detail},
            "status": "failure"
        })),
    )
        .into_response()
}

fn unauthorized(failure: AuthFailure) -> Response {
    let mut response = sn_error(
        StatusCode::UNAUTHORIZED,
        "User Not Authenticated",
        Some("Required to provide Auth information"),
    );
    if failure == AuthFailure::MfaRequired {
        response
            .headers_mut()
            .insert("X-MFA_TOKEN", HeaderValue::from_static("invalid"));
    }
    response
}

fn acl_exception(op: Operation) -> Response {
    sn_error(
        StatusCode::FORBIDDEN,
        "Operation Failed",
        Some(&format!(
            "ACL Exception {} Failed due to security constraints",
            op.exception_word()
        )),
    )
}

fn no_record() -> Response {
    sn_error(
        StatusCode::NOT_FOUND,
        "No Record found",
        Some("Record doesn't exist or ACL restricts the record retrieval"),
    )
}

fn invalid_table(table: &str) -> Response {
    sn_error(
        StatusCode::BAD_REQUEST,
        &format!("Invalid table {table}"),
        None,
    )
}

fn no_resource() -> Response {
    sn_error(
        StatusCode::BAD_REQUEST,
        "Requested URI does not represent any resource",
        None,
    )
}

fn method_not_allowed(detail: &str) -> Response {
    sn_error(
        StatusCode::METHOD_NOT_ALLOWED,
        "Method not Supported",
        Some(detail),
    )
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Routes one request. Returns the response and the caller's label for the log.
fn dispatch(db: &mut Db, ctx: &Ctx) -> (Response, Option<String>) {
    if let Some(fault) = faults::take(&mut db.faults, unix_now()) {
        return (fault, None);
    }
    if ctx.path == "/oauth_token.do" {
        return token_endpoint(db, ctx);
    }
    if ctx.path == "/login.do" {
        return (faults::login_page_response(), None);
    }
    if !ctx.path.starts_with("/api/") {
        let response = (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/html;charset=UTF-8")],
            "<html><head><title>Not Found</title></head><body>The sandbox serves /api/now/table/{table} and /oauth_token.do.</body></html>\n",
        )
            .into_response();
        return (response, None);
    }
    // Every REST path authenticates first; only then is the resource looked up.
    let authorization = ctx
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let caller = match auth::authenticate(db, authorization) {
        Ok(caller) => caller,
        Err(failure) => return (unauthorized(failure), None),
    };
    let segments: Vec<&str> = ctx
        .path
        .trim_start_matches("/api/")
        .trim_end_matches('/')
        .split('/')
        .collect();
    let (version, table, sys_id) = match segments.as_slice() {
        ["now", "table", table] => (None, *table, None),
        ["now", "table", table, id] => (None, *table, Some(*id)),
        ["now", v @ ("v1" | "v2"), "table", table] => (Some(*v), *table, None),
        ["now", v @ ("v1" | "v2"), "table", table, id] => (Some(*v), *table, Some(*id)),
        ["now", "stats", table] | ["now", "v1", "stats", table] => {
            return (stats(db, ctx, &caller, table), Some(caller.label()));
        }
        // Other REST APIs (CI/CD, scripted APIs, …) are not installed on the sandbox.
        _ => return (no_resource(), Some(caller.label())),
    };
    let label = Some(caller.label());
    if db.schema(table).is_none() {
        return (invalid_table(table), label);
    }
    if access::api_scope_blocks(db, &caller) {
        let response = sn_error(
            StatusCode::FORBIDDEN,
            "Missing required api access scope",
            None,
        );
        return (response, label);
    }
    let response = match (ctx.method.clone(), sys_id) {
        (Method::GET, None) => list(db, ctx, &caller, table, version),
        (Method::GET, Some(id)) => get_one(db, ctx, &caller, table, id),
        (Method::POST, None) => create(db, ctx, &caller, table),
        (Method::PATCH | Method::PUT, Some(id)) => update(db, ctx, &caller, table, id),
        (Method::DELETE, Some(id)) => delete(db, &caller, table, id),
        _ => method_not_allowed(&format!("{} is not supported on this resource", ctx.method)),
    };
    (response, label)
}

/// The Aggregate API's count, `GET /api/now/stats/{table}?sysparm_count=true&sysparm_query=…`:
/// `{"result":{"stats":{"count":"N"}}}`, the count as a string as the API sends it. Only the count
/// is modelled (no avg/min/max/sum or group-by); a caller that cannot read the table counts none.
fn stats(db: &Db, ctx: &Ctx, caller: &Caller, table: &str) -> Response {
    if db.schema(table).is_none() {
        return invalid_table(table);
    }
    if ctx.method != Method::GET {
        return method_not_allowed("the Aggregate API accepts GET only");
    }
    let query = ctx.param("sysparm_query").unwrap_or("");
    let count = if access::can_read(db, caller, table) {
        db.find_as(table, query, Some(&caller.sys_id))
            .iter()
            .filter(|row| {
                caller.is_admin()
                    || !row
                        .get("sys_id")
                        .is_some_and(|id| db.restricted_rows.contains(id))
            })
            .count()
    } else {
        0
    };
    json_response(
        StatusCode::OK,
        json!({"result": {"stats": {"count": count.to_string()}}}),
    )
}

/// `DELETE /api/now/table/{table}/{sys_id}`: 204 with no body, as the Table API answers. snconnect
/// itself never deletes; scripts rehearsing against the sandbox do.
fn delete(db: &mut Db, caller: &Caller, table: &str, sys_id: &str) -> Response {
    if db.get(table, sys_id).is_none() {
        return no_record();
    }
    if !access::can_write(db, caller, table, Operation::Delete) {
        return acl_exception(Operation::Delete);
    }
    db.remove_where(table, &format!("sys_id={sys_id}"));
    StatusCode::NO_CONTENT.into_response()
}

/// How reference and other values are rendered (`sysparm_display_value`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DisplayMode {
    Value,
    Display,
    All,
}

/// The read parameters of a Table API request.
struct ReadParams {
    fields: Option<Vec<String>>,
    display: DisplayMode,
    exclude_link: bool,
}

fn read_params(ctx: &Ctx) -> ReadParams {
    let fields = ctx.param("sysparm_fields").and_then(|f| {
        let list: Vec<String> = f
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        (!list.is_empty()).then_some(list)
    });
    let display = match ctx.param("sysparm_display_value") {
        Some(v) if v.eq_ignore_ascii_case("true") => DisplayMode::Display,
        Some(v) if v.eq_ignore_ascii_case("all") => DisplayMode::All,
        _ => DisplayMode::Value,
    };
    ReadParams {
        fields,
        display,
        exclude_link: ctx.flag("sysparm_exclude_reference_link"),
    }
}

/// Renders one field of a row, following dot-walks; `None` for a field the table lacks
/// (invalid fields are left out of the result, not reported).
fn render_field(
    db: &Db,
    ctx: &Ctx,
    params: &ReadParams,
    table: &str,
    row: &Row,
    path: &str,
) -> Option<Value> {
    let (owner, field) = db.resolve_path(table, path)?;
    let raw = db.value_at(table, row, path);
    Some(match field.kind {
        FieldKind::Ref(target) => {
            if raw.is_empty() {
                // An empty reference keeps the shape its mode gives every other reference
                // [inferred from captured records: pysnc and pysnow read both shapes].
                return Some(match params.display {
                    DisplayMode::All => json!({"display_value": "", "value": ""}),
                    _ => Value::String(String::new()),
                });
            }
            let link = format!("{}/api/now/table/{target}/{raw}", ctx.base);
            let display = db.display_of(target, &raw);
            let mut object = Map::new();
            match params.display {
                DisplayMode::Value if params.exclude_link => return Some(Value::String(raw)),
                DisplayMode::Display if params.exclude_link => return Some(Value::String(display)),
                DisplayMode::Value => {
                    object.insert("link".into(), Value::String(link));
                    object.insert("value".into(), Value::String(raw));
                }
                DisplayMode::Display => {
                    object.insert("display_value".into(), Value::String(display));
                    object.insert("link".into(), Value::String(link));
                }
                DisplayMode::All => {
                    object.insert("display_value".into(), Value::String(display));
                    if !params.exclude_link {
                        object.insert("link".into(), Value::String(link));
                    }
                    object.insert("value".into(), Value::String(raw));
                }
            }
            Value::Object(object)
        }
        _ => {
            let label = || {
                choice_label(&owner.name, &field.name, &raw)
                    .unwrap_or(&raw)
                    .to_string()
            };
            match params.display {
                DisplayMode::Value => Value::String(raw),
                DisplayMode::Display => Value::String(label()),
                DisplayMode::All => json!({"display_value": label(), "value": raw}),
            }
        }
    })
}

/// The labels of choice fields whose stored value differs from what the form shows: the
/// out-of-box choices of the fields the sandbox's tables use (task's state, priority, impact and
/// urgency as incident inherits them; the integration's own fields).
fn choice_label(table: &str, field: &str, value: &str) -> Option<&'static str> {
    let task_like = matches!(table, "task" | "incident");
    Some(match (field, value) {
        ("identity_type", "human") => "Human",
        ("identity_type", "machine") => "Machine",
        ("identity_type", "ai_agent") => "AI",
        ("decision_type", "allow") => "Allow If",
        ("decision_type", "deny") => "Deny Unless",
        ("state", "active") => "Active",
        ("state", "1") if task_like => "New",
        ("state", "2") if task_like => "In Progress",
        ("state", "3") if task_like => "On Hold",
        ("state", "6") if task_like => "Resolved",
        ("state", "7") if task_like => "Closed",
        ("state", "8") if task_like => "Canceled",
        ("priority", "1") if task_like => "1 - Critical",
        ("priority", "2") if task_like => "2 - High",
        ("priority", "3") if task_like => "3 - Moderate",
        ("priority", "4") if task_like => "4 - Low",
        ("priority", "5") if task_like => "5 - Planning",
        ("impact" | "urgency", "1") if task_like => "1 - High",
        ("impact" | "urgency", "2") if task_like => "2 - Medium",
        ("impact" | "urgency", "3") if task_like => "3 - Low",
        _ => return None,
    })
}

fn render_row(db: &Db, ctx: &Ctx, params: &ReadParams, table: &str, row: &Row) -> Value {
    let mut out = Map::new();
    let all_fields: Vec<String>;
    let fields = match &params.fields {
        Some(list) => list,
        None => {
            all_fields = db
                .schema(table)
                .map(|s| s.fields.iter().map(|f| f.name.clone()).collect())
                .unwrap_or_default();
            &all_fields
        }
    };
    for path in fields {
        if let Some(value) = render_field(db, ctx, params, table, row, path) {
            out.insert(path.clone(), value);
        }
    }
    Value::Object(out)
}

/// A JSON answer with the headers a real instance's REST answers carry (facts sheet, Corrections
/// 6): `application/json;charset=UTF-8`, no-cache headers, `X-Is-Logged-In`, a transaction id,
/// `Server-Timing`, and the session and routing cookies (which a client without a cookie store,
/// as snconnect's, ignores; scripts that keep them must not be thrown by them).
fn json_response(status: StatusCode, body: Value) -> Response {
    let mut response = (status, Json(body)).into_response();
    let headers = response.headers_mut();
    let transaction = super::db::random_token(32).to_ascii_lowercase();
    let node = super::db::random_token(32).to_ascii_lowercase();
    let pairs: [(header::HeaderName, String); 7] = [
        (
            header::CONTENT_TYPE,
            "application/json;charset=UTF-8".into(),
        ),
        (
            header::CACHE_CONTROL,
            "no-cache,no-store,must-revalidate,max-age=-1".into(),
        ),
        (header::PRAGMA, "no-store,no-cache".into()),
        (header::EXPIRES, "0".into()),
        (
            header::HeaderName::from_static("x-is-logged-in"),
            "true".into(),
        ),
        (
            header::HeaderName::from_static("x-transaction-id"),
            transaction[..12].to_string(),
        ),
        (
            header::HeaderName::from_static("server-timing"),
            "sem_wait;dur=0, ses_wait;dur=0".into(),
        ),
    ];
    for (name, value) in pairs {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    }
    for cookie in [
        format!(
            "JSESSIONID={}; Path=/; HttpOnly; SameSite=None; Secure",
            &node[..32]
        ),
        format!(
            "glide_user_route=glide.{}; Path=/; HttpOnly; SameSite=None; Secure",
            &node[..16]
        ),
        format!(
            "glide_node_id_for_js={}; Path=/; SameSite=None; Secure",
            &node[16..32]
        ),
        "BIGipServerpool_sandbox=2936078090.52542.0000; path=/; Httponly; Secure; SameSite=None"
            .to_string(),
    ] {
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            headers.append(header::SET_COOKIE, v);
        }
    }
    response
}

fn list(db: &Db, ctx: &Ctx, caller: &Caller, table: &str, version: Option<&str>) -> Response {
    let params = read_params(ctx);
    let query = ctx.param("sysparm_query").unwrap_or("");
    let limit = ctx
        .param("sysparm_limit")
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|v| *v > 0)
        .unwrap_or(10_000);
    let offset = ctx
        .param("sysparm_offset")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    // Matching, counting and paging happen before visibility: the count is ACL-blind and the
    // limit "is applied before ACL evaluation".
    let matched = db.find_as(table, query, Some(&caller.sys_id));
    let total = matched.len();
    let visible = access::can_read(db, caller, table);
    let page: Vec<Value> = if visible {
        matched
            .iter()
            .skip(offset)
            .take(limit)
            // Row-level ACLs, after the limit: a restricted row leaves a hole in the page.
            .filter(|row| {
                caller.is_admin()
                    || !row
                        .get("sys_id")
                        .is_some_and(|id| db.restricted_rows.contains(id))
            })
            .map(|row| render_row(db, ctx, &params, table, row))
            .collect()
    } else {
        Vec::new()
    };
    if version == Some("v1") && page.is_empty() {
        return sn_error(
            StatusCode::NOT_FOUND,
            "No Record found",
            Some("Records matching query not found. Check query parameter or offset parameter"),
        );
    }
    let mut response = json_response(StatusCode::OK, json!({ "result": page }));
    let headers = response.headers_mut();
    if !ctx.flag("sysparm_no_count") {
        if let Ok(v) = HeaderValue::from_str(&total.to_string()) {
            headers.insert("X-Total-Count", v);
        }
    }
    if !ctx.flag("sysparm_suppress_pagination_header") {
        if let Some(link) = link_header(ctx, table, version, total, offset, limit) {
            if let Ok(v) = HeaderValue::from_str(&link) {
                headers.insert(header::LINK, v);
            }
        }
    }
    response
}

/// `<url>;rel="first",<url>;rel="prev",<url>;rel="next",<url>;rel="last"`, or nothing when
/// everything fits on one page.
fn link_header(
    ctx: &Ctx,
    table: &str,
    version: Option<&str>,
    total: usize,
    offset: usize,
    limit: usize,
) -> Option<String> {
    if offset == 0 && total <= limit {
        return None;
    }
    let path = match version {
        Some(v) => format!("/api/now/{v}/table/{table}"),
        None => format!("/api/now/table/{table}"),
    };
    let url_for = |page_offset: usize| {
        let mut serializer = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &ctx.params {
            if k != "sysparm_offset" && k != "sysparm_limit" {
                serializer.append_pair(k, v);
            }
        }
        // As a real instance writes them: the request's parameters, then offset and limit.
        serializer.append_pair("sysparm_offset", &page_offset.to_string());
        serializer.append_pair("sysparm_limit", &limit.to_string());
        format!("{}{path}?{}", ctx.base, serializer.finish())
    };
    let last = if total == 0 {
        0
    } else {
        ((total - 1) / limit) * limit
    };
    let mut rels = vec![format!("<{}>;rel=\"first\"", url_for(0))];
    if offset > 0 {
        rels.push(format!(
            "<{}>;rel=\"prev\"",
            url_for(offset.saturating_sub(limit))
        ));
    }
    if offset + limit < total {
        rels.push(format!("<{}>;rel=\"next\"", url_for(offset + limit)));
    }
    rels.push(format!("<{}>;rel=\"last\"", url_for(last)));
    Some(rels.join(","))
}

fn get_one(db: &Db, ctx: &Ctx, caller: &Caller, table: &str, sys_id: &str) -> Response {
    let params = read_params(ctx);
    match db.get(table, sys_id) {
        Some(row) if access::can_read(db, caller, table) => json_response(
            StatusCode::OK,
            json!({ "result": render_row(db, ctx, &params, table, row) }),
        ),
        _ => no_record(),
    }
}

/// Turns a JSON body into column values: booleans and numbers become their text, a reference
/// may be given as `{"value": ...}`. With `sysparm_input_display_value=true`, references may be
/// given by display value and passwords are hashed as the form would; without it, a password is
/// stored exactly as sent — and no login can use it.
fn body_values(db: &Db, ctx: &Ctx, table: &str) -> Result<Vec<(String, String)>, Box<Response>> {
    let body: Value = if ctx.body.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(ctx.body).map_err(|_| {
            Box::new(sn_error(
                StatusCode::BAD_REQUEST,
                "Exception while reading request",
                Some("The payload is not valid JSON."),
            ))
        })?
    };
    let Value::Object(object) = body else {
        return Err(Box::new(sn_error(
            StatusCode::BAD_REQUEST,
            "Exception while reading request",
            Some("The payload must be a single JSON object (multiple record insertion is not supported)."),
        )));
    };
    let input_display = ctx.flag("sysparm_input_display_value");
    let schema = db.schema(table);
    let mut values = Vec::new();
    for (key, value) in object {
        let text = match value {
            Value::String(s) => s,
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            Value::Null => String::new(),
            Value::Object(ref o) => match o.get("value") {
                Some(Value::String(s)) => s.clone(),
                _ => value.to_string(),
            },
            other => other.to_string(),
        };
        let kind = schema.and_then(|s| s.field(&key)).map(|f| f.kind);
        let text = match kind {
            Some(FieldKind::Password) if input_display && !text.is_empty() => hash_password(&text),
            Some(FieldKind::Ref(target))
                if input_display && !text.is_empty() && db.get(target, &text).is_none() =>
            {
                let display = db.schema(target).map(|s| s.display).unwrap_or("sys_id");
                db.rows(target)
                    .iter()
                    .find(|r| r.get(display) == Some(&text))
                    .and_then(|r| r.get("sys_id").cloned())
                    .unwrap_or(text)
            }
            _ => text,
        };
        values.push((key, text));
    }
    Ok(values)
}

fn db_error(err: DbError) -> Response {
    match err {
        DbError::InvalidTable(t) => invalid_table(&t),
        DbError::NotFound { .. } => no_record(),
        DbError::BusinessRule {
            table,
            rule,
            detail,
        } => sn_error(
            StatusCode::FORBIDDEN,
            &format!("Operation against file '{table}' was aborted by Business Rule '{rule}'"),
            Some(&detail),
        ),
    }
}

fn create(db: &mut Db, ctx: &Ctx, caller: &Caller, table: &str) -> Response {
    if !access::can_write(db, caller, table, Operation::Create) {
        return acl_exception(Operation::Create);
    }
    let values = match body_values(db, ctx, table) {
        Ok(v) => v,
        Err(response) => return *response,
    };
    if let Some(at) = db.faults.raced_inserts.iter().position(|t| t == table) {
        db.faults.raced_inserts.remove(at);
        // The other run's secrets are its own: the instance makes a client secret, and the
        // user gets no password this run could know.
        let theirs: Vec<(String, String)> = values
            .iter()
            .filter(|(k, _)| k != "client_secret" && k != "user_password")
            .cloned()
            .collect();
        if let Ok(twin) = db.insert_as(table, theirs, "race.admin") {
            let earlier = super::db::format_timestamp(unix_now().saturating_sub(1));
            db.set_raw(table, &twin, "sys_created_on", &earlier);
        }
    }
    let sys_id = match db.insert_as(table, values, &caller.user_name) {
        Ok(id) => id,
        Err(err) => return db_error(err),
    };
    let params = read_params(ctx);
    let Some(row) = db.get(table, &sys_id) else {
        return no_record();
    };
    let mut response = json_response(
        StatusCode::CREATED,
        json!({ "result": render_row(db, ctx, &params, table, row) }),
    );
    let location = format!("{}/api/now/table/{table}/{sys_id}", ctx.base);
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}

fn update(db: &mut Db, ctx: &Ctx, caller: &Caller, table: &str, sys_id: &str) -> Response {
    if db.get(table, sys_id).is_none() {
        return no_record();
    }
    if !access::can_write(db, caller, table, Operation::Write) {
        return acl_exception(Operation::Write);
    }
    let values = match body_values(db, ctx, table) {
        Ok(v) => v,
        Err(response) => return *response,
    };
    if let Err(err) = db.update_as(table, sys_id, values, &caller.user_name) {
        return db_error(err);
    }
    let params = read_params(ctx);
    match db.get(table, sys_id) {
        Some(row) => json_response(
            StatusCode::OK,
            json!({ "result": render_row(db, ctx, &params, table, row) }),
        ),
        None => no_record(),
    }
}

/// `POST /oauth_token.do`: form-encoded only; every failure is the same opaque 401.
fn token_endpoint(db: &mut Db, ctx: &Ctx) -> (Response, Option<String>) {
    if ctx.method != Method::POST {
        return (
            method_not_allowed("the token endpoint accepts POST only"),
            None,
        );
    }
    let content_type = ctx
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type
        .to_ascii_lowercase()
        .starts_with("application/x-www-form-urlencoded")
    {
        // Documented only as "an unspecified error"; a plain 400 without the OAuth body.
        let response = (
            StatusCode::BAD_REQUEST,
            [(header::CONTENT_TYPE, "text/plain;charset=UTF-8")],
            "Bad Request\n",
        )
            .into_response();
        return (response, None);
    }
    let mut form: HashMap<String, String> =
        url::form_urlencoded::parse(ctx.body).into_owned().collect();
    let authorization = ctx
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if let Some((id, secret)) = auth::client_credentials_header(authorization) {
        form.entry("client_id".into()).or_insert(id);
        form.entry("client_secret".into()).or_insert(secret);
    }
    match auth::token_grant(db, &form) {
        Ok(granted) => (
            json_response(StatusCode::OK, granted.body),
            Some(granted.user_name),
        ),
        Err(_) => (
            json_response(StatusCode::UNAUTHORIZED, auth::access_denied_body()),
            None,
        ),
    }
}
