//! Property tests across module boundaries, each bounded to a small case count so the whole
//! file runs in seconds:
//! - instance addresses: never a panic; what is accepted is an https origin (or loopback http)
//!   with no path, parses back to itself, and yields a profile name the credentials store takes;
//! - encoded queries: a value built with `Query` matches exactly the records holding that value
//!   in the sandbox's query engine, in process and over HTTP through the client (URL encoding
//!   included), whatever the value holds (`^`, `=`, `&`, `+`, `%`, spaces, unicode);
//! - arbitrary raw HTTP answers through the client: never a panic, and retries happen exactly
//!   for 429 and 5xx (never for a 401).
//!
//! Classification of status/content-type/body on its own is property-tested beside the code, in
//! src/servicenow/error.rs.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::fault_server::{Action, FaultServer};
use crate::support::{client_for, fixture_admin, rt, secret};
use proptest::prelude::*;
use snconnect::credentials::validate_profile_name;
use snconnect::instance::Instance;
use snconnect::sandbox::{Db, Sandbox, SandboxConfig};
use snconnect::servicenow::{Auth, ClientOptions, ErrorKind, ListRequest, Query};

// ---- instance addresses ----

fn address() -> impl Strategy<Value = String> {
    let host = prop_oneof![
        "[a-z0-9]{1,12}",
        "[a-z0-9-]{1,10}\\.[a-z]{2,6}",
        "[a-z0-9_-]{1,8}\\.service-now\\.com",
        Just("localhost".to_string()),
        Just("127.0.0.1".to_string()),
        Just("[::1]".to_string()),
        Just("[::ffff:127.0.0.1]".to_string()),
        Just("[2001:db8::1]".to_string()),
        "[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}",
        "\\PC{1,12}",
    ];
    (
        prop::option::of(prop_oneof![
            Just("https://"),
            Just("http://"),
            Just("HTTPS://"),
            Just("ftp://")
        ]),
        prop::option::of("[a-z]{1,5}(:[a-z0-9]{1,6})?@"),
        host,
        prop::option::of(":[0-9]{1,6}"),
        prop::option::of("/[a-z./]{0,12}"),
        prop::option::of("[?#][a-z=&]{0,8}"),
        "[ \t]{0,2}",
    )
        .prop_map(|(scheme, user, host, port, path, rest, pad)| {
            format!(
                "{pad}{}{}{host}{}{}{}{pad}",
                scheme.unwrap_or(""),
                user.unwrap_or_default(),
                port.unwrap_or_default(),
                path.unwrap_or_default(),
                rest.unwrap_or_default()
            )
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn accepted_addresses_are_origins_with_valid_profile_names(
        input in prop_oneof![address(), "\\PC{0,40}", ".{0,40}"],
    ) {
        let Ok(i) = Instance::parse(&input) else {
            return Ok(());
        };
        let url = i.base_url();
        prop_assert!(
            url.scheme() == "https" || (url.scheme() == "http" && i.is_loopback()),
            "{input:?} -> {}", i.as_str()
        );
        prop_assert_eq!(url.path(), "/");
        prop_assert!(url.query().is_none() && url.fragment().is_none());
        prop_assert!(url.username().is_empty() && url.password().is_none(), "{}", url);
        prop_assert!(!i.as_str().ends_with('/'));
        prop_assert_eq!(format!("{}/", i.as_str()), url.as_str());
        let again = Instance::parse(i.as_str()).expect("a normalised address parses");
        prop_assert_eq!(again.as_str(), i.as_str());
        let profile = i.profile_name();
        prop_assert!(
            validate_profile_name(&profile).is_ok(),
            "{input:?} -> profile {profile:?} is refused by the store"
        );
    }
}

// ---- encoded queries against the sandbox's engine ----

/// Values meant to break an encoded query or its URL: separators, operators, escapes, unicode.
fn nasty_value() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("^".to_string()),
        Just("^^".to_string()),
        Just("^OR".to_string()),
        Just("^NQ".to_string()),
        Just("ORDERBY".to_string()),
        Just("=".to_string()),
        Just("!=".to_string()),
        Just("IN".to_string()),
        Just("&".to_string()),
        Just("+".to_string()),
        Just("%20".to_string()),
        Just("#".to_string()),
        Just(" ".to_string()),
        Just("é".to_string()),
        Just("日本".to_string()),
        Just("🙂".to_string()),
        "[a-z]{1,4}",
        "\\PC{1,3}",
    ];
    prop::collection::vec(piece, 0..5).prop_map(|parts| parts.concat())
}

