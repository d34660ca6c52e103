//! Unit tests across the sandbox's modules: scenarios, authentication, the token endpoint,
//! visibility and write rules. HTTP-level behaviour is tested in `tests/sandbox_http.rs`.

use std::collections::HashMap;

use base64::Engine;

use super::access::{self, Operation};
use super::auth::{self, AuthFailure, Caller, GrantDenied};
use super::fixtures::*;
use super::{build_db, scenario_names, Db, SandboxConfig};

fn scenario(name: &str) -> Db {
    build_db(&SandboxConfig::scenario(name)).unwrap()
}

fn basic(user: &str, password: &str) -> String {
    let raw = format!("{user}:{password}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

fn login(db: &mut Db, user: &str, password: &str) -> Result<Caller, AuthFailure> {
    auth::authenticate(db, Some(&basic(user, password)))
}

fn password_form(client_secret: &str, password: &str) -> HashMap<String, String> {
    [
        ("grant_type", "password"),
        ("client_id", CLIENT_ID),
        ("client_secret", client_secret),
        ("username", SERVICE_USER),
        ("password", password),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn grant(db: &mut Db) -> Result<serde_json::Value, GrantDenied> {
    auth::token_grant(db, &password_form(CLIENT_SECRET, SERVICE_PASSWORD)).map(|g| g.body)
}

fn service_user_field(db: &Db, field: &str) -> String {
    db.user_by_name(SERVICE_USER).unwrap()[field].clone()
}

#[test]
fn every_listed_scenario_builds_and_names_are_unique() {
    let names = scenario_names();
    assert!(names.len() >= 35, "{} scenarios", names.len());
    let mut seen = std::collections::BTreeSet::new();
    for (name, description) in &names {
        assert!(seen.insert(*name), "duplicate scenario {name}");
        assert!(!description.is_empty());
        let db = scenario(name);
        assert!(db.user_by_name(ADMIN_USER).is_some(), "{name} has no admin");
    }
}

#[test]
fn unknown_scenario_names_the_known_ones() {
    let err = build_db(&SandboxConfig::scenario("nope")).err().unwrap();
    let text = err.to_string();
    assert!(
        text.contains("nope") && text.contains("healthy-app"),
        "{text}"
    );
}

#[test]
fn healthy_app_has_every_record_the_app_path_needs() {
    let db = scenario("healthy-app");
    let app = db.find_one("sys_store_app", "scope=x_incident_io").unwrap();
    assert_eq!(app["active"], "true");
    assert!(!app["version"].is_empty());
    assert_eq!(db.find("sys_scope", "scope=x_incident_io").len(), 1);
    assert_eq!(
        db.find("oauth_entity", "name=incident.io^active=true")
            .len(),
        1
    );
    assert_eq!(
        db.find(
            "oauth_entity_auth_scope_mapping",
            "oauth_entity.name=incident.io^auth_scope.name=useraccount"
        )
        .len(),
        1
    );
    let user = db.user_by_name(SERVICE_USER).unwrap().clone();
    assert_eq!(user["identity_type"], "machine");
    assert_eq!(user["locked_out"], "false");
    let roles = db.roles_of(&user["sys_id"]);
    for role in [
        "x_incident_io.api_user",
        "cmdb_read",
        "sn_cmdb_user",
        "incident_manager",
    ] {
        assert!(roles.contains(role), "missing {role}");
    }
    assert_eq!(
        db.find(
            "sys_user_has_role",
            "user.user_name=incident.io^inherited=true^role.name=incident_manager"
        )
        .len(),
        1
    );
    let acls = db.find(
        "sys_security_acl",
        "name=task^type=record^active=true^decision_type=allow^admin_overrides=true^sys_scope=global",
    );
    assert_eq!(acls.len(), 3);
    for op in ["read", "create", "write"] {
        assert_eq!(
            db.find(
                "sys_security_acl_role",
                &format!(
                    "sys_security_acl.operation={op}^sys_security_acl.name=task^sys_user_role.name=x_incident_io.api_user"
                )
            )
            .len(),
            1,
            "{op}"
        );
    }
}

#[test]
fn empty_has_base_roles_and_no_integration_records() {
    let db = scenario("empty");
    for role in [
        "admin",
        "cmdb_read",
        "sn_cmdb_user",
        "incident_manager",
        "itil",
        "security_admin",
    ] {
        assert!(
            db.find_one("sys_user_role", &format!("name={role}"))
                .is_some(),
            "{role}"
        );
    }
    assert!(db.find_one("sys_auth_scope", "name=useraccount").is_some());
    assert!(db.find("oauth_entity", "").is_empty());
    assert!(db.user_by_name(SERVICE_USER).is_none());
    assert!(db.find("sys_security_acl", "").is_empty());
    assert!(db.find("sys_store_app", "scope=x_incident_io").is_empty());
}

#[test]
fn basic_auth_accepts_the_right_password_only() {
    let mut db = scenario("healthy-app");
    let caller = login(&mut db, ADMIN_USER, ADMIN_PASSWORD).unwrap();
    assert!(caller.is_admin());
    assert_eq!(caller.label(), "admin");
    assert_eq!(
        login(&mut db, ADMIN_USER, "wrong").unwrap_err(),
        AuthFailure::Rejected
    );
    assert_eq!(
        login(&mut db, "nobody", "x").unwrap_err(),
        AuthFailure::Rejected
    );
    assert_eq!(
        auth::authenticate(&mut db, None).unwrap_err(),
        AuthFailure::Missing
    );
    assert_eq!(
        auth::authenticate(&mut db, Some("Basic !!!")).unwrap_err(),
        AuthFailure::Missing
    );
}

#[test]
fn failed_logins_lock_the_account_at_the_threshold_and_a_success_resets_the_count() {
    let mut db = build_db(&SandboxConfig {
        lockout_threshold: 3,
        ..SandboxConfig::default()
    })
    .unwrap();
    login(&mut db, SERVICE_USER, "bad").unwrap_err();
    assert_eq!(service_user_field(&db, "failed_attempts"), "1");
    login(&mut db, SERVICE_USER, SERVICE_PASSWORD).unwrap();
    assert_eq!(service_user_field(&db, "failed_attempts"), "0");
    for _ in 0..3 {
        login(&mut db, SERVICE_USER, "bad").unwrap_err();
    }
    assert_eq!(service_user_field(&db, "locked_out"), "true");
    // Locked: even the right password fails, and the token endpoint refuses too.
    login(&mut db, SERVICE_USER, SERVICE_PASSWORD).unwrap_err();
    assert_eq!(
        grant(&mut db).unwrap_err(),
        GrantDenied::UserInactiveOrLocked
    );
}

#[test]
fn inactive_users_cannot_log_in() {
    let mut db = scenario("user-inactive");
    assert_eq!(
        login(&mut db, SERVICE_USER, SERVICE_PASSWORD).unwrap_err(),
        AuthFailure::Rejected
    );
}

#[test]
fn mfa_enrolled_admin_gets_the_mfa_failure_only_with_the_right_password() {
    let mut db = scenario("mfa-admin");
    assert_eq!(
        login(&mut db, ADMIN_USER, ADMIN_PASSWORD).unwrap_err(),
        AuthFailure::MfaRequired
    );
    assert_eq!(
        login(&mut db, ADMIN_USER, "wrong").unwrap_err(),
        AuthFailure::Rejected
    );
    // Other users are not enrolled.
    login(&mut db, SERVICE_USER, SERVICE_PASSWORD).unwrap();
}

#[test]
fn password_grant_returns_the_documented_shape_and_a_working_bearer_token() {
    let mut db = scenario("healthy-app");
    let body = grant(&mut db).unwrap();
    assert_eq!(body["scope"], "useraccount");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 1799);
    let access = body["access_token"].as_str().unwrap().to_string();
    let refresh = body["refresh_token"].as_str().unwrap().to_string();
    assert!(access.len() > 40 && refresh.len() > 40 && access != refresh);
    let caller = auth::authenticate(&mut db, Some(&format!("Bearer {access}"))).unwrap();
    assert_eq!(caller.label(), "token:incident.io");
    assert!(caller.entity.is_some());
    // Within its lifetime the same access token is served again.
    let again = grant(&mut db).unwrap();
    assert_eq!(again["access_token"], access.as_str());
    assert_ne!(again["refresh_token"], refresh.as_str());
    // Refresh grant: an access token only.
    let form: HashMap<String, String> = [
        ("grant_type", "refresh_token"),
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
        ("refresh_token", refresh.as_str()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let refreshed = auth::token_grant(&mut db, &form).unwrap().body;
    assert!(refreshed.get("refresh_token").is_none());
    assert_eq!(refreshed["token_type"], "Bearer");
    let mut bad = form.clone();
    bad.insert("refresh_token".into(), "nope".into());
    assert_eq!(
        auth::token_grant(&mut db, &bad).unwrap_err(),
        GrantDenied::BadRefreshToken
    );
}

#[test]
fn every_token_failure_has_its_reason_internally() {
    let cases = [
        ("oauth-missing", GrantDenied::UnknownClient),
        ("oauth-inactive", GrantDenied::InactiveClient),
        ("oauth-no-scope", GrantDenied::NoAuthScope),
        ("ropc-disabled", GrantDenied::RopcDisabled),
        ("oauth-disabled", GrantDenied::OAuthOff),
        ("user-missing", GrantDenied::UnknownUser),
        ("user-locked", GrantDenied::UserInactiveOrLocked),
        ("user-inactive", GrantDenied::UserInactiveOrLocked),
    ];
    for (name, expected) in cases {
        let mut db = scenario(name);
        assert_eq!(grant(&mut db).unwrap_err(), expected, "{name}");
    }
    let mut db = scenario("healthy-app");
    assert_eq!(
        auth::token_grant(&mut db, &password_form("wrong", SERVICE_PASSWORD)).unwrap_err(),
        GrantDenied::BadClientSecret
    );
    let mut form = password_form(CLIENT_SECRET, SERVICE_PASSWORD);
    form.insert("grant_type".into(), "client_credentials".into());
    assert_eq!(
        auth::token_grant(&mut db, &form).unwrap_err(),
        GrantDenied::UnsupportedGrant
    );
}

#[test]
fn a_wrong_password_at_the_token_endpoint_counts_as_a_failed_login() {
    let mut db = scenario("user-failed-attempts");
    assert_eq!(service_user_field(&db, "failed_attempts"), "4");
    assert_eq!(
        auth::token_grant(&mut db, &password_form(CLIENT_SECRET, "wrong")).unwrap_err(),
        GrantDenied::BadPassword
    );
    assert_eq!(service_user_field(&db, "locked_out"), "true");
}

#[test]
fn password_grant_works_for_states_that_only_warn() {
    for name in [
        "user-not-machine",
        "user-no-identity-type",
        "user-password-reset",
        "app-missing",
        "healthy-admin",
    ] {
        let mut db = scenario(name);
        grant(&mut db).unwrap_or_else(|e| panic!("{name}: {e:?}"));
    }
}

fn service_caller(db: &mut Db) -> Caller {
    login(db, SERVICE_USER, SERVICE_PASSWORD).unwrap()
}

#[test]
fn the_service_user_reads_what_its_roles_allow() {
    let mut db = scenario("healthy-app");
    let caller = service_caller(&mut db);
    for table in ["incident", "task", "cmdb_ci", "sys_user", "sys_user_group"] {
        assert!(access::can_read(&db, &caller, table), "{table}");
    }
    for table in [
        "sys_properties",
        "sys_security_acl",
        "oauth_entity",
        "sys_store_app",
    ] {
        assert!(!access::can_read(&db, &caller, table), "{table}");
    }
    let admin = login(&mut db, ADMIN_USER, ADMIN_PASSWORD).unwrap();
    for table in db.table_names().map(str::to_string).collect::<Vec<_>>() {
        assert!(access::can_read(&db, &admin, &table), "admin {table}");
    }
}

#[test]
fn task_reads_follow_the_acl_records() {
    for (name, readable) in [
        ("healthy-app", true),
        ("acl-missing", false),
        ("acl-inactive", false),
        ("acl-wrong-role", false),
        ("acl-no-admin-overrides", true),
        ("acl-deny", true),
    ] {
        let mut db = scenario(name);
        let caller = service_caller(&mut db);
        assert_eq!(access::can_read(&db, &caller, "task"), readable, "{name}");
    }
    // Deny Unless on create without the role vetoes the create.
    let mut db = scenario("acl-deny");
    let caller = service_caller(&mut db);
    assert!(!access::acl_allows(&db, &caller, "task", Operation::Create));
    let mut db = scenario("acl-wrong-role");
    let caller = service_caller(&mut db);
    assert!(!access::acl_allows(&db, &caller, "task", Operation::Read));
    assert!(access::acl_allows(&db, &caller, "task", Operation::Write));
}

#[test]
fn scenario_specific_visibility() {
    let mut db = scenario("table-denied");
    let caller = service_caller(&mut db);
    assert!(!access::can_read(&db, &caller, "cmdb_ci"));
    assert!(access::can_read(&db, &caller, "incident"));

    let mut db = scenario("acl-hidden");
    let admin = login(&mut db, ADMIN_USER, ADMIN_PASSWORD).unwrap();
    assert!(!access::can_read(&db, &admin, "sys_security_acl"));
    assert_eq!(db.find("sys_security_acl", "name=task").len(), 3);
}

#[test]
fn acl_tables_refuse_writes_unless_allowed() {
    let mut db = scenario("empty");
    let admin = login(&mut db, ADMIN_USER, ADMIN_PASSWORD).unwrap();
    assert!(!access::can_write(
        &db,
        &admin,
        "sys_security_acl",
        Operation::Create
    ));
    assert!(!access::can_write(
        &db,
        &admin,
        "sys_security_acl_role",
        Operation::Create
    ));
    assert!(access::can_write(
        &db,
        &admin,
        "sys_user",
        Operation::Create
    ));
    db.allow_acl_insert = true;
    assert!(access::can_write(
        &db,
        &admin,
        "sys_security_acl",
        Operation::Create
    ));
}

#[test]
fn non_admins_cannot_write_configuration() {
    let mut db = scenario("healthy-app");
    let caller = service_caller(&mut db);
    for table in [
        "sys_user",
        "oauth_entity",
        "sys_user_has_role",
        "sys_properties",
    ] {
        assert!(
            !access::can_write(&db, &caller, table, Operation::Create),
            "{table}"
        );
        assert!(
            !access::can_write(&db, &caller, table, Operation::Write),
            "{table}"
        );
    }
    assert!(access::can_write(
        &db,
        &caller,
        "incident",
        Operation::Create
    ));
    assert!(access::can_write(&db, &caller, "task", Operation::Write));
}

#[test]
fn bearer_tokens_are_blocked_by_api_scopes_and_basic_auth_is_not() {
    let mut db = scenario("scope-blocked");
    let body = grant(&mut db).unwrap();
    assert_eq!(body["scope"], "cmdb_api");
    let token = body["access_token"].as_str().unwrap().to_string();
    let bearer = auth::authenticate(&mut db, Some(&format!("Bearer {token}"))).unwrap();
    assert!(access::api_scope_blocks(&db, &bearer));
    let basic = service_caller(&mut db);
    assert!(!access::api_scope_blocks(&db, &basic));
    // Turning the platform-wide switch off lifts the block.
    db.set_property("com.glide.rest.api.auth.scope.check.enable", "false");
    assert!(!access::api_scope_blocks(&db, &bearer));

    let mut db = scenario("healthy-app");
    let token = grant(&mut db).unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let bearer = auth::authenticate(&mut db, Some(&format!("Bearer {token}"))).unwrap();
    assert!(!access::api_scope_blocks(&db, &bearer));
}
