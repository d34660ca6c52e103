//! Fetches the facts of a verify run and evaluates them, in two round trips.
//!
//! Round trip 1 sends one request per identity, together: the admin's credentials on the
//! `instance` check and the service user's on the token request. ServiceNow counts failed logins
//! and locks accounts, so wrong credentials must cost exactly one attempt each, and nothing else
//! may go out with them before they are known to work.
//!
//! Round trip 2 sends everything else at once: every admin-side query (dot-walked, so none waits
//! for another's answer) and the service user's probes of the tables incident.io reads.
//!
//! The admin's request in round trip 1 also fetches the service user's record, with a second
//! query joined by `^NQ` (an OR of two whole queries): the admin's own row proves the login, the
//! other row is the `service_user` facts. That saves a request and keeps a full verify within 16.
//!
//! The queries themselves live in [`super::queries`], shared with `apply`'s read of the same facts.

use std::future::Future;
use std::time::{Duration, Instant};

use secrecy::SecretString;

use super::queries::{self, fetch_if};
use super::{
    app, connect, instance, oauth_app, roles, service_user, task_acls, CheckResult, Context,
    FailureKind, Finding, FindingCode, Lookup, QueryFailure, Verdict,
};
use crate::model::{CheckId, SetupPath};
use crate::requirements::TABLES_READ;
use crate::servicenow::{
    Auth, Client, ErrorKind, ForbiddenKind, ListRequest, Page, Record, Session, SnError,
};

/// The admin side's credentials, or why there are none.
pub enum AdminSide {
    Login {
        auth: Auth,
        login: instance::AdminLogin,
    },
    Missing(String),
}

/// The service user's credentials for the token request, or what is missing.
pub enum ServiceSide {
    Credentials {
        client_id: String,
        client_secret: SecretString,
        password: SecretString,
    },
    Missing(String),
}

/// Everything a run needs besides the client.
pub struct Plan {
    pub path: SetupPath,
    pub username: String,
    pub client_id: Option<String>,
    pub admin: AdminSide,
    pub service: ServiceSide,
    /// Checks to run; empty means all.
    pub only: Vec<CheckId>,
    pub timeout_secs: u64,
}

impl Plan {
    fn selected(&self, id: CheckId) -> bool {
        self.only.is_empty() || self.only.contains(&id)
    }
}

