//! A worker's event loop: the accept loop and the housekeeping tick (snapshot swaps, counter
//! publishing, pool sweeping, drain).

use std::os::fd::AsRawFd;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, TryRecvError};
use monoio::io::Canceller;
use monoio::net::TcpListener;

use super::ctx::Worker;
use super::WorkerMsg;
use crate::config::Scheme;
use crate::node::{NodeState, WorkerReport};
use crate::settings::Settings;
use crate::snapshot::Snapshot;

/// How often a worker looks at its channel and publishes counters. Short enough that a new
/// snapshot or a drain is seen quickly; the tick costs microseconds.
const TICK: Duration = Duration::from_millis(50);
/// Every this many ticks (1 s) the worker hands free allocator pages back to the system:
/// mimalloc purges lazily, on later allocations, so memory freed by connections that went quiet
/// would stay resident on a quiet worker.
const COLLECT_EVERY: u32 = 20;

pub struct Run {
    pub id: usize,
    pub settings: Arc<Settings>,
    pub node: Arc<NodeState>,
    pub listeners: super::Listeners,
    pub rx: Receiver<WorkerMsg>,
    pub first: Option<Snapshot>,
    pub sinks: super::Sinks,
}

impl Run {
    pub async fn main(self) {
        let Run { id, settings, node, listeners, rx, first, sinks } = self;
        let generation = first.as_ref().map_or(0, |s| s.generation);
        let worker = Rc::new(Worker::new(id, settings, node.clone(), first, sinks));
        node.workers[id].generation.store(generation, Ordering::Release);
        let uring = node.driver == "io_uring";
        let (http, https) = match (adopt(listeners.http, uring), adopt(listeners.https, uring)) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(e), _) | (_, Err(e)) => {
                tracing::error!(worker = id, error = %e, "listener setup failed");
                return;
            }
        };
        // On the epoll driver a cancelled accept is never woken (the cancel drops its readiness
        // registration): there the drain shuts the listeners down instead, which fails the
        // pending accepts.
        let listening = [http.as_raw_fd(), https.as_raw_fd()];
        let canceller = Canceller::new();
        let accept = accept_loops(&worker, http, &canceller, false, uring);
        let accept_tls = accept_loops(&worker, https, &canceller, true, uring);
        monoio::spawn(wake_parked(worker.clone()));
        let mut drain_deadline: Option<Instant> = None;
        let mut drain_started: Option<Instant> = None;
        // When no request was in flight any more (the connections then get `drain::SETTLE`).
        let mut idle_since: Option<Instant> = None;
        let mut ticks: u32 = 0;
        let mut canceller = Some(canceller);
        loop {
            monoio::time::sleep(TICK).await;
            loop {
                match rx.try_recv() {
                    Ok(WorkerMsg::Install(snap)) => install(&worker, *snap),
                    Ok(WorkerMsg::Drain) => {
                        worker.draining.set(true);
                        drain_started.get_or_insert_with(Instant::now);
                        drain_deadline = Some(Instant::now() + worker.settings.drain_timeout);
                        stop_accepting(&mut canceller, uring, listening);
                    }
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => {
                        worker.draining.set(true);
                        drain_started.get_or_insert_with(Instant::now);
                        drain_deadline.get_or_insert_with(Instant::now);
                        stop_accepting(&mut canceller, uring, listening);
                        break;
                    }
                }
            }
            worker.pool.sweep();
            // Parked connections are woken for the drain only after its grace (see `proxy::drain`).
            let now = Instant::now();
            worker.idle.sweep(now, drain_started.is_some_and(|t| now >= t + crate::proxy::h1::drain::GRACE));
            ticks += 1;
            if ticks.is_multiple_of(COLLECT_EVERY) {
                crate::sys::release_free_memory();
            }
            worker.slot.reap();
            worker.recorder.flush();
            publish(&worker);
            if let Some(deadline) = drain_deadline {
                let now = Instant::now();
                let settled = match worker.in_flight.get() {
                    0 => {
                        let since = *idle_since.get_or_insert(now);
                        worker.connections.get() == 0 || now >= since + crate::proxy::h1::drain::SETTLE
                    }
                    _ => {
                        idle_since = None;
                        false
                    }
                };
                if now >= deadline && worker.tunnels.active.get() > 0 && !worker.tunnels.stop.is_fired() {
                    // WebSocket tunnels get their 1001 close frames and a moment to close.
                    worker.tunnels.stop.fire();
                    drain_deadline = Some(now + crate::proxy::upgrade::tunnel::STOP_GRACE);
                } else if settled || now >= deadline {
                    if worker.in_flight.get() > 0 {
                        tracing::warn!(worker = id, in_flight = worker.in_flight.get(), "drain timeout: closing");
                    }
                    break;
                }
            }
        }
        for task in accept.into_iter().chain(accept_tls) {
            task.await;
        }
        worker.recorder.flush();
        publish(&worker);
    }
}

