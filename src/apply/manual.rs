//! What `apply` cannot do over the REST API, written as steps a person can follow, each with a
//! link to the exact page where it is done.
//!
//! Two things are out of reach by design of the platform: installing a Store app (the Table API
//! can only add a row that claims an app is installed, which installs nothing), and writing ACLs
//! (ServiceNow requires `security_admin` elevation, which lives in an interactive UI session and
//! which a REST session cannot carry). For an ACL the link opens the new-ACL form with its fields
//! already filled in, so the by-hand step is: elevate, open, check, save, add the role.

use serde::Serialize;

use crate::checks::{FindingCode, Links};
use crate::model::CheckId;
use crate::requirements::{
    AclSpec, ACL_TABLE, APP_ROLE, APP_SCOPE, AUTH_SCOPE, OAUTH_ENTRY_NAME, STORE_URL,
};

/// One thing to do by hand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ManualStep {
    pub check: CheckId,
    /// The finding this answers.
    pub code: FindingCode,
    /// One line: what is to be done.
    pub title: String,
    /// How, in order.
    pub instructions: String,
    /// Where: the form, list or Store page to open.
    pub link: Option<String>,
}

/// The Store app is missing or inactive.
pub fn install_app(code: FindingCode, inactive_record: Option<&str>, links: &Links) -> ManualStep {
    match inactive_record {
        Some(sys_id) => ManualStep {
            check: CheckId::App,
            code,
            title: format!("activate the incident.io app (scope {APP_SCOPE})"),
            instructions: "open the app's record and make it active (System Applications > All \
                           Available Applications), then run snconnect apply again"
                .to_string(),
            link: Some(links.record("sys_store_app", sys_id)),
        },
        None => ManualStep {
            check: CheckId::App,
            code,
            title: format!(
                "install the incident.io app (scope {APP_SCOPE}) from the ServiceNow Store"
            ),
            instructions: "the Table API cannot install Store apps: open the Store listing, get \
                           the app for this instance and install it (System Applications > All \
                           Available Applications), then run snconnect apply again to grant its \
                           role and create the ACLs that need it"
                .to_string(),
            link: Some(STORE_URL.to_string()),
        },
    }
}

/// The app's role does not exist, so it cannot be granted yet.
pub fn app_role_absent(what: &str) -> ManualStep {
    ManualStep {
        check: CheckId::Roles,
        code: FindingCode::RolesAppRoleAbsent,
        title: format!("{what} after installing the incident.io app"),
        instructions: format!(
            "role {APP_ROLE} comes with the incident.io Store app and does not exist on this \
             instance yet; install the app, then run snconnect apply again"
        ),
        link: Some(STORE_URL.to_string()),
    }
}

/// A role other than the app's does not exist on the instance.
pub fn role_absent(role: &str, links: &Links) -> ManualStep {
    ManualStep {
        check: CheckId::Roles,
        code: FindingCode::RolesMissing,
        title: format!("grant role '{role}' once it exists"),
        instructions: format!(
            "role '{role}' does not exist on this instance, so it cannot be granted; the plugin \
             or app that provides it may be missing (for sn_cmdb_user: CMDB Workspace)"
        ),
        link: Some(links.list("sys_user_role", &format!("name={role}"))),
    }
}

/// The encoded query that prefills the new-ACL form with an ACL of the spec.
pub fn acl_form_query(spec: &AclSpec) -> String {
    format!(
        "name={}^type={}^operation={}^decision_type={}^admin_overrides={}^active=true^sys_scope={}",
        spec.table,
        spec.acl_type,
        spec.operation,
        spec.decision_type,
        spec.admin_overrides,
        spec.scope
    )
}

/// Creating one task ACL by hand, with the form prefilled.
pub fn create_acl(spec: &AclSpec, links: &Links) -> ManualStep {
    ManualStep {
        check: CheckId::TaskAcls,
        code: FindingCode::AclMissing,
        title: format!(
            "create the {} ACL on {} requiring {}",
            spec.operation, spec.table, spec.role
        ),
        instructions: format!(
            "elevate to security_admin (user menu > Elevate role), open the link: a new ACL form \
             with Type {}, Operation {}, Name {} (field -- None --), Decision Type Allow If, Admin \
             overrides and Active ticked; check that Application shows Global, save, then in \
             Requires role add {} and save again",
            spec.acl_type, spec.operation, spec.table, spec.role
        ),
        link: Some(links.new_record("sys_security_acl", &acl_form_query(spec))),
    }
}

/// Creating a task ACL by hand once the app (and so its role) is installed.
pub fn create_acl_after_app(spec: &AclSpec, links: &Links) -> ManualStep {
    let mut step = create_acl(spec, links);
    step.instructions = format!(
        "first install the incident.io app: the role {} comes with it and does not exist yet \
         (snconnect apply can then try to create this ACL itself). By hand: {}",
        spec.role, step.instructions
    );
    step
}

