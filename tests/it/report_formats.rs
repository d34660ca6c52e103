//! The three report formats as the binary writes them: JSON checked field by field against the
//! contract's shape, JUnit parsed with a real XML parser, and the human report's colour rules.

use crate::support::{assert_no_fixture_secret, fixture_cmd, Run, CHECK_IDS};
use quick_xml::events::Event;
use quick_xml::Reader;
use serde_json::Value;
use snconnect::sandbox::{Sandbox, SandboxConfig};

/// verify with the fixture credentials, in the format `args` choose (human by default), with no
/// fixture secret in any output.
fn verify(sandbox: &Sandbox, args: &[&str], env: &[(&str, &str)]) -> (String, i32) {
    let dir = tempfile::tempdir().unwrap();
    let run = Run::of(&mut fixture_cmd(
        dir.path(),
        "verify",
        &sandbox.url(),
        args,
        env,
    ));
    assert_no_fixture_secret(&run);
    (run.stdout, run.code)
}

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort();
    k
}

fn sorted(mut v: Vec<&str>) -> Vec<&str> {
    v.sort();
    v
}

/// Validates a document against the contract's JSON shape, returning the checks.
fn validate_contract_shape(doc: &Value) {
    assert_eq!(
        keys(doc),
        sorted(vec![
            "schema_version",
            "tool",
            "instance",
            "path",
            "ok",
            "summary",
            "checks"
        ])
    );
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(keys(&doc["tool"]), ["name", "version"]);
    assert_eq!(doc["tool"]["name"], "snconnect");
    assert!(doc["tool"]["version"].is_string());
    assert!(doc["instance"].as_str().unwrap().starts_with("http"));
    assert!(["app", "admin"].contains(&doc["path"].as_str().unwrap()));
    assert!(doc["ok"].is_boolean());
    assert_eq!(
        keys(&doc["summary"]),
        sorted(vec!["pass", "warn", "fail", "skip"])
    );
    let checks = doc["checks"].as_array().unwrap();
    let ids: Vec<&str> = checks.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, CHECK_IDS, "every check, in contract order");
    let mut counted = std::collections::BTreeMap::new();
    for c in checks {
        assert_eq!(
            keys(c),
            sorted(vec!["id", "title", "status", "duration_ms", "findings"])
        );
        let status = c["status"].as_str().unwrap();
        assert!(["pass", "warn", "fail", "skip"].contains(&status));
        *counted.entry(status.to_string()).or_insert(0u64) += 1;
        assert!(c["title"].is_string());
        assert!(c["duration_ms"].is_u64());
        let findings = c["findings"].as_array().unwrap();
        if status != "pass" {
            assert!(
                !findings.is_empty(),
                "a non-pass check carries findings: {c}"
            );
        }
        for f in findings {
            assert_eq!(
                keys(f),
                sorted(vec!["code", "severity", "message", "fix", "link"])
            );
            let code = f["code"].as_str().unwrap();
            assert!(
                code.contains('.') && code == code.to_ascii_lowercase(),
                "{code}"
            );
            assert!(["error", "warning", "note"].contains(&f["severity"].as_str().unwrap()));
            let message = f["message"].as_str().unwrap();
            assert!(!message.is_empty());
            assert!(!message.contains("   "), "stray spacing: {message}");
            if let Some(fix) = f["fix"].as_str() {
                assert!(!fix.contains("   "), "stray spacing: {fix}");
            }
            assert!(f["fix"].is_string() || f["fix"].is_null());
            assert!(f["link"].is_string() || f["link"].is_null());
            match status {
                "fail" => {}
                "warn" => assert_ne!(f["severity"], "error", "{c}"),
                _ => assert_eq!(f["severity"], "note", "{c}"),
            }
        }
        if status == "fail" {
            assert!(findings.iter().any(|f| f["severity"] == "error"));
        }
    }
    for s in ["pass", "warn", "fail", "skip"] {
        assert_eq!(
            doc["summary"][s].as_u64().unwrap(),
            counted.get(s).copied().unwrap_or(0),
            "summary.{s}"
        );
    }
}

