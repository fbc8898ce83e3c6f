//! Instance methods and static functions of the subset, at runtime.

use std::sync::Arc;

use base64::Engine;

use super::eval::{cast, equals, fail};
use super::jwt::{parse_basic, parse_jwt};
use super::program::{Method, StaticFn};
use super::value::{from_json, Ty, Value};
use super::EvalError;

fn text(v: &Value) -> Result<&str, EvalError> {
    match v {
        Value::Str(s) => Ok(s),
        other => fail(format!("a string is needed, found {}", other.ty().name())),
    }
}

fn int(v: &Value) -> Result<i64, EvalError> {
    match v {
        Value::Int(n) => Ok(*n),
        other => fail(format!("an integer is needed, found {}", other.ty().name())),
    }
}

fn ignore_case(args: &[Value], at: usize) -> bool {
    matches!(args.get(at), Some(Value::Str(s)) if &**s == "IgnoreCase")
        || matches!(args.get(at), Some(Value::Bool(true)))
}

fn chars_arg(args: &[Value]) -> Vec<char> {
    args.iter().filter_map(|a| a.as_str()).flat_map(|s| s.chars()).collect()
}

/// Index in characters of a byte offset.
fn char_index(s: &str, byte: usize) -> i64 {
    i64::try_from(s.get(..byte).map_or(0, |p| p.chars().count())).unwrap_or(i64::MAX)
}

/// Byte offset of a character index.
fn byte_at(s: &str, chars: i64) -> Option<usize> {
    let n = usize::try_from(chars).ok()?;
    if n == s.chars().count() {
        return Some(s.len());
    }
    s.char_indices().nth(n).map(|(i, _)| i)
}

fn strs(v: &[String]) -> Value {
    Value::Array(v.iter().map(|s| Value::str(s)).collect::<Vec<_>>().into())
}

