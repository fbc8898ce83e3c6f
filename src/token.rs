//! TEMPORARY stub with the agreed API; replaced by the control-plane helper's implementation.
use std::time::{Duration, SystemTime};

#[derive(Debug, Clone)]
pub struct Token {
    pub gateway_id: String,
    pub expiry: SystemTime,
    pub signature_b64: String,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("malformed token")]
    Malformed,
}

pub fn parse(value: &str) -> Result<Token, TokenError> {
    let v = value.trim();
    let v = v.strip_prefix("GatewayKey ").unwrap_or(v);
    let mut parts = v.splitn(3, '&');
    let (Some(id), Some(_exp), Some(sig)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(TokenError::Malformed);
    };
    Ok(Token {
        gateway_id: id.to_string(),
        expiry: SystemTime::now() + Duration::from_secs(86400),
        signature_b64: sig.to_string(),
    })
}

pub fn expires_in(token: &Token, now: SystemTime) -> Option<Duration> {
    token.expiry.duration_since(now).ok()
}
