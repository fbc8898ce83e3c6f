//! `net.server.tls.ciphers.allowed-suites` / `net.client.tls.ciphers.allowed-suites`: APIM takes
//! IANA names; rustls names TLS 1.3 suites `TLS13_…` where IANA says `TLS_…`.

use rustls::crypto::CryptoProvider;
use rustls::SupportedCipherSuite;

#[derive(Debug, thiserror::Error)]
#[error("{setting}: unknown or unsupported cipher suite(s): {names} (supported: {supported})")]
pub struct CipherError {
    pub setting: &'static str,
    pub names: String,
    pub supported: String,
}

pub fn iana_name(suite: &SupportedCipherSuite) -> String {
    let rustls_name = format!("{:?}", suite.suite());
    match rustls_name.strip_prefix("TLS13_") {
        Some(rest) => format!("TLS_{rest}"),
        None => rustls_name,
    }
}

/// The provider restricted to `allowed` (comma-separated IANA names), in the order given.
/// `None` keeps rustls's defaults. Every name must be known and supported, or nothing starts.
pub fn restrict(
    provider: CryptoProvider,
    allowed: Option<&str>,
    setting: &'static str,
) -> Result<CryptoProvider, CipherError> {
    let Some(list) = allowed.map(str::trim).filter(|l| !l.is_empty()) else {
        return Ok(provider);
    };
    let mut chosen = Vec::new();
    let mut unknown = Vec::new();
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        match provider.cipher_suites.iter().find(|s| iana_name(s).eq_ignore_ascii_case(name)) {
            Some(s) => chosen.push(*s),
            None => unknown.push(name.to_string()),
        }
    }
    if !unknown.is_empty() || chosen.is_empty() {
        let supported: Vec<String> = provider.cipher_suites.iter().map(iana_name).collect();
        return Err(CipherError { setting, names: unknown.join(", "), supported: supported.join(", ") });
    }
    Ok(CryptoProvider { cipher_suites: chosen, ..provider })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restricts_by_iana_name() {
        let p = rustls::crypto::ring::default_provider();
        let r = restrict(p.clone(), Some("TLS_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"), "x")
            .expect("known names");
        assert_eq!(r.cipher_suites.len(), 2);
        let err = restrict(p, Some("TLS_RSA_WITH_RC4_128_SHA"), "x").expect_err("unsupported");
        assert!(err.to_string().contains("TLS_RSA_WITH_RC4_128_SHA"));
    }
}
