//! Named starting states: a fresh instance, the two healthy setups, and one state per way a
//! setup step can be wrong. Every scenario shares the fixture credentials in
//! [`super::fixtures`], so the same environment variables work against all of them.
//!
//! Why one file of about 800 lines: it is a catalogue, a list of some forty scenarios and a short
//! builder for each (a healthy setup plus one change); one place to read what the sandbox can be.

use sha2::{Digest, Sha256};

use super::auth::{MFA_FOR_INTEGRATIONS, OAUTH_ACTIVE, ROPC_DISABLED};
use super::db::{hash_password, hex, Db, DbError};
use super::faults::Hibernation;
use super::fixtures::{
    ADMIN_PASSWORD, ADMIN_USER, CLIENT_ID, CLIENT_SECRET, SERVICE_PASSWORD, SERVICE_USER,
};

type Build = fn(&mut Db) -> Result<(), DbError>;

/// (name, one-line description, how to build it on top of a fresh Db).
const SCENARIOS: &[(&str, &str, Build)] = &[
    ("healthy-app", "the app path fully set up: Store app, OAuth entry, Machine user with its four roles, three task ACLs", healthy_app),
    ("healthy-admin", "the admin path: no Store app, OAuth entry, service user holding admin", healthy_admin),
    ("empty", "a fresh instance: admin user and base roles only; nothing for incident.io yet", empty),
    ("broken", "several problems at once: user locked out, sn_cmdb_user missing, task write ACL missing, one ACL without Admin overrides", broken),
    ("app-missing", "the Store app is not installed (so its api_user role and the ACLs needing it are absent)", app_missing),
    ("app-inactive", "the Store app is installed but inactive", app_inactive),
    ("app-custom-only", "x_incident_io exists only as a custom app (sys_app), not from the Store", app_custom_only),
    ("oauth-missing", "no OAuth registry entry named incident.io", oauth_missing),
    ("oauth-inactive", "the incident.io OAuth entry is inactive", oauth_inactive),
    ("oauth-duplicate", "two active OAuth entries named incident.io", oauth_duplicate),
    ("oauth-no-scope", "the OAuth entry has no auth scope (useraccount not added)", oauth_no_scope),
    ("oauth-scope-pinned", "the useraccount scope was re-created and glide.oauth.token.scope.useraccount pins the new record; the entry still maps the old one", oauth_scope_pinned),
    ("ropc-disabled", "the password grant is disabled instance-wide (glide.oauth.inbound.ropc.grant_type.disabled=true)", ropc_disabled),
    ("oauth-disabled", "OAuth is off instance-wide (com.snc.platform.security.oauth.is.active=false)", oauth_disabled),
    ("user-missing", "no service user incident.io", user_missing),
    ("user-inactive", "the service user is inactive", user_inactive),
    ("user-locked", "the service user is locked out", user_locked),
    ("user-password-reset", "the service user must reset its password", user_password_reset),
    ("user-not-machine", "the service user's identity type is Human, not Machine", user_not_machine),
    ("user-no-identity-type", "a release without sys_user.identity_type: the column does not exist", user_no_identity_type),
    ("user-failed-attempts", "the service user is one failed login away from lockout", user_failed_attempts),
    ("roles-missing", "the service user lacks cmdb_read and incident_manager", roles_missing),
    ("acl-missing", "no ACLs on task for the integration", acl_missing),
    ("acl-inactive", "the task read ACL is inactive", acl_inactive),
    ("acl-deny", "the task create ACL is Deny Unless instead of Allow If", acl_deny),
    ("acl-no-role", "the task write ACL requires no role", acl_no_role),
    ("acl-wrong-role", "the task read ACL requires itil instead of x_incident_io.api_user", acl_wrong_role),
    ("acl-no-admin-overrides", "the task ACLs have Admin overrides unticked", acl_no_admin_overrides),
    ("acl-not-global", "the task ACLs belong to the app's scope, not Global", acl_not_global),
    ("acl-hidden", "the task ACLs exist but sys_security_acl is unreadable even for admin (security_admin only)", acl_hidden),
    ("access-policy-basic-only", "a REST API access policy admits only Basic auth to the Table API: a freshly minted token is refused with 401", access_policy_basic_only),
    ("oauth-outbound-decoy", "besides the inbound entry, an outbound OAuth provider record is also named incident.io", oauth_outbound_decoy),
    ("incident-restricted-first", "the first incident in the default order is restricted from the service user by a row-level ACL; the rest are readable", incident_restricted_first),
    ("table-denied", "the service user cannot read cmdb_ci despite its roles", table_denied),
    ("scope-blocked", "a REST API auth scope guards the Table API and the OAuth entry lacks useraccount", scope_blocked),
    ("mfa-admin", "the admin is MFA-enrolled and MFA is enforced for integrations: Basic auth fails", mfa_admin),
    ("hibernating", "a sleeping developer instance: every request gets the hibernation page (200)", hibernating),
    ("hibernating-503", "a sleeping developer instance answering the hibernation page with 503", hibernating_503),
    ("login-page", "every request gets an HTML login page instead of JSON", login_page),
    ("posture-privileged", "the app path set up, but the service user also holds security_admin", posture_privileged),
    ("posture-ui-login", "the service user can sign in to the UI (Web service access only unticked)", posture_ui_login),
    ("posture-ip-deny", "an inbound IP deny rule covers every address (incident.io's must be allowed)", posture_ip_deny),
    ("posture-clone", "a sub-production instance with no clone data preservers for the OAuth entry or the user", posture_clone),
];

