//! The ServiceNow client against tiny purpose-built servers on 127.0.0.1: retries, the token
//! endpoint, pagination, classification of transport failures, and the redacted verbose log.
//!
//! Each test builds its own axum router that counts the requests it receives, so a test can prove
//! not only what the client returned but how many requests it took to get there.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::{client_for, quick_options};
use axum::extract::{Query as AxQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::Router;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};
use snconnect::servicenow::{
    Auth, ClientOptions, ErrorKind, ListRequest, LogSink, Query, WriteOptions,
};

/// Requests seen by a test server, with what the test wants to inspect.
#[derive(Default)]
struct Seen {
    hits: AtomicUsize,
    requests: Mutex<Vec<SeenRequest>>,
}

#[derive(Clone, Debug)]
struct SeenRequest {
    method: String,
    path: String,
    query: String,
    headers: HeaderMap,
    body: String,
}

impl Seen {
    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
    fn all(&self) -> Vec<SeenRequest> {
        self.requests.lock().unwrap().clone()
    }
}

/// Serves `router` on 127.0.0.1:0, recording every request; returns the instance address.
async fn serve(router: Router<Arc<Seen>>) -> (String, Arc<Seen>) {
    let seen = Arc::new(Seen::default());
    let recorder = seen.clone();
    let app = router
        .layer(axum::middleware::from_fn(
            move |req: axum::extract::Request, next: axum::middleware::Next| {
                let recorder = recorder.clone();
                async move {
                    recorder.hits.fetch_add(1, Ordering::SeqCst);
                    let (parts, body) = req.into_parts();
                    let bytes = axum::body::to_bytes(body, 1 << 20)
                        .await
                        .unwrap_or_default();
                    recorder.requests.lock().unwrap().push(SeenRequest {
                        method: parts.method.to_string(),
                        path: parts.uri.path().to_string(),
                        query: parts.uri.query().unwrap_or("").to_string(),
                        headers: parts.headers.clone(),
                        body: String::from_utf8_lossy(&bytes).to_string(),
                    });
                    let req =
                        axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes));
                    next.run(req).await
                }
            },
        ))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (format!("http://{addr}"), seen)
}

fn options() -> ClientOptions {
    quick_options(Duration::from_secs(5))
}

/// [`options`] with the request log on, captured: the options, and the lines logged so far.
fn logging_options() -> (ClientOptions, Arc<Mutex<Vec<String>>>) {
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink_lines = lines.clone();
    let sink: LogSink = Arc::new(move |l: &str| sink_lines.lock().unwrap().push(l.to_string()));
    let opts = ClientOptions {
        verbose: true,
        log: Some(sink),
        ..options()
    };
    (opts, lines)
}

fn admin() -> Auth {
    Auth::basic("admin", SecretString::from("Adm1n-Pa55word"))
}

fn json_response(status: u16, body: Value) -> Response {
    let mut r = (
        StatusCode::from_u16(status).unwrap(),
        [("content-type", "application/json;charset=UTF-8")],
        body.to_string(),
    )
        .into_response();
    r.headers_mut()
        .insert("x-served-by", HeaderValue::from_static("test"));
    r
}

fn error_body(message: &str, detail: Option<&str>) -> Value {
    json!({"error": {"message": message, "detail": detail}, "status": "failure"})
}

fn hit_number(seen: &Seen) -> usize {
    // The recorder counts before the handler runs, so this is the current request's number.
    seen.hits()
}

#[tokio::test]
async fn a_401_is_sent_exactly_once() {
    let router = Router::new().route(
        "/api/now/table/sys_user",
        get(|| async {
            json_response(
                401,
                error_body(
                    "User Not Authenticated",
                    Some("Required to provide Auth information"),
                ),
            )
        }),
    );
    let (url, seen) = serve(router).await;
    let c = client_for(&url, &options());
    let err = c
        .session(admin())
        .list("sys_user", &ListRequest::new().limit(1))
        .await
        .unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::Unauthorized {
            mfa_required: false
        }
    );
    assert_eq!(seen.hits(), 1, "a 401 must never be retried");
    assert_eq!(c.stats().requests, 1);
    assert!(err.to_string().contains("User Not Authenticated"), "{err}");
}

