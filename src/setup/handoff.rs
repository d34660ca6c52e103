//! The last screen of setup: exactly what to type into incident.io's Connect form.
//!
//! Secrets are masked with the same fixed string `credentials show` uses (it gives away nothing,
//! not even the length), and the screen names the command that prints them, because a terminal's
//! scrollback is not a place for a password unless the person asked (`--reveal`).

use secrecy::{ExposeSecret, SecretString};

use crate::credentials::MASK;
use crate::instance::Instance;

/// What the hand-off shows.
pub struct Handoff<'a> {
    pub instance: &'a Instance,
    pub profile: &'a str,
    pub client_id: Option<&'a str>,
    pub client_secret: Option<&'a SecretString>,
    pub username: &'a str,
    pub password: Option<&'a SecretString>,
    /// `--reveal`: print the secrets themselves.
    pub reveal: bool,
    /// Whether the secrets were stored (so the reveal command can print them).
    pub stored: bool,
}

/// The value incident.io calls "subdomain", with a note when the address has none.
fn subdomain(instance: &Instance) -> (String, Option<String>) {
    match instance.subdomain() {
        Some(s) => (s.to_string(), None),
        None if instance.is_loopback() => (
            instance.host().to_string(),
            Some(
                "this is a local (simulated) instance: incident.io cannot reach it; use your \
                 real instance's subdomain"
                    .to_string(),
            ),
        ),
        None => (
            instance.host().to_string(),
            Some(format!(
                "{} is a custom domain: incident.io asks for the subdomain of your \
                 service-now.com address (the part before .service-now.com)",
                instance.host()
            )),
        ),
    }
}

/// The screen, as lines ending with a newline.
pub fn render(h: &Handoff<'_>) -> String {
    let secret = |s: Option<&SecretString>| match s {
        Some(v) if h.reveal => v.expose_secret().to_string(),
        Some(_) => MASK.to_string(),
        None => "(not known: see the OAuth and service user steps)".to_string(),
    };
    let (sub, note) = subdomain(h.instance);
    let rows = [
        ("Subdomain", sub),
        (
            "OAuth Client ID",
            h.client_id
                .map(str::to_string)
                .unwrap_or_else(|| "(not known: see the OAuth step)".to_string()),
        ),
        ("OAuth Client Secret", secret(h.client_secret)),
        ("Username", h.username.to_string()),
        ("Password", secret(h.password)),
    ];
    let mut out = String::new();
    out.push_str(
        "In incident.io, open Settings → Integrations → ServiceNow → Connect and enter:\n",
    );
    for (label, value) in rows {
        out.push_str(&format!("  {label:<20} {value}\n"));
    }
    if let Some(note) = note {
        out.push_str(&format!("  Note: {note}\n"));
    }
    let masked = !h.reveal && (h.client_secret.is_some() || h.password.is_some());
    if masked {
        if h.stored {
            out.push_str(&format!(
                "The secrets are masked here. To print them for pasting, run:\n  snconnect \
                 credentials show --reveal --profile {}\n",
                h.profile
            ));
        } else {
            out.push_str(
                "The secrets are masked here and were not stored: use the values you entered.\n",
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render_for(instance: &str, reveal: bool, stored: bool) -> String {
        let instance = Instance::parse(instance).unwrap();
        let secret = SecretString::from("s3cr3t-value");
        let password = SecretString::from("pa55-value");
        render(&Handoff {
            instance: &instance,
            profile: "acme",
            client_id: Some("cid-123"),
            client_secret: Some(&secret),
            username: "incident.io",
            password: Some(&password),
            reveal,
            stored,
        })
    }

    #[test]
    fn masks_secrets_and_names_the_command_that_reveals_them() {
        let text = render_for("acme", false, true);
        assert!(text.contains("Subdomain            acme\n"), "{text}");
        assert!(text.contains("cid-123"));
        assert!(!text.contains("s3cr3t") && !text.contains("pa55"), "{text}");
        assert!(text.contains("snconnect credentials show --reveal --profile acme"));
    }

    #[test]
    fn reveal_prints_the_secrets() {
        let text = render_for("acme", true, true);
        assert!(text.contains("s3cr3t-value") && text.contains("pa55-value"));
        assert!(!text.contains("--reveal"));
    }

    #[test]
    fn unstored_secrets_are_not_promised_to_the_reveal_command() {
        let text = render_for("acme", false, false);
        assert!(!text.contains("credentials show"), "{text}");
        assert!(text.contains("were not stored"));
    }

    #[test]
    fn custom_domains_and_local_instances_get_a_note() {
        assert!(render_for("https://snow.example.com", false, true).contains("custom domain"));
        assert!(render_for("http://127.0.0.1:8765", false, true).contains("simulated"));
    }
}
