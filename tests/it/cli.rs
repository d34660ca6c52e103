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

/// Issue 14: a closed stdout (`snconnect … | head -1`) ends the command quietly: no error on
/// stderr. A command with a verdict keeps it (verify's exit 1 for a broken instance); one
/// without ends with the status SIGPIPE would have given (141). The pipe's reading end is
/// closed before the command starts, so every write fails, whatever the timing.
#[test]
fn a_closed_stdout_ends_quietly() {
    let sandbox = crate::support::sandbox("broken");
    let url = sandbox.url();
    let cases: [(&[&str], i32); 3] = [
        (&["man"], 141),
        (&["verify", "--no-input", "--instance", &url], 1),
        (
            &[
                "verify",
                "--no-input",
                "--format",
                "json",
                "--instance",
                &url,
            ],
            1,
        ),
    ];
    for (args, want) in cases {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = crate::support::snconnect_process();
        cmd.env("SNCONNECT_CONFIG_DIR", dir.path())
            .env(
                "SNCONNECT_ADMIN_USER",
                snconnect::sandbox::fixtures::ADMIN_USER,
            )
            .env(
                "SNCONNECT_ADMIN_PASSWORD",
                snconnect::sandbox::fixtures::ADMIN_PASSWORD,
            )
            .args(args)
            .stdout(writer)
            .stderr(std::process::Stdio::piped());
        let out = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("error"), "{args:?}: {stderr}");
        assert!(
            !stderr.to_lowercase().contains("broken pipe"),
            "{args:?}: {stderr}"
        );
        assert_eq!(out.status.code(), Some(want), "{args:?}: {stderr}");
    }
}

/// What the dynamic completer (`source <(SNCONNECT_COMPLETE=bash snconnect)`) offers for the word
/// being typed at `words[index]`, as bash asks for it.
fn completions(config_dir: &std::path::Path, words: &[&str]) -> Vec<String> {
    let out = crate::support::snconnect(config_dir)
        .env("SNCONNECT_COMPLETE", "bash")
        .env("_CLAP_COMPLETE_INDEX", (words.len() - 1).to_string())
        .env("_CLAP_COMPLETE_COMP_TYPE", "9")
        .env("_CLAP_COMPLETE_SPACE", "true")
        .env("_CLAP_IFS", "\n")
        .arg("--")
        .args(words)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// Issue 14: profile names complete where the shell allows dynamic completion, and so do the
/// scenario names.
#[test]
fn dynamic_completion_offers_saved_profiles_and_scenario_names() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = snconnect::credentials::ConfigDir::at(dir.path().to_path_buf());
    for name in ["acme", "acme-dev"] {
        let mut p = snconnect::credentials::Profile::new(name.to_string());
        p.instance = Some(format!("https://{name}.service-now.com"));
        cfg.save_profile(&p).unwrap();
    }
    for words in [
        &["snconnect", "verify", "--profile", ""][..],
        &["snconnect", "credentials", "show", "--profile", "ac"][..],
    ] {
        let offered = completions(dir.path(), words);
        assert_eq!(offered, ["acme", "acme-dev"], "{words:?}");
    }
    let scenarios = completions(dir.path(), &["snconnect", "demo", "--scenario", "acl-"]);
    assert!(
        scenarios.contains(&"acl-missing".to_string()),
        "{scenarios:?}"
    );
    // The registration script is what a shell sources.
    let script = crate::support::snconnect(dir.path())
        .env("SNCONNECT_COMPLETE", "bash")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&script.stdout).contains("complete "));
}
