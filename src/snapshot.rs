//! What a worker runs on: the compiled document plus what the gateway derives from it at load
//! time (TLS client configuration, backend timeouts). Built once on the control thread and
//! deep-copied per worker, so each core owns its copy and the request path shares nothing.

use std::sync::Arc;
use std::time::Duration;

use crate::config;

#[derive(Clone)]
pub struct Snapshot {
    /// Counter assigned by the control thread; workers acknowledge it.
    pub generation: u64,
    pub doc: config::Snapshot,
    /// Backend TLS: the platform's web roots plus the document's trusted (`isTrusted`) CAs.
    pub client_tls: Arc<rustls::ClientConfig>,
    /// How long to wait for a backend's response head (APIM's forward-request `timeout`).
    pub forward_timeout: Duration,
    /// Client-facing TLS (certificates by SNI); `None` when the document has no certificate.
    pub server_tls: Option<Arc<rustls::ServerConfig>>,
}

/// What building a snapshot needs besides the document; lives as long as the control thread.
#[derive(Clone)]
pub struct Builder {
    pub server_tls: crate::tls::ServerTls,
    /// The backend-side provider (restricted by `net.client.tls.ciphers.allowed-suites`).
    pub client_provider: Arc<rustls::crypto::CryptoProvider>,
    pub default_timeout: Duration,
}

impl Builder {
    pub fn from_settings(settings: &crate::settings::Settings) -> Result<Builder, crate::tls::TlsSetupError> {
        let client = crate::tls::ciphers::restrict(
            rustls::crypto::ring::default_provider(),
            settings.client_ciphers.as_deref(),
            "net.client.tls.ciphers.allowed-suites",
        )?;
        Ok(Builder {
            server_tls: crate::tls::ServerTls::new(settings.server_ciphers.as_deref())?,
            client_provider: Arc::new(client),
            default_timeout: settings.response_timeout,
        })
    }

    pub fn build(&self, doc: config::Snapshot, generation: u64) -> Result<Snapshot, BuildError> {
        let client_tls = Arc::new(client_tls_config(&doc, &self.client_provider)?);
        let server_tls = self.server_tls.config_for(&doc).map_err(|e| BuildError::Tls(e.to_string()))?;
        let forward_timeout = doc.policy.as_deref().and_then(forward_timeout).unwrap_or(self.default_timeout);
        Ok(Snapshot { generation, doc, client_tls, forward_timeout, server_tls })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("certificates[{index}] ({id}): {message}")]
    Certificate { index: usize, id: String, message: String },
    #[error("TLS configuration: {0}")]
    Tls(String),
}

impl Snapshot {
    pub fn revision(&self) -> &str {
        &self.doc.revision
    }
}

fn client_tls_config(
    doc: &config::Snapshot,
    provider: &Arc<rustls::crypto::CryptoProvider>,
) -> Result<rustls::ClientConfig, BuildError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for (index, cert) in doc.certificates.iter().enumerate().filter(|(_, c)| c.is_trusted) {
        let bad = |message: String| BuildError::Certificate { index, id: cert.id.clone(), message };
        for der in rustls_pemfile::certs(&mut cert.pem.as_bytes()) {
            let der = der.map_err(|e| bad(format!("invalid PEM: {e}")))?;
            roots.add(der).map_err(|e| bad(format!("not a usable CA certificate: {e}")))?;
        }
    }
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| BuildError::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}

/// The `timeout` (seconds) of the global policy's `<forward-request>`, APIM's backend timeout.
/// The policy checker has already validated the document; this only reads the value.
fn forward_timeout(policy: &str) -> Option<Duration> {
    let mut reader = quick_xml::Reader::from_str(policy);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Empty(e)) | Ok(quick_xml::events::Event::Start(e))
                if e.name().as_ref() == b"forward-request" =>
            {
                let attr = e.try_get_attribute("timeout").ok().flatten()?;
                let value = attr.unescape_value().ok()?;
                let secs: f64 = value.trim().parse().ok()?;
                return (secs.is_finite() && secs > 0.0).then(|| Duration::from_secs_f64(secs));
            }
            Ok(quick_xml::events::Event::Eof) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_forward_timeout() {
        let p = r#"<policies><inbound><base/></inbound><backend><forward-request timeout="2"/></backend></policies>"#;
        assert_eq!(forward_timeout(p), Some(Duration::from_secs(2)));
        assert_eq!(forward_timeout("<policies><backend><forward-request/></backend></policies>"), None);
    }
}
