//! The fault matrix: every way an instance (or what stands in front of it) can fail, one test per
//! row, each running `snconnect verify -v` end to end and asserting the classification in the
//! message, the check's status and the exit code. `crate::support::Run` also asserts that nothing
//! panicked in any row.
//!
//! Faults the sandbox can inject itself (hibernation, login page, 429, 5xx, latency, MFA,
//! refused logins, table security, auth scopes) are injected there. The rest (cut connections,
//! truncated bodies, redirects, odd content types, a 404 for one table) come from the fault server
//! in tests/it/support, placed in front of a sandbox so a fault hits one chosen request of a real run.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::fault_server::{head, response, sn_error, Action, FaultServer, Req};
use crate::support::proxy::{ConnectProxy, Mode};
use crate::support::tls::{TestCa, TlsFront};
use crate::support::{rows, sandbox, ReportExt, Run, CHECK_IDS};
use serde_json::Value;
use snconnect::sandbox::{Hibernation, Sandbox, SandboxConfig};

/// `verify -v` with the fixture credentials.
fn verify(instance: &str, args: &[&str], env: &[(&str, &str)]) -> (Run, Value) {
    let mut all = vec!["-v"];
    all.extend_from_slice(args);
    let run = crate::support::verify(instance, &all, env);
    let json = run.json();
    (run, json)
}

/// The run could not use the instance: exit 3, `instance` failed with `code` and a message
/// holding `text`, and every other check skipped with the reason.
fn assert_blocked(run: &Run, json: &Value, code: &str, text: &str) {
    assert_instance_failed(run, json, code, text);
    assert_eq!(json.status("connect"), "skip", "{}", json.check("connect"));
}

/// The admin's credentials were refused: exit 3 and every admin-side check skipped, but the
/// service user's credentials are a separate identity, so `connect` still ran.
fn assert_admin_refused(run: &Run, json: &Value, code: &str, text: &str) {
    assert_instance_failed(run, json, code, text);
    assert_eq!(json.status("connect"), "pass", "{}", json.check("connect"));
}

fn assert_instance_failed(run: &Run, json: &Value, code: &str, text: &str) {
    assert_eq!(run.code, 3, "{json:#}\n{}", run.stderr);
    assert_eq!(json.status("instance"), "fail", "{json:#}");
    assert_eq!(json.codes("instance"), [code], "{json:#}");
    let messages = json.messages("instance");
    assert!(messages.contains(text), "want {text:?} in: {messages}");
    for id in &CHECK_IDS[1..7] {
        assert_eq!(json.status(id), "skip", "{id}: {}", json.check(id));
    }
    assert_eq!(json["ok"], false);
}

/// The instance's identity request: the run's first request with the admin's credentials (the
/// service user reads sys_user too, later, with a bearer token).
fn is_identity(req: &Req) -> bool {
    req.method == "GET"
        && req.table() == Some("sys_user")
        && req
            .header("authorization")
            .is_some_and(|a| a.starts_with("Basic "))
}

/// A fault server in front of `sandbox` that answers every request `picks` selects with `action`
/// and forwards everything else.
fn on_every(
    sandbox: &Sandbox,
    picks: impl Fn(&Req) -> bool + Send + Sync + 'static,
    action: Action,
) -> FaultServer {
    FaultServer::start(Some(sandbox.port()), move |req| {
        if picks(req) {
            action.clone()
        } else {
            Action::Forward
        }
    })
}

/// A fault server in front of `sandbox` that answers the identity request with `action` and
/// forwards everything else.
fn on_identity(sandbox: &Sandbox, action: Action) -> FaultServer {
    on_every(sandbox, is_identity, action)
}

/// A fault server in front of `sandbox` that answers the first request `picks` selects with
/// `action` and forwards everything else, with a count of the requests `picks` selected.
fn on_first(
    sandbox: &Sandbox,
    picks: impl Fn(&Req) -> bool + Send + Sync + 'static,
    action: Action,
) -> (FaultServer, Arc<AtomicUsize>) {
    let picked = Arc::new(AtomicUsize::new(0));
    let seen = picked.clone();
    let front = FaultServer::start(Some(sandbox.port()), move |req| {
        if picks(req) && seen.fetch_add(1, Ordering::SeqCst) == 0 {
            action.clone()
        } else {
            Action::Forward
        }
    });
    (front, picked)
}

