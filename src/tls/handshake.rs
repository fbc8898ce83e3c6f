//! The server-side handshake, driven here rather than by monoio-rustls's acceptor so the
//! negotiated version and the client's certificate chain can be read before the connection is
//! handed to the stream type (which keeps its session private). Every byte read during the
//! handshake is given to rustls before the stream takes over, so nothing the client sent early
//! (a TLS 1.3 request right behind its Finished) is lost.

use std::io;
use std::sync::Arc;

use monoio::io::{AsyncReadRent, AsyncWriteRentExt};
use monoio::net::TcpStream;
use rustls::pki_types::CertificateDer;
use rustls::ServerConnection;

/// What the handshake established.
pub struct Accepted {
    pub stream: monoio_rustls::ServerTlsStream<TcpStream>,
    /// `TLSv1.2` or `TLSv1.3`.
    pub version: &'static str,
    /// The client's chain (leaf first), when it presented one.
    pub client_chain: Option<Arc<[CertificateDer<'static>]>>,
}

fn invalid(e: rustls::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

async fn flush(conn: &mut ServerConnection, tcp: &mut TcpStream) -> io::Result<()> {
    while conn.wants_write() {
        let mut out = Vec::with_capacity(4096);
        conn.write_tls(&mut out)?;
        let (r, _) = tcp.write_all(out).await;
        r?;
    }
    Ok(())
}

/// Gives rustls every byte of `data` (processing records as it goes).
fn feed(conn: &mut ServerConnection, mut data: &[u8]) -> Result<(), rustls::Error> {
    while !data.is_empty() {
        let n = match conn.read_tls(&mut data) {
            Ok(n) => n,
            Err(e) => return Err(rustls::Error::General(e.to_string())),
        };
        conn.process_new_packets()?;
        if n == 0 {
            break;
        }
    }
    Ok(())
}

pub async fn accept(config: Arc<rustls::ServerConfig>, mut tcp: TcpStream) -> io::Result<Accepted> {
    let mut conn = ServerConnection::new(config).map_err(invalid)?;
    // monoio reads into a Vec's spare capacity from its start and sets its length.
    let mut buf = Vec::with_capacity(16 * 1024);
    while conn.is_handshaking() {
        flush(&mut conn, &mut tcp).await?;
        if !conn.is_handshaking() {
            break;
        }
        buf.clear();
        let (r, back) = tcp.read(buf).await;
        buf = back;
        if r? == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "client closed during the TLS handshake"));
        }
        if let Err(e) = feed(&mut conn, &buf) {
            let _ = flush(&mut conn, &mut tcp).await; // the alert, if rustls queued one
            return Err(invalid(e));
        }
    }
    flush(&mut conn, &mut tcp).await?; // the last flight (and TLS 1.3 session tickets)
    let version = match conn.protocol_version() {
        Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3",
        Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2",
        _ => "TLS",
    };
    let client_chain = conn.peer_certificates().filter(|c| !c.is_empty()).map(|c| {
        let owned: Vec<CertificateDer<'static>> = c.iter().map(|d| d.clone().into_owned()).collect();
        Arc::from(owned)
    });
    Ok(Accepted { stream: monoio_rustls::ServerTlsStream::new(tcp, conn), version, client_chain })
}
