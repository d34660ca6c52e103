//! `apply`: a plan of record writes from what the checks read, and its idempotent execution.
//!
//! - the plan is made from [`crate::facts::Facts`], the same facts verify judges;
//! - [`plan`] turns that into steps — pure, so every decision is unit-tested;
//! - [`manual`] writes up what only a person can do (the Store app, ACLs the platform refuses);
//! - [`secrets`] generates the client secret and password when none was supplied;
//! - [`execute`] runs a plan: dependency order, independent writes together, a lookup by natural
//!   key before every insert, never a delete;
//! - [`render`] shows a plan and its outcome to people (human) and programs (JSON).
//!
//! The setup wizard uses the same pieces for one step at a time: [`plan_for`] and
//! [`execute::execute`].

pub mod acl_pack;
pub mod execute;
pub mod manual;
pub mod plan;
pub mod render;
pub mod secrets;

pub use crate::facts::Facts as State;
pub use execute::{execute, Outcome, Secrets, StepOutcome, StepResult};
pub use manual::ManualStep;
pub use plan::{plan, Action, Plan, PlanInputs, SecretSource, Step, Value};

use crate::model::CheckId;

/// The part of the plan that makes one check pass, with the steps it depends on: what the setup
/// wizard's "let snconnect do it" runs for that step.
pub fn plan_for(check: CheckId, state: &State, inputs: &PlanInputs) -> Plan {
    plan::plan(state, inputs).only(check)
}
