//! Writes what setup learned — the profile's values and its secrets — all together or not at all.
//!
//! A half-written profile is worse than none: the next `verify` would pair a new client secret
//! with an old password and report a confusing `access_denied`. So every earlier value is read
//! first (a store that cannot be read stops everything before the first write), each write that
//! fails rolls the earlier ones back, and the profile file is written last. Callers at a terminal
//! hold `ui::interrupt::critical` around it, so Ctrl-C waits until the whole write is done.
//!
//! This is the one path by which setup, apply and the wizard write a profile or its secrets.

use std::path::PathBuf;

use secrecy::SecretString;

use crate::credentials::{ConfigDir, Profile, SecretKind, SecretStore, StoreError};
use crate::exit::UserError;

/// Everything one setup run stores.
pub struct ToStore {
    pub profile: Profile,
    pub secrets: Vec<(SecretKind, SecretString)>,
    /// Secrets to remove (an admin password the person no longer wants kept).
    pub remove: Vec<SecretKind>,
}

impl std::fmt::Debug for ToStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kinds: Vec<SecretKind> = self.secrets.iter().map(|(k, _)| *k).collect();
        f.debug_struct("ToStore")
            .field("profile", &self.profile)
            .field("secrets", &kinds)
            .field("remove", &self.remove)
            .finish()
    }
}

/// Where things went.
#[derive(Debug, Clone)]
pub struct Stored {
    pub backend: &'static str,
    pub profile_path: PathBuf,
    pub kinds: Vec<SecretKind>,
    /// Each written secret's value before this write (`None`: there was none), so a caller can
    /// put it back with [`put_back`] when what it stored turned out not to be used.
    pub earlier: Vec<(SecretKind, Option<SecretString>)>,
}

impl Stored {
    /// What was stored, as the words a message uses ("OAuth client secret", …).
    pub fn labels(&self) -> Vec<&'static str> {
        self.kinds.iter().map(|k| k.label()).collect()
    }
}

/// Writes `what`, rolling back on any failure. The error says what failed, that nothing was
/// changed (or, if the rollback failed too, what may be left), and how to look.
pub fn store_all(
    store: Option<&dyn SecretStore>,
    dir: &ConfigDir,
    what: &ToStore,
) -> Result<Stored, UserError> {
    let profile = &what.profile.name;
    // Only the profile file: no secret store is needed (and none is opened, so a machine without
    // a keyring can still remember the instance and the client id).
    let Some(store) = store.filter(|_| !what.secrets.is_empty() || !what.remove.is_empty()) else {
        if !what.secrets.is_empty() || !what.remove.is_empty() {
            return Err(UserError::cannot_run(format!(
                "no secret store is open for profile '{profile}'; nothing was written"
            )));
        }
        dir.save_profile(&what.profile).map_err(|e| {
            UserError::cannot_run(format!("could not save profile '{profile}': {e:#}"))
        })?;
        return Ok(Stored {
            backend: "none",
            profile_path: dir.profile_path(profile),
            kinds: Vec::new(),
            earlier: Vec::new(),
        });
    };
    let nothing = |e: &dyn std::fmt::Display| {
        UserError::cannot_run(format!(
            "could not store the credentials of profile '{profile}' in {}: {e}; nothing was \
             written",
            store.backend()
        ))
    };
    store.check_available().map_err(|e| nothing(&e))?;

    // Everything we might touch, with its value before, read before the first write.
    let mut before: Vec<(SecretKind, Option<SecretString>)> = Vec::new();
    for kind in what
        .secrets
        .iter()
        .map(|(k, _)| *k)
        .chain(what.remove.iter().copied())
    {
        let old = store.get(profile, kind).map_err(|e| nothing(&e))?;
        before.push((kind, old));
    }

    let mut touched: Vec<SecretKind> = Vec::new();
    let fail = |touched: &[SecretKind], what_failed: String| -> UserError {
        let problems = roll_back(store, profile, &before, touched);
        if problems.is_empty() {
            UserError::cannot_run(format!(
                "{what_failed}; the earlier values were put back, so nothing changed"
            ))
        } else {
            UserError::cannot_run(format!(
                "{what_failed}; putting the earlier values back failed too ({}); run `snconnect \
                 credentials show --profile {profile}` to see what is stored",
                problems.join("; ")
            ))
        }
    };
    for (kind, value) in &what.secrets {
        if let Err(e) = store.set(profile, *kind, value) {
            return Err(fail(
                &touched,
                format!(
                    "could not store the {} of profile '{profile}' in {}: {e}",
                    kind.label(),
                    store.backend()
                ),
            ));
        }
        touched.push(*kind);
    }
    for kind in &what.remove {
        if let Err(e) = store.delete(profile, *kind) {
            return Err(fail(
                &touched,
                format!(
                    "could not remove the {} of profile '{profile}' from {}: {e}",
                    kind.label(),
                    store.backend()
                ),
            ));
        }
        touched.push(*kind);
    }
    if let Err(e) = dir.save_profile(&what.profile) {
        return Err(fail(
            &touched,
            format!("could not save profile '{profile}': {e:#}"),
        ));
    }
    Ok(Stored {
        backend: store.backend(),
        profile_path: dir.profile_path(profile),
        kinds: what.secrets.iter().map(|(k, _)| *k).collect(),
        earlier: before,
    })
}

