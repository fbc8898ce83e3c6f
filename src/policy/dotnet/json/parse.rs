//! Newtonsoft's `JsonTextReader` as `JToken.Parse` uses it: lenient (comments, single-quoted
//! strings, unquoted names, `NaN`/`Infinity`, trailing commas), `DateParseHandling.DateTime`
//! (ISO-8601-looking strings and `/Date(ms)/` become Date tokens), `MaxDepth` 64, and a
//! memory budget so a body cannot grow the tree without bound.

use super::token::{JToken, JValue};
use crate::policy::dotnet::datetime::days_in_month;
use crate::policy::dotnet::datetime::{
    Civil, DateTime, DateTimeKind, TICKS_PER_DAY, TICKS_PER_MINUTE, TICKS_PER_MS, UNIX_EPOCH_TICKS,
};
use crate::policy::dotnet::error::{DnResult, DotnetError, ExceptionKind};

/// Bounds on one parse.
#[derive(Clone, Copy, Debug)]
pub struct ParseLimits {
    /// Newtonsoft's `MaxDepth` (64 by default; exceeding it is a JsonReaderException).
    pub max_depth: usize,
    /// Bytes the tree may take (strings plus a per-node cost); past it: a budget error.
    pub max_bytes: usize,
}

impl Default for ParseLimits {
    fn default() -> Self {
        Self { max_depth: 64, max_bytes: 64 << 20 }
    }
}

/// Approximate heap cost of one node.
const NODE_COST: usize = 64;

struct Reader<'a> {
    s: &'a [u8],
    i: usize,
    limits: ParseLimits,
    used: usize,
    path: Vec<PathPart>,
}

#[derive(Clone)]
enum PathPart {
    Name(String),
    Index(usize),
}

impl<'a> Reader<'a> {
    fn path_text(&self) -> String {
        let mut s = String::new();
        for p in &self.path {
            match p {
                PathPart::Name(n) => {
                    if !s.is_empty() {
                        s.push('.');
                    }
                    s.push_str(n);
                }
                PathPart::Index(i) => s.push_str(&format!("[{i}]")),
            }
        }
        s
    }

    /// Newtonsoft's line and position (1-based line, characters read on it).
    fn line_pos(&self) -> (usize, usize) {
        let upto = &self.s[..self.i.min(self.s.len())];
        let line = upto.iter().filter(|&&b| b == b'\n').count() + 1;
        let start = upto.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
        let pos = std::str::from_utf8(&upto[start..]).map_or(upto.len() - start, |t| t.chars().count());
        (line, pos)
    }

    fn err(&self, what: &str) -> DotnetError {
        let (l, p) = self.line_pos();
        DotnetError::new(
            ExceptionKind::JsonReader,
            format!("{what} Path '{}', line {l}, position {p}.", self.path_text()),
        )
    }

