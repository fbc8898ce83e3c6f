//! `<set-backend-service base-url="…" | backend-id="…"/>`: where the request goes.
//! Constant values are checked at load time (URL syntax, backend existence).

use super::{no_children, Attrs, Cx, Failure, Outcome, Result};
use crate::api_model::parse_backend_url;
use crate::policy::expr::{Dyn, Uses};
use crate::policy::runtime::{BackendTarget, PolicyContext};
use crate::policy::xml::Element;

#[derive(Clone, Debug)]
pub enum SetBackendService {
    Fixed(BackendTarget),
    BaseUrl(Dyn),
    BackendId(Dyn),
}

pub fn compile(el: &Element, cx: &mut Cx<'_>) -> Option<SetBackendService> {
    let mut a = Attrs::new(el);
    let url = a.get("base-url");
    let id = a.get("backend-id");
    for sf in
        ["sf-resolve-condition", "sf-service-instance-name", "sf-partition-key", "sf-listener-name", "dapr-app-id"]
    {
        if let Some(x) = a.get(sf) {
            cx.err(x.pos, format!("set-backend-service attribute '{sf}' is not supported yet"));
        }
    }
    a.finish(cx);
    no_children(el, cx);
    match (url, id) {
        (Some(u), None) => match cx.value(&u.value)? {
            Dyn::Lit(s) => match parse_backend_url(s.trim()) {
                Ok(b) => Some(SetBackendService::Fixed(BackendTarget::Url(b))),
                Err(e) => {
                    cx.err(u.pos, format!("base-url: {e}"));
                    None
                }
            },
            d => Some(SetBackendService::BaseUrl(d)),
        },
        (None, Some(i)) => match cx.value(&i.value)? {
            Dyn::Lit(s) => {
                let s = s.trim();
                if cx.backend_ids.is_some_and(|ids| !ids.iter().any(|b| b == s)) {
                    cx.err(i.pos, format!("unknown backend '{s}'"));
                    return None;
                }
                Some(SetBackendService::Fixed(BackendTarget::BackendId(s.to_string())))
            }
            d => Some(SetBackendService::BackendId(d)),
        },
        _ => {
            cx.err(el.pos, "<set-backend-service> needs exactly one of 'base-url' or 'backend-id'");
            None
        }
    }
}

impl SetBackendService {
    pub fn uses(&self) -> Uses {
        match self {
            SetBackendService::Fixed(_) => Uses::default(),
            SetBackendService::BaseUrl(d) | SetBackendService::BackendId(d) => d.uses(),
        }
    }

    pub fn run(&self, ctx: &mut PolicyContext<'_>) -> Result<Outcome<'static>> {
        let target = match self {
            SetBackendService::Fixed(t) => t.clone(),
            SetBackendService::BaseUrl(d) => {
                let s = d.text(ctx)?;
                let url = parse_backend_url(s.trim()).map_err(|e| {
                    Failure::new("ExpressionValueEvaluationFailure", format!("base-url '{s}': {e}"), 500)
                })?;
                BackendTarget::Url(url)
            }
            SetBackendService::BackendId(d) => BackendTarget::BackendId(d.text(ctx)?.trim().to_string()),
        };
        ctx.request_edits.backend = Some(target);
        Ok(Outcome::Continue)
    }
}