/// A Table API request to `table`.
fn table(table: &'static str) -> impl Fn(&Req) -> bool + Send + Sync + 'static {
    move |req| req.table() == Some(table)
}

/// An insert into `table` through the Table API.
fn insert_into(table: &'static str) -> impl Fn(&Req) -> bool + Send + Sync + 'static {
    move |req| req.method == "POST" && req.table() == Some(table)
}

fn count(sandbox: &Sandbox, method: &str, path: &str) -> usize {
    sandbox
        .requests()
        .iter()
        .filter(|r| r.method == method && r.path == path)
        .count()
}

// ---- credentials refused ----

#[test]
fn row_401_wrong_admin_password() {
    let sn = sandbox("healthy-app");
    let (run, json) = verify(
        &sn.url(),
        &[],
        &[("SNCONNECT_ADMIN_PASSWORD", "not-the-password")],
    );
    assert_admin_refused(
        &run,
        &json,
        "instance.admin_rejected",
        "the instance refused admin user 'admin' (401)",
    );
    assert!(json.messages("instance").contains("will not retry"));
    let refused: Vec<_> = sn
        .requests()
        .into_iter()
        .filter(|r| r.status == 401)
        .collect();
    assert_eq!(
        refused.len(),
        1,
        "one failed login, never retried: {refused:?}"
    );
    assert_eq!(refused[0].path, "/api/now/table/sys_user");
}

#[test]
fn row_401_with_x_mfa_token() {
    let sn = sandbox("mfa-admin");
    let (run, json) = verify(&sn.url(), &[], &[]);
    assert_admin_refused(
        &run,
        &json,
        "instance.admin_mfa_required",
        "it requires multi-factor authentication for API logins",
    );
    let answered = sn.requests();
    assert!(
        answered.iter().any(|r| r.status == 401),
        "the sandbox answered 401: {answered:?}"
    );
}

// ---- 403 in its three documented forms ----

/// `apply` is not on this branch yet, so the insert goes through the client directly; the
/// sandbox refuses REST inserts into sys_security_acl as real instances do.
#[test]
fn row_403_acl_insert() {
    use snconnect::servicenow::{ClientOptions, ErrorKind, ForbiddenKind, WriteOptions};

    let sn = sandbox("acl-missing");
    let client = crate::support::client_for(&sn.url(), &ClientOptions::default());
    let session = client.session(crate::support::fixture_admin());
    let err = crate::support::rt()
        .block_on(session.create(
            "sys_security_acl",
            serde_json::json!({"name": "task", "operation": "read", "type": "record"}),
            WriteOptions::default(),
        ))
        .unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::Forbidden(ForbiddenKind::AclOperation {
            operation: "Insert".into()
        })
    );
    let text = err.to_string();
    assert!(text.starts_with("an ACL denied the insert (403)"), "{text}");
    assert!(text.contains("POST table 'sys_security_acl'"), "{text}");
    assert!(
        text.contains("ACL Exception Insert Failed due to security constraints"),
        "{text}"
    );
    assert!(!err.kind.is_transient());
    assert_eq!(err.attempts, 1, "a 403 is not retried");
}

/// The admin may not read sys_security_acl (common: it takes security_admin). ACLs that cannot
/// be read are not proof of a problem, so task_acls warns "cannot see", naming the table and the
/// classification, and the other checks pass.
#[test]
fn row_403_table_security_on_an_admin_query() {
    let sn = sandbox("healthy-app");
    let front = on_every(
        &sn,
        table("sys_security_acl"),
        Action::Respond(sn_error(
            403,
            "Operation against file 'sys_security_acl' was denied due to table security.",
            Some("Field(s) present in the query do not have permission to be read."),
            &[],
        )),
    );
    let (run, json) = verify(&front.url(), &[], &[]);
    assert_eq!(run.code, 0, "{json:#}");
    assert_eq!(json.status("task_acls"), "warn", "{json:#}");
    assert_eq!(json.codes("task_acls"), ["task_acls.cannot_see"]);
    let text = json.messages("task_acls");
    assert!(
        text.contains("table security denied access to 'sys_security_acl' (403)"),
        "{text}"
    );
    for id in [
        "instance",
        "app",
        "oauth_app",
        "service_user",
        "roles",
        "connect",
    ] {
        assert_eq!(json.status(id), "pass", "{id}: {}", json.check(id));
    }
}

/// The service user's token may not read a table incident.io needs.
#[test]
fn row_403_table_security_for_the_service_user() {
    let sn = sandbox("healthy-app");
    let front = FaultServer::start(Some(sn.port()), |req| {
        let bearer = req
            .header("authorization")
            .is_some_and(|a| a.starts_with("Bearer "));
        if bearer && req.table() == Some("cmdb_ci") {
            Action::Respond(sn_error(
                403,
                "Operation against file 'cmdb_ci' was denied due to table security.",
                None,
                &[],
            ))
        } else {
            Action::Forward
        }
    });
    let (run, json) = verify(&front.url(), &[], &[]);
    assert_eq!(run.code, 1, "{json:#}");
    assert_eq!(json.status("connect"), "fail");
    assert_eq!(json.codes("connect"), ["connect.table_denied"]);
    let text = json.messages("connect");
    assert!(
        text.contains("reading table 'cmdb_ci' is refused"),
        "{text}"
    );
    assert!(text.contains("denied due to table security"), "{text}");
}

#[test]
fn row_403_missing_api_access_scope() {
    let sn = sandbox("scope-blocked");
    let (run, json) = verify(&sn.url(), &[], &[]);
    assert_eq!(run.code, 1, "{json:#}");
    assert_eq!(json.status("connect"), "fail");
    assert_eq!(json.codes("connect"), ["connect.scope_blocked"], "{json:#}");
    let text = json.messages("connect");
    assert!(text.to_lowercase().contains("auth scope"), "{text}");
}

// ---- 404 ----

/// ServiceNow's JSON 404 for one admin-side table: that check fails naming the table, the run
/// goes on (exit 1).
#[test]
fn row_404_json_for_one_table() {
    let sn = sandbox("healthy-app");
    let front = on_every(
        &sn,
        table("sys_store_app"),
        Action::Respond(sn_error(
            404,
            "No Record found",
            Some("Record doesn't exist or ACL restricts the record retrieval"),
            &[],
        )),
    );
    let (run, json) = verify(&front.url(), &[], &[]);
    assert_eq!(run.code, 1, "{json:#}");
    assert_eq!(json.status("app"), "fail", "{json:#}");
    assert_eq!(json.codes("app"), ["app.query_failed"], "{json:#}");
    let text = json.messages("app");
    assert!(
        text.contains(
            "no record found: it does not exist, or ACLs hide it from this account (404)"
        ),
        "{text}"
    );
    assert!(text.contains("sys_store_app"), "{text}");
}

/// An HTML 404 where the REST API should be: not a ServiceNow instance at this address.
#[test]
fn row_404_html_at_the_address() {
    let front = FaultServer::always(response(
        404,
        &[("content-type", "text/html")],
        b"<html><head><title>404 Not Found</title></head><body>Not Found</body></html>",
    ));
    let (run, json) = verify(&front.url(), &[], &[]);
    assert_blocked(
        &run,
        &json,
        "instance.not_servicenow",
        "does not answer like a ServiceNow instance",
    );
}

// ---- 429 ----

#[test]
fn row_429_with_retry_after_is_honoured_then_gives_up() {
    let sn = sandbox("healthy-app");
    sn.with_db(|db| {
        db.faults.rate_limit_next = 1000;
        db.faults.rate_limit_retry_after = true;
    });
    let started = Instant::now();
    let (run, json) = verify(&sn.url(), &[], &[]);
    let elapsed = started.elapsed();
    assert_blocked(
        &run,
        &json,
        "instance.rate_limited",
        "kept answering 429 (rate limited): still so after 4 attempts",
    );
    // Four attempts, three waits of the server's Retry-After: 1 s each.
    assert_eq!(count(&sn, "GET", "/api/now/table/sys_user"), 4);
    assert!(elapsed >= Duration::from_secs(3), "{elapsed:?}");
    assert_eq!(
        run.stderr.matches("retrying in 1000 ms").count(),
        3,
        "{}",
        run.stderr
    );
}

#[test]
fn row_429_with_retry_after_that_lifts_passes() {
    let sn = sandbox("healthy-app");
    let (front, limited) = on_first(
        &sn,
        is_identity,
        Action::Respond(sn_error(
            429,
            "Rate limit exceeded",
            Some("Rate limit of 100 requests per hour for Table API exceeded"),
            &[("retry-after", "1")],
        )),
    );
    let started = Instant::now();
    let (run, json) = verify(&front.url(), &[], &[]);
    assert_eq!(run.code, 0, "{json:#}");
    assert_eq!(json.status("instance"), "pass");
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(limited.load(Ordering::SeqCst), 2, "one 429, then one retry");
}

#[test]
fn row_429_without_retry_after_backs_off_then_gives_up() {
    let sn = sandbox("healthy-app");
    sn.with_db(|db| {
        db.faults.rate_limit_next = 1000;
        db.faults.rate_limit_retry_after = false;
    });
    let (run, json) = verify(&sn.url(), &[], &[]);
    assert_blocked(
        &run,
        &json,
        "instance.rate_limited",
        "kept answering 429 (rate limited): still so after 4 attempts",
    );
    assert_eq!(count(&sn, "GET", "/api/now/table/sys_user"), 4);
    assert_eq!(
        run.stderr.matches("retrying in").count(),
        3,
        "{}",
        run.stderr
    );
}

/// A 429 from the token endpoint in the OAuth dialect: still a rate limit (not "access denied",
/// which would send the user after a wrong password), and not retried: it is a login attempt.
#[test]
fn row_429_on_the_token_endpoint() {
    let sn = sandbox("healthy-app");
    let front = on_every(
        &sn,
        Req::is_token,
        Action::Respond(response(
            429,
            &[("content-type", "application/json"), ("retry-after", "1")],
            br#"{"error":"server_error","error_description":"access_denied"}"#,
        )),
    );
    let (run, json) = verify(&front.url(), &[], &[]);
    assert_eq!(run.code, 1, "{json:#}");
    assert_eq!(json.codes("connect"), ["connect.token_failed"], "{json:#}");
    let text = json.messages("connect");
    assert!(
        text.contains(
            "the instance's rate limit was exceeded (429, retry after 1 s: rate limited until"
        ),
        "{text}"
    );
    assert_eq!(front.requests().iter().filter(|r| r.is_token()).count(), 1);
}

// ---- 5xx ----

fn server_errors_exit_3(status: u16) {
    let sn = sandbox("healthy-app");
    sn.with_db(|db| {
        db.faults.server_errors_next = 1000;
        db.faults.server_error_status = status;
    });
    let (run, json) = verify(&sn.url(), &[], &[]);
    assert_blocked(
        &run,
        &json,
        "instance.server_error",
        &format!("kept failing with HTTP {status} after retries"),
    );
    assert_eq!(count(&sn, "GET", "/api/now/table/sys_user"), 4, "{status}");
    // The admin's request comes first, alone: with the instance failing, no token is requested
    // (its outcome would say nothing, and it could cost a failed login).
    assert_eq!(count(&sn, "POST", "/oauth_token.do"), 0, "{status}");
}

#[test]
fn row_500() {
    server_errors_exit_3(500);
}

#[test]
fn row_502() {
    server_errors_exit_3(502);
}

#[test]
fn row_503() {
    server_errors_exit_3(503);
}

#[test]
fn row_5xx_once_is_retried_and_passes() {
    let sn = sandbox("healthy-app");
    let (front, failed) = on_first(
        &sn,
        is_identity,
        Action::Respond(response(
            502,
            &[("content-type", "text/html")],
            b"<html><head><title>502 Bad Gateway</title></head></html>",
        )),
    );
    let (run, json) = verify(&front.url(), &[], &[]);
    assert_eq!(run.code, 0, "{json:#}");
    assert_eq!(failed.load(Ordering::SeqCst), 2);
}

/// The token endpoint failing with 503: never retried (every attempt may count as a login), and
/// reported on `connect` while the admin-side checks pass.
#[test]
fn row_5xx_on_the_token_endpoint_is_not_retried() {
    let sn = sandbox("healthy-app");
    let front = on_every(
        &sn,
        Req::is_token,
        Action::Respond(response(
            503,
            &[("content-type", "text/html")],
            b"<html><body>Service Unavailable</body></html>",
        )),
    );
    let (run, json) = verify(&front.url(), &[], &[]);
    assert_eq!(run.code, 1, "{json:#}");
    assert_eq!(json.codes("connect"), ["connect.token_failed"], "{json:#}");
    let text = json.messages("connect");
    assert!(text.contains("the instance failed with HTTP 503"), "{text}");
    let tokens = front.requests().iter().filter(|r| r.is_token()).count();
    assert_eq!(tokens, 1);
}

// ---- slow, refused, cut ----

#[test]
fn row_slower_than_timeout_before_the_answer() {
    let sn = sandbox("healthy-app");
    sn.with_db(|db| db.latency = Duration::from_millis(5000));
    let started = Instant::now();
    let (run, json) = verify(&sn.url(), &["--timeout", "1"], &[]);
    assert_blocked(&run, &json, "instance.timeout", "did not answer within 1s");
    assert!(json.messages("instance").contains("--timeout DURATION"));
    assert!(
        started.elapsed() < Duration::from_millis(4500),
        "the timeout was not applied"
    );
}

/// Headers arrive in time but the body stalls: the timeout covers the whole answer.
#[test]
fn row_slower_than_timeout_in_the_middle_of_the_body() {
    let sn = sandbox("healthy-app");
    let mut partial = head(200, &[("content-type", "application/json")], Some(400));
    partial.extend_from_slice(br#"{"result":[{"sys_id":"#);
    let front = on_identity(&sn, Action::Stall(partial, Duration::from_secs(5)));
    let (run, json) = verify(&front.url(), &["--timeout", "1"], &[]);
    assert_blocked(&run, &json, "instance.timeout", "did not answer within 1s");
}

#[test]
fn row_connection_refused() {
    let url = format!("http://127.0.0.1:{}", crate::support::closed_port());
    let (run, json) = verify(&url, &[], &[]);
    assert_blocked(
        &run,
        &json,
        "instance.unreachable",
        &format!("nothing answered at {url}"),
    );
}

#[test]
fn row_connection_reset_mid_body() {
    let sn = sandbox("healthy-app");
    let mut partial = head(200, &[("content-type", "application/json")], Some(400));
    partial.extend_from_slice(br#"{"result":[{"sys_id":"6816f79cc0a8016401c5a33be04be441","#);
    let front = on_identity(&sn, Action::Reset(partial));
    let (run, json) = verify(&front.url(), &[], &[]);
    assert_blocked(
        &run,
        &json,
        "instance.unexpected_response",
        "the connection broke while the instance's answer was arriving",
    );
}

/// The connection closes cleanly, but before the announced length arrived.
#[test]
fn row_connection_closed_mid_body() {
    let sn = sandbox("healthy-app");
    let mut partial = head(200, &[("content-type", "application/json")], Some(400));
    partial.extend_from_slice(br#"{"result":[{"#);
    let front = on_identity(&sn, Action::Respond(partial));
    let (run, json) = verify(&front.url(), &[], &[]);
    assert_blocked(
        &run,
        &json,
        "instance.unexpected_response",
        "the connection broke while the instance's answer was arriving",
    );
}

/// A complete HTTP answer whose JSON stops short.
#[test]
fn row_truncated_json() {
    let sn = sandbox("healthy-app");
    let body = br#"{"result":[{"sys_id":"6816f79cc0a8016401c5a33be04be441","user_name":"adm"#;
    let front = on_identity(
        &sn,
        Action::Respond(response(200, &[("content-type", "application/json")], body)),
    );
    let (run, json) = verify(&front.url(), &[], &[]);
    assert_blocked(
        &run,
        &json,
        "instance.unexpected_response",
        "the instance's answer was not the JSON expected (truncated or malformed)",
    );
}

/// The token answer cut short: `connect` fails with the classification, nothing is retried.
#[test]
fn row_truncated_json_from_the_token_endpoint() {
    let sn = sandbox("healthy-app");
    let front = on_every(
        &sn,
        Req::is_token,
        Action::Respond(response(
            200,
            &[("content-type", "application/json")],
            br#"{"access_token":"abc","#,
        )),
    );
    let (run, json) = verify(&front.url(), &[], &[]);
    assert_eq!(run.code, 1, "{json:#}");
    assert_eq!(json.codes("connect"), ["connect.token_failed"]);
    let text = json.messages("connect");
    assert!(
        text.contains("was not the JSON expected (truncated or malformed)"),
        "{text}"
    );
    assert!(!text.contains("abc"), "{text}");
}

// ---- HTML where JSON belongs ----

fn hibernating(mode: Hibernation) {
    let sn = Sandbox::start(SandboxConfig {
        faults: snconnect::sandbox::Faults {
            hibernating: Some(mode),
            ..Default::default()
        },
        ..SandboxConfig::scenario("healthy-app")
    })
    .unwrap();
    let (run, json) = verify(&sn.url(), &[], &[]);
    assert_blocked(
        &run,
        &json,
        "instance.hibernating",
        "is hibernating: it answers with the hibernation page, not the API",
    );
    assert!(json
        .messages("instance")
        .contains("developer.servicenow.com"));
    // A sleeping instance stays asleep: its 503 is not retried, and no token is requested of it.
    assert_eq!(count(&sn, "GET", "/api/now/table/sys_user"), 1, "{mode:?}");
    assert_eq!(sn.requests().len(), 1, "{mode:?}: {:?}", sn.requests());
}

#[test]
fn row_200_html_hibernation_page() {
    hibernating(Hibernation::Ok200);
}

#[test]
fn row_503_html_hibernation_page() {
    hibernating(Hibernation::Unavailable503);
}

#[test]
fn row_redirect_to_an_sso_login() {
    let front = FaultServer::always(response(
        302,
        &[(
            "location",
            "https://login.example-idp.com/saml2/sso?SAMLRequest=fZJNT8MwDIb%2FSpR7m7Zr2",
        )],
        b"",
    ));
    let (run, json) = verify(&front.url(), &[], &[]);
    assert_blocked(
        &run,
        &json,
        "instance.login_page",
        "answered the REST API with an HTML login page",
    );
}

#[test]
fn row_200_html_login_page() {
    let sn = sandbox("login-page");
    let (run, json) = verify(&sn.url(), &[], &[]);
    assert_blocked(
        &run,
        &json,
        "instance.login_page",
        "answered the REST API with an HTML login page",
    );
}

#[test]
fn row_non_json_content_type() {
    for (content_type, body) in [
        ("text/plain", &b"OK"[..]),
        ("application/xml", &b"<response><result/></response>"[..]),
    ] {
        let front = FaultServer::always(response(200, &[("content-type", content_type)], body));
        let (run, json) = verify(&front.url(), &[], &[]);
        assert_blocked(
            &run,
            &json,
            "instance.not_servicenow",
            &format!("content type {content_type}"),
        );
        assert!(json
            .messages("instance")
            .contains("does not answer like a ServiceNow instance"));
    }
}

// ---- TLS and proxies (more in tests/it/tls_proxy.rs) ----

#[test]
fn row_untrusted_tls_certificate() {
    let sn = sandbox("healthy-app");
    let ca = TestCa::for_tests();
    let front = TlsFront::start(&ca, sn.port());
    let (run, json) = verify(&front.url("127.0.0.1"), &[], &[]);
    assert_blocked(&run, &json, "instance.tls", "the TLS connection to");
    assert!(json.messages("instance").contains("--ca-cert PATH"));
    assert!(sn.requests().is_empty());
}

#[test]
fn row_proxy_refuses() {
    let proxy = ConnectProxy::start(Mode::Refuse(403));
    let (run, json) = verify("acme", &[], &[("HTTPS_PROXY", &proxy.url())]);
    assert_blocked(
        &run,
        &json,
        "instance.unreachable",
        "the proxy would not connect to https://acme.service-now.com: it refused the CONNECT request",
    );
    // One tunnel asked for: the admin's request; nothing else goes out once it failed.
    assert_eq!(proxy.seen(), ["CONNECT acme.service-now.com:443 HTTP/1.1"]);
}

// ---- apply: faults while writing ----

/// `snconnect apply --yes -v --format json` in `dir` (see `crate::support::apply_cmd`).
fn apply_in(dir: &std::path::Path, instance: &str) -> (Run, Value) {
    // The service user exists with the fixture password, which apply never changes; given it,
    // apply's re-check can run `connect` with the client secret it generated.
    let run = Run::of(&mut crate::support::apply_cmd(
        dir,
        instance,
        &["-v", "--format", "json"],
        &[(
            "SNCONNECT_PASSWORD",
            snconnect::sandbox::fixtures::SERVICE_PASSWORD,
        )],
    ));
    let json = run.json();
    (run, json)
}

/// The result of the plan step that writes to `table`.
fn step_result<'a>(json: &'a Value, table: &str) -> &'a Value {
    json["results"]
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["table"] == table))
        .unwrap_or_else(|| panic!("no step on {table}: {json:#}"))
}

