//! The command-line surface, as clap types and nothing else.
//!
//! Every flag is documented once, here. Secrets are never flag values: they come from stdin
//! (`--*-stdin`), the environment, the keyring, or a hidden prompt. The environment variables that
//! carry secrets are read by [`crate::inputs::resolve`], not by clap, so `--help` can never print one.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use clap::builder::PossibleValue;

pub use crate::model::{CheckId, SetupPath};
use crate::version::LONG_VERSION;

/// Gets a ServiceNow instance ready for the incident.io integration, and proves it is ready.
///
/// snconnect checks each setup step against the instance's REST Table API, explains what is wrong
/// and how to fix it, can create what is missing, and stores the resulting credentials in the OS
/// keyring. Try `snconnect demo` to see it work against a built-in simulated instance.
#[derive(Debug, Parser)]
#[command(name = "snconnect", version = LONG_VERSION, propagate_version = true)]
#[command(
    after_help = "Exit codes: 0 no check failed, 1 a check failed (with --strict also: warned, or \
not verified for a missing input), \
2 usage or input error, 3 the checks could not run."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The options of the commands that talk to an instance (setup, verify, apply, demo): output,
/// prompting, the request log and the network's limits. Each of those commands flattens them in;
/// the others do not list them, since there they would mean nothing.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Report format written to stdout; progress, prompts and logs always go to stderr.
    #[arg(long, value_enum, default_value_t = Format::Human, env = "SNCONNECT_FORMAT")]
    pub format: Format,

    /// Never prompt. Also implied when stdin is not a terminal or the CI variable is set.
    #[arg(long)]
    pub no_input: bool,

    /// When to use colour. NO_COLOR in the environment turns it off for `auto`.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Log each HTTP request (method, path, query, status, duration) to stderr, secrets redacted.
    #[arg(short, long)]
    pub verbose: bool,

    /// How long to wait for each HTTP request before giving up: seconds (`30`, `2.5`) or a
    /// duration (`500ms`, `2m`), at most 10 minutes.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = timeout_value)]
    pub timeout: Duration,

    /// How long the whole run may take: no request, retry or wait goes past it (seconds or a
    /// duration, at most a day). `setup` has no such limit, since it waits for you.
    #[arg(long, value_name = "DURATION", default_value = "2m", value_parser = deadline_value)]
    pub deadline: Duration,

    /// An extra trusted root certificate (PEM), for TLS-inspecting proxies.
    #[arg(long, value_name = "PATH")]
    pub ca_cert: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    Junit,
    /// A table and the findings, for a CI job summary or a pull-request comment.
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Walk through every setup step: explained, checked, fixable, re-checked.
    ///
    /// Ends with the credentials in the OS keyring and the values to enter in incident.io. With
    /// --no-input (or without a terminal) it takes everything from flags, environment and stdin,
    /// runs the checks (and apply, with --apply), stores the credentials and prints the report.
    Setup(SetupArgs),

    /// Run every check against the instance and report; exits 0, 1, 2 or 3.
    ///
    /// Checks whose credentials are missing are reported as skipped. Never prompts unless a
    /// terminal is attached and a credential is missing.
    Verify(Box<VerifyArgs>),

    /// Create or repair what the checks found missing, using admin credentials.
    ///
    /// Never deletes anything. --dry-run prints the plan (the exact records, secrets redacted)
    /// and changes nothing.
    Apply(ApplyArgs),

    /// Show or forget the credentials stored for a profile.
    #[command(subcommand)]
    Credentials(CredentialsCommand),

    /// Run the whole flow against the built-in simulated instance; no ServiceNow needed.
    Demo(DemoArgs),

    /// Serve the simulated ServiceNow instance on 127.0.0.1, for rehearsal and scripts' tests.
    Sandbox(SandboxArgs),

    /// Print a shell completion script.
    Completions(CompletionsArgs),

    /// Print the man page (roff) to stdout, or write every page into a directory.
    Man(ManArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ManArgs {
    /// Write snconnect.1 and one page per subcommand (snconnect-verify.1, …) into DIR.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Where the instance is and who talks to it. Secrets have no flag values: see the `*-stdin` flags
/// and the environment variables SNCONNECT_ADMIN_PASSWORD, SNCONNECT_ADMIN_TOKEN,
/// SNCONNECT_CLIENT_SECRET and SNCONNECT_PASSWORD.
#[derive(Debug, Clone, Default, Args)]
pub struct TargetArgs {
    /// The instance: a subdomain (acme), a host (acme.service-now.com) or a URL.
    #[arg(long, env = "SNCONNECT_INSTANCE")]
    pub instance: Option<String>,

    /// Credential profile to read and write [default: the instance's subdomain]. verify takes
    /// several (repeat the flag) to check them all in one run.
    #[arg(
        long,
        env = "SNCONNECT_PROFILE",
        add = profile_names(),
        action = clap::ArgAction::Append
    )]
    pub profile: Vec<String>,

    /// Which documented setup to check [default: app].
    #[arg(long, value_enum, env = "SNCONNECT_PATH")]
    pub path: Option<SetupPath>,

    /// Admin user name, used only to read and change configuration; never stored unless asked.
    #[arg(long, env = "SNCONNECT_ADMIN_USER")]
    pub admin_user: Option<String>,

    /// Read the admin password from stdin (or set SNCONNECT_ADMIN_PASSWORD; SSO admins can set
    /// SNCONNECT_ADMIN_TOKEN to a bearer token instead).
    #[arg(long)]
    pub admin_password_stdin: bool,

    /// OAuth client id of the incident.io application registry entry.
    #[arg(long, env = "SNCONNECT_CLIENT_ID")]
    pub client_id: Option<String>,

    /// Read the OAuth client secret from stdin (or set SNCONNECT_CLIENT_SECRET).
    #[arg(long)]
    pub client_secret_stdin: bool,

    /// The service user incident.io logs in as [default: incident.io].
    #[arg(long, env = "SNCONNECT_USERNAME")]
    pub username: Option<String>,

    /// Read the service user's password from stdin (or set SNCONNECT_PASSWORD).
    ///
    /// When several --*-stdin flags are given, stdin holds one secret per line in this order:
    /// admin password, client secret, service user password.
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Debug, Clone, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub global: GlobalArgs,

    /// Also write the run as Prometheus metrics to PATH (replaced atomically), for
    /// node_exporter's textfile collector: a status per check, exit code, duration, requests,
    /// last success.
    #[arg(long, value_name = "PATH")]
    pub metrics_file: Option<PathBuf>,

    /// Raise an alert in incident.io when the run fails, and resolve it when a later run passes:
    /// the HTTP alert source's URL or config id; its token in SNCONNECT_INCIDENT_IO_TOKEN.
    #[arg(long, value_name = "URL_OR_ID", env = "SNCONNECT_NOTIFY", value_parser = notify_target)]
    pub notify: Option<crate::notify::Target>,

    /// Exit 4 when the alert could not be sent (otherwise that is a warning and the verdict
    /// stands). The alert source is --notify's, or the profile's `notify` setting.
    #[arg(long)]
    pub notify_required: bool,

    /// After a healthy run, GET this URL (a heartbeat monitor that alerts when pings stop).
    #[arg(long, value_name = "URL")]
    pub heartbeat: Option<url::Url>,

    /// Compare with this exported baseline instead of the last good run's (a change-controlled
    /// instance); written by --save-baseline.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Write this run's baseline (the facts that matter) to FILE, for --baseline.
    #[arg(long, value_name = "FILE")]
    pub save_baseline: Option<PathBuf>,

    /// Check every saved profile, concurrently (a fleet run: one table, the worst exit code).
    #[arg(long, conflicts_with = "profiles_file")]
    pub all_profiles: bool,

    /// Check the profiles listed in FILE (TOML, `[[profile]]` tables with name, instance, path,
    /// username, client_id, admin_user, notify), concurrently. Secrets come from the keyring or from
    /// SNCONNECT_<PROFILE>_ADMIN_PASSWORD, _CLIENT_SECRET, _PASSWORD (the name upper-cased,
    /// `-` as `_`).
    #[arg(long, value_name = "FILE")]
    pub profiles_file: Option<PathBuf>,

    /// In a fleet run, the most requests in flight at once across all instances.
    #[arg(long, value_name = "N", default_value_t = 1024, value_parser = clap::value_parser!(u16).range(1..))]
    pub max_in_flight: u16,

    #[command(flatten)]
    pub target: TargetArgs,

    /// Run only these checks; the others are reported as not selected, and are not counted as
    /// unverified by --strict.
    #[arg(long, visible_alias = "checks", value_enum, num_args = 1.., value_delimiter = ',')]
    pub only: Vec<CheckId>,

    /// Fail (exit 1) on warnings, and on checks not verified because an input was missing.
    #[arg(long)]
    pub strict: bool,

    /// Request a token even with credentials an earlier run saw refused (they are otherwise not
    /// tried again, so that a stale password cannot lock the account run after run).
    #[arg(long)]
    pub retry_refused: bool,

    /// Request a token even when one more failed login would lock the service user out.
    #[arg(long)]
    pub accept_lockout_risk: bool,

    /// incident.io's egress addresses, to check against the instance's IP access rules
    /// (repeat, or separate with commas). incident.io does not publish them: ask its support.
    #[arg(
        long = "egress-ip",
        value_name = "IP",
        env = "SNCONNECT_EGRESS_IPS",
        value_delimiter = ',',
        value_parser = clap::value_parser!(std::net::IpAddr)
    )]
    pub egress_ip: Vec<std::net::IpAddr>,
}

