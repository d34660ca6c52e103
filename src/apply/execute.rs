//! Runs a plan against the instance.
//!
//! - **Order.** A step starts once every step it depends on succeeded; the steps that are ready
//!   together are sent together. A step whose dependency failed is skipped, never guessed at.
//! - **No duplicates.** Right before each insert the record is looked up by its natural key
//!   (name, user name, user + role, …). If it is there — a previous run was interrupted after
//!   inserting, or someone made it meanwhile — it is used instead. The plan's follow-up changes
//!   to a record it meant to create are then skipped: that record was not made by this run, and
//!   a fresh plan (the next `apply`) decides what it needs.
//! - **Another machine racing.** The lookup and the insert are two requests, so a run elsewhere
//!   can insert the same record in between (the run lock only covers this machine). Right after
//!   each insert the record is looked up again; when a twin is there, the oldest (by
//!   `sys_created_on`, then `sys_id`, the order both runs see) is kept and this run deletes its
//!   own, reporting [`StepOutcome::Raced`]. An insert the instance refuses because the twin came
//!   first (`sys_user.user_name` is unique) is the same race. One window is left: when both
//!   inserts fall in the same second, the earlier run has already looked and seen no twin, and
//!   the later one's sys_id sorts first, both are kept; `verify` then reports the duplicate
//!   (`oauth_app.duplicate`). No unique key exists on `oauth_entity` to close it.
//! - **Never a delete** other than that one: only the fields and records the plan names are
//!   written.
//! - **Refusals are expected.** ServiceNow refuses ACL writes over REST unless the session is
//!   elevated to `security_admin`, which only an interactive UI session can be. A refused step
//!   brings its by-hand fallback into the outcome and the rest of the plan carries on.

use std::collections::HashMap;
use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::{Map, Value as Json};

use super::manual::ManualStep;
use super::plan::{Action, Plan, Step, Value};
use crate::checks::Links;
use crate::credentials::SecretKind;
use crate::model::CheckId;
use crate::servicenow::{ErrorKind, ForbiddenKind, ListRequest, Query, Session, WriteOptions};

/// The secrets the plan's steps send: supplied ones, or generated and already stored.
#[derive(Clone, Default)]
pub struct Secrets {
    pub client_secret: Option<SecretString>,
    pub password: Option<SecretString>,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |s: &Option<SecretString>| s.as_ref().map(|_| "[redacted]");
        f.debug_struct("Secrets")
            .field("client_secret", &shown(&self.client_secret))
            .field("password", &shown(&self.password))
            .finish()
    }
}

impl Secrets {
    /// Replaces the value of `kind` (the admin password and the notify token are never one of
    /// these).
    pub fn set(&mut self, kind: SecretKind, value: Option<SecretString>) {
        match kind {
            SecretKind::ClientSecret => self.client_secret = value,
            SecretKind::Password => self.password = value,
            SecretKind::AdminPassword | SecretKind::NotifyToken => {}
        }
    }

    pub fn get(&self, kind: SecretKind) -> Option<&SecretString> {
        match kind {
            SecretKind::ClientSecret => self.client_secret.as_ref(),
            SecretKind::Password => self.password.as_ref(),
            SecretKind::AdminPassword | SecretKind::NotifyToken => None,
        }
    }
}

/// What happened to one step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum StepOutcome {
    Created {
        sys_id: String,
    },
    /// The natural-key lookup found the record already there; nothing was inserted.
    Found {
        sys_id: String,
    },
    Updated {
        sys_id: String,
    },
    /// Another run inserted the same record at the same time; `kept` is the one that stays (the
    /// older), and `removed` this run's own insert, deleted again (`None` when the instance
    /// refused this run's insert because the twin was there first).
    Raced {
        kept: String,
        removed: Option<String>,
    },
    /// The instance refused the write (403); the step's by-hand fallback is in the outcome.
    Refused {
        message: String,
    },
    Failed {
        message: String,
        /// The request may have been carried out all the same: it was sent and the answer was
        /// lost or a gateway's error (a proxy's 502 after forwarding), so its values may be on
        /// the instance.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        uncertain: bool,
    },
    /// Not attempted.
    Skipped {
        reason: String,
    },
}

