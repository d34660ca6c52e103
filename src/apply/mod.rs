//! `apply`: a plan of record writes from the checks' findings, and its idempotent execution.
