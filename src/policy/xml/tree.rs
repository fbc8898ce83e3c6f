//! quick-xml events → a small element tree whose every name, attribute and text knows its
//! offset in the policy *as written* (through the pre-pass and named-value maps).
//!
//! The tree only lives during loading; the request path never sees it. Depth is bounded so
//! a hostile document cannot exhaust the control thread's stack.

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::prepass::OffsetMap;

/// Deepest element nesting accepted (policies rarely exceed 8).
pub const MAX_DEPTH: usize = 48;

/// A decoded string that remembers where each of its bytes came from.
#[derive(Clone, Debug, Default)]
pub struct Src {
    pub text: String,
    /// Original offset of each byte of `text` (same length).
    offs: Vec<u32>,
    /// Original offset just past the end.
    end: u32,
}

impl Src {
    /// The original offset of byte `i` of `text` (past the end: the end).
    pub fn pos(&self, i: usize) -> usize {
        self.offs.get(i).copied().unwrap_or(self.end) as usize
    }

    /// A plain string with a single position (tests, synthesized values).
    pub fn plain(text: &str, at: usize) -> Src {
        let at = u32::try_from(at).unwrap_or(u32::MAX);
        Src { text: text.to_string(), offs: vec![at; text.len()], end: at }
    }

    pub fn start(&self) -> usize {
        self.pos(0)
    }
}

#[derive(Clone, Debug)]
pub struct Attr {
    pub name: String,
    /// Offset of the attribute name.
    pub pos: usize,
    pub value: Src,
}

#[derive(Clone, Debug)]
pub enum Node {
    Element(Element),
    Text(Src),
}

#[derive(Clone, Debug)]
pub struct Element {
    pub name: String,
    /// Offset of the `<`.
    pub pos: usize,
    pub attrs: Vec<Attr>,
    pub children: Vec<Node>,
}

impl Element {
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    /// All text children joined (with positions), whitespace-only text included.
    pub fn text(&self) -> Src {
        let mut out = Src { end: u32::try_from(self.pos).unwrap_or(u32::MAX), ..Src::default() };
        for n in &self.children {
            if let Node::Text(t) = n {
                out.text.push_str(&t.text);
                out.offs.extend_from_slice(&t.offs);
                out.end = t.end;
            }
        }
        out
    }
}

/// A problem with its offset in the original text.
#[derive(Clone, Debug, PartialEq)]
pub struct XmlError {
    pub offset: usize,
    pub message: String,
}

struct Builder<'a> {
    xml: &'a str,
    map: &'a dyn Fn(usize) -> usize,
}

