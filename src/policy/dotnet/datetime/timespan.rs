//! `System.TimeSpan`: signed ticks; "c"/"g"/"G" and custom formats; `TimeSpan.Parse`.
//! https://learn.microsoft.com/dotnet/standard/base-types/standard-timespan-format-strings
//! https://learn.microsoft.com/dotnet/standard/base-types/custom-timespan-format-strings

use super::{TICKS_PER_DAY, TICKS_PER_HOUR, TICKS_PER_MINUTE, TICKS_PER_MS, TICKS_PER_SECOND};
use crate::policy::dotnet::error::{DnResult, DotnetError};
use std::fmt::Write;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct TimeSpan {
    ticks: i64,
}

fn too_long() -> DotnetError {
    DotnetError::overflow("TimeSpan overflowed because the duration is too long.")
}

fn bad_format() -> DotnetError {
    DotnetError::format("Input string was not in a correct format.")
}

impl TimeSpan {
    pub const ZERO: TimeSpan = TimeSpan { ticks: 0 };
    pub const MAX: TimeSpan = TimeSpan { ticks: i64::MAX };
    pub const MIN: TimeSpan = TimeSpan { ticks: i64::MIN };

    pub fn from_ticks(ticks: i64) -> Self {
        Self { ticks }
    }
    /// `new TimeSpan(d, h, m, s, ms)`.
    pub fn new(d: i32, h: i32, m: i32, s: i32, ms: i32) -> DnResult<Self> {
        let total_ms = (i128::from(d) * 86_400 + i128::from(h) * 3600 + i128::from(m) * 60 + i128::from(s)) * 1000
            + i128::from(ms);
        let ticks = total_ms * i128::from(TICKS_PER_MS);
        i64::try_from(ticks)
            .map(Self::from_ticks)
            .map_err(|_| DotnetError::out_of_range("", "TimeSpan overflowed because the duration is too long."))
    }
    /// `TimeSpan.FromDays(v)` etc.: .NET Core 3.0+ scales the double exactly and rounds to ticks.
    fn from_scaled(v: f64, scale: i64) -> DnResult<Self> {
        if v.is_nan() {
            return Err(DotnetError::argument("TimeSpan does not accept floating point Not-a-Number values."));
        }
        let t = v * scale as f64;
        if !(i64::MIN as f64..i64::MAX as f64).contains(&t) {
            return Err(too_long());
        }
        Ok(Self::from_ticks(t.round() as i64))
    }
    pub fn from_days(v: f64) -> DnResult<Self> {
        Self::from_scaled(v, TICKS_PER_DAY)
    }
    pub fn from_hours(v: f64) -> DnResult<Self> {
        Self::from_scaled(v, TICKS_PER_HOUR)
    }
    pub fn from_minutes(v: f64) -> DnResult<Self> {
        Self::from_scaled(v, TICKS_PER_MINUTE)
    }
    pub fn from_seconds(v: f64) -> DnResult<Self> {
        Self::from_scaled(v, TICKS_PER_SECOND)
    }
    pub fn from_milliseconds(v: f64) -> DnResult<Self> {
        Self::from_scaled(v, TICKS_PER_MS)
    }
    pub fn ticks(self) -> i64 {
        self.ticks
    }
    pub fn days(self) -> i32 {
        (self.ticks / TICKS_PER_DAY) as i32
    }
    pub fn hours(self) -> i32 {
        ((self.ticks / TICKS_PER_HOUR) % 24) as i32
    }
    pub fn minutes(self) -> i32 {
        ((self.ticks / TICKS_PER_MINUTE) % 60) as i32
    }
    pub fn seconds(self) -> i32 {
        ((self.ticks / TICKS_PER_SECOND) % 60) as i32
    }
    pub fn milliseconds(self) -> i32 {
        ((self.ticks / TICKS_PER_MS) % 1000) as i32
    }
    pub fn total_days(self) -> f64 {
        self.ticks as f64 / TICKS_PER_DAY as f64
    }
    pub fn total_hours(self) -> f64 {
        self.ticks as f64 / TICKS_PER_HOUR as f64
    }
    pub fn total_minutes(self) -> f64 {
        self.ticks as f64 / TICKS_PER_MINUTE as f64
    }
    pub fn total_seconds(self) -> f64 {
        self.ticks as f64 / TICKS_PER_SECOND as f64
    }
    pub fn total_milliseconds(self) -> f64 {
        self.ticks as f64 / TICKS_PER_MS as f64
    }
    pub fn add(self, o: TimeSpan) -> DnResult<Self> {
        self.ticks.checked_add(o.ticks).map(Self::from_ticks).ok_or_else(too_long)
    }
    pub fn subtract(self, o: TimeSpan) -> DnResult<Self> {
        self.ticks.checked_sub(o.ticks).map(Self::from_ticks).ok_or_else(too_long)
    }
    pub fn negate(self) -> DnResult<Self> {
        self.ticks
            .checked_neg()
            .map(Self::from_ticks)
            .ok_or_else(|| DotnetError::overflow("Negating the minimum value of a twos complement number is invalid."))
    }
    pub fn duration(self) -> DnResult<Self> {
        self.ticks
            .checked_abs()
            .map(Self::from_ticks)
            .ok_or_else(|| DotnetError::overflow("The duration cannot be returned for TimeSpan.MinValue because the absolute value of TimeSpan.MinValue exceeds the value of TimeSpan.MaxValue."))
    }

