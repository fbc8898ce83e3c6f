//! The HTTP/1.1 client connection as the lifecycle's [`ClientSide`]: the connection buffer
//! holds the head, then body bytes or a pipelined request, and only this codec touches it.

use std::net::IpAddr;
use std::time::Duration;

use super::client::Client;
use super::framer::Framer;
use super::head::{client_framing, response_head_with, ClientFraming, ResponseShape};
use crate::config::Scheme;
use crate::http::wire::WireError;
use crate::proxy::body::{linger, Body};
use crate::proxy::context::{Buf, BUF_SIZE};
use crate::proxy::failure::Failure;
use crate::proxy::io::{write_from, Duplex};
use crate::proxy::request::Req;
use crate::proxy::respond::{self, Shape};
use crate::proxy::seam::{Chunk, ClientChain, ClientSide, Made, Relayed};
use crate::telemetry::trace::RequestId;
use crate::telemetry::Record;

impl<S: Duplex> ClientSide for Client<S> {
    type Raw = S;
    type Out = Framer;

    fn peer_ip(&self) -> IpAddr {
        self.peer.ip()
    }

    fn scheme(&self) -> Scheme {
        self.scheme
    }

    fn tls_version(&self) -> Option<&'static str> {
        Client::tls_version(self)
    }

    fn client_chain(&self) -> Option<ClientChain> {
        self.tls.as_ref().and_then(|t| t.client_chain.clone())
    }

    fn take_head(&mut self, len: usize, into: &mut Vec<u8>) {
        into.extend_from_slice(&self.buf[..len]);
        self.buf.drain(..len);
    }

    fn body_in_hand(&mut self, body: &mut Body, out: &mut Vec<u8>) -> Result<(), Failure> {
        body.forward(&mut self.buf, out)
    }

    fn skip_body_in_hand(&mut self, body: &mut Body) -> bool {
        let mut sink = Vec::new();
        body.forward(&mut self.buf, &mut sink).is_ok() && body.is_done()
    }

    async fn read_body(
        &mut self,
        body: &mut Body,
        into: &mut Vec<u8>,
        req: &Req,
        idle: Duration,
    ) -> Result<Chunk, Failure> {
        // Read into the relay buffer and cut in place: what follows the body's end is the next
        // request's and goes back to the connection buffer (empty until then).
        into.clear();
        if into.capacity() < BUF_SIZE {
            into.reserve(BUF_SIZE);
        }
        body.fill(&mut self.io, into, req, idle).await?;
        body.forward_read(into, &mut self.buf)?;
        Ok(if body.is_done() { Chunk::End { trailers: None } } else { Chunk::Data })
    }

    async fn read_body_whole(
        &mut self,
        body: &mut Body,
        req: &Req,
        cap: u64,
        idle: Duration,
    ) -> Result<Vec<u8>, Failure> {
        body.read_whole(&mut self.io, &mut self.buf, req, cap, idle).await
    }

    async fn discard_body(&mut self, body: &mut Body, req: &Req, bound: u64, idle: Duration) -> bool {
        body.discard(&mut self.io, &mut self.buf, req, bound, idle).await
    }

    fn keeps_alive(&self, req: &Req) -> bool {
        !req.close
    }

    async fn send_continue(&mut self, idle: Duration) -> Result<(), Failure> {
        let cont = b"HTTP/1.1 100 Continue\r\n\r\n".to_vec();
        match write_from(&mut self.io, cont, 0, idle).await.0 {
            Ok(()) => Ok(()),
            Err(_) => Err(Failure::Client),
        }
    }

    async fn respond(
        &mut self,
        out: &mut Buf<'_>,
        made: Made<'_>,
        shape: Shape,
        idle: Duration,
        rec: &mut Record,
    ) -> bool {
        match made {
            Made::Simple { status, content_type, body } => {
                respond::simple(out, status, content_type, body, shape, &rec.id)
            }
            Made::Failure(v) => respond::failure(out, v, shape, &rec.id),
            Made::Policy(r) => respond::policy(out, r, shape, rec),
        }
        let (sent, back) = respond::send(&mut self.io, out.lend(), idle, rec).await;
        out.restore(back);
        sent
    }

    fn response_head(
        &mut self,
        out: &mut Vec<u8>,
        head: &Relayed<'_>,
        req: &Req,
        may_keep: bool,
        id: &RequestId,
    ) -> Result<Framer, WireError> {
        let framing = client_framing(head.head, req.minor);
        // A body delimited by the close ends the connection.
        let keep_alive = framing != ClientFraming::Close && self.keeps_alive(req) && may_keep;
        let shape = ResponseShape {
            framing,
            keep_alive,
            client_minor: req.minor,
            request_was_head: req.is_head,
            upgrade: false,
        };
        response_head_with(out, head.head, head.bytes, &shape, id, head.edits)?;
        Ok(Framer::new(framing, head.head.framing, keep_alive))
    }

    fn upgrade_head(
        &mut self,
        out: &mut Vec<u8>,
        head: &Relayed<'_>,
        req: &Req,
        id: &RequestId,
    ) -> Result<(), WireError> {
        let shape = ResponseShape {
            framing: ClientFraming::None,
            keep_alive: false,
            client_minor: req.minor,
            request_was_head: false,
            upgrade: true,
        };
        response_head_with(out, head.head, head.bytes, &shape, id, head.edits)
    }

    async fn write(&mut self, out: Vec<u8>, idle: Duration, rec: &mut Record) -> (bool, Vec<u8>) {
        respond::send(&mut self.io, out, idle, rec).await
    }

    async fn linger(&mut self) {
        linger(&mut self.io, std::mem::take(&mut self.buf)).await;
    }

    fn upgrade(&mut self) -> (&mut S, Vec<u8>) {
        (&mut self.io, std::mem::take(&mut self.buf))
    }
}
