//! `app`: the incident.io Store app (scope `x_incident_io`) is installed and active.
//!
//! Store installs live in `sys_store_app`; an app built on the instance lives in `sys_app`. A row
//! in `sys_app` with the scope is not the Store app (it may be a hand-made copy or a developer's
//! work in progress) and does not make back-sync work, so the two are told apart.

use super::{unusable, Context, Finding, FindingCode, Lookup, Verdict};
use crate::model::SetupPath;
use crate::requirements::{APP_SCOPE, STORE_URL};
use crate::servicenow::fields;

/// One row of `sys_store_app` or `sys_app` for the scope.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Deserialize)]
pub struct AppRecord {
    #[serde(deserialize_with = "fields::text")]
    pub sys_id: String,
    #[serde(default, deserialize_with = "fields::text_or_empty")]
    pub name: String,
    #[serde(default, deserialize_with = "fields::non_empty")]
    pub version: Option<String>,
    #[serde(default, deserialize_with = "fields::flag")]
    pub active: Option<bool>,
    #[serde(default, deserialize_with = "fields::flag")]
    pub update_available: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// `sys_store_app?scope=x_incident_io`
    pub store: Lookup<AppRecord>,
    /// `sys_app?scope=x_incident_io`
    pub custom: Lookup<AppRecord>,
}

/// The encoded query both app tables are searched with.
pub fn scope_query() -> String {
    format!("scope={APP_SCOPE}")
}

