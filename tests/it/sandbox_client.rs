//! snconnect's own ServiceNow client against the sandbox: the two were built separately from the
//! facts sheet, so each of the sandbox's answers must classify as the error kind it stands for.

use crate::support::{
    fixture_admin, rt, sandbox_client, secret, service_grant, SERVICE_USER_ROLES,
};
use serde_json::json;
use snconnect::sandbox::fixtures::*;
use snconnect::sandbox::{Faults, Sandbox, SandboxConfig};
use snconnect::servicenow::{Auth, ErrorKind, ForbiddenKind, ListRequest, Query, WriteOptions};

fn start(config: SandboxConfig) -> Sandbox {
    Sandbox::start(config).unwrap()
}

#[test]
fn dot_walked_queries_and_paging_through_the_client() {
    let sandbox = start(SandboxConfig::default());
    let client = sandbox_client(&sandbox);
    rt().block_on(async {
        let session = client.session(fixture_admin());
        let query = Query::new().eq("user.user_name", SERVICE_USER).build();
        let page = session
            .list(
                "sys_user_has_role",
                &ListRequest::new()
                    .query(query)
                    .fields(&["role.name", "inherited"]),
            )
            .await
            .unwrap();
        let mut names: Vec<&str> = page
            .records
            .iter()
            .filter_map(|r| r.str("role.name"))
            .collect();
        names.sort();
        assert_eq!(names, SERVICE_USER_ROLES);
        assert_eq!(page.total_count, Some(4));

        let all = session
            .list_all(
                "sys_user_role",
                &ListRequest::new().fields(&["name"]).limit(2),
            )
            .await
            .unwrap();
        assert_eq!(all.records.len(), 9);
    });
    // list_all walked five pages of two.
    let pages = sandbox
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/sys_user_role"))
        .count();
    assert_eq!(pages, 5);
}

#[test]
fn hidden_rows_are_reported_as_hidden() {
    let sandbox = start(SandboxConfig::default());
    let client = sandbox_client(&sandbox);
    rt().block_on(async {
        let session = client.session(Auth::basic(SERVICE_USER, secret(SERVICE_PASSWORD)));
        let page = session
            .list("sys_properties", &ListRequest::new())
            .await
            .unwrap();
        assert!(page.records.is_empty());
        assert!(page.hidden_rows());
    });
}

#[test]
fn token_grant_and_bearer_reads() {
    let sandbox = start(SandboxConfig::default());
    let client = sandbox_client(&sandbox);
    rt().block_on(async {
        let token = service_grant(&client, SERVICE_PASSWORD).await.unwrap();
        assert_eq!(token.scope.as_deref(), Some("useraccount"));
        assert_eq!(token.expires_in, Some(1799));
        let session = client.session(Auth::bearer(token.access_token));
        let page = session.list("incident", &ListRequest::new()).await.unwrap();
        assert_eq!(page.records.len(), 3);
        let refreshed = client
            .refresh_grant(
                CLIENT_ID,
                &secret(CLIENT_SECRET),
                token.refresh_token.as_ref().unwrap(),
            )
            .await
            .unwrap();
        assert!(refreshed.refresh_token.is_none());

        let denied = service_grant(&client, "wrong").await.unwrap_err();
        assert!(
            matches!(&denied.kind, ErrorKind::TokenDenied { error, description }
                if error == "server_error" && description == "access_denied"),
            "{:?}",
            denied.kind
        );
    });
    // The failed grant was sent once, never retried.
    let grants = sandbox
        .requests()
        .iter()
        .filter(|r| r.path == "/oauth_token.do" && r.status == 401)
        .count();
    assert_eq!(grants, 1);
}

