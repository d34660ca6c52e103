//! The seven checks of the contract. Each fetches facts, then a pure `evaluate` turns them into findings.
