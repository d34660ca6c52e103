//! Terminal interaction: prompts behind a trait, progress, colour, and Ctrl-C.

pub mod colour;
pub mod interrupt;
pub mod progress;
pub mod prompt;
pub use crate::report::wrap;

pub use crate::model::count;
