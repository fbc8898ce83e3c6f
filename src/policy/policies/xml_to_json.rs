//! `<xml-to-json kind="javascript-friendly|direct" apply="always|content-type-xml"
//! consider-accept-header="true|false"/>`: converts an XML body to JSON.
//!
//! Mapping (both kinds): an element becomes a property; repeated siblings an array; an
//! element with only text a string; attributes become `@name` properties; mixed text
//! `#text`. `direct` keeps the root element as the top-level property, `javascript-friendly`
//! too (APIM's finer differences are not reproduced).

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::budget::{self, Exceeded};
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

/// Why a conversion stopped: not well-formed XML (the body is left alone) or over a budget.
#[derive(Debug, PartialEq)]
pub enum Stop {
    NotXml,
    Budget(Exceeded),
}

type Conv<T> = std::result::Result<T, Stop>;

const NONE: u32 = u32::MAX;

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// `<a …>…</a>`
    Open,
    /// `<a …/>`
    Empty,
    Text,
    CData,
}

/// One element or text chunk of the compact model: spans into the input (the start tag's
/// content, or the raw text) and links, 20 bytes, nothing copied. The smallest element
/// (`<a/>`) is 4 input bytes, so the model costs at most about 5 times the body.
#[derive(Clone, Copy)]
struct Node {
    at: u32,
    len: u32,
    first: u32,
    next: u32,
    kind: Kind,
}

/// The model: `nodes[0]` is a virtual document node holding the top-level elements.
struct Model<'a> {
    text: &'a str,
    nodes: Vec<Node>,
}

fn node(at: usize, len: usize, kind: Kind) -> Node {
    Node { at: at as u32, len: len as u32, first: NONE, next: NONE, kind }
}

