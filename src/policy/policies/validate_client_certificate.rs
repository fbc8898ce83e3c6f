//! `<validate-client-certificate validate-revocation validate-trust validate-not-before
//! validate-not-after ignore-error><identities><identity …/></identities>`: the certificate the
//! client presented in the TLS handshake (`negotiateClientCertificate`) must be current, chain
//! to one of the document's `isTrusted` certificates, and match every attribute of at least one
//! `<identity>` (when any are listed). Failure: 401, or nothing when `ignore-error="true"`.
//!
//! Revocation: the gateway has no revocation lists, so `validate-revocation="true"` is refused
//! at load time rather than silently skipped. Left out, the attribute is taken as `false`: the
//! self-hosted gateway checks revocation only when `security.certificate-revocation.validation.enabled`
//! is set, and that setting is off by default.
//!
//! The reference lists no reasons for this policy; ours follow validate-jwt's naming:
//! `ClientCertificateNotPresent`, `ClientCertificateInvalid`, `ClientCertificateNotYetValid`,
//! `ClientCertificateExpired`, `ClientCertificateNotTrusted`, `ClientCertificateIdentityNotAllowed`.

use super::{no_children, only_children, Attrs, Cx, Failure, Outcome, Result};
use crate::policy::runtime::PolicyContext;
use crate::policy::xml::Element;
use crate::tls::client_auth::ClientTrust;
use crate::tls::x509::{self, CertInfo};

/// APIM's limit on `<identity>` elements.
const MAX_IDENTITIES: usize = 10;

/// One `<identity>`: every attribute given must match.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Identity {
    pub thumbprint: Option<Box<str>>,
    pub serial_number: Option<Box<str>>,
    pub common_name: Option<Box<str>>,
    pub subject: Option<Box<str>>,
    pub dns_name: Option<Box<str>>,
    pub issuer_subject: Option<Box<str>>,
    pub issuer_thumbprint: Option<Box<str>>,
    pub issuer_certificate_id: Option<Box<str>>,
    pub certificate_id: Option<Box<str>>,
}

#[derive(Clone, Debug)]
pub struct ValidateClientCertificate {
    pub trust: bool,
    pub not_before: bool,
    pub not_after: bool,
    pub ignore_error: bool,
    pub identities: Vec<Identity>,
}

pub fn compile(el: &Element, cx: &mut Cx<'_>) -> Option<ValidateClientCertificate> {
    let mut a = Attrs::new(el);
    if a.bool(cx, "validate-revocation", false) {
        let pos = a.get("validate-revocation").map_or(el.pos, |x| x.pos);
        cx.err(
            pos,
            "validate-revocation=\"true\" is not supported: the gateway has no certificate revocation lists \
             (set validate-revocation=\"false\")",
        );
    }
    let trust = a.bool(cx, "validate-trust", true);
    let not_before = a.bool(cx, "validate-not-before", true);
    let not_after = a.bool(cx, "validate-not-after", true);
    let ignore_error = a.bool(cx, "ignore-error", false);
    a.finish(cx);
    only_children(el, cx, &["identities"]);
    let mut identities = Vec::new();
    for list in el.elements().filter(|e| e.name == "identities") {
        Attrs::new(list).finish(cx);
        only_children(list, cx, &["identity"]);
        for e in list.elements().filter(|e| e.name == "identity") {
            no_children(e, cx);
            if let Some(id) = identity(e, cx) {
                identities.push(id);
            }
        }
    }
    if identities.len() > MAX_IDENTITIES {
        cx.err(el.pos, format!("at most {MAX_IDENTITIES} <identity> elements, found {}", identities.len()));
    }
    Some(ValidateClientCertificate { trust, not_before, not_after, ignore_error, identities })
}

fn identity(e: &Element, cx: &mut Cx<'_>) -> Option<Identity> {
    let mut a = Attrs::new(e);
    let mut get = |name: &str| a.literal(cx, name).map(|(v, _)| v.trim().into());
    let id = Identity {
        thumbprint: get("thumbprint"),
        serial_number: get("serial-number"),
        common_name: get("common-name"),
        subject: get("subject"),
        dns_name: get("dns-name"),
        issuer_subject: get("issuer-subject"),
        issuer_thumbprint: get("issuer-thumbprint"),
        issuer_certificate_id: get("issuer-certificate-id"),
        certificate_id: get("certificate-id"),
    };
    a.finish(cx);
    if id == Identity::default() {
        cx.err(e.pos, "<identity> needs at least one attribute to match");
        return None;
    }
    Some(id)
}

