//! `<find-and-replace from="…" to="…"/>`: literal replacement in the body (request body in
//! inbound/backend, response body in outbound/on-error). Needs the buffered body.

use super::budget::{self, Exceeded};
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
        let current = current.unwrap_or(&[]);
        if current.len() > budget::MAX_INLINE {
            return Err(Exceeded::TooLarge(current.len()).failure("find-and-replace", section));
        }
        let text = String::from_utf8_lossy(current).into_owned();
        let hits = text.matches(from.as_str()).count();
        if hits == 0 {
            return Ok(Outcome::Continue);
        }
        // A short `from` and a long `to` multiply the body: the result has the same budget
        // as a conversion's output.
        let grown = text.len().saturating_sub(hits * from.len()).saturating_add(hits.saturating_mul(to.len()));
        if grown > budget::bytes_for(text.len()) {
            return Err(Exceeded::TooBig.failure("find-and-replace", section));
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