#[derive(Debug, Clone, Args)]
pub struct SetupArgs {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(flatten)]
    pub target: TargetArgs,

    /// Without prompts: also create or repair what is missing (as `snconnect apply` would).
    #[arg(long)]
    pub apply: bool,

    /// Confirm changes to existing records without asking (needed with --apply under --no-input).
    #[arg(long)]
    pub yes: bool,

    /// Store secrets in a plain 0600 file when no OS keyring is reachable.
    #[arg(long)]
    pub insecure_storage: bool,

    /// Show the secrets on the final hand-off screen instead of masking them.
    #[arg(long)]
    pub reveal: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(flatten)]
    pub target: TargetArgs,

    /// Print the plan and change nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Apply without asking, including changes to existing records.
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// Email address for a service user that apply creates [default: USER@invalid.example, a
    /// reserved name that never receives mail].
    #[arg(long)]
    pub email: Option<String>,

    /// Store generated secrets in a plain 0600 file when no OS keyring is reachable.
    #[arg(long)]
    pub insecure_storage: bool,

    /// Print generated secrets in the final report.
    #[arg(long)]
    pub reveal: bool,

    /// Write the missing task ACLs to FILE as an update set to import (elevated to
    /// security_admin), instead of trying them over REST, which most instances refuse. Written
    /// with --dry-run too; nothing is written when the ACLs are in place.
    #[arg(long, value_name = "FILE")]
    pub acl_pack: Option<std::path::PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum CredentialsCommand {
    /// Show what is stored for a profile and in which backend; secrets masked unless --reveal.
    Show(CredentialsShowArgs),
    /// Remove every stored entry of a profile.
    Forget(CredentialsForgetArgs),
    /// Store the incident.io alert source token that `verify --notify` sends, read from stdin
    /// (one line) or a hidden prompt.
    SetNotifyToken(CredentialsSetTokenArgs),
}

