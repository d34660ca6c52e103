//! Unit tests of `plan.rs`, kept apart so the code reads on its own.
use super::*;
use crate::checks::app::AppRecord;
use crate::checks::oauth_app::{Entry, Property, ScopeMapping};
use crate::checks::roles::HeldRole;
use crate::checks::service_user::{FieldValue, User};
use crate::checks::task_acls::{Acl, AclRole};
use crate::checks::{FailureKind, QueryFailure};
use crate::facts::RoleRecord;
use crate::requirements::PROP_USERACCOUNT_SCOPE_ID;

pub(crate) fn inputs(path: SetupPath) -> PlanInputs {
    PlanInputs {
        path,
        username: "incident.io".into(),
        email: None,
        client_id: None,
        client_secret_held: false,
        password_held: false,
        links: Links::new("https://acme.service-now.com"),
    }
}

fn with_app(mut s: State) -> State {
    s.app = Lookup::Rows(vec![AppRecord {
        sys_id: "app1".into(),
        name: "incident.io".into(),
        version: Some("1.4.0".into()),
        active: Some(true),
        update_available: Some(false),
    }]);
    if let Lookup::Rows(roles) = &mut s.roles {
        roles.push(RoleRecord {
            sys_id: "role-api".into(),
            name: APP_ROLE.into(),
        });
    }
    s
}

fn ids(p: &Plan) -> Vec<&str> {
    p.steps.iter().map(|s| s.id.as_str()).collect()
}

use crate::checks::test_support::healthy_user;

/// The state of a fully set-up app path.
pub(crate) fn healthy() -> State {
    let mut s = with_app(State::empty_instance());
    s.entries = Lookup::Rows(vec![Entry {
        sys_id: "e1".into(),
        name: OAUTH_ENTRY_NAME.into(),
        client_id: Some("cid".into()),
        active: Some(true),
        ..Entry::default()
    }]);
    s.mappings = Lookup::Rows(vec![ScopeMapping {
        oauth_entity: "e1".into(),
        auth_scope: "scope-useraccount".into(),
        auth_scope_name: Some(AUTH_SCOPE.into()),
    }]);
    s.user = Lookup::Rows(vec![healthy_user()]);
    s.held = Lookup::Rows(
        roles_for(SetupPath::App)
            .iter()
            .map(|r| HeldRole {
                name: r.to_string(),
                inherited: false,
                state: Some("active".into()),
            })
            .collect(),
    );
    s.acls = Lookup::Rows(
        ["read", "create", "write"]
            .iter()
            .map(|op| Acl {
                updated: Default::default(),
                sys_id: format!("acl-{op}"),
                operation: op.to_string(),
                active: Some(true),
                admin_overrides: Some(true),
                decision_type: Some("allow".into()),
                scope: Some("global".into()),
                scope_name: Some("global".into()),
            })
            .collect(),
    );
    s.acl_roles = Lookup::Rows(
        ["read", "create", "write"]
            .iter()
            .map(|op| AclRole {
                acl: format!("acl-{op}"),
                role: Some(APP_ROLE.into()),
            })
            .collect(),
    );
    s
}

#[test]
fn a_healthy_instance_plans_nothing() {
    let p = plan(&healthy(), &inputs(SetupPath::App));
    assert!(p.steps.is_empty(), "{:?}", ids(&p));
    assert!(p.manual.is_empty(), "{:?}", p.manual);
    assert!(p.secrets.is_empty());
}

#[test]
fn an_empty_instance_with_the_app_plans_everything_in_dependency_order() {
    let p = plan(&with_app(State::empty_instance()), &inputs(SetupPath::App));
    assert_eq!(
        ids(&p),
        [
            "oauth_entry",
            "oauth_entry_secret",
            "oauth_scope",
            "user",
            "user_password",
            "grant:x_incident_io.api_user",
            "grant:cmdb_read",
            "grant:sn_cmdb_user",
            "grant:incident_manager",
            "acl:read",
            "acl_role:read",
            "acl_activate:read",
            "acl:create",
            "acl_role:create",
            "acl_activate:create",
            "acl:write",
            "acl_role:write",
            "acl_activate:write",
        ]
    );
    assert!(p.manual.is_empty(), "{:?}", p.manual);
    // Every dependency names an earlier step.
    for (i, step) in p.steps.iter().enumerate() {
        for dep in &step.depends_on {
            let at = p.steps.iter().position(|s| &s.id == dep).unwrap();
            assert!(at < i, "{} depends on later {}", step.id, dep);
        }
    }
    assert!(p.needing_confirmation().is_empty(), "only new records");
    assert_eq!(
        p.to_generate(),
        [SecretKind::ClientSecret, SecretKind::Password]
    );
}

