//! Standalone mode: a local document, re-read when it changes (in place, or replaced by a rename
//! as Kubernetes ConfigMap volumes do).

use std::path::PathBuf;
use std::time::SystemTime;

use super::Source;

pub struct FileSource {
    path: PathBuf,
    seen: Option<(SystemTime, u64, u64)>,
    last_hash: u64,
}

impl FileSource {
    /// `initial` is the content already loaded at start, so it is not applied twice.
    pub fn new(path: PathBuf, initial: &[u8]) -> FileSource {
        let mut s = FileSource { path, seen: None, last_hash: hash(initial) };
        s.seen = s.stamp();
        s
    }

    fn stamp(&self) -> Option<(SystemTime, u64, u64)> {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(&self.path).ok()?;
        Some((m.modified().ok()?, m.len(), m.ino()))
    }
}

fn hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100000001b3))
}

impl Source for FileSource {
    fn name(&self) -> &'static str {
        "file"
    }

    /// SIGHUP, as nginx: read the file whatever its stamp says; an unchanged file is not
    /// applied twice.
    fn reload(&mut self) -> Option<Result<Vec<u8>, String>> {
        self.seen = self.stamp();
        match std::fs::read(&self.path) {
            Ok(bytes) => {
                let h = hash(&bytes);
                if h == self.last_hash {
                    tracing::info!(path = %self.path.display(), "SIGHUP: the configuration file is unchanged");
                    return None;
                }
                tracing::info!(path = %self.path.display(), "SIGHUP: reloading the configuration file");
                self.last_hash = h;
                Some(Ok(bytes))
            }
            Err(e) => Some(Err(format!("{}: {e}", self.path.display()))),
        }
    }

    fn poll(&mut self) -> Option<Result<Vec<u8>, String>> {
        let stamp = self.stamp();
        if stamp.is_none() || stamp == self.seen {
            return None;
        }
        self.seen = stamp;
        match std::fs::read(&self.path) {
            Ok(bytes) => {
                let h = hash(&bytes);
                if h == self.last_hash {
                    return None; // touched, not changed
                }
                self.last_hash = h;
                Some(Ok(bytes))
            }
            Err(e) => Some(Err(format!("{}: {e}", self.path.display()))),
        }
    }
}
