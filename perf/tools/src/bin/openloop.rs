//! Open-loop HTTP/1.1 load generator (in the spirit of wrk2): sends requests at a
//! fixed rate regardless of how fast responses come back, and reports latency
//! measured from each request's intended send time.

use std::fs::File;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use ringgate_perf_tools::http::{build_request, parse_url};
use ringgate_perf_tools::loadgen::{self, Config};
use ringgate_perf_tools::schedule::Schedule;

#[derive(Parser, Debug)]
#[command(name = "openloop", about, version)]
struct Args {
    /// Target, plain HTTP/1.1 only: http://127.0.0.1:PORT/path
    #[arg(long)]
    url: String,
    /// Total requests per second over all connections
    #[arg(long)]
    rate: f64,
    /// Measured seconds (after the warm-up)
    #[arg(long)]
    duration: f64,
    /// Warm-up seconds: requests are sent but not recorded
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// Number of kept-alive connections (one OS thread each)
    #[arg(long, default_value_t = 64)]
    connections: u32,
    /// Extra request header "Name: value" (repeatable)
    #[arg(long = "header", value_name = "HEADER")]
    headers: Vec<String>,
    /// Write the JSON report here instead of stdout
    #[arg(long)]
    out: Option<PathBuf>,
    /// Connect/read/write timeout in seconds
    #[arg(long, default_value_t = 10.0)]
    timeout: f64,
}

fn seconds(name: &str, value: f64, allow_zero: bool) -> Result<Duration, String> {
    let ok = value.is_finite() && (value > 0.0 || (allow_zero && value == 0.0));
    if !ok {
        return Err(format!("--{name} must be a positive number of seconds, got {value}"));
    }
    Ok(Duration::from_secs_f64(value))
}

fn run(args: Args) -> Result<(), String> {
    let target = parse_url(&args.url)?;
    let request = build_request(&target, &args.headers)?;
    let cfg = Config {
        schedule: Schedule::new(args.rate, u64::from(args.connections))?,
        url: args.url,
        target,
        request,
        rate: args.rate,
        connections: args.connections,
        warmup: seconds("warmup", args.warmup, true)?,
        duration: seconds("duration", args.duration, false)?,
        timeout: seconds("timeout", args.timeout, false)?,
    };
    // Open the output first so a bad path fails before the test runs.
    let (mut out, out_name): (Box<dyn Write>, String) = match &args.out {
        Some(path) => {
            let file = File::create(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
            (Box::new(file), path.display().to_string())
        }
        None => (Box::new(io::stdout()), "stdout".into()),
    };
    let report = loadgen::run(&cfg)?;
    let json = serde_json::to_string_pretty(&report).map_err(|e| format!("cannot encode report: {e}"))?;
    writeln!(out, "{json}").and_then(|()| out.flush()).map_err(|e| format!("cannot write {out_name}: {e}"))?;
    eprintln!("{}", report.one_line());
    Ok(())
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("openloop: error: {e}");
            ExitCode::FAILURE
        }
    }
}
