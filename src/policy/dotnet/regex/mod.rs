//! `System.Text.RegularExpressions.Regex` over the `regex` crate: .NET's pattern dialect is
//! translated (see [`translate`]), group numbers follow .NET's order (unnamed first, then
//! named), indexes are UTF-16 units, and `Replace` substitutions, `Split` with captured
//! groups, `Escape` and `Unescape` are .NET's. A group's `Captures` holds its last capture
//! only (the engine keeps one per group).

mod translate;

#[cfg(test)]
mod tests;

pub use translate::{translate, RegexOptions, Translated};

use crate::policy::dotnet::error::{DnResult, DotnetError, ExceptionKind};
use crate::policy::dotnet::text::len16;

/// Compiled program size the engine may use per pattern.
const SIZE_LIMIT: usize = 2 << 20;

#[derive(Clone, Debug)]
pub struct Regex {
    re: regex::Regex,
    /// Per crate group: (.NET number, name).
    groups: Vec<(usize, String)>,
    /// Crate group index of each .NET group number.
    by_number: Vec<usize>,
    /// The pattern has an end anchor (`$`/`\Z` without Multiline) that .NET also lets match
    /// before a final `\n`: such inputs are searched with and without that newline.
    final_newline: bool,
}

/// A `Group` (and the `Match` itself as group 0).
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    pub success: bool,
    pub name: String,
    pub value: String,
    /// UTF-16 index and length.
    pub index: usize,
    pub length: usize,
}

/// A `Match`: `Groups[0]` is the whole match.
#[derive(Clone, Debug, PartialEq)]
pub struct Match {
    /// Groups by .NET number.
    pub groups: Vec<Group>,
    /// Byte range of the match in the input (for Replace/Split).
    span: (usize, usize),
}

impl Match {
    /// `Match.Empty`.
    pub fn empty() -> Self {
        Match {
            groups: vec![Group { success: false, name: "0".into(), value: String::new(), index: 0, length: 0 }],
            span: (0, 0),
        }
    }
    pub fn success(&self) -> bool {
        self.groups[0].success
    }
    pub fn value(&self) -> &str {
        &self.groups[0].value
    }
    pub fn index(&self) -> usize {
        self.groups[0].index
    }
    pub fn length(&self) -> usize {
        self.groups[0].length
    }
    /// `Groups[n]`: an absent number gives an unsuccessful, empty group (as .NET).
    pub fn group(&self, n: i64) -> Group {
        usize::try_from(n).ok().and_then(|n| self.groups.get(n)).cloned().unwrap_or_else(|| Group {
            success: false,
            name: n.to_string(),
            value: String::new(),
            index: 0,
            length: 0,
        })
    }
    /// `Groups["name"]` (a number as text also works, as in .NET).
    pub fn group_named(&self, name: &str) -> Group {
        self.groups.iter().find(|g| g.name == name).cloned().unwrap_or_else(|| Group {
            success: false,
            name: name.to_string(),
            value: String::new(),
            index: 0,
            length: 0,
        })
    }
    /// `Groups.Count`.
    pub fn group_count(&self) -> usize {
        self.groups.len()
    }
}

fn arg_null(p: &str) -> DotnetError {
    DotnetError::null_arg(p)
}

impl Regex {
    /// `new Regex(pattern, options)`: a pattern the engine cannot run is a RegexParseException.
    pub fn new(pattern: &str, options: RegexOptions) -> DnResult<Self> {
        let t = translate(pattern, options)?;
        let re =
            regex::RegexBuilder::new(&t.pattern).size_limit(SIZE_LIMIT).dfa_size_limit(SIZE_LIMIT).build().map_err(
                |e| {
                    let reason = match &e {
                        regex::Error::CompiledTooBig(_) => {
                            "The pattern is too large for ringgate's regex budget.".to_string()
                        }
                        other => other.to_string().lines().last().unwrap_or("").trim().to_string(),
                    };
                    DotnetError::new(
                        ExceptionKind::RegexParse,
                        format!("Invalid pattern '{pattern}' at offset 0. {reason}"),
                    )
                },
            )?;
        let mut by_number = vec![0; t.groups.len()];
        for (crate_idx, (num, _)) in t.groups.iter().enumerate() {
            if let Some(slot) = by_number.get_mut(*num) {
                *slot = crate_idx;
            }
        }
        let final_newline = !options.has(RegexOptions::MULTILINE) && has_end_anchor(pattern);
        Ok(Self { re, groups: t.groups, by_number, final_newline })
    }

