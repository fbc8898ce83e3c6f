//! `<authentication-basic username="u" password="p"/>`: the backend request carries
//! `Authorization: Basic base64(u:p)` (replacing the caller's).

use base64::Engine;

use super::{no_children, Attrs, Cx, Outcome, Result};
use crate::policy::expr::Dyn;
use crate::policy::runtime::PolicyContext;
use crate::policy::xml::Element;

#[derive(Clone, Debug)]
pub struct AuthenticationBasic {
    pub username: Dyn,
    pub password: Dyn,
}

pub fn compile(el: &Element, cx: &mut Cx<'_>) -> Option<AuthenticationBasic> {
    let mut a = Attrs::new(el);
    let username = a.required(cx, "username").and_then(|v| cx.value(&v.value));
    let password = a.required(cx, "password").and_then(|v| cx.value(&v.value));
    a.finish(cx);
    no_children(el, cx);
    Some(AuthenticationBasic { username: username?, password: password? })
}

impl AuthenticationBasic {
    pub fn run(&self, ctx: &mut PolicyContext<'_>) -> Result<Outcome<'static>> {
        let creds = format!("{}:{}", self.username.text(ctx)?, self.password.text(ctx)?);
        let value = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(creds));
        ctx.request_edits.headers.set("Authorization", [value]);
        Ok(Outcome::Continue)
    }
}
