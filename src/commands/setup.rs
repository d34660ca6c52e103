//! `snconnect setup`: the guided wizard on a terminal, or an unattended run without one.
//!
//! Interactive when a person is at a terminal and neither `--no-input` nor `CI` says otherwise
//! ([`inputs::interactive`]); then [`crate::setup::wizard`] asks, explains, checks and stores.
//!
//! Unattended, everything comes from flags, the environment, stdin and what the profile stored.
//! The run needs the instance, admin credentials (the contract's rule for `setup`) and the three
//! service credentials, and stops with exit 2 naming the flag and variable of each one missing.
//! It then runs every check, stores the credentials when `connect` proved them, prints the report
//! on stdout and exits with verify's codes. With `--apply` it runs `snconnect apply` instead
//! (which needs only the admin credentials and generates what is missing), then stores the
//! supplied secrets once apply's re-check passed.
//!
//! Either way the secret store is opened first: when no keyring is reachable and
//! `--insecure-storage` was not given, setup fails closed (exit 3) before asking or sending
//! anything.

use anyhow::Result;

use crate::checks::{instance::ADMIN_INPUTS, Status};
use crate::cli::{ApplyArgs, GlobalArgs, SetupArgs, TargetArgs};
use crate::commands::apply as apply_cmd;
use crate::commands::verify;
use crate::credentials::{self, ConfigDir, Profile, SecretKind, SecretStore, StoreOptions};
use crate::credentials::{store_all, Stored, ToStore};
use crate::exit::{Exit, UserError};
use crate::inputs::resolve::{self as inputs, AdminAuth, Inputs, Secret};
use crate::model::CheckId;
use crate::setup::handoff::{self, Handoff};
use crate::setup::wizard::{self, WizardEnv, WizardError, WizardOptions};
use crate::setup::{Checker, LiveChecker};
use crate::ui::prompt::{PromptError, TerminalPrompter};
use crate::ui::{colour, interrupt};

pub fn run(global: &GlobalArgs, args: &SetupArgs) -> Result<Exit> {
    if inputs::interactive(global.no_input) {
        interactive(global, args)
    } else {
        unattended(global, args)
    }
}

/// Whether the admin credentials came from flags or the environment (the wizard then uses them
/// without asking).
fn admin_given(target: &TargetArgs) -> bool {
    let env_set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    env_set(inputs::ADMIN_TOKEN_ENV)
        || (target.admin_user.is_some()
            && (target.admin_password_stdin || env_set(Secret::AdminPassword.env_var())))
}

fn interactive(global: &GlobalArgs, args: &SetupArgs) -> Result<Exit> {
    let dir = ConfigDir::resolve()?;
    let store = credentials::open_store(StoreOptions {
        insecure_storage: args.insecure_storage,
    })?;
    interrupt::install("nothing was stored").map_err(UserError::cannot_run)?;
    // On a terminal stdin is the person typing: `--*-stdin` would read a secret with echo on.
    // The wizard asks for every secret with hidden input instead.
    let mut target = args.target.clone();
    target.admin_password_stdin = false;
    target.client_secret_stdin = false;
    target.password_stdin = false;
    let color = colour::for_stderr(global.color);
    let mut prompter = TerminalPrompter::new(color);
    // The wizard waits for a person between requests, so its run has no deadline.
    let options = crate::servicenow::ClientOptions {
        deadline: None,
        ..crate::commands::verify::client_options(global)
    };
    let mut checker = LiveChecker::new(options.clone(), true)?;
    let mut fixer = LiveChecker::new(options, true)?;
    // The wizard asks its own questions: resolution must not prompt.
    let mut quiet = global.clone();
    quiet.no_input = true;
    let mut resolve = |t: &TargetArgs| verify::resolve_inputs(&quiet, t);
    let mut env = WizardEnv {
        prompter: &mut prompter,
        checker: &mut checker,
        resolve: &mut resolve,
        store: &*store,
        dir: &dir,
        fixer: Some(&mut fixer),
    };
    let opts = WizardOptions {
        reveal: args.reveal,
        color,
        admin_given: admin_given(&target),
    };
    match wizard::run(&mut env, &target, opts) {
        Ok(outcome) => {
            if global.format != crate::cli::Format::Human {
                let text = verify::render(&outcome.report, global.format, false);
                verify::write_stdout(&text)?;
            }
            Ok(outcome.report.exit())
        }
        Err(WizardError::Prompt(PromptError::Interrupted)) => {
            interrupt::exit_interrupted("nothing was stored", &[]);
        }
        Err(WizardError::Interrupted {
            error: PromptError::Interrupted,
            written,
        }) => {
            interrupt::exit_interrupted(
                &format!("already written: {}", written.join("; ")),
                &["Run setup again to go on from there: what was kept is offered as the default."],
            );
        }
        Err(e @ WizardError::Interrupted { .. }) => {
            interrupt::restore_terminal();
            Err(UserError::usage(e.to_string()).into())
        }
        Err(WizardError::Prompt(e)) => {
            interrupt::restore_terminal();
            Err(UserError::usage(format!("{e}; nothing was stored")).into())
        }
        Err(WizardError::Other(e)) => Err(e),
    }
}