    /// `ToString()` = "c": `[-][d.]hh:mm:ss[.fffffff]`.
    pub fn to_dotnet_string(self) -> String {
        let mut out = String::new();
        let a = self.ticks.unsigned_abs();
        if self.ticks < 0 {
            out.push('-');
        }
        let (d, h, m, s, f) = parts(a);
        if d != 0 {
            let _ = write!(out, "{d}.");
        }
        let _ = write!(out, "{h:02}:{m:02}:{s:02}");
        if f != 0 {
            let _ = write!(out, ".{f:07}");
        }
        out
    }

    /// `ToString(format)`: "c"/"t"/"T", "g", "G" or a custom format.
    pub fn to_string_format(self, fmt: &str) -> DnResult<String> {
        let a = self.ticks.unsigned_abs();
        let (d, h, m, s, f) = parts(a);
        let sign = if self.ticks < 0 { "-" } else { "" };
        match fmt {
            "" | "c" | "t" | "T" => Ok(self.to_dotnet_string()),
            "g" => {
                let mut out = sign.to_string();
                if d != 0 {
                    let _ = write!(out, "{d}:");
                }
                let _ = write!(out, "{h}:{m:02}:{s:02}");
                if f != 0 {
                    let mut frac = format!("{f:07}");
                    while frac.ends_with('0') {
                        frac.pop();
                    }
                    let _ = write!(out, ".{frac}");
                }
                Ok(out)
            }
            "G" => Ok(format!("{sign}{d}:{h:02}:{m:02}:{s:02}.{f:07}")),
            _ => custom(a, fmt),
        }
    }
}

fn parts(a: u64) -> (u64, u64, u64, u64, u64) {
    let t = |x: i64| x as u64;
    (
        a / t(TICKS_PER_DAY),
        a / t(TICKS_PER_HOUR) % 24,
        a / t(TICKS_PER_MINUTE) % 60,
        a / t(TICKS_PER_SECOND) % 60,
        a % t(TICKS_PER_SECOND),
    )
}

