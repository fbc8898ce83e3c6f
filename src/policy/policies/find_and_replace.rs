//! `<find-and-replace from="…" to="…"/>`: literal replacement in the body (request body in
//! inbound/backend, response body in outbound/on-error). Needs the buffered body.

use super::{no_children, union, Attrs, Cx, Failure, Outcome, Result};
use crate::policy::expr::{Dyn, Uses};
use crate::policy::runtime::{PolicyContext, Section};
use crate::policy::xml::Element;

#[derive(Clone, Debug)]
pub struct FindAndReplace {
    pub from: Dyn,
    pub to: Dyn,
}

pub fn compile(el: &Element, cx: &mut Cx<'_>) -> Option<FindAndReplace> {
    let mut a = Attrs::new(el);
    let from = a.required(cx, "from").and_then(|v| cx.value(&v.value));
    let to = a.required(cx, "to").and_then(|v| cx.value(&v.value));
    a.finish(cx);
    no_children(el, cx);
    if from.as_ref().and_then(Dyn::as_lit).is_some_and(str::is_empty) {
        cx.err(el.pos, "find-and-replace 'from' must not be empty");
        return None;
    }
    Some(FindAndReplace { from: from?, to: to? })
}

impl FindAndReplace {
    pub fn uses(&self) -> Uses {
        union(self.from.uses(), self.to.uses())
    }

    pub fn run(&self, ctx: &mut PolicyContext<'_>, section: Section) -> Result<Outcome<'static>> {
        let from = self.from.text(ctx)?;
        if from.is_empty() {
            return Err(Failure::new("ExpressionValueEvaluationFailure", "find-and-replace 'from' is empty", 500));
        }
        let to = self.to.text(ctx)?;
        let response = matches!(section, Section::Outbound | Section::OnError);
        let current = if response { ctx.current_response_body() } else { ctx.current_request_body() };
        let text = String::from_utf8_lossy(current.unwrap_or(&[])).into_owned();
        if !text.contains(&from) {
            return Ok(Outcome::Continue);
        }
        let out = text.replace(&from, &to).into_bytes();
        if response {
            ctx.response_edits.body = Some(out);
        } else {
            ctx.request_edits.body = Some(out);
        }
        Ok(Outcome::Continue)
    }
}