#[derive(Debug, Clone, Args)]
pub struct CredentialsSetTokenArgs {
    #[command(flatten)]
    pub profile: CredentialsProfileArgs,

    /// Store the token in a plain 0600 file when no OS keyring is reachable.
    #[arg(long)]
    pub insecure_storage: bool,
}

/// `credentials` writes human text or JSON (JUnit is for check reports).
#[derive(Debug, Clone, Args)]
pub struct CredentialsFormat {
    /// Output format written to stdout.
    #[arg(long, value_enum, default_value_t = Format::Human, env = "SNCONNECT_FORMAT")]
    pub format: Format,
}

#[derive(Debug, Clone, Args)]
pub struct CredentialsForgetArgs {
    #[command(flatten)]
    pub format: CredentialsFormat,

    #[command(flatten)]
    pub profile: CredentialsProfileArgs,

    /// Succeed when the OS keyring cannot be reached (a headless machine), after removing
    /// everything that can be: without it that is exit 3, since the keyring may still hold
    /// entries.
    #[arg(long, short = 'y')]
    pub yes: bool,
}

#[derive(Debug, Clone, Args)]
pub struct CredentialsProfileArgs {
    /// The profile [default: the instance's subdomain].
    #[arg(long, env = "SNCONNECT_PROFILE", add = profile_names())]
    pub profile: Option<String>,