impl StepOutcome {
    pub fn succeeded(&self) -> bool {
        matches!(
            self,
            StepOutcome::Created { .. }
                | StepOutcome::Found { .. }
                | StepOutcome::Updated { .. }
                | StepOutcome::Raced { .. }
        )
    }

    /// Whether the record the step stands for is another run's (found before inserting, or kept
    /// after a race): its follow-up changes are not this run's to make.
    pub fn not_ours(&self) -> bool {
        matches!(self, StepOutcome::Found { .. } | StepOutcome::Raced { .. })
    }

    /// Whether the step's values may be on the instance: it wrote them, or its request was sent
    /// and the answer lost.
    pub fn may_have_written(&self) -> bool {
        self.wrote()
            || matches!(
                self,
                StepOutcome::Failed {
                    uncertain: true,
                    ..
                }
            )
    }

    /// Whether the step's own values are on the instance now (a raced insert's are not).
    pub fn wrote(&self) -> bool {
        matches!(
            self,
            StepOutcome::Created { .. } | StepOutcome::Updated { .. }
        )
    }

    pub fn sys_id(&self) -> Option<&str> {
        match self {
            StepOutcome::Created { sys_id }
            | StepOutcome::Found { sys_id }
            | StepOutcome::Updated { sys_id }
            | StepOutcome::Raced { kept: sys_id, .. } => Some(sys_id),
            _ => None,
        }
    }
}

/// One step's result, for the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepResult {
    pub id: String,
    pub check: CheckId,
    pub table: String,
    pub summary: String,
    #[serde(flatten)]
    pub outcome: StepOutcome,
    /// The record in the UI, when there is one.
    pub link: Option<String>,
}

/// The result of running a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// One per step, in plan order.
    pub results: Vec<StepResult>,
    /// The plan's by-hand steps plus the fallbacks of steps that did not succeed.
    pub manual: Vec<ManualStep>,
}

impl Outcome {
    /// Every step succeeded.
    pub fn all_applied(&self) -> bool {
        self.results.iter().all(|r| r.outcome.succeeded())
    }

    /// How many writes reached the instance.
    pub fn writes(&self) -> usize {
        self.results.iter().filter(|r| r.outcome.wrote()).count()
    }

    /// The secrets `plan` meant to set that went unused because the record they were for is
    /// another run's: found before inserting, or kept after a race (its own step, or the step
    /// that made the record it updates, is [`StepOutcome::not_ours`]), and no step wrote them.
    /// A stored copy would make the next run log in with a value that record never had; the
    /// value stored before this run belongs to it, if to anything. A secret whose write failed
    /// or was skipped for another reason stays: the next `apply` finds its record and sets it.
    /// Only generated secrets count: a supplied one may well be the other run's too.
    pub fn secrets_unused(&self, plan: &Plan) -> Vec<SecretKind> {
        let outcome_of = |id: &str| self.results.iter().find(|r| r.id == id).map(|r| &r.outcome);
        let carries = |step: &Step, kind: SecretKind| {
            step.fields
                .iter()
                .any(|(_, v)| matches!(v, Value::Secret(k) if *k == kind))
        };
        let for_another_runs_record = |step: &Step| {
            outcome_of(&step.id).is_some_and(StepOutcome::not_ours)
                || matches!(&step.action, Action::Update(Value::CreatedBy(creator))
                    if outcome_of(creator).is_some_and(StepOutcome::not_ours))
        };
        let mut kinds: Vec<SecretKind> = Vec::new();
        for kind in [SecretKind::ClientSecret, SecretKind::Password] {
            let steps: Vec<&Step> = plan.steps.iter().filter(|s| carries(s, kind)).collect();
            let written = steps
                .iter()
                .any(|s| outcome_of(&s.id).is_some_and(StepOutcome::may_have_written));
            let generated = plan.to_generate().contains(&kind);
            if generated && !written && steps.iter().any(|s| for_another_runs_record(s)) {
                kinds.push(kind);
            }
        }
        kinds
    }

