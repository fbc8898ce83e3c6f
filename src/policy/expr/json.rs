//! A Newtonsoft-shaped JSON tree: `JToken` handles that share their node, so
//! `var items = body["items"]; items.Add(1);` modifies `body` as it does in .NET.
//!
//! A token inserted into a container that already has a parent is deep-copied (Newtonsoft's
//! rule), a fresh one is adopted. `ToString()` prints Newtonsoft's indented format (two
//! spaces, `"key": value`), `ToString(Formatting.None)` the compact one.
//! This is the expression engine's own minimal model until the dotnet module's JToken lands.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex, MutexGuard};

#[derive(Clone, Debug)]
pub enum JKind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Arc<str>),
    Array(Vec<JRef>),
    Object(Vec<(Arc<str>, JRef)>),
}

#[derive(Debug)]
pub struct JNode {
    pub kind: JKind,
    pub has_parent: bool,
}

/// A shared handle to a JSON node (`JToken`).
#[derive(Clone, Debug)]
pub struct JRef(Arc<Mutex<JNode>>);

/// Newtonsoft's `JTokenType` names.
pub fn type_name(k: &JKind) -> &'static str {
    match k {
        JKind::Null => "Null",
        JKind::Bool(_) => "Boolean",
        JKind::Int(_) => "Integer",
        JKind::Float(_) => "Float",
        JKind::Str(_) => "String",
        JKind::Array(_) => "Array",
        JKind::Object(_) => "Object",
    }
}

impl JRef {
    pub fn new(kind: JKind) -> JRef {
        JRef(Arc::new(Mutex::new(JNode { kind, has_parent: false })))
    }