pub fn evaluate(facts: &Facts, ctx: &Context) -> Verdict {
    let query = scope_query();
    let list = ctx.links.list("sys_store_app", &query);
    if let Some(f) = unusable(
        &facts.store,
        "the installed Store apps (sys_store_app)",
        FindingCode::AppCannotSee,
        FindingCode::AppQueryFailed,
        list.clone(),
    ) {
        return Verdict::from_findings(vec![f]);
    }
    let store = facts.store.rows().unwrap_or_default();
    // A missing app breaks the app path; on the admin path it only slows back-sync down.
    let missing = |code: FindingCode, message: String, fix: &str| {
        match ctx.path {
        SetupPath::App => Finding::error(code, message).fix(fix),
        SetupPath::Admin => Finding::warning(
            code,
            format!("{message}; on the admin path incident.io still works, but back-sync from ServiceNow will not be real-time"),
        )
        .fix(fix),
    }
    };

    let Some(app) = store
        .iter()
        .find(|a| a.active == Some(true))
        .or_else(|| store.first())
    else {
        let custom = facts.custom.rows().unwrap_or_default();
        let finding = match custom.first() {
            Some(copy) => missing(
                FindingCode::AppCustomOnly,
                format!(
                    "scope {APP_SCOPE} exists only as an application built on this instance \
                     ('{}' in sys_app), not as the incident.io Store app",
                    copy.name
                ),
                "install the incident.io app from the ServiceNow Store; the Store app ships the \
                 x_incident_io.api_user role and the real-time back-sync",
            )
            .link(ctx.links.record("sys_app", &copy.sys_id)),
            None => missing(
                FindingCode::AppNotInstalled,
                format!("the incident.io app (scope {APP_SCOPE}) is not installed"),
                "install the incident.io app from the ServiceNow Store (snconnect cannot install \
                 Store apps), then run verify again",
            )
            .link(STORE_URL),
        };
        return Verdict::from_findings(vec![finding]);
    };

    let mut findings = Vec::new();
    if app.active != Some(true) {
        findings.push(
            missing(
                FindingCode::AppInactive,
                format!(
                    "the incident.io app '{}' is installed but not active",
                    app.name
                ),
                "activate it: open the record and set Active, or reinstall it from the Store",
            )
            .link(ctx.links.record("sys_store_app", &app.sys_id)),
        );
    }
    let version = app.version.as_deref().unwrap_or("unknown");
    findings.push(
        Finding::note(
            FindingCode::AppVersion,
            format!("the incident.io app '{}' is at version {version}", app.name),
        )
        .link(ctx.links.record("sys_store_app", &app.sys_id)),
    );
    if app.update_available == Some(true) {
        findings.push(
            Finding::note(
                FindingCode::AppUpdateAvailable,
                format!(
                    "an update of the incident.io app '{}' is available",
                    app.name
                ),
            )
            .fix("update it from the application manager when convenient")
            .link(STORE_URL),
        );
    }
    Verdict::from_findings(findings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::*;
    use crate::checks::{FailureKind, QueryFailure, Status};

    fn app(active: bool) -> AppRecord {
        AppRecord {
            sys_id: "a1".into(),
            name: "incident.io".into(),
            version: Some("2.3.1".into()),
            active: Some(active),
            update_available: Some(false),
        }
    }

    fn none() -> Lookup<AppRecord> {
        Lookup::Rows(vec![])
    }

    #[test]
    fn table() {
        use FindingCode as C;
        let with_update = AppRecord {
            update_available: Some(true),
            ..app(true)
        };
        let cases: Vec<(&str, SetupPath, Facts, Status, Vec<FindingCode>)> = vec![
            (
                "installed and active",
                SetupPath::App,
                Facts {
                    store: Lookup::Rows(vec![app(true)]),
                    custom: none(),
                },
                Status::Pass,
                vec![C::AppVersion],
            ),
            (
                "update available is a note",
                SetupPath::App,
                Facts {
                    store: Lookup::Rows(vec![with_update]),
                    custom: none(),
                },
                Status::Pass,
                vec![C::AppVersion, C::AppUpdateAvailable],
            ),
            (
                "not installed on the app path fails",
                SetupPath::App,
                Facts {
                    store: none(),
                    custom: none(),
                },
                Status::Fail,
                vec![C::AppNotInstalled],
            ),
            (
                "not installed on the admin path warns",
                SetupPath::Admin,
                Facts {
                    store: none(),
                    custom: none(),
                },
                Status::Warn,
                vec![C::AppNotInstalled],
            ),
            (
                "inactive",
                SetupPath::App,
                Facts {
                    store: Lookup::Rows(vec![app(false)]),
                    custom: none(),
                },
                Status::Fail,
                vec![C::AppInactive, C::AppVersion],
            ),
            (
                "an active row wins over an inactive one",
                SetupPath::App,
                Facts {
                    store: Lookup::Rows(vec![app(false), app(true)]),
                    custom: none(),
                },
                Status::Pass,
                vec![C::AppVersion],
            ),
            (
                "custom app only",
                SetupPath::App,
                Facts {
                    store: none(),
                    custom: Lookup::Rows(vec![app(true)]),
                },
                Status::Fail,
                vec![C::AppCustomOnly],
            ),
            (
                "store rows hidden: cannot see, never missing",
                SetupPath::App,
                Facts {
                    store: Lookup::Hidden { total: 1 },
                    custom: none(),
                },
                Status::Warn,
                vec![C::AppCannotSee],
            ),
            (
                "store query failed",
                SetupPath::App,
                Facts {
                    store: Lookup::Failed(QueryFailure {
                        table: "sys_store_app".into(),
                        kind: FailureKind::Other,
                        message: "HTTP 500".into(),
                    }),
                    custom: none(),
                },
                Status::Fail,
                vec![C::AppQueryFailed],
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
    fn version_is_reported_and_missing_app_links_to_the_store() {
        let v = evaluate(
            &Facts {
                store: Lookup::Rows(vec![app(true)]),
                custom: none(),
            },
            &ctx(SetupPath::App),
        );
        assert!(v.findings[0].message.contains("2.3.1"));
        let v = evaluate(
            &Facts {
                store: none(),
                custom: none(),
            },
            &ctx(SetupPath::App),
        );
        assert_eq!(v.findings[0].link.as_deref(), Some(STORE_URL));
    }
}
