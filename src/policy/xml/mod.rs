//! Reading policy documents: named values and the expression-aware pre-pass
//! ([`prepass`]), then quick-xml into a positioned element tree ([`tree`]).

pub mod prepass;
pub mod secrets;
pub mod tree;

use std::collections::HashMap;

pub use secrets::Secrets;
pub use tree::{Attr, Element, Node, Src, XmlError};

/// A document read: its tree (or the first problem), the named values it used and its size
/// after substitution (what fragment budgets count).
pub struct Read {
    pub root: Result<Element, XmlError>,
    pub secrets: Secrets,
    pub expanded_len: usize,
}

/// Reads a policy document as written (APIM's raw form or well-formed XML), substituting
/// known named values. Offsets in the tree and in errors refer to `text` as written; error
/// messages never carry a substituted value ([`Secrets::scrub`]).
pub fn read(text: &str, values: &HashMap<String, String>) -> Read {
    let sub = match prepass::substitute(text, values) {
        Ok(s) => s,
        Err(e) => {
            let root = Err(XmlError { offset: e.offset, message: e.message });
            return Read { root, secrets: Secrets::default(), expanded_len: text.len() };
        }
    };
    let outer = &sub.map;
    let root = prepass::prepass(&sub.text)
        .map_err(|e| XmlError { offset: outer.orig(e.offset), message: e.message })
        .and_then(|(xml, map)| tree::parse_tree(&xml, &map, outer))
        .map_err(|e| XmlError { offset: e.offset, message: sub.secrets.scrub(e.message) });
    Read { root, expanded_len: sub.text.len(), secrets: sub.secrets }
}

/// Converts a byte offset into 1-based line and column (column counted in characters).
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let bytes = text.as_bytes();
    let offset = offset.min(bytes.len());
    let before = &bytes[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let column = before[line_start..].iter().filter(|&&b| (b & 0xC0) != 0x80).count() + 1;
    (line, column)
}
