//! The client's guarantees that matter most on a real instance, checked against the simulated
//! one: failed logins are counted once per identity whatever the retries, requests really go out
//! concurrently, the verbose log stays free of the secrets a run handles, and the encoded queries
//! the builder writes mean to the sandbox's query engine what the builder says they mean.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::{
    account, client_for, quick_options, rt, sandbox_client, secret, service_grant,
};
use proptest::prelude::*;
use secrecy::ExposeSecret;
use serde_json::json;
use snconnect::sandbox::fixtures::*;
use snconnect::sandbox::query::{self as sq, Condition, Op};
use snconnect::sandbox::{Faults, Sandbox, SandboxConfig};
use snconnect::servicenow::{
    Auth, ClientOptions, ErrorKind, ListRequest, LogSink, Query, WriteOptions,
};

#[test]
fn a_wrong_password_costs_one_failed_login_even_behind_a_rate_limit() {
    let sandbox = Sandbox::start(SandboxConfig {
        lockout_threshold: 2,
        faults: Faults {
            rate_limit_next: 1,
            rate_limit_retry_after: true,
            ..Faults::default()
        },
        ..SandboxConfig::default()
    })
    .unwrap();
    let client = sandbox_client(&sandbox);
    let err = rt().block_on(async {
        client
            .session(Auth::basic(ADMIN_USER, secret("not-the-password")))
            .list("sys_user", &ListRequest::new().limit(1))
            .await
            .unwrap_err()
    });
    assert!(
        matches!(err.kind, ErrorKind::Unauthorized { .. }),
        "{err:?}"
    );
    let statuses: Vec<u16> = sandbox.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [429, 401], "the 429 is retried, the 401 is not");
    assert_eq!(account(&sandbox, ADMIN_USER), (1, false));
}

#[test]
fn a_failed_token_grant_is_one_attempt_and_does_not_lock_the_user() {
    let sandbox = Sandbox::start(SandboxConfig {
        lockout_threshold: 2,
        ..SandboxConfig::default()
    })
    .unwrap();
    let client = sandbox_client(&sandbox);
    let err = rt().block_on(async {
        service_grant(&client, "wrong-service-password")
            .await
            .unwrap_err()
    });
    assert_eq!(
        err.kind,
        ErrorKind::TokenDenied {
            error: "server_error".into(),
            description: "access_denied".into()
        }
    );
    assert_eq!(sandbox.requests().len(), 1);
    assert_eq!(account(&sandbox, SERVICE_USER), (1, false));

    // A token request that meets a 5xx is not repeated either: the instance may have counted it.
    sandbox.with_db(|db| {
        db.faults.server_errors_next = 3;
        db.faults.server_error_status = 503;
    });
    let err = rt().block_on(async { service_grant(&client, SERVICE_PASSWORD).await.unwrap_err() });
    assert_eq!(err.kind, ErrorKind::Server { status: 503 });
    assert_eq!(sandbox.requests().len(), 2);
}

#[test]
fn independent_reads_go_out_together() {
    let sandbox = Sandbox::start(SandboxConfig {
        latency: Duration::from_millis(150),
        ..SandboxConfig::default()
    })
    .unwrap();
    let client = sandbox_client(&sandbox);
    let session = client.session(Auth::basic(ADMIN_USER, secret(ADMIN_PASSWORD)));
    let tables = ["incident", "task", "sys_user", "sys_user_group", "cmdb_ci"];
    let started = Instant::now();
    let results = rt().block_on(async {
        let handles: Vec<_> = tables
            .into_iter()
            .map(|t| {
                let s = session.clone();
                tokio::spawn(async move { s.list(t, &ListRequest::new().limit(1)).await })
            })
            .collect();
        let mut out = Vec::new();
        for h in handles {
            out.push(h.await.unwrap());
        }
        out
    });
    for r in &results {
        assert!(r.is_ok(), "{r:?}");
    }
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_millis(150 * 5),
        "five reads with 150 ms latency took {elapsed:?}: they did not overlap"
    );
    assert_eq!(client.stats().requests, 5);
    assert_eq!(client.stats().max_in_flight, 5);
    assert!(sandbox.max_in_flight() >= 2, "{}", sandbox.max_in_flight());
}

