//! `StringComparison` for Equals/Compare/StartsWith/EndsWith/IndexOf.

use super::ops::{byte_to_u16_index, len16};
use std::cmp::Ordering;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StringComparison {
    CurrentCulture,
    CurrentCultureIgnoreCase,
    InvariantCulture,
    InvariantCultureIgnoreCase,
    Ordinal,
    OrdinalIgnoreCase,
}

impl StringComparison {
    pub fn ignore_case(self) -> bool {
        matches!(self, Self::CurrentCultureIgnoreCase | Self::InvariantCultureIgnoreCase | Self::OrdinalIgnoreCase)
    }
    pub fn is_ordinal(self) -> bool {
        matches!(self, Self::Ordinal | Self::OrdinalIgnoreCase)
    }
    /// `Enum.Parse` of the member name.
    pub fn from_name(n: &str) -> Option<Self> {
        Some(match n {
            "CurrentCulture" => Self::CurrentCulture,
            "CurrentCultureIgnoreCase" => Self::CurrentCultureIgnoreCase,
            "InvariantCulture" => Self::InvariantCulture,
            "InvariantCultureIgnoreCase" => Self::InvariantCultureIgnoreCase,
            "Ordinal" => Self::Ordinal,
            "OrdinalIgnoreCase" => Self::OrdinalIgnoreCase,
            _ => return None,
        })
    }
}

/// Simple (1:1) uppercase mapping, as .NET's invariant `ToUpperInvariant` per character.
pub fn upper_char(c: char) -> char {
    let mut u = c.to_uppercase();
    match (u.next(), u.next()) {
        (Some(x), None) => x,
        _ => c,
    }
}

pub fn lower_char(c: char) -> char {
    let mut u = c.to_lowercase();
    match (u.next(), u.next()) {
        (Some(x), None) => x,
        _ => c,
    }
}

fn fold(s: &str) -> String {
    s.chars().map(upper_char).collect()
}

/// `string.Equals(a, b, comparison)`.
pub fn equals(a: &str, b: &str, c: StringComparison) -> bool {
    if c.ignore_case() {
        a.len() == b.len() && a.chars().map(upper_char).eq(b.chars().map(upper_char)) || fold(a) == fold(b)
    } else {
        a == b
    }
}

fn utf16_cmp(a: &str, b: &str) -> i32 {
    let mut x = a.encode_utf16();
    let mut y = b.encode_utf16();
    loop {
        match (x.next(), y.next()) {
            (None, None) => return 0,
            (None, Some(_)) => return -1,
            (Some(_), None) => return 1,
            (Some(p), Some(q)) if p != q => return i32::from(p) - i32::from(q),
            _ => {}
        }
    }
}

fn culture_cmp(a: &str, b: &str, ignore_case: bool) -> i32 {
    let primary = a.chars().map(lower_char).cmp(b.chars().map(lower_char));
    let ord = match primary {
        Ordering::Equal if !ignore_case => {
            // Tertiary: lowercase sorts before uppercase at the first difference.
            a.chars().zip(b.chars()).find(|(x, y)| x != y).map_or(Ordering::Equal, |(x, _)| {
                if x.is_lowercase() {
                    Ordering::Less
                } else {
                    Ordering::Greater
                }
            })
        }
        o => o,
    };
    match ord {
        Ordering::Less => -1,
        Ordering::Equal => 0,
        Ordering::Greater => 1,
    }
}

/// `string.Compare(a, b, comparison)`: culture forms return -1/0/1; ordinal forms the
/// difference of the first differing UTF-16 units (or of the lengths' order), as .NET Core.
pub fn compare(a: &str, b: &str, c: StringComparison) -> i32 {
    match c {
        StringComparison::Ordinal => utf16_cmp(a, b),
        StringComparison::OrdinalIgnoreCase => utf16_cmp(&fold(a), &fold(b)),
        _ => culture_cmp(a, b, c.ignore_case()),
    }
}

pub fn starts_with(s: &str, v: &str, c: StringComparison) -> bool {
    if c.ignore_case() {
        fold(s).starts_with(&fold(v))
    } else {
        s.starts_with(v)
    }
}

pub fn ends_with(s: &str, v: &str, c: StringComparison) -> bool {
    if c.ignore_case() {
        fold(s).ends_with(&fold(v))
    } else {
        s.ends_with(v)
    }
}

/// `IndexOf(value, startIndex, comparison)` in UTF-16 units; -1 when absent.
pub fn index_of(s: &str, v: &str, start16: usize, c: StringComparison) -> Option<usize> {
    let (hay, needle) = if c.ignore_case() { (fold(s), fold(v)) } else { (s.to_string(), v.to_string()) };
    let from = super::ops::u16_to_byte_index(&hay, start16)?;
    hay[from..].find(&needle).map(|b| byte_to_u16_index(&hay, from + b))
}

/// `LastIndexOf(value, comparison)` in UTF-16 units.
pub fn last_index_of(s: &str, v: &str, c: StringComparison) -> Option<usize> {
    let (hay, needle) = if c.ignore_case() { (fold(s), fold(v)) } else { (s.to_string(), v.to_string()) };
    if needle.is_empty() {
        return Some(len16(s).saturating_sub(1));
    }
    hay.rfind(&needle).map(|b| byte_to_u16_index(&hay, b))
}
