//! Issue 11's honest exits: CI must not go green having verified nothing.
//!
//! - an input variable that is set but empty (a mistyped CI secret name) is exit 2, naming it;
//! - with `--strict`, a check skipped because an input is missing fails the run (exit 1), and the
//!   human summary says what was not verified and why;
//! - `--checks` states deliberately what a run covers: the others are not selected, not missing.

use crate::support::{sandbox, snconnect, ReportExt, Run};
use snconnect::sandbox::fixtures;

/// verify with only the given variables (no fixture credentials unless passed).
fn verify_with_env(url: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = snconnect(dir.path());
    cmd.args(["verify", "--no-input", "--instance", url])
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    Run::of(&mut cmd)
}

#[test]
fn a_secret_variable_set_but_empty_is_exit_2_naming_it() {
    let sb = sandbox("healthy-app");
    let run = verify_with_env(
        &sb.url(),
        &["--strict"],
        &[
            ("SNCONNECT_CLIENT_ID", fixtures::CLIENT_ID),
            ("SNCONNECT_CLIENT_SECRET", ""),
            ("SNCONNECT_PASSWORD", fixtures::SERVICE_PASSWORD),
        ],
    );
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr
            .contains("SNCONNECT_CLIENT_SECRET is set but empty"),
        "{}",
        run.stderr
    );
    assert!(
        sb.requests().is_empty(),
        "nothing may be sent: {:?}",
        sb.requests()
    );
}

#[test]
fn strict_fails_a_run_that_verified_nothing_and_says_so() {
    let sb = sandbox("healthy-app");
    // Without --strict: reported, exit 0 (the contract: missing credentials are not an error).
    let lenient = verify_with_env(&sb.url(), &[], &[]);
    assert_eq!(lenient.code, 0, "{}", lenient.all());
    let strict = verify_with_env(&sb.url(), &["--strict", "--format", "json"], &[]);
    assert_eq!(strict.code, 1, "{}", strict.all());
    assert_eq!(strict.report()["ok"], false);
    assert_eq!(strict.status("connect"), "skip");

    let human = verify_with_env(&sb.url(), &["--strict"], &[]);
    assert_eq!(human.code, 1);
    assert!(
        human.stdout.contains(
            "7 not verified (app, oauth_app, service_user, roles, task_acls, posture, connect): \
             missing admin credentials and the client id, client secret and password; --strict counts \
             that as a failure"
        ),
        "{}",
        human.stdout
    );
}

#[test]
fn checks_names_what_a_run_covers_and_the_rest_is_not_unverified() {
    let sb = sandbox("healthy-app");
    let env = [
        ("SNCONNECT_ADMIN_USER", fixtures::ADMIN_USER),
        ("SNCONNECT_ADMIN_PASSWORD", fixtures::ADMIN_PASSWORD),
    ];
    // Admin credentials only: connect cannot run. Named deliberately, that is a pass.
    let run = verify_with_env(
        &sb.url(),
        &[
            "--strict",
            "--checks",
            "instance,app,oauth_app,service_user,roles,task_acls",
        ],
        &env,
    );
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(!run.stdout.contains("not verified"), "{}", run.stdout);
    // Not named: connect is unverified, and --strict fails.
    let run = verify_with_env(&sb.url(), &["--strict"], &env);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stdout.contains("1 not verified (connect)"),
        "{}",
        run.stdout
    );
}