fn posts_to(front: &FaultServer, table: &str) -> usize {
    front
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.table() == Some(table))
        .count()
}

/// The platform refuses REST inserts into sys_security_acl: each ACL step is "refused" with the
/// 403's own words and the reason, left as a step by hand, and nothing is inserted (exit 1).
#[test]
fn row_403_acl_insert_via_apply() {
    let sn = sandbox("acl-missing");
    let dir = tempfile::tempdir().unwrap();
    let (run, json) = apply_in(dir.path(), &sn.url());
    assert_eq!(run.code, 1, "{json:#}\n{}", run.stderr);
    let acl_steps: Vec<&Value> = json["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["table"] == "sys_security_acl" && r["status"] == "refused")
        .collect();
    assert_eq!(acl_steps.len(), 3, "{json:#}");
    for step in acl_steps {
        let message = step["message"].as_str().unwrap();
        assert!(
            message.starts_with(
                "refused with 403 (Operation Failed: ACL Exception Insert Failed due to security constraints)"
            ),
            "{message}"
        );
        assert!(message.contains("security_admin"), "{message}");
    }
    assert_eq!(json["manual"].as_array().unwrap().len(), 3);
    assert_eq!(json["verify"].status("task_acls"), "fail");
    assert_eq!(rows(&sn, "sys_security_acl", "name=task"), 0);
}

/// The insert reached the instance but its answer was a 502 (a proxy timed out): apply does not
/// repeat a create on 5xx (it could duplicate the record), says the step failed (exit 1), and the
/// next run finds the record instead of inserting a second one. The generated client secret was
/// stored before the write, so the entry that exists is usable.
#[test]
fn row_502_after_an_insert_happened_is_not_retried_and_the_next_run_converges() {
    let sn = sandbox("oauth-missing");
    let (front, _) = on_first(
        &sn,
        insert_into("oauth_entity"),
        Action::ForwardAndReplace(response(
            502,
            &[("content-type", "text/html")],
            b"<html><head><title>502 Bad Gateway</title></head></html>",
        )),
    );
    let dir = tempfile::tempdir().unwrap();
    let (run, json) = apply_in(dir.path(), &front.url());
    assert_eq!(run.code, 1, "{json:#}\n{}", run.stderr);
    let step = step_result(&json, "oauth_entity");
    assert_eq!(step["status"], "failed", "{step:#}");
    let message = step["message"].as_str().unwrap();
    assert!(
        message.contains("the instance failed with HTTP 502"),
        "{message}"
    );
    assert_eq!(
        posts_to(&front, "oauth_entity"),
        1,
        "a create is not retried on 5xx"
    );
    assert_eq!(
        rows(&sn, "oauth_entity", "name=incident.io"),
        1,
        "it did happen"
    );

    let (run, json) = apply_in(dir.path(), &front.url());
    assert_eq!(run.code, 0, "{json:#}\n{}", run.stderr);
    assert_eq!(
        posts_to(&front, "oauth_entity"),
        1,
        "found, not inserted again"
    );
    assert_eq!(rows(&sn, "oauth_entity", "name=incident.io"), 1);
    assert_eq!(json["verify"].status("connect"), "pass", "{json:#}");
}

/// The same with the connection reset after the instance acted: classified as a broken
/// connection, not retried, converged by the next run.
#[test]
fn row_reset_after_an_insert_happened_is_not_retried_and_the_next_run_converges() {
    let sn = sandbox("oauth-missing");
    let (front, _) = on_first(&sn, insert_into("oauth_entity"), Action::ForwardAndReset);
    let dir = tempfile::tempdir().unwrap();
    let (run, json) = apply_in(dir.path(), &front.url());
    assert_eq!(run.code, 1, "{json:#}\n{}", run.stderr);
    let step = step_result(&json, "oauth_entity");
    assert_eq!(step["status"], "failed", "{step:#}");
    assert_eq!(posts_to(&front, "oauth_entity"), 1);
    let (run, json) = apply_in(dir.path(), &front.url());
    assert_eq!(run.code, 0, "{json:#}\n{}", run.stderr);
    assert_eq!(rows(&sn, "oauth_entity", "name=incident.io"), 1);
}

/// A 429 on an insert is refused before any work is done, so the create is sent again.
#[test]
fn row_429_on_an_insert_is_retried() {
    let sn = sandbox("oauth-missing");
    let (front, _) = on_first(
        &sn,
        insert_into("oauth_entity"),
        Action::Respond(sn_error(
            429,
            "Rate limit exceeded",
            Some("Rate limit of 100 requests per hour for Table API exceeded"),
            &[("retry-after", "1")],
        )),
    );
    let dir = tempfile::tempdir().unwrap();
    let (run, json) = apply_in(dir.path(), &front.url());
    assert_eq!(run.code, 0, "{json:#}\n{}", run.stderr);
    assert_eq!(step_result(&json, "oauth_entity")["status"], "created");
    assert_eq!(posts_to(&front, "oauth_entity"), 2);
    assert_eq!(rows(&sn, "oauth_entity", "name=incident.io"), 1);
}

/// An instance that cannot be used stops apply before any write, with the instance check's
/// classification, exit 3.
#[test]
fn row_apply_against_a_hibernating_instance_writes_nothing() {
    let sn = sandbox("hibernating-503");
    let dir = tempfile::tempdir().unwrap();
    let run = Run::of(&mut crate::support::apply_cmd(
        dir.path(),
        &sn.url(),
        &[],
        &[],
    ));
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("nothing was changed"), "{}", run.stderr);
    assert!(run.stderr.contains("hibernating"), "{}", run.stderr);
    assert!(
        sn.requests().iter().all(|r| r.method == "GET"),
        "{:?}",
        sn.requests()
    );
}

