//! `snconnect sandbox` as a user runs it: the real binary, a real port, curl-like requests.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::support::{snconnect_bare, snconnect_process, SERVICE_USER_ROLES};
use predicates::prelude::*;
use snconnect::sandbox::fixtures::{ADMIN_PASSWORD, ADMIN_USER};

/// Kills the server when the test ends, pass or fail.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `snconnect sandbox --port 0 ARGS` and returns it with the URL it announced.
fn start(args: &[&str]) -> (Running, String, Vec<String>) {
    let mut child = snconnect_process()
        .args(["sandbox", "--port", "0"])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let running = Running(child);
    let mut lines = Vec::new();
    let mut url = None;
    let deadline = Instant::now() + Duration::from_secs(30);
    for line in BufReader::new(stderr).lines() {
        let line = line.unwrap();
        if let Some(u) = line.strip_prefix("export SNCONNECT_INSTANCE=") {
            url = Some(u.to_string());
        }
        let done = line.starts_with("Press Ctrl-C");
        lines.push(line);
        if done || Instant::now() > deadline {
            break;
        }
    }
    let url = url.unwrap_or_else(|| panic!("no URL announced:\n{}", lines.join("\n")));
    (running, url, lines)
}

fn get(url: &str) -> (u16, serde_json::Value) {
    crate::support::rt().block_on(async {
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let response = client
            .get(url)
            .basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    })
}

#[test]
fn serves_a_dot_walked_role_query_on_the_port_it_announces() {
    let (_server, url, lines) = start(&["--scenario", "healthy-app"]);
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert!(!url.ends_with(":0"), "the real port is printed: {url}");
    let text = lines.join("\n");
    for var in [
        "SNCONNECT_ADMIN_USER=admin",
        "SNCONNECT_ADMIN_PASSWORD=",
        "SNCONNECT_CLIENT_ID=",
        "SNCONNECT_CLIENT_SECRET=",
        "SNCONNECT_USERNAME=incident.io",
        "SNCONNECT_PASSWORD=",
    ] {
        assert!(
            text.contains(&format!("export {var}")),
            "{var} missing:\n{text}"
        );
    }
    let (status, body) = get(&format!(
        "{url}/api/now/table/sys_user_has_role?sysparm_query=user.user_name=incident.io&sysparm_fields=role.name"
    ));
    assert_eq!(status, 200);
    let mut names: Vec<&str> = body["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["role.name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, SERVICE_USER_ROLES);
}

#[test]
fn other_scenarios_and_flags_take_effect() {
    let (_server, url, _) = start(&["--scenario", "roles-missing", "--lockout-threshold", "2"]);
    let (_, body) = get(&format!(
        "{url}/api/now/table/sys_user_has_role?sysparm_query=user.user_name=incident.io&sysparm_fields=role.name"
    ));
    assert_eq!(body["result"].as_array().unwrap().len(), 2);
}

#[test]
fn list_scenarios_prints_every_name_with_a_description() {
    let assert = snconnect_bare()
        .args(["sandbox", "--list-scenarios"])
        .assert()
        .success();
    let out = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    for (name, description) in snconnect::sandbox::scenario_names() {
        let line = out
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("{name} not listed:\n{out}"));
        assert!(line.ends_with(description));
    }
}

#[test]
fn unknown_scenario_is_a_usage_error_listing_the_names() {
    snconnect_bare()
        .args(["sandbox", "--scenario", "nope", "--port", "0"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "invalid value 'nope' for '--scenario",
        ))
        .stderr(predicate::str::contains("healthy-admin"));
}

#[test]
fn a_busy_port_is_reported_with_what_to_do() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    snconnect_bare()
        .args(["sandbox", "--port", &port])
        .timeout(Duration::from_secs(30))
        .assert()
        .code(3)
        .stderr(predicate::str::contains("--port 0"));
}

#[test]
fn fault_flags_answer_the_first_requests_with_errors() {
    let (_server, url, _) = start(&[
        "--rate-limit",
        "1",
        "--server-errors",
        "1",
        "--server-error-status",
        "502",
    ]);
    let path = format!("{url}/api/now/table/incident");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let statuses: Vec<u16> = runtime.block_on(async {
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let mut statuses = Vec::new();
        for _ in 0..3 {
            let response = client
                .get(&path)
                .basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD))
                .send()
                .await
                .unwrap();
            statuses.push(response.status().as_u16());
        }
        statuses
    });
    assert_eq!(statuses, [429, 502, 200]);
}
