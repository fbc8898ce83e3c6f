//! Budgets on the network side (issue #23 class 3): a declared body over the buffering cap is
//! 413 before anything is read; connections beyond the per-client-address and per-worker limits
//! are closed at accept; a request body has one overall deadline (408); at the descriptor
//! limit the worker backs off and logs once per interval, and recovers.

mod common;

use common::*;
use serde_json::json;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn doc(b: &Backend) -> String {
    let reads_body = r#"<policies><inbound><set-variable name="n" value="@(context.Request.Body.As<string>(preserveContent: true).Length)" /></inbound><backend><forward-request /></backend><outbound /><on-error /></policies>"#;
    json!({
        "revision": "lim",
        "apis": [
            {"id": "s", "path": "s", "serviceUrl": b.url(), "subscriptionRequired": false},
            {"id": "body", "path": "body", "serviceUrl": b.url(), "subscriptionRequired": false, "policy": reads_body}
        ]
    })
    .to_string()
}

/// Sends a head declaring `length` body bytes (and only `sent` of them); returns the response,
/// which must come without the rest of the body being sent.
fn declared(gw: &Gateway, path: &str, length: u64, sent: usize) -> Response {
    let mut c = Conn::connect(gw.http_addr());
    c.set_read_timeout(Duration::from_secs(10));
    let mut req = format!("POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n").into_bytes();
    req.extend(std::iter::repeat_n(b'a', sent));
    c.send(&req).unwrap();
    c.read_response(false).unwrap_or_else(|e| panic!("{path} {length}: no response before the body ({e})"))
}

#[test]
fn declared_body_over_the_cap_is_413_before_buffering() {
    let b = Backend::normal();
    let gw = Gateway::start(&doc(&b), &["net.server.limits.body-bytes=1MiB"]);
    for path in ["/body/echo", "/s/echo"] {
        let r = declared(&gw, path, 2 << 20, 1000);
        assert_error_shape(&r, 413);
    }
    // Within the cap, the policy reads it and the backend gets it whole.
    let mut c = Conn::connect(gw.http_addr());
    let r = c.request("POST", "/body/echo", &[], &vec![b'x'; 512 * 1024]);
    assert_eq!((r.status, r.json()["bodyLength"].as_u64()), (200, Some(512 * 1024)), "{r:?}");
    assert_eq!(b.heads(), 1, "over-cap requests never reached the backend");
}

#[test]
fn a_client_that_sends_its_whole_over_cap_body_still_reads_the_413() {
    // Like most HTTP libraries, this client writes the whole body before it reads: the gateway
    // must let it finish (reading and dropping the body, bounded) rather than reset it.
    let b = Backend::normal();
    let gw = Gateway::start(&doc(&b), &["net.server.limits.body-bytes=1MiB"]);
    for path in ["/body/echo", "/s/echo"] {
        let mut c = Conn::connect(gw.http_addr());
        c.set_read_timeout(Duration::from_secs(10));
        let mut req = format!("POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n", 16 << 20).into_bytes();
        req.extend(std::iter::repeat_n(b'a', 16 << 20));
        c.send(&req).unwrap_or_else(|e| panic!("{path}: sending the body failed ({e})"));
        let r = c.read_response(false).unwrap_or_else(|e| panic!("{path}: no 413 ({e})"));
        assert_error_shape(&r, 413);
    }
    assert_eq!(b.heads(), 0);
}

#[test]
fn declared_body_over_the_default_buffering_cap_is_413_at_once() {
    // No body-bytes limit: a policy that reads the body still buffers at most 64 MiB, and a
    // declared length above that is refused before one byte is buffered.
    let b = Backend::normal();
    let gw = Gateway::start(&doc(&b), &[]);
    let started = Instant::now();
    let r = declared(&gw, "/body/echo", (64 << 20) + 1, 10);
    assert_error_shape(&r, 413);
    assert!(started.elapsed() < Duration::from_secs(5), "answered only after {:?}", started.elapsed());
    assert_eq!(b.heads(), 0);
}

/// Opens a connection and proves it is served (one keep-alive request).
fn served(gw: &Gateway) -> Conn {
    let mut c = Conn::connect(gw.http_addr());
    c.set_read_timeout(Duration::from_secs(5));
    let r = c.get("/s/echo");
    assert_eq!(r.status, 200, "{r:?}");
    c
}

/// A connection served on the first request, or `None` when the gateway closed it.
fn try_served(gw: &Gateway) -> Option<Conn> {
    let mut c = Conn::connect(gw.http_addr());
    c.set_read_timeout(Duration::from_secs(5));
    c.send(b"GET /s/echo HTTP/1.1\r\nHost: x\r\n\r\n").ok()?;
    let r = c.read_response(false).ok()?;
    (r.status == 200).then_some(c)
}

