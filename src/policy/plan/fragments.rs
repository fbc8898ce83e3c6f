//! `include-fragment` resolution, once per load: fragments are resolved depth-first (a
//! fragment including itself, directly or not, is a cycle), then every document's includes
//! are replaced by the fragment's statements, checking the including section allows them.
//!
//! Budgets, measured on the expanded size before anything is expanded: a fragment's size is
//! its own text (named values substituted) plus the sizes of everything it includes, each
//! time it includes it, so ten fragments each including the previous one ten times are seen
//! as the 10^10-fold document they would be. A fragment or document beyond
//! [`MAX_EXPANDED`] bytes, all documents together beyond [`MAX_TOTAL`], or includes nested
//! deeper than [`MAX_DEPTH`], are refused with the path of the offending document.

use std::collections::{HashMap, HashSet};

use crate::policy::document::{Stmt, StmtKind};
use crate::policy::policies::registry;
use crate::policy::runtime::Section;
pub use crate::policy::xml::prepass::MAX_EXPANDED;

/// Expanded bytes of all policy documents of one configuration together.
pub const MAX_TOTAL: u64 = 64 * 1024 * 1024;

/// Deepest chain of fragments including fragments.
pub const MAX_DEPTH: usize = 16;

/// A problem: (document path, offset in that document, message).
pub type PathProblem = (String, usize, String);

pub struct Fragments<'a> {
    raw: &'a HashMap<String, Vec<Stmt>>,
    /// Own size of each fragment (its text with named values substituted).
    own: &'a HashMap<String, usize>,
    /// Expanded size (saturating) and include-chain height of each fragment.
    sizes: HashMap<String, (u64, usize)>,
    /// Fragments over a budget: never expanded, reported once, refused where included.
    refused: HashSet<String>,
    done: HashMap<String, Vec<Stmt>>,
    pub problems: Vec<PathProblem>,
    /// Expanded bytes of the documents applied so far.
    total: u64,
}

fn frag_path(id: &str) -> String {
    format!("policyFragments.{id}")
}

/// Every `include-fragment` in `stmts`, nested ones too: (fragment id, offset).
fn includes(stmts: &[Stmt], out: &mut Vec<(String, usize)>) {
    for s in stmts {
        match &s.kind {
            StmtKind::Include(id) => out.push((id.clone(), s.pos)),
            StmtKind::Choose { whens, otherwise } => {
                whens.iter().for_each(|w| includes(&w.1, out));
                if let Some(o) = otherwise {
                    includes(o, out);
                }
            }
            StmtKind::Retry(_, b) | StmtKind::LimitConcurrency(_, b) => includes(b, out),
            _ => {}
        }
    }
}

impl<'a> Fragments<'a> {
    pub fn new(raw: &'a HashMap<String, Vec<Stmt>>, own: &'a HashMap<String, usize>) -> Fragments<'a> {
        let mut f = Fragments {
            raw,
            own,
            sizes: HashMap::new(),
            refused: HashSet::new(),
            done: HashMap::new(),
            problems: Vec::new(),
            total: 0,
        };
        let mut ids: Vec<&String> = raw.keys().collect();
        ids.sort();
        for id in &ids {
            let measured = f.measure(id, &mut Vec::new()).filter(|m| m.1 <= MAX_DEPTH);
            let Some((size, _)) = measured else {
                f.problems.push((
                    frag_path(id),
                    0,
                    format!("fragment '{id}' nests includes deeper than {MAX_DEPTH} fragments"),
                ));
                f.refused.insert(id.to_string());
                continue;
            };
            if size > MAX_EXPANDED as u64 {
                let own = own.get(id.as_str()).copied().unwrap_or(0);
                f.problems.push((
                    frag_path(id),
                    0,
                    format!(
                        "fragment '{id}' expands to {size} bytes through its includes (written: {own} bytes), \
                         beyond the budget of {MAX_EXPANDED} bytes per document"
                    ),
                ));
                f.refused.insert(id.to_string());
            }
        }
        for id in ids {
            let mut stack = Vec::new();
            f.resolve(id, &mut stack);
        }
        f
    }

    /// The expanded size of fragment `id` and the height of its include chain (memoised;
    /// a cycle counts 0 here: `inline` reports it). `None`: includes nest deeper than
    /// [`MAX_DEPTH`] below `stack` (not memoised, so each fragment is judged on its own chain;
    /// the walk never recurses deeper than the limit, however long a chain is written).
    fn measure(&mut self, id: &str, stack: &mut Vec<String>) -> Option<(u64, usize)> {
        if let Some(&s) = self.sizes.get(id) {
            return Some(s);
        }
        let Some(raw) = self.raw.get(id) else { return Some((0, 0)) };
        if stack.iter().any(|s| s == id) {
            return Some((0, 0));
        }
        if stack.len() >= MAX_DEPTH {
            return None;
        }
        let mut inc = Vec::new();
        includes(raw, &mut inc);
        stack.push(id.to_string());
        let (mut size, mut height) = (self.own.get(id).copied().unwrap_or(0) as u64, 1);
        for (child, _) in inc {
            let Some((s, h)) = self.measure(&child, stack) else {
                stack.pop();
                return None;
            };
            size = size.saturating_add(s);
            height = height.max(h + 1);
        }
        stack.pop();
        self.sizes.insert(id.to_string(), (size, height));
        Some((size, height))
    }

    fn resolve(&mut self, id: &str, stack: &mut Vec<String>) -> Option<Vec<Stmt>> {
        if let Some(d) = self.done.get(id) {
            return Some(d.clone());
        }
        let raw = self.raw.get(id)?;
        if self.refused.contains(id) || stack.len() > MAX_DEPTH {
            // Reported already; expanding it is what the budget prevents.
            self.done.insert(id.to_string(), Vec::new());
            return Some(Vec::new());
        }
        stack.push(id.to_string());
        let out = self.inline(raw.clone(), &frag_path(id), stack);
        stack.pop();
        self.done.insert(id.to_string(), out.clone());
        Some(out)
    }

    /// Checks the expanded size of a document (`own` bytes written, named values substituted,
    /// with `sections`' includes) against the per-document and per-configuration budgets;
    /// `false`: refused (reported), and its includes must not be expanded.
    pub fn check_document(&mut self, path: &str, own: usize, sections: &[&[Stmt]]) -> bool {
        let mut inc = Vec::new();
        for s in sections {
            includes(s, &mut inc);
        }
        let mut size = own as u64;
        for (id, _) in &inc {
            size = size.saturating_add(self.sizes.get(id).map_or(0, |s| s.0));
        }
        if size > MAX_EXPANDED as u64 {
            self.problems.push((
                path.to_string(),
                0,
                format!(
                    "document expands to {size} bytes through its fragments (written: {own} bytes), \
                     beyond the budget of {MAX_EXPANDED} bytes per document"
                ),
            ));
            return false;
        }
        let before = self.total;
        self.total = self.total.saturating_add(size);
        if before <= MAX_TOTAL && self.total > MAX_TOTAL {
            self.problems.push((
                path.to_string(),
                0,
                format!(
                    "policy documents expand to more than {MAX_TOTAL} bytes in all (this one to {size}), \
                     beyond the budget of one configuration"
                ),
            ));
        }
        self.total <= MAX_TOTAL
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
                StmtKind::Include(ref id) if self.refused.contains(id) => {
                    let size = self.sizes.get(id).map_or(0, |s| s.0);
                    self.problems.push((
                        path.to_string(),
                        s.pos,
                        format!("includes fragment '{id}', which is refused ({size} bytes expanded)"),
                    ));
                }
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
