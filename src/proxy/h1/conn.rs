//! One client connection: read a head (with size and time limits), decide, forward or answer,
//! and loop for keep-alive. A malformed head is answered (400/408/413/431) and the connection
//! closed, so nothing ambiguous is ever forwarded.

use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use tracing::Instrument;

pub use super::client::{Client, Peer, TlsInfo};
use super::idle::{ClientStream, KeptAlive, PARK_AFTER};
use crate::config::Scheme;
use crate::http::request::RequestHead;
use crate::proxy::context::Core;
use crate::proxy::io::{read_more, IoFailure};
use crate::proxy::respond::{self, Shape};
use crate::telemetry::Record;

enum HeadRead {
    /// A complete head; when its first byte arrived and how long reading it took.
    Ready(Instant, Duration),
    /// Nothing (or nothing more) to do: the client went away or idled out between requests.
    Closed,
    /// Kept alive, nothing arrived for a while; this much idle time is left.
    Quiet(Duration),
    Refuse(u16, &'static str, Instant),
}

/// How a connection's active phase ended.
enum Phase {
    Closed,
    /// Kept alive and quiet: park for the rest of the idle time (this long).
    Quiet(Duration),
}

pub fn serve<S: ClientStream>(
    worker: Rc<Core>,
    io: S,
    peer: SocketAddr,
    scheme: Scheme,
    tls: Option<TlsInfo>,
) -> impl std::future::Future<Output = ()> {
    let mut client = Client {
        io,
        buf: Vec::with_capacity(1024),
        peer: Peer { ip: peer.ip(), port: peer.port() },
        scheme,
        tls: tls.map(Box::new),
    };
    // An `async move` block rather than an `async fn`: the client is captured once and used in
    // place (an async fn would keep its arguments and the moved-in copy side by side).
    async move {
        // Counted at accept and given back when this task ends (by the worker that spawned it).
        let mut first = true;
        loop {
            // Boxed: buffers, timers and the request's state (backend exchange, relay) exist only
            // while the connection is active, so a parked connection's task stays small.
            // A span per active phase (debug level: nothing is recorded, or formatted, when off).
            let span = tracing::debug_span!("connection", worker = worker.id, peer = %client.peer.addr());
            match Box::pin(active(&worker, &mut client, &mut first).instrument(span)).await {
                Phase::Closed => break,
                Phase::Quiet(left) => {
                    // Parked: no buffer, timer or io_uring op; a slot in the worker's epoll set.
                    client.buf = Vec::new();
                    let Some(fd) = client.io.park_fd() else { continue };
                    if worker.draining.get() {
                        break;
                    }
                    let Some(mut parked) = worker.idle.park(fd, Instant::now() + left) else { break };
                    (&mut parked).await;
                    drop(parked);
                    // Woken by the drain: serve a request already in the socket, else close.
                    if worker.draining.get() && super::drain::pending_bytes(fd) == 0 {
                        break;
                    }
                }
            }
        }
        if worker.draining.get() {
            // FIN, then read and drop what crossed it: never a reset (see `drain`).
            // Boxed: its timers and buffer must not live in the parked connection's future.
            Box::pin(super::drain::close_gracefully(&mut client.io, std::mem::take(&mut client.buf))).await;
        } else {
            // A TLS client learns the end was deliberate (close_notify): OpenSSL clients otherwise
            // drop the session as unresumable. Plain TCP gets its FIN. Bounded: a stalled peer
            // cannot hold us.
            let _ = Box::pin(monoio::time::timeout(Duration::from_secs(1), client.io.shutdown())).await;
        }
    }
}

/// Serves requests until the connection closes or goes quiet.
async fn active<S: ClientStream>(worker: &Core, client: &mut Client<S>, first: &mut bool) -> Phase {
    let mut head = RequestHead::default();
    // The access log's request-line text, rebuilt in place for each request.
    let mut log_line = Vec::new();
    loop {
        let (start, head_time) = match read_head(worker, client, &mut head, *first).await {
            HeadRead::Ready(start, took) => (start, took),
            HeadRead::Closed => return Phase::Closed,
            HeadRead::Quiet(left) => return Phase::Quiet(left),
            HeadRead::Refuse(status, message, start) => {
                let mut rec = Record::new(start, start.elapsed());
                rec.status = status;
                rec.error("client", "ClientConnectionFailure");
                let mut out = Vec::with_capacity(256);
                let shape = Shape { close: true, minor: 1, head_only: false };
                respond::simple(
                    &mut out,
                    status,
                    b"application/json",
                    &respond::error_body(status, message),
                    shape,
                    &rec.id,
                );
                let (_, _) = respond::send(&mut client.io, out, worker.settings.idle_timeout, &mut rec).await;
                let peer =
                    crate::telemetry::recorder::Peer { ip: client.peer.ip(), http_minor: 1, tls: client.tls_version() };
                worker.recorder.finish(&rec, None, &peer, None);
                return Phase::Closed;
            }
        };
        *first = false;
        worker.in_flight.set(worker.in_flight.get() + 1);
        let mut rec = Record::new(start, head_time);
        rec.request_bytes = head.len as u64;
        let keep_alive = crate::proxy::lifecycle::handle(worker, client, &head, &mut rec, &mut log_line).await;
        worker.in_flight.set(worker.in_flight.get() - 1);
        if !keep_alive {
            return Phase::Closed;
        }
    }
}

async fn read_head<S: ClientStream>(
    worker: &Core,
    client: &mut Client<S>,
    head: &mut RequestHead,
    first: bool,
) -> HeadRead {
    let settings = &worker.settings;
    let limit = settings.header_bytes;
    // A new connection gets the head timeout from accept; a kept-alive one may idle first.
    let mut deadline = if first { Some(Instant::now() + settings.header_timeout) } else { None };
    let mut started: Option<Instant> = None;
    loop {
        // A timed-out read takes the buffer with it, so remember whether a head had begun.
        let partial = !client.buf.is_empty();
        if !client.buf.is_empty() {
            let start = *started.get_or_insert_with(Instant::now);
            match head.parse(&client.buf).and_then(|r| r.map(|()| head.normalise_path(&mut client.buf)).transpose()) {
                // Routing, admission and the backend all see the normalised path.
                Ok(Some(())) => return HeadRead::Ready(start, start.elapsed()),
                Ok(None) if client.buf.len() >= limit => {
                    return HeadRead::Refuse(431, "Request header fields too large", start)
                }
                Ok(None) => {}
                Err(e) => {
                    let message = match e {
                        crate::http::request::HeadError::Malformed(m) => m,
                        other if other.status() == 431 => "Request header fields too large",
                        other if other.status() == 501 => "Transfer coding not implemented",
                        _ => "Expectation not supported",
                    };
                    return HeadRead::Refuse(e.status(), message, start);
                }
            }
            deadline.get_or_insert_with(|| Instant::now() + settings.header_timeout);
        }
        let room = limit.saturating_sub(client.buf.len()).max(1);
        let read = match deadline {
            Some(d) => read_more(&mut client.io, &mut client.buf, room, d.saturating_duration_since(Instant::now()))
                .await
                .map(|_| ()),
            // Between requests: the client may take its time (and the connection may park).
            None => match client
                .io
                .read_kept_alive(&mut client.buf, room, settings.idle_timeout, worker.idle.available())
                .await
            {
                Ok(KeptAlive::Data) => Ok(()),
                Ok(KeptAlive::Quiet) => return HeadRead::Quiet(settings.idle_timeout.saturating_sub(PARK_AFTER)),
                Err(e) => Err(e),
            },
        };
        match read {
            Ok(()) => {}
            Err(IoFailure::Timeout) if deadline.is_some() && partial => {
                return HeadRead::Refuse(408, "Request header timeout", started.unwrap_or_else(Instant::now))
            }
            Err(_) => return HeadRead::Closed,
        }
    }
}

#[cfg(test)]
mod tests {
    /// A parked connection costs its task, so the task's future must stay small: everything
    /// big (buffers, timers, the request's state) lives in the boxed active phase.
    #[test]
    fn a_connection_task_is_small() {
        fn size<A, B, C, D, E, F: std::future::Future>(_: fn(A, B, C, D, E) -> F) -> usize {
            std::mem::size_of::<F>()
        }
        let plain = size(super::serve::<monoio::net::TcpStream> as fn(_, _, _, _, _) -> _);
        eprintln!("connection task future: {plain} bytes");

        assert!(plain <= 192, "the connection future grew to {plain} bytes");
    }
}
