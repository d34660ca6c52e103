//! The simulated instance over HTTP: envelopes, headers, paging, auth, the token endpoint and
//! faults, as a client sees them.

use std::time::Duration;

use crate::support::SERVICE_USER_ROLES;
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde_json::{json, Value};
use snconnect::sandbox::fixtures::*;
use snconnect::sandbox::{Faults, Hibernation, Sandbox, SandboxConfig};

/// A response with everything a test looks at.
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    text: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn result(&self) -> Vec<Value> {
        self.json()["result"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

enum Auth<'a> {
    None,
    Basic(&'a str, &'a str),
    Bearer(&'a str),
}

struct Harness {
    sandbox: Sandbox,
    client: reqwest::Client,
    runtime: tokio::runtime::Runtime,
}

impl Harness {
    fn new(config: SandboxConfig) -> Harness {
        let sandbox = Sandbox::start(config).expect("sandbox starts");
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        Harness {
            sandbox,
            client,
            runtime,
        }
    }

    fn scenario(name: &str) -> Harness {
        Harness::new(SandboxConfig::scenario(name))
    }

    fn send(&self, builder: reqwest::RequestBuilder, auth: Auth) -> Reply {
        let builder = match auth {
            Auth::None => builder,
            Auth::Basic(u, p) => builder.basic_auth(u, Some(p)),
            Auth::Bearer(t) => builder.bearer_auth(t),
        };
        self.runtime.block_on(async {
            let response = builder.send().await.expect("request sent");
            Reply {
                status: response.status(),
                headers: response.headers().clone(),
                text: response.text().await.unwrap(),
            }
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sandbox.url())
    }

    fn get(&self, path: &str, auth: Auth) -> Reply {
        self.send(self.client.get(self.url(path)), auth)
    }

    fn admin_get(&self, path: &str) -> Reply {
        self.get(path, Auth::Basic(ADMIN_USER, ADMIN_PASSWORD))
    }

    fn post(&self, path: &str, body: Value, auth: Auth) -> Reply {
        self.send(self.client.post(self.url(path)).json(&body), auth)
    }

    fn patch(&self, path: &str, body: Value, auth: Auth) -> Reply {
        self.send(self.client.patch(self.url(path)).json(&body), auth)
    }

    fn token(&self, form: &[(&str, &str)]) -> Reply {
        self.send(
            self.client.post(self.url("/oauth_token.do")).form(form),
            Auth::None,
        )
    }

    fn password_grant(&self, password: &str) -> Reply {
        self.token(&[
            ("grant_type", "password"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("username", SERVICE_USER),
            ("password", password),
        ])
    }
}

fn assert_error(reply: &Reply, status: u16, message: &str, detail: Option<&str>) {
    assert_eq!(reply.status.as_u16(), status, "{}", reply.text);
    let body = reply.json();
    assert_eq!(body["status"], "failure", "{body}");
    assert_eq!(body["error"]["message"], message, "{body}");
    match detail {
        Some(d) => assert_eq!(body["error"]["detail"], d, "{body}"),
        None => assert!(body["error"]["detail"].is_null(), "{body}"),
    }
}

#[test]
fn dot_walked_role_query_returns_role_names_under_their_literal_key() {
    let h = Harness::scenario("healthy-app");
    let reply = h.admin_get(
        "/api/now/table/sys_user_has_role?sysparm_query=user.user_name=incident.io&sysparm_fields=role.name,inherited",
    );
    assert_eq!(reply.status, 200);
    assert!(reply
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    let mut names: Vec<String> = reply
        .result()
        .iter()
        .map(|r| {
            assert_eq!(r.as_object().unwrap().len(), 2, "{r}");
            r["role.name"].as_str().unwrap().to_string()
        })
        .collect();
    names.sort();
    assert_eq!(names, SERVICE_USER_ROLES);
    assert_eq!(reply.header("x-total-count"), Some("4"));
    assert!(
        reply.header("link").is_none(),
        "one page has no Link header"
    );
}

#[test]
fn references_render_per_display_value_and_exclude_reference_link() {
    let h = Harness::scenario("healthy-app");
    let base = "/api/now/table/sys_user_has_role?sysparm_query=user.user_name=incident.io^role.name=cmdb_read&sysparm_fields=role";
    let plain = h.admin_get(base).result()[0]["role"].clone();
    let id = plain["value"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 32);
    assert_eq!(
        plain["link"],
        format!("{}/api/now/table/sys_user_role/{id}", h.sandbox.url())
    );
    let no_link = h.admin_get(&format!("{base}&sysparm_exclude_reference_link=true"));
    assert_eq!(no_link.result()[0]["role"], id.as_str());
    let display = h.admin_get(&format!("{base}&sysparm_display_value=true"));
    assert_eq!(display.result()[0]["role"]["display_value"], "cmdb_read");
    assert!(display.result()[0]["role"].get("value").is_none());
    let all = h.admin_get(&format!("{base},inherited&sysparm_display_value=all"));
    let row = &all.result()[0];
    assert_eq!(row["role"]["display_value"], "cmdb_read");
    assert_eq!(row["role"]["value"], id.as_str());
    assert_eq!(
        row["inherited"],
        json!({"display_value": "false", "value": "false"})
    );
    let display_no_link = h.admin_get(&format!(
        "{base}&sysparm_display_value=true&sysparm_exclude_reference_link=true"
    ));
    assert_eq!(display_no_link.result()[0]["role"], "cmdb_read");
}

#[test]
fn full_records_have_string_values_and_invalid_fields_are_ignored() {
    let h = Harness::scenario("healthy-app");
    let reply = h.admin_get("/api/now/table/sys_user?sysparm_query=user_name=incident.io");
    let user = &reply.result()[0];
    assert_eq!(user["active"], "true");
    assert_eq!(user["locked_out"], "false");
    // Empty on a user who never failed a login, as captured records show.
    assert_eq!(user["failed_attempts"], "");
    assert_eq!(user["identity_type"], "machine");
    assert!(user["sys_created_on"].as_str().unwrap().len() == 19);
    for (_, value) in user.as_object().unwrap() {
        assert!(value.is_string() || value.is_object(), "{value}");
    }
    let reply = h.admin_get(
        "/api/now/table/sys_user?sysparm_query=user_name=incident.io&sysparm_fields=user_name,bogus,nope.name",
    );
    assert_eq!(reply.result()[0], json!({"user_name": "incident.io"}));
    // An unknown field in the query is dropped: every user matches.
    let all = h.admin_get(
        "/api/now/table/sys_user?sysparm_query=usr_name=incident.io&sysparm_fields=user_name",
    );
    assert!(all.result().len() > 1);
}

#[test]
fn client_secret_reads_back_as_ciphertext() {
    let h = Harness::scenario("healthy-app");
    let reply = h.admin_get("/api/now/table/oauth_entity?sysparm_query=name=incident.io");
    let entity = &reply.result()[0];
    assert_eq!(entity["client_id"], CLIENT_ID);
    assert_eq!(entity["type"], "client");
    assert_eq!(entity["access_token_lifespan"], "1800");
    assert_eq!(entity["refresh_token_lifespan"], "8640000");
    let secret = entity["client_secret"].as_str().unwrap();
    assert!(!secret.is_empty() && !secret.contains(CLIENT_SECRET));
    assert!(!reply.text.contains(CLIENT_SECRET));
}

#[test]
fn link_header_pages_through_results() {
    let h = Harness::scenario("healthy-app");
    let first = h.admin_get("/api/now/table/sys_user_role?sysparm_limit=3&sysparm_fields=name");
    assert_eq!(first.result().len(), 3);
    let total: usize = first.header("x-total-count").unwrap().parse().unwrap();
    assert_eq!(total, 9);
    let link = first.header("link").unwrap().to_string();
    let rels: Vec<&str> = link.split(',').collect();
    assert!(
        rels.iter()
            .all(|r| r.starts_with('<') && r.contains(">;rel=\"")),
        "{link}"
    );
    assert!(!link.contains(", "), "no space after commas: {link}");
    assert!(
        link.contains("rel=\"first\"")
            && link.contains("rel=\"next\"")
            && link.contains("rel=\"last\"")
    );
    assert!(!link.contains("rel=\"prev\""), "{link}");

    // Follow next links to the end and collect every name once.
    let mut names = Vec::new();
    let mut url = format!(
        "{}/api/now/table/sys_user_role?sysparm_limit=3&sysparm_fields=name",
        h.sandbox.url()
    );
    let mut pages = 0;
    loop {
        let reply = h.send(h.client.get(&url), Auth::Basic(ADMIN_USER, ADMIN_PASSWORD));
        pages += 1;
        names.extend(
            reply
                .result()
                .iter()
                .map(|r| r["name"].as_str().unwrap().to_string()),
        );
        let link = reply.header("link").unwrap_or("").to_string();
        if pages > 1 {
            assert!(link.contains("rel=\"prev\""), "{link}");
        }
        match link
            .split(',')
            .find(|r| r.ends_with("rel=\"next\""))
            .map(|r| {
                r.trim_start_matches('<')
                    .split(">;")
                    .next()
                    .unwrap()
                    .to_string()
            }) {
            Some(next) => url = next,
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), total);
}

#[test]
fn orderby_and_or_queries_work_over_http() {
    let h = Harness::scenario("healthy-app");
    let reply = h.admin_get(
        "/api/now/table/sys_user_role?sysparm_query=name=itil^ORname=admin^ORDERBYDESCname&sysparm_fields=name",
    );
    let names: Vec<String> = reply
        .result()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["itil", "admin"]);
    let me = h.get(
        "/api/now/table/sys_user?sysparm_query=sys_id=javascript:gs.getUserID()&sysparm_fields=user_name",
        Auth::Basic(SERVICE_USER, SERVICE_PASSWORD),
    );
    assert_eq!(me.result(), [json!({"user_name": "incident.io"})]);
}

#[test]
fn versioned_paths_and_get_by_sys_id() {
    let h = Harness::scenario("healthy-app");
    let list = h.admin_get("/api/now/v2/table/incident?sysparm_limit=1");
    let id = list.result()[0]["sys_id"].as_str().unwrap().to_string();
    let one = h.admin_get(&format!("/api/now/table/incident/{id}"));
    assert_eq!(one.status, 200);
    assert_eq!(one.json()["result"]["sys_id"], id.as_str());
    let missing = h.admin_get("/api/now/table/incident/0123456789abcdef0123456789abcdef");
    assert_error(
        &missing,
        404,
        "No Record found",
        Some("Record doesn't exist or ACL restricts the record retrieval"),
    );
    let v2_empty = h.admin_get("/api/now/v2/table/incident?sysparm_query=number=NONE");
    assert_eq!(v2_empty.status, 200);
    assert_eq!(v2_empty.result().len(), 0);
    let v1_empty = h.admin_get("/api/now/v1/table/incident?sysparm_query=number=NONE");
    assert_eq!(v1_empty.status, 404);
}

#[test]
fn unknown_table_is_a_400_for_everyone() {
    let h = Harness::scenario("healthy-app");
    assert_error(
        &h.admin_get("/api/now/table/x_nope"),
        400,
        "Invalid table x_nope",
        None,
    );
    assert_error(
        &h.get(
            "/api/now/table/x_nope",
            Auth::Basic(SERVICE_USER, SERVICE_PASSWORD),
        ),
        400,
        "Invalid table x_nope",
        None,
    );
}

#[test]
fn missing_or_bad_auth_is_401_and_bad_passwords_lock_the_user() {
    let h = Harness::new(SandboxConfig {
        lockout_threshold: 2,
        ..SandboxConfig::default()
    });
    for reply in [
        h.get("/api/now/table/incident", Auth::None),
        h.get("/api/now/table/incident", Auth::Basic(SERVICE_USER, "nope")),
        h.get("/api/now/table/incident", Auth::Bearer("not-a-token")),
    ] {
        assert_error(
            &reply,
            401,
            "User Not Authenticated",
            Some("Required to provide Auth information"),
        );
        assert!(reply.header("x-mfa_token").is_none());
    }
    h.get("/api/now/table/incident", Auth::Basic(SERVICE_USER, "nope"));
    let locked = h
        .sandbox
        .with_db(|db| db.user_by_name(SERVICE_USER).unwrap()["locked_out"].clone());
    assert_eq!(locked, "true");
    let reply = h.get(
        "/api/now/table/incident",
        Auth::Basic(SERVICE_USER, SERVICE_PASSWORD),
    );
    assert_eq!(reply.status, 401);
}

#[test]
fn mfa_for_integrations_gives_401_with_the_mfa_header() {
    let h = Harness::scenario("mfa-admin");
    let reply = h.admin_get("/api/now/table/sys_user");
    assert_eq!(reply.status, 401);
    assert_eq!(reply.header("x-mfa_token"), Some("invalid"));
}

#[test]
fn denied_reads_are_empty_with_an_acl_blind_count() {
    let h = Harness::scenario("healthy-app");
    let service = Auth::Basic(SERVICE_USER, SERVICE_PASSWORD);
    let reply = h.get("/api/now/table/sys_properties", service);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.result().len(), 0);
    let count: usize = reply.header("x-total-count").unwrap().parse().unwrap();
    assert!(count > 0);
    let readable = h.get(
        "/api/now/table/cmdb_ci",
        Auth::Basic(SERVICE_USER, SERVICE_PASSWORD),
    );
    assert_eq!(readable.result().len(), 3);

    let hidden = Harness::scenario("acl-hidden");
    let reply = hidden.admin_get("/api/now/table/sys_security_acl?sysparm_query=name=task");
    assert_eq!(reply.result().len(), 0);
    assert_eq!(reply.header("x-total-count"), Some("3"));
}

#[test]
fn acl_inserts_are_refused_without_elevation() {
    let h = Harness::scenario("acl-missing");
    let body = json!({"name": "task", "operation": "read", "type": "record", "active": true});
    let reply = h.post(
        "/api/now/table/sys_security_acl",
        body.clone(),
        Auth::Basic(ADMIN_USER, ADMIN_PASSWORD),
    );
    assert_error(
        &reply,
        403,
        "Operation Failed",
        Some("ACL Exception Insert Failed due to security constraints"),
    );
    let allowed = Harness::new(SandboxConfig {
        scenario: "acl-missing".into(),
        allow_acl_insert: true,
        ..SandboxConfig::default()
    });
    let reply = allowed.post(
        "/api/now/table/sys_security_acl",
        body,
        Auth::Basic(ADMIN_USER, ADMIN_PASSWORD),
    );
    assert_eq!(reply.status, 201, "{}", reply.text);
    let created = reply.json()["result"].clone();
    assert_eq!(created["operation"]["value"], "read");
    assert_eq!(created["active"], "true");
    assert_eq!(created["admin_overrides"], "true");
    assert_eq!(created["decision_type"], "allow");
    assert_eq!(created["sys_scope"]["value"], "global");
    let location = reply.header("location").unwrap();
    assert!(location.ends_with(&format!(
        "/api/now/table/sys_security_acl/{}",
        created["sys_id"].as_str().unwrap()
    )));
}

#[test]
fn non_admin_config_writes_are_acl_exceptions() {
    let h = Harness::scenario("healthy-app");
    let service = || Auth::Basic(SERVICE_USER, SERVICE_PASSWORD);
    let reply = h.post(
        "/api/now/table/sys_user",
        json!({"user_name": "x"}),
        service(),
    );
    assert_error(
        &reply,
        403,
        "Operation Failed",
        Some("ACL Exception Insert Failed due to security constraints"),
    );
    let id = h
        .sandbox
        .with_db(|db| db.user_by_name(SERVICE_USER).unwrap()["sys_id"].clone());
    let reply = h.patch(
        &format!("/api/now/table/sys_user/{id}"),
        json!({"locked_out": false}),
        service(),
    );
    assert_error(
        &reply,
        403,
        "Operation Failed",
        Some("ACL Exception Update Failed due to security constraints"),
    );
}

#[test]
fn passwords_work_only_when_written_as_display_values() {
    let h = Harness::scenario("healthy-app");
    let id = h
        .sandbox
        .with_db(|db| db.user_by_name(SERVICE_USER).unwrap()["sys_id"].clone());
    let admin = || Auth::Basic(ADMIN_USER, ADMIN_PASSWORD);
    // Without sysparm_input_display_value the value is stored as sent and logins fail.
    let reply = h.patch(
        &format!("/api/now/table/sys_user/{id}"),
        json!({"user_password": "Fresh-pass-1"}),
        admin(),
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(h.password_grant("Fresh-pass-1").status, 401);
    // With it, the password is hashed and works.
    let reply = h.patch(
        &format!("/api/now/table/sys_user/{id}?sysparm_input_display_value=true"),
        json!({"user_password": "Fresh-pass-2"}),
        admin(),
    );
    assert_eq!(reply.status, 200);
    assert!(!reply.text.contains("Fresh-pass-2"));
    assert_eq!(h.password_grant("Fresh-pass-2").status, 200);
}

#[test]
fn created_oauth_entries_get_a_client_id_and_keep_the_supplied_secret() {
    let h = Harness::scenario("oauth-missing");
    let admin = || Auth::Basic(ADMIN_USER, ADMIN_PASSWORD);
    let reply = h.post(
        "/api/now/table/oauth_entity",
        json!({"name": "incident.io", "client_secret": "chosen-secret-1", "type": "client"}),
        admin(),
    );
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert!(!reply.text.contains("chosen-secret-1"));
    let entity = reply.json()["result"].clone();
    let client_id = entity["client_id"].as_str().unwrap().to_string();
    assert_eq!(client_id.len(), 32);
    let scope = h
        .admin_get("/api/now/table/sys_auth_scope?sysparm_query=name=useraccount")
        .result()[0]["sys_id"]
        .as_str()
        .unwrap()
        .to_string();
    let mapping = h.post(
        "/api/now/table/oauth_entity_auth_scope_mapping",
        json!({"oauth_entity": entity["sys_id"], "auth_scope": scope}),
        admin(),
    );
    assert_eq!(mapping.status, 201);
    let token = h.token(&[
        ("grant_type", "password"),
        ("client_id", &client_id),
        ("client_secret", "chosen-secret-1"),
        ("username", SERVICE_USER),
        ("password", SERVICE_PASSWORD),
    ]);
    assert_eq!(token.status, 200, "{}", token.text);
}

#[test]
fn role_grants_with_unknown_roles_are_refused() {
    let h = Harness::scenario("roles-missing");
    let user = h
        .sandbox
        .with_db(|db| db.user_by_name(SERVICE_USER).unwrap()["sys_id"].clone());
    let reply = h.post(
        "/api/now/table/sys_user_has_role",
        json!({"user": user, "role": "0123456789abcdef0123456789abcdef"}),
        Auth::Basic(ADMIN_USER, ADMIN_PASSWORD),
    );
    assert_eq!(reply.status, 403, "{}", reply.text);
    assert!(reply.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Business Rule"));
    // By name, with display values, it works.
    let reply = h.post(
        "/api/now/table/sys_user_has_role?sysparm_input_display_value=true",
        json!({"user": user, "role": "cmdb_read"}),
        Auth::Basic(ADMIN_USER, ADMIN_PASSWORD),
    );
    assert_eq!(reply.status, 201, "{}", reply.text);
}

#[test]
fn bodies_that_are_not_json_objects_are_400() {
    let h = Harness::scenario("healthy-app");
    let reply = h.send(
        h.client
            .post(h.url("/api/now/table/incident"))
            .header("content-type", "application/json")
            .body("{not json"),
        Auth::Basic(ADMIN_USER, ADMIN_PASSWORD),
    );
    assert_eq!(reply.status, 400);
    assert_eq!(reply.json()["status"], "failure");
}

#[test]
fn token_endpoint_success_and_the_single_opaque_failure() {
    let h = Harness::scenario("healthy-app");
    let ok = h.password_grant(SERVICE_PASSWORD);
    assert_eq!(ok.status, 200);
    let body = ok.json();
    assert_eq!(body["scope"], "useraccount");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 1799);
    let token = body["access_token"].as_str().unwrap().to_string();
    let reply = h.get("/api/now/table/incident", Auth::Bearer(&token));
    assert_eq!(reply.result().len(), 3);
    assert_eq!(
        h.sandbox.requests().last().unwrap().user.as_deref(),
        Some("token:incident.io")
    );

    let denied = h.password_grant("wrong");
    assert_eq!(denied.status, 401);
    assert_eq!(
        denied.json(),
        json!({"error_description": "access_denied", "error": "server_error"})
    );
    for scenario in [
        "oauth-inactive",
        "ropc-disabled",
        "oauth-disabled",
        "oauth-no-scope",
        "user-locked",
    ] {
        let h = Harness::scenario(scenario);
        let reply = h.password_grant(SERVICE_PASSWORD);
        assert_eq!(reply.status, 401, "{scenario}");
        assert_eq!(
            reply.json(),
            json!({"error_description": "access_denied", "error": "server_error"}),
            "{scenario}"
        );
    }
    // JSON is not accepted.
    let reply = h.post(
        "/oauth_token.do",
        json!({"grant_type": "password"}),
        Auth::None,
    );
    assert_eq!(reply.status, 400);
}

#[test]
fn scope_restricted_tokens_get_403() {
    let h = Harness::scenario("scope-blocked");
    let token = h.password_grant(SERVICE_PASSWORD).json()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let reply = h.get("/api/now/table/incident", Auth::Bearer(&token));
    assert_error(&reply, 403, "Missing required api access scope", None);
    let basic = h.get(
        "/api/now/table/incident",
        Auth::Basic(SERVICE_USER, SERVICE_PASSWORD),
    );
    assert_eq!(basic.status, 200);
}

#[test]
fn rate_limits_and_server_errors_come_in_bursts() {
    let h = Harness::new(SandboxConfig {
        faults: Faults {
            rate_limit_next: 2,
            ..Faults::default()
        },
        ..SandboxConfig::default()
    });
    let first = h.admin_get("/api/now/table/incident");
    assert_error(
        &first,
        429,
        "Rate limit exceeded",
        Some("Rate limit of 100 requests per hour for Table API exceeded"),
    );
    assert_eq!(first.header("retry-after"), Some("1"));
    assert!(first.header("x-ratelimit-limit").is_some());
    assert!(first.header("x-ratelimit-reset").is_some());
    assert!(first.header("x-ratelimit-rule").is_some());
    assert_eq!(h.admin_get("/api/now/table/incident").status, 429);
    assert_eq!(h.admin_get("/api/now/table/incident").status, 200);

    h.sandbox.with_db(|db| {
        db.faults.rate_limit_next = 1;
        db.faults.rate_limit_retry_after = false;
    });
    let reply = h.admin_get("/api/now/table/incident");
    assert_eq!(reply.status, 429);
    assert!(reply.header("retry-after").is_none());

    for status in [500u16, 502, 503] {
        h.sandbox.with_db(|db| {
            db.faults.server_errors_next = 1;
            db.faults.server_error_status = status;
        });
        assert_eq!(h.admin_get("/api/now/table/incident").status, status);
    }
    assert_eq!(h.admin_get("/api/now/table/incident").status, 200);
}

#[test]
fn hibernation_and_login_pages_are_html() {
    for (scenario, status) in [("hibernating", 200), ("hibernating-503", 503)] {
        let h = Harness::scenario(scenario);
        for reply in [
            h.admin_get("/api/now/table/incident"),
            h.password_grant(SERVICE_PASSWORD),
        ] {
            assert_eq!(reply.status.as_u16(), status);
            assert!(reply
                .header("content-type")
                .unwrap()
                .starts_with("text/html"));
            assert!(reply
                .text
                .contains("<title>Instance Hibernating page</title>"));
        }
    }
    let h = Harness::scenario("login-page");
    let reply = h.admin_get("/api/now/table/incident");
    assert_eq!(reply.status, 200);
    assert!(reply
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    assert!(reply.text.contains("login.do"));
    h.sandbox.with_db(|db| {
        db.faults.login_page = false;
        db.faults.hibernating = Some(Hibernation::Ok200);
    });
    assert!(h
        .admin_get("/api/now/table/incident")
        .text
        .contains("Instance Hibernating page"));
}

#[test]
fn request_log_names_callers_and_never_holds_secrets() {
    let h = Harness::scenario("healthy-app");
    h.admin_get("/api/now/table/incident?sysparm_limit=1");
    h.get(
        "/api/now/table/incident",
        Auth::Basic(SERVICE_USER, "wrong-pass"),
    );
    h.password_grant(SERVICE_PASSWORD);
    let log = h.sandbox.requests();
    assert_eq!(log.len(), 3);
    assert_eq!(log[0].method, "GET");
    assert_eq!(log[0].path, "/api/now/table/incident");
    assert_eq!(log[0].query.as_deref(), Some("sysparm_limit=1"));
    assert_eq!(log[0].status, 200);
    assert_eq!(log[0].user.as_deref(), Some("admin"));
    assert_eq!(log[1].status, 401);
    assert_eq!(log[1].user, None);
    assert_eq!(log[2].path, "/oauth_token.do");
    let over_http = h.get("/__sandbox/requests", Auth::None).json();
    assert_eq!(over_http["requests"].as_array().unwrap().len(), 3);
    let text = over_http.to_string();
    for secret in [
        ADMIN_PASSWORD,
        SERVICE_PASSWORD,
        CLIENT_SECRET,
        "wrong-pass",
    ] {
        assert!(!text.contains(secret));
    }
}

#[test]
fn latency_is_applied_and_concurrency_is_measured() {
    let h = Harness::new(SandboxConfig {
        latency: Duration::from_millis(150),
        ..SandboxConfig::default()
    });
    let started = std::time::Instant::now();
    h.runtime.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..4 {
            let request = h
                .client
                .get(h.url("/api/now/table/incident"))
                .basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD));
            tasks.push(tokio::spawn(async move {
                request.send().await.unwrap().status()
            }));
        }
        for task in tasks {
            assert_eq!(task.await.unwrap(), 200);
        }
    });
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(150), "{elapsed:?}");
    assert!(
        elapsed < Duration::from_millis(550),
        "requests were serialised: {elapsed:?}"
    );
    assert_eq!(h.sandbox.max_in_flight(), 4);
}

