//! `apply` with the real OS keyring (gnome-keyring on the private D-Bus session `scripts/test`
//! starts): the secrets it generates land in the Secret Service under the profile, `secret-tool`
//! reads back exactly what the instance was given, and verify finds them there by itself.
//!
//! Under `SNCONNECT_TEST_SECRET_SERVICE=1` an unusable Secret Service is a failure; without it
//! (a plain `cargo test`) the test says it was not run and passes, so it never touches a
//! developer's own keyring.

use std::process::Command as StdCommand;

use assert_cmd::Command;
use snconnect::credentials::SERVICE;
use snconnect::sandbox::{fixtures, Sandbox, SandboxConfig};

fn secret_tool_lookup(user: &str) -> Option<String> {
    let out = StdCommand::new("secret-tool")
        .args(["lookup", "service", SERVICE, "username", user])
        .output()
        .expect("secret-tool must be installed when SNCONNECT_TEST_SECRET_SERVICE=1");
    out.status
        .success()
        .then(|| String::from_utf8(out.stdout).unwrap())
}

fn snconnect(config_dir: &std::path::Path) -> Command {
    let mut cmd = Command::cargo_bin("snconnect").unwrap();
    for var in [
        "RUST_BACKTRACE",
        "RUST_LIB_BACKTRACE",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "CI",
        "SNCONNECT_PROFILE",
        "SNCONNECT_INSTANCE",
        "SNCONNECT_FORMAT",
        "SNCONNECT_CLIENT_ID",
        "SNCONNECT_CLIENT_SECRET",
        "SNCONNECT_PASSWORD",
        "SNCONNECT_ADMIN_TOKEN",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("SNCONNECT_CONFIG_DIR", config_dir)
        .env("SNCONNECT_ADMIN_PASSWORD", fixtures::ADMIN_PASSWORD);
    cmd
}

#[test]
fn generated_secrets_go_to_the_real_keyring_and_verify_finds_them_there() {
    if std::env::var("SNCONNECT_TEST_SECRET_SERVICE").as_deref() != Ok("1") {
        eprintln!(
            "apply_keyring: NOT RUN: needs a real Secret Service; run scripts/test (it starts a \
             private one) to run it"
        );
        return;
    }
    let sandbox = Sandbox::start(SandboxConfig {
        allow_acl_insert: true,
        ..SandboxConfig::scenario("empty")
    })
    .unwrap();
    sandbox.with_db(|db| {
        db.insert(
            "sys_store_app",
            &[("scope", "x_incident_io"), ("name", "incident.io")],
        )
        .unwrap();
        db.insert("sys_user_role", &[("name", "x_incident_io.api_user")])
            .unwrap();
    });
    let dir = tempfile::tempdir().unwrap();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let profile = format!("t-apply-{}-{nanos}", std::process::id());
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
