//! `verify` over many instances in one run: `--profile a --profile b`, `--all-profiles`, or a
//! profiles file a team keeps in its repository (`--profiles-file`).
//!
//! Each instance is checked exactly as a single `verify` checks it (the same plan, the same
//! rounds, the same memory of refused credentials and the same per-profile lock), all at once on
//! one runtime. One semaphore shared by every client caps the requests in flight across the
//! fleet (`--max-in-flight`), so a hundred instances never open a thousand connections.
//!
//! Inputs: a fleet run never prompts, and never lets one instance's secret reach another. The
//! input variables a single run reads (`SNCONNECT_ADMIN_PASSWORD`, …) are read per profile, as
//! `SNCONNECT_<PROFILE>_ADMIN_PASSWORD` (the name upper-cased, `-` as `_`); secrets also come
//! from the keyring under the profile's name, as always.
//!
//! Output: one table (instance, path, each check's status, time) and the details of every run
//! that is not ready; JSON with one report per instance; JUnit with one suite per instance;
//! Markdown with the same table. The exit code is the worst of the runs.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use serde::{Deserialize, Serialize};

use super::verify::{client_options, plan, write_stdout, Keyring};
use crate::cli::{Format, GlobalArgs, TargetArgs, VerifyArgs};
use crate::exit::{Exit, UserError};
use crate::inputs::resolve::{self as inputs, ProfileDefaults, Sources, INPUT_VARIABLES};
use crate::model::{CheckId, SetupPath, Status};
use crate::report::{human, json, junit, Report};

/// One instance of the fleet, by profile name, with the profiles file's entry when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub name: String,
    pub defaults: Option<ProfileDefaults>,
    /// The profiles file's `notify` for this instance (an alert source URL or id).
    pub notify: Option<String>,
}

/// One `[[profile]]` of a profiles file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileEntry {
    name: String,
    instance: Option<String>,
    path: Option<SetupPath>,
    username: Option<String>,
    client_id: Option<String>,
    admin_user: Option<String>,
    notify: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfilesFile {
    #[serde(rename = "profile", default)]
    profiles: Vec<FileEntry>,
}

/// The fleet `args` asks for, or `None` for a single run.
pub fn members(args: &VerifyArgs) -> Result<Option<Vec<Member>>> {
    let named = |names: &[String]| {
        names
            .iter()
            .map(|n| Member {
                name: n.clone(),
                defaults: None,
                notify: None,
            })
            .collect::<Vec<_>>()
    };
    let members = if let Some(path) = &args.profiles_file {
        read_profiles_file(path)?
    } else if args.all_profiles {
        let dir = crate::credentials::ConfigDir::resolve()?;
        let names = dir.list_profiles()?;
        if names.is_empty() {
            return Err(UserError::usage(format!(
                "--all-profiles: no profiles are saved in {}; run snconnect setup first, or name \
                 them with --profile",
                dir.path().display()
            ))
            .into());
        }
        named(&names)
    } else if args.target.profile.len() > 1 {
        named(&args.target.profile)
    } else {
        return Ok(None);
    };
    // What belongs to one instance cannot be given once for all of them.
    let t = &args.target;
    for (flag, given) in [
        ("--instance", t.instance.is_some()),
        ("--client-id", t.client_id.is_some()),
        ("--admin-password-stdin", t.admin_password_stdin),
        ("--client-secret-stdin", t.client_secret_stdin),
        ("--password-stdin", t.password_stdin),
    ] {
        if given {
            return Err(UserError::usage(format!(
                "{flag} is one instance's; in a fleet run each profile names its own (in its \
                 profile, the profiles file, or SNCONNECT_<PROFILE>_* variables)"
            ))
            .into());
        }
    }
    // One exported baseline file is one instance's: it cannot be every member's.
    for (flag, given) in [
        ("--baseline", args.baseline.is_some()),
        ("--save-baseline", args.save_baseline.is_some()),
    ] {
        if given {
            return Err(UserError::usage(format!(
                "{flag} FILE is one instance's baseline: run verify once per profile for it (a \
                 fleet run still compares each instance with its own last good run)"
            ))
            .into());
        }
    }
    Ok(Some(members))
}

