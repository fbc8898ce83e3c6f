//! The request types every proxy phase shares: where routing sent the call and what the rest of
//! the path needs of the request once its head bytes have moved on. The lowest module of
//! `proxy`: it imports nothing from its siblings, so no two proxy files import each other.

use std::time::{Duration, Instant};

use crate::http::request::RequestHead;
use crate::http::Framing;

/// Where a subscription key was found, so the forwarded request can leave it out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeySource {
    None,
    Header,
    Query,
}

/// What routing and admission found for a request.
#[derive(Clone, Copy, Debug)]
pub struct Route {
    pub api: u32,
    /// `None` for APIs without operations (pass-through).
    pub operation: Option<u32>,
    /// Offset in the request path where the backend-relative part starts.
    pub rest_start: usize,
    pub key: KeySource,
    pub subscription: Option<u32>,
    pub product: Option<u32>,
}

/// What the rest of the code needs of the request once its head bytes are gone from the buffer.
#[derive(Clone, Copy, Debug)]
pub struct Req {
    pub is_head: bool,
    pub idempotent: bool,
    pub minor: u8,
    pub close: bool,
    pub framing: Framing,
    pub expect_continue: bool,
    /// When the whole body must have arrived (`net.server.timeouts.body` after the head).
    pub body_deadline: Instant,
}

impl Req {
    pub fn of(head: &RequestHead, buf: &[u8], body_timeout: Duration) -> Req {
        Req {
            is_head: head.is_head(buf),
            idempotent: head.is_idempotent(buf),
            minor: head.minor_version,
            close: head.close,
            framing: head.framing,
            expect_continue: head.expect_continue,
            body_deadline: Instant::now() + body_timeout,
        }
    }

    /// How long a read of the body may wait: the idle timeout, cut at the body deadline.
    /// `None` once the deadline has passed.
    pub fn body_wait(&self, idle: Duration) -> Option<Duration> {
        let left = self.body_deadline.saturating_duration_since(Instant::now());
        (!left.is_zero()).then_some(left.min(idle))
    }

    /// Whether the request carries a body at all.
    pub fn has_body(&self) -> bool {
        matches!(self.framing, Framing::Length(n) if n > 0) || self.framing == Framing::Chunked
    }
}
