//! Unit tests of `oauth_app.rs`, kept apart so the code reads on its own.
use super::*;
use crate::checks::test_support::*;
use crate::checks::{FailureKind, QueryFailure, Status};
use crate::model::SetupPath;

fn entry(sys_id: &str, client_id: &str, active: bool) -> Entry {
    Entry {
        updated: Default::default(),
        sys_id: sys_id.into(),
        name: "incident.io".into(),
        client_id: Some(client_id.into()),
        active: Some(active),
        access_token_lifespan: Some(1800),
        refresh_token_lifespan: Some(8_640_000),
        kind: Some("client".into()),
    }
}

fn mapping(entity: &str, scope: &str) -> ScopeMapping {
    ScopeMapping {
        oauth_entity: entity.into(),
        auth_scope: format!("{scope}-id"),
        auth_scope_name: Some(scope.into()),
    }
}

fn prop(name: &str, value: &str) -> Property {
    Property {
        name: name.into(),
        value: value.into(),
    }
}

/// 2026-12-03T00:00:00Z, so the dates in messages are fixed.
const NOW: u64 = 1_796_256_000;

fn healthy() -> Facts {
    Facts {
        entries: Lookup::Rows(vec![entry("e1", "abc123", true)]),
        mappings: Lookup::Rows(vec![mapping("e1", "useraccount")]),
        properties: Lookup::Rows(vec![]),
        now: NOW,
    }
}

fn failed(kind: FailureKind) -> QueryFailure {
    QueryFailure {
        table: "t".into(),
        kind,
        message: "boom".into(),
    }
}

#[test]
fn table() {
    use FindingCode as C;
    type Case = (
        &'static str,
        Facts,
        Option<&'static str>,
        Status,
        Vec<FindingCode>,
    );
    let cases: Vec<Case> = vec![
        (
            "healthy",
            healthy(),
            Some("abc123"),
            Status::Pass,
            vec![C::OauthTokenLifespans],
        ),
        (
            "no client id given",
            healthy(),
            None,
            Status::Pass,
            vec![C::OauthTokenLifespans],
        ),
        (
            "missing",
            Facts {
                entries: Lookup::Rows(vec![]),
                ..healthy()
            },
            Some("abc123"),
            Status::Fail,
            vec![C::OauthMissing],
        ),
        (
            "inactive",
            Facts {
                entries: Lookup::Rows(vec![entry("e1", "abc123", false)]),
                ..healthy()
            },
            Some("abc123"),
            Status::Fail,
            vec![C::OauthInactive, C::OauthTokenLifespans],
        ),
        (
            "two active entries",
            Facts {
                entries: Lookup::Rows(vec![entry("e1", "abc123", true), entry("e2", "def", true)]),
                ..healthy()
            },
            Some("abc123"),
            Status::Fail,
            vec![C::OauthDuplicate, C::OauthTokenLifespans],
        ),
        (
            "a second, inactive entry only warns",
            Facts {
                entries: Lookup::Rows(vec![entry("e2", "def", false), entry("e1", "abc123", true)]),
                ..healthy()
            },
            None,
            Status::Warn,
            vec![C::OauthDuplicate, C::OauthTokenLifespans],
        ),
        (
            "no useraccount mapping",
            Facts {
                mappings: Lookup::Rows(vec![mapping("e1", "other")]),
                ..healthy()
            },
            Some("abc123"),
            Status::Fail,
            vec![C::OauthScopeMissing, C::OauthTokenLifespans],
        ),
        (
            "mapping of another entry does not count",
            Facts {
                mappings: Lookup::Rows(vec![mapping("e9", "useraccount")]),
                ..healthy()
            },
            Some("abc123"),
            Status::Fail,
            vec![C::OauthScopeMissing, C::OauthTokenLifespans],
        ),
        (
            "mapping table absent on this release",
            Facts {
                mappings: Lookup::Failed(failed(FailureKind::InvalidTable)),
                ..healthy()
            },
            Some("abc123"),
            Status::Warn,
            vec![C::OauthScopeUnverified, C::OauthTokenLifespans],
        ),
        (
            "mappings hidden",
            Facts {
                mappings: Lookup::Hidden { total: 2 },
                ..healthy()
            },
            Some("abc123"),
            Status::Warn,
            vec![C::OauthCannotSee, C::OauthTokenLifespans],
        ),
        (
            "password grant disabled",
            Facts {
                properties: Lookup::Rows(vec![prop(PROP_ROPC_DISABLED, "true")]),
                ..healthy()
            },
            Some("abc123"),
            Status::Fail,
            vec![C::OauthRopcDisabled, C::OauthTokenLifespans],
        ),
        (
            "password grant explicitly enabled",
            Facts {
                properties: Lookup::Rows(vec![prop(PROP_ROPC_DISABLED, "false")]),
                ..healthy()
            },
            Some("abc123"),
            Status::Pass,
            vec![C::OauthTokenLifespans],
        ),
        (
            "oauth disabled",
            Facts {
                properties: Lookup::Rows(vec![prop(PROP_OAUTH_ACTIVE, "false")]),
                ..healthy()
            },
            Some("abc123"),
            Status::Fail,
            vec![C::OauthDisabled, C::OauthTokenLifespans],
        ),
        (
            "client id differs",
            healthy(),
            Some("zzz"),
            Status::Fail,
            vec![C::OauthClientIdMismatch, C::OauthTokenLifespans],
        ),
        (
            "entries hidden",
            Facts {
                entries: Lookup::Hidden { total: 1 },
                ..healthy()
            },
            Some("abc123"),
            Status::Warn,
            vec![C::OauthCannotSee],
        ),
        (
            "entries query failed",
            Facts {
                entries: Lookup::Failed(failed(FailureKind::Other)),
                ..healthy()
            },
            Some("abc123"),
            Status::Fail,
            vec![C::OauthQueryFailed],
        ),
    ];
    for (name, facts, client_id, status, want) in cases {
        let mut ctx = ctx(SetupPath::App);
        ctx.client_id = client_id.map(String::from);
        let v = evaluate(&facts, &ctx);
        assert_eq!(v.status, status, "{name}: {v:?}");
        assert_eq!(codes(&v), want, "{name}");
        assert_actionable(&v);
    }
}