    /// `GetGroupNames()` in .NET's order.
    pub fn group_names(&self) -> Vec<String> {
        self.by_number.iter().map(|&c| self.groups[c].1.clone()).collect()
    }

    fn build(&self, input: &str, caps: &regex::Captures) -> Match {
        let mut groups = Vec::with_capacity(self.by_number.len());
        let mut span = (0, 0);
        for (num, &ci) in self.by_number.iter().enumerate() {
            let name = self.groups[ci].1.clone();
            match caps.get(ci) {
                Some(m) => {
                    if num == 0 {
                        span = (m.start(), m.end());
                    }
                    groups.push(Group {
                        success: true,
                        name,
                        value: m.as_str().to_string(),
                        index: len16(&input[..m.start()]),
                        length: len16(m.as_str()),
                    });
                }
                None => groups.push(Group { success: false, name, value: String::new(), index: 0, length: 0 }),
            }
        }
        Match { groups, span }
    }

    pub fn is_match(&self, input: &str) -> bool {
        self.re.is_match(input) || self.trimmed(input).is_some_and(|t| self.re.is_match(t))
    }

    /// The input without its final `\n`, when `$` may match before it.
    fn trimmed<'a>(&self, input: &'a str) -> Option<&'a str> {
        if self.final_newline {
            input.strip_suffix('\n')
        } else {
            None
        }
    }

    /// The leftmost match at or after byte `pos`: the input as is, or (for `$`) the input
    /// without its final newline; the earlier start wins, the untrimmed one on a tie.
    fn search(&self, input: &str, pos: usize) -> Option<Match> {
        let full = (pos <= input.len()).then(|| self.re.captures_at(input, pos)).flatten();
        let cut = self.trimmed(input).filter(|t| pos <= t.len()).and_then(|t| self.re.captures_at(t, pos));
        let pick = match (full, cut) {
            (Some(f), Some(c)) => {
                let (fs, cs) = (f.get(0).map_or(0, |m| m.start()), c.get(0).map_or(0, |m| m.start()));
                if cs < fs {
                    c
                } else {
                    f
                }
            }
            (Some(f), None) => f,
            (None, Some(c)) => c,
            (None, None) => return None,
        };
        Some(self.build(input, &pick))
    }

    /// .NET's match sequence: after an empty match the next attempt starts one character
    /// later; after a non-empty one it starts at its end (an empty match there counts).
    fn each(&self, input: &str, mut f: impl FnMut(Match) -> DnResult<bool>) -> DnResult<()> {
        let mut pos = 0;
        while pos <= input.len() {
            let Some(m) = self.search(input, pos) else { break };
            let (s, e) = m.span;
            if !f(m)? {
                break;
            }
            pos = if e == s { e + input[e..].chars().next().map_or(1, char::len_utf8) } else { e };
        }
        Ok(())
    }

    /// `Match(input, startat)` (UTF-16 start index).
    pub fn match_at(&self, input: &str, start16: i64) -> DnResult<Match> {
        let start = usize::try_from(start16)
            .ok()
            .and_then(|s| crate::policy::dotnet::text::len16(input).checked_sub(s).map(|_| s))
            .and_then(|s| byte_index(input, s))
            .ok_or_else(|| {
                DotnetError::out_of_range("startat", "Start index cannot be less than 0 or greater than input length.")
            })?;
        Ok(self.search(input, start).unwrap_or_else(Match::empty))
    }

    /// `Match(input)`.
    pub fn find(&self, input: &str) -> Match {
        self.search(input, 0).unwrap_or_else(Match::empty)
    }

    /// `Matches(input)`, bounded by `max` (a budget, so a huge input cannot build unbounded lists).
    pub fn matches(&self, input: &str, max: usize) -> DnResult<Vec<Match>> {
        let mut out = Vec::new();
        self.each(input, |m| {
            if out.len() >= max {
                return Err(DotnetError::budget(format!("more than {max} regex matches")));
            }
            out.push(m);
            Ok(true)
        })?;
        Ok(out)
    }

    /// `Replace(input, replacement, count)`: count -1 means all.
    pub fn replace(&self, input: &str, replacement: &str, count: i64) -> DnResult<String> {
        if count < -1 {
            return Err(DotnetError::out_of_range("count", "Count cannot be less than -1."));
        }
        let parts = parse_replacement(replacement, self);
        let mut out = String::with_capacity(input.len());
        let mut last = 0;
        let mut n = 0i64;
        self.each(input, |m| {
            if count >= 0 && n >= count {
                return Ok(false);
            }
            n += 1;
            out.push_str(&input[last..m.span.0]);
            expand(&parts, &m, input, &mut out);
            last = m.span.1;
            Ok(true)
        })?;
        out.push_str(&input[last..]);
        Ok(out)
    }

    /// `Replace(input, evaluator)`.
    pub fn replace_with<F: FnMut(&Match) -> DnResult<String>>(&self, input: &str, mut f: F) -> DnResult<String> {
        let mut out = String::with_capacity(input.len());
        let mut last = 0;
        self.each(input, |m| {
            out.push_str(&input[last..m.span.0]);
            out.push_str(&f(&m)?);
            last = m.span.1;
            Ok(true)
        })?;
        out.push_str(&input[last..]);
        Ok(out)
    }

    /// `Match.Result(replacement)`.
    pub fn result(&self, m: &Match, input: &str, replacement: &str) -> DnResult<String> {
        if !m.success() {
            return Err(DotnetError::invalid_op("Result cannot be called on a failed Match."));
        }
        let mut out = String::new();
        expand(&parse_replacement(replacement, self), m, input, &mut out);
        Ok(out)
    }

    /// `Split(input)`: pieces between matches, plus every captured group that took part.
    pub fn split(&self, input: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut last = 0;
        let _ = self.each(input, |m| {
            out.push(input[last..m.span.0].to_string());
            for g in m.groups.iter().skip(1).filter(|g| g.success) {
                out.push(g.value.clone());
            }
            last = m.span.1;
            Ok(true)
        });
        out.push(input[last..].to_string());
        out
    }
}

