//! One file per policy: each compiles its element into a typed operation at load time and
//! executes it per request. Control flow (`base`, `choose`, `include-fragment`, `retry`) is
//! compiled by the document compiler into the plan's jumps; their files hold their parsing.

pub mod authentication_basic;
pub mod authentication_certificate;
pub mod base;
pub mod check_header;
pub mod choose;
pub mod cors;
pub mod find_and_replace;
pub mod forward_request;
pub mod include_fragment;
pub mod ip_filter;
pub mod json_to_xml;
pub mod limit;
pub mod limit_concurrency;
pub mod mock_response;
pub mod quota;
pub mod quota_by_key;
pub mod rate_limit;
pub mod rate_limit_by_key;
pub mod registry;
pub mod retry;
pub mod return_response;
pub mod rewrite_uri;
pub mod set_backend_service;
pub mod set_body;
pub mod set_header;
pub mod set_method;
pub mod set_query_parameter;
pub mod set_status;
pub mod set_variable;
pub mod validate_client_certificate;
pub mod validate_jwt;
pub mod xml_to_json;

use super::expr::{compile_value, Dyn, EvalError, Ty, Uses};
use super::runtime::{PolicyContext, Response, Section};
use super::xml::{Attr, Element, Src};

/// A compiled leaf policy.
#[derive(Clone, Debug)]
pub enum Op {
    SetVariable(set_variable::SetVariable),
    CheckHeader(check_header::CheckHeader),
    IpFilter(ip_filter::IpFilter),
    Cors(cors::Cors),
    ForwardRequest(forward_request::ForwardRequest),
    SetBackendService(set_backend_service::SetBackendService),
    RewriteUri(rewrite_uri::RewriteUri),
    SetHeader(set_header::SetHeader),
    SetQueryParameter(set_query_parameter::SetQueryParameter),
    SetMethod(set_method::SetMethod),
    SetStatus(set_status::SetStatus),
    SetBody(set_body::SetBody),
    FindAndReplace(find_and_replace::FindAndReplace),
    ReturnResponse(return_response::ReturnResponse),
    MockResponse(mock_response::MockResponse),
    AuthenticationBasic(authentication_basic::AuthenticationBasic),
    AuthenticationCertificate(authentication_certificate::AuthenticationCertificate),
    JsonToXml(json_to_xml::JsonToXml),
    XmlToJson(xml_to_json::XmlToJson),
    RateLimit(Box<rate_limit::RateLimit>),
    RateLimitByKey(Box<rate_limit_by_key::RateLimitByKey>),
    Quota(Box<quota::Quota>),
    QuotaByKey(Box<quota_by_key::QuotaByKey>),
    ValidateJwt(Box<validate_jwt::ValidateJwt>),
    ValidateClientCertificate(Box<validate_client_certificate::ValidateClientCertificate>),
}

/// What a policy asks of the executor.
#[derive(Debug)]
pub enum Outcome<'p> {
    Continue,
    Respond(Response),
    Forward(&'p forward_request::ForwardRequest),
}

/// A policy failure: becomes `context.LastError`.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    pub reason: String,
    pub message: String,
    pub status: u16,
}

impl Failure {
    pub fn new(reason: &str, message: impl Into<String>, status: u16) -> Failure {
        Failure { reason: reason.into(), message: message.into(), status }
    }
    pub fn eval(e: EvalError) -> Failure {
        Failure::new("ExpressionValueEvaluationFailure", e.0, 500)
    }
}

impl From<EvalError> for Failure {
    fn from(e: EvalError) -> Failure {
        Failure::eval(e)
    }
}

pub type Result<T> = std::result::Result<T, Failure>;

/// Budgets for a body a policy parses outside expressions (json-to-xml, xml-to-json,
/// find-and-replace): the conversions are linear, streaming or on a compact model, and refuse
/// rather than balloon.
pub mod budget {
    use super::Failure;
    use crate::policy::runtime::Section;

    /// Deepest nesting of a parsed body (JSON arrays/objects, XML elements).
    pub const MAX_DEPTH: usize = 64;

