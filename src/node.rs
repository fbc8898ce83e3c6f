//! State shared between the control thread, the admin endpoint and the workers, never touched on
//! the request path: workers publish into it from their housekeeping tick.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use crate::limits::LimitStore;
use crate::telemetry::histograms::ApiHistograms;

/// What the control thread last did with the configuration.
#[derive(Clone, Debug, Default)]
pub struct ControlStatus {
    /// Revision of the newest accepted document, handed to the workers.
    pub revision: Option<String>,
    /// Generation number of that snapshot (a counter; revisions are opaque strings).
    pub generation: u64,
    /// "file", "endpoint", "backup" or "demo".
    pub source: &'static str,
    pub last_load: Option<SystemTime>,
    /// Problems of the last rejected document, one per line; cleared by the next accepted one.
    pub last_error: Option<String>,
    pub sync_failures: u64,
    /// Managed mode: the last successful call to the endpoint.
    pub last_sync: Option<SystemTime>,
    /// Managed mode: why the endpoint cannot be used right now (cleared by the next success).
    pub endpoint_error: Option<String>,
    pub token_expires: Option<SystemTime>,
}

/// Counters a worker publishes on its tick; the admin endpoint sums them.
#[derive(Clone, Debug, Default)]
pub struct WorkerReport {
    pub requests: u64,
    pub connections_active: u64,
    pub in_flight: u64,
    /// Idle kept-alive backend connections in this worker's pool.
    pub pool_idle: u64,
    /// Connections refused at accept since start: [per-worker limit, per-client-IP limit,
    /// descriptor exhaustion (failed accepts)].
    pub refused: [u64; 3],
    /// WebSocket tunnels: [open now, opened since start, bytes client → backend and backend →
    /// client of the tunnels that ended, of those bytes the spliced ones].
    pub websockets: [u64; 5],
    /// (api id, operation id, code class) → count. Names, not indexes: they outlive snapshots.
    pub by_route: BTreeMap<(String, String, &'static str), u64>,
    /// API id ("" for requests that matched none) → histograms.
    pub histograms: BTreeMap<String, ApiHistograms>,
}

/// The node-wide sums of the workers' reports.
pub use crate::telemetry::totals::Totals as Merged;

pub struct WorkerSlot {
    /// Generation of the snapshot this worker runs (0 = none yet).
    pub generation: AtomicU64,
    pub report: Mutex<WorkerReport>,
}

pub struct NodeState {
    pub started: Instant,
    pub driver: &'static str,
    pub workers: Vec<WorkerSlot>,
    pub control: Mutex<ControlStatus>,
    pub draining: AtomicBool,
    /// Rate-limit, quota and concurrency counters, node-wide and lock-free (see `limits`).
    pub limits: Arc<LimitStore>,
    /// The Redis the counters sync with (`policy.counters.redis`, else the `default` cache).
    pub limits_redis: Arc<Mutex<Option<String>>>,
}

impl NodeState {
    pub fn new(workers: usize, driver: &'static str) -> NodeState {
        NodeState {
            started: Instant::now(),
            driver,
            workers: (0..workers)
                .map(|_| WorkerSlot { generation: AtomicU64::new(0), report: Mutex::new(WorkerReport::default()) })
                .collect(),
            control: Mutex::new(ControlStatus::default()),
            draining: AtomicBool::new(false),
            limits: LimitStore::new(),
            limits_redis: Arc::new(Mutex::new(None)),
        }
    }

    pub fn control(&self) -> ControlStatus {
        self.control.lock().map(|c| c.clone()).unwrap_or_default()
    }

    pub fn update_control(&self, f: impl FnOnce(&mut ControlStatus)) {
        if let Ok(mut c) = self.control.lock() {
            f(&mut c);
        }
    }

    /// True when every worker runs the newest accepted snapshot.
    pub fn all_applied(&self) -> bool {
        let target = self.control().generation;
        target > 0 && self.workers.iter().all(|w| w.generation.load(Ordering::Acquire) == target)
    }

    /// Every worker's published counters and histograms, summed (for /metrics and exporters).
    pub fn merged(&self) -> Merged {
        let mut m = Merged::default();
        for w in &self.workers {
            let Ok(r) = w.report.lock() else { continue };
            m.requests += r.requests;
            for (k, v) in &r.by_route {
                *m.by_route.entry(k.clone()).or_insert(0) += v;
            }
            for (api, h) in &r.histograms {
                match m.histograms.get_mut(api) {
                    Some(total) => total.merge(h),
                    None => {
                        m.histograms.insert(api.clone(), h.clone());
                    }
                }
            }
        }
        m
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Acquire)
    }
}

impl crate::telemetry::totals::TotalsSource for NodeState {
    fn started(&self) -> Instant {
        self.started
    }

    fn totals(&self) -> Merged {
        self.merged()
    }
}
