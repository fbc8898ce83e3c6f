//! The router: request path (+ version, scheme, method) → API and operation.
//!
//! Built once per snapshot; [`Router::route`] does not allocate.
//! Chosen semantics (documented because APIM leaves some of it open):
//! - API paths match segment by segment, ASCII case-insensitively (APIM treats the API URL
//!   suffix case-insensitively); the longest matching API path wins, the root API `""`
//!   catches everything else. Matching is on the raw path: no percent-decoding.
//! - Versions: Segment (the segment after the API path), Header or Query; version ids are
//!   compared ASCII case-insensitively. With no version identifier the "Original" API (one in
//!   the set without `apiVersion`) answers. An unknown version *segment* falls to the Original
//!   (the segment is then part of the operation path); an unknown version header or query
//!   value matches no API at this path. When no API at a path accepts the request, a shorter
//!   API path may still match (for example the root API).
//! - The scheme is checked after the API is chosen: wrong scheme = `ApiNotFound`.
//! - Operations: see `template.rs` for path precedence; among equally specific templates an
//!   exact method beats `*`, then document order decides.

use std::cmp::Ordering;

use super::hosts::cmp_lower;
use super::template::Template;
use crate::api_model::{ApiIdx, OpIdx, Protocols, Scheme};

/// Read access to request headers, by lowercase name.
pub trait HeaderLookup {
    fn header(&self, lowercase_name: &str) -> Option<&[u8]>;
}

