//! The human report of every sandbox scenario, pinned at 60, 80 and 120 columns (issue 14):
//! a change to any screen shows up as a snapshot diff, and no line is wider than the terminal
//! except one holding a single word, such as a link, which is never broken (a broken URL cannot be
//! pasted).
//!
//! What changes from run to run is normalised: the sandbox's address, the check durations and
//! the sys_ids the sandbox generates.

use crate::support::{rt, sandbox_client};
use snconnect::commands::demo::fixture_inputs;
use snconnect::commands::verify;
use snconnect::model::SetupPath;
use snconnect::report::human;
use snconnect::sandbox::{scenario_names, Sandbox, SandboxConfig};

const WIDTHS: [usize; 3] = [60, 80, 120];

/// `N ms` for every run of digits followed by " ms".
fn without_durations(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut digits = String::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        rest = &rest[c.len_utf8()..];
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        if !digits.is_empty() {
            if c == ' ' && rest.starts_with("ms") {
                out.push('N');
            } else {
                out.push_str(&digits);
            }
            digits.clear();
        }
        out.push(c);
    }
    out.push_str(&digits);
    out
}

/// `<id>` for every run of exactly 32 hex digits (the sandbox's generated sys_ids).
fn without_sys_ids(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        let run = bytes[i..]
            .iter()
            .take_while(|b| b.is_ascii_hexdigit())
            .count();
        if run == 32 {
            out.push_str("<id>");
            i += run;
        } else if run > 0 {
            out.push_str(&text[i..i + run]);
            i += run;
        } else {
            let c = text[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

fn normalised(text: &str, sandbox: &Sandbox) -> String {
    let text = text.replace(&sandbox.url(), "http://SANDBOX");
    without_sys_ids(&without_durations(&text))
}

fn assert_fits(text: &str, width: usize, scenario: &str) {
    for line in text.lines() {
        let columns = console::measure_text_width(line);
        if columns <= width {
            continue;
        }
        // A link (or any one word, such as a URL in a sentence) is never broken: it may stand
        // alone on a longer line, after its label.
        let text = line.trim_start();
        let text = text.strip_prefix("link: ").unwrap_or(text);
        let one_word = !text.trim_end().contains(' ');
        assert!(
            one_word,
            "{scenario} at {width} columns: a line of {columns}:\n{line}"
        );
    }
}

#[test]
fn every_scenario_report_is_pinned_at_three_widths_and_fits_them() {
    for (scenario, _) in scenario_names() {
        let sandbox = Sandbox::start(SandboxConfig::scenario(scenario)).unwrap();
        let path = if scenario.contains("admin") && !scenario.starts_with("mfa") {
            SetupPath::Admin
        } else {
            SetupPath::App
        };
        let inputs = fixture_inputs(&sandbox.url(), path).unwrap();
        let plan = verify::plan(&inputs, &[], std::time::Duration::from_secs(10));
        let report = rt().block_on(verify::verify(&sandbox_client(&sandbox), &plan, false));
        let mut screens = String::new();
        for width in WIDTHS {
            let text = human::render(
                &report,
                &human::Options {
                    color: false,
                    next: None,
                    width: Some(width),
                },
            );
            assert_fits(&text, width, scenario);
            screens.push_str(&format!("===== {width} columns =====\n"));
            screens.push_str(&normalised(&text, &sandbox));
        }
        insta::assert_snapshot!(format!("report_{scenario}"), screens);
    }
}
