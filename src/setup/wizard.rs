//! The interactive `setup`: one question at a time, every step explained, checked and repeated
//! until it passes or the person skips it, then the credentials stored and the hand-off screen.
//!
//! Everything outside the flow itself is injected ([`WizardEnv`]): the questions go through a
//! [`Prompter`], checks through a [`Checker`], input resolution through a closure, and storage
//! through a [`SecretStore`] and a [`ConfigDir`]. The unit tests drive the whole flow with a
//! scripted prompter against the in-process sandbox; the pty tests drive the real binary.
//!
//! Nothing is written anywhere until the end ([`credentials::store_all`]), so quitting or pressing
//! Ctrl-C at any question leaves no trace but the failed logins a check may have cost.
//!
//! Why one file of about 900 lines: it is one conversation, read top to bottom in the order a
//! person meets it; the steps' texts are in `steps.rs`, the hand-off in `handoff.rs`, and the
//! checks, plans and storage it calls are the shared flows.

use std::collections::HashMap;

use console::Style;
use secrecy::SecretString;

use super::handoff::{self, Handoff};
use super::{Checker, Fixer};
use crate::apply::{self, render as apply_render, secrets as generate};
use crate::checks::{CheckResult, FindingCode, Status};
use crate::cli::TargetArgs;
use crate::credentials::{self, Stored, ToStore};
use crate::credentials::{ConfigDir, Profile, SecretKind, SecretStore};
use crate::inputs::{AdminAuth, Inputs};
use crate::instance::Instance;
use crate::model::{CheckId, SetupPath};
use crate::report::Report;
use crate::ui::interrupt;
use crate::ui::prompt::{non_empty, PromptError, Prompter};

use super::steps;

/// What the wizard works with, injected.
pub struct WizardEnv<'a> {
    pub prompter: &'a mut dyn Prompter,
    pub checker: &'a mut dyn Checker,
    /// Resolves flags, environment, stdin, stored secrets and the profile into inputs, without
    /// prompting (the wizard asks its own questions).
    pub resolve: &'a mut dyn FnMut(&TargetArgs) -> anyhow::Result<Inputs>,
    /// Where the credentials go at the end (already proven available, or the wizard would not run).
    pub store: &'a dyn SecretStore,
    pub dir: &'a ConfigDir,
    /// Writes fixes ("let snconnect do it"); `None` hides the choice.
    pub fixer: Option<&'a mut dyn Fixer>,
}

/// How the wizard behaves.
#[derive(Debug, Clone, Default)]
pub struct WizardOptions {
    /// `--reveal`: show the secrets on the hand-off screen.
    pub reveal: bool,
    pub color: bool,
    /// The admin credentials came from flags or the environment: use them without asking.
    pub admin_given: bool,
}

/// How a wizard run ended.
#[derive(Debug)]
pub struct Outcome {
    /// The last report: the full run of the connect step, or the instance check if the wizard
    /// stopped there.
    pub report: Report,
    /// Where the credentials went; `None` when nothing was stored.
    pub stored: Option<Stored>,
    /// Steps the person skipped.
    pub skipped: Vec<CheckId>,
}

