//! The request's side of the limit policies: work left for the end of the request.
//!
//! Most limits count at admission (inbound), exactly. Two things cannot: an
//! `increment-condition` that reads `context.Response` (APIM counts such calls only when the
//! response satisfies it), and the bytes of a `bandwidth` quota. The policies admit the call
//! when the counter has room and leave a [`LimitTail`] here. The proxy calls
//! [`PolicyContext::end_limits`] once the response is final (after outbound, or after
//! on-error), and records the bytes the exchange moved on the [`LimitCharges`] it returns
//! once the response is written.

use std::sync::Arc;
use std::time::Duration;

use super::PolicyContext;
use crate::limits::CounterId;
use crate::policy::expr::Dyn;

/// Something a limit policy counts when the request ends.
#[derive(Clone, Debug)]
pub enum LimitTail {
    /// Count `n` calls when `condition` holds against the final response.
    Calls { id: CounterId, calls: u64, period: Duration, n: u64, condition: Option<Arc<Dyn>> },
    /// Count the request's bytes, in `unit`-byte steps (rounded up), against a bandwidth quota
    /// of `limit` units, when `condition` (if any) holds.
    Bytes { id: CounterId, limit: u64, period: Duration, unit: u64, condition: Option<Arc<Dyn>> },
}

impl PolicyContext<'_> {
    /// Whether [`PolicyContext::end_limits`] has anything to count.
    pub fn limits_pending(&self) -> bool {
        !self.limit_tail.is_empty()
    }

    /// Whether a bandwidth quota admitted this request, so the proxy must count its bytes.
    pub fn wants_transferred_bytes(&self) -> bool {
        self.limit_tail.iter().any(|t| matches!(t, LimitTail::Bytes { .. }))
    }

    /// Ends the request for the limit policies, once the response is final (`ctx.response`
    /// set; outbound or on-error done) and before the context is dropped: counts the deferred
    /// increments whose condition holds now, releases any concurrency slot still held, and
    /// returns the bandwidth charges, which need the bytes the exchange moved: call
    /// [`LimitCharges::record`] once the response has been written. Later calls return nothing.
    pub fn end_limits(&mut self) -> LimitCharges {
        self.held.clear();
        let mut charges = LimitCharges::default();
        if self.limit_tail.is_empty() {
            return charges;
        }
        let Some(store) = self.limits else {
            self.limit_tail.clear();
            return charges;
        };
        let tail = std::mem::take(&mut self.limit_tail);
        for t in tail {
            let holds = |c: &Option<Arc<Dyn>>| match c {
                None => true,
                Some(c) => c.truth(self).unwrap_or_else(|e| {
                    tracing::debug!(error = %e, "increment-condition failed at the end of the request: not counted");
                    false
                }),
            };
            match t {
                LimitTail::Calls { id, calls, period, n, condition } => {
                    if holds(&condition) {
                        store.add(&id, calls, period, n);
                    }
                }
                LimitTail::Bytes { id, limit, period, unit, condition } => {
                    if holds(&condition) {
                        charges.0.push((id, limit, period, unit));
                    }
                }
            }
        }
        charges
    }

    /// [`PolicyContext::end_limits`] and [`LimitCharges::record`] at once, when the bytes are
    /// known before the context is dropped.
    pub fn finish_limits(&mut self, transferred_bytes: u64) {
        let charges = self.end_limits();
        if let Some(store) = self.limits {
            charges.record(store, transferred_bytes);
        }
    }
}

/// Bandwidth quotas that admitted a request, waiting for its byte count.
#[derive(Debug, Default)]
#[must_use = "record the transferred bytes, or bandwidth quotas never fill"]
pub struct LimitCharges(Vec<(CounterId, u64, Duration, u64)>);

impl LimitCharges {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Charges `transferred_bytes` (request bytes received from the client plus response bytes
    /// sent to it, heads and bodies) to each quota.
    pub fn record(self, store: &crate::limits::LimitStore, transferred_bytes: u64) {
        for (id, limit, period, unit) in self.0 {
            store.add(&id, limit, period, transferred_bytes.div_ceil(unit.max(1)));
        }
    }
}
