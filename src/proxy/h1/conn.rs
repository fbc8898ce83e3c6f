//! One client connection: read a head (with size and time limits), decide, forward or answer,
//! and loop for keep-alive. A malformed head is answered (400/408/413/431) and the connection
//! closed, so nothing ambiguous is ever forwarded.

use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use monoio::io::{AsyncReadRent, AsyncWriteRent};

use super::idle::{ClientStream, KeptAlive, PARK_AFTER};
use crate::config::Scheme;
use crate::http::request::RequestHead;
use crate::http::write::{error_response, simple_response};
use crate::http::Framing;
use crate::proxy::context::Core;
use crate::proxy::gate::{decide, Decision};
use crate::proxy::io::{read_more, write_from, IoFailure};
use crate::telemetry::access_log;
use crate::telemetry::Record;

pub struct Client<S> {
    pub io: S,
    /// Bytes received and not yet consumed: the current head, then body bytes or a pipelined request.
    pub buf: Vec<u8>,
    pub peer: Peer,
    pub scheme: Scheme,
    /// What the TLS handshake established (`None` on plain HTTP); boxed to keep plain
    /// connections small.
    pub tls: Option<Box<TlsInfo>>,
}

/// The client's address, packed (a `SocketAddr` keeps IPv6 flow and scope fields we never use):
/// every byte of a parked connection counts.
#[derive(Clone, Copy)]
pub struct Peer {
    ip: std::net::IpAddr,
    port: u16,
}

impl Peer {
    pub fn ip(&self) -> std::net::IpAddr {
        self.ip
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::new(self.ip, self.port)
    }
}

/// What a TLS handshake established, handed to the connection loop.
pub struct TlsInfo {
    pub version: &'static str,
    pub client_chain: Option<std::sync::Arc<[rustls::pki_types::CertificateDer<'static>]>>,
}

impl<S> Client<S> {
    /// The negotiated TLS version, for the access log.
    pub fn tls_version(&self) -> Option<&'static str> {
        self.tls.as_ref().map(|t| t.version)
    }
}

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
            match Box::pin(active(&worker, &mut client, &mut first)).await {
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
                error_response(&mut out, status, message, true, false);
                rec.response_bytes = out.len() as u64;
                let _ = write_from(&mut client.io, out, 0, worker.settings.idle_timeout).await;
                finish(worker, &rec, None, client, 1, None);
                return Phase::Closed;
            }
        };
        *first = false;
        worker.in_flight.set(worker.in_flight.get() + 1);
        let mut rec = Record::new(start, head_time);
        rec.request_bytes = head.len as u64;
        let keep_alive = handle(worker, client, &head, &mut rec, &mut log_line).await;
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

