//! Repeated members in a JSON object (`{"a": 1, "a": 2}`) anywhere in a document: JSON parsers
//! disagree on which one wins (simd-json and serde keep the last, others the first), so a
//! document that says a thing twice is refused, each repetition named with its path, line and
//! column. A single pass over the bytes, before parsing; the containers' state is on a heap
//! stack (no recursion), and a malformed document is left to the parser to report.

use std::collections::HashMap;

use super::error::Problem;
use super::json::{index, join};

/// Containers nested deeper than this are not looked into (the parser refuses far less deep).
const MAX_DEPTH: usize = 4096;

/// One open container. Its place in the document is the chain of frames below it (paths are
/// built only for a problem, so deep documents cost memory linear in their depth).
enum Frame {
    /// `key`: the member whose value is being read.
    Object { seen: HashMap<String, (usize, usize)>, key: Option<String> },
    /// `at`: the index of the element being read (`usize::MAX` before the first).
    Array { at: usize },
}

/// A value starts in the innermost container: an array moves to its next element.
fn next_value(stack: &mut [Frame]) {
    if let Some(Frame::Array { at }) = stack.last_mut() {
        *at = at.wrapping_add(1);
    }
}

/// The path of the innermost container's current member or element.
fn path_of(stack: &[Frame]) -> String {
    let mut path = String::from("$");
    for f in stack {
        path = match f {
            Frame::Object { key, .. } => join(&path, key.as_deref().unwrap_or("?")),
            Frame::Array { at } => index(&path, *at),
        };
    }
    path
}

/// Reads a JSON string starting after its opening quote; returns the decoded text and the
/// offset after the closing quote. `None` on malformed input.
fn read_string(b: &[u8], mut i: usize) -> Option<(String, usize)> {
    let mut out: Vec<u8> = Vec::new();
    while i < b.len() {
        match b[i] {
            b'"' => return Some((String::from_utf8_lossy(&out).into_owned(), i + 1)),
            b'\\' => {
                let e = *b.get(i + 1)?;
                i += 2;
                match e {
                    b'n' => out.push(b'\n'),
                    b't' => out.push(b'\t'),
                    b'r' => out.push(b'\r'),
                    b'b' => out.push(8),
                    b'f' => out.push(12),
                    b'u' => {
                        let hex = |at: usize| -> Option<u32> {
                            let s = std::str::from_utf8(b.get(at..at + 4)?).ok()?;
                            u32::from_str_radix(s, 16).ok()
                        };
                        let mut c = hex(i)?;
                        i += 4;
                        if (0xD800..0xDC00).contains(&c) && b.get(i) == Some(&b'\\') && b.get(i + 1) == Some(&b'u') {
                            if let Some(lo) = hex(i + 2).filter(|lo| (0xDC00..0xE000).contains(lo)) {
                                c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
                                i += 6;
                            }
                        }
                        let ch = char::from_u32(c).unwrap_or('\u{FFFD}');
                        let mut tmp = [0u8; 4];
                        out.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
                    }
                    other => out.push(other),
                }
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    None
}

/// Every repeated member of every object in `bytes`, in document order.
pub fn find(bytes: &[u8]) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    // Line and column of the current position, kept as the scan goes.
    let (mut line, mut line_start) = (1usize, 0usize);
    // In an object: the next string is a member name (after '{' or ',').
    let mut expect_key = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                line += 1;
                line_start = i + 1;
                i += 1;
            }
            b'{' | b'[' if stack.len() >= MAX_DEPTH => return problems,
            b'{' => {
                next_value(&mut stack);
                stack.push(Frame::Object { seen: HashMap::new(), key: None });
                expect_key = true;
                i += 1;
            }
            b'[' => {
                next_value(&mut stack);
                stack.push(Frame::Array { at: usize::MAX });
                expect_key = false;
                i += 1;
            }
            b'}' | b']' => {
                stack.pop();
                expect_key = false;
                i += 1;
            }
            b',' => {
                expect_key = matches!(stack.last(), Some(Frame::Object { .. }));
                i += 1;
            }
            b'"' => {
                let (at_line, col) = (line, i - line_start + 1);
                let Some((text, end)) = read_string(bytes, i + 1) else { return problems };
                // Strings may hold raw newlines only in malformed JSON; count them anyway.
                for (k, &c) in bytes[i..end].iter().enumerate() {
                    if c == b'\n' {
                        line += 1;
                        line_start = i + k + 1;
                    }
                }
                if expect_key {
                    let mut first = None;
                    if let Some(Frame::Object { seen, key }) = stack.last_mut() {
                        first = seen.get(&text).copied();
                        if first.is_none() {
                            seen.insert(text.clone(), (at_line, col));
                        }
                        *key = Some(text.clone());
                    }
                    // The path is built only for a problem: deep documents stay linear.
                    if let Some((l0, c0)) = first {
                        problems.push(Problem::new(
                            path_of(&stack),
                            format!(
                                "member '{text}' appears more than once (line {at_line}, column {col}; \
                                 first at line {l0}, column {c0}): say it once"
                            ),
                        ));
                    }
                    expect_key = false;
                } else {
                    next_value(&mut stack);
                }
                i = end;
            }
            b' ' | b'\t' | b'\r' | b':' => i += 1,
            _ => {
                // A scalar (number, true, false, null).
                next_value(&mut stack);
                while i < bytes.len() && !matches!(bytes[i], b',' | b']' | b'}' | b'\n' | b' ' | b'\t' | b'\r') {
                    i += 1;
                }
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msgs(s: &str) -> Vec<String> {
        find(s.as_bytes()).iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn repeated_members_are_named_with_paths_and_positions() {
        let doc = "{\"apis\": [{\"id\": \"a\"}, {\"id\": \"b\",\n \"path\": \"x\", \"path\": \"y\"}],\n\"revision\": \"1\", \"revision\": \"2\"}";
        let m = msgs(doc);
        assert_eq!(m.len(), 2, "{m:?}");
        assert!(m[0].starts_with("apis[1].path: member 'path' appears more than once (line 2, column 15"), "{m:?}");
        assert!(m[1].starts_with("revision: "), "{m:?}");
        assert!(m[1].contains("line 3"), "{m:?}");
    }

    #[test]
    fn escaped_names_are_the_same_name_and_values_are_not_names() {
        assert_eq!(msgs(r#"{"a": 1, "\u0061": 2}"#).len(), 1);
        assert!(msgs(r#"{"a": "a", "b": ["a", "a", {"a": 1}], "c": {"a": 2}}"#).is_empty());
        let m = msgs(r#"{"x": [1, "s", {"k": 1, "k": 2}]}"#);
        assert_eq!(m.len(), 1);
        assert!(m[0].starts_with("x[2].k:"), "{m:?}");
    }

    #[test]
    fn malformed_input_does_not_panic() {
        for s in ["{\"a", "}}}]]", "{\"a\":\"\\u12", "[[[[", "{\"a\": 1, \"a\"", "\"\\"] {
            let _ = find(s.as_bytes());
        }
    }
}