/// Whether the .NET pattern has `$` or `\Z` outside a class (an inline `(?m)` turns the
/// newline search off only where the crate's `$` already matches before newlines).
fn has_end_anchor(p: &str) -> bool {
    let b = p.as_bytes();
    let (mut i, mut in_class) = (0, false);
    while i < b.len() {
        match b[i] {
            b'\\' => {
                if !in_class && b.get(i + 1) == Some(&b'Z') {
                    return true;
                }
                i += 2;
                continue;
            }
            b'[' => in_class = true,
            b']' => in_class = false,
            b'$' if !in_class => return true,
            _ => {}
        }
        i += 1;
    }
    false
}

fn byte_index(s: &str, i16: usize) -> Option<usize> {
    let mut u = 0;
    for (b, ch) in s.char_indices() {
        if u == i16 {
            return Some(b);
        }
        u += ch.len_utf16();
    }
    (u == i16).then_some(s.len())
}

#[derive(Debug)]
enum Part {
    Lit(String),
    Group(usize),
    Whole,
    Before,
    After,
    LastGroup,
    Input,
}

/// .NET's substitutions: `$n` (longest valid group number), `${name}`, `$$`, `$&`, `` $` ``,
/// `$'`, `$+`, `$_`; anything else is literal.
fn parse_replacement(r: &str, re: &Regex) -> Vec<Part> {
    let c: Vec<char> = r.chars().collect();
    let ngroups = re.by_number.len();
    let mut parts = Vec::new();
    let mut lit = String::new();
    let mut i = 0;
    while i < c.len() {
        if c[i] != '$' || i + 1 >= c.len() {
            lit.push(c[i]);
            i += 1;
            continue;
        }
        let n = c[i + 1];
        let part = match n {
            '$' => {
                lit.push('$');
                i += 2;
                continue;
            }
            '&' => Some((Part::Whole, 2)),
            '`' => Some((Part::Before, 2)),
            '\'' => Some((Part::After, 2)),
            '+' => Some((Part::LastGroup, 2)),
            '_' => Some((Part::Input, 2)),
            '{' => c[i + 2..].iter().position(|&x| x == '}').and_then(|p| {
                let name: String = c[i + 2..i + 2 + p].iter().collect();
                let num = re
                    .group_names()
                    .iter()
                    .position(|g| *g == name)
                    .or_else(|| name.parse::<usize>().ok().filter(|n| *n < ngroups));
                num.map(|g| (Part::Group(g), p + 3))
            }),
            d if d.is_ascii_digit() => {
                let mut best = None;
                let mut v = 0usize;
                let mut j = i + 1;
                while j < c.len() && c[j].is_ascii_digit() && v < 1_000_000 {
                    v = v * 10 + (c[j] as usize - '0' as usize);
                    j += 1;
                    if v < ngroups {
                        best = Some((v, j - i));
                    }
                }
                best.map(|(g, len)| (Part::Group(g), len))
            }
            _ => None,
        };
        match part {
            Some((p, len)) => {
                if !lit.is_empty() {
                    parts.push(Part::Lit(std::mem::take(&mut lit)));
                }
                parts.push(p);
                i += len;
            }
            None => {
                lit.push('$');
                i += 1;
            }
        }
    }
    if !lit.is_empty() {
        parts.push(Part::Lit(lit));
    }
    parts
}

