//! Reading the local files snconnect is pointed at (`--ca-cert`, profiles, the plain secrets
//! file): regular files only and at most [`MAX_LOCAL_FILE`] bytes, so a device such as
//! `/dev/zero`, a FIFO or a huge file is refused before it is read instead of filling memory.

use std::io::{self, Read};
use std::path::Path;

/// The most of a local file that is read. Each of these files is a few kilobytes.
pub const MAX_LOCAL_FILE: u64 = 1 << 20;

/// The whole of `path`, when it is a regular file of at most `limit` bytes. A missing file keeps
/// its `NotFound` error; anything else that is refused is `InvalidData` with the reason.
pub fn read_small_file(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let refused = |why: String| io::Error::new(io::ErrorKind::InvalidData, why);
    let too_large = || refused(format!("larger than {} KiB", limit >> 10));
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(refused("not a regular file".into()));
    }
    if meta.len() > limit {
        return Err(too_large());
    }
    let mut out = Vec::new();
    // The file can grow between the size check and the read: read one byte past the limit.
    std::fs::File::open(path)?
        .take(limit + 1)
        .read_to_end(&mut out)?;
    if out.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(out)
}

/// [`read_small_file`] as UTF-8 text.
pub fn read_small_text(path: &Path, limit: u64) -> io::Result<String> {
    String::from_utf8(read_small_file(path, limit)?)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "not UTF-8 text"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_directories_and_large_files_are_refused_unread() {
        let dir = tempfile::tempdir().unwrap();
        let small = dir.path().join("small");
        std::fs::write(&small, "ok").unwrap();
        assert_eq!(read_small_text(&small, 10).unwrap(), "ok");
        let big = dir.path().join("big");
        std::fs::write(&big, "x".repeat(11)).unwrap();
        let e = read_small_file(&big, 10).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        assert!(e.to_string().contains("larger than"), "{e}");
        let e = read_small_file(dir.path(), 10).unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
        #[cfg(unix)]
        {
            let e = read_small_file(Path::new("/dev/zero"), MAX_LOCAL_FILE).unwrap_err();
            assert!(e.to_string().contains("not a regular file"), "{e}");
        }
        let e = read_small_file(&dir.path().join("missing"), 10).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
    }
}
