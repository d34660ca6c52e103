//! Credential storage: a store trait, the OS keyring backend, an opt-in plain-file backend, and the
//! profile's non-secret configuration.
//!
//! Why the pieces are split this way:
//!
//! - Secrets go to the OS keyring, one entry per secret under service `snconnect` and user key
//!   `<profile>:<kind>`, so the OS's own tools (Keychain Access, Seahorse, `secret-tool`) show and
//!   remove them.
//! - When no keyring is reachable, writing **fails closed** ([`open_store`]): a secret that `apply`
//!   generated and could not keep would be lost while the instance already uses it. The only way to
//!   a plain file is asking for it with `--insecure-storage`, and even then the file is 0600 and the
//!   program says so on stderr before writing.
//! - Reading never fails a command by itself ([`StoredSecrets::lookup`]): `verify` with an
//!   unreachable keyring still runs the checks it can, and reports the others as skipped with the
//!   reason the [`Lookup::Unreadable`] carries.
//! - Non-secret values (instance, path, client id, user names) live in a TOML file per profile in
//!   the platform's config directory ([`ConfigDir`]), where they can be read without any keyring.

use std::fmt;
use std::path::Path;

use secrecy::SecretString;

use crate::exit::UserError;

mod file;
pub(crate) mod fsutil;
mod keyring;
mod memory;
mod profile;
pub mod refusals;
pub mod run_lock;
pub mod transaction;

/// What a secret is shown as when it is not revealed: the same width whatever its length.
pub const MASK: &str = "••••••••";

pub use self::file::PlainFileStore;
pub use self::keyring::{
    run_with_deadline, shared_keyring, KeyringStore, DEFAULT_KEYRING_TIMEOUT, SERVICE,
};
pub use self::memory::MemoryStore;
pub use self::profile::{
    config_dir, list_profiles, load_profile, profile_for, save_profile, validate_profile_name,
    ConfigDir, Profile, CONFIG_DIR_ENV,
};
pub use refusals::Refusals;
pub use run_lock::RunLock;
pub use transaction::{store_all, Stored, ToStore};

/// The secrets snconnect keeps for a profile. The key strings are part of what users see in their
/// keyring (`<profile>:client_secret`), so they never change.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash, PartialOrd, Ord)]
pub enum SecretKind {
    AdminPassword,
    ClientSecret,
    Password,
    /// The token of the incident.io HTTP alert source `verify --notify` posts to. Not a
    /// ServiceNow secret: setup and apply never ask for it.
    NotifyToken,
}

impl SecretKind {
    /// In the order a user meets them during setup.
    pub const ALL: [SecretKind; 4] = [
        SecretKind::ClientSecret,
        SecretKind::Password,
        SecretKind::AdminPassword,
        SecretKind::NotifyToken,
    ];

    /// The stable key: the suffix of the keyring user key and the plain file's field name.
    pub fn as_str(self) -> &'static str {
        match self {
            SecretKind::AdminPassword => "admin_password",
            SecretKind::ClientSecret => "client_secret",
            SecretKind::Password => "password",
            SecretKind::NotifyToken => "incident_io_token",
        }
    }

    /// What a person calls it.
    pub fn label(self) -> &'static str {
        match self {
            SecretKind::AdminPassword => "admin password",
            SecretKind::ClientSecret => "OAuth client secret",
            SecretKind::Password => "service user password",
            SecretKind::NotifyToken => "incident.io alert source token",
        }
    }

    /// The environment variable that supplies it without any storage.
    pub const fn env_var(self) -> &'static str {
        match self {
            SecretKind::AdminPassword => "SNCONNECT_ADMIN_PASSWORD",
            SecretKind::ClientSecret => "SNCONNECT_CLIENT_SECRET",
            SecretKind::Password => "SNCONNECT_PASSWORD",
            SecretKind::NotifyToken => "SNCONNECT_INCIDENT_IO_TOKEN",
        }
    }

    pub fn from_key(key: &str) -> Option<SecretKind> {
        SecretKind::ALL.into_iter().find(|k| k.as_str() == key)
    }
}

