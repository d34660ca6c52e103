//! Unit tests of `error.rs`, kept apart so the code reads on its own.
use reqwest::header::HeaderMap;
use serde_json::Value;

use super::*;

#[test]
fn retry_after_is_seconds_or_an_http_date() {
    let now = std::time::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    assert_eq!(retry_after_value(" 7 ", now), Some(Duration::from_secs(7)));
    let later = httpdate::fmt_http_date(now + Duration::from_secs(42));
    assert_eq!(
        retry_after_value(&later, now),
        Some(Duration::from_secs(42))
    );
    let earlier = httpdate::fmt_http_date(now - Duration::from_secs(5));
    assert_eq!(retry_after_value(&earlier, now), Some(Duration::ZERO));
    assert_eq!(retry_after_value("soon", now), None);
}
use reqwest::header::{HeaderName, HeaderValue};

fn target() -> RequestTarget {
    RequestTarget {
        method: "POST".into(),
        path: "/api/now/table/sys_security_acl".into(),
        table: Some("sys_security_acl".into()),
        sys_id: None,
        instance: "https://acme.service-now.com".into(),
    }
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.insert(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    h
}

const JSON: (&str, &str) = ("content-type", "application/json;charset=UTF-8");
const HTML: (&str, &str) = ("content-type", "text/html;charset=UTF-8");

fn table(status: u16, hdrs: &[(&str, &str)], body: &str) -> Result<Value, SnError> {
    classify(
        status,
        &headers(hdrs),
        body.as_bytes(),
        &target(),
        Expect::Table,
    )
}

fn token(status: u16, hdrs: &[(&str, &str)], body: &str) -> Result<Value, SnError> {
    classify(
        status,
        &headers(hdrs),
        body.as_bytes(),
        &target(),
        Expect::Token,
    )
}

const HIBERNATING: &str = "<html><head><title>Instance Hibernating page</title></head>\
    <body>Your instance is hibernating. Visit the developer portal to wake it up.</body></html>";

#[test]
fn token_success_body_is_accepted() {
    let body = r#"{"scope":"useraccount","token_type":"Bearer","expires_in":1799,"refresh_token":"jZPdxyz","access_token":"2wRlabc"}"#;
    let v = token(200, &[JSON], body).unwrap();
    assert_eq!(v["scope"], "useraccount");
}

#[test]
fn token_access_denied_is_token_denied() {
    let body = r#"{"error_description":"access_denied","error":"server_error"}"#;
    let e = token(401, &[JSON], body).unwrap_err();
    assert_eq!(
        e.kind,
        ErrorKind::TokenDenied {
            error: "server_error".into(),
            description: "access_denied".into()
        }
    );
    assert!(e.to_string().contains("system log"), "{e}");
}

#[test]
fn rate_limit_body_and_headers() {
    let body = r#"{"error":{"message":"Rate limit exceeded","detail":"Rate limit of 100 requests per hour for Table API exceeded"},"status":"failure"}"#;
    let e = table(
        429,
        &[
            JSON,
            ("retry-after", "17"),
            ("x-ratelimit-limit", "100"),
            ("x-ratelimit-reset", "1700000000"),
            ("x-ratelimit-rule", "0123456789abcdef0123456789abcdef"),
        ],
        body,
    )
    .unwrap_err();
    assert_eq!(
        e.kind,
        ErrorKind::RateLimited {
            retry_after: Some(Duration::from_secs(17))
        }
    );
    assert_eq!(e.server_message.as_deref(), Some("Rate limit exceeded"));
    assert!(e.kind.is_transient());
    let e = table(429, &[JSON], body).unwrap_err();
    assert_eq!(e.kind, ErrorKind::RateLimited { retry_after: None });
}

#[test]
fn hibernation_page_with_200_or_503() {
    for status in [200, 503] {
        let e = table(status, &[HTML], HIBERNATING).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Hibernating, "status {status}");
        assert!(!e.kind.is_transient());
        assert!(e.to_string().contains("developer portal"), "{e}");
    }
}

#[test]
fn invalid_table() {
    let body =
        r#"{"error":{"message":"Invalid table x_casemgmt_case","detail":null},"status":"failure"}"#;
    let e = table(400, &[JSON], body).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidTable);
    assert_eq!(e.server_detail, None);
}

