//! The open-loop load generator: one OS thread per kept-alive connection, each
//! following its slice of the global schedule, recording coordinated-omission
//! corrected latency (from the intended send time) and service time (from the
//! actual send time).

use std::collections::BTreeMap;
use std::io::Write;
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::http::{ResponseReader, Target};
use crate::schedule::Schedule;

/// Highest recordable value: 60 s in microseconds.
const MAX_US: u64 = 60_000_000;
/// Pause before reconnecting after an I/O error.
const BACKOFF: Duration = Duration::from_millis(20);

pub struct Config {
    pub url: String,
    pub target: Target,
    /// The encoded request, sent as is for every scheduled slot.
    pub request: Vec<u8>,
    pub schedule: Schedule,
    pub rate: f64,
    pub connections: u32,
    pub warmup: Duration,
    pub duration: Duration,
    /// Connect, read and write timeout.
    pub timeout: Duration,
}

/// Percentiles in microseconds.
#[derive(Debug, Serialize)]
pub struct Summary {
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
    pub mean: f64,
}

impl Summary {
    fn of(h: &Histogram<u64>) -> Self {
        Self {
            p50: h.value_at_quantile(0.5),
            p90: h.value_at_quantile(0.9),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            max: h.max(),
            mean: (h.mean() * 10.0).round() / 10.0,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub url: String,
    pub rate: f64,
    pub connections: u32,
    pub warmup_s: f64,
    pub duration_s: f64,
    /// Responses recorded in the measured window (any status).
    pub requests: u64,
    /// Non-2xx responses plus I/O errors in the measured window.
    pub errors: u64,
    pub io_errors: u64,
    pub statuses: BTreeMap<String, u64>,
    pub achieved_rps: f64,
    pub latency_us: Summary,
    pub service_time_us: Summary,
    /// One I/O error message, if any occurred (for diagnosis).
    pub last_io_error: Option<String>,
}

impl Report {
    /// One line for humans, e.g. on stderr.
    pub fn one_line(&self) -> String {
        let ms = |us: u64| us as f64 / 1000.0;
        format!(
            "openloop {}: offered {} req/s, achieved {:.1} req/s over {} s, {} requests, {} errors; \
             latency p50 {:.3} p99 {:.3} p99.9 {:.3} max {:.3} ms; \
             service p50 {:.3} p99 {:.3} max {:.3} ms",
            self.url,
            self.rate,
            self.achieved_rps,
            self.duration_s,
            self.requests,
            self.errors,
            ms(self.latency_us.p50),
            ms(self.latency_us.p99),
            ms(self.latency_us.p999),
            ms(self.latency_us.max),
            ms(self.service_time_us.p50),
            ms(self.service_time_us.p99),
            ms(self.service_time_us.max),
        )
    }
}

struct ConnStats {
    latency: Histogram<u64>,
    service: Histogram<u64>,
    statuses: BTreeMap<u16, u64>,
    io_errors: u64,
    last_io_error: Option<String>,
}

/// Run the whole test and merge per-connection results.
pub fn run(cfg: &Config) -> Result<Report, String> {
    let template =
        Histogram::<u64>::new_with_bounds(1, MAX_US, 3).map_err(|e| format!("cannot create histogram: {e}"))?;
    // Give every thread time to start and connect before the first slot.
    let t0 = Instant::now() + Duration::from_millis(100 + u64::from(cfg.connections));
    let record_from = t0 + cfg.warmup;
    let end = record_from + cfg.duration;

    let results: Vec<thread::Result<ConnStats>> = thread::scope(|s| {
        let handles: Vec<_> = (0..cfg.connections)
            .map(|conn| {
                let template = template.clone();
                s.spawn(move || drive(cfg, u64::from(conn), template, t0, record_from, end))
            })
            .collect();
        handles.into_iter().map(|h| h.join()).collect()
    });

    let mut latency = template.clone();
    let mut service = template;
    let mut statuses = BTreeMap::new();
    let (mut io_errors, mut last_io_error) = (0, None);
    for result in results {
        let stats = result.map_err(|_| "a connection thread panicked".to_string())?;
        latency.add(&stats.latency).map_err(|e| format!("cannot merge histograms: {e:?}"))?;
        service.add(&stats.service).map_err(|e| format!("cannot merge histograms: {e:?}"))?;
        for (status, n) in stats.statuses {
            *statuses.entry(status).or_insert(0) += n;
        }
        io_errors += stats.io_errors;
        last_io_error = last_io_error.or(stats.last_io_error);
    }

    let non_2xx: u64 = statuses.iter().filter(|(s, _)| !(200..300).contains(*s)).map(|(_, n)| n).sum();
    let requests = latency.len();
    let duration_s = cfg.duration.as_secs_f64();
    Ok(Report {
        url: cfg.url.clone(),
        rate: cfg.rate,
        connections: cfg.connections,
        warmup_s: cfg.warmup.as_secs_f64(),
        duration_s,
        requests,
        errors: non_2xx + io_errors,
        io_errors,
        statuses: statuses.into_iter().map(|(s, n)| (s.to_string(), n)).collect(),
        achieved_rps: (requests as f64 / duration_s * 10.0).round() / 10.0,
        latency_us: Summary::of(&latency),
        service_time_us: Summary::of(&service),
        last_io_error,
    })
}

fn connect(cfg: &Config) -> std::io::Result<TcpStream> {
    let stream = TcpStream::connect_timeout(&cfg.target.addr, cfg.timeout)?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(cfg.timeout))?;
    stream.set_write_timeout(Some(cfg.timeout))?;
    Ok(stream)
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// One connection's loop. Requests whose actual send time falls in
/// `[record_from, end)` are recorded; latency counts from the intended time,
/// so requests sent late (behind schedule) include their waiting.
fn drive(
    cfg: &Config,
    conn: u64,
    template: Histogram<u64>,
    t0: Instant,
    record_from: Instant,
    end: Instant,
) -> ConnStats {
    let mut stats = ConnStats {
        latency: template.clone(),
        service: template,
        statuses: BTreeMap::new(),
        io_errors: 0,
        last_io_error: None,
    };
    let mut reader = ResponseReader::default();
    let mut stream = connect(cfg).ok();
    for k in 0u64.. {
        let intended = t0 + cfg.schedule.offset(conn, k);
        let now = Instant::now();
        if intended >= end || now >= end {
            break;
        }
        if intended > now {
            thread::sleep(intended - now);
        }
        let started = Instant::now();
        let record = started >= record_from;
        let result = match stream.take() {
            Some(s) => Ok(s),
            None => connect(cfg).inspect(|_| reader.clear()),
        }
        .and_then(|mut s| {
            s.write_all(&cfg.request)?;
            let resp = reader.read_response(&mut s)?;
            Ok((s, resp))
        });
        match result {
            Ok((s, resp)) => {
                let done = Instant::now();
                if record {
                    stats.latency.saturating_record(micros(done - intended));
                    stats.service.saturating_record(micros(done - started));
                    *stats.statuses.entry(resp.status).or_insert(0) += 1;
                }
                if !resp.close {
                    stream = Some(s);
                }
            }
            Err(e) => {
                if record {
                    stats.io_errors += 1;
                    stats.last_io_error = Some(e.to_string());
                }
                let pause = BACKOFF.min(end.saturating_duration_since(Instant::now()));
                thread::sleep(pause);
            }
        }
    }
    stats
}