pub fn call_method(m: Method, r: Value, args: Vec<Value>, ty: Option<Ty>) -> Result<Value, EvalError> {
    use Method::*;
    match m {
        ToString => return Ok(Value::str(&r.to_text())),
        Equals => return Ok(Value::Bool(args.first().is_some_and(|a| equals(&r, a)))),
        _ => {}
    }
    let r = match r {
        Value::Json(j) if j.is_string() && !matches!(m, JsonValue | JsonContainsKey | Length) => from_json(&j),
        other => other,
    };
    match (m, &r) {
        (Length, Value::Str(s)) => Ok(Value::Int(i64::try_from(s.chars().count()).unwrap_or(i64::MAX))),
        (Length, Value::Array(a)) => Ok(Value::Int(i64::try_from(a.len()).unwrap_or(i64::MAX))),
        (Length, Value::Bytes(b)) => Ok(Value::Int(i64::try_from(b.len()).unwrap_or(i64::MAX))),
        (Length, Value::Json(j)) => Ok(Value::Int(match &**j {
            serde_json::Value::Array(a) => i64::try_from(a.len()).unwrap_or(0),
            serde_json::Value::Object(o) => i64::try_from(o.len()).unwrap_or(0),
            _ => 0,
        })),
        (Contains, Value::Array(a)) => Ok(Value::Bool(args.first().is_some_and(|x| a.iter().any(|v| equals(v, x))))),
        (First | FirstOrDefault, Value::Array(a)) => match a.first() {
            Some(v) => Ok(v.clone()),
            None if m == FirstOrDefault => Ok(Value::Null),
            None => fail("Sequence contains no elements"),
        },
        (Last | LastOrDefault, Value::Array(a)) => match a.last() {
            Some(v) => Ok(v.clone()),
            None if m == LastOrDefault => Ok(Value::Null),
            None => fail("Sequence contains no elements"),
        },
        (_, Value::Str(s)) => string_method(m, s, &args),
        (JwtSubject | JwtIssuer | JwtId | JwtAlgorithm | JwtType, Value::Jwt(j)) => {
            let v = match m {
                JwtSubject => j.first("sub"),
                JwtIssuer => j.first("iss"),
                JwtId => j.first("jti"),
                JwtAlgorithm => j.header_value("alg"),
                _ => j.header_value("typ"),
            };
            Ok(v.map_or(Value::Null, Value::str))
        }
        (JwtAudiences, Value::Jwt(j)) => Ok(j.claim("aud").map_or(Value::Array(Arc::from(Vec::new())), strs)),
        (JwtExpirationTime | JwtNotBefore | JwtIssuedAt, Value::Jwt(j)) => {
            let name = match m {
                JwtExpirationTime => "exp",
                JwtNotBefore => "nbf",
                _ => "iat",
            };
            Ok(j.first(name).and_then(|v| v.parse::<i64>().ok()).map_or(Value::Null, Value::Int))
        }
        (JwtClaims, Value::Jwt(j)) => Ok(Value::Claims(j.clone())),
        (ClaimsGet, Value::Claims(j)) => {
            let name = text(args.first().unwrap_or(&Value::Null))?;
            match j.claim(name) {
                Some(v) => Ok(Value::str(&v.join(","))),
                None => Ok(args.get(1).cloned().unwrap_or(Value::Null)),
            }
        }
        (ClaimsContainsKey, Value::Claims(j)) => {
            Ok(Value::Bool(j.claim(text(args.first().unwrap_or(&Value::Null))?).is_some()))
        }
        (BasicUserId, Value::Basic(b)) => Ok(Value::str(&b.user_id)),
        (BasicPassword, Value::Basic(b)) => Ok(Value::str(&b.password)),
        (JsonValue, Value::Json(j)) => {
            let name = text(args.first().unwrap_or(&Value::Null))?;
            let v = j.get(name).map_or(Value::Null, from_json);
            match ty {
                Some(t) if !v.is_null() => convert_json(t, v),
                _ => Ok(v),
            }
        }
        (JsonContainsKey, Value::Json(j)) => {
            Ok(Value::Bool(j.get(text(args.first().unwrap_or(&Value::Null))?).is_some()))
        }
        _ => fail(format!("{m:?} is not available on {}", r.ty().name())),
    }
}

/// `Value<T>` converts like Newtonsoft: numbers from strings too.
fn convert_json(t: Ty, v: Value) -> Result<Value, EvalError> {
    match (t, &v) {
        (Ty::Str, other) => Ok(Value::str(&other.to_text())),
        (Ty::Int, Value::Str(s)) => {
            s.trim().parse().map(Value::Int).map_err(|_| EvalError(format!("'{s}' is not an integer")))
        }
        (Ty::Double, Value::Str(s)) => {
            s.trim().parse().map(Value::Double).map_err(|_| EvalError(format!("'{s}' is not a number")))
        }
        (Ty::Bool, Value::Str(s)) => parse_bool(s),
        _ => cast(t, v),
    }
}

fn parse_bool(s: &str) -> Result<Value, EvalError> {
    match s.trim() {
        t if t.eq_ignore_ascii_case("true") => Ok(Value::Bool(true)),
        t if t.eq_ignore_ascii_case("false") => Ok(Value::Bool(false)),
        _ => fail(format!("String '{s}' was not recognized as a valid Boolean")),
    }
}