/// Every scenario's name and one-line description, in a stable order.
pub fn names() -> Vec<(&'static str, &'static str)> {
    SCENARIOS.iter().map(|(n, d, _)| (*n, *d)).collect()
}

/// Builds a scenario's state on top of `db` (fresh, with its knobs such as the lockout threshold
/// already set), or `None` for an unknown name.
pub fn build(name: &str, mut db: Db) -> Option<Result<Db, DbError>> {
    let (_, _, build) = SCENARIOS.iter().find(|(n, _, _)| *n == name)?;
    Some(build(&mut db).map(|()| db))
}

/// A stable sys_id for a fixture record, so links and logs are the same run after run.
pub fn fixture_id(label: &str) -> String {
    hex(&Sha256::digest(
        format!("snconnect-sandbox:{label}").as_bytes(),
    ))[..32]
        .to_string()
}

fn insert(
    db: &mut Db,
    table: &str,
    label: &str,
    values: &[(&str, &str)],
) -> Result<String, DbError> {
    let id = fixture_id(label);
    let mut all = vec![("sys_id", id.as_str())];
    all.extend_from_slice(values);
    db.insert(table, &all)
}

fn id(db: &Db, table: &str, query: &str) -> String {
    db.id_of(table, query).unwrap_or_default()
}

fn grant(db: &mut Db, user: &str, role: &str) -> Result<(), DbError> {
    let user_id = id(db, "sys_user", &format!("user_name={user}"));
    let role_id = id(db, "sys_user_role", &format!("name={role}"));
    insert(
        db,
        "sys_user_has_role",
        &format!("has_role:{user}:{role}"),
        &[("user", &user_id), ("role", &role_id)],
    )?;
    Ok(())
}