fn read_profiles_file(path: &Path) -> Result<Vec<Member>> {
    let text = crate::localfile::read_small_text(path, crate::localfile::MAX_LOCAL_FILE)
        .map_err(|e| UserError::usage(format!("could not read {}: {e}", path.display())))?;
    let file: ProfilesFile = toml::from_str(&text).map_err(|e| {
        UserError::usage(format!(
            "{} is not a profiles file: {e} (expected [[profile]] tables with name, instance, \
             path, username, client_id, admin_user, notify)",
            path.display()
        ))
    })?;
    if file.profiles.is_empty() {
        return Err(UserError::usage(format!("{} lists no [[profile]]", path.display())).into());
    }
    let mut seen = std::collections::BTreeSet::new();
    file.profiles
        .into_iter()
        .map(|p| {
            crate::credentials::validate_profile_name(&p.name)
                .map_err(|e| UserError::usage(format!("{}: {e}", path.display())))?;
            if !seen.insert(p.name.clone()) {
                return Err(UserError::usage(format!(
                    "{}: profile '{}' is listed twice",
                    path.display(),
                    p.name
                ))
                .into());
            }
            Ok(Member {
                name: p.name,
                notify: p.notify,
                defaults: Some(ProfileDefaults {
                    instance: p.instance,
                    path: p.path,
                    client_id: p.client_id,
                    username: p.username,
                    admin_user: p.admin_user,
                }),
            })
        })
        .collect()
}

/// The name a profile's own variables carry: `acme-dev` → `ACME_DEV`.
pub fn env_prefix(profile: &str) -> String {
    profile
        .chars()
        .map(|c| match c {
            '-' | '.' => '_',
            c => c.to_ascii_uppercase(),
        })
        .collect()
}

/// What one instance's run came to.
pub enum Outcome {
    Report(Box<Report>),
    /// The run could not be made (its profile or instance unusable, or another run holds its
    /// lock): how it would have exited, and why.
    CouldNotRun {
        exit: Exit,
        message: String,
    },
}

pub struct MemberRun {
    pub profile: String,
    /// As the report shows it, or as the profile gave it.
    pub instance: String,
    pub path: Option<SetupPath>,
    pub elapsed: Duration,
    /// Requests its client sent (retries included).
    pub requests: u64,
    pub outcome: Outcome,
}

impl MemberRun {
    pub fn exit(&self) -> Exit {
        match &self.outcome {
            Outcome::Report(r) => r.exit(),
            Outcome::CouldNotRun { exit, .. } => *exit,
        }
    }
}

/// The worst of the runs' exit codes: could not run, then bad input, then not ready.
pub fn worst(runs: &[MemberRun]) -> Exit {
    runs.iter()
        .map(MemberRun::exit)
        .max_by_key(|e| match e {
            Exit::Ok => 0,
            Exit::NotifyFailed => 1,
            Exit::Failed => 2,
            Exit::Usage => 3,
            Exit::CannotRun => 4,
        })
        .unwrap_or(Exit::Ok)
}