#[test]
fn unauthorized_plain_and_with_mfa() {
    let body = r#"{"error":{"message":"User Not Authenticated","detail":"Required to provide Auth information"},"status":"failure"}"#;
    let e = table(401, &[JSON], body).unwrap_err();
    assert_eq!(
        e.kind,
        ErrorKind::Unauthorized {
            mfa_required: false
        }
    );
    assert_eq!(e.server_message.as_deref(), Some("User Not Authenticated"));
    let e = table(401, &[JSON, ("X-MFA_TOKEN", "invalid")], body).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unauthorized { mfa_required: true });
    assert!(e.to_string().contains("bearer token"), "{e}");
}

#[test]
fn forbidden_variants() {
    let cases = [
        (
            r#"{"error":{"message":"Operation Failed","detail":"ACL Exception Insert Failed due to security constraints"},"status":"failure"}"#,
            ForbiddenKind::AclOperation {
                operation: "Insert".into(),
            },
        ),
        (
            r#"{"error":{"message":"Operation Failed","detail":"ACL Exception Update Failed due to security constraints"},"status":"failure"}"#,
            ForbiddenKind::AclOperation {
                operation: "Update".into(),
            },
        ),
        (
            r#"{"error":{"message":"Operation against file 'sys_db_object' was denied due to table security.","detail":"Field(s) present in the query do not have permission to be read."},"status":"failure"}"#,
            ForbiddenKind::TableSecurity,
        ),
        (
            r#"{"error":{"message":"Missing required api access scope","detail":null},"status":"failure"}"#,
            ForbiddenKind::ApiAccessScope,
        ),
        (
            r#"{"error":{"message":"Operation against file 'sys_user' was aborted by Business Rule 'Block deletes^f00'. Business Rule Stack:Block deletes","detail":"Operation against file 'sys_user' was aborted by Business Rule"},"status":"failure"}"#,
            ForbiddenKind::BusinessRule,
        ),
        (
            r#"{"error":{"message":"Forbidden","detail":null},"status":"failure"}"#,
            ForbiddenKind::Other,
        ),
    ];
    for (body, want) in cases {
        let e = table(403, &[JSON], body).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Forbidden(want.clone()), "{body}");
    }
}

#[test]
fn not_found() {
    let body = r#"{"error":{"message":"No Record found","detail":"Record doesn't exist or ACL restricts the record retrieval"},"status":"failure"}"#;
    let mut t = target();
    t.method = "GET".into();
    t.table = Some("sys_user".into());
    t.sys_id = Some("6816f79cc0a8016401c5a33be04be441".into());
    let e = classify(404, &headers(&[JSON]), body.as_bytes(), &t, Expect::Table).unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    let text = e.to_string();
    assert!(text.contains("sys_user"), "{text}");
    assert!(text.contains("6816f79cc0a8016401c5a33be04be441"), "{text}");
    assert!(text.contains("No Record found"), "{text}");
}

#[test]
fn html_login_page_and_redirects() {
    let login = r#"<html><head><title>Log in | ServiceNow</title></head><body><form action="login.do"><input name="user_name"></form></body></html>"#;
    assert_eq!(
        table(200, &[HTML], login).unwrap_err().kind,
        ErrorKind::LoginPage
    );
    let e = table(
        302,
        &[("location", "https://acme.service-now.com/login.do")],
        "",
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::LoginPage);
    let e = table(
        302,
        &[(
            "location",
            "https://idp.example.com/saml2/sso?SAMLRequest=x",
        )],
        "",
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::LoginPage);
    let e = table(301, &[("location", "https://elsewhere.example.com/")], "").unwrap_err();
    assert_eq!(e.kind, ErrorKind::UnexpectedStatus { status: 301 });
    let other = "<!DOCTYPE html><html><body>Welcome to nginx</body></html>";
    assert_eq!(
        table(200, &[HTML], other).unwrap_err().kind,
        ErrorKind::NotServiceNow
    );
    // HTML served without any content type is still recognised as HTML.
    assert_eq!(
        table(200, &[], login).unwrap_err().kind,
        ErrorKind::LoginPage
    );
}

