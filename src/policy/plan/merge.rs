//! Scope merge: global → product → API → operation, per section, through `<base/>`.
//!
//! Rules: in a present section, `<base/>` is replaced by the enclosing scope's merged
//! statements of that section and a section without `<base/>` inherits nothing. An absent
//! document, or an absent section, behaves like `<base/>` alone (so an operation document
//! with only `<inbound>` still forwards). At global scope `<base/>` is nothing, and the
//! default global backend is `<forward-request/>`.

use super::Scope;
use crate::policy::document::{Document, Stmt, StmtKind};
use crate::policy::policies::forward_request::ForwardRequest;
use crate::policy::policies::Op;
use crate::policy::runtime::Section;

/// The default global backend section.
pub fn default_backend() -> Vec<Stmt> {
    vec![Stmt {
        name: "forward-request".into(),
        pos: 0,
        id: "".into(),
        kind: StmtKind::Op(Op::ForwardRequest(ForwardRequest::default())),
    }]
}

/// Merged statements of one section: `levels[0]` is global, later levels nest inside.
pub fn merge<'d>(
    levels: &[(Scope, Option<&'d Document>)],
    section: Section,
    default: &'d [Stmt],
) -> Vec<(Scope, &'d Stmt)> {
    let Some((last, outer)) = levels.split_last() else { return Vec::new() };
    let (scope, doc) = *last;
    let own = doc.and_then(|d| d.sections[section.index()].as_ref());
    if outer.is_empty() {
        let stmts: &[Stmt] = match own {
            Some(s) => s,
            None if section == Section::Backend => default,
            None => &[],
        };
        return stmts.iter().filter(|s| !matches!(s.kind, StmtKind::Base)).map(|s| (scope, s)).collect();
    }
    match own {
        None => merge(outer, section, default),
        Some(stmts) => {
            let mut out = Vec::new();
            for s in stmts {
                if matches!(s.kind, StmtKind::Base) {
                    out.extend(merge(outer, section, default));
                } else {
                    out.push((scope, s));
                }
            }
            out
        }
    }
}
