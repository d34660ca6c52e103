//! Shared helpers for the integration tests: running the binary with a clean environment,
//! reading its report, the sandbox's fixture credentials, reading and seeding a sandbox or a
//! config directory, and local servers for what the sandbox cannot produce by itself (raw faults,
//! TLS, an HTTP CONNECT proxy). Every server binds 127.0.0.1 only.
//!
//! Each test binary uses a different part of this module, so unused items are expected.
#![allow(dead_code)]

pub mod fault_server;
pub mod keyring;
pub mod proxy;
#[cfg(unix)]
pub mod pty;
pub mod tls;

use std::path::Path;
use std::process::Command as StdCommand;
use std::sync::OnceLock;
use std::time::Duration;

use assert_cmd::Command;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use snconnect::credentials::{ConfigDir, PlainFileStore, Profile, SecretKind, SecretStore};
use snconnect::instance::Instance;
use snconnect::sandbox::{fixtures, Sandbox, SandboxConfig};
use snconnect::servicenow::{Auth, Client, ClientOptions, SnError, TokenResponse};

/// One runtime for every helper server and client call in a test binary. Tests are synchronous
/// (they run the binary or block on one call), so the servers need somewhere to live, and a
/// client's pooled connections stay usable from one call to the next; two workers are plenty on
/// a 2-core machine.
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

/// Serialises the few tests that change this process's environment (proxy variables, the config
/// directory). They all live in one test binary, whose tests run on parallel threads: without the
/// lock, one test's restore could undo another's change while that one's client reads it.
pub fn env_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Reports a test that cannot run here (no Secret Service, no dbus-daemon). On a developer's
/// machine it says so on stderr and the test returns; in CI (`CI` set, as `.ci/run` has it) it
/// fails, because a check that silently did not run must never count as passed.
pub fn not_run(test: &str, why: &str) {
    let in_ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
    assert!(!in_ci, "{test}: could not run in CI: {why}");
    eprintln!("{test}: NOT RUN: {why}");
}

// ---- running the binary ----

/// Variables that would change what the binary does or prints, removed from every run: backtraces
/// (they print on error), proxies (reqwest honours them), every SNCONNECT_* input, CI (implies
/// --no-input, which the tests pass explicitly anyway) and colour.
const INPUTS: &[&str] = &[
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
    "SNCONNECT_CONFIG_DIR",
    "SNCONNECT_STATE_DIR",
];

/// Every variable that could lead a process to a D-Bus session bus, and so to a keyring: the
/// address itself, what a bus-activated process inherits, X11/Wayland autolaunch, and
/// $XDG_RUNTIME_DIR/bus, where libdbus and zbus look when the address is not set.
const SESSION_BUS: &[&str] = &[
    "DBUS_SESSION_BUS_ADDRESS",
    "DBUS_STARTER_ADDRESS",
    "DBUS_STARTER_BUS_TYPE",
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "XDG_RUNTIME_DIR",
];

/// Removes [`INPUTS`] and [`SESSION_BUS`] from a process's environment. Also for a test binary
/// re-running itself as a child that must not reach a keyring.
pub fn without_session_bus(cmd: &mut StdCommand) -> &mut StdCommand {
    for var in INPUTS.iter().chain(SESSION_BUS) {
        cmd.env_remove(var);
    }
    cmd
}

/// The binary as a plain process (for one that keeps running: `sandbox`), scrubbed like
/// [`snconnect`] but with no config directory of its own.
pub fn snconnect_process() -> StdCommand {
    let mut cmd = StdCommand::new(assert_cmd::cargo::cargo_bin("snconnect"));
    without_session_bus(&mut cmd);
    // Refused credentials are remembered in the state directory: never the developer's own.
    cmd.env("SNCONNECT_STATE_DIR", shared_state_dir());
    cmd
}

/// A state directory for the runs that have no config directory of their own, one per test
/// process. Every sandbox listens on its own port, so remembered refusals of one test never
/// match another's instance.
fn shared_state_dir() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("temp dir"))
        .path()
}

/// The binary with a scrubbed environment and no config directory of its own: for commands that
/// read no profile and store nothing (help, completions, demo, sandbox).
pub fn snconnect_bare() -> Command {
    Command::from_std(snconnect_process())
}