#[test]
fn a_delete_answers_204_and_removes_the_record_as_the_table_api_does() {
    let h = Harness::scenario("healthy-app");
    let id = h
        .admin_get("/api/now/table/incident?sysparm_limit=1")
        .result()[0]["sys_id"]
        .as_str()
        .unwrap()
        .to_string();
    let reply = h.send(
        h.client
            .delete(h.url(&format!("/api/now/table/incident/{id}"))),
        Auth::Basic(ADMIN_USER, ADMIN_PASSWORD),
    );
    assert_eq!(reply.status, 204);
    assert_eq!(
        h.admin_get(&format!("/api/now/table/incident/{id}")).status,
        404
    );
}

#[test]
fn faults_can_be_read_and_set_over_the_control_endpoint() {
    let h = Harness::scenario("healthy-app");
    let current = h.get("/__sandbox/faults", Auth::None).json();
    assert_eq!(current["rate_limit_next"], 0);
    assert!(current["hibernating"].is_null());
    let set = h.send(
        h.client.post(h.url("/__sandbox/faults")).json(
            &json!({"rate_limit_next": 1, "server_errors_next": 1, "server_error_status": 503}),
        ),
        Auth::None,
    );
    assert_eq!(set.status, 200, "{}", set.text);
    assert_eq!(set.json()["server_error_status"], 503);
    assert_eq!(h.admin_get("/api/now/table/incident").status, 429);
    assert_eq!(h.admin_get("/api/now/table/incident").status, 503);
    assert_eq!(h.admin_get("/api/now/table/incident").status, 200);
    let bad = h.send(
        h.client
            .post(h.url("/__sandbox/faults"))
            .json(&json!({"flood": true})),
        Auth::None,
    );
    assert_eq!(bad.status, 400);
    assert!(bad.text.contains("unknown fault 'flood'"));
    let hibernate = h.send(
        h.client
            .post(h.url("/__sandbox/faults"))
            .json(&json!({"hibernating": 503})),
        Auth::None,
    );
    assert_eq!(hibernate.status, 200);
    assert_eq!(h.admin_get("/api/now/table/incident").status, 503);
    // Control requests are not in the request log.
    assert!(h
        .sandbox
        .requests()
        .iter()
        .all(|r| !r.path.starts_with("/__sandbox")));
}

