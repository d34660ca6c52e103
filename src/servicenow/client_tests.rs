//! Unit tests of `client.rs`, kept apart so the code reads on its own.
use super::*;

#[test]
fn debug_of_client_session_and_options_hides_secrets() {
    let instance = Instance::parse("http://127.0.0.1:9").unwrap();
    let client = Client::new(&instance, &ClientOptions::default()).unwrap();
    let s = client.session(Auth::basic("admin", SecretString::from("pw-XYZ-123")));
    let b = client.session(Auth::bearer(SecretString::from("tok-XYZ-456")));
    let shown = format!("{client:?} {s:?} {b:?} {:?}", ClientOptions::default());
    assert!(shown.contains("admin"), "{shown}");
    assert!(
        !shown.contains("pw-XYZ-123") && !shown.contains("tok-XYZ-456"),
        "{shown}"
    );
}

#[test]
fn table_names_are_checked_before_sending() {
    assert!(valid_table_name("sys_user"));
    assert!(valid_table_name("x_incident_io_thing"));
    assert!(!valid_table_name("../oauth_token.do"));
    assert!(!valid_table_name("sys_user?x=1"));
    assert!(!valid_table_name(""));
}

#[test]
fn an_impossible_table_name_is_refused_without_a_request() {
    let instance = Instance::parse("http://127.0.0.1:9").unwrap();
    let client = Client::new(&instance, &ClientOptions::default()).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let err = rt
        .block_on(
            client
                .session(Auth::Anonymous)
                .list("../oauth_token.do", &ListRequest::new()),
        )
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::BadRequest { status: 0 });
    assert_eq!(err.status(), None);
    let text = err.to_string();
    assert!(text.starts_with("the request was not sent"), "{text}");
    assert!(
        text.contains("'../oauth_token.do' is not a valid table name"),
        "{text}"
    );
    assert_eq!(client.stats().requests, 0);
}

#[test]
fn urls_encode_segments() {
    let instance = Instance::parse("https://acme.service-now.com").unwrap();
    let client = Client::new(&instance, &ClientOptions::default()).unwrap();
    let url = client.url(&["api", "now", "table", "sys_user", "a/b?c"]);
    assert_eq!(
        url.as_str(),
        "https://acme.service-now.com/api/now/table/sys_user/a%2Fb%3Fc"
    );
}

#[test]
fn unreadable_or_empty_ca_cert_is_a_clear_error() {
    let instance = Instance::parse("acme").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.pem");
    let opts = ClientOptions {
        ca_cert: Some(missing.clone()),
        ..ClientOptions::default()
    };
    let e = Client::new(&instance, &opts).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::CaCert { .. }));
    assert!(e.to_string().contains("nope.pem"), "{e}");
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "not a certificate\n").unwrap();
    let opts = ClientOptions {
        ca_cert: Some(empty),
        ..ClientOptions::default()
    };
    let e = Client::new(&instance, &opts).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::CaCert { .. }), "{e:?}");
}
