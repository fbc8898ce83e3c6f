//! `<rate-limit calls="N" renewal-period="s" retry-after-header-name="…" …>` with optional
//! `<api name|id calls renewal-period><operation …/></api>` children: at most `calls` per
//! window per subscription, 429 + `Retry-After` beyond.
//!
//! As in APIM the policy applies only to calls made with a subscription key: a call without
//! one (an open product, an API that needs no subscription) is not counted and not refused.
//! The policy's own limit and the matching `<api>` and `<operation>` limits count
//! independently; a call refused by one of them still counts against those checked before it
//! (own, then API, then operation).

use std::time::Duration;

use super::limit::{self, id_of, LimitIdent, Report, Scoped};
use super::{Attrs, Cx, Outcome, Result};
use crate::policy::runtime::PolicyContext;
use crate::policy::xml::Element;

#[derive(Clone, Debug)]
pub struct RateLimit {
    pub calls: u64,
    pub period: Duration,
    pub apis: Vec<Scoped>,
    pub report: Report,
    /// The definition (`calls/period`), part of the identity (children add theirs).
    pub def: String,
    pub ident: LimitIdent,
}

pub fn compile(el: &Element, cx: &mut Cx<'_>) -> Option<RateLimit> {
    let mut a = Attrs::new(el);
    let calls = limit::number_in(&mut a, cx, el, "calls", 0..=limit::MAX_CALLS);
    let period = limit::period(&mut a, cx, el, false);
    let report = Report::compile(&mut a, cx);
    a.finish(cx);
    limit::check_amounts(el, cx, false, calls, None);
    let apis = limit::scoped_children(el, cx, false);
    let (calls, period) = (calls?, period?);
    let def = format!("rate-limit:{calls}/{}", period.as_secs());
    Some(RateLimit { calls, period, apis, report, ident: LimitIdent(def.as_str().into()), def })
}

impl RateLimit {
    pub fn run(&self, ctx: &mut PolicyContext<'_>) -> Result<Outcome<'static>> {
        let Some(sub) = ctx.info.subscription else { return Ok(Outcome::Continue) };
        let store = limit::store(ctx)?;
        let own = (String::new(), self.calls, self.period);
        let children = limit::applicable(&self.apis, ctx)
            .into_iter()
            .map(|s| (format!("/{}", s.def), s.calls.unwrap_or(0), s.period));
        let mut tightest: Option<(u64, u64)> = None;
        for (suffix, calls, period) in std::iter::once(own).chain(children) {
            let a = store.admit(&id_of(&self.ident.0, &suffix, sub.id), calls, period, 1);
            if !a.allowed {
                self.report.refused(ctx, a.retry_after);
                return Err(limit::rate_limit_exceeded(a.retry_after));
            }
            if tightest.is_none_or(|(r, _)| a.remaining < r) {
                tightest = Some((a.remaining, calls));
            }
        }
        if let Some((remaining, total)) = tightest {
            self.report.admitted(ctx, remaining, total);
        }
        Ok(Outcome::Continue)
    }
}
