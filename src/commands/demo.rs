//! `snconnect demo`: verify against the built-in simulated instance, so anyone can see what the
//! tool finds and says without a ServiceNow instance or any credentials.
//!
//! The sandbox runs in-process on 127.0.0.1 with the chosen scenario (default `broken`, which shows
//! several diagnoses at once) and the fixture credentials; the run is the same code path as
//! `verify`. The demo exits 0 when it ran, whatever the report says: its findings are the show,
//! not a failure of the command.

use anyhow::{Context, Result};
use secrecy::SecretString;

use crate::cli::{DemoArgs, Format, GlobalArgs};
use crate::commands::verify;
use crate::exit::Exit;
use crate::inputs::{AdminAuth, Inputs};
use crate::instance::Instance;
use crate::report::human;
use crate::requirements::DEFAULT_USERNAME;
use crate::sandbox::{fixtures, scenario_names, Sandbox, SandboxConfig};
use crate::ui::colour;

/// The inputs a demo run uses: the sandbox's address and its fixture credentials.
pub fn fixture_inputs(url: &str, path: crate::model::SetupPath) -> Result<Inputs> {
    let instance = Instance::parse(url).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(Inputs {
        profile: instance.profile_name(),
        instance,
        path,
        admin: AdminAuth::Basic {
            user: fixtures::ADMIN_USER.to_string(),
            password: SecretString::from(fixtures::ADMIN_PASSWORD),
        },
        client_id: Some(fixtures::CLIENT_ID.to_string()),
        client_secret: Some(SecretString::from(fixtures::CLIENT_SECRET)),
        username: DEFAULT_USERNAME.to_string(),
        password: Some(SecretString::from(fixtures::SERVICE_PASSWORD)),
        store_problem: None,
    })
}

pub fn run(global: &GlobalArgs, args: &DemoArgs) -> Result<Exit> {
    // clap has checked the name against the same list (`cli::scenario_names`); Sandbox::start
    // refuses an unknown one all the same.
    let description = scenario_names()
        .into_iter()
        .find(|(n, _)| *n == args.scenario)
        .map_or("", |(_, d)| d);
    let sandbox = Sandbox::start(SandboxConfig::scenario(&args.scenario))
        .context("could not start the simulated instance")?;
    eprintln!(
        "Started a simulated ServiceNow instance at {} (scenario '{}': {}).",
        sandbox.url(),
        args.scenario,
        description
    );
    eprintln!("Running `snconnect verify` against it with the sandbox's credentials.\n");

    let inputs = fixture_inputs(&sandbox.url(), args.path)?;
    let client = verify::build_client(&inputs, global)?;
    let plan = verify::plan(&inputs, &[], global.timeout);
    let report = verify::runtime()?.block_on(verify::verify(&client, &plan, false));
    let color = colour::for_stdout(global.color);
    let other = if args.scenario == "healthy-app" {
        "--scenario broken"
    } else {
        "--scenario healthy-app"
    };
    // The sandbox stops when the demo ends, so the next step points elsewhere.
    let next = format!(
        "try `snconnect demo {other}`, list the scenarios with `snconnect sandbox \
         --list-scenarios`, or check your own instance with `snconnect verify --instance NAME`"
    );
    let text = match global.format {
        Format::Human => human::render(
            &report,
            &human::Options {
                color,
                next: Some(next),
                width: human::stdout_width(),
            },
        ),
        format => verify::render(&report, format, color),
    };
    verify::write_stdout(&text)?;
    Ok(Exit::Ok)
}
