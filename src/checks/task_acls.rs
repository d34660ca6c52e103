//! `task_acls`: on the app path, active record ACLs on `task` for read, create and write, each
//! Allow If and requiring `x_incident_io.api_user`.
//!
//! Several ACLs may exist for one operation; the operation is satisfied when any one of them is
//! right. Only when none is right are the problems of each reported, so a stray inactive ACL next
//! to a good one is not noise. ACL rows are often invisible to a non-elevated admin: hidden rows
//! are reported as "cannot see", never as "missing".

use super::{join_names, unusable, Context, Finding, FindingCode, Lookup, Verdict};
use crate::model::SetupPath;
use crate::requirements::{ACL_OPERATIONS, ACL_TABLE, APP_ROLE};
use crate::servicenow::fields;

/// One `sys_security_acl` row on `task`.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Deserialize)]
pub struct Acl {
    #[serde(deserialize_with = "fields::text")]
    pub sys_id: String,
    #[serde(deserialize_with = "fields::text")]
    pub operation: String,
    #[serde(default, deserialize_with = "fields::flag")]
    pub active: Option<bool>,
    #[serde(default, deserialize_with = "fields::flag")]
    pub admin_overrides: Option<bool>,
    /// `allow` (Allow If) or `deny` (Deny Unless); absent means the default, `allow`.
    #[serde(default, deserialize_with = "fields::non_empty")]
    pub decision_type: Option<String>,
    /// sys_id of the application scope; Global is `global`.
    #[serde(rename = "sys_scope", default, deserialize_with = "fields::non_empty")]
    pub scope: Option<String>,
    /// The scope's name, dot-walked, for messages.
    #[serde(
        rename = "sys_scope.scope",
        default,
        deserialize_with = "fields::non_empty"
    )]
    pub scope_name: Option<String>,
    #[serde(default, flatten)]
    pub updated: crate::checks::Updated,
}

/// One `sys_security_acl_role` row: an ACL requiring a role.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct AclRole {
    /// sys_id of the ACL.
    #[serde(rename = "sys_security_acl", deserialize_with = "fields::text")]
    pub acl: String,
    /// The role's name, dot-walked.
    #[serde(
        rename = "sys_user_role.name",
        default,
        deserialize_with = "fields::opt_text"
    )]
    pub role: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// From the `roles` facts: a user holding admin needs no ACLs.
    pub user_holds_admin: bool,
    /// `sys_security_acl?name=task^type=record^operationINread,create,write`
    pub acls: Lookup<Acl>,
    /// `sys_security_acl_role?sys_security_acl.name=task^sys_security_acl.type=record`
    pub acl_roles: Lookup<AclRole>,
}

pub fn acl_query() -> String {
    format!(
        "name={ACL_TABLE}^type=record^operationIN{}",
        ACL_OPERATIONS.join(",")
    )
}

pub fn acl_role_query() -> String {
    format!("sys_security_acl.name={ACL_TABLE}^sys_security_acl.type=record")
}

const CREATE_FIX: &str = "elevate to security_admin, then create a record ACL on task (Name: task, \
-- None --) for this operation: Application Global, Active, Decision Type Allow If, Admin overrides \
ticked, requiring role x_incident_io.api_user";

pub fn evaluate(facts: &Facts, ctx: &Context) -> Verdict {
    if ctx.path == SetupPath::Admin {
        return Verdict::skip(Finding::note(
            FindingCode::AclNotNeeded,
            "not needed on the admin path: the admin role already covers task",
        ));
    }
    if facts.user_holds_admin {
        return Verdict::skip(Finding::note(
            FindingCode::AclNotNeeded,
            format!(
                "not needed: user '{}' holds admin, which already covers task",
                ctx.username
            ),
        ));
    }
    let mut findings = Vec::new();
    if let Some(f) = unusable(
        &facts.acls,
        "the ACLs on task (sys_security_acl)",
        FindingCode::AclCannotSee,
        FindingCode::AclQueryFailed,
        ctx.links.list("sys_security_acl", &acl_query()),
    ) {
        return Verdict::from_findings(vec![f]);
    }
    if let Some(f) = unusable(
        &facts.acl_roles,
        "the roles the task ACLs require (sys_security_acl_role)",
        FindingCode::AclCannotSee,
        FindingCode::AclQueryFailed,
        ctx.links.list("sys_security_acl_role", &acl_role_query()),
    ) {
        findings.push(f);
    }
    let acls = facts.acls.rows().unwrap_or_default();
    let role_rows = facts.acl_roles.rows();

    for op in ACL_OPERATIONS {
        let candidates: Vec<&Acl> = acls.iter().filter(|a| a.operation == op).collect();
        if candidates.is_empty() {
            findings.push(
                Finding::error(
                    FindingCode::AclMissing,
                    format!("no record ACL on task allows the {op} operation"),
                )
                .fix(CREATE_FIX)
                .link(ctx.links.list(
                    "sys_security_acl",
                    &format!("name={ACL_TABLE}^operation={op}"),
                )),
            );
            continue;
        }
        let assessed: Vec<(Vec<Finding>, Vec<Finding>)> = candidates
            .iter()
            .map(|acl| assess(acl, role_rows, ctx))
            .collect();
        match assessed.iter().find(|(errors, _)| errors.is_empty()) {
            Some((_, warnings)) => findings.extend(warnings.iter().cloned()),
            None => findings.extend(assessed.into_iter().flat_map(|(errors, _)| errors)),
        }
    }
    Verdict::from_findings(findings)
}

