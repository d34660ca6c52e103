//! Without any D-Bus session there is no keyring: storing must fail closed (exit 3, a message naming
//! the cause and the alternatives, nothing written anywhere), and `--insecure-storage` must write a
//! 0600 file only after saying so on stderr.
//!
//! `scripts/test` runs the suite inside a private D-Bus session with a working keyring, so every
//! process here is started with DBUS_SESSION_BUS_ADDRESS removed from its environment. The library
//! paths run in a child process of this test binary (re-executed with one test selected), so the
//! variable is removed from a whole process, not from a shared test process.

use std::path::Path;
use std::process::Command as StdCommand;

use crate::support::{snconnect, without_session_bus};
use secrecy::SecretString;
use snconnect::credentials::{
    open_store, ConfigDir, KeyringStore, Lookup, SecretKind, StoreOptions, StoredSecrets,
};
use snconnect::exit::{exit_for, Exit};

const CHILD_ENV: &str = "SNCONNECT_FAIL_CLOSED_CHILD";

/// Re-runs one test of this binary as a child with no session bus and the given config dir; the
/// child's body is selected by `CHILD_ENV`.
fn run_child(test_name: &str, role: &str, config_dir: &Path) -> std::process::Output {
    run_child_on_bus(test_name, role, config_dir, None)
}

/// [`run_child`], optionally attached to the given session bus.
fn run_child_on_bus(
    test_name: &str,
    role: &str,
    config_dir: &Path,
    bus: Option<&str>,
) -> std::process::Output {
    let exe = std::env::current_exe().unwrap();
    // Test names in the one integration binary are `module::test`; this module's path is
    // `it::credentials_fail_closed`, without the crate's name.
    let module = module_path!().split_once("::").map_or("", |(_, m)| m);
    let full_name = format!("{module}::{test_name}");
    let mut cmd = StdCommand::new(exe);
    without_session_bus(&mut cmd)
        .args([
            full_name.as_str(),
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, role)
        .env("SNCONNECT_CONFIG_DIR", config_dir);
    if let Some(address) = bus {
        cmd.env("DBUS_SESSION_BUS_ADDRESS", address);
    }
    cmd.output().unwrap()
}

/// A child's stdout, once it is known to have run its body to the end.
fn child_stdout(out: &std::process::Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn in_child(role: &str) -> bool {
    std::env::var(CHILD_ENV).as_deref() == Ok(role)
}

fn files_under(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            found.push(e.path().display().to_string());
            found.extend(files_under(&e.path()));
        }
    }
    found
}

