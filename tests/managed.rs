//! Managed mode against a programmable configuration endpoint: polling with ETags, catch-up,
//! fail static under a hostile or absent endpoint, backups (start from one, refuse a corrupt one),
//! token errors, heartbeats. The real gateway process; the endpoint is a real HTTP server here.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{wait_until, Backend, Proc};

/// How the fake endpoint answers configuration calls.
#[derive(Clone, Debug, PartialEq)]
enum Mode {
    Serve,
    Status(u16),
    Garbage,
    Reset,
    Slow(Duration),
    /// 200 with a body larger than the gateway's cap.
    Huge(usize),
    /// 200 promising more body than it sends, then closing.
    Truncated,
}

#[derive(Default)]
struct State {
    document: String,
    revision: String,
    mode: Option<Mode>,
    /// 200 answers with a document (304s not counted).
    downloads: AtomicUsize,
    not_modified: AtomicUsize,
    heartbeats: Mutex<Vec<serde_json::Value>>,
    auth_seen: Mutex<Vec<String>>,
    refuse_auth: AtomicBool,
}

struct Endpoint {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
}

impl Endpoint {
    fn start_on(addr: SocketAddr, state: Arc<Mutex<State>>) -> Endpoint {
        let listener = TcpListener::bind(addr).expect("bind endpoint");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("addr");
        let stop = Arc::new(AtomicBool::new(false));
        let (st, stop2) = (state.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop2.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((s, _)) => {
                        let (st, stop) = (st.clone(), stop2.clone());
                        std::thread::spawn(move || serve(s, &st, &stop));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Endpoint { addr, state, stop }
    }

    fn start(document: &str, revision: &str) -> Endpoint {
        let state = State { document: document.into(), revision: revision.into(), ..Default::default() };
        Endpoint::start_on("127.0.0.1:0".parse().expect("addr"), Arc::new(Mutex::new(state)))
    }

    fn set(&self, f: impl FnOnce(&mut State)) {
        f(&mut self.state.lock().expect("lock"));
    }

    fn downloads(&self) -> usize {
        self.state.lock().expect("lock").downloads.load(Ordering::SeqCst)
    }

    /// Stops accepting (the port refuses); returns the shared state for a restart on the same port.
    fn kill(self) -> (SocketAddr, Arc<Mutex<State>>) {
        self.stop.store(true, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(30));
        (self.addr, self.state.clone())
    }
}

/// Answers requests on one connection until it closes or the endpoint is killed.
fn serve(mut s: TcpStream, state: &Arc<Mutex<State>>, stop: &AtomicBool) {
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let (head_end, method, path, headers) = loop {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..end]).into_owned();
                let mut lines = head.lines();
                let first = lines.next().unwrap_or("").to_string();
                let mut parts = first.split(' ');
                let method = parts.next().unwrap_or("").to_string();
                let path = parts.next().unwrap_or("").to_string();
                let headers: Vec<(String, String)> = lines
                    .filter_map(|l| l.split_once(':'))
                    .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
                    .collect();
                break (end + 4, method, path, headers);
            }
            match s.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let header = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        let len: usize = header("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
        while buf.len() < head_end + len {
            match s.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        if stop.load(Ordering::SeqCst) {
            return; // killed: kept-alive connections die with it
        }
        let body = buf[head_end..head_end + len].to_vec();
        buf.drain(..head_end + len);
        let st = state.lock().expect("lock");
        st.auth_seen.lock().expect("lock").push(header("authorization").unwrap_or_default());
        let reply: Vec<u8> = if st.refuse_auth.load(Ordering::SeqCst) {
            b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n".to_vec()
        } else if method == "POST" && path.ends_with("/heartbeat") {
            if let Ok(v) = serde_json::from_slice(&body) {
                st.heartbeats.lock().expect("lock").push(v);
            }
            b"HTTP/1.1 204 No Content\r\n\r\n".to_vec()
        } else {
            match st.mode.clone().unwrap_or(Mode::Serve) {
                Mode::Serve => {
                    if header("if-none-match").as_deref() == Some(&format!("\"{}\"", st.revision)) {
                        st.not_modified.fetch_add(1, Ordering::SeqCst);
                        b"HTTP/1.1 304 Not Modified\r\n\r\n".to_vec()
                    } else {
                        st.downloads.fetch_add(1, Ordering::SeqCst);
                        format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\netag: \"{}\"\r\ncontent-length: {}\r\n\r\n{}",
                            st.revision,
                            st.document.len(),
                            st.document
                        )
                        .into_bytes()
                    }
                }
                Mode::Status(code) => format!("HTTP/1.1 {code} Oops\r\ncontent-length: 0\r\n\r\n").into_bytes(),
                Mode::Garbage => b"HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\n{not json".to_vec(),
                Mode::Reset => {
                    drop(st);
                    let _ = socket2::SockRef::from(&s).set_linger(Some(Duration::ZERO));
                    return;
                }
                Mode::Slow(d) => {
                    drop(st);
                    std::thread::sleep(d);
                    return;
                }
                Mode::Truncated => {
                    drop(st);
                    let _ = s.write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-length: 5000\r\n\r\n{\"revision\":\"r-cut\",\"apis\":[",
                    );
                    return;
                }
                Mode::Huge(n) => {
                    let mut r = format!("HTTP/1.1 200 OK\r\ncontent-length: {n}\r\n\r\n").into_bytes();
                    r.extend(std::iter::repeat_n(b' ', n));
                    r
                }
            }
        };
        if s.write_all(&reply).is_err() {
            return;
        }
    }
}

