//! `snconnect setup` without a terminal: inputs from flags, environment and stdin; the report on
//! stdout; the credentials stored only when `connect` proved them; exit codes as verify's.
//!
//! The runs keep the session bus, so setup stores into the keyring `scripts/test` starts (with
//! `--insecure-storage` falling back to the plain file only where there is none).

use crate::support::{
    assert_no_fixture_secret, fixture_env, profile_of, snconnect_with_keyring, Run,
};
use assert_cmd::Command;
use serde_json::Value;
use snconnect::sandbox::{fixtures, Sandbox, SandboxConfig};

/// Every input the unattended setup needs, from the environment.
fn with_all_inputs(cmd: &mut Command, url: &str) {
    fixture_env(cmd).env("SNCONNECT_INSTANCE", url);
}

#[test]
fn a_missing_instance_is_exit_2_naming_the_flag_and_variable() {
    let dir = tempfile::tempdir().unwrap();
    let out = Run::of(snconnect_with_keyring(dir.path()).args(["setup", "--no-input"]));
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("--instance"), "{}", out.stderr);
    assert!(out.stderr.contains("SNCONNECT_INSTANCE"), "{}", out.stderr);
}

#[test]
fn missing_credentials_are_exit_2_naming_each_flag_and_variable() {
    let dir = tempfile::tempdir().unwrap();
    let out = Run::of(snconnect_with_keyring(dir.path()).args([
        "setup",
        "--no-input",
        "--instance",
        "http://127.0.0.1:9",
    ]));
    assert_eq!(out.code, 2, "{}", out.stderr);
    for needle in [
        "--admin-user",
        "SNCONNECT_ADMIN_PASSWORD",
        "--client-id or SNCONNECT_CLIENT_ID",
        "--client-secret-stdin or SNCONNECT_CLIENT_SECRET",
        "--password-stdin or SNCONNECT_PASSWORD",
    ] {
        assert!(out.stderr.contains(needle), "{needle}: {}", out.stderr);
    }
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "nothing written"
    );
}

