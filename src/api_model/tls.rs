//! The document's TLS material: certificates, `gateway.hostnames` entries and each backend's
//! `tls` settings. Built by `config`, read by `tls` to make the rustls configurations (and by
//! policies through the trust built from them), so none of those needs to import `config`.

use std::fmt;

/// One `gateway.hostnames` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct HostnameConfig {
    /// Lowercased; exact or `*.suffix`.
    pub hostname: String,
    pub certificate_id: Option<String>,
    pub negotiate_client_certificate: bool,
    pub http2_enabled: bool,
}

/// A certificate (chain, leaf first) with an optional private key.
#[derive(Clone, PartialEq)]
pub struct Certificate {
    pub id: String,
    pub pem: String,
    pub key: Option<String>,
    /// A CA trusted for client-certificate and backend validation.
    pub is_trusted: bool,
    /// `pem` parsed (leaf first), once at load time.
    pub chain: Vec<rustls::pki_types::CertificateDer<'static>>,
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("id", &self.id)
            .field("pem_bytes", &self.pem.len())
            .field("key", &self.key.as_ref().map(|_| "<redacted>"))
            .field("is_trusted", &self.is_trusted)
            .finish()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct BackendTls {
    pub validate_certificate_chain: bool,
    pub validate_certificate_name: bool,
    pub ca_certificate_ids: Vec<String>,
    pub client_certificate_id: Option<String>,
}

impl Default for BackendTls {
    fn default() -> Self {
        BackendTls {
            validate_certificate_chain: true,
            validate_certificate_name: true,
            ca_certificate_ids: Vec::new(),
            client_certificate_id: None,
        }
    }
}
