//! `<base/>`: the enclosing scope's statements of the same section, placed here.
//! Merged at load time (see `plan::merge`); at global scope it stands for nothing.

use super::{no_children, Attrs, Cx};
use crate::policy::xml::Element;

pub fn compile(el: &Element, cx: &mut Cx<'_>) {
    Attrs::new(el).finish(cx);
    no_children(el, cx);
}