#[test]
fn a_verbose_run_logs_every_request_and_no_secret() {
    let sandbox = Sandbox::start(SandboxConfig::default()).unwrap();
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink_lines = lines.clone();
    let sink: LogSink = Arc::new(move |l: &str| sink_lines.lock().unwrap().push(l.to_string()));
    let client = client_for(
        &sandbox.url(),
        &ClientOptions {
            verbose: true,
            log: Some(sink),
            ..quick_options(Duration::from_secs(10))
        },
    );
    const NEW_PASSWORD: &str = "fresh-Generated-pw-7731";
    let minted = rt().block_on(async {
        let token = service_grant(&client, SERVICE_PASSWORD).await
            .unwrap();
        let as_user = client.session(Auth::bearer(token.access_token.clone()));
        as_user
            .list("incident", &ListRequest::new().limit(1))
            .await
            .unwrap();
        let admin = client.session(Auth::basic(ADMIN_USER, secret(ADMIN_PASSWORD)));
        let user = admin
            .create(
                "sys_user",
                json!({"user_name": "second.integration", "user_password": NEW_PASSWORD, "active": "true"}),
                WriteOptions {
                    input_display_value: true,
                },
            )
            .await
            .unwrap();
        admin
            .update(
                "sys_user",
                user.sys_id().unwrap(),
                json!({"user_password": NEW_PASSWORD}),
                WriteOptions {
                    input_display_value: true,
                },
            )
            .await
            .unwrap();
        let refreshed = client
            .refresh_grant(
                CLIENT_ID,
                &secret(CLIENT_SECRET),
                token.refresh_token.as_ref().unwrap(),
            )
            .await
            .unwrap();
        vec![
            token.access_token.expose_secret().to_string(),
            token.refresh_token.unwrap().expose_secret().to_string(),
            refreshed.access_token.expose_secret().to_string(),
        ]
    });
    let log = lines.lock().unwrap().join("\n");
    let mut secrets = vec![
        ADMIN_PASSWORD.to_string(),
        SERVICE_PASSWORD.to_string(),
        CLIENT_SECRET.to_string(),
        NEW_PASSWORD.to_string(),
    ];
    secrets.extend(minted);
    for s in &secrets {
        assert!(!s.is_empty());
        assert!(
            !log.contains(s.as_str()),
            "a secret leaked into the log:\n{log}"
        );
    }
    assert_eq!(
        log.lines().filter(|l| l.contains(" -> ")).count(),
        sandbox.requests().len(),
        "one log line per request:\n{log}"
    );
    assert!(log.contains("\"user_password\":\"[redacted]\""), "{log}");
    assert!(
        log.contains("\"user_name\":\"second.integration\""),
        "{log}"
    );
}

/// One condition the builder can write, with what the sandbox's parser should read back.
#[derive(Clone, Debug)]
enum Cond {
    Eq(String, String),
    Ne(String, String),
    StartsWith(String, String),
    EndsWith(String, String),
    Like(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    IsEmpty(String),
    IsNotEmpty(String),
}

fn field() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_]{0,8}(\\.[a-z][a-z0-9_]{0,8})?"
}

/// Values may hold anything printable, carets and separators included; `IN` lists exclude the
/// comma, which encoded queries cannot escape (documented on `Query::is_in`).
fn value() -> impl Strategy<Value = String> {
    "[ -~]{0,12}"
}

fn list_value() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec("[a-zA-Z0-9_.^ -]{1,6}", 1..4)
}

