//! The control side under hostile input (issue #23, classes 3 and 6), real processes:
//! - the control plane authenticates from the request head alone: an unauthenticated request
//!   with a large or never-arriving body is answered 401 (404 for nowhere) at once, without its
//!   body being read; an authenticated upload over `--max-document-bytes` is 413; a head that
//!   never completes is 408;
//! - it serves HTTPS; a gateway verifies it with `config.service.endpoint.ca-file`, refuses an
//!   endpoint whose certificate it cannot verify (and keeps serving its backup: fail static),
//!   and refuses to send its token over plain http unless allowed for development.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::gateway::{managed_gateway, ControlPlane};
use common::*;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::{json, Value};

fn master(b: &Backend) -> Value {
    json!({
        "apis": [{"id": "a", "path": "a", "serviceUrl": b.url(), "subscriptionRequired": false}],
        "gateways": [{"id": "west", "apis": ["a"]}]
    })
}

/// A TLS connection to the control plane, trusting its generated certificate.
fn tls_conn(cp: &ControlPlane) -> rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
    let pem = std::fs::read(cp.ca_file()).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls_pemfile::certs(&mut pem.as_slice()) {
        roots.add(CertificateDer::from(c.unwrap().to_vec())).unwrap();
    }
    let cfg = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let conn = rustls::ClientConnection::new(Arc::new(cfg), ServerName::try_from("127.0.0.1").unwrap()).unwrap();
    let tcp = TcpStream::connect(cp.addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    rustls::StreamOwned::new(conn, tcp)
}

/// Sends `head` (and nothing else) and reads the answer: (status, whole text, time taken).
fn head_only(cp: &ControlPlane, head: &str) -> (u16, String, Duration) {
    let mut s = tls_conn(cp);
    let t = Instant::now();
    s.write_all(head.as_bytes()).unwrap();
    s.flush().unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, text, t.elapsed())
}

#[test]
fn unauthenticated_bodies_are_never_read_and_uploads_have_a_cap() {
    let b = Backend::normal();
    let tmp = tempfile::tempdir().unwrap();
    let cp = ControlPlane::start(&tmp.path().join("cp"), "127.0.0.1:0", &["--max-document-bytes", "4096"]);
    assert_eq!(cp.call("PUT", "/admin/document", &master(&b), None).status, 200);

    // A promised 1 GiB that never comes: answered at once, not after reading (or waiting for) it.
    for (head, want) in [
        ("PUT /admin/document HTTP/1.1\r\nHost: cp\r\nContent-Length: 1073741824\r\n\r\n", 401),
        (
            "PUT /admin/document HTTP/1.1\r\nHost: cp\r\nAuthorization: Bearer wrong\r\nTransfer-Encoding: chunked\r\n\r\n",
            401,
        ),
        ("POST /gateways/west/heartbeat HTTP/1.1\r\nHost: cp\r\nContent-Length: 1073741824\r\n\r\n", 401),
        (
            "POST /gateways/west/heartbeat HTTP/1.1\r\nHost: cp\r\nAuthorization: GatewayKey west&202001010000&AAAA\r\nContent-Length: 99999999\r\n\r\n",
            401,
        ),
        ("POST /anywhere HTTP/1.1\r\nHost: cp\r\nContent-Length: 1073741824\r\n\r\n", 404),
    ] {
        let (status, text, took) = head_only(&cp, head);
        assert_eq!(status, want, "{head:?} → {text}");
        assert!(took < Duration::from_secs(5), "answered only after {took:?}: {head:?}");
    }

    // Authenticated, over the upload cap: 413 before the body is read.
    let big = format!(
        "PUT /admin/document HTTP/1.1\r\nHost: cp\r\nAuthorization: Bearer {}\r\nContent-Length: 5000\r\n\r\n",
        cp.key
    );
    let (status, text, _) = head_only(&cp, &big);
    assert_eq!(status, 413, "{text}");
    // Under the cap it is read and checked as before.
    let bearer = format!("Bearer {}", cp.key);
    let r = cp.raw("PUT", "/admin/document", Some(&bearer), master(&b).to_string().as_bytes());
    assert_eq!(r.status, 200, "{}", r.text());
    // A heartbeat is small: a valid token may not send megabytes either.
    let token = cp.token("west");
    let hb = format!("POST /gateways/west/heartbeat HTTP/1.1\r\nHost: cp\r\nAuthorization: {token}\r\nContent-Length: 10000000\r\n\r\n");
    assert_eq!(head_only(&cp, &hb).0, 413);

    // A head that never ends: 408 after the head deadline (10 s), not a thread held forever.
    let (status, text, took) = head_only(&cp, "GET /admin/document HTTP/1.1\r\nHost: cp\r\nX-Slow: ");
    assert_eq!(status, 408, "{text}");
    assert!(took < Duration::from_secs(15), "{took:?}");
}

