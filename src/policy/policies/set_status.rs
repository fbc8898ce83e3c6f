//! `<set-status code="401" reason="Unauthorized"/>`: the status of the response.

use super::{no_children, union, Attrs, Cx, Failure, Outcome, Result};
use crate::policy::expr::{Dyn, Uses, Value};
use crate::policy::runtime::PolicyContext;
use crate::policy::xml::Element;

#[derive(Clone, Debug)]
pub struct SetStatus {
    pub code: Dyn,
    pub reason: Option<Dyn>,
}

pub fn compile(el: &Element, cx: &mut Cx<'_>) -> Option<SetStatus> {
    let mut a = Attrs::new(el);
    let code = a.required(cx, "code").and_then(|c| {
        let d = cx.value(&c.value)?;
        if let Some(l) = d.as_lit() {
            if !matches!(l.trim().parse::<u16>(), Ok(100..=599)) {
                cx.err(c.pos, format!("<set-status> code must be 100-599, found '{}'", l.trim()));
                return None;
            }
        }
        Some(d)
    });
    let reason = a.value(cx, "reason");
    a.finish(cx);
    no_children(el, cx);
    Some(SetStatus { code: code?, reason })
}

impl SetStatus {
    pub fn uses(&self) -> Uses {
        union(self.code.uses(), self.reason.as_ref().map(Dyn::uses).unwrap_or_default())
    }

    /// The status and reason this policy sets.
    pub fn eval(&self, ctx: &PolicyContext<'_>) -> Result<(u16, String)> {
        let code = match self.code.eval(ctx)? {
            Value::Int(n) => u16::try_from(n).ok(),
            v => v.to_text().trim().parse::<u16>().ok(),
        };
        let Some(code) = code.filter(|c| (100..=599).contains(c)) else {
            return Err(Failure::new("ExpressionValueEvaluationFailure", "set-status code is not a status code", 500));
        };
        let reason = match &self.reason {
            Some(r) => r.text(ctx)?,
            None => crate::http::write::reason(code).to_string(),
        };
        Ok((code, reason))
    }

    pub fn run(&self, ctx: &mut PolicyContext<'_>) -> Result<Outcome<'static>> {
        let s = self.eval(ctx)?;
        ctx.response_edits.status = Some(s);
        Ok(Outcome::Continue)
    }
}