/// Handles one request whose head is in `client.buf`; returns whether to keep the connection.
async fn handle<S: AsyncReadRent + AsyncWriteRent>(
    worker: &Core,
    client: &mut Client<S>,
    head: &RequestHead,
    rec: &mut Record,
    log_line: &mut Vec<u8>,
) -> bool {
    let trace = head.header(&client.buf, "traceparent").and_then(crate::telemetry::trace::TraceParent::parse);
    rec.trace = trace.unwrap_or_else(crate::telemetry::trace::TraceParent::fresh);
    let minor = head.minor_version;
    let Some(snap) = worker.slot.current() else {
        // Managed mode before the first document: nothing is served, probes see 503.
        let prefix = log_prefix(worker, log_line, client, head, None);
        let is_head = head.is_head(&client.buf);
        let message = "The gateway has no configuration yet";
        rec.status = 503;
        let keep =
            respond(worker, client, head, rec, |out, close| error_response(out, 503, message, close, is_head)).await;
        finish(worker, rec, prefix.as_deref(), client, minor, None);
        *log_line = prefix.unwrap_or_default();
        return keep;
    };
    let decision = decide(&snap, head, &client.buf, client.scheme);
    let key_query = match &decision {
        Decision::Forward(r) => Some(snap.doc.apis[r.api as usize].key_query.as_str()),
        Decision::Refuse { api: Some(a), .. } => Some(snap.doc.apis[*a as usize].key_query.as_str()),
        _ => None,
    };
    let prefix = log_prefix(worker, log_line, client, head, key_query);
    let keep = match decision {
        Decision::Forward(route) => {
            let plan = snap.doc.policy_plans.get(route.api, route.operation, route.product);
            let simple = plan.forward().is_none_or(|f| !f.follow_redirects && !f.fail_on_error_status_code);
            if plan.is_passthrough() && simple {
                let timeout = plan.forward().filter(|f| f.timeout_set).map_or(snap.forward_timeout, |f| f.timeout);
                crate::proxy::exchange::forward(worker, client, head, &snap, route, timeout, rec).await
            } else {
                crate::proxy::pipeline::run(worker, client, head, &snap, route, plan, rec).await
            }
        }
        Decision::Status => {
            let draining = worker.draining.get();
            let (status, body): (u16, &[u8]) = if draining { (503, b"draining") } else { (200, b"") };
            rec.status = status;
            let is_head = head.is_head(&client.buf);
            respond(worker, client, head, rec, |out, close| {
                simple_response(out, status, b"text/plain", body, close, is_head)
            })
            .await
        }
        Decision::Refuse { status, message, api, reason } => {
            rec.api = api;
            rec.status = status;
            rec.error(if status == 401 { "authorization" } else { "configuration" }, reason);
            let is_head = head.is_head(&client.buf);
            respond(worker, client, head, rec, |out, close| error_response(out, status, message, close, is_head)).await
        }
    };
    finish(worker, rec, prefix.as_deref(), client, minor, Some(&*snap));
    *log_line = prefix.unwrap_or_default();
    keep
}

/// Hands the finished request to the core's telemetry recorder.
fn finish<S>(
    worker: &Core,
    rec: &Record,
    prefix: Option<&[u8]>,
    client: &Client<S>,
    minor: u8,
    snap: Option<&crate::snapshot::Snapshot>,
) {
    let peer = crate::telemetry::recorder::Peer { ip: client.peer.ip(), http_minor: minor, tls: client.tls_version() };
    worker.recorder.finish(rec, prefix, &peer, snap.map(|s| s as &dyn crate::telemetry::Names));
}

/// The access log's request-line text for this request, in the active phase's reused buffer
/// (taken out while the request runs; the caller puts it back).
fn log_prefix<S>(
    worker: &Core,
    log_line: &mut Vec<u8>,
    client: &mut Client<S>,
    head: &RequestHead,
    key_query: Option<&str>,
) -> Option<Vec<u8>> {
    worker.recorder.log_enabled().then(|| {
        let mut prefix = std::mem::take(log_line);
        access_log::prefix(&mut prefix, head, &client.buf, client.scheme, key_query);
        prefix
    })
}

/// Writes a gateway-made response. Keeps the connection only when the request body (if any) is
/// already fully in the buffer, so it can be skipped; an unread body means closing.
async fn respond<S: AsyncReadRent + AsyncWriteRent>(
    worker: &Core,
    client: &mut Client<S>,
    head: &RequestHead,
    rec: &mut Record,
    write: impl FnOnce(&mut Vec<u8>, bool),
) -> bool {
    let body_end = match head.framing {
        Framing::None => Some(head.len),
        Framing::Length(n) => {
            Some(head.len as u64 + n).filter(|end| *end <= client.buf.len() as u64).map(|e| e as usize)
        }
        _ => None,
    };
    let keep_alive = body_end.is_some() && !head.close && !worker.draining.get();
    let mut out = worker.buffers.take();
    write(&mut out, !keep_alive);
    rec.response_bytes = out.len() as u64;
    let watch = crate::telemetry::record::Stopwatch::start();
    let (res, out) = write_from(&mut client.io, out, 0, worker.settings.idle_timeout).await;
    watch.add_to(&mut rec.client);
    worker.buffers.put(out);
    match (res, body_end) {
        (Ok(()), Some(end)) if keep_alive => {
            rec.request_bytes = end as u64;
            client.buf.drain(..end);
            true
        }
        _ => false,
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
