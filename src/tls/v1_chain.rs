//! Chains whose leaf is an X.509 v1 certificate (what `openssl x509 -req` makes without an
//! extensions file). webpki accepts only v3 certificates, but .NET's `X509Chain` (what APIM's
//! `validate-client-certificate` and `Certificate.Verify()` use) builds paths for v1 leaves: a
//! v1 leaf is trusted when its signature verifies with a trusted CA's key (directly, or through
//! CA intermediates whose own signatures verify up to one), and it and every certificate on
//! the path are current. Only leaves are taken as v1: a CA must say so (basicConstraints).

use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;
use x509_parser::time::ASN1Time;
use x509_parser::x509::X509Version;

/// The longest path tried (leaf, intermediates, anchor).
const MAX_PATH: usize = 8;

/// Whether `der` parses as a v1 certificate.
pub fn is_v1(der: &[u8]) -> bool {
    X509Certificate::from_der(der).is_ok_and(|(_, c)| c.version() == X509Version::V1)
}

/// Builds a path from the v1 leaf to one of `anchors` through `pool`, valid at `at` (seconds
/// since the epoch). `Err` says why not, for `context.LastError`.
fn parse(der: &[u8]) -> Option<X509Certificate<'_>> {
    X509Certificate::from_der(der).ok().map(|(_, c)| c)
}

pub fn verify(leaf: &[u8], pool: &[&[u8]], anchors: &[&[u8]], at: i64) -> Result<(), String> {
    let Some(mut current) = parse(leaf) else { return Err("the certificate does not parse".into()) };
    let when = ASN1Time::from_timestamp(at).map_err(|e| e.to_string())?;
    let anchors: Vec<X509Certificate<'_>> = anchors.iter().filter_map(|d| parse(d)).collect();
    let pool: Vec<X509Certificate<'_>> = pool.iter().filter_map(|d| parse(d)).filter(|c| c.is_ca()).collect();
    for _ in 0..MAX_PATH {
        if !current.validity().is_valid_at(when) {
            return Err("a certificate on the path is expired or not yet valid".into());
        }
        let issued_by = |issuer: &X509Certificate<'_>| {
            issuer.subject().as_raw() == current.issuer().as_raw()
                && current.verify_signature(Some(issuer.public_key())).is_ok()
        };
        if let Some(anchor) = anchors.iter().find(|a| issued_by(a)) {
            return if anchor.validity().is_valid_at(when) {
                Ok(())
            } else {
                Err("the trusted CA is expired or not yet valid".into())
            };
        }
        match pool.iter().find(|c| issued_by(c)) {
            Some(next) => current = next.clone(),
            None => return Err("no trusted CA issued this certificate".into()),
        }
    }
    Err("the certificate path is too long".into())
}
