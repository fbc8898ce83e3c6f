//! Structural check of policy documents until the policy engine exists.
//!
//! Accepted today: `<policies>` with at most one each of `inbound`, `backend`, `outbound`,
//! `on-error`; inside them only `<base/>`, and in `backend` also `<forward-request/>` with an
//! optional integer `timeout`. Anything else is reported with its line:column (1-based,
//! columns in characters) inside the policy string — never skipped silently, because a
//! gateway that ignores a security policy is worse than one that refuses the document.
//! The check runs on the policy as written (before `{{name}}` substitution), so positions
//! match what the author sees.

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

/// What kind of document is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyKind {
    /// `<policies>…</policies>` at global, product, API or operation scope.
    Policies,
    /// `<fragment>…</fragment>`.
    Fragment,
}

/// A problem inside one policy: 1-based line and column plus message.
#[derive(Clone, Debug, PartialEq)]
pub struct PolicyProblem {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

const SECTIONS: [&str; 4] = ["inbound", "backend", "outbound", "on-error"];

/// Converts a byte offset into 1-based line and column (column counted in characters).
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let bytes = text.as_bytes();
    let offset = offset.min(bytes.len());
    let before = &bytes[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    // Count characters, not bytes: skip UTF-8 continuation bytes.
    let column = before[line_start..].iter().filter(|&&b| (b & 0xC0) != 0x80).count() + 1;
    (line, column)
}

struct Checker<'a> {
    text: &'a str,
    problems: Vec<PolicyProblem>,
}

impl Checker<'_> {
    fn at(&mut self, offset: u64, message: String) {
        let (line, column) = line_col(self.text, usize::try_from(offset).unwrap_or(usize::MAX));
        self.problems.push(PolicyProblem { line, column, message });
    }
}

/// Checks one policy document; an empty vector means it is accepted.
pub fn check_policy(text: &str, kind: PolicyKind) -> Vec<PolicyProblem> {
    let mut c = Checker { text, problems: Vec::new() };
    let mut reader = Reader::from_str(text);
    // Element path: names of open elements.
    let mut stack: Vec<String> = Vec::new();
    let mut seen_sections: Vec<String> = Vec::new();
    let mut root_seen = false;
    loop {
        let start = reader.buffer_position();
        let event = match reader.read_event() {
            Ok(e) => e,
            Err(e) => {
                let pos = reader.error_position();
                c.at(pos, format!("malformed XML: {e}"));
                return c.problems;
            }
        };
        match event {
            Event::Eof => break,
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                check_element(&mut c, start, e, &name, &stack, &mut seen_sections, &mut root_seen, kind);
                if !empty {
                    stack.push(name);
                }
            }
            Event::End(_) => {
                stack.pop();
            }
            Event::Text(t) => {
                if t.iter().any(|b| !b.is_ascii_whitespace()) {
                    c.at(start, "text content is not allowed here".into());
                }
            }
            Event::CData(_) => c.at(start, "CDATA is not allowed here".into()),
            Event::DocType(_) => c.at(start, "DOCTYPE is not allowed in a policy".into()),
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
        }
    }
    if let Some(open) = stack.last() {
        let end = reader.buffer_position();
        c.at(end, format!("unexpected end of document: <{open}> is not closed"));
    }
    if !root_seen && c.problems.is_empty() {
        let root = match kind {
            PolicyKind::Policies => "policies",
            PolicyKind::Fragment => "fragment",
        };
        c.at(0, format!("empty policy document: expected <{root}>"));
    }
    c.problems
}

#[allow(clippy::too_many_arguments)]
fn check_element(
    c: &mut Checker<'_>,
    pos: u64,
    e: &BytesStart<'_>,
    name: &str,
    stack: &[String],
    seen_sections: &mut Vec<String>,
    root_seen: &mut bool,
    kind: PolicyKind,
) {
    let root = match kind {
        PolicyKind::Policies => "policies",
        PolicyKind::Fragment => "fragment",
    };
    match stack {
        [] => {
            if *root_seen {
                c.at(pos, "only one root element is allowed".into());
            } else if name != root {
                c.at(pos, format!("root element must be <{root}>, found <{name}>"));
            }
            *root_seen = true;
            check_no_attributes(c, pos, e, name);
        }
        [_] if kind == PolicyKind::Policies => {
            if !SECTIONS.contains(&name) {
                c.at(pos, format!("unknown policy section <{name}> (expected inbound, backend, outbound or on-error)"));
            } else if seen_sections.iter().any(|s| s == name) {
                c.at(pos, format!("section <{name}> appears more than once"));
            } else {
                seen_sections.push(name.to_string());
            }
            check_no_attributes(c, pos, e, name);
        }
        [_, section] if kind == PolicyKind::Policies && SECTIONS.contains(&section.as_str()) => match name {
            "base" => check_no_attributes(c, pos, e, name),
            "forward-request" if section == "backend" => check_forward_request(c, pos, e),
            "forward-request" => {
                c.at(pos, format!("<forward-request> is only allowed in <backend>, not in <{section}>"))
            }
            _ => c.at(pos, format!("policy element <{name}> is not supported yet (the policy engine is not built)")),
        },
        [.., parent] => {
            if matches!(parent.as_str(), "base" | "forward-request") {
                c.at(pos, format!("<{parent}> takes no child elements, found <{name}>"));
            } else {
                c.at(pos, format!("policy element <{name}> is not supported yet (the policy engine is not built)"));
            }
        }
    }
}

