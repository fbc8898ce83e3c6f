//! Tokens of the C# subset. Positions are byte offsets into the expression source.

use super::ExprError;

#[derive(Clone, Debug, PartialEq)]
pub enum Piece {
    Lit(String),
    /// Source of an interpolation hole, its offset in the expression and its format
    /// specifier (`{x:N2}`).
    Hole(String, usize, Option<String>),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    Ident(String),
    Int(i64),
    Double(f64),
    Str(String),
    Char(char),
    Interp(Vec<Piece>),
    Punct(&'static str),
    Eof,
}

#[derive(Clone, Debug)]
pub struct Token {
    pub tok: Tok,
    pub pos: usize,
}

const PUNCTS: [&str; 38] = [
    "??=", "?.", "??", "==", "!=", "<=", ">=", "&&", "||", "=>", "++", "--", "+=", "-=", "*=", "/=", "%=", "(", ")",
    "{", "}", "[", "]", ".", ",", ";", ":", "?", "+", "-", "*", "/", "%", "<", ">", "!", "~", "=",
];
const OTHER_PUNCTS: [&str; 3] = ["&", "|", "^"];

pub fn lex(src: &str, base: usize) -> Result<Vec<Token>, ExprError> {
    let b = src.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    let err = |at: usize, m: &str| ExprError::new(base + at, m);
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if src[i..].starts_with("//") {
            i += src[i..].find('\n').unwrap_or(src.len() - i);
            continue;
        }
        if src[i..].starts_with("/*") {
            let end = src[i + 2..].find("*/").ok_or_else(|| err(i, "unterminated comment"))?;
            i += end + 4;
            continue;
        }
        let start = i;
        let tok = if c.is_ascii_alphabetic() || c == b'_' {
            let n = b[i..].iter().take_while(|c| c.is_ascii_alphanumeric() || **c == b'_').count();
            i += n;
            Tok::Ident(src[start..i].to_string())
        } else if c.is_ascii_digit() {
            let (t, n) = number(&src[i..]).ok_or_else(|| {
                let decimal = src[i..]
                    .find(|c: char| !c.is_ascii_alphanumeric() && c != '.')
                    .map_or(&src[i..], |e| &src[i..i + e]);
                if decimal.ends_with(['m', 'M']) {
                    err(i, "decimal literals (System.Decimal) are not yet supported by ringgate")
                } else {
                    err(i, "malformed number")
                }
            })?;
            i += n;
            t
        } else if c == b'"' {
            let (s, n) = string(&src[i + 1..], false).ok_or_else(|| err(i, "unterminated string literal"))?;
            i += n + 1;
            Tok::Str(s)
        } else if src[i..].starts_with("@\"") {
            let (s, n) = string(&src[i + 2..], true).ok_or_else(|| err(i, "unterminated string literal"))?;
            i += n + 2;
            Tok::Str(s)
        } else if src[i..].starts_with("$\"") || src[i..].starts_with("$@\"") || src[i..].starts_with("@$\"") {
            let skip = if b[i + 1] == b'"' { 2 } else { 3 };
            let verbatim = skip == 3;
            let (pieces, n) = interpolated(&src[i + skip..], verbatim, base + i + skip)
                .ok_or_else(|| err(i, "unterminated interpolated string"))??;
            i += n + skip;
            Tok::Interp(pieces)
        } else if c == b'\'' {
            let (ch, n) = char_lit(&src[i + 1..]).ok_or_else(|| err(i, "malformed character literal"))?;
            i += n + 1;
            Tok::Char(ch)
        } else if let Some(p) = PUNCTS.iter().chain(OTHER_PUNCTS.iter()).find(|p| src[i..].starts_with(**p)) {
            i += p.len();
            Tok::Punct(p)
        } else {
            let ch = src[i..].chars().next().unwrap_or('?');
            return Err(err(i, &format!("unexpected character '{ch}'")));
        };
        out.push(Token { tok, pos: base + start });
    }
    out.push(Token { tok: Tok::Eof, pos: base + src.len() });
    Ok(out)
}

fn number(s: &str) -> Option<(Tok, usize)> {
    let b = s.as_bytes();
    let mut n = b.iter().take_while(|c| c.is_ascii_digit()).count();
    let mut is_double = false;
    if b.get(n) == Some(&b'.') && b.get(n + 1).is_some_and(u8::is_ascii_digit) {
        is_double = true;
        n += 1 + b[n + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
    }
    if matches!(b.get(n), Some(b'e') | Some(b'E')) {
        let mut k = n + 1;
        if matches!(b.get(k), Some(b'+') | Some(b'-')) {
            k += 1;
        }
        let digits = b.get(k..).map_or(0, |r| r.iter().take_while(|c| c.is_ascii_digit()).count());
        if digits > 0 {
            is_double = true;
            n = k + digits;
        }
    }
    let text = &s[..n];
    let suffix = b.get(n).copied();
    let (tok, used) = match suffix {
        Some(b'm') | Some(b'M') => return None,
        Some(b'd') | Some(b'D') | Some(b'f') | Some(b'F') => (Tok::Double(text.parse().ok()?), n + 1),
        Some(b'L') | Some(b'l') if !is_double => (Tok::Int(text.parse().ok()?), n + 1),
        _ if is_double => (Tok::Double(text.parse().ok()?), n),
        _ => (Tok::Int(text.parse().ok()?), n),
    };
    if s.as_bytes().get(used).is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_') {
        return None;
    }
    Some((tok, used))
}

