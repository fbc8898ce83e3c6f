//! `<rate-limit-by-key calls="N|expr" renewal-period="s|expr" counter-key="expr"
//! increment-condition="expr" increment-count="1|expr" retry-after-header-name="…" …/>`: at
//! most `calls` per window per key value, 429 + `Retry-After` beyond.
//!
//! As in APIM there is one counter per key value across all scopes (and per limit: a changed
//! `calls` or period starts a fresh counter). A false `increment-condition` leaves the call
//! uncounted but still refused when the limit is reached; a condition that reads
//! `context.Response` is evaluated when the request ends ([`PolicyContext::end_limits`]).

use std::sync::Arc;

use super::limit::{self, Num, Report};
use super::{Attrs, Cx, Outcome, Result};
use crate::policy::expr::{Dyn, Uses};
use crate::policy::runtime::PolicyContext;
use crate::policy::xml::Element;

#[derive(Clone, Debug)]
pub struct RateLimitByKey {
    pub calls: Num,
    pub period: Num,
    pub key: Dyn,
    pub condition: Option<Arc<Dyn>>,
    pub count: Num,
    pub report: Report,
}

pub fn compile(el: &Element, cx: &mut Cx<'_>) -> Option<RateLimitByKey> {
    let mut a = Attrs::new(el);
    let calls = Num::compile(&mut a, cx, el, "calls", 0..=limit::MAX_CALLS, None);
    let period = Num::compile(&mut a, cx, el, "renewal-period", 1..=300, None);
    let key = a.required(cx, "counter-key").and_then(|k| cx.value(&k.value));
    let condition = a.get("increment-condition").map(|c| cx.condition(&c.value));
    let count = Num::compile(&mut a, cx, el, "increment-count", 0..=limit::MAX_CALLS, Some(1));
    let report = Report::compile(&mut a, cx);
    a.finish(cx);
    super::no_children(el, cx);
    let condition = match condition {
        Some(c) => Some(Arc::new(c?)),
        None => None,
    };
    Some(RateLimitByKey { calls: calls?, period: period?, key: key?, condition, count: count?, report })
}

impl RateLimitByKey {
    pub fn uses(&self) -> Uses {
        let u = super::union(self.calls.uses(), self.period.uses());
        let u = super::union(u, super::union(self.key.uses(), self.count.uses()));
        super::union(u, self.condition.as_ref().map(|c| c.uses()).unwrap_or_default())
    }

    pub fn run(&self, ctx: &mut PolicyContext<'_>) -> Result<Outcome<'static>> {
        let store = limit::store(ctx)?;
        let calls = self.calls.get(ctx, "calls", 0..=limit::MAX_CALLS)?;
        let secs = self.period.get(ctx, "renewal-period", 1..=300)?;
        let period = std::time::Duration::from_secs(secs);
        let n = self.count.get(ctx, "increment-count", 0..=limit::MAX_CALLS)?;
        let key = self.key.text(ctx)?;
        let how = limit::counting(self.condition.as_ref(), ctx)?;
        let id = limit::id_of("rate-limit-by-key:", &format!("{calls}/{secs}"), &key);
        let a = limit::admit_counted(store, ctx, id, (calls, period), n, &how);
        if !a.allowed {
            self.report.refused(ctx, a.retry_after);
            return Err(limit::rate_limit_exceeded(a.retry_after));
        }
        self.report.admitted(ctx, a.remaining, calls);
        Ok(Outcome::Continue)
    }
}
