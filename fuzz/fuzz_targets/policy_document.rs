//! The policy document loader (src/policy/document.rs, every policy's compile, expressions):
//! arbitrary text as a `<policies>` document and as a `<fragment>`.
//!
//! Holds: no panic; every problem points into the text as written and has a message.
#![no_main]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;
use ringgate::policy::{compile_document, DocKind};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let values: HashMap<String, String> =
        [("host".to_string(), "backend.example.org".to_string()), ("n".to_string(), "5".to_string())].into();
    let backends = ["orders".to_string(), "backend-b".to_string()];
    for kind in [DocKind::Policies, DocKind::Fragment] {
        if let Err(problems) = compile_document(text, kind, &values, Some(&backends)) {
            assert!(!problems.is_empty(), "refused without a problem");
            for (at, message) in &problems {
                assert!(*at <= text.len(), "problem at {at} past the end {}: {message}", text.len());
                assert!(!message.is_empty());
            }
        }
    }
});
