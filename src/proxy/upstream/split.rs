//! The two halves of one stream, for the full-duplex exchange and the WebSocket tunnel. The only
//! `unsafe` of the proxy, kept to this file: both halves reach the one stream through an
//! `UnsafeCell`.
#![allow(unsafe_code)]

use monoio::buf::{IoBuf, IoBufMut, IoVecBuf, IoVecBufMut};
use monoio::io::{AsyncReadRent, AsyncWriteRent, Split};
use monoio::BufResult;

/// The two directions of one stream, used at once: the request body is still being written
/// while the response head is read (a backend may answer before the upload ends), or both
/// directions of a tunnel. Reads and writes of a TCP or rustls stream are independent (monoio's
/// `Split` contract, which both stream types declare); one thread polls both, never at the
/// same instant.
pub fn split<I: Split>(io: &mut I) -> (ReadHalf<'_, I>, WriteHalf<'_, I>) {
    let cell = std::cell::UnsafeCell::from_mut(io);
    (ReadHalf(cell), WriteHalf(cell))
}

pub struct ReadHalf<'a, I>(&'a std::cell::UnsafeCell<I>);
pub struct WriteHalf<'a, I>(&'a std::cell::UnsafeCell<I>);

impl<I: crate::proxy::io::Duplex> ReadHalf<'_, I> {
    /// The plain TCP stream, for reads (splice out of it) only.
    pub fn tcp(&mut self) -> Option<&mut monoio::net::TcpStream> {
        // SAFETY: only the read half reads; see `split`.
        unsafe { &mut *self.0.get() }.as_tcp()
    }
}

impl<I: crate::proxy::io::Duplex> WriteHalf<'_, I> {
    /// The plain TCP stream, for writes (splice into it) only.
    pub fn tcp(&mut self) -> Option<&mut monoio::net::TcpStream> {
        // SAFETY: only the write half writes; see `split`.
        unsafe { &mut *self.0.get() }.as_tcp()
    }
}

impl<I: AsyncReadRent> AsyncReadRent for ReadHalf<'_, I> {
    async fn read<T: IoBufMut>(&mut self, buf: T) -> BufResult<usize, T> {
        // SAFETY: only the read half reads; see `split`.
        unsafe { &mut *self.0.get() }.read(buf).await
    }

    async fn readv<T: IoVecBufMut>(&mut self, buf: T) -> BufResult<usize, T> {
        // SAFETY: only the read half reads; see `split`.
        unsafe { &mut *self.0.get() }.readv(buf).await
    }
}

impl<I: AsyncWriteRent> AsyncWriteRent for WriteHalf<'_, I> {
    async fn write<T: IoBuf>(&mut self, buf: T) -> BufResult<usize, T> {
        // SAFETY: only the write half writes; see `split`.
        unsafe { &mut *self.0.get() }.write(buf).await
    }

    async fn writev<T: IoVecBuf>(&mut self, buf: T) -> BufResult<usize, T> {
        // SAFETY: only the write half writes; see `split`.
        unsafe { &mut *self.0.get() }.writev(buf).await
    }

    async fn flush(&mut self) -> std::io::Result<()> {
        // SAFETY: only the write half writes; see `split`.
        unsafe { &mut *self.0.get() }.flush().await
    }

    async fn shutdown(&mut self) -> std::io::Result<()> {
        // SAFETY: only the write half writes; see `split`.
        unsafe { &mut *self.0.get() }.shutdown().await
    }
}
