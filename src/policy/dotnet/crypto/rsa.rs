//! `RSA.VerifyData` / `VerifyHash` with `RSASignaturePadding.Pkcs1` or `.Pss` (salt length =
//! hash length, as .NET), from a public key given as parameters (`RSAParameters`), as
//! `FromXmlString` XML, or from a certificate's DER (`GetRSAPublicKey()`).

use super::hash::{compute_hash, HashAlgorithm};
use crate::policy::dotnet::error::{DnResult, DotnetError, ExceptionKind};
use base64::Engine;
use num_bigint::BigUint;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignaturePadding {
    Pkcs1,
    Pss,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RsaPublicKey {
    n: BigUint,
    e: BigUint,
    /// Modulus length in bytes.
    k: usize,
}

fn crypto(m: &str) -> DotnetError {
    DotnetError::new(ExceptionKind::Cryptographic, m)
}

/// DER DigestInfo prefixes (RFC 8017 §9.2 note 1).
fn digest_info(alg: HashAlgorithm) -> &'static [u8] {
    match alg {
        HashAlgorithm::Md5 => &[
            0x30, 0x20, 0x30, 0x0c, 0x06, 0x08, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x05, 0x05, 0x00, 0x04, 0x10,
        ],
        HashAlgorithm::Sha1 => {
            &[0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14]
        }
        HashAlgorithm::Sha256 => &[
            0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04,
            0x20,
        ],
        HashAlgorithm::Sha384 => &[
            0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04,
            0x30,
        ],
        HashAlgorithm::Sha512 => &[
            0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04,
            0x40,
        ],
    }
}

impl RsaPublicKey {
    /// `RSAParameters { Modulus, Exponent }` (big-endian bytes).
    pub fn from_parameters(modulus: &[u8], exponent: &[u8]) -> DnResult<Self> {
        let n = BigUint::from_bytes_be(modulus);
        let e = BigUint::from_bytes_be(exponent);
        let bits = n.bits();
        if !(512..=16384).contains(&bits) || e < BigUint::from(3u8) || e >= n {
            return Err(crypto(
                "The specified RSA parameters are not valid. Exponent and Modulus are required fields.",
            ));
        }
        Ok(Self { k: bits.div_ceil(8) as usize, n, e })
    }

    /// `FromXmlString("<RSAKeyValue><Modulus>…</Modulus><Exponent>AQAB</Exponent></RSAKeyValue>")`.
    pub fn from_xml(xml: &str) -> DnResult<Self> {
        let field = |tag: &str| -> DnResult<Vec<u8>> {
            let open = format!("<{tag}>");
            let close = format!("</{tag}>");
            let a = xml.find(&open).ok_or_else(|| {
                crypto("Input string does not contain a valid encoding of the 'RSA' 'Modulus' parameter.")
            })? + open.len();
            let b = xml[a..].find(&close).ok_or_else(|| crypto("Invalid XML for an RSA key."))? + a;
            let text: String = xml[a..b].chars().filter(|c| !c.is_whitespace()).collect();
            base64::engine::general_purpose::STANDARD.decode(text).map_err(|_| crypto("Invalid XML for an RSA key."))
        };
        Self::from_parameters(&field("Modulus")?, &field("Exponent")?)
    }

    /// From an X.509 certificate (DER) with an RSA key (`cert.GetRSAPublicKey()`).
    pub fn from_certificate_der(der: &[u8]) -> DnResult<Self> {
        let (_, cert) =
            x509_parser::parse_x509_certificate(der).map_err(|_| crypto("Cannot find the requested object."))?;
        match cert.public_key().parsed() {
            Ok(x509_parser::public_key::PublicKey::RSA(k)) => Self::from_parameters(k.modulus, k.exponent),
            _ => Err(crypto("The certificate's key is not an RSA key.")),
        }
    }

    /// `KeySize` in bits.
    pub fn key_size(&self) -> u64 {
        self.n.bits()
    }