#[test]
fn records_that_would_work_half_made_are_created_inactive_and_activated_last() {
    let p = plan(&with_app(State::empty_instance()), &inputs(SetupPath::App));
    let field = |step: &str, name: &str| {
        p.step(step)
            .unwrap()
            .fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(field("oauth_entry", "active"), Some(Value::Bool(false)));
    assert_eq!(field("user", "active"), Some(Value::Bool(false)));
    assert_eq!(field("acl:read", "active"), Some(Value::Bool(false)));
    assert_eq!(
        field("oauth_entry_secret", "active"),
        Some(Value::Bool(true))
    );
    assert_eq!(field("user_password", "active"), Some(Value::Bool(true)));
    assert_eq!(
        field("acl_activate:read", "active"),
        Some(Value::Bool(true))
    );
    assert_eq!(
        p.step("acl_activate:read").unwrap().depends_on,
        ["acl_role:read"],
        "an ACL is activated only once it requires the role"
    );
    assert_eq!(field("user", "identity_type"), Some(Value::text("machine")));
    assert_eq!(
        field("user", "email"),
        Some(Value::text("incident.io@invalid.example"))
    );
}

#[test]
fn only_the_writes_that_carry_a_secret_use_display_values_and_they_carry_nothing_else() {
    let p = plan(&with_app(State::empty_instance()), &inputs(SetupPath::App));
    for step in &p.steps {
        let has_secret = step.secrets().next().is_some();
        assert_eq!(step.input_display_value, has_secret, "{}", step.id);
        if has_secret {
            for (k, v) in &step.fields {
                assert!(
                    matches!(v, Value::Secret(_)) || k == "active",
                    "{} sends {k} as a display value",
                    step.id
                );
            }
        }
    }
}

#[test]
fn supplied_secrets_are_used_and_none_generated() {
    let mut i = inputs(SetupPath::App);
    i.client_secret_held = true;
    i.password_held = true;
    let p = plan(&with_app(State::empty_instance()), &i);
    assert!(p.to_generate().is_empty());
    assert!(p.secrets.iter().all(|s| s.source == SecretSource::Supplied));
}

#[test]
fn without_the_app_its_role_and_the_acls_are_by_hand_steps() {
    let p = plan(&State::empty_instance(), &inputs(SetupPath::App));
    assert!(p.step("grant:cmdb_read").is_some());
    assert!(p.step("grant:x_incident_io.api_user").is_none());
    assert!(p.steps.iter().all(|s| s.check != CheckId::TaskAcls));
    let checks: Vec<CheckId> = p.manual.iter().map(|m| m.check).collect();
    assert_eq!(
        checks,
        [
            CheckId::App,
            CheckId::Roles,
            CheckId::TaskAcls,
            CheckId::TaskAcls,
            CheckId::TaskAcls
        ]
    );
    assert_eq!(
        p.manual[0].link.as_deref(),
        Some(crate::requirements::STORE_URL)
    );
}

#[test]
fn the_admin_path_grants_admin_with_confirmation_and_needs_no_acls_or_app() {
    let p = plan(&State::empty_instance(), &inputs(SetupPath::Admin));
    let grant = p.step("grant:admin").unwrap();
    assert!(grant.confirm);
    assert!(p.steps.iter().all(|s| s.check != CheckId::TaskAcls));
    assert!(p.manual.is_empty(), "{:?}", p.manual);
}

#[test]
fn a_user_holding_admin_needs_no_grants_and_no_acls() {
    let mut s = healthy();
    s.held = Lookup::Rows(vec![HeldRole {
        name: "admin".into(),
        inherited: false,
        state: None,
    }]);
    s.acls = Lookup::Rows(vec![]);
    let p = plan(&s, &inputs(SetupPath::App));
    assert!(p.steps.is_empty(), "{:?}", ids(&p));
}

#[test]
fn an_existing_user_is_repaired_with_confirmation_and_keeps_its_password() {
    let mut s = healthy();
    s.user = Lookup::Rows(vec![User {
        active: Some(false),
        locked_out: Some(true),
        password_needs_reset: Some(true),
        identity_type: FieldValue::Value("human".into()),
        failed_attempts: Some(5),
        ..healthy_user()
    }]);
    let p = plan(&s, &inputs(SetupPath::App));
    assert_eq!(ids(&p), ["user_repair"]);
    let step = &p.steps[0];
    assert!(step.confirm);
    assert_eq!(step.action, Action::Update(Value::text("u1")));
    let names: Vec<&str> = step.fields.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "locked_out",
            "failed_attempts",
            "password_needs_reset",
            "identity_type",
            "web_service_access_only",
            "active"
        ]
    );
    // Issue 14: a count is a number in the JSON plan, not a string.
    let json = serde_json::to_value(step).unwrap();
    assert_eq!(
        json["fields"]["failed_attempts"],
        serde_json::json!(0),
        "{json}"
    );
    assert!(
        p.secrets.is_empty(),
        "no password is set on an existing user"
    );
    assert!(p.notes.iter().any(|n| n.contains("keeps its password")));
}