/// The errors and warnings of one ACL against the spec.
/// The roles `acl` requires, by name, out of the role rows.
fn required_roles<'a>(acl: &Acl, rows: &'a [AclRole]) -> Vec<&'a str> {
    rows.iter()
        .filter(|r| r.acl == acl.sys_id)
        .filter_map(|r| r.role.as_deref())
        .collect()
}

/// What keeps `acl` from granting incident.io its operation on task, as finding codes: inactive,
/// Deny Unless, no role, or another role than the app's (the last two only when the role rows
/// could be read). Empty means the ACL works. The one decision the check reports and apply's
/// plan repairs.
pub fn blocking_problems(acl: &Acl, role_rows: Option<&[AclRole]>) -> Vec<FindingCode> {
    let mut problems = Vec::new();
    if acl.active == Some(false) {
        problems.push(FindingCode::AclInactive);
    }
    if acl.decision_type.as_deref() == Some("deny") {
        problems.push(FindingCode::AclDenyUnless);
    }
    if let Some(rows) = role_rows {
        let roles = required_roles(acl, rows);
        if roles.is_empty() {
            problems.push(FindingCode::AclNoRole);
        } else if !roles.contains(&APP_ROLE) {
            problems.push(FindingCode::AclWrongRole);
        }
    }
    problems
}

/// How `acl` departs from the documented setup without blocking access, as finding codes: Admin
/// overrides unticked, an application other than Global. Warnings in the check; the ACL pack
/// writes the documented values.
pub fn drift(acl: &Acl) -> Vec<FindingCode> {
    let mut drift = Vec::new();
    if acl.admin_overrides == Some(false) {
        drift.push(FindingCode::AclAdminOverridesOff);
    }
    if acl
        .scope
        .as_deref()
        .is_some_and(|s| !s.is_empty() && s != "global")
    {
        drift.push(FindingCode::AclNotGlobal);
    }
    drift
}

