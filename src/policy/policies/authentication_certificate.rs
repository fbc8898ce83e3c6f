//! `<authentication-certificate certificate-id="client-cert"/>`: the backend call presents that
//! certificate (from the document's `certificates`, with its key) in the TLS handshake. The
//! proxy keeps such connections in their own pool profile.

use super::{no_children, Attrs, Cx, Outcome, Result};
use crate::policy::runtime::PolicyContext;
use crate::policy::xml::Element;

#[derive(Clone, Debug)]
pub struct AuthenticationCertificate {
    pub certificate_id: Box<str>,
}

pub fn compile(el: &Element, cx: &mut Cx<'_>) -> Option<AuthenticationCertificate> {
    let mut a = Attrs::new(el);
    for unsupported in ["thumbprint", "body", "password"] {
        if let Some((_, pos)) = a.literal(cx, unsupported) {
            cx.err(pos, format!("<authentication-certificate> {unsupported}= is not supported; name a certificate with certificate-id"));
        }
    }
    let id = a.literal(cx, "certificate-id").map(|(v, _)| v.trim().to_string());
    a.finish(cx);
    no_children(el, cx);
    match id {
        Some(id) if !id.is_empty() => Some(AuthenticationCertificate { certificate_id: id.into() }),
        _ => {
            cx.err(el.pos, "<authentication-certificate> needs certificate-id");
            None
        }
    }
}

impl AuthenticationCertificate {
    pub fn run(&self, ctx: &mut PolicyContext<'_>) -> Result<Outcome<'static>> {
        ctx.request_edits.client_certificate = Some(self.certificate_id.clone());
        Ok(Outcome::Continue)
    }
}