    pub fn lock(&self) -> MutexGuard<'_, JNode> {
        // A poisoned lock means a panic elsewhere while holding it; the node data is still
        // a valid tree, so keep using it rather than propagating the panic.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn same(&self, other: &JRef) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    pub fn kind_name(&self) -> &'static str {
        type_name(&self.lock().kind)
    }

    pub fn is_object(&self) -> bool {
        matches!(self.lock().kind, JKind::Object(_))
    }

    pub fn is_array(&self) -> bool {
        matches!(self.lock().kind, JKind::Array(_))
    }

    pub fn is_container(&self) -> bool {
        matches!(self.lock().kind, JKind::Object(_) | JKind::Array(_))
    }

    pub fn deep_clone(&self) -> JRef {
        let k = match &self.lock().kind {
            JKind::Array(a) => JKind::Array(a.iter().map(JRef::deep_clone).map(adopted).collect()),
            JKind::Object(o) => JKind::Object(o.iter().map(|(k, v)| (k.clone(), adopted(v.deep_clone()))).collect()),
            other => other.clone(),
        };
        JRef::new(k)
    }

    /// Newtonsoft's parent rule: a token that already sits in a container is copied.
    pub fn for_insert(self) -> JRef {
        let mut n = self.lock();
        if n.has_parent {
            drop(n);
            return adopted(self.deep_clone());
        }
        n.has_parent = true;
        drop(n);
        self
    }

    pub fn get(&self, key: &str) -> Option<JRef> {
        match &self.lock().kind {
            JKind::Object(o) => o.iter().find(|(k, _)| &**k == key).map(|(_, v)| v.clone()),
            _ => None,
        }
    }

    pub fn at(&self, i: usize) -> Option<JRef> {
        match &self.lock().kind {
            JKind::Array(a) => a.get(i).cloned(),
            _ => None,
        }
    }

    /// `obj[key] = v` (replaces in place, keeps the property's position).
    pub fn set(&self, key: &str, v: JRef) -> Result<(), String> {
        let v = v.for_insert();
        match &mut self.lock().kind {
            JKind::Object(o) => {
                match o.iter_mut().find(|(k, _)| &**k == key) {
                    Some(slot) => {
                        slot.1.lock().has_parent = false;
                        slot.1 = v;
                    }
                    None => o.push((Arc::from(key), v)),
                }
                Ok(())
            }
            k => Err(format!("Cannot set child value on {}", type_name(k))),
        }
    }

    pub fn set_at(&self, i: usize, v: JRef) -> Result<(), String> {
        let v = v.for_insert();
        match &mut self.lock().kind {
            JKind::Array(a) => match a.get_mut(i) {
                Some(slot) => {
                    *slot = v;
                    Ok(())
                }
                None => {
                    Err("Index was out of range. Must be non-negative and less than the size of the collection.".into())
                }
            },
            k => Err(format!("Cannot set child value on {}", type_name(k))),
        }
    }

    /// `JObject.Add(name, value)`: a duplicate name is an error, as in Newtonsoft.
    pub fn add_prop(&self, key: &str, v: JRef) -> Result<(), String> {
        let v = v.for_insert();
        match &mut self.lock().kind {
            JKind::Object(o) => {
                if o.iter().any(|(k, _)| &**k == key) {
                    return Err(format!("Can not add property {key} to Newtonsoft.Json.Linq.JObject. Property with the same name already exists on object."));
                }
                o.push((Arc::from(key), v));
                Ok(())
            }
            k => Err(format!("Can not add property to {}", type_name(k))),
        }
    }

    pub fn push(&self, v: JRef) -> Result<(), String> {
        let v = v.for_insert();
        match &mut self.lock().kind {
            JKind::Array(a) => {
                a.push(v);
                Ok(())
            }
            k => Err(format!("Can not add {} to {}", "value", type_name(k))),
        }
    }

    /// `JObject.Remove(name)`: true when the property existed.
    pub fn remove(&self, key: &str) -> bool {
        match &mut self.lock().kind {
            JKind::Object(o) => match o.iter().position(|(k, _)| &**k == key) {
                Some(i) => {
                    let (_, v) = o.remove(i);
                    v.lock().has_parent = false;
                    true
                }
                None => false,
            },
            _ => false,
        }
    }

    pub fn keys(&self) -> Vec<Arc<str>> {
        match &self.lock().kind {
            JKind::Object(o) => o.iter().map(|(k, _)| k.clone()).collect(),
            _ => Vec::new(),
        }
    }

    pub fn props(&self) -> Vec<(Arc<str>, JRef)> {
        match &self.lock().kind {
            JKind::Object(o) => o.clone(),
            _ => Vec::new(),
        }
    }

    pub fn items(&self) -> Vec<JRef> {
        match &self.lock().kind {
            JKind::Array(a) => a.clone(),
            JKind::Object(o) => o.iter().map(|(_, v)| v.clone()).collect(),
            _ => Vec::new(),
        }
    }

    pub fn count(&self) -> usize {
        match &self.lock().kind {
            JKind::Array(a) => a.len(),
            JKind::Object(o) => o.len(),
            _ => 0,
        }
    }

    pub fn write(&self, out: &mut String, indent: Option<usize>) {
        let n = self.lock();
        match &n.kind {
            JKind::Null => out.push_str("null"),
            JKind::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            JKind::Int(i) => {
                let _ = write!(out, "{i}");
            }
            JKind::Float(f) => write_float(out, *f),
            JKind::Str(s) => write_str(out, s),
            JKind::Array(a) => {
                if a.is_empty() {
                    out.push_str("[]");
                    return;
                }
                out.push('[');
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    newline(out, indent.map(|d| d + 1));
                    v.write(out, indent.map(|d| d + 1));
                }
                newline(out, indent);
                out.push(']');
            }
            JKind::Object(o) => {
                if o.is_empty() {
                    out.push_str("{}");
                    return;
                }
                out.push('{');
                for (i, (k, v)) in o.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    newline(out, indent.map(|d| d + 1));
                    write_str(out, k);
                    out.push(':');
                    if indent.is_some() {
                        out.push(' ');
                    }
                    v.write(out, indent.map(|d| d + 1));
                }
                newline(out, indent);
                out.push('}');
            }
        }
    }

    /// `ToString()` (indented) or `ToString(Formatting.None)` (compact).
    pub fn to_json(&self, indented: bool) -> String {
        let mut s = String::new();
        self.write(&mut s, indented.then_some(0));
        s
    }

    /// Parses JSON text keeping property order (as Newtonsoft does), with depth bounded
    /// like Newtonsoft's reader (64) so a hostile body cannot exhaust the stack.
    pub fn parse(text: &[u8]) -> Result<JRef, String> {
        let mut p = Reader { b: text, i: 0, depth: 0 };
        p.ws();
        let v = p.value()?;
        p.ws();
        if p.i < p.b.len() {
            return Err(p.error("Additional text encountered after finished reading JSON content"));
        }
        Ok(v)
    }
}