/// Custom TimeSpan formats are strict: every literal must be quoted or escaped, and the sign
/// is never printed.
fn custom(a: u64, fmt: &str) -> DnResult<String> {
    let (d, h, m, s, f) = parts(a);
    let chars: Vec<char> = fmt.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let n = chars[i..].iter().take_while(|&&x| x == c).count();
        match c {
            'd' if n <= 8 => {
                let _ = write!(out, "{d:0n$}");
                i += n;
            }
            'h' | 'm' | 's' if n <= 2 => {
                let v = match c {
                    'h' => h,
                    'm' => m,
                    _ => s,
                };
                let _ = write!(out, "{v:0n$}");
                i += n;
            }
            'f' | 'F' if n <= 7 => {
                let frac = f / 10_u64.pow(7 - n as u32);
                if c == 'f' {
                    let _ = write!(out, "{frac:0n$}");
                } else if frac != 0 {
                    let mut t = format!("{frac:0n$}");
                    while t.ends_with('0') {
                        t.pop();
                    }
                    out.push_str(&t);
                }
                i += n;
            }
            '\'' | '"' => {
                let close = chars[i + 1..].iter().position(|&x| x == c).ok_or_else(bad_format)?;
                out.extend(&chars[i + 1..i + 1 + close]);
                i += close + 2;
            }
            '\\' => {
                let next = chars.get(i + 1).ok_or_else(bad_format)?;
                out.push(*next);
                i += 2;
            }
            '%' => {
                let next = chars.get(i + 1).filter(|&&x| x != '%').ok_or_else(bad_format)?;
                out.push_str(&custom(a, &next.to_string())?);
                i += 2;
            }
            _ => return Err(bad_format()),
        }
    }
    Ok(out)
}

/// `TimeSpan.Parse(s)` (invariant): `[ws][-]{ d | [d.]hh:mm[:ss[.ff]] | d:hh:mm[:ss[.ff]] }[ws]`.
pub fn parse_timespan(s: &str) -> DnResult<TimeSpan> {
    let t = s.trim();
    let (neg, body) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t),
    };
    if body.is_empty() {
        return Err(DotnetError::format("String '".to_string() + s + "' was not recognized as a valid TimeSpan."));
    }
    let fail = || DotnetError::format(format!("String '{s}' was not recognized as a valid TimeSpan."));
    let overflow = || {
        DotnetError::overflow("The TimeSpan string '".to_string() + s + "' could not be parsed because at least one of the numeric components is out of range or contains too many digits.")
    };
    let num = |p: &str| -> DnResult<u64> {
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(fail());
        }
        p.parse::<u64>().map_err(|_| overflow())
    };
    let (days, rest) = if !body.contains(':') {
        (num(body)?, None)
    } else {
        let colon = body.find(':').unwrap_or(0);
        match body[..colon].find('.') {
            Some(dot) => (num(&body[..dot])?, Some(&body[dot + 1..])),
            None => (0, Some(body)),
        }
    };
    let mut ticks: u128 = u128::from(days) * TICKS_PER_DAY as u128;
    if days > 10_675_199 {
        return Err(overflow());
    }
    if let Some(rest) = rest {
        let mut fields: Vec<&str> = rest.split(':').collect();
        // "d:hh:mm:ss" puts days first when there are four fields.
        if fields.len() == 4 && days == 0 {
            let d = num(fields[0])?;
            ticks = u128::from(d) * TICKS_PER_DAY as u128;
            fields.remove(0);
        }
        if !(2..=3).contains(&fields.len()) {
            return Err(fail());
        }
        let h = num(fields[0])?;
        let m = num(fields[1])?;
        let (sec, frac) = match fields.get(2) {
            Some(f) => match f.split_once('.') {
                Some((a, b)) => (num(a)?, Some(b)),
                None => (num(f)?, None),
            },
            None => (0, None),
        };
        if h > 23 || m > 59 || sec > 59 {
            return Err(overflow());
        }
        ticks += u128::from(h) * TICKS_PER_HOUR as u128
            + u128::from(m) * TICKS_PER_MINUTE as u128
            + u128::from(sec) * TICKS_PER_SECOND as u128;
        if let Some(fr) = frac {
            if fr.len() > 7 {
                return Err(overflow());
            }
            let v = num(fr)?;
            ticks += u128::from(v) * 10_u128.pow(7 - fr.len() as u32);
        }
    }
    let t = i64::try_from(ticks).map_err(|_| overflow())?;
    Ok(TimeSpan::from_ticks(if neg { -t } else { t }))
}
