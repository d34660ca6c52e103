//! `apply` with the real OS keyring (gnome-keyring on the private D-Bus session `scripts/test`
//! starts): the secrets it generates land in the Secret Service under the profile, `secret-tool`
//! reads back exactly what the instance was given, and verify finds them there by itself.
//!
//! Under `SNCONNECT_TEST_SECRET_SERVICE=1` an unusable Secret Service is a failure; without it
//! (a plain `cargo test`) the test says it was not run and passes, so it never touches a
//! developer's own keyring.

use std::path::Path;

use crate::support::keyring::{secret_service_required, secret_tool_lookup, unique_profile};
use crate::support::{install_app_by_hand, sandbox_for_apply, snconnect_with_keyring};
use assert_cmd::Command;
use snconnect::sandbox::fixtures;

/// The binary on the session bus, with the fixture admin password in its environment.
fn snconnect(config_dir: &Path) -> Command {
    let mut cmd = snconnect_with_keyring(config_dir);
    cmd.env("SNCONNECT_ADMIN_PASSWORD", fixtures::ADMIN_PASSWORD);
    cmd
}

#[test]
fn generated_secrets_go_to_the_real_keyring_and_verify_finds_them_there() {
    if !secret_service_required("apply_keyring") {
        return;
    }
    let sandbox = sandbox_for_apply("empty", true);
    install_app_by_hand(&sandbox);
    let dir = tempfile::tempdir().unwrap();
    let profile = unique_profile("apply");
    let url = sandbox.url();
    let target = [
        "--no-input",
        "--instance",
        url.as_str(),
        "--profile",
        profile.as_str(),
        "--admin-user",
        fixtures::ADMIN_USER,
    ];

    let out = snconnect(dir.path())
        .arg("apply")
        .args(target)
        .arg("--yes")
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("os-keyring (Secret Service)"), "{text}");

    let stored = secret_tool_lookup(&format!("{profile}:client_secret")).expect("in the keyring");
    let on_instance = sandbox.with_db(|db| {
        let row = db.find("oauth_entity", "name=incident.io")[0].clone();
        db.decrypt_field(&row, "client_secret").unwrap()
    });
    assert_eq!(stored, on_instance);
    assert!(secret_tool_lookup(&format!("{profile}:password")).is_some());
    assert!(!text.contains(&stored), "a secret was printed");

    let verify = snconnect(dir.path())
        .arg("verify")
        .args(target)
        .output()
        .unwrap();
    assert_eq!(
        verify.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );

    let forget = snconnect(dir.path())
        .args(["credentials", "forget", "--profile", profile.as_str()])
        .output()
        .unwrap();
    assert!(forget.status.success());
    assert!(secret_tool_lookup(&format!("{profile}:client_secret")).is_none());
}
