//! `snconnect credentials show [--reveal]`, `snconnect credentials forget` and
//! `snconnect credentials set-notify-token`.
//!
//! `show` answers "what does snconnect hold for this profile, and where": the non-secret values from
//! the profile file and, per secret, the backend that holds it. Values are masked with a fixed
//! string that says nothing about the secret (no length, no first or last characters) unless
//! `--reveal` asks for them, which is how a user copies them into incident.io.
//!
//! `forget` removes every entry of a profile from every place snconnect writes to (keyring, plain
//! file, profile file). It is idempotent, and when the keyring cannot be reached it still removes
//! what it can and then exits 3, because it cannot promise the keyring is clean.
//!
//! `set-notify-token` keeps the incident.io alert source's token for `verify --notify`, so a
//! scheduled run needs no token in its environment. It is read from stdin (one line, as `gh auth
//! login --with-token` does) or a hidden prompt, never from a flag.

use std::io::Write;

use anyhow::{Context, Result};
use secrecy::ExposeSecret;
use serde_json::{json, Map, Value};

use crate::cli::{CredentialsCommand, CredentialsProfileArgs, Format};
use crate::credentials::{ConfigDir, Lookup, Profile, SecretKind, StoredSecrets};
use crate::exit::{Exit, UserError};

/// Shown instead of a secret. Fixed, so it reveals nothing about the value, not even its length.
pub use crate::credentials::MASK;

/// What `show` and `forget` work with, injected so tests can use a memory keyring and a temp dir.
pub struct CredentialsOptions<'a> {
    pub format: Format,
    pub dir: ConfigDir,
    pub secrets: StoredSecrets,
    pub out: &'a mut dyn Write,
}

/// Runs `credentials show|forget|set-notify-token` with the OS keyring and the resolved config
/// directory.
pub fn run(cmd: &CredentialsCommand) -> Result<Exit> {
    let dir = ConfigDir::resolve()?;
    let mut stdout = std::io::stdout().lock();
    let options = |format, dir: ConfigDir, out| CredentialsOptions {
        format,
        secrets: StoredSecrets::with(crate::credentials::shared_keyring(), &dir),
        dir,
        out,
    };
    match cmd {
        CredentialsCommand::Show(args) => {
            let profile = resolve_profile(&args.profile, &dir)?;
            show(
                &mut options(args.format.format, dir, &mut stdout),
                &profile,
                args.reveal,
            )
        }
        CredentialsCommand::Forget(args) => {
            let profile = resolve_profile(&args.profile, &dir)?;
            forget(
                &mut options(args.format.format, dir, &mut stdout),
                &profile,
                args.yes,
            )
        }
        CredentialsCommand::SetNotifyToken(args) => {
            let profile = resolve_profile(&args.profile, &dir)?;
            // The store is opened first: on a machine without a keyring nobody types a token
            // that cannot be kept.
            let store = crate::credentials::open_store_with(
                crate::credentials::StoreOptions {
                    insecure_storage: args.insecure_storage,
                },
                &dir,
                crate::credentials::shared_keyring(),
            )?;
            let token = read_token()?;
            set_notify_token(&*store, &profile, &token, &mut stdout)
        }
    }
}

/// The token, from a hidden prompt on a terminal, else the first line of stdin.
fn read_token() -> Result<secrecy::SecretString> {
    use std::io::IsTerminal;
    let what = SecretKind::NotifyToken.label();
    if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
        use crate::ui::prompt::Prompter;
        let mut prompter = crate::ui::prompt::TerminalPrompter::new(false);
        return match prompter.secret(&format!("The {what}")) {
            Ok(Some(token)) => Ok(token),
            Ok(None) => {
                Err(UserError::usage(format!("no {what} was given; nothing was stored")).into())
            }
            Err(_) => crate::ui::interrupt::exit_interrupted("nothing was stored", &[]),
        };
    }
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::stdin().lock(), &mut line)
        .with_context(|| format!("could not read the {what} from stdin"))?;
    parse_token(&line)
}

