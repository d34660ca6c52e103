//! `snconnect setup`: the guided wizard and the unattended run, and what they share.
//!
//! - [`steps`]: the steps in order and their instructions;
//! - [`wizard`]: the interactive flow;
//! - `credentials::transaction`: writing the profile and its secrets all together or not at all;
//! - [`handoff`]: the values to enter in incident.io.
//!
//! Checks run through the [`Checker`] trait so the wizard can be unit-tested with a scripted
//! prompter against the in-process sandbox, exactly as the binary runs them.

use anyhow::Result;

use crate::apply;
use crate::flows::apply as apply_cmd;
use crate::flows::{self, verify};
use crate::inputs::Inputs;
use crate::model::CheckId;
use crate::report::Report;
use crate::servicenow::Client;
use crate::servicenow::ClientOptions;
use crate::ui::progress::Spinner;

pub mod handoff;
pub mod steps;
pub mod wizard;

#[cfg(test)]
mod wizard_tests;

/// Runs checks with what the caller knows so far.
pub trait Checker {
    /// Runs `only` (every check when empty) and returns the report.
    fn check(&mut self, inputs: &Inputs, only: &[CheckId]) -> Result<Report>;
}

/// Makes a step pass by writing to the instance: the wizard's "let snconnect do it".
pub trait Fixer {
    /// What snconnect would write to make `step` pass, with the writes it depends on.
    fn plan(&mut self, inputs: &Inputs, step: CheckId) -> Result<apply::Plan>;
    /// Writes `plan` as the admin. Each write's outcome is in the result; this fails only when
    /// the instance cannot be used at all.
    fn execute(
        &mut self,
        inputs: &Inputs,
        plan: &apply::Plan,
        secrets: &apply::Secrets,
    ) -> Result<apply::Outcome>;
    /// The client id of the active `incident.io` OAuth entry (after snconnect created one, the
    /// instance chose it).
    fn client_id(&mut self, inputs: &Inputs) -> Result<Option<String>>;
    /// The task ACLs the plan would write, as an update set to import.
    fn acl_pack(&mut self, inputs: &Inputs) -> Result<apply::acl_pack::AclPack>;
}

/// The real checks: the same path as `snconnect verify`, on one client per instance.
pub struct LiveChecker {
    options: ClientOptions,
    timeout: std::time::Duration,
    runtime: tokio::runtime::Runtime,
    client: Option<Client>,
    /// Draw a spinner on stderr while waiting (interactive runs on a terminal).
    spinner: bool,
}

impl LiveChecker {
    pub fn new(options: ClientOptions, spinner: bool) -> Result<LiveChecker> {
        Ok(LiveChecker {
            timeout: options.timeout,
            options,
            runtime: verify::runtime()?,
            client: None,
            spinner,
        })
    }

    /// A spinner on stderr while waiting, when this run draws one and stderr is a terminal.
    fn spinner(&self, message: &str) -> Spinner {
        Spinner::start_if(self.spinner && console::Term::stderr().is_term(), message)
    }

    fn client(&mut self, inputs: &Inputs) -> Result<Client> {
        match &self.client {
            Some(c) if c.instance().as_str() == inputs.instance.as_str() => Ok(c.clone()),
            _ => {
                let c = flows::build_client(inputs, &self.options)?;
                self.client = Some(c.clone());
                Ok(c)
            }
        }
    }
}

impl Checker for LiveChecker {
    fn check(&mut self, inputs: &Inputs, only: &[CheckId]) -> Result<Report> {
        let client = self.client(inputs)?;
        let mut plan = verify::plan(inputs, only, self.timeout);
        // The wizard's checks spend login attempts too: the same memory guards them.
        plan.refusals = crate::credentials::Refusals::resolve();
        let _spinner = self.spinner(&format!("checking {}", inputs.instance.as_str()));
        Ok(self.runtime.block_on(verify::verify(&client, &plan, false)))
    }
}

impl Fixer for LiveChecker {
    fn plan(&mut self, inputs: &Inputs, step: CheckId) -> Result<apply::Plan> {
        let client = self.client(inputs)?;
        let _spinner = self.spinner(&format!("reading {}", inputs.instance.as_str()));
        let state = self
            .runtime
            .block_on(apply_cmd::read_state(&client, inputs, self.timeout))?;
        Ok(apply::plan_for(
            step,
            &state,
            &apply_cmd::plan_inputs(inputs, None),
        ))
    }

    fn execute(
        &mut self,
        inputs: &Inputs,
        plan: &apply::Plan,
        secrets: &apply::Secrets,
    ) -> Result<apply::Outcome> {
        let client = self.client(inputs)?;
        let session = apply_cmd::admin_session(&client, inputs)?;
        let _spinner = self.spinner(&format!("writing to {}", inputs.instance.as_str()));
        let log = |_: &str| {};
        Ok(self
            .runtime
            .block_on(apply::execute(&session, plan, secrets, &log)))
    }

    fn acl_pack(&mut self, inputs: &Inputs) -> Result<apply::acl_pack::AclPack> {
        let client = self.client(inputs)?;
        let _spinner = self.spinner(&format!("reading {}", inputs.instance.as_str()));
        let state = self
            .runtime
            .block_on(apply_cmd::read_state(&client, inputs, self.timeout))?;
        let plan = apply::plan_for(
            CheckId::TaskAcls,
            &state,
            &apply_cmd::plan_inputs(inputs, None),
        );
        Ok(apply::acl_pack::build(
            &plan,
            &state,
            inputs.instance.host(),
        ))
    }

    fn client_id(&mut self, inputs: &Inputs) -> Result<Option<String>> {
        let client = self.client(inputs)?;
        Ok(self
            .runtime
            .block_on(apply_cmd::active_client_id(&client, inputs, self.timeout))?)
    }
}