/// Errors that end the wizard early.
#[derive(Debug, thiserror::Error)]
pub enum WizardError {
    #[error("{0}; nothing was stored")]
    Prompt(#[from] PromptError),
    /// Interrupted after something was written: what, and where, as it was recorded.
    #[error("{error}; already written: {}", written.join("; "))]
    Interrupted {
        error: PromptError,
        written: Vec<String>,
    },
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<crate::exit::UserError> for WizardError {
    fn from(e: crate::exit::UserError) -> Self {
        WizardError::Other(e.into())
    }
}

type Result<T> = std::result::Result<T, WizardError>;

/// What the person chose at a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Choice {
    Check,
    Fix,
    /// The task ACLs as an update set file, for the admin to import elevated.
    Pack,
    Instructions,
    Skip,
}

struct Wizard<'e, 'a> {
    env: &'e mut WizardEnv<'a>,
    opts: WizardOptions,
    st: Inputs,
    /// The admin password was typed here (so it may be offered for storage).
    admin_typed: bool,
    /// The admin password in `st.admin` was just refused: it is not offered again.
    admin_refused: bool,
    /// A stored admin password existed for the profile before this run.
    admin_was_stored: bool,
    /// What the first full check found, per check, to skip steps that already pass.
    survey: HashMap<CheckId, Status>,
    survey_report: Option<Report>,
    /// A step was visited (not skipped as already done): the connection must be checked again.
    changed: bool,
    skipped: Vec<CheckId>,
    /// Everything written so far, on the instance or locally, as it happened: what an
    /// interrupted run reports.
    written: Vec<String>,
}

/// Runs the wizard to the end. `target` holds what flags and the environment gave.
pub fn run(env: &mut WizardEnv<'_>, target: &TargetArgs, opts: WizardOptions) -> Result<Outcome> {
    let color = opts.color;
    let say_intro = |p: &mut dyn Prompter| {
        p.say(&bold(
            color,
            "snconnect setup: connect a ServiceNow instance to incident.io",
        ));
        p.say(
            "Each step is explained, then checked against your instance; what is wrong comes \
             with how to fix it. The credentials are stored only at the very end.\n",
        );
    };
    say_intro(env.prompter);

    let (st, instance_report) = choose_instance(env, target)?;
    if instance_report.cannot_run() {
        // The person chose to stop at an instance that cannot be used.
        return Ok(Outcome {
            report: instance_report,
            stored: None,
            skipped: Vec::new(),
        });
    }
    let admin_was_stored = env
        .store
        .get(&st.profile, SecretKind::AdminPassword)
        .ok()
        .flatten()
        .is_some();
    let mut w = Wizard {
        env,
        opts,
        st,
        admin_typed: false,
        admin_refused: false,
        admin_was_stored,
        survey: HashMap::new(),
        survey_report: None,
        changed: false,
        skipped: Vec::new(),
        written: Vec::new(),
    };
    match w.walk(target) {
        Err(WizardError::Prompt(error)) if !w.written.is_empty() => Err(WizardError::Interrupted {
            error,
            written: w.written.clone(),
        }),
        done => done,
    }
}

impl Wizard<'_, '_> {
    /// Records a write as it happens, and keeps the interrupt message true to it.
    fn wrote(&mut self, what: String) {
        self.written.push(what);
        interrupt::set_message(&format!("already written: {}", self.written.join("; ")));
    }

    /// Every step after the instance and the survey, to the hand-off.
    fn walk(&mut self, target: &TargetArgs) -> Result<Outcome> {
        let w = self;
        if target.path.is_none() {
            w.choose_path()?;
        }
        w.admin_credentials()?;
        w.take_survey()?;
        let path_steps = steps::steps(w.st.path);
        let of = path_steps.len() + 1;
        let connected = w.survey.get(&CheckId::Connect) == Some(&Status::Pass);
        let walk = if connected && !w.has_admin() {
            w.p().say(
                "incident.io's credentials already work with the values snconnect knows. Without \
             admin credentials the steps cannot be checked one by one.",
            );
            w.p().confirm("Walk through the steps anyway?", false)?
        } else {
            true
        };
        if walk {
            for (i, step) in path_steps.iter().enumerate() {
                w.step(*step, i + 1, of)?;
            }
        }
        let report = match w.survey_report.take() {
            Some(report) if connected && !w.changed => {
                let heading = steps::heading(CheckId::Connect, w.st.path);
                w.p()
                    .say(&format!("✓ Step {of} of {of}: {heading}: already works.\n"));
                report
            }
            _ => w.connect(of)?,
        };
        let stored = w.store(&report)?;
        w.hand_off(&report, stored.as_ref());
        Ok(Outcome {
            report,
            stored,
            skipped: std::mem::take(&mut w.skipped),
        })
    }
}

fn bold(color: bool, text: &str) -> String {
    if color {
        Style::new()
            .bold()
            .force_styling(true)
            .apply_to(text)
            .to_string()
    } else {
        text.to_string()
    }
}

/// A check's findings, each with its fix and link, indented under the step: the report's own
/// rendering (the prompter wraps it to the terminal).
fn findings_text(check: &CheckResult) -> String {
    crate::report::human::findings(&check.findings, false)
}

/// What a passing step may claim. The OAuth and user steps read configuration only: their secret
/// (the client secret, the password) is proved at the connect step, so they say so instead of
/// "passes", which a wrong secret would otherwise have earned.
fn passed_line(step: CheckId, title: &str) -> String {
    match step {
        CheckId::OauthApp => {
            format!("  ✓ {title} is configured; the client secret is proved at the connect step.")
        }
        CheckId::ServiceUser => {
            format!("  ✓ {title} is configured; the password is proved at the connect step.")
        }
        _ => format!("  ✓ {title} passes."),
    }
}

fn instance_result(report: &Report) -> Option<&CheckResult> {
    report.check(CheckId::Instance)
}

/// Asks for the instance (unless given) and checks it at once, anonymously: is it there, awake,
/// and ServiceNow. Returns the resolved inputs and that check's report; a report that cannot run
/// means the person chose to stop there.
fn choose_instance(env: &mut WizardEnv<'_>, target: &TargetArgs) -> Result<(Inputs, Report)> {
    let mut target = target.clone();
    // With a single saved profile, its instance is the likely answer: offer it as the default.
    let remembered = match env.dir.list_profiles() {
        Ok(names) if names.len() == 1 => env
            .dir
            .load_profile(&names[0])
            .ok()
            .flatten()
            .and_then(|p| p.instance),
        _ => None,
    };
    loop {
        if target.instance.is_none() && target.profile.is_empty() {
            let typed = env.prompter.input(
                "ServiceNow instance (e.g. acme, acme.service-now.com or a URL)",
                remembered.as_deref(),
                &|s: &str| Instance::parse(s).map(|_| ()).map_err(|e| e.to_string()),
            )?;
            target.instance = Some(typed);
        }
        let inputs = (env.resolve)(&target)?;
        let mut anonymous = inputs.duplicate();
        anonymous.admin = AdminAuth::Missing("checking the instance only".to_string());
        env.prompter
            .say(&format!("Checking {} ...", inputs.instance.as_str()));
        let report = env.checker.check(&anonymous, &[CheckId::Instance])?;
        if !report.cannot_run() {
            env.prompter.say(&format!(
                "  ✓ {} answers as a ServiceNow instance.\n",
                inputs.instance.as_str()
            ));
            return Ok((inputs, report));
        }
        if let Some(check) = instance_result(&report) {
            env.prompter.say(&findings_text(check));
        }
        let items = vec![
            "Try again".to_string(),
            "Enter a different instance".to_string(),
            "Stop here".to_string(),
        ];
        match env
            .prompter
            .select("The instance cannot be used yet. What next?", &items, 0)?
        {
            0 => {}
            1 => {
                target.instance = None;
                target.profile.clear();
            }
            _ => return Ok((inputs, report)),
        }
    }
}

impl Wizard<'_, '_> {
    fn p(&mut self) -> &mut dyn Prompter {
        &mut *self.env.prompter
    }

