//! `System.Security.Cryptography` members APIM allows: the hashes, the HMACs, AES (CBC/ECB
//! with PKCS7/Zeros/None/ANSIX923/ISO10126 padding) and RSA signature verification.

mod aes;
mod hash;
mod rsa;
#[cfg(test)]
mod test_key;
mod x509;

#[cfg(test)]
mod tests;

pub use self::aes::{aes_decrypt, aes_encrypt, CipherMode, PaddingMode};
pub use self::rsa::{RsaPublicKey, SignaturePadding};
pub use hash::{compute_hash, compute_hmac, HashAlgorithm};
pub use x509::{X509Certificate2, X509NameType};
