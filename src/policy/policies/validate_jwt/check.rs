//! The per-request checks of `validate-jwt`, in the order APIM's validator applies them:
//! presence, form, signature, lifetime, audience, issuer, required claims.

use std::sync::Arc;

use base64::Engine;
use serde_json::{Map, Value as Json};

use super::keys::{algorithm, SigningKey};
use super::{Claim, TokenSource, ValidateJwt};
use crate::policy::expr::jwt::parse_jwt;
use crate::policy::expr::Value;
use crate::policy::policies::{Failure, Outcome, Result};
use crate::policy::runtime::PolicyContext;

/// A failed check: APIM's reason and what went wrong (logged; the caller sees the message).
pub(crate) struct Reject(pub &'static str, pub String);

fn reject<T>(reason: &'static str, detail: impl Into<String>) -> std::result::Result<T, Reject> {
    Err(Reject(reason, detail.into()))
}

pub(super) fn run(p: &ValidateJwt, ctx: &mut PolicyContext<'_>, now: u64) -> Result<Outcome<'static>> {
    let token = token(p, ctx)?;
    match token.as_deref().map(|t| validate(p, t, now)) {
        Some(Ok(())) => {
            if let (Some(var), Some(t)) = (&p.output, token.as_deref()) {
                let v = parse_jwt(t).map_or(Value::Null, |j| Value::Jwt(Arc::new(j)));
                ctx.set_variable(var, v);
            }
            Ok(Outcome::Continue)
        }
        Some(Err(Reject(reason, detail))) => {
            tracing::debug!(reason, detail = %detail, "validate-jwt rejected a token");
            let message = match &p.message {
                Some(m) => m.text(ctx)?,
                None => "Invalid JWT.".into(),
            };
            Err(Failure::new(reason, message, p.status))
        }
        None => {
            let message = match &p.message {
                Some(m) => m.text(ctx)?,
                None => "JWT not present.".into(),
            };
            Err(Failure::new("TokenNotPresent", message, p.status))
        }
    }
}

/// The token as presented, without its scheme; `None` when absent.
fn token(p: &ValidateJwt, ctx: &PolicyContext<'_>) -> Result<Option<String>> {
    let raw = match &p.source {
        TokenSource::Header(h) => {
            let Some(v) = ctx.request_header(h) else { return Ok(None) };
            let v = v.trim();
            // APIM applies require-scheme to the Authorization header only.
            let scheme = p.scheme.as_deref().filter(|_| &**h == "authorization");
            match split_scheme(v) {
                Some((s, t)) if scheme.is_none_or(|want| want.eq_ignore_ascii_case(s)) => t.to_string(),
                Some(_) => return Ok(None),
                None if scheme.is_some() => return Ok(None),
                None => v.to_string(),
            }
        }
        TokenSource::Query(q) => match ctx.query_param(q) {
            Some(v) => v.to_string(),
            None => return Ok(None),
        },
        TokenSource::Value(d) => d.text(ctx)?,
    };
    let t = raw.trim();
    Ok((!t.is_empty()).then(|| t.to_string()))
}

/// `Bearer xyz` → `("Bearer", "xyz")`; a bare token → `None`.
fn split_scheme(v: &str) -> Option<(&str, &str)> {
    let (s, t) = v.split_once(' ')?;
    Some((s, t.trim_start()))
}

fn object(part: &str) -> Option<Map<String, Json>> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Json::Object(m) => Some(m),
        _ => None,
    }
}

/// Longest token decoded. A header-borne token is bounded by the head size, but `token-value`
/// may come from a body; decoding and parsing a larger one would cost memory in proportion
/// (serde's JSON model is several times the text).
pub const MAX_TOKEN: usize = 64 * 1024;

pub(crate) fn validate(p: &ValidateJwt, token: &str, now: u64) -> std::result::Result<(), Reject> {
    if token.len() > MAX_TOKEN {
        return reject("JwtInvalid", format!("token of {} bytes, over {MAX_TOKEN}", token.len()));
    }
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() == 5 {
        return reject("JwtInvalid", "encrypted tokens (JWE) are not supported");
    }
    let [h, c, sig] = parts[..] else { return reject("JwtInvalid", "not a compact JWS (three parts)") };
    let (Some(header), Some(claims)) = (object(h), object(c)) else {
        return reject("JwtInvalid", "header or payload is not base64url JSON");
    };
    critical(&header)?;
    signature(p, &header, &token[..h.len() + 1 + c.len()], sig)?;
    lifetime(p, &claims, now)?;
    if !p.audiences.is_empty() {
        let aud = strings(claims.get("aud"));
        if !aud.iter().any(|a| p.audiences.iter().any(|w| **w == **a)) {
            return reject("TokenAudienceNotAllowed", format!("audience {aud:?} not allowed"));
        }
    }
    let discovered = p.openid.iter().filter_map(|o| o.provider.as_ref()?.issuer.as_deref());
    let issuers: Vec<&str> = p.issuers.iter().map(|s| &**s).chain(discovered).collect();
    if !issuers.is_empty() {
        let iss = claims.get("iss").and_then(Json::as_str).unwrap_or("");
        if !issuers.contains(&iss) {
            return reject("TokenIssuerNotAllowed", format!("issuer '{iss}' not allowed"));
        }
    }
    p.claims.iter().try_for_each(|cl| claim(cl, &claims))
}