    fn check(&mut self, only: &[CheckId]) -> Result<Report> {
        Ok(self.env.checker.check(&self.st, only)?)
    }

    fn has_admin(&self) -> bool {
        !matches!(self.st.admin, AdminAuth::Missing(_))
    }

    fn choose_path(&mut self) -> Result<()> {
        // Menu items stay short: a list wider than the terminal is redrawn badly.
        self.p().say(
            "With the incident.io app, changes made in incident.io reach ServiceNow at once; \
             without it the service user holds the admin role and changes reach it later.",
        );
        let items = vec![
            "app: with the incident.io app (recommended)".to_string(),
            "admin: without the app, as an admin user".to_string(),
        ];
        let default = match self.st.path {
            SetupPath::App => 0,
            SetupPath::Admin => 1,
        };
        let chosen = self
            .p()
            .select("Which way do you want to connect?", &items, default)?;
        self.st.path = if chosen == 0 {
            SetupPath::App
        } else {
            SetupPath::Admin
        };
        self.p().say("");
        Ok(())
    }

    /// Optional admin credentials, proven with one request before anything else uses them.
    fn admin_credentials(&mut self) -> Result<()> {
        let given = match &self.st.admin {
            AdminAuth::Bearer(_) => Some("the admin token in SNCONNECT_ADMIN_TOKEN".to_string()),
            AdminAuth::Basic { user, .. } if self.opts.admin_given => {
                Some(format!("admin user '{user}' from the command line"))
            }
            _ => None,
        };
        if let Some(source) = given {
            self.p().say(&format!("Using {source}."));
            if self.verify_admin()? {
                return Ok(());
            }
        }
        loop {
            self.p().say(
                "With an admin account snconnect can read your configuration and check each \
                 step as you go. It is used only to read (and, if you ask, fix) the setup, and \
                 it is not stored unless you say so at the end. Without it you follow the steps \
                 by hand and only the final connection is checked.",
            );
            let known = match &self.st.admin {
                AdminAuth::Basic { user, password } => Some((user.clone(), password.clone())),
                _ => None,
            };
            if !self.p().confirm("Use admin credentials?", true)? {
                self.st.admin =
                    AdminAuth::Missing("no admin credentials were given to setup".to_string());
                self.p().say(
                    "  No admin credentials: follow each step by hand; the connection is checked \
                     at the end.\n",
                );
                return Ok(());
            }
            let default_user = known
                .as_ref()
                .map(|(u, _)| u.clone())
                .unwrap_or_else(|| "admin".to_string());
            let user = self
                .p()
                .input("Admin user name", Some(&default_user), &non_empty)?;
            // A password the instance just refused is never the default again.
            let keep = known
                .as_ref()
                .filter(|(u, _)| *u == user && !self.admin_refused)
                .map(|(_, p)| p.clone());
            let prompt = if keep.is_some() {
                "Admin password (Enter keeps the stored one)"
            } else {
                "Admin password"
            };
            let password = match (self.p().secret(prompt)?, keep) {
                (Some(typed), _) => {
                    self.admin_typed = true;
                    self.admin_refused = false;
                    typed
                }
                (None, Some(kept)) => kept,
                (None, None) => {
                    self.p().say("  An admin password is needed to sign in.\n");
                    continue;
                }
            };
            self.st.admin = AdminAuth::Basic { user, password };
            if self.verify_admin()? {
                return Ok(());
            }
        }
    }

