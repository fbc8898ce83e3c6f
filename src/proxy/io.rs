//! Small helpers over monoio's rent-based I/O: reads that append, with deadlines.

use std::time::Duration;

use monoio::buf::SliceMut;
use monoio::io::{AsyncReadRent, AsyncWriteRent, AsyncWriteRentExt, Split};
use monoio::net::TcpStream;

/// A client or backend stream the proxy reads and writes, possibly both at once (a full-duplex
/// exchange, a tunnel): TCP or TLS over it.
pub trait Duplex: AsyncReadRent + AsyncWriteRent + Split {
    /// The TCP stream itself when nothing (TLS) sits on it: a tunnel may then move bytes
    /// kernel to kernel (splice) instead of through a buffer.
    fn as_tcp(&mut self) -> Option<&mut TcpStream> {
        None
    }
}

impl Duplex for TcpStream {
    fn as_tcp(&mut self) -> Option<&mut TcpStream> {
        Some(self)
    }
}

impl<S: AsyncReadRent + AsyncWriteRent + Split> Duplex for monoio_rustls::ServerTlsStream<S> {}

#[derive(Debug, thiserror::Error)]
pub enum IoFailure {
    #[error("timed out")]
    Timeout,
    #[error("connection closed")]
    Closed,
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Reads more bytes after the ones already in `buf` (at most `max` more; growing it if full).
/// Returns the number of bytes read; 0 is reported as `Closed`.
pub async fn read_more<S: AsyncReadRent>(
    io: &mut S,
    buf: &mut Vec<u8>,
    max: usize,
    timeout: Duration,
) -> Result<usize, IoFailure> {
    let (res, slice) = match monoio::time::timeout(timeout, io.read(read_window(buf, max))).await {
        Ok(r) => r,
        Err(_) => return Err(IoFailure::Timeout), // the buffer went with the cancelled read
    };
    *buf = slice.into_inner();
    match res {
        Ok(0) => Err(IoFailure::Closed),
        Ok(n) => Ok(n),
        Err(e) => Err(IoFailure::Io(e)),
    }
}

/// Takes `buf` for a read appending at most `max` bytes after its contents (growing it if it has
/// less than 1 KiB free); the read hands it back.
pub fn read_window(buf: &mut Vec<u8>, max: usize) -> SliceMut<Vec<u8>> {
    if buf.capacity() - buf.len() < 1024 {
        buf.reserve(buf.capacity().max(4096));
    }
    let len = buf.len();
    let end = (len + max.max(1)).min(buf.capacity());
    SliceMut::new(std::mem::take(buf), len, end)
}

/// Writes `buf[from..]` whole, handing the buffer back.
pub async fn write_from<S: AsyncWriteRent>(
    io: &mut S,
    buf: Vec<u8>,
    from: usize,
    timeout: Duration,
) -> (Result<(), IoFailure>, Vec<u8>) {
    if from >= buf.len() {
        return (Ok(()), buf);
    }
    let end = buf.len();
    let slice = monoio::buf::Slice::new(buf, from, end);
    match monoio::time::timeout(timeout, io.write_all(slice)).await {
        Ok((Ok(_), slice)) => (Ok(()), slice.into_inner()),
        Ok((Err(e), slice)) => (Err(IoFailure::Io(e)), slice.into_inner()),
        Err(_) => (Err(IoFailure::Timeout), Vec::new()),
    }
}
