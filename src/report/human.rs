//! The report a person reads: a line per check, its findings indented beneath with what to do and
//! where, a summary line and the command to run next.

use console::Style;

use super::Report;
use crate::checks::{Finding, FindingCode, Severity, Status};
use crate::exit::Exit;
use crate::model::SetupPath;
use crate::text::escaped;

/// How to render: colour and width are decided by the caller (terminal, `--color`, `NO_COLOR`).
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub color: bool,
    /// Replaces the suggested next step (e.g. `demo`, whose instance is gone when it ends).
    pub next: Option<String>,
    /// Wrap to this many columns (a terminal's width); `None` leaves lines whole, for pipes and
    /// files, where a reader's tools do their own wrapping.
    pub width: Option<usize>,
}

/// The width to wrap stdout's report to: the terminal's, or none when stdout is not a terminal.
pub fn stdout_width() -> Option<usize> {
    let term = console::Term::stdout();
    term.is_term()
        .then(|| term.size().1 as usize)
        .filter(|w| *w > 0)
}

/// Applies [`Options::width`].
fn fit(text: String, width: Option<usize>) -> String {
    match width {
        Some(w) => super::wrap::wrap(&text, w),
        None => text,
    }
}

struct Palette {
    color: bool,
}

impl Palette {
    fn paint(&self, text: &str, style: Style) -> String {
        if self.color {
            style.force_styling(true).apply_to(text).to_string()
        } else {
            text.to_string()
        }
    }

    fn status(&self, status: Status) -> String {
        match status {
            Status::Pass => self.paint("✓", Style::new().green().bold()),
            Status::Warn => self.paint("!", Style::new().yellow().bold()),
            Status::Fail => self.paint("✗", Style::new().red().bold()),
            Status::Skip => self.paint("-", Style::new().dim()),
        }
    }

    fn severity(&self, severity: Severity) -> String {
        match severity {
            Severity::Error => self.paint("✗", Style::new().red()),
            Severity::Warning => self.paint("!", Style::new().yellow()),
            Severity::Note => self.paint("·", Style::new().dim()),
        }
    }

    fn dim(&self, text: &str) -> String {
        self.paint(text, Style::new().dim())
    }

    fn bold(&self, text: &str) -> String {
        self.paint(text, Style::new().bold())
    }
}

/// The report as text, ending with a newline.
pub fn render(report: &Report, opts: &Options) -> String {
    let p = Palette { color: opts.color };
    let mut out = String::new();
    out.push_str(&format!(
        "{} {} ({} path)\n\n",
        p.bold("snconnect verify"),
        escaped(&report.instance),
        report.path.as_str()
    ));
    let width = report
        .checks
        .iter()
        .map(|c| c.title.chars().count())
        .max()
        .unwrap_or(0);
    // A skip's reason is often the same for several checks in a row (no admin credentials, the
    // instance could not be used): say it once, then point back to it.
    let mut previous_skip: Option<&Finding> = None;
    for check in &report.checks {
        let label = match check.status {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "FAIL",
            Status::Skip => "skip",
        };
        let timing = if check.status == Status::Skip {
            String::new()
        } else {
            p.dim(&format!("  {} ms", check.duration_ms))
        };
        out.push_str(&format!(
            "{} {:<width$}  {} {}{}\n",
            p.status(check.status),
            check.title,
            label,
            p.dim(&format!("[{}]", check.id.as_str())),
            timing,
        ));
        let skip_reason = match (check.status, check.findings.as_slice()) {
            (Status::Skip, [only]) => Some(only),
            _ => None,
        };
        match (skip_reason, previous_skip) {
            (Some(reason), Some(prev))
                if reason.code == prev.code && reason.message == prev.message =>
            {
                out.push_str(&format!(
                    "    {} {} {}\n",
                    p.severity(reason.severity),
                    "skipped for the same reason as above",
                    p.dim(&format!("({})", reason.code))
                ));
            }
            _ => push_findings(&mut out, &p, &check.findings),
        }
        previous_skip = skip_reason;
    }
    let s = report.summary();
    out.push_str(&format!(
        "\n{} passed, {} warned, {} failed, {} skipped\n",
        s.pass, s.warn, s.fail, s.skip
    ));
    let unverified = report.not_verified();
    if !unverified.is_empty() {
        let ids: Vec<&str> = unverified.iter().map(|c| c.id.as_str()).collect();
        let mut missing: Vec<&str> = Vec::new();
        for f in unverified.iter().flat_map(|c| c.findings.iter()) {
            let what = match f.code {
                FindingCode::InputAdminMissing => "admin credentials",
                FindingCode::InputServiceMissing => "the client id, client secret and password",
                _ => continue,
            };
            if !missing.contains(&what) {
                missing.push(what);
            }
        }
        out.push_str(&format!(
            "{} not verified ({}): missing {}{}\n",
            unverified.len(),
            ids.join(", "),
            missing.join(" and "),
            if report.strict {
                "; --strict counts that as a failure"
            } else {
                ""
            }
        ));
    }
    if let Some(changes) = &report.changes {
        out.push_str(&format!(
            "\nChanged since the last good run ({}):\n",
            crate::model::utc_timestamp(changes.since)
        ));
        let shown = |v: &Option<String>| match v {
            Some(v) if v.is_empty() => "(none)".to_string(),
            Some(v) => escaped(v).into_owned(),
            None => "(not there)".to_string(),
        };
        for c in &changes.changes {
            let by =
                c.by.as_deref()
                    .map(|by| format!(" (changed {})", escaped(by)))
                    .unwrap_or_default();
            out.push_str(&format!(
                "  {} {}: {} -> {}{by}\n",
                escaped(&c.record),
                c.field,
                shown(&c.old),
                shown(&c.new)
            ));
        }
    }
    let next = opts.next.clone().unwrap_or_else(|| next_step(report));
    out.push_str(&format!("{} {next}\n", p.bold("Next:")));
    fit(out, opts.width)
}