#[test]
fn other_rest_apis_are_not_installed_but_still_authenticate_first() {
    let h = Harness::scenario("healthy-app");
    let reply = h.post(
        "/api/sn_cicd/app/batch/install",
        json!({"name": "x"}),
        Auth::Basic(ADMIN_USER, ADMIN_PASSWORD),
    );
    assert_error(
        &reply,
        400,
        "Requested URI does not represent any resource",
        None,
    );
    let anonymous = h.post("/api/sn_cicd/app/batch/install", json!({}), Auth::None);
    assert_eq!(anonymous.status, 401);
}

#[test]
fn incidents_are_also_task_rows() {
    let h = Harness::scenario("healthy-app");
    let incident = h
        .admin_get("/api/now/table/incident?sysparm_limit=1")
        .result()[0]
        .clone();
    let id = incident["sys_id"].as_str().unwrap();
    let task = h.admin_get(&format!("/api/now/table/task/{id}"));
    assert_eq!(task.status, 200);
    assert_eq!(task.json()["result"]["sys_class_name"], "incident");
    assert_eq!(task.json()["result"]["number"], incident["number"]);
}

#[test]
fn task_reads_as_the_service_user_follow_the_acl_step() {
    for (scenario, visible) in [("healthy-app", true), ("acl-missing", false)] {
        let h = Harness::scenario(scenario);
        let token = h.password_grant(SERVICE_PASSWORD).json()["access_token"]
            .as_str()
            .unwrap()
            .to_string();
        let reply = h.get("/api/now/table/task", Auth::Bearer(&token));
        assert_eq!(reply.status, 200);
        assert_eq!(!reply.result().is_empty(), visible, "{scenario}");
        assert_eq!(reply.header("x-total-count"), Some("4"), "{scenario}");
    }
}

#[test]
fn choice_fields_show_their_labels_as_display_values() {
    let h = Harness::scenario("healthy-app");
    let reply = h.admin_get(
        "/api/now/table/sys_user?sysparm_query=user_name=incident.io&sysparm_fields=identity_type,active&sysparm_display_value=all",
    );
    assert_eq!(
        reply.result()[0],
        json!({
            "identity_type": {"display_value": "Machine", "value": "machine"},
            "active": {"display_value": "true", "value": "true"}
        })
    );
    let reply = h.admin_get(
        "/api/now/table/sys_security_acl?sysparm_query=name=task^operation=read&sysparm_fields=decision_type&sysparm_display_value=true",
    );
    assert_eq!(reply.result()[0]["decision_type"], "Allow If");
}
