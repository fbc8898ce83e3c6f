//! A worker's own state: its snapshot, pool, counters and buffers. `Rc`/`Cell`, never shared.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;

use crate::node::NodeState;
use crate::proxy::upstream::connect::Resolver;
use crate::proxy::upstream::pool::Pool;
use crate::settings::Settings;
use crate::snapshot::Snapshot;
use crate::telemetry::access_log::{self, LineContext};
use crate::telemetry::fxhash::FxHashMap;
use crate::telemetry::histograms::ApiHistograms;
use crate::telemetry::statsd::Sample;
use crate::telemetry::Record;
use crate::worker::Sinks;

/// Request counts by (api index, operation index + 1, code class) for the current snapshot
/// (0 = none). Indexes are only meaningful for one snapshot, so counts are flushed before a swap.
pub type RouteCounts = FxHashMap<(u32, u32, u8), u64>;

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
    /// `telemetry.metrics.requests`: record route counts, histograms and StatsD samples.
    metrics: bool,
    pub route_counts: RefCell<RouteCounts>,
    /// Per API index (or [`NO_API`]): latency and size histograms since the last publish.
    pub histograms: RefCell<FxHashMap<u32, ApiHistograms>>,
    /// This worker's access-log lines not yet handed to the writer thread.
    pub access_log: RefCell<Vec<u8>>,
    /// StatsD samples not yet handed to the StatsD thread.
    statsd_samples: RefCell<Vec<Sample>>,
    /// Open client connections, counted from accept (see `admission`).
    pub connections: Cell<u64>,
    pub accept: super::admission::AcceptState,
    pub in_flight: Cell<u64>,
    pub draining: Cell<bool>,
    /// Kept-alive connections parked without a buffer, with their idle deadlines.
    pub idle: super::idle::IdleConnections,
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
            metrics: settings.metrics_requests,
            settings,
            node,
            snapshot: RefCell::new(snapshot.map(Rc::new)),
            resolver: Resolver::default(),
            requests: Cell::new(0),
            route_counts: RefCell::new(FxHashMap::default()),
            histograms: RefCell::new(FxHashMap::default()),
            access_log: RefCell::new(match sinks.access_log {
                Some(_) => Vec::with_capacity(access_log::BUF_CAPACITY),
                None => Vec::new(),
            }),
            statsd_samples: RefCell::new(Vec::new()),
            connections: Cell::new(0),
            accept: Default::default(),
            in_flight: Cell::new(0),
            draining: Cell::new(false),
            idle: Default::default(),
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

    /// A client connection ended: its worker and per-address slots are free again.
    pub fn connection_ended(&self, ip: std::net::IpAddr) {
        self.connections.set(self.connections.get().saturating_sub(1));
        super::admission::release(ip);
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

    /// Records a finished request: the worker's request count always; route counts, histograms
    /// and StatsD samples when `telemetry.metrics.requests` is on; the access-log line when
    /// `telemetry.logs.requests` is on. With both off, nothing else is read or computed.
    pub fn finish(
        &self,
        rec: &Record,
        log_prefix: Option<&[u8]>,
        peer: &std::net::SocketAddr,
        http_minor: u8,
        tls: Option<&str>,
        snap: Option<&Snapshot>,
    ) {
        self.requests.set(self.requests.get() + 1);
        let log = self.sinks.access_log.as_ref();
        if !self.metrics && log.is_none() {
            return;
        }
        let end = std::time::Instant::now();
        let durations = rec.durations(end);
        if self.metrics {
            self.record_metrics(rec, &durations, snap);
        }
        if let Some(sink) = log {
            let mut buf = self.access_log.borrow_mut();
            let cx = LineContext { prefix: log_prefix, client_ip: peer.ip(), http_minor, tls, snap, end };
            access_log::append(&mut buf, rec, &durations, &cx);
            if buf.len() >= access_log::FLUSH_AT {
                sink.send(&mut buf);
            }
        }
    }

    fn record_metrics(&self, rec: &Record, durations: &[std::time::Duration; 4], snap: Option<&Snapshot>) {
        let api = rec.api.unwrap_or(NO_API);
        let op = rec.operation.map_or(0, |o| o + 1);
        let class = (rec.status / 100).min(5) as u8;
        *self.route_counts.borrow_mut().entry((api, op, class)).or_insert(0) += 1;
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
    }

    /// Hands buffered access-log lines to the writer thread (from the tick).
    pub fn flush_log(&self) {
        if let Some(tx) = &self.sinks.statsd {
            let mut samples = self.statsd_samples.borrow_mut();
            if !samples.is_empty() {
                let _ = tx.try_send(std::mem::take(&mut *samples));
            }
        }
        if let Some(sink) = &self.sinks.access_log {
            let mut buf = self.access_log.borrow_mut();
            if !buf.is_empty() {
                sink.send(&mut buf);
            }
        }
    }
}
