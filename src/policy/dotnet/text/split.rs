//! `String.Split` with separators, a count and `StringSplitOptions`, as .NET 5+.

use crate::policy::dotnet::error::{DnResult, DotnetError};

/// `StringSplitOptions` flags.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SplitOptions {
    pub remove_empty: bool,
    pub trim: bool,
}

impl SplitOptions {
    pub const NONE: Self = Self { remove_empty: false, trim: false };
    pub const REMOVE_EMPTY: Self = Self { remove_empty: true, trim: false };
    /// From the enum's integer value (None = 0, RemoveEmptyEntries = 1, TrimEntries = 2).
    pub fn from_bits(v: i64) -> DnResult<Self> {
        if !(0..=3).contains(&v) {
            return Err(DotnetError::argument(format!("Value of flags is invalid: {v}. (Parameter 'options')")));
        }
        Ok(Self { remove_empty: v & 1 != 0, trim: v & 2 != 0 })
    }
}

/// Separator positions: byte ranges of each match, left to right.
fn finds(s: &str, seps: &[String]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    'outer: while i < s.len() {
        if !s.is_char_boundary(i) {
            i += 1;
            continue;
        }
        for sep in seps {
            if !sep.is_empty() && s[i..].starts_with(sep.as_str()) {
                out.push((i, i + sep.len()));
                i += sep.len();
                continue 'outer;
            }
        }
        i += 1;
    }
    out
}

fn whitespace_finds(s: &str) -> Vec<(usize, usize)> {
    s.char_indices().filter(|(_, c)| c.is_whitespace()).map(|(i, c)| (i, i + c.len_utf8())).collect()
}

fn split_core(s: &str, found: Vec<(usize, usize)>, count: i64, opt: SplitOptions) -> DnResult<Vec<String>> {
    if count < 0 {
        return Err(DotnetError::out_of_range("count", "Count cannot be less than zero."));
    }
    let count = count as usize;
    if count == 0 || (opt.remove_empty && s.is_empty()) {
        return Ok(Vec::new());
    }
    let post = |p: &str| if opt.trim { p.trim_matches(char::is_whitespace).to_string() } else { p.to_string() };
    if count == 1 || found.is_empty() {
        let one = post(s);
        return Ok(if opt.remove_empty && one.is_empty() { Vec::new() } else { vec![one] });
    }
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < found.len() {
        let (a, b) = found[i];
        let part = post(&s[start..a]);
        start = b;
        if !(opt.remove_empty && part.is_empty()) {
            out.push(part);
        }
        if out.len() + 1 == count {
            // .NET skips the empty entries before the final one when removing empties.
            if opt.remove_empty {
                while i + 1 < found.len() && post(&s[start..found[i + 1].0]).is_empty() {
                    i += 1;
                    start = found[i].1;
                }
            }
            break;
        }
        i += 1;
    }
    // The last entry holds the rest of the string.
    let last = post(&s[start..]);
    if !(opt.remove_empty && last.is_empty()) {
        out.push(last);
    }
    Ok(out)
}

/// `Split(params char[] separator)`, `Split(char[] separator, count, options)`: no
/// separators means white space.
pub fn split_chars(s: &str, seps: &[char], count: i64, opt: SplitOptions) -> DnResult<Vec<String>> {
    let found = if seps.is_empty() {
        whitespace_finds(s)
    } else {
        s.char_indices().filter(|(_, c)| seps.contains(c)).map(|(i, c)| (i, i + c.len_utf8())).collect()
    };
    split_core(s, found, count, opt)
}

/// `Split(string[] separator, count, options)` / `Split(string separator, options)`: the first
/// listed separator that matches at a position wins; null or empty separators mean white space.
pub fn split_strings(s: &str, seps: &[String], count: i64, opt: SplitOptions) -> DnResult<Vec<String>> {
    let real: Vec<String> = seps.iter().filter(|x| !x.is_empty()).cloned().collect();
    let found = if real.is_empty() { whitespace_finds(s) } else { finds(s, &real) };
    split_core(s, found, count, opt)
}

/// `Split(string separator, options)` / `Split(string separator, count, options)`: a null or
/// empty separator does not split.
pub fn split_string(s: &str, sep: Option<&str>, count: i64, opt: SplitOptions) -> DnResult<Vec<String>> {
    match sep {
        Some(x) if !x.is_empty() => split_core(s, finds(s, &[x.to_string()]), count, opt),
        _ => split_core(s, Vec::new(), count, opt),
    }
}
