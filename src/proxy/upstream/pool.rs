//! A worker's idle backend connections, keyed by peer. Single-threaded: no locks, no atomics.
//!
//! Reuse is LIFO (the most recently used connection is the least likely to have been closed by the
//! backend), idle connections expire after `idle_timeout`, and one idle for more than
//! [`PEEK_AFTER`] is checked for a FIN or stray bytes before reuse (one cheap syscall), so a
//! backend's keep-alive timeout rarely turns into a failed request. Hot connections skip the check:
//! a backend closing one within a second of its last response is the race the retry covers.

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::{Peer, UpstreamConn};

/// Idle time after which a connection is peeked at before reuse.
pub const PEEK_AFTER: Duration = Duration::from_secs(1);

pub struct Pool {
    idle: RefCell<HashMap<u64, Vec<UpstreamConn>>>,
    max_idle_per_peer: usize,
    idle_timeout: Duration,
}

impl Pool {
    pub fn new(max_idle_per_peer: usize, idle_timeout: Duration) -> Pool {
        Pool { idle: RefCell::new(HashMap::new()), max_idle_per_peer, idle_timeout }
    }

    /// A healthy idle connection to `peer`, if there is one.
    pub fn take(&self, peer: &Peer<'_>) -> Option<UpstreamConn> {
        let mut idle = self.idle.borrow_mut();
        let list = idle.get_mut(&peer.hash())?;
        while let Some(pos) = list.iter().rposition(|c| c.is_for(peer)) {
            let conn = list.swap_remove(pos);
            let idle = conn.idle_since.elapsed();
            if idle < self.idle_timeout && (idle < PEEK_AFTER || crate::sys::idle_socket_is_healthy(conn.fd())) {
                return Some(conn);
            }
            // Dropped: closed by the backend, stray bytes, or idle too long.
        }
        None
    }

    pub fn put(&self, peer: &Peer<'_>, mut conn: UpstreamConn) {
        if self.max_idle_per_peer == 0 {
            return;
        }
        conn.reused = true;
        conn.idle_since = Instant::now();
        let mut idle = self.idle.borrow_mut();
        let list = idle.entry(peer.hash()).or_default();
        if list.len() >= self.max_idle_per_peer {
            list.remove(0); // the oldest goes
        }
        list.push(conn);
    }

    /// Drops expired connections (called from the worker's housekeeping tick).
    pub fn sweep(&self) {
        let timeout = self.idle_timeout;
        let mut idle = self.idle.borrow_mut();
        idle.retain(|_, list| {
            list.retain(|c| c.idle_since.elapsed() < timeout);
            !list.is_empty()
        });
    }

    pub fn idle_count(&self) -> usize {
        self.idle.borrow().values().map(Vec::len).sum()
    }
}
