//! `<set-query-parameter name="…" exists-action="…"><value>…</value></set-query-parameter>`:
//! rewrites the backend query (materialised in `RequestEdits::path_and_query`).

use super::set_header::{exists_action, ExistsAction};
use super::{values, Attrs, Cx, Outcome, Result};
use crate::policy::expr::{Dyn, Uses};
use crate::policy::runtime::PolicyContext;
use crate::policy::xml::Element;

#[derive(Clone, Debug)]
pub struct SetQueryParameter {
    pub name: Box<str>,
    pub action: ExistsAction,
    pub values: Vec<Dyn>,
}

pub fn compile(el: &Element, cx: &mut Cx<'_>) -> Option<SetQueryParameter> {
    let mut a = Attrs::new(el);
    let name = a.literal(cx, "name").map(|(n, _)| n.trim().to_string());
    let action = exists_action(&mut a, cx);
    a.finish(cx);
    let values = values(el, cx);
    match name {
        Some(n) if !n.is_empty() => Some(SetQueryParameter { name: encode(&n).into(), action, values }),
        _ => {
            cx.err(el.pos, "<set-query-parameter> needs the attribute 'name'");
            None
        }
    }
}

/// Percent-encodes what cannot stand in a query component.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$'()*,;:@/?".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Builds `path?query` from a path and query pairs.
pub fn join(path: &str, pairs: &[(String, String)]) -> String {
    let mut out = path.to_string();
    for (i, (k, v)) in pairs.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(k);
        if !v.is_empty() || !k.is_empty() {
            out.push('=');
            out.push_str(v);
        }
    }
    out
}

pub fn pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_string(), v.to_string())
        })
        .collect()
}

impl SetQueryParameter {
    pub fn uses(&self) -> Uses {
        self.values.iter().fold(Uses::default(), |u, v| super::union(u, v.uses()))
    }

    pub fn run(&self, ctx: &mut PolicyContext<'_>) -> Result<Outcome<'static>> {
        let mut vals = Vec::with_capacity(self.values.len());
        for v in &self.values {
            vals.push(encode(&v.text(ctx)?));
        }
        let mut q = pairs(ctx.query());
        let exists = q.iter().any(|(k, _)| *k == *self.name);
        match self.action {
            ExistsAction::Skip if exists => return Ok(Outcome::Continue),
            ExistsAction::Override | ExistsAction::Delete => q.retain(|(k, _)| *k != *self.name),
            ExistsAction::Skip | ExistsAction::Append => {}
        }
        if self.action != ExistsAction::Delete {
            q.extend(vals.into_iter().map(|v| (self.name.to_string(), v)));
        }
        let path = ctx.rest_path().to_string();
        ctx.request_edits.path_and_query = Some(join(&path, &q));
        Ok(Outcome::Continue)
    }
}
