//! WebSocket APIs end to end: Python `websockets` clients (tests/ws/client.py) through the real
//! gateway to a Python `websockets` origin (tests/ws/backend.py). Echo of text, binary and a
//! 16 MiB message, ping/pong, close codes both ways, the backend closing first, the idle
//! timeout, handshake policies that refuse (401 without a key, 429 from rate-limit-by-key),
//! 1,000 concurrent sockets with the gateway's RSS, drain on SIGTERM (every client gets 1001),
//! and wss:// on both legs.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

use common::gateway::{json_line, metric_value, run_cli};
use common::tls::Ca;
use common::*;
use serde_json::{json, Value};

const WS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/ws");

fn python(script: &str) -> Command {
    let mut c = Command::new("python3");
    c.arg(format!("{WS_DIR}/{script}"));
    c
}

/// Lines a child prints, read on a thread and handed over a channel.
fn lines_of(out: ChildStdout) -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

fn next_line(rx: &Receiver<String>, what: &str, timeout: Duration, pred: impl Fn(&str) -> bool) -> String {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(l) if pred(&l) => return l,
            Ok(_) => {}
            Err(_) => panic!("timed out after {timeout:?} waiting for {what}"),
        }
    }
}

/// The WebSocket origin: a child process, killed on drop.
struct WsBackend {
    child: Child,
    port: u16,
    lines: Receiver<String>,
}