/// One line of stdin as the token: surrounding whitespace dropped, empty refused.
fn parse_token(line: &str) -> Result<secrecy::SecretString> {
    let value = line.trim();
    if value.is_empty() {
        return Err(UserError::usage(format!(
            "stdin held no {}: pipe it in, for example `printf %s \"$TOKEN\" | snconnect \
             credentials set-notify-token --profile NAME`; nothing was stored",
            SecretKind::NotifyToken.label()
        ))
        .into());
    }
    Ok(secrecy::SecretString::from(value.to_string()))
}

/// Stores the token for `profile` and says where (never what).
pub fn set_notify_token(
    store: &dyn crate::credentials::SecretStore,
    profile: &str,
    token: &secrecy::SecretString,
    out: &mut dyn Write,
) -> Result<Exit> {
    let kind = SecretKind::NotifyToken;
    store.set(profile, kind, token).map_err(|e| {
        UserError::cannot_run(format!(
            "could not store the {} for profile '{profile}': {e}; set {} for each run instead",
            kind.label(),
            kind.env_var()
        ))
    })?;
    writeln!(
        out,
        "stored the {} for profile '{profile}' in {}; `snconnect verify --profile {profile} \
         --notify …` sends it when {} is not set",
        kind.label(),
        store.backend(),
        kind.env_var()
    )?;
    Ok(Exit::Ok)
}

/// The profile named by `--profile`, else the one derived from `--instance`.
pub fn resolve_profile(args: &CredentialsProfileArgs, dir: &ConfigDir) -> Result<String> {
    let instance = match &args.instance {
        Some(text) => Some(
            crate::instance::Instance::parse(text)
                .map_err(|e| UserError::usage(format!("invalid --instance: {e}")))?,
        ),
        None => None,
    };
    let resolved = crate::credentials::profile_for(args.profile.as_deref(), instance.as_ref())
        .map_err(|e| UserError::usage(e.to_string()))?;
    if let Some(name) = resolved {
        return Ok(name);
    }
    let known = dir.list_profiles().unwrap_or_default();
    let hint = if known.is_empty() {
        format!("no profiles are saved in {}", dir.path().display())
    } else {
        format!("saved profiles: {}", known.join(", "))
    };
    Err(UserError::usage(format!(
        "which profile? pass --profile NAME or --instance INSTANCE (or set SNCONNECT_PROFILE); {hint}"
    ))
    .into())
}

fn reject_junit(format: Format) -> Result<()> {
    if matches!(format, Format::Junit | Format::Markdown) {
        return Err(UserError::usage(format!(
            "--format {} is for check reports (verify, setup); use human or json here",
            if format == Format::Junit {
                "junit"
            } else {
                "markdown"
            }
        ))
        .into());
    }
    Ok(())
}

/// One secret's state, as `show` reports it.
enum SecretState {
    Stored {
        backend: &'static str,
        value: secrecy::SecretString,
    },
    NotStored,
    /// Could not be read; `corrupt` when the plain file is broken rather than the keyring away.
    Unknown(String),
    Corrupt(String),
}

