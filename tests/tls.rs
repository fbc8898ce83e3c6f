//! HTTPS on the API port: certificates chosen by SNI (exact and wildcard names) with their full
//! chain, TLS 1.2 and 1.3 only (a TLS 1.0 hello gets an alert, `tls10Enabled` is refused at load),
//! the allowed-suites setting, and session resumption on any worker (ticket keys shared).

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use common::gateway::{metric_value, run_cli};
use common::tls::{Ca, Leaf};
use common::*;
use rustls::pki_types::{CertificateDer, ServerName};

fn config(b: &Backend, exact: &Leaf, wild: &Leaf) -> String {
    serde_json::json!({
        "revision": "t1",
        "gateway": {"hostnames": [
            {"hostname": "api.contoso.local", "certificateId": "exact"},
            {"hostname": "*.wild.local", "certificateId": "wild"}]},
        "certificates": [
            {"id": "exact", "pem": exact.chain_pem, "key": exact.key_pem},
            {"id": "wild", "pem": wild.chain_pem, "key": wild.key_pem}],
        "apis": [{"id": "a", "path": "a", "serviceUrl": b.url(), "subscriptionRequired": false}]
    })
    .to_string()
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn client_config(
    ca: &Ca,
    versions: &[&'static rustls::SupportedProtocolVersion],
    provider: Arc<rustls::crypto::CryptoProvider>,
) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from(ca.der())).expect("root");
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(cfg)
}

struct Outcome {
    status: u16,
    chain: Vec<Vec<u8>>,
    version: Option<rustls::ProtocolVersion>,
    resumed: bool,
}

/// One HTTPS GET on a fresh connection; `Err` when the handshake fails.
fn https_get(addr: std::net::SocketAddr, cfg: &Arc<rustls::ClientConfig>, sni: &str) -> Result<Outcome, String> {
    let name = ServerName::try_from(sni.to_string()).map_err(|e| e.to_string())?;
    let mut conn = rustls::ClientConnection::new(cfg.clone(), name).map_err(|e| e.to_string())?;
    let mut tcp = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let mut tls = rustls::Stream::new(&mut conn, &mut tcp);
    let req = format!("GET /a/echo HTTP/1.1\r\nHost: {sni}\r\nConnection: close\r\n\r\n");
    tls.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    let _ = tls.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out);
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| format!("no response: {text}"))?;
    Ok(Outcome {
        status,
        chain: conn.peer_certificates().unwrap_or_default().iter().map(|c| c.to_vec()).collect(),
        version: conn.protocol_version(),
        resumed: conn.handshake_kind() == Some(rustls::HandshakeKind::Resumed),
    })
}

#[test]
fn sni_picks_the_certificate_and_sends_the_chain() {
    let b = Backend::normal();
    let ca = Ca::new("ringgate tls test CA");
    let (exact, wild) = (ca.leaf(&["api.contoso.local"]), ca.leaf(&["*.wild.local"]));
    let gw = Gateway::start(&config(&b, &exact, &wild), &[]);
    let cfg = client_config(&ca, rustls::ALL_VERSIONS, provider());

    let r = https_get(gw.https_addr(), &cfg, "api.contoso.local").expect("exact name");
    assert_eq!(r.status, 200);
    assert_eq!(r.chain.first(), Some(&exact.der), "the exact name's certificate");
    assert_eq!(r.chain.len(), 2, "leaf and CA sent");
    let r = https_get(gw.https_addr(), &cfg, "eu.wild.local").expect("wildcard name");
    assert_eq!(r.status, 200);
    assert_eq!(r.chain.first(), Some(&wild.der), "the wildcard certificate");
    // A name no hostname covers gets no certificate.
    assert!(https_get(gw.https_addr(), &cfg, "other.example").is_err());
}