    /// The instance, to derive the profile name from.
    #[arg(long, env = "SNCONNECT_INSTANCE")]
    pub instance: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct CredentialsShowArgs {
    #[command(flatten)]
    pub format: CredentialsFormat,

    #[command(flatten)]
    pub profile: CredentialsProfileArgs,

    /// Print the secrets, for pasting into incident.io.
    #[arg(long)]
    pub reveal: bool,
}

#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub global: GlobalArgs,

    /// The simulated instance's scenario (`snconnect sandbox --list-scenarios` describes them).
    #[arg(long, default_value = "broken", value_parser = scenario_names())]
    pub scenario: String,

    /// Which documented setup to check.
    #[arg(long, value_enum, default_value_t = SetupPath::App)]
    pub path: SetupPath,
}

#[derive(Debug, Clone, Args)]
pub struct SandboxArgs {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8765)]
    pub port: u16,

    /// Starting state; `snconnect sandbox --list-scenarios` describes them.
    #[arg(long, default_value = "healthy-app", value_parser = scenario_names())]
    pub scenario: String,

    /// Print the scenario names with a line each, then exit.
    #[arg(long)]
    pub list_scenarios: bool,

    /// Let REST inserts into sys_security_acl succeed (real instances refuse them without elevation).
    #[arg(long)]
    pub allow_acl_insert: bool,

    /// Failed logins before an account is locked out.
    #[arg(long, value_name = "N")]
    pub lockout_threshold: Option<u32>,

    /// Milliseconds of latency added to every request.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub latency_ms: u64,

    /// Answer the first N requests with 429 and Retry-After: 1, as a throttled instance does.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub rate_limit: u32,

    /// Answer the first N requests (after any 429s) with a server error.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub server_errors: u32,

    /// The status those server errors carry.
    #[arg(long, value_name = "CODE", default_value_t = 500, value_parser = clap::value_parser!(u16).range(500..=599))]
    pub server_error_status: u16,
}

#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

// The domain's enums, as flag values: their stable strings are the values users type.
impl ValueEnum for CheckId {
    fn value_variants<'a>() -> &'a [Self] {
        &CheckId::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.as_str()))
    }
}

impl ValueEnum for SetupPath {
    fn value_variants<'a>() -> &'a [Self] {
        &SetupPath::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.as_str()).help(self.describe()))
    }
}

/// The clap command, for completions, the man page and tests.
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_definition_is_consistent() {
        command().debug_assert();
    }

    #[test]
    fn no_flag_takes_a_secret_as_its_value() {
        fn walk(cmd: &clap::Command, bad: &mut Vec<String>) {
            for arg in cmd.get_arguments() {
                let id = arg.get_id().as_str().to_ascii_lowercase();
                let takes_value = arg.get_action().takes_values();
                let secretish = ["password", "secret", "token"]
                    .iter()
                    .any(|w| id.contains(w));
                if secretish && takes_value {
                    bad.push(format!("{} --{}", cmd.get_name(), id));
                }
            }
            for sub in cmd.get_subcommands() {
                walk(sub, bad);
            }
        }
        let mut bad = Vec::new();
        walk(&command(), &mut bad);
        assert!(
            bad.is_empty(),
            "flags that take a secret as a value: {bad:?}"
        );
    }
}

