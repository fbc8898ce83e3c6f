//! Connection admission at accept: at most `net.server.connections.max-per-worker` connections
//! on a worker and `net.server.connections.max-per-client-ip` from one client address across
//! the node's workers (SO_REUSEPORT spreads one client's connections over all of them). A
//! connection over either limit is closed at once, before a byte is read; refusals are counted
//! and logged at most once per second per worker (with the counts since the last line), and counted in `/metrics` as
//! `ringgate_connections_refused_total{reason="per_worker|per_client_ip|fd_limit"}`.
//!
//! A connection holds its per-address slot from accept until its task ends
//! ([`release`] is called where the worker's connection count goes down).

use std::cell::Cell;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Open connections per client address, node-wide. A lock per accept and per close: short, and
/// uncontended next to the accept itself.
fn table() -> &'static Mutex<HashMap<IpAddr, u64>> {
    static TABLE: OnceLock<Mutex<HashMap<IpAddr, u64>>> = OnceLock::new();
    TABLE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The address as counted: an IPv4-mapped IPv6 address is its IPv4 address.
fn key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Why a connection was refused at accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    Worker,
    ClientIp,
}

/// Takes a slot for a connection from `ip`, unless one of the limits is reached.
pub fn admit(ip: IpAddr, worker_connections: u64, max_per_worker: u64, max_per_ip: u64) -> Result<(), Refused> {
    if worker_connections >= max_per_worker {
        return Err(Refused::Worker);
    }
    // A poisoned lock only means another worker panicked mid-update: the counts stay usable.
    let mut t = table().lock().unwrap_or_else(|p| p.into_inner());
    let n = t.entry(key(ip)).or_insert(0);
    if *n >= max_per_ip {
        return Err(Refused::ClientIp);
    }
    *n += 1;
    Ok(())
}

/// Gives back the slot [`admit`] took for `ip`.
pub fn release(ip: IpAddr) {
    let mut t = table().lock().unwrap_or_else(|p| p.into_inner());
    let k = key(ip);
    if let Some(n) = t.get_mut(&k) {
        *n = n.saturating_sub(1);
        if *n == 0 {
            t.remove(&k);
        }
    }
}

/// How often a worker logs accept trouble (refusals, descriptor exhaustion) at most.
const LOG_EVERY: Duration = Duration::from_secs(1);
/// How long a worker stops accepting when the process or system is out of descriptors: the
/// backlog holds new connections meanwhile, and connections that end free descriptors.
pub const FD_BACKOFF: Duration = Duration::from_millis(100);

/// A worker's accept-side state (its acceptors share it).
#[derive(Default)]
pub struct AcceptState {
    /// Accepting is paused until then (descriptor exhaustion).
    paused_until: Cell<Option<Instant>>,
    /// Since the last log line: failed accepts and refused connections.
    failed: Cell<u64>,
    refused_worker: Cell<u64>,
    refused_ip: Cell<u64>,
    last_log: Cell<Option<Instant>>,
    /// Since start, for `/metrics`: [per-worker limit, per-client-IP limit, fd exhaustion].
    totals: Cell<[u64; 3]>,
}

/// The accept errors that mean "out of descriptors or kernel memory": back off, do not spin.
pub fn is_exhaustion(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM))
}

impl AcceptState {
    /// How long to wait before accepting again, if paused.
    pub fn pause_left(&self, now: Instant) -> Option<Duration> {
        self.paused_until.get().and_then(|t| t.checked_duration_since(now)).filter(|d| !d.is_zero())
    }

    pub fn failed(&self, worker: usize, e: &std::io::Error, now: Instant) {
        if is_exhaustion(e) && self.pause_left(now).is_none() {
            self.paused_until.set(Some(now + FD_BACKOFF));
        }
        self.failed.set(self.failed.get() + 1);
        if is_exhaustion(e) {
            self.count(2);
        }
        self.maybe_log(worker, Some(e), now);
    }

    pub fn refused(&self, worker: usize, why: Refused, now: Instant) {
        let c = match why {
            Refused::Worker => &self.refused_worker,
            Refused::ClientIp => &self.refused_ip,
        };
        c.set(c.get() + 1);
        self.count(if why == Refused::Worker { 0 } else { 1 });
        self.maybe_log(worker, None, now);
    }

    fn count(&self, i: usize) {
        let mut t = self.totals.get();
        t[i] += 1;
        self.totals.set(t);
    }

    /// Refusals since start: [per-worker limit, per-client-IP limit, fd exhaustion].
    pub fn totals(&self) -> [u64; 3] {
        self.totals.get()
    }

    /// One line per interval, with what happened since the last one.
    fn maybe_log(&self, worker: usize, error: Option<&std::io::Error>, now: Instant) {
        if self.last_log.get().is_some_and(|t| now.duration_since(t) < LOG_EVERY) {
            return;
        }
        self.last_log.set(Some(now));
        let (failed, by_worker, by_ip) = (self.failed.take(), self.refused_worker.take(), self.refused_ip.take());
        match error {
            Some(e) => tracing::warn!(
                worker,
                error = %e,
                failed_accepts = failed,
                paused_ms = self.pause_left(now).map_or(0, |d| d.as_millis() as u64),
                "accept failed (logged once per second)"
            ),
            None => tracing::warn!(
                worker,
                over_worker_limit = by_worker,
                over_client_ip_limit = by_ip,
                "connections refused at accept: limit reached (logged once per second)"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_address_and_worker() {
        let a: IpAddr = "192.0.2.77".parse().expect("ip");
        let mapped: IpAddr = "::ffff:192.0.2.77".parse().expect("ip");
        assert_eq!(admit(a, 0, 10, 2), Ok(()));
        assert_eq!(admit(mapped, 0, 10, 2), Ok(()), "the same client either way");
        assert_eq!(admit(a, 0, 10, 2), Err(Refused::ClientIp));
        assert_eq!(admit("192.0.2.78".parse().expect("ip"), 10, 10, 2), Err(Refused::Worker));
        release(a);
        assert_eq!(admit(a, 0, 10, 2), Ok(()));
        release(a);
        release(mapped);
        assert!(!table().lock().expect("lock").contains_key(&a));
    }
}
