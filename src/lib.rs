//! snconnect: gets a ServiceNow instance ready for the incident.io integration and proves it is ready.
//!
//! Data flows one way: inputs → facts → findings → report / plan → actions.
//!
//! - [`model`] is the domain's vocabulary (check ids, paths, statuses, finding codes).
//! - [`cli`] holds the clap types only, mapped onto [`model`]; [`commands`] has one file per command.
//! - [`inputs`] are a run's inputs, resolved once by `commands::inputs`; [`flows`] are verify
//!   and apply as the commands and the wizard share them.
//! - [`instance`] normalises what the user types as an instance into `https://host`;
//!   [`localfile`] reads the local files it is pointed at, bounded.
//! - [`servicenow`] is a REST client that knows nothing about incident.io.
//! - [`requirements`] is what incident.io needs, as data.
//! - [`facts`] gathers what the instance holds, once; [`checks`] judges those facts into
//!   findings; [`report`] renders them.
//! - [`apply`] turns findings into a plan of record writes and executes it.
//! - [`credentials`] stores secrets in the OS keyring (or, when asked, a 0600 file).
//! - [`setup`] is the guided wizard and the unattended setup.
//! - [`ui`] holds prompts, progress and colour; [`sandbox`] is the simulated instance.

pub mod apply;
pub mod checks;
pub mod cli;
pub mod commands;
pub mod credentials;
pub mod exit;
pub mod facts;
pub mod flows;
pub mod inputs;
pub mod instance;
pub mod localfile;
pub mod model;
pub mod notify;
pub mod report;
pub mod requirements;
pub mod sandbox;
pub mod servicenow;
pub mod setup;
pub mod text;
pub mod ui;
pub mod updateset;
pub mod version;