/// Findings as the report shows them, each with its fix and link, indented under their check:
/// the one rendering of a finding, which the setup wizard uses too.
pub fn findings(findings: &[Finding], color: bool) -> String {
    let p = Palette { color };
    let mut out = String::new();
    push_findings(&mut out, &p, findings);
    out
}

/// A check's findings. A fix (or link) the finding just above already showed is not printed
/// again: "the same as above" (three missing ACLs share one instruction).
fn push_findings(out: &mut String, p: &Palette, findings: &[Finding]) {
    let mut previous: Option<&Finding> = None;
    for f in findings {
        push_finding(out, p, f, previous);
        previous = Some(f);
    }
}

/// One finding; its text comes from the instance in part, so it is escaped on the way out.
fn push_finding(out: &mut String, p: &Palette, f: &Finding, previous: Option<&Finding>) {
    out.push_str(&format!(
        "    {} {} {}\n",
        p.severity(f.severity),
        escaped(&f.message),
        p.dim(&format!("({})", f.code))
    ));
    let repeated = |mine: &Option<String>, theirs: Option<&Option<String>>| {
        mine.is_some() && theirs == Some(mine)
    };
    if let Some(fix) = &f.fix {
        if repeated(&f.fix, previous.map(|p| &p.fix)) {
            out.push_str("      fix:  the same as above\n");
        } else {
            out.push_str(&format!("      fix:  {}\n", escaped(fix)));
        }
    }
    if let Some(link) = &f.link {
        if !repeated(&f.link, previous.map(|p| &p.link)) {
            out.push_str(&format!("      link: {}\n", escaped(link)));
        }
    }
}

