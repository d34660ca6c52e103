//! verify as a flow: from resolved inputs to the checks' plan, then to the report. `snconnect
//! verify`, `demo`, the wizard's per-step checks and the benchmark all run exactly this path.

use anyhow::Result;

use crate::apply::{self, PlanInputs};
use crate::checks::run::{self, Plan, ServiceSide};
use crate::checks::{CheckResult, Links, Severity, Status};
use crate::facts::{self, Facts};
use crate::inputs::{AdminAuth, Inputs};
use crate::model::CheckId;
use crate::report::Report;
use crate::servicenow::Client;

/// Turns resolved inputs into the checks' plan. `only` empty means every check.
pub fn plan(inputs: &Inputs, only: &[CheckId], timeout: std::time::Duration) -> Plan {
    let admin = match &inputs.admin {
        AdminAuth::Missing(why) => AdminAuth::Missing(with_store_problem(why, inputs)),
        signed => signed.duplicate(),
    };
    let service = match (&inputs.client_id, &inputs.client_secret, &inputs.password) {
        (Some(client_id), Some(client_secret), Some(password)) => ServiceSide::Credentials {
            client_id: client_id.clone(),
            client_secret: client_secret.clone(),
            password: password.clone(),
        },
        _ => ServiceSide::Missing(with_store_problem(
            &format!("missing {}", inputs.service_missing().join(", ")),
            inputs,
        )),
    };
    Plan {
        path: inputs.path,
        username: inputs.username.clone(),
        client_id: inputs.client_id.clone(),
        admin,
        service,
        only: only.to_vec(),
        timeout,
        refusals: None,
        retry_refused: false,
        accept_lockout_risk: false,
        egress: Vec::new(),
    }
}

/// Adds why the keyring could not be read, when that is part of why something is missing.
fn with_store_problem(why: &str, inputs: &Inputs) -> String {
    match &inputs.store_problem {
        Some(problem) => format!("{why} (stored credentials could not be read: {problem})"),
        None => why.to_string(),
    }
}

/// Runs the checks and assembles the report.
pub async fn verify(client: &Client, plan: &Plan, strict: bool) -> Report {
    let instance = client.instance().as_str();
    let facts = facts::gather(client, plan).await;
    let mut checks = run::diagnose(&facts, plan, instance);
    attach_remedies(&mut checks, &facts, plan, instance);
    Report {
        instance: client.instance().as_str().to_string(),
        path: plan.path,
        strict,
        checks,
        baseline: facts::baseline::Baseline::of(&facts, &plan.username, crate::model::unix_now()),
        changes: None,
        certificate_expires: facts.certificate_expires,
    }
}

/// Marks each finding with what apply's plan over the same facts does about it, and says so in
/// its fix. Without a usable admin side there are no facts to plan from, and so no promise.
pub fn attach_remedies(checks: &mut [CheckResult], facts: &Facts, plan: &Plan, instance: &str) {
    if !facts.admin_ok() {
        return;
    }
    let held = matches!(plan.service, ServiceSide::Credentials { .. });
    let repair = apply::plan(
        facts,
        &PlanInputs {
            path: plan.path,
            username: plan.username.clone(),
            email: None,
            client_id: plan.client_id.clone(),
            client_secret_held: held,
            password_held: held,
            links: Links::new(instance),
        },
    );
    for check in checks.iter_mut().filter(|c| c.status != Status::Skip) {
        for finding in check
            .findings
            .iter_mut()
            .filter(|f| f.severity != Severity::Note)
        {
            finding.remedy = repair.remedy_for(check.id, finding.code);
            if finding.remedy.is_apply() {
                finding.fix = Some(match finding.fix.take() {
                    Some(fix) => format!("{fix}, or run snconnect apply"),
                    None => "run snconnect apply".to_string(),
                });
            }
        }
    }
}

/// A single-threaded runtime is enough: the work is waiting on the network, concurrently.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}
