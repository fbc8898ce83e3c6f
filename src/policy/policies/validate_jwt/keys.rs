//! Signing keys for `validate-jwt`: the document's `<key>` elements, certificates named by
//! `certificate-id`, and JWKS documents fetched through `<openid-config>`.
//!
//! The cryptography is jsonwebtoken's (`DecodingKey`, `crypto::verify`); this file only
//! decides which key may check which algorithm, so an HMAC token is never checked against
//! an RSA or EC public key (algorithm confusion) and `none` is never a signature algorithm.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey};

/// What a key can verify.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    Hmac,
    Rsa,
    /// Elliptic curve; `None` when the curve is not known (a certificate): both ES256 and
    /// ES384 are tried and the wrong curve simply fails.
    Ec(Option<Curve>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Curve {
    P256,
    P384,
}

/// One key that may verify token signatures.
#[derive(Clone)]
pub struct SigningKey {
    /// `<key id>` or the JWK's `kid`.
    pub id: Option<Box<str>>,
    pub kind: KeyKind,
    /// The JWK's `alg`, when it pins one.
    pub alg: Option<Algorithm>,
    pub key: DecodingKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("id", &self.id).field("kind", &self.kind).field("alg", &self.alg).finish()
    }
}

/// The signature algorithms accepted (APIM's list plus the other RSA/EC/HMAC sizes).
pub fn algorithm(name: &str) -> Option<Algorithm> {
    Some(match name {
        "HS256" => Algorithm::HS256,
        "HS384" => Algorithm::HS384,
        "HS512" => Algorithm::HS512,
        "RS256" => Algorithm::RS256,
        "RS384" => Algorithm::RS384,
        "RS512" => Algorithm::RS512,
        "PS256" => Algorithm::PS256,
        "PS384" => Algorithm::PS384,
        "PS512" => Algorithm::PS512,
        "ES256" => Algorithm::ES256,
        "ES384" => Algorithm::ES384,
        _ => return None,
    })
}

impl SigningKey {
    /// Whether this key may check a signature made with `alg`.
    pub fn accepts(&self, alg: Algorithm) -> bool {
        if self.alg.is_some_and(|a| a != alg) {
            return false;
        }
        use Algorithm::*;
        matches!(
            (self.kind, alg),
            (KeyKind::Hmac, HS256 | HS384 | HS512)
                | (KeyKind::Rsa, RS256 | RS384 | RS512 | PS256 | PS384 | PS512)
                | (KeyKind::Ec(None), ES256 | ES384)
                | (KeyKind::Ec(Some(Curve::P256)), ES256)
                | (KeyKind::Ec(Some(Curve::P384)), ES384)
        )
    }

    /// Verifies `signature` (base64url) over `message` (`header.payload`).
    pub fn verify(&self, signature: &str, message: &[u8], alg: Algorithm) -> bool {
        self.accepts(alg) && jsonwebtoken::crypto::verify(signature, message, &self.key, alg).unwrap_or(false)
    }