/// A fresh instance: the platform's own records, an admin, some people and some data.
fn empty(db: &mut Db) -> Result<(), DbError> {
    db.insert(
        "sys_scope",
        &[
            ("sys_id", "global"),
            ("scope", "global"),
            ("name", "Global"),
            ("sys_class_name", "sys_scope"),
            ("vendor", "ServiceNow"),
        ],
    )?;
    for op in ["read", "write", "create", "delete", "execute"] {
        db.insert("sys_security_operation", &[("sys_id", op), ("name", op)])?;
    }
    db.insert(
        "sys_security_operation",
        &[
            ("sys_id", "0997ab83733303005978e4b9cdf6a7b9"),
            ("name", "report_view"),
        ],
    )?;
    for ty in ["record", "rest_endpoint", "ui_page"] {
        db.insert("sys_security_type", &[("sys_id", ty), ("name", ty)])?;
    }
    for (role, description) in [
        ("admin", "System administrator"),
        ("security_admin", "Edits access controls after elevating"),
        ("itil", "Fulfiller for ITSM work"),
        ("cmdb_read", "Reads the CMDB"),
        ("sn_cmdb_user", "CMDB workspace user"),
        ("incident_manager", "Manages incidents"),
        ("snc_read_only", "Read-only session"),
        ("oauth_admin", "Manages OAuth application registries"),
    ] {
        insert(
            db,
            "sys_user_role",
            &format!("role:{role}"),
            &[("name", role), ("description", description)],
        )?;
    }
    db.update_where(
        "sys_user_role",
        "name=security_admin",
        &[("elevated_privilege", "true")],
    );
    insert(
        db,
        "sys_auth_scope",
        "auth_scope:useraccount",
        &[
            ("name", "useraccount"),
            (
                "short_description",
                "Access to every API the user can reach",
            ),
        ],
    )?;
    insert(
        db,
        "sys_properties",
        "property:oauth_active",
        &[
            ("name", OAUTH_ACTIVE),
            ("value", "true"),
            ("type", "boolean"),
        ],
    )?;
    insert(
        db,
        "sys_store_app",
        "app:cicd",
        &[
            ("scope", "sn_cicd_spoke"),
            ("name", "CI/CD Spoke"),
            ("version", "1.9.2"),
            ("latest_version", "1.9.2"),
            ("vendor", "ServiceNow"),
            ("update_available", "false"),
        ],
    )?;

    let admin_password = hash_password(ADMIN_PASSWORD);
    insert(
        db,
        "sys_user",
        "user:admin",
        &[
            ("user_name", ADMIN_USER),
            ("name", "System Administrator"),
            ("first_name", "System"),
            ("last_name", "Administrator"),
            ("email", "admin@example.com"),
            ("identity_type", "human"),
            ("user_password", &admin_password),
        ],
    )?;
    grant(db, ADMIN_USER, "admin")?;
    for (user, name) in [("abel.tuter", "Abel Tuter"), ("beth.anglin", "Beth Anglin")] {
        insert(
            db,
            "sys_user",
            &format!("user:{user}"),
            &[
                ("user_name", user),
                ("name", name),
                ("email", &format!("{user}@example.com")),
                ("identity_type", "human"),
            ],
        )?;
    }
    grant(db, "beth.anglin", "itil")?;
    let desk = insert(
        db,
        "sys_user_group",
        "group:service-desk",
        &[("name", "Service Desk"), ("email", "desk@example.com")],
    )?;
    let itil = id(db, "sys_user_role", "name=itil");
    db.insert("sys_group_has_role", &[("group", &desk), ("role", &itil)])?;
    let abel = id(db, "sys_user", "user_name=abel.tuter");
    db.insert("sys_user_grmember", &[("user", &abel), ("group", &desk)])?;

    let mut cis = Vec::new();
    for (i, (name, class)) in [
        ("mail-server-01", "cmdb_ci_server"),
        ("payments-db", "cmdb_ci_database"),
        ("Checkout", "cmdb_ci_service"),
    ]
    .into_iter()
    .enumerate()
    {
        cis.push(insert(
            db,
            "cmdb_ci",
            &format!("ci:{i}"),
            &[
                ("name", name),
                ("sys_class_name", class),
                ("operational_status", "1"),
                ("install_status", "1"),
            ],
        )?);
    }
    for (i, (short, priority)) in [
        ("Email delivery delayed", "3"),
        ("Checkout errors for some customers", "1"),
        ("Database CPU high", "2"),
    ]
    .into_iter()
    .enumerate()
    {
        let number = format!("INC00100{:02}", i + 1);
        insert(
            db,
            "incident",
            &format!("incident:{i}"),
            &[
                ("number", &number),
                ("short_description", short),
                ("state", "2"),
                ("priority", priority),
                ("active", "true"),
                ("caller_id", &abel),
                ("cmdb_ci", &cis[i]),
                ("assignment_group", &desk),
            ],
        )?;
        // An incident is also a task row with the same sys_id (incident extends task).
        insert(
            db,
            "task",
            &format!("incident:{i}"),
            &[
                ("number", &number),
                ("short_description", short),
                ("state", "2"),
                ("priority", priority),
                ("active", "true"),
                ("sys_class_name", "incident"),
                ("assignment_group", &desk),
            ],
        )?;
    }
    insert(
        db,
        "task",
        "task:plain",
        &[
            ("number", "TASK0010001"),
            ("short_description", "Rotate the on-call calendar"),
            ("state", "1"),
            ("priority", "4"),
            ("active", "true"),
            ("sys_class_name", "task"),
        ],
    )?;
    Ok(())
}

