//! The real `ringgate` binary as a child process: logs captured line by line,
//! killed on drop (logs printed when the test is failing).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::client::{self, Response};
use super::wait_until;

pub const BIN: &str = env!("CARGO_BIN_EXE_ringgate");

/// A child process whose stdout and stderr lines are kept (stderr lines are
/// prefixed with `stderr: `). Killed on drop.
pub struct Proc {
    pub child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    exit: Option<ExitStatus>,
    name: String,
}

impl Proc {
    pub fn spawn(args: &[String]) -> Proc {
        Proc::spawn_with_env(args, &[])
    }

    /// As [`Proc::spawn`], with environment variables set for the child only.
    pub fn spawn_with_env(args: &[String], env: &[(&str, &str)]) -> Proc {
        let mut child = Command::new(BIN)
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {BIN}: {e}"));
        let lines = Arc::new(Mutex::new(Vec::new()));
        let out = child.stdout.take().unwrap();
        let err = child.stderr.take().unwrap();
        for (r, prefix) in [
            (Box::new(out) as Box<dyn std::io::Read + Send>, ""),
            (Box::new(err) as Box<dyn std::io::Read + Send>, "stderr: "),
        ] {
            let lines = lines.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(r).lines() {
                    let Ok(line) = line else { break };
                    lines.lock().unwrap().push(format!("{prefix}{line}"));
                }
            });
        }
        Proc { child, lines, exit: None, name: args.join(" ") }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn logs(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    pub fn log_text(&self) -> String {
        self.logs().join("\n")
    }

    pub fn try_exit(&mut self) -> Option<ExitStatus> {
        if self.exit.is_none() {
            self.exit = self.child.try_wait().unwrap();
        }
        self.exit
    }

    /// Wait for exit with a deadline; panics (the drop kills the process) on timeout.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(s) = self.try_exit() {
                // let the reader threads drain the pipes
                std::thread::sleep(Duration::from_millis(50));
                return s;
            }
            if Instant::now() >= deadline {
                panic!("process did not exit within {timeout:?}: {}", self.name);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on our own child's pid; no memory is touched.
        let rc = unsafe { libc::kill(self.child.id() as libc::pid_t, sig) };
        assert_eq!(rc, 0, "kill({}, {sig}) failed", self.child.id());
    }

    /// Wait for a log line satisfying `pred` and return it.
    pub fn wait_line(&mut self, what: &str, timeout: Duration, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(l) = self.logs().into_iter().find(|l| pred(l)) {
                return l;
            }
            if let Some(s) = self.try_exit() {
                std::thread::sleep(Duration::from_millis(100));
                panic!("process exited ({s}) before {what}; output:\n{}", self.log_text());
            }
            if Instant::now() >= deadline {
                panic!("timed out waiting for {what}; output:\n{}", self.log_text());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if self.try_exit().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if std::thread::panicking() {
            let logs = self.logs();
            let from = logs.len().saturating_sub(300);
            eprintln!("---- output of `ringgate {}` (last {} lines) ----", self.name, logs.len() - from);
            for l in &logs[from..] {
                eprintln!("{l}");
            }
            eprintln!("---- end of output ----");
        }
    }
}

