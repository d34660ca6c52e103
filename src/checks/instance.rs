//! `instance`: the address answers as a ServiceNow instance, and the admin credentials, if any,
//! are accepted.
//!
//! This check's single request is the first thing a run sends with the admin's credentials, so
//! wrong credentials cost exactly one failed login. Without admin credentials the request goes out
//! anonymously, and ServiceNow's JSON 401 is itself the proof that a ServiceNow instance answered.

use super::{CheckResult, Context, Finding, FindingCode, Verdict};

pub use crate::inputs::AdminLogin;

/// What the instance answered to the check's one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The admin request succeeded; the name is the signed-in user's, when the row was visible.
    SignedIn {
        user_name: Option<String>,
    },
    /// The anonymous request got ServiceNow's JSON 401.
    AnonymousRejected,
    /// The anonymous request was answered with data (unusual, but it is ServiceNow).
    AnonymousAccepted,
    Unreachable {
        detail: String,
    },
    /// No answer in time: within the request timeout, or (`deadline`, seconds) before the
    /// run's whole time ran out.
    Timeout {
        deadline: Option<u64>,
    },
    Tls {
        detail: String,
    },
    /// The proxy (HTTPS_PROXY/ALL_PROXY) would not open a tunnel to the instance.
    Proxy {
        detail: String,
    },
    Hibernating,
    LoginPage,
    NotServiceNow {
        detail: String,
    },
    /// 401 to the admin's credentials.
    Rejected {
        mfa_required: bool,
    },
    /// Not asked: an earlier run saw these exact admin credentials refused (unix seconds).
    RefusedBefore {
        at: u64,
    },
    ServerError {
        status: u16,
    },
    /// 429 after retries, or with a `Retry-After` beyond what the run may wait; `detail` says
    /// until when.
    RateLimited {
        detail: String,
    },
    Unexpected {
        detail: String,
    },
}

