//! ws_echo and wsload together, for a fraction of a second: the echo comes back, wsload's
//! JSON has the fields perf/lab.py reads, and no connection fails.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn wsload_gets_echoes_from_ws_echo() {
    let mut echo = Command::new(env!("CARGO_BIN_EXE_ws_echo"))
        .args(["--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("ws_echo");
    let mut line = String::new();
    BufReader::new(echo.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let port: u16 = line.trim().strip_prefix("PORT ").expect("PORT <n>").parse().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_wsload"))
        .args(["--url", &format!("ws://127.0.0.1:{port}/x"), "--connections", "4", "--size", "16384"])
        .args(["--duration", "0.3", "--warmup", "0.1"])
        .output()
        .expect("wsload");
    let _ = echo.kill();
    let _ = echo.wait();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["errors"], 0, "{v}");
    assert!(v["messages"].as_u64().unwrap() > 0, "{v}");
    assert!(v["messages_total"].as_u64() >= v["messages"].as_u64(), "{v}");
    for field in ["msgs_per_s", "p50_us", "p99_us"] {
        assert!(v[field].is_number(), "{field}: {v}");
    }
}