fn cond() -> impl Strategy<Value = Cond> {
    prop_oneof![
        (field(), value()).prop_map(|(f, v)| Cond::Eq(f, v)),
        (field(), value()).prop_map(|(f, v)| Cond::Ne(f, v)),
        (field(), value()).prop_map(|(f, v)| Cond::StartsWith(f, v)),
        (field(), value()).prop_map(|(f, v)| Cond::EndsWith(f, v)),
        (field(), value()).prop_map(|(f, v)| Cond::Like(f, v)),
        (field(), list_value()).prop_map(|(f, v)| Cond::In(f, v)),
        (field(), list_value()).prop_map(|(f, v)| Cond::NotIn(f, v)),
        field().prop_map(Cond::IsEmpty),
        field().prop_map(Cond::IsNotEmpty),
    ]
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn add(q: Query, c: &Cond) -> Query {
    match c {
        Cond::Eq(f, v) => q.eq(f, v),
        Cond::Ne(f, v) => q.ne(f, v),
        Cond::StartsWith(f, v) => q.starts_with(f, v),
        Cond::EndsWith(f, v) => q.ends_with(f, v),
        Cond::Like(f, v) => q.like(f, v),
        Cond::In(f, v) => q.is_in(f, &refs(v)),
        Cond::NotIn(f, v) => q.not_in(f, &refs(v)),
        Cond::IsEmpty(f) => q.is_empty(f),
        Cond::IsNotEmpty(f) => q.is_not_empty(f),
    }
}

fn expected(c: &Cond) -> Condition {
    let (field, op, value) = match c {
        Cond::Eq(f, v) => (f, Op::Eq, v.clone()),
        Cond::Ne(f, v) => (f, Op::Ne, v.clone()),
        Cond::StartsWith(f, v) => (f, Op::StartsWith, v.clone()),
        Cond::EndsWith(f, v) => (f, Op::EndsWith, v.clone()),
        Cond::Like(f, v) => (f, Op::Like, v.clone()),
        Cond::In(f, v) => (f, Op::In, v.join(",")),
        Cond::NotIn(f, v) => (f, Op::NotIn, v.join(",")),
        Cond::IsEmpty(f) => (f, Op::IsEmpty, String::new()),
        Cond::IsNotEmpty(f) => (f, Op::IsNotEmpty, String::new()),
    };
    Condition {
        field: field.clone(),
        op,
        value,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// AND-ed conditions, some with an OR-ed alternative (`^OR`, equality only, as the builder
    /// offers it), then optionally a second query (`^NQ`) and a sort key: whatever the values
    /// hold, the sandbox's parser reads back exactly the structure that was built.
    #[test]
    fn built_queries_parse_back_to_what_was_built(
        first in prop::collection::vec((cond(), prop::option::of((field(), value()))), 1..5),
        second in prop::collection::vec(cond(), 0..3),
        order in prop::option::of(field()),
    ) {
        let mut q = Query::new();
        let mut clauses: Vec<Vec<Condition>> = Vec::new();
        for (c, alt) in &first {
            q = add(q, c);
            let mut clause = vec![expected(c)];
            if let Some((f, v)) = alt {
                q = q.or_eq(f, v);
                clause.push(Condition { field: f.clone(), op: Op::Eq, value: v.clone() });
            }
            clauses.push(clause);
        }
        let mut queries = vec![clauses];
        if !second.is_empty() {
            q = q.new_query();
            let mut more = Vec::new();
            for c in &second {
                q = add(q, c);
                more.push(vec![expected(c)]);
            }
            queries.push(more);
        }
        if let Some(f) = &order {
            q = q.order_by(f);
        }
        let text = q.build();
        let parsed = sq::parse(&text);
        prop_assert_eq!(&parsed.queries, &queries, "query text: {}", text);
        let want_order: Vec<(String, bool)> = order.iter().map(|f| (f.clone(), false)).collect();
        prop_assert_eq!(parsed.order, want_order);
    }
}

#[test]
fn a_dot_walked_query_finds_the_service_users_roles() {
    let sandbox = Sandbox::start(SandboxConfig::default()).unwrap();
    let client = sandbox_client(&sandbox);
    let page = rt().block_on(async {
        client
            .session(Auth::basic(ADMIN_USER, secret(ADMIN_PASSWORD)))
            .list_all(
                "sys_user_has_role",
                &ListRequest::new()
                    .query(
                        Query::new()
                            .eq("user.user_name", SERVICE_USER)
                            .is_in("role.name", &["cmdb_read", "sn_cmdb_user", "no_such_role"]),
                    )
                    .fields(&["role.name", "user.user_name"])
                    .limit(1),
            )
            .await
            .unwrap()
    });
    let mut roles: Vec<&str> = page
        .records
        .iter()
        .map(|r| r.str("role.name").unwrap())
        .collect();
    roles.sort();
    roles.dedup();
    assert_eq!(roles, ["cmdb_read", "sn_cmdb_user"]);
    assert!(page
        .records
        .iter()
        .all(|r| r.str("user.user_name") == Some(SERVICE_USER)));
    assert_eq!(page.total_count, Some(page.records.len() as u64));
    // limit 1 per page: one request per row, proving the Link header was followed.
    assert_eq!(sandbox.requests().len(), page.records.len());
}
