//! A verify run's judgement: [`crate::facts::gather`] reads the instance, then [`diagnose`] judges the facts,
//! check by check in contract order. Diagnosis is pure: the same facts always give the same
//! report, and every verdict is table-tested over facts without HTTP.

use super::{
    app, connect, instance, oauth_app, posture, roles, service_user, task_acls, CheckResult,
    Context, Finding, FindingCode, Lookup, Verdict,
};
use crate::facts::Facts;
pub use crate::facts::{Plan, ServiceSide};
use crate::inputs::AdminAuth;
use crate::model::CheckId;

/// What every check's evaluation needs besides its facts.
pub fn context(plan: &Plan, instance: &str) -> Context {
    Context {
        path: plan.path,
        username: plan.username.clone(),
        client_id: plan.client_id.clone(),
        links: super::Links::new(instance),
    }
}

/// The `instance` check alone: whether the instance and the admin's credentials can be used.
pub fn instance_result(facts: &Facts, plan: &Plan, instance: &str) -> CheckResult {
    let ctx = context(plan, instance);
    let verdict = instance::evaluate(
        &instance::Facts {
            admin: facts.admin.clone(),
            answer: facts.answer.clone(),
            timeout: plan.timeout,
            certificate_expires: facts.certificate_expires,
            now: crate::model::unix_now(),
        },
        &ctx,
    );
    CheckResult::new(CheckId::Instance, verdict, facts.timings.identity)
}

fn not_selected() -> Finding {
    Finding::note(FindingCode::RunNotSelected, "not selected with --only")
}

