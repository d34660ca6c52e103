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
            Value::CreatedBy(step) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("sys_id_from_step", step)?;
                m.end()
            }
            Value::Secret(_) => s.serialize_str(crate::servicenow::REDACTED),
        }
    }
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Text(t) => f.write_str(t),
            Value::Bool(b) => write!(f, "{b}"),
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

/// Where a secret that a step sends comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SecretSource {
    /// Given by the user (stdin, environment) or stored in the profile.
    Supplied,
    /// Generated from the OS random source, and stored before anything is written.
    Generated,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PlannedSecret {
    #[serde(serialize_with = "serialize_kind")]
    pub kind: SecretKind,
    pub source: SecretSource,
}

fn serialize_kind<S: Serializer>(k: &SecretKind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(k.as_str())
}

/// Everything `apply` would do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
    pub also_answers: Vec<(String, CheckId, FindingCode)>,
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

    fn oauth(&mut self, state: &State) {
        let links = self.links().clone();
        // Instance-wide switches: a person's decision, never changed by apply.
        if let Lookup::Rows(props) = &state.properties {
            let value = |name: &str| {
                props
                    .iter()
                    .find(|p| p.name == name)
                    .map(|p| p.value.trim().to_ascii_lowercase())
            };
            if value(PROP_OAUTH_ACTIVE).as_deref() == Some("false") {
                self.manual(manual::property(
                    PROP_OAUTH_ACTIVE,
                    "true",
                    FindingCode::OauthDisabled,
                    &links,
                ));
            }
            if value(PROP_ROPC_DISABLED).as_deref() == Some("true") {
                self.manual(manual::property(
                    PROP_ROPC_DISABLED,
                    "false",
                    FindingCode::OauthRopcDisabled,
                    &links,
                ));
            }
        }

        let entries_list = links.list("oauth_entity", &oauth_app::entry_query());
        let Lookup::Rows(rows) = &state.entries else {
            self.manual(manual::unreadable(
                CheckId::OauthApp,
                FindingCode::OauthCannotSee,
                "the OAuth application registry (oauth_entity)",
                entries_list,
            ));
            return;
        };
        let entries: Vec<&oauth_app::Entry> =
            rows.iter().filter(|e| e.name == OAUTH_ENTRY_NAME).collect();
        let scope_id = useraccount_scope_id(state);

        if entries.is_empty() {
            let mut fields = vec![
                ("name".to_string(), Value::text(OAUTH_ENTRY_NAME)),
                ("type".to_string(), Value::text("client")),
                ("active".to_string(), Value::Bool(false)),
                (
                    "comments".to_string(),
                    Value::text(
                        "incident.io integration (resource owner password grant); created by \
                         snconnect",
                    ),
                ),
            ];
            if let Some(id) = &self.inputs.client_id {
                fields.push(("client_id".to_string(), Value::text(id)));
            }
            self.push(Step {
                id: STEP_ENTRY.into(),
                check: CheckId::OauthApp,
                table: "oauth_entity".into(),
                action: Action::Create,
                fields,
                natural_key: vec![("name".into(), Value::text(OAUTH_ENTRY_NAME))],
                why: FindingCode::OauthMissing,
                summary: format!(
                    "create the OAuth application registry entry '{OAUTH_ENTRY_NAME}', inactive \
                     until its client secret is set"
                ),
                depends_on: vec![],
                confirm: false,
                input_display_value: false,
                fallback: None,
            });
            self.push(Step {
                id: STEP_ENTRY_SECRET.into(),
                check: CheckId::OauthApp,
                table: "oauth_entity".into(),
                action: Action::Update(Value::CreatedBy(STEP_ENTRY.into())),
                fields: vec![
                    (
                        "client_secret".into(),
                        Value::Secret(SecretKind::ClientSecret),
                    ),
                    ("active".into(), Value::Bool(true)),
                ],
                natural_key: vec![],
                why: FindingCode::OauthMissing,
                summary: format!("set the client secret of '{OAUTH_ENTRY_NAME}' and activate it"),
                depends_on: vec![STEP_ENTRY.into()],
                confirm: false,
                input_display_value: true,
                fallback: None,
            });
            match scope_id {
                Some(scope) => self.push(scope_step(Value::CreatedBy(STEP_ENTRY.into()), scope)),
                None => self.manual(manual::no_useraccount_scope(&links)),
            }
            return;
        }

        let active: Vec<&&oauth_app::Entry> =
            entries.iter().filter(|e| e.active == Some(true)).collect();
        if active.len() > 1 {
            self.manual(manual::duplicate_entries(&links));
            return;
        }
        // The entry incident.io uses, chosen as the oauth_app check chooses it.
        let by_client_id = self
            .inputs
            .client_id
            .as_deref()
            .and_then(|id| entries.iter().find(|e| e.client_id.as_deref() == Some(id)));
        let entry = by_client_id
            .or(active.first().copied())
            .unwrap_or(&entries[0]);
        if let (Some(given), None) = (&self.inputs.client_id, by_client_id) {
            self.note(format!(
                "the client id given ({given}) matches no entry named '{OAUTH_ENTRY_NAME}'; apply \
                 works on the entry with client id {} — give that id to incident.io",
                entry.client_id.as_deref().unwrap_or("(not readable)")
            ));
        }

        if entry.active != Some(true) {
            let mut fields = Vec::new();
            if self.inputs.client_secret_held {
                fields.push((
                    "client_secret".to_string(),
                    Value::Secret(SecretKind::ClientSecret),
                ));
            } else {
                self.note(format!(
                    "entry '{OAUTH_ENTRY_NAME}' keeps its current client secret, which the API \
                     cannot read back: supply it (SNCONNECT_CLIENT_SECRET) so that verify can \
                     test the connection, or copy it from the entry"
                ));
            }
            fields.push(("active".to_string(), Value::Bool(true)));
            let with_secret = fields.len() == 2;
            self.push(Step {
                id: STEP_ENTRY_SECRET.into(),
                check: CheckId::OauthApp,
                table: "oauth_entity".into(),
                action: Action::Update(Value::text(&entry.sys_id)),
                fields,
                natural_key: vec![],
                why: FindingCode::OauthInactive,
                summary: if with_secret {
                    format!(
                        "set the client secret of the existing entry '{OAUTH_ENTRY_NAME}' to the \
                         one supplied, and activate it"
                    )
                } else {
                    format!("activate the existing entry '{OAUTH_ENTRY_NAME}'")
                },
                depends_on: vec![],
                confirm: true,
                input_display_value: with_secret,
                fallback: None,
            });
        }

        let has_scope = state.mappings.rows().map(|maps| {
            oauth_app::has_useraccount(
                maps,
                &entry.sys_id,
                oauth_app::pinned_useraccount_scope(&state.properties),
            )
        });
        match (has_scope, scope_id) {
            (Some(true), _) => {}
            (Some(false), Some(scope)) => {
                let mut step = scope_step(Value::text(&entry.sys_id), scope);
                step.why = FindingCode::OauthScopeMissing;
                self.push(step);
            }
            (Some(false), None) => self.manual(manual::no_useraccount_scope(&links)),
            (None, _) => self.manual(manual::unreadable(
                CheckId::OauthApp,
                FindingCode::OauthScopeUnverified,
                "the auth scopes of the OAuth entry (oauth_entity_auth_scope_mapping)",
                links.record("oauth_entity", &entry.sys_id),
            )),
        }
    }

    /// Plans the service user; returns how later steps refer to it.
    fn user(&mut self, state: &State) -> UserRef {
        let name = self.inputs.username.clone();
        let list = self
            .links()
            .list("sys_user", &service_user::user_query(&name));
        let Lookup::Rows(rows) = &state.user else {
            self.manual(manual::unreadable(
                CheckId::ServiceUser,
                FindingCode::UserCannotSee,
                &format!("user '{name}' (sys_user)"),
                list,
            ));
            return UserRef::Unknown;
        };
        let Some(user) = rows.iter().find(|u| u.user_name == name) else {
            let email = self
                .inputs
                .email
                .clone()
                .unwrap_or_else(|| default_email(&name));
            let mut fields = vec![
                ("user_name".to_string(), Value::text(&name)),
                ("first_name".to_string(), Value::text(&name)),
                ("last_name".to_string(), Value::text("integration")),
                ("email".to_string(), Value::text(email)),
                ("active".to_string(), Value::Bool(false)),
                ("locked_out".to_string(), Value::Bool(false)),
                ("password_needs_reset".to_string(), Value::Bool(false)),
                ("web_service_access_only".to_string(), Value::Bool(true)),
            ];
            if state.identity_type_field {
                fields.push(("identity_type".to_string(), Value::text(MACHINE_IDENTITY)));
            } else {
                self.note(
                    "this release has no Identity type on users; the new user is made \
                     web-service only instead",
                );
            }
            self.push(Step {
                id: STEP_USER.into(),
                check: CheckId::ServiceUser,
                table: "sys_user".into(),
                action: Action::Create,
                fields,
                natural_key: vec![("user_name".into(), Value::text(&name))],
                why: FindingCode::UserMissing,
                summary: format!(
                    "create the service user '{name}' (machine identity, web-service only), \
                     inactive until its password is set"
                ),
                depends_on: vec![],
                confirm: false,
                input_display_value: false,
                fallback: None,
            });
            self.push(password_step(
                &name,
                Value::CreatedBy(STEP_USER.into()),
                FindingCode::UserMissing,
                vec![STEP_USER.into()],
                false,
            ));
            return UserRef::Created;
        };

        // Repairs of an existing account: each is a change to a record that existed before.
        let mut fields = Vec::new();
        let mut what = Vec::new();
        let mut reasons: Vec<FindingCode> = Vec::new();
        let mut reason = |code: FindingCode| reasons.push(code);
        if user.locked_out == Some(true) {
            fields.push(("locked_out".to_string(), Value::Bool(false)));
            fields.push(("failed_attempts".to_string(), Value::text("0")));
            what.push("unlock it (and reset its failed login count)");
            reason(FindingCode::UserLockedOut);
        }
        if user.password_needs_reset == Some(true) {
            fields.push(("password_needs_reset".to_string(), Value::Bool(false)));
            what.push("clear Password needs reset");
            reason(FindingCode::UserPasswordNeedsReset);
        }
        if state.identity_type_field
            && !matches!(&user.identity_type, service_user::FieldValue::Absent)
            && user.identity_type != service_user::FieldValue::Value(MACHINE_IDENTITY.into())
        {
            fields.push(("identity_type".to_string(), Value::text(MACHINE_IDENTITY)));
            fields.push(("web_service_access_only".to_string(), Value::Bool(true)));
            what.push("make it a machine identity (web-service only)");
            reason(FindingCode::UserNotMachine);
        }
        let inactive = user.active == Some(false);
        // An inactive user is activated together with its password when one is held: that is
        // also how a creation interrupted before its password was set gets finished.
        let activate_with_password = inactive && self.inputs.password_held;
        if inactive && !activate_with_password {
            fields.push(("active".to_string(), Value::Bool(true)));
            what.push("activate it");
            reason(FindingCode::UserInactive);
        }
        if !fields.is_empty() {
            let why = reasons.first().copied();
            for code in reasons.iter().skip(1) {
                self.plan
                    .also_answers
                    .push((STEP_USER_REPAIR.into(), CheckId::ServiceUser, *code));
            }
            self.push(Step {
                id: STEP_USER_REPAIR.into(),
                check: CheckId::ServiceUser,
                table: "sys_user".into(),
                action: Action::Update(Value::text(&user.sys_id)),
                fields,
                natural_key: vec![],
                why: why.unwrap_or(FindingCode::UserInactive),
                summary: format!("repair the existing user '{name}': {}", what.join(", ")),
                depends_on: vec![],
                confirm: true,
                input_display_value: false,
                fallback: None,
            });
        }
        if activate_with_password {
            let deps = if self.plan.step(STEP_USER_REPAIR).is_some() {
                vec![STEP_USER_REPAIR.to_string()]
            } else {
                vec![]
            };
            self.push(password_step(
                &name,
                Value::text(&user.sys_id),
                FindingCode::UserInactive,
                deps,
                true,
            ));
        } else {
            self.note(format!(
                "the existing user '{name}' keeps its password; apply never changes the password \
                 of an active account"
            ));
        }
        UserRef::Existing(user.sys_id.clone())
    }

    /// Plans the role grants; returns whether the user holds (or will hold) `admin`.
    fn roles(&mut self, state: &State, user: &UserRef) -> bool {
        let name = self.inputs.username.clone();
        let Some(user_value) = user.value() else {
            return false;
        };
        let held: BTreeSet<String> = match (&state.held, user) {
            (_, UserRef::Created) => BTreeSet::new(),
            (Lookup::Rows(rows), _) => roles::held_names(rows)
                .into_iter()
                .map(str::to_string)
                .collect(),
            _ => {
                self.manual(manual::unreadable(
                    CheckId::Roles,
                    FindingCode::RolesCannotSee,
                    &format!("the roles of user '{name}' (sys_user_has_role)"),
                    self.links()
                        .list("sys_user_has_role", &roles::held_query(&name)),
                ));
                return false;
            }
        };
        if held.contains(ADMIN_ROLE) {
            return true;
        }
        let missing: Vec<&str> = roles_for(self.inputs.path)
            .iter()
            .copied()
            .filter(|r| !held.contains(*r))
            .collect();
        if missing.is_empty() {
            return false;
        }
        let Lookup::Rows(existing) = &state.roles else {
            self.manual(manual::unreadable(
                CheckId::Roles,
                FindingCode::RolesCannotSee,
                "the roles on the instance (sys_user_role)",
                self.links().list("sys_user_role", &roles::existing_query()),
            ));
            return false;
        };
        let user_dep: Vec<String> = match user {
            UserRef::Created => vec![STEP_USER.into()],
            _ => vec![],
        };
        let mut grants_admin = false;
        for role in missing {
            let Some(record) = existing.iter().find(|r| r.name == role) else {
                let step = if role == APP_ROLE {
                    manual::app_role_absent(&format!("grant {APP_ROLE} to '{name}'"))
                } else {
                    manual::role_absent(role, self.links())
                };
                self.manual(step);
                continue;
            };
            grants_admin |= role == ADMIN_ROLE;
            self.push(Step {
                id: format!("grant:{role}"),
                check: CheckId::Roles,
                table: "sys_user_has_role".into(),
                action: Action::Create,
                fields: vec![
                    ("user".into(), user_value.clone()),
                    ("role".into(), Value::text(&record.sys_id)),
                ],
                natural_key: vec![
                    ("user".into(), user_value.clone()),
                    ("role".into(), Value::text(&record.sys_id)),
                ],
                // A user this plan creates has no roles yet: the roles check said "no user".
                why: match user {
                    UserRef::Created => FindingCode::RolesNoUser,
                    _ => FindingCode::RolesMissing,
                },
                summary: format!("grant role '{role}' to '{name}'"),
                depends_on: user_dep.clone(),
                // Granting admin hands over the whole instance: always confirmed.
                confirm: role == ADMIN_ROLE,
                input_display_value: false,
                fallback: None,
            });
        }
        grants_admin
    }

    fn acls(&mut self, state: &State) {
        let links = self.links().clone();
        let (Lookup::Rows(acls), Lookup::Rows(acl_roles)) = (&state.acls, &state.acl_roles) else {
            self.manual(manual::acls_unreadable(&links));
            return;
        };
        let role_id = match &state.roles {
            Lookup::Rows(roles) => roles
                .iter()
                .find(|r| r.name == APP_ROLE)
                .map(|r| r.sys_id.clone()),
            _ => None,
        };
        for spec in acl_specs() {
            let candidates: Vec<&task_acls::Acl> = acls
                .iter()
                .filter(|a| a.operation == spec.operation)
                .collect();
            let requires_app_role = |acl: &task_acls::Acl| {
                acl_roles
                    .iter()
                    .any(|r| r.acl == acl.sys_id && r.role.as_deref() == Some(APP_ROLE))
            };
            let good = |acl: &task_acls::Acl| {
                acl.active != Some(false)
                    && acl.decision_type.as_deref() != Some("deny")
                    && requires_app_role(acl)
            };
            if candidates.iter().any(|a| good(a)) {
                continue;
            }
            let Some(role_id) = role_id.clone() else {
                self.manual(manual::create_acl_after_app(&spec, &links));
                continue;
            };
            // Repair the most nearly right ACL, or create one.
            let best = candidates
                .iter()
                .max_by_key(|a| (requires_app_role(a), a.active != Some(false)))
                .copied();
            match best {
                None => self.create_acl(&spec, role_id, &links),
                Some(acl) => {
                    // Another role on the ACL is "wrong role" in the check; none is "no role".
                    let role_code = if acl_roles.iter().any(|r| r.acl == acl.sys_id) {
                        FindingCode::AclWrongRole
                    } else {
                        FindingCode::AclNoRole
                    };
                    self.repair_acl(
                        &spec,
                        acl,
                        requires_app_role(acl),
                        role_code,
                        role_id,
                        &links,
                    )
                }
            }
        }
    }

    fn create_acl(&mut self, spec: &AclSpec, role_id: String, links: &Links) {
        let op = spec.operation;
        let fallback = Some(manual::create_acl(spec, links));
        let acl_step = format!("acl:{op}");
        let link_step = format!("acl_role:{op}");
        self.push(Step {
            id: acl_step.clone(),
            check: CheckId::TaskAcls,
            table: "sys_security_acl".into(),
            action: Action::Create,
            fields: vec![
                ("name".into(), Value::text(spec.table)),
                ("type".into(), Value::text(spec.acl_type)),
                ("operation".into(), Value::text(op)),
                ("decision_type".into(), Value::text(spec.decision_type)),
                ("admin_overrides".into(), Value::Bool(spec.admin_overrides)),
                ("active".into(), Value::Bool(false)),
                ("sys_scope".into(), Value::text(spec.scope)),
                (
                    "description".into(),
                    Value::text(format!(
                        "Lets the incident.io integration {op} task records (role {}); created by \
                         snconnect",
                        spec.role
                    )),
                ),
            ],
            natural_key: vec![
                ("name".into(), Value::text(spec.table)),
                ("type".into(), Value::text(spec.acl_type)),
                ("operation".into(), Value::text(op)),
            ],
            why: FindingCode::AclMissing,
            summary: format!(
                "create the {op} ACL on task (Allow If, Admin overrides), inactive until it \
                 requires {}",
                spec.role
            ),
            depends_on: vec![],
            confirm: false,
            input_display_value: false,
            fallback: fallback.clone(),
        });
        self.push(acl_role_step(
            spec,
            Value::CreatedBy(acl_step.clone()),
            role_id,
            vec![acl_step.clone()],
            FindingCode::AclMissing,
            false,
            fallback.clone(),
        ));
        self.push(Step {
            id: format!("acl_activate:{op}"),
            check: CheckId::TaskAcls,
            table: "sys_security_acl".into(),
            action: Action::Update(Value::CreatedBy(acl_step)),
            fields: vec![("active".into(), Value::Bool(true))],
            natural_key: vec![],
            why: FindingCode::AclMissing,
            summary: format!("activate the new {op} ACL on task"),
            depends_on: vec![link_step],
            confirm: false,
            input_display_value: false,
            fallback,
        });
    }

    fn repair_acl(
        &mut self,
        spec: &AclSpec,
        acl: &task_acls::Acl,
        has_role: bool,
        role_code: FindingCode,
        role_id: String,
        links: &Links,
    ) {
        let op = spec.operation;
        let mut todo = Vec::new();
        if !has_role {
            todo.push(format!("add {} under Requires role", spec.role));
        }
        let mut fields = Vec::new();
        let deny = acl.decision_type.as_deref() == Some("deny");
        if deny {
            fields.push(("decision_type".to_string(), Value::text("allow")));
            todo.push("set Decision Type to Allow If".to_string());
        }
        if acl.active == Some(false) {
            fields.push(("active".to_string(), Value::Bool(true)));
            todo.push("tick Active".to_string());
        }
        let why = if deny {
            FindingCode::AclDenyUnless
        } else {
            FindingCode::AclInactive
        };
        if deny && acl.active == Some(false) {
            self.plan.also_answers.push((
                format!("acl_repair:{op}"),
                CheckId::TaskAcls,
                FindingCode::AclInactive,
            ));
        }
        let fallback = Some(manual::repair_acl(
            spec,
            &acl.sys_id,
            &todo.join(", "),
            links,
        ));
        let mut deps = Vec::new();
        if !has_role {
            let link_step = format!("acl_role:{op}");
            self.push(acl_role_step(
                spec,
                Value::text(&acl.sys_id),
                role_id,
                vec![],
                role_code,
                true,
                fallback.clone(),
            ));
            deps.push(link_step);
        }
        if !fields.is_empty() {
            self.push(Step {
                id: format!("acl_repair:{op}"),
                check: CheckId::TaskAcls,
                table: "sys_security_acl".into(),
                action: Action::Update(Value::text(&acl.sys_id)),
                fields,
                natural_key: vec![],
                why,
                summary: format!("repair the existing {op} ACL on task: {}", todo.join(", ")),
                // Activated or switched to Allow If only once it requires the role.
                depends_on: deps,
                confirm: true,
                input_display_value: false,
                fallback,
            });
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

/// The `useraccount` auth scope's sys_id: the property that pins it when the record was
/// re-created, else the record found by name.
fn useraccount_scope_id(state: &State) -> Option<&str> {
    oauth_app::pinned_useraccount_scope(&state.properties).or_else(|| match &state.auth_scopes {
        Lookup::Rows(rows) => rows
            .iter()
            .find(|r| r.name == AUTH_SCOPE)
            .map(|r| r.sys_id.as_str()),
        _ => None,
    })
}

fn scope_step(entry: Value, scope_id: &str) -> Step {
    let depends_on = match &entry {
        Value::CreatedBy(step) => vec![step.clone()],
        _ => vec![],
    };
    Step {
        id: STEP_SCOPE.into(),
        check: CheckId::OauthApp,
        table: "oauth_entity_auth_scope_mapping".into(),
        action: Action::Create,
        fields: vec![
            ("oauth_entity".into(), entry.clone()),
            ("auth_scope".into(), Value::text(scope_id)),
        ],
        natural_key: vec![
            ("oauth_entity".into(), entry),
            ("auth_scope".into(), Value::text(scope_id)),
        ],
        why: FindingCode::OauthMissing,
        summary: format!("add the '{AUTH_SCOPE}' auth scope to '{OAUTH_ENTRY_NAME}'"),
        depends_on,
        confirm: false,
        input_display_value: false,
        fallback: None,
    }
}

fn password_step(
    name: &str,
    user: Value,
    why: FindingCode,
    depends_on: Vec<String>,
    existing: bool,
) -> Step {
    Step {
        id: STEP_USER_PASSWORD.into(),
        check: CheckId::ServiceUser,
        table: "sys_user".into(),
        action: Action::Update(user),
        fields: vec![
            ("user_password".into(), Value::Secret(SecretKind::Password)),
            ("active".into(), Value::Bool(true)),
        ],
        natural_key: vec![],
        why,
        summary: if existing {
            format!("set the password of the inactive user '{name}' to the one supplied, and activate it")
        } else {
            format!("set the password of '{name}' and activate it")
        },
        depends_on,
        confirm: existing,
        input_display_value: true,
        fallback: None,
    }
}

fn acl_role_step(
    spec: &AclSpec,
    acl: Value,
    role_id: String,
    depends_on: Vec<String>,
    why: FindingCode,
    existing: bool,
    fallback: Option<ManualStep>,
) -> Step {
    Step {
        id: format!("acl_role:{}", spec.operation),
        check: CheckId::TaskAcls,
        table: "sys_security_acl_role".into(),
        action: Action::Create,
        fields: vec![
            ("sys_security_acl".into(), acl.clone()),
            ("sys_user_role".into(), Value::text(&role_id)),
        ],
        natural_key: vec![
            ("sys_security_acl".into(), acl),
            ("sys_user_role".into(), Value::text(role_id)),
        ],
        why,
        summary: format!(
            "make the {} ACL on task require {}",
            spec.operation, spec.role
        ),
        depends_on,
        confirm: existing,
        input_display_value: false,
        fallback,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::app::AppRecord;
    use crate::checks::oauth_app::{Entry, Property, ScopeMapping};
    use crate::checks::roles::HeldRole;
    use crate::checks::service_user::{FieldValue, User};
    use crate::checks::task_acls::{Acl, AclRole};
    use crate::checks::{FailureKind, QueryFailure};
    use crate::facts::RoleRecord;
    use crate::requirements::PROP_USERACCOUNT_SCOPE_ID;

    fn inputs(path: SetupPath) -> PlanInputs {
        PlanInputs {
            path,
            username: "incident.io".into(),
            email: None,
            client_id: None,
            client_secret_held: false,
            password_held: false,
            links: Links::new("https://acme.service-now.com"),
        }
    }

    fn with_app(mut s: State) -> State {
        s.app = Lookup::Rows(vec![AppRecord {
            sys_id: "app1".into(),
            name: "incident.io".into(),
            version: Some("1.4.0".into()),
            active: Some(true),
            update_available: Some(false),
        }]);
        if let Lookup::Rows(roles) = &mut s.roles {
            roles.push(RoleRecord {
                sys_id: "role-api".into(),
                name: APP_ROLE.into(),
            });
        }
        s
    }

    fn ids(p: &Plan) -> Vec<&str> {
        p.steps.iter().map(|s| s.id.as_str()).collect()
    }

    fn healthy_user() -> User {
        User {
            sys_id: "u1".into(),
            user_name: "incident.io".into(),
            active: Some(true),
            locked_out: Some(false),
            password_needs_reset: Some(false),
            identity_type: FieldValue::Value("machine".into()),
            failed_attempts: Some(0),
        }
    }

    /// The state of a fully set-up app path.
    fn healthy() -> State {
        let mut s = with_app(State::empty_instance());
        s.entries = Lookup::Rows(vec![Entry {
            sys_id: "e1".into(),
            name: OAUTH_ENTRY_NAME.into(),
            client_id: Some("cid".into()),
            active: Some(true),
            ..Entry::default()
        }]);
        s.mappings = Lookup::Rows(vec![ScopeMapping {
            oauth_entity: "e1".into(),
            auth_scope: "scope-useraccount".into(),
            auth_scope_name: Some(AUTH_SCOPE.into()),
        }]);
        s.user = Lookup::Rows(vec![healthy_user()]);
        s.held = Lookup::Rows(
            roles_for(SetupPath::App)
                .iter()
                .map(|r| HeldRole {
                    name: r.to_string(),
                    inherited: false,
                    state: Some("active".into()),
                })
                .collect(),
        );
        s.acls = Lookup::Rows(
            ["read", "create", "write"]
                .iter()
                .map(|op| Acl {
                    sys_id: format!("acl-{op}"),
                    operation: op.to_string(),
                    active: Some(true),
                    admin_overrides: Some(true),
                    decision_type: Some("allow".into()),
                    scope: Some("global".into()),
                    scope_name: Some("global".into()),
                })
                .collect(),
        );
        s.acl_roles = Lookup::Rows(
            ["read", "create", "write"]
                .iter()
                .map(|op| AclRole {
                    acl: format!("acl-{op}"),
                    role: Some(APP_ROLE.into()),
                })
                .collect(),
        );
        s
    }

    #[test]
    fn a_healthy_instance_plans_nothing() {
        let p = plan(&healthy(), &inputs(SetupPath::App));
        assert!(p.steps.is_empty(), "{:?}", ids(&p));
        assert!(p.manual.is_empty(), "{:?}", p.manual);
        assert!(p.secrets.is_empty());
    }

    #[test]
    fn an_empty_instance_with_the_app_plans_everything_in_dependency_order() {
        let p = plan(&with_app(State::empty_instance()), &inputs(SetupPath::App));
        assert_eq!(
            ids(&p),
            [
                "oauth_entry",
                "oauth_entry_secret",
                "oauth_scope",
                "user",
                "user_password",
                "grant:x_incident_io.api_user",
                "grant:cmdb_read",
                "grant:sn_cmdb_user",
                "grant:incident_manager",
                "acl:read",
                "acl_role:read",
                "acl_activate:read",
                "acl:create",
                "acl_role:create",
                "acl_activate:create",
                "acl:write",
                "acl_role:write",
                "acl_activate:write",
            ]
        );
        assert!(p.manual.is_empty(), "{:?}", p.manual);
        // Every dependency names an earlier step.
        for (i, step) in p.steps.iter().enumerate() {
            for dep in &step.depends_on {
                let at = p.steps.iter().position(|s| &s.id == dep).unwrap();
                assert!(at < i, "{} depends on later {}", step.id, dep);
            }
        }
        assert!(p.needing_confirmation().is_empty(), "only new records");
        assert_eq!(
            p.to_generate(),
            [SecretKind::ClientSecret, SecretKind::Password]
        );
    }

    #[test]
    fn records_that_would_work_half_made_are_created_inactive_and_activated_last() {
        let p = plan(&with_app(State::empty_instance()), &inputs(SetupPath::App));
        let field = |step: &str, name: &str| {
            p.step(step)
                .unwrap()
                .fields
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(field("oauth_entry", "active"), Some(Value::Bool(false)));
        assert_eq!(field("user", "active"), Some(Value::Bool(false)));
        assert_eq!(field("acl:read", "active"), Some(Value::Bool(false)));
        assert_eq!(
            field("oauth_entry_secret", "active"),
            Some(Value::Bool(true))
        );
        assert_eq!(field("user_password", "active"), Some(Value::Bool(true)));
        assert_eq!(
            field("acl_activate:read", "active"),
            Some(Value::Bool(true))
        );
        assert_eq!(
            p.step("acl_activate:read").unwrap().depends_on,
            ["acl_role:read"],
            "an ACL is activated only once it requires the role"
        );
        assert_eq!(field("user", "identity_type"), Some(Value::text("machine")));
        assert_eq!(
            field("user", "email"),
            Some(Value::text("incident.io@invalid.example"))
        );
    }

    #[test]
    fn only_the_writes_that_carry_a_secret_use_display_values_and_they_carry_nothing_else() {
        let p = plan(&with_app(State::empty_instance()), &inputs(SetupPath::App));
        for step in &p.steps {
            let has_secret = step.secrets().next().is_some();
            assert_eq!(step.input_display_value, has_secret, "{}", step.id);
            if has_secret {
                for (k, v) in &step.fields {
                    assert!(
                        matches!(v, Value::Secret(_)) || k == "active",
                        "{} sends {k} as a display value",
                        step.id
                    );
                }
            }
        }
    }

    #[test]
    fn supplied_secrets_are_used_and_none_generated() {
        let mut i = inputs(SetupPath::App);
        i.client_secret_held = true;
        i.password_held = true;
        let p = plan(&with_app(State::empty_instance()), &i);
        assert!(p.to_generate().is_empty());
        assert!(p.secrets.iter().all(|s| s.source == SecretSource::Supplied));
    }

    #[test]
    fn without_the_app_its_role_and_the_acls_are_by_hand_steps() {
        let p = plan(&State::empty_instance(), &inputs(SetupPath::App));
        assert!(p.step("grant:cmdb_read").is_some());
        assert!(p.step("grant:x_incident_io.api_user").is_none());
        assert!(p.steps.iter().all(|s| s.check != CheckId::TaskAcls));
        let checks: Vec<CheckId> = p.manual.iter().map(|m| m.check).collect();
        assert_eq!(
            checks,
            [
                CheckId::App,
                CheckId::Roles,
                CheckId::TaskAcls,
                CheckId::TaskAcls,
                CheckId::TaskAcls
            ]
        );
        assert_eq!(
            p.manual[0].link.as_deref(),
            Some(crate::requirements::STORE_URL)
        );
    }

    #[test]
    fn the_admin_path_grants_admin_with_confirmation_and_needs_no_acls_or_app() {
        let p = plan(&State::empty_instance(), &inputs(SetupPath::Admin));
        let grant = p.step("grant:admin").unwrap();
        assert!(grant.confirm);
        assert!(p.steps.iter().all(|s| s.check != CheckId::TaskAcls));
        assert!(p.manual.is_empty(), "{:?}", p.manual);
    }

    #[test]
    fn a_user_holding_admin_needs_no_grants_and_no_acls() {
        let mut s = healthy();
        s.held = Lookup::Rows(vec![HeldRole {
            name: "admin".into(),
            inherited: false,
            state: None,
        }]);
        s.acls = Lookup::Rows(vec![]);
        let p = plan(&s, &inputs(SetupPath::App));
        assert!(p.steps.is_empty(), "{:?}", ids(&p));
    }

    #[test]
    fn an_existing_user_is_repaired_with_confirmation_and_keeps_its_password() {
        let mut s = healthy();
        s.user = Lookup::Rows(vec![User {
            active: Some(false),
            locked_out: Some(true),
            password_needs_reset: Some(true),
            identity_type: FieldValue::Value("human".into()),
            failed_attempts: Some(5),
            ..healthy_user()
        }]);
        let p = plan(&s, &inputs(SetupPath::App));
        assert_eq!(ids(&p), ["user_repair"]);
        let step = &p.steps[0];
        assert!(step.confirm);
        assert_eq!(step.action, Action::Update(Value::text("u1")));
        let names: Vec<&str> = step.fields.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "locked_out",
                "failed_attempts",
                "password_needs_reset",
                "identity_type",
                "web_service_access_only",
                "active"
            ]
        );
        assert!(
            p.secrets.is_empty(),
            "no password is set on an existing user"
        );
        assert!(p.notes.iter().any(|n| n.contains("keeps its password")));
    }

    #[test]
    fn an_inactive_user_with_a_held_password_is_finished_like_an_interrupted_creation() {
        let mut s = healthy();
        s.user = Lookup::Rows(vec![User {
            active: Some(false),
            ..healthy_user()
        }]);
        let mut i = inputs(SetupPath::App);
        i.password_held = true;
        let p = plan(&s, &i);
        assert_eq!(ids(&p), ["user_password"]);
        assert!(p.steps[0].confirm);
        assert_eq!(p.steps[0].action, Action::Update(Value::text("u1")));
        assert_eq!(p.secrets[0].source, SecretSource::Supplied);
    }

    #[test]
    fn an_inactive_entry_is_activated_with_the_held_secret_and_confirmation() {
        let mut s = healthy();
        if let Lookup::Rows(e) = &mut s.entries {
            e[0].active = Some(false);
        }
        let p = plan(&s, &inputs(SetupPath::App));
        let step = p.step("oauth_entry_secret").unwrap();
        assert!(step.confirm);
        assert_eq!(step.fields, [("active".to_string(), Value::Bool(true))]);
        assert!(!step.input_display_value);
        assert!(
            p.secrets.is_empty(),
            "no secret generated for an existing entry"
        );

        let mut i = inputs(SetupPath::App);
        i.client_secret_held = true;
        let p = plan(&s, &i);
        let step = p.step("oauth_entry_secret").unwrap();
        assert!(step.input_display_value);
        assert_eq!(
            step.secrets().collect::<Vec<_>>(),
            [SecretKind::ClientSecret]
        );
    }

    #[test]
    fn a_missing_scope_on_an_existing_entry_is_added() {
        let mut s = healthy();
        s.mappings = Lookup::Rows(vec![]);
        let p = plan(&s, &inputs(SetupPath::App));
        assert_eq!(ids(&p), ["oauth_scope"]);
        assert_eq!(p.steps[0].why, FindingCode::OauthScopeMissing);
        assert_eq!(
            p.steps[0].fields[0],
            ("oauth_entity".to_string(), Value::text("e1"))
        );
    }

    #[test]
    fn the_pinned_useraccount_scope_wins_over_the_name() {
        let mut s = healthy();
        s.mappings = Lookup::Rows(vec![]);
        s.properties = Lookup::Rows(vec![Property {
            name: PROP_USERACCOUNT_SCOPE_ID.into(),
            value: "pinned-id".into(),
        }]);
        let p = plan(&s, &inputs(SetupPath::App));
        assert_eq!(
            p.steps[0].fields[1],
            ("auth_scope".to_string(), Value::text("pinned-id"))
        );
    }

    #[test]
    fn duplicate_active_entries_are_left_to_a_person() {
        let mut s = healthy();
        if let Lookup::Rows(e) = &mut s.entries {
            let mut second = e[0].clone();
            second.sys_id = "e2".into();
            e.push(second);
        }
        let p = plan(&s, &inputs(SetupPath::App));
        assert!(p.steps.is_empty());
        assert_eq!(p.manual[0].code, FindingCode::OauthDuplicate);
    }

    #[test]
    fn hidden_or_failed_lookups_create_nothing() {
        let failed = || {
            Lookup::Failed(QueryFailure {
                table: "t".into(),
                kind: FailureKind::Forbidden,
                message: "no".into(),
            })
        };
        let mut s = with_app(State::empty_instance());
        s.entries = Lookup::Hidden { total: 1 };
        s.user = failed();
        s.acls = Lookup::Hidden { total: 3 };
        let p = plan(&s, &inputs(SetupPath::App));
        assert!(p.steps.is_empty(), "{:?}", ids(&p));
        let codes: Vec<FindingCode> = p.manual.iter().map(|m| m.code).collect();
        assert!(codes.contains(&FindingCode::OauthCannotSee), "{codes:?}");
        assert!(codes.contains(&FindingCode::UserCannotSee), "{codes:?}");
        assert!(codes.contains(&FindingCode::AclCannotSee), "{codes:?}");
    }

    #[test]
    fn broken_acls_are_repaired_in_place_after_their_role_link() {
        let mut s = healthy();
        if let Lookup::Rows(acls) = &mut s.acls {
            acls[0].active = Some(false); // read
            acls[1].decision_type = Some("deny".into()); // create
        }
        if let Lookup::Rows(links) = &mut s.acl_roles {
            links.retain(|l| l.acl != "acl-write");
        }
        let p = plan(&s, &inputs(SetupPath::App));
        assert_eq!(
            ids(&p),
            ["acl_repair:read", "acl_repair:create", "acl_role:write"]
        );
        assert!(p.steps.iter().all(|s| s.confirm));
        assert_eq!(
            p.step("acl_repair:read").unwrap().why,
            FindingCode::AclInactive
        );
        assert_eq!(
            p.step("acl_repair:create").unwrap().why,
            FindingCode::AclDenyUnless
        );
        assert!(p.steps.iter().all(|s| s.fallback.is_some()));
    }

    #[test]
    fn one_good_acl_among_bad_ones_satisfies_its_operation() {
        let mut s = healthy();
        if let Lookup::Rows(acls) = &mut s.acls {
            let mut stray = acls[0].clone();
            stray.sys_id = "stray".into();
            stray.active = Some(false);
            acls.push(stray);
        }
        assert!(plan(&s, &inputs(SetupPath::App)).steps.is_empty());
    }

    #[test]
    fn blocking_properties_become_by_hand_steps() {
        let mut s = healthy();
        s.properties = Lookup::Rows(vec![
            Property {
                name: PROP_ROPC_DISABLED.into(),
                value: "true".into(),
            },
            Property {
                name: PROP_OAUTH_ACTIVE.into(),
                value: "false".into(),
            },
        ]);
        let p = plan(&s, &inputs(SetupPath::App));
        assert!(p.steps.is_empty());
        let codes: Vec<FindingCode> = p.manual.iter().map(|m| m.code).collect();
        assert_eq!(
            codes,
            [FindingCode::OauthDisabled, FindingCode::OauthRopcDisabled]
        );
    }

    #[test]
    fn a_release_without_identity_type_gets_no_such_field() {
        let mut s = with_app(State::empty_instance());
        s.identity_type_field = false;
        let p = plan(&s, &inputs(SetupPath::App));
        let user = p.step("user").unwrap();
        assert!(user.fields.iter().all(|(k, _)| k != "identity_type"));
        assert!(user
            .fields
            .contains(&("web_service_access_only".to_string(), Value::Bool(true))));
    }

    #[test]
    fn a_given_client_id_goes_on_a_new_entry() {
        let mut i = inputs(SetupPath::App);
        i.client_id = Some("my-id".into());
        let p = plan(&with_app(State::empty_instance()), &i);
        assert!(p
            .step("oauth_entry")
            .unwrap()
            .fields
            .contains(&("client_id".to_string(), Value::text("my-id"))));
    }

    #[test]
    fn the_part_for_one_check_keeps_its_dependencies() {
        let p = plan(&with_app(State::empty_instance()), &inputs(SetupPath::App));
        let roles = p.only(CheckId::Roles);
        assert_eq!(
            ids(&roles),
            [
                "user",
                "user_password",
                "grant:x_incident_io.api_user",
                "grant:cmdb_read",
                "grant:sn_cmdb_user",
                "grant:incident_manager"
            ]
        );
        assert_eq!(
            roles.to_generate(),
            [SecretKind::Password],
            "a user created for the grants is finished too"
        );
        let acls = p.only(CheckId::TaskAcls);
        assert_eq!(acls.steps.len(), 9);
        assert!(acls.secrets.is_empty());
        let oauth = p.only(CheckId::OauthApp);
        assert_eq!(
            ids(&oauth),
            ["oauth_entry", "oauth_entry_secret", "oauth_scope"]
        );
        assert_eq!(oauth.to_generate(), [SecretKind::ClientSecret]);
    }

    #[test]
    fn the_json_plan_shows_secrets_redacted_and_references_by_step() {
        let p = plan(&with_app(State::empty_instance()), &inputs(SetupPath::App));
        let v = serde_json::to_value(&p).unwrap();
        let secret_step = &v["steps"][1];
        assert_eq!(secret_step["id"], "oauth_entry_secret");
        assert_eq!(secret_step["fields"]["client_secret"], "[redacted]");
        assert_eq!(secret_step["record"]["sys_id_from_step"], "oauth_entry");
        assert_eq!(secret_step["action"], "update");
        assert_eq!(v["steps"][0]["why"], "oauth_app.missing");
        assert_eq!(v["secrets"][0]["kind"], "client_secret");
        assert_eq!(v["secrets"][0]["source"], "generated");
        assert_eq!(v["path"], "app");
    }

    #[test]
    fn default_email_is_undeliverable_and_well_formed() {
        assert_eq!(default_email("incident.io"), "incident.io@invalid.example");
        assert_eq!(default_email("svc user"), "svc_user@invalid.example");
    }
}
