//! `<check-header name="…" failed-check-httpcode="401" failed-check-error-message="…"
//! ignore-case="true"><value>…</value></check-header>`: the request must carry the header,
//! and (when values are listed) one of the values.

use super::{values, Attrs, Cx, Failure, Outcome, Result};
use crate::policy::expr::{Dyn, Uses};
use crate::policy::runtime::PolicyContext;
use crate::policy::xml::Element;

#[derive(Clone, Debug)]
pub struct CheckHeader {
    /// Lowercase.
    pub name: Box<str>,
    pub status: u16,
    pub message: Dyn,
    pub ignore_case: bool,
    pub values: Vec<Dyn>,
}

pub fn compile(el: &Element, cx: &mut Cx<'_>) -> Option<CheckHeader> {
    let mut a = Attrs::new(el);
    let name = a.literal(cx, "name").map(|(n, _)| n.trim().to_ascii_lowercase());
    if name.is_none() {
        cx.err(el.pos, "<check-header> needs the attribute 'name'");
    }
    let status = match a.number::<u16>(cx, "failed-check-httpcode") {
        Some(s) if (100..=599).contains(&s) => s,
        Some(s) => {
            cx.err(el.pos, format!("failed-check-httpcode must be 100-599, found {s}"));
            401
        }
        None => {
            cx.err(el.pos, "<check-header> needs the attribute 'failed-check-httpcode'");
            401
        }
    };
    let message = a.value(cx, "failed-check-error-message").unwrap_or_else(|| Dyn::lit("Header check failed"));
    let ignore_case = a.bool(cx, "ignore-case", true);
    a.finish(cx);
    let values = values(el, cx);
    Some(CheckHeader { name: name?.into(), status, message, ignore_case, values })
}

impl CheckHeader {
    pub fn uses(&self) -> Uses {
        self.values.iter().fold(self.message.uses(), |u, v| super::union(u, v.uses()))
    }

    pub fn run(&self, ctx: &mut PolicyContext<'_>) -> Result<Outcome<'static>> {
        let Some(actual) = ctx.request_header(&self.name).map(|v| v.into_owned()) else {
            return Err(Failure::new("HeaderNotFound", self.message.text(ctx)?, self.status));
        };
        if self.values.is_empty() {
            return Ok(Outcome::Continue);
        }
        for v in &self.values {
            let want = v.text(ctx)?;
            let hit = if self.ignore_case { want.eq_ignore_ascii_case(&actual) } else { want == actual };
            if hit {
                return Ok(Outcome::Continue);
            }
        }
        Err(Failure::new("HeaderValueNotAllowed", self.message.text(ctx)?, self.status))
    }
}
