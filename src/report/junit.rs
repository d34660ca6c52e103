//! `--format junit`: one test case per check, named by its id, for CI dashboards.
//!
//! A failed check is a `<failure>`, a skipped one `<skipped>`; a warning passes (its findings go
//! to `<system-out>` so they are still visible). The element and attribute names follow the
//! common JUnit XML schema that Jenkins, GitLab and GitHub reporters read.

use std::io;

use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::Writer;

use super::Report;
use crate::checks::{CheckResult, Finding, Status};
use crate::text::escaped;

/// The report as a JUnit XML document.
pub fn render(report: &Report) -> String {
    render_suites(&[Suite::Report(report)])
}

/// One `<testsuite>` of a document: a run's report, or a run that could not be made (a fleet
/// member whose profile or instance could not be used), as one errored case.
pub enum Suite<'a> {
    Report(&'a Report),
    CouldNotRun { name: &'a str, message: &'a str },
}

/// A JUnit document with one suite per run (a fleet run's instances).
pub fn render_suites(suites: &[Suite<'_>]) -> String {
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
    // Writing into a Vec cannot fail.
    let _ = write(&mut writer, suites);
    let mut out = String::from_utf8(writer.into_inner()).unwrap_or_default();
    out.push('\n');
    out
}

fn seconds(ms: u64) -> String {
    format!("{:.3}", ms as f64 / 1000.0)
}

/// (tests, failures, errors, skipped, milliseconds) of one suite.
fn counts(suite: &Suite<'_>) -> (usize, usize, usize, usize, u64) {
    match suite {
        Suite::Report(report) => {
            let s = report.summary();
            let ms = report.checks.iter().map(|c| c.duration_ms).sum();
            (report.checks.len(), s.fail, 0, s.skip, ms)
        }
        Suite::CouldNotRun { .. } => (1, 0, 1, 0, 0),
    }
}

fn write(w: &mut Writer<Vec<u8>>, suites: &[Suite<'_>]) -> io::Result<()> {
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let all = suites.iter().map(counts).fold((0, 0, 0, 0, 0), |a, c| {
        (a.0 + c.0, a.1 + c.1, a.2 + c.2, a.3 + c.3, a.4 + c.4)
    });
    let (tests, failures, errors, time) = (
        all.0.to_string(),
        all.1.to_string(),
        all.2.to_string(),
        seconds(all.4),
    );
    // The common schema (Jenkins' junit-10.xsd) allows `skipped` on a testsuite, not on testsuites.
    w.create_element("testsuites")
        .with_attribute(("name", "snconnect"))
        .with_attributes([
            ("tests", tests.as_str()),
            ("failures", failures.as_str()),
            ("errors", errors.as_str()),
            ("time", time.as_str()),
        ])
        .write_inner_content(|w| {
            for suite in suites {
                write_suite(w, suite)?;
            }
            Ok(())
        })?;
    Ok(())
}

fn write_suite(w: &mut Writer<Vec<u8>>, suite: &Suite<'_>) -> io::Result<()> {
    let (tests, failures, errors, skipped, ms) = counts(suite);
    let (tests, failures, errors, skipped, time) = (
        tests.to_string(),
        failures.to_string(),
        errors.to_string(),
        skipped.to_string(),
        seconds(ms),
    );
    let name = match suite {
        Suite::Report(report) => format!(
            "snconnect verify {} ({} path)",
            escaped(&report.instance),
            report.path.as_str()
        ),
        Suite::CouldNotRun { name, .. } => format!("snconnect verify {}", escaped(name)),
    };
    w.create_element("testsuite")
        .with_attribute(("name", name.as_str()))
        .with_attributes([
            ("tests", tests.as_str()),
            ("failures", failures.as_str()),
            ("errors", errors.as_str()),
            ("skipped", skipped.as_str()),
            ("time", time.as_str()),
        ])
        .write_inner_content(|w| {
            match suite {
                Suite::Report(report) => {
                    for check in &report.checks {
                        write_case(w, check)?;
                    }
                }
                Suite::CouldNotRun { message, .. } => {
                    let message = escaped(message).into_owned();
                    w.create_element("testcase")
                        .with_attribute(("name", "run"))
                        .with_attribute(("classname", "snconnect.verify"))
                        .write_inner_content(|w| {
                            w.create_element("error")
                                .with_attribute(("message", message.as_str()))
                                .write_empty()?;
                            Ok(())
                        })?;
                }
            }
            Ok(())
        })?;
    Ok(())
}

fn write_case(w: &mut Writer<Vec<u8>>, check: &CheckResult) -> io::Result<()> {
    let time = seconds(check.duration_ms);
    let case = w
        .create_element("testcase")
        .with_attribute(("name", check.id.as_str()))
        .with_attribute(("classname", "snconnect.verify"))
        .with_attribute(("time", time.as_str()));
    if check.status == Status::Pass && check.findings.is_empty() {
        case.write_empty()?;
        return Ok(());
    }
    let details = check
        .findings
        .iter()
        .map(describe)
        .collect::<Vec<_>>()
        .join("\n");
    let first = check
        .findings
        .first()
        .map(|f| escaped(&f.message).into_owned())
        .unwrap_or_default();
    let first_code = check
        .findings
        .first()
        .map(|f| f.code.as_str())
        .unwrap_or_default();
    case.write_inner_content(|w| {
        match check.status {
            Status::Fail => {
                let errors: Vec<&Finding> = check
                    .findings
                    .iter()
                    .filter(|f| f.severity == crate::checks::Severity::Error)
                    .collect();
                let message = errors
                    .first()
                    .map_or(first.clone(), |f| escaped(&f.message).into_owned());
                let code = errors.first().map_or(first_code, |f| f.code.as_str());
                w.create_element("failure")
                    .with_attribute(("message", message.as_str()))
                    .with_attribute(("type", code))
                    .write_text_content(BytesText::new(&details))?;
            }
            Status::Skip => {
                w.create_element("skipped")
                    .with_attribute(("message", first.as_str()))
                    .write_empty()?;
            }
            Status::Pass | Status::Warn => {
                w.create_element("system-out")
                    .write_text_content(BytesText::new(&details))?;
            }
        }
        Ok(())
    })?;
    Ok(())
}

/// A finding as text, its untrusted parts escaped: XML 1.0 forbids most control characters, and
/// a dashboard shows this text to people.
fn describe(f: &Finding) -> String {
    let mut s = format!(
        "[{}] {}: {}",
        f.severity.as_str(),
        f.code,
        escaped(&f.message)
    );
    if let Some(fix) = &f.fix {
        s.push_str(&format!("\n  fix: {}", escaped(fix)));
    }
    if let Some(link) = &f.link {
        s.push_str(&format!("\n  link: {}", escaped(link)));
    }
    s
}

#[cfg(test)]
mod tests {
    use quick_xml::events::Event;
    use quick_xml::Reader;

    use super::*;
    use crate::report::test_support::sample;

    /// A test case as parsed back: name, and the child element marking its outcome.
    #[derive(Debug, PartialEq)]
    struct Case {
        name: String,
        outcome: Option<String>,
        message: Option<String>,
    }

    fn parse(xml: &str) -> (Vec<(String, String)>, Vec<Case>) {
        let mut reader = Reader::from_str(xml);
        let mut suite_attrs = Vec::new();
        let mut cases: Vec<Case> = Vec::new();
        loop {
            match reader.read_event().expect("well-formed XML") {
                Event::Eof => break,
                Event::Start(e) | Event::Empty(e) => {
                    let attrs: Vec<(String, String)> = e
                        .attributes()
                        .map(|a| {
                            let a = a.unwrap();
                            (
                                String::from_utf8(a.key.as_ref().to_vec()).unwrap(),
                                a.unescape_value().unwrap().into_owned(),
                            )
                        })
                        .collect();
                    let get = |k: &str| attrs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
                    match e.name().as_ref() {
                        b"testsuite" => suite_attrs = attrs.clone(),
                        b"testcase" => cases.push(Case {
                            name: get("name").unwrap(),
                            outcome: None,
                            message: None,
                        }),
                        tag @ (b"failure" | b"skipped" | b"system-out") => {
                            let last = cases.last_mut().unwrap();
                            last.outcome = Some(String::from_utf8(tag.to_vec()).unwrap());
                            last.message = get("message");
                        }
                        _ => {}
                    }
                }
                _ => {}
            }
        }
        (suite_attrs, cases)
    }

    #[test]
    fn one_case_per_check_with_failures_and_skips_marked() {
        let xml = render(&sample());
        let (suite, cases) = parse(&xml);
        let attr = |k: &str| suite.iter().find(|(n, _)| n == k).unwrap().1.clone();
        assert_eq!(attr("tests"), "5");
        assert_eq!(attr("failures"), "1");
        assert_eq!(attr("skipped"), "1");
        let names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            ["instance", "app", "service_user", "task_acls", "connect"]
        );
        assert_eq!(cases[0].outcome, None);
        assert_eq!(cases[1].outcome.as_deref(), Some("system-out"));
        assert_eq!(cases[2].outcome.as_deref(), Some("failure"));
        assert_eq!(
            cases[2].message.as_deref(),
            Some("user 'incident.io' is locked out")
        );
        assert_eq!(
            cases[3].outcome.as_deref(),
            Some("system-out"),
            "a warning passes"
        );
        assert_eq!(cases[4].outcome.as_deref(), Some("skipped"));
    }

    #[test]
    fn special_characters_are_escaped() {
        let xml = render(&sample());
        assert!(xml.contains("&amp; &lt;odd&gt;"), "{xml}");
        parse(&xml);
    }
}
