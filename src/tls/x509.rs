//! What expressions and `validate-client-certificate` read of a certificate, in the forms .NET's
//! `X509Certificate2` gives them (APIM's `context.Request.Certificate`): the SHA-1 thumbprint in
//! uppercase hex, names with the most specific part first (`CN=client, O=Contoso`), the serial
//! number in uppercase hex. Parsed with x509-parser; nothing here decides trust.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;
use x509_parser::oid_registry as oids;
use x509_parser::prelude::FromDer;
use x509_parser::x509::X509Name;

/// One parsed certificate, owned (no borrow of the DER), built once per request that asks.
#[derive(Clone, Debug, PartialEq)]
pub struct CertInfo {
    /// SHA-1 of the DER, uppercase hex (`Thumbprint`).
    pub thumbprint: String,
    /// `Subject` / `SubjectName.Name`.
    pub subject: String,
    /// The first common name of the subject.
    pub common_name: Option<String>,
    /// `Issuer` / `IssuerName.Name`.
    pub issuer: String,
    /// Big-endian serial in uppercase hex, as the DER carries it (`SerialNumber`).
    pub serial: String,
    /// Seconds since the Unix epoch.
    pub not_before: i64,
    pub not_after: i64,
    /// Subject alternative names of type DNS.
    pub dns_names: Vec<String>,
    /// The DER of the subject and issuer names (for matching issuers by name).
    pub subject_raw: Vec<u8>,
    pub issuer_raw: Vec<u8>,
}

/// Uppercase hex.
pub fn hex_upper(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02X}");
    }
    s
}

/// The SHA-1 thumbprint of a DER certificate, uppercase hex (as `X509Certificate2.Thumbprint`).
pub fn thumbprint(der: &[u8]) -> String {
    hex_upper(ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, der).as_ref())
}

/// `2026-01-31T12:00:00Z`.
pub fn time_text(unix: i64) -> String {
    let t = if unix >= 0 { UNIX_EPOCH + Duration::from_secs(unix as u64) } else { UNIX_EPOCH };
    crate::timefmt::rfc3339(t)
}

pub fn now_unix() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

fn short_name(oid: &x509_parser::der_parser::oid::Oid<'_>) -> Option<&'static str> {
    Some(match oid {
        o if *o == oids::OID_X509_COMMON_NAME => "CN",
        o if *o == oids::OID_X509_ORGANIZATION_NAME => "O",
        o if *o == oids::OID_X509_ORGANIZATIONAL_UNIT => "OU",
        o if *o == oids::OID_X509_COUNTRY_NAME => "C",
        o if *o == oids::OID_X509_LOCALITY_NAME => "L",
        o if *o == oids::OID_X509_STATE_OR_PROVINCE_NAME => "S",
        o if *o == oids::OID_X509_STREET_ADDRESS => "STREET",
        o if *o == oids::OID_PKCS9_EMAIL_ADDRESS => "E",
        o if *o == oids::OID_DOMAIN_COMPONENT => "DC",
        o if *o == oids::OID_X509_SERIALNUMBER => "SERIALNUMBER",
        o if *o == oids::OID_X509_GIVEN_NAME => "G",
        o if *o == oids::OID_X509_SURNAME => "SN",
        o if *o == oids::OID_X509_TITLE => "T",
        _ => return None,
    })
}

/// A name as .NET prints it: relative names most specific first, `, ` between them, ` + `
/// inside a multi-valued one, values quoted when they hold a separator.
pub fn name_text(name: &X509Name<'_>) -> String {
    let mut out = String::new();
    for (i, rdn) in name.iter_rdn().collect::<Vec<_>>().into_iter().rev().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        for (j, atv) in rdn.iter().enumerate() {
            if j > 0 {
                out.push_str(" + ");
            }
            match short_name(atv.attr_type()) {
                Some(n) => out.push_str(n),
                None => {
                    let _ = write!(out, "OID.{}", atv.attr_type());
                }
            }
            out.push('=');
            match atv.as_str() {
                Ok(v) if v.contains([',', '+', '=', '"', '\n', '<', '>', '#', ';']) || v.trim() != v => {
                    out.push('"');
                    out.push_str(&v.replace('"', "\"\""));
                    out.push('"');
                }
                Ok(v) => out.push_str(v),
                Err(_) => {
                    out.push('#');
                    out.push_str(&hex_upper(atv.attr_value().data));
                }
            }
        }
    }
    out
}

