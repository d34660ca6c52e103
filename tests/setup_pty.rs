//! `snconnect setup` in a real pseudo-terminal, against the in-process sandbox: what a person at a
//! terminal sees and types, including hidden input, Ctrl-C and a second run. The pty driver and
//! what makes it reliable are in tests/support/pty.rs.
//!
//! Secrets go to the real keyring when `SNCONNECT_TEST_SECRET_SERVICE=1` (scripts/test runs the
//! suite inside a private D-Bus session with gnome-keyring), otherwise to the 0600 plain file
//! that `--insecure-storage` allows. Every test scans the whole terminal output for the secrets.

#![cfg(unix)]

use std::path::Path;

use snconnect::sandbox::{fixtures, Sandbox, SandboxConfig};

#[path = "support/pty.rs"]
mod pty;
use pty::{Pty, HIDE_CURSOR, SHOW_CURSOR};

const SECRETS: [&str; 3] = [
    fixtures::ADMIN_PASSWORD,
    fixtures::CLIENT_SECRET,
    fixtures::SERVICE_PASSWORD,
];

fn real_keyring() -> bool {
    std::env::var("SNCONNECT_TEST_SECRET_SERVICE").is_ok_and(|v| v == "1")
}

/// The wizard in a pty: `snconnect setup` without colour, storing into the real keyring when the
/// suite has one, else into the plain file that `--insecure-storage` allows.
fn spawn_setup(config_dir: &Path, args: &[&str]) -> Pty {
    let mut argv = vec!["setup", "--color", "never"];
    argv.extend_from_slice(args);
    if !real_keyring() {
        argv.push("--insecure-storage");
    }
    Pty::spawn(config_dir, &argv)
}

fn assert_no_secret(p: &Pty) {
    p.assert_absent(&SECRETS);
}

/// Signs in as the sandbox admin on the app path, up to the survey.
fn sign_in_as_admin(p: &mut Pty) {
    p.expect("answers as a ServiceNow instance");
    p.choose("Which way do you want to connect?", 0);
    p.confirm("Use admin credentials?", "y");
    p.answer("Admin user name", "");
    p.secret("Admin password", fixtures::ADMIN_PASSWORD);
    p.expect("Signed in as 'admin'");
}

/// The OAuth and service user steps, checked with the sandbox's values.
fn give_service_credentials(p: &mut Pty) {
    p.expect("Step 2 of 6: Create the OAuth application");
    p.choose("What next?", 0);
    p.answer("OAuth client ID", fixtures::CLIENT_ID);
    p.secret("OAuth client secret", fixtures::CLIENT_SECRET);
    p.expect("OAuth application passes");
    p.expect("Step 3 of 6: Create the service user");
    p.choose("What next?", 0);
    p.answer("Service user name", "");
    p.secret("Service user password", fixtures::SERVICE_PASSWORD);
    p.expect("Service user passes");
}

fn profile_of(sandbox: &Sandbox) -> String {
    snconnect::instance::Instance::parse(&sandbox.url())
        .unwrap()
        .profile_name()
}