#[tokio::test]
async fn a_401_with_mfa_header_is_classified_and_not_retried() {
    let router = Router::new().route(
        "/api/now/table/sys_user",
        get(|| async {
            let mut r = json_response(401, error_body("User Not Authenticated", None));
            r.headers_mut()
                .insert("X-MFA_TOKEN", HeaderValue::from_static("invalid"));
            r
        }),
    );
    let (url, seen) = serve(router).await;
    let err = client_for(&url, &options())
        .session(admin())
        .list("sys_user", &ListRequest::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unauthorized { mfa_required: true });
    assert_eq!(seen.hits(), 1);
}

#[tokio::test]
async fn a_429_with_retry_after_is_retried_then_succeeds() {
    let router = Router::new().route(
        "/api/now/table/incident",
        get(|State(seen): State<Arc<Seen>>| async move {
            if hit_number(&seen) == 1 {
                let mut r = json_response(
                    429,
                    error_body(
                        "Rate limit exceeded",
                        Some("Rate limit of 100 requests per hour for Table API exceeded"),
                    ),
                );
                let h = r.headers_mut();
                h.insert("Retry-After", HeaderValue::from_static("1"));
                h.insert("X-RateLimit-Limit", HeaderValue::from_static("100"));
                h.insert("X-RateLimit-Reset", HeaderValue::from_static("1700000000"));
                r
            } else {
                json_response(
                    200,
                    json!({"result": [{"sys_id": "i1", "number": "INC0001"}]}),
                )
            }
        }),
    );
    let (url, seen) = serve(router).await;
    let c = client_for(&url, &options());
    let started = Instant::now();
    let page = c
        .session(admin())
        .list("incident", &ListRequest::new().limit(1))
        .await
        .unwrap();
    assert_eq!(page.records.len(), 1);
    assert_eq!(page.records[0].str("number"), Some("INC0001"));
    assert_eq!(seen.hits(), 2);
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "Retry-After: 1 must be honoured, waited {:?}",
        started.elapsed()
    );
    assert_eq!(c.stats().requests, 2);
}

/// Issue 12: a Retry-After beyond the timeout is not waited out (it once took 90 s with
/// `--timeout 5` and a Retry-After of 10^9); the run ends at once and says until when.
#[tokio::test]
async fn a_retry_after_beyond_the_timeout_ends_at_once_saying_until_when() {
    let router = Router::new().route(
        "/api/now/table/incident",
        get(|| async {
            let mut r = json_response(429, error_body("Rate limit exceeded", None));
            r.headers_mut()
                .insert("Retry-After", HeaderValue::from_static("1000000000"));
            r
        }),
    );
    let (url, seen) = serve(router).await;
    let opts = ClientOptions {
        timeout: Duration::from_secs(5),
        ..options()
    };
    let c = client_for(&url, &opts);
    let started = Instant::now();
    let err = c
        .session(admin())
        .list("incident", &ListRequest::new().limit(1))
        .await
        .unwrap_err();
    assert!(matches!(err.kind, ErrorKind::RateLimited { .. }), "{err:?}");
    assert_eq!(seen.hits(), 1, "not retried");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(err.to_string().contains("rate limited until"), "{err}");
}

#[tokio::test]
async fn a_503_is_retried_up_to_max_attempts_then_classified_as_server() {
    let router = Router::new().route(
        "/api/now/table/incident",
        get(|| async { (StatusCode::SERVICE_UNAVAILABLE, "busy").into_response() }),
    );
    let (url, seen) = serve(router).await;
    let opts = ClientOptions {
        max_attempts: 3,
        ..options()
    };
    let err = client_for(&url, &opts)
        .session(admin())
        .list("incident", &ListRequest::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Server { status: 503 });
    assert_eq!(seen.hits(), 3);
    assert_eq!(err.attempts, 3);
    assert!(err.to_string().contains("after 3 attempts"), "{err}");

    // The default is four attempts in total.
    let (url, seen) = serve(Router::new().route(
        "/api/now/table/incident",
        get(|| async { StatusCode::BAD_GATEWAY.into_response() }),
    ))
    .await;
    let err = client_for(&url, &options())
        .session(admin())
        .list("incident", &ListRequest::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Server { status: 502 });
    assert_eq!(seen.hits(), 4);
}

