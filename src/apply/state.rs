//! What `apply` reads before it plans: the checks' facts, plus the sys_ids a write needs.
//!
//! The checks only need names to judge a setup; writing needs the records behind them (the
//! role's sys_id for a grant, the `useraccount` scope's sys_id for the mapping) and one fact
//! about the release (whether `sys_user` has `identity_type` at all). The reads follow the same
//! order as verify: one request as the admin first, so wrong credentials cost one failed login
//! and nothing else goes out with them; then every other query together, in one round trip.

use std::time::{Duration, Instant};

use crate::checks::queries::{self, fetch_if};
use crate::checks::run::{self, to_lookup};
use crate::checks::{
    app, instance, oauth_app, roles, service_user, task_acls, CheckResult, Context, Lookup,
};
use crate::model::{CheckId, SetupPath};
use crate::requirements::{AUTH_SCOPE, OAUTH_ENTRY_NAME};
use crate::servicenow::{ListRequest, Page, Query, Record, Session, SnError};

/// A `sys_user_role` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleRecord {
    pub sys_id: String,
    pub name: String,
}

/// A `sys_auth_scope` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthScopeRecord {
    pub sys_id: String,
    pub name: String,
}

/// Everything a plan is made from. Each lookup keeps "none", "hidden by ACLs" and "the query
/// failed" apart: apply creates a record only when its lookup positively found none, so that a
/// hidden row is never duplicated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    /// The signed-in admin's user name, when the admin's own row was readable.
    pub admin_user: Option<String>,
    /// Whether this release's `sys_user` has `identity_type` (seen on the admin's own row).
    pub identity_type_field: bool,
    /// `sys_store_app?scope=x_incident_io`
    pub app: Lookup<app::AppRecord>,
    /// `oauth_entity?name=incident.io`
    pub entries: Lookup<oauth_app::Entry>,
    /// `oauth_entity_auth_scope_mapping?oauth_entity.name=incident.io`
    pub mappings: Lookup<oauth_app::ScopeMapping>,
    /// `sys_auth_scope?name=useraccount`
    pub auth_scopes: Lookup<AuthScopeRecord>,
    /// The OAuth switches in `sys_properties`.
    pub properties: Lookup<oauth_app::Property>,
    /// The service user, out of the admin's first request.
    pub user: Lookup<service_user::User>,
    /// The service user's grants of the roles that matter.
    pub held: Lookup<roles::HeldRole>,
    /// The roles that matter, with their sys_ids (absent ones are simply not in the list).
    pub roles: Lookup<RoleRecord>,
    /// The record ACLs on `task` (read on the app path only; empty otherwise).
    pub acls: Lookup<task_acls::Acl>,
    pub acl_roles: Lookup<task_acls::AclRole>,
}

impl State {
    /// A fresh instance as the plan sees it: nothing of incident.io's, every base role present.
    /// For tests and for documentation of the shape.
    pub fn empty_instance() -> State {
        State {
            admin_user: Some("admin".into()),
            identity_type_field: true,
            app: Lookup::Rows(vec![]),
            entries: Lookup::Rows(vec![]),
            mappings: Lookup::Rows(vec![]),
            auth_scopes: Lookup::Rows(vec![AuthScopeRecord {
                sys_id: "scope-useraccount".into(),
                name: AUTH_SCOPE.into(),
            }]),
            properties: Lookup::Rows(vec![]),
            user: Lookup::Rows(vec![]),
            held: Lookup::Rows(vec![]),
            roles: Lookup::Rows(
                ["admin", "cmdb_read", "sn_cmdb_user", "incident_manager"]
                    .iter()
                    .map(|n| RoleRecord {
                        sys_id: format!("role-{n}"),
                        name: n.to_string(),
                    })
                    .collect(),
            ),
            acls: Lookup::Rows(vec![]),
            acl_roles: Lookup::Rows(vec![]),
        }
    }
}

/// A query that was not sent (not needed on this path) reads as an empty list.
fn lookup<T>(
    fetched: Option<(Result<Page, SnError>, Duration)>,
    table: &str,
    convert: impl Fn(&Record) -> Option<T>,
) -> Lookup<T> {
    match fetched {
        Some((result, _)) => to_lookup(&result, table, convert),
        None => Lookup::Rows(Vec::new()),
    }
}

