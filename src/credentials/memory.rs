//! An in-memory store for unit tests elsewhere in the crate: no keyring, no files, and a way to
//! play an unreachable keyring.

use std::collections::HashMap;
use std::sync::Mutex;

use secrecy::{ExposeSecret, SecretString};

use super::{SecretKind, SecretStore, StoreError, Unavailable};

/// Keeps secrets in a map for the life of the value. Clones of a secret stay `SecretString`.
#[derive(Default)]
pub struct MemoryStore {
    entries: Mutex<HashMap<(String, SecretKind), SecretString>>,
    unavailable: Option<Unavailable>,
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// A store that fails every call the way an unreachable keyring does.
    pub fn unavailable(cause: Unavailable) -> MemoryStore {
        MemoryStore {
            entries: Mutex::default(),
            unavailable: Some(cause),
        }
    }

    fn reachable(&self) -> Result<(), StoreError> {
        match &self.unavailable {
            Some(cause) => Err(StoreError::Unavailable(cause.clone())),
            None => Ok(()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, SecretKind), SecretString>> {
        // A panic in another test thread while holding the lock leaves the map itself intact.
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl SecretStore for MemoryStore {
    fn backend(&self) -> &'static str {
        "memory"
    }

    fn get(&self, profile: &str, kind: SecretKind) -> Result<Option<SecretString>, StoreError> {
        self.reachable()?;
        Ok(self
            .lock()
            .get(&(profile.to_owned(), kind))
            .map(|s| SecretString::from(s.expose_secret().to_owned())))
    }

    fn set(&self, profile: &str, kind: SecretKind, value: &SecretString) -> Result<(), StoreError> {
        self.reachable()?;
        self.lock().insert(
            (profile.to_owned(), kind),
            SecretString::from(value.expose_secret().to_owned()),
        );
        Ok(())
    }

    fn delete(&self, profile: &str, kind: SecretKind) -> Result<bool, StoreError> {
        self.reachable()?;
        Ok(self.lock().remove(&(profile.to_owned(), kind)).is_some())
    }

    fn check_available(&self) -> Result<(), StoreError> {
        self.reachable()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_reads_and_deletes_per_profile_and_kind() {
        let store = MemoryStore::new();
        let v = SecretString::from("s3cret".to_owned());
        store.set("a", SecretKind::Password, &v).unwrap();
        assert_eq!(
            store
                .get("a", SecretKind::Password)
                .unwrap()
                .unwrap()
                .expose_secret(),
            "s3cret"
        );
        assert!(store.get("a", SecretKind::ClientSecret).unwrap().is_none());
        assert!(store.get("b", SecretKind::Password).unwrap().is_none());
        assert!(store.delete("a", SecretKind::Password).unwrap());
        assert!(!store.delete("a", SecretKind::Password).unwrap());
    }

    #[test]
    fn an_unavailable_store_fails_every_call_with_its_cause() {
        let store = MemoryStore::unavailable(Unavailable::NoSessionBus);
        let v = SecretString::from("x".to_owned());
        assert!(store.check_available().is_err());
        assert!(store.get("a", SecretKind::Password).is_err());
        assert!(store.set("a", SecretKind::Password, &v).is_err());
        assert!(matches!(
            store.delete("a", SecretKind::Password),
            Err(StoreError::Unavailable(Unavailable::NoSessionBus))
        ));
    }
}
