//! What one request did, filled in as it goes and consumed by metrics and the access log.

use std::borrow::Cow;
use std::time::{Duration, Instant};

use super::trace::{RequestId, TraceParent};

#[derive(Debug)]
pub struct Record {
    /// When the first byte of the request head arrived.
    pub start: Instant,
    pub id: RequestId,
    pub trace: TraceParent,
    pub api: Option<u32>,
    pub operation: Option<u32>,
    pub product: Option<u32>,
    pub subscription: Option<u32>,
    pub status: u16,
    pub backend_status: Option<u16>,
    /// Time in backend I/O: connect, send, receive (never more than the total).
    pub backend: Duration,
    /// Time in client I/O: reading the request and writing the response.
    pub client: Duration,
    pub request_bytes: u64,
    pub response_bytes: u64,
    /// APIM's reason and source: static for the proxy's own errors, owned for policy errors.
    pub last_error_reason: Option<Cow<'static, str>>,
    pub last_error_source: Option<Cow<'static, str>>,
    /// Only filled when the access log is on (bytes of the request line, not yet escaped).
    pub backend_url: Option<LogText>,
}

impl Record {
    pub fn new(start: Instant, head_read: Duration) -> Record {
        Record {
            start,
            id: RequestId::new(),
            trace: TraceParent::default(),
            api: None,
            operation: None,
            product: None,
            subscription: None,
            status: 0,
            backend_status: None,
            backend: Duration::ZERO,
            client: head_read,
            request_bytes: 0,
            response_bytes: 0,
            last_error_reason: None,
            last_error_source: None,
            backend_url: None,
        }
    }

    pub fn error(&mut self, source: impl Into<Cow<'static, str>>, reason: impl Into<Cow<'static, str>>) {
        self.last_error_source = Some(source.into());
        self.last_error_reason = Some(reason.into());
    }

    /// Total, backend, client and gateway durations, consistent with each other: the parts never
    /// add up to more than the total (APIM's gateway is known to report backend > total).
    /// `end` is when the request ended (read once by the caller, also the log line's time).
    pub fn durations(&self, end: Instant) -> [Duration; 4] {
        let total = end.saturating_duration_since(self.start);
        let backend = self.backend.min(total);
        let client = self.client.min(total - backend);
        [total, backend, client, total - backend - client]
    }
}

/// Measures one I/O wait and adds it to a duration.
#[derive(Clone, Copy)]
pub struct Stopwatch(Instant);

impl Stopwatch {
    pub fn start() -> Stopwatch {
        Stopwatch(Instant::now())
    }

    pub fn add_to(&self, d: &mut Duration) {
        *d += self.0.elapsed();
    }
}

/// A piece of access-log text a request carries until its line is written (the backend URL).
/// Its buffer comes from, and goes back to, a small per-thread free list, so filling it on every
/// request allocates nothing once the worker is warm.
#[derive(Debug, Default)]
pub struct LogText(Vec<u8>);

thread_local! {
    static FREE_TEXT: std::cell::RefCell<Vec<Vec<u8>>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Buffers kept per thread (one per request in flight is enough) and the largest kept.
const FREE_TEXT_MAX: usize = 1024;
const FREE_TEXT_BYTES: usize = 4096;

impl LogText {
    pub fn new() -> LogText {
        let buf = FREE_TEXT.with(|f| f.borrow_mut().pop());
        LogText(buf.unwrap_or_else(|| Vec::with_capacity(256)))
    }

    pub fn extend_from_slice(&mut self, b: &[u8]) {
        self.0.extend_from_slice(b);
    }
}

impl std::ops::Deref for LogText {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for LogText {
    fn drop(&mut self) {
        let mut buf = std::mem::take(&mut self.0);
        if buf.capacity() == 0 || buf.capacity() > FREE_TEXT_BYTES {
            return;
        }
        buf.clear();
        // `try_with`: a thread that is exiting just frees the buffer.
        let _ = FREE_TEXT.try_with(|f| {
            let mut free = f.borrow_mut();
            if free.len() < FREE_TEXT_MAX {
                free.push(buf);
            }
        });
    }
}
