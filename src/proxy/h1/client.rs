//! The client side of one HTTP/1.1 connection: its stream, the bytes received and not yet
//! consumed, and who is at the other end.

use std::net::SocketAddr;

use crate::config::Scheme;

pub struct Client<S> {
    pub io: S,
    /// Bytes received and not yet consumed: the current head, then body bytes or a pipelined request.
    pub buf: Vec<u8>,
    pub peer: Peer,
    pub scheme: Scheme,
    /// What the TLS handshake established (`None` on plain HTTP); boxed to keep plain
    /// connections small.
    pub tls: Option<Box<TlsInfo>>,
}

/// The client's address, packed (a `SocketAddr` keeps IPv6 flow and scope fields we never use):
/// every byte of a parked connection counts.
#[derive(Clone, Copy)]
pub struct Peer {
    pub(super) ip: std::net::IpAddr,
    pub(super) port: u16,
}

impl Peer {
    pub fn ip(&self) -> std::net::IpAddr {
        self.ip
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::new(self.ip, self.port)
    }
}

/// What a TLS handshake established, handed to the connection loop.
pub struct TlsInfo {
    pub version: &'static str,
    pub client_chain: Option<std::sync::Arc<[rustls::pki_types::CertificateDer<'static>]>>,
}

impl<S> Client<S> {
    /// The negotiated TLS version, for the access log.
    pub fn tls_version(&self) -> Option<&'static str> {
        self.tls.as_ref().map(|t| t.version)
    }
}