    /// A symmetric key from `<key>` text (standard base64, as APIM; base64url accepted).
    pub fn symmetric(id: Option<&str>, b64: &str) -> Result<SigningKey, String> {
        let t = b64.trim();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(t)
            .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(t.trim_end_matches('=')))
            .map_err(|_| "the key is not base64".to_string())?;
        let key = DecodingKey::from_secret(&bytes).map_err(|e| e.to_string())?;
        Ok(SigningKey { id: id.map(Into::into), kind: KeyKind::Hmac, alg: None, key })
    }

    /// An RSA key from base64url `n` and `e`.
    pub fn rsa(id: Option<&str>, n: &str, e: &str) -> Result<SigningKey, String> {
        let unpad = |s: &str| s.trim().trim_end_matches('=').replace('+', "-").replace('/', "_");
        let (n, e) = (unpad(n), unpad(e));
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let modulus = engine.decode(&n).map_err(|_| "'n' is not base64url".to_string())?;
        if modulus.iter().skip_while(|b| **b == 0).count() < 256 {
            return Err("RSA keys shorter than 2048 bits are refused".into());
        }
        engine.decode(&e).map_err(|_| "'e' is not base64url".to_string())?;
        let key = DecodingKey::from_rsa_components(&n, &e).map_err(|e| e.to_string())?;
        Ok(SigningKey { id: id.map(Into::into), kind: KeyKind::Rsa, alg: None, key })
    }

    /// The public key of a certificate (DER; RSA or EC).
    pub fn certificate_der(id: Option<&str>, der: &[u8]) -> Result<SigningKey, String> {
        let b64 = base64::engine::general_purpose::STANDARD.encode(der);
        let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
        for line in b64.as_bytes().chunks(64) {
            pem.push_str(std::str::from_utf8(line).unwrap_or_default());
            pem.push('\n');
        }
        pem.push_str("-----END CERTIFICATE-----\n");
        let id = id.map(Into::into);
        if let Ok(key) = DecodingKey::from_rsa_pem(pem.as_bytes()) {
            return Ok(SigningKey { id, kind: KeyKind::Rsa, alg: None, key });
        }
        match DecodingKey::from_ec_pem(pem.as_bytes()) {
            Ok(key) => Ok(SigningKey { id, kind: KeyKind::Ec(None), alg: None, key }),
            Err(_) => Err("the certificate's key is neither RSA nor EC".into()),
        }
    }

    /// One JWK (RFC 7517). `Ok(None)` for keys that are not for signatures (`use: enc`) or of
    /// a type this gateway does not verify with (OKP, P-521).
    pub fn from_jwk(jwk: &serde_json::Value) -> Result<Option<SigningKey>, String> {
        let s = |k: &str| jwk.get(k).and_then(|v| v.as_str());
        if s("use").is_some_and(|u| u != "sig") {
            return Ok(None);
        }
        let id = s("kid");
        let alg = match s("alg") {
            None => None,
            Some(a) => match algorithm(a) {
                Some(alg) => Some(alg),
                None => return Ok(None),
            },
        };
        let mut key = match s("kty") {
            Some("RSA") => match (s("n"), s("e")) {
                (Some(n), Some(e)) => SigningKey::rsa(id, n, e)?,
                _ => match jwk.get("x5c").and_then(|c| c.get(0)).and_then(|c| c.as_str()) {
                    Some(c) => {
                        let der = base64::engine::general_purpose::STANDARD
                            .decode(c)
                            .map_err(|_| "x5c is not base64".to_string())?;
                        SigningKey::certificate_der(id, &der)?
                    }
                    None => return Err("an RSA key needs 'n' and 'e'".into()),
                },
            },
            Some("EC") => {
                let curve = match s("crv") {
                    Some("P-256") => Curve::P256,
                    Some("P-384") => Curve::P384,
                    _ => return Ok(None),
                };
                let (Some(x), Some(y)) = (s("x"), s("y")) else {
                    return Err("an EC key needs 'x' and 'y'".into());
                };
                let key = DecodingKey::from_ec_components(x, y).map_err(|e| e.to_string())?;
                SigningKey { id: id.map(Into::into), kind: KeyKind::Ec(Some(curve)), alg: None, key }
            }
            Some("oct") => match s("k") {
                Some(k) => SigningKey::symmetric(id, k)?,
                None => return Err("an oct key needs 'k'".into()),
            },
            _ => return Ok(None),
        };
        key.alg = alg;
        Ok(Some(key))
    }
}

/// The signing keys of a JWKS document; keys that cannot be used are skipped (and named).
pub fn parse_jwks(body: &[u8]) -> Result<(Vec<SigningKey>, Vec<String>), String> {
    let doc: serde_json::Value = serde_json::from_slice(body).map_err(|e| format!("JWKS is not JSON: {e}"))?;
    let list = doc.get("keys").and_then(|k| k.as_array()).ok_or("JWKS has no 'keys' array")?;
    let mut keys = Vec::new();
    let mut skipped = Vec::new();
    for (i, k) in list.iter().enumerate() {
        match SigningKey::from_jwk(k) {
            Ok(Some(key)) => keys.push(key),
            Ok(None) => {}
            Err(e) => skipped.push(format!("keys[{i}]: {e}")),
        }
    }
    Ok((keys, skipped))
}

/// What the control thread learnt from one `<openid-config url>`: handed to workers in the
/// snapshot, replaced whole when the provider's keys change.
#[derive(Debug, Default)]
pub struct Provider {
    /// The discovery document's `issuer`.
    pub issuer: Option<String>,
    pub keys: Vec<SigningKey>,
    /// Raised by a worker when a token's `kid` is not among `keys`; the control thread
    /// re-fetches (at most every `policy.jwt.openid.refetch-interval`) and lowers it.
    pub miss: Arc<AtomicBool>,
}

impl Provider {
    /// Notes a key miss (cheap when it is already noted: no write to a shared line).
    pub fn note_miss(&self) {
        if !self.miss.load(Ordering::Relaxed) {
            self.miss.store(true, Ordering::Relaxed);
        }
    }
}

/// The providers the control thread holds, by `<openid-config>` URL: an input of the snapshot's
/// assembly, which gives each `<openid-config>` of the plans the provider of its URL (none yet:
/// the policy fails with `TokenSignatureKeyNotFound` until one is fetched).
#[derive(Clone, Debug, Default)]
pub struct KeySets {
    by_url: HashMap<String, Arc<Provider>>,
}

impl KeySets {
    pub fn insert(&mut self, url: impl Into<String>, provider: Arc<Provider>) {
        self.by_url.insert(url.into(), provider);
    }

    pub fn get(&self, url: &str) -> Option<&Arc<Provider>> {
        self.by_url.get(url)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Arc<Provider>)> {
        self.by_url.iter().map(|(u, p)| (u.as_str(), p))
    }
}
