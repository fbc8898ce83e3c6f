//! What one request did, filled in as it goes and consumed by metrics and the access log.

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
    pub last_error_reason: Option<&'static str>,
    pub last_error_source: Option<&'static str>,
    /// Only filled when the access log is on (it costs an allocation).
    pub backend_url: Option<String>,
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

    pub fn error(&mut self, source: &'static str, reason: &'static str) {
        self.last_error_source = Some(source);
        self.last_error_reason = Some(reason);
    }

    /// Total, backend, client and gateway durations, consistent with each other: the parts never
    /// add up to more than the total (APIM's gateway is known to report backend > total).
    pub fn durations(&self) -> [Duration; 4] {
        let total = self.start.elapsed();
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
