//! Runtime values of policy expressions and their static types.
//!
//! Strings are `Arc<str>` so constants in the compiled program are shared, not copied, each
//! time they are evaluated; everything is `Send` so compiled plans can travel to workers.
//! Reference types of .NET (collections, `StringBuilder`, `JToken`) are shared handles, so
//! a change through one reference is seen through all, as in C#.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex, MutexGuard};

use super::json::{JKind, JRef};
use super::jwt::{Basic, Jwt};
use super::program::Lambda;

/// What a shared collection is in .NET terms (it decides `Add`, printing and equality).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CollKind {
    List,
    Array,
    HashSet,
    /// A read-only sequence a library returns (`MatchCollection`, `IEnumerable<XElement>`):
    /// its .NET type name, for `ToString()`.
    ReadOnly(&'static str),
}

#[derive(Debug)]
pub struct Coll {
    pub kind: CollKind,
    /// The element type's C# name (`System.Collections.Generic.List`1[System.String]`).
    pub elem: &'static str,
    pub items: Mutex<Vec<Value>>,
}

#[derive(Debug)]
pub struct Dict {
    /// `StringComparer.OrdinalIgnoreCase` given to the constructor.
    pub ignore_case: bool,
    pub entries: Mutex<Vec<(Value, Value)>>,
}

fn guard<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Poisoning only follows a panic while the lock was held; the data is still usable.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Coll {
    pub fn lock(&self) -> MutexGuard<'_, Vec<Value>> {
        guard(&self.items)
    }
}

impl Dict {
    pub fn lock(&self) -> MutexGuard<'_, Vec<(Value, Value)>> {
        guard(&self.entries)
    }
    pub fn key_eq(&self, a: &Value, b: &Value) -> bool {
        match (a, b, self.ignore_case) {
            (Value::Str(x), Value::Str(y), true) => x.eq_ignore_ascii_case(y) || x.to_lowercase() == y.to_lowercase(),
            _ => super::eval::equals(a, b),
        }
    }
    pub fn find(&self, k: &Value) -> Option<Value> {
        self.lock().iter().find(|(x, _)| self.key_eq(x, k)).map(|(_, v)| v.clone())
    }
}

