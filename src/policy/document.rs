//! One policy document (or fragment) → typed statements per section.
//!
//! Every element becomes either a compiled [`Op`] or a control statement (`base`,
//! `include-fragment`, `choose`, `retry`); anything else is a problem at its position.

use std::collections::HashMap;

use super::expr::Dyn;
use super::policies::{self, registry, Attrs, Cx, Op};
use super::runtime::Section;
use super::xml::{self, Element, Node, Secrets};

/// What kind of document is compiled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocKind {
    /// `<policies>…</policies>` at global, product, API or operation scope.
    Policies,
    /// `<fragment>…</fragment>`.
    Fragment,
}

#[derive(Clone, Debug)]
pub enum StmtKind {
    Base,
    Include(String),
    Choose { whens: Vec<(Dyn, Vec<Stmt>)>, otherwise: Option<Vec<Stmt>> },
    Retry(policies::retry::RetrySpec, Vec<Stmt>),
    LimitConcurrency(std::sync::Arc<policies::limit_concurrency::LimitConcurrency>, Vec<Stmt>),
    Op(Op),
}

#[derive(Clone, Debug)]
pub struct Stmt {
    pub name: Box<str>,
    /// Offset of the element in its document.
    pub pos: usize,
    /// The `id` attribute (`context.LastError.PolicyId`).
    pub id: Box<str>,
    pub kind: StmtKind,
}

/// A compiled document: each section's statements, `None` when the section is absent.
#[derive(Clone, Debug, Default)]
pub struct Document {
    pub sections: [Option<Vec<Stmt>>; 4],
    /// For fragments: the statements of `<fragment>`.
    pub fragment: Vec<Stmt>,
    /// The named values substituted in the text, kept out of later problems.
    pub secrets: Secrets,
    /// Bytes of the text once named values are substituted (fragment budgets count these).
    pub expanded_len: usize,
}

/// A problem at a byte offset of the document text.
pub type Problems = Vec<(usize, String)>;

fn statements(parent: &Element, cx: &mut Cx<'_>, section: Option<Section>, top: bool) -> Vec<Stmt> {
    let mut out = Vec::new();
    let mut cors_seen = false;
    for c in &parent.children {
        let el = match c {
            Node::Element(e) => e,
            Node::Text(t) if t.text.trim().is_empty() => continue,
            Node::Text(t) => {
                cx.err(t.start(), format!("text content is not allowed in <{}>", parent.name));
                continue;
            }
        };
        let name = el.name.as_str();
        let Some(allowed) = registry::allowed(name) else {
            cx.err(el.pos, registry::unsupported(name));
            continue;
        };
        if let Some(s) = section {
            if !allowed.contains(&s) {
                let list: Vec<&str> = allowed.iter().map(|s| s.name()).collect();
                cx.err(el.pos, format!("<{name}> is not allowed in <{}> (allowed in: {})", s.name(), list.join(", ")));
                continue;
            }
        }
        if name == "cors" {
            if cors_seen {
                cx.err(el.pos, "<cors> appears more than once in a section");
            }
            cors_seen = true;
        }
        let id: Box<str> = el.attrs.iter().find(|a| a.name == "id").map_or("", |a| a.value.text.as_str()).into();
        let kind = match name {
            "base" => {
                policies::base::compile(el, cx);
                if !top {
                    cx.err(el.pos, "<base/> is only allowed directly inside a section");
                    continue;
                }
                Some(StmtKind::Base)
            }
            "include-fragment" => policies::include_fragment::compile(el, cx).map(StmtKind::Include),
            "choose" => {
                let parts = policies::choose::parse(el, cx);
                let mut whens = Vec::new();
                for (cond, body) in parts.whens {
                    let stmts = statements(body, cx, section, false);
                    if let Some(c) = cond {
                        whens.push((c, stmts));
                    }
                }
                let otherwise = parts.otherwise.map(|o| statements(o, cx, section, false));
                Some(StmtKind::Choose { whens, otherwise })
            }
            "retry" => {
                let spec = policies::retry::compile(el, cx);
                let body = statements(el, cx, section, false);
                spec.map(|s| StmtKind::Retry(s, body))
            }
            "limit-concurrency" => {
                let spec = policies::limit_concurrency::compile(el, cx);
                let body = statements(el, cx, section, false);
                spec.map(|s| StmtKind::LimitConcurrency(std::sync::Arc::new(s), body))
            }
            _ => compile_op(el, cx).map(StmtKind::Op),
        };
        if let Some(kind) = kind {
            out.push(Stmt { name: name.into(), pos: el.pos, id, kind });
        }
    }
    out
}