/// What an unattended run lacks, each naming its flag and variable.
pub fn missing_required(inputs: &Inputs) -> Vec<String> {
    let mut missing = Vec::new();
    if let AdminAuth::Missing(why) = &inputs.admin {
        missing.push(if why.starts_with("no admin credentials") {
            format!("admin credentials: {ADMIN_INPUTS}")
        } else {
            why.clone()
        });
    }
    missing.extend(inputs.service_missing());
    missing
}

fn unattended(global: &GlobalArgs, args: &SetupArgs) -> Result<Exit> {
    let inputs = verify::resolve_inputs(global, &args.target)?;
    if args.apply {
        return unattended_apply(global, args, inputs);
    }
    let missing = missing_required(&inputs);
    if !missing.is_empty() {
        return Err(UserError::usage(format!(
            "setup without prompts needs every input up front; missing: {}",
            missing.join("; ")
        ))
        .into());
    }
    let dir = ConfigDir::resolve()?;
    let store = credentials::open_store(StoreOptions {
        insecure_storage: args.insecure_storage,
    })?;
    let mut checker = LiveChecker::new(crate::commands::verify::client_options(global), true)?;
    let report = checker.check(&inputs, &[])?;
    let color = colour::for_stdout(global.color);
    verify::write_stdout(&verify::render(&report, global.format, color))?;

    let connected = report
        .check(CheckId::Connect)
        .is_some_and(|c| matches!(c.status, Status::Pass | Status::Warn));
    if !connected {
        eprintln!(
            "Nothing was stored: the connect check did not pass, so the credentials are not \
             proven (see the report)."
        );
        return Ok(report.exit());
    }
    let stored = store_unattended(&*store, &dir, &inputs)?;
    eprintln!(
        "Stored the {} in {} and the profile '{}' in {}.",
        stored.labels().join(" and "),
        stored.backend,
        inputs.profile,
        stored.profile_path.display()
    );
    eprint!(
        "{}",
        handoff::render(&Handoff {
            instance: &inputs.instance,
            profile: &inputs.profile,
            client_id: inputs.client_id.as_deref(),
            client_secret: inputs.client_secret.as_ref(),
            username: &inputs.username,
            password: inputs.password.as_ref(),
            reveal: args.reveal,
            stored: true,
        })
    );
    Ok(report.exit())
}

/// Stores the proven service credentials. The admin password is never stored without a person
/// asking for it, so an unattended run leaves whatever the profile held for the admin alone.
fn store_unattended(store: &dyn SecretStore, dir: &ConfigDir, inputs: &Inputs) -> Result<Stored> {
    let profile = crate::flows::profile_after(dir, inputs, inputs.client_id.as_deref());
    let mut secrets = Vec::new();
    if let Some(s) = &inputs.client_secret {
        secrets.push((SecretKind::ClientSecret, s.clone()));
    }
    if let Some(s) = &inputs.password {
        secrets.push((SecretKind::Password, s.clone()));
    }
    let what = ToStore {
        profile,
        secrets,
        remove: Vec::new(),
    };
    let _critical = crate::ui::interrupt::critical();
    Ok(store_all(Some(store), dir, &what)?)
}

/// `setup --apply` without a terminal: `apply` does the work (plan, generated secrets stored
/// first, writes, re-check, report), then the secrets that were supplied rather than generated
/// are stored too once the re-check passed. Only the admin credentials are required: apply
/// generates what is missing.
fn unattended_apply(global: &GlobalArgs, args: &SetupArgs, inputs: Inputs) -> Result<Exit> {
    if let AdminAuth::Missing(why) = &inputs.admin {
        let what = if why.starts_with("no admin credentials") {
            format!("admin credentials: {ADMIN_INPUTS}")
        } else {
            why.clone()
        };
        return Err(UserError::usage(format!(
            "setup --apply needs admin credentials to change the configuration; missing: {what}"
        ))
        .into());
    }
    // Fail closed before anything is written to the instance.
    let store = credentials::open_store(StoreOptions {
        insecure_storage: args.insecure_storage,
    })?;
    let dir = ConfigDir::resolve()?;
    let supplied = inputs.duplicate();
    let apply_args = ApplyArgs {
        global: global.clone(),
        target: args.target.clone(),
        dry_run: false,
        yes: args.yes,
        email: None,
        insecure_storage: args.insecure_storage,
        reveal: args.reveal,
        acl_pack: None,
    };
    let exit = apply_cmd::apply(global, &apply_args, inputs, None)?;
    if exit != Exit::Ok {
        return Ok(exit);
    }
    let mut secrets = Vec::new();
    if let Some(s) = &supplied.client_secret {
        secrets.push((SecretKind::ClientSecret, s.clone()));
    }
    if let Some(s) = &supplied.password {
        secrets.push((SecretKind::Password, s.clone()));
    }
    if !secrets.is_empty() {
        // apply saved the profile (with the client id it found); keep what it wrote.
        let profile = dir
            .load_profile(&supplied.profile)?
            .unwrap_or_else(|| Profile::new(supplied.profile.clone()));
        let what = ToStore {
            profile,
            secrets,
            remove: Vec::new(),
        };
        let stored = store_all(Some(&*store), &dir, &what)?;
        eprintln!(
            "Stored the supplied {} in {}.",
            stored.labels().join(" and "),
            stored.backend
        );
    }
    Ok(exit)
}