/// Prints the profile and where each of its secrets is stored.
pub fn show(opts: &mut CredentialsOptions<'_>, profile: &str, reveal: bool) -> Result<Exit> {
    reject_junit(opts.format)?;
    let saved = opts.dir.load_profile(profile)?;
    let states: Vec<(SecretKind, SecretState)> = SecretKind::ALL
        .into_iter()
        .map(|kind| {
            let state = match opts.secrets.lookup(profile, kind) {
                Lookup::Found { value, backend } => SecretState::Stored { backend, value },
                Lookup::NotStored => SecretState::NotStored,
                Lookup::Unreadable(e @ crate::credentials::StoreError::Corrupt { .. }) => {
                    SecretState::Corrupt(e.to_string())
                }
                Lookup::Unreadable(e) => SecretState::Unknown(e.to_string()),
            };
            (kind, state)
        })
        .collect();
    let keyring_problem = opts.secrets.keyring_problem();
    // A profile nothing knows of is a mistyped name more often than an empty profile.
    let nothing = states
        .iter()
        .all(|(_, s)| !matches!(s, SecretState::Stored { .. } | SecretState::Corrupt(_)));
    if saved.is_none() && nothing {
        let known = opts.dir.list_profiles().unwrap_or_default();
        let saved_here = if known.is_empty() {
            format!("no profile is saved in {}", opts.dir.path().display())
        } else {
            format!("saved profiles: {}", known.join(", "))
        };
        let unread = if keyring_problem.is_some() {
            " (the keyring could not be read to look for its secrets)"
        } else {
            ""
        };
        return Err(UserError::usage(format!(
            "profile '{profile}' is not known: it has no profile file and no stored secret{unread}; \
             {saved_here}"
        ))
        .into());
    }
    let text = match opts.format {
        Format::Json => {
            let v = show_json(
                opts,
                profile,
                saved.as_ref(),
                &states,
                keyring_problem,
                reveal,
            );
            let mut s = serde_json::to_string_pretty(&v)?;
            s.push('\n');
            s
        }
        _ => show_human(
            opts,
            profile,
            saved.as_ref(),
            &states,
            keyring_problem,
            reveal,
        ),
    };
    write_out(opts.out, &text)?;
    Ok(Exit::Ok)
}

fn write_out(out: &mut dyn Write, text: &str) -> Result<()> {
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        // `snconnect credentials show | head`: the reader left; that is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("could not write to stdout"),
    }
}

fn show_json(
    opts: &CredentialsOptions<'_>,
    profile: &str,
    saved: Option<&Profile>,
    states: &[(SecretKind, SecretState)],
    keyring_problem: Option<String>,
    reveal: bool,
) -> Value {
    let mut secrets = Map::new();
    for (kind, state) in states {
        let mut entry = Map::new();
        entry.insert("label".into(), kind.label().into());
        match state {
            SecretState::Stored { backend, value } => {
                entry.insert("stored".into(), true.into());
                entry.insert("backend".into(), (*backend).into());
                if reveal {
                    entry.insert("value".into(), value.expose_secret().into());
                }
            }
            SecretState::NotStored => {
                entry.insert("stored".into(), false.into());
                entry.insert("backend".into(), Value::Null);
            }
            SecretState::Unknown(why) | SecretState::Corrupt(why) => {
                entry.insert("stored".into(), Value::Null);
                entry.insert("backend".into(), Value::Null);
                entry.insert("problem".into(), why.clone().into());
            }
        }
        secrets.insert(kind.as_str().into(), Value::Object(entry));
    }
    let field =
        |f: fn(&Profile) -> Option<String>| saved.and_then(f).map_or(Value::Null, Value::from);
    json!({
        "schema_version": 1,
        "profile": profile,
        "config_file": saved.map(|_| opts.dir.profile_path(profile).display().to_string()),
        "instance": field(|p| p.instance.clone()),
        "path": field(|p| p.path.map(|x| x.as_str().to_owned())),
        "client_id": field(|p| p.client_id.clone()),
        "username": field(|p| p.username.clone()),
        "admin_user": field(|p| p.admin_user.clone()),
        "keyring": {
            "backend": opts.secrets.keyring_backend(),
            "available": keyring_problem.is_none(),
            "problem": keyring_problem,
        },
        "secrets": secrets,
    })
}

