//! The plain-file backend behind `--insecure-storage`: secrets in a 0600 TOML file, one table per
//! profile. Used only when the user asked for it and no keyring is reachable; it says on stderr
//! where the secrets went once its first write succeeded, so it is never chosen silently. Writes
//! lock the file against other processes, re-read and merge, and go through a 0600 temporary file
//! renamed into place; a symbolic link, or a file or directory others may write, is refused.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use secrecy::{ExposeSecret, SecretString};

use super::fsutil::write_private_atomically;
use super::{SecretKind, SecretStore, StoreError};

type Table = BTreeMap<String, BTreeMap<String, String>>;

/// Secrets in a plain-text file readable only by its owner.
pub struct PlainFileStore {
    path: PathBuf,
    notice: Box<dyn Fn(&str) + Send + Sync>,
    announced: AtomicBool,
    /// Serialises read-modify-write within this process.
    lock: Mutex<()>,
}

impl PlainFileStore {
    /// A store at `path` that announces itself on stderr before its first write.
    pub fn new(path: PathBuf) -> PlainFileStore {
        PlainFileStore {
            path,
            notice: Box::new(|line| eprintln!("{line}")),
            announced: AtomicBool::new(false),
            lock: Mutex::new(()),
        }
    }

    /// Sends the announcement somewhere else (tests; a UI that owns stderr).
    pub fn with_notice(mut self, notice: impl Fn(&str) + Send + Sync + 'static) -> PlainFileStore {
        self.notice = Box::new(notice);
        self
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read(&self) -> Result<Table, StoreError> {
        let text =
            match crate::localfile::read_small_text(&self.path, crate::localfile::MAX_LOCAL_FILE) {
                Ok(t) => t,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Table::new()),
                Err(source) => {
                    return Err(StoreError::Io {
                        action: "read",
                        path: self.path.clone(),
                        source,
                    })
                }
            };
        // The parser's message can quote the offending line, which may be a secret: keep only
        // where it is.
        toml::from_str(&text).map_err(|e| StoreError::Corrupt {
            path: self.path.clone(),
            detail: match e.span() {
                Some(span) => {
                    let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
                    format!("not valid TOML at line {line}")
                }
                None => "not valid TOML".to_owned(),
            },
        })
    }

    fn write(&self, table: &Table) -> Result<(), StoreError> {
        if table.is_empty() {
            return match fs::remove_file(&self.path) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(source) => Err(StoreError::Io {
                    action: "remove",
                    path: self.path.clone(),
                    source,
                }),
            };
        }
        let body = toml::to_string(table).map_err(|e| StoreError::Corrupt {
            path: self.path.clone(),
            detail: format!("could not encode: {e}"),
        })?;
        let text = format!(
            "# snconnect secrets in PLAIN TEXT, written because --insecure-storage was given.\n\
             # Remove them with `snconnect credentials forget --profile NAME`.\n{body}"
        );
        write_private_atomically(&self.path, text.as_bytes())
    }

    fn guard(&self) -> std::sync::MutexGuard<'_, ()> {
        self.lock.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The lock between processes: an advisory lock on `<file>.lock` beside the file, exclusive
    /// for a read-modify-write, shared for a read. Several applies to several instances sharing one
    /// file otherwise read the same old contents and each wrote back its own profile alone,
    /// losing the others' secrets after the instances had been set to them.
    fn file_lock(&self, exclusive: bool) -> Result<fs::File, StoreError> {
        let lock_path = self.path.with_extension("toml.lock");
        let dir = self.path.parent().unwrap_or_else(|| Path::new("."));
        super::fsutil::ensure_private_dir(dir)?;
        let mut options = fs::OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let io = |action: &'static str| {
            let path = lock_path.clone();
            move |source| StoreError::Io {
                action,
                path,
                source,
            }
        };
        let file = options.open(&lock_path).map_err(io("open the lock"))?;
        if exclusive {
            file.lock().map_err(io("lock"))?;
        } else {
            file.lock_shared().map_err(io("lock"))?;
        }
        Ok(file)
    }

    /// Refuses a secrets file that is a symbolic link (it would be replaced, and its target's
    /// contents copied into the new file), and a file or directory others may write (as ssh does
    /// with its keys: someone else could swap the secrets under the user).
    fn refuse_unsafe(&self) -> Result<(), StoreError> {
        if let Ok(meta) = fs::symlink_metadata(&self.path) {
            if meta.file_type().is_symlink() {
                return Err(StoreError::Config(format!(
                    "{} is a symbolic link; snconnect does not follow one for its secrets file: \
                     remove it, or point --insecure-storage's file elsewhere",
                    self.path.display()
                )));
            }
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let dir = self.path.parent().unwrap_or_else(|| Path::new("."));
            for (what, path) in [("file", self.path.as_path()), ("directory", dir)] {
                let Ok(meta) = fs::metadata(path) else {
                    continue;
                };
                if meta.permissions().mode() & 0o022 != 0 {
                    return Err(StoreError::Config(format!(
                        "the secrets {what} {} is writable by other users; make it private \
                         (chmod go-w {}) and run again",
                        path.display(),
                        path.display()
                    )));
                }
            }
        }
        Ok(())
    }
}

