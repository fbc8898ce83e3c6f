//! Static members (`String.IsNullOrEmpty`, `int.TryParse`, `JObject.Parse`, enums such as
//! `StringComparison.OrdinalIgnoreCase`) and constructors, resolved at load time by their
//! full name and run by [`call`] / [`construct`].

use std::sync::{Arc, Mutex};

use base64::Engine;

use super::compile::err;
use super::eval::{cast, equals, fail, int_arg, Eval};
use super::json::{JKind, JRef};
use super::parser::{Arg, TypeRef};
use super::types::{self, Resolved};
use super::value::{to_json, CollKind, Dict, Ty, Value};
use super::{EvalError, ExprError};

/// C# keyword aliases and the types ringgate knows statics of, by the name used in ids.
pub fn canonical_type(dotted: &str) -> Option<&'static str> {
    if let Some(enc) = dotted.strip_prefix("System.Text.").or(Some(dotted)).and_then(|d| d.strip_prefix("Encoding.")) {
        return Some(match enc {
            "UTF8" => "Encoding.UTF8",
            "ASCII" => "Encoding.ASCII",
            "Unicode" => "Encoding.Unicode",
            _ => return None,
        });
    }
    let short = types::strip_namespace(dotted)?;
    Some(match short {
        "string" | "String" => "String",
        "int" | "Int32" => "Int32",
        "long" | "Int64" => "Int64",
        "double" | "Double" => "Double",
        "bool" | "Boolean" => "Boolean",
        "char" | "Char" => "Char",
        "Convert" => "Convert",
        "Math" => "Math",
        "Guid" => "Guid",
        "JObject" => "JObject",
        "JArray" => "JArray",
        "JToken" => "JToken",
        "JsonConvert" => "JsonConvert",
        "WebUtility" => "WebUtility",
        "Uri" => "Uri",
        "Encoding" => "Encoding",
        "StringComparison" => "StringComparison",
        "StringSplitOptions" => "StringSplitOptions",
        "StringComparer" => "StringComparer",
        "Formatting" => "Formatting",
        "JTokenType" => "JTokenType",
        "DateTime" => "DateTime",
        "TimeSpan" => "TimeSpan",
        "Regex" => "Regex",
        "RegexOptions" => "RegexOptions",
        "DateTimeKind" => "DateTimeKind",
        "SHA256" | "SHA256Managed" => "SHA256",
        "SHA1" | "SHA1Managed" => "SHA1",
        "SHA384" | "SHA384Managed" => "SHA384",
        "SHA512" | "SHA512Managed" => "SHA512",
        "MD5" => "MD5",
        "BitConverter" => "BitConverter",
        "XDocument" => "XDocument",
        "DateTimeOffset" => "DateTimeOffset",
        "XElement" => "XElement",
        "XNamespace" => "XNamespace",
        "XName" => "XName",
        "UriPartial" => "UriPartial",
        s if types::apim_allows(s) => {
            // A type APIM allows but ringgate has no statics for: keep its name for the refusal.
            return TYPES_NAMED.iter().find(|t| **t == s).copied().or(Some("<allowed>"));
        }
        _ => return None,
    })
}

/// Names kept for refusals of allowed types without statics here.
const TYPES_NAMED: &[&str] = &[
    "DateTime",
    "DateTimeOffset",
    "TimeSpan",
    "Regex",
    "BitConverter",
    "HMACSHA256",
    "HMACSHA1",
    "HMACSHA512",
    "SHA256",
    "SHA1",
    "MD5",
    "SHA512",
    "IPAddress",
    "XDocument",
    "XElement",
    "Random",
    "Enum",
    "Array",
    "Enumerable",
    "Tuple",
    "TimeZoneInfo",
    "RSA",
    "SymmetricAlgorithm",
    "DateTimeKind",
];

/// Members APIM allows on types whose row lists members (not "All"): others are APIM's
/// refusal, not ringgate's.
fn apim_restricted(ty: &str, member: &str) -> Option<bool> {
    let allowed: &[&str] = match ty {
        "DateTime" => &[
            "Add",
            "AddDays",
            "AddHours",
            "AddMilliseconds",
            "AddMinutes",
            "AddMonths",
            "AddSeconds",
            "AddTicks",
            "AddYears",
            "Date",
            "Day",
            "DayOfWeek",
            "DayOfYear",
            "DaysInMonth",
            "Hour",
            "IsDaylightSavingTime",
            "IsLeapYear",
            "MaxValue",
            "Millisecond",
            "Minute",
            "MinValue",
            "Month",
            "Now",
            "Parse",
            "Second",
            "Subtract",
            "Ticks",
            "TimeOfDay",
            "Today",
            "ToString",
            "UtcNow",
            "Year",
        ],
        "Regex" => &["IsMatch", "Match", "Matches", "Replace", "Unescape", "Split"],
        "IPAddress" => &["AddressFamily", "Equals", "GetAddressBytes", "IsLoopback", "Parse", "TryParse", "ToString"],
        "JsonConvert" => &["SerializeObject", "DeserializeObject"],
        "DateTimeKind" => &["Utc"],
        "Enum" => &["Parse", "TryParse", "ToString"],
        _ => return None,
    };
    Some(allowed.contains(&member))
}