/// A db with rows in sys_properties whose `value` column holds the given values.
fn db_with(values: &[String]) -> (Db, Vec<String>) {
    let mut db = snconnect::sandbox::build_db(&SandboxConfig::scenario("empty")).unwrap();
    let ids = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            db.insert(
                "sys_properties",
                &[("name", &format!("prop.test.{i}")), ("value", v)],
            )
            .unwrap()
        })
        .collect();
    (db, ids)
}

/// The sys_ids of sys_properties rows whose value satisfies `pred`, read straight from the rows.
fn expected(db: &Db, pred: impl Fn(&str) -> bool) -> BTreeSet<String> {
    db.rows("sys_properties")
        .iter()
        .filter(|r| pred(r.get("value").map(String::as_str).unwrap_or("")))
        .filter_map(|r| r.get("sys_id").cloned())
        .collect()
}

fn found(db: &Db, query: &str) -> BTreeSet<String> {
    db.find("sys_properties", query)
        .into_iter()
        .filter_map(|r| r.get("sys_id").cloned())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn eq_matches_exactly_the_rows_with_that_value(
        values in prop::collection::vec(nasty_value(), 1..6),
        pick in any::<prop::sample::Index>(),
        other in nasty_value(),
        use_other in any::<bool>(),
    ) {
        let (db, _) = db_with(&values);
        let probe = if use_other { other } else { values[pick.index(values.len())].clone() };
        let q = Query::new().eq("value", &probe).build();
        prop_assert_eq!(found(&db, &q), expected(&db, |v| v == probe), "query {:?}", q);
    }

    #[test]
    fn ne_starts_with_and_or_match_like_the_rows_say(
        values in prop::collection::vec(nasty_value(), 1..6),
        a in nasty_value(),
        b in nasty_value(),
    ) {
        let (db, _) = db_with(&values);
        let q = Query::new().ne("value", &a).build();
        prop_assert_eq!(found(&db, &q), expected(&db, |v| v != a), "query {:?}", q);
        let q = Query::new().starts_with("value", &a).build();
        prop_assert_eq!(found(&db, &q), expected(&db, |v| v.starts_with(a.as_str())), "query {:?}", q);
        let q = Query::new().eq("value", &a).or_eq("value", &b).build();
        prop_assert_eq!(found(&db, &q), expected(&db, |v| v == a || v == b), "query {:?}", q);
        let q = Query::new().eq("value", &a).new_query().eq("value", &b).build();
        prop_assert_eq!(found(&db, &q), expected(&db, |v| v == a || v == b), "query {:?}", q);
        // IN has no escape for a comma (documented on Query::is_in): comma-free values only.
        if !a.contains(',') && !b.contains(',') {
            let q = Query::new().is_in("value", &[a.as_str(), b.as_str()]).build();
            prop_assert_eq!(found(&db, &q), expected(&db, |v| v == a || v == b), "query {:?}", q);
        }
    }
}

// ---- the same over HTTP: Query -> client -> URL -> sandbox ----

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn eq_over_http_matches_exactly_the_rows_with_that_value(
        values in prop::collection::vec(nasty_value(), 1..5),
        pick in any::<prop::sample::Index>(),
        other in nasty_value(),
        use_other in any::<bool>(),
    ) {
        let sandbox = Sandbox::start(SandboxConfig::scenario("empty")).unwrap();
        let ids: Vec<String> = sandbox.with_db(|db| {
            values
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    db.insert("sys_properties", &[("name", &format!("prop.test.{i}")), ("value", v)])
                        .unwrap()
                })
                .collect()
        });
        prop_assert_eq!(ids.len(), values.len());
        let probe = if use_other { other } else { values[pick.index(values.len())].clone() };
        let want = sandbox.with_db(|db| expected(db, |v| v == probe));
        let client = client_for(&sandbox.url(), &ClientOptions::default());
        let session = client.session(fixture_admin());
        let page = rt()
            .block_on(session.list_all(
                "sys_properties",
                &ListRequest::new()
                    .query(Query::new().eq("value", &probe).build())
                    .fields(&["sys_id", "value"]),
            ))
            .unwrap();
        let got: BTreeSet<String> = page
            .records
            .iter()
            .filter_map(|r| r.sys_id().map(str::to_string))
            .collect();
        prop_assert_eq!(got, want, "value {:?}", probe);
        for r in &page.records {
            prop_assert_eq!(r.str("value"), Some(probe.as_str()));
        }
    }
}

