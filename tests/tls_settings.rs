//! Two APIM settings that bite users copying their env.conf:
//! - `net.server.tls.ciphers.allowed-suites` / `net.client.tls.ciphers.allowed-suites` with APIM's
//!   own default list (30 suites, CBC, DHE and static RSA among them): the gateway starts with the
//!   suites rustls implements, warns once per setting naming the rest, negotiates the listed
//!   suites on both legs, and refuses to start only when none of the listed suites remains.
//! - `certificates.local.ca.enabled`: a backend whose certificate comes from a private CA in the
//!   container's CA store is refused (502) without the setting and served with it.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use common::tls::{Ca, Leaf};
use common::*;
use rustls::pki_types::{CertificateDer, ServerName};

/// APIM's default `allowed-suites` list, in its order (the settings reference: the TLS 1.3
/// suites, ECDHE/DHE with AES-GCM and CHACHA20, ECDHE/DHE with CBC, static RSA).
const APIM_DEFAULT_SUITES: &str = "TLS_AES_256_GCM_SHA384,TLS_CHACHA20_POLY1305_SHA256,TLS_AES_128_GCM_SHA256,\
TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,\
TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,\
TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,\
TLS_DHE_RSA_WITH_AES_256_GCM_SHA384,TLS_DHE_RSA_WITH_AES_128_GCM_SHA256,TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256,\
TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384,TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384,\
TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,\
TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,TLS_DHE_RSA_WITH_AES_256_CBC_SHA256,\
TLS_DHE_RSA_WITH_AES_128_CBC_SHA256,TLS_DHE_RSA_WITH_AES_256_CBC_SHA,TLS_DHE_RSA_WITH_AES_128_CBC_SHA,\
TLS_RSA_WITH_AES_256_GCM_SHA384,TLS_RSA_WITH_AES_128_GCM_SHA256,TLS_RSA_WITH_AES_256_CBC_SHA256,\
TLS_RSA_WITH_AES_128_CBC_SHA256,TLS_RSA_WITH_AES_256_CBC_SHA,TLS_RSA_WITH_AES_128_CBC_SHA";

fn document(backend_url: &str, leaf: &Leaf, ca: &Ca, trust_ca: bool) -> String {
    let mut certs = vec![serde_json::json!({"id": "site", "pem": leaf.chain_pem, "key": leaf.key_pem})];
    if trust_ca {
        certs.push(serde_json::json!({"id": "backend-ca", "pem": ca.pem(), "isTrusted": true}));
    }
    serde_json::json!({
        "revision": "t1",
        "gateway": {"hostnames": [{"hostname": "api.contoso.local", "certificateId": "site"}]},
        "certificates": certs,
        "apis": [{"id": "a", "path": "a", "serviceUrl": backend_url, "subscriptionRequired": false}]
    })
    .to_string()
}

fn only(rustls_name: &str) -> Arc<rustls::crypto::CryptoProvider> {
    let mut p = rustls::crypto::ring::default_provider();
    p.cipher_suites.retain(|s| format!("{:?}", s.suite()) == rustls_name);
    assert_eq!(p.cipher_suites.len(), 1, "{rustls_name}");
    Arc::new(p)
}

/// One HTTPS GET offering one suite: the status and the suite negotiated, or the handshake error.
fn get_with(
    addr: std::net::SocketAddr,
    ca: &Ca,
    version: &'static rustls::SupportedProtocolVersion,
    suite: &str,
) -> Result<(u16, String), String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from(ca.der())).unwrap();
    let cfg = rustls::ClientConfig::builder_with_provider(only(suite))
        .with_protocol_versions(&[version])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let mut conn =
        rustls::ClientConnection::new(Arc::new(cfg), ServerName::try_from("api.contoso.local").unwrap()).unwrap();
    let mut tcp = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let mut tls = rustls::Stream::new(&mut conn, &mut tcp);
    tls.write_all(b"GET /a/x HTTP/1.1\r\nHost: api.contoso.local\r\nConnection: close\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    let _ = tls.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out);
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| format!("no response: {text}"))?;
    let negotiated = conn.negotiated_cipher_suite().map(|s| format!("{:?}", s.suite())).unwrap_or_default();
    Ok((status, negotiated))
}

