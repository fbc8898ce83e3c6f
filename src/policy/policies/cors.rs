//! `<cors>`: cross-origin resource sharing, including the preflight answered by the gateway.
//!
//! Preflight = `OPTIONS` with `Origin` and `Access-Control-Request-Method`; for it only the
//! `cors` step runs (the executor skips the rest of inbound, as APIM does). For other
//! requests with an allowed `Origin`, the CORS response headers are added to the response.
//! `terminate-unmatched-request` defaults to `true` (what APIM's text says; its table says
//! `false`): an unmatched preflight, or an unmatched GET/HEAD, gets an empty 200.

use super::{Attrs, Cx, Outcome, Result};
use crate::policy::runtime::{PolicyContext, Response};
use crate::policy::xml::{Element, Node};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Cors {
    pub allow_credentials: bool,
    pub terminate_unmatched: bool,
    /// Lowercased origins; `None` = any (`*`).
    pub origins: Option<Vec<Box<str>>>,
    /// Uppercase methods; `None` = any (`*`).
    pub methods: Option<Vec<Box<str>>>,
    pub max_age: Option<u32>,
    /// Lowercased; `None` = any.
    pub headers: Option<Vec<Box<str>>>,
    pub expose: Vec<Box<str>>,
}

/// Whether the request is a CORS preflight.
pub fn is_preflight(ctx: &PolicyContext<'_>) -> bool {
    ctx.request.method().eq_ignore_ascii_case("OPTIONS")
        && ctx.request.header("origin").is_some()
        && ctx.request.header("access-control-request-method").is_some()
}

fn list(e: &Element, item: &str, cx: &mut Cx<'_>) -> Vec<String> {
    let mut out = Vec::new();
    for c in &e.children {
        match c {
            Node::Element(i) if i.name == item => {
                Attrs::new(i).finish(cx);
                let t = i.text();
                if t.text.trim_start().starts_with('@') {
                    cx.err(t.start(), format!("<{item}> does not accept expressions"));
                }
                out.push(t.text.trim().to_string());
            }
            Node::Element(i) => cx.err(i.pos, format!("unexpected <{}> inside <{}> (allowed: {item})", i.name, e.name)),
            Node::Text(t) if !t.text.trim().is_empty() => {
                cx.err(t.start(), format!("<{}> takes no text content", e.name))
            }
            Node::Text(_) => {}
        }
    }
    out
}

fn any_or(v: Vec<String>, f: impl Fn(&str) -> String) -> Option<Vec<Box<str>>> {
    if v.iter().any(|x| x == "*") {
        None
    } else {
        Some(v.iter().map(|x| f(x).into()).collect())
    }
}

pub fn compile(el: &Element, cx: &mut Cx<'_>) -> Option<Cors> {
    let mut a = Attrs::new(el);
    let mut c = Cors {
        allow_credentials: a.bool(cx, "allow-credentials", false),
        terminate_unmatched: a.bool(cx, "terminate-unmatched-request", true),
        ..Cors::default()
    };
    a.finish(cx);
    let mut seen_origins = false;
    c.methods = Some(vec!["GET".into(), "POST".into()]);
    for child in &el.children {
        let e = match child {
            Node::Element(e) => e,
            Node::Text(t) if t.text.trim().is_empty() => continue,
            Node::Text(t) => {
                cx.err(t.start(), "<cors> takes no text content");
                continue;
            }
        };
        match e.name.as_str() {
            "allowed-origins" => {
                Attrs::new(e).finish(cx);
                seen_origins = true;
                c.origins = any_or(list(e, "origin", cx), |s| s.trim_end_matches('/').to_ascii_lowercase());
            }
            "allowed-methods" => {
                let mut ma = Attrs::new(e);
                c.max_age = ma.number::<u32>(cx, "preflight-result-max-age");
                ma.finish(cx);
                c.methods = any_or(list(e, "method", cx), |s| s.to_ascii_uppercase());
            }
            "allowed-headers" => {
                Attrs::new(e).finish(cx);
                c.headers = any_or(list(e, "header", cx), |s| s.to_ascii_lowercase());
            }
            "expose-headers" => {
                Attrs::new(e).finish(cx);
                c.expose = list(e, "header", cx).into_iter().map(Into::into).collect();
            }
            other => cx.err(
                e.pos,
                format!("unexpected <{other}> inside <cors> (allowed: allowed-origins, allowed-methods, allowed-headers, expose-headers)"),
            ),
        }
    }
    if !seen_origins {
        cx.err(el.pos, "<cors> needs <allowed-origins>");
        return None;
    }
    if c.allow_credentials && c.origins.is_none() {
        cx.err(el.pos, "cors: allow-credentials=\"true\" cannot be combined with the origin '*'");
        return None;
    }
    Some(c)
}

