//! .NET regular-expression syntax onto the `regex` crate's (linear-time) syntax.
//!
//! Kept: classes, quantifiers (greedy and lazy), anchors, `\b`, `\d\w\s` (Unicode, as .NET),
//! `\p{..}` categories and scripts, named groups `(?<n>..)`/`(?'n'..)`, non-capturing and
//! inline option groups, `(?#..)` comments, class subtraction `[a-z-[aeiou]]`, `\e`, `\cX`,
//! `\0`, and a `{` that is not a quantifier (literal in .NET).
//! Refused with their offset (the engine cannot run them): backreferences, lookahead and
//! lookbehind, atomic groups, conditionals, balancing groups, `\G`, numbered group names,
//! duplicate names, Unicode block names (`\p{IsGreek}`), RightToLeft and ECMAScript.
//! .NET's `$` and `\Z` (without Multiline) also match before a final newline: [`super::Regex`]
//! searches such inputs with and without that newline.

use crate::policy::dotnet::error::{DnResult, DotnetError, ExceptionKind};

/// `RegexOptions` flags, with .NET's values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RegexOptions(pub u32);

impl RegexOptions {
    pub const NONE: u32 = 0;
    pub const IGNORE_CASE: u32 = 1;
    pub const MULTILINE: u32 = 2;
    pub const EXPLICIT_CAPTURE: u32 = 4;
    pub const COMPILED: u32 = 8;
    pub const SINGLELINE: u32 = 16;
    pub const IGNORE_PATTERN_WHITESPACE: u32 = 32;
    pub const RIGHT_TO_LEFT: u32 = 64;
    pub const ECMA_SCRIPT: u32 = 256;
    pub const CULTURE_INVARIANT: u32 = 512;
    pub const NON_BACKTRACKING: u32 = 1024;

    pub fn has(self, f: u32) -> bool {
        self.0 & f != 0
    }
}

/// A translated pattern: the crate's syntax and, per crate group index, the .NET group
/// number and name.
#[derive(Clone, Debug)]
pub struct Translated {
    pub pattern: String,
    /// Index = crate group index (0 = whole match); value = (.NET number, name).
    pub groups: Vec<(usize, String)>,
}

fn parse_error(pattern: &str, offset: usize, reason: &str) -> DotnetError {
    DotnetError::new(ExceptionKind::RegexParse, format!("Invalid pattern '{pattern}' at offset {offset}. {reason}"))
}

fn unsupported(pattern: &str, offset: usize, what: &str) -> DotnetError {
    DotnetError::new(
        ExceptionKind::RegexParse,
        format!(
            "Invalid pattern '{pattern}' at offset {offset}. {what} is not supported: ringgate runs regular expressions on a linear-time engine."
        ),
    )
}

