//! The node-wide table of counters, shared by every worker without a lock.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{Admission, Counter};

/// A counter's identity: the limit policy's identity (its scope, place and definition, so a
/// changed limit starts fresh and an unchanged one carries over a reload) and the counter key
/// (subscription id, or the `counter-key` value).
pub type CounterId = Arc<str>;

/// Makes a counter id from the policy identity and the key.
pub fn counter_id(policy: &str, key: &str) -> CounterId {
    let mut s = String::with_capacity(policy.len() + key.len() + 1);
    s.push_str(policy);
    s.push('\u{1f}');
    s.push_str(key);
    Arc::from(s)
}

#[derive(Default)]
pub struct LimitStore {
    counters: papaya::HashMap<CounterId, Arc<Counter>>,
    in_flight: papaya::HashMap<CounterId, Arc<AtomicU64>>,
    /// Set by the Redis sync while Redis answers (for `/metrics` and the log).
    pub redis_up: std::sync::atomic::AtomicBool,
}

fn now() -> Duration {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default()
}

impl LimitStore {
    pub fn new() -> Arc<LimitStore> {
        Arc::new(LimitStore::default())
    }

    /// Admits `n` calls against `calls` per `period` for `id`.
    pub fn admit(&self, id: &CounterId, calls: u64, period: Duration, n: u64) -> Admission {
        self.admit_at(id, calls, period, n, now())
    }

    pub fn admit_at(&self, id: &CounterId, calls: u64, period: Duration, n: u64, at: Duration) -> Admission {
        self.counter(id, calls, period).admit(at, n)
    }

    /// Whether `id` has room for one more call, without counting it.
    pub fn peek(&self, id: &CounterId, calls: u64, period: Duration) -> Admission {
        self.counter(id, calls, period).peek(now())
    }

    /// Counts `n` against `id` unconditionally (deferred increments, bandwidth).
    pub fn add(&self, id: &CounterId, calls: u64, period: Duration, n: u64) {
        self.counter(id, calls, period).add(now(), n)
    }

    fn counter(&self, id: &CounterId, calls: u64, period: Duration) -> Arc<Counter> {
        let counters = self.counters.pin();
        match counters.get(id) {
            Some(c) if c.limit == calls && c.period == period.max(Duration::from_secs(1)) => c.clone(),
            // First use: get-or-insert is atomic, so racing workers share one counter.
            None => counters.get_or_insert_with(id.clone(), || Arc::new(Counter::new(calls, period))).clone(),
            // Same id, other limit (ids normally carry the definition): start fresh.
            Some(_) => {
                let fresh = Arc::new(Counter::new(calls, period));
                counters.insert(id.clone(), fresh.clone());
                fresh
            }
        }
    }

    /// Every counter, for the sync thread.
    pub fn for_each(&self, mut f: impl FnMut(&CounterId, &Arc<Counter>)) {
        for (k, v) in self.counters.pin().iter() {
            f(k, v);
        }
    }

    /// Drops counters whose window has passed without traffic (keeps the table bounded).
    pub fn sweep(&self) {
        let at = now();
        let counters = self.counters.pin();
        counters.retain(|_, c| {
            let (w, _) = c.window(at);
            c.own(w) > 0 || c.unsynced.load(Ordering::Acquire) > 0
        });
    }

    /// Takes one of `max` concurrent slots for `id`; the slot is given back when the guard drops.
    pub fn enter(&self, id: &CounterId, max: u64) -> Option<ConcurrencyGuard> {
        let slots = self.in_flight.pin();
        let n = slots.get_or_insert_with(id.clone(), || Arc::new(AtomicU64::new(0))).clone();
        let mut cur = n.load(Ordering::Acquire);
        loop {
            if cur >= max {
                return None;
            }
            match n.compare_exchange_weak(cur, cur + 1, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return Some(ConcurrencyGuard(n)),
                Err(a) => cur = a,
            }
        }
    }
}

/// A held `limit-concurrency` slot.
pub struct ConcurrencyGuard(Arc<AtomicU64>);

impl Drop for ConcurrencyGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_per_id_and_a_changed_limit_starts_fresh() {
        let store = LimitStore::new();
        let a = counter_id("api:orders/inbound[0]/rate-limit-by-key:20/60", "alice");
        let b = counter_id("api:orders/inbound[0]/rate-limit-by-key:20/60", "bob");
        let at = Duration::from_secs(6000);
        let admitted = (0..60).filter(|_| store.admit_at(&a, 20, Duration::from_secs(60), 1, at).allowed).count();
        assert_eq!(admitted, 20);
        assert!(store.admit_at(&b, 20, Duration::from_secs(60), 1, at).allowed);
        assert!(store.admit_at(&a, 30, Duration::from_secs(60), 1, at).allowed, "new limit, new counter");
    }

    #[test]
    fn concurrency_slots_are_released() {
        let store = LimitStore::new();
        let id = counter_id("lc", "k");
        let g1 = store.enter(&id, 2).expect("slot 1");
        let _g2 = store.enter(&id, 2).expect("slot 2");
        assert!(store.enter(&id, 2).is_none());
        drop(g1);
        assert!(store.enter(&id, 2).is_some());
    }

    #[test]
    fn exact_across_threads_through_the_store() {
        let store = LimitStore::new();
        let id = counter_id("p", "k");
        let at = Duration::from_secs(10_000);
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let (store, id) = (store.clone(), id.clone());
                std::thread::spawn(move || {
                    (0..100).filter(|_| store.admit_at(&id, 37, Duration::from_secs(60), 1, at).allowed).count()
                })
            })
            .collect();
        let total: usize = handles.into_iter().map(|h| h.join().expect("join")).sum();
        assert_eq!(total, 37);
    }
}
