//! The HTTP calls to the configuration endpoint (blocking, on the control thread only), with
//! ureq over rustls: certificate validation on by default, a per-call timeout, a body size cap.

use std::time::Duration;

use crate::settings::Settings;

#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("{0}")]
    Transport(String),
    #[error("the endpoint refused the gateway token (401): check config.service.auth")]
    Unauthorized,
    #[error("the endpoint does not know this gateway (404)")]
    UnknownGateway,
    #[error("the endpoint answered {0}")]
    Status(u16),
    #[error("the document is larger than config.service.max-document-bytes ({0} bytes)")]
    TooLarge(u64),
    #[error("invalid endpoint setting: {0}")]
    Setup(String),
}

pub enum Fetched {
    NotModified,
    Document { bytes: Vec<u8>, etag: Option<String> },
}

pub struct Client {
    agent: ureq::Agent,
    base: String,
    auth: String,
    max_bytes: u64,
}

impl Client {
    pub fn new(settings: &Settings, endpoint: &str, auth: &str) -> Result<Client, CallError> {
        let base = normalize(endpoint);
        if base.starts_with("http://") {
            if !settings.endpoint_plain_http {
                return Err(CallError::Setup(format!(
                    "config.service.endpoint {base} is plain http: the gateway token would travel in the clear; \
                     use https (config.service.endpoint.ca-file for a private CA), or set \
                     config.service.endpoint.allow-plain-http=true for development"
                )));
            }
            tracing::warn!(
                endpoint = %base,
                "config.service.endpoint.allow-plain-http: the gateway token and documents travel in the clear"
            );
        }
        let roots = match &settings.endpoint_ca_file {
            // certificates.local.ca.enabled: the container's store (it holds the web roots too).
            None if !crate::tls::local_ca::roots().is_empty() => {
                let certs: Vec<ureq::tls::Certificate<'static>> = crate::tls::local_ca::roots()
                    .iter()
                    .map(|c| ureq::tls::Certificate::from_der(c.as_ref()).to_owned())
                    .collect();
                ureq::tls::RootCerts::new_with_certs(&certs)
            }
            None => ureq::tls::RootCerts::WebPki,
            Some(file) => {
                let pem = std::fs::read(file).map_err(|e| CallError::Setup(format!("{}: {e}", file.display())))?;
                let certs: Vec<_> = ureq::tls::parse_pem(&pem)
                    .filter_map(|item| match item {
                        Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                        _ => None,
                    })
                    .collect();
                if certs.is_empty() {
                    return Err(CallError::Setup(format!("{}: no certificates", file.display())));
                }
                ureq::tls::RootCerts::new_with_certs(&certs)
            }
        };
        if settings.endpoint_insecure {
            tracing::warn!(
                "config.service.endpoint.disableCertificateValidation=true: the endpoint's certificate is not \
                 verified, so anyone on the path can take the gateway token; use config.service.endpoint.ca-file"
            );
        }
        let tls =
            ureq::tls::TlsConfig::builder().root_certs(roots).disable_verification(settings.endpoint_insecure).build();
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(settings.integration_timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(concat!("ringgate/", env!("CARGO_PKG_VERSION")))
            .tls_config(tls)
            .build()
            .into();
        let auth = if auth.starts_with("GatewayKey ") { auth.to_string() } else { format!("GatewayKey {auth}") };
        Ok(Client { agent, base, auth, max_bytes: settings.max_document_bytes })
    }

    pub fn fetch(&self, gateway: &str, etag: Option<&str>) -> Result<Fetched, CallError> {
        let url = format!("{}/gateways/{gateway}/configuration", self.base);
        let mut req = self.agent.get(&url).header("Authorization", &self.auth);
        if let Some(tag) = etag {
            req = req.header("If-None-Match", &format!("\"{tag}\""));
        }
        let mut resp = req.call().map_err(transport)?;
        match resp.status().as_u16() {
            200 => {
                let etag = resp
                    .headers()
                    .get("etag")
                    .and_then(|v| v.to_str().ok())
                    .map(|v| v.trim().trim_start_matches("W/").trim_matches('"').to_string());
                let bytes = resp.body_mut().with_config().limit(self.max_bytes).read_to_vec().map_err(|e| match e {
                    ureq::Error::BodyExceedsLimit(_) => CallError::TooLarge(self.max_bytes),
                    other => transport(other),
                })?;
                Ok(Fetched::Document { bytes, etag })
            }
            304 => Ok(Fetched::NotModified),
            401 | 403 => Err(CallError::Unauthorized),
            404 => Err(CallError::UnknownGateway),
            other => Err(CallError::Status(other)),
        }
    }

    pub fn heartbeat(&self, gateway: &str, body: &str) -> Result<(), CallError> {
        let url = format!("{}/gateways/{gateway}/heartbeat", self.base);
        let resp = self
            .agent
            .post(&url)
            .header("Authorization", &self.auth)
            .header("Content-Type", "application/json")
            .send(body)
            .map_err(transport)?;
        match resp.status().as_u16() {
            200..=299 => Ok(()),
            401 | 403 => Err(CallError::Unauthorized),
            404 => Err(CallError::UnknownGateway),
            other => Err(CallError::Status(other)),
        }
    }
}

fn transport(e: ureq::Error) -> CallError {
    CallError::Transport(e.to_string())
}

/// `https://host[:port]`, `http://…`, or a bare host (https, as APIM), without a trailing '/'.
fn normalize(endpoint: &str) -> String {
    let e = endpoint.trim().trim_end_matches('/');
    if e.starts_with("http://") || e.starts_with("https://") {
        e.to_string()
    } else {
        format!("https://{e}")
    }
}

/// Back-off after `failures` failed calls: doubling from 500 ms, capped at the poll interval,
/// with jitter (half to full) so a fleet does not retry in step.
pub fn backoff(failures: u32, cap: Duration) -> Duration {
    let base = Duration::from_millis(500).saturating_mul(1u32 << failures.min(16)).min(cap);
    base.mul_f64(0.5 + fastrand::f64() / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_normalize() {
        assert_eq!(normalize("cp.local"), "https://cp.local");
        assert_eq!(normalize("http://127.0.0.1:9000/"), "http://127.0.0.1:9000");
    }

    #[test]
    fn backoff_is_capped() {
        for f in 0..40 {
            assert!(backoff(f, Duration::from_secs(10)) <= Duration::from_secs(10));
        }
        assert!(backoff(0, Duration::from_secs(10)) >= Duration::from_millis(250));
    }
}
