//! `service_user`: the user incident.io signs in as exists, is active, is not locked out, needs no
//! password reset, and has identity type Machine.
//!
//! ServiceNow's token endpoint answers every one of these problems with the same opaque
//! `access_denied`, so this check is what lets `connect` name the cause.

use super::{unusable, Context, Finding, FindingCode, Lookup, Verdict};
use crate::requirements::{FAILED_ATTEMPTS_WARN, MACHINE_IDENTITY};
use crate::servicenow::fields;

/// A field whose presence matters (see [`fields::Presence`]): `Absent` on a release without it.
pub use crate::servicenow::fields::Presence as FieldValue;

/// The `sys_user` row of the service user.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Deserialize)]
pub struct User {
    #[serde(deserialize_with = "fields::text")]
    pub sys_id: String,
    #[serde(deserialize_with = "fields::text")]
    pub user_name: String,
    #[serde(default, deserialize_with = "fields::flag")]
    pub active: Option<bool>,
    #[serde(default, deserialize_with = "fields::flag")]
    pub locked_out: Option<bool>,
    #[serde(default, deserialize_with = "fields::flag")]
    pub password_needs_reset: Option<bool>,
    /// `Absent` on a release without the column.
    #[serde(default)]
    pub identity_type: FieldValue,
    #[serde(default, deserialize_with = "fields::count")]
    pub failed_attempts: Option<u64>,
    /// "Web service access only": the account cannot sign in to the UI (posture).
    #[serde(default, deserialize_with = "fields::flag")]
    pub web_service_access_only: Option<bool>,
    /// "Internal Integration User": not needed for REST (posture).
    #[serde(default, deserialize_with = "fields::flag")]
    pub internal_integration_user: Option<bool>,
    /// Enrolled in multi-factor authentication (posture) [seen in code: the field in a
    /// harvested `sys_user` dictionary].
    #[serde(default, deserialize_with = "fields::flag")]
    pub enable_multifactor_authn: Option<bool>,
    /// Who last changed the record, and when (for "changed since the last good run").
    #[serde(default, flatten)]
    pub updated: crate::checks::Updated,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// `sys_user?user_name=<username>`
    pub user: Lookup<User>,
}

/// What is wrong with the account itself, as finding codes: inactive, locked out, must reset its
/// password, not a Machine identity (only where the release has the field). The one decision the
/// check reports and apply's plan repairs.
pub fn account_problems(user: &User) -> Vec<FindingCode> {
    let mut problems = Vec::new();
    if user.active == Some(false) {
        problems.push(FindingCode::UserInactive);
    }
    if user.locked_out == Some(true) {
        problems.push(FindingCode::UserLockedOut);
    }
    if user.password_needs_reset == Some(true) {
        problems.push(FindingCode::UserPasswordNeedsReset);
    }
    match &user.identity_type {
        FieldValue::Absent => {}
        FieldValue::Value(v) if v == MACHINE_IDENTITY => {}
        _ => problems.push(FindingCode::UserNotMachine),
    }
    problems
}

pub fn user_query(username: &str) -> String {
    format!("user_name={username}")
}

/// The service user, if the lookup found exactly that user name.
pub fn found<'a>(facts: &'a Facts, username: &str) -> Option<&'a User> {
    facts
        .user
        .rows()
        .and_then(|rows| rows.iter().find(|u| u.user_name == username))
}

