//! The server-side rustls configuration, rebuilt with each snapshot (certificates change without
//! a restart; open connections keep theirs) around one ticketer and session cache that live as
//! long as the process, so a client resumes on any core and across configuration changes.

use std::collections::HashMap;
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert, StoresServerSessions};
use rustls::sign::CertifiedKey;

use crate::api_model::{Certificate, HostnameConfig};

#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error("certificates[{index}] ({id}): {message}")]
    Certificate { index: usize, id: String, message: String },
    #[error("{0}")]
    Ciphers(#[from] super::ciphers::CipherError),
    #[error("TLS setup: {0}")]
    Rustls(String),
}

/// What survives configuration changes: the provider (with the allowed suites), the ticket keys
/// (rotated by rustls every 6 hours) and the session-id cache.
#[derive(Clone)]
pub struct ServerTls {
    provider: Arc<CryptoProvider>,
    ticketer: Arc<dyn rustls::server::ProducesTickets>,
    sessions: Arc<dyn StoresServerSessions>,
}

impl ServerTls {
    pub fn new(allowed_suites: Option<&str>) -> Result<ServerTls, TlsSetupError> {
        let provider = super::ciphers::restrict(
            rustls::crypto::ring::default_provider(),
            allowed_suites,
            "net.server.tls.ciphers.allowed-suites",
        )?;
        let ticketer = rustls::crypto::ring::Ticketer::new().map_err(|e| TlsSetupError::Rustls(e.to_string()))?;
        Ok(ServerTls {
            provider: Arc::new(provider),
            ticketer,
            sessions: rustls::server::ServerSessionMemoryCache::new(64 * 1024),
        })
    }

    /// The provider handshakes use (the allowed suites, the signature algorithms).
    pub fn provider(&self) -> &Arc<CryptoProvider> {
        &self.provider
    }

    /// The server configuration for a document's certificates and hostnames; `None` when it
    /// has no certificate with a key.
    /// When a hostname sets `negotiateClientCertificate` (one switch for every hostname, as in
    /// APIM) the handshake asks for a client certificate, takes any, and leaves trust to policies.
    pub fn config_for(
        &self,
        certificates: &[Certificate],
        hostnames: &[HostnameConfig],
        trust: &super::client_auth::ClientTrust,
    ) -> Result<Option<Arc<rustls::ServerConfig>>, TlsSetupError> {
        let resolver = SniResolver::build(certificates, hostnames, &self.provider)?;
        if resolver.is_empty() {
            return Ok(None);
        }
        let builder = rustls::ServerConfig::builder_with_provider(self.provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| TlsSetupError::Rustls(e.to_string()))?;
        let builder = if hostnames.iter().any(|h| h.negotiate_client_certificate) {
            builder.with_client_cert_verifier(Arc::new(super::client_auth::AnyClientCert::new(
                self.provider.clone(),
                trust,
            )))
        } else {
            builder.with_no_client_auth()
        };
        let mut cfg = builder.with_cert_resolver(Arc::new(resolver));
        cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
        cfg.ticketer = self.ticketer.clone();
        cfg.session_storage = self.sessions.clone();
        Ok(Some(Arc::new(cfg)))
    }
}

/// Picks a certificate by SNI: exact hostnames, then `*.suffix` wildcards, then the default
/// (the first hostname's certificate, or the first certificate with a key).
#[derive(Debug, Default)]
struct SniResolver {
    exact: HashMap<String, Arc<CertifiedKey>>,
    wildcard: HashMap<String, Arc<CertifiedKey>>,
    default: Option<Arc<CertifiedKey>>,
}

impl SniResolver {
    fn is_empty(&self) -> bool {
        self.default.is_none()
    }

    fn build(
        certificates: &[Certificate],
        hostnames: &[HostnameConfig],
        provider: &CryptoProvider,
    ) -> Result<SniResolver, TlsSetupError> {
        let mut keys: HashMap<&str, Arc<CertifiedKey>> = HashMap::new();
        let mut first_with_key = None;
        for (index, cert) in certificates.iter().enumerate() {
            let Some(key_pem) = &cert.key else { continue };
            let bad = |message: String| TlsSetupError::Certificate { index, id: cert.id.clone(), message };
            let chain = cert.chain.clone();
            let key = rustls_pemfile::private_key(&mut key_pem.as_bytes())
                .map_err(|e| bad(format!("invalid key PEM: {e}")))?
                .ok_or_else(|| bad("no private key in `key`".into()))?;
            let signer = provider.key_provider.load_private_key(key).map_err(|e| bad(e.to_string()))?;
            let ck = Arc::new(CertifiedKey::new(chain, signer));
            ck.keys_match().map_err(|e| bad(format!("key does not match the certificate: {e}")))?;
            first_with_key.get_or_insert_with(|| ck.clone());
            keys.insert(cert.id.as_str(), ck);
        }
        let mut r = SniResolver::default();
        for h in hostnames {
            let Some(ck) = h.certificate_id.as_deref().and_then(|id| keys.get(id)) else {
                continue;
            };
            r.default.get_or_insert_with(|| ck.clone());
            match h.hostname.strip_prefix("*.") {
                Some(suffix) => r.wildcard.insert(suffix.to_ascii_lowercase(), ck.clone()),
                None => r.exact.insert(h.hostname.to_ascii_lowercase(), ck.clone()),
            };
        }
        if r.default.is_none() {
            r.default = first_with_key;
        }
        Ok(r)
    }
}

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let Some(name) = hello.server_name() else {
            return self.default.clone();
        };
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        if let Some(ck) = self.exact.get(&name) {
            return Some(ck.clone());
        }
        // One extra label only, as the router's host matching does.
        if let Some((_, suffix)) = name.split_once('.') {
            if let Some(ck) = self.wildcard.get(suffix) {
                return Some(ck.clone());
            }
        }
        self.default.clone()
    }
}
