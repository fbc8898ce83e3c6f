//! `System.String` and `StringBuilder` members with .NET's overloads: `StringComparison`,
//! `StringSplitOptions`, counts and start indexes are honoured; what ringgate cannot honour
//! (culture-sensitive ordering) is refused at load.
//!
//! Indexes count characters (Unicode scalar values); `Length` counts UTF-16 code units, as
//! .NET does. The two differ only for characters outside the Basic Multilingual Plane.

use std::sync::{Arc, Mutex};

use super::compile::err;
use super::eval::{fail, int_arg, Eval};
use super::value::{CollKind, Ty, Value};
use super::{EvalError, ExprError};

pub fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

/// .NET's invariant simple case mapping: one character to one character (`ß` stays `ß`).
pub fn upper(c: char) -> char {
    let mut u = c.to_uppercase();
    match (u.next(), u.next()) {
        (Some(x), None) => x,
        _ => c,
    }
}

pub fn lower(c: char) -> char {
    let mut u = c.to_lowercase();
    match (u.next(), u.next()) {
        (Some(x), None) => x,
        _ => c,
    }
}

pub fn to_upper(s: &str) -> String {
    s.chars().map(upper).collect()
}

pub fn to_lower(s: &str) -> String {
    s.chars().map(lower).collect()
}

/// `StringComparison` as it changes a comparison: ignore case or not. Culture comparisons
/// run as ordinal on the invariant culture the gateway uses (equal for text without
/// ignorable characters).
pub fn ignore_case(v: Option<&Value>) -> Result<bool, EvalError> {
    match v {
        None => Ok(false),
        Some(Value::Enum("StringComparison", m)) => Ok(m.ends_with("IgnoreCase")),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => fail(format!("a StringComparison is needed, found {}", other.type_name())),
    }
}

/// Load-time checks of overloads whose extra arguments change the result.
pub fn check_args(on: Ty, name: &str, tys: &[Ty], pos: usize) -> Result<(), ExprError> {
    if on != Ty::Str {
        return Ok(());
    }
    let culture = || {
        err(pos, format!("String.{name} with a culture-sensitive comparison is not yet supported by ringgate (pass StringComparison.Ordinal or OrdinalIgnoreCase)"))
    };
    match (name, tys) {
        ("CompareTo", _) => culture(),
        ("StartsWith" | "EndsWith", [_, Ty::Bool, _]) => Ok(()),
        ("StartsWith" | "EndsWith", [_, _, _]) => {
            err(pos, format!("String.{name}(string, bool, CultureInfo) needs a bool second argument"))
        }
        ("Contains" | "StartsWith" | "EndsWith" | "Equals", [_, t]) if !matches!(t, Ty::Enum | Ty::Any) => {
            err(pos, format!("the second argument of String.{name} must be a StringComparison, found {}", t.name()))
        }
        ("Replace", [_, _, t]) if !matches!(t, Ty::Enum | Ty::Any) => {
            err(pos, "String.Replace(string, string, bool, CultureInfo) is not yet supported by ringgate")
        }
        ("ToLower" | "ToUpper", [_]) => {
            err(pos, format!("String.{name}(CultureInfo) is not yet supported by ringgate (use {name}Invariant)"))
        }
        _ => Ok(()),
    }
}

fn text(v: &Value) -> Result<std::borrow::Cow<'_, str>, EvalError> {
    match v {
        Value::Str(s) => Ok(std::borrow::Cow::Borrowed(s)),
        Value::Char(c) => Ok(std::borrow::Cow::Owned(c.to_string())),
        Value::Null => Err(EvalError::of("ArgumentNullException", "Value cannot be null.")),
        other => fail(format!("a string is needed, found {}", other.type_name())),
    }
}

/// Characters of a `char`, `char[]`, `string[]`-free separator list.
fn char_set(args: &[Value]) -> Result<Vec<char>, EvalError> {
    let mut out = Vec::new();
    for a in args {
        match a {
            Value::Char(c) => out.push(*c),
            Value::List(c) => {
                for x in c.lock().iter() {
                    match x {
                        Value::Char(ch) => out.push(*ch),
                        other => return fail(format!("a char is needed, found {}", other.type_name())),
                    }
                }
            }
            Value::Null => {}
            other => return fail(format!("a char is needed, found {}", other.type_name())),
        }
    }
    Ok(out)
}

