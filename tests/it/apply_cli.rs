//! `snconnect apply` end to end: the real binary against the in-process sandbox.
//!
//! Secrets are stored with `--insecure-storage` in a temporary config directory, and every
//! process runs without a D-Bus session bus, so no test touches a real keyring. Where a test
//! must prove that nothing was written, the sandbox's request log is the witness.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::{
    install_app_by_hand, rows, sandbox_for_apply, stored_secrets, ReportExt, Run, CHECK_IDS,
};
use assert_cmd::Command;
use snconnect::credentials::SecretKind;
use snconnect::sandbox::{fixtures, Sandbox, SandboxConfig};

/// The binary without a session bus (see [`crate::support::snconnect`]), with the fixture admin
/// password in its environment.
fn snconnect(config_dir: &Path) -> Command {
    let mut cmd = crate::support::snconnect(config_dir);
    cmd.env("SNCONNECT_ADMIN_PASSWORD", fixtures::ADMIN_PASSWORD);
    cmd
}

/// `snconnect apply --no-input` against `url` as the sandbox admin, plus `extra`.
fn apply(dir: &Path, url: &str, extra: &[&str]) -> Run {
    Run::of(
        snconnect(dir)
            .args(["apply", "--no-input", "--instance", url])
            .args(["--admin-user", fixtures::ADMIN_USER])
            .args(extra),
    )
}

/// `snconnect verify --format json`, with whatever the profile in `dir` remembers.
fn verify(dir: &Path, url: &str, extra: &[&str]) -> Run {
    Run::of(
        snconnect(dir)
            .args([
                "verify",
                "--no-input",
                "--format",
                "json",
                "--instance",
                url,
            ])
            .args(["--admin-user", fixtures::ADMIN_USER])
            .args(extra),
    )
}

/// The secrets apply generates and stores.
const SECRETS: &[SecretKind] = &[SecretKind::ClientSecret, SecretKind::Password];

/// Table API writes the sandbox served (token requests are not writes to the instance).
fn table_writes(sandbox: &Sandbox) -> Vec<String> {
    sandbox
        .requests()
        .into_iter()
        .filter(|r| matches!(r.method.as_str(), "POST" | "PATCH" | "PUT" | "DELETE"))
        .filter(|r| r.path.starts_with("/api/"))
        .map(|r| format!("{} {} {}", r.method, r.path, r.status))
        .collect()
}

fn assert_no_table_writes(sandbox: &Sandbox) {
    assert!(
        table_writes(sandbox).is_empty(),
        "{:?}",
        table_writes(sandbox)
    );
}

#[test]
fn an_empty_instance_gets_everything_the_platform_allows_and_the_rest_as_steps_by_hand() {
    let sandbox = sandbox_for_apply("empty", false);
    let dir = tempfile::tempdir().unwrap();
    let url = sandbox.url();
    let run = apply(
        dir.path(),
        &url,
        &["--yes", "--insecure-storage", "--format", "json"],
    );
    assert_eq!(run.code, 1, "the Store app is left to do: {}", run.all());
    let doc = run.json();
    let results = doc["results"].as_array().unwrap();
    assert_eq!(results.len(), 8, "{doc:#}");
    assert!(
        results
            .iter()
            .all(|r| matches!(r["status"].as_str(), Some("created" | "updated"))),
        "{doc:#}"
    );
    let manual = doc["manual"].as_array().unwrap();
    assert_eq!(manual[0]["check"], "app");
    let acl_links: Vec<&str> = manual
        .iter()
        .filter(|m| m["check"] == "task_acls")
        .map(|m| m["link"].as_str().unwrap())
        .collect();
    assert_eq!(acl_links.len(), 3, "{doc:#}");
    assert!(acl_links
        .iter()
        .all(|l| l.contains("/sys_security_acl.do?sys_id=-1&sysparm_query=name%3Dtask")));
    // The embedded re-check is verify's own report.
    assert_eq!(doc["verify"].status("oauth_app"), "pass");

    // A separate verify, with only what the profile and its store remember.
    let report = verify(dir.path(), &url, &[]);
    assert_eq!(report.code, 1, "{}", report.all());
    let report = report.json();
    for id in ["instance", "oauth_app", "service_user"] {
        assert_eq!(report.status(id), "pass", "{id}: {report:#}");
    }
    assert_eq!(report.status("app"), "fail");
    // The app's role cannot exist without the app; the three other roles were granted.
    assert_eq!(report.status("roles"), "fail");
    assert_eq!(report.codes("roles"), ["roles.app_role_absent"]);
    assert_eq!(report.status("task_acls"), "fail");
    assert_eq!(
        report.codes("task_acls"),
        [
            "task_acls.missing",
            "task_acls.missing",
            "task_acls.missing"
        ]
    );
}

