//! The OS keyring backend against a real Secret Service (gnome-keyring on a private D-Bus session,
//! which `scripts/test` starts). Secrets are written through the library, then shown and forgotten
//! through the binary, and `secret-tool` confirms what really is in the keyring.
//!
//! Under `SNCONNECT_TEST_SECRET_SERVICE=1` (set by `scripts/test`) an unusable Secret Service is a
//! failure. Without it (a plain `cargo test` on a developer machine) these tests say they were not
//! run and pass, so they never touch a developer's own keyring by surprise.

use std::process::Command as StdCommand;

use crate::support::keyring::{secret_service_required, secret_tool_lookup, unique_profile};
use crate::support::{secret, snconnect_with_keyring};
use snconnect::credentials::{
    open_store_with, ConfigDir, KeyringStore, Lookup, Profile, SecretKind, SecretStore,
    StoreOptions, StoredSecrets, SERVICE,
};
use snconnect::model::SetupPath;

/// How many items `secret-tool search` finds for a user key (duplicates would make reads ambiguous).
fn secret_tool_count(user: &str) -> usize {
    let out = StdCommand::new("secret-tool")
        .args(["search", "--all", "service", SERVICE, "username", user])
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    text.lines().filter(|l| l.starts_with("secret = ")).count()
}

/// Entries of this process's write checks (`.snconnect-write-check-<pid>-<n>`) still in the
/// keyring. Only this process's: the other tests' snconnect processes probe the same keyring at
/// the same time, and counting their entries, present for a moment, made this test flaky.
fn probe_entries_left() -> usize {
    let out = StdCommand::new("secret-tool")
        .args(["search", "--all", "service", SERVICE])
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let ours = format!(
        "attribute.username = .snconnect-write-check-{}-",
        std::process::id()
    );
    text.lines().filter(|l| l.starts_with(&ours)).count()
}

/// Held by the tests of this process that run a write check, so that one's probe entry is never
/// counted as left behind by the other.
fn probing() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[test]
fn round_trip_store_read_show_reveal_forget_against_the_real_secret_service() {
    if !secret_service_required("round_trip") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = ConfigDir::at(tmp.path().to_path_buf());
    let profile = unique_profile("rt");
    let client_secret = "cs-9fQ2wLx7Rk";
    let password = "pw-Tm4zB8nVe1";

    // Store, as setup/apply will: decide on the store first, then write.
    let probe = probing();
    let store = open_store_with(StoreOptions::default(), &dir, Box::new(KeyringStore::new()))
        .expect("the Secret Service started by scripts/test must be usable");
    assert_eq!(store.backend(), "os-keyring (Secret Service)");
    store
        .set(&profile, SecretKind::ClientSecret, &secret(client_secret))
        .unwrap();
    store
        .set(&profile, SecretKind::Password, &secret(password))
        .unwrap();
    dir.save_profile(&Profile {
        name: profile.clone(),
        instance: Some("https://acme.service-now.com".into()),
        path: Some(SetupPath::App),
        client_id: Some("client-id-abc".into()),
        username: Some("incident.io".into()),
        admin_user: None,
        notify: None,
    })
    .unwrap();

    // The secret really is in the keyring, under the documented service and user key.
    assert_eq!(
        secret_tool_lookup(&format!("{profile}:client_secret")).as_deref(),
        Some(client_secret)
    );
    assert_eq!(
        secret_tool_lookup(&format!("{profile}:password")).as_deref(),
        Some(password)
    );
    // The write check left nothing behind, and nothing went to a plain file.
    assert_eq!(probe_entries_left(), 0);
    drop(probe);
    assert!(!dir.plain_secrets_path().exists());

    // Read back through the library, as verify will.
    let secrets = StoredSecrets::with(Box::new(KeyringStore::new()), &dir);
    match secrets.lookup(&profile, SecretKind::ClientSecret) {
        Lookup::Found { backend, .. } => assert_eq!(backend, "os-keyring (Secret Service)"),
        other => panic!("expected the client secret in the keyring, got {other:?}"),
    }
    assert!(matches!(
        secrets.lookup(&profile, SecretKind::AdminPassword),
        Lookup::NotStored
    ));

    // show: masked, with the backend, and nothing of either secret.
    let out = snconnect_with_keyring(tmp.path())
        .args(["credentials", "show", "--profile", &profile])
        .assert()
        .success()
        .get_output()
        .clone();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stdout.contains("os-keyring (Secret Service)"), "{stdout}");
    assert_eq!(stdout.matches("••••••••").count(), 2, "{stdout}");
    assert!(stdout.contains("client-id-abc"), "{stdout}");
    for s in [client_secret, password] {
        assert!(
            !stdout.contains(s) && !stderr.contains(s),
            "secret in output"
        );
    }

    // show --format json without --reveal: no value fields at all.
    let out = snconnect_with_keyring(tmp.path())
        .args([
            "credentials",
            "show",
            "--format",
            "json",
            "--profile",
            &profile,
        ])
        .assert()
        .success()
        .get_output()
        .clone();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        json["secrets"]["client_secret"]["backend"],
        "os-keyring (Secret Service)"
    );
    assert!(json["secrets"]["client_secret"].get("value").is_none());
    let raw = String::from_utf8(out.stdout).unwrap();
    assert!(!raw.contains(client_secret) && !raw.contains(password));

    // show --reveal: the values, for pasting into incident.io.
    let out = snconnect_with_keyring(tmp.path())
        .args(["credentials", "show", "--profile", &profile, "--reveal"])
        .assert()
        .success()
        .get_output()
        .clone();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains(client_secret) && stdout.contains(password),
        "{stdout}"
    );

    // forget: says what it removed, and the keyring no longer has it.
    let out = snconnect_with_keyring(tmp.path())
        .args(["credentials", "forget", "--profile", &profile])
        .assert()
        .success()
        .get_output()
        .clone();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains("removed the OAuth client secret from os-keyring (Secret Service)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("removed the service user password from os-keyring (Secret Service)"),
        "{stdout}"
    );
    assert!(stdout.contains("removed the profile file"), "{stdout}");
    assert_eq!(
        secret_tool_lookup(&format!("{profile}:client_secret")),
        None
    );
    assert_eq!(secret_tool_lookup(&format!("{profile}:password")), None);
    assert!(!dir.profile_path(&profile).exists());

    // Idempotent: a second forget succeeds and removes nothing.
    snconnect_with_keyring(tmp.path())
        .args(["credentials", "forget", "--profile", &profile])
        .assert()
        .success()
        .stdout(predicates::str::contains("nothing to remove"));
}