#[test]
fn non_json_content_type_and_malformed_json() {
    let e = table(200, &[("content-type", "text/plain")], "hello").unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotServiceNow);
    let e = table(200, &[JSON], r#"{"result":[{"sys_id":"a"#).unwrap_err();
    assert_eq!(e.kind, ErrorKind::MalformedJson);
    let e = table(200, &[JSON], r#"{"records":[]}"#).unwrap_err();
    assert_eq!(e.kind, ErrorKind::MalformedJson);
    let e = token(200, &[JSON], r#"{"token_type":"Bearer"}"#).unwrap_err();
    assert_eq!(e.kind, ErrorKind::MalformedJson);
}

#[test]
fn server_errors_and_odd_statuses() {
    for status in [500, 502, 503, 504] {
        let e = table(
            status,
            &[("content-type", "text/html")],
            "<html>oops</html>",
        )
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Server { status });
        assert!(e.kind.is_transient());
    }
    let e = table(
        405,
        &[JSON],
        r#"{"error":{"message":"Method not allowed","detail":null},"status":"failure"}"#,
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadRequest { status: 405 });
    let e = table(404, &[HTML], "<html>Not Found</html>").unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotServiceNow);
}

#[test]
fn token_endpoint_5xx_is_a_server_error() {
    let e = token(503, &[JSON], "{}").unwrap_err();
    assert_eq!(e.kind, ErrorKind::Server { status: 503 });
}

#[test]
fn classification_never_panics_on_arbitrary_bytes() {
    use proptest::prelude::*;
    proptest!(ProptestConfig::with_cases(300), |(
        status in 100u16..600,
        body in proptest::collection::vec(any::<u8>(), 0..200),
        html in any::<bool>(),
    )| {
        let ct = if html { HTML } else { JSON };
        let _ = classify(status, &headers(&[ct]), &body, &target(), Expect::Table);
        let _ = classify(status, &headers(&[ct]), &body, &target(), Expect::Token);
    });
}

#[test]
fn a_429_from_the_token_endpoint_is_a_rate_limit_not_a_refused_grant() {
    let body = r#"{"error":"server_error","error_description":"too many requests"}"#;
    let e = token(429, &[JSON, ("retry-after", "5")], body).unwrap_err();
    assert_eq!(
        e.kind,
        ErrorKind::RateLimited {
            retry_after: Some(Duration::from_secs(5))
        }
    );
}

#[test]
fn proxy_refusals_are_told_in_words() {
    let said = |chain: &str| proxy_refusal(chain).unwrap();
    assert_eq!(
        said("tunnel error: unsuccessful"),
        "it refused the CONNECT request"
    );
    assert!(said("tunnel error: proxy authorization required").contains("407"));
    assert!(said("tunnel error: unexpected end of file").contains("without answering"));
    assert_eq!(
        said("tunnel error: failed to create underlying connection: Connection refused (os error 111)"),
        "the proxy itself could not be reached: Connection refused (os error 111)"
    );
    assert_eq!(proxy_refusal("Connection refused (os error 111)"), None);
    assert_eq!(
        proxy_refusal("invalid peer certificate: UnknownIssuer"),
        None
    );
}

#[test]
fn display_names_the_record_and_the_server_message() {
    let body = r#"{"error":{"message":"Operation Failed","detail":"ACL Exception Insert Failed due to security constraints"},"status":"failure"}"#;
    let text = table(403, &[JSON], body).unwrap_err().to_string();
    assert!(text.contains("POST table 'sys_security_acl'"), "{text}");
    assert!(text.contains("https://acme.service-now.com"), "{text}");
    assert!(text.contains("ACL Exception Insert Failed"), "{text}");
    assert!(text.contains("security_admin"), "{text}");
}

/// Properties of [`classify`] over arbitrary statuses, content types and bodies: beyond not
/// panicking, the classification a caller branches on (hibernating, never retry a 401,
/// retry only 429/5xx) holds whatever else the answer contains.
mod properties {
    use super::*;
    use crate::servicenow::retry::RetryPolicy;
    use proptest::prelude::*;

    const MARKER: &str = "<title>Instance Hibernating page</title>";

    fn content_type() -> impl Strategy<Value = Option<String>> {
        prop::option::of(prop_oneof![
            Just("application/json".to_string()),
            Just("application/json;charset=UTF-8".to_string()),
            Just("text/html;charset=UTF-8".to_string()),
            Just("text/plain".to_string()),
            Just("application/xml".to_string()),
            "[ -~]{0,30}",
        ])
    }

