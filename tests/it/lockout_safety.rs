//! Lockout safety: ServiceNow counts failed logins and locks the account at a threshold, so one
//! snconnect run may cost each identity at most one failed login. With the sandbox's threshold at
//! 2, a run with a wrong password must leave `failed_attempts == 1` and the account unlocked, and
//! the request log must show exactly one attempt for that identity.

use crate::support::{account, verify, ReportExt};
use snconnect::sandbox::{fixtures, LoggedRequest, Sandbox, SandboxConfig};

const THRESHOLD: u32 = 2;

fn sandbox() -> Sandbox {
    Sandbox::start(SandboxConfig {
        lockout_threshold: THRESHOLD,
        ..SandboxConfig::scenario("healthy-app")
    })
    .unwrap()
}

fn token_requests(log: &[LoggedRequest]) -> usize {
    log.iter().filter(|r| r.path == "/oauth_token.do").count()
}

/// Requests the sandbox could not authenticate: each is a Basic login that failed.
fn refused_logins(log: &[LoggedRequest]) -> Vec<&LoggedRequest> {
    log.iter()
        .filter(|r| r.status == 401 && r.path != "/oauth_token.do")
        .collect()
}

#[test]
fn the_threshold_is_really_two() {
    // The premise of every test here: two failed logins lock the account in this sandbox. Only a
    // user who accepts the risk, on fresh state each time, gets snconnect to spend them.
    let sandbox = sandbox();
    for _ in 0..THRESHOLD {
        let _ = verify(
            &sandbox.url(),
            &["--accept-lockout-risk"],
            &[("SNCONNECT_PASSWORD", "wrong-service-password")],
        );
    }
    assert_eq!(account(&sandbox, fixtures::SERVICE_USER), (2, true));
}

/// The ways a user runs verify: each format, with and without the request log.
const VARIANTS: [&[&str]; 4] = [
    &["--format", "json"],
    &["--format", "human"],
    &["--format", "junit"],
    &["--format", "json", "-v"],
];

#[test]
fn verify_with_a_wrong_service_password_makes_one_token_attempt() {
    for args in VARIANTS {
        let sandbox = sandbox();
        let run = verify(
            &sandbox.url(),
            args,
            &[("SNCONNECT_PASSWORD", "wrong-service-password")],
        );
        assert_eq!(run.code, 1, "{args:?}: {}", run.stdout);
        if args.contains(&"json") {
            let json = run.json();
            assert_eq!(json.codes("connect"), ["connect.access_denied"], "{json:#}");
        }
        let log = sandbox.requests();
        assert_eq!(token_requests(&log), 1, "{args:?}: {log:#?}");
        assert!(refused_logins(&log).is_empty(), "{args:?}: {log:#?}");
        assert_eq!(
            account(&sandbox, fixtures::SERVICE_USER),
            (1, false),
            "{args:?}: one failed login, not locked"
        );
        // Nothing else went out as the service user: there is no token to send.
        assert!(
            log.iter()
                .all(|r| !r.user.as_deref().is_some_and(|u| u.starts_with("token:"))),
            "{args:?}: {log:#?}"
        );
    }
}

#[test]
fn verify_with_a_wrong_admin_password_makes_one_login_attempt() {
    for args in VARIANTS {
        let sandbox = sandbox();
        let run = verify(
            &sandbox.url(),
            args,
            &[("SNCONNECT_ADMIN_PASSWORD", "wrong-admin-password")],
        );
        assert_eq!(run.code, 3, "{args:?}: {}", run.stdout);
        let log = sandbox.requests();
        let refused = refused_logins(&log);
        assert_eq!(refused.len(), 1, "{args:?}: {log:#?}");
        assert_eq!(refused[0].path, "/api/now/table/sys_user");
        assert_eq!(
            account(&sandbox, fixtures::ADMIN_USER),
            (1, false),
            "{args:?}: one failed login, not locked"
        );
        // The admin was refused, so no admin-side query followed the login attempt.
        assert!(
            log.iter()
                .all(|r| r.user.as_deref() != Some(fixtures::ADMIN_USER)),
            "{args:?}: {log:#?}"
        );
        // The service user's identity is separate and was right: its one token request worked.
        assert_eq!(token_requests(&log), 1);
        assert_eq!(account(&sandbox, fixtures::SERVICE_USER), (0, false));
    }
}

