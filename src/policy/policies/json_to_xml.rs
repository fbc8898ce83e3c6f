//! `<json-to-xml apply="always|content-type-json" consider-accept-header="true|false"/>`:
//! converts a JSON body to XML (root `<Document>`, arrays as repeated elements).

use super::{no_children, Attrs, Cx, Outcome, Result};
use crate::policy::runtime::{PolicyContext, Section};
use crate::policy::xml::Element;

#[derive(Clone, Debug, PartialEq)]
pub struct JsonToXml {
    /// `apply="always"` (else only when the content type is JSON).
    pub always: bool,
    pub consider_accept: bool,
}

pub fn compile(el: &Element, cx: &mut Cx<'_>) -> Option<JsonToXml> {
    let mut a = Attrs::new(el);
    let always = match a.literal(cx, "apply").map(|(v, p)| (v.trim(), p)) {
        Some(("always", _)) => true,
        Some(("content-type-json", _)) => false,
        Some((o, p)) => {
            cx.err(p, format!("json-to-xml apply must be always or content-type-json, found '{o}'"));
            false
        }
        None => {
            cx.err(el.pos, "<json-to-xml> needs the attribute 'apply'");
            false
        }
    };
    let consider_accept = a.bool(cx, "consider-accept-header", true);
    for unsupported in ["parse-date", "namespace-separator", "namespace-prefix", "attribute-block-name"] {
        if let Some(x) = a.get(unsupported) {
            cx.err(x.pos, format!("json-to-xml attribute '{unsupported}' is not supported yet"));
        }
    }
    a.finish(cx);
    no_children(el, cx);
    Some(JsonToXml { always, consider_accept })
}

fn esc(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
}

fn name(n: &str) -> String {
    let mut s: String = n.chars().map(|c| if c.is_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '.') {
        s.insert(0, '_');
    }
    s
}

fn write(tag: &str, v: &serde_json::Value, out: &mut String, depth: usize) {
    if depth > 64 {
        return;
    }
    match v {
        serde_json::Value::Array(items) => {
            for i in items {
                write(tag, i, out, depth + 1);
            }
        }
        serde_json::Value::Object(m) => {
            out.push_str(&format!("<{tag}>"));
            for (k, x) in m {
                write(&name(k), x, out, depth + 1);
            }
            out.push_str(&format!("</{tag}>"));
        }
        serde_json::Value::Null => out.push_str(&format!("<{tag} />")),
        serde_json::Value::String(s) => {
            out.push_str(&format!("<{tag}>"));
            esc(s, out);
            out.push_str(&format!("</{tag}>"));
        }
        other => out.push_str(&format!("<{tag}>{other}</{tag}>")),
    }
}

/// JSON text → XML text.
pub fn convert(json: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(json).ok()?;
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
    match &v {
        serde_json::Value::Object(_) => write("Document", &v, &mut out, 0),
        other => {
            out.push_str("<Document>");
            write("Array", other, &mut out, 0);
            out.push_str("</Document>");
        }
    }
    Some(out)
}

impl JsonToXml {
    pub fn run(&self, ctx: &mut PolicyContext<'_>, section: Section) -> Result<Outcome<'static>> {
        let response = matches!(section, Section::Outbound | Section::OnError);
        let ct = if response { ctx.response_header("content-type") } else { ctx.request_header("content-type") };
        if !self.always && !ct.is_some_and(|c| c.to_ascii_lowercase().contains("json")) {
            return Ok(Outcome::Continue);
        }
        if self.consider_accept {
            let accept = ctx.request_header("accept").map(|a| a.to_ascii_lowercase()).unwrap_or_default();
            if !(accept.contains("xml") || accept.is_empty() || accept.contains("*/*")) {
                return Ok(Outcome::Continue);
            }
        }
        let body = if response { ctx.current_response_body() } else { ctx.current_request_body() };
        let Some(xml) = convert(body.unwrap_or(b"")) else { return Ok(Outcome::Continue) };
        if response {
            ctx.response_edits.body = Some(xml.into_bytes());
            ctx.response_edits.headers.set("Content-Type", ["application/xml".to_string()]);
        } else {
            ctx.request_edits.body = Some(xml.into_bytes());
            ctx.request_edits.headers.set("Content-Type", ["application/xml".to_string()]);
        }
        Ok(Outcome::Continue)
    }
}
