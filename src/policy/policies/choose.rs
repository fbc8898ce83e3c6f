//! `<choose><when condition="…">…</when><otherwise>…</otherwise></choose>`: compiled by the
//! plan into conditional jumps. This file parses the element.

use super::{Attrs, Cx};
use crate::policy::expr::Dyn;
use crate::policy::xml::{Element, Node};

/// The parsed shape: `(condition, body element)` per `when`, then `otherwise`'s element.
pub struct ChooseParts<'e> {
    pub whens: Vec<(Option<Dyn>, &'e Element)>,
    pub otherwise: Option<&'e Element>,
}

pub fn parse<'e>(el: &'e Element, cx: &mut Cx<'_>) -> ChooseParts<'e> {
    Attrs::new(el).finish(cx);
    let mut parts = ChooseParts { whens: Vec::new(), otherwise: None };
    for c in &el.children {
        let e = match c {
            Node::Element(e) => e,
            Node::Text(t) if t.text.trim().is_empty() => continue,
            Node::Text(t) => {
                cx.err(t.start(), "<choose> takes no text content");
                continue;
            }
        };
        match e.name.as_str() {
            "when" if parts.otherwise.is_some() => cx.err(e.pos, "<when> must come before <otherwise>"),
            "when" => {
                let mut a = Attrs::new(e);
                let cond = match a.required(cx, "condition") {
                    Some(c) => cx.condition(&c.value),
                    None => None,
                };
                a.finish(cx);
                parts.whens.push((cond, e));
            }
            "otherwise" if parts.otherwise.is_some() => cx.err(e.pos, "<otherwise> appears more than once"),
            "otherwise" => {
                Attrs::new(e).finish(cx);
                parts.otherwise = Some(e);
            }
            other => cx.err(e.pos, format!("unexpected <{other}> inside <choose> (allowed: when, otherwise)")),
        }
    }
    if parts.whens.is_empty() {
        cx.err(el.pos, "<choose> needs at least one <when>");
    }
    parts
}