#[test]
fn an_inactive_user_with_a_held_password_is_finished_like_an_interrupted_creation() {
    let mut s = healthy();
    s.user = Lookup::Rows(vec![User {
        active: Some(false),
        ..healthy_user()
    }]);
    let mut i = inputs(SetupPath::App);
    i.password_held = true;
    let p = plan(&s, &i);
    assert_eq!(ids(&p), ["user_password"]);
    assert!(p.steps[0].confirm);
    assert_eq!(p.steps[0].action, Action::Update(Value::text("u1")));
    assert_eq!(p.secrets[0].source, SecretSource::Supplied);
}

#[test]
fn an_inactive_entry_is_activated_with_the_held_secret_and_confirmation() {
    let mut s = healthy();
    if let Lookup::Rows(e) = &mut s.entries {
        e[0].active = Some(false);
    }
    let p = plan(&s, &inputs(SetupPath::App));
    let step = p.step("oauth_entry_secret").unwrap();
    assert!(step.confirm);
    assert_eq!(step.fields, [("active".to_string(), Value::Bool(true))]);
    assert!(!step.input_display_value);
    assert!(
        p.secrets.is_empty(),
        "no secret generated for an existing entry"
    );

    let mut i = inputs(SetupPath::App);
    i.client_secret_held = true;
    let p = plan(&s, &i);
    let step = p.step("oauth_entry_secret").unwrap();
    assert!(step.input_display_value);
    assert_eq!(
        step.secrets().collect::<Vec<_>>(),
        [SecretKind::ClientSecret]
    );
}

#[test]
fn a_missing_scope_on_an_existing_entry_is_added() {
    let mut s = healthy();
    s.mappings = Lookup::Rows(vec![]);
    let p = plan(&s, &inputs(SetupPath::App));
    assert_eq!(ids(&p), ["oauth_scope"]);
    assert_eq!(p.steps[0].why, FindingCode::OauthScopeMissing);
    assert_eq!(
        p.steps[0].fields[0],
        ("oauth_entity".to_string(), Value::text("e1"))
    );
}

#[test]
fn the_pinned_useraccount_scope_wins_over_the_name() {
    let mut s = healthy();
    s.mappings = Lookup::Rows(vec![]);
    s.properties = Lookup::Rows(vec![Property {
        name: PROP_USERACCOUNT_SCOPE_ID.into(),
        value: "pinned-id".into(),
    }]);
    let p = plan(&s, &inputs(SetupPath::App));
    assert_eq!(
        p.steps[0].fields[1],
        ("auth_scope".to_string(), Value::text("pinned-id"))
    );
}

#[test]
fn duplicate_active_entries_are_left_to_a_person() {
    let mut s = healthy();
    if let Lookup::Rows(e) = &mut s.entries {
        let mut second = e[0].clone();
        second.sys_id = "e2".into();
        e.push(second);
    }
    let p = plan(&s, &inputs(SetupPath::App));
    assert!(p.steps.is_empty());
    assert_eq!(p.manual[0].code, FindingCode::OauthDuplicate);
}

#[test]
fn hidden_or_failed_lookups_create_nothing() {
    let failed = || {
        Lookup::Failed(QueryFailure {
            table: "t".into(),
            kind: FailureKind::Forbidden,
            message: "no".into(),
        })
    };
    let mut s = with_app(State::empty_instance());
    s.entries = Lookup::Hidden { total: 1 };
    s.user = failed();
    s.acls = Lookup::Hidden { total: 3 };
    let p = plan(&s, &inputs(SetupPath::App));
    assert!(p.steps.is_empty(), "{:?}", ids(&p));
    let codes: Vec<FindingCode> = p.manual.iter().map(|m| m.code).collect();
    assert!(codes.contains(&FindingCode::OauthCannotSee), "{codes:?}");
    assert!(codes.contains(&FindingCode::UserCannotSee), "{codes:?}");
    assert!(codes.contains(&FindingCode::AclCannotSee), "{codes:?}");
}

