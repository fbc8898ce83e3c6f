//! `<set-body>text or @(…)</set-body>`: replaces the request body (inbound, backend) or the
//! response body (outbound). Liquid templates are not implemented and are rejected clearly.

use super::{no_child_elements, Attrs, Cx, Outcome, Result};
use crate::policy::expr::Dyn;
use crate::policy::runtime::{PolicyContext, Section};
use crate::policy::xml::Element;

#[derive(Clone, Debug)]
pub struct SetBody {
    pub body: Dyn,
}

pub fn compile(el: &Element, cx: &mut Cx<'_>) -> Option<SetBody> {
    let mut a = Attrs::new(el);
    if let Some((t, p)) = a.literal(cx, "template") {
        match t.trim() {
            "none" => {}
            "liquid" => cx.err(p, "set-body template=\"liquid\" is not supported (use a policy expression)"),
            other => cx.err(p, format!("set-body template must be none, found '{other}'")),
        }
    }
    if let Some(x) = a.get("xsi-nil") {
        cx.err(x.pos, "set-body attribute 'xsi-nil' is not supported yet");
    }
    a.finish(cx);
    no_child_elements(el, cx);
    let body = cx.value(&el.text())?;
    Some(SetBody { body })
}

impl SetBody {
    /// The body text this policy produces.
    pub fn eval(&self, ctx: &PolicyContext<'_>) -> Result<Vec<u8>> {
        Ok(match &self.body {
            Dyn::Lit(s) => s.as_bytes().to_vec(),
            d => d.text(ctx)?.into_bytes(),
        })
    }

    pub fn run(&self, ctx: &mut PolicyContext<'_>, section: Section) -> Result<Outcome<'static>> {
        let b = self.eval(ctx)?;
        match section {
            Section::Inbound | Section::Backend => ctx.request_edits.body = Some(b),
            Section::Outbound | Section::OnError => ctx.response_edits.body = Some(b),
        }
        Ok(Outcome::Continue)
    }
}
