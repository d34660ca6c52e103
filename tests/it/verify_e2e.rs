//! `snconnect verify` end to end: the real binary against the in-process simulated instance, one
//! scenario per diagnosis, asserting the check's status, the finding code and the exit code.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpListener;

use crate::support::{
    account, closed_port, keep_session_bus, snconnect_with_keyring, verify_cmd, ReportExt, Run,
    CHECK_IDS,
};
use snconnect::sandbox::{fixtures, Sandbox, SandboxConfig};

/// Runs verify with the fixture credentials (all via the environment) plus `extra` arguments.
/// The run keeps the session bus: where a credential is missing, verify looks in the keyring, as
/// it would for a user.
fn verify_with(url: &str, extra: &[&str], env: &[(&str, &str)]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = verify_cmd(dir.path(), url, extra, env);
    Run::of(keep_session_bus(&mut cmd))
}

fn verify_scenario(scenario: &str, extra: &[&str]) -> Run {
    let sandbox = Sandbox::start(SandboxConfig::scenario(scenario)).unwrap();
    verify_with(&sandbox.url(), extra, &[])
}

#[test]
fn healthy_app_passes_every_check_and_exits_0() {
    let sandbox = Sandbox::start(SandboxConfig::scenario("healthy-app")).unwrap();
    // incident_manager reaches the user only through a group: inherited roles must count.
    let inherited = sandbox.with_db(|db| {
        db.find(
            "sys_user_has_role",
            "user.user_name=incident.io^role.name=incident_manager^inherited=true",
        )
        .len()
    });
    assert_eq!(
        inherited, 1,
        "the scenario grants incident_manager through a group"
    );
    let run = verify_with(&sandbox.url(), &[], &[]);
    assert_eq!(run.code, 0, "{}", run.report());
    assert_eq!(run.report()["ok"], true);
    for id in CHECK_IDS {
        assert_eq!(run.status(id), "pass", "{id}: {}", run.check(id));
    }
    assert!(run.codes("app").contains(&"app.version"));
    assert!(run
        .codes("oauth_app")
        .contains(&"oauth_app.token_lifespans"));
    assert!(!run.stderr.contains(fixtures::ADMIN_PASSWORD));
}

