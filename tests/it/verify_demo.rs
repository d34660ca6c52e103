//! `snconnect demo`: the first command in the README, so it must work with no setup at all.

use assert_cmd::Command;
use predicates::prelude::*;

fn demo() -> Command {
    let mut cmd = crate::support::snconnect_bare();
    cmd.arg("demo");
    cmd
}

#[test]
fn default_demo_shows_several_diagnoses_and_exits_0() {
    let out = demo().assert().success().get_output().clone();
    let stdout = String::from_utf8(out.stdout).unwrap();
    for code in [
        "service_user.locked_out",
        "roles.missing",
        "task_acls.missing",
        "connect.not_attempted_user_locked_out",
    ] {
        assert!(stdout.contains(code), "{code} missing from:\n{stdout}");
    }
    assert!(stdout.contains("no failed login was spent"));
    assert!(stdout.contains("Next: try `snconnect demo --scenario healthy-app`"));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("simulated ServiceNow instance"), "{stderr}");
}

#[test]
fn healthy_demo_is_all_green() {
    demo()
        .args(["--scenario", "healthy-app"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "8 passed, 0 warned, 0 failed, 0 skipped",
        ));
}

#[test]
fn demo_honours_the_json_format() {
    let out = demo()
        .args([
            "--scenario",
            "healthy-admin",
            "--path",
            "admin",
            "--format",
            "json",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(doc["path"], "admin");
    assert_eq!(doc["ok"], true);
}

#[test]
fn an_unknown_scenario_is_a_usage_error_naming_the_known_ones() {
    demo()
        .args(["--scenario", "no-such-thing"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("healthy-app"));
}

#[test]
fn off_a_terminal_no_spinner_is_drawn() {
    // stderr is a pipe here, as in CI: progress must leave no frames, carriage returns or cursor
    // codes in it (and stdout carries the report alone).
    let out = demo().assert().success().get_output().clone();
    let stderr = String::from_utf8(out.stderr).unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    for text in [&stderr, &stdout] {
        assert!(
            !text.contains('\r') && !text.contains('\u{1b}'),
            "terminal control codes off a terminal: {text:?}"
        );
        assert!(
            !text.chars().any(|c| ('\u{2800}'..='\u{28ff}').contains(&c)),
            "spinner frames off a terminal: {text:?}"
        );
    }
}
