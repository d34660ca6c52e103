//! The OS keyring backend (Secret Service on Linux, Keychain on macOS, Credential Manager on
//! Windows) through the `keyring` crate, with a deadline on every call.
//!
//! Why a deadline: a locked keyring can wait on an unlock prompt that nobody will ever answer (a
//! headless box, an SSH session), and a CLI that hangs there looks broken. Each call runs on its own
//! thread; when the deadline passes the call is abandoned and the keyring is reported unavailable.
//! The first unavailability is remembered, so a run pays the deadline at most once.

use std::sync::mpsc;
use std::sync::Mutex;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use super::{entry_key, SecretKind, SecretStore, StoreError, Unavailable};

/// The keyring service every entry is filed under.
pub const SERVICE: &str = "snconnect";

/// How long one keyring call may take before the keyring counts as unavailable.
pub const DEFAULT_KEYRING_TIMEOUT: Duration = Duration::from_secs(10);

/// The start of the user key of the entry `check_available` writes and removes to prove writing
/// works. It cannot collide with a profile: profile names start with a letter or digit.
const PROBE_KEY_PREFIX: &str = ".snconnect-write-check";

/// A probe key of this process alone. With one shared key, two snconnect processes probing at the
/// same moment delete each other's entry between the Secret Service's search and its read, and the
/// loser sees "Object does not exist at path …", which is indistinguishable from a broken keyring.
fn probe_key() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{PROBE_KEY_PREFIX}-{}-{nanos}", std::process::id())
}

/// The OS keyring.
pub struct KeyringStore {
    timeout: Duration,
    /// Set once a call showed the keyring cannot be used; later calls fail fast with it.
    dead: Mutex<Option<Unavailable>>,
}

impl Default for KeyringStore {
    fn default() -> Self {
        KeyringStore::new()
    }
}

/// A keyring error reduced, on the worker thread, to what may cross back: no secret bytes (a
/// `BadEncoding` carries the stored value) and nothing that must be `Send`.
enum Failure {
    NoEntry,
    Platform(String),
    NoAccess(String),
    Entry(String),
}

fn reduce(err: ::keyring::Error) -> Failure {
    use ::keyring::Error as E;
    match err {
        E::NoEntry => Failure::NoEntry,
        E::PlatformFailure(inner) => Failure::Platform(inner.to_string()),
        E::NoStorageAccess(inner) => Failure::NoAccess(inner.to_string()),
        E::BadEncoding(_) => Failure::Entry("the stored value is not UTF-8 text".to_owned()),
        E::Ambiguous(found) => Failure::Entry(format!(
            "{} entries match it; remove the duplicates with your keyring manager",
            found.len()
        )),
        E::TooLong(attr, limit) => {
            Failure::Entry(format!("its {attr} is longer than the limit of {limit}"))
        }
        E::Invalid(attr, reason) => Failure::Entry(format!("its {attr} is invalid: {reason}")),
        other => Failure::Entry(other.to_string()),
    }
}

/// Runs `f` on its own thread and waits at most `deadline` for it. `None` means it did not finish
/// in time (the thread is left to finish or block on its own; it holds no lock of ours).
pub fn run_with_deadline<T: Send + 'static>(
    deadline: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    let (tx, rx) = mpsc::sync_channel(1);
    let spawned = std::thread::Builder::new()
        .name("snconnect-keyring".to_owned())
        .spawn(move || {
            let _ = tx.send(f());
        });
    if spawned.is_err() {
        return None;
    }
    rx.recv_timeout(deadline).ok()
}

/// The platform failure as a cause a user can act on. On the D-Bus platforms the one thing worth
/// telling apart is a missing session bus, which the environment shows without parsing messages.
fn platform_unavailable(detail: String) -> Unavailable {
    if cfg!(any(
        target_os = "linux",
        target_os = "freebsd",
        target_os = "openbsd"
    )) {
        let bus = std::env::var_os("DBUS_SESSION_BUS_ADDRESS");
        if bus.is_none_or(|b| b.is_empty()) {
            Unavailable::NoSessionBus
        } else {
            Unavailable::NoSecretService { detail }
        }
    } else {
        Unavailable::Platform { detail }
    }
}

/// The process-wide keyring, so that one run waits out a blocked keyring at most once however many
/// lookups it makes.
pub fn shared_keyring() -> Box<dyn SecretStore> {
    static SHARED: std::sync::OnceLock<KeyringStore> = std::sync::OnceLock::new();
    Box::new(Shared(SHARED.get_or_init(KeyringStore::new)))
}

struct Shared(&'static KeyringStore);

impl SecretStore for Shared {
    fn backend(&self) -> &'static str {
        self.0.backend()
    }
    fn get(&self, profile: &str, kind: SecretKind) -> Result<Option<SecretString>, StoreError> {
        self.0.get(profile, kind)
    }
    fn set(&self, profile: &str, kind: SecretKind, value: &SecretString) -> Result<(), StoreError> {
        self.0.set(profile, kind, value)
    }
    fn delete(&self, profile: &str, kind: SecretKind) -> Result<bool, StoreError> {
        self.0.delete(profile, kind)
    }
    fn check_available(&self) -> Result<(), StoreError> {
        self.0.check_available()
    }
}

impl KeyringStore {
    pub fn new() -> KeyringStore {
        KeyringStore::with_timeout(DEFAULT_KEYRING_TIMEOUT)
    }

    pub fn with_timeout(timeout: Duration) -> KeyringStore {
        KeyringStore {
            timeout,
            dead: Mutex::new(None),
        }
    }

    fn remember(&self, cause: Unavailable) -> StoreError {
        *self.dead.lock().unwrap_or_else(|p| p.into_inner()) = Some(cause.clone());
        StoreError::Unavailable(cause)
    }

