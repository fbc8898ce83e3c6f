//! The front of the policy compiler, as the configuration compiler sees it.
//!
//! Each policy document is compiled by [`crate::policy`] (pre-pass, XML, expressions,
//! policies) when the configuration is compiled; problems come back with line:column
//! (1-based, columns in characters) inside the policy *as written*, before named-value
//! substitution, so positions match what the author sees. Nothing is skipped silently: a
//! gateway that ignores a security policy is worse than one that refuses the document.

use std::collections::HashMap;

use crate::policy::{check_document, DocKind, Document};

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

fn kind_of(kind: PolicyKind) -> DocKind {
    match kind {
        PolicyKind::Policies => DocKind::Policies,
        PolicyKind::Fragment => DocKind::Fragment,
    }
}

/// Compiles one document with the document's named values and backend ids.
pub fn compile_policy(
    text: &str,
    kind: PolicyKind,
    values: &HashMap<String, String>,
    backend_ids: Option<&[String]>,
) -> Result<Document, Vec<PolicyProblem>> {
    check_document(text, kind_of(kind), values, backend_ids)
        .map_err(|ps| ps.into_iter().map(|(line, column, message)| PolicyProblem { line, column, message }).collect())
}

/// Checks one policy document on its own (no named values, backends unknown); an empty
/// vector means it is accepted.
pub fn check_policy(text: &str, kind: PolicyKind) -> Vec<PolicyProblem> {
    compile_policy(text, kind, &HashMap::new(), None).err().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::xml::line_col;

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
    fn unknown_and_unsupported_elements_with_position() {
        let text = "<policies>\n  <inbound>\n    <base />\n    <rate-limt calls=\"1\"/>\n    <validate-content unspecified-content-type-action=\"ignore\"/>\n  </inbound>\n</policies>";
        assert_eq!(
            msgs(text),
            ["4:5: unknown policy element <rate-limt>", "5:5: policy <validate-content> is not supported yet"]
        );
    }

    #[test]
    fn structure_errors() {
        let m = msgs("<policies><inbound/><inbound/><rate-limt/><outbound><forward-request/></outbound><backend><forward-request timeout=\"x\" foo=\"1\"/></backend></policies>");
        assert_eq!(m.len(), 5, "{m:?}");
        assert!(m[0].contains("more than once"));
        assert!(m[1].starts_with("1:31: unknown policy section <rate-limt>"));
        assert!(m[2].contains("not allowed in <outbound>"));
        assert!(m[3].contains("timeout"));
        assert!(m[4].contains("unknown attribute 'foo'"));
    }

    #[test]
    fn wrong_root_and_text() {
        let m = msgs("<policy>hello</policy>");
        assert!(m[0].contains("root element must be <policies>"), "{m:?}");
        assert!(msgs("<policies>hello</policies>")[0].starts_with("1:11: text content"));
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
