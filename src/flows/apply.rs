//! apply as a flow: the admin's session, the read of what a plan is made from, and the plan's
//! inputs. `snconnect apply` and the wizard's "let snconnect do it" share these.

use crate::apply::{self, PlanInputs, State};
use crate::checks::instance::AdminLogin;
use crate::checks::{Context, Links};
use crate::exit::UserError;
use crate::inputs::{AdminAuth, Inputs};
use crate::servicenow::{Auth, Client, Session};

fn admin_auth(inputs: &Inputs) -> Result<(Auth, AdminLogin), UserError> {
    match &inputs.admin {
        AdminAuth::Basic { user, password } => Ok((
            Auth::basic(user.clone(), password.clone()),
            AdminLogin::Basic { user: user.clone() },
        )),
        AdminAuth::Bearer(token) => Ok((Auth::bearer(token.clone()), AdminLogin::Bearer)),
        AdminAuth::Missing(why) => Err(UserError::usage(format!(
            "apply needs admin credentials to read and change the configuration, and has none: \
             {why}"
        ))),
    }
}

/// The admin's session; a usage error (exit 2) when there are no admin credentials.
pub fn admin_session(client: &Client, inputs: &Inputs) -> Result<Session, UserError> {
    admin_auth(inputs).map(|(auth, _)| client.session(auth))
}

/// Reads what a plan is made from, as the admin. When the instance or the admin's credentials
/// cannot be used, the error (exit 3) carries the `instance` check's findings and says nothing
/// was changed.
pub async fn read_state(
    session: &Session,
    inputs: &Inputs,
    timeout_secs: u64,
) -> Result<State, UserError> {
    let (_, login) = admin_auth(inputs)?;
    let ctx = Context {
        path: inputs.path,
        username: inputs.username.clone(),
        client_id: inputs.client_id.clone(),
        links: Links::new(inputs.instance.as_str()),
    };
    apply::state::fetch(
        session,
        inputs.path,
        &inputs.username,
        &ctx,
        login,
        timeout_secs,
    )
    .await
    .map_err(|blocked| {
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
        UserError::cannot_run(message)
    })
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