/// `DateTime.UtcNow` in `DateTime.UtcNow.Year`: the chain is a static property of a type
/// followed by members of its value, not a type name.
pub fn member_of_static(dotted: &str) -> bool {
    if canonical_type(dotted).is_some() {
        return false;
    }
    let mut at = 0;
    while let Some(i) = dotted[at..].find('.') {
        let prefix = &dotted[..at + i];
        if let Some(t) = canonical_type(prefix) {
            let rest = &dotted[at + i + 1..];
            let prop = rest.split('.').next().unwrap_or("");
            return t != "<allowed>" && PROPS.iter().any(|p| p.0.split_once('.') == Some((t, prop)));
        }
        at += i + 1;
    }
    false
}

pub fn unknown_type(dotted: &str, member: &str, pos: usize) -> ExprError {
    let root = dotted.split('.').next().unwrap_or(dotted);
    if dotted.contains('.') && types::strip_namespace(dotted).is_none() {
        return ExprError::new(pos, format!("{dotted}.{member}: the namespace is not one APIM policy expressions import (not allowed in APIM policy expressions)"));
    }
    if root.chars().next().is_some_and(char::is_lowercase) && !dotted.contains('.') {
        return ExprError::new(pos, format!("the name '{root}' does not exist in the current context"));
    }
    ExprError::new(pos, format!("{dotted}.{member}: the type {dotted} is not allowed in APIM policy expressions"))
}

fn refuse(ty: &str, member: &str, pos: usize, dotted_hint: &str) -> ExprError {
    let shown = if ty == "<allowed>" { dotted_hint } else { ty };
    if shown == "XDocument" && member == "Load" {
        return ExprError::new(pos, "System.Xml.Linq.XDocument.Load is not allowed in APIM policy expressions");
    }
    match apim_restricted(shown, member) {
        Some(false) => {
            ExprError::new(pos, format!("System.{shown}.{member} is not allowed in APIM policy expressions"))
        }
        _ => ExprError::new(pos, format!("{shown}.{member} is not yet supported by ringgate")),
    }
}

/// Static methods: (id, min args, max args, result).
static METHODS: &[(&str, usize, usize, Ty)] = &[
    ("String.IsNullOrEmpty", 1, 1, Ty::Bool),
    ("String.IsNullOrWhiteSpace", 1, 1, Ty::Bool),
    ("String.Concat", 1, 16, Ty::Str),
    ("String.Format", 1, 16, Ty::Str),
    ("String.Join", 2, 16, Ty::Str),
    ("String.Equals", 2, 3, Ty::Bool),
    ("String.Compare", 3, 3, Ty::Int),
    ("String.CompareOrdinal", 2, 2, Ty::Int),
    ("Int32.Parse", 1, 1, Ty::Int),
    ("Int64.Parse", 1, 1, Ty::Long),
    ("Double.Parse", 1, 1, Ty::Double),
    ("Boolean.Parse", 1, 1, Ty::Bool),
    ("Int32.TryParse", 2, 2, Ty::Bool),
    ("Int64.TryParse", 2, 2, Ty::Bool),
    ("Double.TryParse", 2, 2, Ty::Bool),
    ("Boolean.TryParse", 2, 2, Ty::Bool),
    ("Char.IsDigit", 1, 1, Ty::Bool),
    ("Char.IsLetter", 1, 1, Ty::Bool),
    ("Char.IsLetterOrDigit", 1, 1, Ty::Bool),
    ("Char.IsWhiteSpace", 1, 1, Ty::Bool),
    ("Char.IsUpper", 1, 1, Ty::Bool),
    ("Char.IsLower", 1, 1, Ty::Bool),
    ("Char.ToUpper", 1, 1, Ty::Char),
    ("Char.ToLower", 1, 1, Ty::Char),
    ("Convert.ToBase64String", 1, 1, Ty::Str),
    ("Convert.FromBase64String", 1, 1, Ty::Bytes),
    ("Convert.ToInt32", 1, 1, Ty::Int),
    ("Convert.ToInt64", 1, 1, Ty::Long),
    ("Convert.ToDouble", 1, 1, Ty::Double),
    ("Convert.ToBoolean", 1, 1, Ty::Bool),
    ("Convert.ToString", 1, 1, Ty::Str),
    ("Math.Min", 2, 2, Ty::Any),
    ("Math.Max", 2, 2, Ty::Any),
    ("Math.Abs", 1, 1, Ty::Any),
    ("Math.Floor", 1, 1, Ty::Double),
    ("Math.Ceiling", 1, 1, Ty::Double),
    ("Math.Round", 1, 2, Ty::Double),
    ("Math.Pow", 2, 2, Ty::Double),
    ("Math.Sqrt", 1, 1, Ty::Double),
    ("Guid.NewGuid", 0, 0, Ty::Str),
    ("JObject.Parse", 1, 1, Ty::Json),
    ("JArray.Parse", 1, 1, Ty::Json),
    ("JToken.Parse", 1, 1, Ty::Json),
    ("JObject.FromObject", 1, 1, Ty::Json),
    ("JToken.FromObject", 1, 1, Ty::Json),
    ("JArray.FromObject", 1, 1, Ty::Json),
    ("JsonConvert.SerializeObject", 1, 2, Ty::Str),
    ("JsonConvert.DeserializeObject", 1, 1, Ty::Any),
    ("WebUtility.UrlEncode", 1, 1, Ty::Str),
    ("WebUtility.UrlDecode", 1, 1, Ty::Str),
    ("WebUtility.HtmlEncode", 1, 1, Ty::Str),
    ("Uri.EscapeDataString", 1, 1, Ty::Str),
    ("Uri.UnescapeDataString", 1, 1, Ty::Str),
    ("Encoding.UTF8.GetBytes", 1, 1, Ty::Bytes),
    ("Encoding.UTF8.GetString", 1, 1, Ty::Str),
    ("Encoding.ASCII.GetBytes", 1, 1, Ty::Bytes),
    ("Encoding.ASCII.GetString", 1, 1, Ty::Str),
    ("context.Trace", 1, 2, Ty::Null),
    ("DateTime.Parse", 1, 1, Ty::DateTime),
    ("DateTime.ParseExact", 3, 3, Ty::DateTime),
    ("DateTime.TryParse", 2, 2, Ty::Bool),
    ("TimeSpan.FromDays", 1, 1, Ty::TimeSpan),
    ("TimeSpan.FromHours", 1, 1, Ty::TimeSpan),
    ("TimeSpan.FromMinutes", 1, 1, Ty::TimeSpan),
    ("TimeSpan.FromSeconds", 1, 1, Ty::TimeSpan),
    ("TimeSpan.FromMilliseconds", 1, 1, Ty::TimeSpan),
    ("TimeSpan.Parse", 1, 1, Ty::TimeSpan),
    ("Regex.IsMatch", 2, 3, Ty::Bool),
    ("Regex.Match", 2, 3, Ty::RxMatch),
    ("Regex.Replace", 3, 4, Ty::Str),
    ("SHA256.Create", 0, 0, Ty::Hasher),
    ("SHA1.Create", 0, 0, Ty::Hasher),
    ("SHA384.Create", 0, 0, Ty::Hasher),
    ("SHA512.Create", 0, 0, Ty::Hasher),
    ("MD5.Create", 0, 0, Ty::Hasher),
    ("BitConverter.ToString", 1, 1, Ty::Str),
    ("Regex.Matches", 2, 3, Ty::RxMatches),
    ("DateTimeOffset.FromUnixTimeSeconds", 1, 1, Ty::Dto),
    ("DateTimeOffset.FromUnixTimeMilliseconds", 1, 1, Ty::Dto),
    ("DateTimeOffset.Parse", 1, 1, Ty::Dto),
    ("Regex.Split", 2, 3, Ty::Array),
    ("XDocument.Parse", 1, 1, Ty::XDoc),
    ("XElement.Parse", 1, 1, Ty::Xml),
    ("XNamespace.Get", 1, 1, Ty::XNs),
    ("XName.Get", 1, 2, Ty::XName),
];

