//! Opening backend connections: name resolution off the event loop, TCP with a timeout, TLS.

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use monoio::net::TcpStream;
use rustls::pki_types::ServerName;

use super::{ConnectError, Peer, UpstreamConn, UpstreamIo};
use crate::config::Scheme;

const DNS_TTL: Duration = Duration::from_secs(30);

/// Resolved address and when it was looked up, by (host, port).
type DnsCache = HashMap<(Box<str>, u16), (SocketAddr, Instant)>;

/// A worker's resolver cache: names are resolved on monoio's blocking pool, never on the loop.
#[derive(Default)]
pub struct Resolver {
    cache: RefCell<DnsCache>,
}

impl Resolver {
    pub async fn resolve(&self, host: &str, port: u16) -> Result<SocketAddr, ConnectError> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(SocketAddr::new(ip, port));
        }
        if let Some((addr, at)) = self.cache.borrow().get(&(Box::from(host), port)) {
            if at.elapsed() < DNS_TTL {
                return Ok(*addr);
            }
        }
        let name = host.to_string();
        let looked_up = monoio::spawn_blocking(move || (name.as_str(), port).to_socket_addrs().map(|mut a| a.next()))
            .await
            .map_err(|_| ConnectError::Resolve(host.to_string()))?;
        let addr = match looked_up {
            Ok(Some(a)) => a,
            _ => return Err(ConnectError::Resolve(host.to_string())),
        };
        self.cache.borrow_mut().insert((Box::from(host), port), (addr, Instant::now()));
        Ok(addr)
    }
}

pub async fn connect(resolver: &Resolver, peer: &Peer<'_>, timeout: Duration) -> Result<UpstreamConn, ConnectError> {
    let addr = resolver.resolve(peer.host, peer.port).await?;
    let attempt = async {
        let tcp = TcpStream::connect_addr(addr).await?;
        let _ = tcp.set_nodelay(true);
        let tcp_fd = tcp.as_raw_fd();
        let io = match peer.scheme {
            Scheme::Http => UpstreamIo::Plain(tcp),
            Scheme::Https => {
                let name = ServerName::try_from(peer.host.to_string())
                    .map_err(|e| ConnectError::Tls(format!("invalid server name {}: {e}", peer.host)))?;
                let connector = monoio_rustls::TlsConnector::from(peer.tls.config.clone());
                let stream = connector.connect(name, tcp).await.map_err(|e| ConnectError::Tls(e.to_string()))?;
                UpstreamIo::Tls(Box::new(stream))
            }
        };
        Ok::<_, ConnectError>(UpstreamConn {
            io,
            tcp_fd,
            scheme: peer.scheme,
            host: Box::from(peer.host),
            port: peer.port,
            profile: peer.tls.profile,
            reused: false,
            idle_since: Instant::now(),
        })
    };
    match monoio::time::timeout(timeout, attempt).await {
        Ok(r) => r,
        Err(_) => Err(ConnectError::Timeout),
    }
}
