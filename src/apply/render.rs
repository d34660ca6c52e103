//! How a plan and its outcome look: text for people, JSON for programs.
//!
//! Neither ever holds a secret's value unless the caller passes one in on purpose (`--reveal`):
//! plan fields that carry a secret render as `[redacted]`, and the outcome names where generated
//! secrets were stored, not what they are.

use std::fmt::Write as _;

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use super::execute::{Outcome, StepOutcome};
use super::manual::ManualStep;
use super::plan::{Action, Plan, PlannedSecret, SecretSource, Step, Value};
use crate::credentials::SecretKind;

/// The JSON documents' schema version (apply's own; verify's report is embedded as it is).
pub const SCHEMA_VERSION: u32 = 1;

/// Where the secrets a run generated went, and optionally their values (`--reveal`).
#[derive(Debug, Clone, Default)]
pub struct SecretsReport {
    /// The profile they were stored under.
    pub profile: String,
    /// The backend that holds them, e.g. "os-keyring (Secret Service)"; `None` when nothing was
    /// generated.
    pub backend: Option<&'static str>,
    /// Generated values, shown only with `--reveal`.
    pub revealed: Vec<(SecretKind, SecretString)>,
    /// What the store held for each generated secret before this run, to put back what was not
    /// used. Never rendered.
    pub earlier: Vec<(SecretKind, Option<SecretString>)>,
    /// Generated secrets that no write set on the instance (the record was another run's), and
    /// that were therefore put back to what the store held before.
    pub put_back: Vec<SecretKind>,
}

impl SecretsReport {
    /// Forgets the generated values of `kinds`, which were put back in the store.
    pub fn mark_put_back(&mut self, kinds: &[SecretKind]) {
        self.revealed.retain(|(k, _)| !kinds.contains(k));
        self.put_back.extend_from_slice(kinds);
    }

    /// Whether any generated secret stayed in the store.
    fn any_kept(&self) -> bool {
        self.put_back.is_empty() || self.earlier.iter().any(|(k, _)| !self.put_back.contains(k))
    }
}

fn step_number(plan: &Plan, id: &str) -> Option<usize> {
    plan.steps.iter().position(|s| s.id == id).map(|i| i + 1)
}

fn value_text(plan: &Plan, v: &Value) -> String {
    match v {
        Value::CreatedBy(id) => match step_number(plan, id) {
            Some(n) => format!("(the record from step {n})"),
            None => format!("(the record from step {id})"),
        },
        other => other.to_string(),
    }
}

fn action_text(plan: &Plan, step: &Step) -> String {
    match &step.action {
        Action::Create => format!("create {}", step.table),
        Action::Update(target) => format!("update {} {}", step.table, value_text(plan, target)),
    }
}

fn push_manual(out: &mut String, manual: &[ManualStep]) {
    if manual.is_empty() {
        return;
    }
    let _ = writeln!(out, "\nTo do by hand ({}):", manual.len());
    for (i, m) in manual.iter().enumerate() {
        let _ = writeln!(out, "  {}. {} ({})", i + 1, m.title, m.code);
        let _ = writeln!(out, "     how:  {}", m.instructions);
        if let Some(link) = &m.link {
            let _ = writeln!(out, "     link: {link}");
        }
    }
}

fn secret_line(s: &PlannedSecret) -> String {
    match s.source {
        SecretSource::Supplied => format!("{}: the one supplied", s.kind.label()),
        SecretSource::Generated => format!(
            "{}: none supplied, so apply generates a strong one and stores it in the profile \
             before it writes anything",
            s.kind.label()
        ),
    }
}

/// The plan as text: each write with its table, fields (secrets redacted), reason and order.
pub fn plan_human(plan: &Plan, dry_run: bool) -> String {
    let headline = if dry_run {
        "snconnect apply --dry-run"
    } else {
        "snconnect apply"
    };
    headline_for(headline, plan) + &plan_body(plan, dry_run, true)
}

/// The line that names the command, the instance, the path and the user.
fn headline_for(command: &str, plan: &Plan) -> String {
    format!(
        "{command} {} ({} path, service user '{}')\n",
        plan.instance,
        plan.path.as_str(),
        plan.username
    )
}

