//! `include-fragment` resolution, once per load: fragments are resolved depth-first (a
//! fragment including itself, directly or not, is a cycle), then every document's includes
//! are replaced by the fragment's statements, checking the including section allows them.

use std::collections::HashMap;

use crate::policy::document::{Stmt, StmtKind};
use crate::policy::policies::registry;
use crate::policy::runtime::Section;

/// A problem: (document path, offset in that document, message).
pub type PathProblem = (String, usize, String);

pub struct Fragments<'a> {
    raw: &'a HashMap<String, Vec<Stmt>>,
    done: HashMap<String, Vec<Stmt>>,
    pub problems: Vec<PathProblem>,
}

fn frag_path(id: &str) -> String {
    format!("policyFragments.{id}")
}

impl<'a> Fragments<'a> {
    pub fn new(raw: &'a HashMap<String, Vec<Stmt>>) -> Fragments<'a> {
        let mut f = Fragments { raw, done: HashMap::new(), problems: Vec::new() };
        let mut ids: Vec<&String> = raw.keys().collect();
        ids.sort();
        for id in ids {
            let mut stack = Vec::new();
            f.resolve(id, &mut stack);
        }
        f
    }

    fn resolve(&mut self, id: &str, stack: &mut Vec<String>) -> Option<Vec<Stmt>> {
        if let Some(d) = self.done.get(id) {
            return Some(d.clone());
        }
        let raw = self.raw.get(id)?;
        if stack.len() > 32 {
            return None;
        }
        stack.push(id.to_string());
        let out = self.inline(raw.clone(), &frag_path(id), stack);
        stack.pop();
        self.done.insert(id.to_string(), out.clone());
        Some(out)
    }

    fn inline(&mut self, stmts: Vec<Stmt>, path: &str, stack: &mut Vec<String>) -> Vec<Stmt> {
        let mut out = Vec::with_capacity(stmts.len());
        for mut s in stmts {
            match s.kind {
                StmtKind::Include(ref id) => {
                    let id = id.clone();
                    if stack.contains(&id) {
                        let chain = stack.join(" -> ");
                        self.problems.push((path.to_string(), s.pos, format!("fragment cycle: {chain} -> {id}")));
                        continue;
                    }
                    match self.resolve(&id, stack) {
                        Some(body) => out.extend(body),
                        None if self.raw.contains_key(&id) => {}
                        None => {
                            self.problems.push((path.to_string(), s.pos, format!("unknown policy fragment '{id}'")))
                        }
                    }
                }
                StmtKind::Choose { whens, otherwise } => {
                    let whens = whens.into_iter().map(|(c, b)| (c, self.inline(b, path, stack))).collect();
                    let otherwise = otherwise.map(|o| self.inline(o, path, stack));
                    s.kind = StmtKind::Choose { whens, otherwise };
                    out.push(s);
                }
                StmtKind::Retry(spec, body) => {
                    s.kind = StmtKind::Retry(spec, self.inline(body, path, stack));
                    out.push(s);
                }
                StmtKind::LimitConcurrency(spec, body) => {
                    s.kind = StmtKind::LimitConcurrency(spec, self.inline(body, path, stack));
                    out.push(s);
                }
                _ => out.push(s),
            }
        }
        out
    }

    /// Replaces includes in a document section; `path` names the document for problems.
    pub fn apply(&mut self, stmts: Vec<Stmt>, path: &str, section: Section) -> Vec<Stmt> {
        let mut out = Vec::with_capacity(stmts.len());
        for mut s in stmts {
            match s.kind {
                StmtKind::Include(ref id) => match self.done.get(id).cloned() {
                    Some(body) => {
                        if let Some(bad) = first_disallowed(&body, section) {
                            self.problems.push((
                                path.to_string(),
                                s.pos,
                                format!(
                                    "fragment '{id}' contains <{bad}>, which is not allowed in <{}>",
                                    section.name()
                                ),
                            ));
                        }
                        out.extend(body);
                    }
                    None if self.raw.contains_key(id) => {}
                    None => self.problems.push((path.to_string(), s.pos, format!("unknown policy fragment '{id}'"))),
                },
                StmtKind::Choose { whens, otherwise } => {
                    let whens = whens.into_iter().map(|(c, b)| (c, self.apply(b, path, section))).collect();
                    let otherwise = otherwise.map(|o| self.apply(o, path, section));
                    s.kind = StmtKind::Choose { whens, otherwise };
                    out.push(s);
                }
                StmtKind::Retry(spec, body) => {
                    s.kind = StmtKind::Retry(spec, self.apply(body, path, section));
                    out.push(s);
                }
                StmtKind::LimitConcurrency(spec, body) => {
                    s.kind = StmtKind::LimitConcurrency(spec, self.apply(body, path, section));
                    out.push(s);
                }
                _ => out.push(s),
            }
        }
        out
    }
}

fn first_disallowed(stmts: &[Stmt], section: Section) -> Option<String> {
    for s in stmts {
        if matches!(s.kind, StmtKind::Base) {
            return Some("base".into());
        }
        if !registry::allowed(&s.name).is_some_and(|a| a.contains(&section)) {
            return Some(s.name.to_string());
        }
        let nested: Vec<&Vec<Stmt>> = match &s.kind {
            StmtKind::Choose { whens, otherwise } => whens.iter().map(|w| &w.1).chain(otherwise.iter()).collect(),
            StmtKind::Retry(_, b) | StmtKind::LimitConcurrency(_, b) => vec![b],
            _ => Vec::new(),
        };
        for n in nested {
            if let Some(b) = first_disallowed(n, section) {
                return Some(b);
            }
        }
    }
    None
}
