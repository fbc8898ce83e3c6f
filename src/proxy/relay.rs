//! The backend's response to the client: the head (with outbound edits) and the body streamed
//! one relay buffer at a time; or the body read whole for a policy. The backend connection goes
//! back to the pool only when the exchange ended cleanly on both sides.

use super::backend::Answer;
use super::context::BUF_SIZE;
use super::exchange::Exchange;
use super::failure::Failure;
use super::h1::head::{client_framing, response_head_with, ClientFraming, ResponseShape};
use super::io::{read_more, IoFailure};
use super::respond;
use super::seam::{ClientSide, Made};
use super::upstream::UpstreamConn;
use crate::http::chunked::ChunkedScanner;
use crate::http::Framing;
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
    let framing = client_framing(rh, req.minor);
    let body_done = x.body_consumed();
    let keep_alive = framing != ClientFraming::Close && !req.close && !core.draining.get() && body_done;
    let mut out = core.buf();
    let shape =
        ResponseShape { framing, keep_alive, client_minor: req.minor, request_was_head: req.is_head, upgrade: false };
    if let Err(error) = response_head_with(&mut out, rh, ubuf, &shape, &x.rec.id, edits) {
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
    let mut scanner = ChunkedScanner::default();
    let body = &ubuf[rh.len..];
    let mut remaining: u64 = 0;
    let mut stray = false;
    let mut done = match framing {
        ClientFraming::None => {
            stray = !body.is_empty();
            true
        }
        ClientFraming::Length(n) => {
            let take = (body.len() as u64).min(n) as usize;
            out.extend_from_slice(&body[..take]);
            stray = body.len() > take;
            remaining = n - take as u64;
            remaining == 0
        }
        ClientFraming::Chunked => match scanner.scan(body, |_| {}) {
            Ok(used) => {
                out.extend_from_slice(&body[..used]);
                stray = used < body.len();
                scanner.is_done()
            }
            Err(_) => return false,
        },
        ClientFraming::Close if rh.framing == Framing::Chunked => {
            if scanner.scan(body, |d| out.extend_from_slice(d)).is_err() {
                return false;
            }
            scanner.is_done()
        }
        ClientFraming::Close => {
            out.extend_from_slice(body);
            false
        }
    };
    if !x.send(&mut out).await {
        return false;
    }
    let mut ubuf = core.buf();
    while !done {
        let max = match framing {
            ClientFraming::Length(_) => (remaining as usize).min(BUF_SIZE),
            _ => BUF_SIZE,
        };
        ubuf.clear();
        let watch = Stopwatch::start();
        let read = read_more(&mut conn.io, &mut ubuf, max, idle).await;
        watch.add_to(&mut x.rec.backend);
        match read {
            Ok(_) => {}
            Err(IoFailure::Closed) if framing == ClientFraming::Close && rh.framing == Framing::UntilClose => {
                done = true;
                break;
            }
            Err(_) => return false, // truncated: the client must see the connection end, not a short body
        }
        out.clear();
        match framing {
            ClientFraming::Length(_) => {
                remaining -= ubuf.len() as u64;
                done = remaining == 0;
                std::mem::swap(&mut *out, &mut *ubuf);
            }
            ClientFraming::Chunked => match scanner.scan(&ubuf, |_| {}) {
                Ok(used) => {
                    stray |= used < ubuf.len();
                    ubuf.truncate(used);
                    done = scanner.is_done();
                    std::mem::swap(&mut *out, &mut *ubuf);
                }
                Err(_) => return false,
            },
            ClientFraming::Close if rh.framing == Framing::Chunked => {
                if scanner.scan(&ubuf, |d| out.extend_from_slice(d)).is_err() {
                    return false;
                }
                done = scanner.is_done();
            }
            _ => std::mem::swap(&mut *out, &mut *ubuf),
        }
        if !x.send(&mut out).await {
            return false;
        }
    }
    if done && !rh.close && !stray && *reusable {
        core.pool.put(&a.peer(), conn);
    }
    keep_alive
}