/// Character index → byte offset (the end is allowed).
fn byte_at(s: &str, chars: i64) -> Option<usize> {
    let n = usize::try_from(chars).ok()?;
    if n == 0 {
        return Some(0);
    }
    match s.char_indices().nth(n) {
        Some((i, _)) => Some(i),
        None => (s.chars().count() == n).then_some(s.len()),
    }
}

fn char_index(s: &str, byte: usize) -> i64 {
    i64::try_from(s[..byte].chars().count()).unwrap_or(i64::MAX)
}

pub fn char_at(s: &str, n: i64) -> Result<Value, EvalError> {
    usize::try_from(n)
        .ok()
        .and_then(|k| s.chars().nth(k))
        .map(Value::Char)
        .ok_or_else(|| EvalError::of("IndexOutOfRangeException", "Index was outside the bounds of the array."))
}

fn range_err(p: &str) -> EvalError {
    EvalError::of(
        "ArgumentOutOfRangeException",
        format!("Index and length must refer to a location within the string. (Parameter '{p}')"),
    )
}

/// Finds `needle` in `hay` from byte `from`; case-insensitively compares simple case mappings.
fn find(hay: &str, needle: &str, from: usize, ic: bool, last: bool) -> Option<usize> {
    if !ic {
        return if last {
            hay[from..].rfind(needle).map(|i| i + from)
        } else {
            hay[from..].find(needle).map(|i| i + from)
        };
    }
    let n: Vec<char> = needle.chars().map(upper).collect();
    let starts: Vec<usize> =
        hay[from..].char_indices().map(|(i, _)| i + from).chain(std::iter::once(hay.len())).collect();
    let matches_at = |b: usize| {
        let mut it = hay[b..].chars().map(upper);
        n.iter().all(|c| it.next() == Some(*c))
    };
    if last {
        starts.into_iter().rev().find(|b| matches_at(*b))
    } else {
        starts.into_iter().find(|b| matches_at(*b))
    }
}

pub fn eq(a: &str, b: &str, ic: bool) -> bool {
    if ic {
        a.len() == b.len() && a.eq_ignore_ascii_case(b) || a.chars().map(upper).eq(b.chars().map(upper))
    } else {
        a == b
    }
}

fn strs(v: Vec<&str>) -> Value {
    Value::Array(v.into_iter().map(Value::str).collect::<Vec<_>>().into())
}

/// Split options: (remove empty, trim entries).
fn split_options(v: Option<&Value>) -> Result<(bool, bool), EvalError> {
    match v {
        None => Ok((false, false)),
        Some(Value::Enum("StringSplitOptions", m)) => Ok((m.contains("RemoveEmptyEntries"), m.contains("TrimEntries"))),
        Some(other) => fail(format!("a StringSplitOptions is needed, found {}", other.type_name())),
    }
}

