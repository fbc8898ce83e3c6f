//! `DateTime.ToString(format)` / `DateTimeOffset.ToString(format)` with the invariant culture:
//! the standard one-letter formats and the custom specifiers.
//! https://learn.microsoft.com/dotnet/standard/base-types/standard-date-and-time-format-strings
//! https://learn.microsoft.com/dotnet/standard/base-types/custom-date-and-time-format-strings

use super::calendar::{DAY_ABBREVS, DAY_NAMES, MONTH_ABBREVS, MONTH_NAMES};
use super::{DateTime, DateTimeKind, DateTimeOffset};
use crate::policy::dotnet::error::{DnResult, DotnetError};
use std::fmt::Write;

fn bad_format() -> DotnetError {
    DotnetError::format("Input string was not in a correct format.")
}

/// What a format sees: the clock reading and, for a `DateTimeOffset`, its offset.
struct Moment {
    dt: DateTime,
    offset: Option<i32>,
}

pub fn format_datetime(dt: DateTime, fmt: &str) -> DnResult<String> {
    format_moment(Moment { dt, offset: None }, fmt)
}

pub fn format_offset(dto: DateTimeOffset, fmt: &str) -> DnResult<String> {
    let fmt = if fmt.is_empty() { "MM/dd/yyyy HH:mm:ss zzz" } else { fmt };
    format_moment(Moment { dt: dto.date_time(), offset: Some(dto.offset_minutes()) }, fmt)
}

fn format_moment(m: Moment, fmt: &str) -> DnResult<String> {
    let fmt = if fmt.is_empty() { "G" } else { fmt };
    let mut chars = fmt.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        return standard(m, c);
    }
    custom(&m, fmt)
}

fn standard(m: Moment, c: char) -> DnResult<String> {
    let pattern = match c {
        'd' => "MM/dd/yyyy",
        'D' => "dddd, dd MMMM yyyy",
        'f' => "dddd, dd MMMM yyyy HH:mm",
        'F' => "dddd, dd MMMM yyyy HH:mm:ss",
        'g' => "MM/dd/yyyy HH:mm",
        'G' => "MM/dd/yyyy HH:mm:ss",
        'M' | 'm' => "MMMM dd",
        'O' | 'o' => {
            return Ok(if m.offset.is_some() {
                custom(&m, "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffzzz")?
            } else {
                custom(&m, "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK")?
            })
        }
        'R' | 'r' => return custom(&to_utc_for_offset(m), "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'"),
        's' => "yyyy'-'MM'-'dd'T'HH':'mm':'ss",
        't' => "HH:mm",
        'T' => "HH:mm:ss",
        'u' => return custom(&to_utc_for_offset(m), "yyyy'-'MM'-'dd HH':'mm':'ss'Z'"),
        'U' => {
            if m.offset.is_some() {
                return Err(bad_format());
            }
            let utc = Moment { dt: m.dt.to_universal_time(), offset: None };
            return custom(&utc, "dddd, dd MMMM yyyy HH:mm:ss");
        }
        'Y' | 'y' => "yyyy MMMM",
        _ => return Err(bad_format()),
    };
    custom(&m, pattern)
}

/// "R" and "u" show a `DateTimeOffset` in UTC; a `DateTime` is printed as it is.
fn to_utc_for_offset(m: Moment) -> Moment {
    match m.offset {
        Some(off) => {
            let ticks = m.dt.ticks() - i64::from(off) * super::TICKS_PER_MINUTE;
            Moment { dt: DateTime::from_ticks(ticks, DateTimeKind::Utc).unwrap_or(m.dt), offset: Some(0) }
        }
        None => m,
    }
}

fn run_len(chars: &[char], i: usize) -> usize {
    let c = chars[i];
    chars[i..].iter().take_while(|&&x| x == c).count()
}

fn pad(out: &mut String, v: i64, width: usize) {
    let _ = write!(out, "{v:0width$}");
}

fn offset_minutes(m: &Moment) -> i32 {
    // Local and Unspecified DateTimes use the local zone (UTC); so does Utc.
    m.offset.unwrap_or(0)
}

