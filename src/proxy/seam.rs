//! Where the protocol-neutral lifecycle meets a client codec. The lifecycle (`lifecycle`,
//! `exchange`, `backend`, `relay`, `policies`, `upgrade`) holds a [`ClientSide`] and never the
//! connection's buffer or socket, so another codec (HTTP/2) plugs in beside `h1` by
//! implementing it. Static dispatch: the lifecycle is generic over the side, so the HTTP/1
//! path compiles to what it was (no vtable, no extra copy).

use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::CertificateDer;

use super::body::Body;
use super::context::Buf;
use super::failure::{Failure, Verdict};
use super::io::Duplex;
use super::request::Req;
use super::respond::Shape;
use crate::config::Scheme;
use crate::http::response::ResponseHead;
use crate::http::wire::WireError;
use crate::policy::ResponseEdits;
use crate::telemetry::trace::RequestId;
use crate::telemetry::Record;

/// Trailer fields that end a body (none on the common path: no allocation then).
pub type Trailers = Vec<(Box<str>, Box<[u8]>)>;

/// What one read of a request body produced. The bytes themselves are in the caller's buffer
/// (read in place: no copy), in the request's framing as the backend receives it.
#[derive(Debug, PartialEq, Eq)]
pub enum Chunk {
    /// More of the body; more is coming.
    Data,
    /// The body's last bytes (possibly none), and its trailers when the codec keeps them
    /// (HTTP/1 drops request trailers, as it always did).
    End { trailers: Option<Trailers> },
}

/// A response the gateway makes itself; the client side puts it in its protocol's form.
pub enum Made<'a> {
    /// A constant content type and body (the health endpoint).
    Simple { status: u16, content_type: &'a [u8], body: &'a [u8] },
    /// A failure table's row: its status with APIM's JSON error body.
    Failure(&'a Verdict<'a>),
    /// A policy's response (`return-response`, `mock-response`, a body a policy holds); a
    /// value that cannot be sent becomes a 500, noted in the record.
    Policy(&'a crate::policy::Response),
}

/// A backend's response head as the lifecycle relays it: the head parsed over its bytes, with a
/// policy's outbound edits.
pub struct Relayed<'a> {
    pub head: &'a ResponseHead,
    pub bytes: &'a [u8],
    pub edits: Option<&'a ResponseEdits>,
}

/// A relayed body the client's framing cannot carry (a malformed chunked body from the
/// backend): the client connection ends, so it sees a truncated response, never a wrong one.
#[derive(Debug)]
pub struct Malformed;

/// A relayed response's body on its way to the client, one backend read at a time.
pub trait BodyOut {
    /// Whether the client connection may carry on after this response.
    fn keep_alive(&self) -> bool;
    /// The most the next backend read may take (never past a length-framed body's end).
    fn want(&self) -> usize;
    /// The body bytes that came with the head: appended to `out`, behind the head.
    fn first(&mut self, body: &[u8], out: &mut Vec<u8>) -> Result<Chunk, Malformed>;
    /// One backend read: what goes to the client is left in the empty `out` (swapped, not
    /// copied, when the framing passes the bytes as they are).
    fn next(&mut self, read: &mut Vec<u8>, out: &mut Vec<u8>) -> Result<Chunk, Malformed>;
    /// The backend closed its connection: whether that is the body's end.
    fn closed(&self) -> bool;
    /// Bytes came after the body's end: the backend connection is not reused.
    fn stray(&self) -> bool;
}

