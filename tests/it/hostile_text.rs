//! Issue 12, sanitised output: text an attacker could plant in instance data, or type as an
//! input, reaches neither a terminal nor a JUnit file as control sequences, and a huge value is cut.

use crate::support::{snconnect, verify_cmd, Run};
use snconnect::sandbox::{Sandbox, SandboxConfig};

const HOSTILE: &str = "1.0\u{1b}]0;pwned\u{7}\u{1b}[2J\u{9b}31m\u{202e}gnp.exe";

fn raw_control(text: &str) -> Option<char> {
    text.chars().find(|c| {
        (c.is_control() && *c != '\n')
            || ('\u{202a}'..='\u{202e}').contains(c)
            || ('\u{2066}'..='\u{2069}').contains(c)
    })
}

fn hostile_sandbox() -> Sandbox {
    let sandbox = Sandbox::start(SandboxConfig::scenario("healthy-app")).unwrap();
    sandbox.with_db(|db| {
        db.update_where(
            "sys_store_app",
            "scope=x_incident_io",
            &[("version", HOSTILE)],
        );
    });
    sandbox
}

#[test]
fn escape_laden_instance_data_is_shown_escaped_in_human_junit_and_markdown_output() {
    let sandbox = hostile_sandbox();
    let dir = tempfile::tempdir().unwrap();
    for format in ["human", "junit", "markdown"] {
        let run = Run::of(&mut verify_cmd(
            dir.path(),
            &sandbox.url(),
            &["--format", format],
            &[],
        ));
        assert!(run.code == 0 || run.code == 1, "{}", run.all());
        assert_eq!(raw_control(&run.stdout), None, "{format}: {:?}", run.stdout);
        // Markdown leaves notes (where the hostile text sits here) out of its details; its own
        // escaping is pinned by its unit tests.
        if format != "markdown" {
            assert!(
                run.stdout.contains("\\x1b]0;pwned"),
                "{format}: {}",
                run.stdout
            );
        }
        if format == "junit" {
            let mut reader = quick_xml::Reader::from_str(&run.stdout);
            loop {
                match reader.read_event() {
                    Ok(quick_xml::events::Event::Eof) => break,
                    Ok(_) => {}
                    Err(e) => panic!("JUnit does not parse: {e}\n{}", run.stdout),
                }
            }
        }
    }
    // JSON stays exact: serde escapes the control characters, and the value is the real one.
    let run = Run::of(&mut verify_cmd(dir.path(), &sandbox.url(), &[], &[]));
    assert!(run.stdout.contains("\\u001b]0;pwned"), "{}", run.stdout);
}

/// Markdown goes into pages that render Markdown and HTML (a job summary): instance text in a
/// failing finding (here the entry's client id, echoed by `oauth_app.client_id_mismatch`)
/// reaches it with no markup, no HTML and no control sequence.
#[test]
fn instance_text_in_a_markdown_report_is_neither_markup_nor_html() {
    let sandbox = Sandbox::start(SandboxConfig::scenario("healthy-app")).unwrap();
    let planted = format!("<script>alert(1)</script>|**x**[y](z){HOSTILE}");
    sandbox.with_db(|db| {
        db.update_where(
            "oauth_entity",
            "name=incident.io",
            &[("client_id", planted.as_str())],
        );
    });
    let dir = tempfile::tempdir().unwrap();
    let run = Run::of(&mut verify_cmd(
        dir.path(),
        &sandbox.url(),
        &["--format", "markdown"],
        &[],
    ));
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stdout.contains("oauth_app.client_id_mismatch"),
        "{}",
        run.stdout
    );
    assert_eq!(raw_control(&run.stdout), None, "{:?}", run.stdout);
    assert!(!run.stdout.contains("<script"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("&lt;script&gt;alert(1)&lt;/script&gt;\\|\\*\\*x\\*\\*\\[y\\](z)"),
        "{}",
        run.stdout
    );
}

#[test]
fn an_input_echoed_in_an_error_is_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let run = Run::of(snconnect(dir.path()).args([
        "verify",
        "--no-input",
        "--instance",
        "acme\u{1b}[2J.example\u{7}",
    ]));
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(raw_control(&run.stderr), None, "{:?}", run.stderr);
    assert!(run.stderr.contains("\\x1b[2J"), "{}", run.stderr);
}

#[test]
fn a_ten_megabyte_value_is_cut_with_its_size() {
    let sandbox = Sandbox::start(SandboxConfig::scenario("healthy-app")).unwrap();
    let huge = "9".repeat(10 << 20);
    sandbox.with_db(|db| {
        db.update_where(
            "sys_store_app",
            "scope=x_incident_io",
            &[("version", &huge)],
        );
    });
    let dir = tempfile::tempdir().unwrap();
    let run = Run::of(&mut verify_cmd(
        dir.path(),
        &sandbox.url(),
        &["--format", "human"],
        &[],
    ));
    assert!(
        run.stdout.len() < 64 << 10,
        "{} bytes of report",
        run.stdout.len()
    );
    assert!(
        run.stdout.contains("… (10.0 MB)"),
        "{}",
        &run.stdout[..2000.min(run.stdout.len())]
    );
}
