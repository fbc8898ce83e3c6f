//! Expressions (lexer, parser, type checker and compiler of src/policy/expr) reached the way
//! configuration reaches them: through the policy loader, so the target survives changes of
//! the inner API. The input is placed as a single expression `@(…)`, a block `@{…}`, a
//! condition and element text, chosen by the first byte.
//!
//! Holds: no panic; a refused expression yields problems inside the document text.
#![no_main]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;
use ringgate::policy::{compile_document, DocKind};

fuzz_target!(|data: &[u8]| {
    let Some((&form, rest)) = data.split_first() else { return };
    let expr = String::from_utf8_lossy(rest);
    let doc = match form % 5 {
        0 => format!(r#"<policies><inbound><set-variable name="v" value="@({expr})" /></inbound></policies>"#),
        1 => format!(r#"<policies><inbound><set-variable name="v" value="@{{{expr}}}" /></inbound></policies>"#),
        2 => format!(
            r#"<policies><inbound><choose><when condition="@({expr})"><set-header name="x" exists-action="override"><value>1</value></set-header></when></choose></inbound></policies>"#
        ),
        3 => format!(r#"<policies><inbound><set-body>@{{{expr}}}</set-body></inbound></policies>"#),
        _ => format!(
            r#"<policies><outbound><set-header name="x" exists-action="override"><value>@({expr})</value></set-header></outbound></policies>"#
        ),
    };
    if let Err(problems) = compile_document(&doc, DocKind::Policies, &HashMap::new(), None) {
        assert!(!problems.is_empty());
        for (at, message) in &problems {
            assert!(*at <= doc.len(), "problem at {at} past the end {}: {message}", doc.len());
        }
    }
});
