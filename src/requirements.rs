//! What incident.io needs from a ServiceNow instance, as data, in one place.
//!
//! The checks, the plan that `apply` builds and the help texts all read these values, so a change
//! to incident.io's documented setup is a change to this file only. Nothing here does I/O.

use crate::model::SetupPath;

/// Scope of the incident.io Store app; its tables and roles are prefixed with it.
pub const APP_SCOPE: &str = "x_incident_io";

/// The role the Store app ships; on the app path the service user and the task ACLs need it.
pub const APP_ROLE: &str = "x_incident_io.api_user";

/// The role that satisfies every other role and needs no ACLs (the `admin` path).
pub const ADMIN_ROLE: &str = "admin";

/// Name of the OAuth application registry entry incident.io's guide asks for.
pub const OAUTH_ENTRY_NAME: &str = "incident.io";

/// The auth scope that gives a token the same rights as the user who minted it.
pub const AUTH_SCOPE: &str = "useraccount";

/// The service user's name when none is given.
pub const DEFAULT_USERNAME: &str = "incident.io";

/// Where the Store app is installed from.
pub const STORE_URL: &str =
    "https://store.servicenow.com/store/app/2ee3e7b697a9cbd8fe857a121153af21";

/// incident.io's own guide to the ServiceNow integration.
pub const DOCS_URL: &str = "https://docs.incident.io/integrations/servicenow";

/// When `true`, the instance refuses the password (ROPC) grant that incident.io uses. Absent means
/// `false`; ServiceNow's hardening guide recommends turning it on, so it is worth checking.
pub const PROP_ROPC_DISABLED: &str = "glide.oauth.inbound.ropc.grant_type.disabled";

/// When `false`, the instance mints no OAuth tokens at all. Absent means `true`.
pub const PROP_OAUTH_ACTIVE: &str = "com.snc.platform.security.oauth.is.active";

/// Holds the sys_id of the `useraccount` auth scope when that record was re-created; the token
/// endpoint resolves the scope by this sys_id rather than by name.
pub const PROP_USERACCOUNT_SCOPE_ID: &str = "glide.oauth.token.scope.useraccount";

/// Every property the `oauth_app` check reads, in one `nameIN` query.
pub const OAUTH_PROPERTIES: [&str; 6] = [
    PROP_ROPC_DISABLED,
    PROP_OAUTH_ACTIVE,
    PROP_USERACCOUNT_SCOPE_ID,
    PROP_LOCKOUT_THRESHOLD,
    PROP_PRODUCTION,
    PROP_MFA_FOR_INTEGRATIONS,
];

/// `true` on a production instance, `false` on a sub-production one. [seen in code] Widely read
/// by public code for exactly this; one public design note says it is not set reliably, so an
/// absent value means "not known", never "production". Read with the OAuth switches.
pub const PROP_PRODUCTION: &str = "glide.installation.production";

/// When `true`, MFA-enrolled users need MFA for Basic-auth API logins too (facts sheet, section
/// 8). It does not reach the password grant incident.io uses. Read with the OAuth switches.
pub const PROP_MFA_FOR_INTEGRATIONS: &str = "glide.authenticate.multifactor.for_integrations";

/// Roles that let an account do far more than read and write incidents: a service user on the app
/// path should hold none of them (`admin` is what the admin path is about). Also any role whose
/// name ends in `_admin`.
pub const PRIVILEGED_ROLES: [&str; 3] = [ADMIN_ROLE, "security_admin", "impersonator"];

/// Whether `role` is privileged in the sense of [`PRIVILEGED_ROLES`].
pub fn is_privileged(role: &str) -> bool {
    PRIVILEGED_ROLES.contains(&role) || role.ends_with("_admin")
}

/// Failed logins after which ServiceNow sets `locked_out` (facts sheet, Corrections 7). Read with
/// the OAuth switches, in the same request.
pub const PROP_LOCKOUT_THRESHOLD: &str = "glide.user.max_unlock_attempts";

/// The threshold when the property is unset or unreadable: the platform's default.
pub const DEFAULT_LOCKOUT_THRESHOLD: u32 = 5;

/// The identity type the guide asks for on the service user (the stored choice value).
pub const MACHINE_IDENTITY: &str = "machine";

/// Failed logins at which `service_user` warns. ServiceNow's lockout threshold is set per
/// instance and is not readable over the Table API; warning at three leaves room for the one
/// attempt a run may cost under the common threshold of five.
pub const FAILED_ATTEMPTS_WARN: u64 = 3;

/// The tables incident.io reads as the service user; `connect` probes each with the token.
pub const TABLES_READ: [&str; 5] = ["incident", "task", "sys_user", "sys_user_group", "cmdb_ci"];

/// The roles the service user needs on a path. `admin` satisfies all of them on either path.
pub fn roles_for(path: SetupPath) -> &'static [&'static str] {
    match path {
        SetupPath::App => &[APP_ROLE, "cmdb_read", "sn_cmdb_user", "incident_manager"],
        SetupPath::Admin => &[ADMIN_ROLE],
    }
}

/// Every role name the checks look up: the app path's roles plus `admin`.
pub fn all_role_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = roles_for(SetupPath::App).to_vec();
    names.push(ADMIN_ROLE);
    names
}

/// One ACL the app path needs on `task`.
///
/// Stored values, not form labels: `decision_type` is `allow` for "Allow If", `operation` and
/// `type` reference records whose sys_ids are the words themselves, and the Global scope's sys_id
/// is `global`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AclSpec {
    pub table: &'static str,
    pub acl_type: &'static str,
    pub operation: &'static str,
    pub decision_type: &'static str,
    pub admin_overrides: bool,
    pub scope: &'static str,
    pub role: &'static str,
}

/// Table the three ACLs protect: incident.io files follow-ups as task records.
pub const ACL_TABLE: &str = "task";

/// Operations incident.io performs on `task`, in the order the guide creates them.
pub const ACL_OPERATIONS: [&str; 3] = ["read", "create", "write"];

/// The three task ACLs of the app path.
pub fn task_acls() -> [AclSpec; 3] {
    ACL_OPERATIONS.map(|operation| AclSpec {
        table: ACL_TABLE,
        acl_type: "record",
        operation,
        decision_type: "allow",
        admin_overrides: true,
        scope: "global",
        role: APP_ROLE,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_path_needs_the_four_documented_roles() {
        assert_eq!(
            roles_for(SetupPath::App),
            [
                "x_incident_io.api_user",
                "cmdb_read",
                "sn_cmdb_user",
                "incident_manager"
            ]
        );
        assert_eq!(roles_for(SetupPath::Admin), ["admin"]);
    }

    #[test]
    fn the_app_role_is_in_the_app_scope() {
        assert!(APP_ROLE.starts_with(&format!("{APP_SCOPE}.")));
    }

    #[test]
    fn task_acls_cover_read_create_write_with_the_app_role() {
        let acls = task_acls();
        let ops: Vec<&str> = acls.iter().map(|a| a.operation).collect();
        assert_eq!(ops, ["read", "create", "write"]);
        assert!(acls.iter().all(|a| a.table == "task"
            && a.role == APP_ROLE
            && a.decision_type == "allow"
            && a.admin_overrides
            && a.scope == "global"));
    }

    #[test]
    fn role_lookup_includes_admin_once() {
        let names = all_role_names();
        assert_eq!(names.iter().filter(|n| **n == ADMIN_ROLE).count(), 1);
        assert_eq!(names.len(), 5);
    }
}
