//! The Table API queries that read a setup's facts, each spelled once.
//!
//! `verify` (in [`super::run`]) and `apply` (in `crate::apply::state`) read the same records: if
//! each wrote its own query, a fix to one (a dot-walk, a field a check starts to need) would
//! silently leave the other reading something else, and the two commands would disagree about
//! the same instance. Every function here returns a [`FactQuery`]; the callers decide only
//! *whether* to send it and how to read the answer.
//!
//! Where the two callers need different fields, a query asks for the union: an extra field costs
//! nothing on the wire that matters and is ignored by a caller that does not read it.

use std::time::{Duration, Instant};

use crate::requirements::{
    all_role_names, ACL_OPERATIONS, ACL_TABLE, APP_SCOPE, AUTH_SCOPE, OAUTH_ENTRY_NAME,
    OAUTH_PROPERTIES, PRIVILEGED_ROLES,
};
use crate::servicenow::{ListRequest, Page, Query, Session, SnError};

/// One list request and the table it reads. The table is kept beside the request so that the
/// answer can be reported against the same name the request went to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactQuery {
    pub table: &'static str,
    pub request: ListRequest,
}

/// Fields of the identity request's rows. The admin's own row proves the login and shows whether
/// this release's `sys_user` has `identity_type` at all; the service user's row is that user's
/// facts (apply also reads `web_service_access_only`, to keep the account API-only).
pub const USER_FIELDS: [&str; 12] = [
    "sys_id",
    "user_name",
    "active",
    "locked_out",
    "password_needs_reset",
    "identity_type",
    "failed_attempts",
    "web_service_access_only",
    "internal_integration_user",
    "enable_multifactor_authn",
    "sys_updated_by",
    "sys_updated_on",
];

/// Row limit for the admin-side lists. Each is filtered down to a handful of rows, so the limit
/// only guards against a query that matches far more than it should.
pub const LIST_LIMIT: u32 = 200;

fn list(table: &'static str, query: String, fields: &[&str]) -> FactQuery {
    FactQuery {
        table,
        request: ListRequest::new()
            .query(query)
            .fields(fields)
            .limit(LIST_LIMIT)
            .exclude_reference_link(true),
    }
}

/// The admin's own `sys_user` row, and with `service_user` also that user's row, in one request.
///
/// The two queries are joined by `^NQ` (an OR of whole queries) so that the request which proves
/// the admin's credentials also carries the service user's facts: one failed login at most when
/// the credentials are wrong, and one request fewer when they are right. Without credentials
/// (`None`) only the caller's own row is asked for, to learn whether anonymous reads are refused.
pub fn identity(service_user: Option<&str>) -> FactQuery {
    let own_row = Query::new().eq("sys_id", "javascript:gs.getUserID()");
    let (query, limit) = match service_user {
        Some(name) => (own_row.new_query().eq("user_name", name).build(), 2),
        None => (own_row.build(), 1),
    };
    FactQuery {
        table: "sys_user",
        request: ListRequest::new()
            .query(query)
            .fields(&USER_FIELDS)
            .limit(limit)
            .exclude_reference_link(true),
    }
}

/// The service user's row alone: read again after a refused token, for its failed-login count.
pub fn service_user_row(username: &str) -> FactQuery {
    FactQuery {
        table: "sys_user",
        request: ListRequest::new()
            .query(Query::new().eq("user_name", username).build())
            .fields(&USER_FIELDS)
            .limit(1)
            .exclude_reference_link(true),
    }
}

/// The incident.io app as installed from the Store.
pub fn store_app() -> FactQuery {
    list(
        "sys_store_app",
        Query::new().eq("scope", APP_SCOPE).build(),
        &[
            "sys_id",
            "name",
            "scope",
            "version",
            "active",
            "update_available",
        ],
    )
}

/// The incident.io scope as a custom (non-Store) application, which verify reports apart.
pub fn custom_app() -> FactQuery {
    list(
        "sys_app",
        Query::new().eq("scope", APP_SCOPE).build(),
        &["sys_id", "name", "scope", "version", "active"],
    )
}

