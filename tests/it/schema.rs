//! Issue 18: every sandbox scenario's JSON report, and the plans apply writes, validate against
//! the committed JSON Schemas (`schema/`), checked by the reference validator (Python
//! `jsonschema`, Draft 2020-12) from the Python that `.ci/run` prepares (SNCONNECT_TEST_PYTHON).
//! Without it the test says it was not run (and fails in CI).

use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;

use crate::support::{fixture_cmd, verify_cmd, Run};
use snconnect::sandbox::{scenarios, Sandbox, SandboxConfig};

/// Validates each document in `docs` against `schema`: every error found, or `Ok`.
fn validate(python: &std::ffi::OsStr, schema: &Path, docs: &[PathBuf]) -> Result<(), String> {
    let script = r#"
import json, sys
from jsonschema import Draft202012Validator
schema = json.load(open(sys.argv[1]))
Draft202012Validator.check_schema(schema)
validator = Draft202012Validator(schema)
bad = []
for path in sys.argv[2:]:
    for e in validator.iter_errors(json.load(open(path))):
        bad.append(f"{path}: {list(e.absolute_path)}: {e.message}")
print("\n".join(bad))
sys.exit(1 if bad else 0)
"#;
    let out = StdCommand::new(python)
        .args(["-c", script])
        .arg(schema)
        .args(docs)
        .output()
        .expect("run python");
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "documents that do not match {}:\n{}{}",
        schema.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ))
}

fn schema(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("schema")
        .join(name)
}

#[test]
fn every_scenario_report_and_plan_validates_against_the_committed_schemas() {
    let Some(python) = std::env::var_os("SNCONNECT_TEST_PYTHON").filter(|p| !p.is_empty()) else {
        crate::support::not_run(
            "schema",
            "set SNCONNECT_TEST_PYTHON to a Python with jsonschema (.ci/run makes one)",
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut reports = Vec::new();
    let mut plans = Vec::new();
    for (name, _) in scenarios::names() {
        let sandbox = Sandbox::start(SandboxConfig::scenario(name)).unwrap();
        let config = dir.path().join(name);
        let run = Run::of(&mut verify_cmd(&config, &sandbox.url(), &[], &[]));
        let file = dir.path().join(format!("{name}.report.json"));
        std::fs::write(&file, &run.stdout).unwrap();
        reports.push(file);
        if ["empty", "broken", "acl-missing", "user-missing"].contains(&name) {
            let plan = Run::of(&mut fixture_cmd(
                &config,
                "apply",
                &sandbox.url(),
                &["--dry-run", "--format", "json"],
                &[],
            ));
            assert_eq!(plan.code, 0, "{name}: {}", plan.all());
            let file = dir.path().join(format!("{name}.plan.json"));
            std::fs::write(&file, &plan.stdout).unwrap();
            plans.push(file);
        }
    }
    validate(&python, &schema("report.schema.json"), &reports).unwrap();
    validate(&python, &schema("plan.schema.json"), &plans).unwrap();

    // A fleet document: one instance that ran, one that could not.
    let sandbox = Sandbox::start(SandboxConfig::scenario("broken")).unwrap();
    let file = dir.path().join("fleet.toml");
    std::fs::write(
        &file,
        format!(
            "[[profile]]\nname = \"a\"\ninstance = \"{}\"\n\n[[profile]]\nname = \"b\"\ninstance = \"http://127.0.0.1:9\"\n",
            sandbox.url()
        ),
    )
    .unwrap();
    let fleet = Run::of(
        crate::support::snconnect(dir.path())
            .args([
                "verify",
                "--no-input",
                "--format",
                "json",
                "--profiles-file",
            ])
            .arg(&file),
    );
    let doc = dir.path().join("fleet.json");
    std::fs::write(&doc, &fleet.stdout).unwrap();
    validate(&python, &schema("fleet.schema.json"), &[doc]).unwrap();

    // The schema is strict where the contract is: a status or a code it does not list fails.
    let text = std::fs::read_to_string(&reports[0]).unwrap();
    let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    doc["checks"][0]["status"] = "bogus".into();
    let bogus = dir.path().join("bogus.json");
    std::fs::write(&bogus, doc.to_string()).unwrap();
    let refused = validate(&python, &schema("report.schema.json"), &[bogus]).unwrap_err();
    assert!(refused.contains("bogus"), "{refused}");
}
