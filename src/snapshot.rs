//! What a worker runs on: the compiled document plus what the gateway derives from it at load
//! time (TLS client configuration, backend timeouts) and the `<openid-config>` keys fetched
//! for it. Assembled in one place ([`Builder::assemble`]) on the control thread and
//! deep-copied per worker, so each core owns its copy and the request path shares nothing.

use std::sync::Arc;
use std::time::Duration;

use crate::config;
use crate::policy::policies::validate_jwt::attach_openid;
pub use crate::policy::policies::validate_jwt::keys::KeySets;

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
        crate::tls::local_ca::enable(settings.local_ca);
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

    /// [`Builder::assemble`] with no `<openid-config>` keys fetched (`ringgate validate`,
    /// benchmarks): such a policy fails with `TokenSignatureKeyNotFound`.
    pub fn build(&self, doc: config::Snapshot, generation: u64) -> Result<Snapshot, BuildError> {
        self.assemble(doc, &KeySets::default(), generation)
    }

    /// Assembles the snapshot workers run on, in one place: the loaded document, the
    /// `<openid-config>` key sets the control thread holds (an input, not a patch applied
    /// afterwards: a change of keys assembles a new snapshot from the same document), and what
    /// is derived from them here: backend and client-facing TLS, client-certificate trust and
    /// the default backend timeout (from the compiled global plan).
    pub fn assemble(&self, mut doc: config::Snapshot, keys: &KeySets, generation: u64) -> Result<Snapshot, BuildError> {
        attach_openid(&mut doc.policy_plans, keys);
        let backends: Vec<(&str, &config::BackendTls)> = doc.backends.iter().map(|b| (b.id.as_str(), &b.tls)).collect();
        let backend_tls = crate::tls::client::BackendTls::build(&doc.certificates, &backends, &self.client_provider)?;
        drop(backends);
        check_client_certificates(&doc.policy_plans, &backend_tls)?;
        let client_trust = crate::tls::client_auth::ClientTrust::build(&doc.certificates, self.server_tls.provider())
            .map_err(|e| BuildError::Certificate { index: e.index, id: e.id, message: e.message })?;
        let server_tls = self
            .server_tls
            .config_for(&doc.certificates, &doc.hostnames, &client_trust)
            .map_err(|e| BuildError::Tls(e.to_string()))?;
        let client_trust = Arc::new(client_trust);
        let forward_timeout = doc.policy_plans.global_forward_timeout().unwrap_or(self.default_timeout);
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
    plans: &crate::policy::Plans,
    tls: &crate::tls::client::BackendTls,
) -> Result<(), crate::tls::client::ClientTlsError> {
    for (meta, id) in plans.authentication_certificates() {
        if !tls.certificates.contains_key(id) {
            return Err(crate::tls::client::ClientTlsError {
                path: format!("{} policy, {}", meta.scope.name(), meta.path),
                message: format!("authentication-certificate: certificate '{id}' is not in `certificates` with a key"),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::policies::validate_jwt::keys::Provider;
    use crate::policy::policies::Op;

    fn doc(global: Option<&str>) -> config::Snapshot {
        let doc = serde_json::json!({
            "policy": global,
            "apis": [{"id": "a", "path": "a", "serviceUrl": "http://b:1/",
                      "operations": [{"id": "o", "method": "GET", "urlTemplate": "/"}]}]
        });
        let mut bytes = doc.to_string().into_bytes();
        config::load_document(&mut bytes).unwrap_or_else(|e| panic!("{e}")).snapshot
    }

    fn assemble(global: Option<&str>, keys: &KeySets) -> Snapshot {
        Builder::with_defaults().unwrap().assemble(doc(global), keys, 7).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn forward_timeout_comes_from_the_global_plan() {
        let none = KeySets::default();
        let timeout = |p: Option<&str>| assemble(p, &none).forward_timeout;
        let default = Duration::from_secs(300);
        let fwd = |attrs: &str| {
            format!("<policies><inbound><base/></inbound><backend><forward-request {attrs}/></backend></policies>")
        };
        assert_eq!(timeout(Some(&fwd(r#"timeout="2""#))), Duration::from_secs(2));
        assert_eq!(timeout(Some(&fwd(""))), default);
        assert_eq!(timeout(Some(&fwd(r#"timeout="0""#))), default);
        assert_eq!(timeout(Some("<policies><inbound/></policies>")), default);
        assert_eq!(timeout(None), default);
        let chosen = r#"<policies><backend><choose><when condition="@(true)"><forward-request timeout="3"/></when><otherwise><forward-request timeout="4"/></otherwise></choose></backend></policies>"#;
        assert_eq!(timeout(Some(chosen)), Duration::from_secs(3), "the first in document order, as written");
    }

    #[test]
    fn key_sets_are_an_input() {
        let url = "https://idp.local/oidc";
        let global = format!(
            r#"<policies><inbound><validate-jwt header-name="Authorization"><openid-config url="{url}"/></validate-jwt></inbound></policies>"#
        );
        let providers = |s: &Snapshot| -> Vec<Option<Arc<Provider>>> {
            s.doc
                .policy_plans
                .ops()
                .filter_map(|o| match o {
                    Op::ValidateJwt(v) => Some(v.openid[0].provider.clone()),
                    _ => None,
                })
                .collect()
        };
        let without = assemble(Some(&global), &KeySets::default());
        assert!(!providers(&without).is_empty() && providers(&without).iter().all(Option::is_none));
        let provider = Arc::new(Provider { issuer: Some("https://idp.local".into()), ..Provider::default() });
        let mut keys = KeySets::default();
        keys.insert(url, provider.clone());
        let with = assemble(Some(&global), &keys);
        assert!(providers(&with).iter().all(|p| p.as_ref().is_some_and(|p| Arc::ptr_eq(p, &provider))));
        assert_eq!(with.generation, 7);
    }
}
