//! A core's telemetry recorder: the request path hands it each finished [`Record`]; it counts,
//! fills histograms and StatsD samples, and appends the access-log line, all in this core's own
//! buffers. The housekeeping tick publishes and flushes them (see `worker::run`).

use std::cell::{Cell, RefCell};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use super::access_log::{self, LineContext, LogSink};
use super::fxhash::FxHashMap;
use super::histograms::ApiHistograms;
use super::names::Names;
use super::statsd::Sample;
use super::Record;

/// Request counts by (api index, operation index + 1, code class) for the current snapshot
/// (0 = none). Indexes are only meaningful for one snapshot, so counts are flushed before a swap.
pub type RouteCounts = FxHashMap<(u32, u32, u8), u64>;

/// Marks requests that matched no API in [`RouteCounts`] and the histogram map.
pub const NO_API: u32 = u32::MAX;

/// Where the recorder hands what it must not do on the event loop.
#[derive(Clone, Default)]
pub struct Outlets {
    /// Access-log bytes, when `telemetry.logs.requests` is on.
    pub access_log: Option<LogSink>,
    /// StatsD samples, when `telemetry.metrics.local=statsd`.
    pub statsd: Option<crossbeam_channel::Sender<Vec<Sample>>>,
}

/// How a finished request reached the gateway, for its log line.
pub struct Peer<'a> {
    pub ip: IpAddr,
    pub http_minor: u8,
    pub tls: Option<&'a str>,
}

pub struct Recorder {
    pub requests: Cell<u64>,
    /// `telemetry.metrics.requests`: record route counts, histograms and StatsD samples.
    metrics: bool,
    pub route_counts: RefCell<RouteCounts>,
    /// Per API index (or [`NO_API`]): latency and size histograms since the last publish.
    pub histograms: RefCell<FxHashMap<u32, ApiHistograms>>,
    /// This core's access-log lines not yet handed to the writer thread.
    access_log: RefCell<Vec<u8>>,
    /// StatsD samples not yet handed to the StatsD thread.
    statsd_samples: RefCell<Vec<Sample>>,
    outlets: Outlets,
}

impl Recorder {
    pub fn new(metrics: bool, outlets: Outlets) -> Recorder {
        Recorder {
            requests: Cell::new(0),
            metrics,
            route_counts: RefCell::new(FxHashMap::default()),
            histograms: RefCell::new(FxHashMap::default()),
            access_log: RefCell::new(match outlets.access_log {
                Some(_) => Vec::with_capacity(access_log::BUF_CAPACITY),
                None => Vec::new(),
            }),
            statsd_samples: RefCell::new(Vec::new()),
            outlets,
        }
    }

    pub fn log_enabled(&self) -> bool {
        self.outlets.access_log.is_some()
    }

    /// Records a finished request: the request count always; route counts, histograms and
    /// StatsD samples when `telemetry.metrics.requests` is on; the access-log line when
    /// `telemetry.logs.requests` is on. With both off, nothing else is read or computed.
    pub fn finish(&self, rec: &Record, log_prefix: Option<&[u8]>, peer: &Peer<'_>, names: Option<&dyn Names>) {
        self.requests.set(self.requests.get() + 1);
        let log = self.outlets.access_log.as_ref();
        if !self.metrics && log.is_none() {
            return;
        }
        let end = Instant::now();
        let durations = rec.durations(end);
        if self.metrics {
            self.record_metrics(rec, &durations, names);
        }
        if let Some(sink) = log {
            let mut buf = self.access_log.borrow_mut();
            let cx = LineContext {
                prefix: log_prefix,
                client_ip: peer.ip,
                http_minor: peer.http_minor,
                tls: peer.tls,
                names,
                end,
            };
            access_log::append(&mut buf, rec, &durations, &cx);
            if buf.len() >= access_log::FLUSH_AT {
                sink.send(&mut buf);
            }
        }
    }

    fn record_metrics(&self, rec: &Record, durations: &[Duration; 4], names: Option<&dyn Names>) {
        let api = rec.api.unwrap_or(NO_API);
        let op = rec.operation.map_or(0, |o| o + 1);
        let class = (rec.status / 100).min(5) as u8;
        *self.route_counts.borrow_mut().entry((api, op, class)).or_insert(0) += 1;
        if self.outlets.statsd.is_some() {
            let api_name = rec.api.and_then(|a| names.and_then(|n| n.api(a)));
            let op_name = rec.operation.and_then(|o| rec.api.and_then(|a| names.and_then(|n| n.operation(a, o))));
            let ms = |d: Duration| d.as_secs_f64() * 1e3;
            self.statsd_samples.borrow_mut().push(Sample {
                api: api_name.unwrap_or_default().to_string(),
                operation: op_name.unwrap_or_default().to_string(),
                status: rec.status,
                ms: [ms(durations[0]), ms(durations[1]), ms(durations[2])],
            });
        }
        let d = durations.map(|d| d.as_micros() as u64);
        self.histograms.borrow_mut().entry(api).or_default().record(d, rec.request_bytes, rec.response_bytes);
    }

    /// Hands buffered access-log lines and StatsD samples on (from the tick).
    pub fn flush(&self) {
        if let Some(tx) = &self.outlets.statsd {
            let mut samples = self.statsd_samples.borrow_mut();
            if !samples.is_empty() {
                let _ = tx.try_send(std::mem::take(&mut *samples));
            }
        }
        if let Some(sink) = &self.outlets.access_log {
            let mut buf = self.access_log.borrow_mut();
            if !buf.is_empty() {
                sink.send(&mut buf);
            }
        }
    }
}