/// The plan without the headline, for the setup wizard, where the step already says what runs.
///
/// `confirm_hint` adds how the command line confirms changes to existing records (`--yes`); the
/// wizard asks its own question and leaves it out.
pub fn plan_body(plan: &Plan, dry_run: bool, confirm_hint: bool) -> String {
    let mut out = String::new();
    if plan.steps.is_empty() {
        let _ = writeln!(
            out,
            "\nNothing to write: every record apply manages is in place."
        );
    } else {
        let _ = writeln!(
            out,
            "\n{} planned{}:",
            crate::model::count(plan.steps.len(), "write", "writes"),
            if dry_run { ", nothing changed" } else { "" }
        );
        for (i, step) in plan.steps.iter().enumerate() {
            let _ = writeln!(
                out,
                "  {:>2}. {} — {} [{}]",
                i + 1,
                action_text(plan, step),
                step.summary,
                step.why
            );
            for (field, value) in &step.fields {
                let _ = writeln!(out, "        {field} = {}", value_text(plan, value));
            }
            let mut extra = Vec::new();
            if !step.depends_on.is_empty() {
                let deps: Vec<String> = step
                    .depends_on
                    .iter()
                    .map(|d| step_number(plan, d).map_or(d.clone(), |n| n.to_string()))
                    .collect();
                extra.push(format!("after {}", deps.join(", ")));
            }
            if step.input_display_value {
                extra.push("sent with sysparm_input_display_value=true".to_string());
            }
            if step.confirm {
                extra.push("changes a record that already exists: needs confirmation".to_string());
            }
            if !extra.is_empty() {
                let _ = writeln!(out, "        ({})", extra.join("; "));
            }
        }
        if plan
            .steps
            .iter()
            .any(|s| s.table.starts_with("sys_security_acl"))
        {
            let _ = writeln!(
                out,
                "\n  ServiceNow normally refuses ACL writes over REST: they need security_admin \
                 elevation, which only an interactive session has. If it refuses, apply says so \
                 and lists each ACL as a by-hand step with a link to a prefilled form."
            );
        }
        let confirm: Vec<String> = plan
            .needing_confirmation()
            .iter()
            .filter_map(|s| step_number(plan, &s.id).map(|n| n.to_string()))
            .collect();
        if confirm_hint && !confirm.is_empty() {
            let _ = writeln!(
                out,
                "  {} {}: apply asks first, or needs --yes without a terminal.",
                if confirm.len() == 1 { "Step" } else { "Steps" },
                if confirm.len() == 1 {
                    format!(
                        "{} changes a record that already exists (or grants admin)",
                        confirm[0]
                    )
                } else {
                    format!(
                        "{} change records that already exist (or grant admin)",
                        confirm.join(", ")
                    )
                }
            );
        }
    }
    push_manual(&mut out, &plan.manual);
    if !plan.secrets.is_empty() {
        let _ = writeln!(out, "\nSecrets:");
        for s in &plan.secrets {
            let _ = writeln!(out, "  - {}", secret_line(s));
        }
    }
    if !plan.notes.is_empty() {
        let _ = writeln!(out, "\nNotes:");
        for n in &plan.notes {
            let _ = writeln!(out, "  - {n}");
        }
    }
    out
}

use crate::report::json::{Tool, TOOL};

/// An `apply --dry-run --format json` document. `schema/plan.schema.json` is generated from it.
#[derive(Serialize, schemars::JsonSchema)]
#[schemars(rename = "Plan")]
struct PlanDocument<'a> {
    #[schemars(extend("const" = 1))]
    schema_version: u32,
    tool: Tool,
    dry_run: bool,
    #[serde(flatten)]
    plan: &'a Plan,
}

/// The JSON Schema of [`plan_json`]'s documents: what `schema/plan.schema.json` holds.
pub fn plan_schema() -> String {
    let schema = schemars::schema_for!(PlanDocument<'static>);
    let mut out = serde_json::to_string_pretty(&schema).unwrap_or_default();
    out.push('\n');
    out
}

/// The plan as a JSON document (`apply --dry-run --format json`).
pub fn plan_json(plan: &Plan) -> String {
    let doc = PlanDocument {
        schema_version: SCHEMA_VERSION,
        tool: TOOL,
        dry_run: true,
        plan,
    };
    let mut out = serde_json::to_string_pretty(&doc).unwrap_or_default();
    out.push('\n');
    out
}

fn outcome_word(o: &StepOutcome) -> &'static str {
    match o {
        StepOutcome::Created { .. } => "created",
        StepOutcome::Found { .. } => "found",
        StepOutcome::Raced { .. } => "raced",
        StepOutcome::Updated { .. } => "updated",
        StepOutcome::Refused { .. } => "REFUSED",
        StepOutcome::Failed { .. } => "FAILED",
        StepOutcome::Skipped { .. } => "skipped",
    }
}

fn outcome_mark(o: &StepOutcome) -> &'static str {
    match o {
        StepOutcome::Created { .. }
        | StepOutcome::Found { .. }
        | StepOutcome::Updated { .. }
        | StepOutcome::Raced { .. } => "✓",
        StepOutcome::Refused { .. } | StepOutcome::Failed { .. } => "✗",
        StepOutcome::Skipped { .. } => "-",
    }
}