/// Runs `f` and measures it.
async fn timed<T>(f: impl Future<Output = T>) -> (T, Duration) {
    let start = Instant::now();
    let out = f.await;
    (out, start.elapsed())
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The contract's check results, in contract order.
pub async fn run(client: &Client, plan: &Plan) -> Vec<CheckResult> {
    let ctx = Context {
        path: plan.path,
        username: plan.username.clone(),
        client_id: plan.client_id.clone(),
        links: super::Links::new(client.instance().as_str()),
    };
    let want_connect = plan.selected(CheckId::Connect);

    // Round trip 1: one request per identity.
    let admin_session = match &plan.admin {
        AdminSide::Login { auth, .. } => client.session(auth.clone()),
        AdminSide::Missing(_) => client.session(Auth::Anonymous),
    };
    let signed_in = matches!(plan.admin, AdminSide::Login { .. });
    let identity_query = queries::identity(signed_in.then_some(plan.username.as_str()));
    let token_future = async {
        match (&plan.service, want_connect) {
            (
                ServiceSide::Credentials {
                    client_id,
                    client_secret,
                    password,
                },
                true,
            ) => Some(
                timed(client.password_grant(client_id, client_secret, &plan.username, password))
                    .await,
            ),
            _ => None,
        }
    };
    let ((identity, identity_time), token) = tokio::join!(
        timed(admin_session.list(identity_query.table, &identity_query.request)),
        token_future
    );

    let instance_facts = instance::Facts {
        admin: match &plan.admin {
            AdminSide::Login { login, .. } => login.clone(),
            AdminSide::Missing(_) => instance::AdminLogin::None,
        },
        answer: instance_answer(&identity, signed_in, &plan.username),
        timeout_secs: plan.timeout_secs,
    };
    let instance_verdict = instance::evaluate(&instance_facts, &ctx);
    let instance_result = CheckResult::new(CheckId::Instance, instance_verdict, ms(identity_time));
    let blocked = instance::blocks_run(&instance_result);
    let admin_rejected = matches!(instance_facts.answer, instance::Answer::Rejected { .. });
    let admin_ok = signed_in && matches!(instance_facts.answer, instance::Answer::SignedIn { .. });

    // Round trip 2: every admin-side query and the service user's probes, all at once.
    let need = |id: CheckId| admin_ok && plan.selected(id);
    let need_acls = need(CheckId::TaskAcls) && plan.path == SetupPath::App;
    let need_held = need(CheckId::Roles) || need_acls;
    let session = &admin_session;
    let bearer = match &token {
        Some((Ok(t), _)) => Some(client.session(Auth::Bearer(t.access_token.clone()))),
        _ => None,
    };
    let store_q = queries::store_app();
    let custom_q = queries::custom_app();
    let entries_q = queries::oauth_entries();
    let mappings_q = queries::scope_mappings();
    let properties_q = queries::oauth_properties();
    let held_q = queries::held_roles(&plan.username);
    let existing_q = queries::roles();
    let acls_q = queries::task_acls();
    let acl_roles_q = queries::task_acl_roles();
    let (store, custom, entries, mappings, properties, held, existing, acls, acl_roles, probes) = tokio::join!(
        fetch_if(session, need(CheckId::App), &store_q),
        fetch_if(session, need(CheckId::App), &custom_q),
        fetch_if(session, need(CheckId::OauthApp), &entries_q),
        fetch_if(session, need(CheckId::OauthApp), &mappings_q),
        fetch_if(session, need(CheckId::OauthApp), &properties_q),
        fetch_if(session, need_held, &held_q),
        fetch_if(session, need(CheckId::Roles), &existing_q),
        fetch_if(session, need_acls, &acls_q),
        fetch_if(session, need_acls, &acl_roles_q),
        probe_tables(bearer),
    );

    // Evaluate in contract order; `connect` last, so it can read the others' findings.
    let skip_reason = |id: CheckId| -> Option<Finding> {
        if !plan.selected(id) {
            return Some(Finding::note(
                FindingCode::RunNotSelected,
                "not selected with --only",
            ));
        }
        if blocked {
            return Some(
                if matches!(instance_facts.answer, instance::Answer::Rejected { .. }) {
                    Finding::note(
                        FindingCode::RunAdminRejected,
                        "not run: the admin credentials were refused (see instance)",
                    )
                } else {
                    Finding::note(
                        FindingCode::RunInstanceUnavailable,
                        "not run: the instance could not be used (see instance)",
                    )
                },
            );
        }
        None
    };
    let admin_skip = |id: CheckId| -> Option<Finding> {
        skip_reason(id).or_else(|| match &plan.admin {
            AdminSide::Missing(why) => Some(
                Finding::note(FindingCode::InputAdminMissing, format!("skipped: {why}")).fix(
                    format!("give admin credentials: {}", instance::ADMIN_INPUTS),
                ),
            ),
            AdminSide::Login { .. } => None,
        })
    };

    let mut results = Vec::with_capacity(7);
    results.push(if plan.selected(CheckId::Instance) || blocked {
        instance_result
    } else {
        CheckResult::new(
            CheckId::Instance,
            Verdict::skip(Finding::note(
                FindingCode::RunNotSelected,
                "not selected with --only",
            )),
            ms(identity_time),
        )
    });

    // app
    results.push(match admin_skip(CheckId::App) {
        Some(reason) => CheckResult::new(CheckId::App, Verdict::skip(reason), 0),
        None => {
            let (store, t1) = unpack(store, store_q.table, app_record);
            let (custom, t2) = unpack(custom, custom_q.table, app_record);
            let v = app::evaluate(&app::Facts { store, custom }, &ctx);
            CheckResult::new(CheckId::App, v, ms(t1.max(t2)))
        }
    });

    // oauth_app
    results.push(match admin_skip(CheckId::OauthApp) {
        Some(reason) => CheckResult::new(CheckId::OauthApp, Verdict::skip(reason), 0),
        None => {
            let (entries, t1) = unpack(entries, entries_q.table, oauth_entry);
            let (mappings, t2) = unpack(mappings, mappings_q.table, scope_mapping);
            let (properties, t3) = unpack(properties, properties_q.table, property);
            let v = oauth_app::evaluate(
                &oauth_app::Facts {
                    entries,
                    mappings,
                    properties,
                },
                &ctx,
            );
            CheckResult::new(CheckId::OauthApp, v, ms(t1.max(t2).max(t3)))
        }
    });

    // service_user: its facts came with the instance request.
    let user_facts = service_user::Facts {
        user: service_user_lookup(&identity, &plan.username),
    };
    results.push(match admin_skip(CheckId::ServiceUser) {
        Some(reason) => CheckResult::new(CheckId::ServiceUser, Verdict::skip(reason), 0),
        None => CheckResult::new(
            CheckId::ServiceUser,
            service_user::evaluate(&user_facts, &ctx),
            ms(identity_time),
        ),
    });

    // roles
    let user_state = match &user_facts.user {
        Lookup::Rows(_) => match service_user::found(&user_facts, &plan.username) {
            Some(u) => roles::UserState::Found {
                sys_id: u.sys_id.clone(),
            },
            None => roles::UserState::Missing,
        },
        _ => roles::UserState::Unknown,
    };
    let (held, held_time) = unpack(held, held_q.table, held_role);
    let (existing, existing_time) = unpack(existing, existing_q.table, |r| {
        r.str("name").map(str::to_string)
    });
    let roles_facts = roles::Facts {
        user: user_state,
        held,
        existing,
    };
    results.push(match admin_skip(CheckId::Roles) {
        Some(reason) => CheckResult::new(CheckId::Roles, Verdict::skip(reason), 0),
        None => CheckResult::new(
            CheckId::Roles,
            roles::evaluate(&roles_facts, &ctx),
            ms(held_time.max(existing_time)),
        ),
    });

    // task_acls
    results.push(match admin_skip(CheckId::TaskAcls) {
        Some(reason) => CheckResult::new(CheckId::TaskAcls, Verdict::skip(reason), 0),
        None => {
            let (acls, t1) = unpack(acls, acls_q.table, acl);
            let (acl_roles, t2) = unpack(acl_roles, acl_roles_q.table, acl_role);
            let v = task_acls::evaluate(
                &task_acls::Facts {
                    user_holds_admin: roles::holds_admin(&roles_facts),
                    acls,
                    acl_roles,
                },
                &ctx,
            );
            CheckResult::new(CheckId::TaskAcls, v, ms(t1.max(t2).max(held_time)))
        }
    });

    // connect
    let connect_result = match (&plan.service, token) {
        _ if !plan.selected(CheckId::Connect) => CheckResult::new(
            CheckId::Connect,
            Verdict::skip(Finding::note(
                FindingCode::RunNotSelected,
                "not selected with --only",
            )),
            0,
        ),
        (ServiceSide::Missing(why), _) => CheckResult::new(
            CheckId::Connect,
            Verdict::skip(
                Finding::note(FindingCode::InputServiceMissing, format!("skipped: {why}"))
                    .fix("give the client id, client secret and service user password"),
            ),
            0,
        ),
        // The instance itself is unusable (not merely the admin refused): nothing to connect to.
        _ if blocked && !admin_rejected => CheckResult::new(
            CheckId::Connect,
            Verdict::skip(Finding::note(
                FindingCode::RunInstanceUnavailable,
                "not run: the instance could not be used (see instance)",
            )),
            0,
        ),
        (_, Some((token, token_time))) => {
            let (probes, probe_time) = probes;
            let facts = connect::Facts {
                token: token_outcome(&token),
                probes,
            };
            let v = connect::evaluate(&facts, &ctx, &results);
            CheckResult::new(CheckId::Connect, v, ms(token_time + probe_time))
        }
        (ServiceSide::Credentials { .. }, None) => CheckResult::new(
            CheckId::Connect,
            Verdict::skip(Finding::note(
                FindingCode::RunNotSelected,
                "not selected with --only",
            )),
            0,
        ),
    };
    results.push(connect_result);
    results
}

/// Reads each table incident.io uses, once, as the service user; all at once.
async fn probe_tables(session: Option<Session>) -> (Vec<connect::Probe>, Duration) {
    let Some(session) = session else {
        return (Vec::new(), Duration::ZERO);
    };
    let start = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for (i, table) in TABLES_READ.iter().enumerate() {
        let session = session.clone();
        set.spawn(async move {
            let req = ListRequest::new()
                .fields(&["sys_id"])
                .limit(1)
                .exclude_reference_link(true);
            (i, *table, session.list(table, &req).await)
        });
    }
    let mut probes: Vec<(usize, connect::Probe)> = Vec::new();
    while let Some(joined) = set.join_next().await {
        if let Ok((i, table, result)) = joined {
            probes.push((
                i,
                connect::Probe {
                    table: table.to_string(),
                    outcome: probe_outcome(&result),
                },
            ));
        }
    }
    probes.sort_by_key(|(i, _)| *i);
    (
        probes.into_iter().map(|(_, p)| p).collect(),
        start.elapsed(),
    )
}

/// What the instance check's request says about the instance and the admin.
pub fn instance_answer(
    result: &Result<Page, SnError>,
    signed_in: bool,
    username: &str,
) -> instance::Answer {
    use instance::Answer;
    match result {
        Ok(page) if signed_in => Answer::SignedIn {
            user_name: page
                .records
                .iter()
                .filter_map(|r| r.str("user_name"))
                .find(|n| *n != username)
                .map(str::to_string),
        },
        Ok(_) => Answer::AnonymousAccepted,
        Err(e) => match &e.kind {
            ErrorKind::Unauthorized { .. } if !signed_in => Answer::AnonymousRejected,
            ErrorKind::Unauthorized { mfa_required } => Answer::Rejected {
                mfa_required: *mfa_required,
            },
            ErrorKind::Hibernating => Answer::Hibernating,
            ErrorKind::LoginPage => Answer::LoginPage,
            ErrorKind::NotServiceNow => Answer::NotServiceNow {
                detail: e.to_string(),
            },
            ErrorKind::Timeout => Answer::Timeout,
            ErrorKind::Connect => Answer::Unreachable {
                detail: e.server_detail.clone().unwrap_or_else(|| e.to_string()),
            },
            ErrorKind::Proxy => Answer::Proxy {
                detail: e.server_detail.clone().unwrap_or_else(|| e.to_string()),
            },
            ErrorKind::Tls => Answer::Tls {
                detail: e.server_detail.clone().unwrap_or_else(|| e.to_string()),
            },
            ErrorKind::Server { status } => Answer::ServerError { status: *status },
            ErrorKind::RateLimited { .. } => Answer::RateLimited,
            _ => Answer::Unexpected {
                detail: e.to_string(),
            },
        },
    }
}

/// The service user's rows out of the instance request (which also returned the admin's row).
pub fn service_user_lookup(
    result: &Result<Page, SnError>,
    username: &str,
) -> Lookup<service_user::User> {
    match result {
        Ok(page) => {
            let users: Vec<service_user::User> = page
                .records
                .iter()
                .filter(|r| r.str("user_name") == Some(username))
                .filter_map(user_record)
                .collect();
            // Both queries' rows are counted; more counted than returned means one is hidden.
            let counted = page.total_count.unwrap_or(0);
            let returned = page.records.len() as u64;
            if users.is_empty() && counted > returned {
                Lookup::Hidden {
                    total: counted - returned,
                }
            } else {
                Lookup::Rows(users)
            }
        }
        Err(e) => Lookup::Failed(failure("sys_user", e)),
    }
}

fn failure(table: &str, e: &SnError) -> QueryFailure {
    QueryFailure {
        table: table.to_string(),
        kind: match e.kind {
            ErrorKind::Forbidden(_) => FailureKind::Forbidden,
            ErrorKind::InvalidTable => FailureKind::InvalidTable,
            _ => FailureKind::Other,
        },
        message: e.to_string(),
    }
}

/// A page as a [`Lookup`], keeping "hidden" and "failed" apart from "none".
pub fn to_lookup<T>(
    result: &Result<Page, SnError>,
    table: &str,
    convert: impl Fn(&Record) -> Option<T>,
) -> Lookup<T> {
    match result {
        Ok(page) if page.hidden_rows() => Lookup::Hidden {
            total: page.total_count.unwrap_or(0),
        },
        Ok(page) => Lookup::Rows(page.records.iter().filter_map(convert).collect()),
        Err(e) => Lookup::Failed(failure(table, e)),
    }
}

/// A query that was not needed reads as an empty list; only evaluated checks read these.
fn unpack<T>(
    fetched: Option<(Result<Page, SnError>, Duration)>,
    table: &str,
    convert: impl Fn(&Record) -> Option<T>,
) -> (Lookup<T>, Duration) {
    match fetched {
        Some((result, time)) => (to_lookup(&result, table, convert), time),
        None => (Lookup::Rows(Vec::new()), Duration::ZERO),
    }
}

fn token_outcome(
    result: &Result<crate::servicenow::TokenResponse, SnError>,
) -> connect::TokenOutcome {
    match result {
        Ok(_) => connect::TokenOutcome::Minted,
        Err(e) => match &e.kind {
            ErrorKind::TokenDenied { error, description } => connect::TokenOutcome::AccessDenied {
                error: error.clone(),
                description: description.clone(),
            },
            ErrorKind::Unauthorized { .. } => connect::TokenOutcome::AccessDenied {
                error: "unauthorized".into(),
                description: e.server_message.clone().unwrap_or_else(|| "401".into()),
            },
            _ => connect::TokenOutcome::Failed {
                message: e.to_string(),
            },
        },
    }
}

fn probe_outcome(result: &Result<Page, SnError>) -> connect::ProbeOutcome {
    use connect::ProbeOutcome;
    match result {
        Ok(page) if page.hidden_rows() => ProbeOutcome::Hidden {
            total: page.total_count.unwrap_or(0),
        },
        Ok(_) => ProbeOutcome::Readable,
        Err(e) => match &e.kind {
            ErrorKind::Forbidden(ForbiddenKind::ApiAccessScope) => ProbeOutcome::ScopeBlocked,
            ErrorKind::Forbidden(_) => ProbeOutcome::Denied {
                message: e
                    .server_message
                    .clone()
                    .into_iter()
                    .chain(e.server_detail.clone())
                    .collect::<Vec<_>>()
                    .join(": "),
            },
            _ => ProbeOutcome::Failed {
                message: e.to_string(),
            },
        },
    }
}

fn string(r: &Record, field: &str) -> Option<String> {
    r.str(field).map(str::to_string)
}

pub fn app_record(r: &Record) -> Option<app::AppRecord> {
    Some(app::AppRecord {
        sys_id: string(r, "sys_id")?,
        name: string(r, "name").unwrap_or_default(),
        version: string(r, "version").filter(|v| !v.is_empty()),
        active: r.bool("active"),
        update_available: r.bool("update_available"),
    })
}

pub fn oauth_entry(r: &Record) -> Option<oauth_app::Entry> {
    Some(oauth_app::Entry {
        sys_id: string(r, "sys_id")?,
        name: string(r, "name").unwrap_or_default(),
        client_id: string(r, "client_id").filter(|v| !v.is_empty()),
        active: r.bool("active"),
        access_token_lifespan: r.u64("access_token_lifespan"),
        refresh_token_lifespan: r.u64("refresh_token_lifespan"),
    })
}

pub fn scope_mapping(r: &Record) -> Option<oauth_app::ScopeMapping> {
    Some(oauth_app::ScopeMapping {
        oauth_entity: string(r, "oauth_entity")?,
        auth_scope: string(r, "auth_scope").unwrap_or_default(),
        auth_scope_name: string(r, "auth_scope.name"),
    })
}

pub fn property(r: &Record) -> Option<oauth_app::Property> {
    Some(oauth_app::Property {
        name: string(r, "name")?,
        value: string(r, "value").unwrap_or_default(),
    })
}

pub fn user_record(r: &Record) -> Option<service_user::User> {
    use service_user::FieldValue;
    Some(service_user::User {
        sys_id: string(r, "sys_id")?,
        user_name: string(r, "user_name")?,
        active: r.bool("active"),
        locked_out: r.bool("locked_out"),
        password_needs_reset: r.bool("password_needs_reset"),
        identity_type: if !r.has("identity_type") {
            FieldValue::Absent
        } else {
            match r.str("identity_type") {
                Some(v) if !v.is_empty() => FieldValue::Value(v.to_string()),
                _ => FieldValue::Empty,
            }
        },
        failed_attempts: r.u64("failed_attempts"),
    })
}

pub fn held_role(r: &Record) -> Option<roles::HeldRole> {
    Some(roles::HeldRole {
        name: string(r, "role.name")?,
        inherited: r.bool("inherited").unwrap_or(false),
        state: string(r, "state"),
    })
}

pub fn acl(r: &Record) -> Option<task_acls::Acl> {
    Some(task_acls::Acl {
        sys_id: string(r, "sys_id")?,
        operation: string(r, "operation")?,
        active: r.bool("active"),
        admin_overrides: r.bool("admin_overrides"),
        decision_type: string(r, "decision_type").filter(|v| !v.is_empty()),
        scope: string(r, "sys_scope").filter(|v| !v.is_empty()),
        scope_name: string(r, "sys_scope.scope").filter(|v| !v.is_empty()),
    })
}

pub fn acl_role(r: &Record) -> Option<task_acls::AclRole> {
    Some(task_acls::AclRole {
        acl: string(r, "sys_security_acl")?,
        role: string(r, "sys_user_role.name"),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::servicenow::RequestTarget;

    fn record(v: serde_json::Value) -> Record {
        Record(v.as_object().unwrap().clone())
    }

    fn page(records: Vec<Record>, total: u64) -> Result<Page, SnError> {
        Ok(Page {
            records,
            total_count: Some(total),
            next_offset: None,
        })
    }

    fn err(kind: ErrorKind) -> Result<Page, SnError> {
        Err(SnError::new(kind, RequestTarget::default()))
    }

    fn admin_row() -> Record {
        record(json!({"sys_id": "a1", "user_name": "admin", "active": "true"}))
    }

    fn service_row(extra: serde_json::Value) -> Record {
        let mut r = json!({"sys_id": "u1", "user_name": "incident.io", "active": "true",
            "locked_out": "false", "password_needs_reset": "false", "failed_attempts": "0"});
        r.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        record(r)
    }

    #[test]
    fn the_identity_request_separates_the_admin_row_from_the_service_user() {
        let result = page(
            vec![
                admin_row(),
                service_row(json!({"identity_type": "machine"})),
            ],
            2,
        );
        match instance_answer(&result, true, "incident.io") {
            instance::Answer::SignedIn { user_name } => {
                assert_eq!(user_name.as_deref(), Some("admin"))
            }
            other => panic!("{other:?}"),
        }
        let Lookup::Rows(users) = service_user_lookup(&result, "incident.io") else {
            panic!("rows expected");
        };
        assert_eq!(users.len(), 1);
        assert_eq!(users[0].sys_id, "u1");
        assert_eq!(
            users[0].identity_type,
            service_user::FieldValue::Value("machine".into())
        );
    }

    #[test]
    fn a_counted_but_unreturned_service_user_is_hidden_not_missing() {
        let hidden = page(vec![admin_row()], 2);
        assert_eq!(
            service_user_lookup(&hidden, "incident.io"),
            Lookup::Hidden { total: 1 }
        );
        let missing = page(vec![admin_row()], 1);
        assert_eq!(
            service_user_lookup(&missing, "incident.io"),
            Lookup::Rows(vec![])
        );
    }

    #[test]
    fn identity_type_absent_empty_and_set_are_told_apart() {
        use service_user::FieldValue;
        let absent = user_record(&service_row(json!({}))).unwrap();
        assert_eq!(absent.identity_type, FieldValue::Absent);
        let empty = user_record(&service_row(json!({"identity_type": ""}))).unwrap();
        assert_eq!(empty.identity_type, FieldValue::Empty);
        let locked = user_record(&service_row(
            json!({"locked_out": "true", "failed_attempts": "5"}),
        ))
        .unwrap();
        assert_eq!(locked.locked_out, Some(true));
        assert_eq!(locked.failed_attempts, Some(5));
    }

    #[test]
    fn errors_map_to_instance_answers() {
        use instance::Answer;
        let cases = [
            (
                ErrorKind::Unauthorized {
                    mfa_required: false,
                },
                false,
                Answer::AnonymousRejected,
            ),
            (
                ErrorKind::Unauthorized { mfa_required: true },
                true,
                Answer::Rejected { mfa_required: true },
            ),
            (ErrorKind::Hibernating, true, Answer::Hibernating),
            (ErrorKind::LoginPage, false, Answer::LoginPage),
            (ErrorKind::Timeout, true, Answer::Timeout),
            (
                ErrorKind::Server { status: 503 },
                true,
                Answer::ServerError { status: 503 },
            ),
            (
                ErrorKind::RateLimited { retry_after: None },
                true,
                Answer::RateLimited,
            ),
        ];
        for (kind, signed_in, want) in cases {
            assert_eq!(
                instance_answer(&err(kind.clone()), signed_in, "incident.io"),
                want,
                "{kind:?}"
            );
        }
        assert!(matches!(
            instance_answer(&err(ErrorKind::Connect), true, "x"),
            Answer::Unreachable { .. }
        ));
        assert!(matches!(
            instance_answer(&err(ErrorKind::Tls), true, "x"),
            Answer::Tls { .. }
        ));
    }

    #[test]
    fn lookups_keep_hidden_and_failed_apart_from_none() {
        let conv = |r: &Record| r.str("name").map(str::to_string);
        assert_eq!(to_lookup(&page(vec![], 0), "t", conv), Lookup::Rows(vec![]));
        assert_eq!(
            to_lookup(&page(vec![], 3), "t", conv),
            Lookup::Hidden { total: 3 }
        );
        match to_lookup(&err(ErrorKind::InvalidTable), "t", conv) {
            Lookup::Failed(f) => assert_eq!(f.kind, FailureKind::InvalidTable),
            other => panic!("{other:?}"),
        }
        match to_lookup(
            &err(ErrorKind::Forbidden(ForbiddenKind::TableSecurity)),
            "t",
            conv,
        ) {
            Lookup::Failed(f) => assert_eq!(f.kind, FailureKind::Forbidden),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn probes_tell_scope_blocks_from_denials_and_hidden_rows() {
        use connect::ProbeOutcome;
        assert_eq!(probe_outcome(&page(vec![], 0)), ProbeOutcome::Readable);
        assert_eq!(
            probe_outcome(&page(vec![], 7)),
            ProbeOutcome::Hidden { total: 7 }
        );
        assert_eq!(
            probe_outcome(&err(ErrorKind::Forbidden(ForbiddenKind::ApiAccessScope))),
            ProbeOutcome::ScopeBlocked
        );
        assert!(matches!(
            probe_outcome(&err(ErrorKind::Forbidden(ForbiddenKind::TableSecurity))),
            ProbeOutcome::Denied { .. }
        ));
    }

    #[test]
    fn dot_walked_fields_fill_role_and_acl_facts() {
        let held = held_role(&record(
            json!({"role": "r1", "role.name": "cmdb_read", "inherited": "true", "state": "active"}),
        ))
        .unwrap();
        assert_eq!(held.name, "cmdb_read");
        assert!(held.inherited);
        let acl = acl(&record(json!({"sys_id": "x", "operation": "read", "active": "true",
            "admin_overrides": "false", "decision_type": "allow", "sys_scope": "global", "sys_scope.scope": "global"}))).unwrap();
        assert_eq!(acl.admin_overrides, Some(false));
        assert_eq!(acl.scope.as_deref(), Some("global"));
        let link = acl_role(&record(json!({"sys_security_acl": "x", "sys_user_role": "r", "sys_user_role.name": "x_incident_io.api_user"}))).unwrap();
        assert_eq!(link.role.as_deref(), Some("x_incident_io.api_user"));
    }
}