    /// Whether an ACL write was refused (the platform's elevation rule).
    pub fn acl_refused(&self) -> bool {
        self.results.iter().any(|r| {
            matches!(r.outcome, StepOutcome::Refused { .. })
                && r.table.starts_with("sys_security_acl")
        })
    }
}

/// Runs `plan` as `session` (the admin). `log` receives one line per write as it completes (the
/// command prints them under `-v`). Never fails as a whole: each step's outcome says what happened.
pub async fn execute(
    session: &Session,
    plan: &Plan,
    secrets: &Secrets,
    log: &(dyn Fn(&str) + Sync),
) -> Outcome {
    let links = Links::new(&plan.instance);
    let mut outcomes: HashMap<String, StepOutcome> = HashMap::new();
    let mut pending: Vec<&Step> = plan.steps.iter().collect();

    while !pending.is_empty() {
        let mut ready = Vec::new();
        let mut waiting = Vec::new();
        for step in pending {
            match readiness(step, &outcomes) {
                Readiness::Ready => ready.push(step),
                Readiness::Waiting => waiting.push(step),
                Readiness::Skip(reason) => {
                    log(&format!("skipped {}: {reason}", step.id));
                    outcomes.insert(step.id.clone(), StepOutcome::Skipped { reason });
                }
            }
        }
        if ready.is_empty() {
            // Only possible with a dependency on a step that is not in the plan.
            for step in waiting {
                outcomes.insert(
                    step.id.clone(),
                    StepOutcome::Skipped {
                        reason: "it depends on a step that is not part of this plan".into(),
                    },
                );
            }
            break;
        }
        let mut set = tokio::task::JoinSet::new();
        for step in &ready {
            let prepared = match prepare(step, &outcomes, secrets) {
                Ok(p) => p,
                Err(message) => {
                    outcomes.insert(
                        step.id.clone(),
                        StepOutcome::Failed {
                            message,
                            uncertain: false,
                        },
                    );
                    continue;
                }
            };
            let session = session.clone();
            let id = step.id.clone();
            set.spawn(async move { (id, run(&session, prepared).await) });
        }
        while let Some(joined) = set.join_next().await {
            // A task that panicked leaves its step without an outcome: marked failed below.
            if let Ok((id, outcome)) = joined {
                log(&describe(&id, &outcome));
                outcomes.insert(id, outcome);
            }
        }
        for step in &ready {
            outcomes
                .entry(step.id.clone())
                .or_insert_with(|| StepOutcome::Failed {
                    message: "the write stopped unexpectedly; run apply again".into(),
                    uncertain: false,
                });
        }
        pending = waiting;
    }

    let mut manual = plan.manual.clone();
    let mut results = Vec::with_capacity(plan.steps.len());
    for step in &plan.steps {
        let outcome = outcomes
            .remove(&step.id)
            .unwrap_or_else(|| StepOutcome::Skipped {
                reason: "not reached".into(),
            });
        if !outcome.succeeded() {
            if let Some(fallback) = &step.fallback {
                if !manual.contains(fallback) {
                    manual.push(fallback.clone());
                }
            }
        }
        let link = outcome.sys_id().map(|id| links.record(&step.table, id));
        results.push(StepResult {
            id: step.id.clone(),
            check: step.check,
            table: step.table.clone(),
            summary: step.summary.clone(),
            outcome,
            link,
        });
    }
    Outcome { results, manual }
}

enum Readiness {
    Ready,
    Waiting,
    Skip(String),
}

