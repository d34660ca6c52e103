//! `snconnect man`: the man pages, generated from the same clap definition as `--help`.
//!
//! The main page (`snconnect.1`) and one page per subcommand (`snconnect-verify.1`, …), each with
//! the sections clap has no field for: ENVIRONMENT, FILES, EXIT STATUS, EXAMPLES and SEE ALSO.
//! `snconnect man` prints the main page; `snconnect man --dir DIR` writes them all.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

use crate::cli::ManArgs;
use crate::exit::Exit;

pub fn run(args: &ManArgs) -> Result<Exit> {
    match &args.dir {
        None => {
            let mut out = std::io::stdout().lock();
            render(&mut out).context("writing the man page to stdout")?;
        }
        Some(dir) => {
            let written = write_all(dir)?;
            for path in written {
                println!("{}", path.display());
            }
        }
    }
    Ok(Exit::Ok)
}

/// Every page: (file name, rendered page). The main page first.
pub fn pages() -> std::io::Result<Vec<(String, Vec<u8>)>> {
    let mut main = Vec::new();
    render(&mut main)?;
    let mut all = vec![("snconnect.1".to_string(), main)];
    for sub in subcommands() {
        let mut page = Vec::new();
        render_page(&sub, &mut page)?;
        all.push((format!("{}.1", sub_name(&sub)), page));
    }
    Ok(all)
}

