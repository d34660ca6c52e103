//! The eight checks of the contract. Each fetches facts, then a pure `evaluate` turns them into findings.
//!
//! This module holds the vocabulary every check shares: [`Status`], [`Severity`], the stable
//! [`FindingCode`]s, [`Finding`], [`CheckResult`], the [`Context`] a check evaluates in, and
//! [`Lookup`], which keeps "no rows", "rows hidden by ACLs" and "query failed" apart — the Table API
//! answers all three with an empty list unless the caller looks at `X-Total-Count` and the status.

use serde::Serialize;

pub use crate::model::{CheckId, FindingCode, Remedy, SetupPath, Severity, Status};

/// Who last changed a record and when, as the instance keeps it (`sys_updated_by`,
/// `sys_updated_on`): what the "changed since the last good run" section cites.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
pub struct Updated {
    #[serde(default, deserialize_with = "crate::servicenow::fields::opt_text")]
    pub sys_updated_by: Option<String>,
    #[serde(default, deserialize_with = "crate::servicenow::fields::opt_text")]
    pub sys_updated_on: Option<String>,
}

impl Updated {
    /// "by admin on 2026-12-03 09:00:00", or `None` when the instance said neither.
    pub fn describe(&self) -> Option<String> {
        match (&self.sys_updated_by, &self.sys_updated_on) {
            (Some(by), Some(on)) => Some(format!("by {by} on {on}")),
            (Some(by), None) => Some(format!("by {by}")),
            (None, Some(on)) => Some(format!("on {on}")),
            (None, None) => None,
        }
    }
}

pub mod app;
pub mod connect;
pub mod instance;
pub mod oauth_app;
pub mod posture;
pub mod queries;
pub mod roles;
pub mod run;
pub mod service_user;
pub mod task_acls;

/// One thing a check found: what, on which record, what to do, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Finding {
    pub code: FindingCode,
    pub severity: Severity,
    /// What is wrong, naming the record.
    pub message: String,
    /// What to do about it; `None` for plain information.
    pub fix: Option<String>,
    /// The record or list in the instance's UI, or the Store or docs page where one acts.
    pub link: Option<String>,
    /// What snconnect can do about it; not part of the JSON contract.
    #[serde(skip)]
    #[schemars(skip)]
    pub remedy: Remedy,
}

impl Finding {
    pub fn new(code: FindingCode, severity: Severity, message: impl Into<String>) -> Finding {
        Finding {
            code,
            severity,
            // Messages carry instance data: never more of it than a report should show.
            message: crate::text::bounded(message.into()),
            fix: None,
            link: None,
            remedy: Remedy::None,
        }
    }

    pub fn error(code: FindingCode, message: impl Into<String>) -> Finding {
        Finding::new(code, Severity::Error, message)
    }

    pub fn warning(code: FindingCode, message: impl Into<String>) -> Finding {
        Finding::new(code, Severity::Warning, message)
    }

    pub fn note(code: FindingCode, message: impl Into<String>) -> Finding {
        Finding::new(code, Severity::Note, message)
    }

    pub fn fix(mut self, fix: impl Into<String>) -> Finding {
        self.fix = Some(crate::text::bounded(fix.into()));
        self
    }

    pub fn link(mut self, link: impl Into<String>) -> Finding {
        self.link = Some(crate::text::bounded(link.into()));
        self
    }

    pub fn remedy(mut self, remedy: Remedy) -> Finding {
        self.remedy = remedy;
        self
    }
}

/// What `evaluate` decides: a status and the findings behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub status: Status,
    pub findings: Vec<Finding>,
}

impl Verdict {
    /// The status follows the most severe finding: an error fails, a warning warns, notes pass.
    pub fn from_findings(findings: Vec<Finding>) -> Verdict {
        let status = if findings.iter().any(|f| f.severity == Severity::Error) {
            Status::Fail
        } else if findings.iter().any(|f| f.severity == Severity::Warning) {
            Status::Warn
        } else {
            Status::Pass
        };
        Verdict { status, findings }
    }

    /// A check that did not run, with the reason as a note.
    pub fn skip(reason: Finding) -> Verdict {
        Verdict {
            status: Status::Skip,
            findings: vec![reason],
        }
    }

    pub fn has(&self, code: FindingCode) -> bool {
        self.findings.iter().any(|f| f.code == code)
    }
}