/// Static properties and constants.
static PROPS: &[(&str, Ty)] = &[
    ("String.Empty", Ty::Str),
    ("Int32.MaxValue", Ty::Int),
    ("Int32.MinValue", Ty::Int),
    ("Int64.MaxValue", Ty::Long),
    ("Int64.MinValue", Ty::Long),
    ("Double.NaN", Ty::Double),
    ("Double.PositiveInfinity", Ty::Double),
    ("Double.NegativeInfinity", Ty::Double),
    ("Math.PI", Ty::Double),
    ("Math.E", Ty::Double),
    ("StringComparison.Ordinal", Ty::Enum),
    ("StringComparison.OrdinalIgnoreCase", Ty::Enum),
    ("StringComparison.InvariantCulture", Ty::Enum),
    ("StringComparison.InvariantCultureIgnoreCase", Ty::Enum),
    ("StringComparison.CurrentCulture", Ty::Enum),
    ("StringComparison.CurrentCultureIgnoreCase", Ty::Enum),
    ("StringSplitOptions.None", Ty::Enum),
    ("StringSplitOptions.RemoveEmptyEntries", Ty::Enum),
    ("StringSplitOptions.TrimEntries", Ty::Enum),
    ("StringComparer.Ordinal", Ty::Enum),
    ("StringComparer.OrdinalIgnoreCase", Ty::Enum),
    ("StringComparer.InvariantCultureIgnoreCase", Ty::Enum),
    ("Formatting.None", Ty::Enum),
    ("Formatting.Indented", Ty::Enum),
    ("JTokenType.Object", Ty::Enum),
    ("JTokenType.Array", Ty::Enum),
    ("JTokenType.String", Ty::Enum),
    ("JTokenType.Integer", Ty::Enum),
    ("JTokenType.Float", Ty::Enum),
    ("JTokenType.Boolean", Ty::Enum),
    ("JTokenType.Null", Ty::Enum),
    ("DateTime.UtcNow", Ty::DateTime),
    ("DateTime.Now", Ty::DateTime),
    ("DateTime.Today", Ty::DateTime),
    ("DateTimeKind.Utc", Ty::Enum),
    ("RegexOptions.None", Ty::Enum),
    ("RegexOptions.IgnoreCase", Ty::Enum),
    ("RegexOptions.Multiline", Ty::Enum),
    ("RegexOptions.Singleline", Ty::Enum),
    ("RegexOptions.ExplicitCapture", Ty::Enum),
    ("RegexOptions.Compiled", Ty::Enum),
    ("RegexOptions.CultureInvariant", Ty::Enum),
    ("RegexOptions.IgnorePatternWhitespace", Ty::Enum),
    ("DateTimeOffset.UtcNow", Ty::Dto),
    ("DateTimeOffset.Now", Ty::Dto),
    ("UriPartial.Scheme", Ty::Enum),
    ("UriPartial.Authority", Ty::Enum),
    ("UriPartial.Path", Ty::Enum),
    ("UriPartial.Query", Ty::Enum),
    ("Uri.UriSchemeHttp", Ty::Str),
    ("Uri.UriSchemeHttps", Ty::Str),
    ("Uri.SchemeDelimiter", Ty::Str),
    ("XNamespace.None", Ty::XNs),
];

