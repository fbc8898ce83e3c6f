//! Client certificates end to end (`negotiateClientCertificate`, `validate-client-certificate`,
//! `context.Request.Certificate`): a real gateway, a rustls client presenting certificates made
//! here with rcgen. A certificate from the trusted CA with the right identity is admitted (also
//! on a resumed session); no certificate, an untrusted one, an expired one and a wrong identity
//! get 401 with their reasons; the backend sees the thumbprint an expression read; a document
//! without `negotiateClientCertificate` never receives a certificate.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use common::gateway::run_cli;
use common::tls::{Ca, Leaf};
use common::*;
use rcgen::{CertificateParams, DnType, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use serde_json::{json, Value};

const HOST: &str = "api.contoso.local";

/// A client certificate signed by `ca`, common name `cn`; `expired`: valid 2020 only.
struct ClientCert {
    der: Vec<u8>,
    key_der: Vec<u8>,
    ca_der: Vec<u8>,
}

fn client_cert(ca: &Ca, cn: &str, expired: bool) -> ClientCert {
    let mut p = CertificateParams::new(vec![format!("{cn}.clients.local")]).unwrap();
    p.distinguished_name.push(DnType::CommonName, cn);
    if expired {
        p.not_before = rcgen::date_time_ymd(2020, 1, 1);
        p.not_after = rcgen::date_time_ymd(2020, 12, 31);
    }
    let key = KeyPair::generate().unwrap();
    let cert = p.signed_by(&key, &ca.cert, &ca.key).unwrap();
    ClientCert { der: cert.der().to_vec(), key_der: key.serialize_der(), ca_der: ca.der() }
}

fn thumbprint(der: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, der)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}

fn client_config(server_ca: &Ca, cert: Option<&ClientCert>) -> Arc<rustls::ClientConfig> {
    client_config_v(server_ca, cert, rustls::DEFAULT_VERSIONS)
}

fn client_config_v(
    server_ca: &Ca,
    cert: Option<&ClientCert>,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from(server_ca.der())).unwrap();
    let b = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_protocol_versions(versions)
        .unwrap()
        .with_root_certificates(roots);
    let cfg = match cert {
        None => b.with_no_client_auth(),
        Some(c) => b
            .with_client_auth_cert(
                vec![CertificateDer::from(c.der.clone()), CertificateDer::from(c.ca_der.clone())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(c.key_der.clone())),
            )
            .unwrap(),
    };
    Arc::new(cfg)
}

struct Reply {
    status: u16,
    head: String,
    body: String,
    resumed: bool,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
    /// A header the backend received (from its echo).
    fn seen(&self, name: &str) -> Vec<String> {
        let echo: Value = serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not an echo: {}", self.body));
        echoed_headers(&echo, name)
    }
}

use common::backend::echoed_headers;

fn https_get(addr: SocketAddr, cfg: &Arc<rustls::ClientConfig>, path: &str) -> Reply {
    let mut conn = rustls::ClientConnection::new(cfg.clone(), ServerName::try_from(HOST).unwrap()).unwrap();
    let mut tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let mut tls = rustls::Stream::new(&mut conn, &mut tcp);
    let req = format!("GET {path} HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n");
    tls.write_all(req.as_bytes()).expect("request sent (handshake done)");
    let mut out = Vec::new();
    let _ = tls.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("no response: {text}"));
    Reply {
        status,
        head: head.to_string(),
        body: body.to_string(),
        resumed: conn.handshake_kind() == Some(rustls::HandshakeKind::Resumed),
    }
}

const ON_ERROR: &str = r#"<on-error><set-header name="X-Reason" exists-action="override"><value>@(context.LastError.Reason)</value></set-header></on-error>"#;

