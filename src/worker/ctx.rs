//! A worker's own state: its snapshot, pool, counters and buffers. `Rc`/`Cell`, never shared.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use crate::node::NodeState;
use crate::proxy::upstream::connect::Resolver;
use crate::proxy::upstream::pool::Pool;
use crate::settings::Settings;
use crate::snapshot::Snapshot;
use crate::telemetry::access_log;
use crate::telemetry::histograms::ApiHistograms;
use crate::telemetry::statsd::Sample;
use crate::telemetry::Record;
use crate::worker::Sinks;

/// Request counts by (api index, operation index + 1, code class) for the current snapshot
/// (0 = none). Indexes are only meaningful for one snapshot, so counts are flushed before a swap.
pub type RouteCounts = HashMap<(u32, u32, u8), u64>;

/// Marks requests that matched no API in [`RouteCounts`] and the histogram map.
pub const NO_API: u32 = u32::MAX;

pub struct Worker {
    pub id: usize,
    pub settings: Arc<Settings>,
    pub node: Arc<NodeState>,
    /// `None` until the first document arrives (managed mode with no endpoint and no backup).
    snapshot: RefCell<Option<Rc<Snapshot>>>,
    pub pool: Pool,
    pub resolver: Resolver,
    pub requests: Cell<u64>,
    pub route_counts: RefCell<RouteCounts>,
    /// Per API index (or [`NO_API`]): latency and size histograms since the last publish.
    pub histograms: RefCell<HashMap<u32, ApiHistograms>>,
    /// This worker's access-log lines not yet handed to the writer thread.
    pub access_log: RefCell<Vec<u8>>,
    /// StatsD samples not yet handed to the StatsD thread.
    statsd_samples: RefCell<Vec<Sample>>,
    pub connections: Cell<u64>,
    pub in_flight: Cell<u64>,
    pub draining: Cell<bool>,
    buffers: RefCell<Vec<Vec<u8>>>,
    /// Replaced snapshots still held by requests in flight; once free they are sent to the
    /// reaper thread, so freeing a large one never stalls this event loop.
    retired: RefCell<Vec<Rc<Snapshot>>>,
    sinks: Sinks,
}

/// Size of relay buffers: one read from a backend or client moves at most this much.
pub const BUF_SIZE: usize = 64 * 1024;

impl Worker {
    pub fn new(
        id: usize,
        settings: Arc<Settings>,
        node: Arc<NodeState>,
        snapshot: Option<Snapshot>,
        sinks: Sinks,
    ) -> Worker {
        Worker {
            id,
            pool: Pool::new(settings.pool_idle_per_host, settings.pool_idle_timeout),
            settings,
            node,
            snapshot: RefCell::new(snapshot.map(Rc::new)),
            resolver: Resolver::default(),
            requests: Cell::new(0),
            route_counts: RefCell::new(HashMap::new()),
            histograms: RefCell::new(HashMap::new()),
            access_log: RefCell::new(Vec::new()),
            statsd_samples: RefCell::new(Vec::new()),
            connections: Cell::new(0),
            in_flight: Cell::new(0),
            draining: Cell::new(false),
            buffers: RefCell::new(Vec::new()),
            retired: RefCell::new(Vec::new()),
            sinks,
        }
    }

    /// The snapshot a new request runs on (it keeps it to its end).
    pub fn snapshot(&self) -> Option<Rc<Snapshot>> {
        self.snapshot.borrow().clone()
    }

    pub fn install(&self, snapshot: Snapshot) {
        if let Some(old) = self.snapshot.replace(Some(Rc::new(snapshot))) {
            self.retired.borrow_mut().push(old);
        }
        self.reap();
    }

    /// Hands retired snapshots no request uses any more to the reaper thread.
    pub fn reap(&self) {
        let mut retired = self.retired.borrow_mut();
        let mut i = 0;
        while i < retired.len() {
            if Rc::strong_count(&retired[i]) == 1 {
                if let Ok(snap) = Rc::try_unwrap(retired.swap_remove(i)) {
                    let _ = self.sinks.reaper.send(snap);
                }
            } else {
                i += 1;
            }
        }
    }

    pub fn take_buf(&self) -> Vec<u8> {
        self.buffers.borrow_mut().pop().unwrap_or_else(|| Vec::with_capacity(BUF_SIZE))
    }

    pub fn put_buf(&self, mut buf: Vec<u8>) {
        let mut free = self.buffers.borrow_mut();
        if buf.capacity() >= BUF_SIZE && free.len() < 256 {
            buf.clear();
            free.push(buf);
        }
    }

    pub fn log_enabled(&self) -> bool {
        self.sinks.access_log.is_some()
    }

    /// Records a finished request: counters, histograms, and the access-log line.
    pub fn finish(
        &self,
        rec: &Record,
        log_prefix: Option<&str>,
        peer: &std::net::SocketAddr,
        http_minor: u8,
        tls: Option<&str>,
        snap: Option<&Snapshot>,
    ) {
        self.requests.set(self.requests.get() + 1);
        let api = rec.api.unwrap_or(NO_API);
        let op = rec.operation.map_or(0, |o| o + 1);
        let class = (rec.status / 100).min(5) as u8;
        *self.route_counts.borrow_mut().entry((api, op, class)).or_insert(0) += 1;
        let durations = rec.durations();
        if self.sinks.statsd.is_some() {
            let api = rec.api.and_then(|a| snap.and_then(|s| s.doc.apis.get(a as usize)));
            let op = rec.operation.and_then(|o| api.and_then(|a| a.operations.get(o as usize)));
            let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
            self.statsd_samples.borrow_mut().push(Sample {
                api: api.map(|a| a.id.clone()).unwrap_or_default(),
                operation: op.map(|o| o.id.clone()).unwrap_or_default(),
                status: rec.status,
                ms: [ms(durations[0]), ms(durations[1]), ms(durations[2])],
            });
        }
        let d = durations.map(|d| d.as_micros() as u64);
        self.histograms.borrow_mut().entry(api).or_default().record(d, rec.request_bytes, rec.response_bytes);
        if let Some(tx) = &self.sinks.access_log {
            let mut buf = self.access_log.borrow_mut();
            access_log::append(&mut buf, rec, &durations, log_prefix, peer.ip(), http_minor, tls, snap);
            if buf.len() >= access_log::FLUSH_AT {
                let full = std::mem::replace(&mut *buf, Vec::with_capacity(access_log::FLUSH_AT + 1024));
                let _ = tx.try_send(full);
            }
        }
    }

    /// Hands buffered access-log lines to the writer thread (from the tick).
    pub fn flush_log(&self) {
        if let Some(tx) = &self.sinks.statsd {
            let mut samples = self.statsd_samples.borrow_mut();
            if !samples.is_empty() {
                let _ = tx.try_send(std::mem::take(&mut *samples));
            }
        }
        if let Some(tx) = &self.sinks.access_log {
            let mut buf = self.access_log.borrow_mut();
            if !buf.is_empty() {
                let _ = tx.try_send(std::mem::take(&mut *buf));
            }
        }
    }
}
