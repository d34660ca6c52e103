//! The flows the commands and the setup wizard share: verify (inputs → plan → report) and apply
//! (inputs → the admin's read of the instance → a plan → writes). A flow receives resolved inputs
//! and client options; it never reads flags, the environment or the terminal, and it never calls
//! a command's module — `commands/` and `setup/` both call down into it.

use anyhow::Result;

use crate::exit::UserError;
use crate::inputs::Inputs;
use crate::servicenow::{Client, ClientOptions, ErrorKind};

pub mod apply;
pub mod verify;

/// Builds the client; a bad CA certificate file is the user's input (exit 2), anything else
/// means the checks cannot run (exit 3).
pub fn build_client(inputs: &Inputs, options: &ClientOptions) -> Result<Client> {
    Client::new(&inputs.instance, options).map_err(|e| {
        let error = match e.kind {
            ErrorKind::CaCert { .. } => UserError::usage(e.to_string()),
            _ => UserError::cannot_run(e.to_string()),
        };
        error.caused_by(e).into()
    })
}

/// The profile as a run leaves it: what was stored before, with this run's instance, path and
/// service user, and the client id when one is known (an unknown one keeps the stored value).
/// Every command and the wizard update a profile through this, then write it with
/// `credentials::store_all`.
pub fn profile_after(
    dir: &crate::credentials::ConfigDir,
    inputs: &Inputs,
    client_id: Option<&str>,
) -> crate::credentials::Profile {
    let mut profile = dir
        .load_profile(&inputs.profile)
        .ok()
        .flatten()
        .unwrap_or_else(|| crate::credentials::Profile::new(inputs.profile.clone()));
    profile.instance = Some(inputs.instance.as_str().to_string());
    profile.path = Some(inputs.path);
    profile.username = Some(inputs.username.clone());
    if let Some(id) = client_id {
        profile.client_id = Some(id.to_string());
    }
    profile
}
