//! How long does a large document take to reach the workers? Generates a document of N APIs with
//! 5 operations each (default 10,000), then times parse + validate + compile (`load_document`),
//! the gateway's snapshot build, and one deep copy per worker (what the control thread sends).
//!
//! `cargo run --release --example config_bench -- [apis] [workers]`

use std::time::{Duration, Instant};

fn document(apis: usize) -> String {
    let mut s = String::with_capacity(apis * 700);
    s.push_str("{\"revision\":\"bench\",\"apis\":[");
    for i in 0..apis {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&format!(
            "{{\"id\":\"api-{i}\",\"name\":\"API {i}\",\"path\":\"svc{i}/v1\",\"serviceUrl\":\"http://127.0.0.1:9000/svc{i}\",\
             \"operations\":[\
             {{\"id\":\"list\",\"method\":\"GET\",\"urlTemplate\":\"/items\"}},\
             {{\"id\":\"get\",\"method\":\"GET\",\"urlTemplate\":\"/items/{{id}}\"}},\
             {{\"id\":\"create\",\"method\":\"POST\",\"urlTemplate\":\"/items\"}},\
             {{\"id\":\"update\",\"method\":\"PUT\",\"urlTemplate\":\"/items/{{id}}\"}},\
             {{\"id\":\"files\",\"method\":\"*\",\"urlTemplate\":\"/files/*\"}}]}}"
        ));
    }
    s.push_str("],\"products\":[{\"id\":\"p\",\"name\":\"P\",\"apis\":[");
    for i in 0..apis.min(1000) {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&format!("\"api-{i}\""));
    }
    s.push_str("]}],\"subscriptions\":[");
    for i in 0..apis.min(1000) {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&format!(
            "{{\"id\":\"s{i}\",\"scope\":\"/apis/api-{i}\",\"primaryKey\":\"key-{i}-primary-0123456789\",\"state\":\"active\"}}"
        ));
    }
    s.push_str("]}");
    s
}

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| a.parse::<usize>().is_ok());
    let apis: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let workers: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2);
    let doc = document(apis);
    // `--write FILE [REVISION]`: write the document (for perf/large_config.py) and stop.
    if let Some(pos) = std::env::args().position(|a| a == "--write") {
        let path = std::env::args().nth(pos + 1).unwrap_or_else(|| "large.json".into());
        let rev = std::env::args().nth(pos + 2).unwrap_or_else(|| "bench".into());
        let doc = doc.replacen("\"revision\":\"bench\"", &format!("\"revision\":\"{rev}\""), 1);
        if let Err(e) = std::fs::write(&path, doc) {
            eprintln!("{path}: {e}");
            std::process::exit(1);
        }
        return;
    }
    println!("document: {apis} APIs x 5 operations, {} bytes, {workers} workers", doc.len());
    let mut best = [Duration::MAX; 3];
    let builder = ringgate::snapshot::Builder {
        server_tls: ringgate::tls::ServerTls::new(None).unwrap_or_else(|e| panic!("{e}")),
        client_provider: std::sync::Arc::new(rustls::crypto::ring::default_provider()),
        default_timeout: Duration::from_secs(300),
    };
    for _ in 0..5 {
        let mut bytes = doc.clone().into_bytes();
        let t0 = Instant::now();
        let loaded = match ringgate::config::load_document(&mut bytes) {
            Ok(l) => l,
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(1);
            }
        };
        let t1 = Instant::now();
        let snap = match builder.build(loaded.snapshot, 1) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(1);
            }
        };
        let t2 = Instant::now();
        let copies: Vec<_> = (0..workers).map(|_| snap.clone()).collect();
        let t3 = Instant::now();
        drop(copies);
        for (b, d) in best.iter_mut().zip([t1 - t0, t2 - t1, t3 - t2]) {
            *b = (*b).min(d);
        }
    }
    let total: Duration = best.iter().sum();
    println!(
        "best of 5: load+compile {:.1} ms, snapshot build {:.1} ms, {workers} worker copies {:.1} ms, total {:.1} ms",
        best[0].as_secs_f64() * 1e3,
        best[1].as_secs_f64() * 1e3,
        best[2].as_secs_f64() * 1e3,
        total.as_secs_f64() * 1e3
    );
}
