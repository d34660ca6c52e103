//! The simulated ServiceNow instance served by `snconnect sandbox` and used by the tests.
//!
//! It is built from what is known about real instances (the facts sheet), not from what our own
//! client happens to send, so that tests against it mean something: the Table API's envelopes,
//! headers and quirks, an encoded-query engine, role-based read visibility with ACL-blind counts,
//! the token endpoint's single opaque failure, lockout after failed logins, and injectable faults.
//!
//! - [`db`] holds the tables and the platform rules that belong to data;
//! - [`query`] is the encoded-query engine;
//! - [`auth`] authenticates callers and runs the token endpoint;
//! - [`access`] decides what a caller may read and write;
//! - [`faults`] injects hibernation, login pages, 429s and 5xx;
//! - [`scenarios`] names the starting states;
//! - [`server`] is the HTTP layer.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{anyhow, Context, Result};

pub mod access;
pub mod auth;
pub mod db;
pub mod faults;
pub mod import;
pub mod query;
pub mod scenarios;
mod schema;
pub mod server;

#[cfg(test)]
mod tests;

pub use db::{Db, DbError, Row};
pub use faults::{Faults, Hibernation};
pub use server::LoggedRequest;

use server::Shared;

/// The fixture credentials every scenario shares. They are sandbox fixtures, printed on purpose
/// by `snconnect sandbox`; they exist nowhere but in the simulated instance.
pub mod fixtures {
    pub const ADMIN_USER: &str = "admin";
    pub const ADMIN_PASSWORD: &str = "sandbox-admin-password";
    pub const SERVICE_USER: &str = "incident.io";
    pub const SERVICE_PASSWORD: &str = "sandbox-service-password";
    pub const CLIENT_ID: &str = "5f0c6e7a2b3d4c1e9a8b7c6d5e4f3a21";
    pub const CLIENT_SECRET: &str = "sandbox-client-secret";
}

/// How to start a sandbox.
#[derive(Clone, Debug)]
pub struct SandboxConfig {
    /// A name from [`scenario_names`].
    pub scenario: String,
    /// Let REST inserts into `sys_security_acl` succeed (real instances refuse them).
    pub allow_acl_insert: bool,
    /// Failed logins before an account is locked out.
    pub lockout_threshold: u32,
    /// Added to every request.
    pub latency: Duration,
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Faults active from the start (scenarios may add their own).
    pub faults: Faults,
    /// Requests served at once (the rest wait), as a one-node instance's inbound REST semaphore
    /// of about 4 threads does; `None` serves every request at once.
    pub served_at_once: Option<usize>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            scenario: "healthy-app".to_string(),
            allow_acl_insert: false,
            lockout_threshold: 5,
            latency: Duration::ZERO,
            port: 0,
            faults: Faults::default(),
            served_at_once: None,
        }
    }
}

impl SandboxConfig {
    /// The defaults, with another scenario.
    pub fn scenario(name: &str) -> SandboxConfig {
        SandboxConfig {
            scenario: name.to_string(),
            ..SandboxConfig::default()
        }
    }
}

/// Every scenario's name and a one-line description.
pub fn scenario_names() -> Vec<(&'static str, &'static str)> {
    scenarios::names()
}

/// The state a config starts from. Fails for an unknown scenario, naming the known ones.
pub fn build_db(config: &SandboxConfig) -> Result<Db> {
    let mut db = Db::new();
    db.allow_acl_insert = config.allow_acl_insert;
    db.lockout_threshold = config.lockout_threshold;
    // A threshold other than the platform's default is configured, as on a real instance, in
    // the property the client reads; the default stays unset, as on most instances.
    if config.lockout_threshold != 5 {
        db.set_property(db::LOCKOUT_PROPERTY, &config.lockout_threshold.to_string());
    }
    db.latency = config.latency;
    let mut db = match scenarios::build(&config.scenario, db) {
        Some(built) => built
            .with_context(|| format!("building sandbox scenario '{}' failed", config.scenario))?,
        None => {
            let names: Vec<&str> = scenario_names().into_iter().map(|(n, _)| n).collect();
            return Err(anyhow!(
                "unknown sandbox scenario '{}'; known scenarios: {}",
                config.scenario,
                names.join(", ")
            ));
        }
    };
    let scenario_faults = std::mem::take(&mut db.faults);
    db.faults = merge_faults(scenario_faults, config.faults.clone());
    Ok(db)
}

/// The scenario's faults, with anything the config turns on added.
fn merge_faults(scenario: Faults, config: Faults) -> Faults {
    Faults {
        hibernating: config.hibernating.or(scenario.hibernating),
        login_page: config.login_page || scenario.login_page,
        rate_limit_next: config.rate_limit_next.max(scenario.rate_limit_next),
        rate_limit_retry_after: config.rate_limit_retry_after && scenario.rate_limit_retry_after,
        server_errors_next: config.server_errors_next.max(scenario.server_errors_next),
        server_error_status: if config.server_errors_next > 0 {
            config.server_error_status
        } else {
            scenario.server_error_status
        },
        raced_inserts: [scenario.raced_inserts, config.raced_inserts].concat(),
    }
}

/// A running sandbox on 127.0.0.1, on its own thread and tokio runtime. Dropping it stops it.
pub struct Sandbox {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Sandbox {
    /// Builds the scenario, binds the port and starts serving; returns once connections are
    /// accepted (the listener is bound before this returns).
    pub fn start(config: SandboxConfig) -> Result<Sandbox> {
        let db = build_db(&config)?;
        let mut shared = Shared::new(db);
        shared.served_at_once = config
            .served_at_once
            .map(|n| Arc::new(tokio::sync::Semaphore::new(n.max(1))));
        let shared = Arc::new(shared);
        let listener = std::net::TcpListener::bind(("127.0.0.1", config.port))
            .with_context(|| format!("cannot listen on 127.0.0.1:{}", config.port))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the sandbox's runtime")?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = server::router(shared.clone());
        let thread = std::thread::Builder::new()
            .name(format!("sandbox-{}", addr.port()))
            .spawn(move || {
                runtime.block_on(async move {
                    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                        return;
                    };
                    tokio::select! {
                        _ = axum::serve(listener, app) => {}
                        _ = stopped => {}
                    }
                });
                // Dropping the runtime here cancels every connection task still open.
            })
            .context("cannot start the sandbox's thread")?;
        Ok(Sandbox {
            shared,
            addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`, with no trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Every request served so far (control endpoints excluded), oldest first.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.shared.log().clone()
    }

    /// Forgets the request log and the in-flight peak, e.g. between two phases of a test.
    pub fn clear_requests(&self) {
        self.shared.log().clear();
        self.shared.max_in_flight.store(0, Ordering::SeqCst);
    }

    /// The largest number of requests that were being handled at the same moment.
    pub fn max_in_flight(&self) -> usize {
        self.shared.max_in_flight.load(Ordering::SeqCst)
    }

    /// Runs `f` on the live state, between requests: for tests that change the instance by hand
    /// or flip faults.
    pub fn with_db<R>(&self, f: impl FnOnce(&mut Db) -> R) -> R {
        f(&mut self.shared.db())
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Serves a sandbox on an already-bound listener until the future is dropped or the server fails.
pub async fn serve(listener: tokio::net::TcpListener, config: SandboxConfig) -> Result<()> {
    let db = build_db(&config)?;
    let shared = Arc::new(Shared::new(db));
    axum::serve(listener, server::router(shared))
        .await
        .context("the sandbox server stopped")
}
