//! Process lifecycle: SIGTERM drain, two workers on one port, the demo,
//! `validate`, `settings`, bad settings.

mod common;

use common::gateway::{json_line, metric_value, run_cli};
use common::*;
use std::net::TcpStream;
use std::time::Duration;

fn one_api(b: &Backend) -> String {
    format!(
        r#"{{"revision":"r1","apis":[{{"id":"a","path":"a","serviceUrl":"{}/be-a","subscriptionRequired":false}}]}}"#,
        b.url()
    )
}

#[test]
fn sigterm_drains_in_flight_request_then_exits_0() {
    let b = Backend::normal();
    let mut gw = Gateway::start(&one_api(&b), &["shutdown.drain.timeout=15s"]);
    let mut slow = Conn::connect(gw.http_addr());
    slow.send_request("GET", "/a/slow/4000", &[], b"");
    wait_until("the slow request reaches the backend", Duration::from_secs(5), || {
        b.seen().iter().any(|s| s.target.contains("/slow/")).then_some(())
    });
    gw.sigterm();
    let addr = gw.http_addr();
    wait_until("new connections refused after SIGTERM", Duration::from_secs(3), || {
        TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err().then_some(())
    });
    assert!(gw.proc.try_exit().is_none(), "exited with a request in flight");
    let r = slow.read_response(false).expect("the in-flight request completes");
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json()["path"], "/be-a/slow/4000");
    let status = gw.wait_exit(Duration::from_secs(15));
    assert_eq!(status.code(), Some(0), "exit status after drain: {status}");
}

#[test]
fn two_workers_listen_and_both_serve() {
    let b = Backend::normal();
    let gw = Gateway::start(&one_api(&b), &["runtime.workers=2"]);
    let port = gw.http_addr().port();
    match std::process::Command::new("ss").args(["-ltnp"]).output() {
        Err(e) => eprintln!("SKIPPING the listening-socket check: `ss` (iproute2) is not available: {e}"),
        Ok(out) => {
            let text = String::from_utf8_lossy(&out.stdout);
            let pid = format!("pid={},", gw.pid());
            let ours: Vec<&str> =
                text.lines().filter(|l| l.contains(&format!("127.0.0.1:{port} ")) && l.contains(&pid)).collect();
            assert_eq!(ours.len(), 2, "listening sockets on :{port} of pid {}:\n{text}", gw.pid());
        }
    }
    let mut conns: Vec<Conn> = (0..32).map(|_| Conn::connect(gw.http_addr())).collect();
    for c in conns.iter_mut() {
        c.send_request("GET", "/a/echo", &[], b"");
    }
    for c in conns.iter_mut() {
        assert_eq!(c.read_response(false).unwrap().status, 200);
    }
    let text = wait_until("both workers counted requests", Duration::from_secs(5), || {
        let m = gw.metrics();
        let w0 = metric_value(&m, "ringgate_worker_requests_total", &[("worker", "0")]).unwrap_or(0.0);
        let w1 = metric_value(&m, "ringgate_worker_requests_total", &[("worker", "1")]).unwrap_or(0.0);
        (w0 > 0.0 && w1 > 0.0 && w0 + w1 >= 32.0).then_some(m)
    });
    assert!(metric_value(&text, "ringgate_worker_requests_total", &[("worker", "2")]).is_none());
}

#[test]
fn demo_prints_a_working_curl_command() {
    let args: Vec<String> =
        ["--set", "net.server.http.port=0", "--set", "net.server.admin.port=0", "--set", "net.server.bind=127.0.0.1"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    let mut p = Proc::spawn(&args);
    let line = p.wait_line("a curl command line", Duration::from_secs(20), |l| {
        l.contains("curl") && l.contains("http://127.0.0.1:")
    });
    // the line may be plain text or a JSON log event with the command in a field
    let text = match json_line(&line) {
        Some(v) => v.to_string().replace("\\\"", "\""),
        None => line.clone(),
    };
    let start = text.find("http://127.0.0.1:").unwrap();
    let url: String =
        text[start..].chars().take_while(|c| !c.is_whitespace() && !matches!(c, '\'' | '"' | '\\')).collect();
    let target_start = url["http://".len()..].find('/').map(|i| i + "http://".len()).unwrap_or(url.len());
    let addr: std::net::SocketAddr = url["http://".len()..target_start].parse().unwrap();
    let target = if target_start < url.len() { &url[target_start..] } else { "/" };
    assert!(target.starts_with("/echo"), "demo URL {url} in {line}");
    let key_at =
        text.find("Ocp-Apim-Subscription-Key: ").unwrap_or_else(|| panic!("no key header in the curl line: {line}"));
    let key: String = text[key_at + "Ocp-Apim-Subscription-Key: ".len()..]
        .chars()
        .take_while(|c| !matches!(c, '\'' | '"' | '\\') && !c.is_whitespace())
        .collect();
    assert!(!key.is_empty(), "empty key in {line}");
    let r = client::get(addr, target, &[("Ocp-Apim-Subscription-Key", &key)]);
    assert_eq!(r.status, 200, "demo call {url}: {r:?}");
    // and the key matters
    let r = client::get(addr, target, &[("Ocp-Apim-Subscription-Key", "not-the-demo-key")]);
    assert_eq!(r.status, 401, "demo with a wrong key: {r:?}");
}

#[test]
fn validate_valid_and_invalid_documents() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.json");
    std::fs::write(&good, r#"{"revision":"r1","apis":[{"id":"a","path":"a","serviceUrl":"http://127.0.0.1:9"}]}"#)
        .unwrap();
    let (code, out, err) = run_cli(&["validate", good.to_str().unwrap()]);
    assert_eq!(code, 0, "valid document: stdout {out} stderr {err}");

    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"revision":"bad",
  "apis":[
    {"id":"x","path":"x","serviceUrl":"ftp://not-http.example"},
    {"id":"y","serviceUrl":"http://127.0.0.1:1"}
  ],
  "subscriptions":[{"id":"s","scope":"/apis","primaryKey":"k1234567890","state":5}]
}"#,
    )
    .unwrap();
    let (code, out, err) = run_cli(&["validate", bad.to_str().unwrap()]);
    assert_eq!(code, 1, "invalid document: stdout {out} stderr {err}");
    let lines: Vec<&str> = out.lines().chain(err.lines()).collect();
    for path in ["apis[0].serviceUrl", "apis[1].path", "subscriptions[0].state"] {
        let n = lines.iter().filter(|l| l.contains(path)).count();
        assert_eq!(n, 1, "one line naming {path} expected; output:\n{out}{err}");
    }
    let (code, _, _) = run_cli(&["validate", dir.path().join("missing.json").to_str().unwrap()]);
    assert_eq!(code, 1, "a missing file is invalid");
}

