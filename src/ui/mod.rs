//! Terminal interaction: prompts behind a trait, progress, colour.