/// Reads `text` into the compact model: quick-xml's pull parser (no recursion), at most
/// [`budget::MAX_DEPTH`] open elements, at most `max_bytes` of model.
fn read(text: &str, max_bytes: usize) -> Conv<Model<'_>> {
    let base = text.as_ptr() as usize;
    let offset = |part: &[u8]| (part.as_ptr() as usize).wrapping_sub(base);
    let mut r = Reader::from_str(text);
    let mut nodes = Vec::with_capacity(16);
    nodes.push(node(0, 0, Kind::Open));
    // Open elements: (node, its last child).
    let mut open: Vec<(u32, u32)> = vec![(0, NONE)];
    let add = |nodes: &mut Vec<Node>, open: &mut Vec<(u32, u32)>, n: Node| -> Conv<u32> {
        let size = std::mem::size_of::<Node>();
        if nodes.len() == nodes.capacity() {
            // Grow by half, never past the budget: capacity is what the model costs.
            let want = (nodes.capacity() + nodes.capacity() / 2).max(16);
            let cap = want.min(max_bytes / size);
            if cap <= nodes.len() {
                return Err(Stop::Budget(Exceeded::TooBig));
            }
            nodes.reserve_exact(cap - nodes.len());
        }
        let idx = nodes.len() as u32;
        nodes.push(n);
        let (parent, last) = open.last_mut().ok_or(Stop::NotXml)?;
        match *last {
            NONE => nodes[*parent as usize].first = idx,
            l => nodes[l as usize].next = idx,
        }
        *last = idx;
        Ok(idx)
    };
    loop {
        match r.read_event().map_err(|_| Stop::NotXml)? {
            Event::Start(e) => {
                if open.len() > budget::MAX_DEPTH {
                    return Err(Stop::Budget(Exceeded::TooDeep));
                }
                let idx = add(&mut nodes, &mut open, node(offset(&e), e.len(), Kind::Open))?;
                open.push((idx, NONE));
            }
            Event::Empty(e) => {
                if open.len() > budget::MAX_DEPTH {
                    return Err(Stop::Budget(Exceeded::TooDeep));
                }
                add(&mut nodes, &mut open, node(offset(&e), e.len(), Kind::Empty))?;
            }
            Event::End(_) => {
                open.pop();
                if open.is_empty() {
                    return Err(Stop::NotXml);
                }
            }
            Event::Text(t) if open.len() > 1 => {
                add(&mut nodes, &mut open, node(offset(&t), t.len(), Kind::Text))?;
            }
            Event::CData(t) if open.len() > 1 => {
                add(&mut nodes, &mut open, node(offset(&t), t.len(), Kind::CData))?;
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if open.len() != 1 {
        return Err(Stop::NotXml);
    }
    Ok(Model { text, nodes })
}

impl Model<'_> {
    fn span(&self, n: &Node) -> &str {
        self.text.get(n.at as usize..(n.at + n.len) as usize).unwrap_or("")
    }

    fn children(&self, i: u32) -> impl Iterator<Item = (u32, &Node)> {
        let mut at = self.nodes[i as usize].first;
        std::iter::from_fn(move || {
            let n = self.nodes.get(at as usize)?;
            let this = at;
            at = n.next;
            Some((this, n))
        })
    }

    /// The element's name: its start tag's content up to whitespace.
    fn name(&self, n: &Node) -> &str {
        let s = self.span(n);
        s.split(|c: char| c.is_ascii_whitespace()).next().unwrap_or("")
    }

    /// Attributes as `(name, value)`, sorted by name, the last of a repeated name kept.
    fn attributes(&self, n: &Node) -> Conv<Vec<(String, String)>> {
        let s = self.span(n);
        let name_len = self.name(n).len();
        let start = BytesStart::from_content(s, name_len);
        let mut out: Vec<(String, String)> = Vec::new();
        // Duplicate checks off: quick-xml's are quadratic in the number of attributes.
        for a in start.attributes().with_checks(false) {
            let a = a.map_err(|_| Stop::NotXml)?;
            let v = a.unescape_value().map_err(|_| Stop::NotXml)?.into_owned();
            out.push((String::from_utf8_lossy(a.key.as_ref()).into_owned(), v));
        }
        // Stable: among equal names the last one written ends up last, and is kept.
        out.sort_by(|a, b| a.0.cmp(&b.0));
        let mut kept: Vec<(String, String)> = Vec::with_capacity(out.len());
        for a in out {
            match kept.last_mut() {
                Some(last) if last.0 == a.0 => *last = a,
                _ => kept.push(a),
            }
        }
        Ok(kept)
    }
}

/// Writes the JSON of the model as the old serde_json model did: keys in byte order (`#text`,
/// then `@attributes`, then child elements), repeated siblings as arrays.
struct Json<'m, 'a> {
    m: &'m Model<'a>,
    out: String,
    max_out: usize,
    always_array: bool,
}

impl Json<'_, '_> {
    /// Checks the output against the budget and grows it (within the budget) ahead of the
    /// next value, so that its capacity too stays within it.
    fn room(&mut self) -> Conv<()> {
        if self.out.len() > self.max_out {
            return Err(Stop::Budget(Exceeded::TooBig));
        }
        if self.out.capacity() - self.out.len() < 4096 {
            let cap = (self.out.capacity() + self.out.capacity() / 2).max(self.out.len() + 4096).min(self.max_out);
            self.out.reserve_exact(cap.saturating_sub(self.out.len()));
        }
        Ok(())
    }

    fn string(&mut self, s: &str) {
        let need = self.out.len() + s.len() + 2;
        if need > self.out.capacity() {
            let cap = (self.out.capacity() + self.out.capacity() / 2).max(need).min(self.max_out.max(need));
            self.out.reserve_exact(cap - self.out.len());
        }
        self.out.push('"');
        crate::http::write::json_escape_into(&mut self.out, s);
        self.out.push('"');
    }

    /// The members of element `i`'s children grouped by name (`top`: the document's).
    fn members(&mut self, i: u32, top: bool, mut comma: bool) -> Conv<()> {
        let mut kids: Vec<u32> =
            self.m.children(i).filter(|(_, n)| matches!(n.kind, Kind::Open | Kind::Empty)).map(|c| c.0).collect();
        let m = self.m;
        kids.sort_by(|a, b| m.name(&m.nodes[*a as usize]).cmp(m.name(&m.nodes[*b as usize])).then(a.cmp(b)));
        let mut g = 0;
        while g < kids.len() {
            let name = m.name(&m.nodes[kids[g] as usize]);
            let end = g + kids[g..].iter().take_while(|k| m.name(&m.nodes[**k as usize]) == name).count();
            if comma {
                self.out.push(',');
            }
            comma = true;
            self.string(name);
            self.out.push(':');
            let array = end - g > 1 || (self.always_array && !top);
            if array {
                self.out.push('[');
            }
            for (j, k) in kids[g..end].iter().enumerate() {
                if j > 0 {
                    self.out.push(',');
                }
                self.element(*k)?;
            }
            if array {
                self.out.push(']');
            }
            g = end;
        }
        Ok(())
    }

    fn element(&mut self, i: u32) -> Conv<()> {
        self.room()?;
        let n = self.m.nodes[i as usize];
        let attrs = self.m.attributes(&n)?;
        if n.kind == Kind::Empty {
            if attrs.is_empty() {
                self.out.push_str("null");
                return Ok(());
            }
            self.out.push('{');
            self.attrs(&attrs, false);
            self.out.push('}');
            return Ok(());
        }
        let mut text = String::new();
        let mut elements = false;
        for (_, c) in self.m.children(i) {
            match c.kind {
                Kind::Text => text.push_str(&quick_xml::escape::unescape(self.m.span(c)).map_err(|_| Stop::NotXml)?),
                Kind::CData => text.push_str(self.m.span(c)),
                Kind::Open | Kind::Empty => elements = true,
            }
        }
        let text = text.trim();
        if attrs.is_empty() && !elements {
            self.string(text);
            return Ok(());
        }
        self.out.push('{');
        let mut comma = false;
        if !text.is_empty() {
            self.out.push_str("\"#text\":");
            self.string(text);
            comma = true;
        }
        comma |= self.attrs(&attrs, comma);
        self.members(i, false, comma)?;
        self.out.push('}');
        self.room()
    }

    fn attrs(&mut self, attrs: &[(String, String)], mut comma: bool) -> bool {
        for (k, v) in attrs {
            if comma {
                self.out.push(',');
            }
            comma = true;
            self.out.push_str("\"@");
            crate::http::write::json_escape_into(&mut self.out, k);
            self.out.push_str("\":");
            self.string(v);
        }
        comma
    }
}

/// XML text → JSON text, on a compact model within [`budget::bytes_for`] the body.
pub fn convert(xml: &[u8], always_array: bool) -> Conv<String> {
    convert_within(xml, always_array, budget::MAX_INLINE)
}

/// [`convert`] with another inline cap (tests drive the parser past the default cap).
pub fn convert_within(xml: &[u8], always_array: bool, max_inline: usize) -> Conv<String> {
    // Node offsets are u32: no cap may let a larger body in.
    if xml.len() > max_inline.min(u32::MAX as usize - 1) {
        return Err(Stop::Budget(Exceeded::TooLarge(xml.len())));
    }
    let text = std::str::from_utf8(xml).map_err(|_| Stop::NotXml)?;
    let max = budget::bytes_for(xml.len());
    let model = read(text, max)?;
    let used = model.nodes.capacity() * std::mem::size_of::<Node>();
    let max_out = max.saturating_sub(used);
    let mut j = Json { m: &model, out: String::with_capacity(xml.len().min(max_out)), max_out, always_array };
    j.out.push('{');
    j.members(0, true, false)?;
    j.out.push('}');
    j.room()?;
    Ok(j.out)
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
        let json = match convert(body.unwrap_or(b""), self.always_array) {
            Ok(j) => j,
            Err(Stop::NotXml) => return Ok(Outcome::Continue),
            Err(Stop::Budget(e)) => return Err(e.failure("xml-to-json", section)),
        };
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

#[cfg(test)]
mod tests {
    use super::*;

    fn json(xml: &str, always_array: bool) -> String {
        convert(xml.as_bytes(), always_array).unwrap()
    }

    #[test]
    fn converts_as_the_serde_model_did() {
        let table = [
            ("<a><b>1</b></a>", false, r#"{"a":{"b":"1"}}"#),
            (
                "<a x=\"1\" y='&lt;'><b/><b>t</b><c></c></a>",
                false,
                r#"{"a":{"@x":"1","@y":"<","b":[null,"t"],"c":""}}"#,
            ),
            (
                "<?xml version=\"1.0\"?><!-- c --><r>  mixed <i/> text&amp;<![CDATA[<raw>]]> </r>",
                false,
                r##"{"r":{"#text":"mixed  text&<raw>","i":null}}"##,
            ),
            ("<r><z/><a k=\"1\" k=\"2\"/></r>", false, r#"{"r":{"a":{"@k":"2"},"z":null}}"#),
            ("<r><i>1</i></r>", true, r#"{"r":{"i":["1"]}}"#),
            ("<r/>", true, r#"{"r":null}"#),
            (
                "<s:Envelope xmlns:s=\"u\"><s:Body>\"q\"</s:Body></s:Envelope>",
                false,
                r#"{"s:Envelope":{"@xmlns:s":"u","s:Body":"\"q\""}}"#,
            ),
        ];
        for (xml, arr, want) in table {
            assert_eq!(json(xml, arr), want, "{xml}");
        }
    }

    #[test]
    fn not_xml_is_left_alone() {
        for bad in ["<a>", "<a></b>", "</a>", "<a>&bogus;</a>", "<a x=1/>"] {
            assert_eq!(convert(bad.as_bytes(), false), Err(Stop::NotXml), "{bad}");
        }
    }

    #[test]
    fn deep_nesting_is_refused_without_recursion() {
        let deep = "<a>".repeat(100_000);
        assert_eq!(convert_within(deep.as_bytes(), false, usize::MAX), Err(Stop::Budget(Exceeded::TooDeep)));
        let ok = "<a>".repeat(budget::MAX_DEPTH) + &"</a>".repeat(budget::MAX_DEPTH);
        assert!(convert(ok.as_bytes(), false).is_ok());
    }

    #[test]
    fn many_attributes_are_linear_and_too_large_bodies_refused() {
        let attrs: String = (0..100_000).map(|i| format!(" a{i}=\"\"")).collect();
        let xml = format!("<r{attrs}/>");
        let started = std::time::Instant::now();
        assert!(convert_within(xml.as_bytes(), false, usize::MAX).is_ok());
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
        let big = vec![b' '; budget::MAX_INLINE + 1];
        assert_eq!(convert(&big, false), Err(Stop::Budget(Exceeded::TooLarge(big.len()))));
    }
}
