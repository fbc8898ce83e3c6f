//! Shared integration-test harness: the real `ringgate` binary, real backends,
//! a raw HTTP/1.1 client, and test TLS material. Everything binds 127.0.0.1:0
//! and waits on conditions with deadlines.
#![allow(dead_code)]

pub mod backend;
pub mod client;
pub mod gateway;
pub mod netns;
pub mod redis;
pub mod tls;

use std::time::{Duration, Instant};

#[allow(unused_imports)]
pub use backend::{Backend, BackendMode};
#[allow(unused_imports)]
pub use client::{Conn, Response};
#[allow(unused_imports)]
pub use gateway::{Gateway, Proc};

/// Poll `f` until it returns `Some`, or panic naming `what` after `timeout`.
pub fn wait_until<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        if Instant::now() >= deadline {
            panic!("timed out after {timeout:?} waiting for: {what}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Streaming FNV-1a 64 over bytes: the checksum client and backends agree on.
#[derive(Clone, Copy, Debug)]
pub struct Fnv64(pub u64);

impl Default for Fnv64 {
    fn default() -> Self {
        Fnv64(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv64 {
    pub fn update(&mut self, data: &[u8]) {
        let mut h = self.0;
        for &b in data {
            h ^= b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.0 = h;
    }
    pub fn hex(&self) -> String {
        format!("{:016x}", self.0)
    }
}

pub fn fnv_hex(data: &[u8]) -> String {
    let mut h = Fnv64::default();
    h.update(data);
    h.hex()
}

/// Length of the repeating pattern block (prime, so it never lines up with buffer sizes).
const PATTERN_LEN: usize = 1_000_003;

fn pattern_block() -> &'static [u8] {
    static BLOCK: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    BLOCK.get_or_init(|| {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        (0..PATTERN_LEN)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect()
    })
}

/// Fill `buf` with the deterministic body pattern starting at byte `offset`.
pub fn fill_pattern(offset: u64, buf: &mut [u8]) {
    let block = pattern_block();
    let mut pos = (offset % PATTERN_LEN as u64) as usize;
    let mut done = 0;
    while done < buf.len() {
        let n = (buf.len() - done).min(PATTERN_LEN - pos);
        buf[done..done + n].copy_from_slice(&block[pos..pos + n]);
        done += n;
        pos = 0;
    }
}

/// Checksum of the first `len` bytes of the pattern.
pub fn pattern_fnv(len: u64) -> String {
    let mut h = Fnv64::default();
    let mut buf = vec![0u8; 256 * 1024];
    let mut off = 0u64;
    while off < len {
        let n = ((len - off) as usize).min(buf.len());
        fill_pattern(off, &mut buf[..n]);
        h.update(&buf[..n]);
        off += n as u64;
    }
    h.hex()
}

/// A port on 127.0.0.1 where nothing listens (bound once, then released).
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Assert the gateway-generated error shape: status, JSON content type,
/// `{"statusCode": N, "message": "…"}`.
pub fn assert_error_shape(resp: &Response, status: u16) {
    assert_eq!(resp.status, status, "unexpected status; response: {resp:?}");
    let ct = resp.header("content-type").unwrap_or_default();
    assert!(
        ct.to_ascii_lowercase().starts_with("application/json"),
        "error content-type should be application/json, got {ct:?}; response: {resp:?}"
    );
    let v: serde_json::Value =
        serde_json::from_slice(&resp.body).unwrap_or_else(|e| panic!("error body is not JSON ({e}): {resp:?}"));
    assert_eq!(v["statusCode"].as_u64(), Some(status as u64), "statusCode field; body {v}");
    let msg = v["message"].as_str().unwrap_or_else(|| panic!("message field missing: {v}"));
    assert!(!msg.is_empty(), "empty error message: {v}");
}

/// Runs `python3 -c script` with `stdin` as its input (an independent tool reading what the
/// gateway wrote, such as the Prometheus parser); panics only if python3 cannot be started.
pub fn python_with_stdin(script: &str, stdin: &str) -> std::process::Output {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3");
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write to python3");
    child.wait_with_output().expect("python3 ran")
}
