//! `snconnect apply`: reads the instance, plans the writes that make the checks pass, shows the
//! plan, asks once, writes, and re-checks.
//!
//! Order of events, each for a reason:
//! 1. Inputs are resolved; without the instance or admin credentials there is nothing to do
//!    (exit 2).
//! 2. One request as the admin proves the credentials (a wrong password costs one failed login),
//!    then the rest of the state is read in one round trip.
//! 3. The plan is built. `--dry-run` prints it and stops: nothing is written, nothing generated.
//! 4. Confirmation: at a terminal, the plan is shown and apply asks once. Without a terminal,
//!    changes to records that already exist (and granting admin) need `--yes`; new records don't.
//! 5. Secrets the plan needs but nobody supplied are generated and stored *before* the first
//!    write: if they cannot be stored (no keyring, no `--insecure-storage`) nothing is written,
//!    so no secret is ever set on the instance and then lost.
//! 6. The plan runs; the profile remembers the instance, path, user and client id.
//! 7. Every check runs again, with the secrets the integration will use, and the report shows.
//!
//! The setup wizard's "let snconnect do it" uses the same pieces for one step: [`admin_session`],
//! [`read_state`], [`crate::apply::plan_for`] with [`plan_inputs`], [`prepare_secrets`], then
//! [`crate::apply::execute`].

use anyhow::Result;

use crate::apply::render::{self, SecretsReport};
use crate::apply::{self, secrets as gen, Plan, Secrets};
use crate::checks::FindingCode;
use crate::cli::{ApplyArgs, Format, GlobalArgs};
use crate::commands::verify;
use crate::credentials::{self, store_all, ConfigDir, SecretKind, StoreOptions, ToStore};
use crate::exit::{Exit, UserError};
use crate::flows;
pub use crate::flows::apply::{active_client_id, admin_session, plan_inputs, read_state};
use crate::inputs::resolve::{self as inputs, Inputs};
use crate::model::CheckId;
use crate::report::{human, json, Report};
use crate::ui::{colour, progress::Spinner};

/// Asks a yes/no question on stderr. A trait so the flow can be tested without a terminal.
pub trait Confirm {
    fn confirm(&self, question: &str) -> bool;
}

/// The wizard's prompter (`crate::ui::prompt`) asks here too; the answer defaults to "no", and any
/// failure to ask (Ctrl-C, a closed terminal) counts as "no".
impl<P: crate::ui::prompt::Prompter> Confirm for std::cell::RefCell<P> {
    fn confirm(&self, question: &str) -> bool {
        self.borrow_mut().confirm(question, false).unwrap_or(false)
    }
}

/// `snconnect apply` from the command line: resolves the inputs from the process (flags, stdin,
/// environment, keyring, terminal) and asks on the terminal only when one is attached.
pub fn run(global: &GlobalArgs, args: &ApplyArgs) -> Result<Exit> {
    if args.dry_run && matches!(global.format, Format::Junit | Format::Markdown) {
        return Err(UserError::usage(
            "--format junit and markdown report checks; a --dry-run plan is shown as human or json",
        )
        .into());
    }
    let inputs = verify::resolve_inputs(global, &args.target)?;
    let interactive = inputs::interactive(global.no_input);
    let terminal = std::cell::RefCell::new(crate::ui::prompt::TerminalPrompter::new(
        crate::ui::colour::for_stderr(global.color),
    ));
    let confirm = interactive.then_some(&terminal as &dyn Confirm);
    apply(global, args, inputs, confirm)
}