fn doc(b: &Backend, server: &Leaf, trusted: &Ca, negotiate: bool) -> String {
    let strict = format!(
        r#"<policies><inbound>
          <validate-client-certificate validate-revocation="false" validate-trust="true" validate-not-before="true" validate-not-after="true" ignore-error="false">
            <identities>
              <identity common-name="client-1" issuer-certificate-id="clients-ca"/>
              <identity thumbprint="00112233445566778899AABBCCDDEEFF00112233"/>
            </identities>
          </validate-client-certificate>
          <set-header name="X-Thumb" exists-action="override"><value>@(context.Request.Certificate.Thumbprint)</value></set-header>
          <set-header name="X-Subject" exists-action="override"><value>@(context.Request.Certificate.SubjectName.Name)</value></set-header>
          <set-header name="X-Verified" exists-action="override"><value>@(context.Request.Certificate.Verify().ToString())</value></set-header>
        </inbound><backend><forward-request/></backend>{ON_ERROR}</policies>"#
    );
    let open = r#"<policies><inbound>
          <set-header name="X-Cert" exists-action="override"><value>@(context.Request.Certificate == null ? "none" : context.Request.Certificate.Thumbprint)</value></set-header>
        </inbound><backend><forward-request/></backend></policies>"#;
    let lenient = format!(
        r#"<policies><inbound><validate-client-certificate validate-revocation="false" ignore-error="true"/></inbound><backend><forward-request/></backend>{ON_ERROR}</policies>"#
    );
    json!({
        "revision": "m1",
        "gateway": {"hostnames": [{"hostname": HOST, "certificateId": "server", "negotiateClientCertificate": negotiate}]},
        "certificates": [
            {"id": "server", "pem": server.chain_pem, "key": server.key_pem},
            {"id": "clients-ca", "pem": trusted.pem(), "isTrusted": true}],
        "apis": [
            {"id": "strict", "path": "strict", "serviceUrl": b.url(), "subscriptionRequired": false, "policy": strict},
            {"id": "open", "path": "open", "serviceUrl": b.url(), "subscriptionRequired": false, "policy": open},
            {"id": "lenient", "path": "lenient", "serviceUrl": b.url(), "subscriptionRequired": false, "policy": lenient}]
    })
    .to_string()
}

#[test]
fn trusted_certificate_admitted_others_refused() {
    let b = Backend::normal();
    let server_ca = Ca::new("mtls server CA");
    let server = server_ca.leaf(&[HOST]);
    let clients_ca = Ca::new("mtls clients CA");
    let rogue_ca = Ca::new("mtls clients CA"); // same name, other key: not trusted
    let gw = Gateway::start(&doc(&b, &server, &clients_ca, true), &[]);
    let addr = gw.https_addr();

    let good = client_cert(&clients_ca, "client-1", false);
    let cfg = client_config(&server_ca, Some(&good));
    let r = https_get(addr, &cfg, "/strict/echo");
    assert_eq!(r.status, 200, "{} {}", r.head, r.body);
    assert_eq!(r.seen("x-thumb"), vec![thumbprint(&good.der)]);
    assert_eq!(r.seen("x-subject"), vec!["CN=client-1".to_string()]);
    assert_eq!(r.seen("x-verified"), vec!["True".to_string()]);
    // A resumed session still carries the certificate.
    let again = https_get(addr, &cfg, "/strict/echo");
    assert!(again.resumed, "the second connection resumes");
    assert_eq!(again.status, 200, "{}", again.head);
    assert_eq!(again.seen("x-thumb"), vec![thumbprint(&good.der)]);
    // TLS 1.2 signs the handshake differently (CertificateVerify over the transcript).
    let tls12 = client_config_v(&server_ca, Some(&good), &[&rustls::version::TLS12]);
    let r = https_get(addr, &tls12, "/strict/echo");
    assert_eq!(r.status, 200, "{}", r.head);
    assert_eq!(r.seen("x-thumb"), vec![thumbprint(&good.der)]);
    // The open API reads the certificate without judging it.
    let r = https_get(addr, &cfg, "/open/echo");
    assert_eq!(r.seen("x-cert"), vec![thumbprint(&good.der)]);

    let refused = |cfg: &Arc<rustls::ClientConfig>, reason: &str| {
        let r = https_get(addr, cfg, "/strict/echo");
        assert_eq!((r.status, r.header("x-reason")), (401, Some(reason)), "{}", r.head);
    };
    let none = client_config(&server_ca, None);
    refused(&none, "ClientCertificateNotPresent");
    assert_eq!(https_get(addr, &none, "/open/echo").seen("x-cert"), vec!["none".to_string()]);
    refused(
        &client_config(&server_ca, Some(&client_cert(&rogue_ca, "client-1", false))),
        "ClientCertificateNotTrusted",
    );
    refused(&client_config(&server_ca, Some(&client_cert(&clients_ca, "client-1", true))), "ClientCertificateExpired");
    refused(
        &client_config(&server_ca, Some(&client_cert(&clients_ca, "client-2", false))),
        "ClientCertificateIdentityNotAllowed",
    );
    // ignore-error: the failure is recorded nowhere and the call goes on.
    assert_eq!(https_get(addr, &none, "/lenient/echo").status, 200);
}