#[test]
fn both_passwords_wrong_cost_one_attempt_each() {
    let sandbox = sandbox();
    let run = verify(
        &sandbox.url(),
        &[],
        &[
            ("SNCONNECT_ADMIN_PASSWORD", "wrong-admin-password"),
            ("SNCONNECT_PASSWORD", "wrong-service-password"),
        ],
    );
    assert_eq!(run.code, 3);
    let log = sandbox.requests();
    assert_eq!(log.len(), 2, "one request per identity: {log:#?}");
    assert_eq!(token_requests(&log), 1);
    assert_eq!(refused_logins(&log).len(), 1);
    assert_eq!(account(&sandbox, fixtures::ADMIN_USER), (1, false));
    assert_eq!(account(&sandbox, fixtures::SERVICE_USER), (1, false));
}

/// A user one failure away from lockout (threshold 2, one failure already): verify makes no
/// attempt that could lock it, says why and how to reset the count; only with
/// `--accept-lockout-risk` does it try, once, and the instance locks the account.
#[test]
fn at_one_below_the_threshold_no_attempt_is_made_unless_the_risk_is_accepted() {
    let sandbox = sandbox();
    sandbox.with_db(|db| {
        let id = db.id_of("sys_user", "user_name=incident.io").unwrap();
        db.record_failed_login(&id);
    });
    assert_eq!(account(&sandbox, fixtures::SERVICE_USER), (1, false));
    let run = verify(
        &sandbox.url(),
        &[],
        &[("SNCONNECT_PASSWORD", "wrong-service-password")],
    );
    let json = run.json();
    assert_eq!(token_requests(&sandbox.requests()), 0, "{json:#}");
    assert_eq!(json.status("connect"), "fail");
    assert_eq!(json.codes("connect"), ["connect.lockout_risk"]);
    let text = json.messages("connect");
    assert!(
        text.contains("has 1 failed logins and the instance locks accounts at 2"),
        "{text}"
    );
    assert!(text.contains("--accept-lockout-risk"), "{text}");
    assert_eq!(account(&sandbox, fixtures::SERVICE_USER), (1, false));

    let _ = verify(
        &sandbox.url(),
        &["--accept-lockout-risk"],
        &[("SNCONNECT_PASSWORD", "wrong-service-password")],
    );
    assert_eq!(token_requests(&sandbox.requests()), 1);
    assert_eq!(account(&sandbox, fixtures::SERVICE_USER), (2, true));
    let run = verify(&sandbox.url(), &[], &[]);
    let json = run.json();
    assert!(json
        .codes("service_user")
        .contains(&"service_user.locked_out"));
    // And now that the outcome is known, no token request is spent on it.
    assert_eq!(
        json.codes("connect"),
        ["connect.not_attempted_user_locked_out"]
    );
    assert_eq!(token_requests(&sandbox.requests()), 1);
}

/// When the admin side already shows the grant must fail, no token is requested at all.
#[test]
fn a_locked_or_inactive_user_or_an_unknown_client_id_costs_no_token_request() {
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case; 4] = [
        ("user-locked", &[], "connect.not_attempted_user_locked_out"),
        ("user-inactive", &[], "connect.not_attempted_user_inactive"),
        ("user-missing", &[], "connect.not_attempted_user_missing"),
        (
            "healthy-app",
            &[("SNCONNECT_CLIENT_ID", "not-a-client-id-of-this-instance")],
            "connect.not_attempted_client_id_unknown",
        ),
    ];
    for (scenario, env, code) in cases {
        let sandbox = crate::support::sandbox(scenario);
        let run = verify(&sandbox.url(), &[], env);
        let json = run.json();
        assert_eq!(
            token_requests(&sandbox.requests()),
            0,
            "{scenario}: {json:#}"
        );
        assert!(
            json.codes("connect").contains(&code),
            "{scenario}: {json:#}"
        );
        assert_eq!(run.code, 1, "{scenario}");
    }
}