pub fn check(
    ty: &'static str,
    name: &str,
    tys: &[Ty],
    targ: Option<Ty>,
    args: &[Arg],
    pos: usize,
) -> Result<(&'static str, Ty), ExprError> {
    let key = format!("{ty}.{name}");
    for a in args {
        if let Some(n) = &a.name {
            return err(a.value.pos, format!("the named argument '{n}:' of {key} is not yet supported by ringgate"));
        }
    }
    if targ.is_none() {
        if let Some(r) = super::bind_array::check_static(ty, name, tys, pos) {
            return r;
        }
    }
    let Some(&(id, min, max, ret)) = METHODS.iter().find(|m| m.0 == key) else {
        return Err(refuse(ty, name, pos, &key));
    };
    let n = tys.len();
    if n < min || n > max {
        return err(pos, format!("no overload of {key} takes {n} argument(s) (ringgate runs {min} to {max})"));
    }
    if id.starts_with("Regex.") {
        if let Some(Arg {
            value: super::parser::Ast { kind: super::parser::AstKind::Lit(super::parser::Lit::Str(p)), pos: ppos },
            ..
        }) = args.get(1)
        {
            super::bind::check_pattern(p).map_err(|m| ExprError::new(*ppos, format!("Regex pattern: {m}")))?;
        }
    }
    if targ.is_some() && id != "JsonConvert.DeserializeObject" {
        return err(pos, format!("{key}<T> is not yet supported by ringgate"));
    }
    if id.ends_with(".Parse") && n == 2 || id == "String.Compare" && tys.get(2).is_some_and(|t| *t == Ty::Bool) {
        return err(pos, format!("{key} with a culture or ignoreCase flag is not yet supported by ringgate (pass StringComparison.Ordinal or OrdinalIgnoreCase)"));
    }
    let ret = match (id, targ) {
        ("JsonConvert.DeserializeObject", Some(t)) => {
            if !matches!(t, Ty::Json | Ty::Any | Ty::Dict) {
                return err(pos, "JsonConvert.DeserializeObject<T> runs for JObject, JArray, JToken, object and Dictionary<string, object> in ringgate");
            }
            t
        }
        _ => ret,
    };
    Ok((id, ret))
}

pub fn check_prop(ty: &'static str, name: &str, pos: usize) -> Result<(&'static str, Ty), ExprError> {
    let key = format!("{ty}.{name}");
    match PROPS.iter().find(|p| p.0 == key) {
        Some(&(id, t)) => Ok((id, t)),
        None => Err(refuse(ty, name, pos, &key)),
    }
}

/// The value of a constant static property.
pub fn constant(id: &'static str) -> Option<Value> {
    Some(match id {
        "String.Empty" => Value::str(""),
        "Int32.MaxValue" => Value::Int(i64::from(i32::MAX)),
        "Int32.MinValue" => Value::Int(i64::from(i32::MIN)),
        "Int64.MaxValue" => Value::Int(i64::MAX),
        "Int64.MinValue" => Value::Int(i64::MIN),
        "Double.NaN" => Value::Double(f64::NAN),
        "Double.PositiveInfinity" => Value::Double(f64::INFINITY),
        "Double.NegativeInfinity" => Value::Double(f64::NEG_INFINITY),
        "Math.PI" => Value::Double(std::f64::consts::PI),
        "Math.E" => Value::Double(std::f64::consts::E),
        "Uri.UriSchemeHttp" => Value::str("http"),
        "Uri.UriSchemeHttps" => Value::str("https"),
        "Uri.SchemeDelimiter" => Value::str("://"),
        "XNamespace.None" => Value::XNs(Arc::from("")),
        _ => {
            PROPS.iter().find(|p| p.0 == id).filter(|p| p.1 == Ty::Enum)?;
            let (t, m) = id.split_once('.')?;
            Value::Enum(t, m)
        }
    })
}

/// Constructors ringgate runs: the kind of `new T(args)`.
pub fn check_new(t: &TypeRef, res: Resolved, tys: &[Ty], pos: usize) -> Result<&'static str, ExprError> {
    let n = tys.len();
    let bad = |what: &str| err(pos, format!("new {}({what}) is not yet supported by ringgate", t.display()));
    Ok(match res.kind {
        "JObject" => "JObject",
        "JArray" => "JArray",
        "Random" => super::bind_array::check_new(n, pos)?,
        "Uri" if n == 1 || (n == 2 && tys[0] == Ty::Uri) => "Uri",
        "DateTimeOffset" if n == 1 || n == 2 => "DateTimeOffset",
        "XElement" if n >= 1 => "XElement",
        "XAttribute" if n == 2 => "XAttribute",
        "XDocument" => "XDocument",
        "JProperty" if n == 2 => "JProperty",
        "JValue" if n == 1 => "JValue",
        "List" if n <= 1 => "List",
        "HashSet" if n <= 1 => "HashSet",
        "Dictionary" if n <= 1 => "Dictionary",
        "StringBuilder" if n <= 1 => "StringBuilder",
        "string" if n == 2 && tys[0] == Ty::Char => "String",
        "string" if n == 1 => "String",
        "Regex" if (1..=2).contains(&n) => "Regex",
        "HMAC" if n == 1 => match types::strip_namespace(&t.name).unwrap_or("") {
            "HMACSHA256" => "HMACSHA256",
            "HMACSHA1" => "HMACSHA1",
            "HMACSHA384" => "HMACSHA384",
            "HMACSHA512" => "HMACSHA512",
            _ => "HMACMD5",
        },
        "TimeSpan" if matches!(n, 1 | 3 | 4 | 5) => "TimeSpan",
        "DateTime" if (3..=8).contains(&n) => "DateTime",
        "Exception" if n <= 2 => {
            types::exception_type(types::strip_namespace(&t.name).unwrap_or("")).unwrap_or("Exception")
        }
        _ => return bad(&"…".repeat(n.min(1))),
    })
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

