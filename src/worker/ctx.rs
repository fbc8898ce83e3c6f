//! A worker's own state: the per-core context its connections run on ([`Core`]), plus what
//! only the worker uses (accept state, the connection count). `Rc`/`Cell`, never shared.

use std::cell::Cell;
use std::ops::Deref;
use std::rc::Rc;
use std::sync::Arc;

use crate::node::NodeState;
use crate::proxy::context::{Core, SnapshotSlot};
use crate::settings::Settings;
use crate::snapshot::Snapshot;
use crate::telemetry::recorder::Outlets;
use crate::telemetry::Recorder;
use crate::worker::Sinks;

pub struct Worker {
    pub core: Rc<Core>,
    /// Open client connections, counted from accept (see `admission`).
    pub connections: Cell<u64>,
    pub accept: super::admission::AcceptState,
}

impl Worker {
    pub fn new(
        id: usize,
        settings: Arc<Settings>,
        node: Arc<NodeState>,
        snapshot: Option<Snapshot>,
        sinks: Sinks,
    ) -> Worker {
        let outlets = Outlets { access_log: sinks.access_log, statsd: sinks.statsd };
        let recorder = Recorder::new(settings.metrics_requests, outlets);
        let slot = SnapshotSlot::new(snapshot, sinks.reaper);
        Worker {
            core: Rc::new(Core::new(id, settings, node, slot, recorder)),
            connections: Cell::new(0),
            accept: Default::default(),
        }
    }

    /// A client connection ended: its worker and per-address slots are free again.
    pub fn connection_ended(&self, ip: std::net::IpAddr) {
        self.connections.set(self.connections.get().saturating_sub(1));
        super::admission::release(ip);
    }
}

impl Deref for Worker {
    type Target = Core;
    fn deref(&self) -> &Core {
        &self.core
    }
}
