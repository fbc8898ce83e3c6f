//! The idle deadlines of parked connections (see `proxy::idle`): a parked connection holds no
//! timer, so the worker's tick shuts down the sockets whose deadline has passed; the parked
//! task then wakes, reads the end of stream and closes.

use std::cell::RefCell;
use std::os::fd::RawFd;
use std::time::Instant;

pub struct IdleConnections {
    /// Deadlines are kept as milliseconds since this instant (16 bytes a connection).
    epoch: Instant,
    slots: RefCell<Slots>,
}

impl Default for IdleConnections {
    fn default() -> Self {
        IdleConnections { epoch: Instant::now(), slots: RefCell::default() }
    }
}

#[derive(Default)]
struct Slots {
    entries: Vec<Parked>,
    free: Vec<u32>,
    live: usize,
}

/// A slot: `fd < 0` when free.
#[derive(Clone, Copy)]
struct Parked {
    deadline_ms: u64,
    fd: RawFd,
    /// Already shut down (by the sweep or the drain); the owner has not woken yet.
    closed: bool,
}

const FREE: Parked = Parked { deadline_ms: 0, fd: -1, closed: false };

/// A parked connection's place in the registry; leaving it (on wake or when the task is dropped)
/// removes the entry before the connection can close its socket, so a recycled fd number is
/// never shut down by mistake.
pub struct Ticket<'a> {
    owner: &'a IdleConnections,
    slot: u32,
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        let mut slots = self.owner.slots.borrow_mut();
        if let Some(entry) = slots.entries.get_mut(self.slot as usize) {
            if entry.fd >= 0 {
                *entry = FREE;
                slots.live -= 1;
                slots.free.push(self.slot);
            }
        }
    }
}

impl IdleConnections {
    /// Registers `fd` (owned by the caller, open until the ticket is dropped) until `deadline`.
    pub fn park(&self, fd: RawFd, deadline: Instant) -> Ticket<'_> {
        let mut slots = self.slots.borrow_mut();
        let parked = Parked { deadline_ms: self.millis(deadline), fd, closed: false };
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
        Ticket { owner: self, slot }
    }

    fn millis(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.epoch).as_millis() as u64
    }

    pub fn parked(&self) -> usize {
        self.slots.borrow().live
    }

    /// Shuts down the sockets idle past their deadline (all of them when `everyone`: draining).
    pub fn sweep(&self, now: Instant, everyone: bool) {
        let mut slots = self.slots.borrow_mut();
        if slots.live == 0 {
            return;
        }
        let now = self.millis(now);
        for parked in slots.entries.iter_mut().filter(|p| p.fd >= 0) {
            if !parked.closed && (everyone || parked.deadline_ms <= now) {
                parked.closed = true;
                // The fd is open: its owner drops the ticket before it closes the socket.
                crate::sys::shutdown_socket(parked.fd);
            }
        }
        // Keep the table from holding a high-water mark of memory forever.
        if slots.live == 0 && slots.entries.capacity() > 1024 {
            *slots = Slots::default();
        }
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
        let a = idle.park(7, far);
        let b = idle.park(8, far);
        assert_eq!(idle.parked(), 2);
        drop(a);
        assert_eq!(idle.parked(), 1);
        let c = idle.park(9, far);
        assert_eq!(c.slot, 0, "the freed slot is reused");
        drop(b);
        drop(c);
        assert_eq!(idle.parked(), 0);
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
        let _t1 = idle.park(expired.as_raw_fd(), now - Duration::from_millis(1));
        let _t2 = idle.park(fresh.as_raw_fd(), now + Duration::from_secs(60));
        idle.sweep(now, false);
        let mut byte = [0u8; 1];
        assert_eq!(expired_client.read(&mut byte).unwrap(), 0, "the expired connection got its FIN");
        fresh_client.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
        assert!(fresh_client.read(&mut byte).is_err(), "the fresh connection is still open");
        idle.sweep(now, true);
        fresh_client.set_read_timeout(None).unwrap();
        assert_eq!(fresh_client.read(&mut byte).unwrap(), 0, "draining closes every parked connection");
    }
}