pub fn evaluate(facts: &Facts, ctx: &Context) -> Verdict {
    let name = &ctx.username;
    let list = ctx.links.list("sys_user", &user_query(name));
    if let Some(f) = unusable(
        &facts.user,
        &format!("user '{name}' (sys_user)"),
        FindingCode::UserCannotSee,
        FindingCode::UserQueryFailed,
        list.clone(),
    ) {
        return Verdict::from_findings(vec![f]);
    }
    let Some(user) = found(facts, name) else {
        return Verdict::from_findings(vec![Finding::error(
            FindingCode::UserMissing,
            format!("no user has the user name '{name}'"),
        )
        .fix(format!(
            "create a dedicated user '{name}' (User Administration > Users > New) with identity \
             type Machine; if the user has another name, pass --username"
        ))
        .link(list)]);
    };

    let link = ctx.links.record("sys_user", &user.sys_id);
    let mut findings = Vec::new();
    let problems = account_problems(user);
    if problems.contains(&FindingCode::UserInactive) {
        findings.push(
            Finding::error(
                FindingCode::UserInactive,
                format!("user '{name}' is not active"),
            )
            .fix("tick Active on the user record")
            .link(link.clone()),
        );
    }
    if problems.contains(&FindingCode::UserLockedOut) {
        findings.push(
            Finding::error(
                FindingCode::UserLockedOut,
                format!("user '{name}' is locked out"),
            )
            .fix("untick Locked out on the user record")
            .link(link.clone()),
        );
    }
    if problems.contains(&FindingCode::UserPasswordNeedsReset) {
        findings.push(
            Finding::error(
                FindingCode::UserPasswordNeedsReset,
                format!("user '{name}' must reset its password, which an integration cannot do"),
            )
            .fix("untick Password needs reset on the user record")
            .link(link.clone()),
        );
    }
    match &user.identity_type {
        FieldValue::Absent => findings.push(
            Finding::note(
                FindingCode::UserIdentityTypeUnavailable,
                "this release has no Identity type field on users, so there is no Machine type to set",
            )
            .link(link.clone()),
        ),
        FieldValue::Value(v) if v == MACHINE_IDENTITY => {}
        other => {
            let shown = match other {
                FieldValue::Value(v) => format!("'{v}'"),
                _ => "not set".to_string(),
            };
            findings.push(
                Finding::warning(
                    FindingCode::UserNotMachine,
                    format!("user '{name}' has identity type {shown}, not Machine"),
                )
                .fix(
                    "set Identity type to Machine on the user record (this also makes it \
                     web-service only)",
                )
                .link(link.clone()),
            );
        }
    }
    if let Some(n) = user.failed_attempts {
        if n >= FAILED_ATTEMPTS_WARN && user.locked_out != Some(true) {
            findings.push(
                Finding::warning(
                    FindingCode::UserFailedAttempts,
                    format!(
                        "user '{name}' has {n} failed login attempts recorded: a few more wrong \
                         passwords will lock it out"
                    ),
                )
                .fix(
                    "make sure incident.io and snconnect use the current password; reset Failed \
                     login attempts on the user record once it is right",
                )
                .link(link.clone()),
            );
        }
    }
    Verdict::from_findings(findings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::*;
    use crate::checks::{FailureKind, QueryFailure, Status};
    use crate::model::SetupPath;

    fn good() -> User {
        crate::checks::test_support::healthy_user()
    }

    fn with(user: User) -> Facts {
        Facts {
            user: Lookup::Rows(vec![user]),
        }
    }

    #[test]
    fn table() {
        use FindingCode as C;
        let cases: Vec<(&str, Facts, Status, Vec<FindingCode>)> = vec![
            ("healthy", with(good()), Status::Pass, vec![]),
            (
                "missing",
                Facts {
                    user: Lookup::Rows(vec![]),
                },
                Status::Fail,
                vec![C::UserMissing],
            ),
            (
                "a different user name does not count",
                with(User {
                    user_name: "incident.io.old".into(),
                    ..good()
                }),
                Status::Fail,
                vec![C::UserMissing],
            ),
            (
                "inactive",
                with(User {
                    active: Some(false),
                    ..good()
                }),
                Status::Fail,
                vec![C::UserInactive],
            ),
            (
                "locked out",
                with(User {
                    locked_out: Some(true),
                    failed_attempts: Some(5),
                    ..good()
                }),
                Status::Fail,
                vec![C::UserLockedOut],
            ),
            (
                "password needs reset",
                with(User {
                    password_needs_reset: Some(true),
                    ..good()
                }),
                Status::Fail,
                vec![C::UserPasswordNeedsReset],
            ),
            (
                "human identity warns",
                with(User {
                    identity_type: FieldValue::Value("human".into()),
                    ..good()
                }),
                Status::Warn,
                vec![C::UserNotMachine],
            ),
            (
                "empty identity warns",
                with(User {
                    identity_type: FieldValue::Empty,
                    ..good()
                }),
                Status::Warn,
                vec![C::UserNotMachine],
            ),
            (
                "release without the field is a note",
                with(User {
                    identity_type: FieldValue::Absent,
                    ..good()
                }),
                Status::Pass,
                vec![C::UserIdentityTypeUnavailable],
            ),
            (
                "failed attempts close to lockout",
                with(User {
                    failed_attempts: Some(3),
                    ..good()
                }),
                Status::Warn,
                vec![C::UserFailedAttempts],
            ),
            (
                "a couple of failed attempts are fine",
                with(User {
                    failed_attempts: Some(2),
                    ..good()
                }),
                Status::Pass,
                vec![],
            ),
            (
                "several problems at once",
                with(User {
                    active: Some(false),
                    locked_out: Some(true),
                    ..good()
                }),
                Status::Fail,
                vec![C::UserInactive, C::UserLockedOut],
            ),
            (
                "hidden",
                Facts {
                    user: Lookup::Hidden { total: 1 },
                },
                Status::Warn,
                vec![C::UserCannotSee],
            ),
            (
                "refused read is cannot-see",
                Facts {
                    user: Lookup::Failed(QueryFailure {
                        table: "sys_user".into(),
                        kind: FailureKind::Forbidden,
                        message: "denied".into(),
                    }),
                },
                Status::Warn,
                vec![C::UserCannotSee],
            ),
            (
                "failed",
                Facts {
                    user: Lookup::Failed(QueryFailure {
                        table: "sys_user".into(),
                        kind: FailureKind::Other,
                        message: "HTTP 502".into(),
                    }),
                },
                Status::Fail,
                vec![C::UserQueryFailed],
            ),
        ];
        for (name, facts, status, want) in cases {
            let v = evaluate(&facts, &ctx(SetupPath::App));
            assert_eq!(v.status, status, "{name}");
            assert_eq!(codes(&v), want, "{name}");
            assert_actionable(&v);
        }
    }

    #[test]
    fn locked_out_names_the_user_and_links_its_record() {
        let v = evaluate(
            &with(User {
                locked_out: Some(true),
                ..good()
            }),
            &ctx(SetupPath::App),
        );
        let f = &v.findings[0];
        assert_eq!(f.message, "user 'incident.io' is locked out");
        assert_eq!(
            f.link.as_deref(),
            Some("https://acme.service-now.com/sys_user.do?sys_id=u1")
        );
    }
}
