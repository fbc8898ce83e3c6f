//! Parked connections (see `proxy::idle`): each waits on a slot here, holding no buffer, timer
//! or io_uring op. Their sockets sit in one epoll set per worker; a single task polls that set
//! and wakes the connections whose sockets became readable. The worker's tick keeps their idle
//! deadlines: it shuts expired sockets down, which wakes them to read the end of stream.

use std::cell::RefCell;
use std::future::Future;
use std::os::fd::RawFd;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use crate::sys::Epoll;

pub struct IdleConnections {
    /// Deadlines are kept as milliseconds since this instant.
    epoch: Instant,
    /// `None` when the epoll set could not be made: connections then never park.
    epoll: Option<Epoll>,
    slots: RefCell<Slots>,
}

impl Default for IdleConnections {
    fn default() -> Self {
        let epoll =
            Epoll::new().map_err(|e| tracing::warn!(error = %e, "no epoll set: idle connections keep their buffers"));
        IdleConnections { epoch: Instant::now(), epoll: epoll.ok(), slots: RefCell::default() }
    }
}

#[derive(Default)]
struct Slots {
    entries: Vec<Parked>,
    free: Vec<u32>,
    live: usize,
}

/// A slot: `fd < 0` when free.
#[derive(Default)]
struct Parked {
    deadline_ms: u64,
    fd: RawFd,
    /// Already shut down (by the sweep or the drain); the owner has not woken yet.
    closed: bool,
    /// The socket became readable (or was shut down): the owner may go on.
    ready: bool,
    waker: Option<Waker>,
}

fn free() -> Parked {
    Parked { fd: -1, ..Parked::default() }
}

/// A parked connection's place in the registry; awaiting it waits for the socket to become
/// readable. Dropping it (on wake or when the task is dropped) removes the socket from the epoll
/// set and the entry before the connection can close its socket, so a recycled fd number is
/// never shut down or reported by mistake.
pub struct Ticket<'a> {
    owner: &'a IdleConnections,
    slot: u32,
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        let mut slots = self.owner.slots.borrow_mut();
        if let Some(entry) = slots.entries.get_mut(self.slot as usize) {
            if entry.fd >= 0 {
                if let Some(epoll) = &self.owner.epoll {
                    epoll.remove(entry.fd);
                }
                *entry = free();
                slots.live -= 1;
                slots.free.push(self.slot);
            }
        }
    }
}