impl fmt::Display for SecretKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The keyring user key of one secret: `<profile>:<kind>`.
pub fn entry_key(profile: &str, kind: SecretKind) -> String {
    format!("{profile}:{}", kind.as_str())
}

/// Why no keyring can be used. Each says the cause in words a user can act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unavailable {
    /// Linux/BSD: the process has no D-Bus session bus to find a Secret Service on.
    NoSessionBus,
    /// A session bus exists but nothing provides org.freedesktop.secrets on it.
    NoSecretService { detail: String },
    /// The store answered but refused access: locked, unlock prompt dismissed, no default collection.
    Locked { detail: String },
    /// The store did not answer within the deadline (a locked keyring can wait on a prompt forever).
    TimedOut { after_secs: u64 },
    /// Any other failure of the platform's credential store.
    Platform { detail: String },
}

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unavailable::NoSessionBus => {
                f.write_str("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)")
            }
            Unavailable::NoSecretService { detail } => write!(
                f,
                "no Secret Service provider (such as gnome-keyring or KeePassXC) on the D-Bus \
                 session bus ({detail})"
            ),
            Unavailable::Locked { detail } => write!(
                f,
                "the keyring is locked or has no default collection ({detail})"
            ),
            Unavailable::TimedOut { after_secs } => write!(
                f,
                "the keyring did not answer within {after_secs} s (it may be locked and waiting \
                 for an unlock prompt)"
            ),
            Unavailable::Platform { detail } => {
                write!(f, "the OS credential store failed ({detail})")
            }
        }
    }
}

/// What can go wrong storing or reading a secret. Never holds a secret value.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No usable keyring; see [`Unavailable`] for the cause.
    #[error("no usable OS keyring: {0}")]
    Unavailable(Unavailable),
    #[error("could not {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a valid snconnect file ({detail}); fix or delete it by hand")]
    Corrupt {
        path: std::path::PathBuf,
        detail: String,
    },
    /// One entry could not be used although the store is reachable (bad encoding, duplicates, …).
    #[error("keyring entry '{key}' (service {service}) could not be used: {detail}")]
    Entry {
        service: &'static str,
        key: String,
        detail: String,
    },
    /// The configuration around the store is unusable (no config directory, invalid profile name).
    #[error("{0}")]
    Config(String),
}

impl StoreError {
    pub fn unavailable(&self) -> Option<&Unavailable> {
        match self {
            StoreError::Unavailable(u) => Some(u),
            _ => None,
        }
    }
}

/// A place secrets can be kept. Implementations never print or log a value.
pub trait SecretStore: Send + Sync {
    /// Names the backend for people: "os-keyring (Secret Service)", "plain file (insecure)", "memory".
    fn backend(&self) -> &'static str;
    /// `Ok(None)` means reachable and nothing stored.
    fn get(&self, profile: &str, kind: SecretKind) -> Result<Option<SecretString>, StoreError>;
    fn set(&self, profile: &str, kind: SecretKind, value: &SecretString) -> Result<(), StoreError>;
    /// `Ok(true)` when something was removed, `Ok(false)` when there was nothing to remove.
    fn delete(&self, profile: &str, kind: SecretKind) -> Result<bool, StoreError>;
    /// Proves the store can be written before anything is written to an instance.
    fn check_available(&self) -> Result<(), StoreError>;
}

/// How the caller wants secrets stored.
#[derive(Clone, Copy, Debug, Default)]
pub struct StoreOptions {
    /// `--insecure-storage`: a 0600 plain file when (and only when) no keyring is reachable.
    pub insecure_storage: bool,
}

/// The store to write secrets to: the OS keyring, or the plain file when the keyring is unreachable
/// and `--insecure-storage` was given. Otherwise fails closed with exit 3 ("could not run": the
/// environment, not the input, is what is missing) and a message naming the cause and the ways
/// around it. Nothing is written anywhere before this decision.
pub fn open_store(opts: StoreOptions) -> anyhow::Result<Box<dyn SecretStore>> {
    let dir = ConfigDir::resolve()?;
    open_store_with(opts, &dir, shared_keyring())
}

