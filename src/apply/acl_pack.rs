//! `apply --acl-pack FILE`: the task ACLs the plan would write, as one update set to import.
//!
//! ACL writes need `security_admin` elevation, which lives in an interactive UI session; a REST
//! session does not carry it, so on most instances the plan's ACL steps are refused. An update
//! set is ServiceNow's own way to bring configuration into an instance: the admin elevates once,
//! imports the file, previews it and commits it.
//!
//! The pack is not a second decision about the ACLs. It is the plan's `task_acls` steps —
//! create, link the role, activate, repair — folded into the records they would leave behind:
//! a created ACL is written already active with its role link beside it (the commit applies the
//! whole set, so there is no half-built moment to guard against), and an existing ACL that is
//! wrong becomes an update of that same record (its sys_id), carrying every field snconnect read
//! of it with the repaired values. An ACL that works but departs from the documented setup
//! (Admin overrides unticked, another application than Global: the check's warnings) is
//! updated the same way; REST leaves those alone, since they already grant access. The role's sys_id is the one the plan looked up on this
//! instance. New records get sys_ids derived from the instance and what the record is, so the
//! same instance state always gives the same file and importing it twice updates, never
//! duplicates.
//!
//! The CI/CD REST API (`sn_cicd`) is not used to upload the file: its update-set endpoints
//! retrieve from another instance, preview and commit, and none takes an XML file, as far as
//! its public documentation shows.

use std::collections::BTreeMap;

use super::plan::{Action, Plan, Value};
use super::State;
use crate::checks::{FindingCode, Links};
use crate::model::CheckId;
use crate::requirements::{ACL_TABLE, APP_ROLE};
use crate::updateset::{derived_sys_id, Field, Record, UpdateSet};

/// What `--acl-pack` can write for this instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AclPack {
    /// The update set of what is missing.
    Ready(UpdateSet),
    /// The ACLs are in place (or not needed on this path): nothing to import.
    NothingMissing,
    /// What is missing cannot be written yet, and why (the plan's by-hand step).
    Cannot(String),
}

/// The display value an export gives a reference field of these records.
fn display_of(table: &str, field: &str, value: &str) -> Option<String> {
    match (table, field) {
        (_, "sys_scope") if value == "global" => Some("Global".into()),
        ("sys_security_acl", "operation" | "type") => Some(value.to_string()),
        ("sys_security_acl_role", "sys_user_role") => Some(APP_ROLE.to_string()),
        ("sys_security_acl_role", "sys_security_acl") => Some(ACL_TABLE.to_string()),
        _ => None,
    }
}

fn text_of(value: &Value, created: &BTreeMap<String, String>) -> Result<String, String> {
    match value {
        Value::Text(t) => Ok(t.clone()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Int(n) => Ok(n.to_string()),
        Value::CreatedBy(step) => created
            .get(step)
            .cloned()
            .ok_or_else(|| format!("step '{step}' is not part of the ACL steps")),
        // ACL steps never carry one; a pack must never hold one.
        Value::Secret(kind) => Err(format!("a step would put the {} in the file", kind.label())),
    }
}

/// Sets `name` to `value` in `fields`, replacing an earlier value.
fn set(fields: &mut Vec<Field>, table: &str, name: &str, value: String) {
    let display = display_of(table, name, &value);
    let field = Field {
        name: name.to_string(),
        value,
        display_value: display,
    };
    match fields.iter_mut().find(|f| f.name == name) {
        Some(f) => *f = field,
        None => fields.push(field),
    }
}

/// The fields snconnect read of an existing ACL: what its update carries besides the repairs.
fn read_fields(state: &State, sys_id: &str) -> Vec<Field> {
    let mut fields = Vec::new();
    let Some(acl) = state
        .acls
        .rows()
        .and_then(|rows| rows.iter().find(|a| a.sys_id == sys_id))
    else {
        return fields;
    };
    let table = "sys_security_acl";
    set(&mut fields, table, "name", ACL_TABLE.to_string());
    set(&mut fields, table, "type", "record".to_string());
    set(&mut fields, table, "operation", acl.operation.clone());
    for (name, flag) in [
        ("active", acl.active),
        ("admin_overrides", acl.admin_overrides),
    ] {
        if let Some(on) = flag {
            set(&mut fields, table, name, on.to_string());
        }
    }
    if let Some(d) = &acl.decision_type {
        set(&mut fields, table, "decision_type", d.clone());
    }
    if let Some(scope) = &acl.scope {
        set(&mut fields, table, "sys_scope", scope.clone());
    }
    fields
}

/// An update of a record that exists, starting from what snconnect read of it.
fn existing(state: &State, table: &str, sys_id: &str) -> Record {
    Record {
        table: table.to_string(),
        sys_id: sys_id.to_string(),
        type_label: type_label(table).into(),
        target_name: String::new(),
        fields: read_fields(state, sys_id),
    }
}

/// The operation of the ACL `sys_id`: from the pack's own records, else from what was read.
fn operation_of(records: &[Record], state: &State, sys_id: &str) -> String {
    records
        .iter()
        .find(|r| r.sys_id == sys_id)
        .and_then(|r| r.field("operation").map(str::to_string))
        .or_else(|| {
            state
                .acls
                .rows()
                .and_then(|rows| rows.iter().find(|a| a.sys_id == sys_id))
                .map(|a| a.operation.clone())
        })
        .unwrap_or_default()
}

fn type_label(table: &str) -> &'static str {
    match table {
        "sys_security_acl" => "Access Control",
        _ => "Access Control Role",
    }
}

