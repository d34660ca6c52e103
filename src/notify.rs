//! `verify --notify`: a failing integration raises an alert in incident.io itself, and a later
//! healthy run resolves it.
//!
//! The API, as incident.io documents it (API reference, "Alert Events V2", operation
//! `CreateHTTP`, <https://api-docs.incident.io/tag/Alert-Events-V2>): `POST
//! https://api.incident.io/v2/alert_events/http/{alert_source_config_id}` with `Authorization:
//! Bearer <the HTTP alert source's token>` and a JSON body with `title`, `status` (`firing` or
//! `resolved`), `deduplication_key`, and optionally `description`, `metadata` and `source_url`;
//! it answers `202 Accepted`. Events with the same deduplication key update one alert.
//!
//! Decisions:
//! - The key is stable per instance and profile, so every failing run of one integration updates
//!   one alert.
//! - `firing` is sent when the run fails (or, under `--strict`, warns). It is sent again only when
//!   the findings changed, so a job that fails every 15 minutes does not post 96 identical events
//!   a day; `resolved` is sent only after a `firing` was (remembered in the state directory).
//! - 429 and 5xx are retried (three attempts, honouring `Retry-After`, never past the run's
//!   deadline); 401 and 403 are not: the token is wrong, and the message says so.
//! - The token comes from `SNCONNECT_INCIDENT_IO_TOKEN`, else from the profile's stored secrets
//!   (`credentials set-notify-token`), never from a flag.
//! - A failed notification never changes the verify verdict; with `--notify-required` it is exit 4.

use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::model::{Severity, Status};
use crate::report::Report;

/// Where incident.io's API lives; an alert source id alone means an event there.
pub const API_BASE: &str = "https://api.incident.io/v2/alert_events/http/";

/// The variable that holds the HTTP alert source's token.
pub const TOKEN_ENV: &str = crate::credentials::SecretKind::NotifyToken.env_var();

/// The address events are posted to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target(url::Url);

impl Target {
    pub fn url(&self) -> &url::Url {
        &self.0
    }
}

/// Reads `--notify`: the alert source's full URL as incident.io shows it, or its config id.
/// Plain `http://` only for loopback addresses (tests, local relays).
pub fn parse_target(text: &str) -> Result<Target, String> {
    let text = text.trim();
    let is_id = !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric());
    let url = if is_id {
        url::Url::parse(&format!("{API_BASE}{text}")).map_err(|e| e.to_string())?
    } else {
        url::Url::parse(text).map_err(|e| {
            format!("'{text}' is neither an alert source URL nor its config id ({e})")
        })?
    };
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => {
            return Err(format!(
                "'{text}': the alert source must be https (plain http only on this machine)"
            ))
        }
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("the alert source URL holds credentials; pass the token in \
                    SNCONNECT_INCIDENT_IO_TOKEN instead"
            .to_string());
    }
    let last = url
        .path_segments()
        .and_then(|mut s| s.next_back())
        .unwrap_or("");
    if !url.path().contains("/alert_events/http/") || last.is_empty() {
        return Err(format!(
            "'{text}' is not an HTTP alert source's URL (…/v2/alert_events/http/ID)"
        ));
    }
    Ok(Target(url))
}

/// One alert event, as posted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub title: String,
    pub status: &'static str,
    pub deduplication_key: String,
    pub description: String,
    pub metadata: serde_json::Value,
    pub source_url: String,
}

/// What the state directory remembers of the last event sent for a profile.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Memory {
    /// A `firing` was sent and no `resolved` since.
    pub firing: bool,
    /// The finding codes that firing carried, to tell a changed failure from the same one.
    pub codes: Vec<String>,
}

fn memory_path(state_dir: &Path, profile: &str) -> PathBuf {
    state_dir.join("notify").join(format!("{profile}.json"))
}

pub fn recall(state_dir: Option<&Path>, profile: &str) -> Memory {
    state_dir
        .and_then(|d| crate::localfile::read_small_text(&memory_path(d, profile), 64 * 1024).ok())
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

pub fn remember(state_dir: Option<&Path>, profile: &str, memory: &Memory) {
    if let Some(dir) = state_dir {
        let text = serde_json::to_string(memory).unwrap_or_default();
        let _ = crate::credentials::fsutil::write_private_atomically(
            &memory_path(dir, profile),
            text.as_bytes(),
        );
    }
}

/// The event this run should send, if any, and what to remember once it was accepted.
pub fn decide(
    report: &Report,
    profile: &str,
    strict: bool,
    before: &Memory,
) -> Option<(Event, Memory)> {
    let failing = report.exit() != crate::exit::Exit::Ok || (strict && report.summary().warn > 0);
    let mut codes: Vec<String> = report
        .checks
        .iter()
        .flat_map(|c| c.findings.iter())
        .filter(|f| matches!(f.severity, Severity::Error | Severity::Warning))
        .map(|f| f.code.as_str().to_string())
        .collect();
    codes.sort();
    codes.dedup();
    let status = match (failing, before.firing) {
        (true, true) if before.codes == codes => return None,
        (true, _) => "firing",
        (false, true) => "resolved",
        (false, false) => return None,
    };
    let instance = &report.instance;
    let title = if failing {
        format!("snconnect: the ServiceNow integration of {instance} is failing")
    } else {
        format!("snconnect: the ServiceNow integration of {instance} works again")
    };
    let mut description = String::new();
    for check in report
        .checks
        .iter()
        .filter(|c| c.status == Status::Fail || (c.status == Status::Warn && strict))
    {
        for f in &check.findings {
            description.push_str(&format!("- {} ({})\n", f.message, f.code));
            if let Some(fix) = &f.fix {
                description.push_str(&format!("  fix: {fix}\n"));
            }
        }
    }
    if description.is_empty() {
        description = "every check passed".to_string();
    }
    let checks: serde_json::Map<String, serde_json::Value> = report
        .checks
        .iter()
        .map(|c| (c.id.as_str().to_string(), json!(c.status.as_str())))
        .collect();
    let event = Event {
        title,
        status,
        deduplication_key: format!("snconnect:{profile}:{instance}"),
        description: crate::text::bounded(description),
        metadata: json!({
            "instance": instance,
            "profile": profile,
            "path": report.path.as_str(),
            "checks": checks,
            "finding_codes": codes,
            "tool_version": env!("CARGO_PKG_VERSION"),
        }),
        source_url: instance.clone(),
    };
    let after = Memory {
        firing: failing,
        codes: if failing { codes } else { Vec::new() },
    };
    Some((event, after))
}

/// Why an event was not accepted. Never holds the token.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error(
        "no token: set {TOKEN_ENV} to the HTTP alert source's token, or store it once with \
         `snconnect credentials set-notify-token`"
    )]
    NoToken,
    #[error(
        "incident.io refused the token ({0}): check {TOKEN_ENV} against the alert source's token"
    )]
    Refused(u16),
    #[error("incident.io answered {status} after {attempts} attempts")]
    Status { status: u16, attempts: u32 },
    #[error("could not reach incident.io: {0}")]
    Transport(String),
}