/// Writes [`pages`] into `dir` (created if missing); returns the paths written.
pub fn write_all(dir: &Path) -> Result<Vec<std::path::PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("could not create {}", dir.display()))?;
    let mut written = Vec::new();
    for (name, page) in pages()? {
        let path = dir.join(name);
        std::fs::write(&path, page)
            .with_context(|| format!("could not write {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

/// Renders `snconnect.1`; also used by the test that keeps `man/` current.
pub fn render(out: &mut dyn Write) -> std::io::Result<()> {
    render_page(&root(), out)
}

/// The CLI with the plain crate version, not the commit: a committed page must not go stale on
/// every commit. Built, so subcommands carry the global options and their full names.
fn root() -> clap::Command {
    // `help` has no page of its own (it prints what the pages say), so it is not listed.
    let mut cmd = crate::cli::command()
        .version(env!("CARGO_PKG_VERSION"))
        .disable_help_subcommand(true);
    cmd.build();
    cmd
}

fn subcommands() -> Vec<clap::Command> {
    root()
        .get_subcommands()
        .filter(|s| s.get_name() != "help" && !s.is_hide_set())
        .cloned()
        .collect()
}

/// `snconnect-verify` for `verify` (clap's display name once built).
fn sub_name(sub: &clap::Command) -> String {
    sub.get_display_name()
        .map(str::to_string)
        .unwrap_or_else(|| format!("snconnect-{}", sub.get_name()))
}

fn render_page(cmd: &clap::Command, out: &mut dyn Write) -> std::io::Result<()> {
    let is_root = cmd.get_name() == "snconnect";
    let man = clap_mangen::Man::new(cmd.clone());
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    man.render_options_section(out)?;
    if is_root {
        man.render_subcommands_section(out)?;
    }
    out.write_all(ENVIRONMENT.as_bytes())?;
    out.write_all(FILES.as_bytes())?;
    out.write_all(EXIT_STATUS.as_bytes())?;
    let examples = examples(cmd.get_name());
    if !examples.is_empty() {
        writeln!(out, ".SH EXAMPLES")?;
        for (what, line) in examples {
            writeln!(
                out,
                ".PP\n{}\n.PP\n.RS 4\n.nf\n{}\n.fi\n.RE",
                roff(what),
                roff(line)
            )?;
        }
    }
    writeln!(out, ".SH \"SEE ALSO\"")?;
    let mut see: Vec<String> = Vec::new();
    if !is_root {
        see.push("\\fBsnconnect\\fR(1)".to_string());
    }
    for sub in subcommands() {
        let name = sub_name(&sub);
        if sub.get_name() != cmd.get_name() {
            see.push(format!("\\fB{}\\fR(1)", roff(&name)));
        }
    }
    writeln!(out, "{}", see.join(", "))?;
    man.render_version_section(out)
}

/// Text for roff: backslashes and hyphens escaped, no line starting with a control character.
fn roff(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with('.') || escaped.starts_with('\'') {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

const ENVIRONMENT: &str = r#".SH ENVIRONMENT
.TP
\fBSNCONNECT_INSTANCE\fR, \fBSNCONNECT_PROFILE\fR
The instance and the profile, as \-\-instance and \-\-profile.
.TP
\fBSNCONNECT_ADMIN_USER\fR, \fBSNCONNECT_ADMIN_PASSWORD\fR, \fBSNCONNECT_ADMIN_TOKEN\fR
The admin's credentials (a bearer token for SSO or MFA admins). Secrets are never flag values.
.TP
\fBSNCONNECT_CLIENT_ID\fR, \fBSNCONNECT_CLIENT_SECRET\fR, \fBSNCONNECT_USERNAME\fR, \fBSNCONNECT_PASSWORD\fR
The OAuth client and the service user incident.io signs in as. A variable that is set but empty is an input error (exit 2).
.TP
\fBSNCONNECT_FORMAT\fR
The report format, as \-\-format.
.TP
\fBSNCONNECT_CONFIG_DIR\fR, \fBSNCONNECT_STATE_DIR\fR
Where profiles (and the \-\-insecure\-storage file) and the memory of refused credentials are kept.
.TP
\fBSNCONNECT_INCIDENT_IO_TOKEN\fR, \fBSNCONNECT_NOTIFY\fR
The incident.io HTTP alert source's token, and its URL or id (as \-\-notify).
.TP
\fBSNCONNECT_COMPLETE\fR
Set to a shell's name (\fBbash\fR, \fBzsh\fR, \fBfish\fR, \fBelvish\fR, \fBpowershell\fR), prints the script that completes snconnect's words, saved profile names included, by asking snconnect.
.TP
\fBCI\fR, \fBNO_COLOR\fR
\fBCI\fR implies \-\-no\-input; \fBNO_COLOR\fR turns colour off.
.TP
\fBHTTPS_PROXY\fR, \fBALL_PROXY\fR, \fBNO_PROXY\fR
The proxy to reach the instance through, and the hosts that bypass it.
"#;

const FILES: &str = r#".SH FILES
.TP
\fI~/.config/snconnect/profiles/NAME.toml\fR
A profile: instance, path, client id, user names; never a secret. On macOS the directory is \fI~/Library/Application Support/snconnect\fR, on Windows \fI%APPDATA%\\snconnect\\config\fR; \fBSNCONNECT_CONFIG_DIR\fR overrides.
.TP
\fI~/.config/snconnect/insecure\-secrets.toml\fR
Secrets in plain text (mode 0600), only with \-\-insecure\-storage; otherwise they are in the OS keyring (service \fBsnconnect\fR).
.TP
\fI~/.local/state/snconnect\fR
Keyed fingerprints of refused credentials (never the secrets) and the per\-profile run locks. On macOS \fI~/Library/Application Support/snconnect\fR, on Windows \fI%LOCALAPPDATA%\\snconnect\\data\fR; \fBSNCONNECT_STATE_DIR\fR overrides.
"#;

const EXIT_STATUS: &str = r#".SH "EXIT STATUS"
.TP
\fB0\fR
No check failed (and the command did what it was asked).
.TP
\fB1\fR
A check failed; with \-\-strict also a warning, or a check not verified for a missing input.
.TP
\fB2\fR
A usage or input error: a flag, a value, a missing or unknown profile.
.TP
\fB3\fR
The checks could not run: the instance is unreachable, asleep or not ServiceNow, credentials were refused, or the keyring is needed and unavailable.
.TP
\fB4\fR
\fBverify \-\-notify\-required\fR only: the checks ran, but the alert could not be sent to incident.io.
.TP
\fB141\fR
The reader of standard output went away (as SIGPIPE would end the command); nothing is printed.
"#;

/// What each page shows as examples: (what it does, the command line).
fn examples(command: &str) -> Vec<(&'static str, &'static str)> {
    match command {
        "snconnect" | "demo" => vec![
            (
                "See every check against the simulated instance:",
                "snconnect demo",
            ),
            (
                "The same, all green:",
                "snconnect demo --scenario healthy-app",
            ),
        ],
        "verify" => vec![
            (
                "Check an instance with admin and service credentials from the environment:",
                "snconnect verify --instance acme --admin-user admin --client-id CLIENT_ID",
            ),
            (
                "In CI, a JUnit report:",
                "snconnect verify --instance acme --format junit > report.xml",
            ),
        ],
        "apply" => vec![
            (
                "Show what would be written:",
                "snconnect apply --instance acme --admin-user admin --dry-run",
            ),
            (
                "Write it without asking (CI):",
                "snconnect apply --instance acme --admin-user admin --yes",
            ),
            (
                "Write the missing task ACLs as an update set to import:",
                "snconnect apply --instance acme --admin-user admin --acl-pack task-acls.xml",
            ),
        ],
        "setup" => vec![("Walk through the setup on a terminal:", "snconnect setup")],
        "credentials" => vec![
            (
                "Show the secrets to paste into incident.io:",
                "snconnect credentials show --profile acme --reveal",
            ),
            (
                "Remove a profile everywhere:",
                "snconnect credentials forget --profile acme",
            ),
            (
                "Keep the incident.io alert source token for verify --notify:",
                "printf %s \"$TOKEN\" | snconnect credentials set-notify-token --profile acme",
            ),
        ],
        "sandbox" => vec![(
            "Serve the simulated instance for a rehearsal:",
            "snconnect sandbox --scenario broken",
        )],
        "completions" => vec![
            (
                "Bash completion:",
                "snconnect completions bash > ~/.local/share/bash-completion/completions/snconnect",
            ),
            (
                "Completion that also knows the saved profile names (in ~/.bashrc):",
                "source <(SNCONNECT_COMPLETE=bash snconnect)",
            ),
        ],
        "man" => vec![(
            "Install every page:",
            "snconnect man --dir ~/.local/share/man/man1",
        )],
        _ => Vec::new(),
    }
}
