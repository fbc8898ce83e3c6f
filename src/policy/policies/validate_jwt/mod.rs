//! `<validate-jwt>`: the request must carry a JWS whose signature, lifetime, audience, issuer
//! and required claims check out; otherwise `failed-validation-httpcode` (401) with APIM's
//! reasons (`TokenNotPresent`, `TokenSignatureInvalid`, `TokenExpired`, …).
//!
//! Keys come from `<issuer-signing-keys>` (compiled here; `certificate-id` is resolved against
//! the document's certificates by [`resolve_certificates`]) and from `<openid-config>`, whose
//! discovery document and JWKS the control thread fetches; the snapshot's assembly takes those
//! key sets as an input and gives each compiled op its provider ([`attach_openid`]): the
//! request path never makes a network call. Encrypted tokens
//! (`<decryption-keys>`) are refused at load time.

pub(crate) mod check;
pub mod keys;

use std::sync::Arc;

use super::union;
use super::{no_child_elements, only_children, Attrs, Cx, Op, Outcome, Result};
use crate::policy::expr::{Dyn, Uses};
use crate::policy::runtime::PolicyContext;
use crate::policy::xml::Element;
use crate::policy::Plans;
use keys::{KeySets, Provider, SigningKey};

/// Where the token is read from.
#[derive(Clone, Debug)]
pub enum TokenSource {
    /// Lowercase header name.
    Header(Box<str>),
    Query(Box<str>),
    Value(Dyn),
}

/// `<claim name match separator><value>…</value></claim>`.
#[derive(Clone, Debug)]
pub struct Claim {
    pub name: Box<str>,
    /// `match="all"` (default): every value must be present; `any`: one is enough.
    pub all: bool,
    pub separator: Option<Box<str>>,
    pub values: Vec<Box<str>>,
}

/// `<openid-config url>`: the provider the snapshot was assembled with, if any yet.
#[derive(Clone, Debug)]
pub struct OpenId {
    pub url: Box<str>,
    pub provider: Option<Arc<Provider>>,
}

#[derive(Clone, Debug)]
pub struct ValidateJwt {
    pub source: TokenSource,
    pub scheme: Option<Box<str>>,
    pub require_exp: bool,
    pub require_signed: bool,
    pub clock_skew: u64,
    pub status: u16,
    pub message: Option<Dyn>,
    pub output: Option<Box<str>>,
    pub keys: Vec<SigningKey>,
    /// `<key certificate-id>` not yet resolved (see [`resolve_certificates`]).
    pub certificate_ids: Vec<(Option<Box<str>>, Box<str>)>,
    pub openid: Vec<OpenId>,
    pub audiences: Vec<Box<str>>,
    pub issuers: Vec<Box<str>>,
    pub claims: Vec<Claim>,
}

fn literal_text(el: &Element, cx: &mut Cx<'_>) -> Option<String> {
    no_child_elements(el, cx);
    Attrs::new(el).finish(cx);
    let t = el.text();
    let v = t.text.trim();
    if v.starts_with("@(") || v.starts_with("@{") {
        cx.err(t.start(), format!("<{}> does not accept expressions", el.name));
        return None;
    }
    Some(v.to_string())
}

/// `<audiences><audience>…</audience></audiences>` and the like.
fn list(el: &Element, cx: &mut Cx<'_>, child: &str) -> Vec<Box<str>> {
    Attrs::new(el).finish(cx);
    only_children(el, cx, &[child]);
    el.elements().filter(|e| e.name == child).filter_map(|e| literal_text(e, cx)).map(Into::into).collect()
}

