//! `certificates.local.ca.enabled` (APIM's setting): trust the CA certificates installed in the
//! container, the operating system's store, besides the built-in web roots. Read once at start
//! from OpenSSL's places: the bundle `$SSL_CERT_FILE` (default `/etc/ssl/certs/ca-certificates.crt`)
//! and the PEM files (`*.pem`, `*.crt`) in `$SSL_CERT_DIR` (colon-separated; default
//! `/etc/ssl/certs` and `/usr/local/share/ca-certificates`, where a private CA is mounted: no
//! `update-ca-certificates`, so no root, is needed). They verify backends (with the web roots
//! and the document's trusted certificates) and the configuration endpoint (unless
//! `config.service.endpoint.ca-file` names its CA).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use rustls::pki_types::CertificateDer;

static ROOTS: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();

const DEFAULT_FILE: &str = "/etc/ssl/certs/ca-certificates.crt";
const DEFAULT_DIRS: &[&str] = &["/etc/ssl/certs", "/usr/local/share/ca-certificates"];

/// Where the store is read from (the environment's OpenSSL variables, else Debian's places).
pub fn sources() -> (PathBuf, Vec<PathBuf>) {
    let file = std::env::var_os("SSL_CERT_FILE").map(PathBuf::from).unwrap_or_else(|| DEFAULT_FILE.into());
    let dirs = match std::env::var_os("SSL_CERT_DIR") {
        Some(d) => std::env::split_paths(&d).collect(),
        None => DEFAULT_DIRS.iter().map(PathBuf::from).collect(),
    };
    (file, dirs)
}

fn read_pem(path: &Path, out: &mut Vec<CertificateDer<'static>>, seen: &mut HashSet<Vec<u8>>) {
    let Ok(bytes) = std::fs::read(path) else { return };
    for der in rustls_pemfile::certs(&mut bytes.as_slice()).flatten() {
        if seen.insert(der.to_vec()) {
            out.push(der);
        }
    }
}

fn read_dir(dir: &Path, depth: u32, out: &mut Vec<CertificateDer<'static>>, seen: &mut HashSet<Vec<u8>>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            if depth > 0 {
                read_dir(&p, depth - 1, out, seen);
            }
        } else if p.extension().is_some_and(|e| e == "pem" || e == "crt") {
            read_pem(&p, out, seen);
        }
    }
}

/// Reads the store now (each certificate once).
pub fn load() -> Vec<CertificateDer<'static>> {
    let (file, dirs) = sources();
    let (mut out, mut seen) = (Vec::new(), HashSet::new());
    read_pem(&file, &mut out, &mut seen);
    for d in &dirs {
        read_dir(d, 1, &mut out, &mut seen);
    }
    out
}

/// Turns the setting on for this process (first call wins) and says what was found. With the
/// setting on and nothing found the gateway still starts, on the web roots, and says so.
pub fn enable(enabled: bool) {
    if !enabled || ROOTS.get().is_some() {
        return;
    }
    let certs = load();
    let (file, dirs) = sources();
    let dirs: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    if certs.is_empty() {
        tracing::warn!(
            file = %file.display(),
            dirs = %dirs.join(":"),
            "certificates.local.ca.enabled: no CA certificate found in the container's store; trusting the web roots only"
        );
    } else {
        tracing::info!(
            count = certs.len(),
            file = %file.display(),
            dirs = %dirs.join(":"),
            "certificates.local.ca.enabled: trusting the container's CA certificates"
        );
    }
    let _ = ROOTS.set(certs);
}

/// The local CA certificates, empty unless the setting is on.
pub fn roots() -> &'static [CertificateDer<'static>] {
    ROOTS.get().map(Vec::as_slice).unwrap_or(&[])
}

/// Whether the setting is on.
pub fn enabled() -> bool {
    ROOTS.get().is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_pem_files_once_each() {
        let dir = tempfile::tempdir().unwrap();
        let ca = rcgen::generate_simple_self_signed(vec!["local-ca.test".to_string()]).unwrap();
        let pem = ca.cert.pem();
        std::fs::write(dir.path().join("a.crt"), &pem).unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/b.pem"), &pem).unwrap();
        std::fs::write(dir.path().join("notes.txt"), &pem).unwrap();
        let (mut out, mut seen) = (Vec::new(), HashSet::new());
        read_dir(dir.path(), 1, &mut out, &mut seen);
        assert_eq!(out.len(), 1, "the same certificate twice counts once; .txt is not read");
        assert_eq!(out[0].as_ref(), ca.cert.der().as_ref());
    }
}
