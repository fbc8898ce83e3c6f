//! `net.server.tls.ciphers.allowed-suites` / `net.client.tls.ciphers.allowed-suites`: APIM takes
//! IANA names; rustls names TLS 1.3 suites `TLS13_…` where IANA says `TLS_…`.

use rustls::crypto::CryptoProvider;
use rustls::SupportedCipherSuite;

#[derive(Debug, thiserror::Error)]
#[error("{setting}: none of the listed cipher suites is one rustls implements: {names} (supported: {supported})")]
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

/// The listed names split into the suites rustls has (in the order given, each once) and the
/// names it does not (APIM's default list has CBC, DHE and static-RSA suites rustls lacks).
pub fn partition(provider: &CryptoProvider, list: &str) -> (Vec<SupportedCipherSuite>, Vec<String>) {
    let mut chosen: Vec<SupportedCipherSuite> = Vec::new();
    let mut unknown = Vec::new();
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        match provider.cipher_suites.iter().find(|s| iana_name(s).eq_ignore_ascii_case(name)) {
            Some(s) if chosen.iter().any(|c| c.suite() == s.suite()) => {}
            Some(s) => chosen.push(*s),
            None => unknown.push(name.to_string()),
        }
    }
    (chosen, unknown)
}

/// Settings already warned about, so a restart of the control thread does not repeat it.
static WARNED: std::sync::Mutex<Vec<&'static str>> = std::sync::Mutex::new(Vec::new());

/// The provider restricted to `allowed` (comma-separated IANA names), in the order given.
/// `None` keeps rustls's defaults. Names rustls does not implement are left out with one
/// warning per setting; only a list with none that it implements stops the start.
pub fn restrict(
    provider: CryptoProvider,
    allowed: Option<&str>,
    setting: &'static str,
) -> Result<CryptoProvider, CipherError> {
    let Some(list) = allowed.map(str::trim).filter(|l| !l.is_empty()) else {
        return Ok(provider);
    };
    let (chosen, unknown) = partition(&provider, list);
    if chosen.is_empty() {
        let supported: Vec<String> = provider.cipher_suites.iter().map(iana_name).collect();
        return Err(CipherError { setting, names: unknown.join(", "), supported: supported.join(", ") });
    }
    if !unknown.is_empty() {
        let first = WARNED.lock().map(|mut w| {
            if w.contains(&setting) {
                false
            } else {
                w.push(setting);
                true
            }
        });
        if first.unwrap_or(true) {
            let kept: Vec<String> = chosen.iter().map(iana_name).collect();
            tracing::warn!(
                setting,
                ignored = %unknown.join(","),
                using = %kept.join(","),
                "{setting}: {} of the listed cipher suites are not implemented by rustls (CBC, DHE, static RSA and \
                 other legacy suites) and are left out; using {}",
                unknown.len(),
                kept.join(", ")
            );
        }
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
        let err = restrict(p.clone(), Some("TLS_RSA_WITH_RC4_128_SHA"), "x").expect_err("none supported");
        assert!(err.to_string().contains("TLS_RSA_WITH_RC4_128_SHA"));
        // Unsupported names among supported ones are left out, not fatal; duplicates count once.
        let r = restrict(
            p,
            Some("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384, TLS_AES_256_GCM_SHA384, TLS_DHE_RSA_WITH_AES_128_GCM_SHA256, tls_aes_256_gcm_sha384"),
            "y",
        )
        .expect("one supported suite is enough");
        assert_eq!(r.cipher_suites.iter().map(iana_name).collect::<Vec<_>>(), ["TLS_AES_256_GCM_SHA384"]);
    }
}
