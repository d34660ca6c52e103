//! Fleet verify (issue 18): several instances in one run, from a profiles file or repeated
//! `--profile`: one table, one JSON document with a report per instance, one JUnit suite per
//! instance, the worst exit code; secrets per profile only; a global cap on requests in flight.

use std::path::Path;

use crate::support::{profiles_file, secrets_for, Run};
use snconnect::sandbox::{fixtures, Sandbox, SandboxConfig};

fn fleet(dir: &Path, file: &Path, extra: &[&str]) -> Run {
    let mut cmd = crate::support::snconnect(dir);
    cmd.args(["verify", "--no-input", "--profiles-file"])
        .arg(file)
        .args(extra);
    secrets_for(&mut cmd, "DEV");
    secrets_for(&mut cmd, "TEST_1");
    Run::of(&mut cmd)
}

#[test]
fn a_healthy_a_failing_and_an_unreachable_instance_in_one_run() {
    let healthy = Sandbox::start(SandboxConfig::scenario("healthy-app")).unwrap();
    let broken = Sandbox::start(SandboxConfig::scenario("user-locked")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = profiles_file(
        dir.path(),
        &[
            ("dev", &healthy.url()),
            ("test-1", &broken.url()),
            ("gone", "http://127.0.0.1:9"),
        ],
    );

    let human = fleet(dir.path(), &file, &[]);
    assert_eq!(human.code, 3, "the worst of 0, 1 and 3: {}", human.all());
    let lines: Vec<&str> = human.stdout.lines().collect();
    assert!(
        lines[0].contains("3 instances (1 ready, 1 not ready, 1 could not be checked)"),
        "{}",
        human.stdout
    );
    let row = |profile: &str| {
        lines
            .iter()
            .find(|l| l.starts_with(&format!("{profile} ")))
            .unwrap_or_else(|| panic!("no row for {profile}:\n{}", human.stdout))
            .to_string()
    };
    assert!(row("dev").contains("✓      ✓"), "{}", row("dev"));
    assert!(row("test-1").contains('✗'), "{}", row("test-1"));
    assert!(row("gone").contains('✗'), "{}", row("gone"));
    // Details only of what is not ready.
    assert!(human.stdout.contains("── test-1 ──"));
    assert!(!human.stdout.contains("── dev ──"));
    assert!(human.stdout.contains("service_user.locked_out"));

    let json = fleet(dir.path(), &file, &["--format", "json"]);
    assert_eq!(json.code, 3);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(doc["exit_code"], 3);
    assert_eq!(doc["ok"], false);
    let codes: Vec<i64> = doc["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["exit_code"].as_i64().unwrap())
        .collect();
    assert_eq!(codes, [0, 1, 3]);
    assert_eq!(doc["runs"][0]["report"]["ok"], true);
    assert_eq!(doc["runs"][1]["report"]["checks"][3]["id"], "service_user");

    let junit = fleet(dir.path(), &file, &["--format", "junit"]);
    assert_eq!(
        junit.stdout.matches("<testsuite ").count(),
        3,
        "{}",
        junit.stdout
    );
    assert!(junit.stdout.contains(&healthy.url()));

    let md = fleet(dir.path(), &file, &["--format", "markdown"]);
    assert!(md.stdout.contains("| dev | "), "{}", md.stdout);
    assert!(md.stdout.contains("✅ ready"));
    assert!(md.stdout.contains("❌ not ready: service_user"));
}

/// A fleet's secrets are per profile: the variables of a single run are not read for any
/// member, so one instance's password never reaches another instance.
#[test]
fn repeated_profiles_use_their_own_secrets_only() {
    let sandbox = Sandbox::start(SandboxConfig::scenario("healthy-app")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = snconnect::credentials::ConfigDir::at(dir.path().to_path_buf());
    for name in ["dev", "test-1"] {
        let mut p = snconnect::credentials::Profile::new(name.to_string());
        p.instance = Some(sandbox.url());
        p.admin_user = Some(fixtures::ADMIN_USER.into());
        p.client_id = Some(fixtures::CLIENT_ID.into());
        config.save_profile(&p).unwrap();
    }
    let mut cmd = crate::support::snconnect(dir.path());
    cmd.args(["verify", "--no-input", "--format", "json"])
        .args(["--profile", "dev", "--profile", "test-1"])
        // The single-run variables: a fleet must not hand them to any member.
        .env("SNCONNECT_ADMIN_PASSWORD", fixtures::ADMIN_PASSWORD)
        .env("SNCONNECT_CLIENT_SECRET", fixtures::CLIENT_SECRET)
        .env("SNCONNECT_PASSWORD", fixtures::SERVICE_PASSWORD);
    secrets_for(&mut cmd, "DEV");
    let run = Run::of(&mut cmd);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let connect = |i: usize| doc["runs"][i]["report"]["checks"][7]["status"].clone();
    assert_eq!(connect(0), "pass", "{}", run.all());
    assert_eq!(
        connect(1),
        "skip",
        "test-1 has no secrets of its own: {}",
        run.all()
    );
    assert_eq!(
        doc["runs"][1]["report"]["checks"][1]["findings"][0]["code"],
        "input.admin_credentials_missing"
    );
    // What belongs to one instance is refused in a fleet run.
    for one_instance in [
        &["--instance", "acme"][..],
        &["--client-id", "x"],
        &["--password-stdin"],
    ] {
        let mut bad = crate::support::snconnect(dir.path());
        bad.args([
            "verify",
            "--no-input",
            "--profile",
            "dev",
            "--profile",
            "test-1",
        ])
        .args(one_instance);
        let run = Run::of(&mut bad);
        assert_eq!(run.code, 2, "{one_instance:?}: {}", run.all());
        assert!(run.stderr.contains("in a fleet run"), "{}", run.stderr);
    }
}

/// Three profiles of one slow sandbox checked with `--max-in-flight cap`: the most requests the
/// sandbox served at once (the fleet's, since every profile is that sandbox), and how many.
fn one_sandbox_fleet(cap: &str) -> (usize, usize) {
    let sandbox = Sandbox::start(SandboxConfig {
        // Each request takes a while, so that without the cap they would overlap.
        latency: std::time::Duration::from_millis(40),
        ..SandboxConfig::scenario("healthy-app")
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = sandbox.url();
    let file = profiles_file(dir.path(), &[("dev", &url), ("test-1", &url), ("qa", &url)]);
    let mut cmd = crate::support::snconnect(dir.path());
    cmd.args([
        "verify",
        "--no-input",
        "--max-in-flight",
        cap,
        "--profiles-file",
    ])
    .arg(&file);
    for prefix in ["DEV", "TEST_1", "QA"] {
        secrets_for(&mut cmd, prefix);
    }
    let run = Run::of(&mut cmd);
    assert_eq!(run.code, 0, "{}", run.all());
    (sandbox.max_in_flight(), sandbox.requests().len())
}

#[test]
fn the_cap_on_requests_in_flight_holds_across_the_fleet() {
    let (at_once, requests) = one_sandbox_fleet("2");
    assert!(at_once <= 2, "{at_once} requests in flight at once");
    assert!(requests >= 3 * 15, "every profile was checked");
    // The same fleet with a wide cap overlaps far more: the cap is what held it at two.
    let (wide, _) = one_sandbox_fleet("64");
    assert!(wide > 2, "{wide}");
}

/// `--metrics-file` in a fleet run: one exposition, each family once, a sample per instance;
/// read back by Prometheus' own parser (the Python that `.ci/run` prepares).
#[test]
fn a_fleet_writes_one_metrics_file_with_a_sample_per_instance() {
    let Some(python) = std::env::var_os("SNCONNECT_TEST_PYTHON").filter(|p| !p.is_empty()) else {
        crate::support::not_run(
            "fleet metrics",
            "set SNCONNECT_TEST_PYTHON to a Python with prometheus-client (.ci/run makes one)",
        );
        return;
    };
    let healthy = Sandbox::start(SandboxConfig::scenario("healthy-app")).unwrap();
    let broken = Sandbox::start(SandboxConfig::scenario("user-locked")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = profiles_file(
        dir.path(),
        &[("dev", &healthy.url()), ("test-1", &broken.url())],
    );
    let metrics = dir.path().join("fleet.prom");
    let run = fleet(
        dir.path(),
        &file,
        &["--metrics-file", metrics.to_str().unwrap()],
    );
    assert_eq!(run.code, 1, "{}", run.all());
    let script = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = {}
for family in text_string_to_metric_families(open(sys.argv[1]).read()):
    for s in family.samples:
        if s.name == "snconnect_verify_exit_code":
            out[s.labels["instance"]] = s.value
print(json.dumps(out))
"#;
    let out = std::process::Command::new(python)
        .args(["-c", script])
        .arg(&metrics)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the parser refused the file: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(&metrics).unwrap_or_default()
    );
    let codes: std::collections::HashMap<String, f64> =
        serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(codes[&healthy.url()], 0.0, "{codes:?}");
    assert_eq!(codes[&broken.url()], 1.0, "{codes:?}");
    let text = std::fs::read_to_string(&metrics).unwrap();
    assert_eq!(text.matches("# TYPE snconnect_verify_exit_code").count(), 1);
}

/// Each instance of a fleet keeps its own last good run: after a role is removed on one, the
/// next fleet run's report for that instance says what changed, and the other's says nothing.
#[test]
fn each_instance_says_what_changed_since_its_own_last_good_run() {
    let a = Sandbox::start(SandboxConfig::scenario("healthy-app")).unwrap();
    let b = Sandbox::start(SandboxConfig::scenario("healthy-app")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = profiles_file(dir.path(), &[("dev", &a.url()), ("test-1", &b.url())]);
    assert_eq!(fleet(dir.path(), &file, &[]).code, 0);
    b.with_db(|db| {
        db.remove_where(
            "sys_user_has_role",
            "user.user_name=incident.io^role.name=sn_cmdb_user",
        );
    });
    let run = fleet(dir.path(), &file, &["--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.all());
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert!(doc["runs"][0]["report"]
        .get("changed_since_last_good")
        .is_none());
    let changes = doc["runs"][1]["report"]["changed_since_last_good"]["changes"].to_string();
    assert!(changes.contains("sn_cmdb_user"), "{changes}");
}

/// A profiles file's `notify` that is not an alert source is an input error, said before any
/// instance is asked.
#[test]
fn an_unusable_notify_in_the_profiles_file_is_refused_before_any_request() {
    let sandbox = Sandbox::start(SandboxConfig::scenario("healthy-app")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("instances.toml");
    std::fs::write(
        &file,
        format!(
            "[[profile]]\nname = \"dev\"\ninstance = \"{}\"\nnotify = \"ftp://example.com/x\"\n",
            sandbox.url()
        ),
    )
    .unwrap();
    let run = fleet(dir.path(), &file, &[]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(run.stderr.contains("profile 'dev'"), "{}", run.stderr);
    assert!(sandbox.requests().is_empty());
}