fn text(v: &Value) -> Result<String, EvalError> {
    match v {
        Value::Null => Err(EvalError::of("ArgumentNullException", "Value cannot be null.")),
        v => Ok(v.to_text()),
    }
}

fn format_err(s: &str) -> EvalError {
    EvalError::of("FormatException", format!("The input string '{s}' was not in a correct format."))
}

/// `int.Parse` / `long.Parse` (invariant culture: optional sign, surrounding white space).
pub fn parse_int(s: &str, int32: bool) -> Result<Value, EvalError> {
    let n: i64 = s.trim().parse().map_err(|_| {
        if s.trim().trim_start_matches(['-', '+']).chars().all(|c| c.is_ascii_digit()) && !s.trim().is_empty() {
            EvalError::of(
                "OverflowException",
                format!("Value was either too large or too small for an {}.", if int32 { "Int32" } else { "Int64" }),
            )
        } else {
            format_err(s)
        }
    })?;
    if int32 && i32::try_from(n).is_err() {
        return Err(EvalError::of("OverflowException", "Value was either too large or too small for an Int32."));
    }
    Ok(Value::Int(n))
}

pub fn parse_double(s: &str) -> Result<Value, EvalError> {
    let t = s.trim();
    if t.is_empty() || t.contains(['_']) || t.eq_ignore_ascii_case("inf") || t.eq_ignore_ascii_case("nan") && t != "NaN"
    {
        return Err(format_err(s));
    }
    t.parse::<f64>().map(Value::Double).map_err(|_| format_err(s))
}

pub fn parse_bool(s: &str) -> Result<Value, EvalError> {
    match s.trim() {
        t if t.eq_ignore_ascii_case("true") => Ok(Value::Bool(true)),
        t if t.eq_ignore_ascii_case("false") => Ok(Value::Bool(false)),
        _ => Err(EvalError::of("FormatException", format!("String '{s}' was not recognized as a valid Boolean."))),
    }
}

