//! Renderers for a verify run: human, JSON (the contract's shape) and JUnit XML.
//!
//! A [`Report`] is the finished run: the instance, the path and one [`CheckResult`] per check in
//! contract order. It decides the exit code, so every format agrees on what `ok` means.

use crate::checks::{instance, CheckResult, FindingCode, Status};
use crate::exit::Exit;
use crate::model::{CheckId, SetupPath};

pub mod human;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod metrics;
pub mod wrap;

/// One verify run, ready to render.
#[derive(Debug, Clone)]
pub struct Report {
    /// As the user should read it, e.g. `https://acme.service-now.com`.
    pub instance: String,
    pub path: SetupPath,
    /// `--strict`: warnings count as failures for the exit code and `ok`.
    pub strict: bool,
    pub checks: Vec<CheckResult>,
    /// The facts that matter, for the next run to compare with (`None` without admin facts).
    pub baseline: Option<crate::facts::baseline::Baseline>,
    /// What differs from the last good run's baseline, when this run failed and one was kept.
    pub changes: Option<crate::facts::baseline::Changes>,
    /// When the instance's TLS certificate ends (Unix seconds), over https.
    pub certificate_expires: Option<u64>,
}

/// Counts per status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct Summary {
    pub pass: usize,
    pub warn: usize,
    pub fail: usize,
    pub skip: usize,
}

impl Report {
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for c in &self.checks {
            match c.status {
                Status::Pass => s.pass += 1,
                Status::Warn => s.warn += 1,
                Status::Fail => s.fail += 1,
                Status::Skip => s.skip += 1,
            }
        }
        s
    }

    /// True when the `instance` check found something that stopped the run (exit 3).
    pub fn cannot_run(&self) -> bool {
        self.checks
            .iter()
            .any(|c| c.id == CheckId::Instance && instance::blocks_run(c))
    }

    /// The checks skipped because an input was missing (admin or service credentials): not
    /// verified, as opposed to not selected or not applicable. `--strict` fails on them.
    pub fn not_verified(&self) -> Vec<&CheckResult> {
        self.checks
            .iter()
            .filter(|c| {
                c.status == Status::Skip
                    && c.findings.iter().any(|f| {
                        matches!(
                            f.code,
                            FindingCode::InputAdminMissing | FindingCode::InputServiceMissing
                        )
                    })
            })
            .collect()
    }

    /// The contract's exit code for this run.
    pub fn exit(&self) -> Exit {
        let s = self.summary();
        if self.cannot_run() {
            Exit::CannotRun
        } else if s.fail > 0 || (self.strict && (s.warn > 0 || !self.not_verified().is_empty())) {
            Exit::Failed
        } else {
            Exit::Ok
        }
    }

    /// What the JSON calls `ok`: the run exits 0.
    pub fn ok(&self) -> bool {
        self.exit() == Exit::Ok
    }

    pub fn check(&self, id: CheckId) -> Option<&CheckResult> {
        self.checks.iter().find(|c| c.id == id)
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;
    use crate::checks::{Finding, FindingCode, Verdict};

    /// A report with one check of each status and the usual kinds of finding.
    pub fn sample() -> Report {
        let v = |findings| Verdict::from_findings(findings);
        Report {
            instance: "https://acme.service-now.com".into(),
            path: SetupPath::App,
            strict: false,
            checks: vec![
                CheckResult::new(CheckId::Instance, v(vec![]), 12),
                CheckResult::new(
                    CheckId::App,
                    v(vec![Finding::note(
                        FindingCode::AppVersion,
                        "the incident.io app 'incident.io' is at version 2.3.1",
                    )]),
                    30,
                ),
                CheckResult::new(
                    CheckId::ServiceUser,
                    v(vec![Finding::error(
                        FindingCode::UserLockedOut,
                        "user 'incident.io' is locked out",
                    )
                    .fix("untick Locked out on the user record, or run snconnect apply")
                    .link("https://acme.service-now.com/sys_user.do?sys_id=u1")
                    .remedy(crate::model::Remedy::Apply(vec![
                        "user_repair".into()
                    ]))]),
                    84,
                ),
                CheckResult::new(
                    CheckId::TaskAcls,
                    v(vec![Finding::warning(
                        FindingCode::AclAdminOverridesOff,
                        "the read ACL on task (r1) has Admin overrides unticked & <odd> \"chars\"",
                    )
                    .fix("tick Admin overrides")]),
                    40,
                ),
                CheckResult::new(
                    CheckId::Connect,
                    Verdict::skip(Finding::note(
                        FindingCode::InputServiceMissing,
                        "no client secret: set SNCONNECT_CLIENT_SECRET",
                    )),
                    0,
                ),
            ],
            baseline: None,
            changes: None,
            certificate_expires: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::sample;
    use super::*;
    use crate::checks::{Finding, FindingCode, Verdict};

    #[test]
    fn summary_counts_each_status() {
        assert_eq!(
            sample().summary(),
            Summary {
                pass: 2,
                warn: 1,
                fail: 1,
                skip: 1
            }
        );
    }

    #[test]
    fn exit_code_follows_the_contract() {
        let mut r = sample();
        assert_eq!(r.exit(), Exit::Failed);
        r.checks.retain(|c| c.status != Status::Fail);
        assert_eq!(r.exit(), Exit::Ok, "warnings alone pass");
        r.strict = true;
        assert_eq!(r.exit(), Exit::Failed, "--strict fails on warnings");
        r.checks[0] = CheckResult::new(
            CheckId::Instance,
            Verdict::from_findings(vec![Finding::error(
                FindingCode::InstanceHibernating,
                "asleep",
            )
            .fix("wake it")]),
            1,
        );
        assert_eq!(r.exit(), Exit::CannotRun);
        assert!(!r.ok());
    }
}
