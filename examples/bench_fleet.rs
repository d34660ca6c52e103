//! Benchmark: fleet verify (issue 18). N simulated instances, each answering every request after
//! a fixed latency, checked in one fleet run, against one instance checked alone.
//!
//! Run with `cargo run --release --example bench_fleet -- [INSTANCES] [LATENCY_MS] [CAP]`
//! (defaults: 100 instances, 200 ms, a cap of 1024 requests in flight, verify's default). Prints
//! the wall time of one instance alone, of the fleet, and their ratio: the target is a fleet in
//! about the time of one instance (ratio <= 1.5). A lower cap trades time for load, and the
//! ratio shows by how much. The simulated instances share the benchmark's cores with the
//! client, so at low latency the ratio measures this machine's CPU more than the fleet.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use snconnect::commands::fleet::{self, Prepared};
use snconnect::commands::{demo, verify};
use snconnect::model::SetupPath;
use snconnect::sandbox::{Sandbox, SandboxConfig};
use snconnect::servicenow::{Client, ClientOptions};

fn prepared(
    sandbox: &Sandbox,
    order: usize,
    cap: &Arc<tokio::sync::Semaphore>,
) -> Result<Prepared> {
    let inputs = demo::fixture_inputs(&sandbox.url(), SetupPath::App)?;
    let options = ClientOptions {
        in_flight: Some(cap.clone()),
        ..ClientOptions::default()
    };
    Ok(Prepared {
        order,
        profile: format!("instance-{order}"),
        path: SetupPath::App,
        client: Client::new(&inputs.instance, &options)?,
        plan: verify::plan(&inputs, &[], Duration::from_secs(30)),
    })
}

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(100);
    let latency_ms: u64 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(200);
    let cap_n: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(1024);
    if n == 0 || cap_n == 0 {
        bail!("INSTANCES and CAP must be at least 1");
    }
    let latency = Duration::from_millis(latency_ms);
    let sandboxes: Vec<Sandbox> = (0..n)
        .map(|_| {
            Sandbox::start(SandboxConfig {
                latency,
                ..SandboxConfig::scenario("healthy-app")
            })
        })
        .collect::<Result<_>>()?;
    let rt = verify::runtime()?;
    let cap = Arc::new(tokio::sync::Semaphore::new(cap_n));

    let started = Instant::now();
    let alone = fleet::execute(&rt, vec![prepared(&sandboxes[0], 0, &cap)?], false);
    let one = started.elapsed();

    let members = sandboxes
        .iter()
        .enumerate()
        .map(|(i, s)| prepared(s, i, &cap))
        .collect::<Result<Vec<_>>>()?;
    let started = Instant::now();
    let runs = fleet::execute(&rt, members, false);
    let all = started.elapsed();
    let ready = runs
        .iter()
        .filter(|(_, r)| r.exit() == snconnect::exit::Exit::Ok)
        .count();
    if ready != n || alone[0].1.exit() != snconnect::exit::Exit::Ok {
        bail!("{ready} of {n} instances passed: the benchmark would measure the wrong thing");
    }
    let slowest = runs
        .iter()
        .map(|(_, r)| r.elapsed)
        .max()
        .unwrap_or_default();
    let requests: usize = sandboxes.iter().map(|s| s.requests().len()).sum();
    println!("instances:              {n}");
    println!("latency per request:    {latency_ms} ms");
    println!("cap on requests at once: {cap_n}");
    println!(
        "one instance alone:     {:.1} ms",
        one.as_secs_f64() * 1000.0
    );
    println!(
        "slowest in the fleet:   {:.1} ms",
        slowest.as_secs_f64() * 1000.0
    );
    println!(
        "the whole fleet:        {:.1} ms",
        all.as_secs_f64() * 1000.0
    );
    println!("requests, all told:     {requests}");
    println!(
        "ratio fleet / alone:    {:.2} (target <= 1.5)",
        all.as_secs_f64() / one.as_secs_f64()
    );
    Ok(())
}
