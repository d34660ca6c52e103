//! The setup steps a person does in ServiceNow, in order, and the short instructions for each.
//!
//! The texts are written for someone who has never done this: what the step is for in one line,
//! then what to click, with links that open the right page of their own instance. Names and
//! values come from [`crate::requirements`], so the instructions and the checks cannot disagree.

use crate::instance::Instance;
use crate::model::{CheckId, SetupPath};
use crate::requirements::{
    roles_for, ACL_OPERATIONS, ACL_TABLE, APP_ROLE, APP_SCOPE, AUTH_SCOPE, OAUTH_ENTRY_NAME,
    STORE_URL,
};

/// The steps of a path, in the order they are done. `connect` follows them all.
pub fn steps(path: SetupPath) -> &'static [CheckId] {
    match path {
        SetupPath::App => &[
            CheckId::App,
            CheckId::OauthApp,
            CheckId::ServiceUser,
            CheckId::Roles,
            CheckId::TaskAcls,
        ],
        // The ACLs are covered by admin; the app is optional (it only makes back-sync real-time).
        SetupPath::Admin => &[
            CheckId::App,
            CheckId::OauthApp,
            CheckId::ServiceUser,
            CheckId::Roles,
        ],
    }
}

/// What a step is called in its heading.
pub fn heading(step: CheckId, path: SetupPath) -> &'static str {
    match (step, path) {
        (CheckId::App, SetupPath::App) => "Install the incident.io app",
        (CheckId::App, SetupPath::Admin) => "The incident.io app (optional on the admin path)",
        (CheckId::OauthApp, _) => "Create the OAuth application",
        (CheckId::ServiceUser, _) => "Create the service user",
        (CheckId::Roles, _) => "Give the service user its roles",
        (CheckId::TaskAcls, _) => "Let the app's role work on task records",
        (CheckId::Posture, _) => "Nothing that breaks it later",
        (CheckId::Connect, _) => "Connect as incident.io",
        (CheckId::Instance, _) => "The instance",
    }
}

/// Encodes a query for a list link (`=` and `^` must not be read as URL syntax).
fn q(query: &str) -> String {
    url::form_urlencoded::byte_serialize(query.as_bytes()).collect()
}

