//! `connect`: what incident.io will do, done once — mint a token with the password grant, then read
//! each table incident.io uses as the service user.
//!
//! The token endpoint answers every misconfiguration with the same `401 access_denied`, so on that
//! answer this check reads the other checks' findings to name the likely cause, or, when nothing
//! explains it, lists the causes to look at in order.

use super::oauth_app::{Entry, Property};
use super::service_user::User;
use super::{
    join_names, CheckResult, Context, Finding, FindingCode, Lookup, Severity, Status, Verdict,
};
use crate::model::CheckId;
use crate::requirements::{
    APP_ROLE, AUTH_SCOPE, DEFAULT_LOCKOUT_THRESHOLD, OAUTH_ENTRY_NAME, PROP_LOCKOUT_THRESHOLD,
};

/// What the single token request returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenOutcome {
    Minted,
    /// ServiceNow's opaque refusal (`error` / `error_description` as sent).
    AccessDenied {
        error: String,
        description: String,
    },
    /// Anything else: unexpected status, malformed answer, 5xx after retries.
    Failed {
        message: String,
    },
}

/// What reading one table with the token returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeOutcome {
    /// Readable (an empty table with a zero count also reads fine).
    Readable,
    /// A full page came back empty although `X-Total-Count` > 0: ACLs hide the rows.
    Hidden {
        total: u64,
    },
    /// Some rows of the page are hidden by row-level ACLs (restricted records): `visible` of
    /// the `of` the page should have held came back. Readable, with a note.
    PartlyHidden {
        visible: u64,
        of: u64,
    },
    /// 401 on a token just minted: a REST API access policy, the entry's token restriction or its
    /// settings reject it (facts sheet, Corrections 2); never the password.
    TokenRejected {
        message: String,
    },
    /// 403, with the server's message.
    Denied {
        message: String,
    },
    /// 403 "Missing required api access scope": REST API auth scopes block the token.
    ScopeBlocked,
    Failed {
        message: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    pub table: String,
    pub outcome: ProbeOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub token: TokenOutcome,
    /// Empty when no token was minted.
    pub probes: Vec<Probe>,
    /// The service user as the admin read it before the token request (admin side only).
    pub user_before: Option<User>,
    /// Its failed-login count read again after a refused token (admin side only).
    pub failed_attempts_after: Option<u64>,
}

impl Facts {
    /// Whether the instance counted a refused token against the user: `Some(true)` means the
    /// password was checked and was wrong. `None` when the counts were not both read.
    fn refusal_counted(&self) -> Option<(u64, u64)> {
        let before = self.user_before.as_ref()?.failed_attempts.unwrap_or(0);
        let after = self.failed_attempts_after?;
        Some((before, after))
    }
}

/// What decides whether the password grant may be tried at all: the admin-side facts about the
/// service user and the entry, the lockout threshold, and what earlier runs remember.
#[derive(Debug, Clone, Copy)]
pub struct Gate<'a> {
    /// The admin side was read: the lookups below are real, not empty for want of a session.
    pub admin_facts: bool,
    pub user: &'a Lookup<User>,
    pub entries: &'a Lookup<Entry>,
    pub client_id: &'a str,
    /// `glide.user.max_unlock_attempts`, or its default.
    pub threshold: u32,
    /// When these exact credentials were refused before (unix seconds), if they were.
    pub refused_at: Option<u64>,
    /// `--accept-lockout-risk`: try even when one more failure would lock the account.
    pub accept_lockout_risk: bool,
}