/// Judges the facts: every check's verdict, in contract order; `connect` last, so it can read
/// the others' findings.
pub fn diagnose(facts: &Facts, plan: &Plan, instance: &str) -> Vec<CheckResult> {
    let ctx = context(plan, instance);
    let t = facts.timings;
    let instance_result = instance_result(facts, plan, instance);
    let blocked = instance::blocks_run(&instance_result);
    // Blocked although the instance answered: the admin's credentials were the problem.
    let admin_rejected = blocked && facts.answer.instance_usable();

    let skip_reason = |id: CheckId| -> Option<Finding> {
        if !plan.selected(id) {
            return Some(not_selected());
        }
        if blocked {
            return Some(if admin_rejected {
                Finding::note(
                    FindingCode::RunAdminRejected,
                    "not run: the admin credentials were refused (see instance)",
                )
            } else {
                Finding::note(
                    FindingCode::RunInstanceUnavailable,
                    "not run: the instance could not be used (see instance)",
                )
            });
        }
        None
    };
    let admin_skip = |id: CheckId| -> Option<Finding> {
        skip_reason(id).or_else(|| match &plan.admin {
            AdminAuth::Missing(why) => Some(
                Finding::note(FindingCode::InputAdminMissing, format!("skipped: {why}")).fix(
                    format!("give admin credentials: {}", instance::ADMIN_INPUTS),
                ),
            ),
            _ => None,
        })
    };
    let judged = |id: CheckId, ms: u64, evaluate: &dyn Fn() -> Verdict| match admin_skip(id) {
        Some(reason) => CheckResult::new(id, Verdict::skip(reason), 0),
        None => CheckResult::new(id, evaluate(), ms),
    };

    let mut results = Vec::with_capacity(7);
    results.push(if plan.selected(CheckId::Instance) || blocked {
        instance_result
    } else {
        CheckResult::new(CheckId::Instance, Verdict::skip(not_selected()), t.identity)
    });

    results.push(judged(CheckId::App, t.app, &|| {
        app::evaluate(
            &app::Facts {
                store: facts.app.clone(),
                custom: facts.custom.clone(),
            },
            &ctx,
        )
    }));

    results.push(judged(CheckId::OauthApp, t.oauth, &|| {
        oauth_app::evaluate(
            &oauth_app::Facts {
                entries: facts.entries.clone(),
                mappings: facts.mappings.clone(),
                properties: facts.properties.clone(),
                now: crate::model::unix_now(),
            },
            &ctx,
        )
    }));

    let user_facts = service_user::Facts {
        user: facts.user.clone(),
    };
    results.push(judged(CheckId::ServiceUser, t.identity, &|| {
        service_user::evaluate(&user_facts, &ctx)
    }));

    let user_state = match &user_facts.user {
        Lookup::Rows(_) => match service_user::found(&user_facts, &plan.username) {
            Some(u) => roles::UserState::Found {
                sys_id: u.sys_id.clone(),
            },
            None => roles::UserState::Missing,
        },
        _ => roles::UserState::Unknown,
    };
    let roles_facts = roles::Facts {
        user: user_state,
        held: facts.held.clone(),
        existing: match &facts.roles {
            Lookup::Rows(rows) => Lookup::Rows(rows.iter().map(|r| r.name.clone()).collect()),
            Lookup::Hidden { total } => Lookup::Hidden { total: *total },
            Lookup::Failed(f) => Lookup::Failed(f.clone()),
        },
    };
    results.push(judged(CheckId::Roles, t.roles, &|| {
        roles::evaluate(&roles_facts, &ctx)
    }));

    results.push(judged(CheckId::TaskAcls, t.acls, &|| {
        task_acls::evaluate(
            &task_acls::Facts {
                user_holds_admin: roles::holds_admin(&roles_facts),
                acls: facts.acls.clone(),
                acl_roles: facts.acl_roles.clone(),
            },
            &ctx,
        )
    }));

    results.push(judged(CheckId::Posture, t.posture, &|| {
        posture::evaluate(
            &posture::Facts {
                user: service_user::found(&user_facts, &plan.username).cloned(),
                held: facts.held.clone(),
                properties: facts.properties.clone(),
                policies: facts.api_policies.clone(),
                ip_rules: facts.ip_rules.clone(),
                preservers: facts.preservers.clone(),
                // The entry the oauth_app check judges: a preserver must keep that one.
                entry_id: facts.entries.rows().and_then(|rows| {
                    let named: Vec<&oauth_app::Entry> =
                        rows.iter().filter(|e| e.is_incident_io()).collect();
                    oauth_app::entry_in_use(&named, plan.client_id.as_deref())
                        .map(|e| e.sys_id.clone())
                }),
                egress: plan.egress.clone(),
            },
            &ctx,
        )
    }));

    let connect_result = match (&plan.service, &facts.token) {
        _ if !plan.selected(CheckId::Connect) => {
            CheckResult::new(CheckId::Connect, Verdict::skip(not_selected()), 0)
        }
        (ServiceSide::Missing(why), _) => CheckResult::new(
            CheckId::Connect,
            Verdict::skip(
                Finding::note(FindingCode::InputServiceMissing, format!("skipped: {why}"))
                    .fix("give the client id, client secret and service user password"),
            ),
            0,
        ),
        // The instance itself is unusable (not merely the admin refused): nothing to connect to.
        _ if blocked && !admin_rejected => CheckResult::new(
            CheckId::Connect,
            Verdict::skip(Finding::note(
                FindingCode::RunInstanceUnavailable,
                "not run: the instance could not be used (see instance)",
            )),
            0,
        ),
        (ServiceSide::Credentials { client_id, .. }, None) => {
            let gate = connect::Gate {
                admin_facts: facts.admin_ok(),
                user: &facts.user,
                entries: &facts.entries,
                client_id,
                threshold: facts.lockout_threshold,
                refused_at: facts.refused_at,
                accept_lockout_risk: plan.accept_lockout_risk,
            };
            match connect::withheld(&gate, &ctx) {
                Some(why) => {
                    CheckResult::new(CheckId::Connect, Verdict::from_findings(vec![why]), 0)
                }
                None => CheckResult::new(CheckId::Connect, Verdict::skip(not_selected()), 0),
            }
        }
        (_, Some(token)) => {
            let connect_facts = connect::Facts {
                token: token.clone(),
                probes: facts.probes.clone(),
                user_before: match &facts.user {
                    Lookup::Rows(rows) if rows.len() == 1 => rows.first().cloned(),
                    _ => None,
                },
                failed_attempts_after: facts.failed_attempts_after,
            };
            let v = connect::evaluate(&connect_facts, &ctx, &results);
            CheckResult::new(CheckId::Connect, v, t.token + t.probes)
        }
    };
    results.push(connect_result);
    results
}
