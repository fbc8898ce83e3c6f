//! The configuration backup (`config.backup.path`): the last applied document, written
//! atomically (temporary file, fsync, rename, fsync of the folder) behind a header line carrying
//! its length and SHA-256, so a torn or tampered file is refused whole, never half-used.

use std::fs;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

const FILE: &str = "ringgate-config.backup";
const MAGIC: &str = "ringgate-backup 1";

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("no backup at {0}")]
    Missing(PathBuf),
    #[error("backup {path}: {error}")]
    Io { path: PathBuf, error: std::io::Error },
    #[error("backup {path} is corrupt: {reason}")]
    Corrupt { path: PathBuf, reason: &'static str },
}

pub fn path(dir: &Path) -> PathBuf {
    dir.join(FILE)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn write(dir: &Path, document: &[u8], revision: &str) -> Result<(), BackupError> {
    let target = path(dir);
    let digest = hex(&Sha256::digest(document));
    let revision: String = revision.chars().filter(|c| !c.is_whitespace()).collect();
    let mut bytes = format!("{MAGIC} sha256={digest} bytes={} revision={revision}\n", document.len()).into_bytes();
    bytes.extend_from_slice(document);
    crate::fsutil::write_private(&target, &bytes).map_err(|error| BackupError::Io { path: target.clone(), error })
}

/// The backed-up document, checked against its header.
pub fn read(dir: &Path) -> Result<Vec<u8>, BackupError> {
    let target = path(dir);
    let mut bytes = match fs::read(&target) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(BackupError::Missing(target)),
        Err(error) => return Err(BackupError::Io { path: target, error }),
    };
    let corrupt = |reason| BackupError::Corrupt { path: target.clone(), reason };
    let nl = memchr::memchr(b'\n', &bytes).ok_or_else(|| corrupt("no header line"))?;
    let header = std::str::from_utf8(&bytes[..nl]).map_err(|_| corrupt("header is not text"))?;
    let rest = header.strip_prefix(MAGIC).ok_or_else(|| corrupt("not a ringgate backup"))?;
    let field =
        |name: &str| rest.split_whitespace().find_map(|kv| kv.strip_prefix(name).and_then(|v| v.strip_prefix('=')));
    let digest = field("sha256").ok_or_else(|| corrupt("no checksum"))?.to_string();
    let len: usize = field("bytes").and_then(|v| v.parse().ok()).ok_or_else(|| corrupt("no length"))?;
    let document = bytes.split_off(nl + 1);
    if document.len() != len {
        return Err(corrupt("length does not match (truncated?)"));
    }
    if hex(&Sha256::digest(&document)) != digest {
        return Err(corrupt("checksum does not match"));
    }
    Ok(document)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper_detection() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(matches!(read(dir.path()), Err(BackupError::Missing(_))));
        write(dir.path(), b"{\"revision\":\"r1\"}", "r1").expect("write");
        assert_eq!(read(dir.path()).expect("read"), b"{\"revision\":\"r1\"}");
        let p = path(dir.path());
        let mut raw = fs::read(&p).expect("raw");
        let last = raw.len() - 2;
        raw[last] ^= 1;
        fs::write(&p, &raw).expect("tamper");
        assert!(matches!(read(dir.path()), Err(BackupError::Corrupt { .. })));
        raw.truncate(raw.len() - 3);
        fs::write(&p, &raw).expect("truncate");
        assert!(matches!(read(dir.path()), Err(BackupError::Corrupt { .. })));
    }
}