    /// Signs in once with the admin credentials. `Ok(false)` when they were refused and the
    /// person wants to enter them again (or continue without, which is decided here).
    fn verify_admin(&mut self) -> Result<bool> {
        let report = self.check(&[CheckId::Instance])?;
        let Some(result) = instance_result(&report).cloned() else {
            return Ok(true);
        };
        if !report.cannot_run() {
            let who = match &self.st.admin {
                AdminAuth::Basic { user, .. } => format!("as '{user}'"),
                _ => "with the admin token".to_string(),
            };
            self.p().say(&format!("  ✓ Signed in {who}.\n"));
            return Ok(true);
        }
        self.p().say(&findings_text(&result));
        let rejected = result.has(FindingCode::InstanceAdminRejected)
            || result.has(FindingCode::InstanceAdminMfa);
        let first = if rejected {
            "Enter the admin credentials again"
        } else {
            "Try again"
        };
        let items = vec![
            first.to_string(),
            "Continue without admin credentials".to_string(),
        ];
        if self.p().select("What next?", &items, 0)? == 0 {
            if rejected {
                self.admin_refused = true;
                return Ok(false);
            }
            return self.verify_admin();
        }
        self.st.admin = AdminAuth::Missing("no admin credentials were given to setup".to_string());
        self.admin_typed = false;
        Ok(true)
    }

    /// One full check with what is known, to skip the steps that are already done.
    fn take_survey(&mut self) -> Result<()> {
        if !self.has_admin() && self.st.service_missing().len() == 3 {
            return Ok(());
        }
        self.p().say("Checking what is already in place ...");
        let report = self.check(&[])?;
        let shown: Vec<CheckResult> = report
            .checks
            .iter()
            .filter(|c| c.id != CheckId::Instance && c.status != Status::Skip)
            .cloned()
            .collect();
        for c in &shown {
            self.p().say(&format!(
                "  {} {} ({})",
                c.status.mark(),
                c.title,
                c.status.as_str()
            ));
        }
        self.p().say("");
        self.survey = report.checks.iter().map(|c| (c.id, c.status)).collect();
        self.survey_report = Some(report);
        Ok(())
    }

    /// Whether the step's own inputs are known (a step that passes but whose secret we lack must
    /// still be visited, or the hand-off would have a hole).
    fn inputs_known(&self, step: CheckId) -> bool {
        match step {
            CheckId::OauthApp => self.st.client_id.is_some() && self.st.client_secret.is_some(),
            CheckId::ServiceUser => self.st.password.is_some(),
            _ => true,
        }
    }

