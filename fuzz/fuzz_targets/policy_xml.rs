//! The policy reader (src/policy/xml): named-value substitution, the expression-aware pre-pass
//! that turns APIM's raw form into XML, and the positioned element tree.
//!
//! Holds: no panic; every offset the reader reports (element, attribute, text byte, error)
//! points into the text as written, so line:column messages are always real positions.
#![no_main]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;
use ringgate::policy::xml::{self, Element, Node, Src};

fn check_src(s: &Src, len: usize) {
    for i in 0..=s.text.len() {
        assert!(s.pos(i) <= len, "text byte {i} at offset {} past the end {len}", s.pos(i));
    }
}

fn check(el: &Element, len: usize) {
    assert!(el.pos <= len, "element <{}> at {} past the end {len}", el.name, el.pos);
    for a in &el.attrs {
        assert!(a.pos <= len, "attribute {} at {} past the end {len}", a.name, a.pos);
        check_src(&a.value, len);
    }
    for c in &el.children {
        match c {
            Node::Element(e) => check(e, len),
            Node::Text(t) => check_src(t, len),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let values: HashMap<String, String> = [
        ("host", "backend.example.org"),
        ("expr", "@(context.Request.Method)"),
        ("markup", "\"<>&'"),
        ("empty", ""),
        ("nested", "{{host}}"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    match xml::read(text, &values).root {
        Ok(root) => check(&root, text.len()),
        Err(e) => {
            assert!(e.offset <= text.len(), "error at {} past the end {}: {}", e.offset, text.len(), e.message);
            let _ = xml::line_col(text, e.offset);
        }
    }
});
