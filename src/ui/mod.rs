//! Terminal interaction: prompts behind a trait, progress, colour.

pub mod colour;
pub mod progress;
