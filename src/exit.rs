//! Exit codes of the contract, and the error type that carries one to `main`.

use std::fmt;

/// The process exit codes the contract fixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    /// No check failed (warnings allowed).
    Ok = 0,
    /// At least one check failed (with `--strict`, or warned).
    Failed = 1,
    /// Usage or input error.
    Usage = 2,
    /// The checks could not run (unreachable, hibernating, login page, 5xx, TLS, admin rejected).
    CannotRun = 3,
    /// `verify --notify-required`: the checks ran, but the alert could not be sent to incident.io.
    NotifyFailed = 4,
}

impl Exit {
    pub fn code(self) -> i32 {
        self as i32
    }
}

/// An error the user must read, with the exit code it maps to.
///
/// The message says what happened, to which record, and what to do next. It never holds a secret.
#[derive(Debug)]
pub struct UserError {
    pub exit: Exit,
    pub message: String,
    /// The client error behind it, when there is one: `main` adds the hint that names the flag
    /// or variable addressing it (`commands::hint`).
    pub cause: Option<Box<crate::servicenow::SnError>>,
}

impl UserError {
    pub fn usage(message: impl Into<String>) -> Self {
        UserError {
            exit: Exit::Usage,
            message: message.into(),
            cause: None,
        }
    }

    pub fn cannot_run(message: impl Into<String>) -> Self {
        UserError {
            exit: Exit::CannotRun,
            message: message.into(),
            cause: None,
        }
    }

    pub fn failed(message: impl Into<String>) -> Self {
        UserError {
            exit: Exit::Failed,
            message: message.into(),
            cause: None,
        }
    }
}

impl UserError {
    /// Keeps the client error this one was made from.
    pub fn caused_by(mut self, error: crate::servicenow::SnError) -> Self {
        self.cause = Some(Box::new(error));
        self
    }
}

impl fmt::Display for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UserError {}

/// The exit code for any error: a [`UserError`] anywhere in the chain decides it; anything else is
/// treated as "could not run".
pub fn exit_for(err: &anyhow::Error) -> Exit {
    err.chain()
        .find_map(|e| e.downcast_ref::<UserError>())
        .map(|u| u.exit)
        .unwrap_or(Exit::CannotRun)
}