#[test]
fn broken_acls_are_repaired_in_place_after_their_role_link() {
    let mut s = healthy();
    if let Lookup::Rows(acls) = &mut s.acls {
        acls[0].active = Some(false); // read
        acls[1].decision_type = Some("deny".into()); // create
    }
    if let Lookup::Rows(links) = &mut s.acl_roles {
        links.retain(|l| l.acl != "acl-write");
    }
    let p = plan(&s, &inputs(SetupPath::App));
    assert_eq!(
        ids(&p),
        ["acl_repair:read", "acl_repair:create", "acl_role:write"]
    );
    assert!(p.steps.iter().all(|s| s.confirm));
    assert_eq!(
        p.step("acl_repair:read").unwrap().why,
        FindingCode::AclInactive
    );
    assert_eq!(
        p.step("acl_repair:create").unwrap().why,
        FindingCode::AclDenyUnless
    );
    assert!(p.steps.iter().all(|s| s.fallback.is_some()));
}

#[test]
fn one_good_acl_among_bad_ones_satisfies_its_operation() {
    let mut s = healthy();
    if let Lookup::Rows(acls) = &mut s.acls {
        let mut stray = acls[0].clone();
        stray.sys_id = "stray".into();
        stray.active = Some(false);
        acls.push(stray);
    }
    assert!(plan(&s, &inputs(SetupPath::App)).steps.is_empty());
}

#[test]
fn blocking_properties_become_by_hand_steps() {
    let mut s = healthy();
    s.properties = Lookup::Rows(vec![
        Property {
            name: PROP_ROPC_DISABLED.into(),
            value: "true".into(),
        },
        Property {
            name: PROP_OAUTH_ACTIVE.into(),
            value: "false".into(),
        },
    ]);
    let p = plan(&s, &inputs(SetupPath::App));
    assert!(p.steps.is_empty());
    let codes: Vec<FindingCode> = p.manual.iter().map(|m| m.code).collect();
    assert_eq!(
        codes,
        [FindingCode::OauthDisabled, FindingCode::OauthRopcDisabled]
    );
}

#[test]
fn a_release_without_identity_type_gets_no_such_field() {
    let mut s = with_app(State::empty_instance());
    s.identity_type_field = false;
    let p = plan(&s, &inputs(SetupPath::App));
    let user = p.step("user").unwrap();
    assert!(user.fields.iter().all(|(k, _)| k != "identity_type"));
    assert!(user
        .fields
        .contains(&("web_service_access_only".to_string(), Value::Bool(true))));
}

#[test]
fn a_given_client_id_goes_on_a_new_entry() {
    let mut i = inputs(SetupPath::App);
    i.client_id = Some("my-id".into());
    let p = plan(&with_app(State::empty_instance()), &i);
    assert!(p
        .step("oauth_entry")
        .unwrap()
        .fields
        .contains(&("client_id".to_string(), Value::text("my-id"))));
}

#[test]
fn the_part_for_one_check_keeps_its_dependencies() {
    let p = plan(&with_app(State::empty_instance()), &inputs(SetupPath::App));
    let roles = p.only(CheckId::Roles);
    assert_eq!(
        ids(&roles),
        [
            "user",
            "user_password",
            "grant:x_incident_io.api_user",
            "grant:cmdb_read",
            "grant:sn_cmdb_user",
            "grant:incident_manager"
        ]
    );
    assert_eq!(
        roles.to_generate(),
        [SecretKind::Password],
        "a user created for the grants is finished too"
    );
    let acls = p.only(CheckId::TaskAcls);
    assert_eq!(acls.steps.len(), 9);
    assert!(acls.secrets.is_empty());
    let oauth = p.only(CheckId::OauthApp);
    assert_eq!(
        ids(&oauth),
        ["oauth_entry", "oauth_entry_secret", "oauth_scope"]
    );
    assert_eq!(oauth.to_generate(), [SecretKind::ClientSecret]);
}

#[test]
fn the_json_plan_shows_secrets_redacted_and_references_by_step() {
    let p = plan(&with_app(State::empty_instance()), &inputs(SetupPath::App));
    let v = serde_json::to_value(&p).unwrap();
    let secret_step = &v["steps"][1];
    assert_eq!(secret_step["id"], "oauth_entry_secret");
    assert_eq!(secret_step["fields"]["client_secret"], "[redacted]");
    assert_eq!(secret_step["record"]["sys_id_from_step"], "oauth_entry");
    assert_eq!(secret_step["action"], "update");
    assert_eq!(v["steps"][0]["why"], "oauth_app.missing");
    assert_eq!(v["secrets"][0]["kind"], "client_secret");
    assert_eq!(v["secrets"][0]["source"], "generated");
    assert_eq!(v["path"], "app");
}

#[test]
fn default_email_is_undeliverable_and_well_formed() {
    assert_eq!(default_email("incident.io"), "incident.io@invalid.example");
    assert_eq!(default_email("svc user"), "svc_user@invalid.example");
}
