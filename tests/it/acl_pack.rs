//! `apply --acl-pack FILE` end to end (issue 16): the missing task ACLs as one update set, built
//! for the target instance, imported into the sandbox as an elevated admin would, and confirmed
//! by `verify`. Importing twice changes nothing; nothing secret is ever in a pack.

use std::path::Path;

use crate::support::{fixture_cmd, verify_cmd, ReportExt, Run, FIXTURE_SECRETS};
use snconnect::sandbox::{Sandbox, SandboxConfig};
use snconnect::updateset;

/// `snconnect apply --no-input --yes --acl-pack FILE` with the fixture credentials.
fn apply_with_pack(dir: &Path, sandbox: &Sandbox, pack: &Path, extra: &[&str]) -> Run {
    let mut args = vec!["--yes", "--insecure-storage", "--acl-pack"];
    let pack = pack.to_str().unwrap();
    args.push(pack);
    args.extend_from_slice(extra);
    Run::of(&mut fixture_cmd(dir, "apply", &sandbox.url(), &args, &[]))
}

fn task_acls_status(dir: &Path, sandbox: &Sandbox) -> String {
    let run = Run::of(&mut verify_cmd(dir, &sandbox.url(), &[], &[]));
    run.check("task_acls")["status"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn counts(sandbox: &Sandbox) -> (usize, usize) {
    sandbox.with_db(|db| {
        (
            db.rows("sys_security_acl").len(),
            db.rows("sys_security_acl_role").len(),
        )
    })
}

/// POST /__sandbox/import_update_set, as the README tells a rehearsing admin to.
fn import_over_http(sandbox: &Sandbox, xml: String) -> (u16, serde_json::Value) {
    let url = format!("{}/__sandbox/import_update_set", sandbox.url());
    crate::support::rt().block_on(async move {
        let r = reqwest::Client::new()
            .post(url)
            .body(xml)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or_default())
    })
}

#[test]
fn missing_acls_become_a_pack_that_imports_once_and_makes_task_acls_pass() {
    let sandbox = Sandbox::start(SandboxConfig::scenario("acl-missing")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pack = dir.path().join("task-acls.xml");
    assert_eq!(task_acls_status(dir.path(), &sandbox), "fail");

    let run = apply_with_pack(dir.path(), &sandbox, &pack, &["--dry-run"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stderr.contains("wrote the missing task ACLs"),
        "{}",
        run.all()
    );
    let xml = std::fs::read_to_string(&pack).unwrap();
    // Generated twice, the same file.
    let again = apply_with_pack(dir.path(), &sandbox, &pack, &["--dry-run"]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert_eq!(std::fs::read_to_string(&pack).unwrap(), xml);
    for secret in FIXTURE_SECRETS {
        assert!(!xml.contains(secret), "a secret in the pack");
    }

    // The records reference the role as this instance has it.
    let role = sandbox.with_db(|db| db.id_of("sys_user_role", "name=x_incident_io.api_user"));
    let set = updateset::parse(&xml).unwrap();
    let links: Vec<_> = set
        .records
        .iter()
        .filter(|r| r.table == "sys_security_acl_role")
        .collect();
    assert_eq!(links.len(), 3);
    assert!(links
        .iter()
        .all(|r| r.field("sys_user_role") == role.as_deref()));
    // The dry-run plan names the import as the thing to do by hand.
    assert!(
        run.stdout.contains("import the task ACLs update set"),
        "{}",
        run.all()
    );

    let before = counts(&sandbox);
    let (status, first) = import_over_http(&sandbox, xml.clone());
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["inserted"].as_array().unwrap().len(), 6, "{first}");
    assert_eq!(counts(&sandbox), (before.0 + 3, before.1 + 3));
    assert_eq!(task_acls_status(dir.path(), &sandbox), "pass");

    let (_, second) = import_over_http(&sandbox, xml);
    assert_eq!(second["unchanged"].as_array().unwrap().len(), 6, "{second}");
    assert!(second["inserted"].as_array().unwrap().is_empty());
    assert_eq!(counts(&sandbox), (before.0 + 3, before.1 + 3));

    // Nothing missing now: no pack, and a message that says so.
    std::fs::remove_file(&pack).unwrap();
    let done = apply_with_pack(dir.path(), &sandbox, &pack, &["--dry-run"]);
    assert_eq!(done.code, 0, "{}", done.all());
    assert!(
        done.stderr.contains("no update set was written"),
        "{}",
        done.all()
    );
    assert!(!pack.exists());
}

#[test]
fn an_inactive_acl_is_updated_in_place_and_the_rest_of_apply_still_runs() {
    let sandbox = Sandbox::start(SandboxConfig::scenario("acl-inactive")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pack = dir.path().join("task-acls.xml");
    let inactive = sandbox
        .with_db(|db| db.id_of("sys_security_acl", "name=task^operation=read"))
        .unwrap();
    let run = apply_with_pack(dir.path(), &sandbox, &pack, &[]);
    // The ACL is still inactive until the pack is imported: apply says what is left to do.
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stdout.contains("import the task ACLs update set"),
        "{}",
        run.all()
    );
    let writes: Vec<String> = sandbox
        .requests()
        .into_iter()
        .filter(|r| r.method == "PATCH" || r.method == "POST")
        .map(|r| r.path)
        .filter(|p| p.contains("sys_security_acl"))
        .collect();
    assert!(
        writes.is_empty(),
        "the ACLs are left to the pack: {writes:?}"
    );

    let set = updateset::parse(&std::fs::read_to_string(&pack).unwrap()).unwrap();
    assert_eq!(set.records.len(), 1);
    assert_eq!(
        set.records[0].sys_id, inactive,
        "an update, not a second ACL"
    );
    let before = counts(&sandbox);
    let outcome = sandbox
        .with_db(|db| db.import_update_set(&std::fs::read_to_string(&pack).unwrap(), "admin"))
        .unwrap();
    assert_eq!(outcome.updated.len(), 1, "{outcome:?}");
    assert_eq!(counts(&sandbox), before);
    assert_eq!(task_acls_status(dir.path(), &sandbox), "pass");
}

/// The sandbox's preview refuses a pack whose role is not on the instance, as a real preview
/// reports a reference it cannot resolve, and commits nothing.
#[test]
fn a_pack_for_another_instance_fails_the_preview_and_changes_nothing() {
    let sandbox = Sandbox::start(SandboxConfig::scenario("acl-missing")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pack = dir.path().join("task-acls.xml");
    let run = apply_with_pack(dir.path(), &sandbox, &pack, &["--dry-run"]);
    assert_eq!(run.code, 0, "{}", run.all());
    let role = sandbox
        .with_db(|db| db.id_of("sys_user_role", "name=x_incident_io.api_user"))
        .unwrap();
    let foreign = std::fs::read_to_string(&pack)
        .unwrap()
        .replace(&role, "0123456789abcdef0123456789abcdef");
    let before = counts(&sandbox);
    let (status, body) = import_over_http(&sandbox, foreign);
    assert_eq!(status, 400, "{body}");
    assert!(
        body.to_string()
            .contains("Could not find a record in sys_user_role"),
        "{body}"
    );
    assert_eq!(counts(&sandbox), before);
}

/// ACLs that work but are not in Global (a warning) are moved there by the pack, in place.
#[test]
fn acls_outside_global_are_updated_in_place_and_the_warning_goes() {
    let sandbox = Sandbox::start(SandboxConfig::scenario("acl-not-global")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pack = dir.path().join("task-acls.xml");
    let before = Run::of(&mut verify_cmd(dir.path(), &sandbox.url(), &[], &[]));
    assert_eq!(
        before.check("task_acls")["status"],
        "warn",
        "{}",
        before.all()
    );
    let run = apply_with_pack(dir.path(), &sandbox, &pack, &["--dry-run"]);
    assert_eq!(run.code, 0, "{}", run.all());
    let xml = std::fs::read_to_string(&pack).unwrap();
    let counted = counts(&sandbox);
    let (status, body) = import_over_http(&sandbox, xml);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["updated"].as_array().unwrap().len(), 3, "{body}");
    assert_eq!(counts(&sandbox), counted, "no second ACL");
    assert_eq!(task_acls_status(dir.path(), &sandbox), "pass");
}

/// apply's closing report in Markdown is the checks' report, as verify writes it; its dry-run
/// plan refuses Markdown (a plan is not a check report).
#[test]
fn apply_reports_in_markdown_and_its_plan_refuses_it() {
    let sandbox = Sandbox::start(SandboxConfig::scenario("acl-missing")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pack = dir.path().join("task-acls.xml");
    let run = apply_with_pack(dir.path(), &sandbox, &pack, &["--format", "markdown"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stdout.starts_with("### snconnect verify: "),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("| Task ACLs | ❌ fail |"),
        "{}",
        run.stdout
    );
    let dry = apply_with_pack(
        dir.path(),
        &sandbox,
        &pack,
        &["--dry-run", "--format", "markdown"],
    );
    assert_eq!(dry.code, 2, "{}", dry.all());
}
