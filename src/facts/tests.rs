//! Unit tests of `facts/mod.rs`, kept apart so the code reads on its own.
use serde_json::json;

use super::*;
use crate::servicenow::RequestTarget;

fn record(v: serde_json::Value) -> Record {
    Record(v.as_object().unwrap().clone())
}

fn page(records: Vec<Record>, total: u64) -> Result<Page, SnError> {
    Ok(Page {
        records,
        total_count: Some(total),
        next_offset: None,
    })
}

fn err(kind: ErrorKind) -> Result<Page, SnError> {
    Err(SnError::new(kind, RequestTarget::default()))
}

fn admin_row() -> Record {
    record(json!({"sys_id": "a1", "user_name": "admin", "active": "true"}))
}

fn service_row(extra: serde_json::Value) -> Record {
    let mut r = json!({"sys_id": "u1", "user_name": "incident.io", "active": "true",
        "locked_out": "false", "password_needs_reset": "false", "failed_attempts": "0"});
    r.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    record(r)
}

#[test]
fn the_identity_request_separates_the_admin_row_from_the_service_user() {
    let result = page(
        vec![
            admin_row(),
            service_row(json!({"identity_type": "machine"})),
        ],
        2,
    );
    match instance_answer(&result, true, "incident.io") {
        instance::Answer::SignedIn { user_name } => {
            assert_eq!(user_name.as_deref(), Some("admin"))
        }
        other => panic!("{other:?}"),
    }
    let Lookup::Rows(users) = service_user_lookup(&result, "incident.io") else {
        panic!("rows expected");
    };
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].sys_id, "u1");
    assert_eq!(
        users[0].identity_type,
        service_user::FieldValue::Value("machine".into())
    );
}

#[test]
fn a_counted_but_unreturned_service_user_is_hidden_not_missing() {
    let hidden = page(vec![admin_row()], 2);
    assert_eq!(
        service_user_lookup(&hidden, "incident.io"),
        Lookup::Hidden { total: 1 }
    );
    let missing = page(vec![admin_row()], 1);
    assert_eq!(
        service_user_lookup(&missing, "incident.io"),
        Lookup::Rows(vec![])
    );
}

#[test]
fn identity_type_absent_empty_and_set_are_told_apart() {
    use service_user::FieldValue;
    let absent = decoded::<service_user::User>(&service_row(json!({}))).unwrap();
    assert_eq!(absent.identity_type, FieldValue::Absent);
    let empty = decoded::<service_user::User>(&service_row(json!({"identity_type": ""}))).unwrap();
    assert_eq!(empty.identity_type, FieldValue::Empty);
    let locked = decoded::<service_user::User>(&service_row(
        json!({"locked_out": "true", "failed_attempts": "5"}),
    ))
    .unwrap();
    assert_eq!(locked.locked_out, Some(true));
    assert_eq!(locked.failed_attempts, Some(5));
}

#[test]
fn errors_map_to_instance_answers() {
    use instance::Answer;
    let cases = [
        (
            ErrorKind::Unauthorized {
                mfa_required: false,
            },
            false,
            Answer::AnonymousRejected,
        ),
        (
            ErrorKind::Unauthorized { mfa_required: true },
            true,
            Answer::Rejected { mfa_required: true },
        ),
        (ErrorKind::Hibernating, true, Answer::Hibernating),
        (ErrorKind::LoginPage, false, Answer::LoginPage),
        (ErrorKind::Timeout, true, Answer::Timeout { deadline: None }),
        (
            ErrorKind::Server { status: 503 },
            true,
            Answer::ServerError { status: 503 },
        ),
        (
            ErrorKind::RateLimited { retry_after: None },
            true,
            Answer::RateLimited {
                detail: "the instance's rate limit was exceeded (429)".into(),
            },
        ),
        (
            ErrorKind::DeadlinePassed {
                limit: std::time::Duration::from_secs(7),
            },
            true,
            Answer::Timeout { deadline: Some(7) },
        ),
    ];
    for (kind, signed_in, want) in cases {
        assert_eq!(
            instance_answer(&err(kind.clone()), signed_in, "incident.io"),
            want,
            "{kind:?}"
        );
    }
    assert!(matches!(
        instance_answer(&err(ErrorKind::Connect), true, "x"),
        Answer::Unreachable { .. }
    ));
    assert!(matches!(
        instance_answer(&err(ErrorKind::Tls), true, "x"),
        Answer::Tls { .. }
    ));
}

#[test]
fn lookups_keep_hidden_and_failed_apart_from_none() {
    let conv = |r: &Record| r.str("name").map(str::to_string);
    assert_eq!(to_lookup(&page(vec![], 0), "t", conv), Lookup::Rows(vec![]));
    assert_eq!(
        to_lookup(&page(vec![], 3), "t", conv),
        Lookup::Hidden { total: 3 }
    );
    match to_lookup(&err(ErrorKind::InvalidTable), "t", conv) {
        Lookup::Failed(f) => assert_eq!(f.kind, FailureKind::InvalidTable),
        other => panic!("{other:?}"),
    }
    match to_lookup(
        &err(ErrorKind::Forbidden(ForbiddenKind::TableSecurity)),
        "t",
        conv,
    ) {
        Lookup::Failed(f) => assert_eq!(f.kind, FailureKind::Forbidden),
        other => panic!("{other:?}"),
    }
}

#[test]
fn probes_tell_scope_blocks_from_denials_and_hidden_rows() {
    use connect::ProbeOutcome;
    assert_eq!(probe_outcome(&page(vec![], 0)), ProbeOutcome::Readable);
    assert_eq!(
        probe_outcome(&page(vec![], 7)),
        ProbeOutcome::Hidden { total: 7 }
    );
    assert_eq!(
        probe_outcome(&err(ErrorKind::Forbidden(ForbiddenKind::ApiAccessScope))),
        ProbeOutcome::ScopeBlocked
    );
    assert!(matches!(
        probe_outcome(&err(ErrorKind::Forbidden(ForbiddenKind::TableSecurity))),
        ProbeOutcome::Denied { .. }
    ));
}

#[test]
fn dot_walked_fields_fill_role_and_acl_facts() {
    let held = decoded::<roles::HeldRole>(&record(
        json!({"role": "r1", "role.name": "cmdb_read", "inherited": "true", "state": "active"}),
    ))
    .unwrap();
    assert_eq!(held.name, "cmdb_read");
    assert!(held.inherited);
    let acl = decoded::<task_acls::Acl>(&record(json!({"sys_id": "x", "operation": "read", "active": "true",
        "admin_overrides": "false", "decision_type": "allow", "sys_scope": "global", "sys_scope.scope": "global"}))).unwrap();
    assert_eq!(acl.admin_overrides, Some(false));
    assert_eq!(acl.scope.as_deref(), Some("global"));
    let link = decoded::<task_acls::AclRole>(&record(json!({"sys_security_acl": "x", "sys_user_role": "r", "sys_user_role.name": "x_incident_io.api_user"}))).unwrap();
    assert_eq!(link.role.as_deref(), Some("x_incident_io.api_user"));
}
