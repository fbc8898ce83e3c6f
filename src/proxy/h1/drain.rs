//! Drain (SIGTERM/SIGINT) without resets. The rule, for every kept-alive client connection:
//!
//! - A request whose bytes the gateway has read (whole, mid-head, or the first of a pipelined
//!   burst) is answered, and its response carries `Connection: close`.
//! - A connection waiting for its next request is closed with a FIN once it is quiet: parked
//!   connections are woken [`GRACE`] after the worker sees the drain (a request sent just as
//!   the drain begins is served, not raced), and close at once when no byte is pending in the
//!   kernel; a connection waiting in a read closes when that read's quiet period ends.
//! - Every close during drain is graceful: the write side is shut down (FIN), then whatever the
//!   client still sends (a request that crossed our FIN, the rest of a pipelined burst after a
//!   `Connection: close` response) is read and dropped for at most [`LINGER`], until the
//!   client's own FIN. Closing a socket with unread bytes makes the kernel send a reset; reading
//!   them first does not.
//! - The worker ends when its last client connection has closed, or [`SETTLE`] after its
//!   requests finished (clients that ignore the FIN), or at `shutdown.drain.timeout`.

use std::os::fd::RawFd;
use std::time::{Duration, Instant};

use monoio::io::{AsyncReadRent, AsyncWriteRent};

use crate::proxy::io::read_more;

/// How long parked connections stay parked after the worker sees the drain.
pub const GRACE: Duration = Duration::from_millis(250);
/// How long a closing connection reads and drops what the client still sends.
pub const LINGER: Duration = Duration::from_secs(2);
/// Bytes a lingering close reads at most.
const LINGER_BYTES: usize = 16 << 20;
/// How long a worker waits, once no request is in flight, for its connections to close:
/// the grace, a kept-alive read's quiet period, the linger, and a margin.
pub const SETTLE: Duration = Duration::from_millis(250 + 1000 + 2000 + 500);

/// Bytes received on `fd` and not yet read (0 when unknown: the caller then closes, which is
/// still graceful thanks to the linger).
pub fn pending_bytes(fd: RawFd) -> usize {
    crate::sys::pending_bytes(fd)
}

/// Sends our FIN, then reads and drops until the client's FIN, an error, [`LINGER`] or
/// [`LINGER_BYTES`]; the caller then closes a socket with nothing unread.
pub async fn close_gracefully<S: AsyncReadRent + AsyncWriteRent>(io: &mut S, mut buf: Vec<u8>) {
    let _ = Box::pin(monoio::time::timeout(Duration::from_secs(1), io.shutdown())).await;
    let deadline = Instant::now() + LINGER;
    let mut dropped = 0;
    while dropped < LINGER_BYTES {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        buf.clear();
        match read_more(io, &mut buf, 16 * 1024, left).await {
            Ok(n) => dropped += n,
            Err(_) => break,
        }
    }
}
