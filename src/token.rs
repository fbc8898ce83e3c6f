//! Gateway tokens (`GatewayKey <gatewayId>&<yyyyMMddHHmm>&<signature>`), shared by the gateway,
//! the control plane and `ringgate token`. The signature is base64 of HMAC-SHA512 over
//! `"<gatewayId>\n<expiry>"` keyed with one of the gateway's keys; expiry is UTC, at most 30 days
//! after issue (control-plane.md).

use std::time::{Duration, SystemTime};

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha512;

/// The longest a token may live.
pub const MAX_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);

/// Clock difference between the issuer and the checker that a token's expiry may exceed
/// [`MAX_LIFETIME`] by.
pub const CLOCK_SKEW: Duration = Duration::from_secs(5 * 60);

#[derive(Debug, Clone)]
pub struct Token {
    pub gateway_id: String,
    pub expiry: SystemTime,
    expiry_text: String,
    pub signature_b64: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("malformed token: expected <gatewayId>&<yyyyMMddHHmm>&<signature>")]
    Malformed,
    #[error("the token has expired")]
    Expired,
    #[error("the token's signature does not match the gateway's keys")]
    BadSignature,
    #[error("the token is for another gateway")]
    WrongGateway,
    #[error("a token may live at most 30 days and must not be expired at issue")]
    BadExpiry,
    #[error("the token's expiry is more than 30 days ahead, beyond the most a gateway token may live")]
    TooLong,
    #[error("a gateway id may not contain '&', whitespace or control characters, and may not be empty")]
    BadGatewayId,
    #[error("expiry {0:?}: expected a duration like 30d, 12h, 90m, or a UTC time like 2026-12-01T00:00:00Z")]
    BadExpiryText(String),
}

