//! Merged statements → a flat list of steps with jumps; each step knows its
//! `LastError.Path` (XPath-like: `choose[1]/when[2]/set-header[1]`, indexes counted among
//! siblings of the same name).

use std::sync::Arc;

use super::{Meta, Scope, Step, StepKind};
use crate::policy::document::{Stmt, StmtKind};

fn idx(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

pub fn flatten(items: &[(Scope, &Stmt)]) -> Vec<Step> {
    let mut out = Vec::new();
    emit(items, "", &mut out);
    out
}

fn emit(items: &[(Scope, &Stmt)], prefix: &str, out: &mut Vec<Step>) {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for (scope, s) in items {
        let n = match counts.iter_mut().find(|c| c.0 == &*s.name) {
            Some(c) => {
                c.1 += 1;
                c.1
            }
            None => {
                counts.push((&s.name, 1));
                1
            }
        };
        let path = format!("{prefix}{}[{n}]", s.name);
        let meta = |path: &str, name: &str| {
            Arc::new(Meta { name: name.into(), path: path.into(), policy_id: s.id.clone(), scope: *scope })
        };
        match &s.kind {
            StmtKind::Base | StmtKind::Include(_) => {}
            StmtKind::Op(op) => out.push(Step { kind: StepKind::Op(op.clone()), meta: meta(&path, &s.name) }),
            StmtKind::Choose { whens, otherwise } => {
                let mut to_end = Vec::new();
                for (j, (cond, body)) in whens.iter().enumerate() {
                    let wpath = format!("{path}/when[{}]", j + 1);
                    let at = out.len();
                    out.push(Step {
                        kind: StepKind::Branch { cond: cond.clone(), else_to: 0 },
                        meta: meta(&wpath, "choose"),
                    });
                    let nested: Vec<(Scope, &Stmt)> = body.iter().map(|b| (*scope, b)).collect();
                    emit(&nested, &format!("{wpath}/"), out);
                    to_end.push(out.len());
                    out.push(Step { kind: StepKind::Jump(0), meta: meta(&wpath, "choose") });
                    let next = idx(out.len());
                    if let StepKind::Branch { else_to, .. } = &mut out[at].kind {
                        *else_to = next;
                    }
                }
                if let Some(o) = otherwise {
                    let opath = format!("{path}/otherwise[1]/");
                    let nested: Vec<(Scope, &Stmt)> = o.iter().map(|b| (*scope, b)).collect();
                    emit(&nested, &opath, out);
                }
                let end = idx(out.len());
                for j in to_end {
                    out[j].kind = StepKind::Jump(end);
                }
            }
            StmtKind::Retry(spec, body) => {
                let start = out.len();
                out.push(Step {
                    kind: StepKind::RetryStart { spec: spec.clone(), end: 0 },
                    meta: meta(&path, "retry"),
                });
                let nested: Vec<(Scope, &Stmt)> = body.iter().map(|b| (*scope, b)).collect();
                emit(&nested, &format!("{path}/"), out);
                out.push(Step { kind: StepKind::RetryEnd { start: idx(start) }, meta: meta(&path, "retry") });
                let end = idx(out.len());
                if let StepKind::RetryStart { end: e, .. } = &mut out[start].kind {
                    *e = end;
                }
            }
            StmtKind::LimitConcurrency(spec, body) => {
                let m = meta(&path, "limit-concurrency");
                out.push(Step { kind: StepKind::ConcurrencyStart(spec.clone()), meta: m.clone() });
                let nested: Vec<(Scope, &Stmt)> = body.iter().map(|b| (*scope, b)).collect();
                emit(&nested, &format!("{path}/"), out);
                out.push(Step { kind: StepKind::ConcurrencyEnd, meta: m });
            }
        }
    }
}
