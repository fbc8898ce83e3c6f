//! Files that hold secrets (keys, tokens, configuration backups, certificates' private keys):
//! one helper for all of them. A file is written whole (temporary file in the same folder,
//! fsync, rename, fsync the folder: a crash leaves the old file or the new one, never a torn
//! one), created 0600 from its first byte, in a folder that is 0700.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Mode of every file written here: owner read/write only.
pub const FILE_MODE: u32 = 0o600;
/// Mode of the folders they live in: owner only.
pub const DIR_MODE: u32 = 0o700;

/// Creates `dir` (and missing parents) as 0700, and narrows an existing `dir` to 0700. A folder
/// we may not chmod (a mounted volume owned by another user) is left as it is.
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    fs::DirBuilder::new().recursive(true).mode(DIR_MODE).create(dir)?;
    let meta = fs::metadata(dir)?;
    if meta.permissions().mode() & 0o777 != DIR_MODE {
        let _ = fs::set_permissions(dir, fs::Permissions::from_mode(DIR_MODE));
    }
    Ok(())
}

/// Replaces `path` with `bytes`, atomically and durably, as a 0600 file in a 0700 folder.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    private_dir(dir)?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "file".into());
    let tmp = dir.join(format!(".{name}.tmp"));
    // A stale temporary file may have another mode: start from none, so `mode` applies.
    match fs::remove_file(&tmp) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let mut f = OpenOptions::new().write(true).create_new(true).mode(FILE_MODE).open(&tmp)?;
    // The umask cannot widen 0600, but a pre-set ACL default could: make it exact.
    f.set_permissions(fs::Permissions::from_mode(FILE_MODE))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    fs::rename(&tmp, path)?;
    File::open(dir)?.sync_all()
}

/// 32 random bytes from the operating system, base64url without padding (43 characters).
pub fn random_secret() -> Result<String, ring::error::Unspecified> {
    use base64::Engine;
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 32];
    ring::rand::SystemRandom::new().fill(&mut bytes)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_private_files_and_makes_distinct_secrets() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("sub").join("a.json");
        write_private(&p, b"one").expect("write");
        write_private(&p, b"two").expect("rewrite");
        assert_eq!(fs::read(&p).expect("read"), b"two");
        assert_eq!(fs::metadata(&p).expect("meta").permissions().mode() & 0o777, FILE_MODE);
        assert_eq!(fs::metadata(p.parent().expect("dir")).expect("meta").permissions().mode() & 0o777, DIR_MODE);
        let (a, b) = (random_secret().expect("rng"), random_secret().expect("rng"));
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
    }
}
