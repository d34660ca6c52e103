//! The facts of a run, gathered once: the one place that decides which queries go out, sends
//! them, and decodes the answers into typed records. `verify`, `apply` and the wizard's per-step
//! checks all read an instance through [`gather`]; the checks then judge the same [`Facts`] and
//! apply's plan is built from them, so the commands cannot disagree about what the instance holds.
//!
//! The rounds. ServiceNow counts failed logins and locks accounts, so each identity's credentials
//! go out in one request before anything else is sent with them, and the service user's password
//! is tried only when nothing known says the try must fail or could lock the account:
//!
//! 1. The admin's one request: it proves the admin's credentials and also carries the service
//!    user's row (a second query joined by `^NQ`, an OR of whole queries).
//! 2. Every admin-side query at once (dot-walked, so none waits for another), among them the OAuth
//!    entries (with the client id given) and the lockout threshold.
//! 3. The token request, unless [`connect::withheld`] says no: the user is locked out, inactive or
//!    missing, no active inbound entry has the client id, one more failure would lock the account,
//!    or an earlier run saw these exact credentials refused ([`Refusals`]).
//! 4. The service user's probes of the tables incident.io reads, with the token.
//!
//! Rounds 3 and 4 start as soon as the two facts that gate the token (the entries and the
//! threshold, sent first in round 2) are in, so they overlap the rest of round 2 when the
//! instance serves only a few requests at once.
//!
//! Without admin credentials nothing can be learned first: the token request goes in round 1,
//! beside the anonymous identity request, guarded by the memory of refusals alone, and the probes
//! follow in round 2. The price of the safety is two more rounds when admin credentials are
//! given; the benchmark's bound (`examples/bench_verify.rs`) counts four.
//!
//! Every lookup keeps "none", "hidden by ACLs" and "the query failed" apart ([`Lookup`]): a check
//! reports a hidden row as "cannot see", and apply creates a record only on positive absence.

use std::future::Future;
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};

use crate::checks::queries::{self, fetch_if};
use crate::checks::{
    app, connect, instance, oauth_app, posture, roles, service_user, task_acls, FailureKind,
    Lookup, QueryFailure,
};
use crate::credentials::Refusals;
use crate::inputs::AdminAuth;
use crate::model::{CheckId, SetupPath};
use crate::requirements::{AUTH_SCOPE, TABLES_READ};
use crate::servicenow::{
    fields, Auth, Client, ErrorKind, ForbiddenKind, ListRequest, Page, Record, Session, SnError,
};

/// The service user's credentials for the token request, or what is missing.
pub enum ServiceSide {
    Credentials {
        client_id: String,
        client_secret: SecretString,
        password: SecretString,
    },
    Missing(String),
}

/// What a run asks of the instance.
pub struct Plan {
    pub path: SetupPath,
    pub username: String,
    pub client_id: Option<String>,
    /// The admin's credentials, or why there are none.
    pub admin: AdminAuth,
    pub service: ServiceSide,
    /// Checks to run; empty means all.
    pub only: Vec<CheckId>,
    pub timeout: std::time::Duration,
    /// Where refused credentials are remembered across runs; `None` remembers nothing (the demo,
    /// in-process tests).
    pub refusals: Option<Refusals>,
    /// `--retry-refused`: try credentials an earlier run saw refused.
    pub retry_refused: bool,
    /// `--accept-lockout-risk`: try even when one more failed login would lock the account.
    pub accept_lockout_risk: bool,
    /// `--egress-ip`: incident.io's addresses, for the posture check's IP rules.
    pub egress: Vec<std::net::IpAddr>,
}

impl Plan {
    pub fn selected(&self, id: CheckId) -> bool {
        self.only.is_empty() || self.only.contains(&id)
    }
}

/// A `sys_user_role` row.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct RoleRecord {
    #[serde(deserialize_with = "fields::text")]
    pub sys_id: String,
    #[serde(deserialize_with = "fields::text")]
    pub name: String,
}

/// A `sys_auth_scope` row.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct AuthScopeRecord {
    #[serde(deserialize_with = "fields::text")]
    pub sys_id: String,
    #[serde(default, deserialize_with = "fields::text_or_empty")]
    pub name: String,
}