    fn charge(&mut self, n: usize) -> DnResult<()> {
        self.used = self.used.saturating_add(n);
        if self.used > self.limits.max_bytes {
            return Err(DotnetError::budget(format!(
                "JSON document exceeds the {} byte budget",
                self.limits.max_bytes
            )));
        }
        Ok(())
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    /// Skips white space and comments.
    fn skip(&mut self) -> DnResult<()> {
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c) => self.i += 1,
                Some(0xc2) if self.s.get(self.i + 1) == Some(&0xa0) => self.i += 2,
                Some(0xef) if self.s.get(self.i + 1..self.i + 3) == Some(&[0xbb, 0xbf]) => self.i += 3,
                Some(b'/') => match self.s.get(self.i + 1) {
                    Some(b'/') => {
                        while self.peek().is_some_and(|c| c != b'\n') {
                            self.i += 1;
                        }
                    }
                    Some(b'*') => {
                        self.i += 2;
                        loop {
                            match self.peek() {
                                None => return Err(self.err("Unexpected end while parsing comment.")),
                                Some(b'*') if self.s.get(self.i + 1) == Some(&b'/') => {
                                    self.i += 2;
                                    break;
                                }
                                _ => self.i += 1,
                            }
                        }
                    }
                    _ => {
                        self.i += 1;
                        return Err(self.err("Unexpected character encountered while parsing value: /."));
                    }
                },
                _ => return Ok(()),
            }
        }
    }

    fn unexpected(&mut self) -> DotnetError {
        match std::str::from_utf8(&self.s[self.i..])
            .ok()
            .and_then(|t| t.chars().next())
            .or_else(|| self.s.get(self.i).map(|&b| char::from(b)))
        {
            Some(c) => {
                self.i += 1;
                self.err(&format!("Unexpected character encountered while parsing value: {c}."))
            }
            None => self.err("Unexpected end when reading JSON."),
        }
    }

    fn value(&mut self, depth: usize) -> DnResult<JToken> {
        self.skip()?;
        self.charge(NODE_COST)?;
        match self.peek() {
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(q @ (b'"' | b'\'')) => {
                let s = self.string(q)?;
                Ok(JToken::value(match date_of(&s) {
                    Some(d) => JValue::Date(d),
                    None => JValue::String(s),
                }))
            }
            Some(b'-' | b'0'..=b'9' | b'.') => self.number(),
            Some(c) if c.is_ascii_alphabetic() => {
                let start = self.i;
                while self.peek().is_some_and(|c| c.is_ascii_alphanumeric()) {
                    self.i += 1;
                }
                let word = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("");
                match word {
                    "true" => Ok(JToken::value(JValue::Boolean(true))),
                    "false" => Ok(JToken::value(JValue::Boolean(false))),
                    "null" => Ok(JToken::value(JValue::Null)),
                    "undefined" => Ok(JToken::value(JValue::Undefined)),
                    "NaN" => Ok(JToken::value(JValue::Float(f64::NAN))),
                    "Infinity" => Ok(JToken::value(JValue::Float(f64::INFINITY))),
                    "new" => Err(self.err("JConstructor values are not supported by ringgate.")),
                    _ => {
                        self.i = start;
                        Err(self.unexpected())
                    }
                }
            }
            _ => Err(self.unexpected()),
        }
    }

    fn check_depth(&self, depth: usize) -> DnResult<()> {
        if depth > self.limits.max_depth {
            return Err(self.err(&format!("The reader's MaxDepth of {} has been exceeded.", self.limits.max_depth)));
        }
        Ok(())
    }

    fn object(&mut self, depth: usize) -> DnResult<JToken> {
        self.check_depth(depth)?;
        self.i += 1;
        let obj = JToken::new_object();
        loop {
            self.skip()?;
            match self.peek() {
                Some(b'}') => {
                    self.i += 1;
                    return Ok(obj);
                }
                None => return Err(self.err("Unexpected end when reading JSON.")),
                _ => {}
            }
            let name = match self.peek() {
                Some(q @ (b'"' | b'\'')) => self.string(q)?,
                Some(c) if c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80 => {
                    let start = self.i;
                    while self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80)
                    {
                        self.i += 1;
                    }
                    String::from_utf8_lossy(&self.s[start..self.i]).into_owned()
                }
                _ => {
                    let c = self.peek().map(char::from).unwrap_or(' ');
                    self.i += 1;
                    return Err(self.err(&format!("Invalid property identifier character: {c}.")));
                }
            };
            self.skip()?;
            if self.peek() != Some(b':') {
                let c = self.peek().map(char::from).unwrap_or(' ');
                self.i += 1;
                return Err(
                    self.err(&format!("Invalid character after parsing property name. Expected ':' but got: {c}."))
                );
            }
            self.i += 1;
            self.path.push(PathPart::Name(name.clone()));
            let v = self.value(depth)?;
            self.path.pop();
            self.charge(name.len() + NODE_COST)?;
            // Duplicate names: the last value wins (DuplicatePropertyNameHandling.Replace).
            obj.set(super::Key::Name(&name), v)?;
            self.skip()?;
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {}
                None => return Err(self.err("Unexpected end when reading JSON.")),
                Some(c) => {
                    self.i += 1;
                    return Err(self.err(&format!(
                        "After parsing a value an unexpected character was encountered: {}.",
                        char::from(c)
                    )));
                }
            }
        }
    }

    fn array(&mut self, depth: usize) -> DnResult<JToken> {
        self.check_depth(depth)?;
        self.i += 1;
        let arr = JToken::new_array();
        let mut n = 0;
        loop {
            self.skip()?;
            match self.peek() {
                Some(b']') => {
                    self.i += 1;
                    return Ok(arr);
                }
                None => return Err(self.err("Unexpected end when reading JSON.")),
                _ => {}
            }
            self.path.push(PathPart::Index(n));
            let v = self.value(depth)?;
            self.path.pop();
            arr.add(v)?;
            n += 1;
            self.skip()?;
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {}
                None => return Err(self.err("Unexpected end when reading JSON.")),
                Some(c) => {
                    self.i += 1;
                    return Err(self.err(&format!(
                        "After parsing a value an unexpected character was encountered: {}.",
                        char::from(c)
                    )));
                }
            }
        }
    }

    fn hex4(&mut self) -> DnResult<u32> {
        let h = self.s.get(self.i..self.i + 4).and_then(|h| std::str::from_utf8(h).ok());
        match h.and_then(|h| u32::from_str_radix(h, 16).ok()) {
            Some(v) => {
                self.i += 4;
                Ok(v)
            }
            None => Err(self.err("Unexpected end while parsing Unicode escape sequence.")),
        }
    }

    fn string(&mut self, quote: u8) -> DnResult<String> {
        self.i += 1;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.err(&format!("Unterminated string. Expected delimiter: {}.", char::from(quote))));
            };
            self.i += 1;
            if c == quote {
                break;
            }
            if c != b'\\' {
                out.push(c);
                continue;
            }
            let Some(e) = self.peek() else {
                return Err(self.err(&format!("Unterminated string. Expected delimiter: {}.", char::from(quote))));
            };
            self.i += 1;
            let ch = match e {
                b'"' => '"',
                b'\'' => '\'',
                b'\\' => '\\',
                b'/' => '/',
                b'b' => '\u{8}',
                b'f' => '\u{c}',
                b'n' => '\n',
                b'r' => '\r',
                b't' => '\t',
                b'u' => {
                    let hi = self.hex4()?;
                    if (0xD800..0xDC00).contains(&hi) && self.s.get(self.i..self.i + 2) == Some(b"\\u") {
                        let save = self.i;
                        self.i += 2;
                        let lo = self.hex4()?;
                        if (0xDC00..0xE000).contains(&lo) {
                            char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)).unwrap_or('\u{fffd}')
                        } else {
                            self.i = save;
                            '\u{fffd}'
                        }
                    } else {
                        // A lone surrogate cannot live in a Rust string: U+FFFD stands in.
                        char::from_u32(hi).unwrap_or('\u{fffd}')
                    }
                }
                other => {
                    return Err(self.err(&format!("Bad JSON escape sequence: \\{}.", char::from(other))));
                }
            };
            let mut buf = [0u8; 4];
            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
        }
        self.charge(out.len())?;
        Ok(String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
    }

    fn number(&mut self) -> DnResult<JToken> {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'+' | b'.')) {
            self.i += 1;
        }
        let text = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("");
        if text == "-Infinity" {
            return Ok(JToken::value(JValue::Float(f64::NEG_INFINITY)));
        }
        if text == "-NaN" {
            return Ok(JToken::value(JValue::Float(f64::NAN)));
        }
        let bad = |r: &Self| r.err(&format!("Input string '{text}' is not a valid number."));
        let (neg, body) = match text.strip_prefix('-') {
            Some(b) => (true, b),
            None => (false, text),
        };
        if let Some(hex) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
            let v = i64::from_str_radix(hex, 16).map_err(|_| bad(self))?;
            return Ok(JToken::value(JValue::Integer(if neg { -v } else { v })));
        }
        let is_float = body.contains(['.', 'e', 'E']);
        if !is_float {
            if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad(self));
            }
            if body.len() > 1 && body.starts_with('0') {
                // Newtonsoft reads a leading zero as octal.
                let v = i64::from_str_radix(body, 8).map_err(|_| bad(self))?;
                return Ok(JToken::value(JValue::Integer(if neg { -v } else { v })));
            }
            return Ok(JToken::value(match text.parse::<i64>() {
                Ok(v) => JValue::Integer(v),
                Err(_) => {
                    self.charge(text.len())?;
                    JValue::BigInteger(text.trim_start_matches('+').to_string())
                }
            }));
        }
        let ok_shape = {
            let b = body.as_bytes();
            let mut j = 0;
            let mut digits = 0;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
                digits += 1;
            }
            if j < b.len() && b[j] == b'.' {
                j += 1;
                while j < b.len() && b[j].is_ascii_digit() {
                    j += 1;
                    digits += 1;
                }
            }
            if j < b.len() && (b[j] == b'e' || b[j] == b'E') {
                j += 1;
                if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
                    j += 1;
                }
                let s = j;
                while j < b.len() && b[j].is_ascii_digit() {
                    j += 1;
                }
                if j == s {
                    digits = 0;
                }
            }
            j == b.len() && digits > 0
        };
        if !ok_shape {
            return Err(bad(self));
        }
        let fixed =
            if body.starts_with('.') { format!("{}0{body}", if neg { "-" } else { "" }) } else { text.to_string() };
        let v: f64 = fixed.parse().map_err(|_| bad(self))?;
        Ok(JToken::value(JValue::Float(v)))
    }
}

