//! `snconnect completions SHELL`: the completion script on stdout.

use anyhow::Result;

use crate::cli::CompletionsArgs;
use crate::exit::Exit;

pub fn run(args: &CompletionsArgs) -> Result<Exit> {
    let mut out = std::io::stdout().lock();
    write(args.shell, &mut out);
    Ok(Exit::Ok)
}

/// Writes the completion script for `shell`; also used by the test that keeps `completions/` current.
pub fn write(shell: clap_complete::Shell, out: &mut dyn std::io::Write) {
    let mut cmd = crate::cli::command();
    clap_complete::generate(shell, &mut cmd, "snconnect", out);
}

/// The file name under `completions/` for each shell.
pub fn file_name(shell: clap_complete::Shell) -> &'static str {
    use clap_complete::Shell;
    match shell {
        Shell::Bash => "snconnect.bash",
        Shell::Zsh => "_snconnect",
        Shell::Fish => "snconnect.fish",
        Shell::PowerShell => "_snconnect.ps1",
        Shell::Elvish => "snconnect.elv",
        _ => "snconnect.unknown",
    }
}