fn string_method(m: Method, s: &str, args: &[Value]) -> Result<Value, EvalError> {
    use Method::*;
    let arg = |i: usize| args.get(i).unwrap_or(&Value::Null);
    Ok(match m {
        ToLower => Value::str(&s.to_lowercase()),
        ToUpper => Value::str(&s.to_uppercase()),
        Trim | TrimStart | TrimEnd => {
            let set = chars_arg(args);
            let pred = |c: char| if set.is_empty() { c.is_whitespace() } else { set.contains(&c) };
            Value::str(match m {
                Trim => s.trim_matches(pred),
                TrimStart => s.trim_start_matches(pred),
                _ => s.trim_end_matches(pred),
            })
        }
        Contains | StartsWith | EndsWith => {
            let needle = text(arg(0))?;
            let ic = ignore_case(args, 1);
            let (h, n) =
                if ic { (s.to_lowercase(), needle.to_lowercase()) } else { (s.to_string(), needle.to_string()) };
            Value::Bool(match m {
                Contains => h.contains(&n),
                StartsWith => h.starts_with(&n),
                _ => h.ends_with(&n),
            })
        }
        IndexOf | LastIndexOf => {
            let needle = text(arg(0))?;
            let ic = ignore_case(args, 1);
            let (h, n) =
                if ic { (s.to_lowercase(), needle.to_lowercase()) } else { (s.to_string(), needle.to_string()) };
            let found = if m == IndexOf { h.find(&n) } else { h.rfind(&n) };
            Value::Int(found.map_or(-1, |b| char_index(&h, b)))
        }
        Substring => {
            let start = int(arg(0))?;
            let from =
                byte_at(s, start).ok_or_else(|| EvalError(format!("startIndex {start} is outside the string")))?;
            match args.get(1) {
                None => Value::str(&s[from..]),
                Some(l) => {
                    let len = int(l)?;
                    let end = start
                        .checked_add(len)
                        .filter(|_| len >= 0)
                        .and_then(|e| byte_at(s, e))
                        .ok_or_else(|| EvalError(format!("length {len} is outside the string")))?;
                    Value::str(&s[from..end])
                }
            }
        }
        Replace => {
            let from = text(arg(0))?;
            if from.is_empty() {
                return fail("String cannot be of zero length (Replace)");
            }
            let to = match arg(1) {
                Value::Null => "",
                v => text(v)?,
            };
            Value::str(&s.replace(from, to))
        }
        Split => {
            let remove_empty = args.iter().any(|a| a.as_str() == Some("RemoveEmptyEntries"));
            let seps: Vec<char> = args
                .iter()
                .filter(|a| !matches!(a.as_str(), Some("RemoveEmptyEntries") | Some("None")))
                .filter_map(|a| a.as_str())
                .flat_map(|x| x.chars())
                .collect();
            let parts: Vec<Value> = if seps.is_empty() {
                s.split(char::is_whitespace).filter(|p| !remove_empty || !p.is_empty()).map(Value::str).collect()
            } else {
                s.split(|c| seps.contains(&c)).filter(|p| !remove_empty || !p.is_empty()).map(Value::str).collect()
            };
            Value::Array(parts.into())
        }
        AsJwt => parse_jwt(s).map_or(Value::Null, |j| Value::Jwt(Arc::new(j))),
        TryParseJwt => Value::Bool(parse_jwt(s).is_some()),
        AsBasic => parse_basic(s).map_or(Value::Null, |b| Value::Basic(Arc::new(b))),
        TryParseBasic => Value::Bool(parse_basic(s).is_some()),
        other => return fail(format!("{other:?} is not available on string")),
    })
}