/// The OAuth registry entries named for incident.io.
/// With `client_id`, also the entry that holds that client id whatever its name (`^NQ`, an OR of
/// whole queries): the one the token request will be judged against.
pub fn oauth_entries(client_id: Option<&str>) -> FactQuery {
    let by_name = Query::new().eq("name", OAUTH_ENTRY_NAME);
    let query = match client_id {
        Some(id) => by_name.new_query().eq("client_id", id).build(),
        None => by_name.build(),
    };
    list(
        "oauth_entity",
        query,
        &[
            "sys_id",
            "name",
            "client_id",
            "active",
            "access_token_lifespan",
            "refresh_token_lifespan",
            "type",
            "sys_updated_by",
            "sys_updated_on",
        ],
    )
}

/// The auth scopes of those entries, dot-walked by the entry's name so that the query does not
/// wait for the entry's sys_id.
pub fn scope_mappings() -> FactQuery {
    list(
        "oauth_entity_auth_scope_mapping",
        Query::new()
            .eq("oauth_entity.name", OAUTH_ENTRY_NAME)
            .build(),
        &["sys_id", "oauth_entity", "auth_scope", "auth_scope.name"],
    )
}

/// The `useraccount` auth scope, whose sys_id a new scope mapping points at.
pub fn auth_scope() -> FactQuery {
    list(
        "sys_auth_scope",
        Query::new().eq("name", AUTH_SCOPE).build(),
        &["sys_id", "name"],
    )
}

/// The instance-wide OAuth switches.
pub fn oauth_properties() -> FactQuery {
    list(
        "sys_properties",
        Query::new().is_in("name", &OAUTH_PROPERTIES).build(),
        &["name", "value"],
    )
}

/// `username`'s grants of the roles that matter, dot-walked by user and role name so that the
/// query does not wait for either sys_id.
/// The service user's grants of the roles that matter, and of every privileged role (for the
/// posture check's least-privilege warning): `admin`, `security_admin`, `impersonator` and any
/// `*_admin`.
pub fn held_roles(username: &str) -> FactQuery {
    let mut names = all_role_names();
    for role in PRIVILEGED_ROLES {
        if !names.contains(&role) {
            names.push(role);
        }
    }
    list(
        "sys_user_has_role",
        Query::new()
            .eq("user.user_name", username)
            .is_in("role.name", &names)
            .or_ends_with("role.name", "_admin")
            .build(),
        &["role", "role.name", "inherited", "state"],
    )
}

/// The active REST API access policies on the Table API (`sys_api_access_policy`, fields as a
/// harvested dictionary shows them [seen in code]; the UI is System Web Services > REST API
/// Access Policies [documented] `create-api-access-policy.md`).
pub fn api_access_policies() -> FactQuery {
    list(
        "sys_api_access_policy",
        Query::new()
            .eq("active", "true")
            .starts_with("api_path", "now/table")
            .build(),
        &[
            "sys_id",
            "name",
            "api_path",
            "apply_all_tables",
            "api_tablename",
            "http_method",
            "apply_all_methods",
        ],
    )
}

/// The active IP address access rules (`ip_access` [documented]
/// `sc-restrict-access-to-specific-ip-ranges-plugin.md`; its fields, from the form labels Type,
/// Direction, Active, Range Start, Range End [documented] `t_AccessControl.md`, are
/// [inferred] to be `type`, `direction`, `active`, `range_start`, `range_end`).
pub fn ip_rules() -> FactQuery {
    list(
        "ip_access",
        Query::new().eq("active", "true").build(),
        &[
            "sys_id",
            "type",
            "direction",
            "range_start",
            "range_end",
            "description",
        ],
    )
}

