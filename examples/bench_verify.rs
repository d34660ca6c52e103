//! Benchmark: a full `verify` against the simulated instance with latency added to every request.
//!
//! Run with `cargo run --example bench_verify -- [RUNS] [LATENCY_MS]` (defaults: 9 runs, 100 ms).
//! Prints the median wall time, the requests per run, the most requests in flight at once, and the
//! ratio of the median to the four-round bound (4 × latency: the admin's request alone, the
//! admin queries, the token once they showed it is safe to try, the probes). Targets: ratio ≤ 1.3 and at most
//! 20 requests per run.

use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use snconnect::commands::{demo, verify};
use snconnect::model::SetupPath;
use snconnect::sandbox::{Sandbox, SandboxConfig};
use snconnect::servicenow::{Client, ClientOptions};

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let runs: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(9);
    let latency_ms: u64 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(100);
    if runs == 0 {
        bail!("RUNS must be at least 1");
    }
    let latency = Duration::from_millis(latency_ms);
    let sandbox = Sandbox::start(SandboxConfig {
        latency,
        ..SandboxConfig::scenario("healthy-app")
    })?;
    let inputs = demo::fixture_inputs(&sandbox.url(), SetupPath::App)?;
    let plan = verify::plan(&inputs, &[], Duration::from_secs(30));
    let runtime = verify::runtime()?;

    let mut times = Vec::with_capacity(runs);
    let mut requests = Vec::with_capacity(runs);
    let mut in_flight = 0;
    for _ in 0..runs {
        sandbox.clear_requests();
        // A fresh client per run, as each `snconnect verify` process has.
        let client = Client::new(&inputs.instance, &ClientOptions::default())?;
        let start = Instant::now();
        let report = runtime.block_on(verify::verify(&client, &plan, false));
        times.push(start.elapsed());
        if !report.ok() {
            bail!("the healthy scenario did not pass: the benchmark would measure the wrong thing");
        }
        requests.push(sandbox.requests().len());
        in_flight = in_flight.max(sandbox.max_in_flight());
    }
    times.sort();
    let median = times[times.len() / 2];
    let bound = 4 * latency;
    let ratio = median.as_secs_f64() / bound.as_secs_f64();
    let max_requests = requests.iter().copied().max().unwrap_or(0);
    println!("runs:                 {runs}");
    println!("latency per request:  {latency_ms} ms");
    println!(
        "median wall time:     {:.1} ms",
        median.as_secs_f64() * 1000.0
    );
    println!(
        "fastest / slowest:    {:.1} / {:.1} ms",
        times[0].as_secs_f64() * 1000.0,
        times[times.len() - 1].as_secs_f64() * 1000.0
    );
    println!("requests per run:     {max_requests} (target <= 20)");
    println!("most in flight:       {in_flight}");
    println!(
        "ratio to 4 x latency: {ratio:.2} (bound {} ms, target <= 1.3)",
        bound.as_millis()
    );
    Ok(())
}