/// The run after inputs are resolved; `confirm` is `None` when no one can be asked. Output goes
/// to stdout (the result, or the plan under `--dry-run`) and stderr (the plan before the
/// question, `-v` lines, warnings).
pub fn apply(
    global: &GlobalArgs,
    args: &ApplyArgs,
    inputs: Inputs,
    confirm: Option<&dyn Confirm>,
) -> Result<Exit> {
    let client = verify::build_client(&inputs, global)?;
    let session = admin_session(&client, &inputs)?;
    let rt = verify::runtime()?;
    // One changing run per profile on this machine: a second waits, then finds what the first
    // made. A dry run changes nothing and does not wait.
    let _run_lock = match (args.dry_run, credentials::refusals::state_dir()) {
        (false, Some(dir)) => Some(
            credentials::RunLock::acquire(&dir, &inputs.profile, |msg| eprintln!("{msg}"))
                .map_err(|e| {
                    UserError::cannot_run(format!(
                        "could not take the run lock for profile '{}' in {}: {e}; nothing was \
                         changed",
                        inputs.profile,
                        dir.display()
                    ))
                })?,
        ),
        _ => None,
    };
    let state = {
        let _spinner = Spinner::start(&format!("reading {}", inputs.instance.as_str()));
        rt.block_on(read_state(&client, &inputs, global.timeout))?
    };
    let mut plan = apply::plan(&state, &plan_inputs(&inputs, args.email.clone()));
    match &args.acl_pack {
        Some(path) => write_acl_pack(path, &mut plan, &state, &inputs)?,
        None if plan.steps.iter().any(|s| s.check == CheckId::TaskAcls) => plan.notes.push(
            "ACL writes need security_admin elevation, which a REST session rarely carries; \
                 if the instance refuses them, --acl-pack FILE writes the same ACLs as one \
                 update set to import"
                .to_string(),
        ),
        None => {}
    }

    if args.dry_run {
        let text = match global.format {
            Format::Json => render::plan_json(&plan),
            _ => {
                let mut t = render::plan_human(&plan, true);
                let target = target_args(&inputs);
                let next = if !plan.steps.is_empty() {
                    format!("apply it with: snconnect apply {target}")
                } else if !plan.manual.is_empty() {
                    format!("do the steps listed under 'To do by hand', then run: snconnect verify {target}")
                } else {
                    format!("nothing to do; check the whole setup with: snconnect verify {target}")
                };
                t.push_str(&format!("\nNext: {next}\n"));
                match human::stdout_width() {
                    Some(width) => crate::report::wrap::wrap(&t, width),
                    None => t,
                }
            }
        };
        verify::write_stdout(&text)?;
        return Ok(Exit::Ok);
    }

    if !plan.steps.is_empty() && !args.yes {
        match confirm {
            Some(asker) => {
                eprint!("{}", render::plan_human(&plan, false));
                let question = format!(
                    "Apply {} to {}?",
                    crate::ui::count(plan.steps.len(), "write", "writes"),
                    inputs.instance.as_str()
                );
                if !asker.confirm(&question) {
                    eprintln!("Nothing was changed.");
                    return Ok(Exit::Failed);
                }
            }
            None => {
                let existing = plan.needing_confirmation();
                if !existing.is_empty() {
                    let list: Vec<String> = existing
                        .iter()
                        .map(|s| format!("  - {}", s.summary))
                        .collect();
                    return Err(UserError::usage(format!(
                        "the plan changes records that already exist, which needs confirmation, \
                         and no one can be asked here (no terminal, or --no-input):\n{}\nNothing \
                         was changed. Review the plan with --dry-run, then re-run with --yes",
                        list.join("\n")
                    ))
                    .into());
                }
            }
        }
    }

    // Secrets first: generated and stored before anything is written to the instance.
    let (secrets, report) = prepare_secrets(
        &plan,
        &inputs,
        StoreOptions {
            insecure_storage: args.insecure_storage,
        },
        args.reveal,
    )?;

    let verbose = global.verbose;
    let log = move |line: &str| {
        if verbose {
            eprintln!("apply: {line}");
        }
    };
    let outcome = {
        let _spinner = Spinner::start(&format!(
            "applying {}",
            crate::ui::count(plan.steps.len(), "write", "writes")
        ));
        rt.block_on(apply::execute(&session, &plan, &secrets, &log))
    };

    // A generated secret for a record that turned out to be another run's is put back as it
    // was: kept, it would be the wrong one at the next login.
    let mut secrets = secrets;
    let mut report = report;
    let unset = outcome.secrets_unused(&plan);
    if !unset.is_empty() {
        put_back_unset(&inputs, args, &unset, &mut report)?;
        for kind in &unset {
            secrets.set(*kind, None);
        }
    }

    // The client id the integration uses: given, or read from the one entry now there.
    let client_id = match &inputs.client_id {
        Some(id) => Some(id.clone()),
        None => rt
            .block_on(active_client_id(&client, &inputs, global.timeout))
            .ok()
            .flatten(),
    };
    save_profile(&inputs, client_id.as_deref());

    let mut inputs = inputs;
    inputs.client_id = client_id;
    inputs.client_secret = secrets.client_secret.clone();
    inputs.password = secrets.password.clone();
    let mut check = verify::plan(&inputs, &[], global.timeout);
    check.refusals = crate::credentials::Refusals::resolve();
    let verify_report = {
        let _spinner = Spinner::start("checking again");
        rt.block_on(verify::verify(&client, &check, false))
    };

    let ok = outcome.all_applied() && outcome.manual.is_empty() && verify_report.ok();
    let exit = if verify_report.cannot_run() {
        Exit::CannotRun
    } else if ok {
        Exit::Ok
    } else {
        Exit::Failed
    };
    let color = colour::for_stdout(global.color);
    let text = match global.format {
        Format::Json => {
            let embedded = serde_json::from_str(&json::render(&verify_report))
                .unwrap_or(serde_json::Value::Null);
            render::outcome_json(&plan, &outcome, &report, embedded, ok)
        }
        Format::Junit | Format::Markdown => verify::render(&verify_report, global.format, color),
        Format::Human => {
            let mut t = render::outcome_human(&plan, &outcome, &report);
            t.push_str(&human::render(
                &verify_report,
                &human::Options {
                    color,
                    next: Some(next_step(&inputs, &verify_report, &outcome)),
                    width: human::stdout_width(),
                },
            ));
            t
        }
    };
    verify::write_stdout(&text)?;
    Ok(exit)
}