#[test]
fn each_sandbox_failure_classifies_as_its_kind() {
    let rt = rt();
    let kind_for = |config: SandboxConfig, auth: Auth, table: &str| -> ErrorKind {
        let sandbox = start(config);
        let client = sandbox_client(&sandbox);
        rt.block_on(async {
            client
                .session(auth)
                .list(table, &ListRequest::new())
                .await
                .unwrap_err()
                .kind
        })
    };
    assert_eq!(
        kind_for(
            SandboxConfig::scenario("hibernating"),
            fixture_admin(),
            "incident"
        ),
        ErrorKind::Hibernating
    );
    assert_eq!(
        kind_for(
            SandboxConfig::scenario("hibernating-503"),
            fixture_admin(),
            "incident"
        ),
        ErrorKind::Hibernating
    );
    assert_eq!(
        kind_for(
            SandboxConfig::scenario("login-page"),
            fixture_admin(),
            "incident"
        ),
        ErrorKind::LoginPage
    );
    assert_eq!(
        kind_for(SandboxConfig::default(), fixture_admin(), "x_nope"),
        ErrorKind::InvalidTable
    );
    assert_eq!(
        kind_for(
            SandboxConfig::default(),
            Auth::basic(ADMIN_USER, secret("wrong")),
            "incident"
        ),
        ErrorKind::Unauthorized {
            mfa_required: false
        }
    );
    assert_eq!(
        kind_for(
            SandboxConfig::scenario("mfa-admin"),
            fixture_admin(),
            "incident"
        ),
        ErrorKind::Unauthorized { mfa_required: true }
    );
    assert!(matches!(
        kind_for(
            SandboxConfig {
                faults: Faults {
                    rate_limit_next: 10,
                    ..Faults::default()
                },
                ..SandboxConfig::default()
            },
            fixture_admin(),
            "incident"
        ),
        ErrorKind::RateLimited { .. }
    ));
    assert!(matches!(
        kind_for(
            SandboxConfig {
                faults: Faults {
                    server_errors_next: 10,
                    server_error_status: 502,
                    ..Faults::default()
                },
                ..SandboxConfig::default()
            },
            fixture_admin(),
            "incident"
        ),
        ErrorKind::Server { status: 502 }
    ));
}

#[test]
fn rate_limits_are_retried_until_they_pass() {
    let sandbox = start(SandboxConfig {
        faults: Faults {
            rate_limit_next: 1,
            ..Faults::default()
        },
        ..SandboxConfig::default()
    });
    let client = sandbox_client(&sandbox);
    rt().block_on(async {
        let page = client
            .session(fixture_admin())
            .list("incident", &ListRequest::new())
            .await
            .unwrap();
        assert_eq!(page.records.len(), 3);
    });
    let statuses: Vec<u16> = sandbox.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [429, 200]);
}

#[test]
fn write_refusals_classify_by_cause() {
    let sandbox = start(SandboxConfig::scenario("acl-missing"));
    let client = sandbox_client(&sandbox);
    rt().block_on(async {
        let session = client.session(fixture_admin());
        let err = session
            .create(
                "sys_security_acl",
                json!({"name": "task", "operation": "read"}),
                WriteOptions::default(),
            )
            .await
            .unwrap_err();
        assert_eq!(
            err.kind,
            ErrorKind::Forbidden(ForbiddenKind::AclOperation {
                operation: "Insert".into()
            })
        );
        let user = sandbox.with_db(|db| db.user_by_name(SERVICE_USER).unwrap()["sys_id"].clone());
        let err = session
            .create(
                "sys_user_has_role",
                json!({"user": user, "role": "0123456789abcdef0123456789abcdef"}),
                WriteOptions::default(),
            )
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Forbidden(ForbiddenKind::BusinessRule));
    });

    let blocked = start(SandboxConfig::scenario("scope-blocked"));
    let client = sandbox_client(&blocked);
    rt().block_on(async {
        let token = service_grant(&client, SERVICE_PASSWORD).await.unwrap();
        let err = client
            .session(Auth::bearer(token.access_token))
            .list("incident", &ListRequest::new())
            .await
            .unwrap_err();
        assert_eq!(
            err.kind,
            ErrorKind::Forbidden(ForbiddenKind::ApiAccessScope)
        );
    });
}

#[test]
fn a_password_set_through_the_client_works_for_the_token_grant() {
    let sandbox = start(SandboxConfig::default());
    let client = sandbox_client(&sandbox);
    rt().block_on(async {
        let session = client.session(fixture_admin());
        let user = sandbox.with_db(|db| db.user_by_name(SERVICE_USER).unwrap()["sys_id"].clone());
        session
            .update(
                "sys_user",
                &user,
                json!({"user_password": "New-pass-42"}),
                WriteOptions {
                    input_display_value: true,
                },
            )
            .await
            .unwrap();
        service_grant(&client, "New-pass-42").await.unwrap();
    });
}