#[derive(Clone, Debug)]
pub enum Value {
    Null,
    Bool(bool),
    /// C# `int` and `long`; the static type says which (int arithmetic wraps at 32 bits).
    Int(i64),
    Double(f64),
    Char(char),
    Str(Arc<str>),
    Bytes(Arc<[u8]>),
    /// An immutable `string[]` (from `Split`, header values).
    Array(Arc<[Value]>),
    /// `List<T>`, `T[]` made with `new`, `HashSet<T>`.
    List(Arc<Coll>),
    Dict(Arc<Dict>),
    /// `KeyValuePair<K,V>` (items of a dictionary) and `JProperty` (items of a `JObject`).
    Pair(Arc<(Value, Value)>),
    /// An `IGrouping<K,T>` from `GroupBy`: key and items.
    Group(Arc<(Value, Vec<Value>)>),
    /// A Newtonsoft `JToken`.
    Json(JRef),
    StringBuilder(Arc<Mutex<String>>),
    Func(Arc<Lambda>),
    /// A .NET enum value: its type and member name (`StringComparison.OrdinalIgnoreCase`).
    Enum(&'static str, &'static str),
    /// A thrown or caught exception: its type and message.
    Exception(Arc<(&'static str, String)>),
    Jwt(Arc<Jwt>),
    /// `jwt.Claims` (a dictionary of claim name → string values).
    Claims(Arc<Jwt>),
    Basic(Arc<Basic>),
    DateTime(crate::policy::dotnet::datetime::DateTime),
    TimeSpan(crate::policy::dotnet::datetime::TimeSpan),
    Regex(Arc<crate::policy::dotnet::regex::Regex>),
    RxMatch(Arc<crate::policy::dotnet::regex::Match>),
    /// `match.Groups` (indexable by number or name).
    RxGroups(Arc<crate::policy::dotnet::regex::Match>),
    RxGroup(Arc<crate::policy::dotnet::regex::Group>),
    /// A hash or HMAC object (`SHA256.Create()`, `new HMACSHA256(key)`): algorithm and key.
    Hasher(Arc<(crate::policy::dotnet::crypto::HashAlgorithm, Option<Arc<[u8]>>)>),
    /// `System.Uri`.
    Uri(Arc<crate::policy::dotnet::uri::Uri>),
    /// An `XDocument` or `XElement` (a shared node: edits are seen through every handle).
    Xml(super::xml::XRef),
    /// An `XAttribute` (a snapshot of its name and value, and its owner).
    XAttr(Arc<super::xml::XAttr>),
    /// An `XName`.
    XName(Arc<crate::policy::dotnet::xml::XName>),
    /// An `XNamespace` (its URI).
    XNs(Arc<str>),
    /// `System.DateTimeOffset`.
    Dto(crate::policy::dotnet::datetime::DateTimeOffset),
    /// An instance of an anonymous type (`new { a = 1, b }`): its members in order.
    Anon(Arc<[(Arc<str>, Value)]>),
    /// `new Random()` without a seed: its draws come from the worker's generator (an
    /// unseeded sequence is not observable, so no per-instance state is kept).
    Random(Arc<()>),
}

/// Static types, as far as they are known at load time (`Any` defers the check to runtime).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    Any,
    Null,
    Bool,
    Int,
    Long,
    Double,
    Char,
    Str,
    Bytes,
    Array,
    List,
    Dict,
    Pair,
    Group,
    Json,
    StringBuilder,
    Func,
    Enum,
    Exception,
    Jwt,
    Claims,
    Basic,
    DateTime,
    TimeSpan,
    Regex,
    RxMatch,
    RxGroups,
    RxGroup,
    Hasher,
    Uri,
    /// `XElement` (and `XNode`).
    Xml,
    /// `XDocument`.
    XDoc,
    /// A sequence of elements (`Elements()`, `Descendants()`): a read-only list whose items are `Xml`.
    XmlList,
    XAttr,
    XName,
    XNs,
    /// `MatchCollection`: a read-only list whose items are `Match`.
    RxMatches,
    Dto,
    /// An anonymous type (its members are checked when read).
    Anon,
    /// `System.Random`.
    Random,
}

impl Ty {
    pub fn name(self) -> &'static str {
        match self {
            Ty::Any => "object",
            Ty::Null => "null",
            Ty::Bool => "bool",
            Ty::Int => "int",
            Ty::Long => "long",
            Ty::Double => "double",
            Ty::Char => "char",
            Ty::Str => "string",
            Ty::Bytes => "byte[]",
            Ty::Array => "string[]",
            Ty::List => "collection",
            Ty::Dict => "Dictionary",
            Ty::Pair => "KeyValuePair",
            Ty::Group => "IGrouping",
            Ty::Json => "JToken",
            Ty::StringBuilder => "StringBuilder",
            Ty::Func => "lambda",
            Ty::Enum => "enum",
            Ty::Exception => "Exception",
            Ty::Jwt => "Jwt",
            Ty::Claims => "claims",
            Ty::Basic => "BasicAuthCredentials",
            Ty::DateTime => "DateTime",
            Ty::TimeSpan => "TimeSpan",
            Ty::Regex => "Regex",
            Ty::RxMatch => "Match",
            Ty::RxGroups => "GroupCollection",
            Ty::RxGroup => "Group",
            Ty::Hasher => "HashAlgorithm",
            Ty::Uri => "Uri",
            Ty::Xml => "XElement",
            Ty::XDoc => "XDocument",
            Ty::XmlList => "IEnumerable<XElement>",
            Ty::XAttr => "XAttribute",
            Ty::XName => "XName",
            Ty::XNs => "XNamespace",
            Ty::RxMatches => "MatchCollection",
            Ty::Dto => "DateTimeOffset",
            Ty::Anon => "<anonymous type>",
            Ty::Random => "Random",
        }
    }
    /// The .NET type name (`Int32`), as Newtonsoft's conversion messages write it.
    pub fn dotnet(self) -> &'static str {
        match self {
            Ty::Int => "Int32",
            Ty::Long => "Int64",
            Ty::Double => "Double",
            Ty::Bool => "Boolean",
            Ty::Str => "String",
            Ty::Char => "Char",
            t => t.name(),
        }
    }
    pub fn numeric(self) -> bool {
        matches!(self, Ty::Int | Ty::Long | Ty::Double | Ty::Char)
    }
    pub fn integral(self) -> bool {
        matches!(self, Ty::Int | Ty::Long | Ty::Char)
    }
    /// Types whose values are enumerable (foreach, LINQ).
    pub fn enumerable(self) -> bool {
        matches!(
            self,
            Ty::Any
                | Ty::Str
                | Ty::Bytes
                | Ty::Array
                | Ty::List
                | Ty::Dict
                | Ty::Group
                | Ty::Json
                | Ty::Claims
                | Ty::XmlList
                | Ty::RxMatches
        )
    }
}