#[test]
fn settings_prints_values_with_their_source() {
    let (code, out, err) = run_cli(&["settings", "--set", "runtime.workers=3"]);
    assert_eq!(code, 0, "stdout {out} stderr {err}");
    let line = out
        .lines()
        .find(|l| l.contains("runtime.workers") && !l.contains("runtime.workers."))
        .unwrap_or_else(|| panic!("runtime.workers not printed:\n{out}"));
    assert!(line.contains('3'), "{line}");
    let lower = line.to_ascii_lowercase();
    assert!(
        ["--set", "command line", "command-line", "cli", "flag"].iter().any(|s| lower.contains(s)),
        "source of runtime.workers not shown: {line}"
    );
    // a default is shown as such
    let line = out
        .lines()
        .find(|l| l.contains("net.server.timeouts.header"))
        .unwrap_or_else(|| panic!("net.server.timeouts.header not printed:\n{out}"));
    assert!(line.to_ascii_lowercase().contains("default"), "{line}");
}

#[test]
fn bad_setting_value_exits_2_naming_the_key() {
    let (code, out, err) = run_cli(&[
        "run",
        "--set",
        "runtime.workers=abc",
        "--set",
        "net.server.http.port=0",
        "--set",
        "net.server.admin.port=0",
        "--set",
        "net.server.bind=127.0.0.1",
    ]);
    assert_eq!(code, 2, "stdout {out} stderr {err}");
    assert!(
        err.contains("runtime.workers") || out.contains("runtime.workers"),
        "the key is not named: stdout {out} stderr {err}"
    );
    let (code, out, err) = run_cli(&["settings", "--set", "net.server.timeouts.header=soon"]);
    assert_eq!(code, 2, "stdout {out} stderr {err}");
    assert!(err.contains("net.server.timeouts.header") || out.contains("net.server.timeouts.header"));
}

#[test]
fn idle_keep_alive_connection_closes_after_idle_timeout() {
    let b = Backend::normal();
    let gw = Gateway::start(&one_api(&b), &["net.server.timeouts.idle=1s"]);
    let mut c = Conn::connect(gw.http_addr());
    assert_eq!(c.get("/a/echo").status, 200);
    let t = std::time::Instant::now();
    let closed = c.wait_closed(Duration::from_secs(6));
    let took = t.elapsed();
    assert!(closed.is_ok(), "idle connection still open after {took:?}");
    assert_eq!(closed.unwrap(), Vec::<u8>::new(), "bytes sent on an idle connection");
    assert!(took >= Duration::from_millis(900), "closed after {took:?}, before the 1 s idle timeout");
    // a busy connection is not cut: requests spaced under the timeout keep it
    let mut c = Conn::connect(gw.http_addr());
    for _ in 0..3 {
        assert_eq!(c.get("/a/slow/400").status, 200);
    }
}

#[test]
fn quiet_connections_park_wake_on_the_next_request_and_still_time_out() {
    // Idle 3 s: past the 1 s park threshold a connection gives back its buffers and waits on a
    // poll; the next request must wake it, and the worker's sweep must still end it on time.
    let b = Backend::normal();
    let gw = Gateway::start(&one_api(&b), &["net.server.timeouts.idle=3s"]);
    let mut sleeper = Conn::connect(gw.http_addr());
    assert_eq!(sleeper.get("/a/echo").status, 200);
    let mut waker = Conn::connect(gw.http_addr());
    assert_eq!(waker.get("/a/echo").status, 200);
    let t = std::time::Instant::now();
    // Quiet well past the threshold (parked), then a request: the same connection answers it.
    let closed = sleeper.wait_closed(Duration::from_millis(1800));
    assert!(closed.is_err(), "closed after {:?}, before the 3 s idle timeout", t.elapsed());
    assert_eq!(waker.get("/a/echo").status, 200, "a parked connection did not wake for its request");
    assert_eq!(waker.get("/a/echo").status, 200);
    let closed = sleeper.wait_closed(Duration::from_secs(6));
    let took = t.elapsed();
    assert!(closed.is_ok(), "parked connection still open after {took:?}");
    assert!(took >= Duration::from_millis(2900), "closed after {took:?}, before the 3 s idle timeout");
    assert!(took <= Duration::from_millis(4500), "closed after {took:?}: the idle deadline was not kept");
}