#[test]
fn a_recreated_useraccount_scope_is_matched_by_the_property_sys_id() {
    let facts = Facts {
        mappings: Lookup::Rows(vec![ScopeMapping {
            oauth_entity: "e1".into(),
            auth_scope: "new-id".into(),
            auth_scope_name: Some("useraccount".into()),
        }]),
        properties: Lookup::Rows(vec![prop(PROP_USERACCOUNT_SCOPE_ID, "new-id")]),
        ..healthy()
    };
    assert_eq!(evaluate(&facts, &ctx(SetupPath::App)).status, Status::Pass);
}

#[test]
fn the_given_client_id_selects_the_entry_incident_io_will_use() {
    // Two entries; the given client id belongs to the inactive one: that is what to report.
    let facts = Facts {
        entries: Lookup::Rows(vec![entry("e1", "abc123", false), entry("e2", "def", true)]),
        mappings: Lookup::Rows(vec![
            mapping("e1", "useraccount"),
            mapping("e2", "useraccount"),
        ]),
        ..healthy()
    };
    let v = evaluate(&facts, &ctx(SetupPath::App));
    let inactive = v
        .findings
        .iter()
        .find(|f| f.code == FindingCode::OauthInactive)
        .expect("inactive reported");
    assert!(inactive.link.as_deref().unwrap().ends_with("sys_id=e1"));
}

#[test]
fn lifespans_are_shown_in_readable_units() {
    let v = evaluate(&healthy(), &ctx(SetupPath::App));
    let note = &v.findings[0].message;
    assert!(note.contains("1800 s (about 30 minutes)"), "{note}");
    assert!(note.contains("8640000 s (100 days)"), "{note}");
}

fn with_lifespans(access: Option<u64>, refresh: Option<u64>) -> Facts {
    let mut e = entry("e1", "abc123", true);
    e.access_token_lifespan = access;
    e.refresh_token_lifespan = refresh;
    Facts {
        entries: Lookup::Rows(vec![e]),
        ..healthy()
    }
}

#[test]
fn default_lifespans_are_information_only() {
    let v = evaluate(
        &with_lifespans(Some(1800), Some(8_640_000)),
        &ctx(SetupPath::App),
    );
    assert_eq!(v.status, Status::Pass);
    assert!(v
        .findings
        .iter()
        .all(|f| f.code != FindingCode::OauthTokenLifespanShort));
}

#[test]
fn short_lifespans_warn_with_the_date_a_connection_made_now_ends() {
    let cases = [
        // (access, refresh, what the message must say)
        (Some(60), Some(8_640_000), "access tokens live only 60 s"),
        (
            Some(1800),
            Some(3600),
            "refresh tokens live only 3600 s (about 1 hour): a connection made now stops \
             working at Thu, 03 Dec 2026 01:00:00 GMT",
        ),
        (
            Some(7200),
            Some(3600),
            "refresh tokens (3600 s (about 1 hour)) end before the access tokens they renew \
             (7200 s (about 2 hours)): a connection made now stops working at \
             Thu, 03 Dec 2026 02:00:00 GMT",
        ),
        (
            None,
            Some(600),
            "stops working at Thu, 03 Dec 2026 00:10:00 GMT",
        ),
    ];
    for (access, refresh, says) in cases {
        let v = evaluate(&with_lifespans(access, refresh), &ctx(SetupPath::App));
        assert_eq!(v.status, Status::Warn, "{access:?}/{refresh:?}");
        let f = v
            .findings
            .iter()
            .find(|f| f.code == FindingCode::OauthTokenLifespanShort)
            .expect("a lifespan warning");
        assert!(f.message.contains(says), "{}", f.message);
        assert!(f
            .fix
            .as_deref()
            .unwrap_or("")
            .contains("Refresh Token Lifespan"));
        assert!(
            v.findings
                .iter()
                .all(|f| f.code != FindingCode::OauthTokenLifespans),
            "the information note is not repeated beside the warning"
        );
    }
}

#[test]
fn the_entry_in_use_is_the_client_ids_else_the_active_one_else_the_first() {
    let inactive = entry("e1", "old", false);
    let active = entry("e2", "new", true);
    let entries = [&inactive, &active];
    assert_eq!(entry_in_use(&entries, Some("old")).unwrap().sys_id, "e1");
    assert_eq!(
        entry_in_use(&entries, Some("unknown")).unwrap().sys_id,
        "e2"
    );
    assert_eq!(entry_in_use(&entries, None).unwrap().sys_id, "e2");
    assert_eq!(entry_in_use(&[&inactive], None).unwrap().sys_id, "e1");
    assert!(entry_in_use(&[], None).is_none());
}
