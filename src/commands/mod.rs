//! One file per command: each has an options struct built from the CLI and one `run`.

use anyhow::Result;

use crate::cli::{Cli, Command};
use crate::exit::Exit;

pub mod apply;
pub mod completions;
pub mod credentials;
pub mod demo;
pub mod fleet;
pub mod hint;
pub mod man;
pub mod sandbox;
pub mod setup;
pub mod verify;

/// Runs the parsed command line and returns the exit code for a run that completed.
pub fn run(cli: Cli) -> Result<Exit> {
    match cli.command {
        Command::Completions(args) => completions::run(&args),
        Command::Man(args) => man::run(&args),
        Command::Setup(args) => setup::run(&args.global, &args),
        Command::Verify(args) => verify::run(&args.global, &args),
        Command::Apply(args) => apply::run(&args.global, &args),
        Command::Credentials(cmd) => credentials::run(&cmd),
        Command::Demo(args) => demo::run(&args.global, &args),
        Command::Sandbox(args) => sandbox::run(&args),
    }
}
