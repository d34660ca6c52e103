//! `verify --metrics-file` (issue 15): the file parses with Prometheus' own Python client's text
//! parser, holds one status per check, and keeps the last success through a failing run.
//!
//! The parser comes from the Python that `.ci/run` prepares (SNCONNECT_TEST_PYTHON, with
//! prometheus-client installed); without it the test says it was not run (and fails in CI).

use std::collections::HashMap;
use std::process::Command as StdCommand;

use crate::support::{verify_cmd, Run};
use snconnect::sandbox::{Sandbox, SandboxConfig};

/// Parses `path` with prometheus_client and returns every sample as "name{labels}" → value.
fn parse(python: &std::ffi::OsStr, path: &std::path::Path) -> HashMap<String, f64> {
    let script = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = {}
for family in text_string_to_metric_families(open(sys.argv[1]).read()):
    for s in family.samples:
        labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()) if k != "instance")
        out[f"{s.name}{{{labels}}}"] = s.value
print(json.dumps(out))
"#;
    let out = StdCommand::new(python)
        .args(["-c", script])
        .arg(path)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "the Prometheus parser refused the file:\n{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(path).unwrap_or_default()
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_metrics_file_parses_and_keeps_the_last_success_through_a_failure() {
    let Some(python) = std::env::var_os("SNCONNECT_TEST_PYTHON").filter(|p| !p.is_empty()) else {
        crate::support::not_run(
            "metrics",
            "set SNCONNECT_TEST_PYTHON to a Python with prometheus-client (.ci/run makes one)",
        );
        return;
    };
    let sandbox = Sandbox::start(SandboxConfig::scenario("healthy-app")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("snconnect.prom");
    let file_arg = file.to_str().unwrap();
    let run = Run::of(&mut verify_cmd(
        dir.path(),
        &sandbox.url(),
        &["--metrics-file", file_arg],
        &[],
    ));
    assert_eq!(run.code, 0, "{}", run.all());
    let first = parse(&python, &file);
    assert_eq!(first["snconnect_verify_exit_code{}"], 0.0);
    assert_eq!(
        first["snconnect_check_status{check=connect,status=pass}"],
        1.0
    );
    assert_eq!(
        first["snconnect_check_status{check=connect,status=fail}"],
        0.0
    );
    assert!(first["snconnect_verify_requests{}"] >= 10.0, "{first:?}");
    let passed_at = first["snconnect_verify_last_success_timestamp_seconds{}"];
    assert!(passed_at > 1.7e9, "{first:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(
            mode, 0o644,
            "a collector running as another user must read it"
        );
    }

    sandbox
        .with_db(|db| db.update_where("sys_user", "user_name=incident.io", &[("active", "false")]));
    let run = Run::of(&mut verify_cmd(
        dir.path(),
        &sandbox.url(),
        &["--metrics-file", file_arg],
        &[],
    ));
    assert_eq!(run.code, 1, "{}", run.all());
    let second = parse(&python, &file);
    assert_eq!(second["snconnect_verify_exit_code{}"], 1.0);
    assert_eq!(
        second["snconnect_check_status{check=service_user,status=fail}"], 1.0,
        "{second:?}"
    );
    assert_eq!(
        second["snconnect_verify_last_success_timestamp_seconds{}"], passed_at,
        "the failing run keeps the last success"
    );
    // Replaced, not appended to, and nothing else left beside it.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("prom") && n != "snconnect.prom")
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
