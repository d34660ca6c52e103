//! `snconnect setup` in a real pseudo-terminal, against the in-process sandbox: what a person at a
//! terminal sees and types, including hidden input, Ctrl-C and a second run. The pty driver and
//! what makes it reliable are in tests/it/support/pty.rs.
//!
//! Secrets go to the real keyring when `SNCONNECT_TEST_SECRET_SERVICE=1` (scripts/test runs the
//! suite inside a private D-Bus session with gnome-keyring), otherwise to the 0600 plain file
//! that `--insecure-storage` allows. Every test scans the whole terminal output for the secrets.

#![cfg(unix)]

use std::path::Path;

use snconnect::sandbox::{fixtures, Sandbox, SandboxConfig};

use crate::support::pty;
use pty::{Pty, DOWN, HIDE_CURSOR, SHOW_CURSOR};

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
    spawn_setup_with_env(config_dir, args, &[])
}

/// As [`spawn_setup`], with `env` set in the child's environment.
fn spawn_setup_with_env(config_dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Pty {
    let mut argv = vec!["setup", "--color", "never"];
    argv.extend_from_slice(args);
    if !real_keyring() {
        argv.push("--insecure-storage");
    }
    Pty::spawn_with_env(config_dir, &argv, env)
}

fn assert_no_secret(p: &Pty) {
    p.assert_absent(&SECRETS);
}

/// Answers whether to keep the admin password, then expects the hand-off screen and a clean exit.
fn answer_keep_admin_and_finish(p: &mut Pty, key: &str) {
    p.confirm("Also keep the admin password", key);
    p.expect("Settings → Integrations → ServiceNow → Connect");
    assert_eq!(p.finish(), 0);
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
    p.expect("OAuth application is configured");
    p.expect("Step 3 of 6: Create the service user");
    p.choose("What next?", 0);
    p.answer("Service user name", "");
    p.secret("Service user password", fixtures::SERVICE_PASSWORD);
    p.expect("Service user is configured");
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
    p.expect("Service user is configured");
    p.expect("credentials work");
    answer_keep_admin_and_finish(&mut p, "n");
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
    assert_one_interrupted_line(&p);
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
    assert_one_interrupted_line(&p);
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
    answer_keep_admin_and_finish(&mut p, "y");

    let profile = profile_of(&sandbox);
    let mut p = spawn_setup(dir.path(), &["--profile", &profile]);
    p.expect("answers as a ServiceNow instance");
    p.choose("Which way do you want to connect?", 0);
    p.confirm("Use admin credentials?", "");
    p.answer("Admin user name [admin]", "");
    p.secret("Admin password (Enter keeps the stored one)", "");
    p.expect("Signed in as 'admin'");
    for step in 1..=5 {
        p.expect(&format!("Step {step} of 6"));
        p.expect("already done");
    }
    p.expect("Step 6 of 6: Connect as incident.io: already works");
    answer_keep_admin_and_finish(&mut p, "\r");
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

/// The requests that changed something in the sandbox: everything but reads.
fn writes(sandbox: &Sandbox) -> Vec<String> {
    sandbox
        .requests()
        .into_iter()
        .filter(|r| r.method != "GET" && r.path.starts_with("/api/now/table/"))
        .map(|r| format!("{} {} -> {}", r.method, r.path, r.status))
        .collect()
}

/// `(locked_out, failed_attempts)` of the fixture service user, read from the sandbox's table.
fn service_account(sandbox: &Sandbox) -> (String, String) {
    sandbox.with_db(|db| {
        let row = db
            .user_by_name(fixtures::SERVICE_USER)
            .expect("the service user exists");
        let field = |name: &str| row.get(name).cloned().unwrap_or_default();
        (field("locked_out"), field("failed_attempts"))
    })
}

/// Signs in, gives the OAuth values, and stops at the service user step's menu, which on the
/// user-locked scenario offers "Let snconnect do it" one place below "Check now".
fn up_to_the_locked_user_step(p: &mut Pty) {
    sign_in_as_admin(p);
    p.expect("Service user (fail)");
    p.expect("Step 2 of 6: Create the OAuth application");
    p.choose("What next?", 0);
    p.answer("OAuth client ID", fixtures::CLIENT_ID);
    p.secret("OAuth client secret", fixtures::CLIENT_SECRET);
    p.expect("OAuth application is configured");
    p.expect("Step 3 of 6: Create the service user");
    p.expect("What next?");
    p.expect("Let snconnect do it");
}

#[test]
fn let_snconnect_do_it_unlocks_the_user_with_one_patch_and_checks_again() {
    let sandbox = Sandbox::start(SandboxConfig::scenario("user-locked")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut p = spawn_setup(dir.path(), &["--instance", &sandbox.url()]);
    up_to_the_locked_user_step(&mut p);
    assert!(writes(&sandbox).is_empty(), "{:?}", writes(&sandbox));
    p.send(&format!("{DOWN}\r"));
    // The plan, then one question before anything is written.
    p.expect("unlock it");
    p.confirm("Make this change to", "y");
    // What was written, then the step's own values, then the check again.
    p.expect("Service user name");
    p.send("\r");
    p.secret("Service user password", fixtures::SERVICE_PASSWORD);
    p.expect("Checking");
    p.expect("Service user is configured");
    p.expect("Step 4 of 6: Give the service user its roles: already done");
    p.expect("Step 5 of 6: Let the app's role work on task records: already done");
    p.expect("Step 6 of 6: Connect as incident.io");
    p.expect("credentials work");
    answer_keep_admin_and_finish(&mut p, "n");
    assert_no_secret(&p);

    let text = console::strip_ansi_codes(&p.text()).into_owned();
    let asked = text.find("Make this change to").unwrap();
    let checked = text.find("Service user is configured").unwrap();
    assert!(
        text[asked..checked].contains("✓ updated")
            && text[asked..checked].contains("sys_user: repair the existing user")
            && text[asked..checked].contains("unlock it"),
        "the repair is reported before the check:\n{text}"
    );
    let (locked, failed) = service_account(&sandbox);
    assert_eq!((locked.as_str(), failed.as_str()), ("false", "0"));
    let written = writes(&sandbox);
    let patches: Vec<&String> = written
        .iter()
        .filter(|w| w.starts_with("PATCH /api/now/table/sys_user/"))
        .collect();
    assert_eq!(patches.len(), 1, "{written:?}");
    assert_eq!(written.len(), 1, "nothing else was written: {written:?}");
    assert!(patches[0].ends_with("-> 200"), "{written:?}");
}

#[test]
fn declining_the_plan_writes_nothing_and_brings_the_menu_back() {
    let sandbox = Sandbox::start(SandboxConfig::scenario("user-locked")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut p = spawn_setup(dir.path(), &["--instance", &sandbox.url()]);
    up_to_the_locked_user_step(&mut p);
    let before = sandbox.requests().len();
    p.send(&format!("{DOWN}\r"));
    p.expect("unlock it");
    p.confirm("Make this change to", "n");
    p.expect("Nothing was changed");
    // Straight back to the step's choices: no values asked for, nothing checked.
    p.expect("What next?");
    p.expect("Let snconnect do it");
    p.send("\x03");
    p.expect("Interrupted");
    assert_eq!(p.finish(), 130);
    assert_no_secret(&p);
    assert_one_interrupted_line(&p);

    let text = console::strip_ansi_codes(&p.text()).into_owned();
    let declined = text.find("Nothing was changed").unwrap();
    assert!(
        !text[declined..].contains("Service user name"),
        "asked for the user after declining:\n{text}"
    );
    assert!(writes(&sandbox).is_empty(), "{:?}", writes(&sandbox));
    let after: Vec<_> = sandbox.requests().split_off(before);
    assert!(
        after.iter().all(|r| r.method == "GET"),
        "only reads after the menu: {after:?}"
    );
    assert!(
        !after.iter().any(|r| r.path == "/oauth_token.do"),
        "no login was tried for the locked user: {after:?}"
    );
    let (locked, failed) = service_account(&sandbox);
    assert_eq!((locked.as_str(), failed.as_str()), ("true", "5"));
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "nothing stored"
    );
}

/// An access token for the sandbox admin, from the sandbox's own token endpoint: what an SSO
/// admin would bring instead of a password.
fn admin_token(sandbox: &Sandbox) -> String {
    use secrecy::{ExposeSecret, SecretString};
    let instance = snconnect::instance::Instance::parse(&sandbox.url()).unwrap();
    let client = snconnect::servicenow::Client::new(
        &instance,
        &snconnect::servicenow::ClientOptions::default(),
    )
    .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let token = rt
        .block_on(client.password_grant(
            fixtures::CLIENT_ID,
            &SecretString::from(fixtures::CLIENT_SECRET),
            fixtures::ADMIN_USER,
            &SecretString::from(fixtures::ADMIN_PASSWORD),
        ))
        .expect("the sandbox issues the admin a token");
    token.access_token.expose_secret().to_string()
}

#[test]
fn an_sso_admin_token_is_used_without_asking_for_a_password_and_never_shown() {
    let sandbox = Sandbox::start(SandboxConfig::scenario("healthy-app")).unwrap();
    let token = admin_token(&sandbox);
    let minted = sandbox.requests().len();
    let dir = tempfile::tempdir().unwrap();
    let mut p = spawn_setup_with_env(
        dir.path(),
        &["--instance", &sandbox.url()],
        &[("SNCONNECT_ADMIN_TOKEN", &token)],
    );
    p.expect("answers as a ServiceNow instance");
    p.choose("Which way do you want to connect?", 0);
    p.expect("SNCONNECT_ADMIN_TOKEN");
    p.expect("Signed in with the admin token");
    p.expect("Step 1 of 6: Install the incident.io app: already done");
    give_service_credentials(&mut p);
    p.expect("Step 4 of 6: Give the service user its roles: already done");
    p.expect("Step 5 of 6: Let the app's role work on task records: already done");
    p.expect("credentials work");
    p.expect("Settings → Integrations → ServiceNow → Connect");
    assert_eq!(p.finish(), 0);
    assert_no_secret(&p);
    p.assert_absent(&[&token]);

    let text = p.text();
    for question in [
        "Use admin credentials?",
        "Admin user name",
        "Admin password",
        "Also keep the admin password",
    ] {
        assert!(!text.contains(question), "asked {question:?}:\n{text}");
    }
    // Every admin read went with the token; no request signed in with a password.
    let used: Vec<_> = sandbox.requests().split_off(minted);
    assert!(
        used.iter()
            .any(|r| r.path.starts_with("/api/now/table/sys_user_has_role")
                && r.user.as_deref() == Some("token:admin")),
        "{used:?}"
    );
    assert!(
        !used.iter().any(|r| r.user.as_deref() == Some("admin")),
        "the admin password was used: {used:?}"
    );
    let shown = stored(dir.path(), &profile_of(&sandbox));
    assert!(!shown.contains(&token), "the token was stored");
    assert!(shown.contains(fixtures::SERVICE_PASSWORD), "{shown}");
}

/// Issue 14: one "Interrupted" line, whichever path (the signal or the key) saw the Ctrl-C.
fn assert_one_interrupted_line(p: &crate::support::pty::Pty) {
    assert_eq!(
        console::strip_ansi_codes(&p.text())
            .matches("Interrupted")
            .count(),
        1,
        "{}",
        p.text()
    );
}