    fn body() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            prop::collection::vec(any::<u8>(), 0..300),
            ".{0,200}".prop_map(String::into_bytes),
            (any::<bool>(), ".{0,40}", ".{0,40}").prop_map(|(obj, m, d)| {
                let error = if obj {
                    serde_json::json!({"message": m, "detail": d})
                } else {
                    serde_json::json!(m)
                };
                serde_json::json!({"error": error, "error_description": d, "status": "failure"})
                    .to_string()
                    .into_bytes()
            }),
            ".{0,60}"
                .prop_map(|t| format!("<html><head><title>{t}</title></head></html>").into_bytes()),
        ]
    }

    fn expect() -> impl Strategy<Value = Expect> {
        prop_oneof![Just(Expect::Table), Just(Expect::Token)]
    }

    fn header_map(content_type: &Option<String>, extra: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(ct) = content_type {
            if let Ok(v) = HeaderValue::from_str(ct) {
                h.insert("content-type", v);
            }
        }
        for (k, v) in extra {
            if let (Ok(k), Ok(v)) = (
                reqwest::header::HeaderName::from_bytes(k.as_bytes()),
                HeaderValue::from_str(v),
            ) {
                h.insert(k, v);
            }
        }
        h
    }

    fn tgt() -> RequestTarget {
        RequestTarget {
            method: "GET".into(),
            path: "/api/now/table/sys_user".into(),
            table: Some("sys_user".into()),
            sys_id: None,
            instance: "https://acme.service-now.com".into(),
        }
    }

    use reqwest::header::HeaderValue;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Whatever the status, content type or surrounding bytes, the hibernation page is
        /// recognised, and it is never retried (it lasts until someone wakes the instance).
        #[test]
        fn the_hibernation_page_always_reads_as_hibernating(
            status in 100u16..600,
            ct in content_type(),
            before in prop::collection::vec(any::<u8>(), 0..80),
            after in prop::collection::vec(any::<u8>(), 0..80),
            expect in expect(),
        ) {
            let mut body = before;
            body.extend_from_slice(MARKER.as_bytes());
            body.extend_from_slice(&after);
            let e = classify(status, &header_map(&ct, &[]), &body, &tgt(), expect).unwrap_err();
            prop_assert_eq!(&e.kind, &ErrorKind::Hibernating);
            prop_assert!(!e.kind.is_transient());
            prop_assert!(e.kind.instance_unusable());
        }

        /// A 401 is a refused login whatever comes with it, and no policy retries it: a
        /// second attempt would be a second failed login towards the lockout.
        #[test]
        fn a_401_is_never_retried(
            ct in content_type(),
            body in body(),
            mfa in prop::option::of("[a-zA-Z]{0,10}"),
            expect in expect(),
        ) {
            prop_assume!(!is_hibernation_page(&String::from_utf8_lossy(&body)));
            let extra: Vec<(&str, &str)> = mfa.iter().map(|v| ("x-mfa_token", v.as_str())).collect();
            let e = classify(401, &header_map(&ct, &extra), &body, &tgt(), expect).unwrap_err();
            prop_assert!(
                matches!(
                    e.kind,
                    ErrorKind::Unauthorized { .. }
                        | ErrorKind::LoginPage
                        | ErrorKind::TokenDenied { .. }
                ),
                "{:?}", e.kind
            );
            for policy in [RetryPolicy::Never, RetryPolicy::RateLimitOnly, RetryPolicy::Transient] {
                prop_assert!(!policy.allows(&e.kind), "{:?} retries {:?}", policy, e.kind);
            }
            if let ErrorKind::Unauthorized { mfa_required } = e.kind {
                let invalid = mfa.as_deref().is_some_and(|v| v.eq_ignore_ascii_case("invalid"));
                prop_assert_eq!(mfa_required, invalid);
            }
        }

        /// Only 429 and 5xx are transient, and every 5xx (not the hibernation page) is a
        /// server error carrying its status; a 429 reads its Retry-After in seconds.
        #[test]
        fn only_429_and_5xx_are_transient(
            status in 200u16..600,
            ct in content_type(),
            body in body(),
            retry_after in prop::option::of(0u64..100_000),
            expect in expect(),
        ) {
            prop_assume!(!is_hibernation_page(&String::from_utf8_lossy(&body)));
            let ra = retry_after.map(|s| s.to_string());
            let extra: Vec<(&str, &str)> = ra.iter().map(|v| ("retry-after", v.as_str())).collect();
            let result = classify(status, &header_map(&ct, &extra), &body, &tgt(), expect);
            match result {
                Ok(_) => prop_assert!((200..300).contains(&status)),
                Err(e) => {
                    let transient = status == 429 || (500..600).contains(&status);
                    prop_assert_eq!(e.kind.is_transient(), transient, "{} -> {:?}", status, e.kind);
                    if (500..600).contains(&status) {
                        prop_assert_eq!(&e.kind, &ErrorKind::Server { status });
                    }
                    if status == 429 {
                        prop_assert_eq!(
                            &e.kind,
                            &ErrorKind::RateLimited { retry_after: retry_after.map(Duration::from_secs) }
                        );
                    }
                    // Every classification can be told to a user.
                    let text = e.to_string();
                    prop_assert!(text.len() > 20 && text.ends_with('.'), "{}", text);
                }
            }
        }

        /// A well-formed Table API answer is accepted whatever JSON content type it has,
        /// and anything but a 2xx never is.
        #[test]
        fn a_result_envelope_with_2xx_is_accepted(
            status in 200u16..300,
            rows in prop::collection::vec(("[a-z_]{1,10}", ".{0,20}"), 0..4),
        ) {
            prop_assume!(status != 204);
            let result: serde_json::Map<String, Value> = rows
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect();
            let body = serde_json::json!({"result": [result]}).to_string();
            prop_assume!(!is_hibernation_page(&body));
            let ok = classify(
                status,
                &header_map(&Some("application/json;charset=UTF-8".into()), &[]),
                body.as_bytes(),
                &tgt(),
                Expect::Table,
            );
            prop_assert!(ok.is_ok(), "{:?}", ok);
        }

        /// Redirects are never followed into success: a login-looking target is a login
        /// page, anything else an unexpected status.
        #[test]
        fn redirects_are_never_success(
            status in 300u16..400,
            location in "[ -~]{0,60}",
            body in body(),
        ) {
            prop_assume!(!is_hibernation_page(&String::from_utf8_lossy(&body)));
            let e = classify(
                status,
                &header_map(&None, &[("location", location.as_str())]),
                &body,
                &tgt(),
                Expect::Table,
            )
            .unwrap_err();
            prop_assert!(
                matches!(e.kind, ErrorKind::LoginPage | ErrorKind::UnexpectedStatus { .. }),
                "{:?}", e.kind
            );
        }
    }
}

