//! `<set-method>POST</set-method>`: the method of the backend request.

use super::{no_child_elements, Attrs, Cx, Failure, Outcome, Result};
use crate::policy::expr::Dyn;
use crate::policy::runtime::PolicyContext;
use crate::policy::xml::Element;

#[derive(Clone, Debug)]
pub struct SetMethod {
    pub method: Dyn,
}

fn valid(m: &str) -> bool {
    !m.is_empty() && m.bytes().all(|b| b.is_ascii_alphabetic() || b == b'-')
}

pub fn compile(el: &Element, cx: &mut Cx<'_>) -> Option<SetMethod> {
    Attrs::new(el).finish(cx);
    no_child_elements(el, cx);
    let text = el.text();
    let method = cx.value(&text)?;
    if let Some(m) = method.as_lit() {
        if !valid(m.trim()) {
            cx.err(el.pos, format!("<set-method>: '{}' is not an HTTP method", m.trim()));
            return None;
        }
    }
    Some(SetMethod { method })
}

impl SetMethod {
    pub fn run(&self, ctx: &mut PolicyContext<'_>) -> Result<Outcome<'static>> {
        let m = self.method.text(ctx)?.trim().to_ascii_uppercase();
        if !valid(&m) {
            return Err(Failure::new("ExpressionValueEvaluationFailure", format!("'{m}' is not an HTTP method"), 500));
        }
        ctx.request_edits.method = Some(m);
        Ok(Outcome::Continue)
    }
}
