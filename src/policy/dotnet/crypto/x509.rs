//! `X509Certificate2` members read from a certificate's DER: `Thumbprint`, `Subject`,
//! `Issuer` (RDNs in .NET's reversed order, `, `-separated, special values quoted),
//! `SerialNumber`, `NotBefore`/`NotAfter` (local time, Kind Local), `Version`,
//! `GetNameInfo`, `SubjectName.Name`, `GetRSAPublicKey()`.

use super::hash::{compute_hash, HashAlgorithm};
use super::rsa::RsaPublicKey;
use crate::policy::dotnet::datetime::{DateTime, DateTimeKind, TICKS_PER_SECOND, UNIX_EPOCH_TICKS};
use crate::policy::dotnet::encoding::to_hex;
use crate::policy::dotnet::error::{DnResult, DotnetError, ExceptionKind};
use x509_parser::prelude::{FromDer, X509Certificate};

#[derive(Clone, Debug)]
pub struct X509Certificate2 {
    der: Vec<u8>,
    pub subject: String,
    pub issuer: String,
    pub serial_number: String,
    pub not_before: DateTime,
    pub not_after: DateTime,
    pub version: i32,
    simple_name: String,
    dns_names: Vec<String>,
    emails: Vec<String>,
}

/// `X509NameType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum X509NameType {
    SimpleName,
    EmailName,
    DnsName,
}

fn short_name(oid: &str) -> String {
    match oid {
        "2.5.4.3" => "CN".into(),
        "2.5.4.11" => "OU".into(),
        "2.5.4.10" => "O".into(),
        "2.5.4.7" => "L".into(),
        "2.5.4.8" => "S".into(),
        "2.5.4.6" => "C".into(),
        "2.5.4.9" => "STREET".into(),
        "2.5.4.5" => "SERIALNUMBER".into(),
        "2.5.4.4" => "SN".into(),
        "2.5.4.42" => "G".into(),
        "2.5.4.12" => "T".into(),
        "1.2.840.113549.1.9.1" => "E".into(),
        "0.9.2342.19200300.100.1.25" => "DC".into(),
        other => format!("OID.{other}"),
    }
}

fn quote(v: &str) -> String {
    let special = v.is_empty()
        || v.starts_with(' ')
        || v.ends_with(' ')
        || v.contains([',', '+', '=', '"', '\n', '<', '>', '#', ';']);
    if special {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v.to_string()
    }
}

/// .NET's `X500DistinguishedName.Name`: last RDN first.
fn dn_text(name: &x509_parser::x509::X509Name) -> String {
    let mut parts: Vec<String> = Vec::new();
    for rdn in name.iter() {
        let attrs: Vec<String> = rdn
            .iter()
            .map(|a| {
                let v = a.as_str().map(str::to_string).unwrap_or_else(|_| format!("#{}", to_hex(a.as_slice())));
                format!("{}={}", short_name(&a.attr_type().to_id_string()), quote(&v))
            })
            .collect();
        parts.push(attrs.join(" + "));
    }
    parts.reverse();
    parts.join(", ")
}

fn local_time(t: x509_parser::time::ASN1Time) -> DnResult<DateTime> {
    let ticks = t
        .timestamp()
        .checked_mul(TICKS_PER_SECOND)
        .and_then(|x| x.checked_add(UNIX_EPOCH_TICKS))
        .ok_or_else(|| DotnetError::new(ExceptionKind::Cryptographic, "Certificate time out of range."))?;
    DateTime::from_ticks(ticks, DateTimeKind::Local)
}

impl X509Certificate2 {
    /// `new X509Certificate2(rawData)` from DER bytes.
    pub fn from_der(der: &[u8]) -> DnResult<Self> {
        let bad = || DotnetError::new(ExceptionKind::Cryptographic, "Cannot find the requested object.");
        let (_, c) = X509Certificate::from_der(der).map_err(|_| bad())?;
        let simple_name =
            c.subject().iter_common_name().next().and_then(|a| a.as_str().ok()).map(str::to_string).unwrap_or_default();
        let mut dns_names = Vec::new();
        let mut emails = Vec::new();
        if let Ok(Some(san)) = c.subject_alternative_name() {
            for n in &san.value.general_names {
                match n {
                    x509_parser::extensions::GeneralName::DNSName(d) => dns_names.push(d.to_string()),
                    x509_parser::extensions::GeneralName::RFC822Name(e) => emails.push(e.to_string()),
                    _ => {}
                }
            }
        }
        if let Some(e) = c.subject().iter_email().next().and_then(|a| a.as_str().ok()) {
            emails.push(e.to_string());
        }
        Ok(Self {
            der: der.to_vec(),
            subject: dn_text(c.subject()),
            issuer: dn_text(c.issuer()),
            serial_number: to_hex(c.raw_serial()),
            not_before: local_time(c.validity().not_before)?,
            not_after: local_time(c.validity().not_after)?,
            version: c.version().0 as i32 + 1,
            simple_name,
            dns_names,
            emails,
        })
    }

    /// `Thumbprint`: SHA-1 of the DER, uppercase hex.
    pub fn thumbprint(&self) -> String {
        to_hex(&compute_hash(HashAlgorithm::Sha1, &self.der))
    }

    /// `RawData` / `GetRawCertData()`.
    pub fn raw_data(&self) -> &[u8] {
        &self.der
    }

    /// `GetNameInfo(nameType, forIssuer: false)`.
    pub fn get_name_info(&self, t: X509NameType) -> String {
        match t {
            X509NameType::SimpleName => self.simple_name.clone(),
            X509NameType::EmailName => self.emails.first().cloned().unwrap_or_default(),
            X509NameType::DnsName => self.dns_names.first().cloned().unwrap_or_else(|| self.simple_name.clone()),
        }
    }

    /// `GetRSAPublicKey()`.
    pub fn rsa_public_key(&self) -> DnResult<RsaPublicKey> {
        RsaPublicKey::from_certificate_der(&self.der)
    }

    /// Whether `now` lies within NotBefore..NotAfter (the date part of `Verify()`).
    pub fn is_time_valid(&self, now: DateTime) -> bool {
        now >= self.not_before && now <= self.not_after
    }
}
