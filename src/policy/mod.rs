//! The policy engine: APIM-style policy documents compiled into flat plans at load time and
//! executed per request.
//!
//! # Loading (control thread, once per configuration document)
//!
//! 1. [`xml`]: named values are substituted, an expression-aware pre-pass turns APIM's raw
//!    form (`condition="@(a == "x" && b < 1)"`) into well-formed XML while keeping a byte
//!    offset map, and quick-xml builds a positioned element tree. Every problem is reported
//!    at line:column of the text *as written*.
//! 2. [`document`]: each element becomes a typed statement; each policy's file in
//!    [`policies`] compiles its attributes and expressions ([`expr`]: C# subset → typed enum
//!    tree). Unknown elements and attributes, sections a policy may not appear in, and
//!    expressions outside the subset reject the document.
//! 3. [`plan`]: fragments are inlined (with cycle detection), scopes are merged per section
//!    through `<base/>` (global → product → API → operation) and flattened into [`Plan`]s:
//!    one per (API, operation) plus one per product with a policy document. The request
//!    path walks these step lists; it never sees XML.
//!
//! # Runtime model (worker, per request)
//!
//! The proxy builds a [`PolicyContext`] over its own buffers: a [`RequestView`] (method,
//! path, query, headers by borrowing the parsed head), a [`RequestInfo`] (API, operation,
//! product, subscription borrowed from the snapshot), the matched template parameters
//! ([`Plans::matched_parameters`]) and, only when [`Plan::needs_request_body`] says so, the
//! buffered body. Then, for each section in order:
//!
//! ```text
//! let plan = snapshot.doc.policy_plans.get(api, op, product);
//! if plan.is_passthrough() { /* skip the engine, use plan.forward() */ }
//! let mut run = Run::new(plan, Section::Inbound, &ctx);
//! loop { match run.next(plan, &mut ctx) {
//!     Flow::Done => break,                       // next section (backend, outbound)
//!     Flow::Respond(r) => return send(r),        // return-response, mock, preflight
//!     Flow::Forward(opts) => { call backend with ctx.request_edits; ctx.response = … }
//!     Flow::Wait(d) => sleep(d),                 // retry interval
//!     Flow::Error(e) => { ctx.last_error = Some(e); run on-error the same way;
//!                         if it ends with Done: send(ctx.error_response(&e)) }
//! }}
//! ```
//!
//! Policies never touch the connection: header, method, URL, backend and body changes are
//! [`RequestEdits`] / [`ResponseEdits`] that the proxy applies while writing heads, so the
//! pass-through path stays zero-copy.

pub mod document;
pub mod dotnet;
pub mod expr;
pub mod plan;
pub mod policies;
pub mod runtime;
pub mod xml;

#[cfg(test)]
pub(crate) mod testkit;

use std::collections::HashMap;

pub use document::{compile_document, DocKind, Document};
pub use plan::{Plan, Plans, Scope};
pub use policies::forward_request::ForwardRequest;
pub use runtime::{
    BackendTarget, Flow, HeaderEdits, LastError, OperationInfo, PolicyContext, RequestEdits, RequestInfo, RequestView,
    Response, ResponseEdits, ResponseState, ResponseView, Run, Section, SubscriptionInfo,
};

use crate::api_model::{Api, ApiType, Product};
use plan::fragments::Fragments;
use plan::merge::{default_backend, merge};
use plan::{flatten::flatten, template_params, OpPlans};

/// A problem in one policy document: JSON path of the document, 1-based line and column.
#[derive(Clone, Debug, PartialEq)]
pub struct DocProblem {
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Compiled documents collected while the configuration is compiled, keyed by JSON path
/// (`policy`, `apis[2].policy`, `apis[2].operations[0].policy`, `products[1].policy`).
#[derive(Clone, Debug, Default)]
pub struct Sources {
    docs: HashMap<String, (String, Document)>,
    fragments: HashMap<String, (String, Document)>,
}

impl Sources {
    /// Records a compiled scope document (`text` as written, for positions).
    pub fn add_document(&mut self, path: &str, text: &str, doc: Document) {
        self.docs.insert(path.to_string(), (text.to_string(), doc));
    }

    pub fn add_fragment(&mut self, id: &str, text: &str, doc: Document) {
        self.fragments.insert(id.to_string(), (text.to_string(), doc));
    }

