//! `ringgate control-plane`: a small management server so a fleet runs without any cloud
//! service (control-plane.md). It holds one master document with gateway assignments, serves each
//! gateway its cut (ETag/304) to token-authenticated gateways, records heartbeats, and offers an
//! admin API (documents validated with the gateway's own loader, tokens, key regeneration).

pub mod api;
pub mod cut;
pub mod server;
pub mod store;

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;

use store::{Store, StoreError};

pub struct Options {
    pub data: PathBuf,
    pub listen: SocketAddr,
    pub admin_key_file: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum ControlPlaneError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("cannot listen on {addr}: {error}")]
    Listen { addr: SocketAddr, error: std::io::Error },
    #[error("admin key file {path}: {error}")]
    AdminKey { path: PathBuf, error: String },
}

/// A started control plane: where it listens.
pub struct Running {
    pub addr: SocketAddr,
    pub admin_key_path: PathBuf,
}

/// The admin key: from the given file, else from (or generated into) `DIR/admin.key`.
fn admin_key(opts: &Options) -> Result<(String, PathBuf, bool), ControlPlaneError> {
    let path = opts.admin_key_file.clone().unwrap_or_else(|| opts.data.join("admin.key"));
    match std::fs::read_to_string(&path) {
        Ok(k) if !k.trim().is_empty() => Ok((k.trim().to_string(), path, false)),
        Ok(_) => Err(ControlPlaneError::AdminKey { path, error: "empty".into() }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && opts.admin_key_file.is_none() => {
            let key = crate::fsutil::random_secret()
                .map_err(|_| ControlPlaneError::AdminKey { path: path.clone(), error: "no randomness".into() })?;
            crate::fsutil::write_atomic(&path, key.as_bytes())
                .map_err(|e| ControlPlaneError::AdminKey { path: path.clone(), error: e.to_string() })?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
            }
            Ok((key, path, true))
        }
        Err(e) => Err(ControlPlaneError::AdminKey { path, error: e.to_string() }),
    }
}

/// Opens the state, binds, and serves on background threads.
pub fn start(opts: Options) -> Result<Running, ControlPlaneError> {
    let store = Arc::new(Store::open(&opts.data)?);
    let (key, key_path, generated) = admin_key(&opts)?;
    let listener =
        TcpListener::bind(opts.listen).map_err(|error| ControlPlaneError::Listen { addr: opts.listen, error })?;
    let addr = listener.local_addr().map_err(|error| ControlPlaneError::Listen { addr: opts.listen, error })?;
    println!("control plane listening on http://{addr}");
    if generated {
        println!("admin key written to {}", key_path.display());
    }
    let key: Arc<str> = Arc::from(key);
    std::thread::Builder::new()
        .name("cp-accept".into())
        .spawn(move || {
            for stream in listener.incoming().flatten() {
                let (store, key) = (store.clone(), key.clone());
                let _ =
                    std::thread::Builder::new().name("cp-conn".into()).spawn(move || server::serve(stream, store, key));
            }
        })
        .map_err(|error| ControlPlaneError::Listen { addr, error })?;
    Ok(Running { addr, admin_key_path: key_path })
}

/// `ringgate control-plane`: serves until the process is stopped.
pub fn run(opts: Options) -> Result<(), ControlPlaneError> {
    start(opts)?;
    loop {
        std::thread::park();
    }
}
