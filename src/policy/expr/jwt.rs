//! `AsJwt()` / `AsBasic()`: reading (not validating) credentials carried in header values.
//!
//! `AsJwt` decodes the base64url header and claims of a compact JWS; it checks no signature
//! (that is `validate-jwt`'s job), exactly like APIM's helper. An optional `Bearer ` prefix is
//! accepted so the `Authorization` header can be used as is.

use base64::Engine;

#[derive(Clone, Debug, PartialEq)]
pub struct Jwt {
    pub header: Vec<(String, String)>,
    /// Claim name → values (arrays become several values; numbers and booleans their text).
    pub claims: Vec<(String, Vec<String>)>,
}

impl Jwt {
    pub fn claim(&self, name: &str) -> Option<&[String]> {
        self.claims.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_slice())
    }
    pub fn first(&self, name: &str) -> Option<&str> {
        self.claim(name).and_then(|v| v.first()).map(String::as_str)
    }
    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.header.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Basic {
    pub user_id: String,
    pub password: String,
}

fn strip_scheme<'a>(value: &'a str, scheme: &str) -> &'a str {
    let v = value.trim();
    match v.get(..scheme.len()) {
        Some(p) if p.eq_ignore_ascii_case(scheme) && v.as_bytes().get(scheme.len()) == Some(&b' ') => {
            v[scheme.len()..].trim_start()
        }
        _ => v,
    }
}

fn b64url(part: &str) -> Option<Vec<u8>> {
    let trimmed = part.trim_end_matches('=');
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(trimmed).ok()
}

fn json_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn object(part: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    let bytes = b64url(part)?;
    match serde_json::from_slice(&bytes).ok()? {
        serde_json::Value::Object(m) => Some(m),
        _ => None,
    }
}

/// Parses a compact JWT (three dot-separated parts; the signature may be empty).
pub fn parse_jwt(value: &str) -> Option<Jwt> {
    let token = strip_scheme(value, "Bearer");
    let mut parts = token.split('.');
    let (h, p, _sig) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let header = object(h)?.into_iter().map(|(k, v)| (k, json_text(&v))).collect();
    let claims = object(p)?
        .into_iter()
        .map(|(k, v)| {
            let vals = match v {
                serde_json::Value::Array(a) => a.iter().map(json_text).collect(),
                other => vec![json_text(&other)],
            };
            (k, vals)
        })
        .collect();
    Some(Jwt { header, claims })
}

/// Parses `Basic base64(user:password)` (the scheme prefix is optional).
pub fn parse_basic(value: &str) -> Option<Basic> {
    let raw = strip_scheme(value, "Basic");
    let bytes = base64::engine::general_purpose::STANDARD.decode(raw).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (u, p) = text.split_once(':')?;
    Some(Basic { user_id: u.to_string(), password: p.to_string() })
}

#[cfg(test)]
pub(crate) fn make_jwt(claims: &serde_json::Value) -> String {
    let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!("{}.{}.sig", e.encode(br#"{"alg":"RS256","typ":"JWT"}"#), e.encode(claims.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwt_claims() {
        let t = make_jwt(&serde_json::json!({"sub":"u1","aud":["a","b"],"exp":1700000000,"admin":true}));
        let j = parse_jwt(&format!("Bearer {t}")).unwrap();
        assert_eq!(j.first("sub"), Some("u1"));
        assert_eq!(j.claim("aud").unwrap(), ["a", "b"]);
        assert_eq!(j.first("exp"), Some("1700000000"));
        assert_eq!(j.first("admin"), Some("true"));
        assert_eq!(j.header_value("alg"), Some("RS256"));
        assert!(parse_jwt("abc").is_none());
        assert!(parse_jwt("a.b.c").is_none());
    }

    #[test]
    fn basic() {
        let b = parse_basic("Basic dXNlcjpwYTpzcw==").unwrap();
        assert_eq!((b.user_id.as_str(), b.password.as_str()), ("user", "pa:ss"));
        assert!(parse_basic("Basic !!!").is_none());
    }
}