    /// A problem at `offset` of the document at `path`, its message cleaned of that
    /// document's named values.
    fn problem(&self, path: &str, offset: usize, message: String) -> DocProblem {
        let found = match path.strip_prefix("policyFragments.") {
            Some(id) => self.fragments.get(id),
            None => self.docs.get(path),
        };
        let (line, column) = xml::line_col(found.map_or("", |d| d.0.as_str()), offset);
        let message = match found {
            Some((_, doc)) => doc.secrets.scrub(message),
            None => message,
        };
        DocProblem { path: path.to_string(), line, column, message }
    }
}

/// Steps all plans of one configuration may hold together. Every plan repeats the documents
/// above it (the global policy in each operation's plan, a product's in each of its APIs'),
/// so a large global document times many operations would multiply at load: refused instead.
pub const MAX_PLAN_STEPS: usize = 2_000_000;

/// Statements of a document, nested ones included (about the steps it adds to a plan).
fn weight(doc: Option<&Document>) -> usize {
    fn count(stmts: &[document::Stmt]) -> usize {
        stmts
            .iter()
            .map(|s| {
                1 + match &s.kind {
                    document::StmtKind::Choose { whens, otherwise } => {
                        whens.iter().map(|w| 1 + count(&w.1)).sum::<usize>() + otherwise.as_deref().map_or(0, count)
                    }
                    document::StmtKind::Retry(_, b) | document::StmtKind::LimitConcurrency(_, b) => 1 + count(b),
                    _ => 0,
                }
            })
            .sum()
    }
    doc.map_or(0, |d| d.sections.iter().flatten().map(|s| count(s)).sum())
}

fn plan_of(levels: &[(Scope, Option<&Document>)], default: &[document::Stmt], options_op: bool) -> Plan {
    let sections = Section::ALL.map(|s| flatten(&merge(levels, s, default)));
    Plan::new(sections, options_op)
}

/// Resolves fragments, merges scopes and builds every plan. Problems (fragment cycles,
/// unknown fragments, fragments in the wrong section) come back with positions.
pub fn build_plans(src: &Sources, apis: &[Api], products: &[Product]) -> (Plans, Vec<DocProblem>) {
    let raw: HashMap<String, Vec<document::Stmt>> =
        src.fragments.iter().map(|(k, v)| (k.clone(), v.1.fragment.clone())).collect();
    let own: HashMap<String, usize> = src.fragments.iter().map(|(k, v)| (k.clone(), v.1.expanded_len)).collect();
    let mut frags = Fragments::new(&raw, &own);
    let mut resolved: HashMap<&str, Document> = HashMap::new();
    let mut scope_problems = Vec::new();
    let mut paths: Vec<&String> = src.docs.keys().collect();
    paths.sort();
    for path in paths {
        let Some((_, doc)) = src.docs.get(path) else { continue };
        let sections: Vec<&[document::Stmt]> = doc.sections.iter().flatten().map(Vec::as_slice).collect();
        if !frags.check_document(path, doc.expanded_len, &sections) {
            continue;
        }
        let mut d = Document::default();
        for s in Section::ALL {
            d.sections[s.index()] = doc.sections[s.index()].clone().map(|stmts| frags.apply(stmts, path, s));
        }
        let (owner, scope) = plan::ident::owner(path, apis, products);
        let mut found = Vec::new();
        plan::ident::stamp(&mut d, &owner, scope, &mut found);
        scope_problems.extend(found.into_iter().map(|(off, m)| src.problem(path, off, m)));
        resolved.insert(path.as_str(), d);
    }
    let default = default_backend();
    let global = resolved.get("policy");
    // A WebSocket API's handshake: what it cannot run is refused in its own documents and
    // skipped where inherited (global, product), as APIM does.
    let is_ws = |api: &Api| api.kind == ApiType::WebSocket;
    for (i, api) in apis.iter().enumerate().filter(|(_, a)| is_ws(a)) {
        let own = std::iter::once(format!("apis[{i}].policy"))
            .chain((0..api.operations.len()).map(|j| format!("apis[{i}].operations[{j}].policy")));
        for path in own {
            let Some(d) = resolved.get(path.as_str()) else { continue };
            for (off, name) in plan::websocket::refused(d) {
                let m = format!(
                    "policy <{name}> cannot apply to a WebSocket API's handshake (onHandshake); APIM does not \
                     support it there"
                );
                scope_problems.push(src.problem(&path, off, m));
            }
        }
    }
    let ws_global = apis.iter().any(is_ws).then(|| global.map(plan::websocket::skipping_unsupported)).flatten();
    let ws_products: HashMap<u32, Document> = products
        .iter()
        .enumerate()
        .filter(|(_, p)| apis.iter().enumerate().any(|(i, a)| is_ws(a) && p.contains(i as u32)))
        .filter_map(|(j, _)| {
            let d = resolved.get(format!("products[{j}].policy").as_str())?;
            Some((u32::try_from(j).ok()?, plan::websocket::skipping_unsupported(d)))
        })
        .collect();
    let mut plans = Plans {
        global: plan_of(&[(Scope::Global, global)], &default, false),
        apis: Vec::with_capacity(apis.len()),
        api_level: Vec::with_capacity(apis.len()),
    };
    // Weighed once per document, looked up by address for every plan.
    let weights: HashMap<*const Document, usize> =
        resolved.values().map(|d| (d as *const Document, weight(Some(d)))).collect();
    let of = |d: &Document| weights.get(&(d as *const Document)).copied().unwrap_or(0);
    let weigh = |levels: &[(Scope, Option<&Document>)]| -> usize {
        levels.iter().map(|l| l.1.map_or(0, of)).sum::<usize>() + Section::ALL.len()
    };
    let mut steps = weigh(&[(Scope::Global, global)]);
    let mut too_many: Option<String> = None;
    // Two walks over the same loop: the first only counts steps (nothing is built when the
    // total is over budget), the second builds.
    for build in [false, true] {
        if build && too_many.is_some() {
            break;
        }
        plans.apis.clear();
        plans.api_level.clear();
        'apis: for (i, api) in apis.iter().enumerate() {
            let api_doc = resolved.get(format!("apis[{i}].policy").as_str());
            let api_idx = u32::try_from(i).unwrap_or(u32::MAX);
            // Built from the inherited documents a handshake can run (the count uses the originals).
            let handshake = build && is_ws(api);
            let global = if handshake { ws_global.as_ref() } else { global };
            let prods: Vec<(u32, &Document)> = products
                .iter()
                .enumerate()
                .filter(|(_, p)| p.published && p.contains(api_idx))
                .filter_map(|(j, _)| {
                    let j = u32::try_from(j).ok()?;
                    match handshake {
                        true => Some((j, ws_products.get(&j)?)),
                        false => Some((j, resolved.get(format!("products[{j}].policy").as_str())?)),
                    }
                })
                .collect();
            let api_levels = [(Scope::Global, global), (Scope::Api, api_doc)];
            if build {
                plans.api_level.push(api_doc.map(|_| plan_of(&api_levels, &default, false)));
            } else if api_doc.is_some() {
                steps = steps.saturating_add(weigh(&api_levels));
            }
            let mut ops = Vec::new();
            let op_count = api.operations.len().max(1);
            for j in 0..op_count {
                let op = api.operations.get(j);
                let op_doc = op.and_then(|_| resolved.get(format!("apis[{i}].operations[{j}].policy").as_str()));
                let options_op = op.is_some_and(|o| o.method.as_deref() == Some("OPTIONS"));
                let params = op.map(|o| template_params(&o.url_template)).unwrap_or_default();
                let mut levels = vec![(Scope::Global, global), (Scope::Api, api_doc)];
                if op.is_some() {
                    levels.push((Scope::Operation, op_doc));
                }
                // A handshake never falls back to the global plan: its own skips what it cannot run.
                let has_plain = api_doc.is_some() || op_doc.is_some() || options_op || (is_ws(api) && global.is_some());
                if !build {
                    if has_plain {
                        steps = steps.saturating_add(weigh(&levels));
                    }
                    for (_, pdoc) in &prods {
                        steps = steps.saturating_add(weigh(&levels) + of(pdoc));
                    }
                    if steps > MAX_PLAN_STEPS {
                        too_many = Some(format!("apis[{i}]"));
                        break 'apis;
                    }
                    continue;
                }
                let plain = has_plain.then(|| plan_of(&levels, &default, options_op));
                let by_product = prods
                    .iter()
                    .map(|(pj, pdoc)| {
                        let mut lv = levels.clone();
                        lv.insert(1, (Scope::Product, Some(*pdoc)));
                        (*pj, plan_of(&lv, &default, options_op))
                    })
                    .collect();
                ops.push(OpPlans { params, plain, by_product });
            }
            if build {
                plans.apis.push(ops);
            }
        }
    }
    let mut problems: Vec<DocProblem> =
        frags.problems.iter().map(|(p, off, m)| src.problem(p, *off, m.clone())).collect();
    problems.extend(scope_problems);
    if let Some(at) = too_many {
        let path = if global.is_some() { "policy" } else { at.as_str() };
        let message = format!(
            "the policy documents, repeated in the plan of every operation and product they apply to, \
             would make more than {MAX_PLAN_STEPS} steps (reached at {at})"
        );
        problems.push(src.problem(path, 0, message));
    }
    (plans, problems)
}

/// Compiles one document's text into problems with line:column (empty when accepted).
pub fn check_document(
    text: &str,
    kind: DocKind,
    values: &HashMap<String, String>,
    backend_ids: Option<&[String]>,
) -> Result<Document, Vec<(usize, usize, String)>> {
    compile_document(text, kind, values, backend_ids).map_err(|ps| {
        ps.into_iter()
            .map(|(off, m)| {
                let (l, c) = xml::line_col(text, off);
                (l, c, m)
            })
            .collect()
    })
}
