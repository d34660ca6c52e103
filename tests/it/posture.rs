//! The posture check end to end (issue 17): every case has a sandbox scenario, and `verify`
//! reports it with the right status and code in JSON and JUnit; `--egress-ip` decides the IP
//! rules; `--checks` includes or leaves it out.

use crate::support::{verify_cmd, ReportExt, Run};
use snconnect::sandbox::{Sandbox, SandboxConfig};

fn verify(scenario: &str, args: &[&str]) -> Run {
    let sandbox = Sandbox::start(SandboxConfig::scenario(scenario)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    Run::of(&mut verify_cmd(dir.path(), &sandbox.url(), args, &[]))
}

#[test]
fn each_posture_scenario_reports_its_status_and_code() {
    let cases = [
        ("healthy-app", "pass", vec![]),
        (
            "posture-privileged",
            "warn",
            vec!["posture.privileged_roles"],
        ),
        ("posture-ui-login", "warn", vec!["posture.ui_login_allowed"]),
        ("posture-ip-deny", "warn", vec!["posture.ip_unchecked"]),
        ("posture-clone", "warn", vec!["posture.clone_not_preserved"]),
        (
            "access-policy-basic-only",
            "warn",
            vec!["posture.api_access_policy"],
        ),
    ];
    for (scenario, status, codes) in cases {
        let run = verify(scenario, &[]);
        assert_eq!(run.status("posture"), status, "{scenario}: {}", run.all());
        assert_eq!(run.codes("posture"), codes, "{scenario}");
    }
    // On the admin path, admin is what the path is about, not a privilege too many.
    let admin = verify("healthy-admin", &["--path", "admin"]);
    assert_eq!(admin.status("posture"), "pass", "{}", admin.all());
    let app = verify("healthy-admin", &[]);
    assert_eq!(app.codes("posture"), ["posture.privileged_roles"]);
    // JUnit carries it as one test case among the others.
    let junit = verify("posture-clone", &["--format", "junit"]);
    assert!(
        junit.stdout.contains("name=\"posture\""),
        "{}",
        junit.stdout
    );
    assert!(junit.stdout.contains("posture.clone_not_preserved"));
    // Under --strict a posture warning fails the run.
    assert_eq!(verify("posture-privileged", &[]).code, 0);
    assert_eq!(verify("posture-privileged", &["--strict"]).code, 1);
}

#[test]
fn egress_addresses_are_judged_against_the_ip_rules() {
    // The scenario denies everything inbound but 192.0.2.0/24 (the office VPN).
    let allowed = verify("posture-ip-deny", &["--egress-ip", "192.0.2.10"]);
    assert_eq!(allowed.status("posture"), "pass", "{}", allowed.all());
    let blocked = verify(
        "posture-ip-deny",
        &["--egress-ip", "192.0.2.10,203.0.113.7"],
    );
    assert_eq!(blocked.code, 1, "{}", blocked.all());
    assert_eq!(blocked.status("posture"), "fail");
    assert_eq!(blocked.codes("posture"), ["posture.ip_blocked"]);
    assert!(blocked.messages("posture").contains("203.0.113.7"));
    let bad = verify("posture-ip-deny", &["--egress-ip", "not-an-address"]);
    assert_eq!(bad.code, 2, "{}", bad.all());
}

#[test]
fn checks_can_name_or_leave_out_posture() {
    let only = verify("posture-clone", &["--checks", "instance,posture"]);
    assert_eq!(only.status("posture"), "warn", "{}", only.all());
    assert_eq!(only.status("connect"), "skip");
    let without = verify(
        "posture-clone",
        &[
            "--checks",
            "instance,app,oauth_app,service_user,roles,task_acls,connect",
        ],
    );
    assert_eq!(without.status("posture"), "skip", "{}", without.all());
    assert_eq!(without.code, 0);
}