/// A connection the gateway closes at accept: no response, end of stream (or reset).
fn refused(gw: &Gateway) -> bool {
    let mut s = TcpStream::connect(gw.http_addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = s.write_all(b"GET /s/echo HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut buf = [0u8; 256];
    match s.read(&mut buf) {
        Ok(0) | Err(_) => true,
        Ok(_) => false,
    }
}

#[test]
fn connections_per_client_ip_are_limited() {
    let b = Backend::normal();
    let gw = Gateway::start(&doc(&b), &["net.server.connections.max-per-client-ip=4"]);
    let mut open: Vec<Conn> = (0..4).map(|_| served(&gw)).collect();
    assert!(refused(&gw), "a fifth connection from the same address must be closed at accept");
    // A slot frees when a connection ends.
    drop(open.pop());
    // The connection that finds the slot is the one kept: a probe would itself hold the slot
    // until the gateway saw it close.
    let mut again = wait_until("a slot after a close", Duration::from_secs(5), || try_served(&gw));
    assert_eq!(again.get("/s/echo").status, 200);
    // The connections admitted before keep working.
    for c in &mut open {
        assert_eq!(c.get("/s/echo").status, 200);
    }
    assert!(gw.log_text().contains("connections refused at accept"), "the refusal is logged");
}

#[test]
fn connections_per_worker_are_limited() {
    let b = Backend::normal();
    let gw = Gateway::start(&doc(&b), &["runtime.workers=1", "net.server.connections.max-per-worker=3"]);
    let _open: Vec<Conn> = (0..3).map(|_| served(&gw)).collect();
    assert!(refused(&gw), "a fourth connection on a one-worker gateway must be closed at accept");
}

#[test]
fn a_slow_body_gets_408_at_the_body_deadline() {
    let b = Backend::normal();
    // Each byte comes well within the idle timeout; only the overall deadline can end this.
    let gw = Gateway::start(&doc(&b), &["net.server.timeouts.body=2s", "net.server.timeouts.idle=1s"]);
    for path in ["/s/upload", "/body/upload"] {
        let mut c = Conn::connect(gw.http_addr());
        c.set_read_timeout(Duration::from_secs(10));
        c.send(format!("POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n").as_bytes()).unwrap();
        let started = Instant::now();
        let mut answered = false;
        while started.elapsed() < Duration::from_secs(8) {
            if c.send(b"a").is_err() || c.has_data() {
                answered = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(300)); // the drip itself, not a wait for state
        }
        assert!(answered, "{path}: still reading a drip after {:?}", started.elapsed());
        let r = c.read_response(false).unwrap_or_else(|e| panic!("{path}: no 408 ({e})"));
        assert_error_shape(&r, 408);
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(1500) && took < Duration::from_secs(6), "{path}: 408 after {took:?}");
    }
    assert_eq!(b.requests(), 0, "no slow body was completed at the backend");
}

/// Sets the gateway's soft descriptor limit to what it holds now plus `room` (the hard limit
/// stays, so the soft one can be raised again).
fn limit_descriptors(pid: u32, room: u64) {
    let open = std::fs::read_dir(format!("/proc/{pid}/fd")).map(|d| d.count() as u64).unwrap_or(0);
    let mut old = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: prlimit with a valid pid, no new limit and a valid output pointer.
    let rc = unsafe { libc::prlimit(pid as libc::pid_t, libc::RLIMIT_NOFILE, std::ptr::null(), &mut old) };
    assert_eq!(rc, 0, "prlimit: {}", std::io::Error::last_os_error());
    let lim = libc::rlimit { rlim_cur: (open + room).min(old.rlim_max), rlim_max: old.rlim_max };
    // SAFETY: prlimit with a valid pid, a valid new limit and no old-limit output pointer.
    let rc = unsafe { libc::prlimit(pid as libc::pid_t, libc::RLIMIT_NOFILE, &lim, std::ptr::null_mut()) };
    assert_eq!(rc, 0, "prlimit: {}", std::io::Error::last_os_error());
}

#[test]
fn at_the_descriptor_limit_the_worker_backs_off_and_recovers() {
    let b = Backend::normal();
    let gw = Gateway::start(&doc(&b), &["runtime.workers=1"]);
    // Warm the backend pool so a request after recovery needs no new backend socket.
    assert_eq!(gw.get("/s/echo", &[]).status, 200);
    limit_descriptors(gw.pid(), 6);
    // Far more connections than descriptors left: the kernel queues them, accept fails.
    let flood: Vec<TcpStream> = (0..60).filter_map(|_| TcpStream::connect(gw.http_addr()).ok()).collect();
    let failed_lines = |gw: &Gateway| gw.logs().iter().filter(|l| l.contains("accept failed")).count();
    wait_until("an accept failure logged", Duration::from_secs(5), || (failed_lines(&gw) > 0).then_some(()));
    let first = Instant::now();
    let before = failed_lines(&gw);
    while first.elapsed() < Duration::from_millis(2500) {
        std::thread::sleep(Duration::from_millis(100)); // observing a rate over a fixed window
    }
    let during = failed_lines(&gw) - before;
    assert!(during <= 4, "{during} accept-failure lines in 2.5 s: logged per accept, not per interval");
    drop(flood);
    limit_descriptors(gw.pid(), 4096);
    let r = wait_until("serving again after the flood", Duration::from_secs(10), || {
        let mut s = TcpStream::connect(gw.http_addr()).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
        s.write_all(b"GET /s/echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").ok()?;
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        String::from_utf8_lossy(&out).starts_with("HTTP/1.1 200").then_some(out)
    });
    assert!(!r.is_empty());
}
