//! .NET's standard numeric format strings (`C`, `D`, `E`, `F`, `G`, `N`, `P`, `R`, `X`) with
//! the invariant culture, for integers and doubles.
//! https://learn.microsoft.com/dotnet/standard/base-types/standard-numeric-format-strings
//!
//! Doubles are rounded as .NET Core 3.0+ does: correctly, ties to even on the exact binary
//! value ("On .NET Core 2.1 and later, the runtime selects the result with an even least
//! significant digit").

use super::custom::format_custom;
use super::digits::Digits;
use crate::policy::dotnet::error::{DnResult, DotnetError};

/// Precision beyond this is refused rather than building megabytes of zeros.
const MAX_PRECISION: u32 = 1000;

fn bad_format() -> DotnetError {
    DotnetError::format("Format specifier was invalid.")
}

/// A standard format `Xn`: the letter and the optional precision.
fn standard_spec(fmt: &str) -> DnResult<Option<(char, Option<u32>)>> {
    let mut chars = fmt.chars();
    let Some(letter) = chars.next() else { return Ok(Some(('G', None))) };
    if !letter.is_ascii_alphabetic() {
        return Ok(None);
    }
    let rest = chars.as_str();
    if rest.is_empty() {
        return Ok(Some((letter, None)));
    }
    if rest.len() > 9 || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    let p: u32 = rest.parse().map_err(|_| bad_format())?;
    if p > MAX_PRECISION {
        return Err(DotnetError::budget(format!("format precision {p} is above ringgate's limit of {MAX_PRECISION}")));
    }
    Ok(Some((letter, Some(p))))
}