pub fn run(global: &GlobalArgs, args: &VerifyArgs, members: Vec<Member>) -> Result<Exit> {
    // Where each instance's alert goes (`--notify`, else its profile's `notify` setting): an
    // unusable setting is an input error, said before any request is spent.
    let targets = members
        .iter()
        .map(|m| {
            let target = match (&args.notify, &m.notify) {
                (None, Some(text)) => Some(crate::notify::parse_target(text).map_err(|e| {
                    UserError::usage(format!(
                        "the notify of profile '{}' in the profiles file is not usable: {e}",
                        m.name
                    ))
                })?),
                _ => super::verify::notify_target(args, &m.name)?,
            };
            Ok((m.name.clone(), target))
        })
        .collect::<Result<std::collections::BTreeMap<_, _>>>()?;
    let rt = crate::flows::verify::runtime()?;
    let runs = check_all(&rt, global, args, members)?;
    let color = crate::ui::colour::for_stdout(global.color);
    write_stdout(&render_fleet(&runs, global.format, color))?;
    if let Some(path) = &args.metrics_file {
        write_metrics(path, &runs)?;
    }
    // One alert per instance (its deduplication key is per instance and profile), then one
    // heartbeat when every instance is ready.
    let mut alerts = tokio::task::JoinSet::new();
    for r in &runs {
        if let (Outcome::Report(report), Some(Some(target))) = (&r.outcome, targets.get(&r.profile))
        {
            let (target, report, profile) = (target.clone(), report.clone(), r.profile.clone());
            let (strict, deadline) = (args.strict, global.deadline);
            alerts.spawn_on(
                async move {
                    super::verify::alert(&target, strict, deadline, &report, &profile).await
                },
                rt.handle(),
            );
        }
    }
    let alerts_failed = rt.block_on(async {
        let mut failed = false;
        while let Some(sent) = alerts.join_next().await {
            failed |= !matches!(sent, Ok(Ok(())));
        }
        failed
    });
    let exit = worst(&runs);
    super::verify::heartbeat(&rt, args, global, exit);
    if alerts_failed && args.notify_required {
        return Ok(Exit::NotifyFailed);
    }
    Ok(exit)
}

/// `--metrics-file` for a fleet: one exposition with a sample per instance that ran, each with
/// its own last success (kept per profile, as a single run keeps it).
fn write_metrics(path: &Path, runs: &[MemberRun]) -> Result<()> {
    let measured: Vec<(&Report, crate::report::metrics::Run)> = runs
        .iter()
        .filter_map(|r| match &r.outcome {
            Outcome::Report(report) => Some((
                report.as_ref(),
                super::verify::measured(report, &r.profile, r.elapsed, r.requests),
            )),
            Outcome::CouldNotRun { .. } => None,
        })
        .collect();
    super::verify::write_metrics_text(path, &crate::report::metrics::render_many(&measured))
}

/// Resolves every member's inputs and checks them all at once.
pub fn check_all(
    rt: &tokio::runtime::Runtime,
    global: &GlobalArgs,
    args: &VerifyArgs,
    members: Vec<Member>,
) -> Result<Vec<MemberRun>> {
    let cap = Arc::new(tokio::sync::Semaphore::new(usize::from(args.max_in_flight)));
    let keyring = Keyring::open();
    let state = crate::credentials::refusals::state_dir();
    let mut locks = Vec::new();
    let mut tasks = Vec::new();
    let mut runs: Vec<(usize, MemberRun)> = Vec::new();
    for (i, member) in members.iter().enumerate() {
        let could_not = |instance: String, exit: Exit, message: String| MemberRun {
            profile: member.name.clone(),
            instance,
            path: member.defaults.as_ref().and_then(|d| d.path),
            elapsed: Duration::ZERO,
            requests: 0,
            outcome: Outcome::CouldNotRun { exit, message },
        };
        let shown_instance = member
            .defaults
            .as_ref()
            .and_then(|d| d.instance.clone())
            .unwrap_or_default();
        let inputs = match resolve_member(&args.target, member, &keyring) {
            Ok(inputs) => inputs,
            Err(e) => {
                runs.push((
                    i,
                    could_not(shown_instance, crate::exit::exit_for(&e), format!("{e:#}")),
                ));
                continue;
            }
        };
        // One run per profile at a time, as a single unattended verify keeps it.
        if let Some(dir) = &state {
            match crate::credentials::RunLock::try_acquire(dir, &format!("verify-{}", member.name))
            {
                Ok(Ok(lock)) => locks.push(lock),
                Ok(Err(who)) => {
                    runs.push((
                        i,
                        could_not(
                            inputs.instance.as_str().to_string(),
                            Exit::CannotRun,
                            format!("{who} is still checking profile '{}'", member.name),
                        ),
                    ));
                    continue;
                }
                Err(_) => {}
            }
        }
        let mut options = client_options(global);
        options.in_flight = Some(cap.clone());
        let client = match crate::flows::build_client(&inputs, &options) {
            Ok(c) => c,
            Err(e) => {
                runs.push((
                    i,
                    could_not(
                        inputs.instance.as_str().to_string(),
                        crate::exit::exit_for(&e),
                        format!("{e:#}"),
                    ),
                ));
                continue;
            }
        };
        let mut p = plan(&inputs, &args.only, global.timeout);
        p.refusals = crate::credentials::Refusals::resolve();
        p.retry_refused = args.retry_refused;
        p.accept_lockout_risk = args.accept_lockout_risk;
        p.egress = args.egress_ip.clone();
        tasks.push(Prepared {
            order: i,
            profile: member.name.clone(),
            path: inputs.path,
            client,
            plan: p,
        });
    }
    runs.extend(execute(rt, tasks, args.strict));
    // Each instance keeps its own last good run, and a failing one says what changed since, as
    // a single run does.
    for (_, run) in &mut runs {
        if let Outcome::Report(report) = &mut run.outcome {
            super::verify::compare_with_last_good(report, &run.profile, None)?;
        }
    }
    drop(locks);
    runs.sort_by_key(|(i, _)| *i);
    Ok(runs.into_iter().map(|(_, r)| r).collect())
}