fn split(s: &str, args: &[Value]) -> Result<Value, EvalError> {
    // Overloads: (params char[]), (char[]|string[]|char|string, [count], [options]).
    let mut seps_chars: Vec<char> = Vec::new();
    let mut seps_strs: Vec<String> = Vec::new();
    let mut count: Option<i64> = None;
    let mut opts = (false, false);
    for (i, a) in args.iter().enumerate() {
        match a {
            Value::Char(c) => seps_chars.push(*c),
            Value::Str(x) if i == 0 => seps_strs.push(x.to_string()),
            Value::Array(xs) if i == 0 => seps_strs.extend(xs.iter().map(Value::to_text)),
            Value::List(c) if i == 0 && c.elem == "System.String" => {
                seps_strs.extend(c.lock().iter().map(Value::to_text))
            }
            Value::List(_) if i == 0 => seps_chars.extend(char_set(std::slice::from_ref(a))?),
            Value::Int(n) => count = Some(*n),
            Value::Enum(..) => opts = split_options(Some(a))?,
            Value::Null if i == 0 => {}
            other => return fail(format!("String.Split does not take {} here", other.type_name())),
        }
    }
    if let Some(n) = count {
        if n < 0 {
            return Err(EvalError::of(
                "ArgumentOutOfRangeException",
                "Count cannot be less than zero. (Parameter 'count')",
            ));
        }
    }
    let mut parts: Vec<&str> = Vec::new();
    let limit = count.map(|n| usize::try_from(n).unwrap_or(usize::MAX));
    if limit == Some(0) {
        return Ok(strs(Vec::new()));
    }
    let whitespace = seps_chars.is_empty() && seps_strs.iter().all(String::is_empty);
    let mut rest = s;
    loop {
        if limit.is_some_and(|l| parts.len() + 1 >= l) {
            parts.push(rest);
            break;
        }
        // The earliest separator; for strings, the first in the array wins at a position.
        let mut hit: Option<(usize, usize)> = None;
        if whitespace {
            if let Some((i, c)) = rest.char_indices().find(|(_, c)| c.is_whitespace()) {
                hit = Some((i, c.len_utf8()));
            }
        } else {
            for (i, c) in rest.char_indices() {
                if seps_chars.contains(&c) {
                    hit = Some((i, c.len_utf8()));
                    break;
                }
                if let Some(sep) = seps_strs.iter().find(|x| !x.is_empty() && rest[i..].starts_with(x.as_str())) {
                    hit = Some((i, sep.len()));
                    break;
                }
            }
        }
        match hit {
            Some((i, n)) => {
                parts.push(&rest[..i]);
                rest = &rest[i + n..];
            }
            None => {
                parts.push(rest);
                break;
            }
        }
    }
    let (remove_empty, trim) = opts;
    let parts: Vec<&str> =
        parts.into_iter().map(|p| if trim { p.trim() } else { p }).filter(|p| !remove_empty || !p.is_empty()).collect();
    Ok(strs(parts))
}

fn trim(s: &str, args: &[Value], start: bool, end: bool) -> Result<Value, EvalError> {
    let set = char_set(args)?;
    let pred = |c: char| if set.is_empty() { c.is_whitespace() } else { set.contains(&c) };
    let mut t = s;
    if start {
        t = t.trim_start_matches(pred);
    }
    if end {
        t = t.trim_end_matches(pred);
    }
    Ok(Value::str(t))
}

