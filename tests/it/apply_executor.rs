//! The plan and the executor against the sandbox, in process: a fresh instance goes to ready,
//! a second run writes nothing, refused ACL writes become by-hand steps, and a run stopped after
//! any number of writes converges on the next run without a duplicate record.

use std::time::Duration;

use crate::support::{
    fixture_admin, install_app_by_hand, rows, rt, sandbox_client, sandbox_for_apply,
};
use secrecy::{ExposeSecret, SecretString};
use snconnect::apply::{self, execute, plan, Outcome, Plan, PlanInputs, Secrets, State};
use snconnect::checks::run::{self, ServiceSide};
use snconnect::checks::{Links, Status};
use snconnect::inputs::AdminAuth;
use snconnect::model::{CheckId, SetupPath};
use snconnect::sandbox::fixtures::{ADMIN_PASSWORD, ADMIN_USER};
use snconnect::sandbox::{Sandbox, SandboxConfig};
use snconnect::servicenow::Client;

const USER: &str = "incident.io";

fn sandbox(scenario: &str, allow_acl_insert: bool, with_app: bool) -> Sandbox {
    let sandbox = sandbox_for_apply(scenario, allow_acl_insert);
    if with_app {
        install_app_by_hand(&sandbox);
    }
    sandbox
}

struct Run {
    client: Client,
    links: Links,
}

impl Run {
    fn new(sandbox: &Sandbox) -> Run {
        let client = sandbox_client(sandbox);
        let links = Links::new(client.instance().as_str());
        Run { client, links }
    }

    /// What apply reads: the same gather as verify, as the admin only.
    fn state(&self, path: SetupPath) -> State {
        let read = run::Plan {
            path,
            username: USER.into(),
            client_id: None,
            admin: AdminAuth::Basic {
                user: ADMIN_USER.into(),
                password: SecretString::from(ADMIN_PASSWORD),
            },
            service: ServiceSide::Missing("admin only".into()),
            only: vec![],
            timeout: std::time::Duration::from_secs(10),
            refusals: None,
            retry_refused: false,
            accept_lockout_risk: false,
            egress: Vec::new(),
        };
        let facts = rt().block_on(snconnect::facts::gather(&self.client, &read));
        assert!(facts.admin_ok(), "instance blocked: {:?}", facts.answer);
        facts
    }

    fn plan(&self, path: SetupPath, held: bool) -> Plan {
        plan(
            &self.state(path),
            &PlanInputs {
                path,
                username: USER.into(),
                email: None,
                client_id: None,
                client_secret_held: held,
                password_held: held,
                links: self.links.clone(),
            },
        )
    }

    fn execute(&self, plan: &Plan, secrets: &Secrets) -> Outcome {
        rt().block_on(execute(
            &self.client.session(fixture_admin()),
            plan,
            secrets,
            &|_| {},
        ))
    }

    /// Every check, with the service user's credentials as incident.io would use them.
    fn verify(
        &self,
        path: SetupPath,
        client_id: &str,
        secrets: &Secrets,
    ) -> Vec<(CheckId, Status)> {
        let plan = run::Plan {
            path,
            username: USER.into(),
            client_id: Some(client_id.into()),
            admin: AdminAuth::Basic {
                user: ADMIN_USER.into(),
                password: SecretString::from(ADMIN_PASSWORD),
            },
            service: ServiceSide::Credentials {
                client_id: client_id.into(),
                client_secret: secrets.client_secret.clone().unwrap(),
                password: secrets.password.clone().unwrap(),
            },
            only: vec![],
            timeout: std::time::Duration::from_secs(10),
            refusals: None,
            retry_refused: false,
            accept_lockout_risk: false,
            egress: Vec::new(),
        };
        rt().block_on(snconnect::flows::verify::verify(&self.client, &plan, false))
            .checks
            .into_iter()
            .map(|c| {
                if c.status != Status::Pass {
                    eprintln!("{:?}: {:?} {:#?}", c.id, c.status, c.findings);
                }
                (c.id, c.status)
            })
            .collect()
    }
}

fn generated() -> Secrets {
    Secrets {
        client_secret: Some(apply::secrets::client_secret().unwrap()),
        password: Some(apply::secrets::password().unwrap()),
    }
}

