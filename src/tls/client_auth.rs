//! Client certificates (`negotiateClientCertificate`), split as APIM splits them: the handshake
//! asks for a certificate without requiring one and takes any chain, checking only that the
//! client holds the key (its handshake signature, with the provider's algorithms); whether the
//! certificate is trusted, current or the right one is the policy's call
//! (`validate-client-certificate`, `context.Request.Certificate.Verify()`), against the
//! document's `isTrusted` certificates gathered here once per snapshot.

use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};

use crate::api_model::Certificate;

/// Requests a client certificate, accepts any chain, verifies the handshake signature.
#[derive(Debug)]
pub struct AnyClientCert {
    provider: Arc<CryptoProvider>,
    /// The trusted CAs' names, so clients can pick a certificate.
    hints: Vec<DistinguishedName>,
}

impl AnyClientCert {
    pub fn new(provider: Arc<CryptoProvider>, trust: &ClientTrust) -> AnyClientCert {
        AnyClientCert { provider, hints: trust.hints.clone() }
    }
}

impl ClientCertVerifier for AnyClientCert {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &self.hints
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let key = PublicKey::of(cert)?;
        let algs = &self.provider.signature_verification_algorithms;
        let candidates = algs.mapping.iter().find(|(scheme, _)| *scheme == dss.scheme).map(|(_, a)| *a);
        let Some(candidates) = candidates else {
            return Err(rustls::Error::PeerMisbehaved(
                rustls::PeerMisbehaved::SignedHandshakeWithUnadvertisedSigScheme,
            ));
        };
        for alg in candidates.iter().filter(|a| a.public_key_alg_id().as_ref() == key.alg_id) {
            if alg.verify_signature(key.bits, message, dss.signature()).is_ok() {
                return Ok(HandshakeSignatureValid::assertion());
            }
        }
        Err(bad_signature())
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let key = PublicKey::of(cert)?;
        rustls::crypto::verify_tls13_signature_with_raw_key(
            message,
            &rustls::pki_types::SubjectPublicKeyInfoDer::from(key.spki),
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

fn bad_signature() -> rustls::Error {
    rustls::Error::InvalidCertificate(rustls::CertificateError::BadSignature)
}

/// A client certificate's public key, read with x509-parser, which takes every X.509 version:
/// webpki (behind rustls' own signature checks) refuses certificates that are not v3, and
/// whether a v1 certificate is acceptable is the policy's call, not the handshake's.
struct PublicKey<'a> {
    /// The whole SubjectPublicKeyInfo, DER.
    spki: &'a [u8],
    /// The contents of its AlgorithmIdentifier (what `public_key_alg_id` returns).
    alg_id: &'a [u8],
    /// The subjectPublicKey bits.
    bits: &'a [u8],
}

impl<'a> PublicKey<'a> {
    fn of(cert: &'a CertificateDer<'_>) -> Result<PublicKey<'a>, rustls::Error> {
        use x509_parser::prelude::FromDer;
        let bad = || rustls::Error::InvalidCertificate(rustls::CertificateError::BadEncoding);
        let (_, parsed) = x509_parser::certificate::X509Certificate::from_der(cert.as_ref()).map_err(|_| bad())?;
        let spki: &'a [u8] = parsed.tbs_certificate.subject_pki.raw;
        // SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING }
        let (body, _) = der_element(spki, 0x30).ok_or_else(bad)?;
        let (alg_id, rest) = der_element(body, 0x30).ok_or_else(bad)?;
        let (bits, _) = der_element(rest, 0x03).ok_or_else(bad)?;
        let (unused, bits) = bits.split_first().ok_or_else(bad)?;
        if *unused != 0 {
            return Err(bad());
        }
        Ok(PublicKey { spki, alg_id, bits })
    }
}

/// One DER element with tag `tag` at the start of `input`: (its contents, what follows).
fn der_element(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&t, rest) = input.split_first()?;
    if t != tag {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n].iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| rest.split_at(len))
}

/// A certificate of the document (its first PEM block), for `certificate-id` and
/// `issuer-certificate-id`.
#[derive(Clone, Debug)]
pub struct DocCert {
    pub id: String,
    pub der: CertificateDer<'static>,
}