fn url_encode(s: &str) -> String {
    // WebUtility.UrlEncode: unreserved -_.!*() stay, space is '+', the rest %XX uppercase.
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'!' | b'*' | b'(' | b')' => {
                out.push(char::from(b))
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn escape_data(s: &str) -> String {
    // Uri.EscapeDataString: RFC 3986 unreserved stay, the rest %XX uppercase.
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(char::from(b)),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Percent-decoding as .NET's query readers do (`plus`: `+` is a space, as in form encoding).
pub(super) fn percent_decode(s: &str, plus: bool) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                match std::str::from_utf8(&b[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' if plus => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn html_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn guid() -> String {
    let hex: String = (0..32).map(|_| char::from_digit(fastrand::u32(0..16), 16).unwrap_or('0')).collect();
    let variant = char::from_digit(8 + fastrand::u32(0..4), 16).unwrap_or('8');
    format!("{}-{}-4{}-{variant}{}-{}", &hex[0..8], &hex[8..12], &hex[13..16], &hex[17..20], &hex[20..32])
}

fn parse_json(s: &Value, want: &str) -> Result<Value, EvalError> {
    let t = text(s)?;
    let j = JRef::parse(t.as_bytes()).map_err(|m| EvalError::of("JsonReaderException", m))?;
    let kind = j.kind_name();
    match (want, kind) {
        ("JObject", k) if k != "Object" => Err(EvalError::of(
            "JsonReaderException",
            format!("Error reading JObject from JsonReader. Current JsonReader item is not an object: {k}"),
        )),
        ("JArray", k) if k != "Array" => Err(EvalError::of(
            "JsonReaderException",
            format!("Error reading JArray from JsonReader. Current JsonReader item is not an array: {k}"),
        )),
        _ => Ok(Value::Json(j)),
    }
}

/// A static member at runtime (`args` is empty for a static property).
pub fn call(ev: &mut Eval<'_, '_>, id: &str, args: Vec<Value>, targ: Option<Ty>) -> Result<Value, EvalError> {
    let a0 = args.first().cloned().unwrap_or(Value::Null);
    let a1 = args.get(1).cloned().unwrap_or(Value::Null);
    let num = |v: &Value| {
        super::linq::scalar(v)
            .as_f64()
            .ok_or_else(|| EvalError::new(format!("a number is needed, found {}", v.type_name())))
    };
    if let Some(r) = super::headers::call(ev, id, &args) {
        return r;
    }
    if let Some(r) = super::bind_lib::static_call(ev, id, &args) {
        return r;
    }
    if matches!(
        id.split('.').next(),
        Some("DateTime" | "TimeSpan" | "Regex" | "SHA256" | "SHA1" | "SHA384" | "SHA512" | "MD5" | "BitConverter")
    ) {
        if let Some(r) = super::bind::static_call(id, &args) {
            return r;
        }
    }
    Ok(match id {
        "String.IsNullOrEmpty" => Value::Bool(a0.is_null() || a0.to_text().is_empty()),
        "String.IsNullOrWhiteSpace" => Value::Bool(a0.is_null() || a0.to_text().trim().is_empty()),
        "String.Concat" => {
            let mut s = String::new();
            let parts = if args.len() == 1 && matches!(a0, Value::List(_) | Value::Array(_)) {
                super::linq::items(&a0)?
            } else {
                args
            };
            for a in &parts {
                a.write_text(&mut s);
            }
            ev.budget.alloc(s.len())?;
            Value::str(&s)
        }
        "String.Format" => {
            let s = super::format::composite(&text(&a0)?, &args[1..])?;
            ev.budget.alloc(s.len())?;
            Value::str(&s)
        }
        "String.Join" => {
            let sep = a0.to_text();
            let items = if args.len() == 2 && !matches!(a1, Value::Str(_)) {
                super::linq::items(&a1)?
            } else {
                args[1..].to_vec()
            };
            let s = items.iter().map(Value::to_text).collect::<Vec<_>>().join(&sep);
            ev.budget.alloc(s.len())?;
            Value::str(&s)
        }
        "String.Equals" => {
            let ic = super::strings::ignore_case(args.get(2))?;
            Value::Bool(match (&a0, &a1) {
                (Value::Null, Value::Null) => true,
                (Value::Str(a), Value::Str(b)) => super::strings::eq(a, b, ic),
                _ => false,
            })
        }
        "String.Compare" | "String.CompareOrdinal" => {
            let ic = super::strings::ignore_case(args.get(2))?;
            if let Some(Value::Enum(_, m)) = args.get(2) {
                if !m.starts_with("Ordinal") {
                    let o = super::linq::compare(&a0, &a1);
                    return Ok(Value::Int(o as i64));
                }
            }
            let (a, b) = (a0.to_text(), a1.to_text());
            let o = if ic {
                super::strings::to_upper(&a).cmp(&super::strings::to_upper(&b))
            } else {
                a.encode_utf16().cmp(b.encode_utf16())
            };
            Value::Int(o as i64)
        }
        "Int32.Parse" => parse_int(&text(&a0)?, true)?,
        "Int64.Parse" => parse_int(&text(&a0)?, false)?,
        "Double.Parse" => parse_double(&text(&a0)?)?,
        "Boolean.Parse" => parse_bool(&text(&a0)?)?,
        "Int32.TryParse" | "Int64.TryParse" | "Double.TryParse" | "Boolean.TryParse" => {
            let s = a0.to_text();
            let r = match id {
                "Int32.TryParse" => parse_int(&s, true),
                "Int64.TryParse" => parse_int(&s, false),
                "Double.TryParse" => parse_double(&s),
                _ => parse_bool(&s),
            };
            let zero = match id {
                "Double.TryParse" => Value::Double(0.0),
                "Boolean.TryParse" => Value::Bool(false),
                _ => Value::Int(0),
            };
            match r {
                Ok(v) if !a0.is_null() => Value::Pair(Arc::new((Value::Bool(true), v))),
                _ => Value::Pair(Arc::new((Value::Bool(false), zero))),
            }
        }
        "Char.IsDigit"
        | "Char.IsLetter"
        | "Char.IsLetterOrDigit"
        | "Char.IsWhiteSpace"
        | "Char.IsUpper"
        | "Char.IsLower"
        | "Char.ToUpper"
        | "Char.ToLower" => {
            let Value::Char(c) = a0 else { return fail(format!("{id} needs a char, found {}", a0.type_name())) };
            match id {
                "Char.IsDigit" => Value::Bool(c.is_ascii_digit()),
                "Char.IsLetter" => Value::Bool(c.is_alphabetic()),
                "Char.IsLetterOrDigit" => Value::Bool(c.is_alphanumeric()),
                "Char.IsWhiteSpace" => Value::Bool(c.is_whitespace()),
                "Char.IsUpper" => Value::Bool(c.is_uppercase()),
                "Char.IsLower" => Value::Bool(c.is_lowercase()),
                "Char.ToUpper" => Value::Char(super::strings::upper(c)),
                _ => Value::Char(super::strings::lower(c)),
            }
        }
        "Convert.ToBase64String" => match &a0 {
            Value::Bytes(b) => Value::str(&b64().encode(b)),
            other => return fail(format!("Convert.ToBase64String needs byte[], found {}", other.type_name())),
        },
        "Convert.FromBase64String" => {
            let s = text(&a0)?;
            let clean: String = s.chars().filter(|c| !c.is_whitespace()).collect();
            Value::Bytes(
                b64()
                    .decode(clean)
                    .map_err(|_| EvalError::of("FormatException", "The input is not a valid Base-64 string as it contains a non-base 64 character, more than two padding characters, or an illegal character among the padding characters."))?
                    .into(),
            )
        }
        "Convert.ToInt32" | "Convert.ToInt64" => {
            let int32 = id == "Convert.ToInt32";
            match super::linq::scalar(&a0) {
                Value::Null => Value::Int(0),
                Value::Str(s) => parse_int(&s, int32)?,
                Value::Bool(b) => Value::Int(i64::from(b)),
                // Convert rounds half to even (Convert.ToInt32(2.5) is 2).
                Value::Double(d) => super::eval::double_to_int(round_half_even(d), int32)?,
                Value::Char(c) => Value::Int(i64::from(u32::from(c))),
                v => cast(if int32 { Ty::Int } else { Ty::Long }, v)?,
            }
        }
        "Convert.ToDouble" => match super::linq::scalar(&a0) {
            Value::Null => Value::Double(0.0),
            Value::Str(s) => parse_double(&s)?,
            Value::Bool(b) => Value::Double(if b { 1.0 } else { 0.0 }),
            v => Value::Double(num(&v)?),
        },
        "Convert.ToBoolean" => match super::linq::scalar(&a0) {
            Value::Null => Value::Bool(false),
            Value::Str(s) => parse_bool(&s)?,
            Value::Bool(b) => Value::Bool(b),
            v => Value::Bool(num(&v)? != 0.0),
        },
        "Convert.ToString" => Value::str(&a0.to_text()),
        "Math.Min" | "Math.Max" => match (super::linq::scalar(&a0), super::linq::scalar(&a1)) {
            (Value::Int(x), Value::Int(y)) => Value::Int(if id == "Math.Min" { x.min(y) } else { x.max(y) }),
            (x, y) => {
                let (x, y) = (num(&x)?, num(&y)?);
                Value::Double(if x.is_nan() || y.is_nan() {
                    f64::NAN
                } else if id == "Math.Min" {
                    x.min(y)
                } else {
                    x.max(y)
                })
            }
        },
        "Math.Abs" => match super::linq::scalar(&a0) {
            Value::Int(n) => Value::Int(n.checked_abs().ok_or_else(|| {
                EvalError::of("OverflowException", "Negating the minimum value of a twos complement number is invalid.")
            })?),
            v => Value::Double(num(&v)?.abs()),
        },
        "Math.Floor" => Value::Double(num(&a0)?.floor()),
        "Math.Ceiling" => Value::Double(num(&a0)?.ceil()),
        "Math.Round" => {
            let x = num(&a0)?;
            match args.get(1) {
                None => Value::Double(round_half_even(x)),
                Some(Value::Int(d)) => {
                    let d = i32::try_from(*d).ok().filter(|d| (0..=15).contains(d)).ok_or_else(|| {
                        EvalError::of(
                            "ArgumentOutOfRangeException",
                            "Rounding digits must be between 0 and 15, inclusive. (Parameter 'digits')",
                        )
                    })?;
                    let p = 10f64.powi(d);
                    Value::Double(round_half_even(x * p) / p)
                }
                Some(Value::Enum("MidpointRounding", _)) | Some(_) => {
                    return fail("Math.Round with MidpointRounding is not yet supported by ringgate")
                }
            }
        }
        "Math.Pow" => Value::Double(num(&a0)?.powf(num(&a1)?)),
        "Math.Sqrt" => Value::Double(num(&a0)?.sqrt()),
        "Guid.NewGuid" => Value::str(&guid()),
        "JObject.Parse" => parse_json(&a0, "JObject")?,
        "JArray.Parse" => parse_json(&a0, "JArray")?,
        "JToken.Parse" => parse_json(&a0, "JToken")?,
        "JObject.FromObject" | "JToken.FromObject" | "JArray.FromObject" => {
            Value::Json(to_json(&a0).map_err(|m| EvalError::of("ArgumentException", m))?.deep_clone())
        }
        "JsonConvert.SerializeObject" => {
            let indented = matches!(a1, Value::Enum("Formatting", "Indented"));
            match &a0 {
                Value::Null => Value::str("null"),
                v => Value::str(
                    &to_json(v).map_err(|m| EvalError::of("JsonSerializationException", m))?.to_json(indented),
                ),
            }
        }
        "JsonConvert.DeserializeObject" => {
            let v = parse_json(&a0, "JToken")?;
            match (targ, &v) {
                (Some(Ty::Dict), Value::Json(j)) => {
                    let d = Dict { ignore_case: false, entries: Mutex::new(Vec::new()) };
                    for (k, x) in j.props() {
                        d.lock().push((Value::Str(k), super::value::from_json(&x)));
                    }
                    Value::Dict(Arc::new(d))
                }
                _ => v,
            }
        }
        "WebUtility.UrlEncode" => match a0 {
            Value::Null => Value::Null,
            v => Value::str(&url_encode(&v.to_text())),
        },
        "WebUtility.UrlDecode" => match a0 {
            Value::Null => Value::Null,
            v => Value::str(&percent_decode(&v.to_text(), true)),
        },
        "WebUtility.HtmlEncode" => match a0 {
            Value::Null => Value::Null,
            v => Value::str(&html_encode(&v.to_text())),
        },
        "Uri.EscapeDataString" => Value::str(&escape_data(&text(&a0)?)),
        "Uri.UnescapeDataString" => Value::str(&percent_decode(&text(&a0)?, false)),
        "Encoding.UTF8.GetBytes" => Value::Bytes(text(&a0)?.as_bytes().into()),
        "Encoding.UTF8.GetString" => match &a0 {
            Value::Bytes(b) => Value::str(&String::from_utf8_lossy(b)),
            other => return fail(format!("Encoding.UTF8.GetString needs byte[], found {}", other.type_name())),
        },
        "Encoding.ASCII.GetBytes" => Value::Bytes(
            text(&a0)?.chars().map(|c| if c.is_ascii() { c as u8 } else { b'?' }).collect::<Vec<_>>().into(),
        ),
        "Encoding.ASCII.GetString" => match &a0 {
            Value::Bytes(b) => {
                Value::str(&b.iter().map(|x| if x.is_ascii() { char::from(*x) } else { '?' }).collect::<String>())
            }
            other => return fail(format!("Encoding.ASCII.GetString needs byte[], found {}", other.type_name())),
        },
        "context.Trace" => {
            let (source, message) =
                if args.len() == 2 { (a0.to_text(), a1.to_text()) } else { (String::from("expression"), a0.to_text()) };
            tracing::info!(target: "ringgate::trace", source = %source, message = %message, "context.Trace");
            Value::Null
        }
        other => return fail(format!("{other} is not yet supported by ringgate")),
    })
}

/// .NET's default rounding (banker's: to even).
pub fn round_half_even(x: f64) -> f64 {
    let r = x.round();
    if (x - x.trunc()).abs() == 0.5 {
        2.0 * (x / 2.0).round()
    } else {
        r
    }
}

/// `new T(args)` at runtime, before its initializer.
pub fn construct(ev: &mut Eval<'_, '_>, kind: &str, elem: &'static str, args: Vec<Value>) -> Result<Value, EvalError> {
    if let Some(r) = super::bind_lib::construct(kind, &args) {
        return r;
    }
    if matches!(kind, "Regex" | "TimeSpan" | "DateTime") || kind.starts_with("HMAC") {
        if let Some(r) = super::bind::construct(kind, &args) {
            return r;
        }
    }
    let a0 = args.first().cloned().unwrap_or(Value::Null);
    Ok(match kind {
        "Random" => super::bind_array::construct(),
        "JObject" => {
            let o = JRef::new(JKind::Object(Vec::new()));
            for a in &args {
                match a {
                    Value::Pair(p) => {
                        let (k, v) = super::members::property_parts(p)?;
                        o.add_prop(&k, v).map_err(|m| EvalError::of("ArgumentException", m))?;
                    }
                    Value::Json(j) if j.is_object() => {
                        for (k, v) in j.props() {
                            o.add_prop(&k, v.deep_clone()).map_err(|m| EvalError::of("ArgumentException", m))?;
                        }
                    }
                    Value::List(_) | Value::Array(_) => {
                        for x in super::linq::items(a)? {
                            if let Value::Pair(p) = x {
                                let (k, v) = super::members::property_parts(&p)?;
                                o.add_prop(&k, v).map_err(|m| EvalError::of("ArgumentException", m))?;
                            }
                        }
                    }
                    other => {
                        return Err(EvalError::of(
                            "ArgumentException",
                            format!("Can not add {} to Newtonsoft.Json.Linq.JObject.", other.type_name()),
                        ))
                    }
                }
            }
            Value::Json(o)
        }
        "JArray" => {
            let arr = JRef::new(JKind::Array(Vec::new()));
            for a in &args {
                let xs = match a {
                    Value::List(_) | Value::Array(_) => super::linq::items(a)?,
                    Value::Json(j) if j.is_array() => j.items().into_iter().map(Value::Json).collect(),
                    v => vec![v.clone()],
                };
                for x in xs {
                    arr.push(to_json(&x).map_err(EvalError::new)?).map_err(EvalError::new)?;
                }
            }
            Value::Json(arr)
        }
        "JProperty" => {
            let v = to_json(args.get(1).unwrap_or(&Value::Null)).map_err(EvalError::new)?;
            Value::Pair(Arc::new((Value::str(&text(&a0)?), Value::Json(v))))
        }
        "JValue" => Value::Json(to_json(&a0).map_err(EvalError::new)?),
        "List" | "HashSet" => {
            let k = if kind == "List" { CollKind::List } else { CollKind::HashSet };
            let items = match &a0 {
                Value::Int(_) | Value::Null => Vec::new(),
                Value::Enum(..) => return fail("HashSet with a comparer is not yet supported by ringgate"),
                v => super::linq::items(v)?,
            };
            let mut out: Vec<Value> = Vec::with_capacity(items.len());
            for x in items {
                if k == CollKind::List || !out.iter().any(|y| equals(y, &x)) {
                    out.push(x);
                }
            }
            Value::list(k, elem, out)
        }
        "Dictionary" => {
            let ignore_case = match &a0 {
                Value::Enum("StringComparer", m) => m.ends_with("IgnoreCase"),
                _ => false,
            };
            let d = Dict { ignore_case, entries: Mutex::new(Vec::new()) };
            if let Value::Dict(src) = &a0 {
                *d.lock() = src.lock().clone();
            }
            Value::Dict(Arc::new(d))
        }
        "StringBuilder" => {
            let init = match &a0 {
                Value::Str(s) => s.to_string(),
                _ => String::new(),
            };
            ev.budget.alloc(init.len())?;
            Value::StringBuilder(Arc::new(Mutex::new(init)))
        }
        "String" => match (&a0, args.get(1)) {
            (Value::Char(c), Some(n)) => {
                let n = usize::try_from(int_arg(n)?)
                    .map_err(|_| EvalError::of("ArgumentOutOfRangeException", "Count cannot be less than zero."))?;
                ev.budget.alloc(n)?;
                Value::str(&std::iter::repeat_n(*c, n).collect::<String>())
            }
            (Value::List(_), None) => {
                let s: String = super::linq::items(&a0)?.iter().map(Value::to_text).collect();
                Value::str(&s)
            }
            _ => return fail("this String constructor is not yet supported by ringgate"),
        },
        other if types::exception_type(other).is_some() => {
            let ty = types::exception_type(other).unwrap_or("Exception");
            let msg = match &a0 {
                Value::Null => format!("Exception of type 'System.{ty}' was thrown."),
                v => v.to_text(),
            };
            Value::Exception(Arc::new((ty, msg)))
        }
        other => return fail(format!("new {other}(…) is not yet supported by ringgate")),
    })
}