/// A cron job with a stale password: twenty runs, one failed login. The refusal is remembered
/// (keyed, in the state directory) and not tried again until the credentials change or the user
/// says --retry-refused; a grant that works forgets it.
#[test]
fn twenty_scheduled_runs_with_a_stale_password_cost_one_failed_login() {
    for with_admin in [true, false] {
        let sandbox = crate::support::sandbox("healthy-app");
        let dir = tempfile::tempdir().unwrap();
        let stale = [("SNCONNECT_PASSWORD", "stale-password")];
        let run_once = |args: &[&str], env: &[(&str, &str)]| {
            let mut cmd = crate::support::verify_cmd(dir.path(), &sandbox.url(), args, env);
            if !with_admin {
                cmd.env_remove("SNCONNECT_ADMIN_USER")
                    .env_remove("SNCONNECT_ADMIN_PASSWORD");
            }
            crate::support::Run::of(&mut cmd)
        };
        for i in 0..20 {
            let run = run_once(&[], &stale);
            let json = run.json();
            let codes = json.codes("connect");
            if i == 0 {
                assert_eq!(codes, ["connect.access_denied"], "{with_admin}");
            } else {
                assert_eq!(codes, ["connect.refused_before"], "{with_admin} run {i}");
                assert!(run
                    .json()
                    .messages("connect")
                    .contains("not retried, to protect the account from lockout"));
            }
        }
        assert_eq!(token_requests(&sandbox.requests()), 1, "{with_admin}");
        assert_eq!(account(&sandbox, fixtures::SERVICE_USER), (1, false));

        // --retry-refused tries again (and fails again); the right password works at once, and
        // a grant that works forgets the refusal.
        run_once(&["--retry-refused"], &stale);
        assert_eq!(token_requests(&sandbox.requests()), 2);
        let good = run_once(&[], &[]);
        assert_eq!(good.json().status("connect"), "pass", "{with_admin}");
        assert_eq!(token_requests(&sandbox.requests()), 3);
        assert_eq!(account(&sandbox, fixtures::SERVICE_USER), (0, false));
        // No secret and no plain hash of one is kept: only keyed fingerprints.
        let ledger = std::fs::read_to_string(dir.path().join("state/refused.json")).unwrap();
        assert!(!ledger.contains("stale-password"), "{ledger}");
    }
}

// ---- setup --no-input and apply ----

#[test]
fn setup_with_a_wrong_service_password_makes_one_token_attempt() {
    let sandbox = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let run = crate::support::Run::of(&mut crate::support::setup_cmd(
        dir.path(),
        &sandbox.url(),
        &["--insecure-storage"],
        &[("SNCONNECT_PASSWORD", "wrong-service-password")],
    ));
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let log = sandbox.requests();
    assert_eq!(token_requests(&log), 1, "{log:#?}");
    assert!(refused_logins(&log).is_empty(), "{log:#?}");
    assert_eq!(account(&sandbox, fixtures::SERVICE_USER), (1, false));
    assert!(
        !dir.path().join("insecure-secrets.toml").exists(),
        "credentials that did not work are not stored"
    );
}

#[test]
fn setup_with_a_wrong_admin_password_makes_one_login_attempt() {
    let sandbox = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let run = crate::support::Run::of(&mut crate::support::setup_cmd(
        dir.path(),
        &sandbox.url(),
        &["--insecure-storage"],
        &[("SNCONNECT_ADMIN_PASSWORD", "wrong-admin-password")],
    ));
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    let log = sandbox.requests();
    assert_eq!(refused_logins(&log).len(), 1, "{log:#?}");
    assert_eq!(account(&sandbox, fixtures::ADMIN_USER), (1, false));
    // The service user's identity is separate and right: with the admin refused nothing says
    // its try must fail, so its one token request went out (after the admin's) and worked.
    assert_eq!(token_requests(&log), 1, "{log:#?}");
    assert_eq!(account(&sandbox, fixtures::SERVICE_USER), (0, false));
}

