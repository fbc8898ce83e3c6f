//! The control plane serves HTTPS: gateway tokens and documents (named values, keys) never
//! travel in the clear. With `--tls-cert`/`--tls-key` it presents that certificate; without,
//! a self-signed one generated at first start into `DATA/tls/` (key 0600, folder 0700) and
//! reused after, its SHA-256 fingerprint printed so an operator can pin or distribute it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer};

#[derive(Debug, thiserror::Error)]
pub enum CpTlsError {
    #[error("{path}: {error}")]
    Io { path: PathBuf, error: std::io::Error },
    #[error("{path}: {message}")]
    Pem { path: PathBuf, message: String },
    #[error("generating the control plane's certificate: {0}")]
    Generate(String),
    #[error("TLS setup: {0}")]
    Rustls(String),
    #[error("--tls-cert and --tls-key go together")]
    HalfGiven,
}

/// Where the certificate came from, for the start-up lines.
pub struct Identity {
    pub config: Arc<rustls::ServerConfig>,
    pub cert_path: PathBuf,
    pub generated: bool,
    /// SHA-256 of the leaf's DER, `AB:CD:…`.
    pub fingerprint: String,
}

pub fn cert_path(data: &Path) -> PathBuf {
    data.join("tls").join("cert.pem")
}

fn key_path(data: &Path) -> PathBuf {
    data.join("tls").join("key.pem")
}

/// The given pair, or `DATA/tls/{cert,key}.pem` (generated when absent).
pub fn identity(
    data: &Path,
    cert: Option<&Path>,
    key: Option<&Path>,
    names: &[String],
) -> Result<Identity, CpTlsError> {
    let (cert_file, key_file, generated) = match (cert, key) {
        (Some(c), Some(k)) => (c.to_path_buf(), k.to_path_buf(), false),
        (None, None) => {
            let (c, k) = (cert_path(data), key_path(data));
            let fresh = !c.exists() || !k.exists();
            if fresh {
                generate(&c, &k, names)?;
            }
            (c, k, fresh)
        }
        _ => return Err(CpTlsError::HalfGiven),
    };
    let read = |p: &Path| std::fs::read(p).map_err(|error| CpTlsError::Io { path: p.into(), error });
    let pem_err = |p: &Path, message: String| CpTlsError::Pem { path: p.into(), message };
    let cert_pem = read(&cert_file)?;
    let chain: Vec<CertificateDer<'static>> = rustls_pemfile::certs(&mut cert_pem.as_slice())
        .collect::<Result<_, _>>()
        .map_err(|e| pem_err(&cert_file, e.to_string()))?;
    let Some(leaf) = chain.first() else { return Err(pem_err(&cert_file, "no CERTIFICATE block".into())) };
    let fingerprint = ring::digest::digest(&ring::digest::SHA256, leaf.as_ref())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":");
    let key_pem = read(&key_file)?;
    let key: PrivateKeyDer<'static> = rustls_pemfile::private_key(&mut key_pem.as_slice())
        .map_err(|e| pem_err(&key_file, e.to_string()))?
        .ok_or_else(|| pem_err(&key_file, "no private key block".into()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| CpTlsError::Rustls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| CpTlsError::Rustls(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Identity { config: Arc::new(config), cert_path: cert_file, generated, fingerprint })
}

/// A self-signed ECDSA P-256 server certificate for `names` (DNS names or IP addresses), valid
/// from a year back for ten years; the key written first, 0600.
fn generate(cert_file: &Path, key_file: &Path, names: &[String]) -> Result<(), CpTlsError> {
    let gen = |e: rcgen::Error| CpTlsError::Generate(e.to_string());
    let mut params = rcgen::CertificateParams::new(names.to_vec()).map_err(gen)?;
    params.distinguished_name.push(rcgen::DnType::CommonName, "ringgate control plane");
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    let year: i32 =
        crate::timefmt::rfc3339(std::time::SystemTime::now()).get(..4).and_then(|y| y.parse().ok()).unwrap_or(2026);
    params.not_before = rcgen::date_time_ymd(year - 1, 1, 1);
    params.not_after = rcgen::date_time_ymd(year + 10, 1, 1);
    let key = rcgen::KeyPair::generate().map_err(gen)?;
    let cert = params.self_signed(&key).map_err(gen)?;
    let write = |p: &Path, b: &[u8]| {
        crate::fsutil::write_private(p, b).map_err(|error| CpTlsError::Io { path: p.into(), error })
    };
    write(key_file, key.serialize_pem().as_bytes())?;
    write(cert_file, cert.pem().as_bytes())
}