/// Puts `kinds` back to their `earlier` values (from [`Stored::earlier`]): a secret stored for a
/// write that did not happen would be the wrong one at the next login. Goes through
/// [`store_all`], so it is all or nothing like every other write.
pub fn put_back(
    store: &dyn SecretStore,
    dir: &ConfigDir,
    profile: Profile,
    earlier: &[(SecretKind, Option<SecretString>)],
    kinds: &[SecretKind],
) -> Result<Stored, UserError> {
    let mut what = ToStore {
        profile,
        secrets: Vec::new(),
        remove: Vec::new(),
    };
    for (kind, value) in earlier.iter().filter(|(k, _)| kinds.contains(k)) {
        match value {
            Some(v) => what.secrets.push((*kind, v.clone())),
            None => what.remove.push(*kind),
        }
    }
    store_all(Some(store), dir, &what)
}

/// Puts back the earlier value of every touched secret; returns what could not be restored.
fn roll_back(
    store: &dyn SecretStore,
    profile: &str,
    before: &[(SecretKind, Option<SecretString>)],
    touched: &[SecretKind],
) -> Vec<String> {
    let mut problems = Vec::new();
    for kind in touched {
        let old = before
            .iter()
            .find(|(k, _)| k == kind)
            .and_then(|(_, v)| v.as_ref());
        let result: Result<(), StoreError> = match old {
            Some(v) => store.set(profile, *kind, v),
            None => store.delete(profile, *kind).map(|_| ()),
        };
        if let Err(e) = result {
            problems.push(format!("{}: {e}", kind.label()));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use secrecy::ExposeSecret;

    use super::*;
    use crate::credentials::MemoryStore;

    fn s(v: &str) -> SecretString {
        SecretString::from(v.to_string())
    }

    fn what() -> ToStore {
        let mut profile = Profile::new("acme");
        profile.instance = Some("https://acme.service-now.com".into());
        profile.client_id = Some("cid".into());
        ToStore {
            profile,
            secrets: vec![
                (SecretKind::ClientSecret, s("new-secret")),
                (SecretKind::Password, s("new-password")),
            ],
            remove: vec![SecretKind::AdminPassword],
        }
    }

    #[test]
    fn everything_is_written_and_the_unwanted_secret_removed() {
        let dir = tempfile::tempdir().unwrap();
        let dir = ConfigDir::at(dir.path().to_path_buf());
        let store = MemoryStore::new();
        store
            .set("acme", SecretKind::AdminPassword, &s("old-admin"))
            .unwrap();
        let stored = store_all(Some(&store), &dir, &what()).unwrap();
        assert_eq!(stored.backend, "memory");
        let got = store.get("acme", SecretKind::Password).unwrap().unwrap();
        assert_eq!(got.expose_secret(), "new-password");
        assert!(store
            .get("acme", SecretKind::AdminPassword)
            .unwrap()
            .is_none());
        let p = dir.load_profile("acme").unwrap().unwrap();
        assert_eq!(p.client_id.as_deref(), Some("cid"));
    }

    /// Fails the n-th `set`, to prove what came before is rolled back.
    struct FailingStore {
        inner: MemoryStore,
        sets_before_failure: AtomicUsize,
    }

    impl SecretStore for FailingStore {
        fn backend(&self) -> &'static str {
            "failing"
        }
        fn get(&self, p: &str, k: SecretKind) -> Result<Option<SecretString>, StoreError> {
            self.inner.get(p, k)
        }
        fn set(&self, p: &str, k: SecretKind, v: &SecretString) -> Result<(), StoreError> {
            if self.sets_before_failure.fetch_sub(1, Ordering::SeqCst) == 0 {
                return Err(StoreError::Config("disk full".into()));
            }
            self.inner.set(p, k, v)
        }
        fn delete(&self, p: &str, k: SecretKind) -> Result<bool, StoreError> {
            self.inner.delete(p, k)
        }
        fn check_available(&self) -> Result<(), StoreError> {
            Ok(())
        }
    }

    #[test]
    fn a_failed_write_puts_every_earlier_value_back_and_writes_no_profile() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = ConfigDir::at(tmp.path().to_path_buf());
        let store = FailingStore {
            inner: MemoryStore::new(),
            // the seeding set, then the first new secret; the second new secret fails
            sets_before_failure: AtomicUsize::new(2),
        };
        store
            .set("acme", SecretKind::ClientSecret, &s("old-secret"))
            .unwrap();
        let err = store_all(Some(&store), &dir, &what()).unwrap_err();
        assert!(
            err.message.contains("service user password"),
            "{}",
            err.message
        );
        assert!(err.message.contains("nothing changed"), "{}", err.message);
        assert!(!err.message.contains("new-"), "no secret in the message");
        let kept = store
            .get("acme", SecretKind::ClientSecret)
            .unwrap()
            .unwrap();
        assert_eq!(kept.expose_secret(), "old-secret");
        assert!(store.get("acme", SecretKind::Password).unwrap().is_none());
        assert!(dir.load_profile("acme").unwrap().is_none());
    }

    #[test]
    fn an_unavailable_store_writes_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = ConfigDir::at(tmp.path().to_path_buf());
        let store = MemoryStore::unavailable(crate::credentials::Unavailable::NoSessionBus);
        let err = store_all(Some(&store), &dir, &what()).unwrap_err();
        assert_eq!(err.exit, crate::exit::Exit::CannotRun);
        assert!(
            err.message.contains("nothing was written"),
            "{}",
            err.message
        );
        assert!(dir.load_profile("acme").unwrap().is_none());
    }
}