/// `--acl-pack FILE`: writes the plan's task ACL steps as an update set and leaves them to the
/// import, in their place a by-hand step saying how. Says so when there is nothing to write, or
/// why it cannot be written yet; the rest of the plan runs either way.
fn write_acl_pack(
    path: &std::path::Path,
    plan: &mut apply::Plan,
    state: &apply::State,
    inputs: &Inputs,
) -> Result<()> {
    use crate::apply::acl_pack::{self, AclPack};
    let shown = path.display().to_string();
    match acl_pack::build(plan, state, inputs.instance.host()) {
        AclPack::Ready(set) => {
            acl_pack::write_file(path, &set)?;
            let links = crate::checks::Links::new(inputs.instance.as_str());
            eprintln!(
                "wrote the missing task ACLs to {shown}: an update set of {} for {}",
                crate::ui::count(set.records.len(), "record", "records"),
                inputs.instance.host()
            );
            plan.steps.retain(|s| s.check != CheckId::TaskAcls);
            plan.manual.push(apply::ManualStep {
                check: CheckId::TaskAcls,
                code: FindingCode::AclMissing,
                title: format!("import the task ACLs update set {shown}"),
                instructions: format!(
                    "{}; then run snconnect verify to confirm the task ACLs",
                    acl_pack::import_steps(&shown, &set, &links)
                ),
                link: Some(acl_pack::import_page(&links)),
            });
        }
        AclPack::NothingMissing => eprintln!(
            "the task ACLs need nothing on {}: no update set was written to {shown}",
            inputs.instance.host()
        ),
        AclPack::Cannot(why) => {
            eprintln!("no update set was written to {shown}: {why}")
        }
    }
    Ok(())
}

/// `--instance X` (and `--path admin`, `--username U` when they differ from the defaults), for
/// the commands the output suggests.
fn target_args(inputs: &Inputs) -> String {
    let mut s = format!("--instance {}", inputs.instance.as_str());
    if inputs.path == crate::model::SetupPath::Admin {
        s.push_str(" --path admin");
    }
    if inputs.username != crate::requirements::DEFAULT_USERNAME {
        s.push_str(&format!(" --username {}", inputs.username));
    }
    s
}

fn next_step(inputs: &Inputs, report: &Report, outcome: &apply::Outcome) -> String {
    let target = target_args(inputs);
    if !outcome.manual.is_empty() {
        // After installing the app there is more for apply to do; after anything else, check.
        let apply_again = outcome
            .manual
            .iter()
            .any(|m| matches!(m.check, CheckId::App | CheckId::Roles));
        let then = if apply_again { "apply" } else { "verify" };
        return format!(
            "do the steps listed under 'To do by hand', then run: snconnect {then} {target}"
        );
    }
    if !report.ok() {
        return format!(
            "fix the findings above, or run `snconnect apply {target}` again; re-check with \
             snconnect verify {target}"
        );
    }
    let connect_skipped = report
        .check(CheckId::Connect)
        .is_some_and(|c| c.status == crate::checks::Status::Skip);
    if connect_skipped {
        return format!(
            "prove the connection with the service user's credentials: snconnect verify {target} \
             --client-id CLIENT_ID, with SNCONNECT_CLIENT_SECRET and SNCONNECT_PASSWORD set"
        );
    }
    format!(
        "enter the client id, client secret, user name and password in incident.io (Settings > \
         Integrations > ServiceNow); print them with: snconnect credentials show --profile {} \
         --reveal",
        inputs.profile
    )
}

