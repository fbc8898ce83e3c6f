//! A request body, by its framing: streamed to a backend as it arrives (chunk framing kept,
//! trailers dropped), read whole for a policy (decoded, within a cap: 413 beyond it), or read
//! and dropped (bounded) when nobody needs it. The bytes that arrived with the head are at the
//! front of the connection buffer; bytes after the body's end are the client's next request and
//! stay there.

use std::time::{Duration, Instant};

use monoio::io::AsyncReadRent;

use super::context::BUF_SIZE;
use super::failure::Failure;
use super::io::{read_more, IoFailure};
use super::request::Req;
use crate::http::chunked::ChunkedScanner;
use crate::http::Framing;

/// Where one request body stands.
#[derive(Clone, Debug)]
pub struct Body {
    framing: Framing,
    /// Bytes of a length-framed body not yet taken.
    remaining: u64,
    scanner: ChunkedScanner,
    /// `net.server.limits.body-bytes`: a chunked body past it is refused mid-stream.
    limit: Option<u64>,
}

impl Body {
    pub fn new(framing: Framing, limit: Option<u64>) -> Body {
        let remaining = match framing {
            Framing::Length(n) => n,
            _ => 0,
        };
        Body { framing, remaining, scanner: ChunkedScanner::default(), limit }
    }

    /// The whole body has been taken (always, for a request without one).
    pub fn is_done(&self) -> bool {
        match self.framing {
            Framing::Length(_) => self.remaining == 0,
            Framing::Chunked => self.scanner.is_done(),
            Framing::None | Framing::UntilClose => true,
        }
    }

    /// Payload bytes taken so far (decoded, for chunked).
    pub fn received(&self) -> u64 {
        match self.framing {
            Framing::Length(n) => n - self.remaining,
            Framing::Chunked => self.scanner.payload,
            Framing::None | Framing::UntilClose => 0,
        }
    }

    /// How much one read may take: never past a length-framed body's end.
    fn read_size(&self) -> usize {
        match self.framing {
            Framing::Length(_) => (self.remaining as usize).min(BUF_SIZE),
            _ => BUF_SIZE,
        }
    }

    fn over_limit(&self) -> bool {
        self.limit.is_some_and(|l| self.scanner.payload > l)
    }

    /// Moves the body bytes at the front of `src` to the end of `out` as they go on the wire
    /// (chunk framing kept, trailers left out, the end written when reached). Bytes after the
    /// body stay in `src`.
    pub fn forward(&mut self, src: &mut Vec<u8>, out: &mut Vec<u8>) -> Result<(), Failure> {
        match self.framing {
            Framing::Length(_) => {
                let take = (src.len() as u64).min(self.remaining) as usize;
                out.extend_from_slice(&src[..take]);
                src.drain(..take);
                self.remaining -= take as u64;
            }
            Framing::Chunked if !self.scanner.is_done() => {
                let used = self.scanner.scan(src, |_| {}).map_err(|e| Failure::BadBody(e.0))?;
                if self.over_limit() {
                    return Err(Failure::TooLarge);
                }
                out.extend_from_slice(&src[..self.scanner.forwardable(used)]);
                if self.scanner.is_done() {
                    out.extend_from_slice(ChunkedScanner::END);
                }
                src.drain(..used);
            }
            _ => {}
        }
        Ok(())
    }

    /// A read of body bytes, in place: what belongs to the body stays in `read` (as it goes on
    /// the wire), what came after the body's end moves to `after` (the next request's bytes).
    pub fn forward_read(&mut self, read: &mut Vec<u8>, after: &mut Vec<u8>) -> Result<(), Failure> {
        match self.framing {
            Framing::Length(_) => {
                let take = (read.len() as u64).min(self.remaining) as usize;
                after.extend_from_slice(&read[take..]);
                read.truncate(take);
                self.remaining -= take as u64;
            }
            Framing::Chunked => {
                let used = self.scanner.scan(read, |_| {}).map_err(|e| Failure::BadBody(e.0))?;
                if self.over_limit() {
                    return Err(Failure::TooLarge);
                }
                after.extend_from_slice(&read[used..]);
                read.truncate(self.scanner.forwardable(used));
                if self.scanner.is_done() {
                    read.extend_from_slice(ChunkedScanner::END);
                }
            }
            Framing::None | Framing::UntilClose => {
                after.append(read);
            }
        }
        Ok(())
    }