fn group(int: &str) -> String {
    let mut out = String::with_capacity(int.len() + int.len() / 3);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn fixed_text(d: &Digits, p: usize, grouped: bool) -> String {
    let int = d.int_part();
    let mut s = if grouped { group(&int) } else { int };
    if p > 0 {
        s.push('.');
        s.push_str(&d.frac_part(p));
    }
    s
}

fn exp_text(e: i32, letter: char, min_digits: usize) -> String {
    let sign = if e < 0 { '-' } else { '+' };
    format!("{}{sign}{:0min_digits$}", if letter.is_ascii_lowercase() { 'e' } else { 'E' }, e.unsigned_abs())
}

/// Scientific: `d.ddd` (`p` fraction digits, or as many as held when `p` is None) + exponent.
fn sci_text(d: &Digits, p: Option<usize>, letter: char, min_exp: usize) -> String {
    let mut s = String::new();
    s.push(char::from(b'0' + d.digit_at(0)));
    let n = p.unwrap_or(d.digits.len().saturating_sub(1));
    if n > 0 {
        s.push('.');
        for i in 1..=n as i32 {
            s.push(char::from(b'0' + d.digit_at(i)));
        }
    }
    let e = if d.is_zero() { 0 } else { d.scale - 1 };
    s.push_str(&exp_text(e, letter, min_exp));
    s
}

/// "G": fixed unless the exponent is >= `max_digits` or < -4.
fn general_text(d: &Digits, max_digits: i32, letter: char) -> String {
    if d.is_zero() {
        return "0".into();
    }
    if d.scale > max_digits || d.scale < -3 {
        let letter = if letter == 'g' { 'e' } else { 'E' };
        return sci_text(d, None, letter, 2);
    }
    let frac = (d.digits.len() as i32 - d.scale).max(0) as usize;
    fixed_text(d, frac, false)
}

fn with_sign(neg: bool, body: String) -> String {
    if neg {
        format!("-{body}")
    } else {
        body
    }
}

/// `long.ToString(format)` / `int.ToString(format)`: `bits` is the type's width (8/16/32/64)
/// for `X` on negative values.
pub fn format_int(v: i128, bits: u32, fmt: &str) -> DnResult<String> {
    let Some((letter, p)) = standard_spec(fmt)? else { return format_custom(&Digits::from_int(v), fmt) };
    let d = Digits::from_int(v);
    let neg = v < 0;
    Ok(match letter.to_ascii_uppercase() {
        'D' => {
            let s = v.unsigned_abs().to_string();
            let w = p.unwrap_or(0) as usize;
            with_sign(neg, format!("{s:0>w$}"))
        }
        'X' => {
            let mask: u128 = if bits >= 128 { u128::MAX } else { (1u128 << bits) - 1 };
            let u = (v as u128) & mask;
            let w = p.unwrap_or(0) as usize;
            let s = if letter == 'x' { format!("{u:0w$x}") } else { format!("{u:0w$X}") };
            s
        }
        'G' => {
            let mut d = d;
            match p {
                Some(p) if p > 0 && (d.digits.len() as u32) > p => {
                    d.round_at(p as i32);
                    with_sign(neg, general_text(&d, p as i32, letter))
                }
                _ => v.to_string(),
            }
        }
        'R' => return Err(bad_format()),
        _ => common(d, p, letter, None)?,
    })
}

/// The letters shared by integers and doubles: C, E, F, N, P.
fn common(mut d: Digits, p: Option<u32>, letter: char, dbl: Option<f64>) -> DnResult<String> {
    let neg = d.neg;
    Ok(match letter.to_ascii_uppercase() {
        'E' => {
            let p = p.unwrap_or(6) as usize;
            match dbl {
                Some(v) => d = Digits::significant(v, p + 1),
                None => d.round_at(p as i32 + 1),
            }
            with_sign(neg, sci_text(&d, Some(p), letter, 3))
        }
        'F' | 'N' | 'C' | 'P' => {
            let up = letter.eq_ignore_ascii_case(&'P');
            let p = p.unwrap_or(2) as usize;
            if let Some(v) = dbl {
                d = Digits::fixed(v, p + if up { 2 } else { 0 });
            }
            if up {
                if !d.is_zero() {
                    d.scale += 2;
                }
                if dbl.is_none() {
                    d.round_at(d.scale + p as i32);
                }
            }
            let grouped = !letter.eq_ignore_ascii_case(&'F');
            let body = fixed_text(&d, p, grouped);
            match letter.to_ascii_uppercase() {
                'C' if neg => format!("(\u{a4}{body})"),
                'C' => format!("\u{a4}{body}"),
                'P' => with_sign(neg, format!("{body} %")),
                _ => with_sign(neg, body),
            }
        }
        _ => return Err(bad_format()),
    })
}

/// `double.ToString(format)` with the invariant culture.
pub fn format_double(v: f64, fmt: &str) -> DnResult<String> {
    if v.is_nan() {
        return Ok("NaN".into());
    }
    if v.is_infinite() {
        return Ok(if v > 0.0 { "Infinity" } else { "-Infinity" }.into());
    }
    let Some((letter, p)) = standard_spec(fmt)? else {
        return format_custom(&Digits::significant(v, 15), fmt);
    };
    match letter.to_ascii_uppercase() {
        'R' | 'G' if p.unwrap_or(0) == 0 => {
            let d = Digits::shortest(v);
            let max = (d.digits.len() as i32).max(15);
            Ok(with_sign(d.neg, general_text(&d, max, letter)))
        }
        'G' => {
            let p = p.unwrap_or(0);
            let d = Digits::significant(v, p as usize);
            Ok(with_sign(d.neg, general_text(&d, p as i32, letter)))
        }
        'D' | 'X' | 'R' => Err(bad_format()),
        _ => common(Digits::shortest(v), p, letter, Some(v)),
    }
}

/// `float.ToString(format)`: shortest digits of the single, otherwise as a double.
pub fn format_single(v: f32, fmt: &str) -> DnResult<String> {
    if v.is_finite() && matches!(fmt, "" | "G" | "g" | "R" | "r") {
        let d = Digits::shortest_f32(v);
        let max = (d.digits.len() as i32).max(7);
        return Ok(with_sign(d.neg, general_text(&d, max, if fmt == "g" { 'g' } else { 'G' })));
    }
    format_double(f64::from(v), fmt)
}