/// What `credentials show --reveal` prints for the profile: proof of what was stored.
fn stored(config_dir: &Path, profile: &str) -> String {
    let out = assert_cmd::Command::cargo_bin("snconnect")
        .unwrap()
        .env("SNCONNECT_CONFIG_DIR", config_dir)
        .env_remove("RUST_BACKTRACE")
        .args(["credentials", "show", "--reveal", "--profile", profile])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn full_happy_path_ends_with_stored_credentials_and_the_hand_off() {
    let sandbox = Sandbox::start(SandboxConfig::scenario("healthy-app")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut p = spawn_setup(dir.path(), &["--instance", &sandbox.url()]);
    sign_in_as_admin(&mut p);
    p.expect("Step 1 of 6: Install the incident.io app: already done");
    give_service_credentials(&mut p);
    p.expect("Step 4 of 6: Give the service user its roles: already done");
    p.expect("Step 5 of 6: Let the app's role work on task records: already done");
    p.expect("credentials work");
    p.confirm("Also keep the admin password", "n");
    p.expect("Settings → Integrations → ServiceNow → Connect");
    p.expect(fixtures::CLIENT_ID);
    p.expect("credentials show --reveal --profile");
    assert_eq!(p.finish(), 0);
    assert_no_secret(&p);

    let shown = stored(dir.path(), &profile_of(&sandbox));
    assert!(shown.contains(fixtures::CLIENT_SECRET), "{shown}");
    assert!(shown.contains(fixtures::SERVICE_PASSWORD), "{shown}");
    assert!(!shown.contains(fixtures::ADMIN_PASSWORD), "{shown}");
    if real_keyring() {
        assert!(shown.contains("os-keyring"), "{shown}");
        assert!(!dir.path().join("insecure-secrets.toml").exists());
    }
}

#[test]
fn a_broken_step_is_found_fixed_by_hand_and_checked_again() {
    let sandbox = Sandbox::start(SandboxConfig::scenario("user-locked")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut p = spawn_setup(dir.path(), &["--instance", &sandbox.url()]);
    sign_in_as_admin(&mut p);
    p.expect("Service user (fail)");
    p.expect("Step 2 of 6");
    p.choose("What next?", 0);
    p.answer("OAuth client ID", fixtures::CLIENT_ID);
    p.secret("OAuth client secret", fixtures::CLIENT_SECRET);
    p.expect("Step 3 of 6: Create the service user");
    p.choose("What next?", 0);
    p.answer("Service user name", "");
    p.secret("Service user password", fixtures::SERVICE_PASSWORD);
    p.expect("does not pass yet");
    p.expect("service_user.locked_out");
    p.expect("fix:");
    p.expect("What next?");
    // The admin unlocks the user in ServiceNow, then checks again.
    sandbox.with_db(|db| {
        db.update_where(
            "sys_user",
            "user_name=incident.io",
            &[("locked_out", "false"), ("failed_attempts", "0")],
        )
    });
    p.send("\r");
    p.answer("Service user name", "");
    p.secret("Service user password (Enter keeps", "");
    p.expect("Service user passes");
    p.expect("credentials work");
    p.confirm("Also keep the admin password", "n");
    p.expect("Settings → Integrations");
    assert_eq!(p.finish(), 0);
    assert_no_secret(&p);
}

#[test]
fn without_admin_credentials_the_steps_are_guided_and_connect_checked_last() {
    let sandbox = Sandbox::start(SandboxConfig::scenario("healthy-admin")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut p = spawn_setup(dir.path(), &["--instance", &sandbox.url()]);
    p.expect("answers as a ServiceNow instance");
    p.choose("Which way do you want to connect?", 1); // admin
    p.confirm("Use admin credentials?", "n");
    p.expect("No admin credentials");
    p.expect("Step 1 of 5");
    p.choose("What next?", 0);
    p.expect("Step 2 of 5");
    p.choose("What next?", 0);
    p.answer("OAuth client ID", fixtures::CLIENT_ID);
    p.secret("OAuth client secret", fixtures::CLIENT_SECRET);
    p.expect("Step 3 of 5");
    p.choose("What next?", 0);
    p.answer("Service user name", "");
    p.secret("Service user password", fixtures::SERVICE_PASSWORD);
    p.expect("Step 4 of 5");
    p.choose("What next?", 0);
    p.expect("Step 5 of 5: Connect as incident.io");
    p.expect("credentials work");
    p.expect("Settings → Integrations");
    assert_eq!(p.finish(), 0);
    assert_no_secret(&p);
    let text = p.text();
    assert!(
        !text.contains("Also keep the admin password"),
        "nothing to keep"
    );
}

#[test]
fn ctrl_c_at_a_hidden_prompt_restores_echo_and_stores_nothing() {
    let sandbox = Sandbox::start(SandboxConfig::scenario("healthy-app")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut p = spawn_setup(dir.path(), &["--instance", &sandbox.url()]);
    p.expect("answers as a ServiceNow instance");
    p.choose("Which way do you want to connect?", 0);
    p.confirm("Use admin credentials?", "y");
    p.answer("Admin user name", "");
    p.expect("Admin password");
    p.wait_for_hidden_input();
    p.send("\x03");
    p.expect("Interrupted: nothing was stored");
    // The handler put the terminal back before exiting: echo is on again.
    let flags = p.local_flags();
    assert_ne!(flags & libc::ECHO, 0, "echo was left off");
    assert_eq!(p.finish(), 130);
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "nothing written"
    );
}

#[test]
fn ctrl_c_at_a_list_shows_the_cursor_again() {
    let sandbox = Sandbox::start(SandboxConfig::scenario("healthy-app")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut p = spawn_setup(dir.path(), &["--instance", &sandbox.url()]);
    // dialoguer hides the cursor, then draws the list.
    p.expect(HIDE_CURSOR);
    p.expect("Which way do you want to connect?");
    p.send("\x03");
    p.expect("Interrupted");
    assert_eq!(p.finish(), 130);
    let text = p.text();
    let hidden_at = text.rfind(HIDE_CURSOR).unwrap();
    assert!(
        text[hidden_at..].contains(SHOW_CURSOR),
        "the cursor stayed hidden: {text:?}"
    );
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());
}

#[test]
fn a_second_run_offers_what_it_knows_and_skips_what_passes() {
    let sandbox = Sandbox::start(SandboxConfig::scenario("healthy-app")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut p = spawn_setup(dir.path(), &["--instance", &sandbox.url()]);
    sign_in_as_admin(&mut p);
    give_service_credentials(&mut p);
    p.expect("credentials work");
    p.confirm("Also keep the admin password", "y");
    p.expect("Settings → Integrations");
    assert_eq!(p.finish(), 0);

    let profile = profile_of(&sandbox);
    let mut p = spawn_setup(dir.path(), &["--profile", &profile]);
    p.expect("answers as a ServiceNow instance");
    p.choose("Which way do you want to connect?", 0);
    p.confirm("Use admin credentials?", "\r");
    p.answer("Admin user name [admin]", "");
    p.secret("Admin password (Enter keeps the stored one)", "");
    p.expect("Signed in as 'admin'");
    for step in 1..=5 {
        p.expect(&format!("Step {step} of 6"));
        p.expect("already done");
    }
    p.expect("Step 6 of 6: Connect as incident.io: already works");
    p.confirm("Also keep the admin password", "\r");
    p.expect("Settings → Integrations");
    assert_eq!(p.finish(), 0);
    assert_no_secret(&p);
}

#[test]
fn secrets_appear_only_on_the_hand_off_and_only_with_reveal() {
    let sandbox = Sandbox::start(SandboxConfig::scenario("healthy-app")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut p = spawn_setup(dir.path(), &["--instance", &sandbox.url(), "--reveal"]);
    sign_in_as_admin(&mut p);
    give_service_credentials(&mut p);
    p.expect("credentials work");
    p.confirm("Also keep the admin password", "n");
    assert_eq!(p.finish(), 0);
    let text = p.text();
    let hand_off = text
        .find("Settings → Integrations")
        .expect("the hand-off screen");
    for secret in SECRETS {
        assert!(
            !text[..hand_off].contains(secret),
            "a secret was on screen before the hand-off"
        );
    }
    assert!(text[hand_off..].contains(fixtures::CLIENT_SECRET));
    assert!(text[hand_off..].contains(fixtures::SERVICE_PASSWORD));
    assert!(!text.contains(fixtures::ADMIN_PASSWORD));
}
