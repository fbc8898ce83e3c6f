//! Worker threads: one per core, pinned, each with its own monoio runtime, its own SO_REUSEPORT
//! listener, its own snapshot copy and pool. The control thread talks to them over channels.

pub mod admission;
pub mod ctx;
pub mod driver;
pub mod listener;
mod run;

use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};

use crate::node::NodeState;
use crate::settings::Settings;
use crate::snapshot::Snapshot;
pub use driver::Driver;

/// Messages from the control thread; workers poll them between requests (never block on them).
pub enum WorkerMsg {
    Install(Box<Snapshot>),
    Drain,
}

/// A worker's listening sockets (each a member of its port's SO_REUSEPORT group).
pub struct Listeners {
    pub http: std::net::TcpListener,
    pub https: std::net::TcpListener,
}

pub struct WorkerHandle {
    pub tx: Sender<WorkerMsg>,
    pub thread: JoinHandle<()>,
}

pub struct Spawn {
    pub settings: Arc<Settings>,
    pub node: Arc<NodeState>,
    pub driver: Driver,
    pub blocking: monoio::blocking::DefaultThreadPool,
    pub sinks: Sinks,
}

/// Where a worker hands things it must not do on its event loop.
#[derive(Clone)]
pub struct Sinks {
    /// Retired snapshots, freed elsewhere (see `Worker::reap`).
    pub reaper: Sender<Snapshot>,
    /// Access-log bytes, when `telemetry.logs.requests` is on.
    pub access_log: Option<crate::telemetry::access_log::LogSink>,
    /// StatsD samples, when `telemetry.metrics.local=statsd`.
    pub statsd: Option<Sender<Vec<crate::telemetry::statsd::Sample>>>,
}

/// Starts worker `id` on `listener` with its first snapshot.
pub fn spawn(
    spawn: &Spawn,
    id: usize,
    core: Option<core_affinity::CoreId>,
    listeners: Listeners,
    first: Option<Snapshot>,
) -> std::io::Result<WorkerHandle> {
    let (tx, rx): (Sender<WorkerMsg>, Receiver<WorkerMsg>) = crossbeam_channel::unbounded();
    let settings = spawn.settings.clone();
    let node = spawn.node.clone();
    let driver = spawn.driver;
    let pool = spawn.blocking.clone();
    let sinks = spawn.sinks.clone();
    let thread = std::thread::Builder::new().name(format!("gw-worker-{id}")).spawn(move || {
        if let Some(core) = core {
            if !core_affinity::set_for_current(core) {
                tracing::warn!(worker = id, core = core.id, "could not pin worker to its core");
            }
        }
        let run = run::Run { id, settings, node, listeners, rx, first, sinks };
        driver::block_on(driver, pool, run.main());
    })?;
    Ok(WorkerHandle { tx, thread })
}
