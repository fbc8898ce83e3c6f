//! Index-based string members (UTF-16 units) and their .NET exceptions.

use super::compare::{lower_char, upper_char, StringComparison};
use crate::policy::dotnet::error::{DnResult, DotnetError};

/// `Length`: UTF-16 code units.
pub fn len16(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

/// Byte offset of a UTF-16 index; None past the end or inside a surrogate pair.
pub fn u16_to_byte_index(s: &str, i16: usize) -> Option<usize> {
    let mut u = 0;
    for (b, c) in s.char_indices() {
        if u == i16 {
            return Some(b);
        }
        u += c.len_utf16();
        if u > i16 {
            return None;
        }
    }
    (u == i16).then_some(s.len())
}

pub fn byte_to_u16_index(s: &str, b: usize) -> usize {
    len16(&s[..b.min(s.len())])
}

fn surrogate_split() -> DotnetError {
    DotnetError::argument("The index falls inside a surrogate pair, which ringgate's UTF-8 strings cannot split.")
}

/// `s[i]` / `s.Chars[i]`.
pub fn char_at(s: &str, i: i64) -> DnResult<char> {
    let idx = usize::try_from(i).ok().filter(|i| *i < len16(s));
    let Some(idx) = idx else {
        return Err(DotnetError::new(
            crate::policy::dotnet::error::ExceptionKind::IndexOutOfRange,
            "Index was outside the bounds of the array.",
        ));
    };
    let b = u16_to_byte_index(s, idx).ok_or_else(surrogate_split)?;
    s[b..].chars().next().ok_or_else(surrogate_split)
}

/// `Substring(start, length?)`.
pub fn substring(s: &str, start: i64, length: Option<i64>) -> DnResult<String> {
    let n = len16(s) as i64;
    if start < 0 {
        return Err(DotnetError::out_of_range("startIndex", "StartIndex cannot be less than zero."));
    }
    if start > n {
        return Err(DotnetError::out_of_range("startIndex", "startIndex cannot be larger than length of string."));
    }
    let len = length.unwrap_or(n - start);
    if len < 0 {
        return Err(DotnetError::out_of_range("length", "Length cannot be less than zero."));
    }
    if start + len > n {
        return Err(DotnetError::out_of_range(
            "length",
            "Index and length must refer to a location within the string.",
        ));
    }
    let a = u16_to_byte_index(s, start as usize).ok_or_else(surrogate_split)?;
    let b = u16_to_byte_index(s, (start + len) as usize).ok_or_else(surrogate_split)?;
    Ok(s[a..b].to_string())
}

/// `Insert(startIndex, value)`.
pub fn insert(s: &str, start: i64, v: &str) -> DnResult<String> {
    let n = len16(s) as i64;
    if start < 0 || start > n {
        return Err(DotnetError::out_of_range("startIndex", "Index must be within the bounds of the List."));
    }
    let a = u16_to_byte_index(s, start as usize).ok_or_else(surrogate_split)?;
    Ok(format!("{}{v}{}", &s[..a], &s[a..]))
}

/// `Remove(startIndex, count?)`.
pub fn remove(s: &str, start: i64, count: Option<i64>) -> DnResult<String> {
    let n = len16(s) as i64;
    if start < 0 {
        return Err(DotnetError::out_of_range("startIndex", "StartIndex cannot be less than zero."));
    }
    match count {
        None if start >= n => {
            return Err(DotnetError::out_of_range("startIndex", "startIndex must be less than length of string."))
        }
        Some(c) if c < 0 => return Err(DotnetError::out_of_range("count", "Count cannot be less than zero.")),
        Some(c) if start + c > n => {
            return Err(DotnetError::out_of_range(
                "count",
                "Index and count must refer to a location within the string.",
            ))
        }
        _ => {}
    }
    let end = count.map_or(n, |c| start + c);
    let a = u16_to_byte_index(s, start as usize).ok_or_else(surrogate_split)?;
    let b = u16_to_byte_index(s, end as usize).ok_or_else(surrogate_split)?;
    Ok(format!("{}{}", &s[..a], &s[b..]))
}

/// `Replace(oldValue, newValue)` (ordinal); a null `newValue` removes.
pub fn replace(s: &str, old: &str, new: Option<&str>) -> DnResult<String> {
    replace_with(s, old, new, StringComparison::Ordinal)
}

/// `Replace(oldValue, newValue, comparison)`.
pub fn replace_with(s: &str, old: &str, new: Option<&str>, c: StringComparison) -> DnResult<String> {
    if old.is_empty() {
        return Err(DotnetError::argument("String cannot be of zero length. (Parameter 'oldValue')"));
    }
    let new = new.unwrap_or("");
    if !c.ignore_case() {
        return Ok(s.replace(old, new));
    }
    let mut out = String::with_capacity(s.len());
    let mut i16 = 0;
    let mut rest = s;
    while let Some(pos) = super::compare::index_of(rest, old, 0, c) {
        let b = u16_to_byte_index(rest, pos).unwrap_or(rest.len());
        out.push_str(&rest[..b]);
        out.push_str(new);
        let skip = u16_to_byte_index(rest, pos + len16(old)).unwrap_or(rest.len());
        rest = &rest[skip..];
        i16 += pos;
    }
    let _ = i16;
    out.push_str(rest);
    Ok(out)
}

pub fn contains(s: &str, v: &str, c: StringComparison) -> bool {
    super::compare::index_of(s, v, 0, c).is_some()
}

/// `Trim()` (white space) or `Trim(chars)`.
pub fn trim<'a>(s: &'a str, chars: Option<&[char]>) -> &'a str {
    match chars {
        Some(cs) if !cs.is_empty() => s.trim_matches(|c| cs.contains(&c)),
        _ => s.trim_matches(char::is_whitespace),
    }
}
pub fn trim_start<'a>(s: &'a str, chars: Option<&[char]>) -> &'a str {
    match chars {
        Some(cs) if !cs.is_empty() => s.trim_start_matches(|c| cs.contains(&c)),
        _ => s.trim_start_matches(char::is_whitespace),
    }
}
pub fn trim_end<'a>(s: &'a str, chars: Option<&[char]>) -> &'a str {
    match chars {
        Some(cs) if !cs.is_empty() => s.trim_end_matches(|c| cs.contains(&c)),
        _ => s.trim_end_matches(char::is_whitespace),
    }
}

fn pad(s: &str, width: i64, c: char, left: bool) -> DnResult<String> {
    if width < 0 {
        return Err(DotnetError::out_of_range("totalWidth", "Non-negative number required."));
    }
    let n = len16(s) as i64;
    if width <= n {
        return Ok(s.to_string());
    }
    let fill: String = std::iter::repeat_n(c, (width - n) as usize).collect();
    Ok(if left { fill + s } else { s.to_string() + &fill })
}

/// `PadLeft(totalWidth, paddingChar)`.
pub fn pad_left(s: &str, width: i64, c: char) -> DnResult<String> {
    pad(s, width, c, true)
}
pub fn pad_right(s: &str, width: i64, c: char) -> DnResult<String> {
    pad(s, width, c, false)
}

/// `ToUpper()` / `ToUpperInvariant()`: simple per-character mapping (`ß` stays `ß`).
pub fn to_upper(s: &str) -> String {
    s.chars().map(upper_char).collect()
}
pub fn to_lower(s: &str) -> String {
    s.chars().map(lower_char).collect()
}

/// `string.IsNullOrWhiteSpace`.
pub fn is_null_or_whitespace(s: Option<&str>) -> bool {
    s.is_none_or(|s| s.chars().all(char::is_whitespace))
}
