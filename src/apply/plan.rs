//! The plan: from what the instance holds to the exact records `apply` would write, and why.
//!
//! Pure: no I/O, so every decision is unit-tested. The rules that shape it:
//!
//! - **Create only on positive absence.** A record is created only when its lookup answered with
//!   rows and none matched. Hidden rows or a failed query make that part a by-hand step instead,
//!   because creating would risk a duplicate of what the admin cannot see.
//! - **Never a half-made record that works.** A record that would be usable before it is
//!   complete is created inactive and activated last: the OAuth entry gets its secret, the user
//!   its password, the ACL its required role, and only then `active = true`. An interrupted run
//!   leaves an inactive record, which the next run finishes (and which grants nothing meanwhile:
//!   an active ACL without its role would open `task` to everyone).
//! - **Secrets go in their own write.** `user_password` and `client_secret` must be sent with
//!   `sysparm_input_display_value=true`, which makes the instance read *every* field of that write
//!   as a display value (a choice's label rather than its stored value). So those writes carry the
//!   secret and `active` only, and everything else goes in plain writes.
//! - **Changes to records that already existed need confirmation**, and so does granting
//!   `admin`. Nothing is ever deleted.

use std::collections::{BTreeSet, HashSet};

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::manual::{self, ManualStep};
use crate::checks::{
    oauth_app, roles, service_user, task_acls, FindingCode, Links, Lookup, Remedy,
};
use crate::credentials::SecretKind;
use crate::facts::Facts as State;
use crate::model::{CheckId, SetupPath};
use crate::requirements::{
    roles_for, task_acls as acl_specs, AclSpec, ADMIN_ROLE, APP_ROLE, AUTH_SCOPE, MACHINE_IDENTITY,
    OAUTH_ENTRY_NAME, PROP_OAUTH_ACTIVE, PROP_ROPC_DISABLED,
};

/// A value to write into a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Text(String),
    Bool(bool),
    /// A number (a count such as `failed_attempts`): a number in the JSON plan.
    Int(i64),
    /// The sys_id of the record another step of the plan creates (or finds), known once it ran.
    CreatedBy(String),
    /// A secret: sent, never shown. Rendered as `[redacted]` everywhere.
    Secret(SecretKind),
}

impl Value {
    fn text(s: impl Into<String>) -> Value {
        Value::Text(s.into())
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Text(t) => s.serialize_str(t),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(n) => s.serialize_i64(*n),
            Value::CreatedBy(step) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("sys_id_from_step", step)?;
                m.end()
            }
            Value::Secret(_) => s.serialize_str(crate::servicenow::REDACTED),
        }
    }
}

/// A field's value in the JSON plan: text, a flag, a number, `[redacted]` for a secret, or the
/// sys_id a step of the same plan makes.
impl schemars::JsonSchema for Value {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "FieldValue".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "oneOf": [
                { "type": "string" },
                { "type": "boolean" },
                { "type": "integer" },
                {
                    "type": "object",
                    "properties": { "sys_id_from_step": { "type": "string" } },
                    "required": ["sys_id_from_step"],
                    "additionalProperties": false
                }
            ]
        })
    }
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Text(t) => f.write_str(t),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(n) => write!(f, "{n}"),
            Value::CreatedBy(step) => write!(f, "(sys_id of the record from step {step})"),
            Value::Secret(_) => f.write_str(crate::servicenow::REDACTED),
        }
    }
}

/// Which record a write goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Insert a record; first look it up by its natural key, and use the one found instead.
    Create,
    /// Change fields of one record.
    Update(Value),
}

/// One write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Stable within a plan, e.g. `oauth_entry`, `grant:cmdb_read`, `acl:read`.
    pub id: String,
    /// The check this step makes pass.
    pub check: CheckId,
    pub table: String,
    pub action: Action,
    pub fields: Vec<(String, Value)>,
    /// For a create: the fields that identify an existing copy. The executor looks for one right
    /// before inserting, so a re-run (or a concurrent change) never makes a duplicate.
    pub natural_key: Vec<(String, Value)>,
    /// The finding this step answers.
    pub why: FindingCode,
    /// One line for people: what the write does.
    pub summary: String,
    /// Steps that must have succeeded first.
    pub depends_on: Vec<String>,
    /// Needs explicit confirmation (`--yes` without a terminal): it changes a record that existed
    /// before this run, or grants `admin`.
    pub confirm: bool,
    /// Send with `sysparm_input_display_value=true` (the writes that carry a secret).
    pub input_display_value: bool,
    /// What to do by hand if the instance refuses this write (the ACL steps).
    pub fallback: Option<ManualStep>,
}