    /// Moves the decoded payload at the front of `src` to `out`, at most `cap` bytes in all.
    fn decode(&mut self, src: &mut Vec<u8>, out: &mut Vec<u8>, cap: u64) -> Result<(), Failure> {
        match self.framing {
            Framing::Length(_) => {
                let take = (src.len() as u64).min(self.remaining) as usize;
                out.extend_from_slice(&src[..take]);
                src.drain(..take);
                self.remaining -= take as u64;
            }
            Framing::Chunked => {
                let used = self.scanner.scan(src, |d| out.extend_from_slice(d)).map_err(|e| Failure::BadBody(e.0))?;
                src.drain(..used);
            }
            Framing::None | Framing::UntilClose => {}
        }
        if out.len() as u64 > cap || self.over_limit() {
            return Err(Failure::TooLarge);
        }
        Ok(())
    }

    /// Reads more of the body from the client into `src`, within the body deadline.
    pub async fn fill<S: AsyncReadRent>(
        &self,
        io: &mut S,
        src: &mut Vec<u8>,
        req: &Req,
        idle: Duration,
    ) -> Result<usize, Failure> {
        let Some(wait) = req.body_wait(idle) else { return Err(Failure::BodyTimeout) };
        match read_more(io, src, self.read_size(), wait).await {
            Ok(n) => Ok(n),
            Err(IoFailure::Timeout) if req.body_wait(idle).is_none() => Err(Failure::BodyTimeout),
            Err(_) => Err(Failure::Client),
        }
    }

    /// Reads the whole body, decoded, at most `cap` bytes (a declared length over it is refused
    /// before a byte is read).
    pub async fn read_whole<S: AsyncReadRent>(
        &mut self,
        io: &mut S,
        src: &mut Vec<u8>,
        req: &Req,
        cap: u64,
        idle: Duration,
    ) -> Result<Vec<u8>, Failure> {
        if matches!(self.framing, Framing::Length(n) if n > cap) {
            return Err(Failure::TooLarge);
        }
        let mut out = Vec::new();
        loop {
            self.decode(src, &mut out, cap)?;
            if self.is_done() {
                return Ok(out);
            }
            self.fill(io, src, req, idle).await?;
        }
    }

    /// Reads and drops the rest of the body, up to `bound` more bytes and within the body
    /// deadline; whether it ended (so the connection can carry on).
    pub async fn discard<S: AsyncReadRent>(
        &mut self,
        io: &mut S,
        src: &mut Vec<u8>,
        req: &Req,
        bound: u64,
        idle: Duration,
    ) -> bool {
        let mut sink = Vec::new();
        let start = self.received();
        loop {
            sink.clear();
            if self.decode(src, &mut sink, u64::MAX).is_err() {
                return false;
            }
            if self.is_done() {
                return true;
            }
            if self.received() - start > bound || self.fill(io, src, req, idle).await.is_err() {
                return false;
            }
        }
    }
}

/// How long, and how much, a refused body is read and dropped after the answer when the
/// connection closes anyway.
pub const LINGER_TIME: Duration = Duration::from_secs(2);
pub const LINGER_BYTES: usize = 64 << 20;