#[test]
fn without_negotiate_no_certificate_is_asked_for() {
    let b = Backend::normal();
    let server_ca = Ca::new("mtls server CA");
    let server = server_ca.leaf(&[HOST]);
    let clients_ca = Ca::new("mtls clients CA");
    let gw = Gateway::start(&doc(&b, &server, &clients_ca, false), &[]);
    let good = client_cert(&clients_ca, "client-1", false);
    let cfg = client_config(&server_ca, Some(&good));
    // The client would present its certificate if asked: the gateway never sees one.
    let r = https_get(gw.https_addr(), &cfg, "/open/echo");
    assert_eq!(r.status, 200);
    assert_eq!(r.seen("x-cert"), vec!["none".to_string()]);
    let r = https_get(gw.https_addr(), &cfg, "/strict/echo");
    assert_eq!((r.status, r.header("x-reason")), (401, Some("ClientCertificateNotPresent")));
}

#[test]
fn revocation_checks_are_refused_at_load() {
    let b = Backend::normal();
    let server_ca = Ca::new("mtls server CA");
    let server = server_ca.leaf(&[HOST]);
    let mut d: Value = serde_json::from_str(&doc(&b, &server, &Ca::new("c"), true)).unwrap();
    d["apis"][2]["policy"] = json!(
        r#"<policies><inbound><validate-client-certificate validate-revocation="true"/></inbound><backend><forward-request/></backend></policies>"#
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.json");
    std::fs::write(&file, d.to_string()).unwrap();
    let (code, out, err) = run_cli(&["validate", file.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(format!("{out}{err}").contains("validate-revocation"), "{out}{err}");
}

/// Runs a command to completion, panicking with its output when it fails.
fn run(cmd: &str, args: &[&str], dir: &std::path::Path) -> String {
    let out = std::process::Command::new(cmd)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{cmd} is needed for this test (apt-get install {cmd}): {e}"));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{cmd} {args:?} failed:\n{text}");
    text
}

/// An X.509 v1 client certificate as the openssl command line makes it by default
/// (`openssl req` + `openssl x509 -req`, no extensions), signed by an openssl-made CA named `ca`.
fn openssl_v1_client(dir: &std::path::Path, ca: &str, cn: &str) {
    run(
        "openssl",
        &["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
            .into_iter()
            .chain(["-keyout", &format!("{ca}.key"), "-out", &format!("{ca}.pem"), "-subj", &format!("/CN={ca}")])
            .chain(["-days", "30"])
            .collect::<Vec<_>>(),
        dir,
    );
    run(
        "openssl",
        &["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
            .into_iter()
            .chain(["-keyout", &format!("{cn}.key"), "-out", &format!("{cn}.csr"), "-subj", &format!("/CN={cn}")])
            .collect::<Vec<_>>(),
        dir,
    );
    run(
        "openssl",
        &[
            "x509",
            "-req",
            "-in",
            &format!("{cn}.csr"),
            "-CA",
            &format!("{ca}.pem"),
            "-CAkey",
            &format!("{ca}.key"),
            "-CAcreateserial",
            "-out",
            &format!("{cn}.pem"),
            "-days",
            "30",
        ],
        dir,
    );
    let text = run("openssl", &["x509", "-in", &format!("{cn}.pem"), "-noout", "-text"], dir);
    assert!(text.contains("Version: 1 (0x0)"), "openssl made a certificate that is not v1:\n{text}");
}

/// curl presenting `cn`'s certificate: (status, the backend's echo or the error reason).
fn curl(dir: &std::path::Path, addr: SocketAddr, cn: &str, path: &str, tls12: bool) -> (u16, String, String) {
    let url = format!("https://{HOST}:{}{path}", addr.port());
    let resolve = format!("{HOST}:{}:127.0.0.1", addr.port());
    let (cert, key) = (format!("{cn}.pem"), format!("{cn}.key"));
    let mut args = vec!["-sS", "--max-time", "10", "--cacert", "server-ca.pem", "--cert", &cert, "--key", &key];
    args.extend(["--resolve", &resolve, "-D", "headers.txt", "-o", "body.txt", &url]);
    if tls12 {
        args.push("--tls-max");
        args.push("1.2");
    }
    run("curl", &args, dir);
    let head = std::fs::read_to_string(dir.join("headers.txt")).unwrap();
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let reason = head
        .lines()
        .find_map(|l| {
            l.split_once(':').filter(|(n, _)| n.eq_ignore_ascii_case("x-reason")).map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_default();
    (status, std::fs::read_to_string(dir.join("body.txt")).unwrap(), reason)
}

#[test]
fn an_openssl_v1_client_certificate_reaches_the_policy_over_curl() {
    let b = Backend::normal();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl_v1_client(d, "v1-ca", "client-v1");
    openssl_v1_client(d, "rogue-ca", "rogue-client");
    let server_ca = Ca::new("mtls server CA");
    let server = server_ca.leaf(&[HOST]);
    std::fs::write(d.join("server-ca.pem"), server_ca.pem()).unwrap();
    let v1_ca = std::fs::read_to_string(d.join("v1-ca.pem")).unwrap();
    let policy = format!(
        r#"<policies><inbound>
          <validate-client-certificate validate-revocation="false" validate-trust="true" validate-not-before="true" validate-not-after="true" ignore-error="false">
            <identities><identity common-name="client-v1"/></identities>
          </validate-client-certificate>
          <set-header name="X-Thumb" exists-action="override"><value>@(context.Request.Certificate.Thumbprint)</value></set-header>
          <set-header name="X-Subject" exists-action="override"><value>@(context.Request.Certificate.SubjectName.Name)</value></set-header>
          <set-header name="X-Verified" exists-action="override"><value>@(context.Request.Certificate.Verify().ToString())</value></set-header>
        </inbound><backend><forward-request/></backend>{ON_ERROR}</policies>"#
    );
    let doc = json!({
        "revision": "v1",
        "gateway": {"hostnames": [{"hostname": HOST, "certificateId": "server", "negotiateClientCertificate": true}]},
        "certificates": [
            {"id": "server", "pem": server.chain_pem, "key": server.key_pem},
            {"id": "v1-ca", "pem": v1_ca, "isTrusted": true}],
        "apis": [{"id": "v1", "path": "v1", "serviceUrl": b.url(), "subscriptionRequired": false, "policy": policy}]
    });
    let gw = Gateway::start(&doc.to_string(), &[]);
    let pem = std::fs::read(d.join("client-v1.pem")).unwrap();
    let der = rustls_pemfile::certs(&mut pem.as_slice()).next().unwrap().unwrap().to_vec();
    for tls12 in [false, true] {
        let (status, body, reason) = curl(d, gw.https_addr(), "client-v1", "/v1/echo", tls12);
        assert_eq!(status, 200, "TLS 1.2 only: {tls12}; reason {reason:?}; {body}");
        let echo: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(echoed_headers(&echo, "x-thumb"), vec![thumbprint(&der)]);
        assert_eq!(echoed_headers(&echo, "x-subject"), vec!["CN=client-v1".to_string()]);
        assert_eq!(echoed_headers(&echo, "x-verified"), vec!["True".to_string()]);
    }
    // The handshake took the untrusted v1 certificate too: the policy refuses it, with its reason.
    let (status, _, reason) = curl(d, gw.https_addr(), "rogue-client", "/v1/echo", false);
    assert_eq!((status, reason.as_str()), (401, "ClientCertificateNotTrusted"));
}