    /// One keyring operation on `key`, with the deadline. The outer error is the store's state; the
    /// inner `Failure::NoEntry`/`Entry` are about this entry only.
    fn call<T: Send + 'static>(
        &self,
        key: String,
        op: impl FnOnce(&::keyring::Entry) -> Result<T, ::keyring::Error> + Send + 'static,
    ) -> Result<Result<T, Failure>, StoreError> {
        if let Some(cause) = self.dead.lock().unwrap_or_else(|p| p.into_inner()).clone() {
            return Err(StoreError::Unavailable(cause));
        }
        let outcome = run_with_deadline(self.timeout, move || {
            ::keyring::Entry::new(SERVICE, &key)
                .and_then(|entry| op(&entry))
                .map_err(reduce)
        });
        match outcome {
            None => Err(self.remember(Unavailable::TimedOut {
                after_secs: self.timeout.as_secs().max(1),
            })),
            Some(Err(Failure::Platform(detail))) => {
                Err(self.remember(platform_unavailable(detail)))
            }
            Some(Err(Failure::NoAccess(detail))) => {
                Err(self.remember(Unavailable::Locked { detail }))
            }
            Some(other) => Ok(other),
        }
    }

    fn entry_error(key: String, detail: String) -> StoreError {
        StoreError::Entry {
            service: SERVICE,
            key,
            detail,
        }
    }
}

impl SecretStore for KeyringStore {
    fn backend(&self) -> &'static str {
        if cfg!(target_os = "macos") {
            "os-keyring (macOS Keychain)"
        } else if cfg!(windows) {
            "os-keyring (Windows Credential Manager)"
        } else {
            "os-keyring (Secret Service)"
        }
    }

    fn get(&self, profile: &str, kind: SecretKind) -> Result<Option<SecretString>, StoreError> {
        let key = entry_key(profile, kind);
        match self.call(key.clone(), |e| e.get_password().map(SecretString::from))? {
            Ok(v) => Ok(Some(v)),
            Err(Failure::NoEntry) => Ok(None),
            Err(Failure::Entry(d) | Failure::Platform(d) | Failure::NoAccess(d)) => {
                Err(Self::entry_error(key, d))
            }
        }
    }

    fn set(&self, profile: &str, kind: SecretKind, value: &SecretString) -> Result<(), StoreError> {
        let key = entry_key(profile, kind);
        // The worker thread needs its own copy; it stays wrapped until the keyring call.
        let value = SecretString::from(value.expose_secret().to_owned());
        match self.call(key.clone(), move |e| e.set_password(value.expose_secret()))? {
            Ok(()) => Ok(()),
            Err(Failure::NoEntry) => Err(Self::entry_error(
                key,
                "the keyring refused to create it".to_owned(),
            )),
            Err(Failure::Entry(d) | Failure::Platform(d) | Failure::NoAccess(d)) => {
                Err(Self::entry_error(key, d))
            }
        }
    }

    fn delete(&self, profile: &str, kind: SecretKind) -> Result<bool, StoreError> {
        let key = entry_key(profile, kind);
        match self.call(key.clone(), |e| e.delete_credential())? {
            Ok(()) => Ok(true),
            Err(Failure::NoEntry) => Ok(false),
            Err(Failure::Entry(d) | Failure::Platform(d) | Failure::NoAccess(d)) => {
                Err(Self::entry_error(key, d))
            }
        }
    }

    /// Writes and removes a throwaway entry: only a write proves a locked keyring will accept one.
    fn check_available(&self) -> Result<(), StoreError> {
        let key = probe_key();
        match self.call(key.clone(), |e| {
            e.set_password("not a secret: snconnect checks that it can write here")?;
            e.delete_credential()
        })? {
            Ok(()) => Ok(()),
            Err(Failure::NoEntry) => Err(Self::entry_error(
                key,
                "the keyring accepted the write but could not find the entry".to_owned(),
            )),
            Err(Failure::Entry(d) | Failure::Platform(d) | Failure::NoAccess(d)) => {
                Err(Self::entry_error(key, d))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_that_outlives_its_deadline_is_abandoned() {
        let start = std::time::Instant::now();
        let out = run_with_deadline(Duration::from_millis(50), || {
            std::thread::sleep(Duration::from_secs(5));
            1
        });
        assert_eq!(out, None);
        assert!(start.elapsed() < Duration::from_secs(2));
        assert_eq!(run_with_deadline(Duration::from_secs(5), || 7), Some(7));
    }

    #[test]
    fn a_remembered_unavailability_fails_fast_without_calling_the_keyring() {
        let store = KeyringStore::with_timeout(Duration::from_secs(30));
        store.remember(Unavailable::TimedOut { after_secs: 30 });
        let start = std::time::Instant::now();
        let err = store.get("acme", SecretKind::Password).unwrap_err();
        assert!(start.elapsed() < Duration::from_secs(1));
        assert_eq!(
            err.unavailable(),
            Some(&Unavailable::TimedOut { after_secs: 30 })
        );
        assert!(err.to_string().contains("did not answer within 30 s"));
    }

    #[test]
    fn probe_keys_differ_between_processes_and_never_look_like_a_profile() {
        let key = probe_key();
        assert!(key.starts_with(PROBE_KEY_PREFIX));
        assert!(key.contains(&std::process::id().to_string()));
        assert!(crate::credentials::validate_profile_name(&key).is_err());
    }

    #[test]
    fn a_value_that_is_not_text_is_reported_without_its_bytes() {
        match reduce(::keyring::Error::BadEncoding(b"hunter2\xff".to_vec())) {
            Failure::Entry(d) => assert!(!d.contains("hunter2"), "{d}"),
            _ => panic!("BadEncoding must be an entry problem"),
        }
    }
}