impl Step {
    /// The secrets this step sends.
    pub fn secrets(&self) -> impl Iterator<Item = SecretKind> + '_ {
        self.fields.iter().filter_map(|(_, v)| match v {
            Value::Secret(k) => Some(*k),
            _ => None,
        })
    }

    pub fn is_create(&self) -> bool {
        self.action == Action::Create
    }
}

impl Serialize for Step {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Fields<'a>(&'a [(String, Value)]);
        impl Serialize for Fields<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut m = s.serialize_map(Some(self.0.len()))?;
                for (k, v) in self.0 {
                    m.serialize_entry(k, v)?;
                }
                m.end()
            }
        }
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("id", &self.id)?;
        m.serialize_entry("check", self.check.as_str())?;
        m.serialize_entry("table", &self.table)?;
        match &self.action {
            Action::Create => {
                m.serialize_entry("action", "create")?;
                m.serialize_entry("record", &Option::<String>::None)?;
            }
            Action::Update(target) => {
                m.serialize_entry("action", "update")?;
                m.serialize_entry("record", target)?;
            }
        }
        m.serialize_entry("fields", &Fields(&self.fields))?;
        m.serialize_entry("why", &self.why)?;
        m.serialize_entry("summary", &self.summary)?;
        m.serialize_entry("depends_on", &self.depends_on)?;
        m.serialize_entry("needs_confirmation", &self.confirm)?;
        m.serialize_entry("input_display_value", &self.input_display_value)?;
        m.end()
    }
}

/// One write as the JSON plan shows it (see the `Serialize` impl above).
impl schemars::JsonSchema for Step {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Step".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let check = generator.subschema_for::<CheckId>();
        let why = generator.subschema_for::<FindingCode>();
        let value = generator.subschema_for::<Value>();
        schemars::json_schema!({
            "type": "object",
            "properties": {
                "id": { "type": "string" },
                "check": check,
                "table": { "type": "string" },
                "action": { "enum": ["create", "update"] },
                "record": { "oneOf": [{ "type": "null" }, value.clone()] },
                "fields": { "type": "object", "additionalProperties": value },
                "why": why,
                "summary": { "type": "string" },
                "depends_on": { "type": "array", "items": { "type": "string" } },
                "needs_confirmation": { "type": "boolean" },
                "input_display_value": { "type": "boolean" }
            },
            "required": [
                "id", "check", "table", "action", "record", "fields", "why", "summary",
                "depends_on", "needs_confirmation", "input_display_value"
            ],
            "additionalProperties": false
        })
    }
}

/// Where a secret that a step sends comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SecretSource {
    /// Given by the user (stdin, environment) or stored in the profile.
    Supplied,
    /// Generated from the OS random source, and stored before anything is written.
    Generated,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct PlannedSecret {
    #[serde(serialize_with = "serialize_kind")]
    #[schemars(with = "String")]
    pub kind: SecretKind,
    pub source: SecretSource,
}

fn serialize_kind<S: Serializer>(k: &SecretKind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(k.as_str())
}

/// Everything `apply` would do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Plan {
    pub instance: String,
    pub path: SetupPath,
    pub username: String,
    pub steps: Vec<Step>,
    /// What only a person can do, each with its link.
    pub manual: Vec<ManualStep>,
    /// The secrets the steps send, and where each comes from.
    pub secrets: Vec<PlannedSecret>,
    /// Facts worth knowing that need no action (e.g. a secret apply leaves as it is).
    pub notes: Vec<String>,
    /// Findings a step answers besides its own `why` (one repair of a user can unlock it and
    /// clear Password needs reset): (step id, check, code).
    #[serde(skip)]
    #[schemars(skip)]
    pub also_answers: Vec<(String, CheckId, FindingCode)>,
    /// Task ACLs that grant access but depart from the documented setup (Admin overrides off,
    /// not Global): (sys_id, what). Not written over REST, since they work; the ACL pack writes
    /// the documented values.
    #[serde(skip)]
    #[schemars(skip)]
    pub acl_drift: Vec<(String, Vec<FindingCode>)>,
}

