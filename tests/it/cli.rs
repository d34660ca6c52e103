//! The command tree as a user meets it: help, version, completions, usage errors.

use crate::support::snconnect_bare;
use assert_cmd::Command;
use predicates::prelude::*;

/// stdout of a run that must succeed.
fn success_stdout(cmd: &mut Command) -> String {
    String::from_utf8(cmd.assert().success().get_output().stdout.clone()).unwrap()
}

#[test]
fn help_lists_every_contract_command() {
    let text = success_stdout(snconnect_bare().arg("--help"));
    for cmd in [
        "setup",
        "verify",
        "apply",
        "credentials",
        "demo",
        "sandbox",
        "completions",
    ] {
        assert!(text.contains(cmd), "--help does not mention {cmd}:\n{text}");
    }
}

#[test]
fn version_names_the_crate_version() {
    snconnect_bare()
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::contains(env!("CARGO_PKG_VERSION")));
}

#[test]
fn completions_are_printed_for_each_shell() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        snconnect_bare()
            .args(["completions", shell])
            .assert()
            .success()
            .stdout(predicate::str::contains("snconnect"));
    }
}

#[test]
fn an_unknown_flag_is_a_usage_error() {
    snconnect_bare()
        .args(["verify", "--no-such-flag"])
        .assert()
        .code(2);
}

#[test]
fn help_never_shows_a_secret_from_the_environment() {
    let text = success_stdout(
        snconnect_bare()
            .args(["verify", "--help"])
            .env("SNCONNECT_PASSWORD", "hunter2-env-secret")
            .env("SNCONNECT_CLIENT_SECRET", "client-env-secret")
            .env("SNCONNECT_ADMIN_PASSWORD", "admin-env-secret"),
    );
    for secret in [
        "hunter2-env-secret",
        "client-env-secret",
        "admin-env-secret",
    ] {
        assert!(!text.contains(secret));
    }
}

#[test]
fn an_unreadable_ca_cert_is_a_usage_error_with_the_flag_named_as_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.pem");
    let out = snconnect_bare()
        .args(["verify", "--instance", "http://127.0.0.1:9", "--no-input"])
        .arg("--ca-cert")
        .arg(&missing)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot use the CA certificate file"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: pass a readable PEM file to --ca-cert"),
        "{stderr}"
    );
}
