//! `<quota calls="N" bandwidth="KB" renewal-period="s">` with optional
//! `<api name|id calls bandwidth renewal-period><operation …/></api>` children: a per
//! subscription allowance of calls and/or kilobytes per period (0 = never renews), 403 +
//! `Retry-After` beyond.
//!
//! As in APIM the policy applies only to calls made with a subscription key, and only at
//! product scope (checked when plans are built). Windows are aligned to the Unix epoch, not to
//! the subscription's start (see [`crate::limits`]). Bandwidth counts the bytes the proxy
//! reports at the end of the request ([`PolicyContext::end_limits`]): a call is refused once
//! the window's bytes reached the allowance, so the last admitted call may pass it.

use std::time::Duration;

use super::limit::{self, LimitIdent, Scoped};
use super::{Attrs, Cx, Outcome, Result};
use crate::policy::runtime::PolicyContext;
use crate::policy::xml::Element;

#[derive(Clone, Debug)]
pub struct Quota {
    pub calls: Option<u64>,
    /// Kilobytes.
    pub bandwidth: Option<u64>,
    pub period: Duration,
    pub apis: Vec<Scoped>,
    pub def: String,
    pub ident: LimitIdent,
}

pub fn compile(el: &Element, cx: &mut Cx<'_>) -> Option<Quota> {
    let mut a = Attrs::new(el);
    let calls = limit::number_in(&mut a, cx, el, "calls", 0..=limit::MAX_CALLS);
    let bandwidth = limit::number_in(&mut a, cx, el, "bandwidth", 0..=u64::MAX / 1024);
    let period = limit::period(&mut a, cx, el, true);
    a.finish(cx);
    limit::check_amounts(el, cx, true, calls, bandwidth);
    let apis = limit::scoped_children(el, cx, true);
    let period = period?;
    let opt = |v: Option<u64>| v.map_or(String::new(), |v| v.to_string());
    let def = format!("quota:{}/{}/{}", opt(calls), opt(bandwidth), period.as_secs());
    Some(Quota { calls, bandwidth, period, apis, ident: LimitIdent(def.as_str().into()), def })
}

impl Quota {
    pub fn run(&self, ctx: &mut PolicyContext<'_>) -> Result<Outcome<'static>> {
        let Some(sub) = ctx.info.subscription else { return Ok(Outcome::Continue) };
        let store = limit::store(ctx)?;
        let how = limit::Counting::Now;
        limit::quota_check(store, ctx, &self.ident.0, sub.id, (self.calls, self.bandwidth, self.period), &how)?;
        for s in limit::applicable(&self.apis, ctx) {
            let ident = format!("{}/{}", self.ident.0, s.def);
            limit::quota_check(store, ctx, &ident, sub.id, (s.calls, s.bandwidth, s.period), &how)?;
        }
        Ok(Outcome::Continue)
    }
}