impl SecretStore for PlainFileStore {
    fn backend(&self) -> &'static str {
        "plain file (insecure)"
    }

    fn get(&self, profile: &str, kind: SecretKind) -> Result<Option<SecretString>, StoreError> {
        let _g = self.guard();
        if !self.path.exists() {
            return Ok(None);
        }
        let _lock = self.file_lock(false)?;
        let table = self.read()?;
        Ok(table
            .get(profile)
            .and_then(|t| t.get(kind.as_str()))
            .map(|v| SecretString::from(v.clone())))
    }

    fn set(&self, profile: &str, kind: SecretKind, value: &SecretString) -> Result<(), StoreError> {
        let _g = self.guard();
        self.refuse_unsafe()?;
        // Lock, re-read, merge, write beside, rename: what another process wrote meanwhile stays.
        let _lock = self.file_lock(true)?;
        let mut table = self.read()?;
        table
            .entry(profile.to_owned())
            .or_default()
            .insert(kind.as_str().to_owned(), value.expose_secret().to_owned());
        self.write(&table)?;
        // Said once the write succeeded, never before.
        if !self.announced.swap(true, Ordering::SeqCst) {
            (self.notice)(&format!(
                "stored secrets in {} in plain text because --insecure-storage was given",
                self.path.display()
            ));
        }
        Ok(())
    }

    fn delete(&self, profile: &str, kind: SecretKind) -> Result<bool, StoreError> {
        let _g = self.guard();
        if !self.path.exists() {
            return Ok(false);
        }
        self.refuse_unsafe()?;
        let _lock = self.file_lock(true)?;
        let mut table = self.read()?;
        let Some(entries) = table.get_mut(profile) else {
            return Ok(false);
        };
        if entries.remove(kind.as_str()).is_none() {
            return Ok(false);
        }
        if entries.is_empty() {
            table.remove(profile);
        }
        self.write(&table)?;
        Ok(true)
    }

    /// A file can always be written if its directory can; there is nothing to probe without
    /// writing, and writing before the decision is what this must not do.
    fn check_available(&self) -> Result<(), StoreError> {
        let _g = self.guard();
        self.refuse_unsafe()?;
        self.read().map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    #[test]
    fn announces_on_stderr_once_and_only_after_the_write_succeeded() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("cfg/insecure-secrets.toml");
        let seen: Arc<Mutex<Vec<(String, bool)>>> = Arc::default();
        let (seen2, path2) = (seen.clone(), path.clone());
        let store = PlainFileStore::new(path.clone()).with_notice(move |line| {
            seen2
                .lock()
                .unwrap()
                .push((line.to_owned(), path2.exists()));
        });
        store
            .set("acme", SecretKind::ClientSecret, &secret("one"))
            .unwrap();
        store
            .set("acme", SecretKind::Password, &secret("two"))
            .unwrap();
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1, "{seen:?}");
        let (line, existed) = &seen[0];
        assert!(existed, "the notice came before the file was written");
        assert!(line.contains(&path.display().to_string()), "{line}");
        assert!(line.starts_with("stored secrets in "), "{line}");
        assert!(line.contains("plain text because --insecure-storage was given"));
        assert!(!line.contains("one") && !line.contains("two"));
    }

    #[cfg(unix)]
    #[test]
    fn the_file_is_0600() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("s.toml");
        let store = PlainFileStore::new(path.clone()).with_notice(|_| {});
        store
            .set("acme", SecretKind::Password, &secret("pw"))
            .unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn round_trips_and_removes_the_file_when_empty() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("s.toml");
        let store = PlainFileStore::new(path.clone()).with_notice(|_| {});
        assert!(store.get("acme", SecretKind::Password).unwrap().is_none());
        assert!(!store.delete("acme", SecretKind::Password).unwrap());
        store
            .set(
                "acme.service-now.com",
                SecretKind::Password,
                &secret("p\"w\n="),
            )
            .unwrap();
        store
            .set("b", SecretKind::ClientSecret, &secret("cs"))
            .unwrap();
        // A fresh store reads what another wrote.
        let again = PlainFileStore::new(path.clone());
        assert_eq!(
            again
                .get("acme.service-now.com", SecretKind::Password)
                .unwrap()
                .unwrap()
                .expose_secret(),
            "p\"w\n="
        );
        assert!(again
            .delete("acme.service-now.com", SecretKind::Password)
            .unwrap());
        assert!(path.exists());
        assert!(again.delete("b", SecretKind::ClientSecret).unwrap());
        assert!(!path.exists(), "an empty secrets file is removed");
    }

    #[test]
    fn a_corrupt_file_is_reported_without_quoting_its_contents() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("s.toml");
        fs::write(&path, "[acme]\nclient_secret = \"hunter2-unterminated\n").unwrap();
        let store = PlainFileStore::new(path.clone());
        let err = store
            .get("acme", SecretKind::ClientSecret)
            .unwrap_err()
            .to_string();
        assert!(err.contains("s.toml"), "{err}");
        assert!(err.contains("not valid TOML at line 2"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }

    /// Six writers that share nothing but the file (as six processes would: each its own store,
    /// so the in-process mutex does not help), a hundred rounds: nothing is lost.
    #[test]
    fn concurrent_writers_sharing_one_file_lose_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("insecure-secrets.toml");
        for round in 0..100 {
            std::thread::scope(|scope| {
                for w in 0..6 {
                    let path = path.clone();
                    scope.spawn(move || {
                        let store = PlainFileStore::new(path).with_notice(|_| {});
                        store
                            .set(
                                &format!("p{w}"),
                                SecretKind::Password,
                                &secret(&format!("r{round}-w{w}")),
                            )
                            .unwrap();
                    });
                }
            });
            let store = PlainFileStore::new(path.clone()).with_notice(|_| {});
            for w in 0..6 {
                let got = store.get(&format!("p{w}"), SecretKind::Password).unwrap();
                assert_eq!(
                    got.map(|s| s.expose_secret().to_owned()).as_deref(),
                    Some(format!("r{round}-w{w}").as_str()),
                    "round {round}: writer {w}'s secret was lost"
                );
            }
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_or_group_writable_secrets_file_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("elsewhere");
        fs::write(&target, "not snconnect's").unwrap();
        let link = tmp.path().join("s.toml");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let store = PlainFileStore::new(link).with_notice(|_| {});
        let err = store
            .set("acme", SecretKind::Password, &secret("pw"))
            .unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        assert_eq!(fs::read_to_string(&target).unwrap(), "not snconnect's");

        let open = tmp.path().join("open");
        fs::create_dir(&open).unwrap();
        fs::set_permissions(&open, fs::Permissions::from_mode(0o777)).unwrap();
        let store = PlainFileStore::new(open.join("s.toml")).with_notice(|_| {});
        let err = store
            .set("acme", SecretKind::Password, &secret("pw"))
            .unwrap_err();
        assert!(err.to_string().contains("writable by other users"), "{err}");
    }
}