/// Stops the acceptors (once): each ends when its accept fails, and the sockets close with them.
fn stop_accepting(canceller: &mut Option<Canceller>, uring: bool, listening: [std::os::fd::RawFd; 2]) {
    if let Some(c) = canceller.take() {
        if uring {
            c.cancel();
        } else {
            listening.into_iter().for_each(crate::sys::shutdown_socket);
        }
    }
}

/// Waits on the worker's epoll set of parked connections (one poll op for all of them) and
/// wakes those whose sockets became readable.
async fn wake_parked(worker: Rc<Worker>) {
    let Some(set) = worker.idle.pollable() else { return };
    let mut tokens = Vec::new();
    while set.readable(false).await.is_ok() {
        worker.idle.dispatch(&mut tokens);
    }
    tracing::warn!(worker = worker.id, "the parked-connection set failed: idle connections stay parked until swept");
}

fn adopt(listener: std::net::TcpListener, uring: bool) -> std::io::Result<TcpListener> {
    listener.set_nonblocking(!uring)?;
    TcpListener::from_std(listener)
}

/// Accept operations kept in flight per listener. One at a time, a worker busy relaying large
/// bodies accepted one connection per loop turn: a burst of 1,024 connections waited seconds in
/// the backlog (wrk timeouts at 256 KiB); nginx accepts in batches.
const ACCEPTORS: usize = 16;

fn accept_loops(
    worker: &Rc<Worker>,
    listener: TcpListener,
    canceller: &Canceller,
    tls: bool,
    uring: bool,
) -> Vec<monoio::task::JoinHandle<()>> {
    let listener = Rc::new(listener);
    // monoio's epoll driver keeps one waker per socket and direction: of several acceptors on
    // one listener only the last to wait would ever be woken (and the drain would wait on the
    // others for ever), so there each listener has one.
    let acceptors = if uring { ACCEPTORS } else { 1 };
    (0..acceptors)
        .map(|_| monoio::spawn(accept_loop(worker.clone(), listener.clone(), canceller.handle(), tls)))
        .collect()
}