#[tokio::test]
async fn a_hibernating_instance_is_not_retried() {
    let page =
        "<html><head><title>Instance Hibernating page</title></head><body>Wake it up</body></html>";
    let (url, seen) = serve(Router::new().route(
        "/api/now/table/sys_user",
        get(move || async move {
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [("content-type", "text/html")],
                page,
            )
                .into_response()
        }),
    ))
    .await;
    let err = client_for(&url, &options())
        .session(admin())
        .list("sys_user", &ListRequest::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Hibernating);
    assert_eq!(seen.hits(), 1);
}

#[tokio::test]
async fn create_is_retried_on_429_but_not_on_5xx() {
    let (url, seen) = serve(Router::new().route(
        "/api/now/table/sys_user",
        post(|| async { StatusCode::INTERNAL_SERVER_ERROR.into_response() }),
    ))
    .await;
    let err = client_for(&url, &options())
        .session(admin())
        .create(
            "sys_user",
            json!({"user_name": "x"}),
            WriteOptions::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Server { status: 500 });
    assert_eq!(
        seen.hits(),
        1,
        "a POST that failed with 5xx may have inserted the record"
    );

    let (url, seen) = serve(Router::new().route(
        "/api/now/table/sys_user",
        post(|State(seen): State<Arc<Seen>>| async move {
            if hit_number(&seen) == 1 {
                let mut r = json_response(429, error_body("Rate limit exceeded", None));
                r.headers_mut()
                    .insert("Retry-After", HeaderValue::from_static("0"));
                r
            } else {
                json_response(201, json!({"result": {"sys_id": "u1", "user_name": "x"}}))
            }
        }),
    ))
    .await;
    let rec = client_for(&url, &options())
        .session(admin())
        .create(
            "sys_user",
            json!({"user_name": "x"}),
            WriteOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(rec.sys_id(), Some("u1"));
    assert_eq!(seen.hits(), 2);
}

#[tokio::test]
async fn update_is_retried_on_5xx() {
    let (url, seen) = serve(Router::new().route(
        "/api/now/table/sys_user/u1",
        any(|State(seen): State<Arc<Seen>>| async move {
            if hit_number(&seen) == 1 {
                StatusCode::BAD_GATEWAY.into_response()
            } else {
                json_response(
                    200,
                    json!({"result": {"sys_id": "u1", "locked_out": "false"}}),
                )
            }
        }),
    ))
    .await;
    let rec = client_for(&url, &options())
        .session(admin())
        .update(
            "sys_user",
            "u1",
            json!({"locked_out": "false"}),
            WriteOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(rec.bool("locked_out"), Some(false));
    assert_eq!(seen.hits(), 2);
    assert!(seen.all().iter().all(|r| r.method == "PATCH"));
}

#[tokio::test]
async fn the_token_endpoint_is_never_retried() {
    for (status, body) in [
        (503, json!({})),
        (500, json!({})),
        (429, json!({"error": "rate"})),
        (
            401,
            json!({"error_description": "access_denied", "error": "server_error"}),
        ),
    ] {
        let (url, seen) = serve(Router::new().route(
            "/oauth_token.do",
            post(move || async move {
                let mut r = json_response(status, body.clone());
                r.headers_mut()
                    .insert("Retry-After", HeaderValue::from_static("0"));
                r
            }),
        ))
        .await;
        let err = client_for(&url, &options())
            .password_grant(
                "cid",
                &SecretString::from("csecret"),
                "incident.io",
                &SecretString::from("pw"),
            )
            .await
            .unwrap_err();
        assert_eq!(seen.hits(), 1, "status {status} must not be retried");
        if status == 401 {
            assert_eq!(
                err.kind,
                ErrorKind::TokenDenied {
                    error: "server_error".into(),
                    description: "access_denied".into()
                }
            );
        }
    }
}

#[tokio::test]
async fn password_and_refresh_grants_send_the_documented_form() {
    let (url, seen) = serve(Router::new().route(
        "/oauth_token.do",
        post(|| async {
            json_response(
                200,
                json!({"scope":"useraccount","token_type":"Bearer","expires_in":1799,
                       "refresh_token":"RT-9f8e7d","access_token":"AT-1a2b3c"}),
            )
        }),
    ))
    .await;
    let c = client_for(&url, &options());
    let tok = c
        .password_grant(
            "client-id-1",
            &SecretString::from("cl/ent&secret"),
            "incident.io",
            &SecretString::from("user pw"),
        )
        .await
        .unwrap();
    assert_eq!(tok.access_token.expose_secret(), "AT-1a2b3c");
    assert_eq!(tok.expires_in, Some(1799));
    let refreshed = c
        .refresh_grant(
            "client-id-1",
            &SecretString::from("cl/ent&secret"),
            tok.refresh_token.as_ref().unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(refreshed.scope.as_deref(), Some("useraccount"));

    let reqs = seen.all();
    assert_eq!(reqs.len(), 2);
    let first = &reqs[0];
    assert_eq!(first.method, "POST");
    assert_eq!(first.path, "/oauth_token.do");
    assert_eq!(
        first.headers.get("content-type").unwrap(),
        "application/x-www-form-urlencoded"
    );
    assert!(first.headers.get("authorization").is_none());
    assert!(first.headers.get("cookie").is_none());
    let form: Vec<(String, String)> = url::form_urlencoded::parse(first.body.as_bytes())
        .into_owned()
        .collect();
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(get("grant_type"), Some("password"));
    assert_eq!(get("client_id"), Some("client-id-1"));
    assert_eq!(get("client_secret"), Some("cl/ent&secret"));
    assert_eq!(get("username"), Some("incident.io"));
    assert_eq!(get("password"), Some("user pw"));
    let second: Vec<(String, String)> = url::form_urlencoded::parse(reqs[1].body.as_bytes())
        .into_owned()
        .collect();
    assert!(second.contains(&("grant_type".into(), "refresh_token".into())));
    assert!(second.contains(&("refresh_token".into(), "RT-9f8e7d".into())));
}

#[derive(serde::Deserialize)]
struct PageParams {
    sysparm_offset: Option<u64>,
    sysparm_limit: Option<u64>,
}

#[tokio::test]
async fn list_all_follows_link_next_and_surfaces_the_total_count() {
    const TOTAL: u64 = 7;
    let (url, seen) = serve(Router::new().route(
        "/api/now/table/sys_user_role",
        get(|AxQuery(p): AxQuery<PageParams>, headers: HeaderMap| async move {
            let offset = p.sysparm_offset.unwrap_or(0);
            let limit = p.sysparm_limit.unwrap_or(10000);
            let rows: Vec<Value> = (offset..(offset + limit).min(TOTAL))
                .map(|i| json!({"sys_id": format!("r{i}"), "name": format!("role{i}")}))
                .collect();
            let host = headers.get("host").unwrap().to_str().unwrap().to_string();
            let link = |o: u64, rel: &str| {
                format!(
                    "<http://{host}/api/now/table/sys_user_role?sysparm_fields=sys_id,name&sysparm_limit={limit}&sysparm_offset={o}>;rel=\"{rel}\""
                )
            };
            let mut links = vec![link(0, "first")];
            if offset + limit < TOTAL {
                links.push(link(offset + limit, "next"));
            }
            links.push(link(TOTAL - TOTAL % limit, "last"));
            let mut r = json_response(200, json!({ "result": rows }));
            r.headers_mut()
                .insert("X-Total-Count", HeaderValue::from(TOTAL));
            r.headers_mut()
                .insert("Link", HeaderValue::from_str(&links.join(",")).unwrap());
            r
        }),
    ))
    .await;
    let s = client_for(&url, &options()).session(admin());
    let req = ListRequest::new().fields(&["sys_id", "name"]).limit(3);

    let first = s.list("sys_user_role", &req).await.unwrap();
    assert_eq!(first.records.len(), 3);
    assert_eq!(first.total_count, Some(TOTAL));
    assert_eq!(first.next_offset, Some(3));

    let all = s.list_all("sys_user_role", &req).await.unwrap();
    let names: Vec<&str> = all.records.iter().filter_map(|r| r.str("name")).collect();
    assert_eq!(
        names,
        ["role0", "role1", "role2", "role3", "role4", "role5", "role6"]
    );
    assert_eq!(all.total_count, Some(TOTAL));
    assert_eq!(all.next_offset, None);
    // 1 for `list`, then 3 pages for `list_all`.
    assert_eq!(seen.hits(), 4);
    let offsets: Vec<String> = seen
        .all()
        .iter()
        .map(|r| {
            url::form_urlencoded::parse(r.query.as_bytes())
                .find(|(k, _)| k == "sysparm_offset")
                .map(|(_, v)| v.to_string())
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(offsets, ["", "", "3", "6"]);
}

#[tokio::test]
async fn an_empty_page_with_a_total_count_means_hidden_rows() {
    let (url, _seen) = serve(Router::new().route(
        "/api/now/table/sys_security_acl",
        get(|| async {
            let mut r = json_response(200, json!({"result": []}));
            r.headers_mut()
                .insert("X-Total-Count", HeaderValue::from_static("24"));
            r
        }),
    ))
    .await;
    let page = client_for(&url, &options())
        .session(admin())
        .list("sys_security_acl", &ListRequest::new().limit(1))
        .await
        .unwrap();
    assert!(page.records.is_empty());
    assert_eq!(page.total_count, Some(24));
    assert!(page.hidden_rows());
}

#[tokio::test]
async fn requests_carry_the_right_headers_and_parameters() {
    let (url, seen) = serve(
        Router::new()
            .route(
                "/api/now/table/sys_user_has_role",
                get(|| async { json_response(200, json!({"result": []})) }),
            )
            .route(
                "/api/now/table/sys_user",
                post(|| async { json_response(201, json!({"result": {"sys_id": "new1"}})) }),
            )
            .route(
                "/api/now/table/sys_user/{id}",
                get(|| async {
                    json_response(
                        200,
                        json!({"result": {"sys_id": "u1", "manager": {"link": "x", "value": "m1"}}}),
                    )
                }),
            ),
    )
    .await;
    let c = client_for(&url, &options());
    let basic = c.session(admin());
    let bearer = c.session(Auth::bearer(SecretString::from("bearer-tok-77")));
    let q = Query::new()
        .eq("user.user_name", "incident.io")
        .is_in("role.name", &["cmdb_read", "itil"]);
    basic
        .list(
            "sys_user_has_role",
            &ListRequest::new()
                .query(q)
                .fields(&["role.name", "inherited"])
                .limit(100)
                .exclude_reference_link(true),
        )
        .await
        .unwrap();
    let rec = bearer
        .create(
            "sys_user",
            json!({"user_name": "incident.io", "user_password": "Us3r-Pw"}),
            WriteOptions {
                input_display_value: true,
            },
        )
        .await
        .unwrap();
    assert_eq!(rec.sys_id(), Some("new1"));
    let got = bearer
        .get("sys_user", "u1", &["sys_id", "manager"])
        .await
        .unwrap();
    assert_eq!(got.str("manager"), Some("m1"));

    let reqs = seen.all();
    assert_eq!(reqs.len(), 3);
    for r in &reqs {
        assert_eq!(r.headers.get("accept").unwrap(), "application/json");
        assert!(r.headers.get("cookie").is_none());
    }
    let list = &reqs[0];
    use base64::Engine;
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("admin:Adm1n-Pa55word")
    );
    assert_eq!(
        list.headers.get("authorization").unwrap(),
        expected.as_str()
    );
    let params: Vec<(String, String)> = url::form_urlencoded::parse(list.query.as_bytes())
        .into_owned()
        .collect();
    assert!(params.contains(&(
        "sysparm_query".into(),
        "user.user_name=incident.io^role.nameINcmdb_read,itil".into()
    )));
    assert!(params.contains(&("sysparm_fields".into(), "role.name,inherited".into())));
    assert!(params.contains(&("sysparm_limit".into(), "100".into())));
    assert!(params.contains(&("sysparm_exclude_reference_link".into(), "true".into())));

    let create = &reqs[1];
    assert_eq!(create.method, "POST");
    assert_eq!(
        create.headers.get("authorization").unwrap(),
        "Bearer bearer-tok-77"
    );
    assert!(create
        .headers
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    assert_eq!(create.query, "sysparm_input_display_value=true");
    let body: Value = serde_json::from_str(&create.body).unwrap();
    assert_eq!(body["user_password"], "Us3r-Pw");
    assert_eq!(reqs[2].query, "sysparm_fields=sys_id%2Cmanager");
}

#[tokio::test]
async fn a_slow_answer_is_a_timeout_and_not_retried() {
    let (url, seen) = serve(Router::new().route(
        "/api/now/table/incident",
        get(|| async {
            tokio::time::sleep(Duration::from_secs(3)).await;
            json_response(200, json!({"result": []}))
        }),
    ))
    .await;
    let opts = ClientOptions {
        timeout: Duration::from_millis(300),
        ..options()
    };
    let started = Instant::now();
    let err = client_for(&url, &opts)
        .session(admin())
        .list("incident", &ListRequest::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout, "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(seen.hits(), 1);
    // The client speaks of the wire; the command layer names the flag.
    assert!(!err.to_string().contains("--timeout"), "{err}");
    assert!(snconnect::commands::hint::for_error(&err).is_some_and(|h| h.contains("--timeout")));
}

#[tokio::test]
async fn a_refused_connection_is_connect() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let c = client_for(&format!("http://127.0.0.1:{port}"), &options());
    let err = c
        .session(admin())
        .list("incident", &ListRequest::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Connect, "{err:?}");
    assert_eq!(c.stats().requests, 1);
    let text = err.to_string();
    assert!(text.contains("could not connect"), "{text}");
    assert!(!text.contains("Adm1n-Pa55word"));
}

#[tokio::test]
async fn truncated_json_and_login_pages_are_classified() {
    let (url, _seen) = serve(
        Router::new()
            .route(
                "/api/now/table/incident",
                get(|| async {
                    (
                        StatusCode::OK,
                        [("content-type", "application/json")],
                        r#"{"result":[{"sys_id":"a"#,
                    )
                        .into_response()
                }),
            )
            .route(
                "/api/now/table/sys_user",
                get(|| async {
                    (
                        StatusCode::FOUND,
                        [("location", "/login.do?sysparm_goto_url=x")],
                        "",
                    )
                        .into_response()
                }),
            )
            .route(
                "/api/now/table/task",
                get(|| async {
                    (
                        StatusCode::OK,
                        [("content-type", "text/html")],
                        "<html><title>Log in | ServiceNow</title><form action=\"login.do\"></form></html>",
                    )
                        .into_response()
                }),
            ),
    )
    .await;
    let s = client_for(&url, &options()).session(admin());
    let e = s.list("incident", &ListRequest::new()).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::MalformedJson);
    let e = s.list("sys_user", &ListRequest::new()).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::LoginPage);
    let e = s.list("task", &ListRequest::new()).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::LoginPage);
}

#[tokio::test]
async fn stats_count_requests_and_the_most_in_flight() {
    let (url, _seen) = serve(Router::new().route(
        "/api/now/table/{table}",
        get(|| async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            json_response(200, json!({"result": []}))
        }),
    ))
    .await;
    let c = client_for(&url, &options());
    let s = c.session(admin());
    let tables = ["incident", "task", "sys_user", "sys_user_group", "cmdb_ci"];
    let futures = tables.into_iter().map(|t| {
        let s = s.clone();
        async move { s.list(t, &ListRequest::new().limit(1)).await }
    });
    let started = Instant::now();
    let results = futures_join_all(futures).await;
    assert!(results.iter().all(Result::is_ok));
    let stats = c.stats();
    assert_eq!(stats.requests, 5);
    assert_eq!(stats.max_in_flight, 5, "the five requests should overlap");
    // One after another they would take at least 5 × 200 ms.
    assert!(started.elapsed() < Duration::from_millis(1000));
}

/// Runs futures concurrently on the current task (no extra dependency for `join_all`).
async fn futures_join_all<F, T>(futures: impl IntoIterator<Item = F>) -> Vec<T>
where
    F: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

#[tokio::test]
async fn the_verbose_log_never_contains_a_secret() {
    const ADMIN_PW: &str = "Adm1n-Pa55word";
    const CLIENT_SECRET: &str = "cl13nt-S3cr3t";
    const USER_PW: &str = "us3r-P4ssw0rd";
    const ACCESS: &str = "AT-zz9-access";
    const REFRESH: &str = "RT-yy8-refresh";
    const NEW_PW: &str = "n3w-Gen3rated-Pw";

    let (url, _seen) = serve(
        Router::new()
            .route(
                "/oauth_token.do",
                post(|| async {
                    json_response(
                        200,
                        json!({"scope":"useraccount","token_type":"Bearer","expires_in":1799,
                               "refresh_token": REFRESH, "access_token": ACCESS}),
                    )
                }),
            )
            .route(
                "/api/now/table/sys_user",
                get(|State(seen): State<Arc<Seen>>| async move {
                    if hit_number(&seen) == 2 {
                        let mut r = json_response(429, error_body("Rate limit exceeded", None));
                        r.headers_mut()
                            .insert("Retry-After", HeaderValue::from_static("0"));
                        r
                    } else {
                        json_response(200, json!({"result": []}))
                    }
                })
                .post(|| async { json_response(201, json!({"result": {"sys_id": "u9"}})) }),
            )
            .route(
                "/api/now/table/sys_user/{id}",
                any(|| async { json_response(401, error_body("User Not Authenticated", None)) }),
            ),
    )
    .await;

    let (opts, lines) = logging_options();
    let c = client_for(&url, &opts);
    let tok = c
        .password_grant(
            "cid",
            &SecretString::from(CLIENT_SECRET),
            "incident.io",
            &SecretString::from(USER_PW),
        )
        .await
        .unwrap();
    let as_user = c.session(Auth::bearer(tok.access_token.clone()));
    as_user
        .list(
            "sys_user",
            &ListRequest::new().query(Query::new().eq("user_password", USER_PW)),
        )
        .await
        .unwrap();
    let as_admin = c.session(Auth::basic("admin", SecretString::from(ADMIN_PW)));
    as_admin
        .create(
            "sys_user",
            json!({"user_name": "incident.io", "user_password": NEW_PW, "client_secret": CLIENT_SECRET}),
            WriteOptions {
                input_display_value: true,
            },
        )
        .await
        .unwrap();
    let err = as_admin
        .update(
            "sys_user",
            "u9",
            json!({"user_password": NEW_PW}),
            WriteOptions {
                input_display_value: true,
            },
        )
        .await
        .unwrap_err();
    let _ = c
        .refresh_grant(
            "cid",
            &SecretString::from(CLIENT_SECRET),
            tok.refresh_token.as_ref().unwrap(),
        )
        .await
        .unwrap();

    let log = lines.lock().unwrap().join("\n");
    for secret in [ADMIN_PW, CLIENT_SECRET, USER_PW, ACCESS, REFRESH, NEW_PW] {
        assert!(
            !log.contains(secret),
            "secret {secret:?} leaked into:\n{log}"
        );
        assert!(!err.to_string().contains(secret));
        assert!(!format!("{err:?} {tok:?} {as_admin:?} {as_user:?}").contains(secret));
    }
    // The log still says what happened: one line per attempt with method, path, status, timing.
    assert!(
        log.contains("POST /oauth_token.do [token request body not logged] as anonymous -> 200"),
        "{log}"
    );
    assert!(
        log.contains(
            "GET /api/now/table/sys_user?sysparm_query=user_password=[redacted] as bearer -> 429"
        ),
        "{log}"
    );
    assert!(log.contains("attempt 1/4"), "{log}");
    assert!(log.contains("attempt 2/4"), "{log}");
    assert!(log.contains("\"user_password\":\"[redacted]\""), "{log}");
    assert!(log.contains("\"user_name\":\"incident.io\""), "{log}");
    assert!(
        log.contains("PATCH /api/now/table/sys_user/u9?sysparm_input_display_value=true"),
        "{log}"
    );
    assert!(log.contains("-> 401"), "{log}");
    assert!(log.contains(" ms, "), "{log}");
    let attempts = log.lines().filter(|l| l.contains(" -> ")).count();
    assert_eq!(attempts, 6, "one line per attempt:\n{log}");
}

#[tokio::test]
async fn loopback_instances_ignore_proxy_variables() {
    let (url, seen) = serve(Router::new().route(
        "/api/now/table/incident",
        get(|| async { json_response(200, json!({"result": []})) }),
    ))
    .await;
    // Every client in this file targets loopback, so pointing the proxy variables at a closed
    // port cannot disturb the other tests; they are restored before returning.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let keys = ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"];
    let c = {
        let _env = crate::support::env_lock();
        let saved: Vec<_> = keys.iter().map(|k| (k, std::env::var_os(k))).collect();
        for k in keys {
            std::env::set_var(k, &closed);
        }
        let c = client_for(&url, &options());
        for (k, v) in saved {
            match v {
                Some(v) => std::env::set_var(k, v),
                None => std::env::remove_var(k),
            }
        }
        c
    };
    c.session(admin())
        .list("incident", &ListRequest::new())
        .await
        .unwrap();
    assert_eq!(seen.hits(), 1);
}

#[tokio::test]
async fn a_connection_cut_mid_body_is_connection_lost() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 4096];
            let _ = sock.read(&mut buf).await;
            // Promise 500 bytes, send a few, and close.
            let _ = sock
                .write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{\"result\":[",
                )
                .await;
            let _ = sock.shutdown().await;
        }
    });
    let err = client_for(&format!("http://{addr}"), &options())
        .session(admin())
        .list("incident", &ListRequest::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::ConnectionLost, "{err:?}");
    assert_eq!(accepted.load(Ordering::SeqCst), 1, "not retried");
}