/// How long the queries behind each check took, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timings {
    pub identity: u64,
    pub app: u64,
    pub oauth: u64,
    pub held: u64,
    pub roles: u64,
    pub acls: u64,
    pub posture: u64,
    pub token: u64,
    pub probes: u64,
}

/// Everything the checks judge and apply plans from. A lookup whose query was not sent (its
/// check not selected, or the admin side unusable) reads as an empty list; only the checks that
/// needed it read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// How the admin signed in, and what the identity request answered.
    pub admin: instance::AdminLogin,
    pub answer: instance::Answer,
    /// The signed-in admin's user name, when the admin's own row was readable.
    pub admin_user: Option<String>,
    /// Whether this release's `sys_user` has `identity_type` (seen on the admin's own row).
    pub identity_type_field: bool,
    /// `sys_store_app?scope=x_incident_io`
    pub app: Lookup<app::AppRecord>,
    /// `sys_app?scope=x_incident_io` (a custom app of the same scope)
    pub custom: Lookup<app::AppRecord>,
    /// `oauth_entity?name=incident.io`
    pub entries: Lookup<oauth_app::Entry>,
    /// `oauth_entity_auth_scope_mapping?oauth_entity.name=incident.io`
    pub mappings: Lookup<oauth_app::ScopeMapping>,
    /// `sys_auth_scope?name=useraccount`
    pub auth_scopes: Lookup<AuthScopeRecord>,
    /// The OAuth switches in `sys_properties`.
    pub properties: Lookup<oauth_app::Property>,
    /// The service user, out of the identity request.
    pub user: Lookup<service_user::User>,
    /// The service user's grants of the roles that matter.
    pub held: Lookup<roles::HeldRole>,
    /// The roles that matter, with their sys_ids (absent ones are simply not in the list).
    pub roles: Lookup<RoleRecord>,
    /// The record ACLs on `task` (read on the app path only; empty otherwise).
    pub acls: Lookup<task_acls::Acl>,
    pub acl_roles: Lookup<task_acls::AclRole>,
    /// The posture check's facts: REST API access policies on the Table API, IP access rules,
    /// and the clone data preservers of the OAuth entry and the user.
    pub api_policies: Lookup<posture::ApiPolicy>,
    pub ip_rules: Lookup<posture::IpRule>,
    pub preservers: Lookup<posture::Preserver>,
    /// The token request, when one was made.
    pub token: Option<connect::TokenOutcome>,
    /// When the instance's TLS certificate ends (Unix seconds), over https.
    pub certificate_expires: Option<u64>,
    /// The service user's failed-login count read again after the instance refused the token
    /// (admin side only): whether the refusal was counted against the user tells a wrong
    /// password from a wrong client.
    pub failed_attempts_after: Option<u64>,
    /// `glide.user.max_unlock_attempts`, or its default.
    pub lockout_threshold: u32,
    /// When an earlier run saw these service credentials refused (unix seconds).
    pub refused_at: Option<u64>,
    /// The service user's reads of the tables incident.io uses, in [`TABLES_READ`] order.
    pub probes: Vec<connect::Probe>,
    pub timings: Timings,
}

impl Facts {
    /// A fresh instance as the plan sees it: nothing of incident.io's, every base role present.
    /// For tests and for documentation of the shape.
    pub fn empty_instance() -> Facts {
        Facts {
            admin: instance::AdminLogin::Basic {
                user: "admin".into(),
            },
            answer: instance::Answer::SignedIn {
                user_name: Some("admin".into()),
            },
            admin_user: Some("admin".into()),
            identity_type_field: true,
            app: Lookup::Rows(vec![]),
            custom: Lookup::Rows(vec![]),
            entries: Lookup::Rows(vec![]),
            mappings: Lookup::Rows(vec![]),
            auth_scopes: Lookup::Rows(vec![AuthScopeRecord {
                sys_id: "scope-useraccount".into(),
                name: AUTH_SCOPE.into(),
            }]),
            properties: Lookup::Rows(vec![]),
            user: Lookup::Rows(vec![]),
            held: Lookup::Rows(vec![]),
            roles: Lookup::Rows(
                ["admin", "cmdb_read", "sn_cmdb_user", "incident_manager"]
                    .iter()
                    .map(|n| RoleRecord {
                        sys_id: format!("role-{n}"),
                        name: n.to_string(),
                    })
                    .collect(),
            ),
            acls: Lookup::Rows(vec![]),
            acl_roles: Lookup::Rows(vec![]),
            api_policies: Lookup::Rows(vec![]),
            ip_rules: Lookup::Rows(vec![]),
            preservers: Lookup::Rows(vec![]),
            token: None,
            certificate_expires: None,
            failed_attempts_after: None,
            lockout_threshold: crate::requirements::DEFAULT_LOCKOUT_THRESHOLD,
            refused_at: None,
            probes: Vec::new(),
            timings: Timings::default(),
        }
    }