/// One member ready to check: its client (sharing the fleet's cap) and its plan.
pub struct Prepared {
    /// Its place in the fleet's order, which the results keep.
    pub order: usize,
    pub profile: String,
    pub path: SetupPath,
    pub client: crate::servicenow::Client,
    pub plan: crate::facts::Plan,
}

/// Checks every prepared member at once on `rt`; (order, result) pairs.
pub fn execute(
    rt: &tokio::runtime::Runtime,
    members: Vec<Prepared>,
    strict: bool,
) -> Vec<(usize, MemberRun)> {
    let tasks: Vec<_> = members
        .into_iter()
        .map(|m| {
            let instance = m.client.instance().as_str().to_string();
            let (client, plan) = (m.client, m.plan);
            let task = rt.spawn(async move {
                let started = Instant::now();
                let report = super::verify::verify(&client, &plan, strict).await;
                (report, started.elapsed(), client.stats().requests)
            });
            (m.order, m.profile, instance, Some(m.path), task)
        })
        .collect();
    let mut runs = Vec::new();
    for (i, profile, instance, path, task) in tasks {
        let run = match rt.block_on(task) {
            Ok((report, elapsed, requests)) => MemberRun {
                profile,
                instance,
                path,
                elapsed,
                requests,
                outcome: Outcome::Report(Box::new(report)),
            },
            Err(e) => MemberRun {
                profile,
                instance,
                path,
                elapsed: Duration::ZERO,
                requests: 0,
                outcome: Outcome::CouldNotRun {
                    exit: Exit::CannotRun,
                    message: format!("the check stopped: {e}"),
                },
            },
        };
        runs.push((i, run));
    }
    runs
}

/// Resolves one member as a single unattended run would, with its own variables only.
fn resolve_member(
    target: &TargetArgs,
    member: &Member,
    keyring: &Keyring,
) -> Result<crate::inputs::Inputs> {
    let prefix = env_prefix(&member.name);
    let env = |name: &str| -> Option<String> {
        if INPUT_VARIABLES.contains(&name) {
            let own = name.strip_prefix("SNCONNECT_").unwrap_or(name);
            std::env::var(format!("SNCONNECT_{prefix}_{own}")).ok()
        } else {
            std::env::var(name).ok()
        }
    };
    let defaults = member.defaults.clone();
    let profile = |name: &str| -> Result<Option<ProfileDefaults>, String> {
        match &defaults {
            Some(d) => Ok(Some(d.clone())),
            None => super::verify::saved_defaults(name),
        }
    };
    let mut stdin: &[u8] = b"";
    let mut sources = Sources {
        env: &env,
        stdin: &mut stdin,
        stored: keyring,
        profile: &profile,
        prompter: None,
    };
    let mut one = target.clone();
    one.profile = vec![member.name.clone()];
    one.instance = None;
    Ok(inputs::resolve(&one, &mut sources)?)
}