/// Issue 12: the whole run's deadline bounds every wait. A Retry-After within the request
/// timeout but beyond what is left of the run's time ends the request at once, saying until
/// when; a request still unanswered when the run's time is up ends then, as a passed deadline
/// (not a request timeout), and later requests are not sent at all.
#[tokio::test]
async fn the_run_deadline_bounds_retry_after_and_slow_answers() {
    let router = Router::new()
        .route(
            "/api/now/table/incident",
            get(|| async {
                let mut r = json_response(429, error_body("Rate limit exceeded", None));
                r.headers_mut()
                    .insert("Retry-After", HeaderValue::from_static("20"));
                r
            }),
        )
        .route(
            "/api/now/table/problem",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(60)).await;
                json_response(200, json!({"result": []}))
            }),
        );
    let (url, seen) = serve(router).await;
    let opts = ClientOptions {
        timeout: Duration::from_secs(30),
        deadline: Some(Duration::from_secs(2)),
        ..options()
    };
    let c = client_for(&url, &opts);
    let session = c.session(admin());
    let err = session
        .list("incident", &ListRequest::new().limit(1))
        .await
        .unwrap_err();
    assert!(matches!(err.kind, ErrorKind::RateLimited { .. }), "{err:?}");
    assert!(err.to_string().contains("rate limited until"), "{err}");
    assert_eq!(seen.hits(), 1, "a wait beyond the deadline is not begun");

    let started = Instant::now();
    let err = session
        .list("problem", &ListRequest::new().limit(1))
        .await
        .unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::DeadlinePassed {
            limit: Duration::from_secs(2)
        },
        "{err:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(25),
        "ended by the 30 s request timeout instead: {:?}",
        started.elapsed()
    );
    assert!(
        err.to_string().contains("the run's time (2 s) ran out"),
        "{err}"
    );

    let before = seen.hits();
    let err = session
        .list("incident", &ListRequest::new().limit(1))
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind, ErrorKind::DeadlinePassed { .. }),
        "{err:?}"
    );
    assert_eq!(seen.hits(), before, "nothing is sent once the time is up");
}

