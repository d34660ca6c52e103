//! `verify --notify` against a fake incident.io alert source (issue 15): firing on the first
//! failing run, nothing new on the second, resolved on recovery, one deduplication key
//! throughout, no secret in any body, a 401 not retried, a 429 retried after its Retry-After.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::Router;

use crate::support::{rt, verify_cmd, Run, FIXTURE_SECRETS};
use snconnect::sandbox::{Sandbox, SandboxConfig};

const TOKEN: &str = "alert-source-token-7f3a";

#[derive(Default)]
struct Source {
    /// (authorization header, body) of every request.
    seen: Mutex<Vec<(String, serde_json::Value)>>,
    /// Answers to give first, then 202.
    script: Mutex<Vec<(u16, Option<&'static str>)>>,
    /// How long to take over each answer, and the most answers taken at once.
    delay: Duration,
    in_flight: std::sync::atomic::AtomicUsize,
    most_at_once: std::sync::atomic::AtomicUsize,
}

async fn receive(
    State(source): State<Arc<Source>>,
    headers: HeaderMap,
    body: String,
) -> axum::response::Response {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let json: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    source.seen.lock().unwrap().push((auth.clone(), json));
    if auth != format!("Bearer {TOKEN}") {
        return (
            StatusCode::UNAUTHORIZED,
            "{\"type\":\"authentication_error\"}",
        )
            .into_response();
    }
    use std::sync::atomic::Ordering;
    let now = source.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    source.most_at_once.fetch_max(now, Ordering::SeqCst);
    tokio::time::sleep(source.delay).await;
    source.in_flight.fetch_sub(1, Ordering::SeqCst);
    let next = {
        let mut script = source.script.lock().unwrap();
        (!script.is_empty()).then(|| script.remove(0))
    };
    match next {
        Some((status, retry_after)) => {
            let mut r = (StatusCode::from_u16(status).unwrap(), "{}").into_response();
            if let Some(v) = retry_after {
                r.headers_mut().insert("retry-after", v.parse().unwrap());
            }
            r
        }
        None => (
            StatusCode::ACCEPTED,
            "{\"status\":\"success\",\"message\":\"Event accepted for processing\"}",
        )
            .into_response(),
    }
}

/// A fake HTTP alert source; returns its URL as `--notify` takes it.
fn start(source: Arc<Source>) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = Router::new()
        .route("/v2/alert_events/http/{id}", post(receive))
        .with_state(source);
    rt().spawn(async move {
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        let _ = axum::serve(listener, app).await;
    });
    format!("http://127.0.0.1:{port}/v2/alert_events/http/01SNCONNECT")
}

fn run(dir: &std::path::Path, sandbox: &Sandbox, url: &str, token: &str, extra: &[&str]) -> Run {
    let mut args = vec!["--notify", url];
    args.extend_from_slice(extra);
    Run::of(&mut verify_cmd(
        dir,
        &sandbox.url(),
        &args,
        &[("SNCONNECT_INCIDENT_IO_TOKEN", token)],
    ))
}

