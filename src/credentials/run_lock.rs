//! One changing run per profile on this machine at a time.
//!
//! Two `apply` runs against the same instance at once each looked for the OAuth entry and the
//! user, found none, and each created one: two active `incident.io` entries and two users. An
//! advisory lock per profile in the state directory makes the second run wait until the first is
//! done (saying who holds it), and then find what the first created. Runs on other machines are not
//! covered by it; apply's lookup by natural key right before each insert is what narrows that race.

use std::fs::{self, File};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

/// Held while a run may change the instance and the profile; released when dropped.
#[derive(Debug)]
pub struct RunLock {
    _file: File,
    path: PathBuf,
}

/// The lock file `name` in `state_dir`, opened (not locked).
fn open(state_dir: &Path, name: &str) -> std::io::Result<(File, PathBuf)> {
    let dir = state_dir.join("locks");
    fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{name}.lock"));
    let file = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)?;
    Ok((file, path))
}

/// Who holds `file`'s lock, as the holder wrote it.
fn holder(file: &mut File) -> String {
    let mut text = String::new();
    let _ = file.read_to_string(&mut text);
    match text.trim() {
        "" => "another snconnect run".to_string(),
        pid => format!("another snconnect run (pid {pid})"),
    }
}

impl RunLock {
    /// Takes the lock of `profile` in `state_dir`, waiting for another holder; `on_wait` is told
    /// once, with who holds it, before the wait.
    pub fn acquire(
        state_dir: &Path,
        profile: &str,
        on_wait: impl FnOnce(&str),
    ) -> std::io::Result<RunLock> {
        let (mut file, path) = open(state_dir, profile)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                on_wait(&format!(
                    "{} is changing profile '{profile}'; waiting for it to finish ({})",
                    holder(&mut file),
                    path.display()
                ));
                file.lock()?;
            }
            Err(fs::TryLockError::Error(e)) => return Err(e),
        }
        Self::held(file, path)
    }

    /// Takes the lock `name` in `state_dir` if it is free; `Ok(Err(who))` says who holds it. For
    /// a scheduled `verify`, which ends at once rather than queue behind the run before it.
    pub fn try_acquire(state_dir: &Path, name: &str) -> std::io::Result<Result<RunLock, String>> {
        let (mut file, path) = open(state_dir, name)?;
        match file.try_lock() {
            Ok(()) => Self::held(file, path).map(Ok),
            Err(fs::TryLockError::WouldBlock) => Ok(Err(holder(&mut file))),
            Err(fs::TryLockError::Error(e)) => Err(e),
        }
    }

    fn held(mut file: File, path: PathBuf) -> std::io::Result<RunLock> {
        file.set_len(0)?;
        file.rewind()?;
        let _ = write!(file, "{}", std::process::id());
        let _ = file.flush();
        Ok(RunLock { _file: file, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_waits_and_is_told_who_holds_it() {
        let tmp = tempfile::tempdir().unwrap();
        let first =
            RunLock::acquire(tmp.path(), "acme", |_| panic!("nobody holds it yet")).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let dir = tmp.path().to_path_buf();
        let waiter = std::thread::spawn(move || {
            let lock = RunLock::acquire(&dir, "acme", |msg| tx.send(msg.to_string()).unwrap());
            lock.map(|_| ())
        });
        let said = rx.recv().unwrap();
        assert!(
            said.contains(&format!("pid {}", std::process::id())),
            "{said}"
        );
        assert!(said.contains("profile 'acme'"), "{said}");
        drop(first);
        waiter.join().unwrap().unwrap();
        // Another profile is not held up.
        RunLock::acquire(tmp.path(), "other", |_| panic!("other profiles are free")).unwrap();
    }
}