/// The binary with a scrubbed environment, no session bus (so no keyring: the plain-file store is
/// what the tests seed) and its own config directory.
pub fn snconnect(config_dir: &Path) -> Command {
    let mut cmd = snconnect_bare();
    cmd.env("SNCONNECT_CONFIG_DIR", config_dir)
        .env("SNCONNECT_STATE_DIR", config_dir.join("state"));
    cmd
}

/// [`snconnect`], but on this process's session bus when that bus is the private one with the
/// throwaway keyring that `scripts/test` starts (`SNCONNECT_TEST_SECRET_SERVICE=1`). Under a plain
/// `cargo test` the bus is left out, so no test ever writes fixture secrets into a developer's own
/// keyring: the binary then finds no keyring, as on a headless server.
pub fn snconnect_with_keyring(config_dir: &Path) -> Command {
    let mut cmd = snconnect(config_dir);
    keep_session_bus(&mut cmd);
    cmd
}

/// Puts back the session bus variables [`snconnect`] removed, as this process has them, when the
/// bus is `scripts/test`'s private one (see [`snconnect_with_keyring`]).
pub fn keep_session_bus(cmd: &mut Command) -> &mut Command {
    cmd.envs(private_session_bus())
}

/// The session bus variables of this process when its bus is `scripts/test`'s private one (with
/// the throwaway keyring), else none: what a child may be given back after [`without_session_bus`].
pub fn private_session_bus() -> Vec<(&'static str, std::ffi::OsString)> {
    if std::env::var("SNCONNECT_TEST_SECRET_SERVICE").as_deref() != Ok("1") {
        return Vec::new();
    }
    SESSION_BUS
        .iter()
        .filter_map(|var| std::env::var_os(var).map(|value| (*var, value)))
        .collect()
}

/// What one run of the binary produced.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    /// stdout as JSON, parsed on first use (see [`Run::report`]).
    report: OnceLock<Value>,
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
            report: OnceLock::new(),
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

    /// The JSON report on stdout, parsed once; the run reads like its report through
    /// [`ReportExt`] too.
    pub fn report(&self) -> &Value {
        self.report.get_or_init(|| {
            serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
                panic!(
                    "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                    self.stdout, self.stderr
                )
            })
        })
    }

    /// The JSON report on stdout, as a value of its own.
    pub fn json(&self) -> Value {
        self.report().clone()
    }

    /// stdout then stderr, for assertions about everything the run printed.
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// The sandbox's fixture secrets: what [`verify_cmd`] and friends supply.
pub const FIXTURE_SECRETS: [&str; 3] = [
    fixtures::ADMIN_PASSWORD,
    fixtures::CLIENT_SECRET,
    fixtures::SERVICE_PASSWORD,
];

/// Neither stdout nor stderr holds any of the fixture secrets.
pub fn assert_no_fixture_secret(run: &Run) {
    for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        assert!(
            !FIXTURE_SECRETS.iter().any(|s| text.contains(s)),
            "a secret reached {stream}:\nstdout:\n{}\nstderr:\n{}",
            run.stdout,
            run.stderr
        );
    }
}

/// Every check id, in the contract's order (the order of a report's `checks`).
pub const CHECK_IDS: [&str; 8] = [
    "instance",
    "app",
    "oauth_app",
    "service_user",
    "roles",
    "task_acls",
    "posture",
    "connect",
];

/// Reading a verify JSON report by check id.
pub trait ReportExt {
    fn check(&self, id: &str) -> &Value;
    fn status(&self, id: &str) -> &str;
    fn codes(&self, id: &str) -> Vec<&str>;
    fn messages(&self, id: &str) -> String;
    fn finding(&self, id: &str, code: &str) -> &Value;
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

    /// The finding with `code` under a check.
    fn finding(&self, id: &str, code: &str) -> &Value {
        let check = self.check(id);
        check["findings"]
            .as_array()
            .and_then(|fs| fs.iter().find(|f| f["code"] == code))
            .unwrap_or_else(|| panic!("no {code} under {id}: {check}"))
    }
}

impl ReportExt for Run {
    fn check(&self, id: &str) -> &Value {
        self.report().check(id)
    }

    fn status(&self, id: &str) -> &str {
        self.report().status(id)
    }

    fn codes(&self, id: &str) -> Vec<&str> {
        self.report().codes(id)
    }

    fn messages(&self, id: &str) -> String {
        self.report().messages(id)
    }

