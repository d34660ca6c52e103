//! apply as a flow: the admin's session, the read of what a plan is made from, and the plan's
//! inputs. `snconnect apply` and the wizard's "let snconnect do it" share these.

use crate::apply::PlanInputs;
use crate::checks::{instance, oauth_app, run, Links};
use crate::exit::UserError;
use crate::facts::{self, Facts, ServiceSide};
use crate::inputs::AdminAuth;
use crate::inputs::Inputs;
use crate::model::CheckId;
use crate::servicenow::{Client, Session};

/// What apply reads with: the admin's credentials only. No token is requested while reading:
/// apply must not spend the service user's login attempts.
fn read_plan(
    inputs: &Inputs,
    only: &[CheckId],
    timeout: std::time::Duration,
) -> Result<facts::Plan, UserError> {
    let mut plan = super::verify::plan(inputs, only, timeout);
    if let AdminAuth::Missing(why) = &plan.admin {
        return Err(no_admin(why));
    }
    plan.service = ServiceSide::Missing("apply reads as the admin only".into());
    Ok(plan)
}

/// The admin's session; a usage error (exit 2) when there are no admin credentials.
pub fn admin_session(client: &Client, inputs: &Inputs) -> Result<Session, UserError> {
    match &inputs.admin {
        AdminAuth::Missing(why) => Err(no_admin(why)),
        signed => Ok(client.session(signed.auth())),
    }
}

fn no_admin(why: &str) -> UserError {
    UserError::usage(format!(
        "apply needs admin credentials to read and change the configuration, and has none: {why}"
    ))
}

/// Reads what a plan is made from, as the admin, through the same gather as verify. When the
/// instance or the admin's credentials cannot be used, the error (exit 3) carries the `instance`
/// check's findings and says nothing was changed; nothing else was sent then.
pub async fn read_state(
    client: &Client,
    inputs: &Inputs,
    timeout: std::time::Duration,
) -> Result<Facts, UserError> {
    read_facts(client, inputs, &[], timeout).await
}

/// The client id of the one active entry named incident.io, read through the same gather (only
/// the OAuth queries go out): what the integration uses after apply or a person created it.
pub async fn active_client_id(
    client: &Client,
    inputs: &Inputs,
    timeout: std::time::Duration,
) -> Result<Option<String>, UserError> {
    let facts = read_facts(client, inputs, &[CheckId::OauthApp], timeout).await?;
    Ok(oauth_app::active_client_id(&facts.entries))
}

/// [`read_state`] for the checks in `only` (every check when empty).
async fn read_facts(
    client: &Client,
    inputs: &Inputs,
    only: &[CheckId],
    timeout: std::time::Duration,
) -> Result<Facts, UserError> {
    let plan = read_plan(inputs, only, timeout)?;
    let facts = facts::gather(client, &plan).await;
    let blocked = run::instance_result(&facts, &plan, inputs.instance.as_str());
    if !instance::blocks_run(&blocked) {
        return Ok(facts);
    }
    let mut message = format!(
        "apply cannot work with {}, so nothing was changed:",
        inputs.instance.as_str()
    );
    for f in &blocked.findings {
        message.push_str(&format!("\n  {}", f.message));
        if let Some(fix) = &f.fix {
            message.push_str(&format!("\n  fix: {fix}"));
        }
    }
    Err(UserError::cannot_run(message))
}

/// What the plan needs from the resolved inputs; `email` is `--email`.
pub fn plan_inputs(inputs: &Inputs, email: Option<String>) -> PlanInputs {
    PlanInputs {
        path: inputs.path,
        username: inputs.username.clone(),
        email,
        client_id: inputs.client_id.clone(),
        client_secret_held: inputs.client_secret.is_some(),
        password_held: inputs.password.is_some(),
        links: Links::new(inputs.instance.as_str()),
    }
}