#[test]
fn tls_12_and_13_work_and_older_versions_are_refused() {
    let b = Backend::normal();
    let ca = Ca::new("ringgate tls test CA");
    let (exact, wild) = (ca.leaf(&["api.contoso.local"]), ca.leaf(&["*.wild.local"]));
    let gw = Gateway::start(&config(&b, &exact, &wild), &[]);
    for (v, want) in [
        (&rustls::version::TLS12, rustls::ProtocolVersion::TLSv1_2),
        (&rustls::version::TLS13, rustls::ProtocolVersion::TLSv1_3),
    ] {
        let cfg = client_config(&ca, &[v], provider());
        let r = https_get(gw.https_addr(), &cfg, "api.contoso.local").expect("handshake");
        assert_eq!((r.status, r.version), (200, Some(want)));
    }
    // A TLS 1.0 ClientHello (no supported_versions extension) gets an alert, never a ServerHello.
    let mut hello = vec![0x03, 0x01];
    hello.extend_from_slice(&[7u8; 32]);
    hello.extend_from_slice(&[0x00, 0x00, 0x04, 0xc0, 0x13, 0x00, 0x2f, 0x01, 0x00]);
    let mut hs = vec![0x01, 0x00, (hello.len() >> 8) as u8, hello.len() as u8];
    hs.extend_from_slice(&hello);
    let mut record = vec![0x16, 0x03, 0x01, (hs.len() >> 8) as u8, hs.len() as u8];
    record.extend_from_slice(&hs);
    let mut tcp = TcpStream::connect(gw.https_addr()).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(10))).ok();
    tcp.write_all(&record).expect("hello");
    let mut first = [0u8; 1];
    let n = tcp.read(&mut first).unwrap_or(0);
    assert!(n == 1 && first[0] == 0x15, "a TLS alert record, not a handshake record or a bare close: {n} {first:?}");

    // tls10Enabled / tls11Enabled are refused at load.
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("c.json");
    let mut doc: serde_json::Value = serde_json::from_str(&config(&b, &exact, &wild)).expect("json");
    doc["gateway"]["hostnames"][0]["tls10Enabled"] = true.into();
    std::fs::write(&file, doc.to_string()).expect("write");
    let (code, out, _) = run_cli(&["validate", file.to_str().expect("path")]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("tls10Enabled"), "{out}");
}

#[test]
fn suites_outside_the_allowed_list_are_refused() {
    let b = Backend::normal();
    let ca = Ca::new("ringgate tls test CA");
    let (exact, wild) = (ca.leaf(&["api.contoso.local"]), ca.leaf(&["*.wild.local"]));
    let gw = Gateway::start(
        &config(&b, &exact, &wild),
        &["net.server.tls.ciphers.allowed-suites=TLS_AES_256_GCM_SHA384,TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"],
    );
    let only = |name: &str| {
        let mut p = rustls::crypto::ring::default_provider();
        p.cipher_suites.retain(|s| format!("{:?}", s.suite()) == name);
        assert_eq!(p.cipher_suites.len(), 1, "{name}");
        Arc::new(p)
    };
    let ok = client_config(&ca, &[&rustls::version::TLS13], only("TLS13_AES_256_GCM_SHA384"));
    assert_eq!(https_get(gw.https_addr(), &ok, "api.contoso.local").expect("allowed suite").status, 200);
    let refused = client_config(&ca, &[&rustls::version::TLS13], only("TLS13_AES_128_GCM_SHA256"));
    assert!(https_get(gw.https_addr(), &refused, "api.contoso.local").is_err(), "a suite outside the list");
    let refused12 = client_config(&ca, &[&rustls::version::TLS12], only("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"));
    assert!(https_get(gw.https_addr(), &refused12, "api.contoso.local").is_err());

    // An unknown suite name stops the gateway at start with a clear error.
    let doc = config(&b, &exact, &wild);
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("c.json");
    std::fs::write(&file, doc).expect("write");
    let mut p = common::gateway::Proc::spawn(&[
        "run".into(),
        "--set".into(),
        format!("config.local.path={}", file.display()),
        "--set".into(),
        "net.server.http.port=0".into(),
        "--set".into(),
        "net.server.admin.port=0".into(),
        "--set".into(),
        "net.server.https.port=0".into(),
        "--set".into(),
        "net.server.tls.ciphers.allowed-suites=TLS_NOT_A_SUITE".into(),
    ]);
    let status = p.wait_exit(Duration::from_secs(10));
    assert!(!status.success());
    assert!(p.log_text().contains("TLS_NOT_A_SUITE"), "{}", p.log_text());
}

#[test]
fn sessions_resume_on_any_worker() {
    let b = Backend::normal();
    let ca = Ca::new("ringgate tls test CA");
    let (exact, wild) = (ca.leaf(&["api.contoso.local"]), ca.leaf(&["*.wild.local"]));
    let gw = Gateway::start(&config(&b, &exact, &wild), &[]);
    for versions in [&[&rustls::version::TLS13][..], &[&rustls::version::TLS12][..]] {
        let cfg = client_config(&ca, versions, provider()); // one session store, shared by the connections
        let first = https_get(gw.https_addr(), &cfg, "api.contoso.local").expect("full handshake");
        assert!(!first.resumed);
        let mut resumed = 0;
        for _ in 0..20 {
            let r = https_get(gw.https_addr(), &cfg, "api.contoso.local").expect("handshake");
            assert_eq!(r.status, 200);
            resumed += usize::from(r.resumed);
        }
        assert_eq!(resumed, 20, "every later connection resumes, whichever worker takes it ({versions:?})");
    }
    // Connections spread over both workers (SO_REUSEPORT hashes the client port), so resumption
    // worked on each of them.
    let m = gw.metrics();
    for w in ["0", "1"] {
        let n = metric_value(&m, "ringgate_worker_requests_total", &[("worker", w)]).unwrap_or(0.0);
        assert!(n > 0.0, "worker {w} served none of the 42 connections:\n{m}");
    }
}