impl WsBackend {
    fn start(tls: Option<(&Path, &Path)>) -> WsBackend {
        let mut cmd = python("backend.py");
        if let Some((cert, key)) = tls {
            cmd.arg("--tls").arg(cert).arg(key);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 (scripts/test.sh installs `websockets`)");
        let lines = lines_of(child.stdout.take().unwrap());
        let first = next_line(&lines, "the backend's PORT line", Duration::from_secs(20), |l| l.starts_with("PORT "));
        let port = first[5..].trim().parse().expect("a port");
        WsBackend { child, port, lines }
    }

    /// The close code and reason the backend received on a connection that ended.
    fn closed(&self) -> String {
        next_line(&self.lines, "a CLOSED line from the backend", Duration::from_secs(20), |l| l.starts_with("CLOSED "))
    }
}

impl Drop for WsBackend {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs one client scenario to its end; its JSON report.
fn client(scenario: &str, url: &str, args: &[&str], env: &[(&str, &str)]) -> Value {
    let mut cmd = python("client.py");
    cmd.arg(scenario).arg(url).args(args).envs(env.iter().copied());
    let out = cmd.output().expect("python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "client {scenario} failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(stdout.lines().last().unwrap_or("")).unwrap_or_else(|_| panic!("JSON from client: {stdout}"))
}

fn ws_api(id: &str, path: &str, backend: &str, extra: Value) -> Value {
    let mut a = json!({"id": id, "path": path, "type": "websocket", "serviceUrl": backend,
        "subscriptionRequired": false,
        "operations": [{"id": "onHandshake", "method": "GET", "urlTemplate": "/"}]});
    if let (Some(a), Some(extra)) = (a.as_object_mut(), extra.as_object()) {
        a.extend(extra.clone());
    }
    a
}

fn access_lines(gw: &Gateway) -> Vec<Value> {
    gw.logs().iter().filter_map(|l| json_line(l)).filter(|v| v["category"] == "GatewayLogs").collect()
}

#[test]
fn echo_ping_big_messages_and_close_codes_both_ways() {
    let b = WsBackend::start(None);
    let http = Backend::normal();
    let doc = json!({"revision": "ws1", "apis": [
        ws_api("chat", "chat", &format!("ws://127.0.0.1:{}", b.port), json!({})),
        {"id": "plain", "path": "plain", "serviceUrl": http.url(), "subscriptionRequired": false},
    ]});
    let gw = Gateway::start(&doc.to_string(), &["telemetry.logs.requests=true"]);
    let url = format!("ws://{}/chat", gw.http_addr());

    let r = client("echo", &url, &[], &[]);
    assert_eq!(r["text"], "hello");
    assert_eq!(r["binary"], json!([0, 1, 254, 255]));
    assert_eq!((r["big_len"].as_u64(), r["big_same"].as_bool()), (Some(16 << 20), Some(true)));
    assert_eq!(r["pong"], true);
    assert_eq!(b.closed(), "CLOSED 4000 client says bye", "the client's close code reaches the backend");

    let r = client("backend-close", &url, &[], &[]);
    assert_eq!((r["code"].as_u64(), r["reason"].as_str()), (Some(4001), Some("backend says bye")));

    // One access-log line per socket, at close: status 101, the session's bytes each way.
    let lines = wait_until("two access-log lines for the sockets", Duration::from_secs(10), || {
        let l: Vec<Value> = access_lines(&gw).into_iter().filter(|v| v["responseCode"] == 101).collect();
        (l.len() >= 2).then_some(l)
    });
    let big = &lines[0];
    assert!(big["requestSize"].as_u64().unwrap() > 16 << 20, "{big}");
    assert!(big["responseSize"].as_u64().unwrap() > 16 << 20, "{big}");
    gw.wait_metric("ringgate_websocket_connections_total", &[], 2.0);
    let m = gw.metrics();
    let active: f64 = ["0", "1"]
        .iter()
        .filter_map(|w| metric_value(&m, "ringgate_websocket_connections_active", &[("worker", w)]))
        .sum();
    assert_eq!(active, 0.0, "{m}");
    let up = metric_value(&m, "ringgate_websocket_bytes_total", &[("direction", "client_to_backend")]).unwrap();
    assert!(up > (16 << 20) as f64, "{m}");
    // Plain TCP on both legs: the 16 MiB message's payload went kernel to kernel, both ways.
    let spliced = metric_value(&m, "ringgate_websocket_spliced_bytes_total", &[]).unwrap();
    assert!(spliced > (30 << 20) as f64, "{m}");

    // A plain request to a WebSocket API is refused; Upgrade on an HTTP API is not acted on.
    let r = gw.get("/chat", &[]);
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("WebSocket handshake"), "{}", r.text());
    let r = gw.get("/plain/x", &[("Upgrade", "websocket"), ("Connection", "Upgrade")]);
    assert_eq!(r.status, 200, "an HTTP API forwards the request as a plain one");
}

#[test]
fn handshake_policies_admit_refuse_and_shape() {
    let b = WsBackend::start(None);
    let policy = r#"<policies><inbound><base/>
        <rate-limit-by-key calls="2" renewal-period="60" counter-key="@(context.Subscription.Id)"/>
        <set-header name="x-from-policy" exists-action="override"><value>@(context.Operation.Id)</value></set-header>
      </inbound><backend><base/></backend><outbound><base/></outbound><on-error><base/></on-error></policies>"#;
    let doc = json!({"revision": "ws2",
        "apis": [ws_api("chat", "chat", &format!("ws://127.0.0.1:{}/socket", b.port),
            json!({"subscriptionRequired": true, "policy": policy}))],
        "products": [{"id": "p", "apis": ["chat"]}],
        "subscriptions": [{"id": "s1", "scope": "/products/p", "primaryKey": "k-ws-1"}]});
    let gw = Gateway::start(&doc.to_string(), &[]);
    let base = format!("ws://{}/chat", gw.http_addr());

    let r = client("handshake", &base, &[], &[]);
    assert_eq!(r["status"], 401, "{r}");
    assert!(r["body"].as_str().unwrap().contains("missing subscription key"), "{r}");

    // APIM takes the key from the query string too (browsers cannot set WebSocket headers).
    let with_key = format!("{base}?subscription-key=k-ws-1");
    let r = client("handshake", &with_key, &[], &[]);
    assert_eq!(r["status"], 101, "{r}");
    assert_eq!(r["backend_saw"]["x-from-policy"], "onHandshake");
    assert!(r["backend_saw"].get("ocp-apim-subscription-key").is_none());
    let r = client("handshake", &base, &[], &[("WS_HEADERS", r#"{"Ocp-Apim-Subscription-Key": "k-ws-1"}"#)]);
    assert_eq!(r["status"], 101, "{r}");
    let r = client("handshake", &with_key, &[], &[]);
    assert_eq!(r["status"], 429, "the third handshake is over the limit: {r}");

    // Inherited from the global scope, what a handshake cannot run is skipped (APIM's rule): the
    // set-method would turn the handshake into a POST the origin refuses; the set-header runs.
    let global = r#"<policies><inbound><set-header name="x-global" exists-action="override"><value>g</value></set-header>
        <set-method>POST</set-method></inbound><backend><forward-request/></backend></policies>"#;
    let doc = json!({"revision": "ws2b", "policy": global,
        "apis": [ws_api("chat", "chat", &format!("ws://127.0.0.1:{}", b.port), json!({}))]});
    gw.write_config(&doc.to_string());
    gw.wait_revision("ws2b");
    let r = client("handshake", &base, &[], &[]);
    assert_eq!(r["status"], 101, "{r}");
    assert_eq!(r["backend_saw"]["x-global"], "g");
}

#[test]
fn policies_a_handshake_cannot_run_are_refused_at_load() {
    let dir = tempfile::tempdir().unwrap();
    let api_policy = "<policies>\n<inbound>\n<base/>\n<set-body>x</set-body>\n</inbound>\n</policies>";
    let op_policy = "<policies><inbound><choose><when condition=\"@(true)\"><set-method>POST</set-method></when></choose></inbound></policies>";
    let mut api = ws_api("x", "x", "ws://127.0.0.1:1", json!({"policy": api_policy}));
    api["operations"][0]["policy"] = op_policy.into();
    let bad = json!({"apis": [api]});
    let path = dir.path().join("bad.json");
    std::fs::write(&path, bad.to_string()).unwrap();
    let (code, out, err) = run_cli(&["validate", path.to_str().unwrap()]);
    let text = format!("{out}{err}");
    assert_ne!(code, 0, "{text}");
    assert!(
        text.contains("apis[0].policy:4:1") && text.contains("<set-body> cannot apply to a WebSocket API's handshake"),
        "{text}"
    );
    assert!(text.contains("apis[0].operations[0].policy") && text.contains("<set-method>"), "{text}");
}

#[test]
fn the_idle_timeout_closes_a_quiet_socket() {
    let b = WsBackend::start(None);
    let doc =
        json!({"revision": "ws3", "apis": [ws_api("chat", "", &format!("ws://127.0.0.1:{}", b.port), json!({}))]});
    let gw = Gateway::start(&doc.to_string(), &["net.server.timeouts.idle=2s"]);
    let r = client("idle", &format!("ws://{}/", gw.http_addr()), &[], &[]);
    assert!(r["closed_after_s"].as_f64().is_some(), "closed by the gateway: {r}");
    assert_eq!(b.closed(), "CLOSED none", "the backend's side was closed too");
}

#[test]
fn a_thousand_sockets_then_drain_sends_1001_to_every_client() {
    let b = WsBackend::start(None);
    let doc =
        json!({"revision": "ws4", "apis": [ws_api("chat", "chat", &format!("ws://127.0.0.1:{}", b.port), json!({}))]});
    let mut gw = Gateway::start(&doc.to_string(), &["shutdown.drain.timeout=1s"]);
    let mut holder = python("client.py")
        .args(["hold", &format!("ws://{}/chat", gw.http_addr()), "1000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .stdin(Stdio::null())
        .spawn()
        .expect("python3");
    let lines = lines_of(holder.stdout.take().unwrap());
    next_line(&lines, "READY: 1,000 sockets open and echoed once", Duration::from_secs(120), |l| l == "READY");
    let rss = std::fs::read_to_string(format!("/proc/{}/status", gw.pid())).unwrap();
    let rss = rss.lines().find(|l| l.starts_with("VmRSS:")).unwrap_or("VmRSS: ?").to_string();
    eprintln!("gateway with 1,000 open WebSocket tunnels: {rss}");
    let m = gw.metrics();
    let active: f64 = ["0", "1"]
        .iter()
        .filter_map(|w| metric_value(&m, "ringgate_websocket_connections_active", &[("worker", w)]))
        .sum();
    assert_eq!(active, 1000.0);

    gw.sigterm();
    let report = next_line(&lines, "the holder's report", Duration::from_secs(60), |l| l.starts_with('{'));
    let report: Value = serde_json::from_str(&report).unwrap();
    assert_eq!(report["opened"], 1000);
    assert_eq!(report["echoed"], 1000);
    assert_eq!(report["close_codes"], json!({"1001": 1000}), "every client got 1001: {report}");
    let status = gw.wait_exit(Duration::from_secs(20));
    assert!(status.success(), "{status:?}");
    let _ = holder.wait();
    let backend_codes: Vec<String> = (0..1000).map(|_| b.closed()).collect();
    assert!(backend_codes.iter().all(|c| c.starts_with("CLOSED 1001")), "{:?}", &backend_codes[..5]);
}

#[test]
fn wss_on_both_legs() {
    let ca = Ca::new("ringgate websocket test CA");
    let dir = tempfile::tempdir().unwrap();
    let origin = ca.leaf(&["localhost", "127.0.0.1"]);
    let (cert, key, ca_file) = (dir.path().join("o.pem"), dir.path().join("o.key"), dir.path().join("ca.pem"));
    std::fs::write(&cert, &origin.chain_pem).unwrap();
    std::fs::write(&key, &origin.key_pem).unwrap();
    std::fs::write(&ca_file, ca.pem()).unwrap();
    let b = WsBackend::start(Some((&cert, &key)));
    let front = ca.leaf(&["localhost"]);
    let doc = json!({"revision": "ws5",
        "gateway": {"hostnames": [{"hostname": "localhost", "certificateId": "gw"}]},
        "certificates": [{"id": "gw", "pem": front.chain_pem, "key": front.key_pem},
                         {"id": "ca", "pem": ca.pem(), "isTrusted": true}],
        "apis": [ws_api("chat", "chat", &format!("wss://127.0.0.1:{}", b.port), json!({"protocols": ["https"]}))]});
    let gw = Gateway::start(&doc.to_string(), &[]);
    let url = format!("wss://localhost:{}/chat", gw.https_addr().port());
    let r = client("echo", &url, &[], &[("WS_CA", ca_file.to_str().unwrap())]);
    assert_eq!(r["text"], "hello");
    assert_eq!(r["big_same"], true);
    assert_eq!(b.closed(), "CLOSED 4000 client says bye");
    gw.wait_metric("ringgate_websocket_connections_total", &[], 1.0);
    let m = gw.metrics();
    assert_eq!(metric_value(&m, "ringgate_websocket_spliced_bytes_total", &[]), Some(0.0), "TLS is copied: {m}");
    // A WebSocket API's serviceUrl is ws:// or wss://; refused otherwise, naming the field.
    let bad = json!({"apis": [ws_api("x", "x", "http://127.0.0.1:1", json!({}))]});
    let path = dir.path().join("bad.json");
    std::fs::File::create(&path).unwrap().write_all(bad.to_string().as_bytes()).unwrap();
    let (code, out, err) = run_cli(&["validate", path.to_str().unwrap()]);
    assert_ne!(code, 0);
    assert!(format!("{out}{err}").contains("apis[0].serviceUrl"), "{out}{err}");
}