    fn step(&mut self, step: CheckId, n: usize, of: usize) -> Result<()> {
        let heading = steps::heading(step, self.st.path);
        let title = format!("Step {n} of {of}: {heading}");
        if self.survey.get(&step) == Some(&Status::Pass) && self.inputs_known(step) {
            self.p().say(&format!("✓ {title}: already done.\n"));
            return Ok(());
        }
        self.changed = true;
        let color = self.opts.color;
        self.p().say(&bold(color, &title));
        let instructions =
            steps::instructions(step, self.st.path, &self.st.instance, &self.st.username);
        // When the survey already found what is wrong with this step, that (with its fix) is
        // what the person needs, not the step's generic text, which stays one choice away.
        let found = self
            .survey_report
            .as_ref()
            .and_then(|r| r.check(step))
            .filter(|c| matches!(c.status, Status::Fail | Status::Warn))
            .cloned();
        match &found {
            Some(check) => {
                self.p().say("  What the check found:");
                self.p().say(&findings_text(check));
            }
            None => self.p().say(&instructions),
        }
        let admin = self.has_admin();
        loop {
            let first = match (admin, step) {
                (true, _) => "Check now",
                (false, CheckId::OauthApp | CheckId::ServiceUser) => {
                    "Done: enter the values (checked at the end)"
                }
                (false, _) => "Done: continue (checked at the end)",
            };
            let mut menu = vec![(Choice::Check, first)];
            // Writing needs the admin, and the Store app can only be installed by a person.
            if admin && self.env.fixer.is_some() && step != CheckId::App {
                menu.push((Choice::Fix, "Let snconnect do it"));
            }
            // ACL writes over REST need an elevation most sessions lack: the update set is the
            // way that works everywhere.
            if admin && self.env.fixer.is_some() && step == CheckId::TaskAcls {
                menu.push((
                    Choice::Pack,
                    "Write them as an update set file to import (elevated)",
                ));
            }
            menu.push((
                Choice::Instructions,
                if found.is_some() {
                    "Show the step's full instructions"
                } else {
                    "Show the instructions again"
                },
            ));
            menu.push((Choice::Skip, "Skip this step"));
            let items: Vec<String> = menu.iter().map(|(_, l)| l.to_string()).collect();
            let chosen = self.p().select("What next?", &items, 0)?;
            let choice = menu[chosen].0;
            match choice {
                Choice::Fix => {
                    if !self.fix(step)? {
                        continue;
                    }
                    if !self.inputs_known(step) {
                        self.step_inputs(step)?;
                    }
                    if self.check_step(step)? {
                        return Ok(());
                    }
                }
                Choice::Pack => self.write_acl_pack()?,
                Choice::Instructions => {
                    let again = instructions.clone();
                    self.p().say(&again);
                }
                Choice::Skip => {
                    self.skipped.push(step);
                    self.p().say(&format!("  - Skipped: {heading}.\n"));
                    return Ok(());
                }
                Choice::Check => {
                    self.step_inputs(step)?;
                    if !admin {
                        self.p().say("");
                        return Ok(());
                    }
                    if self.check_step(step)? {
                        return Ok(());
                    }
                }
            }
        }
    }

    /// Writes the missing task ACLs as an update set where the person says, and tells them how
    /// to import it; the step's menu then comes back for "Check now" after the import.
    fn write_acl_pack(&mut self) -> Result<()> {
        use crate::apply::acl_pack::{self, AclPack};
        let Some(fixer) = self.env.fixer.as_deref_mut() else {
            return Ok(());
        };
        let set = match fixer.acl_pack(&self.st)? {
            AclPack::Ready(set) => set,
            AclPack::NothingMissing => {
                self.p()
                    .say("  The task ACLs need nothing: no file was written.\n");
                return Ok(());
            }
            AclPack::Cannot(why) => {
                self.p().say(&format!("  No file was written: {why}.\n"));
                return Ok(());
            }
        };
        let path = self.p().input(
            "Write the update set to",
            Some(acl_pack::DEFAULT_FILE),
            &crate::ui::prompt::non_empty,
        )?;
        acl_pack::write_file(std::path::Path::new(&path), &set)?;
        self.wrote(format!("the task ACLs update set {path}"));
        let links = crate::checks::Links::new(self.st.instance.as_str());
        let text = format!(
            "  Wrote {} to {path}.\n  To import it: {}; then choose Check now.\n  Import page: {}\n",
            crate::ui::count(set.records.len(), "record", "records"),
            acl_pack::import_steps(&path, &set, &links),
            acl_pack::import_page(&links)
        );
        self.p().say(&text);
        Ok(())
    }

    /// The profile as it stands: what was saved before, with what this run knows on top.
    fn profile_now(&self) -> Profile {
        crate::flows::profile_after(self.env.dir, &self.st, self.st.client_id.as_deref())
    }