fn client_id_of_entry(sandbox: &Sandbox) -> String {
    sandbox.with_db(|db| db.find("oauth_entity", "name=incident.io")[0]["client_id"].clone())
}

fn writes(sandbox: &Sandbox) -> Vec<String> {
    sandbox
        .requests()
        .into_iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

/// One of each record apply makes, and the instance as a whole passes every check.
fn assert_converged(sandbox: &Sandbox, run: &Run, secrets: &Secrets) {
    assert_eq!(rows(sandbox, "oauth_entity", "name=incident.io"), 1);
    assert_eq!(
        rows(
            sandbox,
            "oauth_entity_auth_scope_mapping",
            "oauth_entity.name=incident.io"
        ),
        1
    );
    assert_eq!(rows(sandbox, "sys_user", "user_name=incident.io"), 1);
    for role in [
        "x_incident_io.api_user",
        "cmdb_read",
        "sn_cmdb_user",
        "incident_manager",
    ] {
        assert_eq!(
            rows(
                sandbox,
                "sys_user_has_role",
                &format!("user.user_name=incident.io^role.name={role}")
            ),
            1,
            "{role}"
        );
    }
    for op in ["read", "create", "write"] {
        assert_eq!(
            rows(
                sandbox,
                "sys_security_acl",
                &format!("name=task^operation={op}")
            ),
            1,
            "{op}"
        );
        assert_eq!(
            rows(
                sandbox,
                "sys_security_acl_role",
                &format!("sys_security_acl.name=task^sys_security_acl.operation={op}")
            ),
            1,
            "{op}"
        );
    }
    let statuses = run.verify(SetupPath::App, &client_id_of_entry(sandbox), secrets);
    assert!(
        statuses.iter().all(|(_, s)| *s == Status::Pass),
        "{statuses:?}"
    );
}

#[test]
fn a_fresh_instance_with_the_app_becomes_ready_and_a_second_run_writes_nothing() {
    let sandbox = sandbox("empty", true, true);
    let run = Run::new(&sandbox);
    let secrets = generated();
    let plan = run.plan(SetupPath::App, false);
    assert_eq!(plan.steps.len(), 18, "{:#?}", plan.steps);
    let outcome = run.execute(&plan, &secrets);
    assert!(outcome.all_applied(), "{:#?}", outcome.results);
    assert!(outcome.manual.is_empty(), "{:#?}", outcome.manual);
    assert_converged(&sandbox, &run, &secrets);

    sandbox.clear_requests();
    let again = run.plan(SetupPath::App, true);
    assert!(again.is_empty(), "{:#?}", again);
    let outcome = run.execute(&again, &secrets);
    assert!(outcome.results.is_empty());
    assert!(writes(&sandbox).is_empty(), "{:?}", writes(&sandbox));
}

#[test]
fn the_password_is_stored_hashed_and_works_for_the_token_grant() {
    let sandbox = sandbox("empty", true, true);
    let run = Run::new(&sandbox);
    let secrets = generated();
    let outcome = run.execute(&run.plan(SetupPath::App, false), &secrets);
    assert!(outcome.all_applied());
    let plain = secrets
        .password
        .as_ref()
        .unwrap()
        .expose_secret()
        .to_string();
    let stored = sandbox.with_db(|db| db.user_by_name(USER).unwrap()["user_password"].clone());
    assert!(!stored.contains(&plain), "password stored as sent");
    let cid = client_id_of_entry(&sandbox);
    let token = rt().block_on(run.client.password_grant(
        &cid,
        secrets.client_secret.as_ref().unwrap(),
        USER,
        secrets.password.as_ref().unwrap(),
    ));
    assert!(token.is_ok(), "{token:?}");
}

#[test]
fn refused_acl_inserts_become_by_hand_steps_with_prefilled_forms_and_the_rest_is_applied() {
    let sandbox = sandbox("empty", false, true);
    let run = Run::new(&sandbox);
    let outcome = run.execute(&run.plan(SetupPath::App, false), &generated());
    assert!(outcome.acl_refused());
    for r in &outcome.results {
        let acl = r.check == CheckId::TaskAcls;
        assert_eq!(r.outcome.succeeded(), !acl, "{r:?}");
    }
    let links: Vec<&str> = outcome
        .manual
        .iter()
        .filter_map(|m| m.link.as_deref())
        .collect();
    assert_eq!(links.len(), 3, "{:#?}", outcome.manual);
    for (link, op) in links.iter().zip(["read", "create", "write"]) {
        assert!(
            link.contains("/sys_security_acl.do?sys_id=-1&sysparm_query="),
            "{link}"
        );
        assert!(link.contains(&format!("operation%3D{op}")), "{link}");
    }
    assert_eq!(rows(&sandbox, "sys_security_acl", "name=task"), 0);
}

#[test]
fn without_the_app_its_role_and_acls_are_left_for_later_and_the_rest_is_applied() {
    let sandbox = sandbox("empty", true, false);
    let run = Run::new(&sandbox);
    let plan = run.plan(SetupPath::App, false);
    let outcome = run.execute(&plan, &generated());
    assert!(outcome.all_applied(), "{:#?}", outcome.results);
    let checks: Vec<CheckId> = outcome.manual.iter().map(|m| m.check).collect();
    assert!(checks.contains(&CheckId::App), "{checks:?}");
    assert!(checks.contains(&CheckId::Roles), "{checks:?}");
    assert_eq!(rows(&sandbox, "sys_security_acl", "name=task"), 0);
    assert_eq!(
        rows(&sandbox, "sys_user_has_role", "user.user_name=incident.io"),
        3
    );
}

#[test]
fn a_run_stopped_after_any_number_of_writes_converges_without_duplicates() {
    let full = {
        let sandbox = sandbox("empty", true, true);
        Run::new(&sandbox).plan(SetupPath::App, false).steps.len()
    };
    for stop_after in 1..full {
        let sandbox = sandbox("empty", true, true);
        let run = Run::new(&sandbox);
        // The secrets were generated and stored before the first write; the next run holds them.
        let secrets = generated();
        let mut first = run.plan(SetupPath::App, false);
        first.steps.truncate(stop_after);
        let outcome = run.execute(&first, &secrets);
        assert!(
            outcome.all_applied(),
            "stop {stop_after}: {:#?}",
            outcome.results
        );

        let second = run.plan(SetupPath::App, true);
        assert!(
            !second.steps.is_empty(),
            "stop {stop_after}: nothing left to do?"
        );
        let outcome = run.execute(&second, &secrets);
        assert!(
            outcome.all_applied(),
            "stop {stop_after}: {:#?}",
            outcome.results
        );
        let third = run.plan(SetupPath::App, true);
        assert!(third.is_empty(), "stop {stop_after}: {third:#?}");
        assert_converged(&sandbox, &run, &secrets);
    }
}

#[test]
fn a_stale_plan_run_twice_finds_its_records_instead_of_inserting_them_again() {
    let sandbox = sandbox("empty", true, true);
    let run = Run::new(&sandbox);
    let secrets = generated();
    let plan = run.plan(SetupPath::App, false);
    assert!(run.execute(&plan, &secrets).all_applied());
    let before: Vec<usize> = TABLES.iter().map(|t| rows(&sandbox, t, "")).collect();
    assert!(before.iter().all(|n| *n > 0), "{before:?}");

    sandbox.clear_requests();
    let outcome = run.execute(&plan, &secrets);
    let after: Vec<usize> = TABLES.iter().map(|t| rows(&sandbox, t, "")).collect();
    assert_eq!(before, after, "a record was inserted twice");
    assert!(
        writes(&sandbox).iter().all(|w| !w.starts_with("POST")),
        "{:?}",
        writes(&sandbox)
    );
    for r in &outcome.results {
        let created = plan.step(&r.id).unwrap().is_create();
        match &r.outcome {
            apply::StepOutcome::Found { .. } => assert!(created, "{r:?}"),
            apply::StepOutcome::Skipped { reason } => {
                assert!(!created && reason.contains("already existed"), "{r:?}")
            }
            other => panic!("{}: {other:?}", r.id),
        }
    }
    assert_converged(&sandbox, &run, &secrets);
}

const TABLES: [&str; 6] = [
    "oauth_entity",
    "oauth_entity_auth_scope_mapping",
    "sys_user",
    "sys_user_has_role",
    "sys_security_acl",
    "sys_security_acl_role",
];

#[test]
fn a_broken_instance_is_repaired_in_place() {
    let sandbox = sandbox("broken", true, false);
    let run = Run::new(&sandbox);
    let plan = run.plan(SetupPath::App, true);
    let ids: Vec<&str> = plan.steps.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "user_repair",
            "grant:sn_cmdb_user",
            "acl:write",
            "acl_role:write",
            "acl_activate:write"
        ]
    );
    assert!(plan.step("user_repair").unwrap().confirm);
    let secrets = Secrets {
        client_secret: Some(SecretString::from(
            snconnect::sandbox::fixtures::CLIENT_SECRET.to_string(),
        )),
        password: Some(SecretString::from(
            snconnect::sandbox::fixtures::SERVICE_PASSWORD.to_string(),
        )),
    };
    let outcome = run.execute(&plan, &secrets);
    assert!(outcome.all_applied(), "{:#?}", outcome.results);
    let statuses = run.verify(SetupPath::App, &client_id_of_entry(&sandbox), &secrets);
    // The read ACL keeps Admin overrides unticked: a warning apply leaves alone.
    for (id, status) in statuses {
        let want = if id == CheckId::TaskAcls {
            Status::Warn
        } else {
            Status::Pass
        };
        assert_eq!(status, want, "{id:?}");
    }
}