impl Value {
    pub fn str(s: &str) -> Value {
        Value::Str(Arc::from(s))
    }

    pub fn list(kind: CollKind, elem: &'static str, items: Vec<Value>) -> Value {
        Value::List(Arc::new(Coll { kind, elem, items: Mutex::new(items) }))
    }

    pub fn ty(&self) -> Ty {
        match self {
            Value::Null => Ty::Null,
            Value::Bool(_) => Ty::Bool,
            Value::Int(_) => Ty::Int,
            Value::Double(_) => Ty::Double,
            Value::Char(_) => Ty::Char,
            Value::Str(_) => Ty::Str,
            Value::Bytes(_) => Ty::Bytes,
            Value::Array(_) => Ty::Array,
            Value::List(_) => Ty::List,
            Value::Dict(_) => Ty::Dict,
            Value::Pair(_) => Ty::Pair,
            Value::Group(_) => Ty::Group,
            Value::Json(_) => Ty::Json,
            Value::StringBuilder(_) => Ty::StringBuilder,
            Value::Func(_) => Ty::Func,
            Value::Enum(..) => Ty::Enum,
            Value::Exception(_) => Ty::Exception,
            Value::Jwt(_) => Ty::Jwt,
            Value::Claims(_) => Ty::Claims,
            Value::Basic(_) => Ty::Basic,
            Value::DateTime(_) => Ty::DateTime,
            Value::TimeSpan(_) => Ty::TimeSpan,
            Value::Regex(_) => Ty::Regex,
            Value::RxMatch(_) => Ty::RxMatch,
            Value::RxGroups(_) => Ty::RxGroups,
            Value::RxGroup(_) => Ty::RxGroup,
            Value::Hasher(_) => Ty::Hasher,
            Value::Uri(_) => Ty::Uri,
            Value::Xml(x) if x.is_document() => Ty::XDoc,
            Value::Xml(_) => Ty::Xml,
            Value::XAttr(_) => Ty::XAttr,
            Value::XName(_) => Ty::XName,
            Value::XNs(_) => Ty::XNs,
            Value::Dto(_) => Ty::Dto,
            Value::Anon(_) => Ty::Anon,
            Value::Random(_) => Ty::Random,
        }
    }