impl Answer {
    /// The instance itself answered as ServiceNow, whatever became of the admin's credentials:
    /// the service user's side may still go ahead. Everything else blocks the whole run (see
    /// [`blocks_run`], which also stops the admin-side checks when the admin was refused).
    pub fn instance_usable(&self) -> bool {
        matches!(
            self,
            Answer::SignedIn { .. }
                | Answer::Rejected { .. }
                | Answer::RefusedBefore { .. }
                | Answer::AnonymousAccepted
                | Answer::AnonymousRejected
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub admin: AdminLogin,
    pub answer: Answer,
    /// The `--timeout` in effect, to say how long was waited.
    pub timeout: std::time::Duration,
    /// When the instance's TLS certificate ends (Unix seconds), over https; and now.
    pub certificate_expires: Option<u64>,
    pub now: u64,
}

/// How far ahead an ending certificate is warned of: time for a renewal to be noticed and done.
pub const CERTIFICATE_WARNING_DAYS: u64 = 30;

/// The flags and variables that carry admin credentials, for messages.
pub const ADMIN_INPUTS: &str =
    "--admin-user with --admin-password-stdin (or SNCONNECT_ADMIN_USER and \
SNCONNECT_ADMIN_PASSWORD), or SNCONNECT_ADMIN_TOKEN";

pub fn evaluate(facts: &Facts, ctx: &Context) -> Verdict {
    let host = ctx.links.base();
    let finding = match &facts.answer {
        Answer::SignedIn { .. } | Answer::AnonymousAccepted => None,
        Answer::AnonymousRejected => None,
        Answer::Unreachable { detail } => Some(
            Finding::error(
                FindingCode::InstanceUnreachable,
                format!("nothing answered at {host}: {detail}"),
            )
            .fix(
                "check the instance name for typos, your network and VPN, and HTTPS_PROXY/NO_PROXY; \
                 a subdomain like `acme` means acme.service-now.com",
            ),
        ),
        Answer::Timeout { deadline: None } => Some(
            Finding::error(
                FindingCode::InstanceTimeout,
                format!(
                    "{host} did not answer within {}",
                    humantime::format_duration(facts.timeout)
                ),
            )
            .fix("check your network or proxy, or allow longer with --timeout DURATION (e.g. 60s)"),
        ),
        Answer::Timeout {
            deadline: Some(secs),
        } => Some(
            Finding::error(
                FindingCode::InstanceTimeout,
                format!("{host} did not answer before the run's time ({secs} s) ran out"),
            )
            .fix("check your network or proxy, or allow the whole run longer with --deadline DURATION (e.g. 5m)"),
        ),
        Answer::Tls { detail } => Some(
            Finding::error(
                FindingCode::InstanceTls,
                format!("the TLS connection to {host} failed: {detail}"),
            )
            .fix(
                "if a proxy inspects TLS on your network, pass its root certificate with \
                 --ca-cert PATH; otherwise check the address is really your instance",
            ),
        ),
        // Still `unreachable` (the instance could not be reached), but the fix is the proxy.
        Answer::Proxy { detail } => Some(
            Finding::error(
                FindingCode::InstanceUnreachable,
                format!("the proxy would not connect to {host}: {detail}"),
            )
            .fix(
                "check HTTPS_PROXY (or ALL_PROXY) and NO_PROXY: the proxy must allow CONNECT to \
                 the instance's host on port 443; if it asks for credentials (407), put them in \
                 the proxy URL; if the instance should be reached directly, add its host to \
                 NO_PROXY",
            ),
        ),
        Answer::Hibernating => Some(
            Finding::error(
                FindingCode::InstanceHibernating,
                format!("{host} is hibernating: it answers with the hibernation page, not the API"),
            )
            .fix(
                "wake it: sign in at developer.servicenow.com and start the instance from your \
                 profile menu, wait until it is up (a few minutes), then run again",
            )
            .link("https://developer.servicenow.com/dev.do"),
        ),
        Answer::LoginPage => Some(
            Finding::error(
                FindingCode::InstanceLoginPage,
                format!("{host} answered the REST API with an HTML login page"),
            )
            .fix(
                "the address may point at an SSO portal rather than the instance: use the \
                 instance's own name (e.g. acme.service-now.com)",
            ),
        ),
        Answer::NotServiceNow { detail } => Some(
            Finding::error(
                FindingCode::InstanceNotServiceNow,
                format!("{host} does not answer like a ServiceNow instance: {detail}"),
            )
            .fix("check the address: it should be your instance, e.g. acme.service-now.com"),
        ),
        Answer::Rejected { mfa_required: true } => Some(
            Finding::error(
                FindingCode::InstanceAdminMfa,
                format!(
                    "the instance refused {}: it requires multi-factor authentication for API logins",
                    admin_name(&facts.admin)
                ),
            )
            .fix(
                "use an admin account that is not enrolled in MFA for API access, or set \
                 SNCONNECT_ADMIN_TOKEN to an OAuth bearer token for your admin; the instance \
                 enforces this with glide.authenticate.multifactor.for_integrations",
            ),
        ),
        Answer::Rejected { mfa_required: false } => Some(
            Finding::error(
                FindingCode::InstanceAdminRejected,
                format!("the instance refused {} (401)", admin_name(&facts.admin)),
            )
            .fix(match facts.admin {
                AdminLogin::Bearer => {
                    "SNCONNECT_ADMIN_TOKEN was refused: it may have expired; get a fresh token"
                        .to_string()
                }
                _ => format!(
                    "check the admin user name and password ({ADMIN_INPUTS}); snconnect tried once \
                     and will not retry, because ServiceNow locks accounts after repeated failures"
                ),
            }),
        ),
        Answer::RefusedBefore { at } => Some(
            Finding::error(
                FindingCode::InstanceAdminRefusedBefore,
                format!(
                    "the instance refused {} at {}; not tried again, to protect the account \
                     from lockout (no request was sent)",
                    admin_name(&facts.admin),
                    crate::model::utc_timestamp(*at)
                ),
            )
            .fix(format!(
                "correct the admin credentials ({ADMIN_INPUTS}), or, once the account is right \
                 on the instance, run again with --retry-refused"
            )),
        ),
        Answer::ServerError { status } => Some(
            Finding::error(
                FindingCode::InstanceServerError,
                format!("{host} kept failing with HTTP {status} after retries"),
            )
            .fix("the instance is unwell or being upgraded: try again later"),
        ),
        Answer::RateLimited { detail } => Some(
            Finding::error(
                FindingCode::InstanceRateLimited,
                format!("{host} kept answering 429 (rate limited): {detail}"),
            )
            .fix("wait for the rate limit window to pass, then run again"),
        ),
        Answer::Unexpected { detail } => Some(
            Finding::error(
                FindingCode::InstanceUnexpected,
                format!("{host} answered in a way snconnect cannot use: {detail}"),
            )
            .fix("run again with -v to see the request log"),
        ),
    };
    let mut findings: Vec<Finding> = finding.into_iter().collect();
    if let Some(expires) = facts.certificate_expires {
        let left = expires.saturating_sub(facts.now);
        if left < CERTIFICATE_WARNING_DAYS * 86_400 {
            let when = crate::model::utc_timestamp(expires);
            let message = if left == 0 {
                format!(
                    "the TLS certificate of {host} expired on {when}: incident.io cannot connect"
                )
            } else {
                format!(
                    "the TLS certificate of {host} expires on {when}, in {} days: after that \
                     incident.io cannot connect",
                    left / 86_400
                )
            };
            findings.push(
                Finding::warning(FindingCode::InstanceCertificateExpiring, message).fix(
                    "renew the certificate of the instance's custom domain (ServiceNow renews \
                     its own *.service-now.com certificates), or check a TLS-inspecting proxy's",
                ),
            );
        }
    }
    if findings
        .iter()
        .all(|f| f.code == FindingCode::InstanceCertificateExpiring)
        && facts.admin == AdminLogin::None
    {
        findings.push(
            Finding::note(
                FindingCode::InstanceAnonymousOnly,
                format!(
                    "{host} answers as ServiceNow; without admin credentials the configuration \
                     checks are skipped"
                ),
            )
            .fix(format!("give admin credentials: {ADMIN_INPUTS}")),
        );
    }
    Verdict::from_findings(findings)
}

fn admin_name(admin: &AdminLogin) -> String {
    match admin {
        AdminLogin::Basic { user } => format!("admin user '{user}'"),
        AdminLogin::Bearer => "the admin bearer token (SNCONNECT_ADMIN_TOKEN)".to_string(),
        AdminLogin::None => "the anonymous request".to_string(),
    }
}

/// True when the `instance` check's outcome means nothing else could run: the contract's exit 3.
pub fn blocks_run(result: &CheckResult) -> bool {
    result.findings.iter().any(|f| {
        matches!(
            f.code,
            FindingCode::InstanceUnreachable
                | FindingCode::InstanceTimeout
                | FindingCode::InstanceTls
                | FindingCode::InstanceHibernating
                | FindingCode::InstanceLoginPage
                | FindingCode::InstanceNotServiceNow
                | FindingCode::InstanceAdminRejected
                | FindingCode::InstanceAdminRefusedBefore
                | FindingCode::InstanceAdminMfa
                | FindingCode::InstanceServerError
                | FindingCode::InstanceRateLimited
                | FindingCode::InstanceUnexpected
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::*;
    use crate::checks::Status;
    use crate::model::{CheckId, SetupPath};

    fn facts(admin: AdminLogin, answer: Answer) -> Facts {
        Facts {
            admin,
            answer,
            timeout: std::time::Duration::from_secs(30),
            certificate_expires: None,
            now: 1_800_000_000,
        }
    }

    /// Issue 15: a certificate that ends within the warning period is a warning with its date;
    /// one further away, or none (plain http), says nothing.
    #[test]
    fn an_ending_certificate_is_warned_of_with_its_date() {
        let ctx = ctx(SetupPath::App);
        let with = |days: u64| Facts {
            certificate_expires: Some(1_800_000_000 + days * 86_400),
            ..facts(basic(), Answer::SignedIn { user_name: None })
        };
        let soon = evaluate(&with(10), &ctx);
        assert_eq!(soon.status, Status::Warn);
        assert_eq!(
            soon.findings[0].code,
            FindingCode::InstanceCertificateExpiring
        );
        assert!(
            soon.findings[0].message.contains("in 10 days"),
            "{:?}",
            soon.findings
        );
        let later = evaluate(&with(90), &ctx);
        assert_eq!(later.status, Status::Pass);
        let gone = evaluate(
            &Facts {
                certificate_expires: Some(1),
                ..facts(basic(), Answer::SignedIn { user_name: None })
            },
            &ctx,
        );
        assert!(
            gone.findings[0].message.contains("expired on"),
            "{:?}",
            gone.findings
        );
    }

    fn basic() -> AdminLogin {
        AdminLogin::Basic {
            user: "admin".into(),
        }
    }

    #[test]
    fn each_answer_maps_to_its_status_and_code() {
        use FindingCode as C;
        let cases: Vec<(Facts, Status, Vec<FindingCode>, bool)> = vec![
            (
                facts(
                    basic(),
                    Answer::SignedIn {
                        user_name: Some("admin".into()),
                    },
                ),
                Status::Pass,
                vec![],
                false,
            ),
            (
                facts(AdminLogin::None, Answer::AnonymousRejected),
                Status::Pass,
                vec![C::InstanceAnonymousOnly],
                false,
            ),
            (
                facts(AdminLogin::None, Answer::AnonymousAccepted),
                Status::Pass,
                vec![C::InstanceAnonymousOnly],
                false,
            ),
            (
                facts(
                    basic(),
                    Answer::Unreachable {
                        detail: "dns".into(),
                    },
                ),
                Status::Fail,
                vec![C::InstanceUnreachable],
                true,
            ),
            (
                facts(basic(), Answer::Timeout { deadline: None }),
                Status::Fail,
                vec![C::InstanceTimeout],
                true,
            ),
            (
                facts(
                    basic(),
                    Answer::Tls {
                        detail: "unknown issuer".into(),
                    },
                ),
                Status::Fail,
                vec![C::InstanceTls],
                true,
            ),
            (
                facts(
                    basic(),
                    Answer::Proxy {
                        detail: "it refused the CONNECT request".into(),
                    },
                ),
                Status::Fail,
                vec![C::InstanceUnreachable],
                true,
            ),
            (
                facts(AdminLogin::None, Answer::Hibernating),
                Status::Fail,
                vec![C::InstanceHibernating],
                true,
            ),
            (
                facts(basic(), Answer::LoginPage),
                Status::Fail,
                vec![C::InstanceLoginPage],
                true,
            ),
            (
                facts(
                    basic(),
                    Answer::NotServiceNow {
                        detail: "HTML".into(),
                    },
                ),
                Status::Fail,
                vec![C::InstanceNotServiceNow],
                true,
            ),
            (
                facts(
                    basic(),
                    Answer::Rejected {
                        mfa_required: false,
                    },
                ),
                Status::Fail,
                vec![C::InstanceAdminRejected],
                true,
            ),
            (
                facts(basic(), Answer::Rejected { mfa_required: true }),
                Status::Fail,
                vec![C::InstanceAdminMfa],
                true,
            ),
            (
                facts(basic(), Answer::ServerError { status: 503 }),
                Status::Fail,
                vec![C::InstanceServerError],
                true,
            ),
            (
                facts(basic(), Answer::RateLimited { detail: "x".into() }),
                Status::Fail,
                vec![C::InstanceRateLimited],
                true,
            ),
            (
                facts(basic(), Answer::Unexpected { detail: "x".into() }),
                Status::Fail,
                vec![C::InstanceUnexpected],
                true,
            ),
        ];
        let ctx = ctx(SetupPath::App);
        for (facts, status, want, blocks) in cases {
            let v = evaluate(&facts, &ctx);
            assert_eq!(v.status, status, "{facts:?}");
            assert_eq!(codes(&v), want, "{facts:?}");
            assert_actionable(&v);
            let result = CheckResult::new(CheckId::Instance, v, 1);
            assert_eq!(blocks_run(&result), blocks, "{facts:?}");
        }
    }

    #[test]
    fn rejected_admin_message_names_the_user_and_promises_no_retry() {
        let v = evaluate(
            &facts(
                basic(),
                Answer::Rejected {
                    mfa_required: false,
                },
            ),
            &ctx(SetupPath::App),
        );
        let f = &v.findings[0];
        assert!(f.message.contains("'admin'"), "{}", f.message);
        assert!(f.fix.as_deref().unwrap().contains("will not retry"));
    }

    #[test]
    fn hibernating_says_how_to_wake_the_instance() {
        let v = evaluate(
            &facts(AdminLogin::None, Answer::Hibernating),
            &ctx(SetupPath::App),
        );
        let f = &v.findings[0];
        assert!(f.fix.as_deref().unwrap().contains("wake"));
        assert!(f
            .link
            .as_deref()
            .unwrap()
            .contains("developer.servicenow.com"));
    }
}