/// After an answer sent before the body was read, reads and drops what the client still sends,
/// bounded by [`LINGER_TIME`] and [`LINGER_BYTES`]: most clients write the whole body before
/// they read, and closing on unread bytes resets the connection before they see the answer
/// (nginx's lingering close).
pub async fn linger<S: AsyncReadRent>(io: &mut S, mut buf: Vec<u8>) {
    let deadline = Instant::now() + LINGER_TIME;
    let mut dropped = 0;
    while dropped < LINGER_BYTES {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        buf.clear();
        match read_more(io, &mut buf, BUF_SIZE, left).await {
            Ok(n) => dropped += n,
            Err(_) => break,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use monoio::buf::{IoBufMut, IoVecBufMut};
    use monoio::BufResult;
    use std::collections::VecDeque;

    /// A client that sends these reads, then ends (EOF) or stalls.
    struct Script {
        reads: VecDeque<Vec<u8>>,
        stall: bool,
    }

    // Test-only: copies the script into the read buffer (no `IoBufMut` method does it safely).
    #[allow(unsafe_code)]
    impl AsyncReadRent for Script {
        async fn read<T: IoBufMut>(&mut self, mut buf: T) -> BufResult<usize, T> {
            let Some(next) = self.reads.pop_front() else {
                if self.stall {
                    monoio::time::sleep(Duration::from_secs(3600)).await;
                }
                return (Ok(0), buf);
            };
            // As a read op does: write at `write_ptr`, at most `bytes_total`, then `set_init`.
            let n = next.len().min(buf.bytes_total());
            unsafe {
                std::ptr::copy_nonoverlapping(next.as_ptr(), buf.write_ptr(), n);
                buf.set_init(n);
            }
            if n < next.len() {
                self.reads.push_front(next[n..].to_vec());
            }
            (Ok(n), buf)
        }
        async fn readv<T: IoVecBufMut>(&mut self, buf: T) -> BufResult<usize, T> {
            (Ok(0), buf)
        }
    }

    fn run<F: std::future::Future>(f: F) -> F::Output {
        monoio::RuntimeBuilder::<monoio::LegacyDriver>::new().enable_timer().build().expect("runtime").block_on(f)
    }

    fn req(framing: Framing, timeout: Duration) -> Req {
        Req {
            is_head: false,
            idempotent: false,
            minor: 1,
            close: false,
            framing,
            expect_continue: false,
            body_deadline: Instant::now() + timeout,
        }
    }

    const IDLE: Duration = Duration::from_secs(5);

    #[test]
    fn forwarding_keeps_the_next_request_for_each_framing() {
        let mut b = Body::new(Framing::Length(5), None);
        let (mut src, mut out) = (b"helloGET /".to_vec(), Vec::new());
        b.forward(&mut src, &mut out).unwrap();
        assert_eq!((&out[..], &src[..], b.is_done()), (&b"hello"[..], &b"GET /"[..], true));

        let mut b = Body::new(Framing::Chunked, None);
        let (mut src, mut out) = (b"3\r\nabc\r\n0\r\nx-t: 1\r\n\r\nGET /".to_vec(), Vec::new());
        b.forward(&mut src, &mut out).unwrap();
        assert_eq!(&out[..], b"3\r\nabc\r\n0\r\n\r\n", "trailers are left out, the end is written");
        assert_eq!((&src[..], b.is_done(), b.received()), (&b"GET /"[..], true, 3));

        let mut b = Body::new(Framing::None, None);
        let (mut src, mut out) = (b"GET /".to_vec(), Vec::new());
        b.forward(&mut src, &mut out).unwrap();
        assert!(out.is_empty() && b.is_done() && src == b"GET /");
    }

    #[test]
    fn a_read_in_place_hands_bytes_past_the_end_on() {
        let mut b = Body::new(Framing::Length(3), None);
        let (mut read, mut after) = (b"abcGET".to_vec(), Vec::new());
        b.forward_read(&mut read, &mut after).unwrap();
        assert_eq!((&read[..], &after[..], b.is_done()), (&b"abc"[..], &b"GET"[..], true));
    }

    #[test]
    fn chunked_past_the_limit_or_malformed_is_refused() {
        let mut b = Body::new(Framing::Chunked, Some(4));
        let mut src = b"5\r\nhello\r\n".to_vec();
        assert!(matches!(b.forward(&mut src, &mut Vec::new()), Err(Failure::TooLarge)));
        let mut b = Body::new(Framing::Chunked, None);
        let mut src = b"zz\r\n".to_vec();
        assert!(matches!(b.forward(&mut src, &mut Vec::new()), Err(Failure::BadBody(_))));
    }

    #[test]
    fn read_whole_decodes_across_reads_and_holds_the_cap() {
        run(async {
            let r = req(Framing::Chunked, IDLE);
            let mut io =
                Script { reads: VecDeque::from([b"llo\r\n".to_vec(), b"0\r\n\r\nNEXT".to_vec()]), stall: false };
            let mut src = b"5\r\nhe".to_vec();
            let mut b = Body::new(Framing::Chunked, None);
            let body = b.read_whole(&mut io, &mut src, &r, 1024, IDLE).await.unwrap();
            assert_eq!((&body[..], &src[..]), (&b"hello"[..], &b"NEXT"[..]));

            let r = req(Framing::Length(10), IDLE);
            let mut b = Body::new(Framing::Length(10), None);
            let err = b.read_whole(&mut io, &mut Vec::new(), &r, 4, IDLE).await;
            assert!(matches!(err, Err(Failure::TooLarge)), "a declared length over the cap: {err:?}");

            let r = req(Framing::Chunked, IDLE);
            let mut io = Script { reads: VecDeque::from([b"5\r\nhello\r\n".to_vec()]), stall: false };
            let mut b = Body::new(Framing::Chunked, None);
            let err = b.read_whole(&mut io, &mut Vec::new(), &r, 4, IDLE).await;
            assert!(matches!(err, Err(Failure::TooLarge)), "chunked over the cap: {err:?}");
        });
    }

    #[test]
    fn an_early_end_is_the_client_gone_and_a_stall_is_the_body_timeout() {
        run(async {
            let r = req(Framing::Length(10), IDLE);
            let mut io = Script { reads: VecDeque::from([b"abc".to_vec()]), stall: false };
            let mut b = Body::new(Framing::Length(10), None);
            let err = b.read_whole(&mut io, &mut Vec::new(), &r, 1024, IDLE).await;
            assert!(matches!(err, Err(Failure::Client)), "{err:?}");

            let r = req(Framing::Length(10), Duration::from_millis(50));
            let mut io = Script { reads: VecDeque::new(), stall: true };
            let mut b = Body::new(Framing::Length(10), None);
            let err = b.read_whole(&mut io, &mut Vec::new(), &r, 1024, IDLE).await;
            assert!(matches!(err, Err(Failure::BodyTimeout)), "{err:?}");
        });
    }

    #[test]
    fn discard_reads_to_the_end_within_its_bound() {
        run(async {
            let r = req(Framing::Length(8), IDLE);
            let mut io = Script { reads: VecDeque::from([b"5678NEXT".to_vec()]), stall: false };
            let mut src = b"1234".to_vec();
            let mut b = Body::new(Framing::Length(8), None);
            assert!(b.discard(&mut io, &mut src, &r, 1 << 20, IDLE).await);
            assert!(src.is_empty(), "never read past a length-framed body's end");
            assert_eq!(io.reads.front().map(Vec::as_slice), Some(&b"NEXT"[..]));

            let r = req(Framing::Length(1 << 20), IDLE);
            let mut io = Script { reads: VecDeque::from([vec![0; 4096], vec![0; 4096]]), stall: false };
            let mut b = Body::new(Framing::Length(1 << 20), None);
            assert!(!b.discard(&mut io, &mut Vec::new(), &r, 1000, IDLE).await, "past the bound: give up");
        });
    }
}
