//! Listening sockets, made on the main thread so the port is known (port 0 in tests) and
//! checked free before the workers share it with SO_REUSEPORT.

use std::net::{SocketAddr, TcpListener};

use socket2::{Domain, Protocol, Socket, Type};

#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    #[error("{addr} is already in use (another ringgate or another server?)")]
    InUse { addr: SocketAddr },
    #[error("cannot listen on {addr}: {error}")]
    Io { addr: SocketAddr, error: std::io::Error },
}

fn socket(addr: SocketAddr, reuse_port: bool) -> Result<Socket, ListenError> {
    let io = |error| ListenError::Io { addr, error };
    let s = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP)).map_err(io)?;
    s.set_reuse_address(true).map_err(io)?;
    if reuse_port {
        s.set_reuse_port(true).map_err(io)?;
    }
    Ok(s)
}

/// `count` sockets on one address, all with SO_REUSEPORT (one per worker). A probe bind without
/// SO_REUSEPORT first makes sure no other process already listens there (it would split traffic).
pub fn reuseport_group(addr: SocketAddr, count: usize) -> Result<Vec<TcpListener>, ListenError> {
    if addr.port() != 0 {
        let probe = socket(addr, false)?;
        probe.bind(&addr.into()).map_err(|error| match error.kind() {
            std::io::ErrorKind::AddrInUse => ListenError::InUse { addr },
            _ => ListenError::Io { addr, error },
        })?;
    }
    let mut out = Vec::with_capacity(count);
    let mut bound = addr;
    for _ in 0..count.max(1) {
        let s = socket(bound, true)?;
        let io = |error| ListenError::Io { addr: bound, error };
        s.bind(&bound.into()).map_err(io)?;
        s.listen(4096).map_err(io)?;
        let l: TcpListener = s.into();
        if bound.port() == 0 {
            bound = l.local_addr().map_err(|error| ListenError::Io { addr, error })?;
        }
        out.push(l);
    }
    Ok(out)
}

/// One plain listener (the admin port).
pub fn single(addr: SocketAddr) -> Result<TcpListener, ListenError> {
    TcpListener::bind(addr).map_err(|error| match error.kind() {
        std::io::ErrorKind::AddrInUse => ListenError::InUse { addr },
        _ => ListenError::Io { addr, error },
    })
}
