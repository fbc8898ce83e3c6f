//! Starting and stopping the whole gateway: settings → first snapshot → listeners → workers,
//! control thread and admin endpoint → wait for a signal → drain.

mod signals;

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::control::endpoint::EndpointSource;
use crate::control::file_source::FileSource;
use crate::control::{Control, ControlMsg, Source};
use crate::node::NodeState;
use crate::settings::Settings;
use crate::snapshot::Snapshot;
use crate::worker::{self, WorkerMsg};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("configuration {path}: {error}")]
    ReadConfig { path: String, error: std::io::Error },
    #[error("the configuration was rejected:\n{0}")]
    Config(#[from] crate::control::ApplyError),
    #[error("{0}")]
    Listen(#[from] worker::listener::ListenError),
    #[error("{0}")]
    Endpoint(#[from] crate::control::endpoint::EndpointError),
    #[error("{0}")]
    Tls(#[from] crate::tls::TlsSetupError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl StartError {
    pub fn exit_code(&self) -> u8 {
        match self {
            StartError::Endpoint(_) | StartError::Tls(_) => 2,
            _ => 1,
        }
    }
}

pub fn run(settings: Settings) -> Result<(), StartError> {
    // Before anything else: a signal that arrives while starting gets its defined behaviour,
    // not the default action (SIGHUP's and SIGUSR1's default is to terminate).
    let signals = signals::Signals::install()?;
    let settings = Arc::new(settings);
    let (driver, why) = worker::driver::detect();
    tracing::info!(
        version = crate::telemetry::build_info::VERSION,
        commit = crate::telemetry::build_info::COMMIT,
        "ringgate starting"
    );
    match &why {
        None => tracing::info!(driver = driver.name(), "I/O driver"),
        Some(reason) => {
            tracing::warn!(driver = driver.name(), reason = %reason, "I/O driver: falling back to epoll")
        }
    }
    if let Some(limit) = crate::sys::raise_nofile_limit() {
        tracing::debug!(limit, "open files limit");
    }
    let node = Arc::new(NodeState::new(settings.workers, driver.name()));
    let builder = crate::snapshot::Builder::from_settings(&settings)?;
    let mut control = Control::new(settings.clone(), node.clone(), builder);

    // The first document: the endpoint (or its backup), a local file, or the demo.
    let mut demo_key = None;
    let (first, source): (_, Box<dyn Source>) = if settings.service_endpoint.is_some() {
        let mut endpoint = EndpointSource::new(&settings, node.clone())?;
        tracing::info!(
            source = "endpoint",
            endpoint = settings.service_endpoint.as_deref().unwrap_or_default(),
            gateway = endpoint.gateway(),
            "configuration source"
        );
        let first = first_from_endpoint(&mut control, &mut endpoint, &settings);
        (first, Box::new(endpoint))
    } else if let Some(path) = &settings.local_path {
        let bytes =
            std::fs::read(path).map_err(|error| StartError::ReadConfig { path: path.display().to_string(), error })?;
        tracing::info!(source = "file", path = %path.display(), "configuration source");
        let snap = control.compile(bytes.clone(), "file")?;
        (Some(snap), Box::new(FileSource::new(path.clone(), &bytes)))
    } else {
        let demo = crate::demo::start()?;
        tracing::info!(source = "demo", "configuration source: none given, serving the built-in demo");
        let snap = control.compile(demo.document.clone(), "demo")?;
        demo_key = Some(demo.key);
        (Some(snap), Box::new(NoSource))
    };

    let http_addr = SocketAddr::new(settings.bind, settings.http_port);
    let listeners = worker::listener::reuseport_group(http_addr, settings.workers)?;
    let http_addr = listeners[0].local_addr()?;
    // HTTPS is always listened on; without a certificate in the document handshakes are refused.
    let https_listeners =
        worker::listener::reuseport_group(SocketAddr::new(settings.bind, settings.https_port), settings.workers)?;
    let https_addr = https_listeners[0].local_addr()?;
    let admin = worker::listener::single(SocketAddr::new(settings.admin_bind, settings.admin_port))?;
    let admin_addr = admin.local_addr()?;
    crate::admin::spawn(admin, node.clone())?;

    let cores = if settings.pin_workers { core_affinity::get_core_ids().unwrap_or_default() } else { Vec::new() };
    let spawn = worker::Spawn {
        settings: settings.clone(),
        node: node.clone(),
        driver,
        blocking: monoio::blocking::DefaultThreadPool::new(2),
        sinks: worker::Sinks {
            reaper: spawn_reaper()?,
            access_log: if settings.log_requests { Some(crate::telemetry::access_log::writer()?) } else { None },
            statsd: match &settings.statsd {
                Some(endpoint) => {
                    let format = crate::telemetry::statsd::TagFormat::parse(&settings.statsd_tag_format);
                    tracing::info!(endpoint = %endpoint, format = ?format, "StatsD metrics");
                    Some(crate::telemetry::statsd::spawn(endpoint, format)?)
                }
                None => None,
            },
        },
    };
    let mut handles = Vec::with_capacity(settings.workers);
    for (id, (listener, tls_listener)) in listeners.into_iter().zip(https_listeners).enumerate() {
        let core = (!cores.is_empty()).then(|| cores[id % cores.len()]);
        let listeners = worker::Listeners { http: listener, https: tls_listener };
        handles.push(worker::spawn(&spawn, id, core, listeners, first.clone())?);
    }
    tracing::info!(
        http = %http_addr,
        https = %https_addr,
        admin = %admin_addr,
        workers = settings.workers,
        pinned = !cores.is_empty(),
        driver = driver.name(),
        revision = first.as_ref().map_or("(none yet)", |s| s.revision()),
        "listening"
    );
    if let Some(key) = demo_key {
        print_demo(http_addr, &key);
    }

    if settings.otel_enabled {
        match &settings.otel_collector {
            Some(uri) => {
                let url = format!("{}/v1/metrics", uri.trim_end_matches('/'));
                tracing::info!(
                    url = %crate::settings::mask_url_password(&url),
                    interval = ?settings.otel_interval,
                    "OpenTelemetry metrics export"
                );
                crate::telemetry::otlp::Exporter {
                    url,
                    interval: settings.otel_interval,
                    buckets_ms: settings.otel_buckets_ms.clone(),
                    node: node.clone(),
                }
                .spawn()?;
            }
            None => tracing::warn!("observability.opentelemetry.enabled without a collector.uri: nothing exported"),
        }
    }
    crate::limits::redis_sync::RedisSync {
        url: node.limits_redis.clone(),
        interval: settings.counters_sync,
        store: node.limits.clone(),
    }
    .spawn()?;
    let (control_tx, control_rx) = crossbeam_channel::bounded::<ControlMsg>(4);
    let senders: Vec<_> = handles.iter().map(|h| h.tx.clone()).collect();
    let control_thread = std::thread::Builder::new()
        .name("gw-control".into())
        .spawn(move || control.run(source, senders, control_rx))?;

    signals.wait_for_stop(&control_tx)?;
    tracing::info!(timeout = ?settings.drain_timeout, "draining: no new connections, finishing requests in flight");
    node.draining.store(true, Ordering::Release);
    for h in &handles {
        let _ = h.tx.send(WorkerMsg::Drain);
    }
    for h in handles {
        let _ = h.thread.join();
    }
    let _ = control_tx.send(ControlMsg::Stop);
    let _ = control_thread.join();
    tracing::info!("stopped");
    Ok(())
}

/// Managed mode at start: one fetch; if the endpoint cannot be reached (or its document does not
/// load), the backup; if there is none (or it is refused), nothing: the status endpoint says 503
/// until the endpoint answers.
fn first_from_endpoint(control: &mut Control, endpoint: &mut EndpointSource, settings: &Settings) -> Option<Snapshot> {
    match endpoint.fetch_now() {
        Ok(bytes) => match control.compile(bytes, "endpoint") {
            Ok(snap) => {
                endpoint.outcome(Ok(snap.revision()));
                return Some(snap);
            }
            Err(e) => endpoint.outcome(Err(&e.to_string())),
        },
        Err(e) => tracing::warn!("configuration endpoint not available at start: {e}"),
    }
    let Some(dir) = &settings.backup_path else {
        tracing::warn!(
            "no configuration yet and no backup (config.backup.path): serving 503 until the endpoint answers"
        );
        return None;
    };
    match crate::control::backup::read(dir) {
        Ok(bytes) => match control.compile(bytes, "backup") {
            Ok(snap) => {
                tracing::warn!(revision = snap.revision(), dir = %dir.display(), "starting from the configuration backup: the endpoint is not reachable");
                endpoint.started_from(snap.revision());
                Some(snap)
            }
            Err(e) => {
                tracing::error!("the configuration backup does not load and is refused: {e}");
                None
            }
        },
        Err(crate::control::backup::BackupError::Missing(p)) => {
            tracing::warn!(path = %p.display(), "no configuration backup yet: serving 503 until the endpoint answers");
            None
        }
        Err(e) => {
            tracing::error!("the configuration backup is refused: {e}; serving 503 until the endpoint answers");
            None
        }
    }
}

/// A thread that frees retired snapshots, off the workers' event loops.
fn spawn_reaper() -> std::io::Result<crossbeam_channel::Sender<Snapshot>> {
    let (tx, rx) = crossbeam_channel::unbounded::<Snapshot>();
    std::thread::Builder::new().name("gw-reaper".into()).spawn(move || rx.iter().for_each(drop))?;
    Ok(tx)
}

/// The demo's source never changes.
struct NoSource;

impl Source for NoSource {
    fn name(&self) -> &'static str {
        "demo"
    }
    fn poll(&mut self) -> Option<Result<Vec<u8>, String>> {
        None
    }
}

fn print_demo(addr: SocketAddr, key: &str) {
    let host = if addr.ip().is_unspecified() { "127.0.0.1".to_string() } else { addr.ip().to_string() };
    let url = format!("http://{host}:{}/echo/hello?name=ringgate", addr.port());
    println!();
    println!("  ringgate demo: an echo backend behind the 'echo' API.");
    println!("  Demo subscription key: {key}");
    println!("  Try it:");
    println!("    curl -i '{url}' -H 'Ocp-Apim-Subscription-Key: {key}'");
    println!();
}
