//! Unit tests of `posture.rs`, kept apart so the code reads on its own.
use super::*;
use crate::checks::test_support::*;
use crate::checks::{QueryFailure, Status};

fn held(name: &str, inherited: bool) -> HeldRole {
    HeldRole {
        name: name.into(),
        inherited,
        state: Some("active".into()),
    }
}

fn prop(name: &str, value: &str) -> Property {
    Property {
        name: name.into(),
        value: value.into(),
    }
}

fn preserver(table: &str, condition: &str) -> Preserver {
    Preserver {
        sys_id: format!("p-{table}"),
        name: table.into(),
        table: table.into(),
        condition: condition.into(),
    }
}

fn rule(kind: &str, direction: &str, start: &str, end: &str) -> IpRule {
    IpRule {
        sys_id: format!("r-{kind}-{start}"),
        kind: kind.into(),
        direction: direction.into(),
        range_start: start.into(),
        range_end: end.into(),
    }
}

/// A sub-production instance set up as documented: app roles only, API-only user, preservers
/// for both records, no policies or IP rules.
fn healthy() -> Facts {
    Facts {
        user: Some(healthy_user()),
        held: Lookup::Rows(vec![held("x_incident_io.api_user", false)]),
        properties: Lookup::Rows(vec![prop(PROP_PRODUCTION, "false")]),
        policies: Lookup::Rows(vec![]),
        ip_rules: Lookup::Rows(vec![]),
        preservers: Lookup::Rows(vec![
            preserver("oauth_entity", "name=incident.io"),
            preserver("sys_user", "user_name=incident.io"),
        ]),
        entry_id: Some("e1".into()),
        egress: vec![],
    }
}

fn invalid_table() -> QueryFailure {
    QueryFailure {
        table: "t".into(),
        kind: FailureKind::InvalidTable,
        message: "Invalid table".into(),
    }
}

#[test]
fn a_documented_setup_passes_with_nothing_to_say() {
    let v = evaluate(&healthy(), &ctx(SetupPath::App));
    assert_eq!(v.status, Status::Pass, "{:?}", v.findings);
    assert!(v.findings.is_empty(), "{:?}", v.findings);
}

#[test]
fn each_posture_problem_has_its_status_and_code() {
    type Change = fn(&mut Facts);
    let cases: Vec<(&str, Change, Status, Vec<FindingCode>)> = vec![
        (
            "admin on the app path",
            |f| {
                f.held = Lookup::Rows(vec![
                    held("admin", false),
                    held("x_incident_io.api_user", false),
                ])
            },
            Status::Warn,
            vec![FindingCode::PosturePrivilegedRoles],
        ),
        (
            "security_admin through a group",
            |f| f.held = Lookup::Rows(vec![held("security_admin", true)]),
            Status::Warn,
            vec![FindingCode::PosturePrivilegedRoles],
        ),
        (
            "UI login allowed",
            |f| f.user.as_mut().unwrap().web_service_access_only = Some(false),
            Status::Warn,
            vec![FindingCode::PostureUiLogin],
        ),
        (
            "internal integration user",
            |f| f.user.as_mut().unwrap().internal_integration_user = Some(true),
            Status::Pass,
            vec![FindingCode::PostureInternalIntegration],
        ),
        (
            "MFA for integrations",
            |f| {
                f.properties = Lookup::Rows(vec![
                    prop(PROP_PRODUCTION, "false"),
                    prop(PROP_MFA_FOR_INTEGRATIONS, "true"),
                ])
            },
            Status::Pass,
            vec![FindingCode::PostureMfa],
        ),
        (
            "a Table API policy on task",
            |f| {
                f.policies = Lookup::Rows(vec![ApiPolicy {
                    sys_id: "pol1".into(),
                    name: "Table API: ID token only".into(),
                    apply_all_tables: Some(false),
                    api_tablename: "incident,task".into(),
                }])
            },
            Status::Warn,
            vec![FindingCode::PostureApiAccessPolicy],
        ),
        (
            "deny rules and no egress addresses",
            |f| {
                f.ip_rules =
                    Lookup::Rows(vec![rule("deny", "inbound", "0.0.0.0", "255.255.255.255")])
            },
            Status::Warn,
            vec![FindingCode::PostureIpUnchecked],
        ),
        (
            "no preservers on sub-production",
            |f| f.preservers = Lookup::Rows(vec![]),
            Status::Warn,
            vec![FindingCode::PostureCloneNotPreserved],
        ),
        (
            "preservers unreadable",
            |f| f.preservers = Lookup::Hidden { total: 4 },
            Status::Warn,
            vec![FindingCode::PostureCannotCheck],
        ),
    ];
    for (name, change, status, want) in cases {
        let mut f = healthy();
        change(&mut f);
        let v = evaluate(&f, &ctx(SetupPath::App));
        assert_eq!(v.status, status, "{name}: {:?}", v.findings);
        assert_eq!(codes(&v), want, "{name}");
        assert_actionable(&v);
    }
}

