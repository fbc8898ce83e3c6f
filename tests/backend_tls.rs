//! TLS towards backends: the chain is validated against the web roots plus trusted CAs from the
//! document; a bad chain or name is refused (502); a backend entity may bring its own CAs or
//! switch chain/name validation off; `authentication-certificate` and a backend's
//! `clientCertificateId` present a client certificate.

mod common;

use common::tls::Ca;
use common::*;
use serde_json::json;

fn get_ok(gw: &Gateway, path: &str) -> Response {
    let r = gw.get(path, &[]);
    assert_eq!(r.status, 200, "{path}: {r:?}");
    r
}

#[test]
fn backend_chains_names_custom_cas_and_client_certificates() {
    let trusted = Ca::new("trusted backend CA");
    let private = Ca::new("private backend CA"); // trusted by no one but the `own-ca` backend
    let clients = Ca::new("backend client CA");
    let good = Backend::start_tls(trusted.leaf(&["localhost"]).server_config(None));
    let unknown_ca = Backend::start_tls(private.leaf(&["localhost"]).server_config(None));
    let wrong_name = Backend::start_tls(trusted.leaf(&["other.example"]).server_config(None));
    let needs_cert = Backend::start_tls(trusted.leaf(&["localhost"]).server_config(Some(&clients)));
    let client_leaf = clients.leaf(&["gateway-client"]);

    let via = |id: &str| {
        format!(
            r#"<policies><inbound><set-backend-service backend-id="{id}" /></inbound><backend><forward-request /></backend></policies>"#
        )
    };
    let cert_policy = r#"<policies><inbound><authentication-certificate certificate-id="client" /></inbound><backend><forward-request /></backend></policies>"#;
    let api = |id: &str, url: &str, policy: Option<String>| json!({"id": id, "path": id, "serviceUrl": url, "subscriptionRequired": false, "policy": policy});
    let doc = json!({
        "revision": "b1",
        "certificates": [
            {"id": "trusted-ca", "pem": trusted.pem(), "isTrusted": true},
            {"id": "private-ca", "pem": private.pem()},
            {"id": "client", "pem": client_leaf.chain_pem, "key": client_leaf.key_pem}],
        "backends": [
            {"id": "own-ca", "url": unknown_ca.url(), "tls": {"caCertificateIds": ["private-ca"]}},
            {"id": "no-chain", "url": unknown_ca.url(), "tls": {"validateCertificateChain": false}},
            {"id": "no-name", "url": wrong_name.url(), "tls": {"validateCertificateName": false}},
            {"id": "with-cert", "url": needs_cert.url(), "tls": {"clientCertificateId": "client"}}],
        "apis": [
            api("good", &good.url(), None),
            api("unknown", &unknown_ca.url(), None),
            api("name", &wrong_name.url(), None),
            api("nochain", &unknown_ca.url(), Some(via("no-chain"))),
            api("noname", &wrong_name.url(), Some(via("no-name"))),
            api("nocert", &needs_cert.url(), None),
            api("authcert", &needs_cert.url(), Some(cert_policy.to_string())),
            api("entitycert", &needs_cert.url(), Some(via("with-cert")))]
    });
    let gw = Gateway::start(&doc.to_string(), &[]);

    get_ok(&gw, "/good/echo");
    assert_error_shape(&gw.get("/unknown/echo", &[]), 502);
    assert_error_shape(&gw.get("/name/echo", &[]), 502);
    get_ok(&gw, "/nochain/echo");
    get_ok(&gw, "/noname/echo");
    assert_error_shape(&gw.get("/nocert/echo", &[]), 502);
    get_ok(&gw, "/authcert/echo");
    get_ok(&gw, "/entitycert/echo");
    // A connection opened with a client certificate is never reused without one.
    assert_error_shape(&gw.get("/nocert/echo", &[]), 502);
    assert!(needs_cert.requests() >= 2);
}

#[test]
fn a_backend_entity_with_its_own_ca() {
    let private = Ca::new("private backend CA");
    let backend = Backend::start_tls(private.leaf(&["localhost"]).server_config(None));
    let doc = json!({
        "revision": "b2",
        "certificates": [{"id": "private-ca", "pem": private.pem()}],
        "backends": [{"id": "own-ca", "url": backend.url(), "tls": {"caCertificateIds": ["private-ca"]}}],
        "apis": [{"id": "a", "path": "a", "serviceUrl": backend.url(), "subscriptionRequired": false,
                  "policy": r#"<policies><inbound><set-backend-service backend-id="own-ca" /></inbound><backend><forward-request /></backend></policies>"#}]
    });
    let gw = Gateway::start(&doc.to_string(), &[]);
    get_ok(&gw, "/a/echo");
}

#[test]
fn an_unknown_client_certificate_is_refused_at_load() {
    let doc = json!({
        "revision": "b3",
        "apis": [{"id": "a", "path": "a", "serviceUrl": "https://localhost:1", "subscriptionRequired": false,
                  "policy": r#"<policies><inbound><authentication-certificate certificate-id="nowhere" /></inbound><backend><forward-request /></backend></policies>"#}]
    });
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("c.json");
    std::fs::write(&file, doc.to_string()).expect("write");
    let (code, out, _) = common::gateway::run_cli(&["validate", file.to_str().expect("path")]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("nowhere"), "{out}");
}
