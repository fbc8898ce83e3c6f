//! `<xml-to-json kind="javascript-friendly|direct" apply="always|content-type-xml"
//! consider-accept-header="true|false"/>`: converts an XML body to JSON.
//!
//! Mapping (both kinds): an element becomes a property; repeated siblings an array; an
//! element with only text a string; attributes become `@name` properties; mixed text
//! `#text`. `direct` keeps the root element as the top-level property, `javascript-friendly`
//! too (APIM's finer differences are not reproduced).

use quick_xml::events::Event;
use quick_xml::Reader;
use serde_json::{Map, Value};

use super::{no_children, Attrs, Cx, Outcome, Result};
use crate::policy::runtime::{PolicyContext, Section};
use crate::policy::xml::Element;

#[derive(Clone, Debug, PartialEq)]
pub struct XmlToJson {
    pub always: bool,
    pub consider_accept: bool,
    pub always_array: bool,
}

pub fn compile(el: &Element, cx: &mut Cx<'_>) -> Option<XmlToJson> {
    let mut a = Attrs::new(el);
    match a.literal(cx, "kind").map(|(v, p)| (v.trim(), p)) {
        Some(("javascript-friendly" | "direct", _)) => {}
        Some((o, p)) => cx.err(p, format!("xml-to-json kind must be javascript-friendly or direct, found '{o}'")),
        None => cx.err(el.pos, "<xml-to-json> needs the attribute 'kind'"),
    }
    let always = match a.literal(cx, "apply").map(|(v, p)| (v.trim(), p)) {
        Some(("always", _)) => true,
        Some(("content-type-xml", _)) => false,
        Some((o, p)) => {
            cx.err(p, format!("xml-to-json apply must be always or content-type-xml, found '{o}'"));
            false
        }
        None => {
            cx.err(el.pos, "<xml-to-json> needs the attribute 'apply'");
            false
        }
    };
    let consider_accept = a.bool(cx, "consider-accept-header", true);
    let always_array = a.bool(cx, "always-array-child-elements", false);
    a.finish(cx);
    no_children(el, cx);
    Some(XmlToJson { always, consider_accept, always_array })
}

struct Frame {
    name: String,
    map: Map<String, Value>,
    text: String,
}

fn insert(map: &mut Map<String, Value>, k: String, v: Value, always_array: bool) {
    match map.get_mut(&k) {
        Some(Value::Array(a)) => a.push(v),
        Some(old) => {
            let prev = old.take();
            *old = Value::Array(vec![prev, v]);
        }
        None if always_array => {
            map.insert(k, Value::Array(vec![v]));
        }
        None => {
            map.insert(k, v);
        }
    }
}

fn close(f: Frame) -> Value {
    let text = f.text.trim().to_string();
    if f.map.is_empty() {
        return Value::String(text);
    }
    let mut m = f.map;
    if !text.is_empty() {
        m.insert("#text".into(), Value::String(text));
    }
    Value::Object(m)
}

/// XML text → JSON text.
pub fn convert(xml: &[u8], always_array: bool) -> Option<String> {
    let text = std::str::from_utf8(xml).ok()?;
    let mut r = Reader::from_str(text);
    let mut stack: Vec<Frame> = vec![Frame { name: String::new(), map: Map::new(), text: String::new() }];
    loop {
        match r.read_event().ok()? {
            Event::Start(e) | Event::Empty(e) if stack.len() > 64 => {
                let _ = e;
                return None;
            }
            Event::Start(e) => {
                let mut f = Frame {
                    name: String::from_utf8_lossy(e.name().as_ref()).into(),
                    map: Map::new(),
                    text: String::new(),
                };
                for at in e.attributes() {
                    let at = at.ok()?;
                    let v = at.unescape_value().ok()?.into_owned();
                    f.map.insert(format!("@{}", String::from_utf8_lossy(at.key.as_ref())), Value::String(v));
                }
                stack.push(f);
            }
            Event::Empty(e) => {
                let mut m = Map::new();
                for at in e.attributes() {
                    let at = at.ok()?;
                    let v = at.unescape_value().ok()?.into_owned();
                    m.insert(format!("@{}", String::from_utf8_lossy(at.key.as_ref())), Value::String(v));
                }
                let v = if m.is_empty() { Value::Null } else { Value::Object(m) };
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                let nested = stack.len() > 1;
                let top = stack.last_mut()?;
                insert(&mut top.map, name, v, always_array && nested);
            }
            Event::Text(t) => stack.last_mut()?.text.push_str(&t.unescape().ok()?),
            Event::CData(t) => stack.last_mut()?.text.push_str(&String::from_utf8_lossy(&t)),
            Event::End(_) => {
                let f = stack.pop()?;
                let name = f.name.clone();
                let v = close(f);
                let depth = stack.len();
                let top = stack.last_mut()?;
                insert(&mut top.map, name, v, always_array && depth > 1);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let root = stack.pop()?;
    if !stack.is_empty() {
        return None;
    }
    serde_json::to_string(&Value::Object(root.map)).ok()
}

impl XmlToJson {
    pub fn run(&self, ctx: &mut PolicyContext<'_>, section: Section) -> Result<Outcome<'static>> {
        let response = matches!(section, Section::Outbound | Section::OnError);
        let ct = if response { ctx.response_header("content-type") } else { ctx.request_header("content-type") };
        if !self.always && !ct.is_some_and(|c| c.to_ascii_lowercase().contains("xml")) {
            return Ok(Outcome::Continue);
        }
        if self.consider_accept {
            let accept = ctx.request_header("accept").map(|a| a.to_ascii_lowercase()).unwrap_or_default();
            if !(accept.contains("json") || accept.is_empty() || accept.contains("*/*")) {
                return Ok(Outcome::Continue);
            }
        }
        let body = if response { ctx.current_response_body() } else { ctx.current_request_body() };
        let Some(json) = convert(body.unwrap_or(b""), self.always_array) else { return Ok(Outcome::Continue) };
        if response {
            ctx.response_edits.body = Some(json.into_bytes());
            ctx.response_edits.headers.set("Content-Type", ["application/json".to_string()]);
        } else {
            ctx.request_edits.body = Some(json.into_bytes());
            ctx.request_edits.headers.set("Content-Type", ["application/json".to_string()]);
        }
        Ok(Outcome::Continue)
    }
}