impl Future for Ticket<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut slots = self.owner.slots.borrow_mut();
        let Some(entry) = slots.entries.get_mut(self.slot as usize) else {
            return Poll::Ready(());
        };
        if entry.ready {
            return Poll::Ready(());
        }
        match &mut entry.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl IdleConnections {
    /// Whether connections can park on this worker.
    pub fn available(&self) -> bool {
        self.epoll.is_some()
    }

    /// Registers `fd` (owned by the caller, open until the ticket is dropped) until `deadline`;
    /// `None` when the socket cannot be watched (the caller closes the connection).
    pub fn park(&self, fd: RawFd, deadline: Instant) -> Option<Ticket<'_>> {
        let epoll = self.epoll.as_ref()?;
        let mut slots = self.slots.borrow_mut();
        let parked = Parked { deadline_ms: self.millis(deadline), fd, ..Parked::default() };
        let slot = match slots.free.pop() {
            Some(slot) => {
                slots.entries[slot as usize] = parked;
                slot
            }
            None => {
                slots.entries.push(parked);
                (slots.entries.len() - 1) as u32
            }
        };
        slots.live += 1;
        let ticket = Ticket { owner: self, slot };
        drop(slots);
        // Oneshot: one readiness report per park is all a connection needs.
        epoll.add_oneshot(fd, slot as u64).then_some(ticket)
    }

    /// The epoll set as something the event loop can await (see `worker::run`).
    pub fn pollable(&self) -> Option<monoio::net::UnixStream> {
        self.epoll.as_ref()?.pollable().ok()
    }

    /// Wakes the parked connections whose sockets are ready (`tokens` is scratch space).
    pub fn dispatch(&self, tokens: &mut Vec<u64>) {
        let Some(epoll) = &self.epoll else { return };
        tokens.clear();
        epoll.ready(tokens);
        let mut wake = Vec::new();
        {
            let mut slots = self.slots.borrow_mut();
            for &token in tokens.iter() {
                if let Some(entry) = slots.entries.get_mut(token as usize).filter(|e| e.fd >= 0) {
                    entry.ready = true;
                    wake.extend(entry.waker.take());
                }
            }
        }
        // Woken outside the borrow: a waker may run code that parks or unparks.
        wake.into_iter().for_each(Waker::wake);
    }

    fn millis(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.epoch).as_millis() as u64
    }

    pub fn parked(&self) -> usize {
        self.slots.borrow().live
    }

    /// Shuts down the sockets idle past their deadline. When `draining`, every parked
    /// connection is woken instead (not shut down): its owner looks for pending request bytes
    /// and either serves them or closes gracefully (see `proxy::drain`).
    pub fn sweep(&self, now: Instant, draining: bool) {
        let mut wake = Vec::new();
        let mut slots = self.slots.borrow_mut();
        if slots.live == 0 {
            return;
        }
        let now = self.millis(now);
        for parked in slots.entries.iter_mut().filter(|p| p.fd >= 0) {
            if draining && !parked.ready {
                parked.ready = true;
                wake.extend(parked.waker.take());
            } else if !parked.closed && parked.deadline_ms <= now {
                parked.closed = true;
                // The fd is open: its owner drops the ticket before it closes the socket.
                crate::sys::shutdown_socket(parked.fd);
            }
        }
        // Keep the table from holding a high-water mark of memory forever.
        if slots.live == 0 && slots.entries.capacity() > 1024 {
            *slots = Slots::default();
        }
        drop(slots);
        // Woken outside the borrow: a waker may run code that parks or unparks.
        wake.into_iter().for_each(Waker::wake);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn tickets_free_their_slot_and_slots_are_reused() {
        let idle = IdleConnections::default();
        let far = Instant::now() + Duration::from_secs(60);
        let (l, _c1, a) = parked_pair(&idle, far);
        let (l2, _c2, b) = parked_pair(&idle, far);
        assert_eq!(idle.parked(), 2);
        drop(a);
        assert_eq!(idle.parked(), 1);
        let (l3, _c3, c) = parked_pair(&idle, far);
        assert_eq!(c.slot, 0, "the freed slot is reused");
        drop(b);
        drop(c);
        assert_eq!(idle.parked(), 0);
        drop((l, l2, l3));
    }

    /// A connected pair; the accepted side is parked. Returns (listener, client, ticket).
    fn parked_pair(
        idle: &IdleConnections,
        deadline: Instant,
    ) -> (std::net::TcpListener, std::net::TcpStream, Ticket<'_>) {
        use std::os::fd::IntoRawFd;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (served, _) = listener.accept().unwrap();
        let ticket = idle.park(served.into_raw_fd(), deadline).expect("parked");
        (listener, client, ticket)
    }

    #[test]
    fn a_readable_socket_is_dispatched_to_its_ticket() {
        use std::io::Write;
        let idle = IdleConnections::default();
        let far = Instant::now() + Duration::from_secs(60);
        let (_l, mut client, mut ticket) = parked_pair(&idle, far);
        let (_l2, _quiet, mut other) = parked_pair(&idle, far);
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        assert!(Pin::new(&mut ticket).poll(&mut cx).is_pending());
        client.write_all(b"GET").unwrap();
        let mut tokens = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Pin::new(&mut ticket).poll(&mut cx).is_pending() {
            assert!(Instant::now() < deadline, "the readable socket was never reported");
            idle.dispatch(&mut tokens);
        }
        assert!(Pin::new(&mut other).poll(&mut cx).is_pending(), "a quiet socket was woken");
    }

    #[test]
    fn sweep_shuts_down_only_expired_sockets() {
        use std::io::Read;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mut expired_client = std::net::TcpStream::connect(addr).unwrap();
        let (expired, _) = listener.accept().unwrap();
        let mut fresh_client = std::net::TcpStream::connect(addr).unwrap();
        let (fresh, _) = listener.accept().unwrap();
        let idle = IdleConnections::default();
        std::thread::sleep(Duration::from_millis(5));
        let now = Instant::now();
        use std::os::fd::AsRawFd;
        let _t1 = idle.park(expired.as_raw_fd(), now - Duration::from_millis(1)).expect("parked");
        let _t2 = idle.park(fresh.as_raw_fd(), now + Duration::from_secs(60)).expect("parked");
        idle.sweep(now, false);
        let mut byte = [0u8; 1];
        assert_eq!(expired_client.read(&mut byte).unwrap(), 0, "the expired connection got its FIN");
        fresh_client.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
        assert!(fresh_client.read(&mut byte).is_err(), "the fresh connection is still open");
        idle.sweep(now, true);
        assert!(fresh_client.read(&mut byte).is_err(), "draining wakes the owner, it does not shut down");
        let waker = std::task::Waker::noop();
        let mut t2 = _t2;
        assert!(
            Pin::new(&mut t2).poll(&mut Context::from_waker(waker)).is_ready(),
            "draining wakes every parked connection"
        );
    }
}
