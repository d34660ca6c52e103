//! The one integration-test binary: the real `snconnect` binary and library driven against the
//! in-process sandbox and local fault, TLS and proxy servers. One binary links once; each file
//! below is a module named for what it covers. Shared helpers live in `support/`.

mod support;

mod acl_pack;
mod action;
mod apply_cli;
mod apply_confirm;
mod apply_executor;
mod apply_keyring;
mod bounds;
mod cli;
mod client_http;
mod client_sandbox;
mod client_tls;
mod consistency;
mod credentials_cli;
mod credentials_fail_closed;
mod credentials_keyring;
mod fault_matrix;
mod fleet;
mod generated_files;
mod honest_exits;
mod hostile_text;
mod lockout_safety;
mod metrics;
mod notify;
mod posture;
mod properties;
mod pysnc;
mod readme;
mod report_formats;
mod report_screens;
mod sandbox_cli;
mod sandbox_client;
mod sandbox_http;
mod schema;
mod secret_hygiene;
mod setup_pty;
mod setup_unattended;
mod tls_proxy;
mod verify_demo;
mod verify_e2e;
mod verify_pty;