/// Issue 13: `-v` says per request whether it dialled a new connection or reused one, and shows
/// the `Server-Timing` the instance sent; the client counts
/// the connections it dialled.
#[tokio::test]
async fn the_log_names_new_and_reused_connections_and_server_timing() {
    let router = Router::new().route(
        "/api/now/table/incident",
        get(|| async {
            let mut r = json_response(200, json!({"result": []}));
            r.headers_mut().insert(
                "Server-Timing",
                HeaderValue::from_static("sem_wait;dur=12, sql;dur=3"),
            );
            r
        }),
    );
    let (url, _) = serve(router).await;
    let (opts, lines) = logging_options();
    let c = client_for(&url, &opts);
    let session = c.session(admin());
    for _ in 0..2 {
        session
            .list("incident", &ListRequest::new().limit(1))
            .await
            .unwrap();
    }
    let log = lines.lock().unwrap().clone();
    assert_eq!(log.len(), 2, "{log:?}");
    assert!(log[0].contains("new connection"), "{}", log[0]);
    assert!(log[1].contains("reused connection"), "{}", log[1]);
    assert!(
        log[1].contains("server-timing: sem_wait;dur=12, sql;dur=3"),
        "{}",
        log[1]
    );
    assert_eq!(c.stats().connections, 1);
}
