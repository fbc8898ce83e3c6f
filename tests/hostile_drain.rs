//! Drain without resets (issue #23, class 4): SIGTERM while kept-alive connections (parked and
//! active) send a request just before or just after the signal, have a pipelined pair in
//! flight, or stay idle. Every connection must end with its requests answered, or with a clean
//! EOF before the test sent anything; never a reset, never a request dropped unanswered.
//! Also: accept refusals are counted in /metrics.

mod common;

use common::*;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

fn one_api(b: &Backend) -> String {
    format!(
        r#"{{"revision":"r1","apis":[{{"id":"a","path":"a","serviceUrl":"{}/be-a","subscriptionRequired":false}}]}}"#,
        b.url()
    )
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    SendThenSignal,
    SignalThenSend,
    Pipelined,
    Idle,
}

struct Client {
    kind: Kind,
    parked: bool,
    stream: TcpStream,
    /// Requests the test wrote during the drain race.
    sent: usize,
}

fn request(addr: SocketAddr, i: usize) -> Vec<u8> {
    format!("GET /a/echo/{i} HTTP/1.1\r\nHost: {addr}\r\n\r\n").into_bytes()
}

/// One response (head + Content-Length body) from `s` on a kept-alive connection, before the race.
fn read_one(s: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let mut tmp = [0u8; 4096];
    loop {
        if let Some((n, _)) = parse_responses(&got).first() {
            if *n == got.len() {
                return got;
            }
        }
        let n = s.read(&mut tmp).expect("warm-up response");
        assert!(n > 0, "closed during warm-up");
        got.extend_from_slice(&tmp[..n]);
    }
}

/// Complete responses at the start of `bytes`: (end offset, has `Connection: close`).
fn parse_responses(bytes: &[u8]) -> Vec<(usize, bool)> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(end) = bytes[at..].windows(4).position(|w| w == b"\r\n\r\n") {
        let head = String::from_utf8_lossy(&bytes[at..at + end]).to_ascii_lowercase();
        assert!(head.starts_with("http/1.1 "), "not a response head: {head:?}");
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .map_or(0, |v| v.trim().parse().expect("content-length"));
        let close = head.lines().any(|l| l.starts_with("connection:") && l.contains("close"));
        let body_end = at + end + 4 + len;
        if body_end > bytes.len() {
            break;
        }
        out.push((body_end, close));
        at = body_end;
    }
    out
}

/// Everything until EOF; `Err` on a reset (or any other read error) or a timeout.
fn read_to_end(s: &mut TcpStream, deadline: Instant) -> Result<Vec<u8>, String> {
    let mut got = Vec::new();
    let mut tmp = [0u8; 16 * 1024];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(format!("no EOF in time after {} bytes", got.len()));
        }
        s.set_read_timeout(Some(left)).unwrap();
        match s.read(&mut tmp) {
            Ok(0) => return Ok(got),
            Ok(n) => got.extend_from_slice(&tmp[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("{e} after {} bytes", got.len())),
        }
    }
}

/// True when the gateway already closed (EOF waiting), checked without blocking.
fn eof_waiting(s: &TcpStream) -> bool {
    s.set_nonblocking(true).unwrap();
    let mut b = [0u8; 1];
    let r = s.peek(&mut b);
    s.set_nonblocking(false).unwrap();
    matches!(r, Ok(0))
}

const PER_ROUND: usize = 48;
const ROUNDS: usize = 4;