impl Plan {
    /// Nothing to write and nothing to do by hand.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty() && self.manual.is_empty()
    }

    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.id == id)
    }

    /// The steps that need explicit confirmation.
    pub fn needing_confirmation(&self) -> Vec<&Step> {
        self.steps.iter().filter(|s| s.confirm).collect()
    }

    /// The secrets apply must generate (and store before writing anything).
    pub fn to_generate(&self) -> Vec<SecretKind> {
        self.secrets
            .iter()
            .filter(|s| s.source == SecretSource::Generated)
            .map(|s| s.kind)
            .collect()
    }

    /// What this plan does about a finding `code` of `check`: the writes that answer it, or the
    /// by-hand steps, or nothing. A write that carries a by-hand fallback (an ACL, which real
    /// instances refuse over REST without elevation) counts as by-hand: snconnect still tries
    /// it, but never promises it.
    pub fn remedy_for(&self, check: CheckId, code: FindingCode) -> Remedy {
        let answers = |s: &Step| {
            s.check == check
                && (s.why == code
                    || self
                        .also_answers
                        .iter()
                        .any(|(id, c, k)| *id == s.id && *c == check && *k == code))
        };
        let steps: Vec<&Step> = self.steps.iter().filter(|s| answers(s)).collect();
        if !steps.is_empty() && steps.iter().all(|s| s.fallback.is_none()) {
            return Remedy::Apply(steps.iter().map(|s| s.id.clone()).collect());
        }
        let mut titles: Vec<String> = steps
            .iter()
            .filter_map(|s| s.fallback.as_ref().map(|m| m.title.clone()))
            .chain(
                self.manual
                    .iter()
                    .filter(|m| m.check == check && m.code == code)
                    .map(|m| m.title.clone()),
            )
            .collect();
        titles.dedup();
        if titles.is_empty() {
            Remedy::None
        } else {
            Remedy::Manual(titles)
        }
    }

    /// The part of the plan that makes one check pass: its steps, the steps they depend on, and
    /// its by-hand steps. This is what the setup wizard runs for "let snconnect do it".
    ///
    /// A record created for another check comes with the steps that finish it (the user created
    /// for a role grant also gets its password and is activated), so no part leaves a
    /// half-made record behind.
    pub fn only(&self, check: CheckId) -> Plan {
        let mut keep: BTreeSet<&str> = self
            .steps
            .iter()
            .filter(|s| s.check == check)
            .map(|s| s.id.as_str())
            .collect();
        loop {
            let before = keep.len();
            for step in &self.steps {
                if keep.contains(step.id.as_str()) {
                    keep.extend(step.depends_on.iter().map(String::as_str));
                }
                if let Action::Update(Value::CreatedBy(creator)) = &step.action {
                    if keep.contains(creator.as_str()) {
                        keep.insert(step.id.as_str());
                    }
                }
            }
            if keep.len() == before {
                break;
            }
        }
        let steps: Vec<Step> = self
            .steps
            .iter()
            .filter(|s| keep.contains(s.id.as_str()))
            .cloned()
            .collect();
        let used: HashSet<SecretKind> = steps.iter().flat_map(|s| s.secrets()).collect();
        Plan {
            instance: self.instance.clone(),
            path: self.path,
            username: self.username.clone(),
            steps,
            manual: self
                .manual
                .iter()
                .filter(|m| m.check == check)
                .cloned()
                .collect(),
            secrets: self
                .secrets
                .iter()
                .filter(|s| used.contains(&s.kind))
                .copied()
                .collect(),
            notes: self.notes.clone(),
            also_answers: self
                .also_answers
                .iter()
                .filter(|(step, _, _)| keep.contains(step.as_str()))
                .cloned()
                .collect(),
            acl_drift: if check == CheckId::TaskAcls {
                self.acl_drift.clone()
            } else {
                Vec::new()
            },
        }
    }
}

