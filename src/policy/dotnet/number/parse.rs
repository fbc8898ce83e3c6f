//! `int.Parse`, `long.Parse`, `double.Parse`, `bool.Parse` and `Convert.To*` with the
//! invariant culture's rules: surrounding white space and a leading sign are allowed; an
//! integer out of range is an `OverflowException`; `double.Parse` accepts thousands
//! separators, exponents, `NaN` and `Infinity`, and gives ±Infinity past the range (.NET Core 3.0+).

use crate::policy::dotnet::error::{DnResult, DotnetError};

/// The integer types, for range and the overflow message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntType {
    SByte,
    Byte,
    Int16,
    UInt16,
    Int32,
    UInt32,
    Int64,
    UInt64,
}

impl IntType {
    pub fn name(self) -> &'static str {
        match self {
            Self::SByte => "SByte",
            Self::Byte => "Byte",
            Self::Int16 => "Int16",
            Self::UInt16 => "UInt16",
            Self::Int32 => "Int32",
            Self::UInt32 => "UInt32",
            Self::Int64 => "Int64",
            Self::UInt64 => "UInt64",
        }
    }
    pub fn range(self) -> (i128, i128) {
        match self {
            Self::SByte => (i8::MIN.into(), i8::MAX.into()),
            Self::Byte => (0, u8::MAX.into()),
            Self::Int16 => (i16::MIN.into(), i16::MAX.into()),
            Self::UInt16 => (0, u16::MAX.into()),
            Self::Int32 => (i32::MIN.into(), i32::MAX.into()),
            Self::UInt32 => (0, u32::MAX.into()),
            Self::Int64 => (i64::MIN.into(), i64::MAX.into()),
            Self::UInt64 => (0, u64::MAX.into()),
        }
    }
    pub fn bits(self) -> u32 {
        match self {
            Self::SByte | Self::Byte => 8,
            Self::Int16 | Self::UInt16 => 16,
            Self::Int32 | Self::UInt32 => 32,
            Self::Int64 | Self::UInt64 => 64,
        }
    }
    fn overflow(self) -> DotnetError {
        DotnetError::overflow(format!("Value was either too large or too small for {}.", self.article_name()))
    }
    fn article_name(self) -> String {
        let n = self.name();
        let article =
            if matches!(self, Self::Int16 | Self::Int32 | Self::Int64 | Self::UInt16 | Self::UInt32 | Self::UInt64) {
                if n.starts_with('U') {
                    "a"
                } else {
                    "an"
                }
            } else {
                "a"
            };
        format!("{article} {n}")
    }
}

fn bad_input() -> DotnetError {
    DotnetError::format("Input string was not in a correct format.")
}

/// .NET's white space for number parsing (`\t`..`\r` and space).
fn trim_ws(s: &str) -> &str {
    s.trim_matches(|c: char| c == ' ' || ('\t'..='\r').contains(&c))
}

/// `int.Parse(s)` / `long.Parse(s)` / … (NumberStyles.Integer).
pub fn parse_int(s: &str, t: IntType) -> DnResult<i128> {
    let body = trim_ws(s);
    let (neg, digits) = match body.as_bytes().first() {
        Some(b'-') => (true, &body[1..]),
        Some(b'+') => (false, &body[1..]),
        _ => (false, body),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad_input());
    }
    let trimmed = digits.trim_start_matches('0');
    if trimmed.len() > 30 {
        return Err(t.overflow());
    }
    let mag: i128 = if trimmed.is_empty() { 0 } else { trimmed.parse().map_err(|_| t.overflow())? };
    let v = if neg { -mag } else { mag };
    let (lo, hi) = t.range();
    if v < lo || v > hi {
        return Err(t.overflow());
    }
    Ok(v)
}

/// `double.Parse(s)` (NumberStyles.Float | AllowThousands).
pub fn parse_double(s: &str) -> DnResult<f64> {
    let body = trim_ws(s);
    let (neg, rest) = match body.as_bytes().first() {
        Some(b'-') => (true, &body[1..]),
        Some(b'+') => (false, &body[1..]),
        _ => (false, body),
    };
    let special = if rest.eq_ignore_ascii_case("infinity") || rest == "\u{221e}" {
        Some(f64::INFINITY)
    } else if rest.eq_ignore_ascii_case("nan") {
        Some(f64::NAN)
    } else {
        None
    };
    if let Some(v) = special {
        return Ok(if neg { -v } else { v });
    }
    // digits[,digits]*[.digits][(e|E)[sign]digits]; thousands separators only before the point.
    let b = rest.as_bytes();
    let mut clean = String::with_capacity(b.len() + 1);
    if neg {
        clean.push('-');
    }
    let mut i = 0;
    let mut mantissa_digits = 0;
    while i < b.len() && (b[i].is_ascii_digit() || (b[i] == b',' && mantissa_digits > 0)) {
        if b[i] != b',' {
            clean.push(char::from(b[i]));
            mantissa_digits += 1;
        }
        i += 1;
    }
    if i < b.len() && b[i] == b'.' {
        clean.push('.');
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            clean.push(char::from(b[i]));
            mantissa_digits += 1;
            i += 1;
        }
    }
    if mantissa_digits == 0 {
        return Err(bad_input());
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        let mut exp = String::from("e");
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            exp.push(char::from(b[j]));
            j += 1;
        }
        let start = j;
        while j < b.len() && b[j].is_ascii_digit() {
            exp.push(char::from(b[j]));
            j += 1;
        }
        if j == start {
            return Err(bad_input());
        }
        clean.push_str(&exp);
        i = j;
    }
    if i != b.len() {
        return Err(bad_input());
    }
    if clean.ends_with('.') {
        clean.push('0');
    }
    if clean.starts_with('.') || clean.starts_with("-.") {
        clean = clean.replacen('.', "0.", 1);
    }
    clean.parse::<f64>().map_err(|_| bad_input())
}

pub fn try_parse_double(s: &str) -> Option<f64> {
    parse_double(s).ok()
}

/// `bool.Parse(s)`: "True"/"False" in any case, surrounding white space allowed.
pub fn parse_bool(s: &str) -> DnResult<bool> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if t.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err(DotnetError::format(format!("String '{s}' was not recognized as a valid Boolean.")))
    }
}

/// `Convert.ToBoolean(string)`; null gives false.
pub fn convert_to_boolean(s: Option<&str>) -> DnResult<bool> {
    s.map_or(Ok(false), parse_bool)
}

fn double_to_int(v: f64, t: IntType) -> DnResult<i128> {
    // Banker's rounding, then a range check (Convert.ToInt32(2.5) == 2, (3.5) == 4).
    let r = v.round_ties_even();
    let (lo, hi) = t.range();
    if !r.is_finite() || r < lo as f64 || r > hi as f64 || (t == IntType::Int64 && r >= 9_223_372_036_854_775_808.0) {
        return Err(t.overflow());
    }
    Ok(r as i128)
}

/// `Convert.ToInt32(double)`.
pub fn convert_to_int32(v: f64) -> DnResult<i32> {
    double_to_int(v, IntType::Int32).map(|x| x as i32)
}

/// `Convert.ToInt64(double)`.
pub fn convert_to_int64(v: f64) -> DnResult<i64> {
    double_to_int(v, IntType::Int64).map(|x| x as i64)
}
