//! The backend's response to the client: the head (with outbound edits) and the body streamed
//! one relay buffer at a time; or the body read whole for a policy. The backend connection goes
//! back to the pool only when the exchange ended cleanly on both sides.

use super::backend::Answer;
use super::exchange::Exchange;
use super::failure::Failure;
use super::io::{read_more, IoFailure};
use super::respond;
use super::seam::{BodyOut, Chunk, ClientSide, Made, Relayed};
use super::upstream::UpstreamConn;
use crate::policy::ResponseEdits;
use crate::telemetry::record::Stopwatch;

/// Relays a streamed answer; whether the client connection carries on.
pub async fn relay<C: ClientSide>(
    x: &mut Exchange<'_, C>,
    mut answer: Answer<'_>,
    edits: Option<&ResponseEdits>,
) -> bool {
    if answer.head.status == 101 {
        // Only a WebSocket handshake gets this far with a 101 (backend::call refuses others).
        return super::upgrade::tunnel(x, answer, edits).await;
    }
    let keep = match answer.conn.take() {
        Some(conn) => relay_body(x, &answer, conn, edits).await,
        None => false,
    };
    if !keep && !x.body_consumed() {
        // A backend answered before the upload ended: drop what the client still sends for a
        // while, so it reads the answer rather than a reset.
        x.client.linger().await;
    }
    keep
}

async fn relay_body<C: ClientSide>(
    x: &mut Exchange<'_, C>,
    a: &Answer<'_>,
    mut conn: UpstreamConn,
    edits: Option<&ResponseEdits>,
) -> bool {
    let Answer { head: rh, ubuf, reusable, .. } = a;
    let core = x.core;
    let idle = core.settings.idle_timeout;
    let req = x.req;
    let may_keep = x.body_consumed() && !core.draining.get();
    let mut out = core.buf();
    let head = Relayed { head: rh, bytes: ubuf, edits };
    let mut body = match x.client.response_head(&mut out, &head, &req, may_keep, &x.rec.id) {
        Ok(body) => body,
        Err(error) => {
            // Nothing was sent yet: the client gets a gateway error, the backend connection (its
            // body unread) is dropped. A policy's value is the gateway's fault, else the backend's.
            let f = Failure::ResponseHead { error, by_policy: edits.is_some() };
            let v = f.verdict();
            x.rec.status = v.status;
            x.rec.error(v.source, v.reason);
            out.clear();
            let shape = respond::Shape { close: true, minor: req.minor, head_only: req.is_head };
            x.answer(&mut out, Made::Failure(&v), shape).await;
            return false;
        }
    };
    let Ok(first) = body.first(&ubuf[rh.len..], &mut out) else { return false };
    let mut done = matches!(first, Chunk::End { .. });
    if !x.send(&mut out).await {
        return false;
    }
    let mut ubuf = core.buf();
    while !done {
        ubuf.clear();
        let watch = Stopwatch::start();
        let read = read_more(&mut conn.io, &mut ubuf, body.want(), idle).await;
        watch.add_to(&mut x.rec.backend);
        match read {
            Ok(_) => {}
            Err(IoFailure::Closed) if body.closed() => {
                done = true;
                break;
            }
            Err(_) => return false, // truncated: the client must see the connection end, not a short body
        }
        out.clear();
        match body.next(&mut ubuf, &mut out) {
            Ok(chunk) => done = matches!(chunk, Chunk::End { .. }),
            Err(_) => return false,
        }
        if !x.send(&mut out).await {
            return false;
        }
    }
    if done && !rh.close && !body.stray() && *reusable {
        core.pool.put(&a.peer(), conn);
    }
    body.keep_alive()
}