#[test]
fn on_the_admin_path_an_empty_instance_becomes_ready() {
    let sandbox = sandbox_for_apply("empty", false);
    let dir = tempfile::tempdir().unwrap();
    let url = sandbox.url();
    let run = apply(
        dir.path(),
        &url,
        &["--path", "admin", "--yes", "--insecure-storage"],
    );
    assert_eq!(run.code, 0, "{}", run.all());
    let report = verify(dir.path(), &url, &["--path", "admin"]);
    assert_eq!(report.code, 0, "{}", report.all());
    let report = report.json();
    for id in ["instance", "oauth_app", "service_user", "roles", "connect"] {
        assert_eq!(report.status(id), "pass", "{id}: {report:#}");
    }
    assert_eq!(report.status("app"), "warn");
    assert_eq!(report.status("task_acls"), "skip");
}

#[test]
fn granting_admin_needs_yes_without_a_terminal_and_nothing_is_written_before_it() {
    let sandbox = sandbox_for_apply("empty", false);
    let dir = tempfile::tempdir().unwrap();
    let run = apply(
        dir.path(),
        &sandbox.url(),
        &["--path", "admin", "--insecure-storage"],
    );
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(run.stderr.contains("--yes"), "{}", run.stderr);
    assert!(run.stderr.contains("grant role 'admin'"), "{}", run.stderr);
    assert_no_table_writes(&sandbox);
}

#[test]
fn repairing_an_existing_user_needs_yes_and_then_fixes_it() {
    let sandbox = sandbox_for_apply("user-locked", false);
    let dir = tempfile::tempdir().unwrap();
    let url = sandbox.url();
    let refused = apply(dir.path(), &url, &[]);
    assert_eq!(refused.code, 2, "{}", refused.all());
    assert!(refused.stderr.contains("unlock it"), "{}", refused.stderr);
    assert!(table_writes(&sandbox).is_empty());

    let run = Run::of(
        snconnect(dir.path())
            .args(["apply", "--no-input", "--yes", "--instance", &url])
            .args(["--admin-user", fixtures::ADMIN_USER])
            .args(["--client-id", fixtures::CLIENT_ID])
            .env("SNCONNECT_CLIENT_SECRET", fixtures::CLIENT_SECRET)
            .env("SNCONNECT_PASSWORD", fixtures::SERVICE_PASSWORD),
    );
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(
        table_writes(&sandbox),
        [format!(
            "PATCH /api/now/table/sys_user/{} 200",
            user_id(&sandbox)
        )]
    );
    assert!(run.stdout.contains("unlock it"), "{}", run.stdout);
}

fn user_id(sandbox: &Sandbox) -> String {
    sandbox.with_db(|db| db.user_by_name("incident.io").unwrap()["sys_id"].clone())
}