    /// "Let snconnect do it": shows what would be written for the step, asks, generates any
    /// secret that is needed and stores it before the first write (so a secret the instance
    /// uses is never lost), writes, and shows what happened. The caller checks the step again
    /// unless this returns `false`: the person declined the plan, so nothing changed and the
    /// step's menu comes back without asking for its values or spending a check on it.
    fn fix(&mut self, step: CheckId) -> Result<bool> {
        let Some(fixer) = self.env.fixer.as_deref_mut() else {
            return Ok(false);
        };
        let plan = fixer.plan(&self.st, step)?;
        if plan.steps.is_empty() {
            let text = if plan.manual.is_empty() {
                "  snconnect finds nothing to write for this step.".to_string()
            } else {
                apply_render::plan_body(&plan, false, false)
            };
            self.p().say(&text);
            return Ok(true);
        }
        let text = apply_render::plan_body(&plan, false, false);
        self.p().say(&text);
        let question = format!(
            "Make {} to {}?",
            match plan.steps.len() {
                1 => "this change".to_string(),
                n => format!("these {n} changes"),
            },
            self.st.instance.as_str()
        );
        if !self.p().confirm(&question, true)? {
            self.p().say("  Nothing was changed.\n");
            return Ok(false);
        }
        let supplied = apply::Secrets {
            client_secret: self.st.client_secret.clone(),
            password: self.st.password.clone(),
        };
        let (mut secrets, generated) = generate::fill(&plan, supplied)
            .map_err(|e| anyhow::anyhow!("{e}; nothing was changed"))?;
        let mut earlier = Vec::new();
        if !generated.is_empty() {
            let what = ToStore {
                profile: self.profile_now(),
                secrets: generated,
                remove: Vec::new(),
            };
            let stored = {
                let _critical = interrupt::critical();
                credentials::store_all(Some(self.env.store), self.env.dir, &what)?
            };
            earlier = stored.earlier.clone();
            let labels = stored.labels();
            self.wrote(format!(
                "the generated {} in {}",
                labels.join(" and the generated "),
                stored.backend
            ));
            self.wrote(format!(
                "profile '{}' in {}",
                what.profile.name,
                stored.profile_path.display()
            ));
            let msg = format!(
                "  Generated a new {} and stored it in {} before changing anything.",
                labels.join(" and a new "),
                stored.backend
            );
            self.p().say(&msg);
        }
        let Some(fixer) = self.env.fixer.as_deref_mut() else {
            return Ok(false);
        };
        let outcome = fixer.execute(&self.st, &plan, &secrets)?;
        // A generated secret no write set (the record is another run's) is put back as it was,
        // and this run keeps asking for the one the instance has.
        let unset = outcome.secrets_unused(&plan);
        if !unset.is_empty() {
            let _critical = interrupt::critical();
            credentials::transaction::put_back(
                self.env.store,
                self.env.dir,
                self.profile_now(),
                &earlier,
                &unset,
            )?;
            for kind in &unset {
                let known = match kind {
                    SecretKind::ClientSecret => self.st.client_secret.clone(),
                    _ => self.st.password.clone(),
                };
                secrets.set(*kind, known);
            }
        }
        let instance = self.st.instance.as_str().to_string();
        for result in &outcome.results {
            if matches!(
                result.outcome,
                apply::StepOutcome::Created { .. } | apply::StepOutcome::Updated { .. }
            ) {
                self.wrote(format!("on {instance}: {}", result.summary));
            }
        }
        if step == CheckId::OauthApp || self.st.client_id.is_none() {
            let Some(fixer) = self.env.fixer.as_deref_mut() else {
                return Ok(false);
            };
            if let Some(id) = fixer.client_id(&self.st)? {
                let known = self.st.client_id.as_deref() == Some(id.as_str());
                self.st.client_id = Some(id.clone());
                // Kept at once, so a run stopped after this resumes with the entry just made.
                if !known {
                    let what = ToStore {
                        profile: self.profile_now(),
                        secrets: Vec::new(),
                        remove: Vec::new(),
                    };
                    let stored = credentials::store_all(None, self.env.dir, &what)?;
                    self.wrote(format!(
                        "client id {id} in profile '{}' ({})",
                        what.profile.name,
                        stored.profile_path.display()
                    ));
                }
            }
        }
        self.st.client_secret = secrets.client_secret;
        self.st.password = secrets.password;
        // Where generated secrets went was said above, before the writes.
        let mut report = apply_render::SecretsReport {
            profile: self.st.profile.clone(),
            earlier,
            ..apply_render::SecretsReport::default()
        };
        report.mark_put_back(&unset);
        let text = apply_render::outcome_body(&outcome, &report);
        self.p().say(&text);
        Ok(true)
    }

