//! .NET's custom numeric format strings: `0`, `#`, `.`, `,` (grouping and scaling), `%`, `‰`,
//! `E+0`, sections `;`, quoted literals and `\` escapes.
//! https://learn.microsoft.com/dotnet/standard/base-types/custom-numeric-format-strings
//!
//! Doubles come in as 15 significant digits (.NET's precision for custom formats) and are
//! rounded half away from zero on those digits, as .NET's `RoundNumber` does.

use super::digits::Digits;
use crate::policy::dotnet::error::DnResult;

/// Splits at unquoted `;` (at most three sections).
fn sections(fmt: &str) -> Vec<&str> {
    let b = fmt.as_bytes();
    let mut out = Vec::new();
    let (mut start, mut i, mut quote) = (0, 0, 0u8);
    while i < b.len() {
        let c = b[i];
        if quote != 0 {
            if c == quote {
                quote = 0;
            }
        } else if c == b'\'' || c == b'"' {
            quote = c;
        } else if c == b'\\' {
            i += 1;
        } else if c == b';' && out.len() < 2 {
            out.push(&fmt[start..i]);
            start = i + 1;
        }
        i += 1;
    }
    out.push(&fmt[start.min(fmt.len())..]);
    out
}

#[derive(Default)]
struct Shape {
    int_count: i32,
    frac_count: i32,
    /// Index (among integer placeholders) of the first `0`.
    first_zero: Option<i32>,
    /// Index (among fraction placeholders) of the last `0`, plus one.
    frac_zeros: i32,
    grouping: bool,
    scale_shift: i32,
    /// Scientific: (explicit plus sign, minimum exponent digits).
    exp: Option<(bool, usize)>,
}

fn shape(sec: &[char]) -> Shape {
    let mut s = Shape::default();
    let mut in_frac = false;
    let mut pending_commas = 0;
    let mut i = 0;
    while i < sec.len() {
        let c = sec[i];
        match c {
            '0' | '#' => {
                if pending_commas > 0 && !in_frac && s.int_count > 0 {
                    s.grouping = true;
                }
                pending_commas = 0;
                if in_frac {
                    s.frac_count += 1;
                    if c == '0' {
                        s.frac_zeros = s.frac_count;
                    }
                } else {
                    if c == '0' && s.first_zero.is_none() {
                        s.first_zero = Some(s.int_count);
                    }
                    s.int_count += 1;
                }
            }
            '.' if !in_frac => {
                s.scale_shift -= 3 * pending_commas;
                pending_commas = 0;
                in_frac = true;
            }
            ',' if !in_frac => pending_commas += 1,
            '%' => s.scale_shift += 2,
            '\u{2030}' => s.scale_shift += 3,
            'E' | 'e' if s.exp.is_none() => {
                let mut j = i + 1;
                let mut plus = false;
                if matches!(sec.get(j), Some('+')) {
                    plus = true;
                    j += 1;
                } else if matches!(sec.get(j), Some('-')) {
                    j += 1;
                }
                let zeros = sec[j..].iter().take_while(|&&x| x == '0').count();
                if zeros > 0 {
                    s.exp = Some((plus, zeros));
                    i = j + zeros;
                    continue;
                }
            }
            '\\' => i += 1,
            '\'' | '"' => {
                i += 1;
                while i < sec.len() && sec[i] != c {
                    i += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    if !in_frac {
        s.scale_shift -= 3 * pending_commas;
    }
    s
}

pub fn format_custom(num: &Digits, fmt: &str) -> DnResult<String> {
    let secs = sections(fmt);
    let mut pick = 0;
    if num.neg && !num.is_zero() && secs.len() >= 2 && !secs[1].is_empty() {
        pick = 1;
    } else if num.is_zero() && secs.len() >= 3 && !secs[2].is_empty() {
        pick = 2;
    }
    let sec: Vec<char> = secs[pick].chars().collect();
    let sh = shape(&sec);
    let mut d = num.clone();
    if !d.is_zero() {
        d.scale += sh.scale_shift;
    }
    let mut exponent = 0;
    if sh.exp.is_some() {
        let lead = sh.int_count.max(1);
        d.round_at(lead + sh.frac_count);
        if !d.is_zero() {
            exponent = d.scale - lead;
            d.scale = lead;
        }
    } else {
        d.round_at(d.scale + sh.frac_count);
    }
    let mut out = String::new();
    if pick == 0 && num.neg && !d.is_zero() {
        out.push('-');
    }
    let int_len = d.scale.max(0);
    let avail_frac = (d.digits.len() as i32 - d.scale).max(0);
    let frac_print = avail_frac.min(sh.frac_count).max(sh.frac_zeros);
    let mut int_seen = 0;
    let mut frac_seen = 0;
    let mut in_frac = false;
    let push_int = |out: &mut String, idx: i32| {
        out.push(char::from(b'0' + d.digit_at(idx)));
        let from_right = int_len - 1 - idx;
        if sh.grouping && from_right > 0 && from_right % 3 == 0 {
            out.push(',');
        }
    };
    let mut i = 0;
    while i < sec.len() {
        let c = sec[i];
        match c {
            '0' | '#' if !in_frac => {
                if int_seen == 0 && int_len > sh.int_count {
                    for idx in 0..int_len - sh.int_count {
                        push_int(&mut out, idx);
                    }
                }
                let idx = int_len - sh.int_count + int_seen;
                if idx >= 0 {
                    push_int(&mut out, idx);
                } else if sh.first_zero.is_some_and(|z| int_seen >= z) {
                    out.push('0');
                }
                int_seen += 1;
            }
            '0' | '#' => {
                if frac_seen < frac_print {
                    out.push(char::from(b'0' + d.digit_at(d.scale + frac_seen)));
                }
                frac_seen += 1;
            }
            '.' if !in_frac => {
                in_frac = true;
                if int_seen == 0 && int_len > 0 && sh.int_count == 0 {
                    for idx in 0..int_len {
                        push_int(&mut out, idx);
                    }
                }
                if frac_print > 0 {
                    out.push('.');
                }
            }
            ',' => {}
            'E' | 'e' if sh.exp.is_some() => {
                let mut j = i + 1;
                if matches!(sec.get(j), Some('+') | Some('-')) {
                    j += 1;
                }
                let zeros = sec[j..].iter().take_while(|&&x| x == '0').count();
                if zeros == 0 {
                    out.push(c);
                    i += 1;
                    continue;
                }
                let (plus, min) = sh.exp.unwrap_or((false, 1));
                out.push(c);
                if exponent < 0 {
                    out.push('-');
                } else if plus {
                    out.push('+');
                }
                out.push_str(&format!("{:0min$}", exponent.unsigned_abs()));
                i = j + zeros;
                continue;
            }
            '\\' => {
                if let Some(&n) = sec.get(i + 1) {
                    out.push(n);
                }
                i += 2;
                continue;
            }
            '\'' | '"' => {
                i += 1;
                while i < sec.len() && sec[i] != c {
                    out.push(sec[i]);
                    i += 1;
                }
            }
            other => out.push(other),
        }
        i += 1;
    }
    Ok(out)
}