/// One check's line in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct CheckResult {
    pub id: CheckId,
    pub title: String,
    pub status: Status,
    pub duration_ms: u64,
    pub findings: Vec<Finding>,
}

impl CheckResult {
    pub fn new(id: CheckId, verdict: Verdict, duration_ms: u64) -> CheckResult {
        CheckResult {
            id,
            title: id.title().to_string(),
            status: verdict.status,
            duration_ms,
            findings: verdict.findings,
        }
    }

    pub fn has(&self, code: FindingCode) -> bool {
        self.findings.iter().any(|f| f.code == code)
    }
}

/// Builds links into the instance's UI: a record's form, or a list filtered by a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Links {
    base: String,
}

impl Links {
    /// `base` is the instance as the report shows it, e.g. `https://acme.service-now.com`.
    pub fn new(base: &str) -> Links {
        Links {
            base: base.trim_end_matches('/').to_string(),
        }
    }

    /// The instance itself, e.g. `https://acme.service-now.com`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// A page of the UI, e.g. `page("sys_properties_list.do")`.
    pub fn page(&self, path_and_query: &str) -> String {
        format!("{}/{}", self.base, path_and_query.trim_start_matches('/'))
    }

    /// A record's form.
    pub fn record(&self, table: &str, sys_id: &str) -> String {
        self.page(&format!("{table}.do?sys_id={}", encode(sys_id)))
    }

    /// A list filtered by an encoded query, so the user lands on exactly the rows in question.
    pub fn list(&self, table: &str, query: &str) -> String {
        self.page(&format!("{table}_list.do?sysparm_query={}", encode(query)))
    }

    /// A new record's form, prefilled with an encoded query's values.
    pub fn new_record(&self, table: &str, query: &str) -> String {
        self.page(&format!(
            "{table}.do?sys_id=-1&sysparm_query={}",
            encode(query)
        ))
    }
}

fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// What every check's evaluation needs besides its facts.
#[derive(Debug, Clone)]
pub struct Context {
    pub path: SetupPath,
    /// The service user's name (`--username`, default `incident.io`).
    pub username: String,
    /// The client id given, if any; `oauth_app` compares it with the entry's.
    pub client_id: Option<String>,
    pub links: Links,
}

/// Why a Table API query produced no usable rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailureKind {
    /// 403: table security, an ACL, or a missing API access scope.
    Forbidden,
    /// 400 "Invalid table": the table does not exist on this release.
    InvalidTable,
    /// Anything else (5xx after retries, timeouts, malformed answers).
    Other,
}

/// A query that failed, with the error the client reported (never a secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryFailure {
    pub table: String,
    pub kind: FailureKind,
    pub message: String,
}

/// The answer to one Table API query, keeping apart what an empty list can mean.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup<T> {
    /// The rows the caller can see. Empty with a total of zero means there are none.
    Rows(Vec<T>),
    /// `X-Total-Count` says rows match but none came back: ACLs hide them. Never "missing".
    Hidden { total: u64 },
    /// The query itself failed.
    Failed(QueryFailure),
}

impl<T> Lookup<T> {
    pub fn rows(&self) -> Option<&[T]> {
        match self {
            Lookup::Rows(rows) => Some(rows),
            _ => None,
        }
    }
}

/// The finding for a lookup that produced no usable rows, or `None` when the rows can be used.
///
/// Hidden rows and a refused read are "cannot see" warnings: the admin lacks visibility, which is
/// not proof the configuration is wrong. Other failures are errors: the check could not establish
/// what it must.
pub(crate) fn unusable<T>(
    lookup: &Lookup<T>,
    what: &str,
    cannot_see: FindingCode,
    failed: FindingCode,
    link: String,
) -> Option<Finding> {
    match lookup {
        Lookup::Rows(_) => None,
        Lookup::Hidden { total } => Some(
            Finding::warning(
                cannot_see,
                format!(
                    "cannot see {what}: the instance reports {} but returned none to the admin \
                     user, so ACLs hide them",
                    crate::model::count(*total as usize, "matching row", "matching rows")
                ),
            )
            .fix(
                "run with an admin account that can read these records (ACL records need \
                 security_admin), or check them by hand at the link",
            )
            .link(link),
        ),
        Lookup::Failed(failure) if failure.kind == FailureKind::Forbidden => Some(
            Finding::warning(
                cannot_see,
                format!("cannot see {what}: the instance refused the read: {}", failure.message),
            )
            .fix("run with an admin account that can read these records, or check them by hand at the link")
            .link(link),
        ),
        Lookup::Failed(failure) => Some(
            Finding::error(failed, format!("could not read {what}: {}", failure.message))
                .fix("run again; add -v to see each request and its answer")
                .link(link),
        ),
    }
}