/// Reads the state as the admin session. `Err` carries the `instance` check's result when the
/// instance or the admin's credentials cannot be used; nothing else was sent then.
pub async fn fetch(
    session: &Session,
    path: SetupPath,
    username: &str,
    ctx: &Context,
    admin: instance::AdminLogin,
    timeout_secs: u64,
) -> Result<State, CheckResult> {
    let started = Instant::now();
    let identity_query = queries::identity(Some(username));
    let identity = session
        .list(identity_query.table, &identity_query.request)
        .await;
    let answer = run::instance_answer(&identity, true, username);
    let verdict = instance::evaluate(
        &instance::Facts {
            admin,
            answer,
            timeout_secs,
        },
        ctx,
    );
    let elapsed = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let result = CheckResult::new(CheckId::Instance, verdict, elapsed);
    if instance::blocks_run(&result) {
        return Err(result);
    }
    let page = identity.as_ref().ok();
    let admin_row = page.and_then(|p| {
        p.records
            .iter()
            .find(|r| r.str("user_name").is_some_and(|n| n != username))
    });
    let identity_type_field = match admin_row {
        Some(row) => row.has("identity_type"),
        // The admin's own row was not readable (or the admin is the service user): the service
        // user's row, if any, answers; otherwise assume the field exists, as on current releases.
        None => page
            .and_then(|p| p.records.first())
            .is_none_or(|r| r.has("identity_type")),
    };
    let admin_user = admin_row.and_then(|r| r.str("user_name").map(str::to_string));
    let user = run::service_user_lookup(&identity, username);

    let app_path = path == SetupPath::App;
    let store_q = queries::store_app();
    let entries_q = queries::oauth_entries();
    let mappings_q = queries::scope_mappings();
    let scopes_q = queries::auth_scope();
    let properties_q = queries::oauth_properties();
    let held_q = queries::held_roles(username);
    let roles_q = queries::roles();
    let acls_q = queries::task_acls();
    let acl_roles_q = queries::task_acl_roles();
    let (store, entries, mappings, scopes, properties, held, roles, acls, acl_roles) = tokio::join!(
        fetch_if(session, app_path, &store_q),
        fetch_if(session, true, &entries_q),
        fetch_if(session, true, &mappings_q),
        fetch_if(session, true, &scopes_q),
        fetch_if(session, true, &properties_q),
        fetch_if(session, true, &held_q),
        fetch_if(session, true, &roles_q),
        fetch_if(session, app_path, &acls_q),
        fetch_if(session, app_path, &acl_roles_q),
    );

    Ok(State {
        admin_user,
        identity_type_field,
        app: lookup(store, store_q.table, run::app_record),
        entries: lookup(entries, entries_q.table, run::oauth_entry),
        mappings: lookup(mappings, mappings_q.table, run::scope_mapping),
        auth_scopes: lookup(scopes, scopes_q.table, |r| {
            Some(AuthScopeRecord {
                sys_id: r.str("sys_id")?.to_string(),
                name: r.str("name").unwrap_or_default().to_string(),
            })
        }),
        properties: lookup(properties, properties_q.table, run::property),
        user,
        held: lookup(held, held_q.table, run::held_role),
        roles: lookup(roles, roles_q.table, |r| {
            Some(RoleRecord {
                sys_id: r.str("sys_id")?.to_string(),
                name: r.str("name")?.to_string(),
            })
        }),
        acls: lookup(acls, acls_q.table, run::acl),
        acl_roles: lookup(acl_roles, acl_roles_q.table, run::acl_role),
    })
}

/// The client id of the single active OAuth entry named incident.io: what the integration uses
/// once apply (or a person) created it. `None` when there is none, or several (ambiguous; the
/// `oauth_app` check reports that).
pub async fn active_entry_client_id(session: &Session) -> Result<Option<String>, SnError> {
    let req = ListRequest::new()
        .query(
            Query::new()
                .eq("name", OAUTH_ENTRY_NAME)
                .eq("active", "true")
                .build(),
        )
        .fields(&["client_id"])
        .limit(2)
        .exclude_reference_link(true);
    let page = session.list("oauth_entity", &req).await?;
    Ok(match page.records.as_slice() {
        [one] => one
            .str("client_id")
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        _ => None,
    })
}