/// Posts `event` to `target`. `deadline` bounds every attempt and wait.
pub async fn send(
    target: &Target,
    token: Option<&SecretString>,
    event: &Event,
    deadline: Duration,
) -> Result<(), NotifyError> {
    const ATTEMPTS: u32 = 3;
    let token = token.ok_or(NotifyError::NoToken)?;
    let started = std::time::Instant::now();
    let client = reqwest::Client::builder()
        .timeout(deadline)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("snconnect/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| NotifyError::Transport(e.to_string()))?;
    let mut attempt = 1;
    loop {
        let answer = client
            .post(target.url().clone())
            .bearer_auth(token.expose_secret())
            .json(event)
            .send()
            .await
            .map_err(|e| NotifyError::Transport(crate::text::for_terminal(&e.to_string())))?;
        let status = answer.status().as_u16();
        if answer.status().is_success() {
            return Ok(());
        }
        if status == 401 || status == 403 {
            return Err(NotifyError::Refused(status));
        }
        let retryable = status == 429 || answer.status().is_server_error();
        let wait = answer
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs)
            .unwrap_or(Duration::from_millis(500 * u64::from(attempt)));
        let left = deadline.saturating_sub(started.elapsed());
        if !retryable || attempt >= ATTEMPTS || wait >= left {
            return Err(NotifyError::Status {
                status,
                attempts: attempt,
            });
        }
        tokio::time::sleep(wait).await;
        attempt += 1;
    }
}

/// `--heartbeat URL`: one GET after a healthy run, for a monitor that alerts when the pings stop.
pub async fn heartbeat(url: &url::Url, deadline: Duration) -> Result<(), NotifyError> {
    let client = reqwest::Client::builder()
        .timeout(deadline)
        .build()
        .map_err(|e| NotifyError::Transport(e.to_string()))?;
    let answer = client
        .get(url.clone())
        .send()
        .await
        .map_err(|e| NotifyError::Transport(crate::text::for_terminal(&e.to_string())))?;
    if answer.status().is_success() {
        Ok(())
    } else {
        Err(NotifyError::Status {
            status: answer.status().as_u16(),
            attempts: 1,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_support::sample;

    #[test]
    fn a_target_is_a_source_url_or_its_id_and_https_unless_local() {
        assert_eq!(
            parse_target("01ABC").unwrap().url().as_str(),
            "https://api.incident.io/v2/alert_events/http/01ABC"
        );
        assert!(parse_target("https://api.incident.io/v2/alert_events/http/01ABC").is_ok());
        assert!(parse_target("http://127.0.0.1:9/v2/alert_events/http/x").is_ok());
        assert!(parse_target("http://example.com/v2/alert_events/http/x").is_err());
        assert!(parse_target("https://a:b@api.incident.io/v2/alert_events/http/x").is_err());
        assert!(parse_target("https://example.com/other").is_err());
    }

    #[test]
    fn firing_once_per_failure_and_resolved_only_after_a_firing() {
        let failing = sample();
        assert_ne!(failing.exit(), crate::exit::Exit::Ok);
        let (event, memory) = decide(&failing, "acme", false, &Memory::default()).unwrap();
        assert_eq!(event.status, "firing");
        assert_eq!(
            event.deduplication_key,
            format!("snconnect:acme:{}", failing.instance)
        );
        assert!(memory.firing);
        // The same failure again: nothing new to say.
        assert!(decide(&failing, "acme", false, &memory).is_none());
        let mut healthy = sample();
        healthy.checks.retain(|c| c.status == Status::Pass);
        let (event, after) = decide(&healthy, "acme", false, &memory).unwrap();
        assert_eq!(event.status, "resolved");
        assert!(!after.firing);
        // Healthy without an earlier firing: silence.
        assert!(decide(&healthy, "acme", false, &after).is_none());
    }
}
