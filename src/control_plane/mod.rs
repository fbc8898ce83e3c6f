//! `ringgate control-plane`: a small management server so a fleet runs without any cloud
//! service (control-plane.md). It holds one master document with gateway assignments, serves each
//! gateway its cut (ETag/304) to token-authenticated gateways, records heartbeats, and offers an
//! admin API (documents validated with the gateway's own loader, tokens, key regeneration).

pub mod api;
pub mod cut;
pub mod server;
pub mod store;
pub mod tls;

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use store::{Store, StoreError};

pub struct Options {
    pub data: PathBuf,
    pub listen: SocketAddr,
    pub admin_key_file: Option<PathBuf>,
    /// The certificate chain and key to serve (PEM); both absent: `DATA/tls/`, generated.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Extra names for the generated certificate (besides localhost, loopback, the listen address).
    pub tls_names: Vec<String>,
    /// Serve plain HTTP (development only: tokens and documents travel in the clear).
    pub plain_http: bool,
    /// The largest document `PUT /admin/document` takes (after authentication).
    pub max_document_bytes: u64,
}

/// The default cap on an uploaded master document.
pub const DEFAULT_MAX_DOCUMENT_BYTES: u64 = 64 << 20;

#[derive(Debug, thiserror::Error)]
pub enum ControlPlaneError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("cannot listen on {addr}: {error}")]
    Listen { addr: SocketAddr, error: std::io::Error },
    #[error("admin key file {path}: {error}")]
    AdminKey { path: PathBuf, error: String },
    #[error("{0}")]
    Tls(#[from] tls::CpTlsError),
    #[error("signals: {0}")]
    Signals(std::io::Error),
}

/// A started control plane: where it listens.
pub struct Running {
    pub addr: SocketAddr,
    pub admin_key_path: PathBuf,
    pub store: Arc<Store>,
}

/// The admin key: from the given file, else from (or generated into) `DIR/admin.key` (0600).
fn admin_key(opts: &Options) -> Result<(String, PathBuf, bool), ControlPlaneError> {
    let path = opts.admin_key_file.clone().unwrap_or_else(|| opts.data.join("admin.key"));
    match std::fs::read_to_string(&path) {
        Ok(k) if !k.trim().is_empty() => Ok((k.trim().to_string(), path, false)),
        Ok(_) => Err(ControlPlaneError::AdminKey { path, error: "empty".into() }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && opts.admin_key_file.is_none() => {
            let key = crate::fsutil::random_secret()
                .map_err(|_| ControlPlaneError::AdminKey { path: path.clone(), error: "no randomness".into() })?;
            crate::fsutil::write_private(&path, key.as_bytes())
                .map_err(|e| ControlPlaneError::AdminKey { path: path.clone(), error: e.to_string() })?;
            Ok((key, path, true))
        }
        Err(e) => Err(ControlPlaneError::AdminKey { path, error: e.to_string() }),
    }
}

/// Connections served at once (a thread each); more are closed at accept.
const MAX_CONNECTIONS: usize = 256;

/// Names the generated certificate covers.
fn cert_names(opts: &Options) -> Vec<String> {
    let mut names: Vec<String> = vec!["localhost".into(), "127.0.0.1".into(), "::1".into()];
    if !opts.listen.ip().is_unspecified() {
        names.push(opts.listen.ip().to_string());
    }
    if let Ok(h) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
        let h = h.trim();
        if !h.is_empty() && h.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.') {
            names.push(h.to_string());
        }
    }
    names.extend(opts.tls_names.iter().cloned());
    names.sort();
    names.dedup();
    names
}

/// Opens the state, binds, and serves on background threads.
pub fn start(opts: Options) -> Result<Running, ControlPlaneError> {
    let store = Arc::new(Store::open(&opts.data)?);
    let (key, key_path, generated) = admin_key(&opts)?;
    let tls = if opts.plain_http {
        None
    } else {
        let id = tls::identity(&opts.data, opts.tls_cert.as_deref(), opts.tls_key.as_deref(), &cert_names(&opts))?;
        if id.generated {
            println!("generated a self-signed TLS certificate: {}", id.cert_path.display());
        }
        println!(
            "TLS certificate {} SHA-256 fingerprint {} (gateways: config.service.endpoint.ca-file={})",
            id.cert_path.display(),
            id.fingerprint,
            id.cert_path.display()
        );
        Some(id.config)
    };
    let listener =
        TcpListener::bind(opts.listen).map_err(|error| ControlPlaneError::Listen { addr: opts.listen, error })?;
    let addr = listener.local_addr().map_err(|error| ControlPlaneError::Listen { addr: opts.listen, error })?;
    if tls.is_some() {
        println!("control plane listening on https://{addr}");
    } else {
        eprintln!(
            "warning: --plain-http: gateway tokens, admin keys and documents travel in the clear; for development only"
        );
        println!("control plane listening on http://{addr}");
    }
    if generated {
        println!("admin key written to {}", key_path.display());
    }
    let limits = server::Limits { max_document_bytes: opts.max_document_bytes, ..server::Limits::default() };
    let key: Arc<str> = Arc::from(key);
    let open = Arc::new(AtomicUsize::new(0));
    let shared = store.clone();
    std::thread::Builder::new()
        .name("cp-accept".into())
        .spawn(move || {
            for stream in listener.incoming().flatten() {
                if open.fetch_add(1, Ordering::AcqRel) >= MAX_CONNECTIONS {
                    open.fetch_sub(1, Ordering::AcqRel);
                    drop(stream); // over the cap: closed before anything is read
                    continue;
                }
                let (store, key, tls, done) = (shared.clone(), key.clone(), tls.clone(), open.clone());
                let spawned = std::thread::Builder::new().name("cp-conn".into()).spawn(move || {
                    server::serve(stream, tls, &store, &key, limits);
                    done.fetch_sub(1, Ordering::AcqRel);
                });
                if spawned.is_err() {
                    open.fetch_sub(1, Ordering::AcqRel);
                }
            }
        })
        .map_err(|error| ControlPlaneError::Listen { addr, error })?;
    Ok(Running { addr, admin_key_path: key_path, store })
}

fn signal_name(sig: i32) -> &'static str {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2};
    match sig {
        SIGTERM => "SIGTERM",
        SIGINT => "SIGINT",
        SIGQUIT => "SIGQUIT",
        SIGHUP => "SIGHUP",
        SIGUSR1 => "SIGUSR1",
        SIGUSR2 => "SIGUSR2",
        _ => "?",
    }
}

/// `ringgate control-plane`: serves until SIGTERM, SIGINT or SIGQUIT (exit 0). SIGHUP re-reads
/// the master document from the data folder (a document that does not load is refused and the
/// running one stays); SIGUSR1 and SIGUSR2 are logged and ignored; SIGPIPE is ignored.
pub fn run(opts: Options) -> Result<(), ControlPlaneError> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2};
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2])
        .map_err(ControlPlaneError::Signals)?;
    let running = start(opts)?;
    for sig in signals.forever() {
        match sig {
            SIGHUP => match running.store.reload_master() {
                Ok(Some(rev)) => println!("SIGHUP: master document reloaded ({rev})"),
                Ok(None) => println!("SIGHUP: no master document to reload"),
                Err(e) => eprintln!("SIGHUP: the master document was not reloaded, the running one stays: {e}"),
            },
            SIGUSR1 | SIGUSR2 => println!("signal {} received and ignored", signal_name(sig)),
            _ => {
                println!("signal {} received: stopping", signal_name(sig));
                return Ok(());
            }
        }
    }
    Ok(())
}
