//! Plans: the flat, compiled step lists the request path walks.
//!
//! For every (API, operation) there is one plan without product context and one per product
//! (containing the API) that has a policy document; [`Plans::get`] picks by the request's
//! product. Documents are merged per section through `<base/>` ([`merge`]), fragments are
//! inlined first ([`fragments`]), then each section is flattened into [`Step`]s with
//! conditional jumps for `choose` and markers for `retry` ([`flatten`]).

pub mod flatten;
pub mod fragments;
pub mod ident;
pub mod merge;
pub mod websocket;

use std::sync::Arc;
use std::time::Duration;

use super::expr::Dyn;
use super::policies::forward_request::ForwardRequest;
use super::policies::limit_concurrency::LimitConcurrency;
use super::policies::retry::RetrySpec;
use super::policies::Op;
use super::runtime::Section;

/// Where a statement was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Global,
    Product,
    Api,
    Operation,
}

impl Scope {
    pub fn name(self) -> &'static str {
        match self {
            Scope::Global => "global",
            Scope::Product => "product",
            Scope::Api => "api",
            Scope::Operation => "operation",
        }
    }
}

/// What `context.LastError` reports for a step.
#[derive(Clone, Debug, PartialEq)]
pub struct Meta {
    pub name: Box<str>,
    /// `choose[1]/when[2]/set-header[1]`.
    pub path: Box<str>,
    pub policy_id: Box<str>,
    pub scope: Scope,
}

#[derive(Clone, Debug)]
pub enum StepKind {
    Op(Op),
    /// `when`: continue when true, else jump to `else_to`.
    Branch {
        cond: Dyn,
        else_to: u32,
    },
    Jump(u32),
    RetryStart {
        spec: RetrySpec,
        end: u32,
    },
    RetryEnd {
        start: u32,
    },
    /// `limit-concurrency`: take a slot (or fail with 429) before the nested steps…
    ConcurrencyStart(Arc<LimitConcurrency>),
    /// …and give it back after them.
    ConcurrencyEnd,
}

#[derive(Clone, Debug)]
pub struct Step {
    pub kind: StepKind,
    pub meta: Arc<Meta>,
}

/// The compiled pipeline of one (API, operation, product context).
#[derive(Clone, Debug, Default)]
pub struct Plan {
    sections: [Vec<Step>; 4],
    needs_request_body: bool,
    needs_response_body: bool,
    passthrough: bool,
    /// Index of the top-level `cors` step of inbound (preflight handling).
    cors: Option<usize>,
}

impl Plan {
    pub fn new(sections: [Vec<Step>; 4], options_operation: bool) -> Plan {
        let mut p = Plan { sections, ..Plan::default() };
        for s in Section::ALL {
            for step in &p.sections[s.index()] {
                let u = match &step.kind {
                    StepKind::Op(op) => op.uses(s),
                    StepKind::Branch { cond, .. } => cond.uses(),
                    StepKind::RetryStart { spec, .. } => spec.condition.uses(),
                    StepKind::ConcurrencyStart(spec) => spec.key.uses(),
                    _ => Default::default(),
                };
                p.needs_request_body |= u.request_body;
                p.needs_response_body |= u.response_body;
            }
        }
        let [inb, back, out, err] = &p.sections;
        p.passthrough = inb.is_empty()
            && out.is_empty()
            && err.is_empty()
            && back.len() == 1
            && matches!(back[0].kind, StepKind::Op(Op::ForwardRequest(_)));
        if !options_operation {
            p.cors = inb.iter().position(|s| matches!(s.kind, StepKind::Op(Op::Cors(_))) && !s.meta.path.contains('/'));
        }
        p
    }

    pub fn steps(&self, s: Section) -> &[Step] {
        &self.sections[s.index()]
    }

    /// The proxy must buffer the request body and put it in `ctx.request_body`.
    pub fn needs_request_body(&self) -> bool {
        self.needs_request_body
    }

    /// The proxy must buffer the response body and put it in `ctx.response`'s `body`.
    pub fn needs_response_body(&self) -> bool {
        self.needs_response_body
    }

    /// Only a `forward-request` in backend: the proxy may skip the engine entirely and use
    /// [`Plan::forward`] for the options.
    pub fn is_passthrough(&self) -> bool {
        self.passthrough
    }

    /// The first `forward-request` of the backend section (options for the passthrough path).
    pub fn forward(&self) -> Option<&ForwardRequest> {
        self.sections[Section::Backend.index()].iter().find_map(|s| match &s.kind {
            StepKind::Op(Op::ForwardRequest(f)) => Some(f),
            _ => None,
        })
    }

    pub(crate) fn cors_step(&self) -> Option<usize> {
        self.cors
    }

