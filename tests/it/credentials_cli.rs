//! `credentials show|forget` as a user meets them: choosing the profile, formats, and no secret in
//! any output unless `--reveal`. Secrets are seeded in the plain file so no keyring is needed; every
//! process runs without a session bus, so none of this touches a keyring.

use std::path::Path;

use crate::support::{seed_plain, snconnect, Run};
use assert_cmd::Command;
use snconnect::credentials::{Profile, SecretKind};

const CLIENT_SECRET: &str = "cs-Xv81-qpL";
const PASSWORD: &str = "pw-Ga55-Wrd";
const ADMIN_PASSWORD: &str = "ad-Mn77-Pzz";

fn seed(dir: &Path) {
    seed_plain(
        dir,
        &Profile {
            name: "acme".into(),
            instance: Some("https://acme.service-now.com".into()),
            client_id: Some("cid-42".into()),
            username: Some("incident.io".into()),
            admin_user: Some("admin".into()),
            ..Profile::default()
        },
        &[
            (SecretKind::ClientSecret, CLIENT_SECRET),
            (SecretKind::Password, PASSWORD),
            (SecretKind::AdminPassword, ADMIN_PASSWORD),
        ],
    );
}

/// The exit code and everything the run printed.
fn output_of(cmd: &mut Command) -> (i32, String) {
    let run = Run::of(cmd);
    (run.code, run.all())
}

#[test]
fn no_output_of_show_contains_a_secret_without_reveal() {
    let tmp = tempfile::tempdir().unwrap();
    seed(tmp.path());
    for args in [
        vec!["credentials", "show", "--profile", "acme"],
        vec![
            "credentials",
            "show",
            "--format",
            "json",
            "--profile",
            "acme",
        ],
    ] {
        let (code, text) = output_of(snconnect(tmp.path()).args(&args));
        assert_eq!(code, 0, "{args:?}: {text}");
        for secret in [CLIENT_SECRET, PASSWORD, ADMIN_PASSWORD] {
            assert!(!text.contains(secret), "{args:?} printed a secret:\n{text}");
            // Nor any recognisable part of one.
            assert!(
                !text.contains(&secret[..5]),
                "{args:?} printed a prefix:\n{text}"
            );
            assert!(
                !text.contains(&secret[secret.len() - 4..]),
                "{args:?} printed a suffix:\n{text}"
            );
        }
    }
    let (code, text) = output_of(snconnect(tmp.path()).args([
        "credentials",
        "show",
        "--profile",
        "acme",
        "--reveal",
    ]));
    assert_eq!(code, 0);
    for secret in [CLIENT_SECRET, PASSWORD, ADMIN_PASSWORD] {
        assert!(text.contains(secret), "--reveal did not print it:\n{text}");
    }
}

#[test]
fn show_json_is_one_object_on_stdout() {
    let tmp = tempfile::tempdir().unwrap();
    seed(tmp.path());
    let out = snconnect(tmp.path())
        .args([
            "credentials",
            "show",
            "--format",
            "json",
            "--profile",
            "acme",
            "--reveal",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["instance"], "https://acme.service-now.com");
    assert_eq!(v["admin_user"], "admin");
    assert_eq!(
        v["secrets"]["client_secret"]["backend"],
        "plain file (insecure)"
    );
    assert_eq!(v["secrets"]["client_secret"]["value"], CLIENT_SECRET);
}

#[test]
fn a_missing_profile_is_a_usage_error_that_lists_the_saved_ones() {
    let tmp = tempfile::tempdir().unwrap();
    seed(tmp.path());
    let (code, text) = output_of(snconnect(tmp.path()).args(["credentials", "show"]));
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("--profile"), "{text}");
    assert!(text.contains("saved profiles: acme"), "{text}");
}

#[test]
fn the_profile_can_come_from_the_environment() {
    let tmp = tempfile::tempdir().unwrap();
    seed(tmp.path());
    let (code, text) = output_of(
        snconnect(tmp.path())
            .env("SNCONNECT_PROFILE", "acme")
            .args(["credentials", "show"]),
    );
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("Profile acme"), "{text}");
}

#[test]
fn a_path_like_profile_name_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, text) =
        output_of(snconnect(tmp.path()).args(["credentials", "forget", "--profile", "../acme"]));
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("invalid profile name"), "{text}");
}

#[test]
fn junit_is_refused_for_credentials() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, text) = output_of(snconnect(tmp.path()).args([
        "credentials",
        "show",
        "--format",
        "junit",
        "--profile",
        "acme",
    ]));
    assert_eq!(code, 2, "{text}");
}

#[test]
fn forget_json_lists_what_was_removed() {
    let tmp = tempfile::tempdir().unwrap();
    seed(tmp.path());
    // No keyring here: forget clears the file and profile, then exits 3 for the unchecked keyring.
    let out = snconnect(tmp.path())
        .args([
            "credentials",
            "forget",
            "--format",
            "json",
            "--profile",
            "acme",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["removed_secrets"].as_array().unwrap().len(), 3);
    assert!(v["removed_config_file"]
        .as_str()
        .unwrap()
        .ends_with("acme.toml"));
    assert!(v["not_reached"][0]["backend"]
        .as_str()
        .unwrap()
        .starts_with("os-keyring"));
    assert!(!tmp.path().join("insecure-secrets.toml").exists());
    assert!(!tmp.path().join("profiles/acme.toml").exists());
}

#[test]
fn the_profile_is_derived_from_the_instance() {
    let tmp = tempfile::tempdir().unwrap();
    seed(tmp.path());
    for instance in [
        "acme",
        "acme.service-now.com",
        "https://acme.service-now.com/",
    ] {
        let (code, text) =
            output_of(snconnect(tmp.path()).args(["credentials", "show", "--instance", instance]));
        assert_eq!(code, 0, "{instance}: {text}");
        assert!(text.contains("Profile acme"), "{instance}: {text}");
        assert!(text.contains("cid-42"), "{instance}: {text}");
    }
    let (code, text) = output_of(snconnect(tmp.path()).args([
        "credentials",
        "show",
        "--instance",
        "http://acme.example.com",
    ]));
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("invalid --instance"), "{text}");
}
