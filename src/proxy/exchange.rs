//! One request's state while the lifecycle runs, and the answers the gateway gives from it:
//! the failure table's row, a policy's response, `100 Continue`. Every phase takes the
//! [`Exchange`] rather than a list of arguments.

use std::sync::Arc;

use super::body::Body;
use super::context::Core;
use super::failure::{After, Failure};
use super::request::{Req, Route};
use super::respond::{self, Shape};
use super::seam::{ClientSide, Made};
use crate::config::Api;
use crate::http::request::RequestHead;
use crate::http::Framing;
use crate::snapshot::Snapshot;
use crate::telemetry::Record;

/// Where the request body is.
pub enum ReqBody {
    /// No body.
    None,
    /// Still with the client side (its first bytes may already be in hand).
    Pending(Body),
    /// Streamed to a backend: cannot be sent again. `ended`: it was read to its end (a
    /// backend that answered early leaves the rest unread).
    Sent { ended: bool },
    /// Read whole (a policy needs it, or a retry may re-send it).
    Buffered(Arc<[u8]>),
}

pub struct Exchange<'c, C> {
    pub core: &'c Core,
    pub client: &'c mut C,
    pub head: &'c RequestHead,
    /// The request head's bytes: the connection buffer moves on while the body streams.
    pub head_bytes: &'c [u8],
    pub snap: &'c Snapshot,
    /// Where routing sent the call (`None` for the health endpoint and refusals before an API
    /// matched).
    pub route: Option<Route>,
    pub req: Req,
    pub rec: &'c mut Record,
    pub body: ReqBody,
}

/// Most of an unread body skipped so a kept-alive connection can carry on after an answer.
const SKIP_BOUND: u64 = 64 * 1024;

impl<'c, C: ClientSide> Exchange<'c, C> {
    pub fn api(&self) -> Option<&'c Api> {
        self.snap.doc.apis.get(self.route?.api as usize)
    }

    /// Whether the request body is consumed, so the connection can carry on: an unread body
    /// already wholly in the buffer is skipped; one still in flight means closing.
    pub fn body_consumed(&mut self) -> bool {
        match &mut self.body {
            ReqBody::None | ReqBody::Buffered(_) => true,
            ReqBody::Sent { ended } => *ended,
            ReqBody::Pending(b) => {
                if !self.client.skip_body_in_hand(b) {
                    // Not wholly here: the connection must close.
                    return false;
                }
                self.body = ReqBody::Sent { ended: true };
                true
            }
        }
    }

    /// Reads and drops a small unread body (up to [`SKIP_BOUND`]) so the connection can stay.
    pub async fn skip_small_body(&mut self) {
        if let ReqBody::Pending(b) = &mut self.body {
            let idle = self.core.settings.idle_timeout;
            if self.client.discard_body(b, &self.req, SKIP_BOUND, idle).await {
                self.body = ReqBody::Sent { ended: true };
            }
        }
    }

    fn shape(&mut self, after: After) -> (Shape, bool) {
        let consumed = self.body_consumed();
        let keep = respond::keeps(after, consumed, !self.client.keeps_alive(&self.req), self.core.draining.get());
        (Shape { close: !keep, minor: self.req.minor, head_only: self.req.is_head }, keep)
    }

    /// Answers with the failure table's row; whether the connection carries on.
    pub async fn fail(&mut self, f: &Failure) -> bool {
        let v = f.verdict();
        self.rec.status = v.status;
        self.rec.error(v.source, v.reason);
        if v.after == After::Gone {
            return false;
        }
        tracing::debug!(worker = self.core.id, status = v.status, error = %f, "request failed");
        let (shape, keep) = self.shape(v.after);
        let mut out = self.core.buf();
        let sent = self.answer(&mut out, Made::Failure(&v), shape).await;
        if sent && !keep && self.unread_body() {
            self.client.linger().await;
        }
        keep && sent
    }

    /// Answers with a response a policy made; whether the connection carries on.
    pub async fn respond(&mut self, r: &crate::policy::Response) -> bool {
        self.rec.status = r.status;
        let (shape, keep) = self.shape(After::KeepIfBodyRead);
        let mut out = self.core.buf();
        let sent = self.answer(&mut out, Made::Policy(r), shape).await;
        if sent && !keep && self.unread_body() {
            self.client.linger().await;
        }
        keep && sent && !shape.close
    }

    /// A body is still coming that nobody read: the client may be writing it while we close.
    fn unread_body(&self) -> bool {
        match &self.body {
            ReqBody::Pending(b) => !b.is_done(),
            ReqBody::Sent { ended } => !ended,
            _ => false,
        }
    }

    /// Answers with a response the gateway made (in `out`, a pooled buffer).
    pub async fn answer(&mut self, out: &mut super::context::Buf<'_>, made: Made<'_>, shape: Shape) -> bool {
        self.client.respond(out, made, shape, self.core.settings.idle_timeout, self.rec).await
    }

    /// Writes `out` to the client (counted in the record); the buffer stays with its guard.
    pub async fn send(&mut self, out: &mut super::context::Buf<'_>) -> bool {
        let (sent, back) = self.client.write(out.lend(), self.core.settings.idle_timeout, self.rec).await;
        out.restore(back);
        sent
    }

    /// `100 Continue`, when the client asked for it and its body is about to be read.
    pub async fn continue_if_expected(&mut self) -> Result<(), Failure> {
        if !self.req.expect_continue || !matches!(&self.body, ReqBody::Pending(b) if !b.is_done()) {
            return Ok(());
        }
        self.req.expect_continue = false; // once per request
        self.client.send_continue(self.core.settings.idle_timeout).await
    }

    /// Reads the whole pending body (decoded), within the buffering cap.
    pub async fn buffer_body(&mut self, cap: u64) -> Result<(), Failure> {
        let ReqBody::Pending(b) = &mut self.body else { return Ok(()) };
        let mut b = b.clone();
        self.continue_if_expected().await?;
        let idle = self.core.settings.idle_timeout;
        let started = std::time::Instant::now();
        let r = self.client.read_body_whole(&mut b, &self.req, cap, idle).await;
        self.rec.client += started.elapsed();
        self.rec.request_bytes += b.received();
        let whole = r.inspect_err(|_| self.body = ReqBody::Pending(b))?;
        self.body = ReqBody::Buffered(whole.into());
        Ok(())
    }
}

/// The body state a request starts with.
pub fn body_of(req: &Req, limit: Option<u64>) -> ReqBody {
    match req.framing {
        Framing::Length(0) | Framing::None | Framing::UntilClose => ReqBody::None,
        f => ReqBody::Pending(Body::new(f, limit)),
    }
}