#[test]
fn a_healthy_instance_is_checked_and_its_credentials_stored() {
    let sandbox = Sandbox::start(SandboxConfig::scenario("healthy-app")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = snconnect_with_keyring(dir.path());
    with_all_inputs(&mut cmd, &sandbox.url());
    let out = Run::of(cmd.args([
        "setup",
        "--no-input",
        "--insecure-storage",
        "--format",
        "json",
    ]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let json: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(json["ok"], true);
    assert!(out.stderr.contains("Stored the"), "{}", out.stderr);
    assert!(out
        .stderr
        .contains("Settings → Integrations → ServiceNow → Connect"));
    assert!(out.stderr.contains("credentials show --reveal --profile"));
    assert_no_fixture_secret(&out);

    // What was stored is what was given: read it back the way a user would.
    let profile = profile_of(&sandbox.url());
    let shown = Run::of(snconnect_with_keyring(dir.path()).args([
        "credentials",
        "show",
        "--reveal",
        "--profile",
        &profile,
    ]));
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    assert!(
        shown.stdout.contains(fixtures::CLIENT_SECRET),
        "{}",
        shown.stdout
    );
    assert!(shown.stdout.contains(fixtures::SERVICE_PASSWORD));
    assert!(
        !shown.stdout.contains(fixtures::ADMIN_PASSWORD),
        "the admin password is never stored unasked"
    );

    // And a later verify needs nothing but the profile.
    let verify = Run::of(snconnect_with_keyring(dir.path()).args([
        "verify",
        "--no-input",
        "--profile",
        &profile,
        "--only",
        "connect",
        "--format",
        "json",
    ]));
    assert_eq!(verify.code, 0, "{}\n{}", verify.stdout, verify.stderr);
}

#[test]
fn a_failing_connection_is_exit_1_and_stores_nothing() {
    let sandbox = Sandbox::start(SandboxConfig::scenario("user-locked")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = snconnect_with_keyring(dir.path());
    with_all_inputs(&mut cmd, &sandbox.url());
    let out = Run::of(cmd.args(["setup", "--no-input", "--insecure-storage"]));
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("service_user.locked_out"),
        "{}",
        out.stdout
    );
    assert!(out.stderr.contains("Nothing was stored"), "{}", out.stderr);
    assert!(!dir.path().join("profiles").exists());
    assert!(!dir.path().join("insecure-secrets.toml").exists());
    assert_no_fixture_secret(&out);
}

#[test]
fn secrets_can_come_from_stdin() {
    let sandbox = Sandbox::start(SandboxConfig::scenario("healthy-app")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let input = format!(
        "{}\n{}\n{}\n",
        fixtures::ADMIN_PASSWORD,
        fixtures::CLIENT_SECRET,
        fixtures::SERVICE_PASSWORD
    );
    let out = Run::of(
        snconnect_with_keyring(dir.path())
            .args([
                "setup",
                "--no-input",
                "--insecure-storage",
                "--instance",
                &sandbox.url(),
                "--admin-user",
                fixtures::ADMIN_USER,
                "--admin-password-stdin",
                "--client-id",
                fixtures::CLIENT_ID,
                "--client-secret-stdin",
                "--password-stdin",
            ])
            .write_stdin(input),
    );
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_no_fixture_secret(&out);
}

#[test]
fn without_a_keyring_it_fails_closed_before_touching_the_instance() {
    let sandbox = Sandbox::start(SandboxConfig::scenario("healthy-app")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = snconnect_with_keyring(dir.path());
    with_all_inputs(&mut cmd, &sandbox.url());
    // No session bus: the keyring cannot be reached.
    cmd.env_remove("DBUS_SESSION_BUS_ADDRESS");
    let out = Run::of(cmd.args(["setup", "--no-input"]));
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(out.stderr.contains("Nothing was written"), "{}", out.stderr);
    assert!(out.stderr.contains("--insecure-storage"), "{}", out.stderr);
    assert!(
        sandbox.requests().is_empty(),
        "no request before the store was proven"
    );
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());
}

#[test]
fn apply_creates_what_is_missing_then_the_supplied_secrets_are_stored() {
    let sandbox = Sandbox::start(SandboxConfig::scenario("user-missing")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = snconnect_with_keyring(dir.path());
    cmd.env("SNCONNECT_INSTANCE", sandbox.url())
        .env("SNCONNECT_ADMIN_USER", fixtures::ADMIN_USER)
        .env("SNCONNECT_ADMIN_PASSWORD", fixtures::ADMIN_PASSWORD)
        .env("SNCONNECT_CLIENT_ID", fixtures::CLIENT_ID)
        .env("SNCONNECT_CLIENT_SECRET", fixtures::CLIENT_SECRET);
    let out = Run::of(cmd.args([
        "setup",
        "--no-input",
        "--insecure-storage",
        "--apply",
        "--yes",
    ]));
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr
            .contains("Stored the supplied OAuth client secret"),
        "{}",
        out.stderr
    );
    assert_no_fixture_secret(&out);
    let shown = Run::of(snconnect_with_keyring(dir.path()).args([
        "credentials",
        "show",
        "--reveal",
        "--profile",
        &profile_of(&sandbox.url()),
    ]));
    assert!(
        shown.stdout.contains(fixtures::CLIENT_SECRET),
        "{}",
        shown.stdout
    );
    let password_line = shown
        .stdout
        .lines()
        .find(|l| l.contains("service user password"))
        .unwrap_or_default();
    assert!(
        password_line.contains("(in "),
        "the generated password is stored: {}",
        shown.stdout
    );
}

#[test]
fn apply_without_admin_credentials_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = Run::of(snconnect_with_keyring(dir.path()).args([
        "setup",
        "--no-input",
        "--apply",
        "--instance",
        "http://127.0.0.1:9",
    ]));
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("--admin-user"), "{}", out.stderr);
}
