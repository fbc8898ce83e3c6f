//! Reading policy documents: named values and the expression-aware pre-pass
//! ([`prepass`]), then quick-xml into a positioned element tree ([`tree`]).

pub mod prepass;
pub mod tree;

use std::collections::HashMap;

pub use tree::{Attr, Element, Node, Src, XmlError};

/// Reads a policy document as written (APIM's raw form or well-formed XML), substituting
/// known named values. Offsets in the tree and in errors refer to `text` as written.
pub fn read(text: &str, values: &HashMap<String, String>) -> Result<Element, XmlError> {
    let (subst, outer) = prepass::substitute(text, values);
    let (xml, map) =
        prepass::prepass(&subst).map_err(|e| XmlError { offset: outer.orig(e.offset), message: e.message })?;
    tree::parse_tree(&xml, &map, &outer)
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