/// What the router needs from a request.
#[derive(Clone, Copy, Debug)]
pub struct RouteRequest<'a> {
    /// Raw path without the query, starting with '/'.
    pub path: &'a str,
    /// Query without '?', may be "".
    pub query: &'a str,
    pub method: &'a str,
    pub scheme: Scheme,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RouteOutcome {
    Matched(RouteMatch),
    ApiNotFound,
    OperationNotFound { api: ApiIdx },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RouteMatch {
    pub api: ApiIdx,
    /// `None` when the API has no operations (pass-through).
    pub operation: Option<OpIdx>,
    /// Byte offset into `req.path` where the backend-relative path starts.
    pub rest_start: usize,
}

#[derive(Clone, Debug, Default)]
struct Node {
    /// Lowercased segment → node index, sorted for binary search.
    children: Vec<(Box<[u8]>, u32)>,
    group: Option<u32>,
}

#[derive(Clone, Debug, PartialEq)]
enum GroupScheme {
    Plain,
    Segment,
    Header(Box<str>),
    Query(Box<str>),
}

/// The APIs sharing one path.
#[derive(Clone, Debug)]
struct Group {
    scheme: GroupScheme,
    original: Option<ApiIdx>,
    /// (lowercased version, api)
    versions: Vec<(Box<[u8]>, ApiIdx)>,
}

#[derive(Clone, Debug)]
struct CompiledOp {
    method: Option<Box<str>>,
    template: Template,
}

/// Precomputed routing tables.
#[derive(Clone, Debug, Default)]
pub struct Router {
    nodes: Vec<Node>,
    groups: Vec<Group>,
    protocols: Vec<Protocols>,
    ops: Vec<Vec<CompiledOp>>,
}

mod build;

impl Router {
    /// Routes one request. Never allocates.
    pub fn route(&self, req: &RouteRequest<'_>, headers: &dyn HeaderLookup) -> RouteOutcome {
        let mut below = usize::MAX;
        let chosen = loop {
            let Some((group, end, depth)) = self.deepest(req.path.as_bytes(), below) else {
                return RouteOutcome::ApiNotFound;
            };
            if let Some(found) = self.select(group, req, end, headers) {
                break found;
            }
            below = depth;
        };
        let (api, rest_start) = chosen;
        let idx = api as usize;
        if !self.protocols.get(idx).is_some_and(|p| p.allows(req.scheme)) {
            return RouteOutcome::ApiNotFound;
        }
        let ops = self.ops.get(idx).map_or(&[][..], Vec::as_slice);
        if ops.is_empty() {
            return RouteOutcome::Matched(RouteMatch { api, operation: None, rest_start });
        }
        let rest = req.path.get(rest_start..).unwrap_or("");
        match best_operation(ops, req.method, rest) {
            Some(op) => RouteOutcome::Matched(RouteMatch { api, operation: Some(op), rest_start }),
            None => RouteOutcome::OperationNotFound { api },
        }
    }

    /// The deepest API path (group, end offset, depth) matching `path`, shallower than `below`.
    fn deepest(&self, b: &[u8], below: usize) -> Option<(u32, usize, usize)> {
        let root = self.nodes.first()?;
        let mut best = root.group.filter(|_| below > 0).map(|g| (g, 0, 0));
        if b.first() != Some(&b'/') {
            return best;
        }
        let (mut node, mut pos, mut depth) = (root, 1usize, 0usize);
        loop {
            let tail = b.get(pos..).unwrap_or(&[]);
            let end = memchr::memchr(b'/', tail).map_or(b.len(), |i| pos + i);
            let seg = b.get(pos..end).unwrap_or(&[]);
            let Ok(i) = node.children.binary_search_by(|(k, _)| cmp_lower(k, seg)) else {
                break;
            };
            depth += 1;
            if depth >= below {
                break;
            }
            let Some(next) = self.nodes.get(node.children[i].1 as usize) else {
                break;
            };
            node = next;
            if let Some(g) = node.group {
                best = Some((g, end, depth));
            }
            if end >= b.len() {
                break;
            }
            pos = end + 1;
        }
        best
    }

    /// Picks the API of a group for this request; `end` is where the API path ended.
    fn select(
        &self,
        group: u32,
        req: &RouteRequest<'_>,
        end: usize,
        headers: &dyn HeaderLookup,
    ) -> Option<(ApiIdx, usize)> {
        let g = self.groups.get(group as usize)?;
        let find = |v: &[u8]| g.versions.iter().find(|(k, _)| cmp_lower(k, v) == Ordering::Equal).map(|(_, a)| *a);
        match &g.scheme {
            GroupScheme::Plain => g.original.map(|a| (a, end)),
            GroupScheme::Segment => {
                let b = req.path.as_bytes();
                if b.get(end) == Some(&b'/') {
                    let start = end + 1;
                    let seg_end = memchr::memchr(b'/', b.get(start..).unwrap_or(&[])).map_or(b.len(), |i| start + i);
                    if let Some(api) = find(b.get(start..seg_end).unwrap_or(&[])) {
                        return Some((api, seg_end));
                    }
                }
                g.original.map(|a| (a, end))
            }
            GroupScheme::Header(name) => match headers.header(name) {
                Some(v) => find(v.trim_ascii()).map(|a| (a, end)),
                None => g.original.map(|a| (a, end)),
            },
            GroupScheme::Query(name) => match query_param(req.query, name) {
                Some(v) => find(v).map(|a| (a, end)),
                None => g.original.map(|a| (a, end)),
            },
        }
    }
}

/// The raw value of the first `name=value` pair in a query string (no decoding).
fn query_param<'q>(query: &'q str, name: &str) -> Option<&'q [u8]> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == name).then_some(v.as_bytes())
    })
}

fn best_operation(ops: &[CompiledOp], method: &str, rest: &str) -> Option<OpIdx> {
    let mut best: Option<(usize, &CompiledOp, usize)> = None;
    for (i, op) in ops.iter().enumerate() {
        if op.method.as_deref().is_some_and(|m| m != method) {
            continue;
        }
        let Some(n) = op.template.matches(rest) else {
            continue;
        };
        let better = match best {
            None => true,
            Some((_, b, _)) => match op.template.specificity(&b.template, n) {
                Ordering::Greater => true,
                Ordering::Less => false,
                Ordering::Equal => op.method.is_some() && b.method.is_none(),
            },
        };
        if better {
            best = Some((i, op, n));
        }
    }
    best.and_then(|(i, _, _)| u32::try_from(i).ok())
}

#[cfg(test)]
mod tests;