/// A well-formed token expiring in 20 days (within the 30-day maximum the gateway enforces);
/// the fake endpoint does not check its signature.
fn token() -> String {
    let expiry = std::time::SystemTime::now() + Duration::from_secs(20 * 86_400);
    format!("GatewayKey gw1&{}&c2lnbmF0dXJl", ringgate::timefmt::compact(expiry))
}

fn doc(rev: &str, backend: &Backend, api: &str) -> String {
    format!(
        r#"{{"revision":"{rev}","apis":[{{"id":"{api}","path":"{api}","serviceUrl":"{}","subscriptionRequired":false}}]}}"#,
        backend.url()
    )
}

struct Gw {
    proc: Proc,
    http: SocketAddr,
    admin: SocketAddr,
}

fn start_gateway(endpoint: SocketAddr, token: &str, extra: &[String]) -> Gw {
    let mut args: Vec<String> = vec!["run".into()];
    let mut sets = vec![
        format!("config.service.endpoint=http://{endpoint}"),
        "config.service.endpoint.allow-plain-http=true".to_string(),
        format!("config.service.auth={token}"),
        "config.service.poll.interval=200ms".into(),
        "config.service.heartbeat.interval=200ms".into(),
        "config.service.integration.timeout=1s".into(),
        "net.server.bind=127.0.0.1".into(),
        "net.server.http.port=0".into(),
        "net.server.https.port=0".into(),
        "net.server.admin.port=0".into(),
        "runtime.workers=2".into(),
        "telemetry.logs.std=json".into(),
    ];
    sets.extend(extra.iter().cloned());
    for s in sets {
        args.push("--set".into());
        args.push(s);
    }
    let mut proc = Proc::spawn(&args);
    let line = proc.wait_line("the listening line", Duration::from_secs(20), |l| l.contains("\"listening\""));
    let v: serde_json::Value = serde_json::from_str(&line).expect("json");
    let http = v["fields"]["http"].as_str().and_then(|a| a.parse().ok()).expect("http addr");
    let admin = v["fields"]["admin"].as_str().and_then(|a| a.parse().ok()).expect("admin addr");
    Gw { proc, http, admin }
}

impl Gw {
    fn get(&self, target: &str) -> common::Response {
        common::client::get(self.http, target, &[])
    }

    fn status(&self) -> serde_json::Value {
        common::client::get(self.admin, "/status", &[]).json()
    }

    fn wait_serving(&self, rev: &str) {
        wait_until(&format!("revision {rev} applied"), Duration::from_secs(10), || {
            let s = self.status();
            (s["revision"] == rev && s["applied"] == true).then_some(())
        });
    }
}

#[test]
fn polls_with_etags_and_applies_changes_within_a_poll() {
    let backend = Backend::normal();
    let ep = Endpoint::start(&doc("r1", &backend, "one"), "r1");
    let tok = token();
    let gw = start_gateway(ep.addr, &tok, &[]);
    gw.wait_serving("r1");
    assert_eq!(gw.get("/one/x").status, 200);
    // Several polls later: still one download; the rest were 304s.
    wait_until("three 304 answers", Duration::from_secs(5), || {
        (ep.state.lock().expect("lock").not_modified.load(Ordering::SeqCst) >= 3).then_some(())
    });
    assert_eq!(ep.downloads(), 1, "unchanged documents must not be downloaded again");
    assert!(ep.state.lock().expect("lock").auth_seen.lock().expect("lock").iter().all(|a| *a == tok));
    ep.set(|s| {
        s.document = doc("r2", &backend, "two");
        s.revision = "r2".into();
    });
    gw.wait_serving("r2");
    assert_eq!(gw.get("/two/x").status, 200);
    assert_eq!(gw.get("/one/x").status, 404);
    // Heartbeats name the instance and the applied revision.
    wait_until("a heartbeat with r2", Duration::from_secs(5), || {
        let hb = ep.state.lock().expect("lock").heartbeats.lock().expect("lock").clone();
        hb.iter().any(|h| h["revision"] == "r2" && h["instanceId"].is_string() && h["workers"] == 2).then_some(())
    });
}