/// RFC 7515 4.1.11: `crit` names header extensions the recipient must understand or refuse
/// the token. This validator implements none (not even RFC 7797's `b64`), so a `crit` naming
/// anything is refused, and so is an empty or malformed one ("MUST NOT be used" / "MUST
/// reject"), before the signature is looked at.
fn critical(header: &Map<String, Json>) -> std::result::Result<(), Reject> {
    match header.get("crit") {
        None => Ok(()),
        Some(Json::Array(names)) if !names.is_empty() && names.iter().all(Json::is_string) => {
            let names: Vec<&str> = names.iter().filter_map(Json::as_str).collect();
            reject("JwtInvalid", format!("critical header extensions {names:?} are not understood"))
        }
        Some(_) => reject("JwtInvalid", "'crit' must be a non-empty array of extension names"),
    }
}

fn signature(p: &ValidateJwt, header: &Map<String, Json>, message: &str, sig: &str) -> std::result::Result<(), Reject> {
    let alg_name = header.get("alg").and_then(Json::as_str).unwrap_or("");
    if alg_name == "none" || alg_name.is_empty() {
        if p.require_signed || !sig.is_empty() {
            return reject("TokenSignatureInvalid", "the token is not signed (alg none)");
        }
        return Ok(());
    }
    let Some(alg) = algorithm(alg_name) else {
        return reject("TokenSignatureInvalid", format!("algorithm '{alg_name}' is not accepted"));
    };
    let kid = header.get("kid").and_then(Json::as_str);
    let providers: Vec<_> = p.openid.iter().filter_map(|o| o.provider.as_ref()).collect();
    let discovered = providers.iter().flat_map(|pr| pr.keys.iter());
    let all: Vec<&SigningKey> = p.keys.iter().chain(discovered).collect();
    // A `kid` picks the keys of that id; keys without an id (plain `<key>` elements) are
    // tried for any token. Without a `kid` every key is tried.
    let candidates: Vec<&SigningKey> = match kid {
        Some(k) => all.iter().copied().filter(|key| key.id.as_deref().is_none_or(|id| id == k)).collect(),
        None => all.clone(),
    };
    // A `kid` none of the keys has, or no key at all: the provider's keys may have rotated.
    let unknown_kid = kid.is_some_and(|k| !all.iter().any(|key| key.id.as_deref() == Some(k)));
    if unknown_kid || candidates.is_empty() {
        for pr in &providers {
            pr.note_miss();
        }
    }
    if candidates.is_empty() {
        return reject("TokenSignatureKeyNotFound", format!("no key for kid {kid:?}"));
    }
    let usable: Vec<&&SigningKey> = candidates.iter().filter(|k| k.accepts(alg)).collect();
    if usable.is_empty() {
        return reject("TokenSignatureInvalid", format!("no configured key is for {alg_name}"));
    }
    if usable.iter().any(|k| k.verify(sig, message.as_bytes(), alg)) {
        Ok(())
    } else {
        reject("TokenSignatureInvalid", "signature does not verify")
    }
}

/// A NumericDate claim: absent is `None`; present but not a number is an error (never
/// treated as absent).
fn numeric(claims: &Map<String, Json>, name: &str) -> std::result::Result<Option<f64>, Reject> {
    match claims.get(name) {
        None => Ok(None),
        Some(v) => match v.as_f64() {
            Some(n) => Ok(Some(n)),
            None => reject("JwtInvalid", format!("'{name}' is not a number")),
        },
    }
}

fn lifetime(p: &ValidateJwt, claims: &Map<String, Json>, now: u64) -> std::result::Result<(), Reject> {
    let (now, skew) = (now as f64, p.clock_skew as f64);
    match numeric(claims, "exp")? {
        Some(exp) if now >= exp + skew => return reject("TokenExpired", format!("expired at {exp}")),
        None if p.require_exp => return reject("TokenExpired", "the token has no expiration time"),
        _ => {}
    }
    match numeric(claims, "nbf")? {
        Some(nbf) if now + skew < nbf => reject("JwtInvalid", format!("not valid before {nbf}")),
        _ => Ok(()),
    }
}

/// A claim's values as strings (arrays flattened, numbers and booleans as text).
fn strings(v: Option<&Json>) -> Vec<String> {
    let text = |j: &Json| match j {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    };
    match v {
        None | Some(Json::Null) => Vec::new(),
        Some(Json::Array(a)) => a.iter().map(text).collect(),
        Some(other) => vec![text(other)],
    }
}

fn claim(c: &Claim, claims: &Map<String, Json>) -> std::result::Result<(), Reject> {
    let Some(v) = claims.get(&*c.name) else {
        return reject("TokenClaimNotFound", format!("claim '{}' not found", c.name));
    };
    if c.values.is_empty() {
        return Ok(());
    }
    let mut have = strings(Some(v));
    if let Some(sep) = &c.separator {
        have = have.iter().flat_map(|s| s.split(&**sep).map(|x| x.trim().to_string())).collect();
    }
    let found = |want: &str| have.iter().any(|h| h == want);
    let mut wanted = c.values.iter().map(|v| &**v);
    let ok = if c.all { wanted.all(found) } else { wanted.any(found) };
    if ok {
        Ok(())
    } else {
        reject("TokenClaimValueNotAllowed", format!("claim '{}' has values {have:?}", c.name))
    }
}
