//! A closed-loop WebSocket load generator for the perf lab: each connection sends a binary
//! message of `--size` bytes, waits for its echo, and sends the next, for `--duration` seconds.
//! One thread (tokio current-thread), so it shares a core with the origin. Prints one JSON
//! object: messages and msgs_per_s (counted after the warm-up), messages_total (every echo,
//! warm-up included: what a caller measuring the proxy's CPU over the whole run divides by),
//! latency percentiles (µs), errors.
//!
//!     wsload --url ws://127.0.0.1:PORT/path [--connections 64] [--size 128] [--duration 10]

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

#[derive(Parser)]
struct Args {
    #[arg(long)]
    url: String,
    #[arg(long, default_value_t = 64)]
    connections: usize,
    #[arg(long, default_value_t = 128)]
    size: usize,
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Seconds of traffic before counting starts.
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
}

#[derive(Default)]
struct Tally {
    messages: u64,
    total: u64,
    errors: u64,
}

fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let local = tokio::task::LocalSet::new();
    let hist = Rc::new(RefCell::new(Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram")));
    let tally = Rc::new(RefCell::new(Tally::default()));
    let start = Instant::now() + Duration::from_secs_f64(args.warmup);
    let end = start + Duration::from_secs_f64(args.duration);
    local.block_on(&rt, async {
        let mut tasks = Vec::new();
        for _ in 0..args.connections {
            let (url, size, hist, tally) = (args.url.clone(), args.size, hist.clone(), tally.clone());
            tasks.push(tokio::task::spawn_local(async move {
                if one(&url, size, start, end, &hist, &tally).await.is_err() {
                    tally.borrow_mut().errors += 1;
                }
            }));
        }
        for t in tasks {
            let _ = t.await;
        }
    });
    let h = hist.borrow();
    let t = tally.borrow();
    let secs = args.duration;
    let q = |p: f64| if h.is_empty() { 0 } else { h.value_at_quantile(p) };
    println!(
        "{}",
        serde_json::json!({
            "url": args.url, "connections": args.connections, "size": args.size, "duration_s": secs,
            "messages": t.messages, "messages_total": t.total, "msgs_per_s": (t.messages as f64 / secs).round(),
            "p50_us": q(0.5), "p99_us": q(0.99), "max_us": h.max(), "errors": t.errors,
        })
    );
    Ok(())
}

async fn one(
    url: &str,
    size: usize,
    start: Instant,
    end: Instant,
    hist: &RefCell<Histogram<u64>>,
    tally: &RefCell<Tally>,
) -> Result<(), Box<dyn std::error::Error>> {
    let config =
        WebSocketConfig { max_message_size: Some(64 << 20), max_frame_size: Some(64 << 20), ..Default::default() };
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(url, Some(config), true).await?;
    let payload = vec![0x5a_u8; size];
    loop {
        let sent = Instant::now();
        if sent >= end {
            break;
        }
        ws.send(Message::binary(payload.clone())).await?;
        loop {
            match ws.next().await {
                Some(Ok(Message::Binary(b))) if b.len() == size => break,
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                Some(Ok(other)) => return Err(format!("unexpected message of {} bytes", other.len()).into()),
                Some(Err(e)) => return Err(e.into()),
                None => return Err("closed by the other side".into()),
            }
        }
        tally.borrow_mut().total += 1;
        if sent >= start {
            let _ = hist.borrow_mut().record(sent.elapsed().as_micros().max(1) as u64);
            tally.borrow_mut().messages += 1;
        }
    }
    let _ = ws.close(None).await;
    Ok(())
}