pub fn translate(pattern: &str, opts: RegexOptions) -> DnResult<Translated> {
    if opts.has(RegexOptions::RIGHT_TO_LEFT) {
        return Err(unsupported(pattern, 0, "RegexOptions.RightToLeft"));
    }
    if opts.has(RegexOptions::ECMA_SCRIPT) {
        return Err(unsupported(pattern, 0, "RegexOptions.ECMAScript"));
    }
    let valid = 1 | 2 | 4 | 8 | 16 | 32 | 64 | 256 | 512 | 1024;
    if opts.0 & !valid != 0 {
        return Err(DotnetError::out_of_range("options", "Specified argument was out of the range of valid values."));
    }
    let c: Vec<char> = pattern.chars().collect();
    // Character offsets for messages (.NET reports UTF-16 offsets; equal for BMP text).
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut flags = String::new();
    if opts.has(RegexOptions::IGNORE_CASE) {
        flags.push('i');
    }
    if opts.has(RegexOptions::MULTILINE) {
        flags.push('m');
    }
    if opts.has(RegexOptions::SINGLELINE) {
        flags.push('s');
    }
    if opts.has(RegexOptions::IGNORE_PATTERN_WHITESPACE) {
        flags.push('x');
    }
    if !flags.is_empty() {
        out.push_str(&format!("(?{flags})"));
    }
    let explicit = opts.has(RegexOptions::EXPLICIT_CAPTURE);
    let extended = opts.has(RegexOptions::IGNORE_PATTERN_WHITESPACE);
    // Groups in crate order: Some(name) or None (unnamed).
    let mut order: Vec<Option<String>> = Vec::new();
    let mut depth = 0i32;
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        match ch {
            '\\' => {
                i = escape(pattern, &c, i, &mut out, false)?;
                continue;
            }
            '[' => {
                i = class(pattern, &c, i, &mut out)?;
                continue;
            }
            '#' if extended => {
                while i < c.len() && c[i] != '\n' {
                    i += 1;
                }
                continue;
            }
            '(' => {
                depth += 1;
                if c.get(i + 1) != Some(&'?') {
                    if explicit {
                        out.push_str("(?:");
                    } else {
                        order.push(None);
                        out.push('(');
                    }
                    i += 1;
                    continue;
                }
                let at = i;
                let next = c.get(i + 2).copied();
                match next {
                    Some(':') => {
                        out.push_str("(?:");
                        i += 3;
                    }
                    Some('#') => {
                        depth -= 1;
                        while i < c.len() && c[i] != ')' {
                            i += 1;
                        }
                        if i >= c.len() {
                            return Err(parse_error(pattern, c.len(), "Unterminated (?#...) comment."));
                        }
                        i += 1;
                    }
                    Some('=') | Some('!') => return Err(unsupported(pattern, at, "A lookahead assertion")),
                    Some('>') => return Err(unsupported(pattern, at, "An atomic group")),
                    Some('(') => return Err(unsupported(pattern, at, "A conditional expression")),
                    Some('<') if matches!(c.get(i + 3), Some('=') | Some('!')) => {
                        return Err(unsupported(pattern, at, "A lookbehind assertion"))
                    }
                    Some('<') | Some('\'') | Some('P') => {
                        let (open, close, skip) = match next {
                            Some('<') => ('<', '>', 3),
                            Some('\'') => ('\'', '\'', 3),
                            _ if c.get(i + 3) == Some(&'<') => ('<', '>', 4),
                            _ => return Err(parse_error(pattern, at, "Unrecognized grouping construct.")),
                        };
                        let _ = open;
                        let start = i + skip;
                        let mut j = start;
                        while j < c.len() && c[j] != close {
                            j += 1;
                        }
                        if j >= c.len() {
                            return Err(parse_error(pattern, j, "Unrecognized grouping construct."));
                        }
                        let name: String = c[start..j].iter().collect();
                        if name.contains('-') {
                            return Err(unsupported(pattern, at, "A balancing group"));
                        }
                        if name.is_empty() || !name.chars().all(|x| x.is_alphanumeric() || x == '_') {
                            return Err(parse_error(
                                pattern,
                                start,
                                "Invalid group name: Group names must begin with a word character.",
                            ));
                        }
                        if name.chars().all(|x| x.is_ascii_digit()) {
                            return Err(unsupported(pattern, at, "A numbered group name"));
                        }
                        if name.chars().next().is_some_and(|x| x.is_ascii_digit()) || !name.is_ascii() {
                            return Err(unsupported(pattern, at, "This group name"));
                        }
                        if order.iter().any(|g| g.as_deref() == Some(name.as_str())) {
                            return Err(unsupported(pattern, at, "A group name used twice"));
                        }
                        order.push(Some(name.clone()));
                        out.push_str(&format!("(?<{name}>"));
                        i = j + 1;
                    }
                    Some(f) if "imnsx-".contains(f) => {
                        let mut j = i + 2;
                        let mut body = String::new();
                        while j < c.len() && "imnsx-".contains(c[j]) {
                            if c[j] == 'n' {
                                return Err(unsupported(pattern, j, "The inline option 'n' (explicit capture)"));
                            }
                            body.push(c[j]);
                            j += 1;
                        }
                        match c.get(j) {
                            Some(':') => {
                                out.push_str(&format!("(?{body}:"));
                                i = j + 1;
                            }
                            Some(')') => {
                                depth -= 1;
                                if !body.is_empty() && body != "-" {
                                    out.push_str(&format!("(?{body})"));
                                }
                                i = j + 1;
                            }
                            _ => return Err(parse_error(pattern, j, "Unrecognized grouping construct.")),
                        }
                    }
                    _ => return Err(parse_error(pattern, at + 1, "Unrecognized grouping construct.")),
                }
                continue;
            }
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return Err(parse_error(pattern, i, "Too many )'s."));
                }
                out.push(')');
            }
            '{' => {
                // A `{` that does not start `{n}`, `{n,}` or `{n,m}` is a literal in .NET.
                let mut j = i + 1;
                let mut ok = false;
                let digits = |j: &mut usize| {
                    let s = *j;
                    while *j < c.len() && c[*j].is_ascii_digit() {
                        *j += 1;
                    }
                    *j > s
                };
                if digits(&mut j) {
                    if c.get(j) == Some(&',') {
                        j += 1;
                        digits(&mut j);
                    }
                    ok = c.get(j) == Some(&'}');
                }
                if ok {
                    out.extend(&c[i..=j]);
                    i = j + 1;
                    if matches!(c.get(i), Some('+')) {
                        return Err(parse_error(pattern, i, "Nested quantifier '+'."));
                    }
                    continue;
                }
                out.push_str("\\{");
            }
            '*' | '+' | '?' => {
                out.push(ch);
                if ch != '?' && c.get(i + 1) == Some(&'+') {
                    return Err(parse_error(pattern, i + 1, "Nested quantifier '+'."));
                }
            }
            c2 => out.push(c2),
        }
        i += 1;
    }
    if depth > 0 {
        return Err(parse_error(pattern, c.len(), "Not enough )'s."));
    }
    // .NET numbering: unnamed groups first (in order), then named ones.
    let unnamed = order.iter().filter(|g| g.is_none()).count();
    let mut groups = vec![(0usize, "0".to_string())];
    let (mut u, mut n) = (0, 0);
    for g in &order {
        match g {
            None => {
                u += 1;
                groups.push((u, u.to_string()));
            }
            Some(name) => {
                n += 1;
                groups.push((unnamed + n, name.clone()));
            }
        }
    }
    Ok(Translated { pattern: out, groups })
}

