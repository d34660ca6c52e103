//! `snconnect verify`: runs every check against the instance, prints the report, and exits 0, 1,
//! 2 or 3 as the contract says.
//!
//! The pieces are public so `demo` and the benchmark run exactly the same path: [`plan`] turns
//! resolved inputs into what the checks need, [`verify`] runs them on a client, [`render`] writes
//! the chosen format.

use std::io::Write;

use anyhow::Result;

use crate::cli::{Format, GlobalArgs, VerifyArgs};
use crate::credentials::{Lookup, SecretKind, StoredSecrets};
use crate::exit::Exit;
use crate::flows;
pub use crate::flows::verify::{plan, runtime, verify};
use crate::inputs::resolve::{self as inputs, Inputs, ProfileDefaults, Secret, Sources};
use crate::report::{human, json, junit, Report};
use crate::servicenow::{Client, ClientOptions};
use crate::ui::{colour, progress::Spinner};

/// The report in the chosen format.
pub fn render(report: &Report, format: Format, color: bool) -> String {
    match format {
        Format::Human => human::render(
            report,
            &human::Options {
                color,
                next: None,
                width: human::stdout_width(),
            },
        ),
        Format::Json => json::render(report),
        Format::Junit => junit::render(report),
        Format::Markdown => crate::report::markdown::render(report),
    }
}

