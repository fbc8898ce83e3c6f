//! `<json-to-xml apply="always|content-type-json" consider-accept-header="true|false"/>`:
//! converts a JSON body to XML (root `<Document>`, arrays as repeated elements).

use std::rc::Rc;

use super::budget::{self, Exceeded};
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

/// Why a conversion stopped: not JSON (the body is left alone) or over a budget.
#[derive(Debug, PartialEq)]
pub enum Stop {
    NotJson,
    Budget(Exceeded),
}

/// An open array or object: the tag its items are written with, and for objects whether a
/// member key has been read (the next value is that member's).
/// Tags are shared, not copied: an array of 100,000 empty arrays under a long key must not
/// copy the key 100,000 times.
enum Open {
    Array { tag: Rc<str> },
    Object { tag: Rc<str>, key: Option<Rc<str>> },
}

/// A one-pass JSON reader writing XML as it goes: no model is built, the stack holds at most
/// [`budget::MAX_DEPTH`] open containers, and the output may not outgrow
/// [`budget::bytes_for`] the input. Linear in the input; deep input never recurses.
struct Writer<'a> {
    b: &'a [u8],
    i: usize,
    out: String,
    max_out: usize,
    /// Scratch for decoded strings.
    text: String,
}

impl Writer<'_> {
    fn ws(&mut self) {
        while self.b.get(self.i).is_some_and(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    /// Makes room for `more` output bytes within the budget, growing the buffer so that its
    /// capacity (not only its length) stays within it.
    fn room(&mut self, more: usize) -> std::result::Result<(), Stop> {
        let need = self.out.len().saturating_add(more);
        if need > self.max_out {
            return Err(Stop::Budget(Exceeded::TooBig));
        }
        if need > self.out.capacity() {
            let cap = self.out.capacity().saturating_mul(2).max(need).min(self.max_out);
            self.out.reserve_exact(cap - self.out.len());
        }
        Ok(())
    }

    /// A JSON string at the cursor (its quote), decoded into `self.text`.
    fn string(&mut self) -> std::result::Result<(), Stop> {
        self.text.clear();
        self.i += 1;
        loop {
            let start = self.i;
            while self.b.get(self.i).is_some_and(|&c| c != b'"' && c != b'\\' && c >= 0x20) {
                self.i += 1;
            }
            // The input was checked to be UTF-8 and quotes and backslashes are ASCII.
            self.text.push_str(std::str::from_utf8(&self.b[start..self.i]).map_err(|_| Stop::NotJson)?);
            match self.b.get(self.i) {
                Some(b'"') => {
                    self.i += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    let c = self.b.get(self.i + 1).copied().ok_or(Stop::NotJson)?;
                    self.i += 2;
                    let ch = match c {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode()?,
                        _ => return Err(Stop::NotJson),
                    };
                    self.text.push(ch);
                }
                _ => return Err(Stop::NotJson),
            }
        }
    }

    fn hex4(&mut self) -> std::result::Result<u32, Stop> {
        let h = self.b.get(self.i..self.i + 4).ok_or(Stop::NotJson)?;
        let s = std::str::from_utf8(h).map_err(|_| Stop::NotJson)?;
        let v = u32::from_str_radix(s, 16).map_err(|_| Stop::NotJson)?;
        self.i += 4;
        Ok(v)
    }

    /// `\uXXXX` (after the `u`), surrogate pairs joined; a lone surrogate becomes U+FFFD.
    fn unicode(&mut self) -> std::result::Result<char, Stop> {
        let hi = self.hex4()?;
        if (0xD800..0xDC00).contains(&hi) && self.b.get(self.i..self.i + 2) == Some(b"\\u") {
            let save = self.i;
            self.i += 2;
            let lo = self.hex4()?;
            if (0xDC00..0xE000).contains(&lo) {
                return Ok(char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)).unwrap_or('\u{FFFD}'));
            }
            self.i = save;
        }
        Ok(char::from_u32(hi).unwrap_or('\u{FFFD}'))
    }

    /// A number or `true`/`false`/`null` at the cursor, as written.
    fn scalar(&mut self) -> std::result::Result<&str, Stop> {
        let start = self.i;
        for lit in [&b"true"[..], b"false", b"null"] {
            if self.b[self.i..].starts_with(lit) {
                self.i += lit.len();
                return Ok(if lit == b"null" { "" } else { std::str::from_utf8(lit).unwrap_or("") });
            }
        }
        let digits = |w: &mut Self| {
            let s = w.i;
            while w.b.get(w.i).is_some_and(u8::is_ascii_digit) {
                w.i += 1;
            }
            w.i > s
        };
        if self.b.get(self.i) == Some(&b'-') {
            self.i += 1;
        }
        if self.b.get(self.i) == Some(&b'0') {
            self.i += 1;
        } else if !digits(self) {
            return Err(Stop::NotJson);
        }
        if self.b.get(self.i) == Some(&b'.') {
            self.i += 1;
            if !digits(self) {
                return Err(Stop::NotJson);
            }
        }
        if self.b.get(self.i).is_some_and(|c| *c == b'e' || *c == b'E') {
            self.i += 1;
            if self.b.get(self.i).is_some_and(|c| *c == b'+' || *c == b'-') {
                self.i += 1;
            }
            if !digits(self) {
                return Err(Stop::NotJson);
            }
        }
        std::str::from_utf8(&self.b[start..self.i]).map_err(|_| Stop::NotJson)
    }

    /// One value at the cursor, written with `tag`; containers are pushed on `stack`.
    fn value(&mut self, tag: Rc<str>, stack: &mut Vec<Open>) -> std::result::Result<(), Stop> {
        self.ws();
        match self.b.get(self.i) {
            Some(b'{') => {
                self.i += 1;
                if stack.len() >= budget::MAX_DEPTH {
                    return Err(Stop::Budget(Exceeded::TooDeep));
                }
                self.room(tag.len() + 2)?;
                self.out.push('<');
                self.out.push_str(&tag);
                self.out.push('>');
                stack.push(Open::Object { tag, key: None });
            }
            Some(b'[') => {
                self.i += 1;
                if stack.len() >= budget::MAX_DEPTH {
                    return Err(Stop::Budget(Exceeded::TooDeep));
                }
                stack.push(Open::Array { tag });
            }
            Some(b'"') => {
                self.string()?;
                let mut t = std::mem::take(&mut self.text);
                self.room(2 * tag.len() + 5 + escaped_len(&t))?;
                self.out.push('<');
                self.out.push_str(&tag);
                self.out.push('>');
                esc(&t, &mut self.out);
                self.out.push_str("</");
                self.out.push_str(&tag);
                self.out.push('>');
                t.clear();
                self.text = t;
            }
            Some(_) => {
                let null = self.b[self.i..].starts_with(b"null");
                let lit = self.scalar()?.to_string();
                self.room(2 * tag.len() + 5 + lit.len())?;
                if null {
                    self.out.push('<');
                    self.out.push_str(&tag);
                    self.out.push_str(" />");
                } else {
                    self.out.push('<');
                    self.out.push_str(&tag);
                    self.out.push('>');
                    self.out.push_str(&lit);
                    self.out.push_str("</");
                    self.out.push_str(&tag);
                    self.out.push('>');
                }
            }
            None => return Err(Stop::NotJson),
        }
        Ok(())
    }

    /// Runs the containers on `stack` to their end.
    fn run(&mut self, stack: &mut Vec<Open>) -> std::result::Result<(), Stop> {
        // Whether the top container just opened (no item yet) or has had an item.
        let mut fresh = true;
        while let Some(top) = stack.last_mut() {
            self.ws();
            let c = self.b.get(self.i).copied().ok_or(Stop::NotJson)?;
            match top {
                Open::Array { tag } => {
                    if c == b']' {
                        self.i += 1;
                        stack.pop();
                        fresh = false;
                        continue;
                    }
                    if !fresh {
                        if c != b',' {
                            return Err(Stop::NotJson);
                        }
                        self.i += 1;
                    }
                    let tag = tag.clone();
                    let depth = stack.len();
                    self.value(tag, stack)?;
                    fresh = stack.len() > depth;
                }
                Open::Object { tag, key } => {
                    if let Some(k) = key.take() {
                        let depth = stack.len();
                        self.value(k, stack)?;
                        fresh = stack.len() > depth;
                        continue;
                    }
                    if c == b'}' {
                        self.i += 1;
                        self.room(tag.len() + 3)?;
                        self.out.push_str("</");
                        self.out.push_str(tag);
                        self.out.push('>');
                        stack.pop();
                        fresh = false;
                        continue;
                    }
                    if !fresh {
                        if c != b',' {
                            return Err(Stop::NotJson);
                        }
                        self.i += 1;
                        self.ws();
                    }
                    if self.b.get(self.i) != Some(&b'"') {
                        return Err(Stop::NotJson);
                    }
                    self.string()?;
                    self.ws();
                    if self.b.get(self.i) != Some(&b':') {
                        return Err(Stop::NotJson);
                    }
                    self.i += 1;
                    let k: Rc<str> = name(&self.text).into();
                    if let Some(Open::Object { key, .. }) = stack.last_mut() {
                        *key = Some(k);
                    }
                    fresh = false;
                }
            }
        }
        Ok(())
    }
}