#[test]
fn the_real_hibernation_page_is_recognised_by_any_of_its_markers() {
    // As captured from a sleeping developer instance (facts sheet, Corrections 4), and with only
    // one marker left each time.
    let real = r#"<!DOCTYPE html><html><head><title>Instance Hibernating page</title></head>
<body class="instance-hibernating-page"><div><h1>Your instance is hibernating</h1>
<a href="https://developer.servicenow.com/dev.do#!/home?wu=true">Sign in</a></div></body></html>"#;
    for page in [
        real,
        r#"<html><body class="instance-hibernating-page"><p>zzz</p></body></html>"#,
        "<html><title>INSTANCE HIBERNATING PAGE</title></html>",
        "<p>Your instance is hibernating.</p>",
    ] {
        assert!(is_hibernation_page(page), "{page}");
        for status in [200, 503] {
            let e = table(
                status,
                &[("content-type", "text/html; charset=UTF-8")],
                page,
            )
            .unwrap_err();
            assert_eq!(e.kind, ErrorKind::Hibernating, "{status}: {page}");
        }
    }
    assert!(!is_hibernation_page(
        "<html><title>Log in | ServiceNow</title></html>"
    ));
}

#[test]
fn a_431_names_the_oversized_header_not_the_address() {
    for ct in ["text/html", "application/json"] {
        let e = table(
            431,
            &[("content-type", ct)],
            "<html>Request Header Fields Too Large</html>",
        )
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::HeaderTooLarge, "{ct}");
        assert!(e.to_string().contains("too large (431)"), "{e}");
    }
}