fn show_human(
    opts: &CredentialsOptions<'_>,
    profile: &str,
    saved: Option<&Profile>,
    states: &[(SecretKind, SecretState)],
    keyring_problem: Option<String>,
    reveal: bool,
) -> String {
    let mut s = String::new();
    let nothing_stored = saved.is_none()
        && states
            .iter()
            .all(|(_, st)| matches!(st, SecretState::NotStored));
    if nothing_stored {
        s.push_str(&format!(
            "Nothing is stored for profile '{profile}' (no profile file in {}, no secrets in the \
             keyring or the plain file).\n",
            opts.dir.path().display()
        ));
        return s;
    }
    s.push_str(&format!("Profile {profile}\n"));
    match saved {
        Some(p) => {
            s.push_str(&format!(
                "  config file   {}\n",
                opts.dir.profile_path(profile).display()
            ));
            let none = || "(not set)".to_owned();
            let rows = [
                ("instance", p.instance.clone()),
                ("path", p.path.map(|x| x.as_str().to_owned())),
                ("client id", p.client_id.clone()),
                ("service user", p.username.clone()),
                ("admin user", p.admin_user.clone()),
            ];
            for (label, value) in rows {
                s.push_str(&format!("  {label:<13} {}\n", value.unwrap_or_else(none)));
            }
        }
        None => s.push_str("  config file   (none saved)\n"),
    }
    s.push_str("Secrets\n");
    let mut masked = false;
    for (kind, state) in states {
        let line = match state {
            SecretState::Stored { backend, value } => {
                let shown = if reveal {
                    value.expose_secret().to_owned()
                } else {
                    masked = true;
                    MASK.to_owned()
                };
                format!("{shown}  (in {backend})")
            }
            SecretState::NotStored => "not stored".to_owned(),
            SecretState::Unknown(_) => "unknown: the keyring could not be read".to_owned(),
            // The broken file is named, with the line, not blamed on the keyring.
            SecretState::Corrupt(why) => format!("unknown: {why}"),
        };
        s.push_str(&format!("  {:<22} {line}\n", kind.label()));
    }
    if let Some(problem) = keyring_problem {
        s.push_str(&format!("Note: {problem}\n"));
    }
    if masked {
        s.push_str(&format!(
            "Run `snconnect credentials show --profile {profile} --reveal` to print the secrets.\n"
        ));
    }
    s
}