/// Run `ringgate ARGS` to completion (deadline 30 s): (exit code, stdout, stderr).
pub fn run_cli(args: &[&str]) -> (i32, String, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "`ringgate {}` did not exit within 30 s; stdout:\n{}\nstderr:\n{}",
                args.join(" "),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub struct Gateway {
    pub proc: Proc,
    pub dir: tempfile::TempDir,
    pub config_path: PathBuf,
    http: SocketAddr,
    admin: SocketAddr,
}

/// Parse a tracing-subscriber JSON line.
pub fn json_line(line: &str) -> Option<serde_json::Value> {
    serde_json::from_str::<serde_json::Value>(line).ok()
}

fn listening_addrs(line: &str) -> Option<(SocketAddr, SocketAddr)> {
    let v = json_line(line)?;
    if v["fields"]["message"].as_str() != Some("listening") {
        return None;
    }
    let http = v["fields"]["http"].as_str()?.parse().ok()?;
    let admin = v["fields"]["admin"].as_str()?.parse().ok()?;
    Some((http, admin))
}

impl Gateway {
    /// Write `config_json` to a tempdir, start the gateway on port 0 with 2
    /// workers and JSON logs (plus `extra_sets`, each `key=value`), wait for
    /// the `listening` line and for `/status` to report the document's
    /// revision applied.
    pub fn start(config_json: &str, extra_sets: &[&str]) -> Gateway {
        Gateway::start_with_env(config_json, extra_sets, &[])
    }

    /// As [`Gateway::start`], with environment variables for the gateway's process only.
    pub fn start_with_env(config_json: &str, extra_sets: &[&str], env: &[(&str, &str)]) -> Gateway {
        let dir = tempfile::tempdir().unwrap();
        let config_path = dir.path().join("config.json");
        std::fs::write(&config_path, config_json).unwrap();
        let mut sets = vec![
            format!("config.local.path={}", config_path.display()),
            "net.server.bind=127.0.0.1".into(),
            "net.server.http.port=0".into(),
            "net.server.admin.port=0".into(),
            "net.server.https.port=0".into(),
            "runtime.workers=2".into(),
            "telemetry.logs.std=json".into(),
        ];
        sets.extend(extra_sets.iter().map(|s| s.to_string()));
        let mut args = vec!["run".to_string()];
        for s in sets {
            args.push("--set".into());
            args.push(s);
        }
        let mut proc = Proc::spawn_with_env(&args, env);
        let line =
            proc.wait_line("the `listening` log line", Duration::from_secs(20), |l| listening_addrs(l).is_some());
        let (http, admin) = listening_addrs(&line).unwrap();
        let gw = Gateway { proc, dir, config_path, http, admin };
        if let Some(rev) = serde_json::from_str::<serde_json::Value>(config_json)
            .ok()
            .and_then(|v| v["revision"].as_str().map(String::from))
        {
            gw.wait_revision(&rev);
        }
        gw
    }

    pub fn http_addr(&self) -> SocketAddr {
        self.http
    }
    pub fn admin_addr(&self) -> SocketAddr {
        self.admin
    }
    /// The HTTPS port, from the `listening` log line.
    pub fn https_addr(&self) -> SocketAddr {
        self.logs()
            .iter()
            .filter_map(|l| json_line(l))
            .find(|v| v["fields"]["message"] == "listening")
            .and_then(|v| v["fields"]["https"].as_str()?.parse().ok())
            .expect("an https address in the listening line")
    }
    pub fn pid(&self) -> u32 {
        self.proc.pid()
    }
    pub fn logs(&self) -> Vec<String> {
        self.proc.logs()
    }
    pub fn log_text(&self) -> String {
        self.proc.log_text()
    }

    /// One request on a fresh connection to the API port.
    pub fn get(&self, target: &str, headers: &[(&str, &str)]) -> Response {
        client::get(self.http, target, headers)
    }

    pub fn admin_get(&self, target: &str) -> Response {
        client::get(self.admin, target, &[])
    }

    pub fn status(&self) -> serde_json::Value {
        // 503 (with the same JSON) while not every worker runs the revision
        let r = self.admin_get("/status");
        assert!(r.status == 200 || r.status == 503, "admin /status: {r:?}");
        r.json()
    }

    /// Wait (10 s) until `/status` reports `rev` applied on every worker.
    pub fn wait_revision(&self, rev: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let last = self.status();
            if last["revision"].as_str() == Some(rev) && last["applied"].as_bool() == Some(true) {
                return;
            }
            if Instant::now() > deadline {
                panic!("revision {rev} not applied within 10 s; last /status: {last}");
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Replace the configuration file atomically (temp file + rename).
    pub fn write_config(&self, json: &str) {
        let tmp = self.dir.path().join(".config.json.tmp");
        std::fs::write(&tmp, json).unwrap();
        std::fs::rename(&tmp, &self.config_path).unwrap();
    }

    /// Rewrite the configuration file in place (truncate + write).
    pub fn write_config_in_place(&self, json: &str) {
        std::fs::write(&self.config_path, json).unwrap();
    }

    pub fn config_dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn metrics(&self) -> String {
        let r = self.admin_get("/metrics");
        assert_eq!(r.status, 200, "admin /metrics: {r:?}");
        r.text()
    }

    /// Wait (5 s) until metric `name` with exactly `labels` equals `want`.
    pub fn wait_metric(&self, name: &str, labels: &[(&str, &str)], want: f64) {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let last = self.metrics();
            if metric_value(&last, name, labels) == Some(want) {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "metric {name}{labels:?} never became {want} (now {:?}); /metrics:\n{last}",
                    metric_value(&last, name, labels)
                );
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Peak resident set size (VmHWM) in bytes.
    pub fn peak_rss(&self) -> u64 {
        let s = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        let line = s.lines().find(|l| l.starts_with("VmHWM:")).expect("VmHWM line");
        let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
        kb * 1024
    }

    pub fn sigterm(&self) {
        self.proc.signal(libc::SIGTERM);
    }

    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        self.proc.wait_exit(timeout)
    }

    /// Wait until an API-port request to `target` answers `status`.
    pub fn wait_status(&self, target: &str, headers: &[(&str, &str)], status: u16) -> Response {
        wait_until(&format!("GET {target} → {status}"), Duration::from_secs(10), || {
            let r = self.get(target, headers);
            (r.status == status).then_some(r)
        })
    }
}

/// Value of a Prometheus sample whose name is `name` and whose label set is
/// exactly `labels` (any order).
pub fn metric_value(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    for line in text.lines() {
        if line.starts_with('#') {
            continue;
        }
        let (series, value) = match line.rsplit_once(' ') {
            Some(x) => x,
            None => continue,
        };
        let (n, lbl) = match series.find('{') {
            Some(i) => (&series[..i], &series[i + 1..series.len() - 1]),
            None => (series, ""),
        };
        if n != name {
            continue;
        }
        let mut got: Vec<(String, String)> = Vec::new();
        for part in lbl.split("\",").filter(|p| !p.is_empty()) {
            if let Some((k, v)) = part.split_once("=\"") {
                got.push((k.trim().to_string(), v.trim_end_matches('"').to_string()));
            }
        }
        let mut want: Vec<(String, String)> = labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        got.sort();
        want.sort();
        if got == want {
            return value.trim().parse().ok();
        }
    }
    None
}

/// `ringgate control-plane` as a child process, serving HTTPS with the certificate it
/// generates into `DATA/tls/cert.pem` (or plain HTTP with `--plain-http` in `extra`).
pub struct ControlPlane {
    pub proc: Proc,
    pub addr: SocketAddr,
    pub key: String,
    pub data: PathBuf,
    /// `https` or `http`.
    pub scheme: &'static str,
    agent: ureq::Agent,
}

/// A control-plane answer.
#[derive(Debug)]
pub struct CpResponse {
    pub status: u16,
    pub body: Vec<u8>,
}

impl CpResponse {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A ureq agent trusting exactly the PEM certificates in `ca_file` (none: plain HTTP only).
pub fn agent_trusting(ca_file: Option<&Path>) -> ureq::Agent {
    let mut tls = ureq::tls::TlsConfig::builder();
    if let Some(file) = ca_file {
        let pem = std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let certs: Vec<_> = ureq::tls::parse_pem(&pem)
            .filter_map(|i| match i {
                Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                _ => None,
            })
            .collect();
        tls = tls.root_certs(ureq::tls::RootCerts::new_with_certs(&certs));
    }
    ureq::Agent::config_builder()
        .tls_config(tls.build())
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

impl ControlPlane {
    pub fn start(data: &Path, listen: &str, extra: &[&str]) -> ControlPlane {
        let mut args: Vec<String> = ["control-plane", "--data", &data.display().to_string(), "--listen", listen]
            .iter()
            .map(|s| s.to_string())
            .collect();
        args.extend(extra.iter().map(|s| s.to_string()));
        let mut proc = Proc::spawn(&args);
        let line = proc.wait_line("control plane listening", Duration::from_secs(20), |l| {
            l.contains("control plane listening on ")
        });
        let (scheme, addr) = line.rsplit_once(' ').and_then(|(_, url)| url.split_once("://")).expect("url");
        let scheme = if scheme == "https" { "https" } else { "http" };
        let addr = addr.trim().parse().expect("address");
        let key = std::fs::read_to_string(data.join("admin.key")).expect("admin key").trim().to_string();
        let ca = data.join("tls").join("cert.pem");
        let agent = agent_trusting((scheme == "https").then_some(ca.as_path()));
        ControlPlane { proc, addr, key, data: data.to_path_buf(), scheme, agent }
    }

    /// The certificate gateways verify the control plane with.
    pub fn ca_file(&self) -> PathBuf {
        self.data.join("tls").join("cert.pem")
    }

    /// `https://localhost:PORT` (the generated certificate names localhost and 127.0.0.1).
    pub fn url(&self) -> String {
        format!("{}://127.0.0.1:{}", self.scheme, self.addr.port())
    }

    /// A call with the given `Authorization` header value (or none), body sent as is.
    pub fn raw(&self, method: &str, path: &str, authorization: Option<&str>, body: &[u8]) -> CpResponse {
        let url = format!("{}{path}", self.url());
        let mut req = ureq::http::Request::builder().method(method).uri(&url);
        if let Some(a) = authorization {
            req = req.header("Authorization", a);
        }
        let req = req.body(body.to_vec()).expect("request");
        match self.agent.run(req) {
            Ok(mut resp) => {
                let status = resp.status().as_u16();
                let body = resp.body_mut().with_config().limit(64 << 20).read_to_vec().unwrap_or_default();
                CpResponse { status, body }
            }
            Err(e) => panic!("{method} {url}: {e}"),
        }
    }

    /// An admin call (the admin key unless `auth` names another bearer value).
    pub fn call(&self, method: &str, path: &str, body: &serde_json::Value, auth: Option<&str>) -> CpResponse {
        let bearer = format!("Bearer {}", auth.unwrap_or(&self.key));
        let bytes = if body.is_null() { Vec::new() } else { serde_json::to_vec(body).expect("json") };
        self.raw(method, path, Some(&bearer), &bytes)
    }

    /// A 7-day token for gateway `gw`, as `GatewayKey …`.
    pub fn token(&self, gw: &str) -> String {
        let r = self.call(
            "POST",
            &format!("/admin/gateways/{gw}/token"),
            &serde_json::json!({"keyType": "primary", "expiry": "7d"}),
            None,
        );
        assert_eq!(r.status, 200, "{}", r.text());
        format!("GatewayKey {}", r.json()["value"].as_str().expect("value"))
    }

    /// `GET /gateways/{gw}/configuration` with a token: the status.
    pub fn fetch_status(&self, token: &str, gw: &str) -> u16 {
        self.raw("GET", &format!("/gateways/{gw}/configuration"), Some(token), b"").status
    }
}

/// A gateway in managed mode against `endpoint` (an `https://` URL unless told to allow plain
/// http), waiting for its `listening` line. `extra` are further `key=value` settings.
pub fn managed_gateway(endpoint: &str, token: &str, extra: &[String]) -> (Proc, SocketAddr, SocketAddr) {
    let mut sets = vec![
        format!("config.service.endpoint={endpoint}"),
        format!("config.service.auth={token}"),
        "config.service.poll.interval=300ms".to_string(),
        "config.service.heartbeat.interval=300ms".to_string(),
        "config.service.integration.timeout=2s".to_string(),
        "net.server.bind=127.0.0.1".into(),
        "net.server.http.port=0".into(),
        "net.server.https.port=0".into(),
        "net.server.admin.port=0".into(),
        "runtime.workers=2".into(),
        "telemetry.logs.std=json".into(),
    ];
    sets.extend(extra.iter().cloned());
    let mut args = vec!["run".to_string()];
    for s in sets {
        args.push("--set".into());
        args.push(s);
    }
    let mut proc = Proc::spawn(&args);
    let line = proc.wait_line("listening", Duration::from_secs(20), |l| listening_addrs(l).is_some());
    let (http, admin) = listening_addrs(&line).expect("addresses");
    (proc, http, admin)
}