/// One escape at `c[i] == '\\'`; returns the index after it.
fn escape(pattern: &str, c: &[char], i: usize, out: &mut String, in_class: bool) -> DnResult<usize> {
    let Some(&e) = c.get(i + 1) else {
        return Err(parse_error(pattern, i + 1, "Illegal \\ at end of pattern."));
    };
    match e {
        '1'..='9' if !in_class => Err(unsupported(pattern, i, "A backreference")),
        'k' if !in_class => Err(unsupported(pattern, i, "A named backreference")),
        'G' if !in_class => Err(unsupported(pattern, i, "The \\G anchor")),
        'Z' if !in_class => {
            out.push_str("\\z");
            Ok(i + 2)
        }
        'e' => {
            out.push_str("\\x1B");
            Ok(i + 2)
        }
        '0' => {
            let mut j = i + 2;
            let mut v = 0u32;
            while j < c.len() && j < i + 4 && ('0'..='7').contains(&c[j]) {
                v = v * 8 + c[j] as u32 - '0' as u32;
                j += 1;
            }
            out.push_str(&format!("\\x{{{v:X}}}"));
            Ok(j)
        }
        'c' => {
            let Some(&l) = c.get(i + 2).filter(|l| l.is_ascii_alphabetic()) else {
                return Err(parse_error(pattern, i + 2, "Missing control character."));
            };
            out.push_str(&format!("\\x{:02X}", (l.to_ascii_uppercase() as u8) & 0x1f));
            Ok(i + 3)
        }
        'p' | 'P' => {
            if c.get(i + 2) != Some(&'{') {
                return Err(parse_error(pattern, i + 2, "Incomplete \\p{X} character escape."));
            }
            let mut j = i + 3;
            while j < c.len() && c[j] != '}' {
                j += 1;
            }
            let name: String = c[i + 3..j.min(c.len())].iter().collect();
            if j >= c.len() {
                return Err(parse_error(pattern, j, "Incomplete \\p{X} character escape."));
            }
            if name.starts_with("Is") {
                return Err(unsupported(pattern, i, "A Unicode block name"));
            }
            out.push_str(&format!("\\{e}{{{name}}}"));
            Ok(j + 1)
        }
        'x' => {
            let h: String = c.get(i + 2..i + 4).map(|s| s.iter().collect()).unwrap_or_default();
            if h.len() != 2 || !h.chars().all(|x| x.is_ascii_hexdigit()) {
                return Err(parse_error(pattern, i + 2, "Insufficient hexadecimal digits."));
            }
            out.push_str(&format!("\\x{h}"));
            Ok(i + 4)
        }
        'u' => {
            let h: String = c.get(i + 2..i + 6).map(|s| s.iter().collect()).unwrap_or_default();
            if h.len() != 4 || !h.chars().all(|x| x.is_ascii_hexdigit()) {
                return Err(parse_error(pattern, i + 2, "Insufficient hexadecimal digits."));
            }
            out.push_str(&format!("\\u{h}"));
            Ok(i + 6)
        }
        'b' if in_class => {
            out.push_str("\\x08");
            Ok(i + 2)
        }
        'd' | 'D' | 'w' | 'W' | 's' | 'S' | 'b' | 'B' | 'A' | 'z' | 't' | 'n' | 'r' | 'f' | 'v' | 'a' => {
            out.push('\\');
            out.push(e);
            Ok(i + 2)
        }
        l if l.is_ascii_alphanumeric() => {
            Err(parse_error(pattern, i + 1, &format!("Unrecognized escape sequence \\{l}.")))
        }
        other => {
            // Escaped punctuation or white space: a literal.
            if other.is_ascii_punctuation() {
                out.push('\\');
                out.push(other);
            } else if other == ' ' {
                out.push_str("\\x20");
            } else {
                out.push_str(&regex::escape(&other.to_string()));
            }
            Ok(i + 2)
        }
    }
}