/// Remembers the non-secret values, keeping what the profile already had (e.g. an admin user
/// saved by setup). A failure here is reported but does not undo anything: the secrets are
/// stored, and the instance is configured.
fn save_profile(inputs: &Inputs, client_id: Option<&str>) {
    let saved = ConfigDir::resolve()
        .map_err(|e| format!("{e:#}"))
        .and_then(|dir| {
            let what = ToStore {
                profile: flows::profile_after(&dir, inputs, client_id),
                secrets: Vec::new(),
                remove: Vec::new(),
            };
            store_all(None, &dir, &what).map_err(|e| e.to_string())
        });
    if let Err(e) = saved {
        eprintln!(
            "warning: could not save profile '{}' ({e}); pass --instance and --client-id \
             explicitly next time",
            inputs.profile
        );
    }
}

/// Puts the store back as it was for the generated secrets `kinds`, which never reached the
/// instance, and notes it in `report`.
fn put_back_unset(
    inputs: &Inputs,
    args: &ApplyArgs,
    kinds: &[SecretKind],
    report: &mut SecretsReport,
) -> Result<()> {
    let store = credentials::open_store(StoreOptions {
        insecure_storage: args.insecure_storage,
    })?;
    let dir = ConfigDir::resolve()?;
    let profile = flows::profile_after(&dir, inputs, inputs.client_id.as_deref());
    {
        let _critical = crate::ui::interrupt::critical();
        credentials::transaction::put_back(&*store, &dir, profile, &report.earlier, kinds)
            .map_err(|e| {
                UserError::cannot_run(format!(
                    "{e}; the stored {} was generated for a write that did not happen, so it \
                     does not work: remove it with `snconnect credentials forget --profile {}`",
                    kinds
                        .iter()
                        .map(|k| k.label())
                        .collect::<Vec<_>>()
                        .join(" and "),
                    inputs.profile
                ))
            })?;
    }
    report.mark_put_back(kinds);
    Ok(())
}

/// The secrets a plan sends: the supplied ones, plus any the plan needs that nobody supplied,
/// generated and stored in the profile's store before this returns. Fails closed (exit 3) when
/// they cannot be stored, before anything is written to the instance. `reveal` keeps the
/// generated values in the report for printing. The setup wizard calls this before running one
/// step's part of a plan.
pub fn prepare_secrets(
    plan: &Plan,
    inputs: &Inputs,
    store_options: StoreOptions,
    reveal: bool,
) -> Result<(Secrets, SecretsReport)> {
    let supplied = Secrets {
        client_secret: inputs.client_secret.clone(),
        password: inputs.password.clone(),
    };
    let mut report = SecretsReport {
        profile: inputs.profile.clone(),
        ..SecretsReport::default()
    };
    if plan.to_generate().is_empty() {
        return Ok((supplied, report));
    }
    let store = credentials::open_store(store_options)?;
    let (secrets, generated) = gen::fill(plan, supplied)
        .map_err(|e| UserError::cannot_run(format!("{e}; nothing was written")))?;
    let dir = ConfigDir::resolve()?;
    let what = ToStore {
        profile: flows::profile_after(&dir, inputs, inputs.client_id.as_deref()),
        secrets: generated,
        remove: Vec::new(),
    };
    let stored = {
        let _critical = crate::ui::interrupt::critical();
        store_all(Some(&*store), &dir, &what).map_err(|e| {
            UserError::cannot_run(format!("{e}; nothing was written to the instance"))
        })?
    };
    report.earlier = stored.earlier;
    if reveal {
        report.revealed = what.secrets;
    }
    report.backend = Some(store.backend());
    Ok((secrets, report))
}