impl Cors {
    fn origin_ok(&self, origin: &str) -> bool {
        match &self.origins {
            None => true,
            Some(list) => list.iter().any(|o| o.eq_ignore_ascii_case(origin.trim_end_matches('/'))),
        }
    }

    fn method_ok(&self, m: &str) -> bool {
        self.methods.as_ref().is_none_or(|l| l.iter().any(|x| x.eq_ignore_ascii_case(m.trim())))
    }

    fn headers_ok(&self, requested: &str) -> bool {
        match &self.headers {
            None => true,
            Some(l) => requested
                .split(',')
                .map(str::trim)
                .filter(|h| !h.is_empty())
                .all(|h| l.iter().any(|x| x.eq_ignore_ascii_case(h))),
        }
    }

    fn allow_origin_value(&self, origin: &str) -> String {
        if self.origins.is_none() && !self.allow_credentials {
            "*".into()
        } else {
            origin.to_string()
        }
    }

    fn empty_200() -> Response {
        Response { status: 200, reason: "OK".into(), headers: Vec::new(), body: Vec::new() }
    }

    pub fn run(&self, ctx: &mut PolicyContext<'_>) -> Result<Outcome<'static>> {
        let Some(origin) = ctx.request.header("origin").map(|o| String::from_utf8_lossy(o).into_owned()) else {
            return Ok(Outcome::Continue);
        };
        if is_preflight(ctx) {
            let method =
                ctx.request.header("access-control-request-method").map(String::from_utf8_lossy).unwrap_or_default();
            let req_headers =
                ctx.request.header("access-control-request-headers").map(String::from_utf8_lossy).unwrap_or_default();
            if !(self.origin_ok(&origin) && self.method_ok(&method) && self.headers_ok(&req_headers)) {
                return Ok(if self.terminate_unmatched {
                    Outcome::Respond(Self::empty_200())
                } else {
                    Outcome::Continue
                });
            }
            let mut r = Self::empty_200();
            r.headers.push(("Access-Control-Allow-Origin".into(), self.allow_origin_value(&origin)));
            if self.allow_credentials {
                r.headers.push(("Access-Control-Allow-Credentials".into(), "true".into()));
            }
            let methods = match &self.methods {
                Some(l) => l.join(","),
                None => method.trim().to_string(),
            };
            r.headers.push(("Access-Control-Allow-Methods".into(), methods));
            if !req_headers.trim().is_empty() {
                let allowed = match &self.headers {
                    Some(l) => l.join(","),
                    None => req_headers.trim().to_string(),
                };
                r.headers.push(("Access-Control-Allow-Headers".into(), allowed));
            }
            if let Some(age) = self.max_age {
                r.headers.push(("Access-Control-Max-Age".into(), age.to_string()));
            }
            if self.origins.is_some() {
                r.headers.push(("Vary".into(), "Origin".into()));
            }
            return Ok(Outcome::Respond(r));
        }
        let method = ctx.request.method().to_string();
        if !self.origin_ok(&origin) || !self.method_ok(&method) {
            let simple = method.eq_ignore_ascii_case("GET") || method.eq_ignore_ascii_case("HEAD");
            if self.terminate_unmatched && simple {
                return Ok(Outcome::Respond(Self::empty_200()));
            }
            return Ok(Outcome::Continue);
        }
        let h = &mut ctx.response_edits.headers;
        h.set("Access-Control-Allow-Origin", [self.allow_origin_value(&origin)]);
        if self.allow_credentials {
            h.set("Access-Control-Allow-Credentials", ["true".to_string()]);
        }
        if !self.expose.is_empty() {
            h.set("Access-Control-Expose-Headers", [self.expose.join(",")]);
        }
        if self.origins.is_some() {
            h.append("Vary", ["Origin".to_string()]);
        }
        Ok(Outcome::Continue)
    }
}