    /// Largest body parsed inline on a worker. A conversion runs between two I/O waits
    /// without yielding, so this size bounds how long the worker's other connections wait.
    /// Measured at this cap on an optimised build (the converters compiled alone, best of
    /// 20): json-to-xml 5.7 ms for an array of one-digit numbers (its worst shape: 8 times
    /// the body in output), 1.1 ms for strings; xml-to-json 2.5 to 3.5 ms for small
    /// elements, empty elements, attributes and SOAP-like rows. A dev build is about ten
    /// times slower.
    pub const MAX_INLINE: usize = 256 * 1024;

    /// Size a conversion's model plus its output may reach: this multiple of the body…
    pub const MULTIPLE: usize = 12;
    /// …plus this much, so a tiny body still has room for the XML declaration and root.
    pub const SLACK: usize = 64 * 1024;

    /// APIM-style reason of every budget refusal (the access log's `lastErrorReason`).
    pub const REASON: &str = "BodyParseBudgetExceeded";

    /// Bytes of model and output a conversion of `input` bytes may hold.
    pub fn bytes_for(input: usize) -> usize {
        input.saturating_mul(MULTIPLE).saturating_add(SLACK)
    }

    /// Peak heap of a conversion, as `tests/hostile_budgets.rs` measures it: buffers grow
    /// with their capacity kept within [`bytes_for`], and transient lists (an element's
    /// attributes, its children sorted by name) are covered by the same budget.
    pub fn peak_for(input: usize) -> usize {
        bytes_for(input)
    }

    /// Why a body was refused.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub enum Exceeded {
        TooLarge(usize),
        TooDeep,
        TooBig,
    }

    impl Exceeded {
        /// The failure: 413 for a client's body (inbound, backend), 502 for a backend's
        /// (outbound, on-error). The message names the limit, never the content.
        pub fn failure(&self, policy: &str, section: Section) -> Failure {
            let what = match self {
                Exceeded::TooLarge(n) => format!("a body of {n} bytes, over the {MAX_INLINE} bytes it parses"),
                Exceeded::TooDeep => format!("a body nested deeper than {MAX_DEPTH} levels"),
                Exceeded::TooBig => format!("a body whose conversion needs more than {MULTIPLE} times its size"),
            };
            let status = match section {
                Section::Inbound | Section::Backend => 413,
                Section::Outbound | Section::OnError => 502,
            };
            Failure::new(REASON, format!("{policy} refused {what}"), status)
        }
    }
}

pub fn run_op<'p>(op: &'p Op, ctx: &mut PolicyContext<'_>, section: Section) -> Result<Outcome<'p>> {
    match op {
        Op::SetVariable(p) => p.run(ctx),
        Op::CheckHeader(p) => p.run(ctx),
        Op::IpFilter(p) => p.run(ctx),
        Op::Cors(p) => p.run(ctx),
        Op::ForwardRequest(p) => Ok(Outcome::Forward(p)),
        Op::SetBackendService(p) => p.run(ctx),
        Op::RewriteUri(p) => p.run(ctx),
        Op::SetHeader(p) => p.run(ctx, section),
        Op::SetQueryParameter(p) => p.run(ctx),
        Op::SetMethod(p) => p.run(ctx),
        Op::SetStatus(p) => p.run(ctx),
        Op::SetBody(p) => p.run(ctx, section),
        Op::FindAndReplace(p) => p.run(ctx, section),
        Op::ReturnResponse(p) => p.run(ctx),
        Op::MockResponse(p) => p.run(ctx),
        Op::AuthenticationBasic(p) => p.run(ctx),
        Op::AuthenticationCertificate(p) => p.run(ctx),
        Op::JsonToXml(p) => p.run(ctx, section),
        Op::XmlToJson(p) => p.run(ctx, section),
        Op::RateLimit(p) => p.run(ctx),
        Op::RateLimitByKey(p) => p.run(ctx),
        Op::Quota(p) => p.run(ctx),
        Op::QuotaByKey(p) => p.run(ctx),
        Op::ValidateJwt(p) => p.run(ctx),
        Op::ValidateClientCertificate(p) => p.run(ctx),
    }
}