/// The pack for `plan` on the instance at `host` (the plan's ACL steps, folded).
pub fn build(plan: &Plan, state: &State, host: &str) -> AclPack {
    if let Some(by_hand) = plan.manual.iter().find(|m| m.check == CheckId::TaskAcls) {
        return AclPack::Cannot(format!("{}: {}", by_hand.title, by_hand.instructions));
    }
    let steps: Vec<_> = plan
        .steps
        .iter()
        .filter(|s| s.check == CheckId::TaskAcls)
        .collect();
    if steps.is_empty() && plan.acl_drift.is_empty() {
        return AclPack::NothingMissing;
    }
    let mut created: BTreeMap<String, String> = BTreeMap::new();
    let mut records: Vec<Record> = Vec::new();
    for step in &steps {
        let mut values = Vec::new();
        for (name, value) in &step.fields {
            match text_of(value, &created) {
                Ok(text) => values.push((name.clone(), text)),
                Err(why) => return AclPack::Cannot(format!("refused to write the pack: {why}")),
            }
        }
        let target = match &step.action {
            Action::Create => {
                // Named by what identifies the record, so the same record always gets one id.
                let key: Vec<String> = step
                    .natural_key
                    .iter()
                    .filter_map(|(k, v)| text_of(v, &created).ok().map(|t| format!("{k}={t}")))
                    .collect();
                let mut parts = vec![host, "snconnect", step.table.as_str()];
                parts.extend(key.iter().map(String::as_str));
                let sys_id = derived_sys_id(&parts);
                created.insert(step.id.clone(), sys_id.clone());
                records.push(Record {
                    table: step.table.clone(),
                    sys_id,
                    type_label: type_label(&step.table).into(),
                    target_name: String::new(),
                    fields: Vec::new(),
                });
                records.len() - 1
            }
            Action::Update(id) => {
                let sys_id = match text_of(id, &created) {
                    Ok(id) => id,
                    Err(why) => {
                        return AclPack::Cannot(format!("refused to write the pack: {why}"))
                    }
                };
                match records.iter().position(|r| r.sys_id == sys_id) {
                    Some(i) => i,
                    None => {
                        records.push(existing(state, &step.table, &sys_id));
                        records.len() - 1
                    }
                }
            }
        };
        let record = &mut records[target];
        for (name, value) in values {
            set(&mut record.fields, &step.table, &name, value);
        }
    }
    // ACLs that work but depart from the documented setup: the same record, documented values.
    for (sys_id, drift) in &plan.acl_drift {
        let table = "sys_security_acl";
        let mut record = existing(state, table, sys_id);
        if drift.contains(&FindingCode::AclAdminOverridesOff) {
            set(&mut record.fields, table, "admin_overrides", "true".into());
        }
        if drift.contains(&FindingCode::AclNotGlobal) {
            set(&mut record.fields, table, "sys_scope", "global".into());
        }
        records.push(record);
    }
    // A created ACL is written whole: the commit makes it and its role link at once, so it is
    // active from the start rather than switched on by a later write.
    for r in &mut records {
        if r.table == "sys_security_acl" {
            set(&mut r.fields, "sys_security_acl", "active", "true".into());
            let op = r.field("operation").unwrap_or("").to_string();
            r.target_name = format!("{ACL_TABLE}.{op}");
        }
    }
    let link_names: Vec<(usize, String)> = records
        .iter()
        .enumerate()
        .filter(|(_, r)| r.table == "sys_security_acl_role")
        .map(|(i, r)| {
            let acl = r.field("sys_security_acl").unwrap_or("");
            let op = operation_of(&records, state, acl);
            (i, format!("{ACL_TABLE}.{op} requires {APP_ROLE}"))
        })
        .collect();
    for (i, name) in link_names {
        records[i].target_name = name;
    }
    let content: Vec<String> = records.iter().map(Record::payload).collect();
    let mut parts = vec![host, "snconnect", "update set"];
    parts.extend(content.iter().map(String::as_str));
    let is_new = |r: &Record| created.values().any(|id| *id == r.sys_id);
    let acls = |new: bool| {
        records
            .iter()
            .filter(|r| r.table == "sys_security_acl" && is_new(r) == new)
            .count()
    };
    let role_links = records
        .iter()
        .filter(|r| r.table == "sys_security_acl_role")
        .count();
    AclPack::Ready(UpdateSet {
        sys_id: derived_sys_id(&parts),
        name: format!("incident.io: task ACLs for {APP_ROLE} ({host})"),
        description: format!(
            "Written by snconnect for {host}: the record ACLs on {ACL_TABLE} the incident.io \
             integration needs (active, Allow If, Admin overrides, Global), each requiring \
             {APP_ROLE}. New ACLs: {}; existing ACLs repaired in place: {}; role links added: \
             {role_links}.",
            acls(true),
            acls(false)
        ),
        records,
    })
}

