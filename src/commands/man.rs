//! `snconnect man`: the man page, generated from the same clap definition as `--help`.

use anyhow::{Context, Result};

use crate::exit::Exit;

pub fn run() -> Result<Exit> {
    let mut out = std::io::stdout().lock();
    render(&mut out).context("writing the man page to stdout")?;
    Ok(Exit::Ok)
}

/// Renders `snconnect.1`; also used by the test that keeps `man/snconnect.1` current.
pub fn render(out: &mut dyn std::io::Write) -> std::io::Result<()> {
    // The plain crate version, not the commit: the committed page must not go stale on every commit.
    let cmd = crate::cli::command().version(env!("CARGO_PKG_VERSION"));
    clap_mangen::Man::new(cmd).render(out)
}
