//! Credential storage: a store trait, the OS keyring backend, an opt-in plain-file backend, and the
//! profile's non-secret configuration.
