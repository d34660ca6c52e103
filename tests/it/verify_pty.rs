//! `snconnect verify` on a terminal asks for a missing credential (hidden) and then runs; without a
//! terminal it never asks. A prompt that never returns is the failure this pins down: resolving
//! inputs once held stdin locked while the prompt read from it.

#![cfg(unix)]

use snconnect::sandbox::{fixtures, Sandbox, SandboxConfig};

use crate::support::pty;
use pty::Pty;

#[test]
fn on_a_terminal_verify_asks_for_missing_secrets_and_then_runs() {
    let sandbox = Sandbox::start(SandboxConfig::scenario("healthy-app")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = sandbox.url();
    let mut p = Pty::spawn(
        dir.path(),
        &[
            "verify",
            "--color",
            "never",
            "--instance",
            &url,
            "--admin-user",
            fixtures::ADMIN_USER,
            "--client-id",
            fixtures::CLIENT_ID,
        ],
    );
    p.secret("admin password", fixtures::ADMIN_PASSWORD);
    p.secret("client secret", fixtures::CLIENT_SECRET);
    p.secret("password", fixtures::SERVICE_PASSWORD);
    p.expect("8 passed, 0 warned, 0 failed, 0 skipped");
    assert_eq!(p.finish(), 0);
    p.assert_absent(&[
        fixtures::ADMIN_PASSWORD,
        fixtures::CLIENT_SECRET,
        fixtures::SERVICE_PASSWORD,
    ]);
}

#[test]
fn with_no_input_verify_never_asks_even_on_a_terminal() {
    let sandbox = Sandbox::start(SandboxConfig::scenario("healthy-app")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = sandbox.url();
    let mut p = Pty::spawn(
        dir.path(),
        &[
            "verify",
            "--no-input",
            "--color",
            "never",
            "--instance",
            &url,
        ],
    );
    p.expect("skipped");
    assert_eq!(p.finish(), 0);
    assert!(!p.text().contains("password (leave empty"), "{}", p.text());
}
