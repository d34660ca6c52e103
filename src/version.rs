//! The version string shown by `--version`: the crate version and the commit it was built from.

/// `0.1.0 (abc1234)` when built from a git checkout, `0.1.0` otherwise; set by `build.rs`.
pub const LONG_VERSION: &str = env!("SNCONNECT_VERSION_LINE");