#[test]
fn storing_again_replaces_the_entry_instead_of_adding_a_second() {
    if !secret_service_required("storing_again") {
        return;
    }
    let profile = unique_profile("upd");
    let store = KeyringStore::new();
    {
        let _probe = probing();
        store
            .check_available()
            .expect("Secret Service must be usable");
    }
    store
        .set(&profile, SecretKind::AdminPassword, &secret("first-value"))
        .unwrap();
    store
        .set(&profile, SecretKind::AdminPassword, &secret("second-value"))
        .unwrap();
    let user = format!("{profile}:admin_password");
    assert_eq!(secret_tool_lookup(&user).as_deref(), Some("second-value"));
    assert_eq!(secret_tool_count(&user), 1);
    assert!(store.delete(&profile, SecretKind::AdminPassword).unwrap());
    assert!(!store.delete(&profile, SecretKind::AdminPassword).unwrap());
    assert_eq!(secret_tool_lookup(&user), None);
}

#[test]
fn a_secret_stored_by_another_tool_under_our_key_is_read() {
    if !secret_service_required("stored_by_another_tool") {
        return;
    }
    // What a user (or an older snconnect) put there by hand with secret-tool is found by lookup:
    // the attributes are the contract with the keyring, not an internal detail.
    let profile = unique_profile("ext");
    let user = format!("{profile}:password");
    let mut child = StdCommand::new("secret-tool")
        .args([
            "store",
            "--label=snconnect test",
            "service",
            SERVICE,
            "username",
            &user,
        ])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"typed-by-hand")
        .unwrap();
    assert!(child.wait().unwrap().success());
    let store = KeyringStore::new();
    let got = store.get(&profile, SecretKind::Password).unwrap();
    use secrecy::ExposeSecret;
    assert_eq!(
        got.as_ref().map(|s| s.expose_secret()),
        Some("typed-by-hand")
    );
    assert!(store.delete(&profile, SecretKind::Password).unwrap());
}
