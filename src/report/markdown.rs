//! `--format markdown`: the report for a CI job summary or a pull-request comment (GitHub,
//! GitLab): one table of the checks, then what failed or warned, each finding with its fix and a
//! link into the instance.
//!
//! Text from the instance goes into a page that renderers treat as Markdown *and* HTML, so every
//! message is escaped for both: control characters as in the other formats
//! ([`crate::text::escaped`]), then the characters Markdown or HTML would act on.

use super::Report;
use crate::checks::{CheckResult, Finding, Severity, Status};
use crate::text::escaped;

/// Text safe in a Markdown paragraph or table cell: no markup, no HTML, one line.
pub(crate) fn plain(text: &str) -> String {
    let mut out = String::new();
    for c in escaped(text).chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '~' | '!' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// A link target: only http(s), and no character that would end the Markdown link early.
fn target(url: &str) -> Option<String> {
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return None;
    }
    Some(
        url.chars()
            .map(|c| match c {
                '(' => "%28".to_string(),
                ')' => "%29".to_string(),
                ' ' => "%20".to_string(),
                '<' => "%3C".to_string(),
                '>' => "%3E".to_string(),
                c if c.is_control() => String::new(),
                c => c.to_string(),
            })
            .collect(),
    )
}

fn mark(status: Status) -> &'static str {
    match status {
        Status::Pass => "✅ pass",
        Status::Warn => "⚠️ warn",
        Status::Fail => "❌ fail",
        Status::Skip => "⏭️ skip",
    }
}

fn finding(f: &Finding) -> String {
    let lead = match f.severity {
        Severity::Error => "❌",
        Severity::Warning => "⚠️",
        Severity::Note => "ℹ️",
    };
    let mut s = format!("- {lead} {} (`{}`)\n", plain(&f.message), f.code.as_str());
    if let Some(fix) = &f.fix {
        s.push_str(&format!("  - Fix: {}\n", plain(fix)));
    }
    if let Some(url) = f.link.as_deref().and_then(target) {
        s.push_str(&format!("  - [Open in the instance]({url})\n"));
    }
    s
}

fn needs_detail(c: &CheckResult) -> bool {
    matches!(c.status, Status::Fail | Status::Warn)
}

/// The report as Markdown, ending with a newline.
pub fn render(report: &Report) -> String {
    let mut s = format!(
        "### snconnect verify: {} ({} path)\n\n",
        plain(&report.instance),
        report.path.as_str()
    );
    s.push_str(&table(report));
    let s_ = report.summary();
    s.push_str(&format!(
        "\n**{}**: {} passed, {} warned, {} failed, {} skipped\n",
        if report.ok() { "OK" } else { "Not ready" },
        s_.pass,
        s_.warn,
        s_.fail,
        s_.skip
    ));
    for c in report.checks.iter().filter(|c| needs_detail(c)) {
        s.push_str(&format!("\n#### {}: {}\n\n", c.title, mark(c.status)));
        for f in c.findings.iter().filter(|f| f.severity != Severity::Note) {
            s.push_str(&finding(f));
        }
    }
    s
}

/// The checks as one table: check, status, the codes of what it found.
fn table(report: &Report) -> String {
    let mut s = String::from("| Check | Status | Findings |\n|---|---|---|\n");
    for c in &report.checks {
        let codes: Vec<String> = c
            .findings
            .iter()
            .filter(|f| f.severity != Severity::Note || c.status == Status::Skip)
            .map(|f| format!("`{}`", f.code.as_str()))
            .collect();
        s.push_str(&format!(
            "| {} | {} | {} |\n",
            c.title,
            mark(c.status),
            codes.join(", ")
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_support::sample;

    #[test]
    fn a_report_is_a_table_then_the_details_of_what_failed_or_warned() {
        let md = render(&sample());
        assert!(md.starts_with("### snconnect verify: https://acme.service-now.com (app path)"));
        assert!(md.contains("| Check | Status | Findings |"), "{md}");
        assert!(md.contains("**Not ready**"), "{md}");
        assert!(md.contains("#### Service user: ❌ fail"), "{md}");
        assert!(md.contains("  - Fix: "), "{md}");
        insta::assert_snapshot!(md);
    }

    #[test]
    fn instance_text_cannot_inject_markup_html_or_links() {
        assert_eq!(
            plain("<img src=x onerror=alert(1)> | **bold** [a](b)"),
            "&lt;img src=x onerror=alert(1)&gt; \\| \\*\\*bold\\*\\* \\[a\\](b)"
        );
        assert_eq!(target("javascript:alert(1)"), None);
        assert_eq!(
            target("https://a.example/x) [evil](https://b").as_deref(),
            Some("https://a.example/x%29%20[evil]%28https://b")
        );
    }
}