/// `setup --no-input` meets the same fault as verify and reports it the same way, storing
/// nothing.
#[test]
fn row_setup_against_a_login_page_stores_nothing() {
    let sn = sandbox("login-page");
    let dir = tempfile::tempdir().unwrap();
    let run = Run::of(&mut crate::support::setup_cmd(
        dir.path(),
        &sn.url(),
        &["--insecure-storage"],
        &[],
    ));
    let json = run.json();
    assert_blocked(
        &run,
        &json,
        "instance.login_page",
        "answered the REST API with an HTML login page",
    );
    assert!(!dir.path().join("insecure-secrets.toml").exists());
}

/// Issue 12: a front that refuses long headers (431) is not "not ServiceNow": with an admin
/// password near the input limit, whose Basic header passes the front's limit, the run says a
/// request header was too large and points at the credentials given, and tries no login again.
#[test]
fn row_431_for_an_oversized_header_names_the_header_and_the_input() {
    let sn = sandbox("healthy-app");
    let front = on_every(
        &sn,
        |req| req.header("authorization").is_some_and(|v| v.len() > 4096),
        Action::Respond(response(
            431,
            &[("content-type", "text/html")],
            b"<html><body>Request Header Fields Too Large</body></html>",
        )),
    );
    let password = "p".repeat(4000);
    let (run, json) = verify(
        &front.url(),
        &[],
        &[("SNCONNECT_ADMIN_PASSWORD", password.as_str())],
    );
    assert_eq!(run.code, 3, "{json:#}\n{}", run.stderr);
    let messages = json.messages("instance");
    assert!(
        messages.contains("refused a request header as too large (431)"),
        "{messages}"
    );
    assert!(messages.contains("credentials"), "{messages}");
    assert!(!messages.contains("not like a ServiceNow"), "{messages}");
    assert!(!run.all().contains(&password), "the password is echoed");
}