    /// The .NET type name, for messages and `GetType().Name`-like output.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Json(j) => match &j.lock().kind {
                JKind::Object(_) => "JObject",
                JKind::Array(_) => "JArray",
                _ => "JValue",
            },
            Value::List(c) => match c.kind {
                CollKind::List => "List",
                CollKind::Array => "Array",
                CollKind::HashSet => "HashSet",
                CollKind::ReadOnly(n) => n.rsplit('.').next().unwrap_or(n),
            },
            Value::Xml(x) => {
                if x.is_document() {
                    "XDocument"
                } else {
                    "XElement"
                }
            }
            v => v.ty().name(),
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// C# `ToString()` (and string concatenation, where null is "").
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        self.write_text(&mut s);
        s
    }

    pub fn write_text(&self, out: &mut String) {
        match self {
            Value::Null => {}
            Value::Bool(true) => out.push_str("True"),
            Value::Bool(false) => out.push_str("False"),
            Value::Int(n) => {
                let _ = write!(out, "{n}");
            }
            Value::Double(d) => write_double(out, *d),
            Value::Char(c) => out.push(*c),
            Value::Str(s) => out.push_str(s),
            Value::Bytes(_) => out.push_str("System.Byte[]"),
            Value::Array(_) => out.push_str("System.String[]"),
            Value::List(c) => match c.kind {
                CollKind::List => {
                    let _ = write!(out, "System.Collections.Generic.List`1[{}]", c.elem);
                }
                CollKind::HashSet => {
                    let _ = write!(out, "System.Collections.Generic.HashSet`1[{}]", c.elem);
                }
                CollKind::Array => {
                    let _ = write!(out, "{}[]", c.elem);
                }
                CollKind::ReadOnly(n) => out.push_str(n),
            },
            Value::Dict(_) => out.push_str("System.Collections.Generic.Dictionary`2[System.String,System.Object]"),
            Value::Pair(p) => {
                out.push('[');
                p.0.write_text(out);
                out.push_str(", ");
                p.1.write_text(out);
                out.push(']');
            }
            Value::Group(_) => out.push_str("System.Linq.Grouping`2"),
            Value::Json(j) => write_json_text(out, j),
            Value::StringBuilder(s) => out.push_str(&guard(s)),
            Value::Func(_) => out.push_str("System.Func`2"),
            Value::Enum(_, m) => out.push_str(m),
            Value::Exception(e) => {
                let _ = write!(out, "System.{}: {}", e.0, e.1);
            }
            Value::Jwt(_) => out.push_str("Jwt"),
            Value::Claims(_) => out.push_str("Claims"),
            Value::Basic(_) => out.push_str("BasicAuthCredentials"),
            Value::DateTime(d) => out.push_str(&d.to_dotnet_string()),
            Value::TimeSpan(t) => out.push_str(&t.to_dotnet_string()),
            Value::Regex(_) => out.push_str("System.Text.RegularExpressions.Regex"),
            Value::RxMatch(m) => out.push_str(m.value()),
            Value::RxGroups(_) => out.push_str("System.Text.RegularExpressions.GroupCollection"),
            Value::RxGroup(g) => out.push_str(&g.value),
            Value::Hasher(_) => out.push_str("System.Security.Cryptography.HashAlgorithm"),
            Value::Uri(u) => out.push_str(&u.to_dotnet_string()),
            Value::Xml(x) => out.push_str(&x.to_xml(true)),
            Value::XAttr(a) => out.push_str(&super::xml::attribute_text(a)),
            Value::XName(n) => out.push_str(&n.to_dotnet_string()),
            Value::XNs(n) => out.push_str(n),
            Value::Dto(d) => out.push_str(&d.to_dotnet_string()),
            Value::Random(_) => out.push_str("System.Random"),
            Value::Anon(fields) => {
                // `{ a = 1, b = x }`, as the compiler-generated ToString writes it.
                out.push('{');
                for (i, (k, v)) in fields.iter().enumerate() {
                    out.push_str(if i == 0 { " " } else { ", " });
                    out.push_str(k);
                    out.push_str(" = ");
                    v.write_text(out);
                }
                out.push_str(" }");
            }
        }
    }

    /// The value as a string slice when it is one (no allocation).
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(n) => Some(*n as f64),
            Value::Double(d) => Some(*d),
            Value::Char(c) => Some(f64::from(u32::from(*c))),
            Value::Json(j) => match j.lock().kind {
                JKind::Int(i) => Some(i as f64),
                JKind::Float(f) => Some(f),
                _ => None,
            },
            _ => None,
        }
    }
}

/// `JToken.ToString()`: a JValue prints its value as .NET does, containers print JSON.
fn write_json_text(out: &mut String, j: &JRef) {
    let n = j.lock();
    match &n.kind {
        JKind::Null => {}
        JKind::Bool(b) => out.push_str(if *b { "True" } else { "False" }),
        JKind::Int(i) => {
            let _ = write!(out, "{i}");
        }
        JKind::Float(f) => write_double(out, *f),
        JKind::Str(s) => out.push_str(s),
        _ => {
            drop(n);
            out.push_str(&j.to_json(true));
        }
    }
}

