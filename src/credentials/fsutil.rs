//! Writing files that may hold secrets: private from the first byte, replaced atomically.

use std::fs;
use std::io::Write;
use std::path::Path;

use super::StoreError;

/// Creates `dir` (and its parents) private to the user when it does not exist yet. An existing
/// directory keeps its permissions: narrowing them is the user's call, widening them never ours.
pub(crate) fn ensure_private_dir(dir: &Path) -> Result<(), StoreError> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|source| StoreError::Io {
        action: "create the directory",
        path: dir.to_path_buf(),
        source,
    })
}

/// Writes `contents` to `path` through a temporary file in the same directory that is created with
/// mode 0600 (so the bytes are never readable by others, not even briefly) and then renamed over
/// the target, so a reader sees the old file or the new one, never half of one.
pub(crate) fn write_private_atomically(path: &Path, contents: &[u8]) -> Result<(), StoreError> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    ensure_private_dir(dir)?;
    write_atomically(path, contents, 0o600)
}

/// The same replacement for a file others may read (`mode`, e.g. 0644 for a metrics file that a
/// collector running as another user reads). The directory must exist.
pub(crate) fn write_atomically(path: &Path, contents: &[u8], mode: u32) -> Result<(), StoreError> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    #[cfg(not(unix))]
    let _ = mode;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "snconnect".to_owned());
    let io = |action: &'static str, p: &Path| {
        let p = p.to_path_buf();
        move |source| StoreError::Io {
            action,
            path: p,
            source,
        }
    };
    // Unique per process and call, so concurrent writers never share a temporary file.
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.join(format!(".{file_name}.{}.{n}.tmp", std::process::id()));
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    let result = (|| {
        let mut f = options.open(&tmp).map_err(io("create", &tmp))?;
        f.write_all(contents).map_err(io("write", &tmp))?;
        f.sync_all().map_err(io("write", &tmp))?;
        drop(f);
        fs::rename(&tmp, path).map_err(io("replace", path))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn files_are_0600_and_new_dirs_0700() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("a/b/file.toml");
        write_private_atomically(&path, b"x = 1\n").unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let dir_mode = fs::metadata(tmp.path().join("a/b"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(dir_mode, 0o700);
    }

    #[cfg(unix)]
    #[test]
    fn replacing_a_world_readable_file_leaves_it_0600() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("file.toml");
        fs::write(&path, "old").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        write_private_atomically(&path, b"new").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new");
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        // No temporary file is left behind.
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 1);
    }
}