/// The instructions of one step, as lines ready to print (no trailing newline).
pub fn instructions(step: CheckId, path: SetupPath, instance: &Instance, username: &str) -> String {
    let ui = |p: &str| instance.ui_url(p);
    let lines: Vec<String> = match step {
        CheckId::App => {
            let installed = ui(&format!(
                "sys_store_app_list.do?sysparm_query={}",
                q(&format!("scope={APP_SCOPE}"))
            ));
            let mut l = match path {
                SetupPath::App => vec![
                    "The incident.io app sends changes made in ServiceNow to incident.io as they \
                     happen, and brings the role the service user will hold."
                        .to_string(),
                ],
                SetupPath::Admin => vec![
                    "On the admin path the app is optional: without it, changes made in \
                     ServiceNow reach incident.io later rather than at once. Install it if you \
                     want that, or skip this step."
                        .to_string(),
                ],
            };
            l.push(format!(
                "  1. Open the app's page on the ServiceNow Store and install it on this \
                 instance:\n     {STORE_URL}"
            ));
            l.push(format!(
                "  2. When it is installed it is listed with scope {APP_SCOPE} here:\n     \
                 {installed}"
            ));
            l
        }
        CheckId::OauthApp => vec![
            "incident.io signs in with an OAuth client of its own, using the user name and \
             password of the service user (the password grant)."
                .to_string(),
            format!(
                "  1. Open System OAuth > Application Registry and click New:\n     {}",
                ui("oauth_entity_list.do")
            ),
            "  2. Pick the new inbound integration experience, then New integration, then \
             \"OAuth - Resource owner password credential grant\"."
                .to_string(),
            format!(
                "  3. Name it exactly {OAUTH_ENTRY_NAME} and add the auth scope {AUTH_SCOPE}; \
                 keep every other default and save."
            ),
            "  4. Open the new entry and copy its Client ID and Client Secret: snconnect asks \
             for both when you check this step."
                .to_string(),
        ],
        CheckId::ServiceUser => vec![
            "incident.io works in ServiceNow as one user of its own; everything it does shows \
             under that user's name, so use it for nothing else."
                .to_string(),
            format!(
                "  1. Open User Administration > Users and click New:\n     {}",
                ui("sys_user.do?sys_id=-1")
            ),
            format!(
                "  2. User ID: {username} (another name works too: give it when you check), \
                 plus an email address."
            ),
            "  3. Tick Active, leave Locked out and Password needs reset unticked, set \
             Identity type to Machine, and submit."
                .to_string(),
            "  4. Open the user again, use Set Password to generate one, save it, and keep a \
             copy: snconnect asks for it when you check this step."
                .to_string(),
        ],
        CheckId::Roles => {
            let roles = roles_for(path).join(", ");
            let why = match path {
                SetupPath::App => format!(
                    "The service user needs {roles}: the app's API role, read access to the \
                     CMDB and to users and groups, and the right to work on incidents."
                ),
                SetupPath::Admin => "On the admin path the service user holds admin, which \
                     covers everything incident.io does (and everything else on the instance)."
                    .to_string(),
            };
            vec![
                why,
                format!(
                    "  1. Open the service user:\n     {}",
                    ui(&format!(
                        "sys_user_list.do?sysparm_query={}",
                        q(&format!("user_name={username}"))
                    ))
                ),
                format!(
                    "  2. In the Roles list at the bottom click Edit..., add {roles}, and save."
                ),
            ]
        }
        CheckId::TaskAcls => {
            let ops = ACL_OPERATIONS.join(", ");
            vec![
                format!(
                    "incident.io reads, creates and updates follow-ups as {ACL_TABLE} records, \
                     and the app's role does not reach that table on its own: three ACLs \
                     ({ops}) give it that access."
                ),
                "  1. Elevate to security_admin: your profile menu > Elevate role > \
                 security_admin > Update."
                    .to_string(),
                format!(
                    "  2. Open System Security > Access Control (ACL) and click New:\n     {}",
                    ui("sys_security_acl.do?sys_id=-1")
                ),
                format!(
                    "  3. Type record, Operation read, Application Global, Active ticked, \
                     Decision type Allow If, Admin overrides ticked, Name {ACL_TABLE} (leave the \
                     field next to it at -- None --). Submit, pick the role {APP_ROLE} when \
                     asked, then OK and Update."
                ),
                format!(
                    "  4. Do the same for create and for write. The {ACL_TABLE} ACLs so far:\n     {}",
                    ui(&format!(
                        "sys_security_acl_list.do?sysparm_query={}",
                        q(&format!("name={ACL_TABLE}"))
                    ))
                ),
            ]
        }
        CheckId::Connect => vec![
            "Last, snconnect asks the instance for a token exactly as incident.io will, then \
             reads the tables incident.io uses as the service user."
                .to_string(),
        ],
        // Not a setup step: the hardening it checks has nothing to click through in order.
        CheckId::Posture => vec![
            "snconnect also looks for what breaks a working integration later: privileges the \
             service user does not need, a UI login it should not have, API access policies, IP \
             rules and clone preservers."
                .to_string(),
        ],
        CheckId::Instance => vec![],
    };
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acme() -> Instance {
        Instance::parse("acme").unwrap()
    }

    #[test]
    fn the_admin_path_has_no_acl_step() {
        assert!(steps(SetupPath::App).contains(&CheckId::TaskAcls));
        assert!(!steps(SetupPath::Admin).contains(&CheckId::TaskAcls));
        assert_eq!(steps(SetupPath::Admin)[0], CheckId::App);
    }

    #[test]
    fn every_step_has_instructions_that_link_into_the_instance() {
        for path in [SetupPath::App, SetupPath::Admin] {
            for step in steps(path) {
                let text = instructions(*step, path, &acme(), "incident.io");
                assert!(
                    text.contains("https://acme.service-now.com/"),
                    "{step:?}: {text}"
                );
            }
        }
    }

    #[test]
    fn instructions_name_the_values_the_checks_expect() {
        let oauth = instructions(CheckId::OauthApp, SetupPath::App, &acme(), "incident.io");
        assert!(oauth.contains("incident.io") && oauth.contains("useraccount"));
        let roles = instructions(CheckId::Roles, SetupPath::App, &acme(), "svc");
        for role in roles_for(SetupPath::App) {
            assert!(roles.contains(role), "{role}");
        }
        assert!(roles.contains("user_name%3Dsvc"), "{roles}");
        let admin_roles = instructions(CheckId::Roles, SetupPath::Admin, &acme(), "svc");
        assert!(admin_roles.contains("admin"));
        let acls = instructions(CheckId::TaskAcls, SetupPath::App, &acme(), "svc");
        assert!(acls.contains("x_incident_io.api_user") && acls.contains("security_admin"));
    }
}