fn escape(s: &str) -> Option<(char, usize)> {
    let mut it = s.chars();
    let c = it.next()?;
    Some(match c {
        'n' => ('\n', 1),
        'r' => ('\r', 1),
        't' => ('\t', 1),
        '0' => ('\0', 1),
        '\\' => ('\\', 1),
        '"' => ('"', 1),
        '\'' => ('\'', 1),
        'u' => {
            let hex = s.get(1..5)?;
            (char::from_u32(u32::from_str_radix(hex, 16).ok()?)?, 5)
        }
        _ => return None,
    })
}

/// Body of a string literal after the opening quote; returns (value, bytes consumed incl. close).
fn string(s: &str, verbatim: bool) -> Option<(String, usize)> {
    let mut out = String::new();
    let mut i = 0;
    while i < s.len() {
        let c = s[i..].chars().next()?;
        match c {
            '"' if verbatim && s[i + 1..].starts_with('"') => {
                out.push('"');
                i += 2;
            }
            '"' => return Some((out, i + 1)),
            '\\' if !verbatim => {
                let (e, n) = escape(&s[i + 1..])?;
                out.push(e);
                i += 1 + n;
            }
            '\n' if !verbatim => return None,
            _ => {
                out.push(c);
                i += c.len_utf8();
            }
        }
    }
    None
}

type InterpResult = Result<(Vec<Piece>, usize), ExprError>;

fn interpolated(s: &str, verbatim: bool, base: usize) -> Option<InterpResult> {
    let mut pieces = Vec::new();
    let mut lit = String::new();
    let mut i = 0;
    while i < s.len() {
        let c = s[i..].chars().next()?;
        match c {
            '"' if verbatim && s[i + 1..].starts_with('"') => {
                lit.push('"');
                i += 2;
            }
            '"' => {
                if !lit.is_empty() {
                    pieces.push(Piece::Lit(lit));
                }
                return Some(Ok((pieces, i + 1)));
            }
            '{' if s[i + 1..].starts_with('{') => {
                lit.push('{');
                i += 2;
            }
            '}' if s[i + 1..].starts_with('}') => {
                lit.push('}');
                i += 2;
            }
            '{' => {
                if !lit.is_empty() {
                    pieces.push(Piece::Lit(std::mem::take(&mut lit)));
                }
                let end = hole_end(&s[i + 1..])?;
                let hole = &s[i + 1..i + 1 + end];
                let (expr, fmt) = match format_colon(hole) {
                    Some(c) => (&hole[..c], Some(hole[c + 1..].to_string())),
                    None => (hole, None),
                };
                if top_level_comma(expr) {
                    return Some(Err(ExprError::new(
                        base + i,
                        "alignment in interpolation holes ({x,10}) is not yet supported by ringgate",
                    )));
                }
                pieces.push(Piece::Hole(expr.to_string(), base + i + 1, fmt));
                i += end + 2;
            }
            '\\' if !verbatim => {
                let (e, n) = escape(&s[i + 1..])?;
                lit.push(e);
                i += 1 + n;
            }
            _ => {
                lit.push(c);
                i += c.len_utf8();
            }
        }
    }
    None
}

/// Offset of the `}` closing a hole, skipping nested strings and braces.
fn hole_end(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                let (_, n) = string(&s[i + 1..], false)?;
                i += n + 1;
                continue;
            }
            b'\'' => {
                let (_, n) = char_lit(&s[i + 1..])?;
                i += n + 1;
                continue;
            }
            b'{' | b'(' | b'[' => depth += 1,
            b'}' if depth == 0 => return Some(i),
            b'}' | b')' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

/// The offset of a format specifier's ':' in a hole. A conditional inside a hole must be
/// parenthesised in C#, so any ':' at nesting level 0 starts the format.
fn format_colon(hole: &str) -> Option<usize> {
    level0(hole, ':')
}

fn top_level_comma(hole: &str) -> bool {
    level0(hole, ',').is_some()
}

fn level0(hole: &str, want: char) -> Option<usize> {
    let mut depth = 0i32;
    let mut in_str = false;
    for (i, c) in hole.char_indices() {
        match c {
            '"' => in_str = !in_str,
            '(' | '[' | '{' if !in_str => depth += 1,
            ')' | ']' | '}' if !in_str => depth -= 1,
            c if c == want && !in_str && depth == 0 => return Some(i),
            _ => {}
        }
    }
    None
}

fn char_lit(s: &str) -> Option<(char, usize)> {
    let c = s.chars().next()?;
    let (ch, n) = if c == '\\' {
        let (e, n) = escape(&s[1..])?;
        (e, n + 1)
    } else {
        (c, c.len_utf8())
    };
    s[n..].starts_with('\'').then_some((ch, n + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        lex(s, 0).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn literals() {
        assert_eq!(
            toks(r#"12 3.5 2L 1e3 "a\"b\n" @"c""d" 'x' '\n'"#),
            [
                Tok::Int(12),
                Tok::Double(3.5),
                Tok::Int(2),
                Tok::Double(1000.0),
                Tok::Str("a\"b\n".into()),
                Tok::Str("c\"d".into()),
                Tok::Char('x'),
                Tok::Char('\n'),
                Tok::Eof
            ]
        );
    }

    #[test]
    fn punctuation_and_interpolation() {
        assert_eq!(toks("a?.b ?? c")[1], Tok::Punct("?."));
        let t = toks(r#"$"x{a.B("}")}y{{z}}""#);
        assert_eq!(
            t[0],
            Tok::Interp(vec![
                Piece::Lit("x".into()),
                Piece::Hole("a.B(\"}\")".into(), 4, None),
                Piece::Lit("y{z}".into())
            ])
        );
        assert_eq!(toks("$\"{a:N2}\"")[0], Tok::Interp(vec![Piece::Hole("a".into(), 3, Some("N2".into()))]));
        assert!(lex("\"abc", 0).is_err());
        assert!(lex("a # b", 0).unwrap_err().message.contains('#'));
    }
}