/// Writes the report to stdout; a reader that went away (`| head`) is not an error.
pub fn write_stdout(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// The client options the global flags ask for.
pub fn client_options(global: &GlobalArgs) -> ClientOptions {
    ClientOptions {
        timeout: global.timeout,
        ca_cert: global.ca_cert.clone(),
        verbose: global.verbose,
        deadline: Some(global.deadline),
        ..ClientOptions::default()
    }
}

/// Builds the client with the options the global flags ask for.
pub fn build_client(inputs: &Inputs, global: &GlobalArgs) -> Result<Client> {
    flows::build_client(inputs, &client_options(global))
}

/// The keyring (and opt-in plain file), as the inputs' stored-secrets source.
pub(crate) struct Keyring(Option<StoredSecrets>, Option<String>);

impl Keyring {
    /// The OS keyring and the plain file, or why they cannot be read.
    pub(crate) fn open() -> Keyring {
        match StoredSecrets::open() {
            Ok(s) => Keyring(Some(s), None),
            Err(e) => Keyring(None, Some(format!("{e:#}"))),
        }
    }
}

impl inputs::StoredSecrets for Keyring {
    fn get(&self, profile: &str, secret: Secret) -> Result<Option<secrecy::SecretString>, String> {
        let Some(store) = &self.0 else {
            return Err(self.1.clone().unwrap_or_default());
        };
        let kind = match secret {
            Secret::AdminPassword => SecretKind::AdminPassword,
            Secret::ClientSecret => SecretKind::ClientSecret,
            Secret::Password => SecretKind::Password,
        };
        match store.lookup(profile, kind) {
            Lookup::Found { value, .. } => Ok(Some(value)),
            Lookup::NotStored => Ok(None),
            Lookup::Unreadable(e) => Err(e.to_string()),
        }
    }
}

/// The saved profile `name`'s defaults, from the resolved config directory.
pub(crate) fn saved_defaults(name: &str) -> Result<Option<ProfileDefaults>, String> {
    crate::credentials::load_profile(name)
        .map(|p| p.map(ProfileDefaults::from))
        .map_err(|e| format!("{e:#}"))
}

/// Resolves inputs from the real process: flags, stdin, environment, keyring, terminal.
pub fn resolve_inputs(global: &GlobalArgs, target: &crate::cli::TargetArgs) -> Result<Inputs> {
    let env = |name: &str| std::env::var(name).ok();
    // Not `stdin().lock()`: a lock held for the whole resolution deadlocks the prompt below,
    // which reads the terminal through stdin too. This reader takes the lock per read, and reads
    // only when a `--*-stdin` flag asks for it.
    let mut stdin = std::io::BufReader::new(std::io::stdin());
    let keyring = Keyring::open();
    let profile = saved_defaults;
    let prompter = std::cell::RefCell::new(crate::ui::prompt::TerminalPrompter::new(
        crate::ui::colour::for_stderr(global.color),
    ));
    let interactive = inputs::interactive(global.no_input);
    let mut sources = Sources {
        env: &env,
        stdin: &mut stdin,
        stored: &keyring,
        profile: &profile,
        prompter: interactive.then_some(&prompter as &dyn inputs::Prompter),
    };
    Ok(inputs::resolve(target, &mut sources)?)
}

pub fn run(global: &GlobalArgs, args: &VerifyArgs) -> Result<Exit> {
    if let Some(members) = super::fleet::members(args)? {
        return super::fleet::run(global, args, members);
    }
    let inputs = resolve_inputs(global, &args.target)?;
    // Unattended (cron, CI): a run that finds the previous one still checking this profile
    // ends at once instead of piling up behind it.
    let _one_at_a_time = match (
        inputs::interactive(global.no_input),
        crate::credentials::refusals::state_dir(),
    ) {
        (false, Some(state)) => {
            let name = format!("verify-{}", inputs.profile);
            match crate::credentials::RunLock::try_acquire(&state, &name) {
                Ok(Ok(lock)) => Some(lock),
                Ok(Err(who)) => {
                    return Err(crate::exit::UserError::cannot_run(format!(
                        "{who} is still checking profile '{}'; this run ends without checking. \
                         Schedule the runs further apart, or allow the run less time with \
                         --deadline",
                        inputs.profile
                    ))
                    .into())
                }
                // A state directory that cannot be used only loses the guard.
                Err(_) => None,
            }
        }
        _ => None,
    };
    let client = build_client(&inputs, global)?;
    let mut plan = plan(&inputs, &args.only, global.timeout);
    plan.refusals = crate::credentials::Refusals::resolve();
    plan.retry_refused = args.retry_refused;
    plan.accept_lockout_risk = args.accept_lockout_risk;
    plan.egress = args.egress_ip.clone();
    // An unusable notify setting is an input error: said before any request is spent.
    let target = notify_target(args, &inputs.profile)?;
    let rt = runtime()?;
    let started = std::time::Instant::now();
    let mut report = {
        let _spinner = Spinner::start(&format!("checking {}", inputs.instance.as_str()));
        rt.block_on(verify(&client, &plan, args.strict))
    };
    compare_with_last_good(&mut report, &inputs.profile, args.baseline.as_deref())?;
    if let (Some(path), Some(baseline)) = (&args.save_baseline, &report.baseline) {
        let text = serde_json::to_string_pretty(baseline)?;
        std::fs::write(path, text + "\n").map_err(|e| {
            crate::exit::UserError::cannot_run(format!(
                "could not write the baseline {}: {e}",
                path.display()
            ))
        })?;
    }
    let color = colour::for_stdout(global.color);
    write_stdout(&render(&report, global.format, color))?;
    if let Some(path) = &args.metrics_file {
        write_metrics(path, &report, &inputs.profile, started.elapsed(), &client)?;
    }
    let notified = notify(&rt, target.as_ref(), args, global, &report, &inputs.profile);
    if notified.is_err() && args.notify_required {
        return Ok(Exit::NotifyFailed);
    }
    Ok(report.exit())
}

/// `--notify` and `--heartbeat`, after the report is out. A failure is a warning on stderr; it
/// never changes the verdict (the caller makes it exit 4 under `--notify-required`).
/// Where to notify: `--notify`, else the profile's `notify` setting.
pub(crate) fn notify_target(
    args: &VerifyArgs,
    profile: &str,
) -> Result<Option<crate::notify::Target>> {
    if let Some(target) = &args.notify {
        return Ok(Some(target.clone()));
    }
    let saved = crate::credentials::load_profile(profile).ok().flatten();
    match saved.and_then(|p| p.notify) {
        None => Ok(None),
        Some(text) => crate::notify::parse_target(&text).map(Some).map_err(|e| {
            crate::exit::UserError::usage(format!(
                "the notify setting of profile '{profile}' is not usable: {e}"
            ))
            .into()
        }),
    }
}

/// The alert source's token: `SNCONNECT_INCIDENT_IO_TOKEN`, else the one stored for the profile
/// (keyring or plain file). Read only when an event is about to be sent, so a healthy run that
/// has nothing to resolve never touches the keyring.
fn notify_token(profile: &str) -> Option<secrecy::SecretString> {
    use crate::credentials::{Lookup, SecretKind};
    if let Some(t) = std::env::var(crate::notify::TOKEN_ENV)
        .ok()
        .filter(|t| !t.trim().is_empty())
    {
        return Some(secrecy::SecretString::from(t));
    }
    match crate::credentials::lookup(profile, SecretKind::NotifyToken) {
        Lookup::Found { value, .. } => Some(value),
        Lookup::NotStored | Lookup::Unreadable(_) => None,
    }
}

fn notify(
    rt: &tokio::runtime::Runtime,
    target: Option<&crate::notify::Target>,
    args: &VerifyArgs,
    global: &GlobalArgs,
    report: &crate::report::Report,
    profile: &str,
) -> Result<(), ()> {
    let result = match target {
        Some(target) => rt.block_on(alert(target, args.strict, global.deadline, report, profile)),
        None => Ok(()),
    };
    heartbeat(rt, args, global, report.exit());
    result
}

/// Sends the alert event `report` calls for to `target` (firing, updated, or resolved), and
/// remembers what was sent for `profile`. A failure is a warning on stderr. A future, so that a
/// fleet's alerts go out together.
pub(crate) async fn alert(
    target: &crate::notify::Target,
    strict: bool,
    deadline: std::time::Duration,
    report: &crate::report::Report,
    profile: &str,
) -> Result<(), ()> {
    use crate::notify;
    let state = crate::credentials::refusals::state_dir();
    let before = notify::recall(state.as_deref(), profile);
    let Some((event, after)) = notify::decide(report, profile, strict, &before) else {
        return Ok(());
    };
    let token = notify_token(profile);
    match notify::send(target, token.as_ref(), &event, deadline).await {
        Ok(()) => {
            notify::remember(state.as_deref(), profile, &after);
            eprintln!("notified incident.io: alert {} ({profile})", event.status);
            Ok(())
        }
        Err(e) => {
            eprintln!("warning: could not notify incident.io ({profile}): {e}");
            Err(())
        }
    }
}

/// `--heartbeat`: after a healthy run (a fleet's: every instance ready), GET the URL.
pub(crate) fn heartbeat(
    rt: &tokio::runtime::Runtime,
    args: &VerifyArgs,
    global: &GlobalArgs,
    exit: Exit,
) {
    if let (Some(url), Exit::Ok) = (&args.heartbeat, exit) {
        if let Err(e) = rt.block_on(crate::notify::heartbeat(url, global.timeout)) {
            eprintln!("warning: the heartbeat to {} failed: {e}", url.as_str());
        }
    }
}

/// After a good run its facts are kept as the profile's baseline; after a failing one, what
/// differs from the last good run's goes into the report.
/// With `exported` (`--baseline FILE`) that file is the reference instead, and nothing is kept.
pub(crate) fn compare_with_last_good(
    report: &mut crate::report::Report,
    profile: &str,
    exported: Option<&std::path::Path>,
) -> Result<()> {
    use crate::facts::baseline;
    let Some(now) = report.baseline.as_ref() else {
        return Ok(());
    };
    let reference = match exported {
        Some(path) => {
            let text = crate::localfile::read_small_text(path, crate::localfile::MAX_LOCAL_FILE)
                .map_err(|e| {
                    crate::exit::UserError::usage(format!(
                        "could not read the baseline {}: {e}",
                        path.display()
                    ))
                })?;
            Some(
                serde_json::from_str::<baseline::Baseline>(&text).map_err(|e| {
                    crate::exit::UserError::usage(format!(
                        "{} is not a baseline written by --save-baseline: {e}",
                        path.display()
                    ))
                })?,
            )
        }
        None => {
            let Some(state) = crate::credentials::refusals::state_dir() else {
                return Ok(());
            };
            if report.exit() == Exit::Ok {
                baseline::save(&state, profile, now);
                return Ok(());
            }
            baseline::load(&state, profile)
        }
    };
    if let Some(good) = reference {
        let changes = good.changes_to(now);
        if report.exit() != Exit::Ok && !changes.changes.is_empty() {
            report.changes = Some(changes);
        }
    }
    Ok(())
}

/// `--metrics-file`: the run as Prometheus metrics. A file that cannot be written is exit 3 (a
/// scheduled run whose metrics silently stop would look healthy to the collector's staleness
/// rules only until someone looks).
fn write_metrics(
    path: &std::path::Path,
    report: &crate::report::Report,
    profile: &str,
    duration: std::time::Duration,
    client: &Client,
) -> Result<()> {
    let run = measured(report, profile, duration, client.stats().requests);
    write_metrics_text(path, &crate::report::metrics::render(report, &run))
}

/// What one run measured, with its profile's last success (recorded now when it passed).
pub(crate) fn measured(
    report: &crate::report::Report,
    profile: &str,
    duration: std::time::Duration,
    requests: u64,
) -> crate::report::metrics::Run {
    use crate::report::metrics;
    let now = crate::model::unix_now();
    let passed = report.exit() == Exit::Ok;
    let state = crate::credentials::refusals::state_dir();
    metrics::Run {
        duration,
        requests,
        at: now,
        last_success: metrics::last_success(state.as_deref(), profile, passed, now),
    }
}

/// Replaces the metrics file with `text`; exit 3 when it cannot.
pub(crate) fn write_metrics_text(path: &std::path::Path, text: &str) -> Result<()> {
    crate::report::metrics::write(path, text).map_err(|e| {
        crate::exit::UserError::cannot_run(format!(
            "could not write the metrics file {}: {e}; check that its directory exists and \
             is writable",
            path.display()
        ))
        .into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_follow_the_global_flags() {
        use clap::Parser;
        let cli = crate::cli::Cli::try_parse_from([
            "snconnect",
            "verify",
            "--timeout",
            "7",
            "-v",
            "--ca-cert",
            "/tmp/ca.pem",
        ])
        .unwrap();
        let crate::cli::Command::Verify(args) = cli.command else {
            panic!("parsed as another command");
        };
        let o = client_options(&args.global);
        assert_eq!(o.timeout, std::time::Duration::from_secs(7));
        assert!(o.verbose);
        assert_eq!(o.ca_cert, Some(std::path::PathBuf::from("/tmp/ca.pem")));
        assert_eq!(o.max_attempts, 4);
        // Issue 14: options appear only where they act.
        for (args, flag) in [
            (&["completions", "bash", "--timeout", "7"][..], "--timeout"),
            (&["man", "--format", "json"][..], "--format"),
            (&["sandbox", "-v"][..], "-v"),
            (&["credentials", "show", "--ca-cert", "x"][..], "--ca-cert"),
        ] {
            let argv = std::iter::once("snconnect").chain(args.iter().copied());
            let err = crate::cli::Cli::try_parse_from(argv).unwrap_err();
            assert_eq!(
                err.kind(),
                clap::error::ErrorKind::UnknownArgument,
                "{flag}"
            );
        }
    }
}