fn assess(acl: &Acl, role_rows: Option<&[AclRole]>, ctx: &Context) -> (Vec<Finding>, Vec<Finding>) {
    let link = ctx.links.record("sys_security_acl", &acl.sys_id);
    let label = format!("the {} ACL on task ({})", acl.operation, acl.sys_id);
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let problems = blocking_problems(acl, role_rows);
    if problems.contains(&FindingCode::AclInactive) {
        errors.push(
            Finding::error(FindingCode::AclInactive, format!("{label} is not active"))
                .fix("open the ACL (elevated to security_admin) and tick Active")
                .link(link.clone()),
        );
    }
    if problems.contains(&FindingCode::AclDenyUnless) {
        errors.push(
            Finding::error(
                FindingCode::AclDenyUnless,
                format!("{label} is Deny Unless, so it cannot grant access"),
            )
            .fix("set its Decision Type to Allow If (elevated to security_admin)")
            .link(link.clone()),
        );
    }
    if let Some(rows) = role_rows {
        let roles = required_roles(acl, rows);
        if problems.contains(&FindingCode::AclNoRole) {
            errors.push(
                Finding::error(
                    FindingCode::AclNoRole,
                    format!("{label} requires no role, so it does not tie access to {APP_ROLE}"),
                )
                .fix(format!(
                    "add {APP_ROLE} under Requires role on the ACL (elevated to security_admin)"
                ))
                .link(link.clone()),
            );
        } else if problems.contains(&FindingCode::AclWrongRole) {
            errors.push(
                Finding::error(
                    FindingCode::AclWrongRole,
                    format!(
                        "{label} requires {} instead of {APP_ROLE}",
                        join_names(&roles)
                    ),
                )
                .fix(format!(
                    "add {APP_ROLE} under Requires role on the ACL (elevated to security_admin)"
                ))
                .link(link.clone()),
            );
        }
    }
    let drift = drift(acl);
    if drift.contains(&FindingCode::AclAdminOverridesOff) {
        warnings.push(
            Finding::warning(
                FindingCode::AclAdminOverridesOff,
                format!("{label} has Admin overrides unticked, unlike the documented setup"),
            )
            .fix("tick Admin overrides on the ACL (elevated to security_admin)")
            .link(link.clone()),
        );
    }
    if drift.contains(&FindingCode::AclNotGlobal) {
        let scope = acl.scope.as_deref().unwrap_or_default();
        let shown = acl.scope_name.as_deref().unwrap_or(scope);
        warnings.push(
            Finding::warning(
                FindingCode::AclNotGlobal,
                format!("{label} belongs to application '{shown}', not Global"),
            )
            .fix("recreate it in the Global application, as the documented setup does")
            .link(link),
        );
    }
    (errors, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::*;
    use crate::checks::Status;

    fn acl(id: &str, op: &str) -> Acl {
        Acl {
            updated: Default::default(),
            sys_id: id.into(),
            operation: op.into(),
            active: Some(true),
            admin_overrides: Some(true),
            decision_type: Some("allow".into()),
            scope: Some("global".into()),
            scope_name: Some("global".into()),
        }
    }

    fn role(acl: &str, role: &str) -> AclRole {
        AclRole {
            acl: acl.into(),
            role: Some(role.into()),
        }
    }

    fn healthy() -> Facts {
        Facts {
            user_holds_admin: false,
            acls: Lookup::Rows(vec![
                acl("r", "read"),
                acl("c", "create"),
                acl("w", "write"),
            ]),
            acl_roles: Lookup::Rows(vec![
                role("r", APP_ROLE),
                role("c", APP_ROLE),
                role("w", APP_ROLE),
            ]),
        }
    }

    fn with_read(read: Acl) -> Facts {
        Facts {
            acls: Lookup::Rows(vec![read, acl("c", "create"), acl("w", "write")]),
            ..healthy()
        }
    }

    #[test]
    fn table() {
        use FindingCode as C;
        let cases: Vec<(&str, SetupPath, Facts, Status, Vec<FindingCode>)> = vec![
            ("healthy", SetupPath::App, healthy(), Status::Pass, vec![]),
            (
                "admin path skips",
                SetupPath::Admin,
                healthy(),
                Status::Skip,
                vec![C::AclNotNeeded],
            ),
            (
                "user holding admin skips",
                SetupPath::App,
                Facts {
                    user_holds_admin: true,
                    ..healthy()
                },
                Status::Skip,
                vec![C::AclNotNeeded],
            ),
            (
                "all three missing",
                SetupPath::App,
                Facts {
                    acls: Lookup::Rows(vec![]),
                    acl_roles: Lookup::Rows(vec![]),
                    ..healthy()
                },
                Status::Fail,
                vec![C::AclMissing, C::AclMissing, C::AclMissing],
            ),
            (
                "inactive",
                SetupPath::App,
                with_read(Acl {
                    active: Some(false),
                    ..acl("r", "read")
                }),
                Status::Fail,
                vec![C::AclInactive],
            ),
            (
                "deny unless",
                SetupPath::App,
                with_read(Acl {
                    decision_type: Some("deny".into()),
                    ..acl("r", "read")
                }),
                Status::Fail,
                vec![C::AclDenyUnless],
            ),
            (
                "no role",
                SetupPath::App,
                Facts {
                    acl_roles: Lookup::Rows(vec![role("c", APP_ROLE), role("w", APP_ROLE)]),
                    ..healthy()
                },
                Status::Fail,
                vec![C::AclNoRole],
            ),
            (
                "wrong role",
                SetupPath::App,
                Facts {
                    acl_roles: Lookup::Rows(vec![
                        role("r", "itil"),
                        role("c", APP_ROLE),
                        role("w", APP_ROLE),
                    ]),
                    ..healthy()
                },
                Status::Fail,
                vec![C::AclWrongRole],
            ),
            (
                "admin overrides unticked warns",
                SetupPath::App,
                with_read(Acl {
                    admin_overrides: Some(false),
                    ..acl("r", "read")
                }),
                Status::Warn,
                vec![C::AclAdminOverridesOff],
            ),
            (
                "outside Global warns",
                SetupPath::App,
                with_read(Acl {
                    scope: Some("abc".into()),
                    scope_name: Some("x_acme".into()),
                    ..acl("r", "read")
                }),
                Status::Warn,
                vec![C::AclNotGlobal],
            ),
            (
                "a good ACL next to a broken one is enough",
                SetupPath::App,
                Facts {
                    acls: Lookup::Rows(vec![
                        Acl {
                            active: Some(false),
                            ..acl("old", "read")
                        },
                        acl("r", "read"),
                        acl("c", "create"),
                        acl("w", "write"),
                    ]),
                    ..healthy()
                },
                Status::Pass,
                vec![],
            ),
            (
                "hidden ACL rows: cannot see, never missing",
                SetupPath::App,
                Facts {
                    acls: Lookup::Hidden { total: 3 },
                    ..healthy()
                },
                Status::Warn,
                vec![C::AclCannotSee],
            ),
            (
                "hidden role links: cannot see, no role verdicts",
                SetupPath::App,
                Facts {
                    acl_roles: Lookup::Hidden { total: 3 },
                    ..healthy()
                },
                Status::Warn,
                vec![C::AclCannotSee],
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
    fn missing_names_the_operation() {
        let facts = Facts {
            acls: Lookup::Rows(vec![acl("r", "read"), acl("w", "write")]),
            ..healthy()
        };
        let v = evaluate(&facts, &ctx(SetupPath::App));
        assert_eq!(codes(&v), [FindingCode::AclMissing]);
        assert!(v.findings[0].message.contains("create"));
    }
}