/// One row per diagnosis: scenario, extra arguments, check, status, code, exit code.
#[test]
fn each_broken_step_is_diagnosed_with_its_code_and_exit_code() {
    /// scenario, extra arguments, check id, status, finding code, exit code
    type Case = (
        &'static str,
        &'static [&'static str],
        &'static str,
        &'static str,
        &'static str,
        i32,
    );
    let cases: &[Case] = &[
        ("empty", &[], "app", "fail", "app.not_installed", 1),
        ("app-missing", &[], "app", "fail", "app.not_installed", 1),
        (
            "app-missing",
            &[],
            "roles",
            "fail",
            "roles.app_role_absent",
            1,
        ),
        ("app-inactive", &[], "app", "fail", "app.inactive", 1),
        (
            "app-custom-only",
            &[],
            "app",
            "fail",
            "app.custom_app_only",
            1,
        ),
        (
            "oauth-missing",
            &[],
            "oauth_app",
            "fail",
            "oauth_app.missing",
            1,
        ),
        (
            "oauth-inactive",
            &[],
            "oauth_app",
            "fail",
            "oauth_app.inactive",
            1,
        ),
        (
            "oauth-duplicate",
            &[],
            "oauth_app",
            "fail",
            "oauth_app.duplicate",
            1,
        ),
        (
            "oauth-no-scope",
            &[],
            "oauth_app",
            "fail",
            "oauth_app.scope_missing",
            1,
        ),
        (
            "ropc-disabled",
            &[],
            "oauth_app",
            "fail",
            "oauth_app.password_grant_disabled",
            1,
        ),
        (
            "oauth-disabled",
            &[],
            "oauth_app",
            "fail",
            "oauth_app.oauth_disabled",
            1,
        ),
        (
            "healthy-app",
            &["--client-id", "not-the-right-id"],
            "oauth_app",
            "fail",
            "oauth_app.client_id_mismatch",
            1,
        ),
        (
            "user-missing",
            &[],
            "service_user",
            "fail",
            "service_user.missing",
            1,
        ),
        ("user-missing", &[], "roles", "skip", "roles.no_user", 1),
        (
            "user-inactive",
            &[],
            "service_user",
            "fail",
            "service_user.inactive",
            1,
        ),
        (
            "user-locked",
            &[],
            "service_user",
            "fail",
            "service_user.locked_out",
            1,
        ),
        (
            "user-password-reset",
            &[],
            "service_user",
            "fail",
            "service_user.password_needs_reset",
            1,
        ),
        (
            "user-not-machine",
            &[],
            "service_user",
            "warn",
            "service_user.not_machine",
            0,
        ),
        (
            "user-not-machine",
            &["--strict"],
            "service_user",
            "warn",
            "service_user.not_machine",
            1,
        ),
        (
            "user-no-identity-type",
            &[],
            "service_user",
            "pass",
            "service_user.identity_type_unavailable",
            0,
        ),
        (
            "user-failed-attempts",
            &[],
            "service_user",
            "warn",
            "service_user.failed_attempts",
            // connect fails: one wrong password would lock the user, so no token is requested.
            1,
        ),
        ("roles-missing", &[], "roles", "fail", "roles.missing", 1),
        (
            "acl-missing",
            &[],
            "task_acls",
            "fail",
            "task_acls.missing",
            1,
        ),
        (
            "acl-inactive",
            &[],
            "task_acls",
            "fail",
            "task_acls.inactive",
            1,
        ),
        (
            "acl-deny",
            &[],
            "task_acls",
            "fail",
            "task_acls.deny_unless",
            1,
        ),
        (
            "acl-no-role",
            &[],
            "task_acls",
            "fail",
            "task_acls.no_role",
            1,
        ),
        (
            "acl-wrong-role",
            &[],
            "task_acls",
            "fail",
            "task_acls.wrong_role",
            1,
        ),
        (
            "acl-no-admin-overrides",
            &[],
            "task_acls",
            "warn",
            "task_acls.admin_overrides_off",
            0,
        ),
        (
            "acl-not-global",
            &[],
            "task_acls",
            "warn",
            "task_acls.not_global",
            0,
        ),
        (
            "acl-hidden",
            &[],
            "task_acls",
            "warn",
            "task_acls.cannot_see",
            0,
        ),
        (
            "scope-blocked",
            &[],
            "connect",
            "fail",
            "connect.scope_blocked",
            1,
        ),
        (
            "healthy-admin",
            &["--path", "admin"],
            "app",
            "warn",
            "app.not_installed",
            0,
        ),
        (
            "healthy-admin",
            &["--path", "admin"],
            "task_acls",
            "skip",
            "task_acls.not_needed",
            0,
        ),
        (
            "healthy-admin",
            &[],
            "task_acls",
            "skip",
            "task_acls.not_needed",
            1,
        ),
        (
            "healthy-app",
            &["--path", "admin"],
            "roles",
            "fail",
            "roles.missing",
            1,
        ),
        (
            "healthy-app",
            &["--only", "roles"],
            "app",
            "skip",
            "run.not_selected",
            0,
        ),
        (
            "mfa-admin",
            &[],
            "instance",
            "fail",
            "instance.admin_mfa_required",
            3,
        ),
        (
            "hibernating",
            &[],
            "instance",
            "fail",
            "instance.hibernating",
            3,
        ),
        (
            "hibernating-503",
            &[],
            "instance",
            "fail",
            "instance.hibernating",
            3,
        ),
        (
            "login-page",
            &[],
            "instance",
            "fail",
            "instance.login_page",
            3,
        ),
        (
            "login-page",
            &[],
            "app",
            "skip",
            "run.instance_unavailable",
            3,
        ),
    ];
    let mut failures = Vec::new();
    for (scenario, extra, id, status, code, exit) in cases {
        let run = verify_scenario(scenario, extra);
        let codes = run.codes(id);
        if run.status(id) != *status || !codes.iter().any(|c| c == code) || run.code != *exit {
            failures.push(format!(
                "{scenario} {extra:?}: {id} = {} {codes:?}, exit {}; wanted {status} {code}, exit {exit}",
                run.status(id),
                run.code
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn table_denied_to_the_service_user_is_reported_per_table() {
    let run = verify_scenario("table-denied", &[]);
    assert_eq!(run.status("connect"), "fail");
    let codes = run.codes("connect");
    assert!(
        codes
            .iter()
            .any(|c| *c == "connect.table_denied" || *c == "connect.table_hidden"),
        "{codes:?}"
    );
    let f = &run.check("connect")["findings"][0];
    assert!(f["message"].as_str().unwrap().contains("cmdb_ci"), "{f}");
    assert_eq!(run.code, 1);
}

#[test]
fn hidden_rows_for_the_service_user_are_reported_as_hidden() {
    // Without incident_manager the user cannot see incidents; the instance still counts them.
    let sandbox = Sandbox::start(SandboxConfig::scenario("roles-missing")).unwrap();
    let run = verify_with(&sandbox.url(), &[], &[]);
    assert!(
        run.codes("connect").contains(&"connect.table_hidden"),
        "{}",
        run.check("connect")
    );
}

#[test]
fn access_denied_names_the_cause_the_admin_side_found() {
    // Causes the admin side cannot prove before trying: the attempt is made, and the refusal is
    // explained.
    for (scenario, cause) in [
        ("ropc-disabled", "oauth_app.password_grant_disabled"),
        ("oauth-disabled", "oauth_app.oauth_disabled"),
    ] {
        let run = verify_scenario(scenario, &[]);
        let f = run.finding("connect", "connect.access_denied");
        let message = f["message"].as_str().unwrap();
        assert!(
            message.contains("likely cause") && message.contains(cause),
            "{scenario}: {message}"
        );
        assert_eq!(run.status("connect"), "fail");
    }
    // Causes that make the outcome certain: no attempt at all, and the cause named instead.
    for (scenario, code) in [
        ("user-locked", "connect.not_attempted_user_locked_out"),
        ("user-inactive", "connect.not_attempted_user_inactive"),
        ("user-missing", "connect.not_attempted_user_missing"),
        ("oauth-inactive", "connect.not_attempted_client_id_unknown"),
        ("oauth-missing", "connect.not_attempted_client_id_unknown"),
    ] {
        let run = verify_scenario(scenario, &[]);
        assert_eq!(run.codes("connect"), [code], "{scenario}");
        assert_eq!(run.status("connect"), "fail");
    }
}

/// `verify --format json` with no credential at all from the environment; the keyring is
/// reachable, as for a user.
fn verify_without_credentials(dir: &std::path::Path, url: &str) -> assert_cmd::Command {
    let mut cmd = snconnect_with_keyring(dir);
    cmd.args([
        "verify",
        "--no-input",
        "--format",
        "json",
        "--instance",
        url,
    ]);
    cmd
}

#[test]
fn access_denied_without_admin_credentials_lists_the_causes_in_order() {
    let sandbox = Sandbox::start(SandboxConfig::scenario("healthy-app")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let run = Run::of(
        verify_without_credentials(dir.path(), &sandbox.url())
            .args(["--client-id", fixtures::CLIENT_ID])
            .env("SNCONNECT_CLIENT_SECRET", "not-the-secret")
            .env("SNCONNECT_PASSWORD", fixtures::SERVICE_PASSWORD),
    );
    let f = &run.check("connect")["findings"][0];
    assert_eq!(f["code"], "connect.access_denied");
    assert!(
        f["fix"]
            .as_str()
            .unwrap()
            .starts_with("look at, most likely first: 1."),
        "{f}"
    );
    assert_eq!(run.code, 1);
}

/// Issue 14: with the admin side, a refused token is followed by one read of the user's failed
/// logins. A wrong password is counted there and named alone; a wrong client secret is not, and
/// the secret comes first.
#[test]
fn access_denied_names_the_password_or_the_secret_from_the_failed_login_count() {
    let sandbox = Sandbox::start(SandboxConfig::scenario("healthy-app")).unwrap();
    let run = verify_with(
        &sandbox.url(),
        &[],
        &[("SNCONNECT_PASSWORD", "not-the-password")],
    );
    let f = &run.check("connect")["findings"][0];
    assert_eq!(f["code"], "connect.access_denied", "{f}");
    let message = f["message"].as_str().unwrap();
    assert!(
        message.contains("the password of 'incident.io' is wrong"),
        "{message}"
    );
    assert!(
        f["fix"].as_str().unwrap().starts_with("set a new password"),
        "{f}"
    );

    let sandbox = Sandbox::start(SandboxConfig::scenario("healthy-app")).unwrap();
    let run = verify_with(
        &sandbox.url(),
        &[],
        &[("SNCONNECT_CLIENT_SECRET", "not-the-secret")],
    );
    let f = &run.check("connect")["findings"][0];
    let fix = f["fix"].as_str().unwrap();
    assert!(
        fix.starts_with("look at, most likely first: 1. the client secret"),
        "{fix}"
    );
    assert!(fix.contains("not counted against"), "{fix}");
}

#[test]
fn missing_credentials_skip_the_checks_that_need_them_and_exit_0() {
    let sandbox = Sandbox::start(SandboxConfig::scenario("healthy-app")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let run = Run::of(&mut verify_without_credentials(dir.path(), &sandbox.url()));
    assert_eq!(run.code, 0);
    let checks = run.report()["checks"].as_array().unwrap();
    assert_eq!(checks[0]["status"], "pass");
    assert_eq!(checks[0]["findings"][0]["code"], "instance.anonymous_only");
    for c in &checks[1..7] {
        assert_eq!(c["status"], "skip", "{c}");
        assert_eq!(c["findings"][0]["code"], "input.admin_credentials_missing");
        let message = c["findings"][0]["message"].as_str().unwrap();
        assert!(
            message.contains("--admin-user") && message.contains("SNCONNECT_ADMIN_PASSWORD"),
            "{message}"
        );
    }
    assert_eq!(checks[7]["status"], "skip");
    assert_eq!(
        checks[7]["findings"][0]["code"],
        "input.service_credentials_missing"
    );
    assert!(checks[7]["findings"][0]["message"]
        .as_str()
        .unwrap()
        .contains("SNCONNECT_CLIENT_SECRET"));
    // Only the anonymous identity request went out.
    let requests = sandbox.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0].status, 401);
}

#[test]
fn rejected_admin_credentials_exit_3_after_exactly_one_attempt() {
    let sandbox = Sandbox::start(SandboxConfig::scenario("healthy-app")).unwrap();
    let run = verify_with(
        &sandbox.url(),
        &[],
        &[("SNCONNECT_ADMIN_PASSWORD", "wrong-password")],
    );
    assert_eq!(run.code, 3);
    assert_eq!(run.status("instance"), "fail");
    assert_eq!(run.codes("instance"), ["instance.admin_rejected"]);
    assert_eq!(run.codes("app"), ["run.admin_rejected"]);
    let rejected: Vec<_> = sandbox
        .requests()
        .into_iter()
        .filter(|r| r.status == 401)
        .collect();
    assert_eq!(rejected.len(), 1, "one failed login only: {rejected:?}");
    assert!(!run.stderr.contains("wrong-password"));
}

#[test]
fn a_wrong_service_password_costs_one_failed_login_and_sends_no_probe() {
    let sandbox = Sandbox::start(SandboxConfig::scenario("healthy-app")).unwrap();
    let before = account(&sandbox, fixtures::SERVICE_USER).0;
    let run = verify_with(
        &sandbox.url(),
        &[],
        &[("SNCONNECT_PASSWORD", "wrong-password")],
    );
    assert_eq!(run.status("connect"), "fail");
    assert_eq!(run.codes("connect"), ["connect.access_denied"]);
    assert_eq!(account(&sandbox, fixtures::SERVICE_USER).0, before + 1);
    let requests = sandbox.requests();
    let tokens = requests
        .iter()
        .filter(|r| r.path == "/oauth_token.do")
        .count();
    assert_eq!(tokens, 1, "{requests:?}");
    let as_service_user = requests
        .iter()
        .filter(|r| r.user.as_deref().is_some_and(|u| u.starts_with("token:")))
        .count();
    assert_eq!(as_service_user, 0, "no probe without a token: {requests:?}");
}

/// The schedule a full run keeps (issue 11's lockout safety): the admin's one request alone
/// first (a wrong admin password costs one failed login and nothing else goes out); then every
/// admin-side query at once; then the one token request, only once those facts showed it cannot be
/// known to fail or lock the account; then the service user's probes with the token.
#[test]
fn a_full_verify_reads_as_the_admin_before_it_spends_the_service_users_login() {
    let sandbox = Sandbox::start(SandboxConfig::scenario("healthy-app")).unwrap();
    let run = verify_with(&sandbox.url(), &[], &[]);
    assert_eq!(run.code, 0);
    let requests = sandbox.requests();
    assert!(
        // 17: round 2 also reads the useraccount scope, the fact apply acts on when it adds the
        // scope; 20: and the posture check's API access policies, IP rules and clone preservers.
        requests.len() <= 20,
        "{} requests: {requests:#?}",
        requests.len()
    );
    assert_eq!(
        format!("{} {}", requests[0].method, requests[0].path),
        "GET /api/now/table/sys_user",
        "{requests:#?}"
    );
    let token_at: Vec<usize> = requests
        .iter()
        .enumerate()
        .filter(|(_, r)| r.path == "/oauth_token.do")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(token_at.len(), 1, "one token request only: {requests:#?}");
    let token_at = token_at[0];
    let as_admin = |r: &snconnect::sandbox::LoggedRequest| r.user.as_deref() == Some("admin");
    let as_service = |r: &snconnect::sandbox::LoggedRequest| {
        r.user.as_deref().is_some_and(|u| u.starts_with("token:"))
    };
    assert!(
        requests[..token_at].iter().all(as_admin),
        "only admin reads before the token: {requests:#?}"
    );
    assert!(
        requests[token_at + 1..].iter().all(as_service),
        "only the service user's probes after it: {requests:#?}"
    );
    let mut per_table: BTreeMap<String, usize> = BTreeMap::new();
    for r in &requests[1..] {
        *per_table.entry(r.path.clone()).or_default() += 1;
    }
    assert!(per_table.values().all(|n| *n <= 2), "{per_table:?}");
}

#[test]
fn server_errors_after_retries_exit_3() {
    let sandbox = Sandbox::start(SandboxConfig::scenario("healthy-app")).unwrap();
    sandbox.with_db(|db| {
        db.faults.server_errors_next = 1000;
        db.faults.server_error_status = 503;
    });
    let run = verify_with(&sandbox.url(), &[], &[]);
    assert_eq!(run.code, 3);
    assert_eq!(run.codes("instance"), ["instance.server_error"]);
}

#[test]
fn a_rate_limit_that_never_lifts_exits_3() {
    let sandbox = Sandbox::start(SandboxConfig::scenario("healthy-app")).unwrap();
    sandbox.with_db(|db| {
        db.faults.rate_limit_next = 1000;
        db.faults.rate_limit_retry_after = false;
    });
    let run = verify_with(&sandbox.url(), &[], &[]);
    assert_eq!(run.code, 3);
    assert_eq!(run.codes("instance"), ["instance.rate_limited"]);
}

#[test]
fn a_slow_instance_times_out_and_exits_3() {
    let sandbox = Sandbox::start(SandboxConfig::scenario("healthy-app")).unwrap();
    sandbox.with_db(|db| db.latency = std::time::Duration::from_millis(2500));
    let run = verify_with(&sandbox.url(), &["--timeout", "1"], &[]);
    assert_eq!(run.code, 3);
    assert_eq!(run.codes("instance"), ["instance.timeout"]);
}

#[test]
fn nothing_listening_is_unreachable_and_exits_3() {
    let run = verify_with(&format!("http://127.0.0.1:{}", closed_port()), &[], &[]);
    assert_eq!(run.code, 3);
    assert_eq!(run.codes("instance"), ["instance.unreachable"]);
    assert_eq!(run.status("connect"), "skip");
}

/// A server that answers every connection with the same raw bytes.
fn raw_server(response: &'static [u8]) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(response);
        }
    });
    port
}

#[test]
fn a_web_server_that_is_not_servicenow_exits_3() {
    let port = raw_server(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 30\r\nConnection: close\r\n\r\n<html><body>Hello</body></html>",
    );
    let run = verify_with(&format!("http://127.0.0.1:{port}"), &[], &[]);
    assert_eq!(run.code, 3, "{}", run.report());
    assert_eq!(run.codes("instance"), ["instance.not_servicenow"]);
}

#[test]
fn a_failed_tls_handshake_exits_3() {
    // Plain HTTP where TLS is expected: the handshake fails.
    let port = raw_server(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    let run = verify_with(&format!("https://127.0.0.1:{port}"), &[], &[]);
    assert_eq!(run.code, 3, "{}", run.report());
    assert_eq!(run.codes("instance"), ["instance.tls"]);
}

/// Within a round nothing waits for anything else: with latency on every request, the admin
/// queries of round 2 are all in flight together. (How long a run takes is measured by the
/// benchmark, `cargo run --example bench_verify`, not asserted here.)
#[test]
fn the_admin_queries_of_round_two_go_out_at_once() {
    use snconnect::commands::{demo, verify};
    use snconnect::model::SetupPath;
    use snconnect::servicenow::{Client, ClientOptions};
    use std::time::Duration;

    let sandbox = Sandbox::start(SandboxConfig {
        latency: Duration::from_millis(200),
        ..SandboxConfig::scenario("healthy-app")
    })
    .unwrap();
    let inputs = demo::fixture_inputs(&sandbox.url(), SetupPath::App).unwrap();
    let client = Client::new(&inputs.instance, &ClientOptions::default()).unwrap();
    let plan = verify::plan(&inputs, &[], Duration::from_secs(30));
    let runtime = verify::runtime().unwrap();
    let report = runtime.block_on(verify::verify(&client, &plan, false));
    assert!(report.ok());
    let requests = sandbox.requests();
    let admin_queries = requests
        .iter()
        .skip(1)
        .filter(|r| r.user.as_deref() == Some("admin"))
        .count();
    assert!(admin_queries >= 8, "{requests:#?}");
    assert!(
        sandbox.max_in_flight() >= admin_queries,
        "round 2 should send every admin query at once: {} in flight of {admin_queries}",
        sandbox.max_in_flight()
    );
}

// ---- verdicts on responses shaped like real instances' (issue 11) ----

/// The limit is applied before row-level ACLs: with the first incident restricted, a one-row
/// probe would have come back empty and failed `connect`; a full page shows the rest readable.
#[test]
fn one_restricted_row_first_does_not_make_a_table_unreadable() {
    let run = verify_scenario("incident-restricted-first", &[]);
    assert_eq!(run.code, 0, "{}", run.report());
    assert_eq!(run.status("connect"), "pass");
    let f = run.finding("connect", "connect.rows_partly_hidden");
    assert_eq!(f["severity"], "note");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("table 'incident' are visible"),
        "{f}"
    );
}

#[test]
fn a_token_refused_right_after_its_grant_points_at_the_instance_not_the_password() {
    let run = verify_scenario("access-policy-basic-only", &[]);
    assert_eq!(run.status("connect"), "fail");
    assert_eq!(run.codes("connect"), ["connect.token_rejected"]);
    let text = run.messages("connect");
    assert!(text.contains("the password is right"), "{text}");
    assert!(text.contains("REST API Access Policies"), "{text}");
    assert!(!text.contains("wrong password"), "{text}");
}

#[test]
fn an_outbound_provider_of_the_same_name_is_not_a_duplicate_entry() {
    let run = verify_scenario("oauth-outbound-decoy", &[]);
    assert_eq!(run.status("oauth_app"), "pass", "{}", run.report());
    assert_eq!(run.code, 0);
}

/// Issue 15: after a good run the facts that matter are kept; when a later run fails, the
/// report names each record and field that changed, old -> new (a role removed from the user,
/// the entry's auth scope removed).
#[test]
fn a_failing_run_says_what_changed_since_the_last_good_one() {
    let sandbox = Sandbox::start(SandboxConfig::scenario("healthy-app")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let good = Run::of(&mut crate::support::verify_cmd(
        dir.path(),
        &sandbox.url(),
        &[],
        &[],
    ));
    assert_eq!(good.code, 0, "{}", good.all());
    assert!(good.json().get("changed_since_last_good").is_none());

    sandbox.with_db(|db| {
        db.remove_where(
            "sys_user_has_role",
            "user.user_name=incident.io^role.name=sn_cmdb_user",
        );
        db.remove_where(
            "oauth_entity_auth_scope_mapping",
            "oauth_entity.name=incident.io",
        );
    });
    let bad = Run::of(&mut crate::support::verify_cmd(
        dir.path(),
        &sandbox.url(),
        &[],
        &[],
    ));
    assert_eq!(bad.code, 1, "{}", bad.all());
    let changes = &bad.json()["changed_since_last_good"]["changes"];
    let shown: Vec<String> = changes
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{} {}: {} -> {}",
                c["record"], c["field"], c["old"], c["new"]
            )
        })
        .collect();
    assert!(
        shown
            .iter()
            .any(|s| s.starts_with("\"sys_user 'incident.io'\" \"roles\"")
                && s.contains("sn_cmdb_user")
                && !s.ends_with("sn_cmdb_user\"")),
        "{shown:#?}"
    );
    assert!(
        shown
            .iter()
            .any(|s| s.contains("\"auth scopes\": \"useraccount\" -> \"\"")),
        "{shown:#?}"
    );
    let human = Run::of(&mut crate::support::verify_cmd(
        dir.path(),
        &sandbox.url(),
        &["--format", "human"],
        &[],
    ));
    assert!(
        human.stdout.contains("Changed since the last good run ("),
        "{}",
        human.stdout
    );
    assert!(
        human.stdout.contains("auth scopes: useraccount -> (none)"),
        "{}",
        human.stdout
    );
}