/// .NET Core 3.0+ `double.ToString()`: the shortest text that round-trips, `E+XX` beyond
/// 1e15 and below 1e-5 (e.g. `1E+16`, `1E-05`), "NaN", "∞".
pub fn write_double(out: &mut String, d: f64) {
    if d.is_nan() {
        out.push_str("NaN");
        return;
    }
    if d.is_infinite() {
        out.push_str(if d > 0.0 { "∞" } else { "-∞" });
        return;
    }
    if d == 0.0 {
        out.push_str(if d.is_sign_negative() { "-0" } else { "0" });
        return;
    }
    // Rust's `{:e}` gives the shortest round-trip digits: d.ddddde±x.
    let e = format!("{d:e}");
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let neg = mant.starts_with('-');
    let digits: String = mant.chars().filter(char::is_ascii_digit).collect();
    if neg {
        out.push('-');
    }
    if (-4..15).contains(&exp) {
        if exp >= 0 {
            let int_len = (exp + 1) as usize;
            if digits.len() <= int_len {
                out.push_str(&digits);
                for _ in digits.len()..int_len {
                    out.push('0');
                }
            } else {
                out.push_str(&digits[..int_len]);
                out.push('.');
                out.push_str(&digits[int_len..]);
            }
        } else {
            out.push_str("0.");
            for _ in 0..(-exp - 1) {
                out.push('0');
            }
            out.push_str(&digits);
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let _ = write!(out, "E{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs());
    }
}

/// A JSON token made from a C# value (Newtonsoft's implicit conversions to `JToken`).
pub fn to_json(v: &Value) -> Result<JRef, String> {
    Ok(match v {
        Value::Json(j) => j.clone(),
        Value::Null => JRef::new(JKind::Null),
        Value::Bool(b) => JRef::new(JKind::Bool(*b)),
        Value::Int(i) => JRef::new(JKind::Int(*i)),
        Value::Double(d) => JRef::new(JKind::Float(*d)),
        Value::Char(c) => JRef::new(JKind::Str(Arc::from(c.to_string().as_str()))),
        Value::Str(s) => JRef::new(JKind::Str(s.clone())),
        Value::Enum(_, m) => JRef::new(JKind::Str(Arc::from(*m))),
        Value::Array(a) => {
            let arr = JRef::new(JKind::Array(Vec::new()));
            for x in a.iter() {
                arr.push(to_json(x)?)?;
            }
            arr
        }
        Value::List(c) => {
            let arr = JRef::new(JKind::Array(Vec::new()));
            for x in c.lock().iter() {
                arr.push(to_json(x)?)?;
            }
            arr
        }
        Value::Dict(d) => {
            let obj = JRef::new(JKind::Object(Vec::new()));
            for (k, x) in d.lock().iter() {
                obj.set(&k.to_text(), to_json(x)?)?;
            }
            obj
        }
        // Newtonsoft serialises an anonymous object's members as properties, in order.
        Value::Anon(fields) => {
            let obj = JRef::new(JKind::Object(Vec::new()));
            for (k, x) in fields.iter() {
                obj.set(k, to_json(x)?)?;
            }
            obj
        }
        other => return Err(format!("Could not determine JSON object type for type {}.", other.type_name())),
    })
}

/// Converts a JSON scalar to the matching C# value (containers stay JSON).
pub fn from_json(j: &JRef) -> Value {
    match &j.lock().kind {
        JKind::Null => Value::Null,
        JKind::Bool(b) => Value::Bool(*b),
        JKind::Int(i) => Value::Int(*i),
        JKind::Float(f) => Value::Double(*f),
        JKind::Str(s) => Value::Str(s.clone()),
        _ => Value::Json(j.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_forms() {
        assert_eq!(Value::Bool(true).to_text(), "True");
        assert_eq!(Value::Double(2.0).to_text(), "2");
        assert_eq!(Value::Double(2.5).to_text(), "2.5");
        assert_eq!(Value::Null.to_text(), "");
        assert_eq!(Value::Json(JRef::parse(br#"{"a":1}"#).unwrap()).to_text(), "{\n  \"a\": 1\n}");
    }

    #[test]
    fn double_printing_as_dotnet() {
        // .NET Core 3.0+ values (docs: "Floating-point formatting and parsing changes").
        for (d, want) in [
            (0.1 + 0.2, "0.30000000000000004"),
            (1e15, "1E+15"),
            (123456789012345.0, "123456789012345"),
            (1e-5, "1E-05"),
            (0.0001, "0.0001"),
            (-1.5, "-1.5"),
            (1.0 / 3.0, "0.3333333333333333"),
            (double_max(), "1.7976931348623157E+308"),
        ] {
            let mut s = String::new();
            write_double(&mut s, d);
            assert_eq!(s, want, "{d}");
        }
    }

    fn double_max() -> f64 {
        f64::MAX
    }
}
