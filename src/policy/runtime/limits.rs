//! The request's side of the limit policies: work left for the end of the request.
//!
//! Most limits count at admission (inbound), exactly. Two things cannot: an
//! `increment-condition` that reads `context.Response` (APIM counts such calls only when the
//! response satisfies it), and the bytes of a `bandwidth` quota. The policies admit the call
//! when the counter has room and leave a [`LimitTail`] here; the proxy calls
//! [`PolicyContext::finish_limits`] once the response is known (after outbound, or after
//! on-error), with the bytes the exchange moved.

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
    /// Whether [`PolicyContext::finish_limits`] has anything to count.
    pub fn limits_pending(&self) -> bool {
        !self.limit_tail.is_empty()
    }

    /// Whether a bandwidth quota admitted this request, so the proxy must count its bytes.
    pub fn wants_transferred_bytes(&self) -> bool {
        self.limit_tail.iter().any(|t| matches!(t, LimitTail::Bytes { .. }))
    }

    /// Ends the request for the limit policies: counts deferred increments whose condition
    /// holds now and charges bandwidth quotas with `transferred_bytes` (request bytes received
    /// from the client plus response bytes sent to it, heads and bodies). Call it once, after
    /// the response is final (`ctx.response` set, outbound or on-error done); later calls do
    /// nothing. Also releases any concurrency slot still held.
    pub fn finish_limits(&mut self, transferred_bytes: u64) {
        self.held.clear();
        if self.limit_tail.is_empty() {
            return;
        }
        let Some(store) = self.limits else {
            self.limit_tail.clear();
            return;
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
                        store.add(&id, limit, period, transferred_bytes.div_ceil(unit.max(1)));
                    }
                }
            }
        }
    }
}
