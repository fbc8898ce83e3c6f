//! `validate-client-certificate` through the loader: load-time refusals, and identities checked
//! against the trust built from a loaded document's certificates.

use super::documents::{config, load, load_err};
use crate::policy::policies::validate_client_certificate::{Identity, ValidateClientCertificate};
use crate::policy::runtime::PolicyContext;
use crate::policy::testkit::{info, FakeReq};
use crate::tls::client_auth::ClientTrust;
use crate::tls::x509;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use rustls::pki_types::CertificateDer;
use std::sync::Arc;

fn ca(name: &str) -> (rcgen::Certificate, KeyPair) {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name.push(DnType::CommonName, name);
    let key = KeyPair::generate().unwrap();
    (p.self_signed(&key).unwrap(), key)
}

fn policy(attrs: &str, identities: &str) -> String {
    format!(
        r#"<policies><inbound><validate-client-certificate {attrs}><identities>{identities}</identities></validate-client-certificate></inbound></policies>"#
    )
}

#[test]
fn load_time_checks() {
    let problems = |p: &str| load_err(&config(None, None, Some(p), None)).join("\n");
    assert!(problems(&policy(r#"validate-revocation="true""#, "")).contains("validate-revocation"));
    assert!(problems(&policy(r#"validate-revocation="false""#, "<identity/>")).contains("at least one attribute"));
    assert!(problems(&policy("", r#"<identity thumbprint="AB" color="red"/>"#)).contains("color"));
    let eleven = r#"<identity common-name="x"/>"#.repeat(11);
    assert!(problems(&policy("", &eleven)).contains("at most 10"));
    assert_eq!(problems(&policy("", r#"<identity common-name="x" certificate-id="c"/>"#)), "");
}

#[test]
fn identities_match_each_attribute() {
    let (ca_cert, ca_key) = ca("Clients CA");
    let (other_ca, _) = ca("Other CA");
    let mut p = CertificateParams::new(vec!["client-1.contoso.local".to_string()]).unwrap();
    p.distinguished_name.push(DnType::CommonName, "client-1");
    p.serial_number = Some(rcgen::SerialNumber::from_slice(&[0x01, 0x2f]));
    let key = KeyPair::generate().unwrap();
    let leaf = p.signed_by(&key, &ca_cert, &ca_key).unwrap();
    let doc = serde_json::json!({"certificates": [
        {"id": "clients", "pem": ca_cert.pem(), "isTrusted": true},
        {"id": "other", "pem": other_ca.pem(), "isTrusted": true},
        {"id": "me", "pem": leaf.pem()}], "apis": []});
    let trust =
        ClientTrust::build(&load(&doc).certificates, &Arc::new(rustls::crypto::ring::default_provider())).unwrap();
    let req = FakeReq::new("GET", "/orders/items/1");
    let mut ctx = PolicyContext::new(&req, info("10.0.0.1"));
    ctx.client_chain = Some(Arc::from(vec![CertificateDer::from(leaf.der().to_vec())]));
    ctx.client_trust = Some(&trust);
    let run = |id: Identity| {
        let v = ValidateClientCertificate {
            trust: true,
            not_before: true,
            not_after: true,
            ignore_error: false,
            identities: vec![id],
        };
        v.check(&ctx).map_err(|f| f.reason)
    };
    let s = |x: &str| Some(Box::<str>::from(x));
    let ok = |id: Identity| assert_eq!(run(id.clone()), Ok(()), "{id:?}");
    let no = |id: Identity| assert_eq!(run(id.clone()), Err("ClientCertificateIdentityNotAllowed".into()), "{id:?}");
    let thumb = x509::thumbprint(leaf.der());
    ok(Identity { thumbprint: s(&thumb.to_lowercase()), ..Default::default() });
    no(Identity { thumbprint: s("00"), ..Default::default() });
    ok(Identity { serial_number: s("12F"), ..Default::default() });
    ok(Identity { common_name: s("CLIENT-1"), subject: s("cn=client-1"), ..Default::default() });
    no(Identity { common_name: s("client-1"), subject: s("CN=client-2"), ..Default::default() });
    ok(Identity { dns_name: s("client-1.contoso.local"), ..Default::default() });
    no(Identity { dns_name: s("client-1"), ..Default::default() });
    ok(Identity { issuer_subject: s("CN=Clients CA"), ..Default::default() });
    ok(Identity { issuer_thumbprint: s(&x509::thumbprint(ca_cert.der())), ..Default::default() });
    no(Identity { issuer_thumbprint: s(&x509::thumbprint(other_ca.der())), ..Default::default() });
    ok(Identity { issuer_certificate_id: s("clients"), certificate_id: s("me"), ..Default::default() });
    no(Identity { issuer_certificate_id: s("other"), ..Default::default() });
    no(Identity { certificate_id: s("clients"), ..Default::default() });
    no(Identity { certificate_id: s("missing"), ..Default::default() });

    // Without a chain to a trusted CA (nothing trusted), trust fails before identities.
    let none = ClientTrust::default();
    let mut ctx2 = PolicyContext::new(&req, info("10.0.0.1"));
    ctx2.client_chain = ctx.client_chain.clone();
    ctx2.client_trust = Some(&none);
    let v = ValidateClientCertificate {
        trust: true,
        not_before: true,
        not_after: true,
        ignore_error: false,
        identities: vec![],
    };
    assert_eq!(v.check(&ctx2).map_err(|f| f.reason), Err("ClientCertificateNotTrusted".into()));
    assert_eq!(ValidateClientCertificate { trust: false, ..v }.check(&ctx2), Ok(()));
}