/// Removes every entry of the profile: secrets in the keyring and the plain file, and the profile
/// file. Says what it removed; running it again removes nothing and succeeds.
///
/// When the keyring cannot be reached it exits 3 (it may still hold entries), unless
/// `keyring_may_be_away`: `--yes`, for a headless machine, where that is a warning.
pub fn forget(
    opts: &mut CredentialsOptions<'_>,
    profile: &str,
    keyring_may_be_away: bool,
) -> Result<Exit> {
    reject_junit(opts.format)?;
    let outcome = opts.secrets.forget(profile);
    let removed_file = opts.dir.delete_profile(profile)?;
    let text = match opts.format {
        Format::Json => {
            let v = json!({
                "schema_version": 1,
                "profile": profile,
                "removed_secrets": outcome.removed.iter().map(|(kind, backend)| json!({
                    "kind": kind.as_str(), "backend": backend,
                })).collect::<Vec<_>>(),
                "removed_config_file": removed_file.as_ref().map(|p| p.display().to_string()),
                "not_reached": outcome.errors.iter().map(|(backend, e)| json!({
                    "backend": backend, "problem": e.to_string(),
                })).collect::<Vec<_>>(),
            });
            let mut s = serde_json::to_string_pretty(&v)?;
            s.push('\n');
            s
        }
        _ => {
            let mut s = String::new();
            for (kind, backend) in &outcome.removed {
                s.push_str(&format!("removed the {} from {backend}\n", kind.label()));
            }
            if let Some(path) = &removed_file {
                s.push_str(&format!("removed the profile file {}\n", path.display()));
            }
            if outcome.removed.is_empty() && removed_file.is_none() && outcome.errors.is_empty() {
                s.push_str(&format!(
                    "nothing was stored for profile '{profile}'; nothing to remove\n"
                ));
            }
            s
        }
    };
    write_out(opts.out, &text)?;
    if outcome.errors.is_empty() {
        return Ok(Exit::Ok);
    }
    let problems: Vec<String> = outcome
        .errors
        .iter()
        .map(|(backend, e)| format!("{backend}: {e}"))
        .collect();
    if keyring_may_be_away {
        eprintln!(
            "warning: not checked ({}); everything else of profile '{profile}' was removed",
            problems.join("; ")
        );
        return Ok(Exit::Ok);
    }
    Err(UserError::cannot_run(format!(
        "could not check every place secrets of profile '{profile}' may be stored ({}); what \
         could be reached was cleared. Run `snconnect credentials forget --profile {profile}` \
         again where the keyring is reachable (or with --yes on a machine without one), or remove \
         the entries of service '{}' whose user starts with '{profile}:' with your keyring manager",
        problems.join("; "),
        crate::credentials::SERVICE,
    ))
    .into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::{MemoryStore, SecretStore, Unavailable};
    use crate::model::SetupPath;
    use secrecy::SecretString;

    struct Fixture {
        _tmp: tempfile::TempDir,
        dir: ConfigDir,
    }

    fn fixture() -> Fixture {
        let tmp = tempfile::tempdir().unwrap();
        let dir = ConfigDir::at(tmp.path().join("cfg"));
        Fixture { _tmp: tmp, dir }
    }

    fn run_show(
        dir: &ConfigDir,
        keyring: MemoryStore,
        format: Format,
        reveal: bool,
    ) -> (Exit, String) {
        let mut out = Vec::new();
        let mut opts = CredentialsOptions {
            format,
            dir: dir.clone(),
            secrets: StoredSecrets::with(Box::new(keyring), dir),
            out: &mut out,
        };
        let exit = show(&mut opts, "acme", reveal).unwrap();
        (exit, String::from_utf8(out).unwrap())
    }

    fn keyring_with_secrets() -> MemoryStore {
        let k = MemoryStore::new();
        k.set(
            "acme",
            SecretKind::ClientSecret,
            &SecretString::from("cs-Zq8v1".to_owned()),
        )
        .unwrap();
        k.set(
            "acme",
            SecretKind::Password,
            &SecretString::from("pw-Kx7m2".to_owned()),
        )
        .unwrap();
        k
    }

    fn save_acme(dir: &ConfigDir) {
        dir.save_profile(&Profile {
            name: "acme".into(),
            instance: Some("https://acme.service-now.com".into()),
            path: Some(SetupPath::App),
            client_id: Some("cid-123".into()),
            username: Some("incident.io".into()),
            admin_user: None,
            notify: None,
        })
        .unwrap();
    }

    #[test]
    fn show_masks_secrets_and_names_their_backend() {
        let f = fixture();
        save_acme(&f.dir);
        let (exit, text) = run_show(&f.dir, keyring_with_secrets(), Format::Human, false);
        assert_eq!(exit, Exit::Ok);
        assert!(
            !text.contains("cs-Zq8v1") && !text.contains("pw-Kx7m2"),
            "{text}"
        );
        // No fragment either. The config file's path is left out of that search: it is a random
        // temporary name, which once contained "v1" by chance.
        let shown = text.replace(&f.dir.profile_path("acme").display().to_string(), "");
        assert!(!shown.contains("Zq") && !shown.contains("v1"), "{text}");
        assert_eq!(text.matches(MASK).count(), 2, "{text}");
        assert!(text.contains("(in memory)"), "{text}");
        assert!(text.contains("cid-123"), "{text}");
        assert!(text.contains("admin password"), "{text}");
        assert!(text.contains("not stored"), "{text}");
        assert!(text.contains("--reveal"), "{text}");
    }

    #[test]
    fn show_reveal_prints_the_values() {
        let f = fixture();
        save_acme(&f.dir);
        let (_, text) = run_show(&f.dir, keyring_with_secrets(), Format::Human, true);
        assert!(
            text.contains("cs-Zq8v1") && text.contains("pw-Kx7m2"),
            "{text}"
        );
        assert!(!text.contains(MASK), "{text}");
    }

    #[test]
    fn show_json_has_no_values_without_reveal() {
        let f = fixture();
        save_acme(&f.dir);
        let (_, text) = run_show(&f.dir, keyring_with_secrets(), Format::Json, false);
        assert!(
            !text.contains("cs-Zq8v1") && !text.contains("pw-Kx7m2"),
            "{text}"
        );
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["profile"], "acme");
        assert_eq!(v["client_id"], "cid-123");
        assert_eq!(v["path"], "app");
        assert_eq!(v["secrets"]["client_secret"]["stored"], true);
        assert_eq!(v["secrets"]["client_secret"]["backend"], "memory");
        assert!(v["secrets"]["client_secret"].get("value").is_none());
        assert_eq!(v["secrets"]["admin_password"]["stored"], false);
        assert_eq!(v["keyring"]["available"], true);

        let (_, text) = run_show(&f.dir, keyring_with_secrets(), Format::Json, true);
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["secrets"]["password"]["value"], "pw-Kx7m2");
    }

    #[test]
    fn show_names_a_corrupt_secrets_file_and_its_line_instead_of_blaming_the_keyring() {
        let f = fixture();
        save_acme(&f.dir);
        let path = f.dir.plain_secrets_path();
        std::fs::write(&path, "[acme]\nclient_secret = \"hunter2-unterminated\n").unwrap();
        let keyring = MemoryStore::unavailable(Unavailable::NoSessionBus);
        let (_, text) = run_show(&f.dir, keyring, Format::Human, false);
        assert!(text.contains("not valid TOML at line 2"), "{text}");
        assert!(text.contains(&path.display().to_string()), "{text}");
        assert!(!text.contains("the keyring could not be read"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
    }

    #[test]
    fn show_with_an_unreachable_keyring_says_why() {
        let f = fixture();
        save_acme(&f.dir);
        let keyring = MemoryStore::unavailable(Unavailable::NoSessionBus);
        let (exit, text) = run_show(&f.dir, keyring, Format::Human, false);
        assert_eq!(exit, Exit::Ok);
        assert!(
            text.contains("unknown: the keyring could not be read"),
            "{text}"
        );
        assert!(
            text.contains("DBUS_SESSION_BUS_ADDRESS is not set"),
            "{text}"
        );
        let keyring = MemoryStore::unavailable(Unavailable::NoSessionBus);
        let (_, text) = run_show(&f.dir, keyring, Format::Json, false);
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["keyring"]["available"], false);
        assert_eq!(v["secrets"]["password"]["stored"], Value::Null);
    }

    #[test]
    fn show_of_an_unknown_profile_is_a_usage_error_listing_the_saved_ones() {
        let f = fixture();
        let mut out = Vec::new();
        let mut opts = CredentialsOptions {
            format: Format::Human,
            dir: f.dir.clone(),
            secrets: StoredSecrets::with(Box::new(MemoryStore::new()), &f.dir),
            out: &mut out,
        };
        let err = show(&mut opts, "nosuch", false).unwrap_err();
        assert_eq!(crate::exit::exit_for(&err), Exit::Usage);
        assert!(
            err.to_string().contains("profile 'nosuch' is not known"),
            "{err}"
        );
        assert!(err.to_string().contains("no profile is saved in"), "{err}");
        // A profile with only a stored secret (its file gone) is known.
        opts.secrets = StoredSecrets::with(Box::new(keyring_with_secrets()), &f.dir);
        assert_eq!(show(&mut opts, "acme", false).unwrap(), Exit::Ok);
    }

    #[test]
    fn junit_is_refused_with_a_usage_error() {
        let f = fixture();
        let mut out = Vec::new();
        let mut opts = CredentialsOptions {
            format: Format::Junit,
            dir: f.dir.clone(),
            secrets: StoredSecrets::with(Box::new(MemoryStore::new()), &f.dir),
            out: &mut out,
        };
        let err = show(&mut opts, "acme", false).unwrap_err();
        assert_eq!(crate::exit::exit_for(&err), Exit::Usage);
    }

    #[test]
    fn forget_removes_everything_once_then_finds_nothing() {
        let f = fixture();
        save_acme(&f.dir);
        let keyring = keyring_with_secrets();
        let mut out = Vec::new();
        let mut opts = CredentialsOptions {
            format: Format::Human,
            dir: f.dir.clone(),
            secrets: StoredSecrets::with(Box::new(keyring), &f.dir),
            out: &mut out,
        };
        assert_eq!(forget(&mut opts, "acme", false).unwrap(), Exit::Ok);
        assert_eq!(forget(&mut opts, "acme", false).unwrap(), Exit::Ok);
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("removed the OAuth client secret from memory"),
            "{text}"
        );
        assert!(text.contains("removed the service user password from memory"));
        assert!(text.contains("removed the profile file"), "{text}");
        assert!(
            text.ends_with("nothing was stored for profile 'acme'; nothing to remove\n"),
            "{text}"
        );
        assert_eq!(f.dir.load_profile("acme").unwrap(), None);
    }

    #[test]
    fn forget_with_an_unreachable_keyring_clears_the_rest_and_exits_3() {
        let f = fixture();
        save_acme(&f.dir);
        let mut out = Vec::new();
        let mut opts = CredentialsOptions {
            format: Format::Human,
            dir: f.dir.clone(),
            secrets: StoredSecrets::with(
                Box::new(MemoryStore::unavailable(Unavailable::NoSessionBus)),
                &f.dir,
            ),
            out: &mut out,
        };
        let err = forget(&mut opts, "acme", false).unwrap_err();
        assert_eq!(crate::exit::exit_for(&err), Exit::CannotRun);
        assert!(err.to_string().contains("no D-Bus session bus"), "{err}");
        assert_eq!(f.dir.load_profile("acme").unwrap(), None);
        // Issue 14: on a headless machine `--yes` accepts that the keyring cannot be checked.
        save_acme(&f.dir);
        assert_eq!(forget(&mut opts, "acme", true).unwrap(), Exit::Ok);
        assert_eq!(f.dir.load_profile("acme").unwrap(), None);
    }

    #[test]
    fn a_profile_is_required_and_the_error_lists_the_saved_ones() {
        let f = fixture();
        save_acme(&f.dir);
        let args = CredentialsProfileArgs {
            profile: None,
            instance: None,
        };
        let err = resolve_profile(&args, &f.dir).unwrap_err();
        assert_eq!(crate::exit::exit_for(&err), Exit::Usage);
        assert!(err.to_string().contains("saved profiles: acme"), "{err}");
        let bad = CredentialsProfileArgs {
            profile: Some("../etc".into()),
            instance: None,
        };
        let err = resolve_profile(&bad, &f.dir).unwrap_err();
        assert_eq!(crate::exit::exit_for(&err), Exit::Usage);
        let from_instance = CredentialsProfileArgs {
            profile: None,
            instance: Some("https://acme.service-now.com/".into()),
        };
        assert_eq!(resolve_profile(&from_instance, &f.dir).unwrap(), "acme");
        let bad_instance = CredentialsProfileArgs {
            profile: None,
            instance: Some("http://acme.service-now.com".into()),
        };
        let err = resolve_profile(&bad_instance, &f.dir).unwrap_err();
        assert_eq!(crate::exit::exit_for(&err), Exit::Usage);
        assert!(err.to_string().contains("--instance"), "{err}");
    }
}