fn expand(parts: &[Part], m: &Match, input: &str, out: &mut String) {
    for p in parts {
        match p {
            Part::Lit(s) => out.push_str(s),
            Part::Group(n) => out.push_str(&m.group(*n as i64).value),
            Part::Whole => out.push_str(m.value()),
            Part::Before => out.push_str(&input[..m.span.0]),
            Part::After => out.push_str(&input[m.span.1..]),
            Part::LastGroup => {
                if let Some(g) = m.groups.last() {
                    out.push_str(&g.value);
                }
            }
            Part::Input => out.push_str(input),
        }
    }
}

/// `Regex.Escape(s)`.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for ch in s.chars() {
        match ch {
            '\\' | '*' | '+' | '?' | '|' | '{' | '[' | '(' | ')' | '^' | '$' | '.' | '#' | ' ' => {
                out.push('\\');
                out.push(ch);
            }
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\u{c}' => out.push_str("\\f"),
            c => out.push(c),
        }
    }
    out
}

/// `Regex.Unescape(s)`.
pub fn unescape(s: &str) -> DnResult<String> {
    let c: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let bad = |off: usize, why: &str| {
        DotnetError::new(ExceptionKind::RegexParse, format!("Invalid pattern '{s}' at offset {off}. {why}"))
    };
    while i < c.len() {
        if c[i] != '\\' {
            out.push(c[i]);
            i += 1;
            continue;
        }
        let Some(&e) = c.get(i + 1) else { return Err(bad(i + 1, "Illegal \\ at end of pattern.")) };
        let hex = |from: usize, n: usize| -> Option<u32> {
            let h: String = c.get(from..from + n)?.iter().collect();
            u32::from_str_radix(&h, 16).ok()
        };
        let (ch, len) = match e {
            't' => ('\t', 2),
            'n' => ('\n', 2),
            'r' => ('\r', 2),
            'f' => ('\u{c}', 2),
            'v' => ('\u{b}', 2),
            'a' => ('\u{7}', 2),
            'e' => ('\u{1b}', 2),
            'b' => ('\u{8}', 2),
            'x' => (
                hex(i + 2, 2).and_then(char::from_u32).ok_or_else(|| bad(i + 2, "Insufficient hexadecimal digits."))?,
                4,
            ),
            'u' => (hex(i + 2, 4).and_then(char::from_u32).unwrap_or('\u{fffd}'), 6),
            '0'..='7' => {
                let mut v = 0u32;
                let mut j = i + 1;
                while j < c.len() && j < i + 4 && ('0'..='7').contains(&c[j]) {
                    v = v * 8 + c[j] as u32 - '0' as u32;
                    j += 1;
                }
                (char::from_u32(v).unwrap_or('\u{fffd}'), j - i)
            }
            l if l.is_ascii_alphanumeric() => return Err(bad(i + 1, &format!("Unrecognized escape sequence \\{l}."))),
            other => (other, 2),
        };
        out.push(ch);
        i += len;
    }
    Ok(out)
}

/// Null-argument check the static helpers do first.
pub fn require(s: Option<&str>, param: &str) -> DnResult<()> {
    s.map(|_| ()).ok_or_else(|| arg_null(param))
}