impl Builder<'_> {
    fn err(&self, out_off: usize, message: impl Into<String>) -> XmlError {
        XmlError { offset: (self.map)(out_off), message: message.into() }
    }

    fn offset_of(&self, part: &[u8]) -> usize {
        let base = self.xml.as_ptr() as usize;
        (part.as_ptr() as usize).wrapping_sub(base).min(self.xml.len())
    }

    /// Decodes XML entities in `raw` (a slice of `xml`), mapping every output byte.
    fn decode(&self, raw: &[u8]) -> Result<Src, XmlError> {
        let start = self.offset_of(raw);
        let mut text = Vec::with_capacity(raw.len());
        let mut offs = Vec::with_capacity(raw.len());
        let mut i = 0;
        while i < raw.len() {
            let at = to_u32((self.map)(start + i));
            if raw[i] != b'&' {
                text.push(raw[i]);
                offs.push(at);
                i += 1;
                continue;
            }
            let Some(semi) = raw[i..].iter().position(|&c| c == b';') else {
                return Err(self.err(start + i, "'&' must start an entity such as &amp;"));
            };
            let name = &raw[i + 1..i + semi];
            let ch = match name {
                b"amp" => Some('&'),
                b"lt" => Some('<'),
                b"gt" => Some('>'),
                b"quot" => Some('"'),
                b"apos" => Some('\''),
                [b'#', b'x', hex @ ..] => {
                    std::str::from_utf8(hex).ok().and_then(|h| u32::from_str_radix(h, 16).ok()).and_then(char::from_u32)
                }
                [b'#', dec @ ..] => std::str::from_utf8(dec).ok().and_then(|d| d.parse().ok()).and_then(char::from_u32),
                _ => None,
            };
            let Some(ch) = ch else {
                let shown = String::from_utf8_lossy(name);
                return Err(self.err(start + i, format!("unknown entity '&{shown};'")));
            };
            let mut buf = [0u8; 4];
            for &b in ch.encode_utf8(&mut buf).as_bytes() {
                text.push(b);
                offs.push(at);
            }
            i += semi + 1;
        }
        let text = String::from_utf8(text).map_err(|_| self.err(start, "text is not valid UTF-8"))?;
        Ok(Src { text, offs, end: to_u32((self.map)(start + raw.len())) })
    }

    fn element(&self, pos: usize, e: &BytesStart<'_>) -> Result<Element, XmlError> {
        let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
        let mut attrs: Vec<Attr> = Vec::new();
        for a in e.attributes() {
            let a = a.map_err(|err| self.err(pos, format!("malformed attribute on <{name}>: {err}")))?;
            let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
            let kpos = (self.map)(self.offset_of(a.key.as_ref()));
            if key.starts_with("xmlns") {
                continue;
            }
            let value = self.decode(&a.value)?;
            attrs.push(Attr { name: key, pos: kpos, value });
        }
        Ok(Element { name, pos: (self.map)(pos), attrs, children: Vec::new() })
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Parses well-formed XML (the pre-pass output) into the root element.
/// `map` turns offsets in `xml` into offsets in the original text.
pub fn parse_tree(xml: &str, map: &OffsetMap, outer: &OffsetMap) -> Result<Element, XmlError> {
    let to_orig = |o: usize| outer.orig(map.orig(o));
    let b = Builder { xml, map: &to_orig };
    let mut reader = Reader::from_str(xml);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let start = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let event = match reader.read_event() {
            Ok(e) => e,
            Err(e) => {
                let pos = usize::try_from(reader.error_position()).unwrap_or(usize::MAX);
                return Err(b.err(pos, format!("malformed XML: {e}")));
            }
        };
        match event {
            Event::Eof => break,
            Event::Start(ref e) | Event::Empty(ref e) => {
                if root.is_some() && stack.is_empty() {
                    return Err(b.err(start, "only one root element is allowed"));
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(b.err(start, format!("elements nested deeper than {MAX_DEPTH}")));
                }
                let el = b.element(start, e)?;
                if matches!(event, Event::Empty(_)) {
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(Node::Element(el)),
                        None => root = Some(el),
                    }
                } else {
                    stack.push(el);
                }
            }
            Event::End(_) => {
                let Some(el) = stack.pop() else {
                    return Err(b.err(start, "unexpected closing tag"));
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(Node::Element(el)),
                    None => root = Some(el),
                }
            }
            Event::Text(t) => {
                let src = b.decode(&t)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(Node::Text(src)),
                    None if src.text.trim().is_empty() => {}
                    None => return Err(b.err(start, "text outside the root element")),
                }
            }
            Event::CData(t) => {
                let raw: &[u8] = &t;
                let s = b.offset_of(raw);
                let text = String::from_utf8_lossy(raw).into_owned();
                let offs = (0..text.len()).map(|i| to_u32(to_orig(s + i))).collect();
                let src = Src { text, offs, end: to_u32(to_orig(s + raw.len())) };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(Node::Text(src)),
                    None => return Err(b.err(start, "CDATA outside the root element")),
                }
            }
            Event::DocType(_) => return Err(b.err(start, "DOCTYPE is not allowed in a policy")),
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
        }
    }
    if let Some(open) = stack.last() {
        return Err(XmlError {
            offset: to_orig(xml.len()),
            message: format!("unexpected end of document: <{}> is not closed", open.name),
        });
    }
    root.ok_or_else(|| XmlError { offset: 0, message: "empty policy document".into() })
}

#[cfg(test)]
mod tests {
    use super::super::prepass::prepass;
    use super::*;

    fn tree(s: &str) -> Result<Element, XmlError> {
        let (xml, map) = prepass(s).map_err(|e| XmlError { offset: e.offset, message: e.message })?;
        parse_tree(&xml, &map, &OffsetMap::default())
    }

    #[test]
    fn positions_are_in_original_text() {
        let s = "<policies>\n  <inbound>\n    <when condition=\"@(a == \"x\")\" id=\"w\">t&amp;</when>\n  </inbound>\n</policies>";
        let root = tree(s).unwrap();
        let inbound = root.elements().next().unwrap();
        let when = inbound.elements().next().unwrap();
        assert_eq!(when.pos, s.find("<when").unwrap());
        assert_eq!(when.attrs[0].value.text, "@(a == \"x\")");
        assert_eq!(when.attrs[0].value.pos(7), s.find("\"x\"").unwrap());
        assert_eq!(when.attrs[1].pos, s.find("id=").unwrap());
        assert_eq!(when.text().text, "t&");
    }

    #[test]
    fn errors() {
        assert!(tree("<a><b></a>").is_err());
        assert!(tree("<a>").unwrap_err().message.contains("not closed"));
        assert!(tree("<a/><b/>").unwrap_err().message.contains("one root"));
        assert!(tree("").is_err());
        assert!(tree("<a>&bogus;</a>").unwrap_err().message.contains("entity"));
        let deep = "<a>".repeat(100) + &"</a>".repeat(100);
        assert!(tree(&deep).unwrap_err().message.contains("deeper"));
    }
}