// ---- arbitrary raw answers through the client ----

fn raw_answer() -> impl Strategy<Value = (u16, Vec<u8>)> {
    let status = prop_oneof![
        Just(200u16),
        Just(401),
        Just(403),
        Just(404),
        Just(429),
        Just(500),
        Just(502),
        Just(503),
        200u16..600,
    ];
    let content_type = prop_oneof![
        Just("application/json"),
        Just("text/html"),
        Just("text/plain"),
        Just(""),
    ];
    let body = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..200),
        Just(br#"{"result":[{"sys_id":"abc"}]}"#.to_vec()),
        Just(
            br#"{"error":{"message":"User Not Authenticated","detail":null},"status":"failure"}"#
                .to_vec()
        ),
        Just(b"<html><title>Instance Hibernating page</title></html>".to_vec()),
        Just(b"<html><form action=\"login.do\"></form></html>".to_vec()),
    ];
    let framing = prop_oneof![Just(0u8), Just(1), Just(2)];
    (status, content_type, body, framing).prop_map(|(status, ct, body, framing)| {
        let mut head = format!("HTTP/1.1 {status} Whatever\r\n");
        if !ct.is_empty() {
            head.push_str(&format!("content-type: {ct}\r\n"));
        }
        match framing {
            // Honest length.
            0 => head.push_str(&format!("content-length: {}\r\n", body.len())),
            // A length the body does not reach (cut short).
            1 => head.push_str(&format!("content-length: {}\r\n", body.len() + 10)),
            // No length: the body runs to the close.
            _ => {}
        }
        head.push_str("connection: close\r\n\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(&body);
        (status, bytes)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever comes back, the client returns (no panic, no hang past the timeout), and it sent
    /// the request again exactly when the answer was a 429 or a 5xx that is not the hibernation
    /// page: never for a 401 or anything else.
    #[test]
    fn raw_answers_never_panic_and_only_429_and_5xx_are_retried((status, bytes) in raw_answer()) {
        let answer = Arc::new(Mutex::new(bytes.clone()));
        let served = answer.clone();
        let server = FaultServer::start(None, move |_| Action::Respond(served.lock().unwrap().clone()));
        let client = client_for(
            &server.url(),
            &ClientOptions {
                timeout: Duration::from_secs(3),
                max_attempts: 2,
                backoff_base: Duration::from_millis(1),
                ..ClientOptions::default()
            },
        );
        let session = client.session(Auth::basic("admin", secret("pw")));
        let result = rt().block_on(session.list("sys_user", &ListRequest::new().limit(1)));
        let sent = server.requests().len();
        let text = String::from_utf8_lossy(&bytes);
        let hibernating = text.contains("Instance Hibernating page");
        match &result {
            Ok(_) => prop_assert!((200..300).contains(&status) && !hibernating),
            Err(e) => {
                prop_assert!(!e.to_string().is_empty());
                if status == 401 && !hibernating {
                    prop_assert_eq!(sent, 1, "a 401 was retried: {:?}", e.kind);
                }
                let retried = e.kind.is_transient();
                if retried {
                    prop_assert!(status == 429 || (500..600).contains(&status), "{:?}", e.kind);
                }
                // A transient failure used both attempts; anything else stopped at one.
                let expected = if retried { 2 } else { 1 };
                prop_assert_eq!(sent, expected, "{} -> {:?}", status, e.kind);
                let local = matches!(e.kind, ErrorKind::ClientSetup | ErrorKind::CaCert { .. });
                prop_assert!(!local, "{:?}", e.kind);
            }
        }
    }
}