impl Op {
    /// What the op's expressions read (bodies), for `Plan::needs_*_body`.
    pub fn uses(&self, section: Section) -> Uses {
        let body = |u: &mut Uses| match section {
            Section::Inbound | Section::Backend => u.request_body = true,
            Section::Outbound | Section::OnError => u.response_body = true,
        };
        let mut u = match self {
            Op::SetVariable(p) => p.value.uses(),
            Op::SetHeader(p) => p.uses(),
            Op::SetBody(p) => p.body.uses(),
            Op::ReturnResponse(p) => p.uses(),
            Op::RewriteUri(p) => p.template.uses(),
            Op::SetBackendService(p) => p.uses(),
            Op::SetQueryParameter(p) => p.uses(),
            Op::SetMethod(p) => p.method.uses(),
            Op::SetStatus(p) => p.uses(),
            Op::FindAndReplace(p) => p.uses(),
            Op::CheckHeader(p) => p.uses(),
            Op::RateLimitByKey(p) => p.uses(),
            Op::QuotaByKey(p) => p.uses(),
            Op::ValidateJwt(p) => p.uses(),
            _ => Uses::default(),
        };
        if matches!(self, Op::FindAndReplace(_) | Op::JsonToXml(_) | Op::XmlToJson(_)) {
            body(&mut u);
        }
        if let Op::ForwardRequest(f) = self {
            u.request_body |= f.buffer_request_body;
        }
        u
    }
}

/// Load-time state for compiling one document.
pub struct Cx<'a> {
    /// `(offset in the document, message)`.
    pub problems: Vec<(usize, String)>,
    pub section: Section,
    /// Ids of `backends[]` (for `set-backend-service backend-id`).
    /// `None` when unknown (a document checked on its own).
    pub backend_ids: Option<&'a [String]>,
}

impl Cx<'_> {
    pub fn err(&mut self, pos: usize, message: impl Into<String>) {
        self.problems.push((pos, message.into()));
    }

    /// Compiles a value (literal or expression), reporting expression errors at their position.
    pub fn value(&mut self, src: &Src) -> Option<Dyn> {
        match compile_value(src) {
            Ok(d) => Some(d),
            Err(e) => {
                self.err(src.pos(e.pos), format!("policy expression: {}", e.message));
                None
            }
        }
    }

    /// Like [`Cx::value`], and the expression must be able to produce a bool.
    pub fn condition(&mut self, src: &Src) -> Option<Dyn> {
        let d = self.value(src)?;
        match &d {
            Dyn::Lit(s) if !matches!(s.trim(), "true" | "false" | "True" | "False") => {
                self.err(src.start(), format!("'{s}' is not a bool (write true, false or an expression)"));
                None
            }
            Dyn::Expr(p) if !matches!(p.ty, Ty::Bool | Ty::Any) => {
                self.err(src.start(), format!("the condition must be a bool, this expression is a {}", p.ty.name()));
                None
            }
            _ => Some(d),
        }
    }
}

/// Attribute access that remembers what was read, so unknown attributes are reported.
pub struct Attrs<'e> {
    el: &'e Element,
    used: Vec<bool>,
}

impl<'e> Attrs<'e> {
    pub fn new(el: &'e Element) -> Attrs<'e> {
        let used = el.attrs.iter().map(|a| a.name == "id").collect();
        Attrs { el, used }
    }

    pub fn get(&mut self, name: &str) -> Option<&'e Attr> {
        let i = self.el.attrs.iter().position(|a| a.name == name)?;
        self.used[i] = true;
        self.el.attrs.get(i)
    }

