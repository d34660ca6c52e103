//! `snconnect sandbox`: serves the simulated instance on 127.0.0.1 until Ctrl-C, for rehearsing
//! the setup and for scripts' own tests.

use std::io::Write;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::cli::SandboxArgs;
use crate::exit::{Exit, UserError};
use crate::sandbox::{fixtures, scenario_names, serve, Faults, SandboxConfig};

/// What the command needs, resolved from the flags.
pub struct SandboxOptions {
    pub config: SandboxConfig,
    pub list_scenarios: bool,
}

impl SandboxOptions {
    pub fn from_args(args: &SandboxArgs) -> SandboxOptions {
        let defaults = SandboxConfig::default();
        SandboxOptions {
            config: SandboxConfig {
                scenario: args.scenario.clone(),
                allow_acl_insert: args.allow_acl_insert,
                lockout_threshold: args.lockout_threshold.unwrap_or(defaults.lockout_threshold),
                latency: Duration::from_millis(args.latency_ms),
                port: args.port,
                faults: Faults {
                    rate_limit_next: args.rate_limit,
                    server_errors_next: args.server_errors,
                    server_error_status: args.server_error_status,
                    ..Faults::default()
                },
                ..defaults
            },
            list_scenarios: args.list_scenarios,
        }
    }
}

pub fn run(args: &SandboxArgs) -> Result<Exit> {
    run_with(SandboxOptions::from_args(args))
}

/// The scenario list, one `name  description` line each, names aligned.
pub fn scenario_list() -> String {
    let names = scenario_names();
    let width = names.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    names
        .iter()
        .map(|(name, description)| format!("{name:width$}  {description}\n"))
        .collect()
}

pub fn run_with(options: SandboxOptions) -> Result<Exit> {
    if options.list_scenarios {
        let mut out = std::io::stdout().lock();
        // A closed pipe (`| head`) is not an error worth reporting.
        let _ = out.write_all(scenario_list().as_bytes());
        return Ok(Exit::Ok);
    }
    // clap has checked the scenario name (`cli::scenario_names`).
    let config = options.config;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", config.port))
            .await
            .map_err(|e| {
                UserError::cannot_run(format!(
                    "cannot listen on 127.0.0.1:{}: {e}. Choose another port with --port, or --port 0 for any free one",
                    config.port
                ))
            })?;
        let url = format!("http://{}", listener.local_addr()?);
        announce(&url, &config);
        tokio::select! {
            served = serve(listener, config) => served.map(|()| Exit::Ok),
            _ = tokio::signal::ctrl_c() => {
                eprintln!("snconnect sandbox: stopped");
                Ok(Exit::Ok)
            }
        }
    })
}

/// Tells the user where the sandbox is and how to point snconnect at it. The credentials are the
/// sandbox's fixed fixtures, valid nowhere else, so printing them is the point.
fn announce(url: &str, config: &SandboxConfig) {
    let lines = [
        format!(
            "snconnect sandbox: scenario '{}' serving on {url}",
            config.scenario
        ),
        "Sandbox fixture credentials (valid only for this simulated instance); paste to use them:"
            .to_string(),
        format!("export SNCONNECT_INSTANCE={url}"),
        format!("export SNCONNECT_ADMIN_USER={}", fixtures::ADMIN_USER),
        format!(
            "export SNCONNECT_ADMIN_PASSWORD={}",
            fixtures::ADMIN_PASSWORD
        ),
        format!("export SNCONNECT_CLIENT_ID={}", fixtures::CLIENT_ID),
        format!("export SNCONNECT_CLIENT_SECRET={}", fixtures::CLIENT_SECRET),
        format!("export SNCONNECT_USERNAME={}", fixtures::SERVICE_USER),
        format!("export SNCONNECT_PASSWORD={}", fixtures::SERVICE_PASSWORD),
        format!("Request log as JSON: {url}/__sandbox/requests; faults: GET or POST {url}/__sandbox/faults"),
        "Press Ctrl-C to stop.".to_string(),
    ];
    let mut err = std::io::stderr().lock();
    for line in lines {
        let _ = writeln!(err, "{line}");
    }
    let _ = err.flush();
}