/// Finishing an existing task ACL by hand (role link, activation, decision type).
pub fn repair_acl(spec: &AclSpec, sys_id: &str, what: &str, links: &Links) -> ManualStep {
    ManualStep {
        check: CheckId::TaskAcls,
        code: FindingCode::AclMissing,
        title: format!("finish the {} ACL on {}", spec.operation, spec.table),
        instructions: format!(
            "elevate to security_admin (user menu > Elevate role), open the ACL and {what}; it \
             must be active, Allow If, and require {}",
            spec.role
        ),
        link: Some(links.record("sys_security_acl", sys_id)),
    }
}

/// The ACLs could not be read, so apply cannot tell which exist.
pub fn acls_unreadable(links: &Links) -> ManualStep {
    ManualStep {
        check: CheckId::TaskAcls,
        code: FindingCode::AclCannotSee,
        title: format!("check the ACLs on {ACL_TABLE} by hand"),
        instructions: format!(
            "the admin account cannot read the ACLs on {ACL_TABLE} (they often need security_admin \
             even to read), so apply does not create any: that could duplicate hidden ones. \
             Elevate to security_admin and make sure read, create and write record ACLs exist, \
             Allow If, active, each requiring {APP_ROLE}"
        ),
        link: Some(links.list("sys_security_acl", &format!("name={ACL_TABLE}^type=record"))),
    }
}

/// A system property that blocks the password grant.
pub fn property(name: &str, want: &str, code: FindingCode, links: &Links) -> ManualStep {
    ManualStep {
        check: CheckId::OauthApp,
        code,
        title: format!("set system property {name} to {want}"),
        instructions: format!(
            "apply does not change instance-wide security properties: this one is often set on \
             purpose by hardening. If incident.io is to connect with the password grant, set \
             {name} to {want} (System Properties), then run snconnect verify"
        ),
        link: Some(links.list("sys_properties", &format!("name={name}"))),
    }
}

/// More than one active entry named incident.io: which one incident.io uses is ambiguous.
pub fn duplicate_entries(links: &Links) -> ManualStep {
    ManualStep {
        check: CheckId::OauthApp,
        code: FindingCode::OauthDuplicate,
        title: format!("keep one OAuth entry named '{OAUTH_ENTRY_NAME}'"),
        instructions: "several active entries share the name; apply never deletes or renames \
                       records, so rename or deactivate all but the one whose client id \
                       incident.io uses, then run snconnect apply again"
            .to_string(),
        link: Some(links.list("oauth_entity", &format!("name={OAUTH_ENTRY_NAME}"))),
    }
}

/// No `useraccount` auth scope record exists to map the entry to.
pub fn no_useraccount_scope(links: &Links) -> ManualStep {
    ManualStep {
        check: CheckId::OauthApp,
        code: FindingCode::OauthScopeMissing,
        title: format!("add the '{AUTH_SCOPE}' auth scope to the OAuth entry"),
        instructions: format!(
            "no auth scope named '{AUTH_SCOPE}' was found on the instance, so apply cannot link \
             it; open the entry and add {AUTH_SCOPE} under Auth Scopes"
        ),
        link: Some(links.list("oauth_entity", &format!("name={OAUTH_ENTRY_NAME}"))),
    }
}

/// A lookup apply depends on could not be made, so it plans nothing for that part.
pub fn unreadable(check: CheckId, code: FindingCode, what: &str, link: String) -> ManualStep {
    ManualStep {
        check,
        code,
        title: format!("check {what} by hand"),
        instructions: format!(
            "the admin account cannot read {what}, so apply creates nothing there (it could \
             duplicate a record it cannot see); run with an admin who can read it, or check it at \
             the link"
        ),
        link: Some(link),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::requirements::task_acls;

    #[test]
    fn the_acl_link_opens_a_new_form_prefilled_with_the_spec() {
        let links = Links::new("https://acme.service-now.com");
        let step = create_acl(&task_acls()[1], &links);
        let link = step.link.unwrap();
        assert!(
            link.starts_with(
                "https://acme.service-now.com/sys_security_acl.do?sys_id=-1&sysparm_query="
            ),
            "{link}"
        );
        let query = link.split("sysparm_query=").nth(1).unwrap();
        let decoded: String = url::form_urlencoded::parse(format!("q={query}").as_bytes())
            .next()
            .unwrap()
            .1
            .into_owned();
        assert_eq!(
            decoded,
            "name=task^type=record^operation=create^decision_type=allow^admin_overrides=true^active=true^sys_scope=global"
        );
        assert!(step.instructions.contains("x_incident_io.api_user"));
        assert!(step.instructions.contains("security_admin"));
    }

    #[test]
    fn the_store_step_links_the_listing() {
        let links = Links::new("https://acme.service-now.com");
        let s = install_app(FindingCode::AppNotInstalled, None, &links);
        assert_eq!(s.link.as_deref(), Some(STORE_URL));
        let s = install_app(FindingCode::AppInactive, Some("abc"), &links);
        assert_eq!(
            s.link.as_deref(),
            Some("https://acme.service-now.com/sys_store_app.do?sys_id=abc")
        );
    }
}