/// Newtonsoft's `DateTimeUtils.TryParseDateTime` with `DateTimeZoneHandling.RoundtripKind`:
/// ISO 8601 `yyyy-MM-ddTHH:mm:ss[.fffffff][Z|±HH[:]mm|±HH]` (19 to 40 characters) or
/// `/Date(ms[±HHmm])/`. A zoned time becomes local (UTC here) with Kind Local.
pub fn date_of(s: &str) -> Option<DateTime> {
    let b = s.as_bytes();
    if b.first() == Some(&b'/') {
        return ms_date(s);
    }
    if b.len() < 19 || b.len() > 40 || !b[0].is_ascii_digit() || b[10] != b'T' {
        return None;
    }
    let n = |from: usize, len: usize| -> Option<i64> {
        let t = b.get(from..from + len)?;
        t.iter().all(u8::is_ascii_digit).then(|| t.iter().fold(0i64, |a, d| a * 10 + i64::from(d - b'0')))
    };
    let (y, mo, d) = (n(0, 4)?, n(5, 2)?, n(8, 2)?);
    if b[4] != b'-'
        || b[7] != b'-'
        || !(1..=12).contains(&mo)
        || y < 1
        || d < 1
        || d > i64::from(days_in_month(y as i32, mo as i32))
    {
        return None;
    }
    let (h, mi, se) = (n(11, 2)?, n(14, 2)?, n(17, 2)?);
    if b[13] != b':' || b[16] != b':' || h > 24 || mi > 59 || se > 59 {
        return None;
    }
    let mut i = 19;
    let mut frac = 0i64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let mut digits = 0;
        while digits < 7 && b.get(i).is_some_and(u8::is_ascii_digit) {
            frac = frac * 10 + i64::from(b[i] - b'0');
            digits += 1;
            i += 1;
        }
        if digits == 0 {
            return None;
        }
        frac *= 10_i64.pow(7 - digits);
    }
    if h == 24 && (mi != 0 || se != 0 || frac != 0) {
        return None;
    }
    let mut zone: Option<i64> = None;
    let mut utc = false;
    if let Some(&c) = b.get(i) {
        if c == b'Z' || c == b'z' {
            utc = true;
            i += 1;
        } else if c == b'+' || c == b'-' {
            let zh = n(i + 1, 2)?;
            i += 3;
            let mut zm = 0;
            if b.get(i) == Some(&b':') {
                zm = n(i + 1, 2)?;
                i += 3;
            } else if let Some(m) = n(i, 2) {
                zm = m;
                i += 2;
            }
            let mins = zh * 60 + zm;
            zone = Some(if c == b'-' { -mins } else { mins });
        } else {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    let base = DateTime::new(Civil::date(y as i32, mo as i32, d as i32), DateTimeKind::Unspecified).ok()?;
    let ticks = base.ticks() + h * 36_000_000_000 + mi * TICKS_PER_MINUTE + se * 10_000_000 + frac;
    let _ = TICKS_PER_DAY;
    match (utc, zone) {
        (true, _) => DateTime::from_ticks(ticks, DateTimeKind::Utc).ok(),
        (false, Some(z)) => DateTime::from_ticks(ticks - z * TICKS_PER_MINUTE, DateTimeKind::Local).ok(),
        (false, None) => DateTime::from_ticks(ticks, DateTimeKind::Unspecified).ok(),
    }
}

/// `/Date(1198908717056)/` (UTC) or `/Date(1198908717056+0100)/` (local).
fn ms_date(s: &str) -> Option<DateTime> {
    let inner = s.strip_prefix("/Date(")?.strip_suffix(")/")?;
    let digits_end = inner.char_indices().skip(1).find(|(_, c)| *c == '+' || *c == '-').map_or(inner.len(), |(i, _)| i);
    let ms: i64 = inner[..digits_end].parse().ok()?;
    let ticks = UNIX_EPOCH_TICKS.checked_add(ms.checked_mul(TICKS_PER_MS)?)?;
    let kind = if digits_end < inner.len() {
        let z = &inner[digits_end + 1..];
        if z.len() != 4 || !z.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        DateTimeKind::Local
    } else {
        DateTimeKind::Utc
    };
    DateTime::from_ticks(ticks, kind).ok()
}

/// `JToken.Parse(text)`.
pub fn parse_token(s: &str) -> DnResult<JToken> {
    parse_bytes(s.as_bytes(), ParseLimits::default())
}

/// `JToken.Parse` over a body's bytes under `limits`.
pub fn parse_bytes(b: &[u8], limits: ParseLimits) -> DnResult<JToken> {
    let mut r = Reader { s: b, i: 0, limits, used: 0, path: Vec::new() };
    r.skip()?;
    if r.peek().is_none() {
        return Err(r.err("Unexpected end of content while loading JObject."));
    }
    let t = r.value(0)?;
    r.skip()?;
    if r.peek().is_some() {
        r.i += 1;
        return Err(r.err("Additional text encountered after finished reading JSON content:").with_char(b, r.i - 1));
    }
    Ok(t)
}

trait WithChar {
    fn with_char(self, b: &[u8], at: usize) -> Self;
}

impl WithChar for DotnetError {
    /// Newtonsoft puts the offending character after the colon.
    fn with_char(mut self, b: &[u8], at: usize) -> Self {
        let c = b.get(at).map(|&c| char::from(c)).unwrap_or(' ');
        self.message = self.message.replacen("content:", &format!("content: {c}."), 1);
        self
    }
}

fn kind_name(t: &JToken) -> &'static str {
    match t.token_type() {
        super::JTokenType::Object => "StartObject",
        super::JTokenType::Array => "StartArray",
        super::JTokenType::String => "String",
        super::JTokenType::Integer => "Integer",
        super::JTokenType::Float => "Float",
        super::JTokenType::Boolean => "Boolean",
        super::JTokenType::Null => "Null",
        super::JTokenType::Date => "Date",
        _ => "Undefined",
    }
}

/// `JObject.Parse(text)`: the text must hold an object.
pub fn parse_object(s: &str) -> DnResult<JToken> {
    let t = parse_token(s)?;
    if !t.is_object() {
        return Err(DotnetError::new(
            ExceptionKind::JsonReader,
            format!("Error reading JObject from JsonReader. Current JsonReader item is not an object: {}. Path '', line 1, position 1.", kind_name(&t)),
        ));
    }
    Ok(t)
}

/// `JArray.Parse(text)`: the text must hold an array.
pub fn parse_array(s: &str) -> DnResult<JToken> {
    let t = parse_token(s)?;
    if !t.is_array() {
        return Err(DotnetError::new(
            ExceptionKind::JsonReader,
            format!("Error reading JArray from JsonReader. Current JsonReader item is not an array: {}. Path '', line 1, position 1.", kind_name(&t)),
        ));
    }
    Ok(t)
}