fn key(el: &Element, cx: &mut Cx<'_>, out: &mut ValidateJwt) {
    let mut a = Attrs::new(el);
    let id = a.literal(cx, "id").map(|(v, _)| v.trim().to_string());
    let n = a.literal(cx, "n");
    let e = a.literal(cx, "e");
    let cert = a.literal(cx, "certificate-id");
    a.finish(cx);
    no_child_elements(el, cx);
    let text = el.text();
    let text = text.text.trim();
    let result = match (n, e, cert) {
        (None, None, Some((c, _))) if text.is_empty() => {
            out.certificate_ids.push((id.map(Into::into), c.trim().into()));
            return;
        }
        (Some((n, _)), Some((e, _)), None) if text.is_empty() => SigningKey::rsa(id.as_deref(), n, e),
        (None, None, None) if !text.is_empty() => SigningKey::symmetric(id.as_deref(), text),
        _ => Err("a <key> is base64 text (symmetric), or has 'n' and 'e' (RSA), or 'certificate-id'".into()),
    };
    match result {
        Ok(k) => out.keys.push(k),
        Err(m) => cx.err(el.pos, format!("<key>: {m}")),
    }
}

fn claim(el: &Element, cx: &mut Cx<'_>) -> Option<Claim> {
    let mut a = Attrs::new(el);
    let name = a.literal(cx, "name").map(|(v, _)| v.trim().to_string());
    let all = match a.literal(cx, "match").map(|(v, p)| (v.trim(), p)) {
        None | Some(("all", _)) => true,
        Some(("any", _)) => false,
        Some((v, p)) => {
            cx.err(p, format!("'match' must be all or any, found '{v}'"));
            true
        }
    };
    let separator = a.literal(cx, "separator").filter(|(v, _)| !v.is_empty()).map(|(v, _)| v.into());
    a.finish(cx);
    only_children(el, cx, &["value"]);
    let values = el.elements().filter(|e| e.name == "value").filter_map(|e| literal_text(e, cx)).map(Into::into);
    let values = values.collect();
    match name {
        Some(n) if !n.is_empty() => Some(Claim { name: n.into(), all, separator, values }),
        _ => {
            cx.err(el.pos, "<claim> needs the attribute 'name'");
            None
        }
    }
}

pub fn compile(el: &Element, cx: &mut Cx<'_>) -> Option<ValidateJwt> {
    let mut a = Attrs::new(el);
    let header = a.literal(cx, "header-name").map(|(v, _)| v.trim().to_ascii_lowercase());
    let query = a.literal(cx, "query-parameter-name").map(|(v, _)| v.trim().to_string());
    let value = a.value(cx, "token-value");
    let source = match (header, query, value) {
        (Some(h), None, None) => TokenSource::Header(h.into()),
        (None, Some(q), None) => TokenSource::Query(q.into()),
        (None, None, Some(v)) => TokenSource::Value(v),
        _ => {
            cx.err(el.pos, "<validate-jwt> needs exactly one of 'header-name', 'query-parameter-name', 'token-value'");
            TokenSource::Header("authorization".into())
        }
    };
    let status = match a.number::<u16>(cx, "failed-validation-httpcode") {
        None => 401,
        Some(s) if (100..=599).contains(&s) => s,
        Some(s) => {
            cx.err(el.pos, format!("failed-validation-httpcode must be 100-599, found {s}"));
            401
        }
    };
    let mut out = ValidateJwt {
        source,
        scheme: a.literal(cx, "require-scheme").map(|(v, _)| v.trim()).filter(|v| !v.is_empty()).map(Into::into),
        require_exp: a.bool(cx, "require-expiration-time", true),
        require_signed: a.bool(cx, "require-signed-tokens", true),
        clock_skew: a.number::<u64>(cx, "clock-skew").unwrap_or(0),
        status,
        message: a.value(cx, "failed-validation-error-message"),
        output: a.literal(cx, "output-token-variable-name").map(|(v, _)| v.trim().into()),
        keys: Vec::new(),
        certificate_ids: Vec::new(),
        openid: Vec::new(),
        audiences: Vec::new(),
        issuers: Vec::new(),
        claims: Vec::new(),
    };
    a.finish(cx);
    let allowed =
        ["openid-config", "issuer-signing-keys", "decryption-keys", "audiences", "issuers", "required-claims"];
    only_children(el, cx, &allowed);
    for c in el.elements() {
        match c.name.as_str() {
            "openid-config" => {
                let mut ca = Attrs::new(c);
                let url = ca.literal(cx, "url").map(|(v, _)| v.trim().to_string());
                ca.finish(cx);
                match url {
                    Some(u) if u.starts_with("https://") || u.starts_with("http://") => {
                        out.openid.push(OpenId { url: u.into(), provider: None })
                    }
                    Some(u) => cx.err(c.pos, format!("<openid-config> url must be http(s), found '{u}'")),
                    None => cx.err(c.pos, "<openid-config> needs the attribute 'url'"),
                }
            }
            "issuer-signing-keys" => {
                Attrs::new(c).finish(cx);
                only_children(c, cx, &["key"]);
                for k in c.elements().filter(|k| k.name == "key") {
                    key(k, cx, &mut out);
                }
            }
            "decryption-keys" => cx.err(
                c.pos,
                "<decryption-keys> is not supported: this gateway validates signed tokens (JWS) only, not encrypted ones (JWE)",
            ),
            "audiences" => out.audiences.extend(list(c, cx, "audience")),
            "issuers" => out.issuers.extend(list(c, cx, "issuer")),
            "required-claims" => {
                Attrs::new(c).finish(cx);
                only_children(c, cx, &["claim"]);
                out.claims.extend(c.elements().filter(|e| e.name == "claim").filter_map(|e| claim(e, cx)));
            }
            _ => {}
        }
    }
    Some(out)
}