/// A client's certificate chain (mutual TLS), for policies that check it.
pub type ClientChain = Arc<[CertificateDer<'static>]>;

/// The client side of one exchange: who the client is, its request's head and body, and the
/// writer of what it gets back. Every method keeps the codec's buffers inside the codec.
pub trait ClientSide {
    /// The raw connection an upgrade (WebSocket) tunnels over.
    type Raw: Duplex;
    /// The writer of a relayed response's body.
    type Out: BodyOut;

    fn peer_ip(&self) -> IpAddr;
    fn scheme(&self) -> Scheme;
    /// The negotiated TLS version (`None` on plain HTTP), for the access log.
    fn tls_version(&self) -> Option<&'static str>;
    fn client_chain(&self) -> Option<ClientChain>;

    /// Moves the current request head's `len` bytes out of the codec into `into`: the head
    /// stays with the request while the connection moves on to its body.
    fn take_head(&mut self, len: usize, into: &mut Vec<u8>);

    /// Moves the body bytes already received to the end of `out` (as the backend receives them).
    fn body_in_hand(&mut self, body: &mut Body, out: &mut Vec<u8>) -> Result<(), Failure>;

    /// Drops the body bytes already received; whether that was the whole body.
    fn skip_body_in_hand(&mut self, body: &mut Body) -> bool;

    /// Reads the next body bytes into `into` (cleared first; at most one relay buffer),
    /// within the body deadline; bytes past the body's end stay with the codec.
    fn read_body(
        &mut self,
        body: &mut Body,
        into: &mut Vec<u8>,
        req: &Req,
        idle: Duration,
    ) -> impl Future<Output = Result<Chunk, Failure>>;

    /// Reads the whole body, decoded, at most `cap` bytes (413 beyond it).
    fn read_body_whole(
        &mut self,
        body: &mut Body,
        req: &Req,
        cap: u64,
        idle: Duration,
    ) -> impl Future<Output = Result<Vec<u8>, Failure>>;

    /// Reads and drops the rest of the body, up to `bound` bytes; whether it ended.
    fn discard_body(&mut self, body: &mut Body, req: &Req, bound: u64, idle: Duration) -> impl Future<Output = bool>;

    /// Whether the client lets its connection carry on after this request (HTTP/1: no
    /// `Connection: close`, and `keep-alive` from a 1.0 client). The lifecycle adds its own
    /// conditions (the body read, no drain).
    fn keeps_alive(&self, req: &Req) -> bool;

    /// Tells the client to send its body (`100 Continue`).
    fn send_continue(&mut self, idle: Duration) -> impl Future<Output = Result<(), Failure>>;

    /// Answers with a response the gateway made, in `out` (a pooled buffer, kept by its
    /// guard); whether it went. `shape` says whether the exchange ends the connection.
    fn respond(
        &mut self,
        out: &mut Buf<'_>,
        made: Made<'_>,
        shape: Shape,
        idle: Duration,
        rec: &mut Record,
    ) -> impl Future<Output = bool>;

    /// Puts a backend's response head in `out`, in the client's protocol (not sent yet: the
    /// first body bytes join it). `may_keep`: the lifecycle lets the connection carry on
    /// (the request body is read, no drain); the codec's framing has the last word.
    fn response_head(
        &mut self,
        out: &mut Vec<u8>,
        head: &Relayed<'_>,
        req: &Req,
        may_keep: bool,
        id: &RequestId,
    ) -> Result<Self::Out, WireError>;

    /// The same for `101 Switching Protocols`: the connection becomes a tunnel ([`Self::upgrade`]).
    fn upgrade_head(
        &mut self,
        out: &mut Vec<u8>,
        head: &Relayed<'_>,
        req: &Req,
        id: &RequestId,
    ) -> Result<(), WireError>;

    /// Writes bytes this side framed ([`Self::response_head`], [`BodyOut`]), counted in the
    /// record; whether they went, and the buffer back.
    fn write(&mut self, out: Vec<u8>, idle: Duration, rec: &mut Record) -> impl Future<Output = (bool, Vec<u8>)>;

    /// The connection closes with a body still coming: read and drop it for a while, so the
    /// client reads the answer rather than a reset.
    fn linger(&mut self) -> impl Future<Output = ()>;

    /// The raw connection, and the bytes already received on it, for a tunnel after `101`.
    fn upgrade(&mut self) -> (&mut Self::Raw, Vec<u8>);
}