fn compile_op(el: &Element, cx: &mut Cx<'_>) -> Option<Op> {
    use policies::*;
    Some(match el.name.as_str() {
        "set-variable" => Op::SetVariable(set_variable::compile(el, cx)?),
        "check-header" => Op::CheckHeader(check_header::compile(el, cx)?),
        "ip-filter" => Op::IpFilter(ip_filter::compile(el, cx)?),
        "cors" => Op::Cors(cors::compile(el, cx)?),
        "forward-request" => Op::ForwardRequest(forward_request::compile(el, cx)?),
        "set-backend-service" => Op::SetBackendService(set_backend_service::compile(el, cx)?),
        "rewrite-uri" => Op::RewriteUri(rewrite_uri::compile(el, cx)?),
        "set-header" => Op::SetHeader(set_header::compile(el, cx)?),
        "set-query-parameter" => Op::SetQueryParameter(set_query_parameter::compile(el, cx)?),
        "set-method" => Op::SetMethod(set_method::compile(el, cx)?),
        "set-status" => Op::SetStatus(set_status::compile(el, cx)?),
        "set-body" => Op::SetBody(set_body::compile(el, cx)?),
        "find-and-replace" => Op::FindAndReplace(find_and_replace::compile(el, cx)?),
        "return-response" => Op::ReturnResponse(return_response::compile(el, cx)?),
        "mock-response" => Op::MockResponse(mock_response::compile(el, cx)?),
        "authentication-basic" => Op::AuthenticationBasic(authentication_basic::compile(el, cx)?),
        "authentication-certificate" => Op::AuthenticationCertificate(authentication_certificate::compile(el, cx)?),
        "json-to-xml" => Op::JsonToXml(json_to_xml::compile(el, cx)?),
        "xml-to-json" => Op::XmlToJson(xml_to_json::compile(el, cx)?),
        "rate-limit" => Op::RateLimit(Box::new(rate_limit::compile(el, cx)?)),
        "rate-limit-by-key" => Op::RateLimitByKey(Box::new(rate_limit_by_key::compile(el, cx)?)),
        "quota" => Op::Quota(Box::new(quota::compile(el, cx)?)),
        "quota-by-key" => Op::QuotaByKey(Box::new(quota_by_key::compile(el, cx)?)),
        "validate-jwt" => Op::ValidateJwt(Box::new(validate_jwt::compile(el, cx)?)),
        "validate-client-certificate" => {
            Op::ValidateClientCertificate(Box::new(validate_client_certificate::compile(el, cx)?))
        }
        other => {
            cx.err(el.pos, registry::unsupported(other));
            return None;
        }
    })
}

/// Reads and compiles one document. `values` are the named values to substitute;
/// `backend_ids` the ids of `backends[]`. Problems carry offsets into `text` as written.
pub fn compile_document(
    text: &str,
    kind: DocKind,
    values: &HashMap<String, String>,
    backend_ids: Option<&[String]>,
) -> Result<Document, Problems> {
    let read = xml::read(text, values);
    let root = read.root.map_err(|e| vec![(e.offset, e.message)])?;
    let mut cx = Cx { problems: Vec::new(), section: Section::Inbound, backend_ids };
    let mut doc = Document { secrets: read.secrets, expanded_len: read.expanded_len, ..Document::default() };
    let want = match kind {
        DocKind::Policies => "policies",
        DocKind::Fragment => "fragment",
    };
    if root.name != want {
        let m = doc.secrets.scrub(format!("root element must be <{want}>, found <{}>", root.name));
        return Err(vec![(root.pos, m)]);
    }
    Attrs::new(&root).finish(&mut cx);
    match kind {
        DocKind::Fragment => doc.fragment = statements(&root, &mut cx, None, false),
        DocKind::Policies => {
            for c in &root.children {
                let el = match c {
                    Node::Element(e) => e,
                    Node::Text(t) if t.text.trim().is_empty() => continue,
                    Node::Text(t) => {
                        cx.err(t.start(), "text content is not allowed here");
                        continue;
                    }
                };
                let Some(section) = Section::from_name(&el.name) else {
                    cx.err(
                        el.pos,
                        format!(
                            "unknown policy section <{}> (expected inbound, backend, outbound or on-error)",
                            el.name
                        ),
                    );
                    continue;
                };
                if doc.sections[section.index()].is_some() {
                    cx.err(el.pos, format!("section <{}> appears more than once", el.name));
                    continue;
                }
                let mut a = Attrs::new(el);
                let _ = a.get("id");
                a.finish(&mut cx);
                cx.section = section;
                doc.sections[section.index()] = Some(statements(el, &mut cx, Some(section), true));
            }
        }
    }
    if cx.problems.is_empty() {
        Ok(doc)
    } else {
        Err(cx.problems.into_iter().map(|(at, m)| (at, doc.secrets.scrub(m))).collect())
    }
}
