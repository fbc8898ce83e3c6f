//! `<set-header name="…" exists-action="override|skip|append|delete"><value>…</value>
//! </set-header>`. Inbound and backend edit the backend request; outbound and on-error the
//! response. Several values become several header lines (equivalent to APIM's comma join).

use super::{values, Attrs, Cx, Outcome, Result};
use crate::policy::expr::{Dyn, Uses};
use crate::policy::runtime::{HeaderEdits, PolicyContext, Section};
use crate::policy::xml::Element;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExistsAction {
    Override,
    Skip,
    Append,
    Delete,
}

pub fn exists_action(a: &mut Attrs<'_>, cx: &mut Cx<'_>) -> ExistsAction {
    match a.literal(cx, "exists-action").map(|(v, p)| (v.trim(), p)) {
        None | Some(("override", _)) => ExistsAction::Override,
        Some(("skip", _)) => ExistsAction::Skip,
        Some(("append", _)) => ExistsAction::Append,
        Some(("delete", _)) => ExistsAction::Delete,
        Some((other, p)) => {
            cx.err(p, format!("exists-action must be override, skip, append or delete, found '{other}'"));
            ExistsAction::Override
        }
    }
}

/// Headers the gateway owns: framing and connection management.
const PROTECTED: [&str; 5] = ["connection", "content-length", "keep-alive", "transfer-encoding", "host"];

#[derive(Clone, Debug)]
pub struct SetHeader {
    pub name: Box<str>,
    pub action: ExistsAction,
    pub values: Vec<Dyn>,
}

pub fn compile(el: &Element, cx: &mut Cx<'_>) -> Option<SetHeader> {
    let mut a = Attrs::new(el);
    let name = a.literal(cx, "name").map(|(n, p)| (n.trim().to_string(), p));
    let action = exists_action(&mut a, cx);
    a.finish(cx);
    let values = values(el, cx);
    let Some((name, pos)) = name else {
        cx.err(el.pos, "<set-header> needs the attribute 'name'");
        return None;
    };
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic() && b != b':') {
        cx.err(pos, format!("'{name}' is not a valid header name"));
        return None;
    }
    if PROTECTED.contains(&name.to_ascii_lowercase().as_str()) {
        cx.err(pos, format!("the header '{name}' is managed by the gateway and cannot be set"));
        return None;
    }
    Some(SetHeader { name: name.into(), action, values })
}

impl SetHeader {
    pub fn uses(&self) -> Uses {
        self.values.iter().fold(Uses::default(), |u, v| super::union(u, v.uses()))
    }

    pub fn run(&self, ctx: &mut PolicyContext<'_>, section: Section) -> Result<Outcome<'static>> {
        let response = matches!(section, Section::Outbound | Section::OnError);
        let lower = self.name.to_ascii_lowercase();
        let exists =
            if response { ctx.response_header(&lower).is_some() } else { ctx.request_header(&lower).is_some() };
        let mut vals = Vec::with_capacity(self.values.len());
        if self.action != ExistsAction::Delete {
            for v in &self.values {
                // Checked where heads are written (crate::http::wire): a value with CR, LF or
                // NUL fails the request with 500, it is never rewritten into something else.
                vals.push(v.text(ctx)?);
            }
        }
        let edits: &mut HeaderEdits =
            if response { &mut ctx.response_edits.headers } else { &mut ctx.request_edits.headers };
        match self.action {
            ExistsAction::Override => edits.set(&self.name, vals),
            ExistsAction::Skip if exists => {}
            ExistsAction::Skip | ExistsAction::Append => edits.append(&self.name, vals),
            ExistsAction::Delete => edits.delete(&self.name),
        }
        Ok(Outcome::Continue)
    }
}
