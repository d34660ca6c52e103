//! verify as a flow: from resolved inputs to the checks' plan, then to the report. `snconnect
//! verify`, `demo`, the wizard's per-step checks and the benchmark all run exactly this path.

use anyhow::Result;

use crate::checks::instance::AdminLogin;
use crate::checks::run::{self, AdminSide, Plan, ServiceSide};
use crate::inputs::{AdminAuth, Inputs};
use crate::model::CheckId;
use crate::report::Report;
use crate::servicenow::{Auth, Client};

/// Turns resolved inputs into the checks' plan. `only` empty means every check.
pub fn plan(inputs: &Inputs, only: &[CheckId], timeout_secs: u64) -> Plan {
    let admin = match &inputs.admin {
        AdminAuth::Basic { user, password } => AdminSide::Login {
            auth: Auth::basic(user.clone(), password.clone()),
            login: AdminLogin::Basic { user: user.clone() },
        },
        AdminAuth::Bearer(token) => AdminSide::Login {
            auth: Auth::bearer(token.clone()),
            login: AdminLogin::Bearer,
        },
        AdminAuth::Missing(why) => AdminSide::Missing(with_store_problem(why, inputs)),
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
        timeout_secs,
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
    let checks = run::run(client, plan).await;
    Report {
        instance: client.instance().as_str().to_string(),
        path: plan.path,
        strict,
        checks,
    }
}

/// A single-threaded runtime is enough: the work is waiting on the network, concurrently.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}