    /// The admin signed in and the instance answered: the admin-side lookups are real.
    pub fn admin_ok(&self) -> bool {
        !matches!(self.admin, instance::AdminLogin::None)
            && matches!(self.answer, instance::Answer::SignedIn { .. })
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

/// A query that was not sent reads as an empty list; only the checks that needed it read it.
fn lookup<T>(
    fetched: Option<(Result<Page, SnError>, Duration)>,
    table: &str,
    convert: impl Fn(&Record) -> Option<T>,
) -> (Lookup<T>, u64) {
    match fetched {
        Some((result, time)) => (to_lookup(&result, table, convert), ms(time)),
        None => (Lookup::Rows(Vec::new()), 0),
    }
}

/// The service user's credentials when `connect` is to run.
fn service_credentials(plan: &Plan) -> Option<(&str, &SecretString, &SecretString)> {
    match (&plan.service, plan.selected(CheckId::Connect)) {
        (
            ServiceSide::Credentials {
                client_id,
                client_secret,
                password,
            },
            true,
        ) => Some((client_id.as_str(), client_secret, password)),
        _ => None,
    }
}

/// Reads the instance for `plan` (see the module's notes for the rounds).
pub async fn gather(client: &Client, plan: &Plan) -> Facts {
    let service = service_credentials(plan);
    let signed_in = !matches!(plan.admin, AdminAuth::Missing(_));
    // What earlier runs remember about these exact credentials: the parts of the fingerprint.
    let instance_bytes = client.instance().as_str().as_bytes();
    let service_parts: Option<[&[u8]; 6]> = service.map(|(client_id, secret, password)| {
        [
            b"service".as_slice(),
            instance_bytes,
            plan.username.as_bytes(),
            client_id.as_bytes(),
            secret.expose_secret().as_bytes(),
            password.expose_secret().as_bytes(),
        ]
    });
    let refused_at = match (&plan.refusals, &service_parts) {
        (Some(memory), Some(parts)) if !plan.retry_refused => memory.refused_at(parts),
        _ => None,
    };
    let grant = || async {
        let (client_id, secret, password) = service?;
        Some(timed(client.password_grant(client_id, secret, &plan.username, password)).await)
    };

    // The admin's credentials are remembered the same way: a cron job with a stale admin
    // password must not lock the admin out either.
    let admin_parts: Option<Vec<&[u8]>> = match &plan.admin {
        AdminAuth::Basic { user, password } => Some(vec![
            b"admin-basic".as_slice(),
            instance_bytes,
            user.as_bytes(),
            password.expose_secret().as_bytes(),
        ]),
        AdminAuth::Bearer(token) => Some(vec![
            b"admin-bearer".as_slice(),
            instance_bytes,
            token.expose_secret().as_bytes(),
        ]),
        AdminAuth::Missing(_) => None,
    };
    let admin_refused_at = match (&plan.refusals, &admin_parts) {
        (Some(memory), Some(parts)) if !plan.retry_refused => memory.refused_at(parts),
        _ => None,
    };

    // Round 1: the admin's one request. Without admin credentials nothing can be learned first,
    // so the token request goes with it (guarded by what earlier runs remember only).
    let admin_session = client.session(plan.admin.auth());
    let identity_query = queries::identity(signed_in.then_some(plan.username.as_str()));
    let early = !signed_in && refused_at.is_none();
    let ((identity, identity_time), mut token) = tokio::join!(
        timed(async {
            match admin_refused_at {
                Some(_) => None,
                None => Some(
                    admin_session
                        .list(identity_query.table, &identity_query.request)
                        .await,
                ),
            }
        }),
        async {
            if early {
                grant().await
            } else {
                None
            }
        }
    );
    let admin = plan.admin.login();
    let answer = match (&identity, admin_refused_at) {
        (Some(result), _) => instance_answer(result, signed_in, &plan.username),
        (None, Some(at)) => instance::Answer::RefusedBefore { at },
        (None, None) => instance::Answer::Unexpected {
            detail: "no identity request was made".into(),
        },
    };
    if let (Some(memory), Some(parts)) = (&plan.refusals, &admin_parts) {
        let _ = match answer {
            instance::Answer::Rejected { .. } => memory.record(parts),
            instance::Answer::SignedIn { .. } => memory.clear(parts),
            _ => Ok(()),
        };
    }
    let admin_ok = signed_in && matches!(answer, instance::Answer::SignedIn { .. });
    let page = identity.as_ref().and_then(|r| r.as_ref().ok());
    let admin_row = page.and_then(|p| {
        p.records
            .iter()
            .find(|r| r.str("user_name").is_some_and(|n| n != plan.username))
    });
    let identity_type_field = match admin_row {
        Some(row) => row.has("identity_type"),
        // The admin's own row was not readable (or the admin is the service user): the service
        // user's row, if any, answers; otherwise assume the field exists, as on current releases.
        None => page
            .and_then(|p| p.records.first())
            .is_none_or(|r| r.has("identity_type")),
    };
    let admin_user = admin_row.and_then(|r| r.str("user_name").map(str::to_string));
    let user = match &identity {
        Some(result) => service_user_lookup(result, &plan.username),
        None => Lookup::Rows(Vec::new()),
    };

    // Round 2: every admin-side query at once (and, after an early token, the probes). The
    // entries and the properties are also what decides whether the token may be requested.
    let need = |id: CheckId| admin_ok && plan.selected(id);
    let need_gate = admin_ok && service.is_some();
    let need_acls = need(CheckId::TaskAcls) && plan.path == SetupPath::App;
    let need_posture = need(CheckId::Posture);
    let need_held = need(CheckId::Roles) || need_acls || need_posture;
    let need_properties = need(CheckId::OauthApp) || need_gate || need_posture;
    let session = &admin_session;
    // The service user's session, once a token was minted.
    let bearer_of =
        |token: &Option<(Result<crate::servicenow::TokenResponse, SnError>, Duration)>| match token
        {
            Some((Ok(t), _)) => Some(client.session(Auth::Bearer(t.access_token.clone()))),
            _ => None,
        };
    let bearer = bearer_of(&token);
    let store_q = queries::store_app();
    let custom_q = queries::custom_app();
    let entries_q = queries::oauth_entries(service.map(|(id, _, _)| id));
    let mappings_q = queries::scope_mappings();
    let scopes_q = queries::auth_scope();
    let properties_q = queries::oauth_properties();
    let held_q = queries::held_roles(&plan.username);
    let roles_q = queries::roles();
    let acls_q = queries::task_acls();
    let acl_roles_q = queries::task_acl_roles();
    let policies_q = queries::api_access_policies();
    let ip_q = queries::ip_rules();
    let preservers_q = queries::clone_preservers();
    // The token goes as soon as the facts that gate it are in (the entries and the lockout
    // threshold, sent first, so a node serving four requests at once serves them first), not when
    // the slowest admin query is: rounds 3 and 4 overlap the rest of round 2.
    let gated = async {
        let (entries, properties) = tokio::join!(
            fetch_if(session, need(CheckId::OauthApp) || need_gate, &entries_q),
            fetch_if(session, need_properties, &properties_q),
        );
        let (entries, t_entries) = lookup(entries, entries_q.table, decoded);
        let (properties, t_properties) = lookup(properties, properties_q.table, decoded);
        let threshold = connect::lockout_threshold(&properties);
        let mut token = None;
        let mut probed = (Vec::new(), Duration::ZERO);
        // The token, only when nothing known says it would fail or lock the account, then the
        // probes with it.
        if answer.instance_usable() {
            if let Some((client_id, _, _)) = service {
                let gate = connect::Gate {
                    admin_facts: admin_ok,
                    user: &user,
                    entries: &entries,
                    client_id,
                    threshold,
                    refused_at,
                    accept_lockout_risk: plan.accept_lockout_risk,
                };
                let ctx = crate::checks::run::context(plan, client.instance().as_str());
                if connect::withheld(&gate, &ctx).is_none() {
                    token = grant().await;
                    probed = probe_tables(bearer_of(&token)).await;
                }
            }
        }
        (
            (entries, t_entries),
            (properties, t_properties),
            threshold,
            token,
            probed,
        )
    };
    let (
        (
            (entries, t_entries),
            (properties, t_properties),
            lockout_threshold,
            late_token,
            late_probes,
        ),
        store,
        custom,
        mappings,
        scopes,
        held,
        existing,
        acls,
        acl_roles,
        (policies, ip_rules, preservers),
        (mut probes, mut probe_time),
    ) = tokio::join!(
        async {
            if token.is_none() {
                gated.await
            } else {
                // The token went in round 1: the entries and properties are plain facts here.
                let (entries, properties) = tokio::join!(
                    fetch_if(session, need(CheckId::OauthApp), &entries_q),
                    fetch_if(session, need_properties, &properties_q),
                );
                let entries = lookup(entries, entries_q.table, decoded);
                let properties = lookup(properties, properties_q.table, decoded);
                let threshold = connect::lockout_threshold(&properties.0);
                (
                    entries,
                    properties,
                    threshold,
                    None,
                    (Vec::new(), Duration::ZERO),
                )
            }
        },
        fetch_if(session, need(CheckId::App), &store_q),
        fetch_if(session, need(CheckId::App), &custom_q),
        fetch_if(session, need(CheckId::OauthApp), &mappings_q),
        // The sys_id a new scope mapping points at: what decides whether apply can add the
        // scope, so verify's promise of a repair rests on the same fact apply acts on.
        fetch_if(session, need(CheckId::OauthApp), &scopes_q),
        fetch_if(session, need_held, &held_q),
        fetch_if(session, need(CheckId::Roles) || need_acls, &roles_q),
        fetch_if(session, need_acls, &acls_q),
        fetch_if(session, need_acls, &acl_roles_q),
        async {
            tokio::join!(
                fetch_if(session, need_posture, &policies_q),
                fetch_if(session, need_posture, &ip_q),
                fetch_if(session, need_posture, &preservers_q),
            )
        },
        probe_tables(bearer),
    );
    if late_token.is_some() {
        token = late_token;
        (probes, probe_time) = late_probes;
    }
    // What this attempt teaches the next run.
    if let (Some(memory), Some(parts), Some((result, _))) = (&plan.refusals, &service_parts, &token)
    {
        let _ = match token_outcome(result) {
            connect::TokenOutcome::AccessDenied { .. } => memory.record(parts),
            connect::TokenOutcome::Minted => memory.clear(parts),
            connect::TokenOutcome::Failed { .. } => Ok(()),
        };
    }

    let (app, t_store) = lookup(store, store_q.table, decoded);
    let (custom, t_custom) = lookup(custom, custom_q.table, decoded);
    let (mappings, t_mappings) = lookup(mappings, mappings_q.table, decoded);
    let (auth_scopes, t_scopes) = lookup(scopes, scopes_q.table, decoded);
    let (held, t_held) = lookup(held, held_q.table, decoded);
    let (roles, t_roles) = lookup(existing, roles_q.table, decoded);
    let (acls, t_acls) = lookup(acls, acls_q.table, decoded);
    let (acl_roles, t_acl_roles) = lookup(acl_roles, acl_roles_q.table, decoded);
    let (api_policies, t_policies) = lookup(policies, policies_q.table, decoded);
    let (ip_rules, t_ip) = lookup(ip_rules, ip_q.table, decoded);
    let (preservers, t_preservers) = lookup(preservers, preservers_q.table, decoded);
    let (token, token_time) = match token {
        Some((result, time)) => (Some(token_outcome(&result)), ms(time)),
        None => (None, 0),
    };
    // Only after a refusal, and only with the admin's session: one more read of the user's row.
    let failed_attempts_after = match (&token, &user) {
        (Some(connect::TokenOutcome::AccessDenied { .. }), Lookup::Rows(rows))
            if admin_ok && rows.len() == 1 =>
        {
            let again = queries::service_user_row(&plan.username);
            admin_session
                .list(again.table, &again.request)
                .await
                .ok()
                .and_then(|page| page.records.first().and_then(decoded::<service_user::User>))
                .map(|u| u.failed_attempts.unwrap_or(0))
        }
        _ => None,
    };
    Facts {
        admin,
        answer,
        admin_user,
        identity_type_field,
        app,
        custom,
        entries,
        mappings,
        auth_scopes,
        properties,
        user,
        lockout_threshold,
        refused_at,
        held,
        roles,
        acls,
        acl_roles,
        api_policies,
        ip_rules,
        preservers,
        token,
        certificate_expires: client.certificate_expires(),
        failed_attempts_after,
        probes,
        timings: Timings {
            identity: ms(identity_time),
            app: t_store.max(t_custom),
            oauth: t_entries.max(t_mappings).max(t_scopes).max(t_properties),
            held: t_held,
            roles: t_held.max(t_roles),
            acls: t_acls.max(t_acl_roles).max(t_held),
            posture: t_policies.max(t_ip).max(t_preservers).max(t_held),
            token: token_time,
            probes: ms(probe_time),
        },
    }
}

/// Reads each table incident.io uses, once, as the service user; all at once.
/// Rows each probe asks for. ServiceNow applies `sysparm_limit` before row-level ACLs (facts
/// sheet, Corrections 1): a one-row page is emptied by one restricted first row although most rows
/// are readable. A page this size cannot be emptied by a few restricted rows, and costs little
/// with only `sys_id` in it.
pub const PROBE_PAGE: u32 = 100;

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
                .limit(PROBE_PAGE)
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
            ErrorKind::Timeout => Answer::Timeout { deadline: None },
            ErrorKind::DeadlinePassed { limit } => Answer::Timeout {
                deadline: Some(limit.as_secs()),
            },
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
            ErrorKind::RateLimited { .. } => Answer::RateLimited {
                detail: if e.attempts > 1 {
                    format!("still so after {} attempts", e.attempts)
                } else {
                    // Not retried: it asked for a wait longer than the run may take.
                    e.headline()
                },
            },
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
                .filter_map(decoded::<service_user::User>)
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

pub fn failure(table: &str, e: &SnError) -> QueryFailure {
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

pub fn token_outcome(
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

pub fn probe_outcome(result: &Result<Page, SnError>) -> connect::ProbeOutcome {
    use connect::ProbeOutcome;
    match result {
        Ok(page) => {
            let total = page.total_count.unwrap_or(0);
            // What a full page would hold: the limit, or fewer when fewer rows exist.
            let page_rows = total.min(u64::from(PROBE_PAGE));
            let visible = page.records.len() as u64;
            if visible == 0 && total > 0 {
                ProbeOutcome::Hidden { total }
            } else if visible < page_rows {
                ProbeOutcome::PartlyHidden {
                    visible,
                    of: page_rows,
                }
            } else {
                ProbeOutcome::Readable
            }
        }
        Err(e) => match &e.kind {
            ErrorKind::Forbidden(ForbiddenKind::ApiAccessScope) => ProbeOutcome::ScopeBlocked,
            // A token minted a moment ago and refused: not the password (the grant proved it).
            ErrorKind::Unauthorized { .. } => ProbeOutcome::TokenRejected {
                message: e.server_message.clone().unwrap_or_default(),
            },
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

/// Decodes one row with its type's serde derive ([`Record::decode`]).
fn decoded<T: serde::de::DeserializeOwned>(r: &Record) -> Option<T> {
    r.decode()
}

pub mod baseline;

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