    /// Asks for what a step produces: the OAuth client's id and secret, the user's name and
    /// password. Known values are defaults; Enter keeps them.
    fn step_inputs(&mut self, step: CheckId) -> Result<()> {
        match step {
            CheckId::OauthApp => {
                let default = self.st.client_id.clone();
                let id = self
                    .p()
                    .input("OAuth client ID", default.as_deref(), &non_empty)?;
                self.st.client_id = Some(id);
                self.st.client_secret =
                    self.ask_secret("OAuth client secret", self.st.client_secret.clone())?;
            }
            CheckId::ServiceUser => {
                let default = self.st.username.clone();
                self.st.username =
                    self.p()
                        .input("Service user name", Some(&default), &non_empty)?;
                self.st.password =
                    self.ask_secret("Service user password", self.st.password.clone())?;
            }
            _ => {}
        }
        Ok(())
    }

    /// A hidden answer that may keep a known value; asks again while there is none.
    fn ask_secret(
        &mut self,
        label: &str,
        known: Option<SecretString>,
    ) -> Result<Option<SecretString>> {
        loop {
            let prompt = if known.is_some() {
                format!("{label} (Enter keeps the one you gave before)")
            } else {
                label.to_string()
            };
            match (self.p().secret(&prompt)?, &known) {
                (Some(v), _) => return Ok(Some(v)),
                (None, Some(k)) => return Ok(Some(k.clone())),
                (None, None) => self.p().say(&format!(
                    "  The {} is needed to connect: copy it from ServiceNow.",
                    label.to_lowercase()
                )),
            }
        }
    }

    /// Checks one step; `true` when the step is done (passed, or warnings accepted).
    fn check_step(&mut self, step: CheckId) -> Result<bool> {
        self.p().say("  Checking ...");
        let report = self.check(&[step])?;
        if report.cannot_run() {
            if let Some(c) = instance_result(&report).cloned() {
                self.p().say(&findings_text(&c));
            }
            self.p()
                .say("  The instance could not be used for the check; try again when it answers.");
            return Ok(false);
        }
        let Some(result) = report.check(step).cloned() else {
            return Ok(false);
        };
        match result.status {
            Status::Pass => {
                let notes = findings_text(&result);
                self.p().say(&passed_line(step, &result.title));
                if !notes.is_empty() {
                    self.p().say(notes.trim_end());
                }
                self.p().say("");
                Ok(true)
            }
            Status::Warn => {
                self.p()
                    .say(&format!("  ! {} works, with warnings:", result.title));
                self.p().say(&findings_text(&result));
                self.p()
                    .confirm("Continue with these warnings?", true)
                    .map_err(Into::into)
            }
            Status::Fail | Status::Skip => {
                self.p().say(&format!(
                    "  {} {} does not pass yet:",
                    result.status.mark(),
                    result.title
                ));
                self.p().say(&findings_text(&result));
                Ok(false)
            }
        }
    }