/// Issue 15: an unattended verify that finds the previous one still checking the same profile
/// ends at once (exit 3, naming the holder) instead of piling up behind it.
#[test]
fn a_scheduled_verify_ends_at_once_while_the_previous_one_runs() {
    let sandbox = Sandbox::start(SandboxConfig::scenario("healthy-app")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let profile = crate::support::profile_of(&sandbox.url());
    let held = snconnect::credentials::RunLock::try_acquire(
        &dir.path().join("state"),
        &format!("verify-{profile}"),
    )
    .unwrap()
    .unwrap();
    let run = Run::of(&mut crate::support::verify_cmd(
        dir.path(),
        &sandbox.url(),
        &[],
        &[],
    ));
    assert_eq!(run.code, 3, "{}", run.all());
    assert!(
        run.stderr.contains("is still checking profile"),
        "{}",
        run.stderr
    );
    assert!(sandbox.requests().is_empty(), "nothing was sent");
    drop(held);
    let run = Run::of(&mut crate::support::verify_cmd(
        dir.path(),
        &sandbox.url(),
        &[],
        &[],
    ));
    assert_eq!(run.code, 0, "{}", run.all());
}

/// Issue 15: `--save-baseline FILE` exports the facts that matter and `--baseline FILE` compares
/// with them instead of the last good run (for a change-controlled instance).
#[test]
fn an_exported_baseline_is_the_reference_when_given() {
    let sandbox = Sandbox::start(SandboxConfig::scenario("healthy-app")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("baseline.json");
    let file = file.to_str().unwrap();
    let saved = Run::of(&mut crate::support::verify_cmd(
        dir.path(),
        &sandbox.url(),
        &["--save-baseline", file],
        &[],
    ));
    assert_eq!(saved.code, 0, "{}", saved.all());
    sandbox
        .with_db(|db| db.update_where("sys_user", "user_name=incident.io", &[("active", "false")]));
    // A fresh state directory: only the file can say what it was.
    let other = tempfile::tempdir().unwrap();
    let run = Run::of(&mut crate::support::verify_cmd(
        other.path(),
        &sandbox.url(),
        &["--baseline", file],
        &[],
    ));
    assert_eq!(run.code, 1, "{}", run.all());
    let json = run.json();
    let changes = json["changed_since_last_good"]["changes"]
        .as_array()
        .unwrap();
    assert!(
        changes
            .iter()
            .any(|c| c["record"] == "sys_user 'incident.io'"
                && c["field"] == "active"
                && c["old"] == "true"
                && c["new"] == "false"
                // Who changed it, as the instance's sys_updated_by/on say.
                && c["by"].as_str().is_some_and(|by| by.starts_with("by "))),
        "{changes:#?}"
    );
}

/// Issue 13: the token goes as soon as the two facts that gate it (the entries and the lockout
/// threshold) are in, not after the slowest admin query of round 2: with the ACL-role query held
/// back a second and a half, the token request and the probes reach the instance before it.
#[test]
fn the_token_does_not_wait_for_the_slowest_admin_query() {
    use crate::support::fault_server::{Action, FaultServer};
    let sandbox = Sandbox::start(SandboxConfig::scenario("healthy-app")).unwrap();
    let front = FaultServer::start(Some(sandbox.port()), |req| {
        if req.table() == Some("sys_security_acl_role") {
            Action::ForwardAfter(std::time::Duration::from_millis(1500))
        } else {
            Action::Forward
        }
    });
    let run = verify_with(&front.url(), &[], &[]);
    assert_eq!(run.code, 0, "{}", run.all());
    let order: Vec<String> = sandbox.requests().iter().map(|r| r.path.clone()).collect();
    let token = order
        .iter()
        .position(|p| p == "/oauth_token.do")
        .expect("a token request");
    let slow = order
        .iter()
        .position(|p| p.ends_with("/sys_security_acl_role"))
        .expect("the ACL-role query");
    assert!(
        token < slow,
        "the token waited for the slow query: {order:#?}"
    );
}
