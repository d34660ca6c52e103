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