fn install_app(db: &mut Db) -> Result<(), DbError> {
    insert(
        db,
        "sys_store_app",
        "app:incident-io",
        &[
            ("scope", "x_incident_io"),
            ("name", "incident.io"),
            ("version", "1.4.0"),
            ("latest_version", "1.4.0"),
            ("vendor", "incident.io"),
            ("update_available", "false"),
            ("short_description", "Syncs incidents with incident.io"),
        ],
    )?;
    add_app_role(db)
}

fn add_app_role(db: &mut Db) -> Result<(), DbError> {
    insert(
        db,
        "sys_user_role",
        "role:x_incident_io.api_user",
        &[
            ("name", "x_incident_io.api_user"),
            ("suffix", "api_user"),
            (
                "description",
                "Grants the incident.io integration its API access",
            ),
        ],
    )?;
    Ok(())
}

fn add_oauth_entry(db: &mut Db) -> Result<(), DbError> {
    let entity = insert(
        db,
        "oauth_entity",
        "oauth:incident-io",
        &[
            ("name", "incident.io"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            (
                "comments",
                "Resource owner password credential grant for incident.io",
            ),
        ],
    )?;
    let useraccount = id(db, "sys_auth_scope", "name=useraccount");
    insert(
        db,
        "oauth_entity_auth_scope_mapping",
        "oauth_scope:incident-io",
        &[("oauth_entity", &entity), ("auth_scope", &useraccount)],
    )?;
    Ok(())
}

fn add_service_user(db: &mut Db) -> Result<(), DbError> {
    let password = hash_password(SERVICE_PASSWORD);
    insert(
        db,
        "sys_user",
        "user:incident.io",
        &[
            ("user_name", SERVICE_USER),
            ("name", "incident.io"),
            ("email", "servicenow-integration@example.com"),
            ("identity_type", "machine"),
            ("web_service_access_only", "true"),
            ("user_password", &password),
        ],
    )?;
    Ok(())
}

/// The four roles of the app path; incident_manager comes through a group, as it often does.
fn grant_app_roles(db: &mut Db) -> Result<(), DbError> {
    for role in ["x_incident_io.api_user", "cmdb_read", "sn_cmdb_user"] {
        grant(db, SERVICE_USER, role)?;
    }
    let group = insert(
        db,
        "sys_user_group",
        "group:integrations",
        &[
            ("name", "Integrations"),
            ("description", "Accounts of connected tools"),
        ],
    )?;
    let role = id(db, "sys_user_role", "name=incident_manager");
    db.insert("sys_group_has_role", &[("group", &group), ("role", &role)])?;
    let user = id(db, "sys_user", &format!("user_name={SERVICE_USER}"));
    db.insert("sys_user_grmember", &[("user", &user), ("group", &group)])?;
    Ok(())
}

fn add_task_acls(db: &mut Db) -> Result<(), DbError> {
    let role = id(db, "sys_user_role", "name=x_incident_io.api_user");
    for op in ["read", "create", "write"] {
        let acl = insert(
            db,
            "sys_security_acl",
            &format!("acl:task:{op}"),
            &[
                ("name", "task"),
                ("operation", op),
                (
                    "description",
                    "Lets the incident.io integration work with tasks",
                ),
            ],
        )?;
        insert(
            db,
            "sys_security_acl_role",
            &format!("acl_role:task:{op}"),
            &[("sys_security_acl", &acl), ("sys_user_role", &role)],
        )?;
    }
    Ok(())
}

fn healthy_app(db: &mut Db) -> Result<(), DbError> {
    empty(db)?;
    install_app(db)?;
    add_oauth_entry(db)?;
    add_service_user(db)?;
    grant_app_roles(db)?;
    add_task_acls(db)?;
    preserve_for_clones(db)
}

fn healthy_admin(db: &mut Db) -> Result<(), DbError> {
    empty(db)?;
    add_oauth_entry(db)?;
    add_service_user(db)?;
    grant(db, SERVICE_USER, "admin")?;
    preserve_for_clones(db)
}

/// The sandbox is a sub-production instance, as a developer instance is: it says so, and keeps
/// the integration's records through a clone from production.
fn preserve_for_clones(db: &mut Db) -> Result<(), DbError> {
    db.set_property(crate::requirements::PROP_PRODUCTION, "false");
    for (table, condition) in [
        ("oauth_entity", "name=incident.io"),
        ("sys_user", "user_name=incident.io"),
    ] {
        insert(
            db,
            "clone_data_preserver",
            &format!("preserver:{table}"),
            &[
                ("name", &format!("incident.io integration ({table})")),
                ("table", table),
                ("condition", condition),
            ],
        )?;
    }
    Ok(())
}

fn posture_privileged(db: &mut Db) -> Result<(), DbError> {
    healthy_app(db)?;
    grant(db, SERVICE_USER, "security_admin")
}

fn posture_ui_login(db: &mut Db) -> Result<(), DbError> {
    healthy_app(db)?;
    service_user(db, &[("web_service_access_only", "false")]);
    Ok(())
}

fn posture_ip_deny(db: &mut Db) -> Result<(), DbError> {
    healthy_app(db)?;
    insert(
        db,
        "ip_access",
        "ip:deny-all",
        &[
            ("type", "deny"),
            ("direction", "inbound"),
            ("active", "true"),
            ("range_start", "0.0.0.0"),
            ("range_end", "255.255.255.255"),
            ("description", "Only the office VPN"),
        ],
    )?;
    insert(
        db,
        "ip_access",
        "ip:allow-vpn",
        &[
            ("type", "allow"),
            ("direction", "inbound"),
            ("active", "true"),
            ("range_start", "192.0.2.0"),
            ("range_end", "192.0.2.255"),
            ("description", "Office VPN"),
        ],
    )?;
    Ok(())
}

fn posture_clone(db: &mut Db) -> Result<(), DbError> {
    healthy_app(db)?;
    db.remove_where("clone_data_preserver", "tableINoauth_entity,sys_user");
    Ok(())
}

fn remove_acl(db: &mut Db, op: &str) {
    if let Some(acl) = db.id_of("sys_security_acl", &format!("name=task^operation={op}")) {
        db.remove_where("sys_security_acl_role", &format!("sys_security_acl={acl}"));
        db.remove_where("sys_security_acl", &format!("sys_id={acl}"));
    }
}

fn remove_role_grant(db: &mut Db, role: &str) {
    db.remove_where(
        "sys_user_has_role",
        &format!("user.user_name={SERVICE_USER}^role.name={role}"),
    );
}

fn service_user(db: &mut Db, values: &[(&str, &str)]) {
    db.update_where("sys_user", &format!("user_name={SERVICE_USER}"), values);
}

fn broken(db: &mut Db) -> Result<(), DbError> {
    healthy_app(db)?;
    service_user(db, &[("locked_out", "true"), ("failed_attempts", "5")]);
    remove_role_grant(db, "sn_cmdb_user");
    remove_acl(db, "write");
    db.update_where(
        "sys_security_acl",
        "name=task^operation=read",
        &[("admin_overrides", "false")],
    );
    Ok(())
}

fn app_missing(db: &mut Db) -> Result<(), DbError> {
    healthy_app(db)?;
    db.remove_where("sys_store_app", "scope=x_incident_io");
    db.remove_where("sys_scope", "scope=x_incident_io");
    for op in ["read", "create", "write"] {
        remove_acl(db, op);
    }
    db.remove_where("sys_user_has_role", "role.name=x_incident_io.api_user");
    db.remove_where("sys_user_role", "name=x_incident_io.api_user");
    Ok(())
}

fn app_inactive(db: &mut Db) -> Result<(), DbError> {
    healthy_app(db)?;
    db.update_where(
        "sys_store_app",
        "scope=x_incident_io",
        &[("active", "false")],
    );
    db.update_where("sys_scope", "scope=x_incident_io", &[("active", "false")]);
    Ok(())
}

fn app_custom_only(db: &mut Db) -> Result<(), DbError> {
    healthy_app(db)?;
    db.remove_where("sys_store_app", "scope=x_incident_io");
    db.remove_where("sys_scope", "scope=x_incident_io");
    insert(
        db,
        "sys_app",
        "custom_app:incident-io",
        &[
            ("scope", "x_incident_io"),
            ("name", "incident.io (in development)"),
            ("version", "0.0.1"),
            ("vendor", "Example Corp"),
        ],
    )?;
    Ok(())
}

fn oauth_missing(db: &mut Db) -> Result<(), DbError> {
    healthy_app(db)?;
    db.remove_where(
        "oauth_entity_auth_scope_mapping",
        "oauth_entity.name=incident.io",
    );
    db.remove_where("oauth_entity", "name=incident.io");
    Ok(())
}

fn oauth_inactive(db: &mut Db) -> Result<(), DbError> {
    healthy_app(db)?;
    db.update_where("oauth_entity", "name=incident.io", &[("active", "false")]);
    Ok(())
}

fn oauth_duplicate(db: &mut Db) -> Result<(), DbError> {
    healthy_app(db)?;
    let second = insert(
        db,
        "oauth_entity",
        "oauth:incident-io-2",
        &[
            ("name", "incident.io"),
            ("client_id", "0f1e2d3c4b5a69788796a5b4c3d2e1f0"),
            ("client_secret", "another-sandbox-secret"),
            ("comments", "Created a second time by mistake"),
        ],
    )?;
    let useraccount = id(db, "sys_auth_scope", "name=useraccount");
    db.insert(
        "oauth_entity_auth_scope_mapping",
        &[("oauth_entity", &second), ("auth_scope", &useraccount)],
    )?;
    Ok(())
}

fn oauth_no_scope(db: &mut Db) -> Result<(), DbError> {
    healthy_app(db)?;
    db.remove_where(
        "oauth_entity_auth_scope_mapping",
        "oauth_entity.name=incident.io",
    );
    Ok(())
}

/// The `useraccount` scope re-created: a second record of that name, pinned by the property that
/// the token endpoint reads (facts sheet §2), while the entry keeps its mapping to the first one.
/// A name-only check calls the entry fine; the token carries no `useraccount` scope.
fn oauth_scope_pinned(db: &mut Db) -> Result<(), DbError> {
    healthy_app(db)?;
    let recreated = insert(
        db,
        "sys_auth_scope",
        "auth_scope:useraccount_recreated",
        &[
            ("name", "useraccount"),
            (
                "short_description",
                "Access to every API the user can reach (re-created)",
            ),
        ],
    )?;
    db.set_property(super::auth::USERACCOUNT_SCOPE_PROPERTY, &recreated);
    Ok(())
}

fn ropc_disabled(db: &mut Db) -> Result<(), DbError> {
    healthy_app(db)?;
    db.set_property(ROPC_DISABLED, "true");
    Ok(())
}

fn oauth_disabled(db: &mut Db) -> Result<(), DbError> {
    healthy_app(db)?;
    db.set_property(OAUTH_ACTIVE, "false");
    Ok(())
}

fn user_missing(db: &mut Db) -> Result<(), DbError> {
    healthy_app(db)?;
    db.remove_where(
        "sys_user_has_role",
        &format!("user.user_name={SERVICE_USER}"),
    );
    db.remove_where(
        "sys_user_grmember",
        &format!("user.user_name={SERVICE_USER}"),
    );
    db.remove_where("sys_user", &format!("user_name={SERVICE_USER}"));
    Ok(())
}

fn user_inactive(db: &mut Db) -> Result<(), DbError> {
    healthy_app(db)?;
    service_user(db, &[("active", "false")]);
    Ok(())
}

fn user_locked(db: &mut Db) -> Result<(), DbError> {
    healthy_app(db)?;
    service_user(db, &[("locked_out", "true"), ("failed_attempts", "5")]);
    Ok(())
}

fn user_password_reset(db: &mut Db) -> Result<(), DbError> {
    healthy_app(db)?;
    service_user(db, &[("password_needs_reset", "true")]);
    Ok(())
}

fn user_not_machine(db: &mut Db) -> Result<(), DbError> {
    healthy_app(db)?;
    service_user(
        db,
        &[
            ("identity_type", "human"),
            ("web_service_access_only", "false"),
        ],
    );
    Ok(())
}

fn user_no_identity_type(db: &mut Db) -> Result<(), DbError> {
    healthy_app(db)?;
    db.remove_field("sys_user", "identity_type");
    Ok(())
}

fn user_failed_attempts(db: &mut Db) -> Result<(), DbError> {
    healthy_app(db)?;
    let attempts = db.lockout_threshold.saturating_sub(1).to_string();
    service_user(db, &[("failed_attempts", &attempts)]);
    Ok(())
}

fn roles_missing(db: &mut Db) -> Result<(), DbError> {
    healthy_app(db)?;
    remove_role_grant(db, "cmdb_read");
    db.remove_where(
        "sys_user_grmember",
        &format!("user.user_name={SERVICE_USER}^group.name=Integrations"),
    );
    remove_role_grant(db, "incident_manager");
    Ok(())
}

fn acl_missing(db: &mut Db) -> Result<(), DbError> {
    healthy_app(db)?;
    for op in ["read", "create", "write"] {
        remove_acl(db, op);
    }
    Ok(())
}

fn acl_inactive(db: &mut Db) -> Result<(), DbError> {
    healthy_app(db)?;
    db.update_where(
        "sys_security_acl",
        "name=task^operation=read",
        &[("active", "false")],
    );
    Ok(())
}

fn acl_deny(db: &mut Db) -> Result<(), DbError> {
    healthy_app(db)?;
    db.update_where(
        "sys_security_acl",
        "name=task^operation=create",
        &[("decision_type", "deny")],
    );
    Ok(())
}

fn acl_no_role(db: &mut Db) -> Result<(), DbError> {
    healthy_app(db)?;
    db.remove_where(
        "sys_security_acl_role",
        "sys_security_acl.name=task^sys_security_acl.operation=write",
    );
    Ok(())
}

fn acl_wrong_role(db: &mut Db) -> Result<(), DbError> {
    healthy_app(db)?;
    let itil = id(db, "sys_user_role", "name=itil");
    db.update_where(
        "sys_security_acl_role",
        "sys_security_acl.name=task^sys_security_acl.operation=read",
        &[("sys_user_role", &itil)],
    );
    Ok(())
}

fn acl_no_admin_overrides(db: &mut Db) -> Result<(), DbError> {
    healthy_app(db)?;
    db.update_where(
        "sys_security_acl",
        "name=task",
        &[("admin_overrides", "false")],
    );
    Ok(())
}

fn acl_not_global(db: &mut Db) -> Result<(), DbError> {
    healthy_app(db)?;
    let app_scope = id(db, "sys_scope", "scope=x_incident_io");
    db.update_where(
        "sys_security_acl",
        "name=task",
        &[("sys_scope", &app_scope)],
    );
    Ok(())
}

fn acl_hidden(db: &mut Db) -> Result<(), DbError> {
    healthy_app(db)?;
    db.acl_hidden = true;
    Ok(())
}

fn table_denied(db: &mut Db) -> Result<(), DbError> {
    healthy_app(db)?;
    // Only admin reads cmdb_ci on this instance: a local ACL customisation.
    db.read_roles.insert("cmdb_ci".to_string(), Vec::new());
    Ok(())
}

/// Tokens minted and then refused: what REST API access policies and "Enforce token restriction"
/// do (facts sheet, Corrections 2; KB3041645, KB1710801).
fn access_policy_basic_only(db: &mut Db) -> Result<(), DbError> {
    healthy_app(db)?;
    db.basic_only_policy = true;
    // The record an admin would find under System Web Services > REST API Access Policies.
    insert(
        db,
        "sys_api_access_policy",
        "policy:table-basic-only",
        &[
            ("name", "Table API: Basic auth only"),
            ("active", "true"),
            ("api_path", "now/table"),
            ("apply_all_tables", "true"),
            ("apply_all_methods", "true"),
        ],
    )?;
    Ok(())
}

/// An outbound provider of the same name (type `oauth_provider`: the instance calling a third
/// party), which shares the table and the registry list with inbound entries (facts sheet,
/// Corrections 3; `global.OauthTokenChecker`).
fn oauth_outbound_decoy(db: &mut Db) -> Result<(), DbError> {
    healthy_app(db)?;
    insert(
        db,
        "oauth_entity",
        "oauth:outbound_decoy",
        &[
            ("name", "incident.io"),
            ("type", "oauth_provider"),
            ("active", "true"),
            ("client_id", "outbound-client-of-a-third-party"),
        ],
    )?;
    Ok(())
}

/// One restricted incident first in the default order. The Table API applies `sysparm_limit`
/// before row-level ACLs (facts sheet, Corrections 1; KB3047115): a one-row probe comes back
/// empty with `X-Total-Count` > 0 although the other incidents are readable.
fn incident_restricted_first(db: &mut Db) -> Result<(), DbError> {
    healthy_app(db)?;
    let first = db
        .find("incident", "")
        .first()
        .and_then(|row| row.get("sys_id").cloned())
        .ok_or_else(|| DbError::InvalidTable("incident".into()))?;
    db.restricted_rows.insert(first);
    Ok(())
}

fn scope_blocked(db: &mut Db) -> Result<(), DbError> {
    healthy_app(db)?;
    let custom = insert(
        db,
        "sys_auth_scope",
        "auth_scope:table_read",
        &[
            ("name", "table_read"),
            ("short_description", "Read access to the Table API"),
        ],
    )?;
    let other = insert(
        db,
        "sys_auth_scope",
        "auth_scope:cmdb_api",
        &[
            ("name", "cmdb_api"),
            ("short_description", "CMDB instance API"),
        ],
    )?;
    insert(
        db,
        "sys_api_access_scope",
        "api_scope:table",
        &[
            ("name", "Table API"),
            ("api_path", "now/table"),
            ("http_method", "GET"),
            ("auth_scope", &custom),
            ("apply_all_methods", "true"),
            ("apply_all_resources", "true"),
        ],
    )?;
    db.update_where(
        "oauth_entity_auth_scope_mapping",
        "oauth_entity.name=incident.io",
        &[("auth_scope", &other)],
    );
    Ok(())
}

fn mfa_admin(db: &mut Db) -> Result<(), DbError> {
    healthy_app(db)?;
    db.set_property(MFA_FOR_INTEGRATIONS, "true");
    db.update_where(
        "sys_user",
        &format!("user_name={ADMIN_USER}"),
        &[("enable_multifactor_authn", "true")],
    );
    Ok(())
}

fn hibernating(db: &mut Db) -> Result<(), DbError> {
    healthy_app(db)?;
    db.faults.hibernating = Some(Hibernation::Ok200);
    Ok(())
}

fn hibernating_503(db: &mut Db) -> Result<(), DbError> {
    healthy_app(db)?;
    db.faults.hibernating = Some(Hibernation::Unavailable503);
    Ok(())
}

fn login_page(db: &mut Db) -> Result<(), DbError> {
    healthy_app(db)?;
    db.faults.login_page = true;
    Ok(())
}
