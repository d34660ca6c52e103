//! README.md is part of the product: its commands must parse, its JSON example must have the shape
//! verify really writes, and its troubleshooting table must cover exactly the finding codes the code
//! can produce.

use std::collections::BTreeSet;

use clap::Parser;
use serde_json::Value;
use snconnect::checks::FindingCode;
use snconnect::cli::Cli;
use snconnect::sandbox::{Sandbox, SandboxConfig};

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap()
}

/// The fenced code blocks of a given language.
fn code_blocks(text: &str, lang: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        match (&mut current, line.trim_start().strip_prefix("```")) {
            (None, Some(info)) if info.trim() == lang => current = Some(String::new()),
            (Some(block), Some(_)) => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            (Some(block), None) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

/// The section under a `## heading`, up to the next `## `.
fn section<'a>(text: &'a str, heading: &str) -> &'a str {
    let start = text
        .find(heading)
        .unwrap_or_else(|| panic!("README has no '{heading}'"));
    let rest = &text[start + heading.len()..];
    &rest[..rest.find("\n## ").unwrap_or(rest.len())]
}

#[test]
fn troubleshooting_covers_exactly_the_finding_codes() {
    let text = readme();
    let table = section(&text, "## Troubleshooting");
    let documented: BTreeSet<String> = table
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .map(str::to_string)
        .collect();
    let known: BTreeSet<String> = FindingCode::ALL
        .iter()
        .map(|c| c.as_str().to_string())
        .collect();
    let undocumented: Vec<_> = known.difference(&documented).collect();
    let unknown: Vec<_> = documented.difference(&known).collect();
    assert!(
        undocumented.is_empty(),
        "codes missing from README's troubleshooting: {undocumented:?}"
    );
    assert!(
        unknown.is_empty(),
        "README documents codes the code does not have: {unknown:?}"
    );
}

#[test]
fn every_snconnect_command_in_the_readme_parses() {
    let text = readme();
    let mut commands = Vec::new();
    for block in code_blocks(&text, "sh")
        .iter()
        .chain(code_blocks(&text, "yaml").iter())
    {
        for line in block.lines() {
            // `run: snconnect …` in YAML, `- snconnect …` in a script list, or a plain shell line.
            let line = line
                .trim()
                .trim_start_matches("- ")
                .trim_start_matches("run: ");
            let Some(rest) = line.strip_prefix("snconnect ") else {
                continue;
            };
            let rest = rest.split('#').next().unwrap();
            let rest = rest.split(" > ").next().unwrap();
            let mut argv = vec!["snconnect".to_string()];
            argv.extend(rest.split_whitespace().map(str::to_string));
            commands.push(argv);
        }
    }
    assert!(
        commands.len() >= 3,
        "expected README to show several commands, found {commands:?}"
    );
    for argv in commands {
        if let Err(err) = Cli::try_parse_from(&argv) {
            panic!("README command {argv:?} does not parse:\n{err}");
        }
    }
}

/// The keys of an object, recursively for the shapes the contract fixes.
fn shape(report: &Value) -> (BTreeSet<String>, BTreeSet<String>, BTreeSet<String>) {
    let keys = |v: &Value| -> BTreeSet<String> { v.as_object().unwrap().keys().cloned().collect() };
    let check = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| !c["findings"].as_array().unwrap().is_empty())
        .expect("a check with findings");
    (keys(report), keys(check), keys(&check["findings"][0]))
}

#[test]
fn the_json_example_has_the_shape_verify_writes() {
    let text = readme();
    let example = code_blocks(section(&text, "## The JSON report"), "json")
        .into_iter()
        .next()
        .expect("a JSON example");
    let example: Value = serde_json::from_str(&example).expect("README's JSON example parses");

    let sandbox = Sandbox::start(SandboxConfig::scenario("user-locked")).unwrap();
    let run = crate::support::verify(&sandbox.url(), &[], &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let real = run.report();
    assert_eq!(shape(&example), shape(real));
    assert_eq!(example["schema_version"], real["schema_version"]);
    assert_eq!(example["tool"]["name"], real["tool"]["name"]);
}
