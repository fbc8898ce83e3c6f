//! Building the router tables from compiled APIs (load time only).

use std::collections::HashMap;

use super::{CompiledOp, Group, GroupScheme, Node, Router};
use crate::config::json::Ctx;
use crate::config::snapshot::{Api, ApiIdx, VersionScheme};
use crate::config::template::parse_template;

fn group_scheme(v: &VersionScheme) -> GroupScheme {
    match v {
        VersionScheme::Segment => GroupScheme::Segment,
        VersionScheme::Header(h) => GroupScheme::Header(h.to_ascii_lowercase().into()),
        VersionScheme::Query(q) => GroupScheme::Query(q.as_str().into()),
    }
}

impl Router {
    /// Compiles routing tables; problems (duplicate paths/versions, bad templates) go to `ctx`.
    pub(crate) fn build(apis: &[Api], ctx: &mut Ctx) -> Router {
        let mut r = Router { nodes: vec![Node::default()], ..Router::default() };
        let mut by_path: HashMap<String, u32> = HashMap::new();
        for (i, api) in apis.iter().enumerate() {
            let Ok(ai) = ApiIdx::try_from(i) else {
                ctx.problem("apis", "too many APIs");
                break;
            };
            let at = format!("apis[{i}]");
            let key = api.path.to_ascii_lowercase();
            let g = match by_path.get(&key) {
                Some(g) => *g,
                None => {
                    let g = r.new_group(&key);
                    by_path.insert(key, g);
                    g
                }
            };
            r.add_to_group(g, ai, apis, &at, ctx);
            r.protocols.push(api.protocols);
            r.ops.push(compile_ops(api, &at, ctx));
        }
        r
    }

    fn new_group(&mut self, lower_path: &str) -> u32 {
        let mut node = 0usize;
        if !lower_path.is_empty() {
            for seg in lower_path.split('/') {
                let seg = seg.as_bytes();
                let next = self.nodes.len() as u32;
                let children = &mut self.nodes[node].children;
                node = match children.binary_search_by(|(k, _)| k.as_ref().cmp(seg)) {
                    Ok(i) => children[i].1 as usize,
                    Err(i) => {
                        children.insert(i, (seg.into(), next));
                        self.nodes.push(Node::default());
                        next as usize
                    }
                };
            }
        }
        let g = self.groups.len() as u32;
        self.groups.push(Group { scheme: GroupScheme::Plain, original: None, versions: Vec::new() });
        self.nodes[node].group = Some(g);
        g
    }

    fn add_to_group(&mut self, g: u32, ai: ApiIdx, apis: &[Api], at: &str, ctx: &mut Ctx) {
        let api = &apis[ai as usize];
        let group = &mut self.groups[g as usize];
        let other = |a: ApiIdx| apis.get(a as usize).map_or("?", |x| x.id.as_str());
        match (api.version.as_deref().filter(|v| !v.is_empty()), &api.version_scheme) {
            (Some(v), Some(scheme)) => {
                let scheme = group_scheme(scheme);
                if group.versions.is_empty() {
                    group.scheme = scheme;
                } else if group.scheme != scheme {
                    ctx.problem(
                        format!("{at}.apiVersionSet"),
                        format!("versioning scheme differs from API '{}' at the same path", other(group.versions[0].1)),
                    );
                }
                let lower = v.to_ascii_lowercase();
                if let Some((_, a)) = group.versions.iter().find(|(k, _)| **k == *lower.as_bytes()) {
                    ctx.problem(
                        format!("{at}.apiVersion"),
                        format!("path '{}' version '{v}' is already used by API '{}'", api.path, other(*a)),
                    );
                } else {
                    group.versions.push((lower.into_bytes().into(), ai));
                }
            }
            _ => {
                if let Some(a) = group.original {
                    ctx.problem(
                        format!("{at}.path"),
                        format!("path '{}' is already used by API '{}' (APIs sharing a path need distinct apiVersion values)", api.path, other(a)),
                    );
                } else {
                    group.original = Some(ai);
                }
            }
        }
    }
}

fn compile_ops(api: &Api, at: &str, ctx: &mut Ctx) -> Vec<CompiledOp> {
    let mut out = Vec::with_capacity(api.operations.len());
    // (method or "*", shape) → the first operation with it: a second one could never be
    // chosen by anything but document order, which no operator means.
    let mut shapes: std::collections::HashMap<(String, String), usize> = std::collections::HashMap::new();
    for (j, op) in api.operations.iter().enumerate() {
        let path = format!("{at}.operations[{j}].urlTemplate");
        match parse_template(&op.url_template) {
            Ok(p) => {
                if let Some(w) = p.warning {
                    ctx.warn(path.clone(), w);
                }
                let method = op.method.clone().unwrap_or_else(|| "*".into());
                match shapes.entry((method.clone(), p.template.shape())) {
                    std::collections::hash_map::Entry::Occupied(first) => {
                        let i = *first.get();
                        let other = &api.operations[i];
                        ctx.problem(
                            path,
                            format!(
                                "{method} '{}' matches the same requests as {at}.operations[{i}] ({method} '{}', id '{}'): \
                                 ambiguous operation templates; remove one or make them differ by a literal segment",
                                op.url_template, other.url_template, other.id
                            ),
                        );
                    }
                    std::collections::hash_map::Entry::Vacant(v) => {
                        v.insert(j);
                    }
                }
                out.push(CompiledOp { method: op.method.as_deref().map(Into::into), template: p.template });
            }
            Err(e) => ctx.problem(path, e),
        }
    }
    out
}