/// [`open_store`] with the config directory and keyring given, for tests and callers that already
/// hold them.
pub fn open_store_with(
    opts: StoreOptions,
    dir: &ConfigDir,
    keyring: Box<dyn SecretStore>,
) -> anyhow::Result<Box<dyn SecretStore>> {
    match keyring.check_available() {
        Ok(()) => Ok(keyring),
        Err(StoreError::Unavailable(cause)) => {
            if opts.insecure_storage {
                Ok(Box::new(PlainFileStore::new(dir.plain_secrets_path())))
            } else {
                Err(fail_closed(&cause, dir.path()).into())
            }
        }
        Err(other) => Err(UserError::cannot_run(format!(
            "cannot store secrets: {other}; nothing was written"
        ))
        .into()),
    }
}

/// The fail-closed error: the cause, that nothing was written, and the alternatives.
pub fn fail_closed(cause: &Unavailable, config_dir: &Path) -> UserError {
    UserError::cannot_run(format!(
        "cannot store secrets: no usable OS keyring: {cause}. Nothing was written.\n\
         To go on, do one of these:\n\
         - make a keyring reachable: log in to a desktop session, or on a headless machine run \
         inside `dbus-run-session` with `gnome-keyring-daemon --unlock` started;\n\
         - keep them in a plain-text file (mode 0600) in {}: re-run with --insecure-storage;\n\
         - store nothing: skip this command and give {}, {} and {} to each `snconnect verify` \
         run, which needs no keyring",
        config_dir.display(),
        SecretKind::ClientSecret.env_var(),
        SecretKind::Password.env_var(),
        SecretKind::AdminPassword.env_var(),
    ))
}

/// The outcome of reading one stored secret.
#[derive(Debug)]
pub enum Lookup {
    Found {
        value: SecretString,
        backend: &'static str,
    },
    /// Every place was readable and none holds it.
    NotStored,
    /// It may be stored, but the keyring could not be read; the error says why (for a `skip` reason).
    Unreadable(StoreError),
}

/// Reads secrets from wherever they may have been stored: the keyring first, then the plain file
/// (which exists only if a run with `--insecure-storage` wrote it).
pub struct StoredSecrets {
    keyring: Box<dyn SecretStore>,
    file: PlainFileStore,
    /// Why the keyring could not be read, if a lookup found out; kept even when the plain file
    /// answered, so `credentials show` can say the keyring was not consulted.
    keyring_problem: std::sync::Mutex<Option<String>>,
}

impl StoredSecrets {
    /// The OS keyring and the plain file in the resolved config directory.
    pub fn open() -> anyhow::Result<StoredSecrets> {
        let dir = ConfigDir::resolve()?;
        Ok(StoredSecrets::with(shared_keyring(), &dir))
    }

    pub fn with(keyring: Box<dyn SecretStore>, dir: &ConfigDir) -> StoredSecrets {
        StoredSecrets {
            keyring,
            file: PlainFileStore::new(dir.plain_secrets_path()),
            keyring_problem: std::sync::Mutex::new(None),
        }
    }