/// What a run did, as text: each step's outcome, the by-hand steps, and where the secrets are.
pub fn outcome_human(plan: &Plan, outcome: &Outcome, secrets: &SecretsReport) -> String {
    headline_for("snconnect apply", plan) + &outcome_body(outcome, secrets)
}

/// The outcome without the headline, for the setup wizard.
pub fn outcome_body(outcome: &Outcome, secrets: &SecretsReport) -> String {
    let mut out = String::new();
    if outcome.results.is_empty() {
        let _ = writeln!(
            out,
            "\nNothing to write: every record apply manages is in place."
        );
    } else {
        let ok = outcome
            .results
            .iter()
            .filter(|r| r.outcome.succeeded())
            .count();
        let _ = writeln!(
            out,
            "\n{ok} of {} done, {} sent:",
            crate::model::count(outcome.results.len(), "step", "steps"),
            crate::model::count(outcome.writes(), "write", "writes")
        );
        for r in &outcome.results {
            let _ = writeln!(
                out,
                "  {} {:<8} {}: {}",
                outcome_mark(&r.outcome),
                outcome_word(&r.outcome),
                r.table,
                r.summary
            );
            match &r.outcome {
                StepOutcome::Refused { message } | StepOutcome::Failed { message, .. } => {
                    let _ = writeln!(out, "      {message}");
                }
                StepOutcome::Skipped { reason } => {
                    let _ = writeln!(out, "      not attempted: {reason}");
                }
                StepOutcome::Found { .. } => {
                    let _ = writeln!(out, "      already there, not inserted again");
                }
                StepOutcome::Raced { kept, removed } => {
                    let what = match removed {
                        Some(ours) => format!(
                            "another run inserted the same record at the same time; the older \
                             one ({kept}) is kept and this run's ({ours}) was deleted again"
                        ),
                        None => format!(
                            "another run inserted it first ({kept}); this run uses that one"
                        ),
                    };
                    let _ = writeln!(out, "      {what}");
                }
                _ => {}
            }
            if let Some(link) = &r.link {
                let _ = writeln!(out, "      link: {link}");
            }
        }
        if outcome.acl_refused() {
            let _ = writeln!(
                out,
                "\n  The instance refused the ACL writes: creating ACLs needs the security_admin \
                 role elevated, and elevation belongs to an interactive UI session that a REST \
                 session cannot carry. Each remaining ACL is listed below with a link to a \
                 prefilled form."
            );
        }
    }
    push_manual(&mut out, &outcome.manual);
    if !secrets.put_back.is_empty() {
        let labels: Vec<&str> = secrets.put_back.iter().map(|k| k.label()).collect();
        let _ =
            writeln!(
            out,
            "\nThe generated {} never reached the instance (the record there is another run's), \
             so {} not kept: profile '{}' holds what it held before this run.",
            labels.join(" and the generated "),
            if labels.len() == 1 { "it is" } else { "they are" },
            secrets.profile
        );
    }
    if let Some(backend) = secrets.backend.filter(|_| secrets.any_kept()) {
        let _ = writeln!(
            out,
            "\nGenerated secrets are stored in {backend} under profile '{}'.",
            secrets.profile
        );
        for (kind, value) in &secrets.revealed {
            let _ = writeln!(out, "  {}: {}", kind.label(), value.expose_secret());
        }
        if secrets.revealed.is_empty() {
            let _ = writeln!(
                out,
                "  Show them for pasting into incident.io with: snconnect credentials show \
                 --profile {} --reveal",
                secrets.profile
            );
        }
    }
    let _ = writeln!(out);
    out
}

#[derive(Serialize)]
struct SecretOut<'a> {
    kind: &'static str,
    source: SecretSource,
    stored_in: Option<&'static str>,
    /// Generated, but never set on the instance, so not kept (see `SecretsReport::put_back`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    put_back: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<&'a str>,
}

#[derive(Serialize)]
struct OutcomeDocument<'a> {
    schema_version: u32,
    tool: Tool,
    instance: &'a str,
    path: &'static str,
    username: &'a str,
    dry_run: bool,
    ok: bool,
    profile: &'a str,
    steps: &'a [Step],
    results: &'a [super::execute::StepResult],
    manual: &'a [ManualStep],
    secrets: Vec<SecretOut<'a>>,
    notes: &'a [String],
    /// The verify report after the changes, in verify's own JSON shape.
    verify: serde_json::Value,
}