/// Newtonsoft's `JsonReader.MaxDepth` default.
const MAX_DEPTH: usize = 64;

struct Reader<'b> {
    b: &'b [u8],
    i: usize,
    depth: usize,
}

impl Reader<'_> {
    fn error(&self, m: &str) -> String {
        format!("Error reading JToken: {m}. Position {}.", self.i)
    }
    fn ws(&mut self) {
        while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }
    fn lit(&mut self, word: &[u8], k: JKind) -> Result<JRef, String> {
        if self.b[self.i..].starts_with(word) {
            self.i += word.len();
            Ok(JRef::new(k))
        } else {
            Err(self.error("Unexpected character"))
        }
    }
    fn value(&mut self) -> Result<JRef, String> {
        let Some(&c) = self.b.get(self.i) else { return Err(self.error("Unexpected end of content")) };
        match c {
            b'{' => {
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return Err(self.error("The reader's MaxDepth of 64 has been exceeded"));
                }
                self.i += 1;
                let mut props: Vec<(Arc<str>, JRef)> = Vec::new();
                self.ws();
                if self.b.get(self.i) == Some(&b'}') {
                    self.i += 1;
                } else {
                    loop {
                        self.ws();
                        if self.b.get(self.i) != Some(&b'"') {
                            return Err(self.error("Invalid property identifier character"));
                        }
                        let k = self.string()?;
                        self.ws();
                        if self.b.get(self.i) != Some(&b':') {
                            return Err(self.error("Expected ':'"));
                        }
                        self.i += 1;
                        self.ws();
                        let v = adopted(self.value()?);
                        // A repeated name keeps the last value in its first position (Newtonsoft).
                        match props.iter_mut().find(|(n, _)| **n == *k) {
                            Some(slot) => slot.1 = v,
                            None => props.push((Arc::from(k.as_str()), v)),
                        }
                        self.ws();
                        match self.b.get(self.i) {
                            Some(b',') => self.i += 1,
                            Some(b'}') => {
                                self.i += 1;
                                break;
                            }
                            _ => return Err(self.error("Expected ',' or '}'")),
                        }
                    }
                }
                self.depth -= 1;
                Ok(JRef::new(JKind::Object(props)))
            }
            b'[' => {
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return Err(self.error("The reader's MaxDepth of 64 has been exceeded"));
                }
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.b.get(self.i) == Some(&b']') {
                    self.i += 1;
                } else {
                    loop {
                        self.ws();
                        items.push(adopted(self.value()?));
                        self.ws();
                        match self.b.get(self.i) {
                            Some(b',') => self.i += 1,
                            Some(b']') => {
                                self.i += 1;
                                break;
                            }
                            _ => return Err(self.error("Expected ',' or ']'")),
                        }
                    }
                }
                self.depth -= 1;
                Ok(JRef::new(JKind::Array(items)))
            }
            b'"' => Ok(JRef::new(JKind::Str(Arc::from(self.string()?.as_str())))),
            b't' => self.lit(b"true", JKind::Bool(true)),
            b'f' => self.lit(b"false", JKind::Bool(false)),
            b'n' => self.lit(b"null", JKind::Null),
            b'-' | b'0'..=b'9' => self.number(),
            _ => Err(self.error("Unexpected character")),
        }
    }
    fn number(&mut self) -> Result<JRef, String> {
        let start = self.i;
        let mut float = false;
        while let Some(&c) = self.b.get(self.i) {
            match c {
                b'0'..=b'9' | b'-' | b'+' => {}
                b'.' | b'e' | b'E' => float = true,
                _ => break,
            }
            self.i += 1;
        }
        let t = std::str::from_utf8(&self.b[start..self.i]).map_err(|_| self.error("Invalid number"))?;
        if !float {
            if let Ok(n) = t.parse::<i64>() {
                return Ok(JRef::new(JKind::Int(n)));
            }
        }
        t.parse::<f64>().map(|f| JRef::new(JKind::Float(f))).map_err(|_| self.error("Invalid number"))
    }
    fn hex4(&mut self) -> Result<u32, String> {
        let h =
            self.b.get(self.i..self.i + 4).ok_or_else(|| self.error("Unexpected end while parsing unicode escape"))?;
        let v = std::str::from_utf8(h)
            .ok()
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .ok_or_else(|| self.error("Invalid Unicode escape"))?;
        self.i += 4;
        Ok(v)
    }
    fn string(&mut self) -> Result<String, String> {
        self.i += 1;
        let mut out = Vec::new();
        loop {
            let Some(&c) = self.b.get(self.i) else { return Err(self.error("Unterminated string")) };
            self.i += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    let Some(&e) = self.b.get(self.i) else { return Err(self.error("Unterminated string")) };
                    self.i += 1;
                    let ch = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hi = self.hex4()?;
                            let cp = if (0xD800..0xDC00).contains(&hi) && self.b[self.i..].starts_with(b"\\u") {
                                self.i += 2;
                                let lo = self.hex4()?;
                                0x10000 + ((hi - 0xD800) << 10) + (lo.wrapping_sub(0xDC00) & 0x3FF)
                            } else {
                                hi
                            };
                            char::from_u32(cp).unwrap_or('\u{FFFD}')
                        }
                        _ => return Err(self.error("Bad JSON escape sequence")),
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                c => out.push(c),
            }
        }
        String::from_utf8(out).map_err(|_| self.error("Invalid UTF-8"))
    }
}