#[test]
fn without_a_session_bus_storing_fails_closed_and_writes_nothing() {
    if in_child("fail-closed") {
        // Child: the real open_store with the real keyring backend and no session bus.
        let err = open_store(StoreOptions {
            insecure_storage: false,
        })
        .err()
        .expect("open_store must fail without a keyring");
        println!("EXIT={}", exit_for(&err).code());
        println!("MESSAGE={}", err.to_string().replace('\n', " "));
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("cfg");
    std::fs::create_dir(&cfg).unwrap();
    let out = run_child(
        "without_a_session_bus_storing_fails_closed_and_writes_nothing",
        "fail-closed",
        &cfg,
    );
    let stdout = child_stdout(&out);
    assert!(stdout.contains("EXIT=3"), "{stdout}");
    let message = stdout
        .lines()
        .find_map(|l| l.strip_prefix("MESSAGE="))
        .expect("child printed the message");
    for needed in [
        "no usable OS keyring",
        "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)",
        "Nothing was written",
        "SNCONNECT_CLIENT_SECRET",
        "SNCONNECT_PASSWORD",
        "SNCONNECT_ADMIN_PASSWORD",
        "--insecure-storage",
    ] {
        assert!(message.contains(needed), "missing {needed:?} in: {message}");
    }
    assert_eq!(
        files_under(&cfg),
        Vec::<String>::new(),
        "something was written"
    );
}

#[test]
fn with_insecure_storage_and_no_keyring_a_0600_file_is_written_and_then_said() {
    if in_child("insecure") {
        let store = open_store(StoreOptions {
            insecure_storage: true,
        })
        .expect("--insecure-storage must fall back to the plain file");
        println!("BACKEND={}", store.backend());
        store
            .set(
                "acme",
                SecretKind::ClientSecret,
                &SecretString::from("cs-plain-4Rw9".to_owned()),
            )
            .unwrap();
        // Reading finds it in the file, even though the keyring cannot be reached.
        let dir = ConfigDir::resolve().unwrap();
        let secrets = StoredSecrets::with(Box::new(KeyringStore::new()), &dir);
        match secrets.lookup("acme", SecretKind::ClientSecret) {
            Lookup::Found { backend, .. } => println!("FOUND_IN={backend}"),
            other => println!("LOOKUP={other:?}"),
        }
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("cfg");
    let out = run_child(
        "with_insecure_storage_and_no_keyring_a_0600_file_is_written_and_then_said",
        "insecure",
        &cfg,
    );
    let stdout = child_stdout(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.contains("BACKEND=plain file (insecure)"), "{stdout}");
    assert!(
        stdout.contains("FOUND_IN=plain file (insecure)"),
        "{stdout}"
    );
    let file = cfg.join("insecure-secrets.toml");
    let notice = format!(
        "stored secrets in {} in plain text because --insecure-storage was given",
        file.display()
    );
    assert!(stderr.contains(&notice), "no notice on stderr:\n{stderr}");
    assert!(!stderr.contains("cs-plain-4Rw9") && !stdout.contains("cs-plain-4Rw9"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "plain secrets file mode");
    }

    // The binary reads it back, masked, without any keyring, and never prints the value.
    let mut show = snconnect(&cfg);
    show.args(["credentials", "show", "--profile", "acme"]);
    let out = show.assert().success().get_output().clone();
    let text = String::from_utf8(out.stdout).unwrap() + &String::from_utf8(out.stderr).unwrap();
    assert!(
        text.contains("••••••••  (in plain file (insecure))"),
        "{text}"
    );
    assert!(!text.contains("cs-plain-4Rw9"), "{text}");
    assert!(
        text.contains("DBUS_SESSION_BUS_ADDRESS is not set"),
        "{text}"
    );

    // forget clears the file, then exits 3 because the keyring could not be checked.
    let mut forget = snconnect(&cfg);
    forget.args(["credentials", "forget", "--profile", "acme"]);
    let out = forget
        .assert()
        .code(Exit::CannotRun.code())
        .get_output()
        .clone();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stdout.contains("removed the OAuth client secret from plain file (insecure)"),
        "{stdout}"
    );
    assert!(stderr.contains("no D-Bus session bus"), "{stderr}");
    assert!(!file.exists(), "the emptied plain file is removed");
}

#[test]
fn show_without_a_session_bus_reports_the_cause_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("cfg");
    // A saved profile (an unknown one is a usage error, exit 2).
    snconnect::credentials::ConfigDir::at(cfg.clone())
        .save_profile(&snconnect::credentials::Profile::new("acme"))
        .unwrap();
    let before = std::fs::read_dir(&cfg).unwrap().count();
    let mut cmd = snconnect(&cfg);
    cmd.args([
        "credentials",
        "show",
        "--format",
        "json",
        "--profile",
        "acme",
    ]);
    let out = cmd.assert().success().get_output().clone();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["keyring"]["available"], false);
    let problem = json["keyring"]["problem"].as_str().unwrap();
    assert!(
        problem.contains("DBUS_SESSION_BUS_ADDRESS is not set"),
        "{problem}"
    );
    assert_eq!(
        json["secrets"]["client_secret"]["stored"],
        serde_json::Value::Null
    );
    assert_eq!(
        std::fs::read_dir(&cfg).unwrap().count(),
        before,
        "show wrote into {}",
        cfg.display()
    );
}

/// A private session bus with no service files: nothing can provide org.freedesktop.secrets.
struct BareBus {
    daemon: std::process::Child,
    address: String,
    _dir: tempfile::TempDir,
}

