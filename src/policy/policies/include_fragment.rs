//! `<include-fragment fragment-id="x"/>`: a `policyFragments` entry inlined at load time
//! (resolved in `plan::fragments`, with cycle detection).

use super::{no_children, Attrs, Cx};
use crate::policy::xml::Element;

pub fn compile(el: &Element, cx: &mut Cx<'_>) -> Option<String> {
    let mut a = Attrs::new(el);
    let id = a.literal(cx, "fragment-id").map(|(v, _)| v.trim().to_string());
    a.finish(cx);
    no_children(el, cx);
    if id.is_none() {
        cx.err(el.pos, "<include-fragment> needs the attribute 'fragment-id'");
    }
    id
}
