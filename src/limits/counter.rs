//! One limit counter: (window, count) in a single atomic word, admitted by compare-and-swap.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Window numbers are kept modulo 2^32 next to a 32-bit count.
fn pack(window: u64, count: u64) -> u64 {
    (window << 32) | (count & 0xffff_ffff)
}

fn unpack(v: u64) -> (u64, u64) {
    (v >> 32, v & 0xffff_ffff)
}

/// What an admission decided, with what the policies report back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Admission {
    pub allowed: bool,
    /// Calls left in this window after this one (0 when refused).
    pub remaining: u64,
    /// Time until the window renews (the `Retry-After` of a refusal).
    pub retry_after: Duration,
}

#[derive(Debug)]
pub struct Counter {
    pub limit: u64,
    pub period: Duration,
    /// (window, admitted by this node).
    state: AtomicU64,
    /// (window, admitted by the rest of the fleet), as last learned from Redis.
    others: AtomicU64,
    /// Admitted here but not yet pushed to Redis.
    pub(crate) unsynced: AtomicU64,
    /// (window, this node's count that Redis already has).
    pub(crate) synced: AtomicU64,
}

impl Counter {
    pub fn new(limit: u64, period: Duration) -> Counter {
        Counter {
            limit,
            period: period.max(Duration::from_secs(1)),
            state: AtomicU64::new(0),
            others: AtomicU64::new(0),
            unsynced: AtomicU64::new(0),
            synced: AtomicU64::new(0),
        }
    }

    /// The window `now` (seconds since the epoch) falls in, and the time left in it.
    pub fn window(&self, now: Duration) -> (u64, Duration) {
        let p = self.period.as_secs();
        let w = now.as_secs() / p;
        let end = Duration::from_secs((w + 1) * p);
        (w & 0xffff_ffff, end.saturating_sub(now))
    }

    fn others_in(&self, window: u64) -> u64 {
        let (w, c) = unpack(self.others.load(Ordering::Acquire));
        if w == window {
            c
        } else {
            0
        }
    }

    /// Admits `n` calls at `now` if the window has room. Exact under any number of racing threads.
    pub fn admit(&self, now: Duration, n: u64) -> Admission {
        let (window, left) = self.window(now);
        let others = self.others_in(window);
        let mut cur = self.state.load(Ordering::Acquire);
        loop {
            let (w, c) = unpack(cur);
            let used = if w == window { c } else { 0 };
            if used + others + n > self.limit {
                return Admission { allowed: false, remaining: 0, retry_after: left };
            }
            match self.state.compare_exchange_weak(cur, pack(window, used + n), Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => {
                    self.unsynced.fetch_add(n, Ordering::AcqRel);
                    let remaining = self.limit - (used + others + n);
                    return Admission { allowed: true, remaining, retry_after: left };
                }
                Err(actual) => cur = actual,
            }
        }
    }

    /// Whether one more call would be admitted now, without counting it (for calls that are
    /// counted later, when an `increment-condition` reads the response).
    pub fn peek(&self, now: Duration) -> Admission {
        let (window, left) = self.window(now);
        let used = self.own(window) + self.others_in(window);
        let remaining = self.limit.saturating_sub(used);
        Admission { allowed: remaining > 0, remaining, retry_after: left }
    }

    /// Counts `n` calls (or bytes) at `now` unconditionally: what a request used after it was
    /// admitted (a deferred increment, the bytes of a bandwidth quota). May pass the limit,
    /// which then refuses the next calls of the window.
    pub fn add(&self, now: Duration, n: u64) {
        let (window, _) = self.window(now);
        let mut cur = self.state.load(Ordering::Acquire);
        loop {
            let (w, c) = unpack(cur);
            let used = if w == window { c } else { 0 };
            let next = pack(window, (used + n).min(0xffff_ffff));
            match self.state.compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => {
                    self.unsynced.fetch_add(n, Ordering::AcqRel);
                    return;
                }
                Err(actual) => cur = actual,
            }
        }
    }

    /// This node's admissions in `window`.
    pub fn own(&self, window: u64) -> u64 {
        let (w, c) = unpack(self.state.load(Ordering::Acquire));
        if w == window {
            c
        } else {
            0
        }
    }

    /// Records the fleet total for `window` as learned from Redis, given what of ours it includes.
    pub fn learn(&self, window: u64, fleet_total: u64, ours_in_total: u64) {
        self.others.store(pack(window, fleet_total.saturating_sub(ours_in_total)), Ordering::Release);
    }

    /// What of this node's count Redis has for `window` (0 for another window).
    pub fn synced_in(&self, window: u64) -> u64 {
        let (w, c) = unpack(self.synced.load(Ordering::Acquire));
        if w == window {
            c
        } else {
            0
        }
    }

    /// Admissions not yet pushed to Redis.
    pub fn pending(&self) -> u64 {
        self.unsynced.load(Ordering::Acquire)
    }

    pub fn set_synced(&self, window: u64, count: u64) {
        self.synced.store(pack(window, count), Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn admits_exactly_the_limit_under_contention() {
        let c = Arc::new(Counter::new(1000, Duration::from_secs(3600)));
        let now = Duration::from_secs(7200 + 5);
        let admitted: u64 = (0..8)
            .map(|_| {
                let c = c.clone();
                std::thread::spawn(move || (0..500).filter(|_| c.admit(now, 1).allowed).count() as u64)
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .sum();
        assert_eq!(admitted, 1000);
        let refused = c.admit(now, 1);
        assert!(!refused.allowed);
        assert_eq!(refused.retry_after, Duration::from_secs(3595));
    }

    #[test]
    fn windows_renew_and_others_count() {
        let c = Counter::new(3, Duration::from_secs(10));
        let t = Duration::from_secs(100);
        assert_eq!(c.admit(t, 2).remaining, 1);
        c.learn(10, 3, 2); // Redis says the fleet has 3, of which 2 are ours: 1 elsewhere
        assert!(!c.admit(t, 1).allowed);
        let next = Duration::from_secs(110);
        assert!(c.admit(next, 2).allowed, "a new window starts empty");
        c.learn(11, 1, 0); // e.g. counted by this node before a restart
        assert!(!c.admit(next, 1).allowed);
    }

    #[test]
    fn peek_does_not_count_and_add_always_counts() {
        let c = Counter::new(2, Duration::from_secs(10));
        let t = Duration::from_secs(100);
        assert_eq!(c.peek(t).remaining, 2);
        assert!(c.admit(t, 1).allowed);
        c.add(t, 5);
        assert!(!c.peek(t).allowed && !c.admit(t, 1).allowed);
        assert_eq!(c.pending(), 6);
        assert!(c.peek(Duration::from_secs(110)).allowed, "a new window");
    }
}
