//! Rate limits, quotas and concurrency limits, exact per node and shared by a fleet through Redis.
//!
//! # Windows
//! Limits count in fixed windows aligned to the Unix epoch: a `renewal-period` of 60 s means the
//! windows [12:00:00, 12:01:00), [12:01:00, 12:02:00), … for every node alike, so nodes and Redis
//! agree on which window a call belongs to without talking. At most `calls` are admitted per
//! window; `Retry-After` is the time left in the window. (APIM describes its rate limit as a
//! sliding window; a sliding window cannot be both exact and lock-free across cores, an aligned
//! fixed window can, and it admits at most `calls` in any window-aligned period.)
//!
//! # Exact per node, no lock
//! A counter is one `AtomicU64` packing (window, count); admission is a compare-and-swap loop, so
//! however many workers race, no window ever admits more than `calls`. Counters live in a
//! lock-free map ([`papaya`]) keyed by the policy's identity and the counter key.
//!
//! # Fleet
//! With Redis, each counter also remembers what the rest of the fleet admitted in the current
//! window (learned from Redis) and admits only while `own + others < calls`. A sync thread pushes
//! each counter's new admissions with `INCRBY` every sync interval and reads back the fleet total;
//! the request path never waits on Redis. Between two syncs another node's admissions are unknown,
//! so the fleet can over-admit by at most what the other nodes admit in one sync interval:
//! `over-admission ≤ Σ over other nodes of min(rate_node × interval, calls)`, e.g. 2 nodes at 100
//! calls/s each with a 100 ms interval: at most 10 extra calls per window. If Redis is
//! unreachable each node enforces its local view (it says so in the log and `/metrics`); counts
//! that could not be pushed are pushed when it returns, so the totals converge.

pub mod counter;
pub mod redis_sync;
pub mod store;

pub use counter::{Admission, Counter};
pub use store::{ConcurrencyGuard, CounterId, LimitStore};