/// The clone data preservers of the two records a clone from production would overwrite
/// (`clone_data_preserver` with `table` and `condition` [seen in code]).
pub fn clone_preservers() -> FactQuery {
    list(
        "clone_data_preserver",
        Query::new()
            .is_in("table", &["oauth_entity", "sys_user"])
            .build(),
        &["sys_id", "name", "table", "condition"],
    )
}

/// The roles that matter, as they exist on the instance (a missing one is simply not listed).
pub fn roles() -> FactQuery {
    list(
        "sys_user_role",
        Query::new().is_in("name", &all_role_names()).build(),
        &["sys_id", "name"],
    )
}

/// The record ACLs on `task` for the operations incident.io performs.
pub fn task_acls() -> FactQuery {
    list(
        "sys_security_acl",
        Query::new()
            .eq("name", ACL_TABLE)
            .eq("type", "record")
            .is_in("operation", &ACL_OPERATIONS)
            .build(),
        &[
            "sys_id",
            "name",
            "operation",
            "type",
            "active",
            "admin_overrides",
            "decision_type",
            "sys_scope",
            "sys_scope.scope",
            "sys_updated_by",
            "sys_updated_on",
        ],
    )
}

/// The roles those ACLs require, dot-walked to the ACL so that the query does not wait for the
/// ACLs' sys_ids.
pub fn task_acl_roles() -> FactQuery {
    list(
        "sys_security_acl_role",
        Query::new()
            .eq("sys_security_acl.name", ACL_TABLE)
            .eq("sys_security_acl.type", "record")
            .build(),
        &[
            "sys_id",
            "sys_security_acl",
            "sys_user_role",
            "sys_user_role.name",
        ],
    )
}

/// Sends `query` when `needed`, and measures it; `None` when it was not sent.
///
/// Callers put every query of a round trip into one `tokio::join!`, each behind its own
/// condition, so that nothing waits for anything else and an unneeded query costs no request.
pub async fn fetch_if(
    session: &Session,
    needed: bool,
    query: &FactQuery,
) -> Option<(Result<Page, SnError>, Duration)> {
    if !needed {
        return None;
    }
    let start = Instant::now();
    let result = session.list(query.table, &query.request).await;
    Some((result, start.elapsed()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_queries_are_bounded_and_skip_reference_links() {
        for q in [
            store_app(),
            custom_app(),
            oauth_entries(Some("cid")),
            scope_mappings(),
            auth_scope(),
            oauth_properties(),
            held_roles("incident.io"),
            roles(),
            task_acls(),
            task_acl_roles(),
        ] {
            assert_eq!(q.request.limit, Some(LIST_LIMIT), "{}", q.table);
            assert!(q.request.exclude_reference_link, "{}", q.table);
            assert!(q.request.query.is_some(), "{}", q.table);
            assert!(!q.request.fields.is_empty(), "{}", q.table);
        }
    }

    #[test]
    fn the_identity_request_asks_for_the_service_user_only_when_signed_in() {
        let signed_in = identity(Some("incident.io"));
        assert_eq!(signed_in.table, "sys_user");
        assert_eq!(signed_in.request.limit, Some(2));
        assert_eq!(
            signed_in.request.query.as_deref(),
            Some("sys_id=javascript:gs.getUserID()^NQuser_name=incident.io")
        );
        let anonymous = identity(None);
        assert_eq!(anonymous.request.limit, Some(1));
        assert_eq!(
            anonymous.request.query.as_deref(),
            Some("sys_id=javascript:gs.getUserID()")
        );
        assert_eq!(anonymous.request.fields, signed_in.request.fields);
    }

    #[test]
    fn role_queries_are_dot_walked_by_name() {
        let held = held_roles("svc^x");
        let query = held.request.query.unwrap();
        // A user name cannot break out of its condition.
        assert!(
            query.starts_with("user.user_name=svc^^x^role.nameIN"),
            "{query}"
        );
        for role in all_role_names() {
            assert!(query.contains(role), "{role} missing from {query}");
        }
        assert!(held.request.fields.iter().any(|f| f == "role.name"));
    }
}