fn sign(gateway_id: &str, expiry: &str, key: &str) -> Vec<u8> {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for HMAC.
    let mut mac = match Hmac::<Sha512>::new_from_slice(key.as_bytes()) {
        Ok(m) => m,
        Err(_) => return Vec::new(),
    };
    mac.update(gateway_id.as_bytes());
    mac.update(b"\n");
    mac.update(expiry.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// A token value (without the `GatewayKey ` prefix).
pub fn issue(gateway_id: &str, key: &str, expiry: SystemTime, now: SystemTime) -> Result<String, TokenError> {
    if gateway_id.is_empty() || gateway_id.chars().any(|c| c == '&' || c.is_whitespace() || c.is_control()) {
        return Err(TokenError::BadGatewayId);
    }
    match expiry.duration_since(now) {
        Ok(d) if d <= MAX_LIFETIME + Duration::from_secs(60) => {}
        _ => return Err(TokenError::BadExpiry),
    }
    let exp = crate::timefmt::compact(expiry);
    let sig = base64::engine::general_purpose::STANDARD.encode(sign(gateway_id, &exp, key));
    Ok(format!("{gateway_id}&{exp}&{sig}"))
}

/// Parses a token, with or without the `GatewayKey ` prefix.
pub fn parse(value: &str) -> Result<Token, TokenError> {
    let v = value.trim();
    let v = v.strip_prefix("GatewayKey ").unwrap_or(v).trim();
    let mut parts = v.splitn(3, '&');
    let (Some(id), Some(exp), Some(sig)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(TokenError::Malformed);
    };
    if id.is_empty() || sig.is_empty() {
        return Err(TokenError::Malformed);
    }
    let expiry = crate::timefmt::parse_compact(exp).ok_or(TokenError::Malformed)?;
    Ok(Token { gateway_id: id.to_string(), expiry, expiry_text: exp.to_string(), signature_b64: sig.to_string() })
}

/// Whether the token's expiry is within the 30-day maximum from `now` (whatever its signature).
pub fn check_lifetime(token: &Token, now: SystemTime) -> Result<(), TokenError> {
    match token.expiry.duration_since(now) {
        Ok(left) if left > MAX_LIFETIME + CLOCK_SKEW => Err(TokenError::TooLong),
        _ => Ok(()),
    }
}

/// Checks the lifetime (at most 30 days ahead), the signature against any of `keys`
/// (constant-time) and the expiry against `now`.
pub fn verify(token: &Token, gateway_id: &str, keys: &[&str], now: SystemTime) -> Result<(), TokenError> {
    if token.gateway_id != gateway_id {
        return Err(TokenError::WrongGateway);
    }
    check_lifetime(token, now)?;
    let given = base64::engine::general_purpose::STANDARD
        .decode(token.signature_b64.as_bytes())
        .map_err(|_| TokenError::BadSignature)?;
    let mut ok = false;
    for key in keys {
        let Ok(mut mac) = Hmac::<Sha512>::new_from_slice(key.as_bytes()) else { continue };
        mac.update(token.gateway_id.as_bytes());
        mac.update(b"\n");
        mac.update(token.expiry_text.as_bytes());
        ok |= mac.verify_slice(&given).is_ok();
    }
    if !ok {
        return Err(TokenError::BadSignature);
    }
    if token.expiry <= now {
        return Err(TokenError::Expired);
    }
    Ok(())
}

pub fn expires_in(token: &Token, now: SystemTime) -> Option<Duration> {
    token.expiry.duration_since(now).ok()
}

/// `30d`, `12h`, `90m` from now, or an RFC 3339 UTC time.
pub fn parse_expiry(text: &str, now: SystemTime) -> Result<SystemTime, TokenError> {
    let t = text.trim();
    if let Some(at) = crate::timefmt::parse_rfc3339(t) {
        return Ok(at);
    }
    let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: u64 = num.parse().map_err(|_| TokenError::BadExpiryText(text.into()))?;
    let secs = match unit {
        "d" => n * 86_400,
        "h" => n * 3600,
        "m" => n * 60,
        _ => return Err(TokenError::BadExpiryText(text.into())),
    };
    Ok(now + Duration::from_secs(secs))
}

/// `ringgate token`: the full setting value, `GatewayKey <token>`.
pub fn token_command(gateway: &str, key: &str, expiry: &str) -> Result<String, TokenError> {
    let now = SystemTime::now();
    Ok(format!("GatewayKey {}", issue(gateway, key, parse_expiry(expiry, now)?, now)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn matches_an_independent_hmac() {
        // python3 -c 'import hmac,hashlib,base64;print(base64.b64encode(hmac.new(b"k3y",
        //   b"gw1\n202612010000",hashlib.sha512).digest()).decode())'
        let expected = "X/9vrKNZ80kAU7tr8EKma3WCY9a5Ui5tWKlCJ9/d+gRU/4eZCk//A7AIXxs1SMgrT7d5QXjwZTQyh3I6ujvrUw==";
        let sig = base64::engine::general_purpose::STANDARD.encode(sign("gw1", "202612010000", "k3y"));
        assert_eq!(sig, expected);
    }

    #[test]
    fn issue_parse_verify() {
        let now = UNIX_EPOCH + Duration::from_secs(1_795_356_000);
        let exp = now + Duration::from_secs(10 * 86_400);
        let value = issue("gw1", "primary-key", exp, now).expect("issue");
        let t = parse(&format!("GatewayKey {value}")).expect("parse");
        assert_eq!(t.gateway_id, "gw1");
        assert_eq!(verify(&t, "gw1", &["other", "primary-key"], now), Ok(()));
        assert_eq!(verify(&t, "gw2", &["primary-key"], now), Err(TokenError::WrongGateway));
        assert_eq!(verify(&t, "gw1", &["regenerated"], now), Err(TokenError::BadSignature));
        assert_eq!(verify(&t, "gw1", &["primary-key"], exp + Duration::from_secs(60)), Err(TokenError::Expired));
        let tampered = parse(&value.replacen("gw1", "gw2", 1)).expect("parse");
        assert_eq!(verify(&tampered, "gw2", &["primary-key"], now), Err(TokenError::BadSignature));
        assert!(issue("gw1", "k", now + Duration::from_secs(31 * 86_400), now).is_err());
        assert!(issue("a&b", "k", exp, now).is_err());
        // Signed with the right key, but 31 days ahead: refused whatever the signature.
        let long = now + Duration::from_secs(31 * 86_400);
        let exp_text = crate::timefmt::compact(long);
        let sig = base64::engine::general_purpose::STANDARD.encode(sign("gw1", &exp_text, "primary-key"));
        let t = parse(&format!("gw1&{exp_text}&{sig}")).expect("parse");
        assert_eq!(verify(&t, "gw1", &["primary-key"], now), Err(TokenError::TooLong));
        assert!(parse("garbage").is_err());
    }
}