/// The short column names of the summary table, in check order.
fn column(id: CheckId) -> &'static str {
    match id {
        CheckId::Instance => "inst",
        CheckId::App => "app",
        CheckId::OauthApp => "oauth",
        CheckId::ServiceUser => "user",
        CheckId::Roles => "roles",
        CheckId::TaskAcls => "acls",
        CheckId::Posture => "post",
        CheckId::Connect => "conn",
    }
}

fn seconds(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// The summary table: one row per instance.
pub fn table(runs: &[MemberRun]) -> String {
    let profile_w = runs
        .iter()
        .map(|r| r.profile.chars().count())
        .chain([7])
        .max()
        .unwrap_or(7);
    let instance_w = runs
        .iter()
        .map(|r| r.instance.chars().count())
        .chain([8])
        .max()
        .unwrap_or(8);
    let mut s = format!(
        "{:profile_w$}  {:instance_w$}  {:5}",
        "PROFILE", "INSTANCE", "PATH"
    );
    for id in CheckId::ALL {
        s.push_str(&format!("  {:5}", column(id)));
    }
    s.push_str("  TIME\n");
    for r in runs {
        let path = r.path.map(|p| p.as_str()).unwrap_or("-");
        s.push_str(&format!(
            "{:profile_w$}  {:instance_w$}  {:5}",
            r.profile,
            crate::text::escaped(&r.instance),
            path
        ));
        match &r.outcome {
            Outcome::Report(report) => {
                for id in CheckId::ALL {
                    let m = report
                        .checks
                        .iter()
                        .find(|c| c.id == id)
                        .map(|c| c.status.mark())
                        .unwrap_or(" ");
                    s.push_str(&format!("  {m:5}"));
                }
                s.push_str(&format!("  {}\n", seconds(r.elapsed)));
            }
            Outcome::CouldNotRun { .. } => s.push_str("  could not run\n"),
        }
    }
    s
}

/// The fleet's counts: (ready, not ready, could not run).
fn counts(runs: &[MemberRun]) -> (usize, usize, usize) {
    runs.iter()
        .fold((0, 0, 0), |(ok, bad, none), r| match &r.outcome {
            Outcome::Report(report) if report.ok() => (ok + 1, bad, none),
            Outcome::Report(report) if !report.cannot_run() => (ok, bad + 1, none),
            _ => (ok, bad, none + 1),
        })
}

fn render_human(runs: &[MemberRun], color: bool) -> String {
    let (ok, bad, none) = counts(runs);
    let mut s = format!(
        "snconnect verify: {} ({})\n\n",
        crate::ui::count(runs.len(), "instance", "instances"),
        [
            (ok, "ready"),
            (bad, "not ready"),
            (none, "could not be checked"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect::<Vec<_>>()
        .join(", ")
    );
    s.push_str(&table(runs));
    s.push_str("\n✓ pass  ! warn  ✗ fail  - skipped\n");
    for r in runs {
        match &r.outcome {
            Outcome::Report(report) if report.ok() => {}
            Outcome::Report(report) => {
                s.push_str(&format!("\n── {} ──\n", r.profile));
                s.push_str(&human::render(
                    report,
                    &human::Options {
                        color,
                        next: Some(format!(
                            "snconnect verify --profile {} for this instance alone",
                            r.profile
                        )),
                        width: human::stdout_width(),
                    },
                ));
            }
            Outcome::CouldNotRun { message, .. } => {
                s.push_str(&format!(
                    "\n── {} ──\ncould not run: {}\n",
                    r.profile,
                    crate::text::escaped(message)
                ));
            }
        }
    }
    s
}

/// A fleet run as one JSON document (`schema/fleet.schema.json`).
#[derive(Serialize, schemars::JsonSchema)]
#[schemars(rename = "Fleet")]
struct FleetDocument<'a> {
    #[schemars(extend("const" = 1))]
    schema_version: u32,
    tool: json::Tool,
    /// Every instance ready.
    ok: bool,
    /// The worst of the runs' exit codes, as the process exits.
    exit_code: i32,
    runs: Vec<RunDocument<'a>>,
}

#[derive(Serialize, schemars::JsonSchema)]
struct RunDocument<'a> {
    profile: &'a str,
    instance: &'a str,
    duration_ms: u64,
    exit_code: i32,
    /// The instance's report, as `verify --format json` writes it; absent when it could not run.
    #[serde(skip_serializing_if = "Option::is_none")]
    report: Option<json::Document<'a>>,
    /// Why it could not run; absent when it ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
}

fn render_json(runs: &[MemberRun]) -> String {
    let doc = FleetDocument {
        schema_version: json::SCHEMA_VERSION,
        tool: json::TOOL,
        ok: runs
            .iter()
            .all(|r| matches!(&r.outcome, Outcome::Report(report) if report.ok())),
        exit_code: worst(runs).code(),
        runs: runs
            .iter()
            .map(|r| RunDocument {
                profile: &r.profile,
                instance: &r.instance,
                duration_ms: r.elapsed.as_millis() as u64,
                exit_code: r.exit().code(),
                report: match &r.outcome {
                    Outcome::Report(report) => Some(json::document(report)),
                    Outcome::CouldNotRun { .. } => None,
                },
                error: match &r.outcome {
                    Outcome::CouldNotRun { message, .. } => Some(message.as_str()),
                    Outcome::Report(_) => None,
                },
            })
            .collect(),
    };
    let mut out = serde_json::to_string_pretty(&doc).unwrap_or_default();
    out.push('\n');
    out
}

/// The JSON Schema of a fleet document: what `schema/fleet.schema.json` holds.
pub fn schema() -> String {
    let schema = schemars::schema_for!(FleetDocument<'static>);
    let mut out = serde_json::to_string_pretty(&schema).unwrap_or_default();
    out.push('\n');
    out
}

fn render_markdown(runs: &[MemberRun]) -> String {
    let mut s = String::from("### snconnect verify: every instance\n\n");
    s.push_str("| Profile | Instance | Result |\n|---|---|---|\n");
    for r in runs {
        let result = match &r.outcome {
            Outcome::Report(report) if report.ok() => "✅ ready".to_string(),
            Outcome::Report(report) => {
                let bad: Vec<&str> = report
                    .checks
                    .iter()
                    .filter(|c| matches!(c.status, Status::Fail | Status::Warn))
                    .map(|c| c.id.as_str())
                    .collect();
                format!("❌ not ready: {}", bad.join(", "))
            }
            Outcome::CouldNotRun { .. } => "⛔ could not run".to_string(),
        };
        s.push_str(&format!(
            "| {} | {} | {} |\n",
            crate::report::markdown::plain(&r.profile),
            crate::report::markdown::plain(&r.instance),
            result
        ));
    }
    for r in runs {
        match &r.outcome {
            Outcome::Report(report) if report.ok() => {}
            Outcome::Report(report) => {
                s.push('\n');
                s.push_str(&crate::report::markdown::render(report));
            }
            Outcome::CouldNotRun { message, .. } => s.push_str(&format!(
                "\n### {}: could not run\n\n{}\n",
                crate::report::markdown::plain(&r.profile),
                crate::report::markdown::plain(message)
            )),
        }
    }
    s
}

/// The fleet in the chosen format.
pub fn render_fleet(runs: &[MemberRun], format: Format, color: bool) -> String {
    match format {
        Format::Human => render_human(runs, color),
        Format::Json => render_json(runs),
        Format::Markdown => render_markdown(runs),
        Format::Junit => {
            let suites: Vec<junit::Suite<'_>> = runs
                .iter()
                .map(|r| match &r.outcome {
                    Outcome::Report(report) => junit::Suite::Report(report),
                    Outcome::CouldNotRun { message, .. } => junit::Suite::CouldNotRun {
                        name: &r.profile,
                        message,
                    },
                })
                .collect();
            junit::render_suites(&suites)
        }
    }
}