    fn finding(&self, id: &str, code: &str) -> &Value {
        self.report().finding(id, code)
    }
}

// ---- the fixture credentials ----

/// Every input verify and setup need besides the instance, from the environment, with the
/// sandbox's fixture values.
pub fn fixture_env(cmd: &mut Command) -> &mut Command {
    cmd.env("SNCONNECT_ADMIN_USER", fixtures::ADMIN_USER)
        .env("SNCONNECT_ADMIN_PASSWORD", fixtures::ADMIN_PASSWORD)
        .env("SNCONNECT_CLIENT_ID", fixtures::CLIENT_ID)
        .env("SNCONNECT_CLIENT_SECRET", fixtures::CLIENT_SECRET)
        .env("SNCONNECT_PASSWORD", fixtures::SERVICE_PASSWORD)
}

/// `snconnect COMMAND --no-input --instance INSTANCE` with the fixture credentials
/// ([`fixture_env`]), in the binary's default format. `env` overrides or adds variables; `args`
/// go last.
pub fn fixture_cmd(
    config_dir: &Path,
    command: &str,
    instance: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> Command {
    let mut cmd = snconnect(config_dir);
    cmd.args([command, "--no-input", "--instance", instance]);
    fixture_env(&mut cmd).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// JSON unless `args` choose a format.
fn json_by_default(mut cmd: Command, args: &[&str]) -> Command {
    if !args.contains(&"--format") {
        cmd.args(["--format", "json"]);
    }
    cmd
}

/// `snconnect verify --no-input` against `instance` with the sandbox's fixture credentials, all
/// from the environment, as JSON unless `args` choose a format. `env` overrides or adds
/// variables.
pub fn verify_cmd(
    config_dir: &Path,
    instance: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> Command {
    json_by_default(fixture_cmd(config_dir, "verify", instance, args, env), args)
}

/// `snconnect setup --no-input` like [`verify_cmd`] (add `--insecure-storage`: there is no
/// keyring in tests).
pub fn setup_cmd(
    config_dir: &Path,
    instance: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> Command {
    json_by_default(fixture_cmd(config_dir, "setup", instance, args, env), args)
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

// ---- the sandbox ----

/// A sandbox running `scenario` with the default knobs.
pub fn sandbox(scenario: &str) -> Sandbox {
    Sandbox::start(SandboxConfig::scenario(scenario)).expect("start the sandbox")
}

/// A sandbox running `scenario`, whose REST inserts into sys_security_acl succeed only with
/// `allow_acl_insert` (a real instance refuses them without elevation).
pub fn sandbox_for_apply(scenario: &str, allow_acl_insert: bool) -> Sandbox {
    Sandbox::start(SandboxConfig {
        allow_acl_insert,
        ..SandboxConfig::scenario(scenario)
    })
    .expect("start the sandbox")
}

/// The roles the sandbox's healthy-app scenario (the default) grants the service user, by name:
/// what a dot-walked `sys_user_has_role` query for it must return.
pub const SERVICE_USER_ROLES: [&str; 4] = [
    "cmdb_read",
    "incident_manager",
    "sn_cmdb_user",
    "x_incident_io.api_user",
];

/// The incident.io Store app and its role, installed by hand as a person would: the one step
/// apply cannot take.
pub fn install_app_by_hand(sandbox: &Sandbox) {
    sandbox.with_db(|db| {
        db.insert(
            "sys_store_app",
            &[
                ("scope", "x_incident_io"),
                ("name", "incident.io"),
                ("version", "1.4.0"),
            ],
        )
        .unwrap();
        db.insert("sys_user_role", &[("name", "x_incident_io.api_user")])
            .unwrap();
    });
}

/// How many rows of `table` match an encoded query.
pub fn rows(sandbox: &Sandbox, table: &str, query: &str) -> usize {
    sandbox.with_db(|db| db.find(table, query).len())
}

/// `(failed_attempts, locked_out)` of a user, read from the sandbox's tables.
pub fn account(sandbox: &Sandbox, user_name: &str) -> (u32, bool) {
    sandbox.with_db(|db| {
        let row = db
            .user_by_name(user_name)
            .unwrap_or_else(|| panic!("no user {user_name}"));
        let failed = row
            .get("failed_attempts")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        (
            failed,
            row.get("locked_out").map(String::as_str) == Some("true"),
        )
    })
}

/// The client options for tests: a failure classifies in seconds, and retries back off in
/// milliseconds instead of the real schedule.
pub fn quick_options(timeout: Duration) -> ClientOptions {
    ClientOptions {
        timeout,
        backoff_base: Duration::from_millis(10),
        ..ClientOptions::default()
    }
}

/// A client for the instance at `url`.
pub fn client_for(url: &str, opts: &ClientOptions) -> Client {
    Client::new(&Instance::parse(url).expect("instance URL"), opts).expect("client")
}

/// A client for a sandbox, with [`quick_options`] and a 10 s timeout.
pub fn sandbox_client(sandbox: &Sandbox) -> Client {
    client_for(&sandbox.url(), &quick_options(Duration::from_secs(10)))
}

pub fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

/// The sandbox admin's Basic credentials.
pub fn fixture_admin() -> Auth {
    Auth::basic(fixtures::ADMIN_USER, secret(fixtures::ADMIN_PASSWORD))
}

/// The password grant of the fixture OAuth client for the fixture service user, with `password`.
pub async fn service_grant(client: &Client, password: &str) -> Result<TokenResponse, SnError> {
    client
        .password_grant(
            fixtures::CLIENT_ID,
            &secret(fixtures::CLIENT_SECRET),
            fixtures::SERVICE_USER,
            &secret(password),
        )
        .await
}

// ---- the config directory ----

/// The profile name snconnect derives from an instance address.
pub fn profile_of(url: &str) -> String {
    Instance::parse(url).expect("instance URL").profile_name()
}

/// The plain-file secret store of a config directory, without its on-stderr notice.
pub fn plain_store(config_dir: &Path) -> PlainFileStore {
    PlainFileStore::new(ConfigDir::at(config_dir.to_path_buf()).plain_secrets_path())
        .with_notice(|_| {})
}

/// Writes a profile and its secrets into a config directory, as setup with
/// `--insecure-storage` would have left them, without a keyring.
pub fn seed_plain(config_dir: &Path, profile: &Profile, secrets: &[(SecretKind, &str)]) {
    ConfigDir::at(config_dir.to_path_buf())
        .save_profile(profile)
        .expect("save the profile");
    let store = plain_store(config_dir);
    for (kind, value) in secrets {
        store
            .set(&profile.name, *kind, &secret(value))
            .expect("write the plain-file store");
    }
}

/// The values of `kinds` the plain-file store holds for the profile of `url`, in that order,
/// skipping those not stored.
pub fn stored_secrets(config_dir: &Path, url: &str, kinds: &[SecretKind]) -> Vec<String> {
    let store = plain_store(config_dir);
    let profile = profile_of(url);
    kinds
        .iter()
        .filter_map(|k| store.get(&profile, *k).expect("read the plain-file store"))
        .map(|s| s.expose_secret().to_string())
        .collect()
}

// ---- local servers ----

/// A port on 127.0.0.1 with nothing listening (bound, read, released).
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// Sets a fleet member's own variables (`SNCONNECT_<PREFIX>_*`) to the sandbox's fixture secrets.
pub fn secrets_for(cmd: &mut Command, prefix: &str) {
    use snconnect::sandbox::fixtures;
    cmd.env(
        format!("SNCONNECT_{prefix}_ADMIN_PASSWORD"),
        fixtures::ADMIN_PASSWORD,
    )
    .env(
        format!("SNCONNECT_{prefix}_CLIENT_SECRET"),
        fixtures::CLIENT_SECRET,
    )
    .env(
        format!("SNCONNECT_{prefix}_PASSWORD"),
        fixtures::SERVICE_PASSWORD,
    );
}

/// A profiles file in `dir` listing `(name, instance)` with the fixture admin user and client id.
pub fn profiles_file(dir: &Path, entries: &[(&str, &str)]) -> std::path::PathBuf {
    use snconnect::sandbox::fixtures;
    let mut text = String::new();
    for (name, instance) in entries {
        text.push_str(&format!(
            "[[profile]]\nname = \"{name}\"\ninstance = \"{instance}\"\nadmin_user = \"{}\"\nclient_id = \"{}\"\n\n",
            fixtures::ADMIN_USER,
            fixtures::CLIENT_ID
        ));
    }
    let path = dir.join("instances.toml");
    std::fs::write(&path, text).unwrap();
    path
}
