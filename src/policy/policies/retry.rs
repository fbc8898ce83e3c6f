//! `<retry condition="…" count="3" interval="1" max-interval="…" delta="…"
//! first-fast-retry="false">…</retry>`: re-runs its children while the condition holds.
//! Compiled into a `RetryStart … RetryEnd` pair; the executor evaluates the condition after
//! each attempt and asks the proxy to wait ([`crate::policy::Flow::Wait`]) between attempts.

use std::time::Duration;

use super::{Attrs, Cx};
use crate::policy::expr::Dyn;
use crate::policy::xml::Element;

#[derive(Clone, Debug)]
pub struct RetrySpec {
    pub condition: Dyn,
    /// Retries after the first attempt (1..=50).
    pub count: u32,
    pub interval: Duration,
    pub max_interval: Option<Duration>,
    pub delta: Option<Duration>,
    pub first_fast_retry: bool,
}

pub fn compile(el: &Element, cx: &mut Cx<'_>) -> Option<RetrySpec> {
    let mut a = Attrs::new(el);
    let condition = a.required(cx, "condition").and_then(|c| cx.condition(&c.value));
    let count = a.number::<u32>(cx, "count");
    let interval = a.number::<u64>(cx, "interval");
    let max_interval = a.number::<u64>(cx, "max-interval").map(Duration::from_secs);
    let delta = a.number::<u64>(cx, "delta").map(Duration::from_secs);
    let first_fast_retry = a.bool(cx, "first-fast-retry", false);
    a.finish(cx);
    let count = match count {
        Some(c) if (1..=50).contains(&c) => c,
        Some(c) => {
            cx.err(el.pos, format!("retry count must be 1-50, found {c}"));
            return None;
        }
        None => {
            cx.err(el.pos, "<retry> needs the attribute 'count'");
            return None;
        }
    };
    let Some(interval) = interval else {
        cx.err(el.pos, "<retry> needs the attribute 'interval'");
        return None;
    };
    Some(RetrySpec {
        condition: condition?,
        count,
        interval: Duration::from_secs(interval),
        max_interval,
        delta,
        first_fast_retry,
    })
}

impl RetrySpec {
    /// The wait before retry number `n` (1-based): fixed, linear (`delta`), or exponential
    /// (`delta` and `max-interval`), capped at `max-interval`; `first-fast-retry` makes the
    /// first retry immediate.
    pub fn delay(&self, n: u32) -> Duration {
        if n == 1 && self.first_fast_retry {
            return Duration::ZERO;
        }
        let k = n.saturating_sub(1);
        let d = match (self.delta, self.max_interval) {
            (None, _) => self.interval,
            (Some(delta), None) => self.interval.saturating_add(delta.saturating_mul(k)),
            (Some(delta), Some(_)) => {
                let factor = 2u32.saturating_pow(k.min(30)).saturating_sub(1);
                let jitter = 0.8 + fastrand::f64() * 0.4;
                self.interval.saturating_add(delta.saturating_mul(factor).mul_f64(jitter))
            }
        };
        match self.max_interval {
            Some(m) => d.min(m),
            None => d,
        }
    }
}
