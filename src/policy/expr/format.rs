//! .NET format strings for numbers (invariant culture): the standard specifiers `N`, `F`,
//! `D`, `X` with a precision, and `String.Format` composite formatting (`{0}`, `{0:N2}`,
//! `{0,-10}`). A specifier ringgate does not run is refused at load when the format is a
//! literal, at run time otherwise; never printed approximately.

use std::fmt::Write as _;

use super::compile::err;
use super::value::{Ty, Value};
use super::{EvalError, ExprError};

/// (letter, precision) of a standard numeric format, when `f` is one ringgate runs.
fn standard(f: &str) -> Option<(char, Option<usize>)> {
    let mut it = f.chars();
    let c = it.next()?;
    let rest: String = it.collect();
    if !matches!(c, 'N' | 'n' | 'F' | 'f' | 'D' | 'd' | 'X' | 'x') {
        return None;
    }
    if rest.is_empty() {
        return Some((c, None));
    }
    let p: usize = rest.parse().ok().filter(|p| *p <= 99)?;
    Some((c, Some(p)))
}

/// Load-time check of an interpolation hole's format for the hole's static type.
pub fn check(f: &str, t: Ty, pos: usize) -> Result<(), ExprError> {
    match t {
        // string and bool are not IFormattable: .NET ignores the format.
        Ty::Str | Ty::Bool | Ty::Null => Ok(()),
        Ty::Int | Ty::Long | Ty::Double | Ty::Char | Ty::Any | Ty::Json => match standard(f) {
            Some(('D' | 'd' | 'X' | 'x', _)) if t == Ty::Double => {
                err(pos, format!("format '{f}' is for integers; a double throws FormatException in .NET"))
            }
            Some(_) => Ok(()),
            None => err(
                pos,
                format!("the numeric format '{f}' is not yet supported by ringgate (N, F, D, X with a precision are)"),
            ),
        },
        _ => err(pos, format!("formatting a {} with '{f}' is not yet supported by ringgate", t.name())),
    }
}