impl ValidateJwt {
    pub fn uses(&self) -> Uses {
        let v = match &self.source {
            TokenSource::Value(d) => d.uses(),
            _ => Uses::default(),
        };
        union(v, self.message.as_ref().map(Dyn::uses).unwrap_or_default())
    }

    pub fn run(&self, ctx: &mut PolicyContext<'_>) -> Result<Outcome<'static>> {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        check::run(self, ctx, now)
    }
}

/// Every `validate-jwt` op of the plans.
fn ops(plans: &mut Plans) -> impl Iterator<Item = &mut ValidateJwt> {
    plans.ops_mut().filter_map(|op| match op {
        Op::ValidateJwt(v) => Some(&mut **v),
        _ => None,
    })
}

/// Resolves `<key certificate-id>` against the document's certificates (id → leaf DER, parsed
/// at load); returns one message per certificate that is unknown or has no usable key.
pub fn resolve_certificates<'c>(plans: &mut Plans, certificates: impl Fn(&str) -> Option<&'c [u8]>) -> Vec<String> {
    let mut problems = Vec::new();
    for v in ops(plans) {
        for (id, cert) in std::mem::take(&mut v.certificate_ids) {
            let key = match certificates(&cert) {
                None => Err(format!("unknown certificate '{cert}'")),
                Some([]) => Err(format!("certificate '{cert}': no CERTIFICATE block")),
                Some(der) => {
                    SigningKey::certificate_der(id.as_deref(), der).map_err(|e| format!("certificate '{cert}': {e}"))
                }
            };
            match key {
                Ok(k) => v.keys.push(k),
                Err(m) => {
                    let m = format!("<validate-jwt> <key certificate-id>: {m}");
                    if !problems.contains(&m) {
                        problems.push(m);
                    }
                }
            }
        }
    }
    problems
}

/// The `<openid-config>` URLs the plans name (sorted, without duplicates).
pub fn openid_urls(plans: &Plans) -> Vec<String> {
    let jwt = plans.ops().filter_map(|op| match op {
        Op::ValidateJwt(v) => Some(&**v),
        _ => None,
    });
    let mut urls: Vec<String> = jwt.flat_map(|v| v.openid.iter().map(|o| o.url.to_string())).collect();
    urls.sort();
    urls.dedup();
    urls
}

/// Gives each `<openid-config>` the provider of its URL in `keys` (part of the snapshot's
/// assembly, on plans fresh from the loader).
pub fn attach_openid(plans: &mut Plans, keys: &KeySets) {
    for v in ops(plans) {
        for o in &mut v.openid {
            o.provider = keys.get(&o.url).cloned();
        }
    }
}
