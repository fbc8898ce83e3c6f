//! Waiting for a kept-alive client's next request without holding memory for it.
//!
//! An io_uring read must be posted with its buffer, so a connection waiting in a read holds that
//! buffer (and the request task's timers) for as long as the client is quiet. A connection quiet
//! for [`PARK_AFTER`] cancels its read and *parks*: it gives back its buffers and waits on the
//! worker's [`super::parked::IdleConnections`] (an epoll set polled by one task, and the
//! idle deadlines). Busy connections never park, so the request path pays nothing extra.

use std::future::Future;
use std::os::fd::{AsRawFd, RawFd};
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use monoio::io::{AsyncReadRent, AsyncWriteRent, CancelableAsyncReadRent, Canceller};
use monoio::net::TcpStream;

use crate::proxy::io::{read_more, read_window, IoFailure};

/// How long a kept-alive connection waits with a posted read before it parks.
pub const PARK_AFTER: Duration = Duration::from_secs(1);

/// What came of waiting for the next request on a kept-alive connection.
pub enum KeptAlive {
    /// Bytes arrived (appended to the buffer).
    Data,
    /// Nothing arrived within [`PARK_AFTER`]; the connection may park for the rest of its idle time.
    Quiet,
}

/// A client transport: plain TCP can park; TLS cannot (rustls may hold decrypted bytes that a
/// socket poll would not see), so TLS connections keep waiting in a read.
pub trait ClientStream: crate::proxy::io::Duplex {
    /// Waits for the next request's first bytes, for at most `idle` in all. Returns `Quiet`
    /// only when the connection can park (`may_park`, and see [`ClientStream::park_fd`]) and
    /// `idle` is longer than [`PARK_AFTER`].
    fn read_kept_alive(
        &mut self,
        buf: &mut Vec<u8>,
        max: usize,
        idle: Duration,
        may_park: bool,
    ) -> impl Future<Output = Result<KeptAlive, IoFailure>>;

    /// The socket to poll while parked (`None`: this transport never parks).
    fn park_fd(&self) -> Option<RawFd>;
}

impl ClientStream for TcpStream {
    async fn read_kept_alive(
        &mut self,
        buf: &mut Vec<u8>,
        max: usize,
        idle: Duration,
        may_park: bool,
    ) -> Result<KeptAlive, IoFailure> {
        if idle <= PARK_AFTER || !may_park {
            return read_more(self, buf, max, idle).await.map(|_| KeptAlive::Data);
        }
        let slice = read_window(buf, max);
        // A cancelled read may still complete with data (the cancel raced the bytes), so the
        // read is cancelled and then awaited: nothing the kernel delivered is dropped.
        let canceller = Canceller::new();
        let mut read = pin!(self.cancelable_read(slice, canceller.handle()));
        let mut quiet = pin!(monoio::time::sleep(PARK_AFTER));
        let early = std::future::poll_fn(|cx| match read.as_mut().poll(cx) {
            Poll::Ready(done) => Poll::Ready(Some(done)),
            Poll::Pending => quiet.as_mut().poll(cx).map(|_| None),
        })
        .await;
        let (res, slice) = match early {
            Some(done) => done,
            None => {
                canceller.cancel();
                read.await
            }
        };
        *buf = slice.into_inner();
        match res {
            Ok(0) => Err(IoFailure::Closed),
            Ok(_) => Ok(KeptAlive::Data),
            Err(e) if e.raw_os_error() == Some(libc::ECANCELED) => Ok(KeptAlive::Quiet),
            Err(e) => Err(IoFailure::Io(e)),
        }
    }

    fn park_fd(&self) -> Option<RawFd> {
        Some(self.as_raw_fd())
    }
}

impl<S: AsyncReadRent + AsyncWriteRent + monoio::io::Split> ClientStream for monoio_rustls::ServerTlsStream<S> {
    async fn read_kept_alive(
        &mut self,
        buf: &mut Vec<u8>,
        max: usize,
        idle: Duration,
        _may_park: bool,
    ) -> Result<KeptAlive, IoFailure> {
        read_more(self, buf, max, idle).await.map(|_| KeptAlive::Data)
    }

    fn park_fd(&self) -> Option<RawFd> {
        None
    }
}
