//! `<return-response response-variable-name="v"><set-status/><set-header/><set-body/>
//! </return-response>`: ends the pipeline with a response built by the gateway.
//!
//! `response-variable-name` names a variable holding a response in APIM (from
//! `send-request`, not supported yet). Until then the variable must hold a string, used as
//! the starting body; a missing variable is an error.

use super::set_body::SetBody;
use super::set_header::{ExistsAction, SetHeader};
use super::set_status::SetStatus;
use super::{union, Attrs, Cx, Failure, Outcome, Result};
use crate::policy::expr::{Uses, Value};
use crate::policy::runtime::{PolicyContext, Response};
use crate::policy::xml::{Element, Node};

#[derive(Clone, Debug)]
pub struct ReturnResponse {
    pub variable: Option<Box<str>>,
    pub status: Option<SetStatus>,
    pub headers: Vec<SetHeader>,
    pub body: Option<SetBody>,
}

pub fn compile(el: &Element, cx: &mut Cx<'_>) -> Option<ReturnResponse> {
    let mut a = Attrs::new(el);
    let variable = a.literal(cx, "response-variable-name").map(|(v, _)| v.trim().into());
    a.finish(cx);
    let mut r = ReturnResponse { variable, status: None, headers: Vec::new(), body: None };
    let mut ok = true;
    for c in &el.children {
        let e = match c {
            Node::Element(e) => e,
            Node::Text(t) if t.text.trim().is_empty() => continue,
            Node::Text(t) => {
                cx.err(t.start(), "<return-response> takes no text content");
                ok = false;
                continue;
            }
        };
        match e.name.as_str() {
            "set-status" if r.status.is_none() => r.status = super::set_status::compile(e, cx),
            "set-header" => match super::set_header::compile(e, cx) {
                Some(h) => r.headers.push(h),
                None => ok = false,
            },
            "set-body" if r.body.is_none() => r.body = super::set_body::compile(e, cx),
            "set-status" | "set-body" => {
                cx.err(e.pos, format!("<{}> appears more than once in <return-response>", e.name));
                ok = false;
            }
            other => {
                cx.err(
                    e.pos,
                    format!(
                        "unexpected <{other}> inside <return-response> (allowed: set-status, set-header, set-body)"
                    ),
                );
                ok = false;
            }
        }
    }
    ok.then_some(r)
}

impl ReturnResponse {
    pub fn uses(&self) -> Uses {
        let mut u = self.status.as_ref().map(SetStatus::uses).unwrap_or_default();
        for h in &self.headers {
            u = union(u, h.uses());
        }
        if let Some(b) = &self.body {
            u = union(u, b.body.uses());
        }
        u
    }

    pub fn build(&self, ctx: &PolicyContext<'_>) -> Result<Response> {
        let mut resp = Response { status: 200, reason: "OK".into(), headers: Vec::new(), body: Vec::new() };
        if let Some(v) = &self.variable {
            match ctx.variable(v) {
                Some(Value::Str(s)) => resp.body = s.as_bytes().to_vec(),
                Some(other) => {
                    return Err(Failure::new(
                        "ExpressionValueEvaluationFailure",
                        format!("variable '{v}' holds a {}, not a response", other.ty().name()),
                        500,
                    ))
                }
                None => {
                    return Err(Failure::new(
                        "ExpressionValueEvaluationFailure",
                        format!("variable '{v}' was not found"),
                        500,
                    ))
                }
            }
        }
        if let Some(s) = &self.status {
            let (c, r) = s.eval(ctx)?;
            resp.status = c;
            resp.reason = r;
        }
        for h in &self.headers {
            let lower = h.name.to_ascii_lowercase();
            let exists = resp.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(&lower));
            match h.action {
                ExistsAction::Skip if exists => continue,
                ExistsAction::Override | ExistsAction::Delete => {
                    resp.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(&lower))
                }
                _ => {}
            }
            if h.action != ExistsAction::Delete {
                for v in &h.values {
                    resp.headers.push((h.name.to_string(), v.text(ctx)?));
                }
            }
        }
        if let Some(b) = &self.body {
            resp.body = b.eval(ctx)?;
        }
        Ok(resp)
    }

    pub fn run(&self, ctx: &mut PolicyContext<'_>) -> Result<Outcome<'static>> {
        Ok(Outcome::Respond(self.build(ctx)?))
    }
}