fn readiness(step: &Step, outcomes: &HashMap<String, StepOutcome>) -> Readiness {
    for dep in &step.depends_on {
        match outcomes.get(dep) {
            None => return Readiness::Waiting,
            Some(o) if !o.succeeded() => {
                return Readiness::Skip(format!("step {dep} did not succeed"));
            }
            Some(_) => {}
        }
    }
    // Follow-up changes to a record the plan meant to create, which turned out to exist already.
    if let Action::Update(Value::CreatedBy(creator)) = &step.action {
        match outcomes.get(creator) {
            Some(StepOutcome::Found { .. }) => {
                return Readiness::Skip(format!(
                    "the record of step {creator} already existed, so this run leaves it as it \
                     is; run apply again to plan from what is there now"
                ));
            }
            Some(StepOutcome::Raced { .. }) => {
                return Readiness::Skip(format!(
                    "the record of step {creator} is the one another run made at the same time, \
                     so this run leaves it as it is; run apply again to plan from what is there \
                     now"
                ));
            }
            _ => {}
        }
    }
    Readiness::Ready
}

/// A step with every value resolved, ready to send.
struct Prepared {
    table: String,
    target: Option<String>,
    body: Json,
    natural_key: Option<String>,
    input_display_value: bool,
}

fn resolve(
    value: &Value,
    outcomes: &HashMap<String, StepOutcome>,
    secrets: &Secrets,
) -> Result<String, String> {
    match value {
        Value::Text(t) => Ok(t.clone()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Int(n) => Ok(n.to_string()),
        Value::CreatedBy(step) => outcomes
            .get(step)
            .and_then(StepOutcome::sys_id)
            .map(str::to_string)
            .ok_or_else(|| format!("the record of step {step} is not known")),
        Value::Secret(kind) => secrets
            .get(*kind)
            .map(|s| s.expose_secret().to_string())
            .ok_or_else(|| format!("no {} is available to write", kind.label())),
    }
}

fn prepare(
    step: &Step,
    outcomes: &HashMap<String, StepOutcome>,
    secrets: &Secrets,
) -> Result<Prepared, String> {
    let mut body = Map::new();
    for (field, value) in &step.fields {
        body.insert(
            field.clone(),
            Json::String(resolve(value, outcomes, secrets)?),
        );
    }
    let target = match &step.action {
        Action::Create => None,
        Action::Update(v) => Some(resolve(v, outcomes, secrets)?),
    };
    let natural_key = if step.is_create() && !step.natural_key.is_empty() {
        let mut q = Query::new();
        for (field, value) in &step.natural_key {
            q = q.eq(field, &resolve(value, outcomes, secrets)?);
        }
        Some(q.build())
    } else {
        None
    };
    Ok(Prepared {
        table: step.table.clone(),
        target,
        body: Json::Object(body),
        natural_key,
        input_display_value: step.input_display_value,
    })
}

async fn run(session: &Session, p: Prepared) -> StepOutcome {
    let opts = WriteOptions {
        input_display_value: p.input_display_value,
    };
    if let Some(sys_id) = p.target {
        return match session.update(&p.table, &sys_id, p.body, opts).await {
            Ok(_) => StepOutcome::Updated { sys_id },
            Err(e) => refusal_or_failure(&p.table, &e),
        };
    }
    if let Some(query) = p.natural_key.clone() {
        let req = ListRequest::new()
            .query(query)
            .fields(&["sys_id"])
            .limit(1)
            .exclude_reference_link(true);
        match session.list(&p.table, &req).await {
            Ok(page) => {
                if let Some(id) = page.records.first().and_then(|r| r.sys_id()) {
                    return StepOutcome::Found {
                        sys_id: id.to_string(),
                    };
                }
                if page.hidden_rows() {
                    return StepOutcome::Failed {
                        message: format!(
                            "a matching record exists in {} but the admin cannot see it, so \
                             apply does not insert another; check it by hand",
                            p.table
                        ),
                        uncertain: false,
                    };
                }
            }
            Err(e) => {
                return StepOutcome::Failed {
                    message: format!("could not look for an existing record first: {e}"),
                    uncertain: false,
                }
            }
        }
    }
    match session.create(&p.table, p.body, opts).await {
        Ok(record) => match record.sys_id() {
            Some(id) => match &p.natural_key {
                Some(key) => settle_race(session, &p.table, key, id).await,
                None => StepOutcome::Created {
                    sys_id: id.to_string(),
                },
            },
            None => StepOutcome::Failed {
                message: format!(
                    "the instance accepted the insert into {} but returned no sys_id; run apply \
                     again (it looks the record up before inserting)",
                    p.table
                ),
                uncertain: true,
            },
        },
        Err(e) => {
            // Refused because the same record appeared since the lookup (a unique key such as
            // sys_user.user_name): another run's insert won the race.
            if let (Some(key), true) = (&p.natural_key, maybe_unique_key(&e)) {
                if let Ok(Some(twin)) = oldest(session, &p.table, key).await {
                    return StepOutcome::Raced {
                        kept: twin,
                        removed: None,
                    };
                }
            }
            refusal_or_failure(&p.table, &e)
        }
    }
}

/// Whether the instance answered an insert with an error that a unique key can cause. How a
/// unique-key violation comes back is not documented (a business rule's 403 and a 400 are both
/// reported, and a 500 too), so 403 and 400 count; an ACL refusal does not. A 5xx or no answer at
/// all does not either: a gateway's 502 can follow an insert that happened, and that record is
/// this run's own (see `StepOutcome::Failed::uncertain`).
fn maybe_unique_key(e: &crate::servicenow::SnError) -> bool {
    matches!(
        e.kind,
        ErrorKind::Forbidden(ForbiddenKind::BusinessRule | ForbiddenKind::Other)
            | ErrorKind::BadRequest { .. }
    )
}

/// The oldest record matching `key`, in the order every racing run sees: `sys_created_on`, then
/// `sys_id` (creation times have whole seconds).
async fn oldest(session: &Session, table: &str, key: &str) -> Result<Option<String>, String> {
    let req = ListRequest::new()
        .query(format!("{key}^ORDERBYsys_created_on^ORDERBYsys_id"))
        .fields(&["sys_id"])
        .limit(1)
        .exclude_reference_link(true);
    match session.list(table, &req).await {
        Ok(page) => Ok(page
            .records
            .first()
            .and_then(|r| r.sys_id())
            .map(str::to_string)),
        Err(e) => Err(e.to_string()),
    }
}

/// Right after inserting `ours`: when another run inserted the same record meanwhile and its
/// twin is older, this run deletes its own and uses the twin.
async fn settle_race(session: &Session, table: &str, key: &str, ours: &str) -> StepOutcome {
    let created = || StepOutcome::Created {
        sys_id: ours.to_string(),
    };
    let kept = match oldest(session, table, key).await {
        Ok(Some(id)) if id != ours => id,
        // Ours is the oldest (or the only one), or the re-read failed: the insert stands, and
        // verify reports a duplicate if one is left.
        _ => return created(),
    };
    match session.delete(table, ours).await {
        Ok(()) => StepOutcome::Raced {
            kept,
            removed: Some(ours.to_string()),
        },
        Err(e) => StepOutcome::Failed {
            message: format!(
                "another run inserted the same record into {table} ({kept}) at the same time, \
                 and removing this run's copy ({ours}) failed: {e}; delete {ours} by hand"
            ),
            uncertain: true,
        },
    }
}

fn refusal_or_failure(table: &str, e: &crate::servicenow::SnError) -> StepOutcome {
    match &e.kind {
        ErrorKind::Forbidden(ForbiddenKind::AclOperation { .. })
            if table.starts_with("sys_security_acl") =>
        {
            let said: Vec<&str> = [e.server_message.as_deref(), e.server_detail.as_deref()]
                .into_iter()
                .flatten()
                .collect();
            StepOutcome::Refused {
                message: format!(
                    "refused with 403 ({}): writing ACLs needs the security_admin role \
                     elevated, and elevation belongs to an interactive UI session that a REST \
                     call cannot carry; do this one by hand (below)",
                    if said.is_empty() {
                        "no reason given".to_string()
                    } else {
                        said.join(": ")
                    }
                ),
            }
        }
        ErrorKind::Forbidden(_) => StepOutcome::Refused {
            message: format!("the instance refused the write: {e}"),
        },
        _ => StepOutcome::Failed {
            message: e.to_string(),
            uncertain: matches!(
                e.kind,
                ErrorKind::Server { .. }
                    | ErrorKind::Timeout
                    | ErrorKind::ConnectionLost
                    | ErrorKind::MalformedJson
                    | ErrorKind::TooLarge { .. }
                    | ErrorKind::UnexpectedStatus { .. }
            ),
        },
    }
}

fn describe(id: &str, outcome: &StepOutcome) -> String {
    match outcome {
        StepOutcome::Created { sys_id } => format!("created ({id}): {sys_id}"),
        StepOutcome::Found { sys_id } => format!("already there ({id}): {sys_id}, not inserted"),
        StepOutcome::Updated { sys_id } => format!("updated ({id}): {sys_id}"),
        StepOutcome::Raced { kept, removed } => match removed {
            Some(ours) => format!(
                "raced ({id}): another run inserted the same record; kept {kept}, removed {ours}"
            ),
            None => format!("raced ({id}): another run inserted it first; using {kept}"),
        },
        StepOutcome::Refused { message } => format!("refused ({id}): {message}"),
        StepOutcome::Failed { message, .. } => format!("failed ({id}): {message}"),
        StepOutcome::Skipped { reason } => format!("skipped ({id}): {reason}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_show_in_debug() {
        let s = Secrets {
            client_secret: Some(SecretString::from("cs-XYZ-1")),
            password: Some(SecretString::from("pw-XYZ-2")),
        };
        let shown = format!("{s:?}");
        assert!(!shown.contains("XYZ"), "{shown}");
    }

    #[test]
    fn a_failed_dependency_skips_and_a_found_creation_stops_its_follow_ups() {
        let step = |id: &str, action: Action, deps: &[&str]| Step {
            id: id.into(),
            check: CheckId::OauthApp,
            table: "oauth_entity".into(),
            action,
            fields: vec![],
            natural_key: vec![],
            why: crate::checks::FindingCode::OauthMissing,
            summary: String::new(),
            depends_on: deps.iter().map(|d| d.to_string()).collect(),
            confirm: false,
            input_display_value: false,
            fallback: None,
        };
        let mut outcomes = HashMap::new();
        let follow = step("b", Action::Update(Value::CreatedBy("a".into())), &["a"]);
        assert!(matches!(readiness(&follow, &outcomes), Readiness::Waiting));
        outcomes.insert(
            "a".to_string(),
            StepOutcome::Failed {
                message: "x".into(),
                uncertain: false,
            },
        );
        assert!(matches!(readiness(&follow, &outcomes), Readiness::Skip(_)));
        outcomes.insert("a".to_string(), StepOutcome::Found { sys_id: "1".into() });
        assert!(matches!(readiness(&follow, &outcomes), Readiness::Skip(_)));
        let child = step("c", Action::Create, &["a"]);
        assert!(matches!(readiness(&child, &outcomes), Readiness::Ready));
        outcomes.insert("a".to_string(), StepOutcome::Created { sys_id: "1".into() });
        assert!(matches!(readiness(&follow, &outcomes), Readiness::Ready));
    }

    #[test]
    fn values_resolve_from_earlier_steps_and_secrets() {
        let mut outcomes = HashMap::new();
        outcomes.insert(
            "a".to_string(),
            StepOutcome::Created {
                sys_id: "S1".into(),
            },
        );
        let secrets = Secrets {
            client_secret: None,
            password: Some(SecretString::from("pw")),
        };
        assert_eq!(
            resolve(&Value::CreatedBy("a".into()), &outcomes, &secrets).unwrap(),
            "S1"
        );
        assert_eq!(
            resolve(&Value::Secret(SecretKind::Password), &outcomes, &secrets).unwrap(),
            "pw"
        );
        assert!(resolve(
            &Value::Secret(SecretKind::ClientSecret),
            &outcomes,
            &secrets
        )
        .is_err());
        assert_eq!(
            resolve(&Value::Bool(false), &outcomes, &secrets).unwrap(),
            "false"
        );
    }
}
