//! Backend connections: a per-worker keep-alive pool, connecting (DNS, TCP, TLS) and the stream type.
//!
//! Written on our own codec rather than monoio-transports' pool, which reads whole bodies before
//! returning, ignores `Connection: close` and never checks idle connections (monoio-stack.md §4.6).

pub mod connect;
pub mod io;
pub mod pool;
pub mod split;

use crate::tls::client::ClientTls;
use std::os::fd::RawFd;
use std::time::Instant;

use crate::config::Scheme;
pub use io::UpstreamIo;

/// Identifies a backend endpoint for pooling.
#[derive(Clone, Copy)]
pub struct Peer<'a> {
    pub scheme: Scheme,
    pub host: &'a str,
    pub port: u16,
    /// The TLS configuration (and pool profile) for https backends.
    pub tls: &'a ClientTls,
}

impl Peer<'_> {
    /// FNV-1a over the parts: cheap, allocation-free pool bucket key.
    pub fn hash(&self) -> u64 {
        let mut h: u64 = 0xcbf29ce484222325;
        let mut eat = |b: u8| {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x100000001b3);
        };
        eat(matches!(self.scheme, Scheme::Https) as u8);
        self.host.bytes().for_each(&mut eat);
        self.port.to_le_bytes().into_iter().for_each(&mut eat);
        self.tls.profile.to_le_bytes().into_iter().for_each(&mut eat);
        h
    }
}

/// One open backend connection.
pub struct UpstreamConn {
    pub io: UpstreamIo,
    tcp_fd: RawFd,
    scheme: Scheme,
    host: Box<str>,
    port: u16,
    profile: u64,
    /// Served at least one exchange before: a failure may just mean the backend closed it.
    pub reused: bool,
    pub idle_since: Instant,
}

impl UpstreamConn {
    pub fn is_for(&self, peer: &Peer<'_>) -> bool {
        self.scheme == peer.scheme
            && self.port == peer.port
            && self.profile == peer.tls.profile
            && *self.host == *peer.host
    }

    pub fn fd(&self) -> RawFd {
        self.io.raw_fd(self.tcp_fd)
    }
}

/// Why a backend could not be reached; each maps to a status and APIM's error reason.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("backend name resolution failed for {0}")]
    Resolve(String),
    #[error("backend connection refused or failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("backend connect timed out")]
    Timeout,
    #[error("backend TLS handshake failed: {0}")]
    Tls(String),
}