#[test]
fn gateways_verify_the_control_plane_and_fail_static_on_a_wrong_certificate() {
    let b = Backend::normal();
    let tmp = tempfile::tempdir().unwrap();
    let cp = ControlPlane::start(&tmp.path().join("cp"), "127.0.0.1:0", &[]);
    assert!(cp.url().starts_with("https://"), "HTTPS by default");
    assert!(cp.proc.log_text().contains("SHA-256 fingerprint"), "{}", cp.proc.log_text());
    assert_eq!(cp.call("PUT", "/admin/document", &master(&b), None).status, 200);
    let token = cp.token("west");
    let backup = tmp.path().join("backup");

    // With the right ca-file: served, and a backup written.
    let sets = vec![
        format!("config.service.endpoint.ca-file={}", cp.ca_file().display()),
        format!("config.backup.path={}", backup.display()),
    ];
    let (gw, http, _) = managed_gateway(&cp.url(), &token, &sets);
    wait_until("served through the control plane", Duration::from_secs(10), || {
        (common::client::get(http, "/a/x", &[]).status == 200 && backup.join("ringgate-config.backup").exists())
            .then_some(())
    });
    drop(gw);

    // Another control plane's certificate as ca-file: the endpoint is refused, the backup serves.
    let other = ControlPlane::start(&tmp.path().join("other"), "127.0.0.1:0", &[]);
    let sets = vec![
        format!("config.service.endpoint.ca-file={}", other.ca_file().display()),
        format!("config.backup.path={}", backup.display()),
    ];
    let (gw, http, admin) = managed_gateway(&cp.url(), &token, &sets);
    let status = wait_until("the certificate refusal in /status", Duration::from_secs(10), || {
        let s = common::client::get(admin, "/status", &[]).json();
        s["endpointError"].as_str().is_some_and(|e| e.to_ascii_lowercase().contains("certificate")).then_some(s)
    });
    assert_eq!(status["source"], "backup", "{status}");
    assert_eq!(common::client::get(http, "/a/x", &[]).status, 200, "fail static: the backup serves");
    drop(gw);

    // No ca-file: the system roots do not know a self-signed certificate.
    let (gw, _http, admin) = managed_gateway(&cp.url(), &token, &[]);
    wait_until("the certificate refusal", Duration::from_secs(10), || {
        let s = common::client::get(admin, "/status", &[]).json();
        s["endpointError"].as_str().is_some_and(|e| e.to_ascii_lowercase().contains("certificate")).then_some(())
    });
    drop(gw);
}

#[test]
fn the_token_is_not_sent_over_plain_http_unless_allowed() {
    let b = Backend::normal();
    let tmp = tempfile::tempdir().unwrap();
    let cp = ControlPlane::start(&tmp.path().join("cp"), "127.0.0.1:0", &["--plain-http"]);
    assert_eq!(cp.scheme, "http");
    assert!(cp.proc.log_text().contains("warning: --plain-http"), "{}", cp.proc.log_text());
    assert_eq!(cp.call("PUT", "/admin/document", &master(&b), None).status, 200);
    let token = cp.token("west");

    // Not allowed: the gateway stops at start with a clear reason, having sent nothing.
    let mut args = vec!["run".to_string()];
    for s in [
        format!("config.service.endpoint={}", cp.url()),
        format!("config.service.auth={token}"),
        "net.server.http.port=0".into(),
        "net.server.https.port=0".into(),
        "net.server.admin.port=0".into(),
    ] {
        args.push("--set".into());
        args.push(s);
    }
    let mut refused = Proc::spawn(&args);
    assert_eq!(refused.wait_exit(Duration::from_secs(10)).code(), Some(2), "{}", refused.log_text());
    assert!(refused.log_text().contains("config.service.endpoint.allow-plain-http"), "{}", refused.log_text());
    let view = cp.call("GET", "/admin/gateways", &Value::Null, None).json();
    assert_eq!(view[0]["instances"], json!([]), "no call reached the control plane: {view}");

    // Allowed for development: works, with a warning.
    let (gw, http, _) = managed_gateway(&cp.url(), &token, &["config.service.endpoint.allow-plain-http=true".into()]);
    wait_until("served", Duration::from_secs(10), || {
        (common::client::get(http, "/a/x", &[]).status == 200).then_some(())
    });
    assert!(gw.log_text().contains("travel in the clear"), "{}", gw.log_text());
}

#[test]
fn the_gateway_admin_port_takes_no_bodies() {
    let b = Backend::normal();
    let doc = json!({"revision": "r1", "apis": [{"id": "a", "path": "a", "serviceUrl": b.url(), "subscriptionRequired": false}]});
    let gw = Gateway::start(&doc.to_string(), &[]);
    for head in [
        "POST /status HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000\r\n\r\n",
        "POST /metrics HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
    ] {
        let mut s = TcpStream::connect(gw.admin_addr()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(head.as_bytes()).unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        let text = String::from_utf8_lossy(&out);
        assert!(text.starts_with("HTTP/1.1 413"), "{head:?} → {text}");
    }
    assert_eq!(gw.admin_get("/status").status, 200);
}