/// A character class at `c[i] == '['`; returns the index after it.
fn class(pattern: &str, c: &[char], i: usize, out: &mut String) -> DnResult<usize> {
    let mut j = i + 1;
    out.push('[');
    if c.get(j) == Some(&'^') {
        out.push('^');
        j += 1;
    }
    // A `]` first is a literal.
    if c.get(j) == Some(&']') {
        out.push_str("\\]");
        j += 1;
    }
    while j < c.len() {
        match c[j] {
            ']' => {
                out.push(']');
                return Ok(j + 1);
            }
            '\\' => j = escape(pattern, c, j, out, true)?,
            '-' if c.get(j + 1) == Some(&'[') => {
                // Subtraction: [a-z-[aeiou]].
                out.push_str("--");
                j = class(pattern, c, j + 1, out)?;
                if c.get(j) != Some(&']') {
                    return Err(parse_error(
                        pattern,
                        j,
                        "A subtraction must be the last element in a character class.",
                    ));
                }
            }
            '[' | '&' | '~' => {
                out.push('\\');
                out.push(c[j]);
                j += 1;
            }
            '-' if c.get(j + 1) == Some(&'-') => {
                out.push_str("\\-");
                j += 1;
            }
            other => {
                out.push(other);
                j += 1;
            }
        }
    }
    Err(parse_error(pattern, c.len(), "Unterminated [] set."))
}