#[test]
fn setup_that_applies_with_a_wrong_admin_password_makes_one_login_attempt() {
    let sandbox = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let run = crate::support::Run::of(&mut crate::support::setup_cmd(
        dir.path(),
        &sandbox.url(),
        &["--insecure-storage", "--apply", "--yes"],
        &[("SNCONNECT_ADMIN_PASSWORD", "wrong-admin-password")],
    ));
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    let log = sandbox.requests();
    assert_eq!(refused_logins(&log).len(), 1, "{log:#?}");
    assert_eq!(log.len(), 1, "nothing after the refused login: {log:#?}");
    assert_eq!(account(&sandbox, fixtures::ADMIN_USER), (1, false));
}

#[test]
fn apply_with_a_wrong_admin_password_makes_one_login_attempt() {
    for args in [&["--format", "json"][..], &["-v"], &["--dry-run"]] {
        let sandbox = sandbox();
        let dir = tempfile::tempdir().unwrap();
        let run = crate::support::Run::of(&mut crate::support::apply_cmd(
            dir.path(),
            &sandbox.url(),
            args,
            &[("SNCONNECT_ADMIN_PASSWORD", "wrong-admin-password")],
        ));
        assert_eq!(run.code, 3, "{args:?}: {}\n{}", run.stdout, run.stderr);
        let log = sandbox.requests();
        assert_eq!(log.len(), 1, "{args:?}: one request, refused: {log:#?}");
        assert_eq!(refused_logins(&log).len(), 1);
        assert_eq!(
            account(&sandbox, fixtures::ADMIN_USER),
            (1, false),
            "{args:?}"
        );
    }
}

/// apply's re-check uses the service password it was given: a wrong one costs one token
/// request, like verify.
#[test]
fn apply_with_a_wrong_service_password_makes_one_token_attempt() {
    let sandbox = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let run = crate::support::Run::of(&mut crate::support::apply_cmd(
        dir.path(),
        &sandbox.url(),
        &["--format", "json"],
        &[
            ("SNCONNECT_CLIENT_ID", fixtures::CLIENT_ID),
            ("SNCONNECT_CLIENT_SECRET", fixtures::CLIENT_SECRET),
            ("SNCONNECT_PASSWORD", "wrong-service-password"),
        ],
    ));
    let log = sandbox.requests();
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(token_requests(&log), 1, "{log:#?}");
    assert_eq!(account(&sandbox, fixtures::SERVICE_USER), (1, false));
    assert!(run.json()["verify"]
        .codes("connect")
        .contains(&"connect.access_denied"));
}

/// The admin's credentials are remembered too: twenty scheduled runs with a stale admin password
/// cost the admin account one failed login, not one per run.
#[test]
fn twenty_runs_with_a_stale_admin_password_cost_one_failed_login() {
    let sandbox = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let wrong = [("SNCONNECT_ADMIN_PASSWORD", "stale-admin-password")];
    let run_once = |args: &[&str], env: &[(&str, &str)]| {
        crate::support::Run::of(&mut crate::support::verify_cmd(
            dir.path(),
            &sandbox.url(),
            args,
            env,
        ))
    };
    let first = run_once(&[], &wrong);
    assert_eq!(first.code, 3);
    assert_eq!(first.json().codes("instance"), ["instance.admin_rejected"]);
    // Twenty runs in all, as a cron job would make them.
    for _ in 0..19 {
        let again = run_once(&[], &wrong);
        assert_eq!(again.code, 3);
        assert_eq!(
            again.json().codes("instance"),
            ["instance.admin_refused_before"]
        );
    }
    assert_eq!(refused_logins(&sandbox.requests()).len(), 1);
    assert_eq!(account(&sandbox, fixtures::ADMIN_USER), (1, false));
    // The right password is tried at once; --retry-refused retries the stale one.
    let good = run_once(&[], &[]);
    assert_eq!(good.json().status("instance"), "pass", "{}", good.stdout);
    run_once(&["--retry-refused"], &wrong);
    assert_eq!(refused_logins(&sandbox.requests()).len(), 2);
}
