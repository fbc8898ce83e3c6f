//! `<rewrite-uri template="/v2/{id}?x={q}" copy-unmatched-params="true"/>`: the backend's
//! operation-relative path and query. `{name}` takes a matched template parameter, else a
//! query parameter of the request; query parameters not used by the template are appended
//! unless `copy-unmatched-params="false"`.

use super::set_query_parameter::{join, pairs};
use super::{no_children, Attrs, Cx, Failure, Outcome, Result};
use crate::policy::expr::Dyn;
use crate::policy::runtime::PolicyContext;
use crate::policy::xml::Element;

#[derive(Clone, Debug)]
pub struct RewriteUri {
    pub template: Dyn,
    pub copy_unmatched: bool,
}

pub fn compile(el: &Element, cx: &mut Cx<'_>) -> Option<RewriteUri> {
    let mut a = Attrs::new(el);
    let template = a.required(cx, "template").and_then(|t| {
        let d = cx.value(&t.value)?;
        if let Some(l) = d.as_lit() {
            if l.matches('{').count() != l.matches('}').count() {
                cx.err(t.pos, "rewrite-uri template has unbalanced braces");
                return None;
            }
        }
        Some(d)
    });
    let copy_unmatched = a.bool(cx, "copy-unmatched-params", true);
    a.finish(cx);
    no_children(el, cx);
    Some(RewriteUri { template: template?, copy_unmatched })
}

/// Expands `{name}` placeholders; returns the text and the names used.
fn expand(t: &str, ctx: &PolicyContext<'_>) -> Result<(String, Vec<String>)> {
    let mut out = String::with_capacity(t.len());
    let mut used = Vec::new();
    let mut rest = t;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let Some(j) = rest[i..].find('}') else {
            return Err(Failure::new(
                "ExpressionValueEvaluationFailure",
                "rewrite-uri template has an unclosed '{'",
                500,
            ));
        };
        let name = &rest[i + 1..i + j];
        let value = ctx.matched_param(name).map(str::to_string).or_else(|| ctx.query_param(name).map(str::to_string));
        match value {
            Some(v) => out.push_str(&v),
            None => {
                return Err(Failure::new(
                    "ExpressionValueEvaluationFailure",
                    format!("rewrite-uri: parameter '{name}' was not found in the request"),
                    500,
                ))
            }
        }
        used.push(name.to_string());
        rest = &rest[i + j + 1..];
    }
    out.push_str(rest);
    Ok((out, used))
}

impl RewriteUri {
    pub fn run(&self, ctx: &mut PolicyContext<'_>) -> Result<Outcome<'static>> {
        let t = self.template.text(ctx)?;
        let (expanded, used) = expand(t.trim(), ctx)?;
        let (path, query) = expanded.split_once('?').unwrap_or((expanded.as_str(), ""));
        let mut q = pairs(query);
        if self.copy_unmatched {
            for (k, v) in pairs(ctx.query()) {
                if !used.contains(&k) && !q.iter().any(|(qk, _)| *qk == k) {
                    q.push((k, v));
                }
            }
        }
        let path = if path.starts_with('/') { path.to_string() } else { format!("/{path}") };
        ctx.request_edits.path_and_query = Some(join(&path, &q));
        Ok(Outcome::Continue)
    }
}