/// The command (or action) that moves the user forward from this report.
pub fn next_step(report: &Report) -> String {
    let mut target = format!("--instance {}", report.instance);
    if report.path == SetupPath::Admin {
        target.push_str(" --path admin");
    }
    let all_findings = || report.checks.iter().flat_map(|c| c.findings.iter());
    if report.cannot_run() {
        return format!("fix the instance problem above, then run: snconnect verify {target}");
    }
    let s = report.summary();
    if report.exit() != Exit::Ok || s.warn > 0 {
        let apply_helps = all_findings().any(|f| f.remedy.is_apply());
        return if apply_helps {
            format!("preview the repairs with: snconnect apply {target} --dry-run")
        } else {
            format!("fix the findings above, then run: snconnect verify {target}")
        };
    }
    let missing_input = all_findings().any(|f| f.code.as_str().starts_with("input."));
    if missing_input {
        return format!(
            "give the credentials the skipped checks name, then run: snconnect verify {target}"
        );
    }
    "enter the client id, client secret, user name and password in incident.io (Settings > \
     Integrations > ServiceNow); `snconnect credentials show --reveal` prints the stored ones"
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::{CheckResult, Finding, FindingCode, Verdict};
    use crate::model::CheckId;
    use crate::report::test_support::sample;

    /// Issue 14: nothing repeated within a screen: a fix (or link) the finding above showed is
    /// not printed again.
    #[test]
    fn a_fix_shared_with_the_finding_above_is_not_repeated() {
        let acl = |op: &str, link: &str| {
            Finding::error(FindingCode::AclMissing, format!("no {op} ACL"))
                .fix("create the ACL, long instruction")
                .link(link.to_string())
        };
        let text = findings(
            &[
                acl("read", "https://x/1"),
                acl("write", "https://x/1"),
                acl("create", "https://x/2"),
            ],
            false,
        );
        assert_eq!(text.matches("long instruction").count(), 1, "{text}");
        assert_eq!(text.matches("the same as above").count(), 2, "{text}");
        assert_eq!(text.matches("https://x/1").count(), 1, "{text}");
        assert_eq!(text.matches("https://x/2").count(), 1, "{text}");
    }

    #[test]
    fn a_line_per_check_with_findings_indented() {
        let text = render(&sample(), &Options::default());
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("snconnect verify https://acme.service-now.com (app path)"));
        assert!(text.contains("✓ Instance"), "{text}");
        assert!(text.contains("✗ Service user"), "{text}");
        assert!(text.contains("! Task ACLs"), "{text}");
        assert!(text.contains("- Connect"), "{text}");
        assert!(text.contains(
            "    ✗ user 'incident.io' is locked out (service_user.locked_out)\n      fix:  untick Locked out"
        ), "{text}");
        assert!(text.contains("      link: https://acme.service-now.com/sys_user.do?sys_id=u1"));
        assert!(text.contains("2 passed, 1 warned, 1 failed, 1 skipped"));
        assert!(text.contains("Next: preview the repairs with: snconnect apply --instance https://acme.service-now.com --dry-run"), "{text}");
        assert!(!text.contains('\u{1b}'), "no escape codes without colour");
    }

    #[test]
    fn a_skip_reason_shared_with_the_check_above_is_said_once() {
        let reason = Finding::note(FindingCode::InputAdminMissing, "skipped: no admin password");
        let skipped = |id| CheckResult {
            id,
            title: id.title().to_string(),
            status: Status::Skip,
            duration_ms: 0,
            findings: vec![reason.clone().fix("give the admin password")],
        };
        let report = Report {
            instance: "https://acme.service-now.com".into(),
            path: SetupPath::App,
            strict: false,
            checks: vec![
                skipped(CheckId::App),
                skipped(CheckId::OauthApp),
                skipped(CheckId::Roles),
            ],
            baseline: None,
            changes: None,
            certificate_expires: None,
        };
        let text = render(&report, &Options::default());
        assert_eq!(
            text.matches("skipped: no admin password").count(),
            1,
            "{text}"
        );
        assert_eq!(text.matches("give the admin password").count(), 1, "{text}");
        assert_eq!(
            text.matches("skipped for the same reason as above").count(),
            2,
            "{text}"
        );
    }

    #[test]
    fn colour_only_when_asked() {
        let text = render(
            &sample(),
            &Options {
                color: true,
                ..Options::default()
            },
        );
        assert!(text.contains('\u{1b}'));
    }

    /// The report as a person sees it on terminals of three widths, pinned as snapshots
    /// (`cargo insta review` after a deliberate change). Every line fits, and a link too long for
    /// any line stays whole beside its label.
    #[test]
    fn the_report_at_60_80_and_120_columns() {
        for width in [60, 80, 120] {
            let text = render(
                &sample(),
                &Options {
                    width: Some(width),
                    ..Options::default()
                },
            );
            for line in text.lines() {
                let w = console::measure_text_width(line);
                assert!(
                    w <= width || line.trim_start().starts_with("link: "),
                    "{w} > {width}: {line}"
                );
            }
            insta::assert_snapshot!(format!("report_{width}"), text);
        }
    }

    #[test]
    fn colour_codes_do_not_count_towards_the_width() {
        let plain = render(
            &sample(),
            &Options {
                width: Some(60),
                ..Options::default()
            },
        );
        let coloured = render(
            &sample(),
            &Options {
                width: Some(60),
                color: true,
                ..Options::default()
            },
        );
        assert_eq!(console::strip_ansi_codes(&coloured), plain);
    }

    #[test]
    fn next_step_depends_on_the_outcome() {
        let mut r = sample();
        r.checks.retain(|c| c.status == Status::Pass);
        assert!(next_step(&r).contains("incident.io"));
        r.checks.push(CheckResult::new(
            CheckId::Connect,
            Verdict::skip(Finding::note(FindingCode::InputServiceMissing, "no secret")),
            0,
        ));
        assert!(next_step(&r).starts_with("give the credentials"));
        r.checks[0] = CheckResult::new(
            CheckId::Instance,
            Verdict::from_findings(vec![
                Finding::error(FindingCode::InstanceTls, "tls").fix("x")
            ]),
            1,
        );
        assert!(next_step(&r).starts_with("fix the instance problem"));
    }
}