    pub fn required(&mut self, cx: &mut Cx<'_>, name: &str) -> Option<&'e Attr> {
        let a = self.get(name);
        if a.is_none() {
            cx.err(self.el.pos, format!("<{}> needs the attribute '{name}'", self.el.name));
        }
        a
    }

    /// A literal (non-expression) attribute.
    pub fn literal(&mut self, cx: &mut Cx<'_>, name: &str) -> Option<(&'e str, usize)> {
        let a = self.get(name)?;
        if a.value.text.trim_start().starts_with("@(") || a.value.text.trim_start().starts_with("@{") {
            cx.err(a.pos, format!("attribute '{name}' of <{}> does not accept expressions", self.el.name));
            return None;
        }
        Some((a.value.text.as_str(), a.pos))
    }

    pub fn bool(&mut self, cx: &mut Cx<'_>, name: &str, default: bool) -> bool {
        match self.literal(cx, name) {
            None => default,
            Some((v, pos)) => match v.trim() {
                t if t.eq_ignore_ascii_case("true") => true,
                t if t.eq_ignore_ascii_case("false") => false,
                t => {
                    cx.err(pos, format!("attribute '{name}' must be true or false, found '{t}'"));
                    default
                }
            },
        }
    }

    pub fn number<T: std::str::FromStr>(&mut self, cx: &mut Cx<'_>, name: &str) -> Option<T> {
        let (v, pos) = self.literal(cx, name)?;
        match v.trim().parse() {
            Ok(n) => Some(n),
            Err(_) => {
                cx.err(pos, format!("attribute '{name}' must be a whole number, found '{}'", v.trim()));
                None
            }
        }
    }

    pub fn value(&mut self, cx: &mut Cx<'_>, name: &str) -> Option<Dyn> {
        let a = self.get(name)?;
        cx.value(&a.value)
    }

    /// Reports attributes nobody asked for.
    pub fn finish(self, cx: &mut Cx<'_>) {
        for (a, used) in self.el.attrs.iter().zip(&self.used) {
            if !used {
                cx.err(a.pos, format!("unknown attribute '{}' on <{}>", a.name, self.el.name));
            }
        }
    }
}

/// Reports child elements and non-blank text of an element that takes neither.
pub fn no_children(el: &Element, cx: &mut Cx<'_>) {
    for c in &el.children {
        match c {
            super::xml::Node::Element(e) => {
                cx.err(e.pos, format!("<{}> takes no child elements, found <{}>", el.name, e.name))
            }
            super::xml::Node::Text(t) if !t.text.trim().is_empty() => {
                cx.err(t.start(), format!("<{}> takes no text content", el.name))
            }
            super::xml::Node::Text(_) => {}
        }
    }
}

/// Reports child elements (text is the element's value).
pub fn no_child_elements(el: &Element, cx: &mut Cx<'_>) {
    for e in el.elements() {
        cx.err(e.pos, format!("<{}> takes no child elements, found <{}>", el.name, e.name));
    }
}

/// Reports child elements other than `allowed`.
pub fn only_children(el: &Element, cx: &mut Cx<'_>, allowed: &[&str]) {
    for c in &el.children {
        match c {
            super::xml::Node::Element(e) if !allowed.contains(&e.name.as_str()) => {
                cx.err(e.pos, format!("unexpected <{}> inside <{}> (allowed: {})", e.name, el.name, allowed.join(", ")))
            }
            super::xml::Node::Text(t) if !t.text.trim().is_empty() => {
                cx.err(t.start(), format!("<{}> takes no text content", el.name))
            }
            _ => {}
        }
    }
}

/// `<value>` children compiled as values (set-header, set-query-parameter, check-header).
pub fn values(el: &Element, cx: &mut Cx<'_>) -> Vec<Dyn> {
    only_children(el, cx, &["value"]);
    el.elements()
        .filter(|e| e.name == "value")
        .filter_map(|v| {
            Attrs::new(v).finish(cx);
            no_grandchildren(v, cx);
            cx.value(&v.text())
        })
        .collect()
}

fn no_grandchildren(el: &Element, cx: &mut Cx<'_>) {
    for e in el.elements() {
        cx.err(e.pos, format!("<{}> takes no child elements, found <{}>", el.name, e.name));
    }
}

/// Merges `Uses`.
pub fn union(a: Uses, b: Uses) -> Uses {
    Uses {
        request_body: a.request_body || b.request_body,
        response_body: a.response_body || b.response_body,
        response: a.response || b.response,
    }
}