/// What a run did, as one JSON document with the re-check's report embedded under `verify`.
pub fn outcome_json(
    plan: &Plan,
    outcome: &Outcome,
    secrets: &SecretsReport,
    verify: serde_json::Value,
    ok: bool,
) -> String {
    let doc = OutcomeDocument {
        schema_version: SCHEMA_VERSION,
        tool: TOOL,
        instance: &plan.instance,
        path: plan.path.as_str(),
        username: &plan.username,
        dry_run: false,
        ok,
        profile: &secrets.profile,
        steps: &plan.steps,
        results: &outcome.results,
        manual: &outcome.manual,
        secrets: plan
            .secrets
            .iter()
            .map(|s| SecretOut {
                kind: s.kind.as_str(),
                source: s.source,
                stored_in: match s.source {
                    SecretSource::Generated if !secrets.put_back.contains(&s.kind) => {
                        secrets.backend
                    }
                    _ => None,
                },
                put_back: secrets.put_back.contains(&s.kind),
                value: secrets
                    .revealed
                    .iter()
                    .find(|(k, _)| *k == s.kind)
                    .map(|(_, v)| v.expose_secret()),
            })
            .collect(),
        notes: &plan.notes,
        verify,
    };
    let mut out = serde_json::to_string_pretty(&doc).unwrap_or_default();
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::plan::{plan, PlanInputs};
    use crate::checks::{Links, Lookup};
    use crate::facts::{Facts as State, RoleRecord};
    use crate::model::SetupPath;

    fn sample() -> Plan {
        let mut s = State::empty_instance();
        if let Lookup::Rows(roles) = &mut s.roles {
            roles.push(RoleRecord {
                sys_id: "r-api".into(),
                name: crate::requirements::APP_ROLE.into(),
            });
        }
        plan(
            &s,
            &PlanInputs {
                path: SetupPath::App,
                username: "incident.io".into(),
                email: None,
                client_id: None,
                client_secret_held: false,
                password_held: false,
                links: Links::new("https://acme.service-now.com"),
            },
        )
    }

    /// The dry-run plan on terminals of three widths, pinned as snapshots.
    #[test]
    fn the_plan_at_60_80_and_120_columns() {
        for width in [60, 80, 120] {
            let text = crate::report::wrap::wrap(&plan_human(&sample(), true), width);
            insta::assert_snapshot!(format!("plan_{width}"), text);
        }
    }

    #[test]
    fn the_human_plan_numbers_steps_and_redacts_secrets() {
        let text = plan_human(&sample(), true);
        assert!(
            text.contains("18 writes planned, nothing changed"),
            "{text}"
        );
        assert!(text.contains("   1. create oauth_entity"), "{text}");
        assert!(
            text.contains("   2. update oauth_entity (the record from step 1)"),
            "{text}"
        );
        assert!(text.contains("client_secret = [redacted]"), "{text}");
        assert!(text.contains("user_password = [redacted]"), "{text}");
        assert!(text.contains("(after 1; sent with sysparm_input_display_value=true)"));
        assert!(text.contains("security_admin"), "{text}");
        assert!(text.contains("To do by hand (1):"), "the Store app: {text}");
        assert!(text.contains("generates a strong one"), "{text}");
    }

    #[test]
    fn the_json_plan_is_a_document_with_the_plan_flattened_in() {
        let v: serde_json::Value = serde_json::from_str(&plan_json(&sample())).unwrap();
        assert_eq!(v["schema_version"], 1);
        assert_eq!(v["dry_run"], true);
        assert_eq!(v["tool"]["name"], "snconnect");
        assert_eq!(v["steps"].as_array().unwrap().len(), 18);
        assert_eq!(v["manual"][0]["check"], "app");
        assert_eq!(v["instance"], "https://acme.service-now.com");
    }

    #[test]
    fn revealed_secrets_appear_only_when_passed_in() {
        let plan = sample();
        let outcome = Outcome {
            results: vec![],
            manual: vec![],
        };
        let hidden = SecretsReport {
            profile: "acme".into(),
            backend: Some("memory"),
            ..SecretsReport::default()
        };
        let text = outcome_human(&plan, &outcome, &hidden);
        assert!(
            text.contains("credentials show --profile acme --reveal"),
            "{text}"
        );
        let json = outcome_json(&plan, &outcome, &hidden, serde_json::Value::Null, true);
        assert!(!json.contains("\"value\""), "{json}");
        let shown = SecretsReport {
            revealed: vec![(SecretKind::Password, SecretString::from("pw-SHOWN"))],
            ..hidden
        };
        assert!(outcome_human(&plan, &outcome, &shown).contains("pw-SHOWN"));
        assert!(
            outcome_json(&plan, &outcome, &shown, serde_json::Value::Null, true)
                .contains("pw-SHOWN")
        );
    }
}
