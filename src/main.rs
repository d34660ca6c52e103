//! The `snconnect` binary: parse, run, map the outcome to an exit code.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use snconnect::cli::Cli;
use snconnect::exit::{exit_for, Exit};

fn main() -> ExitCode {
    // `SNCONNECT_COMPLETE=bash snconnect` prints the shell's registration script, and the shell
    // then asks here for candidates (profile names included); otherwise this returns at once.
    clap_complete::CompleteEnv::with_factory(<Cli as clap::CommandFactory>::command)
        .var(snconnect::cli::COMPLETE_ENV)
        .complete();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // clap prints help/version to stdout with exit 0 and usage errors to stderr with 2.
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() {
                Exit::Usage.code() as u8
            } else {
                0
            });
        }
    };
    match snconnect::commands::run(cli) {
        Ok(exit) => ExitCode::from(exit.code() as u8),
        Err(err) => {
            // The reader of stdout went away (`snconnect … | head -1`): end quietly, with the
            // status of a process that SIGPIPE ended (128 + 13), as `cat` or `grep` would.
            let closed_pipe = err.chain().any(|cause| {
                cause
                    .downcast_ref::<std::io::Error>()
                    .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            });
            if closed_pipe {
                return ExitCode::from(141);
            }
            let exit = exit_for(&err);
            // Printed by hand: returning the error from main would add a backtrace under
            // RUST_BACKTRACE=1, which these machines set.
            let mut stderr = std::io::stderr().lock();
            // Errors echo input and server text: each line escaped, so nothing in them reaches the
            // terminal as a control sequence.
            let shown = |text: String| -> String {
                text.lines()
                    .map(snconnect::text::for_terminal)
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            // Wrapped to the terminal, continuation lines under their text (a pipe or a log
            // gets the lines as they are).
            let error = format!("error: {}", shown(err.to_string()));
            let term = console::Term::stderr();
            let error = match term.is_term().then(|| term.size().1 as usize) {
                Some(width) if width > 0 => snconnect::report::wrap::wrap(&error, width),
                _ => error,
            };
            let _ = writeln!(stderr, "{error}");
            for cause in err.chain().skip(1) {
                let _ = writeln!(stderr, "  caused by: {}", shown(cause.to_string()));
            }
            if let Some(hint) = snconnect::commands::hint::for_chain(&err) {
                let _ = writeln!(stderr, "  hint: {hint}");
            }
            ExitCode::from(exit.code() as u8)
        }
    }
}