async fn accept_loop(worker: Rc<Worker>, listener: Rc<TcpListener>, cancel: monoio::io::CancelHandle, tls: bool) {
    let limits = (worker.settings.max_connections_per_worker, worker.settings.max_connections_per_ip);
    loop {
        // Out of descriptors: every acceptor of this worker waits out the pause.
        if let Some(left) = worker.accept.pause_left(Instant::now()) {
            monoio::time::sleep(left).await;
        }
        match listener.cancelable_accept(cancel.clone()).await {
            Ok((stream, peer)) => {
                let ip = peer.ip();
                if let Err(why) = super::admission::admit(ip, worker.connections.get(), limits.0, limits.1) {
                    worker.accept.refused(worker.id, why, Instant::now());
                    drop(stream); // closed before a byte is read
                    continue;
                }
                // Counted from accept (not from the task's first poll), so a burst cannot
                // overshoot the limit; `Worker::connection_ended` gives the slot back.
                worker.connections.set(worker.connections.get() + 1);
                let _ = stream.set_nodelay(true);
                if tls {
                    monoio::spawn(serve_tls(worker.clone(), stream, peer));
                } else {
                    let conn = crate::proxy::h1::conn::serve(worker.core.clone(), stream, peer, Scheme::Http, None);
                    monoio::spawn(counted(worker.clone(), peer.ip(), conn));
                }
            }
            Err(_) if worker.draining.get() => {
                // Stop listening now: the fd's close is an io_uring op that a worker ending
                // right after may never run, which would leave the port accepting.
                crate::sys::shutdown_socket(std::os::fd::AsRawFd::as_raw_fd(&*listener));
                return;
            }
            Err(e) => {
                // EMFILE and friends: pause accepting (all acceptors) and log once per interval.
                worker.accept.failed(worker.id, &e, Instant::now());
                if !super::admission::is_exhaustion(&e) {
                    monoio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
    }
}

/// The TLS handshake (bounded by the head timeout), then the same connection loop as plain HTTP.
/// The configuration is the snapshot's at accept time: new certificates apply to new connections.
async fn serve_tls(worker: Rc<Worker>, stream: monoio::net::TcpStream, peer: std::net::SocketAddr) {
    let Some(config) = worker.slot.current().and_then(|s| s.server_tls.clone()) else {
        worker.connection_ended(peer.ip());
        return; // no certificate configured: refuse by closing
    };
    let handshake = crate::tls::handshake::accept(config, stream);
    let tls = match monoio::time::timeout(worker.settings.header_timeout, handshake).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(e)) => {
            tracing::debug!(worker = worker.id, %peer, error = %e, "TLS handshake failed");
            worker.connection_ended(peer.ip());
            return;
        }
        Err(_) => {
            worker.connection_ended(peer.ip());
            return;
        }
    };
    let session = crate::proxy::h1::conn::TlsInfo { version: tls.version, client_chain: tls.client_chain };
    crate::proxy::h1::conn::serve(worker.core.clone(), tls.stream, peer, Scheme::Https, Some(session)).await;
    worker.connection_ended(peer.ip());
}

/// A connection's task: its slot is given back when it ends (counted at accept).
async fn counted(worker: Rc<Worker>, ip: std::net::IpAddr, conn: impl std::future::Future<Output = ()>) {
    conn.await;
    worker.connection_ended(ip);
}

/// Swaps the snapshot between requests: requests in flight keep their `Rc` to the old one.
fn install(worker: &Worker, snap: Snapshot) {
    publish(worker); // counts keyed by the old snapshot's indexes go out under its names
    let generation = snap.generation;
    worker.slot.install(snap);
    worker.recorder.histograms.borrow_mut().clear(); // keyed by the old snapshot's indexes, already published
    worker.node.workers[worker.id].generation.store(generation, Ordering::Release);
}

/// Publishes this worker's counters into its node slot (off the request path, once per tick).
fn publish(worker: &Worker) {
    let mut counts = worker.recorder.route_counts.borrow_mut();
    let node: &NodeState = &worker.node;
    let Ok(mut report) = node.workers[worker.id].report.lock() else {
        return;
    };
    let report: &mut WorkerReport = &mut report;
    report.requests = worker.recorder.requests.get();
    report.connections_active = worker.connections.get();
    report.in_flight = worker.in_flight.get();
    report.pool_idle = worker.pool.idle_count() as u64;
    report.refused = worker.accept.totals();
    let t = &worker.tunnels;
    report.websockets = [t.active.get(), t.opened.get(), t.bytes_up.get(), t.bytes_down.get(), t.bytes_spliced.get()];
    let snap = worker.slot.current();
    let api_of = |api: u32| snap.as_ref().and_then(|s| s.doc.apis.get(api as usize));
    for ((api, op, class), n) in counts.drain() {
        let a = api_of(api);
        let op_id = match (a, op) {
            (Some(a), o) if o > 0 => a.operations.get(o as usize - 1).map_or("", |o| o.id.as_str()),
            _ => "",
        };
        let api_id = a.map_or("", |a| a.id.as_str());
        let class = ["1xx", "1xx", "2xx", "3xx", "4xx", "5xx"][class.min(5) as usize];
        *report.by_route.entry((api_id.to_string(), op_id.to_string(), class)).or_insert(0) += n;
    }
    for (api, h) in worker.recorder.histograms.borrow_mut().iter_mut().filter(|(_, h)| h.count() > 0) {
        let api_id = api_of(*api).map_or("", |a| a.id.as_str());
        match report.histograms.get_mut(api_id) {
            Some(node_h) => node_h.merge(h),
            None => {
                report.histograms.insert(api_id.to_string(), h.clone());
            }
        }
        h.reset();
    }
}