/// The document's view of client certificates: a chain verifier over the `isTrusted`
/// certificates, the other certificates as intermediates, every certificate by id.
#[derive(Clone, Default)]
pub struct ClientTrust {
    /// `None` when the document trusts no CA (every chain is untrusted).
    verifier: Option<Arc<dyn ClientCertVerifier>>,
    /// Certificates without `isTrusted`: intermediates for path building (APIM uploads
    /// intermediates as untrusted CA certificates).
    intermediates: Vec<CertificateDer<'static>>,
    /// The `isTrusted` certificates, for v1 leaves (which webpki does not take).
    anchors: Vec<CertificateDer<'static>>,
    pub certificates: Vec<DocCert>,
    hints: Vec<DistinguishedName>,
}

impl std::fmt::Debug for ClientTrust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientTrust")
            .field("anchors", &self.hints.len())
            .field("certificates", &self.certificates.len())
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("certificates[{index}] ({id}): {message}")]
pub struct TrustError {
    pub index: usize,
    pub id: String,
    pub message: String,
}

/// Why a chain is not trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainError {
    NoTrustedCa,
    Untrusted(String),
}

impl ClientTrust {
    /// From the document's certificates.
    pub fn build(certificates: &[Certificate], provider: &Arc<CryptoProvider>) -> Result<ClientTrust, TrustError> {
        let mut roots = rustls::RootCertStore::empty();
        let mut t = ClientTrust::default();
        for (index, c) in certificates.iter().enumerate() {
            let bad = |message: String| TrustError { index, id: c.id.clone(), message };
            let ders = c.chain.clone();
            let Some(first) = ders.first() else { continue };
            t.certificates.push(DocCert { id: c.id.clone(), der: first.clone() });
            if c.is_trusted {
                for d in ders {
                    t.anchors.push(d.clone());
                    roots.add(d).map_err(|e| bad(format!("not usable as a trusted CA: {e}")))?;
                }
            } else if c.key.is_none() {
                t.intermediates.extend(ders);
            }
        }
        if !roots.is_empty() {
            t.hints = roots.subjects();
            let v = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .allow_unauthenticated()
                .build()
                .map_err(|e| TrustError { index: 0, id: String::new(), message: e.to_string() })?;
            t.verifier = Some(v);
        }
        Ok(t)
    }

    /// Builds a path from `chain[0]` to a trusted CA as of `at` (seconds since the epoch), with
    /// the rest of `chain` and the document's untrusted certificates as intermediates.
    pub fn verify_chain(&self, chain: &[CertificateDer<'_>], at: i64) -> Result<(), ChainError> {
        let Some(v) = &self.verifier else { return Err(ChainError::NoTrustedCa) };
        let Some((leaf, rest)) = chain.split_first() else {
            return Err(ChainError::Untrusted("no certificate".into()));
        };
        let mut intermediates: Vec<CertificateDer<'_>> = rest.to_vec();
        intermediates.extend(self.intermediates.iter().cloned());
        let when = UnixTime::since_unix_epoch(Duration::from_secs(at.max(0) as u64));
        match v.verify_client_cert(leaf, &intermediates, when) {
            Ok(_) => Ok(()),
            Err(_) if super::v1_chain::is_v1(leaf) => {
                let pool: Vec<&[u8]> = intermediates.iter().map(|c| c.as_ref()).collect();
                let anchors: Vec<&[u8]> = self.anchors.iter().map(|c| c.as_ref()).collect();
                super::v1_chain::verify(leaf, &pool, &anchors, at).map_err(ChainError::Untrusted)
            }
            Err(e) => Err(ChainError::Untrusted(e.to_string())),
        }
    }

    /// A document certificate by id.
    pub fn certificate(&self, id: &str) -> Option<&DocCert> {
        self.certificates.iter().find(|c| c.id == id)
    }

    /// The certificate that issued `chain[0]`: the next one in the chain or a document
    /// certificate whose name and key fit.
    pub fn issuer_of<'c>(&'c self, chain: &'c [CertificateDer<'c>]) -> Option<&'c [u8]> {
        let leaf = chain.first()?;
        chain[1..]
            .iter()
            .map(|c| c.as_ref())
            .chain(self.certificates.iter().map(|c| c.der.as_ref()))
            .find(|c| super::x509::issued_by(leaf, c))
    }
}