fn check_no_attributes(c: &mut Checker<'_>, pos: u64, e: &BytesStart<'_>, name: &str) {
    for a in e.attributes() {
        match a {
            Ok(a) => {
                let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
                if !key.starts_with("xmlns") {
                    c.at(pos, format!("attribute '{key}' is not supported on <{name}>"));
                }
            }
            Err(err) => c.at(pos, format!("malformed attribute on <{name}>: {err}")),
        }
    }
}

fn check_forward_request(c: &mut Checker<'_>, pos: u64, e: &BytesStart<'_>) {
    for a in e.attributes() {
        match a {
            Ok(a) if a.key.as_ref() == b"timeout" => {
                let v = String::from_utf8_lossy(&a.value).into_owned();
                if v.parse::<u32>().is_err() {
                    c.at(pos, format!("forward-request timeout must be a whole number of seconds, found '{v}'"));
                }
            }
            Ok(a) => {
                let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
                c.at(pos, format!("attribute '{key}' of <forward-request> is not supported yet"));
            }
            Err(err) => c.at(pos, format!("malformed attribute on <forward-request>: {err}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msgs(text: &str) -> Vec<String> {
        check_policy(text, PolicyKind::Policies)
            .into_iter()
            .map(|p| format!("{}:{}: {}", p.line, p.column, p.message))
            .collect()
    }

    #[test]
    fn accepts_supported_shape() {
        let ok = "<?xml version=\"1.0\"?>\n<policies>\n  <inbound><base /></inbound>\n  <backend>\n    <forward-request timeout=\"30\"/>\n  </backend>\n  <!-- c -->\n  <outbound><base/></outbound>\n  <on-error/>\n</policies>";
        assert_eq!(msgs(ok), Vec::<String>::new());
    }

    #[test]
    fn unsupported_element_with_position() {
        let text = "<policies>\n  <inbound>\n    <base />\n    <set-header name=\"x\" />\n  </inbound>\n</policies>";
        assert_eq!(
            msgs(text),
            ["4:5: policy element <set-header> is not supported yet (the policy engine is not built)"]
        );
    }

    #[test]
    fn structure_errors() {
        let m = msgs("<policies><inbound/><inbound/><rate-limt/><outbound><forward-request/></outbound><backend><forward-request timeout=\"x\" foo=\"1\"/></backend></policies>");
        assert_eq!(m.len(), 5, "{m:?}");
        assert!(m[0].contains("more than once"));
        assert!(m[1].starts_with("1:31: unknown policy section <rate-limt>"));
        assert!(m[2].contains("only allowed in <backend>"));
        assert!(m[3].contains("timeout"));
        assert!(m[4].contains("'foo'"));
    }

    #[test]
    fn wrong_root_and_text() {
        let m = msgs("<policy>hello</policy>");
        assert_eq!(m.len(), 2, "{m:?}");
        assert!(m[0].contains("root element must be <policies>"));
        assert!(m[1].starts_with("1:9: text content"));
    }

    #[test]
    fn malformed_xml() {
        let m = msgs("<policies>\n<inbound>\n</outbound></policies>");
        assert_eq!(m.len(), 1);
        assert!(m[0].starts_with("3:"), "{m:?}");
        assert!(msgs("<policies><inbound>")[0].contains("not closed"));
        assert!(msgs("")[0].contains("empty policy"));
        assert!(msgs("<policies/><policies/>")[0].contains("only one root"));
        assert!(!msgs("<policies attr=>").is_empty());
    }

    #[test]
    fn fragments() {
        assert!(check_policy("<fragment></fragment>", PolicyKind::Fragment).is_empty());
        let p = check_policy("<fragment>\n <set-header/></fragment>", PolicyKind::Fragment);
        assert_eq!((p[0].line, p[0].column), (2, 2));
    }

    #[test]
    fn line_col_counts_chars() {
        assert_eq!(line_col("é\nab", 4), (2, 2));
        assert_eq!(line_col("éx", 2), (1, 2));
        assert_eq!(line_col("abc", 99), (1, 4));
    }
}