#[test]
fn json_follows_the_contract_shape_for_a_broken_and_a_healthy_instance() {
    for (scenario, ok, code) in [("broken", false, 1), ("healthy-app", true, 0)] {
        let sandbox = Sandbox::start(SandboxConfig::scenario(scenario)).unwrap();
        let (stdout, exit) = verify(&sandbox, &["--format", "json"], &[]);
        let doc: Value = serde_json::from_str(&stdout).expect("stdout is one JSON document");
        validate_contract_shape(&doc);
        assert_eq!(doc["ok"], ok);
        assert_eq!(exit, code);
        assert_eq!(doc["instance"], sandbox.url());
    }
}

#[test]
fn broken_scenario_json_names_records_and_links_into_the_instance() {
    let sandbox = Sandbox::start(SandboxConfig::scenario("broken")).unwrap();
    let (stdout, _) = verify(&sandbox, &["--format", "json"], &[]);
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    let user = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "service_user")
        .unwrap();
    let f = &user["findings"][0];
    assert_eq!(f["code"], "service_user.locked_out");
    assert_eq!(f["message"], "user 'incident.io' is locked out");
    let link = f["link"].as_str().unwrap();
    assert!(
        link.starts_with(&format!("{}/sys_user.do?sys_id=", sandbox.url())),
        "{link}"
    );
}

#[test]
fn junit_has_one_testcase_per_check_with_failures_and_skips_marked() {
    let sandbox = Sandbox::start(SandboxConfig::scenario("broken")).unwrap();
    let (stdout, exit) = verify(
        &sandbox,
        &[
            "--format",
            "junit",
            "--only",
            "instance,service_user,roles,task_acls,connect",
        ],
        &[],
    );
    assert_eq!(exit, 1);
    let mut reader = Reader::from_str(&stdout);
    let mut cases: Vec<(String, Option<String>)> = Vec::new();
    let mut suite_failures = None;
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) => {
                let attr = |name: &str| {
                    e.attributes()
                        .map(|a| a.unwrap())
                        .find(|a| a.key.as_ref() == name.as_bytes())
                        .map(|a| a.unescape_value().unwrap().into_owned())
                };
                match e.name().as_ref() {
                    b"testsuite" => suite_failures = attr("failures"),
                    b"testcase" => cases.push((attr("name").unwrap(), None)),
                    b"failure" => cases.last_mut().unwrap().1 = Some("failure".into()),
                    b"skipped" => cases.last_mut().unwrap().1 = Some("skipped".into()),
                    _ => {}
                }
            }
            _ => {}
        }
    }
    let names: Vec<&str> = cases.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, CHECK_IDS);
    let outcome = |id: &str| cases.iter().find(|(n, _)| n == id).unwrap().1.clone();
    assert_eq!(outcome("instance"), None);
    assert_eq!(outcome("service_user").as_deref(), Some("failure"));
    assert_eq!(
        outcome("app").as_deref(),
        Some("skipped"),
        "--only skips app"
    );
    let failures: usize = suite_failures.unwrap().parse().unwrap();
    assert_eq!(
        failures,
        cases
            .iter()
            .filter(|(_, o)| o.as_deref() == Some("failure"))
            .count()
    );
}

#[test]
fn human_report_has_no_colour_off_a_terminal_unless_asked() {
    let sandbox = Sandbox::start(SandboxConfig::scenario("broken")).unwrap();
    let (plain, exit) = verify(&sandbox, &[], &[]);
    assert_eq!(exit, 1);
    assert!(!plain.contains('\u{1b}'), "{plain}");
    assert!(plain.contains("✗ Service user"), "{plain}");
    assert!(plain.contains("service_user.locked_out"));
    assert!(plain.contains("Next:"));

    let (coloured, _) = verify(&sandbox, &["--color", "always"], &[]);
    assert!(coloured.contains('\u{1b}'));

    let (never, _) = verify(&sandbox, &["--color", "never"], &[("NO_COLOR", "1")]);
    assert!(!never.contains('\u{1b}'));
}