fn group(int: &str) -> String {
    let b = int.as_bytes();
    let mut out = String::with_capacity(int.len() + int.len() / 3);
    for (i, c) in b.iter().enumerate() {
        if i > 0 && (b.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(char::from(*c));
    }
    out
}

/// `x.ToString(format)` / `{x:format}` with the invariant culture.
pub fn format_value(v: &Value, f: &str) -> Result<String, EvalError> {
    let v = super::linq::scalar(v);
    match &v {
        Value::Str(s) => {
            // Guid.NewGuid() is a string here: its ToString formats.
            if s.len() == 36 && s.chars().filter(|c| *c == '-').count() == 4 {
                return Ok(match f {
                    "N" | "n" => s.replace('-', ""),
                    "D" | "d" | "" => s.to_string(),
                    "B" | "b" => format!("{{{s}}}"),
                    "P" | "p" => format!("({s})"),
                    _ => return Err(EvalError::of("FormatException", "Format string can be only \"D\", \"d\", \"N\", \"n\", \"P\", \"p\", \"B\", \"b\", \"X\" or \"x\".")),
                });
            }
            return Ok(s.to_string());
        }
        Value::Null | Value::Bool(_) => return Ok(v.to_text()),
        _ => {}
    }
    let Some((c, p)) = standard(f) else {
        return Err(EvalError::new(format!("the format '{f}' is not yet supported by ringgate")));
    };
    let bad = || EvalError::of("FormatException", "Format specifier was invalid.");
    match (c.to_ascii_uppercase(), &v) {
        ('D', Value::Int(n)) => {
            let digits = n.unsigned_abs().to_string();
            let w = p.unwrap_or(0);
            let pad = "0".repeat(w.saturating_sub(digits.len()));
            Ok(format!("{}{pad}{digits}", if *n < 0 { "-" } else { "" }))
        }
        ('X', Value::Int(n)) => {
            // Negative ints print their two's complement at 32 bits (int) like .NET.
            let u = if i32::try_from(*n).is_ok() { u64::from(*n as i32 as u32) } else { *n as u64 };
            let mut s = if c == 'X' { format!("{u:X}") } else { format!("{u:x}") };
            let w = p.unwrap_or(0);
            if s.len() < w {
                s = "0".repeat(w - s.len()) + &s;
            }
            Ok(s)
        }
        ('D' | 'X', _) => Err(bad()),
        ('N' | 'F', _) => {
            let x = v.as_f64().ok_or_else(bad)?;
            let prec = p.unwrap_or(2);
            if !x.is_finite() {
                return Ok(v.to_text());
            }
            // .NET Core 3.0+ rounds the exact decimal value half away from zero.
            let s = round_fixed(x, prec);
            let (neg, s) = match s.strip_prefix('-') {
                Some(r) => (true, r.to_string()),
                None => (false, s),
            };
            let (int, frac) = s.split_once('.').map_or((s.as_str(), ""), |(a, b)| (a, b));
            let int = if c.eq_ignore_ascii_case(&'N') { group(int) } else { int.to_string() };
            let zero = int.chars().all(|c| c == '0' || c == ',') && frac.chars().all(|c| c == '0');
            let mut out = String::new();
            if neg && !zero {
                out.push('-');
            }
            out.push_str(&int);
            if prec > 0 {
                out.push('.');
                out.push_str(frac);
            }
            Ok(out)
        }
        _ => Err(bad()),
    }
}

/// `x` with `prec` decimals, rounding half away from zero on the exact binary value.
fn round_fixed(x: f64, prec: usize) -> String {
    // Rust's `{:.p}` rounds the exact value half to even; exact ties are rare in binary
    // (0.125, 2.5): handle them by nudging away from zero.
    let s = format!("{x:.prec$}");
    let exact = format!("{x:.60}");
    let (_, frac) = exact.split_once('.').unwrap_or(("", ""));
    let tail = frac.get(prec..).unwrap_or("");
    let tie = tail.starts_with('5') && tail[1..].chars().all(|c| c == '0');
    if !tie {
        return s;
    }
    let step = 10f64.powi(-(prec as i32));
    let bumped = if x >= 0.0 { x + step / 2.0 } else { x - step / 2.0 };
    let t = format!("{bumped:.prec$}");
    let _ = write!(String::new(), "{t}");
    t
}

/// `String.Format(format, args)`.
pub fn composite(f: &str, args: &[Value]) -> Result<String, EvalError> {
    let bad = || EvalError::of("FormatException", "Input string was not in a correct format.");
    let mut out = String::new();
    let mut it = f.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '{' if it.peek() == Some(&'{') => {
                it.next();
                out.push('{');
            }
            '}' if it.peek() == Some(&'}') => {
                it.next();
                out.push('}');
            }
            '}' => return Err(bad()),
            '{' => {
                let mut item = String::new();
                loop {
                    match it.next() {
                        Some('}') => break,
                        Some(d) => item.push(d),
                        None => return Err(bad()),
                    }
                }
                let (head, fmt) = item.split_once(':').map_or((item.as_str(), None), |(a, b)| (a, Some(b)));
                let (idx, align) = head.split_once(',').map_or((head, None), |(a, b)| (a, Some(b)));
                let idx: usize = idx.trim().parse().map_err(|_| bad())?;
                let v = args.get(idx).ok_or_else(|| {
                    EvalError::of("FormatException", "Index (zero based) must be greater than or equal to zero and less than the size of the argument list.")
                })?;
                let v = match args {
                    [Value::List(_)] | [Value::Array(_)] if args.len() == 1 => {
                        let items = super::linq::items(&args[0])?;
                        items.get(idx).cloned().ok_or_else(bad)?
                    }
                    _ => v.clone(),
                };
                let text = match fmt {
                    Some(f) => format_value(&v, f)?,
                    None => v.to_text(),
                };
                match align {
                    Some(a) => {
                        let w: i64 = a.trim().parse().map_err(|_| bad())?;
                        let n = text.chars().count();
                        let pad = " ".repeat(usize::try_from(w.unsigned_abs()).unwrap_or(0).saturating_sub(n));
                        if w < 0 {
                            out.push_str(&text);
                            out.push_str(&pad);
                        } else {
                            out.push_str(&pad);
                            out.push_str(&text);
                        }
                    }
                    None => out.push_str(&text),
                }
            }
            c => out.push(c),
        }
    }
    Ok(out)
}
