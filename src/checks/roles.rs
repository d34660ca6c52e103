//! `roles`: the service user holds every role its path needs.
//!
//! `sys_user_has_role` materialises inherited roles (through groups and contained roles) as rows,
//! so one dot-walked query by user name sees them all. `admin` satisfies every role, and a user who
//! only holds `admin` has no rows for the others, so it is checked first.

use crate::servicenow::fields;
use std::collections::BTreeSet;

use super::{unusable, Context, Finding, FindingCode, Lookup, Verdict};
use crate::model::SetupPath;
use crate::requirements::{all_role_names, roles_for, ADMIN_ROLE, APP_ROLE, STORE_URL};

/// What the `service_user` lookup established about the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserState {
    Found {
        sys_id: String,
    },
    Missing,
    /// Hidden, refused or failed: the user's existence is not known.
    Unknown,
}

/// One `sys_user_has_role` row of the user.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct HeldRole {
    #[serde(rename = "role.name", deserialize_with = "fields::text")]
    pub name: String,
    #[serde(default, deserialize_with = "fields::truthy")]
    pub inherited: bool,
    /// `state`; `None` or `active` counts as held (other states are requests or removals).
    #[serde(default, deserialize_with = "fields::opt_text")]
    pub state: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub user: UserState,
    /// `sys_user_has_role?user.user_name=<u>^role.nameIN<required roles, admin>`
    pub held: Lookup<HeldRole>,
    /// `sys_user_role?nameIN<required roles, admin>`: which of the roles exist at all.
    pub existing: Lookup<String>,
}

pub fn held_query(username: &str) -> String {
    format!(
        "user.user_name={username}^role.nameIN{}",
        all_role_names().join(",")
    )
}

pub fn existing_query() -> String {
    format!("nameIN{}", all_role_names().join(","))
}

/// The role names the user holds, counting only active grants.
pub fn held_names(held: &[HeldRole]) -> BTreeSet<&str> {
    held.iter()
        .filter(|r| {
            r.state
                .as_deref()
                .is_none_or(|s| s.is_empty() || s == "active")
        })
        .map(|r| r.name.as_str())
        .collect()
}

/// True when the facts show the user holds `admin` (which makes the task ACLs unnecessary).
pub fn holds_admin(facts: &Facts) -> bool {
    facts
        .held
        .rows()
        .is_some_and(|rows| held_names(rows).contains(ADMIN_ROLE))
}