#[test]
fn privileged_roles_are_named_and_admin_is_expected_on_the_admin_path() {
    let mut f = healthy();
    f.held = Lookup::Rows(vec![held("admin", false), held("user_admin", false)]);
    let v = evaluate(&f, &ctx(SetupPath::App));
    assert!(
        v.findings[0].message.contains("'admin' and 'user_admin'"),
        "{:?}",
        v.findings
    );
    let v = evaluate(&f, &ctx(SetupPath::Admin));
    assert_eq!(codes(&v), [FindingCode::PosturePrivilegedRoles]);
    assert!(
        !v.findings[0].message.contains("holds 'admin'"),
        "{:?}",
        v.findings
    );
    f.held = Lookup::Rows(vec![held("admin", false)]);
    assert_eq!(evaluate(&f, &ctx(SetupPath::Admin)).status, Status::Pass);
}

#[test]
fn an_address_is_blocked_only_by_a_matching_deny_with_no_matching_allow() {
    let mut f = healthy();
    f.egress = vec![
        "203.0.113.7".parse().unwrap(),
        "198.51.100.9".parse().unwrap(),
    ];
    f.ip_rules = Lookup::Rows(vec![
        rule("deny", "bidirectional", "0.0.0.0", "255.255.255.255"),
        rule("allow", "inbound", "203.0.113.0", "203.0.113.255"),
        // Outbound rules do not concern incoming requests.
        rule("allow", "outbound", "198.51.100.0", "198.51.100.255"),
    ]);
    let v = evaluate(&f, &ctx(SetupPath::App));
    assert_eq!(v.status, Status::Fail);
    assert_eq!(codes(&v), [FindingCode::PostureIpBlocked]);
    assert!(
        v.findings[0].message.contains("198.51.100.9"),
        "{:?}",
        v.findings
    );
    // An IPv6 address is not in an IPv4 range.
    f.egress = vec!["2001:db8::1".parse().unwrap()];
    assert_eq!(evaluate(&f, &ctx(SetupPath::App)).status, Status::Pass);
}

#[test]
fn absent_tables_mean_the_feature_is_not_there_and_production_needs_no_preservers() {
    let mut f = healthy();
    f.policies = Lookup::Failed(invalid_table());
    f.ip_rules = Lookup::Failed(invalid_table());
    f.preservers = Lookup::Rows(vec![]);
    f.properties = Lookup::Rows(vec![prop(PROP_PRODUCTION, "true")]);
    assert_eq!(evaluate(&f, &ctx(SetupPath::App)).status, Status::Pass);
    // Whether it is production is not known: clones are not judged.
    f.properties = Lookup::Rows(vec![]);
    assert_eq!(evaluate(&f, &ctx(SetupPath::App)).status, Status::Pass);
}

#[test]
fn a_preserver_counts_when_its_condition_is_empty_or_names_the_record() {
    let mut f = healthy();
    f.preservers = Lookup::Rows(vec![
        preserver("oauth_entity", ""),
        preserver("sys_user", "user_name=someone.else"),
    ]);
    let v = evaluate(&f, &ctx(SetupPath::App));
    assert_eq!(codes(&v), [FindingCode::PostureCloneNotPreserved]);
    assert!(v.findings[0].message.contains("the user 'incident.io'"));
    assert!(!v.findings[0].message.contains("OAuth entry"));
}

#[test]
fn a_ui_login_is_left_to_service_user_when_the_user_is_not_a_machine_identity() {
    let mut f = healthy();
    let user = f.user.as_mut().unwrap();
    user.web_service_access_only = Some(false);
    user.identity_type = crate::checks::service_user::FieldValue::Value("human".into());
    assert_eq!(evaluate(&f, &ctx(SetupPath::App)).status, Status::Pass);
}
