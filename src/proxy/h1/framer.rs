//! A relayed response body on the HTTP/1.1 client wire: a length or chunked body passes as it
//! came (scanned for its end, never copied: each read's buffer is swapped into the write), a
//! chunked body to an HTTP/1.0 client is decoded and ends with the close.

use super::head::ClientFraming;
use crate::http::chunked::ChunkedScanner;
use crate::http::Framing;
use crate::proxy::context::BUF_SIZE;
use crate::proxy::seam::{BodyOut, Chunk, Malformed};

pub struct Framer {
    framing: ClientFraming,
    /// The backend's own framing (a chunked body may leave decoded).
    backend: Framing,
    scanner: ChunkedScanner,
    /// Bytes of a length-framed body still to come.
    remaining: u64,
    stray: bool,
    keep_alive: bool,
}

impl Framer {
    pub fn new(framing: ClientFraming, backend: Framing, keep_alive: bool) -> Framer {
        Framer { framing, backend, scanner: ChunkedScanner::default(), remaining: 0, stray: false, keep_alive }
    }

    fn decodes(&self) -> bool {
        self.framing == ClientFraming::Close && self.backend == Framing::Chunked
    }
}

fn chunk(done: bool) -> Chunk {
    if done {
        Chunk::End { trailers: None }
    } else {
        Chunk::Data
    }
}

impl BodyOut for Framer {
    fn keep_alive(&self) -> bool {
        self.keep_alive
    }

    fn want(&self) -> usize {
        match self.framing {
            ClientFraming::Length(_) => (self.remaining as usize).min(BUF_SIZE),
            _ => BUF_SIZE,
        }
    }

    fn first(&mut self, body: &[u8], out: &mut Vec<u8>) -> Result<Chunk, Malformed> {
        let done = match self.framing {
            ClientFraming::None => {
                self.stray = !body.is_empty();
                true
            }
            ClientFraming::Length(n) => {
                let take = (body.len() as u64).min(n) as usize;
                out.extend_from_slice(&body[..take]);
                self.stray = body.len() > take;
                self.remaining = n - take as u64;
                self.remaining == 0
            }
            ClientFraming::Chunked => {
                let used = self.scanner.scan(body, |_| {}).map_err(|_| Malformed)?;
                out.extend_from_slice(&body[..used]);
                self.stray = used < body.len();
                self.scanner.is_done()
            }
            ClientFraming::Close if self.decodes() => {
                self.scanner.scan(body, |d| out.extend_from_slice(d)).map_err(|_| Malformed)?;
                self.scanner.is_done()
            }
            ClientFraming::Close => {
                out.extend_from_slice(body);
                false
            }
        };
        Ok(chunk(done))
    }

    fn next(&mut self, read: &mut Vec<u8>, out: &mut Vec<u8>) -> Result<Chunk, Malformed> {
        let done = match self.framing {
            ClientFraming::Length(_) => {
                self.remaining -= read.len() as u64;
                std::mem::swap(out, read);
                self.remaining == 0
            }
            ClientFraming::Chunked => {
                let used = self.scanner.scan(read, |_| {}).map_err(|_| Malformed)?;
                self.stray |= used < read.len();
                read.truncate(used);
                std::mem::swap(out, read);
                self.scanner.is_done()
            }
            ClientFraming::Close if self.decodes() => {
                self.scanner.scan(read, |d| out.extend_from_slice(d)).map_err(|_| Malformed)?;
                self.scanner.is_done()
            }
            // Until the backend closes.
            ClientFraming::Close | ClientFraming::None => {
                std::mem::swap(out, read);
                false
            }
        };
        Ok(chunk(done))
    }

    fn closed(&self) -> bool {
        self.framing == ClientFraming::Close && self.backend == Framing::UntilClose
    }

    fn stray(&self) -> bool {
        self.stray
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn end(c: Chunk) -> bool {
        matches!(c, Chunk::End { .. })
    }

    #[test]
    fn a_length_body_passes_by_swap_and_stops_at_its_end() {
        let mut f = Framer::new(ClientFraming::Length(5), Framing::Length(5), true);
        let mut out = b"HEAD".to_vec();
        assert!(!end(f.first(b"he", &mut out).unwrap()));
        assert_eq!((&out[..], f.want()), (&b"HEADhe"[..], 3));
        let (mut read, mut out) = (b"llo".to_vec(), Vec::new());
        assert!(end(f.next(&mut read, &mut out).unwrap()));
        assert_eq!(&out[..], b"llo");
        assert!(!f.stray() && f.keep_alive());

        let mut f = Framer::new(ClientFraming::Length(2), Framing::Length(2), true);
        assert!(end(f.first(b"okEXTRA", &mut Vec::new()).unwrap()));
        assert!(f.stray(), "bytes past the end: the backend connection is not reused");
    }

    #[test]
    fn chunked_passes_as_is_or_is_decoded_for_http_1_0() {
        let wire = b"3\r\nabc\r\n0\r\n\r\n";
        let mut f = Framer::new(ClientFraming::Chunked, Framing::Chunked, true);
        let mut out = Vec::new();
        assert!(end(f.first(wire, &mut out).unwrap()));
        assert_eq!(&out[..], wire);

        let mut f = Framer::new(ClientFraming::Close, Framing::Chunked, false);
        let (mut out, mut read) = (Vec::new(), wire[5..].to_vec());
        assert!(!end(f.first(&wire[..5], &mut out).unwrap()));
        assert!(end(f.next(&mut read, &mut out).unwrap()));
        assert_eq!(&out[..], b"abc");
        assert!(!f.closed(), "a decoded chunked body ends at its last chunk, not the close");

        let mut f = Framer::new(ClientFraming::Chunked, Framing::Chunked, true);
        assert!(f.first(b"zz\r\n", &mut Vec::new()).is_err());
    }

    #[test]
    fn an_until_close_body_ends_with_the_close() {
        let mut f = Framer::new(ClientFraming::Close, Framing::UntilClose, false);
        let (mut read, mut out) = (b"more".to_vec(), Vec::new());
        assert!(!end(f.next(&mut read, &mut out).unwrap()));
        assert_eq!(&out[..], b"more");
        assert!(f.closed() && !f.keep_alive());
    }
}