    /// The last step: a token as incident.io will get it. Returns the run's report.
    fn connect(&mut self, n: usize) -> Result<Report> {
        let heading = steps::heading(CheckId::Connect, self.st.path);
        let color = self.opts.color;
        self.p()
            .say(&bold(color, &format!("Step {n} of {n}: {heading}")));
        let text = steps::instructions(
            CheckId::Connect,
            self.st.path,
            &self.st.instance,
            &self.st.username,
        );
        self.p().say(&text);
        if self.st.client_id.is_none() || self.st.client_secret.is_none() {
            self.step_inputs(CheckId::OauthApp)?;
        }
        if self.st.password.is_none() {
            self.step_inputs(CheckId::ServiceUser)?;
        }
        loop {
            self.p().say("  Connecting ...");
            let only: &[CheckId] = if self.has_admin() {
                &[]
            } else {
                &[CheckId::Connect]
            };
            let report = self.check(only)?;
            if report.cannot_run() {
                if let Some(c) = instance_result(&report).cloned() {
                    self.p().say(&findings_text(&c));
                }
                let items = vec!["Try again".to_string(), "Finish without it".to_string()];
                if self
                    .p()
                    .select("The instance cannot be used. What next?", &items, 0)?
                    == 0
                {
                    continue;
                }
                return Ok(report);
            }
            let Some(result) = report.check(CheckId::Connect).cloned() else {
                return Ok(report);
            };
            if matches!(result.status, Status::Pass | Status::Warn) {
                self.p().say(
                    "  ✓ incident.io's credentials work: the instance issued a token and the \
                     tables incident.io uses could be read.",
                );
                if result.status == Status::Warn {
                    self.p().say(&findings_text(&result));
                }
                self.p().say("");
                return Ok(report);
            }
            self.p().say(&format!(
                "  {} The connection does not work yet:",
                result.status.mark()
            ));
            self.p().say(&findings_text(&result));
            let warning = format!(
                "  Each failed attempt counts as a failed login for '{}', and ServiceNow locks \
                 the user after a few: fix what is listed before checking again.",
                self.st.username
            );
            self.p().say(&warning);
            let items: Vec<String> = [
                "Check again",
                "Enter the OAuth client ID and secret again",
                "Enter the service user name and password again",
                "Finish without a working connection",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect();
            match self.p().select("What next?", &items, 0)? {
                0 => {}
                1 => self.step_inputs(CheckId::OauthApp)?,
                2 => self.step_inputs(CheckId::ServiceUser)?,
                _ => return Ok(report),
            }
        }
    }

    /// Stores the profile and its secrets, all or nothing. `None` when the person chose not to.
    fn store(&mut self, report: &Report) -> Result<Option<Stored>> {
        let connected = report
            .check(CheckId::Connect)
            .is_some_and(|c| matches!(c.status, Status::Pass | Status::Warn));
        if !connected {
            self.p()
                .say("  The connection was not proven; the values can still be kept for later.");
        }
        if !connected && !self.p().confirm("Store these values anyway?", false)? {
            self.p().say("  Nothing was stored.\n");
            return Ok(None);
        }
        let was_stored = self.admin_was_stored;
        let offer =
            matches!(self.st.admin, AdminAuth::Basic { .. }) && (self.admin_typed || was_stored);
        if offer {
            self.p().say(
                "  incident.io does not need the admin password; snconnect can keep it to check \
                 and repair the setup on later runs.",
            );
        }
        let keep_admin = offer
            && self
                .p()
                .confirm("Also keep the admin password for later runs?", was_stored)?;
        let mut profile = self.profile_now();
        let mut secrets = Vec::new();
        if let Some(s) = &self.st.client_secret {
            secrets.push((SecretKind::ClientSecret, s.clone()));
        }
        if let Some(s) = &self.st.password {
            secrets.push((SecretKind::Password, s.clone()));
        }
        let mut remove = Vec::new();
        match (&self.st.admin, keep_admin) {
            (AdminAuth::Basic { user, password }, true) => {
                profile.admin_user = Some(user.clone());
                secrets.push((SecretKind::AdminPassword, password.clone()));
            }
            // Declined when offered: the earlier stored one goes too, as the person asked.
            _ if offer => {
                profile.admin_user = None;
                if was_stored {
                    remove.push(SecretKind::AdminPassword);
                }
            }
            _ => {}
        }
        let what = ToStore {
            profile,
            secrets,
            remove,
        };
        let stored = {
            let _critical = interrupt::critical();
            credentials::store_all(Some(self.env.store), self.env.dir, &what)?
        };
        interrupt::set_message("the credentials had already been stored");
        let kinds = stored.labels();
        let msg = format!(
            "  Stored {} in {} and the profile '{}' in {}.\n",
            match kinds.as_slice() {
                [] => "no secrets".to_string(),
                [one] => format!("the {one}"),
                [rest @ .., last] => format!("the {} and the {last}", rest.join(", the ")),
            },
            stored.backend,
            self.st.profile,
            stored.profile_path.display()
        );
        self.p().say(&msg);
        Ok(Some(stored))
    }

    fn hand_off(&mut self, report: &Report, stored: Option<&Stored>) {
        let color = self.opts.color;
        self.p().say(&bold(color, "Connect incident.io"));
        let text = handoff::render(&Handoff {
            instance: &self.st.instance,
            profile: &self.st.profile,
            client_id: self.st.client_id.as_deref(),
            client_secret: self.st.client_secret.as_ref(),
            username: &self.st.username,
            password: self.st.password.as_ref(),
            reveal: self.opts.reveal,
            stored: stored.is_some(),
        });
        self.p().say(&text);
        if !self.skipped.is_empty() {
            let names: Vec<&str> = self
                .skipped
                .iter()
                .map(|s| steps::heading(*s, self.st.path))
                .collect();
            let msg = format!(
                "Skipped: {}. Run `snconnect setup --profile {}` again to come back to them.",
                names.join("; "),
                self.st.profile
            );
            self.p().say(&msg);
        }
        let connected = report
            .check(CheckId::Connect)
            .is_some_and(|c| matches!(c.status, Status::Pass | Status::Warn));
        if !connected {
            let msg = format!(
                "The connection has not been proven yet: `snconnect verify --profile {}` checks \
                 everything again.",
                self.st.profile
            );
            self.p().say(&msg);
        }
    }
}