pub fn invoke(ev: &mut Eval<'_, '_>, name: &str, s: &Arc<str>, args: &[Value]) -> Result<Value, EvalError> {
    let a0 = args.first().unwrap_or(&Value::Null);
    let a1 = args.get(1);
    Ok(match name {
        "ToLower" | "ToLowerInvariant" => Value::str(&to_lower(s)),
        "ToUpper" | "ToUpperInvariant" => Value::str(&to_upper(s)),
        "Trim" => trim(s, args, true, true)?,
        "TrimStart" => trim(s, args, true, false)?,
        "TrimEnd" => trim(s, args, false, true)?,
        "Equals" => match a0 {
            Value::Str(o) => Value::Bool(eq(s, o, ignore_case(a1)?)),
            _ => Value::Bool(false),
        },
        "Contains" => {
            let n = text(a0)?;
            Value::Bool(find(s, &n, 0, ignore_case(a1)?, false).is_some())
        }
        "StartsWith" | "EndsWith" => {
            let n = text(a0)?;
            let ic = ignore_case(a1)?;
            let (hay, needle): (Vec<char>, Vec<char>) = (s.chars().collect(), n.chars().collect());
            if needle.len() > hay.len() {
                return Ok(Value::Bool(false));
            }
            let part = if name == "StartsWith" { &hay[..needle.len()] } else { &hay[hay.len() - needle.len()..] };
            Value::Bool(if ic {
                part.iter().map(|c| upper(*c)).eq(needle.iter().map(|c| upper(*c)))
            } else {
                part == needle.as_slice()
            })
        }
        "IndexOf" | "LastIndexOf" => {
            let last = name == "LastIndexOf";
            let n = text(a0)?;
            let (start, cmp) = match (a1, args.get(2)) {
                (Some(Value::Int(i)), c) => (Some(*i), c),
                (Some(c @ Value::Enum(..)), None) => (None, Some(c)),
                (None, _) => (None, None),
                (Some(x), _) => return fail(format!("String.{name} does not take {} here", x.type_name())),
            };
            let ic = ignore_case(cmp)?;
            let (from, hay_end) = match (start, last) {
                (None, _) => (0, s.len()),
                (Some(i), false) => (byte_at(s, i).ok_or_else(|| range_err("startIndex"))?, s.len()),
                (Some(i), true) => {
                    // LastIndexOf(value, startIndex): searches backwards from startIndex.
                    let e = byte_at(s, i.saturating_add(1)).ok_or_else(|| range_err("startIndex"))?;
                    (0, e)
                }
            };
            let hay = &s[..hay_end];
            Value::Int(find(hay, &n, from, ic, last).map_or(-1, |b| char_index(s, b)))
        }
        "IndexOfAny" => {
            let set = char_set(std::slice::from_ref(a0))?;
            Value::Int(s.chars().position(|c| set.contains(&c)).map_or(-1, |i| i64::try_from(i).unwrap_or(-1)))
        }
        "Substring" => {
            let start = int_arg(a0)?;
            let from = byte_at(s, start).ok_or_else(|| range_err("startIndex"))?;
            match a1 {
                None => Value::str(&s[from..]),
                Some(l) => {
                    let len = int_arg(l)?;
                    let end = start
                        .checked_add(len)
                        .filter(|_| len >= 0)
                        .and_then(|e| byte_at(s, e))
                        .ok_or_else(|| range_err("length"))?;
                    Value::str(&s[from..end])
                }
            }
        }
        "Replace" => match (a0, a1) {
            (Value::Char(a), Some(Value::Char(b))) => Value::str(&s.replace(*a, &b.to_string())),
            _ => {
                let from = text(a0)?;
                if from.is_empty() {
                    return Err(EvalError::of(
                        "ArgumentException",
                        "String cannot be of zero length. (Parameter 'oldValue')",
                    ));
                }
                let to = match a1 {
                    Some(Value::Null) | None => std::borrow::Cow::Borrowed(""),
                    Some(v) => text(v)?,
                };
                let ic = ignore_case(args.get(2))?;
                let mut out = String::with_capacity(s.len());
                let mut at = 0;
                while let Some(b) = find(s, &from, at, ic, false) {
                    out.push_str(&s[at..b]);
                    out.push_str(&to);
                    let matched: usize = s[b..].chars().take(from.chars().count()).map(char::len_utf8).sum();
                    at = b + matched;
                }
                out.push_str(&s[at..]);
                ev.budget.alloc(out.len())?;
                Value::str(&out)
            }
        },
        "Split" => split(s, args)?,
        "PadLeft" | "PadRight" => {
            let n = int_arg(a0)?;
            let n = usize::try_from(n).map_err(|_| {
                EvalError::of("ArgumentOutOfRangeException", "Non-negative number required. (Parameter 'totalWidth')")
            })?;
            ev.budget.alloc(n)?;
            let c = match a1 {
                Some(Value::Char(c)) => *c,
                None => ' ',
                Some(v) => return fail(format!("a char is needed, found {}", v.type_name())),
            };
            let len = utf16_len(s);
            let pad: String = std::iter::repeat_n(c, n.saturating_sub(len)).collect();
            Value::str(&if name == "PadLeft" { format!("{pad}{s}") } else { format!("{s}{pad}") })
        }
        "Insert" => {
            let i = int_arg(a0)?;
            let at = byte_at(s, i).ok_or_else(|| range_err("startIndex"))?;
            let x = text(a1.unwrap_or(&Value::Null))?;
            Value::str(&format!("{}{x}{}", &s[..at], &s[at..]))
        }
        "Remove" => {
            let i = int_arg(a0)?;
            let from = byte_at(s, i).ok_or_else(|| range_err("startIndex"))?;
            let to = match a1 {
                None => s.len(),
                Some(l) => {
                    let l = int_arg(l)?;
                    i.checked_add(l).filter(|_| l >= 0).and_then(|e| byte_at(s, e)).ok_or_else(|| range_err("count"))?
                }
            };
            Value::str(&format!("{}{}", &s[..from], &s[to..]))
        }
        "TryParseJwt" => match super::jwt::parse_jwt(s) {
            Some(j) => Value::Pair(Arc::new((Value::Bool(true), Value::Jwt(Arc::new(j))))),
            None => Value::Pair(Arc::new((Value::Bool(false), Value::Null))),
        },
        "TryParseBasic" => match super::jwt::parse_basic(s) {
            Some(b) => Value::Pair(Arc::new((Value::Bool(true), Value::Basic(Arc::new(b))))),
            None => Value::Pair(Arc::new((Value::Bool(false), Value::Null))),
        },
        "ToCharArray" => Value::list(CollKind::Array, "System.Char", s.chars().map(Value::Char).collect()),
        _ => return super::linq::call(ev, name, Value::Str(s.clone()), args.to_vec(), None),
    })
}