fn adopted(j: JRef) -> JRef {
    j.lock().has_parent = true;
    j
}

fn newline(out: &mut String, indent: Option<usize>) {
    if let Some(d) = indent {
        out.push('\n');
        for _ in 0..d {
            out.push_str("  ");
        }
    }
}

/// Newtonsoft writes floats with the round-trip format and always a fraction (`1.0`).
pub fn write_float(out: &mut String, f: f64) {
    if f.is_nan() {
        out.push_str("NaN");
    } else if f.is_infinite() {
        out.push_str(if f > 0.0 { "Infinity" } else { "-Infinity" });
    } else if f.fract() == 0.0 && f.abs() < 1e15 {
        let _ = write!(out, "{f:.1}");
    } else {
        let mut t = String::new();
        super::value::write_double(&mut t, f);
        if !t.contains(['.', 'E', 'e']) {
            t.push_str(".0");
        }
        out.push_str(&t);
    }
}

/// Newtonsoft's default string escaping: quotes, backslash and control characters only.
pub fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || c == '\u{85}' || c == '\u{2028}' || c == '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

pub fn from_serde(v: &serde_json::Value) -> JRef {
    let k = match v {
        serde_json::Value::Null => JKind::Null,
        serde_json::Value::Bool(b) => JKind::Bool(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => JKind::Int(i),
            None => JKind::Float(n.as_f64().unwrap_or(0.0)),
        },
        serde_json::Value::String(s) => JKind::Str(Arc::from(s.as_str())),
        serde_json::Value::Array(a) => JKind::Array(a.iter().map(|x| adopted(from_serde(x))).collect()),
        serde_json::Value::Object(o) => {
            JKind::Object(o.iter().map(|(k, x)| (Arc::from(k.as_str()), adopted(from_serde(x)))).collect())
        }
    };
    JRef::new(k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newtonsoft_formats() {
        let j = JRef::parse(br#"{"a":1,"b":[true,null,"x\"y"],"c":{},"d":[],"e":2.5,"f":3.0}"#).unwrap();
        assert_eq!(j.to_json(false), r#"{"a":1,"b":[true,null,"x\"y"],"c":{},"d":[],"e":2.5,"f":3.0}"#);
        assert_eq!(
            j.to_json(true),
            "{\n  \"a\": 1,\n  \"b\": [\n    true,\n    null,\n    \"x\\\"y\"\n  ],\n  \"c\": {},\n  \"d\": [],\n  \"e\": 2.5,\n  \"f\": 3.0\n}"
        );
    }

    #[test]
    fn shared_handles_and_parent_copy() {
        let o = JRef::parse(br#"{"items":[1]}"#).unwrap();
        let items = o.get("items").unwrap();
        items.push(JRef::new(JKind::Int(2))).unwrap();
        assert_eq!(o.to_json(false), r#"{"items":[1,2]}"#);
        let p = JRef::new(JKind::Object(Vec::new()));
        p.set("copy", items.clone()).unwrap();
        items.push(JRef::new(JKind::Int(3))).unwrap();
        assert_eq!(p.to_json(false), r#"{"copy":[1,2]}"#);
    }
}