#[test]
fn hostile_endpoint_changes_nothing() {
    let backend = Backend::normal();
    let ep = Endpoint::start(&doc("r1", &backend, "one"), "r1");
    let gw = start_gateway(ep.addr, &token(), &["config.service.max-document-bytes=4096".into()]);
    gw.wait_serving("r1");
    let modes = [
        Mode::Status(500),
        Mode::Status(503),
        Mode::Garbage,
        Mode::Reset,
        Mode::Slow(Duration::from_secs(3)),
        Mode::Huge(100_000),
        Mode::Truncated,
    ];
    for mode in modes {
        let before = gw.status()["syncFailures"].as_u64().unwrap_or(0);
        ep.set(|s| {
            s.mode = Some(mode.clone());
            s.revision = "r-new".into(); // so the gateway asks for a body
        });
        wait_until(&format!("a sync failure under {mode:?}"), Duration::from_secs(10), || {
            (gw.status()["syncFailures"].as_u64().unwrap_or(0) > before).then_some(())
        });
        let s = gw.status();
        assert_eq!(s["revision"], "r1", "{mode:?} changed what is served: {s}");
        assert!(s["endpointError"].is_string() || s["lastError"].is_string(), "{mode:?} not reported: {s}");
        assert_eq!(gw.get("/one/x").status, 200, "{mode:?}");
    }
    // A document that does not load: refused, reported in the heartbeat, not fetched again.
    ep.set(|s| {
        s.mode = None;
        s.document = r#"{"revision":"bad","apis":[{"id":"x"}]}"#.into();
        s.revision = "bad".into();
    });
    wait_until("the bad document reported in a heartbeat", Duration::from_secs(10), || {
        let hb = ep.state.lock().expect("lock").heartbeats.lock().expect("lock").clone();
        hb.iter().any(|h| h["lastSyncError"].as_str().is_some_and(|e| e.contains("apis[0]"))).then_some(())
    });
    let downloads = ep.downloads();
    std::thread::sleep(Duration::from_millis(800)); // several polls (200 ms)
    assert_eq!(ep.downloads(), downloads, "a refused revision must not be downloaded again");
    assert_eq!(gw.status()["revision"], "r1");
    assert!(gw.proc.log_text().contains("apis[0].path"), "the rejection names the path");
    assert!(!gw.proc.log_text().contains("c2lnbmF0dXJl"), "the token leaked into the logs");
}

#[test]
fn endpoint_gone_for_a_while_then_caught_up() {
    let backend = Backend::normal();
    let ep = Endpoint::start(&doc("r1", &backend, "one"), "r1");
    let gw = start_gateway(ep.addr, &token(), &[]);
    gw.wait_serving("r1");
    let (addr, state) = ep.kill();
    for _ in 0..10 {
        assert_eq!(gw.get("/one/x").status, 200, "serving must go on without the endpoint");
        std::thread::sleep(Duration::from_millis(150));
    }
    assert!(gw.status()["endpointError"].is_string());
    {
        let mut st = state.lock().expect("lock");
        st.document = doc("r2", &backend, "two");
        st.revision = "r2".into();
    }
    let _ep = Endpoint::start_on(addr, state);
    gw.wait_serving("r2");
    assert_eq!(gw.get("/two/x").status, 200);
}

fn backup_file(dir: &Path) -> std::path::PathBuf {
    dir.join("ringgate-config.backup")
}

#[test]
fn starts_from_backup_while_the_endpoint_is_down() {
    let backend = Backend::normal();
    let dir = tempfile::tempdir().expect("tempdir");
    let backup = format!("config.backup.path={}", dir.path().display());
    let ep = Endpoint::start(&doc("r1", &backend, "one"), "r1");
    {
        let gw = start_gateway(ep.addr, &token(), std::slice::from_ref(&backup));
        gw.wait_serving("r1");
        wait_until("the backup written", Duration::from_secs(5), || backup_file(dir.path()).exists().then_some(()));
    }
    let (addr, state) = ep.kill();
    let gw = start_gateway(addr, &token(), std::slice::from_ref(&backup));
    gw.wait_serving("r1");
    assert_eq!(gw.status()["source"], "backup");
    assert!(gw.proc.log_text().contains("starting from the configuration backup"));
    assert_eq!(gw.get("/one/x").status, 200);
    assert_eq!(gw.get("/status-0123456789abcdef").status, 200);
    // The endpoint returns with a newer document: it wins.
    {
        let mut st = state.lock().expect("lock");
        st.document = doc("r2", &backend, "two");
        st.revision = "r2".into();
    }
    let _ep = Endpoint::start_on(addr, state);
    gw.wait_serving("r2");
    assert_eq!(gw.status()["source"], "endpoint");
}