fn escaped_len(s: &str) -> usize {
    s.bytes().map(|b| if matches!(b, b'<' | b'>' | b'&' | b'"') { 6 } else { 1 }).sum()
}

/// JSON text → XML text (root `<Document>`; a top-level non-object is wrapped as `<Array>`).
/// Members keep their order; numbers and literals are written as they appear.
pub fn convert(json: &[u8]) -> std::result::Result<String, Stop> {
    convert_within(json, budget::MAX_INLINE)
}

/// [`convert`] with another inline cap (tests drive the parser past the default cap).
pub fn convert_within(json: &[u8], max_inline: usize) -> std::result::Result<String, Stop> {
    if json.len() > max_inline {
        return Err(Stop::Budget(Exceeded::TooLarge(json.len())));
    }
    if std::str::from_utf8(json).is_err() {
        return Err(Stop::NotJson);
    }
    let mut w = Writer {
        b: json,
        i: 0,
        out: String::with_capacity(json.len().min(budget::bytes_for(json.len()) / 2)),
        // The open containers' tags and the string scratch are copies of input text: at most
        // the input's size, left out of the output's share.
        max_out: budget::bytes_for(json.len()).saturating_sub(json.len()),
        text: String::new(),
    };
    w.out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
    let mut stack = Vec::new();
    w.ws();
    let object = w.b.get(w.i) == Some(&b'{');
    if !object {
        w.out.push_str("<Document>");
    }
    w.value(Rc::from(if object { "Document" } else { "Array" }), &mut stack)?;
    w.run(&mut stack)?;
    w.ws();
    if w.i != w.b.len() {
        return Err(Stop::NotJson);
    }
    if !object {
        w.out.push_str("</Document>");
    }
    Ok(w.out)
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
        let xml = match convert(body.unwrap_or(b"")) {
            Ok(x) => x,
            Err(Stop::NotJson) => return Ok(Outcome::Continue),
            Err(Stop::Budget(e)) => return Err(e.failure("json-to-xml", section)),
        };
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

#[cfg(test)]
mod tests {
    use super::*;

    fn xml(json: &str) -> String {
        let out = convert(json.as_bytes()).unwrap();
        out.strip_prefix("<?xml version=\"1.0\" encoding=\"utf-8\"?>").unwrap().to_string()
    }

    #[test]
    fn converts_as_before() {
        let table = [
            (r#"{"a":"b"}"#, "<Document><a>b</a></Document>"),
            (
                r#"{"a":1,"b":["x","y"],"c":{"d":"<"}}"#,
                "<Document><a>1</a><b>x</b><b>y</b><c><d>&lt;</d></c></Document>",
            ),
            (
                r#" { "n" : null , "t":true,"f":false, "e":-1.5e3 } "#,
                "<Document><n /><t>true</t><f>false</f><e>-1.5e3</e></Document>",
            ),
            (
                r#"[1,[2,3],{"k":"v"}]"#,
                "<Document><Array>1</Array><Array>2</Array><Array>3</Array><Array><k>v</k></Array></Document>",
            ),
            (r#""s\u00e9\ud83d\ude00\n""#, "<Document><Array>s\u{e9}\u{1f600}\n</Array></Document>"),
            (r#"{"1 bad key":{},"":[]}"#, "<Document><_1_bad_key></_1_bad_key></Document>"),
        ];
        for (json, want) in table {
            assert_eq!(xml(json), want, "{json}");
        }
    }

    #[test]
    fn not_json_is_left_alone() {
        for bad in
            ["", "{", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "01", "1.", "tru", "[1] x", "\"\\x\"", "{a:1}", "\"\u{1}\""]
        {
            assert_eq!(convert(bad.as_bytes()), Err(Stop::NotJson), "{bad:?}");
        }
        assert_eq!(convert(b"\xff"), Err(Stop::NotJson));
    }

    #[test]
    fn deep_nesting_is_refused_without_recursion() {
        for deep in ["[".repeat(100_000), "{\"a\":".repeat(100_000)] {
            assert_eq!(convert_within(deep.as_bytes(), usize::MAX), Err(Stop::Budget(Exceeded::TooDeep)));
        }
        let ok = "[".repeat(budget::MAX_DEPTH) + &"]".repeat(budget::MAX_DEPTH);
        assert!(convert(ok.as_bytes()).is_ok());
    }

    #[test]
    fn output_is_bounded_by_the_budget() {
        // A long key repeated for every array item: each 2-byte item becomes 2 tags of 5,000 bytes.
        let json = format!("{{\"{}\":[{}1]}}", "k".repeat(5000), "1,".repeat(10_000));
        assert_eq!(convert(json.as_bytes()), Err(Stop::Budget(Exceeded::TooBig)));
        let big = vec![b' '; budget::MAX_INLINE + 1];
        assert_eq!(convert(&big), Err(Stop::Budget(Exceeded::TooLarge(big.len()))));
    }

    #[test]
    fn a_long_key_over_many_silent_items_is_not_copied_per_item() {
        // Empty arrays write nothing, so only sharing the tag keeps this linear.
        let json = format!("{{\"{}\":[{}[]]}}", "k".repeat(100_000), "[],".repeat(50_000));
        let started = std::time::Instant::now();
        assert!(convert(json.as_bytes()).is_ok());
        assert!(started.elapsed() < std::time::Duration::from_secs(2), "{:?}", started.elapsed());
    }
}