/// Hex without separators, uppercase, leading zeros dropped (thumbprints, serial numbers).
fn hex_key(s: &str) -> String {
    let h: String = s.chars().filter(|c| c.is_ascii_hexdigit()).map(|c| c.to_ascii_uppercase()).collect();
    h.trim_start_matches('0').to_string()
}

/// A distinguished name for comparison: parts trimmed, case ignored.
fn dn_key(s: &str) -> String {
    s.split(',').map(|p| p.trim().to_lowercase()).collect::<Vec<_>>().join(",")
}

fn fail(reason: &str, message: &str) -> Failure {
    Failure::new(reason, message, 401)
}

impl Identity {
    fn matches(&self, c: &CertInfo, chain: &[rustls::pki_types::CertificateDer<'_>], trust: &ClientTrust) -> bool {
        let hex_eq = |want: &Option<Box<str>>, have: &str| want.as_deref().is_none_or(|w| hex_key(w) == hex_key(have));
        let dn_eq = |want: &Option<Box<str>>, have: &str| want.as_deref().is_none_or(|w| dn_key(w) == dn_key(have));
        let leaf = chain.first().map(|d| d.as_ref()).unwrap_or_default();
        hex_eq(&self.thumbprint, &c.thumbprint)
            && hex_eq(&self.serial_number, &c.serial)
            && self
                .common_name
                .as_deref()
                .is_none_or(|w| c.common_name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(w)))
            && dn_eq(&self.subject, &c.subject)
            && self.dns_name.as_deref().is_none_or(|w| {
                let mut names = c.dns_names.iter().map(String::as_str);
                if c.dns_names.is_empty() {
                    c.common_name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(w))
                } else {
                    names.any(|n| n.eq_ignore_ascii_case(w))
                }
            })
            && dn_eq(&self.issuer_subject, &c.issuer)
            && self.issuer_thumbprint.as_deref().is_none_or(|w| {
                trust.issuer_of(chain).is_some_and(|issuer| hex_key(w) == hex_key(&x509::thumbprint(issuer)))
            })
            && self
                .issuer_certificate_id
                .as_deref()
                .is_none_or(|id| trust.certificate(id).is_some_and(|d| x509::issued_by(leaf, &d.der)))
            && self
                .certificate_id
                .as_deref()
                .is_none_or(|id| trust.certificate(id).is_some_and(|d| d.der.as_ref() == leaf))
    }
}

impl ValidateClientCertificate {
    pub fn run(&self, ctx: &mut PolicyContext<'_>) -> Result<Outcome<'static>> {
        match self.check(ctx) {
            Err(_) if self.ignore_error => Ok(Outcome::Continue),
            Err(f) => Err(f),
            Ok(()) => Ok(Outcome::Continue),
        }
    }

    pub(crate) fn check(&self, ctx: &PolicyContext<'_>) -> Result<()> {
        let chain = match &ctx.client_chain {
            Some(c) if !c.is_empty() => c.clone(),
            _ => return Err(fail("ClientCertificateNotPresent", "Client certificate is missing.")),
        };
        let Some(cert) = ctx.client_certificate() else {
            return Err(fail("ClientCertificateInvalid", "Client certificate cannot be read."));
        };
        let now = x509::now_unix();
        if self.not_before && now < cert.not_before {
            return Err(fail("ClientCertificateNotYetValid", "Client certificate is not yet valid."));
        }
        if self.not_after && now > cert.not_after {
            return Err(fail("ClientCertificateExpired", "Client certificate has expired."));
        }
        let empty = ClientTrust::default();
        let trust = ctx.client_trust.unwrap_or(&empty);
        if self.trust {
            // Lifetimes the policy does not check must not fail the chain: verify as of a moment
            // the leaf was valid.
            let mut at = now;
            if !self.not_after {
                at = at.min(cert.not_after);
            }
            if !self.not_before {
                at = at.max(cert.not_before);
            }
            if trust.verify_chain(&chain, at).is_err() {
                return Err(fail("ClientCertificateNotTrusted", "Client certificate is not trusted."));
            }
        }
        if !self.identities.is_empty() && !self.identities.iter().any(|i| i.matches(cert, &chain, trust)) {
            return Err(fail(
                "ClientCertificateIdentityNotAllowed",
                "Client certificate does not match any of the allowed identities.",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_ignore_case_separators_and_spacing() {
        assert_eq!(hex_key("ab:cd 0f"), "ABCD0F");
        assert_eq!(hex_key("00AB"), hex_key("ab"));
        assert_eq!(dn_key("CN=Client, O=Contoso"), dn_key("cn=client,o=contoso"));
        assert_ne!(dn_key("CN=a, O=b"), dn_key("O=b, CN=a"));
    }
}