/// Why the token request must not be made, or `None` when it may be. One decision, taken by the
/// gather (which then sends nothing) and reported by the check: a login attempt whose outcome is
/// already known, or that could lock the account, is never made.
pub fn withheld(gate: &Gate<'_>, ctx: &Context) -> Option<Finding> {
    let name = &ctx.username;
    let not_sent = "no token was requested, so no failed login was spent";
    if let Some(at) = gate.refused_at {
        return Some(
            Finding::error(
                FindingCode::ConnectRefusedBefore,
                format!(
                    "the instance refused these credentials for user '{name}' at {}; not \
                     retried, to protect the account from lockout ({not_sent})",
                    crate::model::utc_timestamp(at)
                ),
            )
            .fix(
                "correct the client secret or the password, or, once the cause is fixed on the \
                 instance, run again with --retry-refused",
            )
            .link(ctx.links.list("sys_user", &format!("user_name={name}"))),
        );
    }
    if !gate.admin_facts {
        return None;
    }
    let user_list = ctx.links.list("sys_user", &format!("user_name={name}"));
    let users = gate.user.rows()?;
    let Some(user) = users.iter().find(|u| &u.user_name == name) else {
        return Some(
            Finding::error(
                FindingCode::ConnectNotAttemptedNoUser,
                format!("user '{name}' does not exist, so the password grant could only be refused; {not_sent}"),
            )
            .fix("create the service user (see service_user), then run verify again")
            .link(user_list),
        );
    };
    let user_link = ctx.links.record("sys_user", &user.sys_id);
    if user.locked_out == Some(true) {
        return Some(
            Finding::error(
                FindingCode::ConnectNotAttemptedLocked,
                format!("user '{name}' is locked out, so the password grant could only be refused; {not_sent}"),
            )
            .fix("unlock the user and reset its failed login count (see service_user), then run verify again")
            .link(user_link),
        );
    }
    if user.active == Some(false) {
        return Some(
            Finding::error(
                FindingCode::ConnectNotAttemptedInactive,
                format!("user '{name}' is inactive, so the password grant could only be refused; {not_sent}"),
            )
            .fix("activate the user (see service_user), then run verify again")
            .link(user_link),
        );
    }
    if let Some(entries) = gate.entries.rows() {
        let usable = entries.iter().any(|e| {
            e.client_id.as_deref() == Some(gate.client_id)
                && e.is_inbound()
                && e.active == Some(true)
        });
        if !usable {
            return Some(
                Finding::error(
                    FindingCode::ConnectNotAttemptedClientId,
                    format!(
                        "no active inbound OAuth entry has client id {}, so the password grant \
                         could only be refused; {not_sent}",
                        gate.client_id
                    ),
                )
                .fix(format!(
                    "give the client id of the active '{OAUTH_ENTRY_NAME}' entry (see oauth_app), \
                     then run verify again"
                ))
                .link(
                    ctx.links
                        .list("oauth_entity", &format!("name={OAUTH_ENTRY_NAME}")),
                ),
            );
        }
    }
    // An empty count is a user who never failed a login (facts sheet, Corrections 5).
    let failed = user.failed_attempts.unwrap_or(0);
    if failed.saturating_add(1) >= u64::from(gate.threshold) && !gate.accept_lockout_risk {
        return Some(
            Finding::error(
                FindingCode::ConnectLockoutRisk,
                format!(
                    "user '{name}' has {failed} failed logins and the instance locks accounts at \
                     {}: one more wrong password would lock it (and end incident.io's sessions \
                     if it is in use); {not_sent}",
                    gate.threshold
                ),
            )
            .fix(
                "reset Failed login attempts to 0 on the user record and run verify again, or, if \
                 you are sure of the password, run with --accept-lockout-risk",
            )
            .link(user_link),
        );
    }
    None
}

