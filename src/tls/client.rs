//! TLS towards backends: the default configuration (web roots plus the document's trusted CAs),
//! per-backend configurations from `backends[].tls` (custom CAs, chain or name validation off, a
//! client certificate), and client-certificate configurations for `authentication-certificate`.
//!
//! Each configuration has a *profile* number the upstream pool keys connections by, so a
//! connection opened with one client certificate is never reused for a call that asked for
//! another (or for none).

use std::collections::HashMap;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::api_model::{BackendTls as TlsSettings, Certificate};

/// One backend-side TLS configuration and its pool profile (0: the default).
#[derive(Clone)]
pub struct ClientTls {
    pub profile: u64,
    pub config: Arc<rustls::ClientConfig>,
}

/// Every backend-side configuration of a snapshot.
#[derive(Clone)]
pub struct BackendTls {
    pub default: ClientTls,
    /// By index in the document's `backends`; `None` where the backend uses the default.
    pub backends: Vec<Option<ClientTls>>,
    /// By certificate id: the default validation, presenting that certificate.
    pub certificates: HashMap<String, ClientTls>,
}

#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ClientTlsError {
    pub path: String,
    pub message: String,
}

fn err(path: impl Into<String>, message: impl Into<String>) -> ClientTlsError {
    ClientTlsError { path: path.into(), message: message.into() }
}

fn key_of(c: &Certificate, path: &str) -> Result<PrivateKeyDer<'static>, ClientTlsError> {
    let pem = c.key.as_deref().ok_or_else(|| err(path, "a client certificate needs its `key`"))?;
    rustls_pemfile::private_key(&mut pem.as_bytes())
        .map_err(|e| err(path, format!("key PEM: {e}")))?
        .ok_or_else(|| err(path, "no private key in `key`"))
}

/// The platform's web roots, the container's CA store when `certificates.local.ca.enabled`, plus
/// the document's `isTrusted` certificates.
fn default_roots(certificates: &[Certificate]) -> Result<RootCertStore, ClientTlsError> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    // A store certificate rustls cannot use as a trust anchor is skipped, as OpenSSL would.
    let _ = roots.add_parsable_certificates(super::local_ca::roots().iter().cloned());
    for (i, c) in certificates.iter().enumerate().filter(|(_, c)| c.is_trusted) {
        let path = format!("certificates[{i}] ({})", c.id);
        for der in c.chain.clone() {
            roots.add(der).map_err(|e| err(&path, format!("not a usable CA certificate: {e}")))?;
        }
    }
    Ok(roots)
}

fn builder(
    provider: &Arc<CryptoProvider>,
) -> Result<rustls::ConfigBuilder<rustls::ClientConfig, rustls::WantsVerifier>, ClientTlsError> {
    rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| err("net.client.tls", e.to_string()))
}

/// Profile numbers: 0 default, 1.. backends, high bit set for client certificates (by hash).
fn cert_profile(id: &str) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in id.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x100000001b3);
    }
    h | 1 << 63
}

impl BackendTls {
    /// From the document's certificates and each backend's id and `tls` settings (in the
    /// order of `backends`).
    pub fn build(
        certificates: &[Certificate],
        backends: &[(&str, &TlsSettings)],
        provider: &Arc<CryptoProvider>,
    ) -> Result<BackendTls, ClientTlsError> {
        let roots = Arc::new(default_roots(certificates)?);
        let default = builder(provider)?.with_root_certificates(roots.clone()).with_no_client_auth();
        let by_id: HashMap<&str, (usize, &Certificate)> =
            certificates.iter().enumerate().map(|(i, c)| (c.id.as_str(), (i, c))).collect();
        let mut built = Vec::with_capacity(backends.len());
        for (i, &(id, t)) in backends.iter().enumerate() {
            let path = format!("backends[{i}] ({id}).tls");
            let custom = !t.validate_certificate_chain
                || !t.validate_certificate_name
                || !t.ca_certificate_ids.is_empty()
                || t.client_certificate_id.is_some();
            if !custom {
                built.push(None);
                continue;
            }
            let roots = if t.ca_certificate_ids.is_empty() {
                roots.clone()
            } else {
                let mut own = RootCertStore::empty();
                for id in &t.ca_certificate_ids {
                    let (_, c) =
                        by_id.get(id.as_str()).ok_or_else(|| err(&path, format!("unknown certificate '{id}'")))?;
                    for der in c.chain.clone() {
                        own.add(der).map_err(|e| err(&path, format!("'{id}' is not a usable CA: {e}")))?;
                    }
                }
                Arc::new(own)
            };
            let webpki = WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
                .build()
                .map_err(|e| err(&path, e.to_string()))?;
            let verifier = Arc::new(Lenient {
                inner: webpki,
                chain: t.validate_certificate_chain,
                name: t.validate_certificate_name,
            });
            let wants = builder(provider)?.dangerous().with_custom_certificate_verifier(verifier);
            let config = match &t.client_certificate_id {
                Some(id) => {
                    let (ci, c) =
                        by_id.get(id.as_str()).ok_or_else(|| err(&path, format!("unknown certificate '{id}'")))?;
                    let cpath = format!("certificates[{ci}] ({id})");
                    wants
                        .with_client_auth_cert(c.chain.clone(), key_of(c, &cpath)?)
                        .map_err(|e| err(&cpath, e.to_string()))?
                }
                None => wants.with_no_client_auth(),
            };
            built.push(Some(ClientTls { profile: i as u64 + 1, config: Arc::new(config) }));
        }
        let mut by_cert = HashMap::new();
        for (i, c) in certificates.iter().enumerate().filter(|(_, c)| c.key.is_some()) {
            let path = format!("certificates[{i}] ({})", c.id);
            let cfg = builder(provider)?
                .with_root_certificates(roots.clone())
                .with_client_auth_cert(c.chain.clone(), key_of(c, &path)?)
                .map_err(|e| err(&path, e.to_string()))?;
            by_cert.insert(c.id.clone(), ClientTls { profile: cert_profile(&c.id), config: Arc::new(cfg) });
        }
        Ok(BackendTls {
            default: ClientTls { profile: 0, config: Arc::new(default) },
            backends: built,
            certificates: by_cert,
        })
    }
}

/// Web PKI validation with the chain check or the name check switched off, as a backend's
/// `validateCertificateChain` / `validateCertificateName` ask. Signatures are always checked.
#[derive(Debug)]
struct Lenient {
    inner: Arc<WebPkiServerVerifier>,
    chain: bool,
    name: bool,
}

impl ServerCertVerifier for Lenient {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if !self.chain {
            return Ok(ServerCertVerified::assertion());
        }
        match self.inner.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Err(rustls::Error::InvalidCertificate(CertificateError::NotValidForName))
            | Err(rustls::Error::InvalidCertificate(CertificateError::NotValidForNameContext { .. }))
                if !self.name =>
            {
                Ok(ServerCertVerified::assertion())
            }
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}