#[test]
fn an_alert_fires_once_and_resolves_on_recovery_under_one_key() {
    let source = Arc::new(Source::default());
    let url = start(source.clone());
    let sandbox = Sandbox::start(SandboxConfig::scenario("healthy-app")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let user = |active: &str| {
        sandbox.with_db(|db| {
            db.update_where("sys_user", "user_name=incident.io", &[("active", active)])
        })
    };

    user("false");
    let first = run(dir.path(), &sandbox, &url, TOKEN, &[]);
    assert_eq!(first.code, 1, "{}", first.all());
    let second = run(dir.path(), &sandbox, &url, TOKEN, &[]);
    assert_eq!(second.code, 1, "{}", second.all());
    user("true");
    let third = run(dir.path(), &sandbox, &url, TOKEN, &[]);
    assert_eq!(third.code, 0, "{}", third.all());
    let fourth = run(dir.path(), &sandbox, &url, TOKEN, &[]);
    assert_eq!(fourth.code, 0, "{}", fourth.all());

    let seen = source.seen.lock().unwrap().clone();
    let statuses: Vec<&str> = seen
        .iter()
        .map(|(_, b)| b["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["firing", "resolved"], "{seen:#?}");
    let keys: Vec<&str> = seen
        .iter()
        .map(|(_, b)| b["deduplication_key"].as_str().unwrap())
        .collect();
    assert_eq!(keys[0], keys[1]);
    let firing = &seen[0].1;
    assert!(
        firing["description"]
            .as_str()
            .unwrap()
            .contains("service_user.inactive"),
        "{firing:#}"
    );
    assert_eq!(firing["metadata"]["checks"]["service_user"], "fail");
    assert_eq!(firing["source_url"], sandbox.url());
    for (_, body) in &seen {
        let text = body.to_string();
        for secret in FIXTURE_SECRETS.iter().chain([&TOKEN]) {
            assert!(!text.contains(secret), "a secret in an event: {text}");
        }
    }
}

#[test]
fn a_refused_token_is_not_retried_and_a_rate_limit_is_waited_out() {
    let source = Arc::new(Source::default());
    let url = start(source.clone());
    let sandbox = Sandbox::start(SandboxConfig::scenario("user-inactive")).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let refused = run(dir.path(), &sandbox, &url, "wrong-token", &[]);
    assert_eq!(refused.code, 1, "the verdict stands: {}", refused.all());
    assert!(
        refused.stderr.contains("refused the token (401)"),
        "{}",
        refused.stderr
    );
    assert!(
        !refused.all().contains("wrong-token"),
        "the token was echoed"
    );
    assert_eq!(source.seen.lock().unwrap().len(), 1, "a 401 is not retried");
    let required = run(
        dir.path(),
        &sandbox,
        &url,
        "wrong-token",
        &["--notify-required"],
    );
    assert_eq!(required.code, 4, "{}", required.all());

    source.seen.lock().unwrap().clear();
    *source.script.lock().unwrap() = vec![(429, Some("1"))];
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let limited = run(dir.path(), &sandbox, &url, TOKEN, &[]);
    assert_eq!(limited.code, 1, "{}", limited.all());
    assert!(
        limited
            .stderr
            .contains("notified incident.io: alert firing"),
        "{}",
        limited.stderr
    );
    assert_eq!(
        source.seen.lock().unwrap().len(),
        2,
        "retried once after the 429"
    );
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was not honoured"
    );
}

/// The alert source can be a profile setting (`notify = "…"` in the profile's file), for the
/// scheduled run that names only its profile.
#[test]
fn the_profile_setting_notifies_without_the_flag() {
    let source = Arc::new(Source::default());
    let url = start(source.clone());
    let sandbox = Sandbox::start(SandboxConfig::scenario("user-inactive")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let profile = crate::support::profile_of(&sandbox.url());
    let mut saved = snconnect::credentials::Profile::new(profile.clone());
    saved.instance = Some(sandbox.url());
    saved.notify = Some(url);
    snconnect::credentials::ConfigDir::at(dir.path().to_path_buf())
        .save_profile(&saved)
        .unwrap();
    let run = Run::of(&mut verify_cmd(
        dir.path(),
        &sandbox.url(),
        &[],
        &[("SNCONNECT_INCIDENT_IO_TOKEN", TOKEN)],
    ));
    assert_eq!(run.code, 1, "{}", run.all());
    let seen = source.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{}", run.all());
    assert_eq!(seen[0].1["status"], "firing");
    // The setting survives the next save of the profile (setup, apply).
    let reloaded = snconnect::credentials::ConfigDir::at(dir.path().to_path_buf())
        .load_profile(&profile)
        .unwrap()
        .unwrap();
    assert!(reloaded.notify.is_some());
}

/// An unusable `notify` setting in the profile is an input error (exit 2), said before any
/// request reaches the instance.
#[test]
fn an_unusable_profile_setting_is_refused_before_the_instance_is_asked() {
    let sandbox = Sandbox::start(SandboxConfig::scenario("healthy-app")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut saved =
        snconnect::credentials::Profile::new(crate::support::profile_of(&sandbox.url()));
    saved.instance = Some(sandbox.url());
    saved.notify = Some("http://example.com/not-an-alert-source".into());
    snconnect::credentials::ConfigDir::at(dir.path().to_path_buf())
        .save_profile(&saved)
        .unwrap();
    let run = Run::of(&mut verify_cmd(dir.path(), &sandbox.url(), &[], &[]));
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(run.stderr.contains("notify setting"), "{}", run.stderr);
    assert!(
        sandbox.requests().is_empty(),
        "the instance was asked first"
    );
}

/// The token can be stored once for the profile (`credentials set-notify-token`, from stdin), so
/// a scheduled run carries no token in its environment; it is never echoed, and `credentials
/// show` lists it masked.
#[test]
fn a_stored_token_is_sent_when_the_environment_has_none() {
    let source = Arc::new(Source::default());
    let url = start(source.clone());
    let sandbox = Sandbox::start(SandboxConfig::scenario("user-inactive")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let profile = crate::support::profile_of(&sandbox.url());

    let empty = Run::of(
        crate::support::snconnect(dir.path())
            .args(["credentials", "set-notify-token", "--insecure-storage"])
            .args(["--profile", &profile])
            .write_stdin("\n"),
    );
    assert_eq!(empty.code, 2, "{}", empty.all());
    assert!(
        empty.stderr.contains("nothing was stored"),
        "{}",
        empty.all()
    );

    let stored = Run::of(
        crate::support::snconnect(dir.path())
            .args(["credentials", "set-notify-token", "--insecure-storage"])
            .args(["--profile", &profile])
            .write_stdin(format!("{TOKEN}\n")),
    );
    assert_eq!(stored.code, 0, "{}", stored.all());
    assert!(stored
        .stdout
        .contains("stored the incident.io alert source token"));
    assert!(!stored.all().contains(TOKEN), "{}", stored.all());

    let shown = Run::of(crate::support::snconnect(dir.path()).args([
        "credentials",
        "show",
        "--profile",
        &profile,
        "--format",
        "json",
    ]));
    assert!(
        shown.stdout.contains("incident_io_token"),
        "{}",
        shown.all()
    );
    assert!(!shown.all().contains(TOKEN), "{}", shown.all());

    let run = Run::of(&mut verify_cmd(
        dir.path(),
        &sandbox.url(),
        &["--notify", &url],
        &[],
    ));
    assert_eq!(run.code, 1, "{}", run.all());
    let seen = source.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{}", run.all());
    assert_eq!(seen[0].0, format!("Bearer {TOKEN}"));
    assert_eq!(seen[0].1["status"], "firing");
    assert!(!run.all().contains(TOKEN));
}

/// A fleet run alerts per instance: each failing one fires under its own key, together rather
/// than one after another, and the healthy one sends nothing (nothing was firing for it).
#[test]
fn a_fleet_run_fires_one_alert_per_failing_instance_all_at_once() {
    let source = Arc::new(Source {
        // Slow enough that alerts sent one after another could not overlap.
        delay: Duration::from_millis(200),
        ..Source::default()
    });
    let url = start(source.clone());
    let healthy = Sandbox::start(SandboxConfig::scenario("healthy-app")).unwrap();
    let failing: Vec<Sandbox> = (0..3)
        .map(|_| Sandbox::start(SandboxConfig::scenario("user-inactive")).unwrap())
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let urls: Vec<String> = failing.iter().map(|s| s.url()).collect();
    let file = crate::support::profiles_file(
        dir.path(),
        &[
            ("dev", &healthy.url()),
            ("test-a", &urls[0]),
            ("test-b", &urls[1]),
            ("test-c", &urls[2]),
        ],
    );
    let mut cmd = crate::support::snconnect(dir.path());
    cmd.args(["verify", "--no-input", "--notify", &url, "--profiles-file"])
        .arg(&file)
        .env("SNCONNECT_INCIDENT_IO_TOKEN", TOKEN);
    for p in ["DEV", "TEST_A", "TEST_B", "TEST_C"] {
        crate::support::secrets_for(&mut cmd, p);
    }
    let run = Run::of(&mut cmd);
    assert_eq!(run.code, 1, "{}", run.all());
    let seen = source.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3, "{}", run.all());
    for url in &urls {
        let fired: Vec<_> = seen
            .iter()
            .filter(|(_, body)| {
                body["source_url"]
                    .as_str()
                    .unwrap_or("")
                    .contains(url.as_str())
            })
            .collect();
        assert_eq!(fired.len(), 1, "{url}: {seen:?}");
        assert_eq!(fired[0].1["status"], "firing");
    }
    let keys: std::collections::BTreeSet<String> = seen
        .iter()
        .map(|(_, b)| b["deduplication_key"].to_string())
        .collect();
    assert_eq!(keys.len(), 3, "one key per instance");
    assert_eq!(
        source
            .most_at_once
            .load(std::sync::atomic::Ordering::SeqCst),
        3,
        "the alerts went out together"
    );
}

/// Without a keyring, storing the token fails closed (exit 3, nothing written) unless
/// --insecure-storage asks for the plain file.
#[test]
fn storing_the_token_without_a_keyring_fails_closed() {
    let dir = tempfile::tempdir().unwrap();
    let run = Run::of(
        crate::support::snconnect(dir.path())
            .args(["credentials", "set-notify-token", "--profile", "acme"])
            .write_stdin(format!("{TOKEN}\n")),
    );
    assert_eq!(run.code, 3, "{}", run.all());
    assert!(run.stderr.contains("--insecure-storage"), "{}", run.stderr);
    assert!(!run.all().contains(TOKEN));
    assert!(!dir.path().join("insecure-secrets.toml").exists());
}