/// The sandbox's scenario names, for `--scenario`: clap checks the value, lists the names in the
/// help and completes them in every shell.
fn scenario_names() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(
        crate::sandbox::scenario_names()
            .into_iter()
            .map(|(name, _)| clap::builder::PossibleValue::new(name)),
    )
}

/// A duration as a person types it: plain seconds (`30`, `2.5`, `2.5s`) or humantime's units
/// (`500ms`, `1m 30s`). More than zero and at most `max`.
fn duration_value(text: &str, max: Duration) -> Result<Duration, String> {
    let text = text.trim();
    let seconds = text.strip_suffix('s').unwrap_or(text);
    let parsed = match seconds.parse::<f64>() {
        Ok(secs) => Duration::try_from_secs_f64(secs).map_err(|_| {
            format!("'{text}' is not a duration; give seconds (30, 2.5) or units (500ms, 2m)")
        })?,
        Err(_) => humantime::parse_duration(text).map_err(|e| {
            format!("'{text}' is not a duration ({e}); give seconds (30, 2.5) or units (500ms, 2m)")
        })?,
    };
    if parsed.is_zero() {
        return Err("must be more than zero".to_string());
    }
    if parsed > max {
        return Err(format!(
            "must be at most {}",
            humantime::format_duration(max)
        ));
    }
    Ok(parsed)
}

fn timeout_value(text: &str) -> Result<Duration, String> {
    duration_value(text, Duration::from_secs(600))
}

fn deadline_value(text: &str) -> Result<Duration, String> {
    duration_value(text, Duration::from_secs(86_400))
}

#[cfg(test)]
mod duration_tests {
    use super::*;

    #[test]
    fn durations_take_seconds_fractions_and_units_within_bounds() {
        let ms = Duration::from_millis;
        assert_eq!(timeout_value("30"), Ok(ms(30_000)));
        assert_eq!(timeout_value("2.5"), Ok(ms(2_500)));
        assert_eq!(timeout_value("2.5s"), Ok(ms(2_500)));
        assert_eq!(timeout_value("500ms"), Ok(ms(500)));
        assert_eq!(timeout_value("1m 30s"), Ok(ms(90_000)));
        assert!(timeout_value("0").unwrap_err().contains("more than zero"));
        assert!(timeout_value("0ms").unwrap_err().contains("more than zero"));
        assert!(timeout_value("11m").unwrap_err().contains("at most 10m"));
        assert!(timeout_value("-1").is_err());
        assert!(timeout_value("soon")
            .unwrap_err()
            .contains("not a duration"));
        assert!(deadline_value("2h").is_ok());
    }
}

fn notify_target(text: &str) -> Result<crate::notify::Target, String> {
    crate::notify::parse_target(text)
}

/// The saved profiles' names, offered when completing `--profile` in a shell set up with dynamic
/// completion (`source <(SNCONNECT_COMPLETE=bash snconnect)`). Static completion scripts cannot
/// know them.
fn profile_names() -> clap_complete::ArgValueCandidates {
    clap_complete::ArgValueCandidates::new(|| {
        crate::credentials::ConfigDir::resolve()
            .and_then(|dir| dir.list_profiles())
            .unwrap_or_default()
            .into_iter()
            .map(clap_complete::CompletionCandidate::new)
            .collect::<Vec<_>>()
    })
}

/// The variable that turns a run into a completion request (clap_complete's dynamic protocol).
pub const COMPLETE_ENV: &str = "SNCONNECT_COMPLETE";
