//! Counter identities of the subscription-bound limits (`rate-limit`, `quota`), stamped when
//! plans are built, and the scopes APIM allows them in.
//!
//! The identity is the document's owner by id (`global`, `product:<id>`, `api:<id>`,
//! `api:<id>/operation:<id>`), the policy's place in the document (section and element path,
//! counted among same-named siblings) and its definition (`calls`, `renewal-period`, …). A
//! configuration update that leaves a limit where and as it was keeps its counters (also when
//! other policies or APIs are added around it); a changed limit starts fresh.

use super::Scope;
use crate::api_model::{Api, Product};
use crate::policy::document::{Document, Stmt, StmtKind};
use crate::policy::policies::limit::LimitIdent;
use crate::policy::policies::Op;
use crate::policy::runtime::Section;

/// The owner of the document at `path` (`apis[2].operations[0].policy`) and its scope.
pub fn owner(path: &str, apis: &[Api], products: &[Product]) -> (String, Scope) {
    let index = |s: &str, name: &str| -> Option<usize> { s.strip_prefix(name)?.split(']').next()?.parse().ok() };
    let parts: Vec<&str> = path.split('.').collect();
    match parts.as_slice() {
        ["policy"] => ("global".into(), Scope::Global),
        [p, "policy"] if p.starts_with("products[") => {
            let id = index(p, "products[").and_then(|j| products.get(j)).map_or(*p, |x| x.id.as_str());
            (format!("product:{id}"), Scope::Product)
        }
        [a, "policy"] if a.starts_with("apis[") => {
            let id = index(a, "apis[").and_then(|i| apis.get(i)).map_or(*a, |x| x.id.as_str());
            (format!("api:{id}"), Scope::Api)
        }
        [a, o, "policy"] if a.starts_with("apis[") && o.starts_with("operations[") => {
            let api = index(a, "apis[").and_then(|i| apis.get(i));
            let op = api.zip(index(o, "operations[")).and_then(|(x, j)| x.operations.get(j));
            let api_id = api.map_or(*a, |x| x.id.as_str());
            let op_id = op.map_or(*o, |x| x.id.as_str());
            (format!("api:{api_id}/operation:{op_id}"), Scope::Operation)
        }
        _ => (path.to_string(), Scope::Api),
    }
}

/// Stamps the identities of the document's limits; scope problems go to `problems` as
/// `(offset, message)`.
pub fn stamp(doc: &mut Document, owner: &str, scope: Scope, problems: &mut Vec<(usize, String)>) {
    for s in Section::ALL {
        if let Some(stmts) = &mut doc.sections[s.index()] {
            walk(stmts, &format!("{owner}/{}/", s.name()), scope, problems);
        }
    }
}

fn walk(stmts: &mut [Stmt], prefix: &str, scope: Scope, problems: &mut Vec<(usize, String)>) {
    let mut counts: Vec<(Box<str>, usize)> = Vec::new();
    for s in stmts {
        let n = match counts.iter_mut().find(|c| c.0 == s.name) {
            Some(c) => {
                c.1 += 1;
                c.1
            }
            None => {
                counts.push((s.name.clone(), 1));
                1
            }
        };
        let path = format!("{prefix}{}[{n}]", s.name);
        match &mut s.kind {
            StmtKind::Op(Op::RateLimit(r)) => {
                if scope == Scope::Global {
                    problems.push((
                        s.pos,
                        "<rate-limit> is not allowed at global scope (product, API or operation)".into(),
                    ));
                }
                r.ident = LimitIdent(format!("{path}#{}", r.def).into());
            }
            StmtKind::Op(Op::Quota(q)) => {
                if scope != Scope::Product {
                    problems.push((s.pos, format!("<quota> is only allowed at product scope, not {}", scope.name())));
                }
                q.ident = LimitIdent(format!("{path}#{}", q.def).into());
            }
            StmtKind::Choose { whens, otherwise } => {
                for (j, (_, body)) in whens.iter_mut().enumerate() {
                    walk(body, &format!("{path}/when[{}]/", j + 1), scope, problems);
                }
                if let Some(o) = otherwise {
                    walk(o, &format!("{path}/otherwise[1]/"), scope, problems);
                }
            }
            StmtKind::Retry(_, body) | StmtKind::LimitConcurrency(_, body) => {
                walk(body, &format!("{path}/"), scope, problems)
            }
            _ => {}
        }
    }
}