fn format(fmt: &str, args: &[Value]) -> Result<String, EvalError> {
    let mut out = String::new();
    let mut it = fmt.char_indices().peekable();
    while let Some((_, c)) = it.next() {
        match c {
            '{' if it.peek().map(|p| p.1) == Some('{') => {
                it.next();
                out.push('{');
            }
            '}' if it.peek().map(|p| p.1) == Some('}') => {
                it.next();
                out.push('}');
            }
            '{' => {
                let mut n = String::new();
                for (_, d) in it.by_ref() {
                    if d == '}' {
                        break;
                    }
                    n.push(d);
                }
                let idx: usize = n.trim().parse().map_err(|_| EvalError(format!("bad format item '{{{n}}}'")))?;
                let v = args.get(idx).ok_or_else(|| EvalError(format!("format item {idx} has no argument")))?;
                v.write_text(&mut out);
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

pub fn call_static(f: StaticFn, args: Vec<Value>) -> Result<Value, EvalError> {
    use StaticFn::*;
    let a0 = args.first().cloned().unwrap_or(Value::Null);
    let b64 = base64::engine::general_purpose::STANDARD;
    Ok(match f {
        IsNullOrEmpty => Value::Bool(match &a0 {
            Value::Null => true,
            v => text(v)?.is_empty(),
        }),
        IsNullOrWhiteSpace => Value::Bool(match &a0 {
            Value::Null => true,
            v => text(v)?.trim().is_empty(),
        }),
        Concat => {
            let mut s = String::new();
            for a in &args {
                a.write_text(&mut s);
            }
            Value::str(&s)
        }
        Format => Value::str(&format(text(&a0)?, &args[1..])?),
        Join => {
            let sep = text(&a0)?;
            let items: Vec<String> = match args.get(1) {
                Some(Value::Array(a)) if args.len() == 2 => a.iter().map(Value::to_text).collect(),
                _ => args.iter().skip(1).map(Value::to_text).collect(),
            };
            Value::str(&items.join(sep))
        }
        ParseInt => {
            let s = text(&a0)?;
            Value::Int(
                s.trim().parse().map_err(|_| EvalError(format!("Input string '{s}' was not in a correct format")))?,
            )
        }
        ParseDouble => {
            let s = text(&a0)?;
            Value::Double(
                s.trim().parse().map_err(|_| EvalError(format!("Input string '{s}' was not in a correct format")))?,
            )
        }
        ParseBool => parse_bool(text(&a0)?)?,
        ToBase64 => match &a0 {
            Value::Bytes(b) => Value::str(&b64.encode(b)),
            other => return fail(format!("Convert.ToBase64String needs byte[], found {}", other.ty().name())),
        },
        FromBase64 => {
            let s = text(&a0)?;
            Value::Bytes(b64.decode(s.trim()).map_err(|e| EvalError(format!("invalid base64: {e}")))?.into())
        }
        Utf8Bytes => Value::Bytes(text(&a0)?.as_bytes().into()),
        Utf8String => match &a0 {
            Value::Bytes(b) => Value::str(&String::from_utf8_lossy(b)),
            other => return fail(format!("Encoding.UTF8.GetString needs byte[], found {}", other.ty().name())),
        },
        ToInt => match &a0 {
            Value::Str(s) => Value::Int(s.trim().parse().map_err(|_| EvalError(format!("'{s}' is not an integer")))?),
            Value::Bool(b) => Value::Int(i64::from(*b)),
            Value::Null => Value::Int(0),
            v => cast(Ty::Int, v.clone())?,
        },
        ToStr => Value::str(&a0.to_text()),
        NewGuid => {
            let hex: String = (0..32).map(|_| char::from_digit(fastrand::u32(0..16), 16).unwrap_or('0')).collect();
            Value::str(&format!("{}-{}-4{}-{}-{}", &hex[0..8], &hex[8..12], &hex[13..16], &hex[16..20], &hex[20..32]))
        }
        Min | Max | Abs => {
            let b = args.get(1).cloned().unwrap_or(Value::Null);
            match (f, &a0, &b) {
                (Abs, Value::Int(n), _) => Value::Int(n.checked_abs().ok_or_else(|| EvalError("overflow".into()))?),
                (Abs, Value::Double(d), _) => Value::Double(d.abs()),
                (Min, Value::Int(x), Value::Int(y)) => Value::Int(*x.min(y)),
                (Max, Value::Int(x), Value::Int(y)) => Value::Int(*x.max(y)),
                (Min | Max, x, y) => match (x.as_f64(), y.as_f64()) {
                    (Some(x), Some(y)) => Value::Double(if f == Min { x.min(y) } else { x.max(y) }),
                    _ => return fail("Math functions need numbers"),
                },
                _ => return fail("Math functions need numbers"),
            }
        }
    })
}
