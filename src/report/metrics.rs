//! `verify --metrics-file PATH`: the run as a Prometheus text exposition, for node_exporter's
//! textfile collector (which reads every `*.prom` file in its directory on each scrape).
//!
//! - Per check, `snconnect_check_status{instance,check,status}`: 1 for the check's status and 0
//!   for the other three (a state set, so an alert is `== 1` on `status="fail"`).
//! - The run: exit code, duration, requests sent, when it ran, and when it last passed (kept in
//!   the state directory, so a failing run still exports the last success).
//!
//! The format is Prometheus' text exposition 0.0.4: `# HELP` and `# TYPE` lines, then samples with
//! label values escaped (`\`, `"`, newline). The file is replaced atomically (a temporary file
//! beside it, then a rename), mode 0644 so a collector running as another user can read it.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use super::Report;
use crate::model::Status;

/// What the run measured besides the report.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    pub duration: Duration,
    pub requests: u64,
    /// Unix seconds when the run ended.
    pub at: u64,
    /// Unix seconds of the last run that passed (this one, if it did), if any did.
    pub last_success: Option<u64>,
}

/// A label value as the exposition format wants it.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The exposition text for `report` and `run`.
pub fn render(report: &Report, run: &Run) -> String {
    render_many(&[(report, *run)])
}

/// The exposition text for several runs (a fleet run's instances) in one file: each metric
/// family once, with one sample per instance, as the format requires.
pub fn render_many(runs: &[(&Report, Run)]) -> String {
    let mut out = String::new();
    let family = |out: &mut String, name: &str, kind: &str, help: &str| {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
    };
    family(
        &mut out,
        "snconnect_check_status",
        "gauge",
        "1 for the status each check ended with, 0 for the others.",
    );
    for (report, _) in runs {
        let instance = label(&report.instance);
        for check in &report.checks {
            for status in [Status::Pass, Status::Warn, Status::Fail, Status::Skip] {
                let _ = writeln!(
                    out,
                    "snconnect_check_status{{instance=\"{instance}\",check=\"{}\",status=\"{}\"}} {}",
                    check.id.as_str(),
                    status.as_str(),
                    u8::from(check.status == status)
                );
            }
        }
    }
    type Value = fn(&Report, &Run) -> Option<String>;
    let gauges: [(&str, &str, Value); 6] = [
        (
            "snconnect_verify_exit_code",
            "The exit code of the last verify: 0 passed, 1 a check failed, 3 the checks could not run.",
            |r, _| Some(r.exit().code().to_string()),
        ),
        (
            "snconnect_verify_duration_seconds",
            "How long the last verify took.",
            |_, run| Some(format!("{:.3}", run.duration.as_secs_f64())),
        ),
        (
            "snconnect_verify_requests",
            "HTTP requests the last verify sent to the instance.",
            |_, run| Some(run.requests.to_string()),
        ),
        (
            "snconnect_verify_last_run_timestamp_seconds",
            "When the last verify ended (Unix time).",
            |_, run| Some(run.at.to_string()),
        ),
        (
            "snconnect_tls_certificate_expiry_timestamp_seconds",
            "When the instance's TLS certificate ends (Unix time).",
            |r, _| r.certificate_expires.map(|at| at.to_string()),
        ),
        (
            "snconnect_verify_last_success_timestamp_seconds",
            "When a verify last passed (Unix time).",
            |_, run| run.last_success.map(|at| at.to_string()),
        ),
    ];
    for (name, help, value) in gauges {
        let samples: Vec<(String, String)> = runs
            .iter()
            .filter_map(|(r, run)| value(r, run).map(|v| (label(&r.instance), v)))
            .collect();
        if samples.is_empty() {
            continue;
        }
        family(&mut out, name, "gauge", help);
        for (instance, v) in samples {
            let _ = writeln!(out, "{name}{{instance=\"{instance}\"}} {v}");
        }
    }
    out
}

/// Replaces `path` with `text`, atomically. The directory must exist (node_exporter's textfile
/// directory is made by whoever set up the collector).
pub fn write(path: &Path, text: &str) -> Result<(), String> {
    crate::credentials::fsutil::write_atomically(path, text.as_bytes(), 0o644)
        .map_err(|e| e.to_string())
}

/// The last success of `profile`, as kept in `state_dir` after each passing run; when `passed`,
/// this run (`now`) is recorded first. A state directory that cannot be written loses only this.
pub fn last_success(
    state_dir: Option<&Path>,
    profile: &str,
    passed: bool,
    now: u64,
) -> Option<u64> {
    let file = state_dir?
        .join("metrics")
        .join(format!("{profile}.last-success"));
    if passed {
        let _ = crate::credentials::fsutil::write_private_atomically(
            &file,
            format!("{now}\n").as_bytes(),
        );
        return Some(now);
    }
    crate::localfile::read_small_text(&file, 64)
        .ok()
        .and_then(|t| t.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_support::sample;

    #[test]
    fn one_status_per_check_is_set_and_labels_are_escaped() {
        let mut report = sample();
        report.instance = "https://a\"b\\c.example.com".into();
        let text = render(
            &report,
            &Run {
                duration: Duration::from_millis(1500),
                requests: 17,
                at: 1_700_000_000,
                last_success: None,
            },
        );
        for check in &report.checks {
            let set: Vec<&str> = text
                .lines()
                .filter(|l| l.contains(&format!("check=\"{}\"", check.id.as_str())))
                .filter(|l| l.ends_with(" 1"))
                .collect();
            assert_eq!(set.len(), 1, "{text}");
            assert!(set[0].contains(&format!("status=\"{}\"", check.status.as_str())));
        }
        assert!(
            text.contains("instance=\"https://a\\\"b\\\\c.example.com\""),
            "{text}"
        );
        assert!(
            text.contains("snconnect_verify_duration_seconds{"),
            "{text}"
        );
        assert!(text.contains("} 1.500\n"), "{text}");
        assert!(!text.contains("last_success"), "{text}");
    }

    #[test]
    fn the_last_success_survives_a_failing_run() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(last_success(Some(dir.path()), "acme", false, 5), None);
        assert_eq!(last_success(Some(dir.path()), "acme", true, 7), Some(7));
        assert_eq!(last_success(Some(dir.path()), "acme", false, 9), Some(7));
        assert_eq!(last_success(Some(dir.path()), "other", false, 9), None);
        assert_eq!(last_success(None, "acme", true, 9), None);
    }
}
