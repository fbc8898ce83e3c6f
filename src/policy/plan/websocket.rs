//! APIM's rules for the one operation of a WebSocket API, `onHandshake`: the policies below
//! cannot apply to a handshake (they answer for the backend, cache or reshape a body that does
//! not exist, or change the method the upgrade needs). Written at API or operation scope they
//! are refused at load; inherited from global or product scope they are skipped, as APIM skips
//! them ("Unsupported policies", learn.microsoft.com/azure/api-management/websocket-api).

use crate::policy::document::{Document, Stmt, StmtKind};

pub const NOT_ON_HANDSHAKE: [&str; 15] = [
    "mock-response",
    "cache-lookup",
    "cache-store",
    "cross-domain",
    "cors",
    "jsonp",
    "set-method",
    "set-body",
    "xml-to-json",
    "json-to-xml",
    "xsl-transform",
    "validate-content",
    "validate-parameters",
    "validate-headers",
    "validate-status-code",
];

fn unsupported(s: &Stmt) -> bool {
    NOT_ON_HANDSHAKE.contains(&&*s.name)
}

/// Every statement of `doc` (nested ones too) that a handshake cannot run: offset and name.
pub fn refused(doc: &Document) -> Vec<(usize, Box<str>)> {
    fn walk(stmts: &[Stmt], out: &mut Vec<(usize, Box<str>)>) {
        for s in stmts {
            if unsupported(s) {
                out.push((s.pos, s.name.clone()));
            }
            for inner in children(&s.kind) {
                walk(inner, out);
            }
        }
    }
    let mut out = Vec::new();
    for section in doc.sections.iter().flatten() {
        walk(section, &mut out);
    }
    out
}

/// `doc` without the statements a handshake skips (an inherited scope's).
pub fn skipping_unsupported(doc: &Document) -> Document {
    fn keep(stmts: &[Stmt]) -> Vec<Stmt> {
        stmts
            .iter()
            .filter(|s| !unsupported(s))
            .map(|s| {
                let mut s = s.clone();
                match &mut s.kind {
                    StmtKind::Choose { whens, otherwise } => {
                        for (_, body) in whens.iter_mut() {
                            *body = keep(body);
                        }
                        if let Some(o) = otherwise {
                            *o = keep(o);
                        }
                    }
                    StmtKind::Retry(_, body) | StmtKind::LimitConcurrency(_, body) => *body = keep(body),
                    StmtKind::Base | StmtKind::Include(_) | StmtKind::Op(_) => {}
                }
                s
            })
            .collect()
    }
    let mut d = doc.clone();
    for section in d.sections.iter_mut().flatten() {
        *section = keep(section);
    }
    d
}

fn children(kind: &StmtKind) -> Vec<&[Stmt]> {
    match kind {
        StmtKind::Choose { whens, otherwise } => {
            whens.iter().map(|(_, b)| b.as_slice()).chain(otherwise.as_deref()).collect()
        }
        StmtKind::Retry(_, body) | StmtKind::LimitConcurrency(_, body) => vec![body.as_slice()],
        StmtKind::Base | StmtKind::Include(_) | StmtKind::Op(_) => Vec::new(),
    }
}
