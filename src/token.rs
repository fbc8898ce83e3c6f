//! TEMPORARY: the gateway-side token parse with the agreed API; replaced by the full module
//! (issue, verify) from the control-plane work.
use std::time::{Duration, SystemTime};

#[derive(Debug, Clone)]
pub struct Token {
    pub gateway_id: String,
    pub expiry: SystemTime,
    pub signature_b64: String,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("malformed token: expected <gatewayId>&<yyyyMMddHHmm>&<signature>")]
    Malformed,
}

pub fn parse(value: &str) -> Result<Token, TokenError> {
    let v = value.trim();
    let v = v.strip_prefix("GatewayKey ").unwrap_or(v);
    let mut parts = v.splitn(3, '&');
    let (Some(id), Some(exp), Some(sig)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(TokenError::Malformed);
    };
    let expiry = crate::timefmt::parse_compact(exp).ok_or(TokenError::Malformed)?;
    Ok(Token { gateway_id: id.to_string(), expiry, signature_b64: sig.to_string() })
}

pub fn expires_in(token: &Token, now: SystemTime) -> Option<Duration> {
    token.expiry.duration_since(now).ok()
}