impl BareBus {
    fn start() -> Option<BareBus> {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("bus.conf");
        std::fs::write(
            &config,
            format!(
                "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\" \
                 \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n\
                 <busconfig><type>session</type><listen>unix:dir={}</listen>\
                 <policy context=\"default\"><allow send_destination=\"*\" eavesdrop=\"true\"/>\
                 <allow eavesdrop=\"true\"/><allow own=\"*\"/></policy></busconfig>\n",
                dir.path().display()
            ),
        )
        .unwrap();
        let mut daemon = StdCommand::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--print-address=1"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .ok()?;
        let mut line = String::new();
        use std::io::BufRead;
        std::io::BufReader::new(daemon.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        Some(BareBus {
            daemon,
            address: line.trim().to_owned(),
            _dir: dir,
        })
    }
}

impl Drop for BareBus {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

#[test]
fn a_session_bus_without_a_secret_service_is_named_as_the_cause() {
    let required = std::env::var("SNCONNECT_TEST_SECRET_SERVICE").as_deref() == Ok("1");
    let Some(bus) = BareBus::start() else {
        assert!(
            !required,
            "dbus-daemon must be installed under scripts/test"
        );
        crate::support::not_run("a_session_bus_without_a_secret_service", "no dbus-daemon");
        return;
    };
    assert!(bus.address.starts_with("unix:"), "{}", bus.address);
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("cfg");
    let mut cmd = snconnect(&cfg);
    cmd.env("DBUS_SESSION_BUS_ADDRESS", &bus.address).args([
        "credentials",
        "forget",
        "--profile",
        "acme",
    ]);
    let out = cmd
        .assert()
        .code(Exit::CannotRun.code())
        .get_output()
        .clone();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("no Secret Service provider (such as gnome-keyring or KeePassXC) on the D-Bus session bus"),
        "{stderr}"
    );
    assert!(!cfg.exists());
}

/// A gnome-keyring-daemon on a [`BareBus`] that was never unlocked: it has no login collection.
struct LockedKeyring {
    daemon: std::process::Child,
    _home: tempfile::TempDir,
}

impl LockedKeyring {
    fn start(bus: &BareBus) -> Option<LockedKeyring> {
        let home = tempfile::tempdir().unwrap();
        for d in ["data", "cache", "runtime"] {
            std::fs::create_dir(home.path().join(d)).unwrap();
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let perms = std::fs::Permissions::from_mode(0o700);
            std::fs::set_permissions(home.path().join("runtime"), perms).unwrap();
        }
        let daemon = StdCommand::new("gnome-keyring-daemon")
            .args(["--foreground", "--components=secrets"])
            .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
            .env("XDG_DATA_HOME", home.path().join("data"))
            .env("XDG_CACHE_HOME", home.path().join("cache"))
            .env("XDG_RUNTIME_DIR", home.path().join("runtime"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .ok()?;
        let keyring = LockedKeyring {
            daemon,
            _home: home,
        };
        // Wait until it owns org.freedesktop.secrets on the bus.
        for _ in 0..100 {
            let out = StdCommand::new("dbus-send")
                .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
                .args([
                    "--session",
                    "--dest=org.freedesktop.DBus",
                    "--type=method_call",
                    "--print-reply",
                    "/org/freedesktop/DBus",
                    "org.freedesktop.DBus.NameHasOwner",
                    "string:org.freedesktop.secrets",
                ])
                .output()
                .ok()?;
            if String::from_utf8_lossy(&out.stdout).contains("boolean true") {
                return Some(keyring);
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        None
    }
}

impl Drop for LockedKeyring {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

#[test]
fn a_keyring_that_was_never_unlocked_fails_closed_naming_the_lock() {
    const NAME: &str = "a_keyring_that_was_never_unlocked_fails_closed_naming_the_lock";
    if in_child("locked") {
        let err = open_store(StoreOptions {
            insecure_storage: false,
        })
        .err()
        .expect("open_store must fail on a locked keyring");
        println!("EXIT={}", exit_for(&err).code());
        println!("MESSAGE={}", err.to_string().replace('\n', " "));
        return;
    }
    let required = std::env::var("SNCONNECT_TEST_SECRET_SERVICE").as_deref() == Ok("1");
    let started = BareBus::start().and_then(|bus| LockedKeyring::start(&bus).map(|k| (bus, k)));
    let Some((bus, _keyring)) = started else {
        assert!(
            !required,
            "dbus-daemon and gnome-keyring-daemon must work under scripts/test"
        );
        crate::support::not_run(NAME, "no dbus-daemon or gnome-keyring-daemon");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("cfg");
    let started_at = std::time::Instant::now();
    let out = run_child_on_bus(NAME, "locked", &cfg, Some(&bus.address));
    let stdout = child_stdout(&out);
    assert!(stdout.contains("EXIT=3"), "{stdout}");
    assert!(
        stdout.contains("the keyring is locked or has no default collection"),
        "{stdout}"
    );
    assert!(stdout.contains("--insecure-storage"), "{stdout}");
    assert!(
        started_at.elapsed() < std::time::Duration::from_secs(9),
        "a locked keyring must not stall the run"
    );
    assert!(!cfg.exists());
}
