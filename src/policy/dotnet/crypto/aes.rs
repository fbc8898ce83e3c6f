//! `Aes.Create()` + `CreateEncryptor`/`CreateDecryptor` + `TransformFinalBlock`, and APIM's
//! `byte[].Encrypt/Decrypt("Aes", key, iv)` helpers (.NET defaults: CBC, PKCS7).

use crate::policy::dotnet::error::{DnResult, DotnetError, ExceptionKind};
use aes::cipher::{generic_array::GenericArray, BlockDecrypt, BlockEncrypt, KeyInit};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CipherMode {
    Cbc,
    Ecb,
    /// CFB, CTS and OFB are refused.
    Other,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaddingMode {
    None,
    Pkcs7,
    Zeros,
    AnsiX923,
    Iso10126,
}

fn crypto(m: &str) -> DotnetError {
    DotnetError::new(ExceptionKind::Cryptographic, m)
}

enum Cipher {
    A128(aes::Aes128),
    A192(aes::Aes192),
    A256(aes::Aes256),
}

impl Cipher {
    fn new(key: &[u8]) -> DnResult<Self> {
        let bad = || crypto("Specified key is not a valid size for this algorithm.");
        Ok(match key.len() {
            16 => Cipher::A128(aes::Aes128::new_from_slice(key).map_err(|_| bad())?),
            24 => Cipher::A192(aes::Aes192::new_from_slice(key).map_err(|_| bad())?),
            32 => Cipher::A256(aes::Aes256::new_from_slice(key).map_err(|_| bad())?),
            _ => return Err(bad()),
        })
    }
    fn enc(&self, b: &mut [u8]) {
        let blk = GenericArray::from_mut_slice(b);
        match self {
            Cipher::A128(c) => c.encrypt_block(blk),
            Cipher::A192(c) => c.encrypt_block(blk),
            Cipher::A256(c) => c.encrypt_block(blk),
        }
    }
    fn dec(&self, b: &mut [u8]) {
        let blk = GenericArray::from_mut_slice(b);
        match self {
            Cipher::A128(c) => c.decrypt_block(blk),
            Cipher::A192(c) => c.decrypt_block(blk),
            Cipher::A256(c) => c.decrypt_block(blk),
        }
    }
}

fn check(mode: CipherMode, iv: &[u8]) -> DnResult<()> {
    if mode == CipherMode::Other {
        return Err(crypto("Specified cipher mode is not valid for this algorithm."));
    }
    if mode == CipherMode::Cbc && iv.len() != 16 {
        return Err(crypto("Specified initialization vector (IV) does not match the block size for this algorithm."));
    }
    Ok(())
}

/// `CreateEncryptor(key, iv).TransformFinalBlock(data, 0, data.Length)`.
pub fn aes_encrypt(data: &[u8], key: &[u8], iv: &[u8], mode: CipherMode, padding: PaddingMode) -> DnResult<Vec<u8>> {
    check(mode, iv)?;
    let c = Cipher::new(key)?;
    let mut buf = data.to_vec();
    let rem = 16 - data.len() % 16;
    match padding {
        PaddingMode::None if !data.len().is_multiple_of(16) => {
            return Err(crypto("The input data is not a complete block."))
        }
        PaddingMode::None => {}
        PaddingMode::Zeros if data.len().is_multiple_of(16) => {}
        PaddingMode::Zeros => buf.resize(data.len() + rem, 0),
        PaddingMode::Pkcs7 => buf.resize(data.len() + rem, rem as u8),
        PaddingMode::AnsiX923 | PaddingMode::Iso10126 => {
            // ISO10126's filler is random in .NET; zeros are a valid instance of it.
            buf.resize(data.len() + rem, 0);
            if let Some(last) = buf.last_mut() {
                *last = rem as u8;
            }
        }
    }
    let mut prev = [0u8; 16];
    prev.copy_from_slice(if mode == CipherMode::Cbc { iv } else { &[0u8; 16] });
    for block in buf.chunks_mut(16) {
        if mode == CipherMode::Cbc {
            for (b, p) in block.iter_mut().zip(prev.iter()) {
                *b ^= p;
            }
        }
        c.enc(block);
        prev.copy_from_slice(block);
    }
    Ok(buf)
}

/// `CreateDecryptor(key, iv).TransformFinalBlock(data, 0, data.Length)`.
pub fn aes_decrypt(data: &[u8], key: &[u8], iv: &[u8], mode: CipherMode, padding: PaddingMode) -> DnResult<Vec<u8>> {
    check(mode, iv)?;
    let c = Cipher::new(key)?;
    if !data.len().is_multiple_of(16) {
        return Err(crypto("The input data is not a complete block."));
    }
    let mut buf = data.to_vec();
    let mut prev = [0u8; 16];
    prev.copy_from_slice(if mode == CipherMode::Cbc { iv } else { &[0u8; 16] });
    for block in buf.chunks_mut(16) {
        let mut this = [0u8; 16];
        this.copy_from_slice(block);
        c.dec(block);
        if mode == CipherMode::Cbc {
            for (b, p) in block.iter_mut().zip(prev.iter()) {
                *b ^= p;
            }
        }
        prev = this;
    }
    let bad = || crypto("Padding is invalid and cannot be removed.");
    match padding {
        PaddingMode::None | PaddingMode::Zeros => {}
        PaddingMode::Pkcs7 | PaddingMode::AnsiX923 | PaddingMode::Iso10126 => {
            let n = *buf.last().ok_or_else(bad)? as usize;
            if n == 0 || n > 16 || n > buf.len() {
                return Err(bad());
            }
            let pad = &buf[buf.len() - n..buf.len() - 1];
            let ok = match padding {
                PaddingMode::Pkcs7 => pad.iter().all(|&b| b as usize == n),
                PaddingMode::AnsiX923 => pad.iter().all(|&b| b == 0),
                _ => true,
            };
            if !ok {
                return Err(bad());
            }
            buf.truncate(buf.len() - n);
        }
    }
    Ok(buf)
}