fn custom(m: &Moment, fmt: &str) -> DnResult<String> {
    let chars: Vec<char> = fmt.chars().collect();
    let mut out = String::with_capacity(fmt.len() + 8);
    let dt = m.dt;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let n = run_len(&chars, i);
        match c {
            'd' => {
                match n {
                    1 | 2 => pad(&mut out, i64::from(dt.day()), n),
                    3 => out.push_str(DAY_ABBREVS[dt.day_of_week() as usize]),
                    _ => out.push_str(DAY_NAMES[dt.day_of_week() as usize]),
                }
                i += n;
            }
            'M' => {
                let mo = dt.month();
                match n {
                    1 | 2 => pad(&mut out, i64::from(mo), n),
                    3 => out.push_str(MONTH_ABBREVS[(mo - 1) as usize]),
                    _ => out.push_str(MONTH_NAMES[(mo - 1) as usize]),
                }
                i += n;
            }
            'y' => {
                let y = i64::from(dt.year());
                match n {
                    1 => pad(&mut out, y % 100, 1),
                    2 => pad(&mut out, y % 100, 2),
                    _ => pad(&mut out, y, n),
                }
                i += n;
            }
            'h' => {
                let h = dt.hour() % 12;
                pad(&mut out, i64::from(if h == 0 { 12 } else { h }), n.min(2));
                i += n;
            }
            'H' => {
                pad(&mut out, i64::from(dt.hour()), n.min(2));
                i += n;
            }
            'm' => {
                pad(&mut out, i64::from(dt.minute()), n.min(2));
                i += n;
            }
            's' => {
                pad(&mut out, i64::from(dt.second()), n.min(2));
                i += n;
            }
            'f' | 'F' => {
                if n > 7 {
                    return Err(bad_format());
                }
                let frac = dt.fraction_ticks() / 10_i64.pow(7 - n as u32);
                if c == 'f' {
                    pad(&mut out, frac, n);
                } else if frac != 0 {
                    let mut s = format!("{frac:0n$}");
                    while s.ends_with('0') {
                        s.pop();
                    }
                    out.push_str(&s);
                } else if out.ends_with('.') {
                    // .NET drops the separator before an all-zero `F` run.
                    out.pop();
                }
                i += n;
            }
            't' => {
                let ampm = if dt.hour() < 12 { "AM" } else { "PM" };
                if n == 1 {
                    out.push_str(&ampm[..1]);
                } else {
                    out.push_str(ampm);
                }
                i += n;
            }
            'g' => {
                out.push_str("A.D.");
                i += n;
            }
            'K' => {
                match (m.offset, dt.kind()) {
                    (Some(off), _) => push_offset(&mut out, off, 3),
                    (None, DateTimeKind::Utc) => out.push('Z'),
                    (None, DateTimeKind::Local) => push_offset(&mut out, 0, 3),
                    (None, DateTimeKind::Unspecified) => {}
                }
                i += 1;
            }
            'z' => {
                push_offset(&mut out, offset_minutes(m), n.min(3));
                i += n;
            }
            ':' | '/' => {
                out.push(c);
                i += 1;
            }
            '\'' | '"' => {
                let mut k = i + 1;
                let mut lit = String::new();
                while k < chars.len() {
                    if chars[k] == '\\' && k + 1 < chars.len() {
                        lit.push(chars[k + 1]);
                        k += 2;
                        continue;
                    }
                    if chars[k] == c {
                        break;
                    }
                    lit.push(chars[k]);
                    k += 1;
                }
                if k >= chars.len() {
                    return Err(DotnetError::format(format!(
                        "Cannot find a matching quote character for the character '{c}'."
                    )));
                }
                out.push_str(&lit);
                i = k + 1;
            }
            '%' => {
                // A single custom specifier: "%d" is the day, not the short-date pattern.
                match chars.get(i + 1) {
                    Some(&next) if next != '%' => {
                        let one: String = next.to_string();
                        let sub = custom(m, &one)?;
                        out.push_str(&sub);
                        i += 2;
                    }
                    _ => return Err(bad_format()),
                }
            }
            '\\' => match chars.get(i + 1) {
                Some(&next) => {
                    out.push(next);
                    i += 2;
                }
                None => return Err(bad_format()),
            },
            other => {
                out.push(other);
                i += 1;
            }
        }
    }
    Ok(out)
}

/// `z` (+6), `zz` (+06), `zzz` (+06:00).
fn push_offset(out: &mut String, minutes: i32, width: usize) {
    let sign = if minutes < 0 { '-' } else { '+' };
    let a = minutes.unsigned_abs();
    let (h, mi) = (a / 60, a % 60);
    out.push(sign);
    match width {
        1 => {
            let _ = write!(out, "{h}");
        }
        2 => {
            let _ = write!(out, "{h:02}");
        }
        _ => {
            let _ = write!(out, "{h:02}:{mi:02}");
        }
    }
}
