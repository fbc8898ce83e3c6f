//! The few system calls std and monoio do not wrap. The only module allowed `unsafe`.
#![allow(unsafe_code)]

use std::os::fd::RawFd;

/// Whether an idle pooled socket is still usable: no pending bytes and no FIN/RST.
/// A backend that closed its side (or sent anything while idle) makes the connection unusable.
pub fn idle_socket_is_healthy(fd: RawFd) -> bool {
    let mut byte = 0u8;
    // SAFETY: `fd` is an open socket owned by the caller for the duration of the call; the buffer
    // is a valid one-byte stack location; MSG_PEEK|MSG_DONTWAIT neither consumes data nor blocks.
    let n = unsafe { libc::recv(fd, (&mut byte as *mut u8).cast(), 1, libc::MSG_PEEK | libc::MSG_DONTWAIT) };
    if n < 0 {
        let err = std::io::Error::last_os_error().raw_os_error();
        return err == Some(libc::EAGAIN) || err == Some(libc::EWOULDBLOCK);
    }
    false
}

/// Ends both directions of a socket without closing the fd (its owner still closes it); a task
/// waiting on it wakes and reads the end of stream.
pub fn shutdown_socket(fd: RawFd) {
    // SAFETY: shutdown() takes no pointers; the caller guarantees `fd` is an open socket it may
    // end (a parked connection's, registered until its owner wakes).
    unsafe {
        libc::shutdown(fd, libc::SHUT_RDWR);
    }
}

/// Bytes received on socket `fd` and not yet read (FIONREAD); 0 when unknown.
pub fn pending_bytes(fd: RawFd) -> usize {
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one c_int through the pointer, which points at `n`; the caller
    // guarantees `fd` is its open socket.
    let rc = unsafe { libc::ioctl(fd, libc::FIONREAD, &mut n as *mut libc::c_int) };
    if rc == 0 {
        n.max(0) as usize
    } else {
        0
    }
}

/// mimalloc v3's `mi_option_arena_eager_commit` (include/mimalloc.h of the vendored v3 sources).
const MI_OPTION_ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;

/// Commits allocator arenas on demand rather than up front: eagerly committed arenas are reset
/// instead of decommitted when freed, so memory given back by quiet connections stayed resident.
/// Called by a load-time constructor in `main.rs`, before the first allocation.
pub fn tune_allocator() {
    // SAFETY: mi_option_set writes one option slot; no allocation is in flight on another thread.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_ARENA_EAGER_COMMIT, 0) }
}

/// Hands the calling thread's free allocator pages back to the system now, instead of at its
/// next allocations (mimalloc purges lazily: a quiet worker would keep them resident).
pub fn release_free_memory() {
    // SAFETY: mi_collect only walks the calling thread's own heap.
    unsafe { libmimalloc_sys::mi_collect(false) }
}

/// An epoll instance (closed on drop): a worker's parked connections wait on it.
pub struct Epoll {
    fd: std::os::fd::OwnedFd,
}

impl Epoll {
    pub fn new() -> std::io::Result<Epoll> {
        // SAFETY: epoll_create1 takes no pointers; a non-negative result is a new fd we own.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: `fd` was just created and is owned by nothing else.
        Ok(Epoll { fd: unsafe { std::os::fd::FromRawFd::from_raw_fd(fd) } })
    }

    /// Watches `fd` for one readability event (or hang-up), reported with `token`.
    pub fn add_oneshot(&self, fd: RawFd, token: u64) -> bool {
        use std::os::fd::AsRawFd;
        let mut event =
            libc::epoll_event { events: (libc::EPOLLIN | libc::EPOLLRDHUP | libc::EPOLLONESHOT) as u32, u64: token };
        // SAFETY: `event` is a valid, initialised struct for the duration of the call.
        unsafe { libc::epoll_ctl(self.fd.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut event) == 0 }
    }

    /// Stops watching `fd` (before its owner closes it).
    pub fn remove(&self, fd: RawFd) {
        use std::os::fd::AsRawFd;
        let mut event = libc::epoll_event { events: 0, u64: 0 };
        // SAFETY: as above; a non-null event pointer keeps old kernels happy.
        unsafe { libc::epoll_ctl(self.fd.as_raw_fd(), libc::EPOLL_CTL_DEL, fd, &mut event) };
    }

    /// The tokens of the watched fds that are ready now (does not block).
    pub fn ready(&self, tokens: &mut Vec<u64>) {
        use std::os::fd::AsRawFd;
        let mut events = [libc::epoll_event { events: 0, u64: 0 }; 256];
        loop {
            // SAFETY: `events` is a valid buffer of the given length.
            let n = unsafe { libc::epoll_wait(self.fd.as_raw_fd(), events.as_mut_ptr(), events.len() as i32, 0) };
            if n <= 0 {
                return;
            }
            tokens.extend(events[..n as usize].iter().map(|e| e.u64));
            if (n as usize) < events.len() {
                return;
            }
        }
    }

    /// A duplicate of the epoll fd as a monoio stream, so the event loop can await readiness
    /// of the whole set with one poll op.
    pub fn pollable(&self) -> std::io::Result<monoio::net::UnixStream> {
        let fd = self.fd.try_clone()?;
        // SAFETY: `fd` is a fresh duplicate we own; monoio only polls it (no reads or writes).
        let std_stream = unsafe {
            <std::os::unix::net::UnixStream as std::os::fd::FromRawFd>::from_raw_fd(
                std::os::fd::IntoRawFd::into_raw_fd(fd),
            )
        };
        monoio::net::UnixStream::from_std(std_stream)
    }
}

/// Raises the soft open-files limit to the hard limit (a gateway holds many sockets).
pub fn raise_nofile_limit() -> Option<u64> {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit write/read a properly sized, initialised struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return None;
        }
        lim.rlim_cur = lim.rlim_max;
        if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
            return None;
        }
    }
    Some(lim.rlim_cur)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::fd::AsRawFd;

    #[test]
    fn detects_closed_and_dirty_sockets() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let c = std::net::TcpStream::connect(l.local_addr().expect("addr")).expect("connect");
        let (mut s, _) = l.accept().expect("accept");
        assert!(idle_socket_is_healthy(c.as_raw_fd()));
        s.write_all(b"x").expect("write");
        s.flush().expect("flush");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while idle_socket_is_healthy(c.as_raw_fd()) && std::time::Instant::now() < deadline {}
        assert!(!idle_socket_is_healthy(c.as_raw_fd()), "pending byte means unusable");
    }
}