    /// The RSA public operation: the encoded message of `sig`, or None when out of range.
    fn open(&self, sig: &[u8]) -> Option<Vec<u8>> {
        if sig.len() != self.k {
            return None;
        }
        let s = BigUint::from_bytes_be(sig);
        if s >= self.n {
            return None;
        }
        let m = s.modpow(&self.e, &self.n).to_bytes_be();
        let mut em = vec![0u8; self.k - m.len()];
        em.extend_from_slice(&m);
        Some(em)
    }

    /// `VerifyData(data, signature, hashAlgorithm, padding)`.
    pub fn verify_data(&self, data: &[u8], sig: &[u8], alg: HashAlgorithm, pad: SignaturePadding) -> DnResult<bool> {
        self.verify_hash(&compute_hash(alg, data), sig, alg, pad)
    }

    /// `VerifyHash(hash, signature, hashAlgorithm, padding)`.
    pub fn verify_hash(&self, hash: &[u8], sig: &[u8], alg: HashAlgorithm, pad: SignaturePadding) -> DnResult<bool> {
        if hash.len() != alg.output_len() {
            return Err(crypto("The hash value is not the size the hash algorithm produces."));
        }
        let Some(em) = self.open(sig) else { return Ok(false) };
        Ok(match pad {
            SignaturePadding::Pkcs1 => {
                let t: Vec<u8> = digest_info(alg).iter().chain(hash).copied().collect();
                if self.k < t.len() + 11 {
                    return Ok(false);
                }
                let mut want = vec![0x00, 0x01];
                want.extend(std::iter::repeat_n(0xff, self.k - t.len() - 3));
                want.push(0x00);
                want.extend_from_slice(&t);
                em == want
            }
            SignaturePadding::Pss => pss_verify(&em, hash, alg, self.n.bits() as usize - 1),
        })
    }
}

fn mgf1(seed: &[u8], len: usize, alg: HashAlgorithm) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 64);
    let mut counter: u32 = 0;
    while out.len() < len {
        let mut input = seed.to_vec();
        input.extend_from_slice(&counter.to_be_bytes());
        out.extend(compute_hash(alg, &input));
        counter += 1;
    }
    out.truncate(len);
    out
}

/// EMSA-PSS-VERIFY (RFC 8017 §9.1.2), salt length = hash length, MGF1 with the same hash.
fn pss_verify(em_full: &[u8], m_hash: &[u8], alg: HashAlgorithm, em_bits: usize) -> bool {
    let h_len = alg.output_len();
    let s_len = h_len;
    let em_len = em_bits.div_ceil(8);
    if em_full.len() < em_len {
        return false;
    }
    let em = &em_full[em_full.len() - em_len..];
    if em_full[..em_full.len() - em_len].iter().any(|&b| b != 0) {
        return false;
    }
    if em_len < h_len + s_len + 2 || em.last() != Some(&0xbc) {
        return false;
    }
    let (masked_db, rest) = em.split_at(em_len - h_len - 1);
    let h = &rest[..h_len];
    let zero_bits = 8 * em_len - em_bits;
    if zero_bits > 0 && masked_db[0] >> (8 - zero_bits) != 0 {
        return false;
    }
    let mask = mgf1(h, masked_db.len(), alg);
    let mut db: Vec<u8> = masked_db.iter().zip(mask).map(|(a, b)| a ^ b).collect();
    if zero_bits > 0 {
        db[0] &= 0xff >> zero_bits;
    }
    let ps_len = em_len - h_len - s_len - 2;
    if db[..ps_len].iter().any(|&b| b != 0) || db[ps_len] != 0x01 {
        return false;
    }
    let salt = &db[db.len() - s_len..];
    let mut m_prime = vec![0u8; 8];
    m_prime.extend_from_slice(m_hash);
    m_prime.extend_from_slice(salt);
    compute_hash(alg, &m_prime) == h
}