/// Joins names for a message: `a`, `a and b`, `a, b and c`.
pub(crate) fn join_names<S: AsRef<str>>(names: &[S]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("'{}'", n.as_ref())).collect();
    match quoted.len() {
        0 => String::new(),
        1 => quoted[0].clone(),
        n => format!("{} and {}", quoted[..n - 1].join(", "), quoted[n - 1]),
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;

    /// The service user as the documented setup leaves it: active, unlocked, a Machine identity,
    /// no failed logins. Tests change the field they are about.
    pub fn healthy_user() -> service_user::User {
        service_user::User {
            updated: Default::default(),
            sys_id: "u1".into(),
            user_name: "incident.io".into(),
            active: Some(true),
            locked_out: Some(false),
            password_needs_reset: Some(false),
            identity_type: service_user::FieldValue::Value("machine".into()),
            failed_attempts: Some(0),
            web_service_access_only: Some(true),
            internal_integration_user: Some(false),
            enable_multifactor_authn: Some(false),
        }
    }

    pub fn ctx(path: SetupPath) -> Context {
        Context {
            path,
            username: "incident.io".into(),
            client_id: Some("abc123".into()),
            links: Links::new("https://acme.service-now.com"),
        }
    }

    /// The codes of a verdict, for table-driven assertions.
    pub fn codes(v: &Verdict) -> Vec<FindingCode> {
        v.findings.iter().map(|f| f.code).collect()
    }

    /// Every non-note finding must say what to do; every finding must name something.
    pub fn assert_actionable(v: &Verdict) {
        for f in &v.findings {
            assert!(!f.message.is_empty(), "{} has no message", f.code);
            if f.severity != Severity::Note {
                assert!(f.fix.is_some(), "{} has no fix", f.code);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn finding_codes_are_unique() {
        let mut seen = HashSet::new();
        for code in FindingCode::ALL {
            assert!(
                seen.insert(code.as_str()),
                "duplicate code {}",
                code.as_str()
            );
        }
    }

    #[test]
    fn finding_codes_are_dotted_lowercase_and_scoped_to_a_check_or_reason() {
        let mut prefixes: Vec<&str> = CheckId::ALL.iter().map(|c| c.as_str()).collect();
        prefixes.extend(["input", "run"]);
        for code in FindingCode::ALL {
            let s = code.as_str();
            let (prefix, rest) = s.split_once('.').expect("dotted");
            assert!(prefixes.contains(&prefix), "{s}: unknown prefix");
            assert!(
                !rest.is_empty()
                    && rest
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit()),
                "{s}: not snake_case"
            );
        }
    }

    #[test]
    fn finding_code_serialises_as_its_dotted_string() {
        let json = serde_json::to_string(&FindingCode::UserLockedOut).unwrap();
        assert_eq!(json, "\"service_user.locked_out\"");
    }

    #[test]
    fn status_follows_the_most_severe_finding() {
        let cases = [
            (vec![], Status::Pass),
            (vec![Severity::Note], Status::Pass),
            (vec![Severity::Note, Severity::Warning], Status::Warn),
            (vec![Severity::Warning, Severity::Error], Status::Fail),
        ];
        for (severities, want) in cases {
            let findings = severities
                .iter()
                .map(|s| Finding::new(FindingCode::AppVersion, *s, "x"))
                .collect();
            assert_eq!(Verdict::from_findings(findings).status, want);
        }
    }

    #[test]
    fn links_encode_queries_and_ids() {
        let links = Links::new("https://acme.service-now.com/");
        assert_eq!(
            links.record("sys_user", "abc"),
            "https://acme.service-now.com/sys_user.do?sys_id=abc"
        );
        assert_eq!(
            links.list("sys_user", "user_name=incident.io^active=true"),
            "https://acme.service-now.com/sys_user_list.do?sysparm_query=user_name%3Dincident.io%5Eactive%3Dtrue"
        );
    }

    #[test]
    fn names_join_like_a_sentence() {
        assert_eq!(join_names::<&str>(&[]), "");
        assert_eq!(join_names(&["a"]), "'a'");
        assert_eq!(join_names(&["a", "b", "c"]), "'a', 'b' and 'c'");
    }
}
