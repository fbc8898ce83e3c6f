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
    /// Backend TLS: the default (the platform's web roots plus the document's trusted CAs),
    /// per backend (`backends[].tls`) and per client certificate (`authentication-certificate`).
    pub backend_tls: crate::tls::client::BackendTls,
    /// How long to wait for a backend's response head (APIM's forward-request `timeout`).
    pub forward_timeout: Duration,
    /// Client-facing TLS (certificates by SNI); `None` when the document has no certificate.
    pub server_tls: Option<Arc<rustls::ServerConfig>>,
    /// Client certificates: the `isTrusted` CAs and the document's certificates by id, for
    /// `validate-client-certificate` and `context.Request.Certificate.Verify()`.
    pub client_trust: Arc<crate::tls::client_auth::ClientTrust>,
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

    /// With default settings (for `ringgate validate`: certificates and TLS checked as at run time).
    pub fn with_defaults() -> Result<Builder, crate::tls::TlsSetupError> {
        Ok(Builder {
            server_tls: crate::tls::ServerTls::new(None)?,
            client_provider: Arc::new(rustls::crypto::ring::default_provider()),
            default_timeout: Duration::from_secs(300),
        })
    }

    pub fn build(&self, doc: config::Snapshot, generation: u64) -> Result<Snapshot, BuildError> {
        let backend_tls = crate::tls::client::BackendTls::build(&doc, &self.client_provider)?;
        check_client_certificates(&doc, &backend_tls)?;
        let client_trust = crate::tls::client_auth::ClientTrust::build(&doc, self.server_tls.provider())
            .map_err(|e| BuildError::Certificate { index: e.index, id: e.id, message: e.message })?;
        let server_tls = self.server_tls.config_for(&doc, &client_trust).map_err(|e| BuildError::Tls(e.to_string()))?;
        let client_trust = Arc::new(client_trust);
        let forward_timeout = doc.policy.as_deref().and_then(forward_timeout).unwrap_or(self.default_timeout);
        Ok(Snapshot { generation, doc, backend_tls, forward_timeout, server_tls, client_trust })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("certificates[{index}] ({id}): {message}")]
    Certificate { index: usize, id: String, message: String },
    #[error("TLS configuration: {0}")]
    Tls(String),
    #[error("{0}")]
    BackendTls(#[from] crate::tls::client::ClientTlsError),
}

impl Snapshot {
    pub fn revision(&self) -> &str {
        &self.doc.revision
    }
}

/// Every `authentication-certificate` names a certificate the gateway can present.
fn check_client_certificates(
    doc: &config::Snapshot,
    tls: &crate::tls::client::BackendTls,
) -> Result<(), crate::tls::client::ClientTlsError> {
    use crate::policy::plan::StepKind;
    use crate::policy::policies::Op;
    let plans = &doc.policy_plans;
    let all = std::iter::once(&plans.global)
        .chain(plans.apis.iter().flatten().flat_map(|o| o.plain.iter().chain(o.by_product.iter().map(|(_, p)| p))));
    for plan in all {
        for s in crate::policy::Section::ALL {
            for step in plan.steps(s) {
                if let StepKind::Op(Op::AuthenticationCertificate(c)) = &step.kind {
                    if !tls.certificates.contains_key(&*c.certificate_id) {
                        return Err(crate::tls::client::ClientTlsError {
                            path: format!("{} policy, {}", step.meta.scope.name(), step.meta.path),
                            message: format!(
                                "authentication-certificate: certificate '{}' is not in `certificates` with a key",
                                c.certificate_id
                            ),
                        });
                    }
                }
            }
        }
    }
    Ok(())
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