#[test]
fn apims_default_suite_list_starts_with_the_suites_rustls_has() {
    let ca = Ca::new("ringgate suites CA");
    let site = ca.leaf(&["api.contoso.local"]);
    // The backend over TLS too: the client-side list applies there.
    let backend = Backend::start_tls(ca.leaf(&["localhost"]).server_config(None));
    let server = format!("net.server.tls.ciphers.allowed-suites={APIM_DEFAULT_SUITES}");
    let client = format!("net.client.tls.ciphers.allowed-suites={APIM_DEFAULT_SUITES}");
    let gw = Gateway::start(&document(&backend.url(), &site, &ca, true), &[&server, &client]);

    // The client leg: listed suites rustls implements are negotiated, on TLS 1.3 and 1.2.
    for (version, suite) in [
        (&rustls::version::TLS13, "TLS13_CHACHA20_POLY1305_SHA256"),
        (&rustls::version::TLS13, "TLS13_AES_128_GCM_SHA256"),
        (&rustls::version::TLS12, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
        (&rustls::version::TLS12, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"),
    ] {
        let (status, negotiated) = get_with(gw.https_addr(), &ca, version, suite).expect(suite);
        assert_eq!(status, 200, "{suite}: the backend leg works with the same list");
        assert_eq!(negotiated, suite);
    }
    assert!(backend.requests() >= 4);

    // One warning per setting, naming what was left out and what is used.
    let logs = gw.log_text();
    for setting in ["net.server.tls.ciphers.allowed-suites", "net.client.tls.ciphers.allowed-suites"] {
        let warnings: Vec<&str> = logs
            .lines()
            .filter(|l| l.contains("\"WARN\"") && l.contains(setting) && l.contains("not implemented by rustls"))
            .collect();
        assert_eq!(warnings.len(), 1, "{setting}: one warning:\n{logs}");
        let w = warnings[0];
        assert!(w.contains("21 of the listed cipher suites"), "{w}");
        assert!(w.contains("TLS_DHE_RSA_WITH_AES_256_GCM_SHA384") && w.contains("TLS_RSA_WITH_AES_128_CBC_SHA"), "{w}");
        assert!(w.contains("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"), "what is used: {w}");
    }
}

#[test]
fn a_suite_outside_a_shorter_list_is_refused() {
    let ca = Ca::new("ringgate suites CA 2");
    let site = ca.leaf(&["api.contoso.local"]);
    let backend = Backend::normal();
    let gw = Gateway::start(
        &document(&backend.url(), &site, &ca, false),
        &["net.server.tls.ciphers.allowed-suites=TLS_AES_256_GCM_SHA384,TLS_RSA_WITH_AES_128_CBC_SHA"],
    );
    assert_eq!(get_with(gw.https_addr(), &ca, &rustls::version::TLS13, "TLS13_AES_256_GCM_SHA384").unwrap().0, 200);
    assert!(get_with(gw.https_addr(), &ca, &rustls::version::TLS13, "TLS13_AES_128_GCM_SHA256").is_err());
    assert!(get_with(gw.https_addr(), &ca, &rustls::version::TLS12, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256").is_err());
}

#[test]
fn a_list_with_no_suite_rustls_has_stops_the_start() {
    let (code, _out, err) = common::gateway::run_cli(&[
        "run",
        "--set",
        "net.server.http.port=0",
        "--set",
        "net.server.admin.port=0",
        "--set",
        "net.server.tls.ciphers.allowed-suites=TLS_RSA_WITH_AES_128_CBC_SHA,TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
    ]);
    assert_eq!(code, 2, "bad settings: {err}");
    assert!(err.contains("net.server.tls.ciphers.allowed-suites"), "{err}");
    assert!(err.contains("none of the listed cipher suites"), "{err}");
    assert!(err.contains("TLS_RSA_WITH_AES_128_CBC_SHA"), "{err}");
}

#[test]
fn local_ca_store_is_trusted_only_when_enabled() {
    let private = Ca::new("private CA in the container's store");
    let backend = Backend::start_tls(private.leaf(&["localhost"]).server_config(None));
    // The container's store: a CA mounted in a directory, as in /usr/local/share/ca-certificates.
    let store = tempfile::tempdir().unwrap();
    std::fs::create_dir(store.path().join("mounted")).unwrap();
    std::fs::write(store.path().join("mounted/private-ca.crt"), private.pem()).unwrap();
    // Read by the gateways this test starts (no other test in this file enables the setting).
    std::env::set_var("SSL_CERT_FILE", store.path().join("no-bundle.crt"));
    std::env::set_var("SSL_CERT_DIR", store.path());
    let doc = serde_json::json!({
        "revision": "t1",
        "apis": [{"id": "a", "path": "a", "serviceUrl": backend.url(), "subscriptionRequired": false}]
    })
    .to_string();

    let off = Gateway::start(&doc, &[]);
    assert_eq!(off.get("/a/x", &[]).status, 502, "without the setting the private CA is not trusted");
    let on = Gateway::start(&doc, &["certificates.local.ca.enabled=true"]);
    assert_eq!(on.get("/a/x", &[]).status, 200, "{}", on.log_text());
    assert!(
        on.log_text().contains("certificates.local.ca.enabled: trusting the container's CA certificates"),
        "{}",
        on.log_text()
    );
    // Enabled with an empty store: it starts, says so, and trusts the web roots only.
    let empty = tempfile::tempdir().unwrap();
    std::env::set_var("SSL_CERT_DIR", empty.path());
    let none = Gateway::start(&doc, &["certificates.local.ca.enabled=true"]);
    assert_eq!(none.get("/a/x", &[]).status, 502);
    assert!(none.log_text().contains("no CA certificate found"), "{}", none.log_text());
}
