//! Newtonsoft's `JsonTextWriter` output: `ToString()` (indented, two spaces, `"a": 1`) and
//! `ToString(Formatting.None)`, number and date rendering, string escaping.
//!
//! Line breaks: Newtonsoft writes `Environment.NewLine`. APIM's managed gateways run on
//! Windows, so indented output uses `\r\n` there; [`NEWLINE`] is that choice, and
//! [`JToken::to_json_with`] takes another for callers that want Linux's `\n`.

use super::token::{Data, JToken, JValue};
use super::Formatting;
use crate::policy::dotnet::datetime::{DateTime, DateTimeKind};
use crate::policy::dotnet::number::{double_to_string, format_double};
use base64::Engine;
use std::fmt::Write;

/// `Environment.NewLine` of APIM's (Windows) gateways.
pub const NEWLINE: &str = "\r\n";

/// Writes `s` as a JSON string with Newtonsoft's default escaping (control characters,
/// `"`, `\`, U+0085, U+2028, U+2029; lowercase hex).
pub fn write_escaped(out: &mut String, s: &str, quote: char) {
    out.push(quote);
    for c in s.chars() {
        match c {
            '"' if quote == '"' => out.push_str("\\\""),
            '\'' if quote == '\'' => out.push_str("\\'"),
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
    out.push(quote);
}

/// `JsonConvert.ToString(double)`: "R" digits with `.0` added to whole numbers.
pub fn json_double(v: f64) -> String {
    if !v.is_finite() {
        return format!("\"{}\"", double_to_string(v));
    }
    let s = format_double(v, "R").unwrap_or_default();
    if s.contains(['.', 'E', 'e']) {
        s
    } else {
        s + ".0"
    }
}

/// Newtonsoft's ISO date: `yyyy-MM-ddTHH:mm:ss[.FFFFFFF]` then `Z`, the offset, or nothing.
pub fn iso_date(d: DateTime, offset_minutes: Option<i32>) -> String {
    let mut s = d.to_string_format("yyyy'-'MM'-'dd'T'HH':'mm':'ss.FFFFFFF").unwrap_or_default();
    match (offset_minutes, d.kind()) {
        (Some(m), _) => push_offset(&mut s, m),
        (None, DateTimeKind::Utc) => s.push('Z'),
        (None, DateTimeKind::Local) => push_offset(&mut s, 0),
        (None, DateTimeKind::Unspecified) => {}
    }
    s
}

fn push_offset(s: &mut String, m: i32) {
    let sign = if m < 0 { '-' } else { '+' };
    let a = m.unsigned_abs();
    let _ = write!(s, "{sign}{:02}:{:02}", a / 60, a % 60);
}

fn write_value(out: &mut String, v: &JValue) {
    match v {
        JValue::Null => out.push_str("null"),
        JValue::Undefined => out.push_str("undefined"),
        JValue::Integer(i) => {
            let _ = write!(out, "{i}");
        }
        JValue::BigInteger(s) | JValue::Raw(s) => out.push_str(s),
        JValue::Float(f) => out.push_str(&json_double(*f)),
        JValue::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        JValue::String(s) | JValue::Guid(s) | JValue::Uri(s) => write_escaped(out, s, '"'),
        JValue::Date(d) => write_escaped(out, &iso_date(*d, None), '"'),
        JValue::DateOffset(d) => write_escaped(out, &iso_date(d.date_time(), Some(d.offset_minutes())), '"'),
        JValue::TimeSpan(t) => write_escaped(out, &t.to_dotnet_string(), '"'),
        JValue::Bytes(b) => write_escaped(out, &base64::engine::general_purpose::STANDARD.encode(b), '"'),
    }
}

struct Writer<'a> {
    out: String,
    indent: bool,
    newline: &'a str,
}

impl Writer<'_> {
    fn line(&mut self, depth: usize) {
        if self.indent {
            self.out.push_str(self.newline);
            for _ in 0..depth {
                self.out.push_str("  ");
            }
        }
    }

    fn token(&mut self, t: &JToken, depth: usize) {
        let data = t.0.lock();
        match &*data {
            Data::Value(v) => write_value(&mut self.out, v),
            Data::Property(n, v) => {
                write_escaped(&mut self.out, n, '"');
                self.out.push(':');
                if self.indent {
                    self.out.push(' ');
                }
                self.token(v, depth);
            }
            Data::Object(items) | Data::Array(items) => {
                let (open, close) = if matches!(&*data, Data::Object(_)) { ('{', '}') } else { ('[', ']') };
                self.out.push(open);
                for (i, c) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.line(depth + 1);
                    self.token(c, depth + 1);
                }
                if !items.is_empty() {
                    self.line(depth);
                }
                self.out.push(close);
            }
        }
    }
}

impl JToken {
    /// `ToString(formatting)`: the token as JSON.
    pub fn to_json(&self, f: Formatting) -> String {
        self.to_json_with(f, NEWLINE)
    }

    /// `ToString(formatting)` with a chosen line break.
    pub fn to_json_with(&self, f: Formatting, newline: &str) -> String {
        let mut w = Writer { out: String::new(), indent: f == Formatting::Indented, newline };
        w.token(self, 0);
        w.out
    }

    /// `ToString()`: containers and properties print indented JSON; a `JValue` prints its
    /// value's own `ToString()` (a string without quotes, `True`, `1.5`, a date as "G").
    pub fn to_dotnet_string(&self) -> String {
        match self.as_value() {
            Some(v) => value_to_string(&v),
            None => self.to_json(Formatting::Indented),
        }
    }
}

/// `JValue.ToString()` / `Convert.ToString(value, InvariantCulture)`.
pub fn value_to_string(v: &JValue) -> String {
    match v {
        JValue::Null | JValue::Undefined => String::new(),
        JValue::Integer(i) => i.to_string(),
        JValue::BigInteger(s) | JValue::Raw(s) | JValue::String(s) | JValue::Guid(s) | JValue::Uri(s) => s.clone(),
        JValue::Float(f) => double_to_string(*f),
        JValue::Boolean(b) => if *b { "True" } else { "False" }.to_string(),
        JValue::Date(d) => d.to_dotnet_string(),
        JValue::DateOffset(d) => d.to_dotnet_string(),
        JValue::TimeSpan(t) => t.to_dotnet_string(),
        JValue::Bytes(_) => "System.Byte[]".to_string(),
    }
}

/// `JsonConvert.SerializeObject(string)`: a JSON string literal.
pub fn serialize_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    write_escaped(&mut out, s, '"');
    out
}