impl CertInfo {
    /// `None` when the DER is not a certificate x509-parser can read.
    pub fn parse(der: &[u8]) -> Option<CertInfo> {
        let (_, cert) = X509Certificate::from_der(der).ok()?;
        Some(CertInfo::from_parsed(&cert, der))
    }

    fn from_parsed(cert: &X509Certificate<'_>, der: &[u8]) -> CertInfo {
        let dns_names = match cert.subject_alternative_name() {
            Ok(Some(san)) => san
                .value
                .general_names
                .iter()
                .filter_map(|g| match g {
                    GeneralName::DNSName(d) => Some(d.to_string()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        CertInfo {
            thumbprint: thumbprint(der),
            subject: name_text(cert.subject()),
            common_name: cert.subject().iter_common_name().next().and_then(|c| c.as_str().ok()).map(str::to_string),
            issuer: name_text(cert.issuer()),
            serial: hex_upper(cert.raw_serial()),
            not_before: cert.validity().not_before.timestamp(),
            not_after: cert.validity().not_after.timestamp(),
            dns_names,
            subject_raw: cert.subject().as_raw().to_vec(),
            issuer_raw: cert.issuer().as_raw().to_vec(),
        }
    }
}

/// True when `issuer_der`'s subject is `cert_der`'s issuer and its key signed `cert_der`.
pub fn issued_by(cert_der: &[u8], issuer_der: &[u8]) -> bool {
    let (Ok((_, cert)), Ok((_, issuer))) = (X509Certificate::from_der(cert_der), X509Certificate::from_der(issuer_der))
    else {
        return false;
    };
    cert.issuer().as_raw() == issuer.subject().as_raw() && cert.verify_signature(Some(issuer.public_key())).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_generated_certificate() {
        let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca.distinguished_name.push(rcgen::DnType::CommonName, "Test CA");
        ca.distinguished_name.push(rcgen::DnType::OrganizationName, "Contoso, Ltd");
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let mut leaf = rcgen::CertificateParams::new(vec!["client.contoso.local".to_string()]).unwrap();
        leaf.distinguished_name.push(rcgen::DnType::CommonName, "client-1");
        leaf.serial_number = Some(rcgen::SerialNumber::from_slice(&[0x0a, 0xbc]));
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = leaf.signed_by(&key, &ca_cert, &ca_key).unwrap();

        let info = CertInfo::parse(cert.der()).unwrap();
        assert_eq!(info.thumbprint.len(), 40);
        assert_eq!(info.thumbprint, info.thumbprint.to_ascii_uppercase());
        assert_eq!(info.subject, "CN=client-1");
        assert_eq!(info.common_name.as_deref(), Some("client-1"));
        // rcgen writes CN then O: .NET shows the last relative name first, quoted for the comma.
        assert_eq!(info.issuer, "O=\"Contoso, Ltd\", CN=Test CA");
        assert_eq!(info.serial, "0ABC");
        assert_eq!(info.dns_names, vec!["client.contoso.local".to_string()]);
        assert!(info.not_before < now_unix() && now_unix() < info.not_after);
        assert!(issued_by(cert.der(), ca_cert.der()));
        assert!(!issued_by(ca_cert.der(), cert.der()));
        assert_eq!(CertInfo::parse(b"not a certificate"), None);
        assert_eq!(time_text(0), "1970-01-01T00:00:00Z");
    }
}