#[test]
fn corrupt_backup_is_refused_and_the_gateway_waits_at_503() {
    let backend = Backend::normal();
    let dir = tempfile::tempdir().expect("tempdir");
    let backup = format!("config.backup.path={}", dir.path().display());
    let ep = Endpoint::start(&doc("r1", &backend, "one"), "r1");
    {
        let gw = start_gateway(ep.addr, &token(), std::slice::from_ref(&backup));
        gw.wait_serving("r1");
        wait_until("the backup written", Duration::from_secs(5), || backup_file(dir.path()).exists().then_some(()));
    }
    let (addr, state) = ep.kill();
    let mut raw = std::fs::read(backup_file(dir.path())).expect("backup");
    let last = raw.len() - 3;
    raw[last] ^= 0x20;
    std::fs::write(backup_file(dir.path()), &raw).expect("corrupt it");
    let gw = start_gateway(addr, &token(), std::slice::from_ref(&backup));
    wait_until("the refusal logged", Duration::from_secs(5), || {
        gw.proc.log_text().contains("configuration backup is refused").then_some(())
    });
    assert_eq!(gw.get("/status-0123456789abcdef").status, 503);
    let r = gw.get("/one/x");
    assert_eq!(r.status, 503, "no configuration: never an empty 200");
    let _ep = Endpoint::start_on(addr, state);
    gw.wait_serving("r1");
    assert_eq!(gw.get("/one/x").status, 200);
    assert_eq!(gw.get("/status-0123456789abcdef").status, 200);
}

#[test]
fn refused_or_expired_token_is_a_clear_error() {
    let backend = Backend::normal();
    let ep = Endpoint::start(&doc("r1", &backend, "one"), "r1");
    ep.set(|s| s.refuse_auth.store(true, Ordering::SeqCst));
    let expired = "GatewayKey gw1&202001010000&c2lnbmF0dXJl";
    let gw = start_gateway(ep.addr, expired, &[]);
    wait_until("the token error in /status", Duration::from_secs(5), || {
        gw.status()["endpointError"].as_str().is_some_and(|e| e.contains("401")).then_some(())
    });
    let logs = gw.proc.log_text();
    assert!(logs.contains("token has expired"), "{logs}");
    assert!(logs.contains("refused the gateway token"), "{logs}");
    assert_eq!(gw.get("/one/x").status, 503);
    let metrics = common::client::get(gw.admin, "/metrics", &[]).text();
    let expiry = metrics
        .lines()
        .find(|l| l.starts_with("ringgate_token_expiry_seconds "))
        .and_then(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .expect("token expiry gauge");
    assert!(expiry < 0.0, "expired token shows a negative expiry: {expiry}");
}

/// A secret named value in a document the gateway rejects: the heartbeat's `lastSyncError`
/// names the problem, never the value (the endpoint would store and show it).
#[test]
fn heartbeats_never_carry_named_values() {
    const SECRET: &str = "hb-s3cr3t-9Xw2";
    let backend = Backend::normal();
    let ep = Endpoint::start(&doc("r1", &backend, "one"), "r1");
    let gw = start_gateway(ep.addr, &token(), &[]);
    gw.wait_serving("r1");
    let leaky = format!(
        r#"{{"revision":"r2","namedValues":{{"k":"{SECRET}"}},"apis":[{{"id":"one","path":"one","serviceUrl":"ftp://{{{{k}}}}/x","subscriptionRequired":false}}]}}"#
    );
    ep.set(|s| {
        s.document = leaky;
        s.revision = "r2".into();
    });
    let hb = wait_until("a heartbeat reporting the rejection", Duration::from_secs(10), || {
        let st = ep.state.lock().expect("lock");
        let hbs = st.heartbeats.lock().expect("lock");
        hbs.iter().rev().find(|h| h["lastSyncError"].as_str().is_some_and(|e| e.contains("serviceUrl"))).cloned()
    });
    assert!(!hb.to_string().contains(SECRET), "{hb}");
    assert!(!gw.proc.log_text().contains(SECRET), "{}", gw.proc.log_text());
    assert_eq!(gw.get("/one/x").status, 200, "r1 still serves");
}
