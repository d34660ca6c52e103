//! What earlier runs learned the hard way: credentials the instance refused.
//!
//! ServiceNow counts failed logins and locks an account at its threshold. A cron job or a CI retry
//! with a stale password would spend one failed login per run and lock the service user within a
//! few runs. So a refusal is remembered, keyed by a fingerprint of what was tried (instance, user,
//! client id and the secrets), and the next run with the same fingerprint makes no attempt until
//! the credentials change or the user says `--retry-refused`. A successful grant forgets it.
//!
//! The fingerprint is an HMAC-SHA256 under a random key of this installation, never the secret
//! and never a plain hash of it: a plain hash of a password is a dictionary attack away from the
//! password, while without the key the fingerprint says nothing. The key and the list live in the
//! state directory, both 0600.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use rand::rngs::OsRng;
use rand::TryRngCore;
use sha2::Sha256;

use super::fsutil::{ensure_private_dir, write_private_atomically};

/// Overrides the state directory (tests; installations that keep state elsewhere).
pub const STATE_DIR_ENV: &str = "SNCONNECT_STATE_DIR";

/// snconnect's state directory: `SNCONNECT_STATE_DIR` if set, else the platform's
/// (`~/.local/state/snconnect`; where a platform has none, its local data directory).
pub fn state_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os(STATE_DIR_ENV).filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    let dirs = directories::ProjectDirs::from("", "", "snconnect")?;
    Some(
        dirs.state_dir()
            .unwrap_or_else(|| dirs.data_local_dir())
            .to_path_buf(),
    )
}

/// The refusals remembered in one state directory.
#[derive(Debug, Clone)]
pub struct Refusals {
    dir: PathBuf,
}

/// The remembered refusals: fingerprint → unix seconds of the refusal.
type Ledger = BTreeMap<String, u64>;

impl Refusals {
    /// `SNCONNECT_STATE_DIR` if set, else the platform's state directory for snconnect
    /// (`~/.local/state/snconnect`; where a platform has none, its local data directory).
    pub fn resolve() -> Option<Refusals> {
        state_dir().map(Refusals::at)
    }

    pub fn at(dir: PathBuf) -> Refusals {
        Refusals { dir }
    }

    fn key_path(&self) -> PathBuf {
        self.dir.join("fingerprint.key")
    }

    fn ledger_path(&self) -> PathBuf {
        self.dir.join("refused.json")
    }

    /// This installation's key, if it has one yet (none exists before the first refusal).
    fn existing_key(&self) -> std::io::Result<Option<Vec<u8>>> {
        match std::fs::read(self.key_path()) {
            Ok(key) if key.len() == 32 => Ok(Some(key)),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// This installation's key, made on first use from the OS random source.
    fn key(&self) -> std::io::Result<Vec<u8>> {
        if let Some(key) = self.existing_key()? {
            return Ok(key);
        }
        let mut key = vec![0u8; 32];
        OsRng
            .try_fill_bytes(&mut key)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        ensure_private_dir(&self.dir).map_err(|e| std::io::Error::other(e.to_string()))?;
        write_private_atomically(&self.key_path(), &key)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        Ok(key)
    }

    /// The keyed fingerprint of what a login tries. Each part is length-prefixed, so no two
    /// different lists of parts can give the same input.
    fn mac(key: &[u8], parts: &[&[u8]]) -> std::io::Result<String> {
        let mut mac = Hmac::<Sha256>::new_from_slice(key)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        for part in parts {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        Ok(mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect())
    }

    /// The fingerprint of `parts`, making the key if there is none yet.
    pub fn fingerprint(&self, parts: &[&[u8]]) -> std::io::Result<String> {
        Refusals::mac(&self.key()?, parts)
    }

    fn read(&self) -> Ledger {
        std::fs::read(self.ledger_path())
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    fn write(&self, ledger: &Ledger) -> std::io::Result<()> {
        ensure_private_dir(&self.dir).map_err(|e| std::io::Error::other(e.to_string()))?;
        let bytes = serde_json::to_vec_pretty(ledger).map_err(std::io::Error::other)?;
        write_private_atomically(&self.ledger_path(), &bytes)
            .map_err(|e| std::io::Error::other(e.to_string()))
    }

    /// When what `parts` describe was refused, if it was. Writes nothing: before the first
    /// refusal there is no key and no list, and a run that is never refused leaves no trace.
    pub fn refused_at(&self, parts: &[&[u8]]) -> Option<u64> {
        let key = self.existing_key().ok()??;
        let fingerprint = Refusals::mac(&key, parts).ok()?;
        self.read().get(&fingerprint).copied()
    }

    /// Remembers that what `parts` describe was refused now.
    pub fn record(&self, parts: &[&[u8]]) -> std::io::Result<()> {
        let fingerprint = self.fingerprint(parts)?;
        let mut ledger = self.read();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        ledger.insert(fingerprint, now);
        self.write(&ledger)
    }

    /// Forgets what `parts` describe (its credentials just worked).
    pub fn clear(&self, parts: &[&[u8]]) -> std::io::Result<()> {
        let Some(key) = self.existing_key()? else {
            return Ok(());
        };
        let fingerprint = Refusals::mac(&key, parts)?;
        let mut ledger = self.read();
        if ledger.remove(&fingerprint).is_some() {
            self.write(&ledger)?;
        }
        Ok(())
    }

    /// The state directory, for messages.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_is_remembered_by_a_keyed_fingerprint_and_forgotten_on_success() {
        let tmp = tempfile::tempdir().unwrap();
        let r = Refusals::at(tmp.path().join("state"));
        let parts: [&[u8]; 3] = [b"https://acme", b"incident.io", b"pw"];
        assert_eq!(r.refused_at(&parts), None);
        assert!(
            !r.dir().exists(),
            "a lookup before any refusal writes nothing"
        );
        let fp = r.fingerprint(&parts).unwrap();
        assert_eq!(fp.len(), 64);
        assert_eq!(r.fingerprint(&parts).unwrap(), fp);
        assert_ne!(
            r.fingerprint(&[b"https://acme", b"incident.io", b"pw2"])
                .unwrap(),
            fp
        );
        // Length prefixes keep ("ab","c") and ("a","bc") apart.
        assert_ne!(
            r.fingerprint(&[b"ab", b"c"]).unwrap(),
            r.fingerprint(&[b"a", b"bc"]).unwrap()
        );
        r.record(&parts).unwrap();
        assert!(r.refused_at(&parts).is_some());
        assert_eq!(
            r.refused_at(&[b"https://acme", b"incident.io", b"pw2"]),
            None
        );
        let ledger = std::fs::read_to_string(r.ledger_path()).unwrap();
        assert!(ledger.contains(&fp) && !ledger.contains("pw"), "{ledger}");
        r.clear(&parts).unwrap();
        assert_eq!(r.refused_at(&parts), None);
    }

    #[test]
    fn another_installation_fingerprints_the_same_secret_differently() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let fa = Refusals::at(a.path().to_path_buf())
            .fingerprint(&[b"pw"])
            .unwrap();
        let fb = Refusals::at(b.path().to_path_buf())
            .fingerprint(&[b"pw"])
            .unwrap();
        assert_ne!(fa, fb, "the key is random per installation");
    }

    #[cfg(unix)]
    #[test]
    fn key_and_ledger_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let r = Refusals::at(tmp.path().join("state"));
        r.record(&[b"x"]).unwrap();
        for p in [r.key_path(), r.ledger_path()] {
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", p.display());
        }
    }
}