fn lock(sb: &Mutex<String>) -> std::sync::MutexGuard<'_, String> {
    sb.lock().unwrap_or_else(|p| p.into_inner())
}

pub fn builder(
    ev: &mut Eval<'_, '_>,
    name: &str,
    sb: &Mutex<String>,
    me: &Value,
    args: &[Value],
) -> Result<Value, EvalError> {
    let a0 = args.first().unwrap_or(&Value::Null);
    match name {
        "Append" => {
            let piece = match (a0, args.get(1), args.get(2)) {
                (Value::Char(c), Some(n), None) => {
                    let n = usize::try_from(int_arg(n)?)
                        .map_err(|_| EvalError::of("ArgumentOutOfRangeException", "repeatCount"))?;
                    ev.budget.alloc(n)?;
                    std::iter::repeat_n(*c, n).collect()
                }
                (Value::Str(s), Some(st), Some(n)) => {
                    let (st, n) = (int_arg(st)?, int_arg(n)?);
                    let from = byte_at(s, st).ok_or_else(|| range_err("startIndex"))?;
                    let to = st.checked_add(n).and_then(|e| byte_at(s, e)).ok_or_else(|| range_err("count"))?;
                    s[from..to].to_string()
                }
                (v, None, None) => v.to_text(),
                _ => return fail("this StringBuilder.Append overload is not yet supported by ringgate"),
            };
            ev.budget.alloc(piece.len())?;
            lock(sb).push_str(&piece);
        }
        "AppendLine" => {
            let piece = a0.to_text();
            ev.budget.alloc(piece.len() + 1)?;
            let mut s = lock(sb);
            s.push_str(&piece);
            s.push('\n');
        }
        "AppendFormat" => {
            let f = super::format::composite(&a0.to_text(), &args[1..])?;
            ev.budget.alloc(f.len())?;
            lock(sb).push_str(&f);
        }
        "Insert" => {
            let i = int_arg(a0)?;
            let x = args.get(1).unwrap_or(&Value::Null).to_text();
            ev.budget.alloc(x.len())?;
            let mut s = lock(sb);
            let at = byte_at(&s, i).ok_or_else(|| range_err("index"))?;
            s.insert_str(at, &x);
        }
        "Replace" => {
            let (a, b) = (a0.to_text(), args.get(1).unwrap_or(&Value::Null).to_text());
            if a.is_empty() {
                return Err(EvalError::of(
                    "ArgumentException",
                    "String cannot be of zero length. (Parameter 'oldValue')",
                ));
            }
            let mut s = lock(sb);
            let r = s.replace(&a, &b);
            ev.budget.alloc(r.len().saturating_sub(s.len()))?;
            *s = r;
        }
        "Remove" => {
            let (st, n) = (int_arg(a0)?, int_arg(args.get(1).unwrap_or(&Value::Null))?);
            let mut s = lock(sb);
            let from = byte_at(&s, st).ok_or_else(|| range_err("startIndex"))?;
            let to =
                st.checked_add(n).filter(|_| n >= 0).and_then(|e| byte_at(&s, e)).ok_or_else(|| range_err("length"))?;
            s.replace_range(from..to, "");
        }
        "Clear" => lock(sb).clear(),
        "ToString" if args.len() == 2 => {
            let s = lock(sb).clone();
            return invoke(ev, "Substring", &Arc::from(s.as_str()), args);
        }
        _ => return fail(format!("StringBuilder.{name} is not yet supported by ringgate")),
    }
    Ok(me.clone())
}
