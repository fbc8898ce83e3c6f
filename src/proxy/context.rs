//! The per-core context the request path runs on, in three parts:
//!
//! - state the worker drives and the proxy reads: the snapshot slot and the drain flag;
//! - the proxy's own per-core resources: backend pool, resolver, relay buffers, parked
//!   connections;
//! - the telemetry [`Recorder`] each finished request is handed to.
//!
//! `Rc`/`Cell` only: one core owns it, nothing here is shared with another thread.

use std::cell::{Cell, RefCell};
use std::ops::{Deref, DerefMut};
use std::rc::Rc;
use std::sync::Arc;

use super::h1::parked::IdleConnections;
use super::stop::Stop;
use super::upstream::connect::Resolver;
use super::upstream::pool::Pool;
use crate::node::NodeState;
use crate::settings::Settings;
use crate::snapshot::Snapshot;
use crate::telemetry::Recorder;

/// The WebSocket tunnels of one core: the drain's stop, and the counts the metrics show.
#[derive(Default)]
pub struct Tunnels {
    pub stop: Stop,
    pub active: Cell<u64>,
    pub opened: Cell<u64>,
    /// Bytes relayed client → backend and backend → client, by tunnels that ended.
    pub bytes_up: Cell<u64>,
    pub bytes_down: Cell<u64>,
    /// Of those, bytes spliced kernel to kernel.
    pub bytes_spliced: Cell<u64>,
}

/// Size of relay buffers: one read from a backend or client moves at most this much.
pub const BUF_SIZE: usize = 64 * 1024;

pub struct Core {
    pub id: usize,
    pub settings: Arc<Settings>,
    /// Node-wide state the request path reads lock-free (limit counters).
    pub node: Arc<NodeState>,
    pub slot: SnapshotSlot,
    pub draining: Cell<bool>,
    pub in_flight: Cell<u64>,
    pub pool: Pool,
    pub resolver: Resolver,
    /// Kept-alive connections parked without a buffer, with their idle deadlines.
    pub idle: IdleConnections,
    pub buffers: Buffers,
    pub recorder: Recorder,
    /// WebSocket tunnels: the drain's stop and their counts.
    pub tunnels: Tunnels,
}

impl Core {
    pub fn new(
        id: usize,
        settings: Arc<Settings>,
        node: Arc<NodeState>,
        slot: SnapshotSlot,
        recorder: Recorder,
    ) -> Core {
        Core {
            id,
            pool: Pool::new(settings.pool_idle_per_host, settings.pool_idle_timeout),
            settings,
            node,
            slot,
            draining: Cell::new(false),
            in_flight: Cell::new(0),
            resolver: Resolver::default(),
            idle: Default::default(),
            buffers: Buffers::default(),
            tunnels: Tunnels::default(),
            recorder,
        }
    }

    /// A relay buffer, returned to this core's free list when the guard drops.
    pub fn buf(&self) -> Buf<'_> {
        Buf { vec: self.buffers.take(), home: &self.buffers }
    }
}

/// The snapshot a worker serves, swapped between requests: a request keeps the one it started
/// on to its end. Replaced snapshots still held by requests wait here; once free they are sent
/// to the reaper thread, so freeing a large one never stalls the event loop.
pub struct SnapshotSlot {
    current: RefCell<Option<Rc<Snapshot>>>,
    retired: RefCell<Vec<Rc<Snapshot>>>,
    reaper: crossbeam_channel::Sender<Snapshot>,
}

impl SnapshotSlot {
    pub fn new(first: Option<Snapshot>, reaper: crossbeam_channel::Sender<Snapshot>) -> SnapshotSlot {
        SnapshotSlot { current: RefCell::new(first.map(Rc::new)), retired: RefCell::new(Vec::new()), reaper }
    }

    /// The snapshot a new request runs on; `None` until the first document arrives.
    pub fn current(&self) -> Option<Rc<Snapshot>> {
        self.current.borrow().clone()
    }

    pub fn install(&self, snapshot: Snapshot) {
        if let Some(old) = self.current.replace(Some(Rc::new(snapshot))) {
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
                    let _ = self.reaper.send(snap);
                }
            } else {
                i += 1;
            }
        }
    }
}

/// A core's free relay buffers (bounded: at most 256 kept).
#[derive(Default)]
pub struct Buffers(RefCell<Vec<Vec<u8>>>);

impl Buffers {
    pub fn take(&self) -> Vec<u8> {
        self.0.borrow_mut().pop().unwrap_or_else(|| Vec::with_capacity(BUF_SIZE))
    }

    pub fn put(&self, mut buf: Vec<u8>) {
        let mut free = self.0.borrow_mut();
        if buf.capacity() >= BUF_SIZE && free.len() < 256 {
            buf.clear();
            free.push(buf);
        }
    }
}

/// A relay buffer on loan from [`Buffers`]; goes back when dropped. I/O takes the vector by
/// value (io_uring owns it while the operation runs): [`Buf::lend`] and [`Buf::restore`].
pub struct Buf<'a> {
    vec: Vec<u8>,
    home: &'a Buffers,
}

impl Buf<'_> {
    /// The vector, for an operation that takes it by value.
    pub fn lend(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.vec)
    }

    /// The vector back from the operation.
    pub fn restore(&mut self, vec: Vec<u8>) {
        self.vec = vec;
    }
}

impl Deref for Buf<'_> {
    type Target = Vec<u8>;
    fn deref(&self) -> &Vec<u8> {
        &self.vec
    }
}

impl DerefMut for Buf<'_> {
    fn deref_mut(&mut self) -> &mut Vec<u8> {
        &mut self.vec
    }
}

impl Drop for Buf<'_> {
    fn drop(&mut self) {
        self.home.put(std::mem::take(&mut self.vec));
    }
}

/// Telemetry reads names, never plans.
impl crate::telemetry::Names for Snapshot {
    fn api(&self, api: u32) -> Option<&str> {
        self.doc.apis.get(api as usize).map(|a| a.id.as_str())
    }
    fn operation(&self, api: u32, operation: u32) -> Option<&str> {
        self.doc.apis.get(api as usize)?.operations.get(operation as usize).map(|o| o.id.as_str())
    }
    fn product(&self, product: u32) -> Option<&str> {
        self.doc.products.get(product as usize).map(|p| p.id.as_str())
    }
    fn subscription(&self, subscription: u32) -> Option<&str> {
        self.doc.subscriptions.get_opt(subscription).map(|s| s.id.as_str())
    }
    fn key_query(&self, api: u32) -> Option<&str> {
        self.doc.apis.get(api as usize).map(|a| a.key_query.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_buffer_goes_home_when_its_guard_drops() {
        let buffers = Buffers::default();
        {
            let core_buf = Buf { vec: buffers.take(), home: &buffers };
            assert!(core_buf.capacity() >= BUF_SIZE);
        }
        assert_eq!(buffers.0.borrow().len(), 1);
        let mut b = Buf { vec: buffers.take(), home: &buffers };
        assert_eq!(buffers.0.borrow().len(), 0);
        let lent = b.lend();
        b.restore(lent);
        drop(b);
        assert_eq!(buffers.0.borrow().len(), 1, "a lent and restored buffer still goes home");
    }
}