    pub fn keyring_backend(&self) -> &'static str {
        self.keyring.backend()
    }

    /// Why the keyring could not be read by an earlier [`lookup`](Self::lookup), if it could not.
    pub fn keyring_problem(&self) -> Option<String> {
        self.keyring_problem
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Where the plain file (`--insecure-storage`) is, whether or not it exists.
    pub fn plain_file_path(&self) -> &Path {
        self.file.path()
    }

    /// The secret for a profile, or why it could not be read.
    pub fn lookup(&self, profile: &str, kind: SecretKind) -> Lookup {
        let keyring_err = match self.keyring.get(profile, kind) {
            Ok(Some(value)) => {
                return Lookup::Found {
                    value,
                    backend: self.keyring.backend(),
                }
            }
            Ok(None) => None,
            Err(e) => {
                *self
                    .keyring_problem
                    .lock()
                    .unwrap_or_else(|p| p.into_inner()) = Some(e.to_string());
                Some(e)
            }
        };
        match self.file.get(profile, kind) {
            Ok(Some(value)) => Lookup::Found {
                value,
                backend: self.file.backend(),
            },
            Ok(None) => match keyring_err {
                Some(e) => Lookup::Unreadable(e),
                None => Lookup::NotStored,
            },
            // A broken plain file matters more than a keyring miss: it is where the user put it.
            Err(e) => Lookup::Unreadable(e),
        }
    }

    /// Removes every secret of the profile from the keyring and the plain file. Keeps going past a
    /// failure so that as much as possible is removed, and reports what it could not reach.
    pub fn forget(&self, profile: &str) -> ForgetOutcome {
        let mut outcome = ForgetOutcome::default();
        for store in [&*self.keyring, &self.file as &dyn SecretStore] {
            for kind in SecretKind::ALL {
                match store.delete(profile, kind) {
                    Ok(true) => outcome.removed.push((kind, store.backend())),
                    Ok(false) => {}
                    Err(e) => {
                        // An unreachable keyring fails the same way for every kind: say it once.
                        outcome.errors.push((store.backend(), e));
                        break;
                    }
                }
            }
        }
        outcome
    }
}