/// What the plan needs besides the instance's state.
#[derive(Debug, Clone)]
pub struct PlanInputs {
    pub path: SetupPath,
    pub username: String,
    /// `--email`; [`default_email`] when not given.
    pub email: Option<String>,
    /// The client id given, if any: a new entry gets it, and it picks among existing entries.
    pub client_id: Option<String>,
    /// A client secret was supplied (flag, environment, or stored in the profile).
    pub client_secret_held: bool,
    /// A service user password was supplied.
    pub password_held: bool,
    pub links: Links,
}

/// The email a created service user gets when `--email` is not given. `.invalid` names can
/// never resolve (RFC 2606), so no notification sent to the account reaches anyone by accident.
pub fn default_email(username: &str) -> String {
    let local: String = username
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{local}@invalid.example")
}

/// Builds the plan. `state` is what [`crate::facts::gather`] read.
pub fn plan(state: &State, inputs: &PlanInputs) -> Plan {
    let mut b = Builder {
        plan: Plan {
            instance: inputs.links.base().to_string(),
            path: inputs.path,
            username: inputs.username.clone(),
            steps: Vec::new(),
            manual: Vec::new(),
            secrets: Vec::new(),
            notes: Vec::new(),
            also_answers: Vec::new(),
            acl_drift: Vec::new(),
        },
        inputs,
    };
    b.app(state);
    b.oauth(state);
    let user = b.user(state);
    let holds_admin = b.roles(state, &user);
    if inputs.path == SetupPath::App && !holds_admin {
        b.acls(state);
    }
    b.secrets();
    b.plan
}

/// The service user as far as later steps are concerned.
enum UserRef {
    /// Exists, with this sys_id.
    Existing(String),
    /// The plan creates it in step `user`.
    Created,
    /// Could not be read: nothing that needs it can be planned.
    Unknown,
}

impl UserRef {
    fn value(&self) -> Option<Value> {
        match self {
            UserRef::Existing(id) => Some(Value::text(id)),
            UserRef::Created => Some(Value::CreatedBy(STEP_USER.into())),
            UserRef::Unknown => None,
        }
    }
}

const STEP_ENTRY: &str = "oauth_entry";
const STEP_ENTRY_SECRET: &str = "oauth_entry_secret";
const STEP_SCOPE: &str = "oauth_scope";
const STEP_USER: &str = "user";
const STEP_USER_PASSWORD: &str = "user_password";
const STEP_USER_REPAIR: &str = "user_repair";

struct Builder<'a> {
    plan: Plan,
    inputs: &'a PlanInputs,
}

impl Builder<'_> {
    fn links(&self) -> &Links {
        &self.inputs.links
    }

    fn push(&mut self, step: Step) {
        self.plan.steps.push(step);
    }

    fn manual(&mut self, step: ManualStep) {
        if !self.plan.manual.contains(&step) {
            self.plan.manual.push(step);
        }
    }

    fn note(&mut self, note: impl Into<String>) {
        self.plan.notes.push(note.into());
    }

    fn app(&mut self, state: &State) {
        if self.inputs.path != SetupPath::App {
            return;
        }
        match &state.app {
            Lookup::Rows(rows) => {
                if rows.iter().any(|a| a.active == Some(true)) {
                    return;
                }
                let step = match rows.first() {
                    Some(inactive) => manual::install_app(
                        FindingCode::AppInactive,
                        Some(&inactive.sys_id),
                        self.links(),
                    ),
                    None => manual::install_app(FindingCode::AppNotInstalled, None, self.links()),
                };
                self.manual(step);
            }
            _ => self.note("the installed Store apps could not be read; verify reports on the app"),
        }
    }

    /// Records which secrets the steps send and where each comes from.
    fn secrets(&mut self) {
        let used: BTreeSet<SecretKind> = self.plan.steps.iter().flat_map(|s| s.secrets()).collect();
        for kind in used {
            let held = match kind {
                SecretKind::ClientSecret => self.inputs.client_secret_held,
                SecretKind::Password => self.inputs.password_held,
                SecretKind::AdminPassword => true,
                // No step sends it: it is verify's, for incident.io.
                SecretKind::NotifyToken => continue,
            };
            self.plan.secrets.push(PlannedSecret {
                kind,
                source: if held {
                    SecretSource::Supplied
                } else {
                    SecretSource::Generated
                },
            });
        }
    }
}

mod acls;
mod oauth;
mod user;

#[cfg(test)]
#[path = "plan_tests.rs"]
pub(crate) mod tests;
