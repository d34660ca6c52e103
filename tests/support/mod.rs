//! Shared helpers for the hardening tests: running the binary with a clean environment, reading
//! its report, and local servers for what the sandbox cannot produce by itself (raw faults, TLS,
//! an HTTP CONNECT proxy). Every server binds 127.0.0.1 only.
//!
//! Each test binary uses a different part of this module, so unused items are expected.
#![allow(dead_code)]

pub mod fault_server;
pub mod proxy;
pub mod tls;

use std::path::Path;
use std::sync::OnceLock;

use assert_cmd::Command;
use serde_json::Value;
use snconnect::sandbox::fixtures;

/// One runtime for every helper server in a test binary. Tests are synchronous (they run the
/// binary), so the servers need somewhere to live; two workers are plenty on a 2-core machine.
pub fn rt() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("test runtime")
    })
}

/// Variables that would change what the binary does or prints, removed from every run: backtraces
/// (they print on error), proxies (reqwest honours them), every SNCONNECT_* input, CI (implies
/// --no-input, which the tests pass explicitly anyway) and the session bus (no keyring: the
/// plain-file store is what the tests seed).
const SCRUBBED: &[&str] = &[
    "RUST_BACKTRACE",
    "RUST_LIB_BACKTRACE",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
    "NO_COLOR",
    "CI",
    "DBUS_SESSION_BUS_ADDRESS",
    "SNCONNECT_INSTANCE",
    "SNCONNECT_PROFILE",
    "SNCONNECT_PATH",
    "SNCONNECT_ADMIN_USER",
    "SNCONNECT_ADMIN_PASSWORD",
    "SNCONNECT_ADMIN_TOKEN",
    "SNCONNECT_CLIENT_ID",
    "SNCONNECT_CLIENT_SECRET",
    "SNCONNECT_USERNAME",
    "SNCONNECT_PASSWORD",
    "SNCONNECT_FORMAT",
];

/// The binary with a scrubbed environment and its own config directory.
pub fn snconnect(config_dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("snconnect").expect("the snconnect binary");
    for var in SCRUBBED {
        cmd.env_remove(var);
    }
    cmd.env("SNCONNECT_CONFIG_DIR", config_dir);
    cmd
}

/// What one run of the binary produced.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Runs `cmd` to completion. A panic anywhere in the binary is a bug, whatever the test is
    /// about, so every run asserts there was none.
    pub fn of(cmd: &mut Command) -> Run {
        let out = cmd.output().expect("run snconnect");
        let run = Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        assert!(
            !run.stderr.contains("panicked") && !run.stdout.contains("panicked"),
            "snconnect panicked:\n{}",
            run.stderr
        );
        assert!(
            out.status.code().is_some(),
            "snconnect was killed by a signal:\n{}",
            run.stderr
        );
        run
    }

    /// The JSON report on stdout.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

/// Reading a verify JSON report by check id.
pub trait ReportExt {
    fn check(&self, id: &str) -> &Value;
    fn status(&self, id: &str) -> &str;
    fn codes(&self, id: &str) -> Vec<&str>;
    fn messages(&self, id: &str) -> String;
}

impl ReportExt for Value {
    fn check(&self, id: &str) -> &Value {
        self["checks"]
            .as_array()
            .and_then(|checks| checks.iter().find(|c| c["id"] == id))
            .unwrap_or_else(|| panic!("no check {id} in {self}"))
    }

    fn status(&self, id: &str) -> &str {
        self.check(id)["status"].as_str().unwrap_or("?")
    }

    fn codes(&self, id: &str) -> Vec<&str> {
        self.check(id)["findings"]
            .as_array()
            .map(|fs| fs.iter().filter_map(|f| f["code"].as_str()).collect())
            .unwrap_or_default()
    }

    /// Every finding's message and fix under a check, one per line, for `contains` assertions.
    fn messages(&self, id: &str) -> String {
        self.check(id)["findings"]
            .as_array()
            .map(|fs| {
                fs.iter()
                    .map(|f| {
                        format!(
                            "{} | {}",
                            f["message"].as_str().unwrap_or(""),
                            f["fix"].as_str().unwrap_or("")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_default()
    }
}

/// `snconnect verify --no-input` against `instance` with the sandbox's fixture credentials, all
/// from the environment, as JSON unless `args` choose a format. `env` overrides or adds
/// variables; `args` go last.
pub fn verify_cmd(
    config_dir: &Path,
    instance: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> Command {
    with_fixtures(config_dir, "verify", instance, args, env)
}

/// `snconnect setup --no-input` like [`verify_cmd`] (add `--insecure-storage`: there is no
/// keyring in tests).
pub fn setup_cmd(
    config_dir: &Path,
    instance: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> Command {
    with_fixtures(config_dir, "setup", instance, args, env)
}

fn with_fixtures(
    config_dir: &Path,
    command: &str,
    instance: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> Command {
    let mut cmd = snconnect(config_dir);
    cmd.args([command, "--no-input", "--instance", instance]);
    if !args.contains(&"--format") {
        cmd.args(["--format", "json"]);
    }
    cmd.env("SNCONNECT_ADMIN_USER", fixtures::ADMIN_USER)
        .env("SNCONNECT_ADMIN_PASSWORD", fixtures::ADMIN_PASSWORD)
        .env("SNCONNECT_CLIENT_ID", fixtures::CLIENT_ID)
        .env("SNCONNECT_CLIENT_SECRET", fixtures::CLIENT_SECRET)
        .env("SNCONNECT_PASSWORD", fixtures::SERVICE_PASSWORD)
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// `snconnect apply --no-input --yes --insecure-storage` against `instance` with the fixture
/// admin credentials only: apply generates (and stores in the plain file) what it needs.
pub fn apply_cmd(
    config_dir: &Path,
    instance: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> Command {
    let mut cmd = snconnect(config_dir);
    cmd.args(["apply", "--no-input", "--yes", "--insecure-storage"])
        .args(["--instance", instance])
        .env("SNCONNECT_ADMIN_USER", fixtures::ADMIN_USER)
        .env("SNCONNECT_ADMIN_PASSWORD", fixtures::ADMIN_PASSWORD)
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// Runs [`verify_cmd`] in a fresh config directory.
pub fn verify(instance: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    let dir = tempfile::tempdir().expect("temp dir");
    Run::of(&mut verify_cmd(dir.path(), instance, args, env))
}

/// A port on 127.0.0.1 with nothing listening (bound, read, released).
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}