/// What [`StoredSecrets::forget`] did.
#[derive(Debug, Default)]
pub struct ForgetOutcome {
    pub removed: Vec<(SecretKind, &'static str)>,
    /// Backends that could not be cleared, with why.
    pub errors: Vec<(&'static str, StoreError)>,
}

/// Reads one stored secret with the OS keyring and the default config directory. For commands
/// that need a single value; hold a [`StoredSecrets`] to read several.
pub fn lookup(profile: &str, kind: SecretKind) -> Lookup {
    match StoredSecrets::open() {
        Ok(s) => s.lookup(profile, kind),
        Err(e) => Lookup::Unreadable(StoreError::Config(format!("{e:#}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    #[test]
    fn kinds_round_trip_through_their_keys_and_are_distinct() {
        let keys: std::collections::BTreeSet<_> =
            SecretKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(keys.len(), 4);
        for kind in SecretKind::ALL {
            assert_eq!(SecretKind::from_key(kind.as_str()), Some(kind));
        }
        assert_eq!(
            entry_key("acme", SecretKind::ClientSecret),
            "acme:client_secret"
        );
        assert_eq!(SecretKind::from_key("token"), None);
    }

    #[test]
    fn without_a_keyring_opening_a_store_fails_closed_and_writes_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = ConfigDir::at(tmp.path().join("cfg"));
        let keyring = MemoryStore::unavailable(Unavailable::NoSessionBus);
        let err = open_store_with(StoreOptions::default(), &dir, Box::new(keyring))
            .err()
            .expect("must fail closed");
        assert_eq!(crate::exit::exit_for(&err), crate::exit::Exit::CannotRun);
        let msg = err.to_string();
        assert!(msg.contains("DBUS_SESSION_BUS_ADDRESS is not set"), "{msg}");
        assert!(msg.contains("SNCONNECT_CLIENT_SECRET"), "{msg}");
        assert!(msg.contains("--insecure-storage"), "{msg}");
        assert!(msg.contains("Nothing was written"), "{msg}");
        assert!(!tmp.path().join("cfg").exists(), "config dir was created");
    }

    #[test]
    fn without_a_keyring_insecure_storage_selects_the_plain_file() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = ConfigDir::at(tmp.path().to_path_buf());
        let keyring = MemoryStore::unavailable(Unavailable::Locked {
            detail: "locked".into(),
        });
        let store = open_store_with(
            StoreOptions {
                insecure_storage: true,
            },
            &dir,
            Box::new(keyring),
        )
        .unwrap();
        assert_eq!(store.backend(), "plain file (insecure)");
    }

    #[test]
    fn with_a_keyring_insecure_storage_still_uses_the_keyring() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = ConfigDir::at(tmp.path().to_path_buf());
        let store = open_store_with(
            StoreOptions {
                insecure_storage: true,
            },
            &dir,
            Box::new(MemoryStore::new()),
        )
        .unwrap();
        assert_eq!(store.backend(), "memory");
    }

    #[test]
    fn lookup_prefers_the_keyring_then_the_plain_file() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = ConfigDir::at(tmp.path().to_path_buf());
        let keyring = MemoryStore::new();
        keyring
            .set("acme", SecretKind::ClientSecret, &secret("from-keyring"))
            .unwrap();
        let file = PlainFileStore::new(dir.plain_secrets_path()).with_notice(|_| {});
        file.set("acme", SecretKind::ClientSecret, &secret("from-file"))
            .unwrap();
        file.set("acme", SecretKind::Password, &secret("pw-from-file"))
            .unwrap();
        let secrets = StoredSecrets::with(Box::new(keyring), &dir);
        match secrets.lookup("acme", SecretKind::ClientSecret) {
            Lookup::Found { value, backend } => {
                assert_eq!(value.expose_secret(), "from-keyring");
                assert_eq!(backend, "memory");
            }
            other => panic!("unexpected {other:?}"),
        }
        match secrets.lookup("acme", SecretKind::Password) {
            Lookup::Found { value, backend } => {
                assert_eq!(value.expose_secret(), "pw-from-file");
                assert_eq!(backend, "plain file (insecure)");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(
            secrets.lookup("acme", SecretKind::AdminPassword),
            Lookup::NotStored
        ));
    }

    #[test]
    fn lookup_with_an_unreachable_keyring_says_why_unless_the_file_has_it() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = ConfigDir::at(tmp.path().to_path_buf());
        let file = PlainFileStore::new(dir.plain_secrets_path()).with_notice(|_| {});
        file.set("acme", SecretKind::Password, &secret("pw"))
            .unwrap();
        let secrets = StoredSecrets::with(
            Box::new(MemoryStore::unavailable(Unavailable::NoSessionBus)),
            &dir,
        );
        assert!(matches!(
            secrets.lookup("acme", SecretKind::Password),
            Lookup::Found { .. }
        ));
        match secrets.lookup("acme", SecretKind::ClientSecret) {
            Lookup::Unreadable(e) => {
                assert_eq!(e.unavailable(), Some(&Unavailable::NoSessionBus));
                assert!(e.to_string().contains("no D-Bus session bus"));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn forget_clears_both_backends_and_is_idempotent() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = ConfigDir::at(tmp.path().to_path_buf());
        let keyring = MemoryStore::new();
        keyring
            .set("acme", SecretKind::ClientSecret, &secret("a"))
            .unwrap();
        keyring
            .set("other", SecretKind::Password, &secret("b"))
            .unwrap();
        let file = PlainFileStore::new(dir.plain_secrets_path()).with_notice(|_| {});
        file.set("acme", SecretKind::Password, &secret("c"))
            .unwrap();
        let secrets = StoredSecrets::with(Box::new(keyring), &dir);
        let first = secrets.forget("acme");
        assert!(first.errors.is_empty());
        let mut removed = first.removed.clone();
        removed.sort();
        assert_eq!(
            removed,
            vec![
                (SecretKind::ClientSecret, "memory"),
                (SecretKind::Password, "plain file (insecure)")
            ]
        );
        let second = secrets.forget("acme");
        assert!(second.removed.is_empty() && second.errors.is_empty());
        // Another profile is untouched.
        assert!(matches!(
            secrets.lookup("other", SecretKind::Password),
            Lookup::Found { .. }
        ));
    }

    #[test]
    fn forget_reports_an_unreachable_keyring_once_and_still_clears_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = ConfigDir::at(tmp.path().to_path_buf());
        let file = PlainFileStore::new(dir.plain_secrets_path()).with_notice(|_| {});
        file.set("acme", SecretKind::Password, &secret("c"))
            .unwrap();
        let secrets = StoredSecrets::with(
            Box::new(MemoryStore::unavailable(Unavailable::NoSessionBus)),
            &dir,
        );
        let outcome = secrets.forget("acme");
        assert_eq!(outcome.errors.len(), 1);
        assert_eq!(
            outcome.removed,
            vec![(SecretKind::Password, "plain file (insecure)")]
        );
    }
}