#[test]
fn with_the_app_installed_and_acl_inserts_allowed_everything_passes() {
    let sandbox = sandbox_for_apply("empty", true);
    install_app_by_hand(&sandbox);
    let dir = tempfile::tempdir().unwrap();
    let url = sandbox.url();
    let run = apply(dir.path(), &url, &["--yes", "--insecure-storage"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(run.stdout.contains("18 of 18 steps done"), "{}", run.stdout);
    let report = verify(dir.path(), &url, &[]);
    assert_eq!(report.code, 0, "{}", report.all());
    let report = report.json();
    for id in CHECK_IDS {
        assert_eq!(report.status(id), "pass", "{id}: {report:#}");
    }
}

#[test]
fn refused_acl_inserts_are_explained_with_a_prefilled_form_per_acl() {
    let sandbox = sandbox_for_apply("empty", false);
    install_app_by_hand(&sandbox);
    let dir = tempfile::tempdir().unwrap();
    let run = apply(dir.path(), &sandbox.url(), &["--yes", "--insecure-storage"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stdout.contains("security_admin role elevated"),
        "{}",
        run.stdout
    );
    for op in ["read", "create", "write"] {
        assert!(
            run.stdout.contains(&format!(
                "sys_security_acl.do?sys_id=-1&sysparm_query=name%3Dtask%5Etype%3Drecord%5Eoperation%3D{op}"
            )),
            "{op}: {}",
            run.stdout
        );
    }
    // The re-check in the same output: roles now pass, the ACLs still fail.
    assert!(run.stdout.contains("✓ Roles"), "{}", run.stdout);
    assert!(run.stdout.contains("✗ Task ACLs"), "{}", run.stdout);
    assert_eq!(rows(&sandbox, "sys_security_acl", "name=task"), 0);
}

#[test]
fn dry_run_prints_the_plan_and_writes_nothing() {
    let sandbox = sandbox_for_apply("empty", true);
    install_app_by_hand(&sandbox);
    let dir = tempfile::tempdir().unwrap();
    let url = sandbox.url();
    let human = apply(dir.path(), &url, &["--dry-run"]);
    assert_eq!(human.code, 0, "{}", human.all());
    assert!(
        human.stdout.contains("18 writes planned, nothing changed"),
        "{}",
        human.stdout
    );
    assert!(human.stdout.contains("client_secret = [redacted]"));
    let json = apply(dir.path(), &url, &["--dry-run", "--format", "json"]);
    assert_eq!(json.code, 0, "{}", json.all());
    let doc = json.json();
    assert_eq!(doc["dry_run"], true);
    assert_eq!(doc["steps"].as_array().unwrap().len(), 18);
    assert_eq!(doc["steps"][1]["fields"]["client_secret"], "[redacted]");
    assert_eq!(doc["secrets"][0]["source"], "generated");

    let methods: Vec<String> = sandbox
        .requests()
        .into_iter()
        .map(|r| r.method)
        .filter(|m| m != "GET")
        .collect();
    assert!(methods.is_empty(), "{methods:?}");
    assert!(
        stored_secrets(dir.path(), &url, SECRETS).is_empty(),
        "a dry run generates and stores nothing"
    );
}

#[test]
fn a_second_apply_plans_nothing_and_writes_nothing() {
    let sandbox = sandbox_for_apply("empty", true);
    install_app_by_hand(&sandbox);
    let dir = tempfile::tempdir().unwrap();
    let url = sandbox.url();
    assert_eq!(
        apply(dir.path(), &url, &["--yes", "--insecure-storage"]).code,
        0
    );
    sandbox.clear_requests();
    let again = apply(dir.path(), &url, &["--format", "json"]);
    assert_eq!(again.code, 0, "{}", again.all());
    let doc = again.json();
    assert!(doc["steps"].as_array().unwrap().is_empty(), "{doc:#}");
    assert_eq!(doc["ok"], true);
    assert_no_table_writes(&sandbox);
}

#[test]
fn without_a_keyring_or_insecure_storage_nothing_is_written() {
    let sandbox = sandbox_for_apply("empty", true);
    let dir = tempfile::tempdir().unwrap();
    let run = apply(dir.path(), &sandbox.url(), &["--yes"]);
    assert_eq!(run.code, 3, "{}", run.all());
    assert!(run.stderr.contains("Nothing was written"), "{}", run.stderr);
    assert!(run.stderr.contains("--insecure-storage"), "{}", run.stderr);
    assert_no_table_writes(&sandbox);
}

#[test]
fn supplied_secrets_need_no_store_and_are_the_ones_that_work() {
    let sandbox = sandbox_for_apply("empty", true);
    install_app_by_hand(&sandbox);
    let dir = tempfile::tempdir().unwrap();
    let url = sandbox.url();
    let run = Run::of(
        snconnect(dir.path())
            .args(["apply", "--no-input", "--instance", &url])
            .args(["--admin-user", fixtures::ADMIN_USER])
            .env("SNCONNECT_CLIENT_SECRET", "my-own-secret-1234")
            .env("SNCONNECT_PASSWORD", "My-own-Passw0rd!"),
    );
    assert_eq!(run.code, 0, "no keyring was needed: {}", run.all());
    assert!(stored_secrets(dir.path(), &url, SECRETS).is_empty());
    let secret = sandbox.with_db(|db| {
        let row = db.find("oauth_entity", "name=incident.io")[0].clone();
        db.decrypt_field(&row, "client_secret").unwrap()
    });
    assert_eq!(secret, "my-own-secret-1234");
}

#[test]
fn missing_admin_credentials_under_no_input_are_a_usage_error() {
    let sandbox = sandbox_for_apply("empty", false);
    let dir = tempfile::tempdir().unwrap();
    let run = Run::of(
        snconnect(dir.path())
            .env_remove("SNCONNECT_ADMIN_PASSWORD")
            .args(["apply", "--no-input", "--instance", &sandbox.url()]),
    );
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(run.stderr.contains("admin credentials"), "{}", run.stderr);
    assert!(sandbox.requests().is_empty());
    let run = Run::of(snconnect(dir.path()).args(["apply", "--no-input"]));
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(run.stderr.contains("--instance"), "{}", run.stderr);
}

#[test]
fn wrong_admin_credentials_cost_one_request_and_exit_3() {
    let sandbox = sandbox_for_apply("empty", false);
    let dir = tempfile::tempdir().unwrap();
    let run = Run::of(
        snconnect(dir.path())
            .env("SNCONNECT_ADMIN_PASSWORD", "wrong")
            .args(["apply", "--no-input", "--yes", "--insecure-storage"])
            .args(["--instance", &sandbox.url(), "--admin-user", "admin"]),
    );
    assert_eq!(run.code, 3, "{}", run.all());
    assert!(run.stderr.contains("nothing was changed"), "{}", run.stderr);
    assert_eq!(sandbox.requests().len(), 1);
}

#[test]
fn generated_secrets_never_appear_in_any_output_unless_revealed() {
    let sandbox = sandbox_for_apply("empty", false);
    install_app_by_hand(&sandbox);
    let dir = tempfile::tempdir().unwrap();
    let url = sandbox.url();
    let mut outputs = vec![apply(
        dir.path(),
        &url,
        &["-v", "--yes", "--insecure-storage", "--format", "json"],
    )];
    assert!(
        outputs[0].stderr.contains("apply: created (oauth_entry)"),
        "-v logs each write: {}",
        outputs[0].stderr
    );
    // Nothing is generated twice: the later runs use the stored secrets.
    for args in [
        vec!["--dry-run"],
        vec!["--dry-run", "--format", "json"],
        vec!["-v", "--yes"],
        vec!["--yes", "--format", "junit"],
    ] {
        outputs.push(apply(dir.path(), &url, &args));
    }
    outputs.push(verify(dir.path(), &url, &["-v"]));
    let mut secrets = stored_secrets(dir.path(), &url, SECRETS);
    assert_eq!(secrets.len(), 2, "both were generated and stored");
    secrets.push(sandbox.with_db(|db| {
        let row = db.find("oauth_entity", "name=incident.io")[0].clone();
        db.decrypt_field(&row, "client_secret").unwrap()
    }));
    assert_eq!(secrets[0], secrets[2], "the stored secret is the one set");
    for out in &outputs {
        for s in &secrets {
            assert!(
                !out.all().contains(s.as_str()),
                "a secret was printed:\n{}",
                out.all()
            );
        }
    }
    // The scan does find them when they are printed on purpose.
    let sandbox2 = sandbox_for_apply("empty", false);
    let dir2 = tempfile::tempdir().unwrap();
    let shown = apply(
        dir2.path(),
        &sandbox2.url(),
        &["--yes", "--insecure-storage", "--reveal"],
    );
    let generated = stored_secrets(dir2.path(), &sandbox2.url(), SECRETS);
    assert_eq!(generated.len(), 2);
    for s in &generated {
        assert!(shown.stdout.contains(s.as_str()), "--reveal shows {s}");
    }
}

#[test]
fn a_run_killed_halfway_converges_on_the_next_run_without_duplicates() {
    for stop_after in [2, 6] {
        let sandbox = Sandbox::start(SandboxConfig {
            allow_acl_insert: true,
            latency: Duration::from_millis(150),
            ..SandboxConfig::scenario("empty")
        })
        .unwrap();
        install_app_by_hand(&sandbox);
        let dir = tempfile::tempdir().unwrap();
        let url = sandbox.url();

        let mut child = crate::support::snconnect_process()
            .env("SNCONNECT_CONFIG_DIR", dir.path())
            .env("SNCONNECT_ADMIN_PASSWORD", fixtures::ADMIN_PASSWORD)
            .args(["apply", "--no-input", "--yes", "--insecure-storage"])
            .args(["--instance", &url, "--admin-user", fixtures::ADMIN_USER])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while table_writes(&sandbox).len() < stop_after {
            assert!(Instant::now() < deadline, "apply never got that far");
            assert!(child.try_wait().unwrap().is_none(), "apply ended early");
            std::thread::sleep(Duration::from_millis(5));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        let written = table_writes(&sandbox).len();
        assert!(
            written < 18,
            "killed after {written} of 18 writes: not halfway"
        );

        let run = apply(dir.path(), &url, &["--yes"]);
        assert_eq!(run.code, 0, "after {stop_after}: {}", run.all());
        for (table, query) in [
            ("oauth_entity", "name=incident.io"),
            (
                "oauth_entity_auth_scope_mapping",
                "oauth_entity.name=incident.io",
            ),
            ("sys_user", "user_name=incident.io"),
            ("sys_security_acl", "name=task^operation=read"),
            ("sys_security_acl", "name=task^operation=create"),
            ("sys_security_acl", "name=task^operation=write"),
        ] {
            assert_eq!(rows(&sandbox, table, query), 1, "{table} {query}");
        }
        assert_eq!(
            rows(&sandbox, "sys_user_has_role", "user.user_name=incident.io"),
            4
        );
        assert_eq!(rows(&sandbox, "sys_security_acl_role", ""), 3);
        let report = verify(dir.path(), &url, &[]);
        assert_eq!(report.code, 0, "after {stop_after}: {}", report.all());
    }
}

#[test]
fn a_repair_without_the_service_credentials_says_how_to_prove_the_connection() {
    let sandbox = Sandbox::start(SandboxConfig::scenario("user-locked")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let run = apply(dir.path(), &sandbox.url(), &["--yes", "--insecure-storage"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let all = run.all();
    assert!(all.contains("pass [service_user]"), "{all}");
    assert!(all.contains("skip [connect]"), "{all}");
    assert!(
        all.contains("prove the connection with the service user's credentials"),
        "{all}"
    );
    // Nothing was generated or stored, so revealing stored secrets would show nothing.
    assert!(!all.contains("credentials show"), "{all}");
}

/// Issue 12: two applies at once on one machine leave exactly one OAuth entry and one user, and
/// both runs end agreeing with the instance.
#[test]
fn two_concurrent_applies_make_one_entry_and_one_user() {
    // Latency on every request makes each run take a second or more, so the two overlap however
    // the threads are scheduled (without the lock, both then create an entry and a user).
    let sandbox = snconnect::sandbox::Sandbox::start(snconnect::sandbox::SandboxConfig {
        allow_acl_insert: true,
        latency: std::time::Duration::from_millis(60),
        ..snconnect::sandbox::SandboxConfig::scenario("empty")
    })
    .unwrap();
    crate::support::install_app_by_hand(&sandbox);
    let dir = tempfile::tempdir().unwrap();
    let url = sandbox.url();
    let runs: Vec<crate::support::Run> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                scope.spawn(|| {
                    crate::support::Run::of(&mut crate::support::apply_cmd(
                        dir.path(),
                        &url,
                        &[],
                        &[],
                    ))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for run in &runs {
        assert!(run.code == 0 || run.code == 1, "{}", run.all());
    }
    let (entries, users) = sandbox.with_db(|db| {
        (
            db.find("oauth_entity", "name=incident.io").len(),
            db.find("sys_user", "user_name=incident.io").len(),
        )
    });
    assert_eq!(
        (entries, users),
        (1, 1),
        "{}\n{}",
        runs[0].all(),
        runs[1].all()
    );
    assert!(
        runs.iter()
            .any(|r| r.stderr.contains("waiting for it to finish")),
        "one run waited for the other:\n{}\n{}",
        runs[0].stderr,
        runs[1].stderr
    );
}

/// Issue 12: a run on another machine inserts the same OAuth entry and user between this run's
/// lookup and its insert. The older entry is kept and this run's is deleted again; the user
/// insert the instance refuses (user names are unique) is recognised as the same race. The
/// generated secrets never reached the instance, so none is kept, and no login is tried with
/// them.
#[test]
fn an_apply_raced_by_another_machine_keeps_one_entry_and_one_user_and_no_unused_secret() {
    let sandbox = Sandbox::start(SandboxConfig {
        allow_acl_insert: true,
        faults: snconnect::sandbox::Faults {
            raced_inserts: vec!["oauth_entity".into(), "sys_user".into()],
            ..Default::default()
        },
        ..SandboxConfig::scenario("empty")
    })
    .unwrap();
    install_app_by_hand(&sandbox);
    let dir = tempfile::tempdir().unwrap();
    let url = sandbox.url();
    let run = apply(dir.path(), &url, &["--yes", "--insecure-storage"]);
    assert!(run.code == 0 || run.code == 1, "{}", run.all());

    let (entries, users, raced_user) = sandbox.with_db(|db| {
        let entries: Vec<String> = db
            .find("oauth_entity", "name=incident.io")
            .iter()
            .map(|r| r["sys_created_by"].clone())
            .collect();
        let users: Vec<String> = db
            .find("sys_user", "user_name=incident.io")
            .iter()
            .map(|r| r["sys_created_by"].clone())
            .collect();
        let failed = db
            .find_one("sys_user", "user_name=incident.io")
            .map(|r| r["failed_attempts"].clone())
            .unwrap_or_default();
        (entries, users, failed)
    });
    assert_eq!(entries, ["race.admin"], "{}", run.all());
    assert_eq!(users, ["race.admin"], "{}", run.all());
    // The roles went to the user that stays.
    assert_eq!(
        rows(&sandbox, "sys_user_has_role", "user.user_name=incident.io"),
        4,
        "{}",
        run.all()
    );
    assert!(
        run.stdout
            .contains("another run inserted the same record at the same time"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("another run inserted it first"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("never reached the instance"),
        "{}",
        run.stdout
    );
    assert!(
        stored_secrets(dir.path(), &url, SECRETS).is_empty(),
        "a secret the instance never had is kept:\n{}",
        run.all()
    );
    assert!(
        raced_user.is_empty() || raced_user == "0",
        "a login was tried with a password the user never had: {raced_user}"
    );
}

/// Issue 12: six `apply` processes at once, against six instances, all keeping their secrets in
/// one `--insecure-storage` file, for a hundred rounds. Each round every instance loses its
/// OAuth entry and its user, so each run generates and stores a new client secret and password;
/// after the round every profile's stored secrets are the ones its instance has. Without the
/// file's lock around re-read, merge and rename, writers overwrite each other and secrets that
/// the instances use are lost within the first rounds.
#[test]
fn a_hundred_rounds_of_six_concurrent_applies_sharing_one_secrets_file_lose_nothing() {
    const ROUNDS: usize = 100;
    const RUNS: usize = 6;
    let sandboxes: Vec<Sandbox> = (0..RUNS)
        .map(|_| crate::support::sandbox("healthy-app"))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    for round in 0..ROUNDS {
        for sn in &sandboxes {
            sn.with_db(|db| {
                db.remove_where(
                    "oauth_entity_auth_scope_mapping",
                    "oauth_entity.name=incident.io",
                );
                db.remove_where("oauth_entity", "name=incident.io");
                db.remove_where("sys_user_has_role", "user.user_name=incident.io");
                db.remove_where("sys_user", "user_name=incident.io");
            });
        }
        let children: Vec<std::process::Child> = sandboxes
            .iter()
            .map(|sn| {
                let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("snconnect"));
                crate::support::without_session_bus(&mut cmd);
                cmd.env("SNCONNECT_CONFIG_DIR", dir.path())
                    .env("SNCONNECT_STATE_DIR", dir.path().join("state"))
                    .env("SNCONNECT_ADMIN_PASSWORD", fixtures::ADMIN_PASSWORD)
                    .args(["apply", "--no-input", "--yes", "--insecure-storage"])
                    .args([
                        "--instance",
                        &sn.url(),
                        "--admin-user",
                        fixtures::ADMIN_USER,
                    ])
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.code() == Some(0),
                "round {round}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        for sn in &sandboxes {
            let url = sn.url();
            let stored = stored_secrets(dir.path(), &url, SECRETS);
            assert_eq!(stored.len(), 2, "round {round}: {url} lost a secret");
            let (client_secret, password_ok) = sn.with_db(|db| {
                let entry = db
                    .find_one("oauth_entity", "name=incident.io")
                    .unwrap()
                    .clone();
                let user = db.find_one("sys_user", "user_name=incident.io").unwrap();
                (
                    db.decrypt_field(&entry, "client_secret"),
                    snconnect::sandbox::db::verify_password(&user["user_password"], &stored[1]),
                )
            });
            assert_eq!(
                client_secret.as_deref(),
                Some(stored[0].as_str()),
                "round {round}: {url}'s stored client secret is not the instance's"
            );
            assert!(
                password_ok,
                "round {round}: {url}'s stored password is not the user's"
            );
        }
    }
}