fn one_round(round: usize) -> Vec<String> {
    let b = Backend::normal();
    let gw = Gateway::start(&one_api(&b), &["shutdown.drain.timeout=15s"]);
    let addr = gw.http_addr();
    let kinds = [Kind::SendThenSignal, Kind::SignalThenSend, Kind::Pipelined, Kind::Idle];
    let mut clients: Vec<Client> = (0..PER_ROUND)
        .map(|i| {
            let stream = TcpStream::connect(addr).expect("connect");
            stream.set_nodelay(true).unwrap();
            Client { kind: kinds[i % 4], parked: (i / 4) % 2 == 0, stream, sent: 0 }
        })
        .collect();
    // Parked connections: one request, then quiet past the gateway's park delay (1 s; nothing
    // observable tells when a connection parked, so this one wait is on the clock).
    for (i, c) in clients.iter_mut().enumerate().filter(|(_, c)| c.parked) {
        c.stream.write_all(&request(addr, i)).unwrap();
        read_one(&mut c.stream);
    }
    std::thread::sleep(Duration::from_millis(1300));
    // Active connections: kept alive a moment ago, waiting in a read.
    for (i, c) in clients.iter_mut().enumerate().filter(|(_, c)| !c.parked) {
        c.stream.write_all(&request(addr, i)).unwrap();
        read_one(&mut c.stream);
    }
    for (i, c) in clients.iter_mut().enumerate() {
        match c.kind {
            Kind::SendThenSignal => {
                c.stream.write_all(&request(addr, 1000 + i)).unwrap();
                c.sent = 1;
            }
            Kind::Pipelined => {
                // A slow first request, so that drain begins while it is in flight; the second
                // of the pair follows after the signal (below), into the socket.
                let slow = format!("GET /a/slow/300 HTTP/1.1\r\nHost: {addr}\r\n\r\n");
                c.stream.write_all(slow.as_bytes()).unwrap();
                c.sent = 1;
            }
            _ => {}
        }
    }
    gw.sigterm();
    // Right after the signal, spread over the moment the workers see it (their tick is 50 ms):
    // some requests land before the drain begins, some as it begins, some just after.
    let t0 = Instant::now();
    let mut late: Vec<(Duration, usize)> = clients
        .iter()
        .enumerate()
        .filter(|(_, c)| matches!(c.kind, Kind::SignalThenSend | Kind::Pipelined))
        .map(|(i, _)| (Duration::from_millis(7 * (i as u64 / 4 % 16) + (i as u64 % 4)), i))
        .collect();
    late.sort();
    for (at, i) in late {
        while t0.elapsed() < at {
            std::hint::spin_loop();
        }
        let c = &mut clients[i];
        if eof_waiting(&c.stream) {
            continue; // closed before we sent: allowed
        }
        let offset = if c.kind == Kind::Pipelined { 2000 } else { 1000 };
        // A write may fail only when the gateway closed first; the read below judges it.
        if c.stream.write_all(&request(addr, offset + i)).is_ok() {
            c.sent += 1;
        }
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut failures = Vec::new();
    for (i, c) in clients.iter_mut().enumerate() {
        let what = format!("round {round} conn {i} ({:?}, parked {})", c.kind, c.parked);
        match read_to_end(&mut c.stream, deadline) {
            Err(e) => failures.push(format!("{what}: {e}")),
            Ok(bytes) => {
                let responses = parse_responses(&bytes);
                let answered = responses.len();
                let told_to_close = responses.iter().any(|r| r.1);
                let complete = responses.last().map_or(0, |r| r.0) == bytes.len();
                // A pipelined burst may be cut after a response that said `Connection: close`.
                let ok = complete && (answered == c.sent || (answered >= 1 && told_to_close && answered < c.sent));
                if !ok {
                    failures.push(format!(
                        "{what}: sent {} requests, got {answered} responses ({} bytes, close {told_to_close})",
                        c.sent,
                        bytes.len()
                    ));
                }
            }
        }
    }
    failures
}

#[test]
fn drain_answers_or_closes_cleanly_every_kept_alive_connection() {
    let mut failures = Vec::new();
    for round in 0..ROUNDS {
        failures.extend(one_round(round));
    }
    assert!(
        failures.is_empty(),
        "{} of {} connections failed:\n{}",
        failures.len(),
        PER_ROUND * ROUNDS,
        failures.join("\n")
    );
}

#[test]
fn accept_refusals_are_counted_in_metrics() {
    let b = Backend::normal();
    let gw = Gateway::start(&one_api(&b), &["net.server.connections.max-per-client-ip=1"]);
    let mut first = Conn::connect(gw.http_addr());
    assert_eq!(first.get("/a/echo").status, 200);
    let mut second = Conn::connect(gw.http_addr());
    assert!(second.wait_closed(Duration::from_secs(5)).is_ok(), "the second connection is refused");
    gw.wait_metric("ringgate_connections_refused_total", &[("reason", "per_client_ip")], 1.0);
}
