//! `MD5`/`SHA1`/`SHA256`/`SHA384`/`SHA512.ComputeHash` and `HMAC*.ComputeHash(key)`.

use crate::policy::dotnet::error::{DnResult, DotnetError};
use hmac::Mac;
use md5::Digest;

/// `HashAlgorithmName` / the concrete hash classes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashAlgorithm {
    Md5,
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl HashAlgorithm {
    /// `HashAlgorithmName.X.Name` / class names (`SHA256`, `SHA256Managed`, `HMACSHA256`…).
    pub fn from_name(n: &str) -> Option<Self> {
        let n = n.trim_start_matches("HMAC").trim_end_matches("Managed").trim_end_matches("CryptoServiceProvider");
        Some(match n.to_ascii_uppercase().replace('-', "").as_str() {
            "MD5" => Self::Md5,
            "SHA1" => Self::Sha1,
            "SHA256" => Self::Sha256,
            "SHA384" => Self::Sha384,
            "SHA512" => Self::Sha512,
            _ => return None,
        })
    }
    pub fn output_len(self) -> usize {
        match self {
            Self::Md5 => 16,
            Self::Sha1 => 20,
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }
    fn ring(self) -> Option<&'static ring::digest::Algorithm> {
        Some(match self {
            Self::Md5 => return None,
            Self::Sha1 => &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
            Self::Sha256 => &ring::digest::SHA256,
            Self::Sha384 => &ring::digest::SHA384,
            Self::Sha512 => &ring::digest::SHA512,
        })
    }
}

/// `ComputeHash(data)`.
pub fn compute_hash(alg: HashAlgorithm, data: &[u8]) -> Vec<u8> {
    match alg.ring() {
        Some(a) => ring::digest::digest(a, data).as_ref().to_vec(),
        None => md5::Md5::digest(data).to_vec(),
    }
}

/// `new HMACSHA256(key).ComputeHash(data)` (any key length, as .NET).
pub fn compute_hmac(alg: HashAlgorithm, key: &[u8], data: &[u8]) -> DnResult<Vec<u8>> {
    let r = match alg {
        HashAlgorithm::Md5 => {
            let mut m = hmac::Hmac::<md5::Md5>::new_from_slice(key).map_err(|_| {
                DotnetError::new(crate::policy::dotnet::ExceptionKind::Cryptographic, "Invalid HMAC key.")
            })?;
            m.update(data);
            m.finalize().into_bytes().to_vec()
        }
        HashAlgorithm::Sha1 => sign(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, key, data),
        HashAlgorithm::Sha256 => sign(ring::hmac::HMAC_SHA256, key, data),
        HashAlgorithm::Sha384 => sign(ring::hmac::HMAC_SHA384, key, data),
        HashAlgorithm::Sha512 => sign(ring::hmac::HMAC_SHA512, key, data),
    };
    Ok(r)
}

fn sign(alg: ring::hmac::Algorithm, key: &[u8], data: &[u8]) -> Vec<u8> {
    let k = ring::hmac::Key::new(alg, key);
    ring::hmac::sign(&k, data).as_ref().to_vec()
}
