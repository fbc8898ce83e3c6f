//! `<set-variable name="x" value="…|@(…)"/>`: stores a value in `context.Variables`.

use super::{no_children, Attrs, Cx, Outcome, Result};
use crate::policy::expr::Dyn;
use crate::policy::runtime::PolicyContext;
use crate::policy::xml::Element;

#[derive(Clone, Debug)]
pub struct SetVariable {
    pub name: Box<str>,
    pub value: Dyn,
}

pub fn compile(el: &Element, cx: &mut Cx<'_>) -> Option<SetVariable> {
    let mut a = Attrs::new(el);
    let name = a.literal(cx, "name").map(|(n, _)| n.trim().to_string());
    let value = a.required(cx, "value").and_then(|v| cx.value(&v.value));
    if name.is_none() {
        cx.err(el.pos, "<set-variable> needs the attribute 'name'");
    }
    a.finish(cx);
    no_children(el, cx);
    Some(SetVariable { name: name?.into(), value: value? })
}

impl SetVariable {
    pub fn run(&self, ctx: &mut PolicyContext<'_>) -> Result<Outcome<'static>> {
        let v = self.value.eval(ctx)?;
        ctx.set_variable(&self.name, v);
        Ok(Outcome::Continue)
    }
}