pub fn evaluate(facts: &Facts, ctx: &Context) -> Verdict {
    let name = &ctx.username;
    let user_link = match &facts.user {
        UserState::Found { sys_id } => ctx.links.record("sys_user", sys_id),
        UserState::Missing => {
            return Verdict::skip(Finding::note(
                FindingCode::RolesNoUser,
                format!("user '{name}' does not exist, so it holds no roles (see service_user)"),
            ))
        }
        // The user's own row is hidden from the admin, but its role rows came back (they are
        // dot-walked by user name, so they do not need the row): judge the roles from them.
        UserState::Unknown if facts.held.rows().is_some_and(|rows| !rows.is_empty()) => ctx
            .links
            .list("sys_user", &format!("user_name={name}")),
        UserState::Unknown => {
            return Verdict::skip(Finding::note(
                FindingCode::RolesNoUser,
                format!("user '{name}' could not be read, so its roles cannot be checked (see service_user)"),
            ))
        }
    };
    let list = ctx.links.list("sys_user_has_role", &held_query(name));
    if let Some(f) = unusable(
        &facts.held,
        &format!("the roles of user '{name}' (sys_user_has_role)"),
        FindingCode::RolesCannotSee,
        FindingCode::RolesQueryFailed,
        list,
    ) {
        return Verdict::from_findings(vec![f]);
    }
    let held = held_names(facts.held.rows().unwrap_or_default());
    if held.contains(ADMIN_ROLE) {
        let mut findings = Vec::new();
        if ctx.path == SetupPath::App {
            findings.push(
                Finding::note(
                    FindingCode::RolesAdminSatisfies,
                    format!(
                        "user '{name}' holds admin, which satisfies every role; the app path needs \
                         only the four documented roles"
                    ),
                )
                .link(user_link),
            );
        }
        return Verdict::from_findings(findings);
    }

    let existing: Option<BTreeSet<&str>> = facts
        .existing
        .rows()
        .map(|rows| rows.iter().map(String::as_str).collect());
    let mut findings = Vec::new();
    for role in roles_for(ctx.path) {
        if held.contains(role) {
            continue;
        }
        let absent = existing.as_ref().is_some_and(|e| !e.contains(role));
        if *role == APP_ROLE && absent {
            findings.push(
                Finding::error(
                    FindingCode::RolesAppRoleAbsent,
                    format!(
                        "role '{APP_ROLE}' does not exist on the instance: the incident.io app \
                         is not installed, and user '{name}' cannot be given the role"
                    ),
                )
                .fix("install the incident.io app from the ServiceNow Store, then grant the role")
                .link(STORE_URL),
            );
            continue;
        }
        findings.push(
            Finding::error(
                FindingCode::RolesMissing,
                format!("user '{name}' does not hold role '{role}'"),
            )
            .fix(format!(
                "add '{role}' on the user's Roles tab (directly or through a group)"
            ))
            .link(user_link.clone()),
        );
    }
    Verdict::from_findings(findings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::*;
    use crate::checks::Status;

    fn role(name: &str, inherited: bool) -> HeldRole {
        HeldRole {
            name: name.into(),
            inherited,
            state: Some("active".into()),
        }
    }

    fn all_exist() -> Lookup<String> {
        Lookup::Rows(all_role_names().iter().map(|s| s.to_string()).collect())
    }

    fn facts(held: Vec<HeldRole>) -> Facts {
        Facts {
            user: UserState::Found {
                sys_id: "u1".into(),
            },
            held: Lookup::Rows(held),
            existing: all_exist(),
        }
    }

    fn app_roles() -> Vec<HeldRole> {
        roles_for(SetupPath::App)
            .iter()
            .map(|r| role(r, false))
            .collect()
    }

    #[test]
    fn table() {
        use FindingCode as C;
        let mut one_inherited = app_roles();
        one_inherited[1].inherited = true;
        let mut requested = app_roles();
        requested[3].state = Some("requested".into());
        let cases: Vec<(&str, SetupPath, Facts, Status, Vec<FindingCode>)> = vec![
            (
                "all four held",
                SetupPath::App,
                facts(app_roles()),
                Status::Pass,
                vec![],
            ),
            (
                "inherited roles count",
                SetupPath::App,
                facts(one_inherited),
                Status::Pass,
                vec![],
            ),
            (
                "admin satisfies the app path, with a note",
                SetupPath::App,
                facts(vec![role("admin", false)]),
                Status::Pass,
                vec![C::RolesAdminSatisfies],
            ),
            (
                "admin path with admin",
                SetupPath::Admin,
                facts(vec![role("admin", true)]),
                Status::Pass,
                vec![],
            ),
            (
                "admin path without admin",
                SetupPath::Admin,
                facts(app_roles()),
                Status::Fail,
                vec![C::RolesMissing],
            ),
            (
                "each missing role is named",
                SetupPath::App,
                facts(vec![role("cmdb_read", false)]),
                Status::Fail,
                vec![C::RolesMissing, C::RolesMissing, C::RolesMissing],
            ),
            (
                "a grant that is not active does not count",
                SetupPath::App,
                facts(requested),
                Status::Fail,
                vec![C::RolesMissing],
            ),
            (
                "the app role not existing means the app is missing",
                SetupPath::App,
                Facts {
                    existing: Lookup::Rows(vec![
                        "cmdb_read".into(),
                        "sn_cmdb_user".into(),
                        "incident_manager".into(),
                    ]),
                    ..facts(vec![
                        role("cmdb_read", false),
                        role("sn_cmdb_user", false),
                        role("incident_manager", false),
                    ])
                },
                Status::Fail,
                vec![C::RolesAppRoleAbsent],
            ),
            (
                "role existence unknown: plain missing",
                SetupPath::App,
                Facts {
                    existing: Lookup::Hidden { total: 5 },
                    ..facts(vec![
                        role("cmdb_read", false),
                        role("sn_cmdb_user", false),
                        role("incident_manager", false),
                    ])
                },
                Status::Fail,
                vec![C::RolesMissing],
            ),
            (
                "no user: skip",
                SetupPath::App,
                Facts {
                    user: UserState::Missing,
                    ..facts(vec![])
                },
                Status::Skip,
                vec![C::RolesNoUser],
            ),
            (
                "user unknown and no role rows: skip",
                SetupPath::App,
                Facts {
                    user: UserState::Unknown,
                    ..facts(vec![])
                },
                Status::Skip,
                vec![C::RolesNoUser],
            ),
            (
                "user row hidden, role rows back: judged from them",
                SetupPath::App,
                Facts {
                    user: UserState::Unknown,
                    ..facts(app_roles())
                },
                Status::Pass,
                vec![],
            ),
            (
                "role rows hidden",
                SetupPath::App,
                Facts {
                    held: Lookup::Hidden { total: 4 },
                    ..facts(vec![])
                },
                Status::Warn,
                vec![C::RolesCannotSee],
            ),
        ];
        for (name, path, facts, status, want) in cases {
            let v = evaluate(&facts, &ctx(path));
            assert_eq!(v.status, status, "{name}");
            assert_eq!(codes(&v), want, "{name}");
            assert_actionable(&v);
        }
    }

    #[test]
    fn missing_roles_are_named_in_order() {
        let v = evaluate(&facts(vec![role("cmdb_read", false)]), &ctx(SetupPath::App));
        let names: Vec<&str> = v.findings.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(
            names,
            [
                "user 'incident.io' does not hold role 'x_incident_io.api_user'",
                "user 'incident.io' does not hold role 'sn_cmdb_user'",
                "user 'incident.io' does not hold role 'incident_manager'",
            ]
        );
    }

    #[test]
    fn holds_admin_reads_active_grants_only() {
        assert!(holds_admin(&facts(vec![role("admin", true)])));
        let mut revoked = role("admin", false);
        revoked.state = Some("pending".into());
        assert!(!holds_admin(&facts(vec![revoked])));
        assert!(!holds_admin(&facts(app_roles())));
    }
}