/// The lockout threshold: `glide.user.max_unlock_attempts` when it is set to a positive number,
/// else the platform's default, also when the property could not be read.
pub fn lockout_threshold(properties: &Lookup<Property>) -> u32 {
    properties
        .rows()
        .and_then(|props| props.iter().find(|p| p.name == PROP_LOCKOUT_THRESHOLD))
        .and_then(|p| p.value.trim().parse::<u32>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(DEFAULT_LOCKOUT_THRESHOLD)
}

/// Findings of the admin-side checks that explain an `access_denied`, likeliest first.
const EXPLAINING: [FindingCode; 11] = [
    FindingCode::UserMissing,
    FindingCode::UserLockedOut,
    FindingCode::UserInactive,
    FindingCode::OauthMissing,
    FindingCode::OauthInactive,
    FindingCode::OauthDisabled,
    FindingCode::OauthRopcDisabled,
    FindingCode::OauthClientIdMismatch,
    FindingCode::OauthScopeMissing,
    FindingCode::OauthDuplicate,
    FindingCode::UserPasswordNeedsReset,
];

/// Which table needs which part of the setup, for the fix of a denied or hidden read.
fn table_hint(table: &str) -> String {
    match table {
        "incident" => "the role incident_manager".to_string(),
        "task" => format!("the read ACL on task requiring {APP_ROLE}"),
        "sys_user" | "sys_user_group" => "the role sn_cmdb_user".to_string(),
        "cmdb_ci" => "the role cmdb_read".to_string(),
        _ => "the roles of its path".to_string(),
    }
}

pub fn evaluate(facts: &Facts, ctx: &Context, others: &[CheckResult]) -> Verdict {
    let name = &ctx.username;
    match &facts.token {
        TokenOutcome::Minted => {}
        TokenOutcome::AccessDenied { error, description } => {
            return Verdict::from_findings(vec![access_denied(
                ctx,
                facts,
                others,
                error,
                description,
            )]);
        }
        TokenOutcome::Failed { message } => {
            return Verdict::from_findings(vec![Finding::error(
                FindingCode::ConnectTokenFailed,
                format!("the token request for user '{name}' failed: {message}"),
            )
            .fix("run again; add -v to see the request and its answer")
            .link(ctx.links.page("oauth_entity_list.do"))]);
        }
    }

    let mut findings = Vec::new();
    for probe in &facts.probes {
        let table = &probe.table;
        let list = ctx.links.page(&format!("{table}_list.do"));
        let finding = match &probe.outcome {
            ProbeOutcome::Readable | ProbeOutcome::TokenRejected { .. } => None,
            ProbeOutcome::PartlyHidden { visible, of } => Some(
                Finding::note(
                    FindingCode::ConnectRowsPartlyHidden,
                    format!(
                        "as '{name}', {visible} of the first {of} rows of table '{table}' are \
                         visible: row-level ACLs hide the others (restricted records, for \
                         example), and incident.io will not see them either"
                    ),
                )
                .link(list),
            ),
            ProbeOutcome::Hidden { total } => Some(
                Finding::error(
                    FindingCode::ConnectTableHidden,
                    format!(
                        "as '{name}', table '{table}' returns no rows although {total} exist: \
                         ACLs hide them"
                    ),
                )
                .fix(format!("grant '{name}' {}", table_hint(table)))
                .link(list),
            ),
            ProbeOutcome::Denied { message } => Some(
                Finding::error(
                    FindingCode::ConnectTableDenied,
                    format!("as '{name}', reading table '{table}' is refused: {message}"),
                )
                .fix(format!("grant '{name}' {}", table_hint(table)))
                .link(list),
            ),
            // One cause for every table: reported once, below.
            ProbeOutcome::ScopeBlocked => None,
            ProbeOutcome::Failed { message } => Some(
                Finding::error(
                    FindingCode::ConnectTableFailed,
                    format!("as '{name}', reading table '{table}' failed: {message}"),
                )
                .fix("run again; add -v to see the request and its answer")
                .link(list),
            ),
        };
        findings.extend(finding);
    }
    let rejected: Vec<(&str, &str)> = facts
        .probes
        .iter()
        .filter_map(|p| match &p.outcome {
            ProbeOutcome::TokenRejected { message } => Some((p.table.as_str(), message.as_str())),
            _ => None,
        })
        .collect();
    if let Some((_, message)) = rejected.first() {
        let tables: Vec<&str> = rejected.iter().map(|(t, _)| *t).collect();
        let said = if message.is_empty() {
            String::new()
        } else {
            format!(" (\"{message}\")")
        };
        findings.push(
            Finding::error(
                FindingCode::ConnectTokenRejected,
                format!(
                    "the instance granted a token for '{name}' and then refused it on {} with \
                     401{said}: the password is right (the grant just proved it); what rejects \
                     the token is on the instance",
                    tables_label(&tables)
                ),
            )
            .fix(format!(
                "check System Web Services > REST API Access Policies for a policy that covers \
                 the Table API, and 'Enforce token restriction' and the allowed APIs on OAuth \
                 entry '{OAUTH_ENTRY_NAME}'"
            ))
            .link(ctx.links.page("sys_api_access_policy_list.do")),
        );
    }
    let blocked: Vec<&str> = facts
        .probes
        .iter()
        .filter(|p| p.outcome == ProbeOutcome::ScopeBlocked)
        .map(|p| p.table.as_str())
        .collect();
    if !blocked.is_empty() {
        findings.push(
            Finding::error(
                FindingCode::ConnectScopeBlocked,
                format!(
                    "as '{name}', reading {} is blocked: the token lacks the API access scope \
                     (\"Missing required api access scope\")",
                    tables_label(&blocked)
                ),
            )
            .fix(format!(
                "add the '{AUTH_SCOPE}' auth scope to OAuth entry '{OAUTH_ENTRY_NAME}', which lets \
                 its tokens reach every API the user may use"
            ))
            .link(
                ctx.links
                    .list("oauth_entity", &format!("name={OAUTH_ENTRY_NAME}")),
            ),
        );
    }
    Verdict::from_findings(findings)
}

fn tables_label(tables: &[&str]) -> String {
    match tables {
        [one] => format!("table '{one}'"),
        many => format!("tables {}", join_names(many)),
    }
}

/// The one finding for ServiceNow's opaque refusal: the cause the other checks found, or the
/// password when the refusal was counted against the user, or else at most three candidates the
/// run has not ruled out, most likely first.
fn access_denied(
    ctx: &Context,
    facts: &Facts,
    others: &[CheckResult],
    error: &str,
    description: &str,
) -> Finding {
    let name = &ctx.username;
    let answer = format!("{error}/{description}");
    let causes: Vec<&Finding> = EXPLAINING
        .iter()
        .flat_map(|code| {
            others
                .iter()
                .flat_map(|c| c.findings.iter())
                .filter(move |f| f.code == *code && f.severity == Severity::Error)
        })
        .collect();
    let head = format!(
        "the instance refused a token for user '{name}' with the client id given \
         ({answer}); the attempt counts as one failed login"
    );
    if let Some(first) = causes.first() {
        let named: Vec<String> = causes
            .iter()
            .map(|f| format!("{} ({})", f.message, f.code))
            .collect();
        let mut finding = Finding::error(
            FindingCode::ConnectAccessDenied,
            format!("{head}; likely cause: {}", named.join("; ")),
        )
        .fix(format!(
            "fix {} first{}, then run verify again",
            first.code,
            first
                .fix
                .as_deref()
                .map(|f| format!(" ({f})"))
                .unwrap_or_default()
        ));
        if let Some(link) = &first.link {
            finding = finding.link(link.clone());
        }
        return finding;
    }
    let password_fix = format!(
        "set a new password on user '{name}', give it to snconnect (SNCONNECT_PASSWORD, or \
         snconnect setup) and to incident.io"
    );
    let user_link = facts
        .user_before
        .as_ref()
        .map(|u| ctx.links.record("sys_user", &u.sys_id));
    let counted = facts.refusal_counted();
    if let Some((before, after)) = counted.filter(|(b, a)| a > b) {
        let mut finding = Finding::error(
            FindingCode::ConnectAccessDenied,
            format!(
                "{head}; the password of '{name}' is wrong: the instance counted the attempt \
                 against the user (failed logins {before} -> {after})"
            ),
        )
        .fix(password_fix);
        if let Some(link) = user_link {
            finding = finding.link(link);
        }
        return finding;
    }
    // What is left, most likely first. Causes the other checks ruled out (the user's state, the
    // entry, its scope, the grant switches) are not listed.
    let admin_ran = others.iter().any(|c| {
        matches!(c.id, CheckId::ServiceUser | CheckId::OauthApp)
            && matches!(c.status, Status::Pass | Status::Warn)
    });
    let secret = format!(
        "the client secret is not the one of OAuth entry '{OAUTH_ENTRY_NAME}' (it cannot be read \
         back: copy it again from the entry, or set a new one there)"
    );
    let mut order: Vec<String> = Vec::new();
    if !admin_ran {
        order.push(format!(
            "user '{name}' is locked out, inactive or missing, or OAuth entry \
             '{OAUTH_ENTRY_NAME}' is inactive (give admin credentials and snconnect tells which)"
        ));
    }
    match counted {
        // Read on both sides and not counted: the user's password was never checked, which
        // points at the client. Unless the instance does not count password-grant failures,
        // which no source settles, so the password stays as the second candidate.
        Some(_) => {
            order.push(format!(
                "{secret}: the attempt was not counted against '{name}', so the password was \
                 probably never checked"
            ));
            order.push(format!(
                "the password of '{name}' is wrong ({password_fix})"
            ));
        }
        None => {
            order.push(secret);
            order.push(format!(
                "the password of '{name}' is wrong ({password_fix})"
            ));
        }
    }
    // Unresolved on real instances (facts sheet §3): ServiceNow documents that the password grant
    // needs a user who may have an interactive session, while incident.io's guide asks for a
    // Machine (web-service-only) user. A candidate to test, last, only for a Machine user.
    let machine = facts.user_before.as_ref().is_some_and(|u| {
        u.identity_type == super::service_user::FieldValue::Value("machine".into())
    });
    if machine {
        order.push(format!(
            "the instance refuses the password grant to a Machine (web-service-only) user; this is \
             untested, so try it last: untick Web service access only on '{name}' and run verify \
             again"
        ));
    }
    order.truncate(3);
    let what = if admin_ran {
        "nothing the other checks found explains it"
    } else {
        "the admin-side checks did not run, so the cause cannot be named"
    };
    let syslog = ctx
        .links
        .list("syslog", "messageLIKEtoken flow^ORDERBYDESCsys_created_on");
    let fix = match order.as_slice() {
        [only] => only.clone(),
        many => {
            let numbered: Vec<String> = many
                .iter()
                .enumerate()
                .map(|(i, c)| format!("{}. {c}", i + 1))
                .collect();
            format!(
                "look at, most likely first: {}; the instance's system log names the reason \
                 ('token flow' messages, link)",
                numbered.join(" ")
            )
        }
    };
    Finding::error(FindingCode::ConnectAccessDenied, format!("{head}; {what}"))
        .fix(fix)
        .link(syslog)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::*;
    use crate::model::SetupPath;

    fn readable(tables: &[&str]) -> Vec<Probe> {
        tables
            .iter()
            .map(|t| Probe {
                table: t.to_string(),
                outcome: ProbeOutcome::Readable,
            })
            .collect()
    }

    fn denied() -> TokenOutcome {
        TokenOutcome::AccessDenied {
            error: "server_error".into(),
            description: "access_denied".into(),
        }
    }

    fn result(id: CheckId, findings: Vec<Finding>) -> CheckResult {
        CheckResult::new(id, Verdict::from_findings(findings), 1)
    }

    fn other(id: CheckId, code: FindingCode) -> CheckResult {
        result(
            id,
            vec![Finding::error(code, format!("{code} happened"))
                .fix("do the thing")
                .link("https://acme.service-now.com/x")],
        )
    }

    #[test]
    fn probes_table() {
        use FindingCode as C;
        let tables = ["incident", "task", "sys_user", "sys_user_group", "cmdb_ci"];
        let with = |i: usize, outcome: ProbeOutcome| {
            let mut p = readable(&tables);
            p[i].outcome = outcome;
            Facts {
                token: TokenOutcome::Minted,
                probes: p,
                user_before: None,
                failed_attempts_after: None,
            }
        };
        let cases: Vec<(&str, Facts, Status, Vec<FindingCode>)> = vec![
            (
                "all readable",
                with(0, ProbeOutcome::Readable),
                Status::Pass,
                vec![],
            ),
            (
                "hidden",
                with(0, ProbeOutcome::Hidden { total: 24 }),
                Status::Fail,
                vec![C::ConnectTableHidden],
            ),
            (
                "denied",
                with(
                    4,
                    ProbeOutcome::Denied {
                        message: "table security".into(),
                    },
                ),
                Status::Fail,
                vec![C::ConnectTableDenied],
            ),
            (
                "scope blocked",
                with(1, ProbeOutcome::ScopeBlocked),
                Status::Fail,
                vec![C::ConnectScopeBlocked],
            ),
            (
                "failed",
                with(
                    2,
                    ProbeOutcome::Failed {
                        message: "HTTP 500".into(),
                    },
                ),
                Status::Fail,
                vec![C::ConnectTableFailed],
            ),
            (
                "token failed otherwise",
                Facts {
                    token: TokenOutcome::Failed {
                        message: "HTTP 400".into(),
                    },
                    probes: vec![],
                    user_before: None,
                    failed_attempts_after: None,
                },
                Status::Fail,
                vec![C::ConnectTokenFailed],
            ),
        ];
        for (name, facts, status, want) in cases {
            let v = evaluate(&facts, &ctx(SetupPath::App), &[]);
            assert_eq!(v.status, status, "{name}");
            assert_eq!(codes(&v), want, "{name}");
            assert_actionable(&v);
        }
    }

    #[test]
    fn hidden_incident_rows_point_at_incident_manager() {
        let facts = Facts {
            token: TokenOutcome::Minted,
            probes: vec![Probe {
                table: "incident".into(),
                outcome: ProbeOutcome::Hidden { total: 3 },
            }],
            user_before: None,
            failed_attempts_after: None,
        };
        let v = evaluate(&facts, &ctx(SetupPath::App), &[]);
        assert!(v.findings[0]
            .fix
            .as_deref()
            .unwrap()
            .contains("incident_manager"));
        assert!(v.findings[0].message.contains("3 exist"));
    }

    #[test]
    fn access_denied_names_the_cause_the_other_checks_found() {
        let cases = [
            (CheckId::ServiceUser, FindingCode::UserLockedOut),
            (CheckId::ServiceUser, FindingCode::UserInactive),
            (CheckId::ServiceUser, FindingCode::UserMissing),
            (CheckId::OauthApp, FindingCode::OauthInactive),
            (CheckId::OauthApp, FindingCode::OauthMissing),
            (CheckId::OauthApp, FindingCode::OauthRopcDisabled),
            (CheckId::OauthApp, FindingCode::OauthDisabled),
            (CheckId::OauthApp, FindingCode::OauthScopeMissing),
            (CheckId::OauthApp, FindingCode::OauthClientIdMismatch),
        ];
        for (id, code) in cases {
            let others = vec![other(id, code)];
            let v = evaluate(
                &Facts {
                    token: denied(),
                    probes: vec![],
                    user_before: None,
                    failed_attempts_after: None,
                },
                &ctx(SetupPath::App),
                &others,
            );
            assert_eq!(v.status, Status::Fail);
            assert_eq!(codes(&v), [FindingCode::ConnectAccessDenied]);
            let f = &v.findings[0];
            assert!(f.message.contains("likely cause"), "{code}: {}", f.message);
            assert!(f.message.contains(code.as_str()), "{code}: {}", f.message);
            assert!(f.fix.as_deref().unwrap().contains(code.as_str()));
            assert_eq!(f.link.as_deref(), Some("https://acme.service-now.com/x"));
        }
    }

    #[test]
    fn the_likeliest_cause_comes_first() {
        let others = vec![
            other(CheckId::OauthApp, FindingCode::OauthScopeMissing),
            other(CheckId::ServiceUser, FindingCode::UserLockedOut),
        ];
        let v = evaluate(
            &Facts {
                token: denied(),
                probes: vec![],
                user_before: None,
                failed_attempts_after: None,
            },
            &ctx(SetupPath::App),
            &others,
        );
        let f = &v.findings[0];
        let locked = f.message.find("service_user.locked_out").unwrap();
        let scope = f.message.find("oauth_app.scope_missing").unwrap();
        assert!(locked < scope, "{}", f.message);
        assert!(f
            .fix
            .as_deref()
            .unwrap()
            .starts_with("fix service_user.locked_out"));
    }

    #[test]
    fn unexplained_access_denied_lists_at_most_three_causes_not_ruled_out() {
        let clean = vec![
            result(CheckId::ServiceUser, vec![]),
            result(CheckId::OauthApp, vec![]),
        ];
        let v = evaluate(
            &Facts {
                token: denied(),
                probes: vec![],
                user_before: None,
                failed_attempts_after: None,
            },
            &ctx(SetupPath::App),
            &clean,
        );
        let f = &v.findings[0];
        assert!(
            f.message
                .contains("nothing the other checks found explains it"),
            "{}",
            f.message
        );
        let fix = f.fix.as_deref().unwrap();
        assert!(
            fix.starts_with("look at, most likely first: 1. the client secret"),
            "{fix}"
        );
        assert!(fix.contains("2. the password"), "{fix}");
        // Ruled out by the passing checks: not listed (issue 14).
        for ruled_out in ["auth scope", "glide.oauth", "locked out"] {
            assert!(!fix.contains(ruled_out), "{ruled_out}: {fix}");
        }
        assert!(!fix.contains("3."), "{fix}");

        // Without the admin side, the user and entry states come first, and three at most.
        let v = evaluate(
            &Facts {
                token: denied(),
                probes: vec![],
                user_before: None,
                failed_attempts_after: None,
            },
            &ctx(SetupPath::App),
            &[],
        );
        let fix = v.findings[0].fix.as_deref().unwrap();
        assert!(
            fix.starts_with("look at, most likely first: 1. user 'incident.io' is locked out"),
            "{fix}"
        );
        assert!(!fix.contains("4."), "{fix}");
        assert!(v.findings[0].message.contains("did not run"));
    }

    fn user(failed: Option<u64>, identity: &str) -> User {
        User {
            identity_type: super::super::service_user::FieldValue::Value(identity.into()),
            failed_attempts: failed,
            ..healthy_user()
        }
    }

    /// Issue 14: the refusal re-read tells the causes apart. Counted against the user: the
    /// password, alone. Not counted: the client secret first, the password second. The untested
    /// Machine-user question is listed only for a Machine user, last.
    #[test]
    fn a_refusal_counted_against_the_user_names_the_password_alone() {
        let clean = vec![
            result(CheckId::ServiceUser, vec![]),
            result(CheckId::OauthApp, vec![]),
        ];
        let with = |before, after, identity: &str| Facts {
            token: denied(),
            probes: vec![],
            user_before: Some(user(before, identity)),
            failed_attempts_after: after,
        };
        let v = evaluate(&with(None, Some(1), "human"), &ctx(SetupPath::App), &clean);
        let f = &v.findings[0];
        assert!(
            f.message.contains("the password of 'incident.io' is wrong"),
            "{}",
            f.message
        );
        assert!(f.message.contains("failed logins 0 -> 1"), "{}", f.message);
        assert!(
            f.fix.as_deref().unwrap().starts_with("set a new password"),
            "{f:?}"
        );
        assert!(
            f.link.as_deref().unwrap().contains("sys_user.do?sys_id=u1"),
            "{f:?}"
        );

        let v = evaluate(
            &with(Some(2), Some(2), "machine"),
            &ctx(SetupPath::App),
            &clean,
        );
        let fix = v.findings[0].fix.as_deref().unwrap();
        assert!(
            fix.starts_with("look at, most likely first: 1. the client secret"),
            "{fix}"
        );
        assert!(fix.contains("not counted against 'incident.io'"), "{fix}");
        assert!(fix.contains("2. the password"), "{fix}");
        assert!(
            fix.contains("3. the instance refuses the password grant to a Machine"),
            "{fix}"
        );

        let v = evaluate(
            &with(Some(2), Some(2), "human"),
            &ctx(SetupPath::App),
            &clean,
        );
        let fix = v.findings[0].fix.as_deref().unwrap();
        assert!(!fix.contains("Machine"), "{fix}");
    }

    #[test]
    fn warnings_of_other_checks_are_not_blamed() {
        let others = vec![result(
            CheckId::OauthApp,
            vec![Finding::warning(FindingCode::OauthDuplicate, "two entries").fix("x")],
        )];
        let v = evaluate(
            &Facts {
                token: denied(),
                probes: vec![],
                user_before: None,
                failed_attempts_after: None,
            },
            &ctx(SetupPath::App),
            &others,
        );
        assert!(!v.findings[0].message.contains("likely cause"));
    }
}
