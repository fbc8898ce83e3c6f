//! `<mock-response status-code="200" content-type="application/json"/>`.
//!
//! APIM builds the body from the API's examples or schemas. Our configuration document
//! carries no API definitions (no examples, no schemas), so the mocked body is always empty;
//! status and content type are as configured.

use super::{no_children, Attrs, Cx, Outcome, Result};
use crate::policy::runtime::{PolicyContext, Response};
use crate::policy::xml::Element;

#[derive(Clone, Debug)]
pub struct MockResponse {
    pub status: u16,
    pub content_type: Box<str>,
}

pub fn compile(el: &Element, cx: &mut Cx<'_>) -> Option<MockResponse> {
    let mut a = Attrs::new(el);
    let status = match a.number::<u16>(cx, "status-code") {
        Some(s) if (100..=599).contains(&s) => s,
        Some(s) => {
            cx.err(el.pos, format!("<mock-response> status-code must be 100-599, found {s}"));
            200
        }
        None => 200,
    };
    let content_type = a.literal(cx, "content-type").map_or("application/json", |(c, _)| c).trim().into();
    a.finish(cx);
    no_children(el, cx);
    Some(MockResponse { status, content_type })
}

impl MockResponse {
    pub fn run(&self, _ctx: &mut PolicyContext<'_>) -> Result<Outcome<'static>> {
        Ok(Outcome::Respond(Response {
            status: self.status,
            reason: crate::http::write::reason(self.status).to_string(),
            headers: vec![("content-type".into(), self.content_type.to_string())],
            body: Vec::new(),
        }))
    }
}