/// The default file name the wizard offers.
pub const DEFAULT_FILE: &str = "incident-io-task-acls.xml";

/// Writes the pack to `path` (replaced atomically, mode 0644: it holds no secret).
pub fn write_file(path: &std::path::Path, set: &UpdateSet) -> Result<(), crate::exit::UserError> {
    crate::credentials::fsutil::write_atomically(path, set.to_xml().as_bytes(), 0o644).map_err(
        |e| {
            crate::exit::UserError::cannot_run(format!(
                "could not write the ACL update set to {}: {e}; nothing was changed",
                path.display()
            ))
        },
    )
}

/// The page where an update-set file is imported (System Update Sets > Retrieved Update Sets >
/// Import Update Set from XML). [inferred] The list's related link opens `upload.do` with these
/// parameters on current releases.
pub fn import_page(links: &Links) -> String {
    links.page(
        "upload.do?sysparm_referring_url=sys_remote_update_set_list.do&sysparm_target=sys_remote_update_set",
    )
}

/// What to do with a written pack, in order: the link to open first is [`import_page`]; the
/// loaded update set's own page is named here, for after the upload.
pub fn import_steps(path: &str, set: &UpdateSet, links: &Links) -> String {
    format!(
        "elevate to security_admin (user menu > Elevate role), then under System Update Sets > \
         Retrieved Update Sets choose Import Update Set from XML and upload {path}; open the \
         loaded update set '{}' ({}), click Preview Update Set (it should report no problems) \
         and then Commit Update Set",
        set.name,
        links.record("sys_remote_update_set", &set.sys_id),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::plan::plan;
    use crate::apply::plan::tests::{healthy, inputs};
    use crate::checks::Lookup;
    use crate::model::SetupPath;
    use crate::updateset::parse;

    const HOST: &str = "acme.service-now.com";

    fn pack_of(state: &State) -> AclPack {
        build(&plan(state, &inputs(SetupPath::App)), state, HOST)
    }

    fn ready(state: &State) -> UpdateSet {
        match pack_of(state) {
            AclPack::Ready(set) => set,
            other => panic!("expected a pack, got {other:?}"),
        }
    }

    fn tables(set: &UpdateSet) -> Vec<(&str, String)> {
        set.records
            .iter()
            .map(|r| (r.table.as_str(), r.target_name.clone()))
            .collect()
    }

    /// Every record as the file says it, read back through the XML.
    fn round_trip(set: &UpdateSet) -> UpdateSet {
        let back = parse(&set.to_xml()).expect("the pack reads back");
        assert_eq!(back.records.len(), set.records.len());
        back
    }

    #[test]
    fn no_acls_give_three_active_acls_each_with_its_role_link_to_the_targets_role() {
        let mut s = healthy();
        s.acls = Lookup::Rows(vec![]);
        s.acl_roles = Lookup::Rows(vec![]);
        let set = round_trip(&ready(&s));
        assert_eq!(set.records.len(), 6, "{:?}", tables(&set));
        for op in ["read", "create", "write"] {
            let acl = set
                .records
                .iter()
                .find(|r| r.table == "sys_security_acl" && r.field("operation") == Some(op))
                .unwrap_or_else(|| panic!("no {op} ACL"));
            assert_eq!(acl.field("name"), Some("task"));
            assert_eq!(acl.field("type"), Some("record"));
            assert_eq!(acl.field("active"), Some("true"));
            assert_eq!(acl.field("decision_type"), Some("allow"));
            assert_eq!(acl.field("admin_overrides"), Some("true"));
            assert_eq!(acl.field("sys_scope"), Some("global"));
            let link = set
                .records
                .iter()
                .find(|r| {
                    r.table == "sys_security_acl_role"
                        && r.field("sys_security_acl") == Some(acl.sys_id.as_str())
                })
                .unwrap_or_else(|| panic!("no role link for {op}"));
            // The role's sys_id as this instance has it (the plan looked it up).
            assert_eq!(link.field("sys_user_role"), Some("role-api"));
        }
        assert_eq!(ready(&s), ready(&s), "the same state gives the same pack");
    }

    #[test]
    fn one_missing_acl_gives_only_that_acl_and_its_link() {
        let mut s = healthy();
        if let Lookup::Rows(acls) = &mut s.acls {
            acls.retain(|a| a.operation != "create");
        }
        let set = round_trip(&ready(&s));
        assert_eq!(
            tables(&set),
            [
                ("sys_security_acl", "task.create".to_string()),
                (
                    "sys_security_acl_role",
                    format!("task.create requires {APP_ROLE}")
                ),
            ]
        );
    }

    #[test]
    fn an_inactive_acl_is_an_update_of_that_record_keeping_what_was_read() {
        let mut s = healthy();
        if let Lookup::Rows(acls) = &mut s.acls {
            acls[0].active = Some(false);
        }
        let set = round_trip(&ready(&s));
        assert_eq!(set.records.len(), 1);
        let r = &set.records[0];
        assert_eq!(r.sys_id, "acl-read", "the same record, not a second ACL");
        assert_eq!(r.field("active"), Some("true"));
        assert_eq!(r.field("operation"), Some("read"));
        assert_eq!(r.field("decision_type"), Some("allow"));
        assert_eq!(r.field("admin_overrides"), Some("true"));
    }

    #[test]
    fn a_deny_unless_acl_becomes_allow_if_in_place() {
        let mut s = healthy();
        if let Lookup::Rows(acls) = &mut s.acls {
            acls[2].decision_type = Some("deny".into());
        }
        let set = round_trip(&ready(&s));
        assert_eq!(set.records.len(), 1);
        assert_eq!(set.records[0].sys_id, "acl-write");
        assert_eq!(set.records[0].field("decision_type"), Some("allow"));
    }

    #[test]
    fn an_acl_without_its_role_link_gets_only_the_link() {
        let mut s = healthy();
        if let Lookup::Rows(links) = &mut s.acl_roles {
            links.retain(|l| l.acl != "acl-write");
        }
        let set = round_trip(&ready(&s));
        assert_eq!(
            tables(&set),
            [(
                "sys_security_acl_role",
                format!("task.write requires {APP_ROLE}")
            )]
        );
        assert_eq!(set.records[0].field("sys_security_acl"), Some("acl-write"));
        assert_eq!(set.records[0].field("sys_user_role"), Some("role-api"));
    }

    #[test]
    fn all_present_means_no_pack_and_unreadable_or_roleless_says_why() {
        assert_eq!(pack_of(&healthy()), AclPack::NothingMissing);

        let mut hidden = healthy();
        hidden.acls = Lookup::Hidden { total: 3 };
        let AclPack::Cannot(why) = pack_of(&hidden) else {
            panic!("hidden ACLs must not be guessed at");
        };
        assert!(why.contains("security_admin"), "{why}");

        let mut no_role = healthy();
        no_role.acls = Lookup::Rows(vec![]);
        if let Lookup::Rows(roles) = &mut no_role.roles {
            roles.retain(|r| r.name != APP_ROLE);
        }
        let AclPack::Cannot(why) = pack_of(&no_role) else {
            panic!("a role that does not exist cannot be linked");
        };
        assert!(why.contains("install the incident.io app"), "{why}");
    }

    #[test]
    fn a_working_acl_off_the_documented_setup_is_updated_to_it_in_place() {
        let mut s = healthy();
        if let Lookup::Rows(acls) = &mut s.acls {
            acls[1].admin_overrides = Some(false);
            acls[2].scope = Some("app-scope-id".into());
        }
        let set = round_trip(&ready(&s));
        let ids: Vec<&str> = set.records.iter().map(|r| r.sys_id.as_str()).collect();
        assert_eq!(ids, ["acl-create", "acl-write"]);
        assert_eq!(set.records[0].field("admin_overrides"), Some("true"));
        assert_eq!(set.records[1].field("sys_scope"), Some("global"));
        assert_eq!(set.records[1].field("admin_overrides"), Some("true"));
    }

    #[test]
    fn different_instances_get_different_ids_for_the_same_records() {
        let mut s = healthy();
        s.acls = Lookup::Rows(vec![]);
        let p = plan(&s, &inputs(SetupPath::App));
        let (AclPack::Ready(a), AclPack::Ready(b)) =
            (build(&p, &s, HOST), build(&p, &s, "beta.service-now.com"))
        else {
            panic!("packs expected");
        };
        assert_ne!(a.sys_id, b.sys_id);
        assert_ne!(a.records[0].sys_id, b.records[0].sys_id);
    }
}