#[test]
fn independent_writes_go_out_together() {
    let sandbox = Sandbox::start(SandboxConfig {
        allow_acl_insert: true,
        latency: Duration::from_millis(30),
        ..SandboxConfig::scenario("empty")
    })
    .unwrap();
    install_app_by_hand(&sandbox);
    let run = Run::new(&sandbox);
    let plan = run.plan(SetupPath::App, false);
    sandbox.clear_requests();
    let outcome = run.execute(&plan, &generated());
    assert!(outcome.all_applied());
    assert!(
        sandbox.max_in_flight() >= 4,
        "max in flight {}",
        sandbox.max_in_flight()
    );
}

#[test]
fn on_a_release_without_identity_type_the_new_user_gets_no_such_field() {
    let sandbox = sandbox("user-no-identity-type", true, false);
    sandbox.with_db(|db| db.remove_where("sys_user", "user_name=incident.io"));
    let run = Run::new(&sandbox);
    let plan = run.plan(SetupPath::App, false);
    let user = plan.step("user").expect("the user is planned");
    assert!(
        user.fields.iter().all(|(k, _)| k != "identity_type"),
        "{:?}",
        user.fields
    );
    let outcome = run.execute(&plan, &generated());
    assert!(
        outcome
            .results
            .iter()
            .all(|r| r.check != CheckId::ServiceUser || r.outcome.succeeded()),
        "{:#?}",
        outcome.results
    );

    // On a current release the field is sent.
    let sandbox = self::sandbox("empty", true, false);
    let plan = Run::new(&sandbox).plan(SetupPath::App, false);
    assert!(plan
        .step("user")
        .unwrap()
        .fields
        .iter()
        .any(|(k, _)| k == "identity_type"));
}

#[test]
fn one_check_at_a_time_as_the_wizard_does_reaches_the_same_end() {
    let sandbox = sandbox("empty", true, true);
    let run = Run::new(&sandbox);
    let secrets = generated();
    for check in [
        CheckId::TaskAcls,
        CheckId::Roles,
        CheckId::OauthApp,
        CheckId::ServiceUser,
    ] {
        let part = apply::plan_for(
            check,
            &run.state(SetupPath::App),
            &PlanInputs {
                path: SetupPath::App,
                username: USER.into(),
                email: None,
                client_id: None,
                client_secret_held: true,
                password_held: true,
                links: run.links.clone(),
            },
        );
        assert!(
            part.steps.iter().all(|s| s.check == check
                || (check == CheckId::Roles && s.check == CheckId::ServiceUser)),
            "{check:?}: {:?}",
            part.steps.iter().map(|s| &s.id).collect::<Vec<_>>()
        );
        let outcome = run.execute(&part, &secrets);
        assert!(outcome.all_applied(), "{check:?}: {:#?}", outcome.results);
    }
    assert!(run.plan(SetupPath::App, true).is_empty());
    assert_converged(&sandbox, &run, &secrets);
}