    /// Number of steps (all sections), for diagnostics and tests.
    pub fn len(&self) -> usize {
        self.sections.iter().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every compiled op, for load-time data given after compiling (keys of `validate-jwt`).
    pub fn ops_mut(&mut self) -> impl Iterator<Item = &mut Op> {
        self.sections.iter_mut().flatten().filter_map(|s| match &mut s.kind {
            StepKind::Op(op) => Some(op),
            _ => None,
        })
    }

    /// Every compiled op.
    pub fn ops(&self) -> impl Iterator<Item = &Op> {
        self.sections.iter().flatten().filter_map(|s| match &s.kind {
            StepKind::Op(op) => Some(op),
            _ => None,
        })
    }
}

/// The plans of one operation (or of an API without operations).
#[derive(Clone, Debug, Default)]
pub struct OpPlans {
    /// Template parameter names by segment index (for `MatchedParameters`).
    pub params: Vec<(usize, Box<str>)>,
    /// `None`: no API/operation document, the global plan applies.
    pub plain: Option<Plan>,
    /// Plans for products (with a policy document) that contain the API.
    pub by_product: Vec<(u32, Plan)>,
}

/// All plans of a snapshot.
#[derive(Clone, Debug, Default)]
pub struct Plans {
    pub global: Plan,
    /// `apis[i]` → its operations' plans; an API without operations has one entry.
    pub apis: Vec<Vec<OpPlans>>,
    /// `apis[i]` → the plan of the scopes known before an operation matched (global and the
    /// API's), for the errors the gateway finds itself (`OperationNotFound`, a missing or
    /// invalid subscription key); `None`: the API has no document, the global plan applies.
    pub api_level: Vec<Option<Plan>>,
}

impl Plans {
    /// Every compiled op of every plan (see [`Plan::ops_mut`]).
    pub fn ops_mut(&mut self) -> impl Iterator<Item = &mut Op> {
        let ops = self
            .apis
            .iter_mut()
            .flatten()
            .flat_map(|o| o.plain.iter_mut().chain(o.by_product.iter_mut().map(|p| &mut p.1)));
        let api_level = self.api_level.iter_mut().flatten();
        std::iter::once(&mut self.global).chain(ops).chain(api_level).flat_map(Plan::ops_mut)
    }

    /// Every compiled op of every plan.
    pub fn ops(&self) -> impl Iterator<Item = &Op> {
        let ops = self.apis.iter().flatten().flat_map(|o| o.plain.iter().chain(o.by_product.iter().map(|p| &p.1)));
        let api_level = self.api_level.iter().flatten();
        std::iter::once(&self.global).chain(ops).chain(api_level).flat_map(Plan::ops)
    }

    /// Every `authentication-certificate` of the global and operation plans, in plan, section
    /// and step order: the step (scope and path, for messages) and the certificate id it presents.
    pub fn authentication_certificates(&self) -> impl Iterator<Item = (&Meta, &str)> {
        let ops = self.apis.iter().flatten().flat_map(|o| o.plain.iter().chain(o.by_product.iter().map(|p| &p.1)));
        std::iter::once(&self.global).chain(ops).flat_map(|plan| plan.sections.iter().flatten()).filter_map(|step| {
            match &step.kind {
                StepKind::Op(Op::AuthenticationCertificate(c)) => Some((&*step.meta, &*c.certificate_id)),
                _ => None,
            }
        })
    }

    /// The backend timeout for plans whose `forward-request` sets none: the `timeout` of the
    /// global policy's first `<forward-request>` (APIM's backend timeout), when it sets one
    /// above zero.
    pub fn global_forward_timeout(&self) -> Option<Duration> {
        self.global.forward().filter(|f| f.timeout_set && !f.timeout.is_zero()).map(|f| f.timeout)
    }

    /// The plan of the scopes known before an operation matched (see [`Plans::api_level`]).
    pub fn api_level(&self, api: u32) -> &Plan {
        self.api_level.get(api as usize).and_then(Option::as_ref).unwrap_or(&self.global)
    }

    fn op(&self, api: u32, op: Option<u32>) -> Option<&OpPlans> {
        self.apis.get(api as usize)?.get(op.unwrap_or(0) as usize)
    }

    /// The plan for a routed request. `product` is the product context the call runs in.
    pub fn get(&self, api: u32, op: Option<u32>, product: Option<u32>) -> &Plan {
        let Some(o) = self.op(api, op) else { return &self.global };
        if let Some(p) = product {
            if let Some((_, plan)) = o.by_product.iter().find(|(id, _)| *id == p) {
                return plan;
            }
        }
        o.plain.as_ref().unwrap_or(&self.global)
    }

    /// The operation's template parameters matched against the operation-relative path
    /// (`rest`, as the router saw it). Values are raw (still percent-encoded).
    pub fn matched_parameters<'r>(&self, api: u32, op: Option<u32>, rest: &'r str) -> Vec<(&str, &'r str)> {
        let Some(o) = self.op(api, op) else { return Vec::new() };
        if o.params.is_empty() {
            return Vec::new();
        }
        let norm = rest.strip_prefix('/').unwrap_or(rest);
        let segs: Vec<&str> = norm.split('/').collect();
        o.params.iter().filter_map(|(i, n)| segs.get(*i).map(|v| (&**n, *v))).collect()
    }
}

/// Parameter names by segment index of a `urlTemplate`.
pub fn template_params(t: &str) -> Vec<(usize, Box<str>)> {
    let path = t.split('?').next().unwrap_or("");
    let path = path.strip_prefix('/').unwrap_or(path);
    path.split('/')
        .enumerate()
        .filter_map(|(i, s)| s.strip_prefix('{').and_then(|x| x.strip_suffix('}')).map(|n| (i, n.into())))
        .collect()
}
