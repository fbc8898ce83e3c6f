//! Just enough of RFC 6455 framing to know where frames begin: the tunnel relays bytes as they
//! come and follows frame headers alongside, so that at drain it can stop a direction between
//! two frames and insert a close frame of its own (§5.5.1: control frames may come between the
//! fragments of a message). Payloads are never looked at.

/// Where a direction of the tunnel stands in the frame stream.
#[derive(Debug, Default)]
pub struct FrameCursor {
    /// Bytes of the current frame's header seen so far (at most 14).
    header: [u8; 14],
    have: u8,
    /// Payload bytes of the current frame still to pass.
    payload_left: u64,
    /// A close frame passed whole: this direction needs no close frame from the gateway.
    closed: bool,
    closing: bool,
}

impl FrameCursor {
    /// Between two frames: the next byte starts a frame header.
    pub fn at_boundary(&self) -> bool {
        self.have == 0 && self.payload_left == 0
    }

    /// Payload bytes of the current frame not yet seen (0 while in a header or between frames).
    pub fn payload_left(&self) -> u64 {
        self.payload_left
    }

    /// Passes `n` payload bytes moved without being looked at (spliced); `n` is at most
    /// [`FrameCursor::payload_left`].
    pub fn skip_payload(&mut self, n: u64) {
        self.payload_left -= n.min(self.payload_left);
        if self.closing && self.at_boundary() {
            self.closed = true;
        }
    }

    /// Whether a close frame already went this way.
    pub fn closed(&self) -> bool {
        self.closed
    }

    /// Follows `bytes`; with `stop_at_boundary`, stops at the first frame boundary (at once
    /// when already at one). Returns how many bytes were followed (and may be relayed).
    pub fn advance(&mut self, bytes: &[u8], stop_at_boundary: bool) -> usize {
        let mut i = 0;
        while i < bytes.len() {
            if stop_at_boundary && self.at_boundary() {
                return i;
            }
            if self.payload_left > 0 {
                let take = self.payload_left.min((bytes.len() - i) as u64);
                self.payload_left -= take;
                i += take as usize;
            } else {
                self.header[self.have as usize] = bytes[i];
                self.have += 1;
                i += 1;
                if let Some(payload) = self.header_done() {
                    self.closing = self.header[0] & 0x0f == 0x8;
                    self.have = 0;
                    self.payload_left = payload;
                }
            }
            if self.closing && self.at_boundary() {
                self.closed = true;
            }
        }
        i
    }

    /// The payload length once the header is whole (`None` while it is not).
    fn header_done(&self) -> Option<u64> {
        let h = &self.header[..self.have as usize];
        if h.len() < 2 {
            return None;
        }
        let mask = if h[1] & 0x80 != 0 { 4 } else { 0 };
        let (ext, len) = match h[1] & 0x7f {
            126 => (2, None),
            127 => (8, None),
            n => (0, Some(u64::from(n))),
        };
        if h.len() < 2 + ext + mask {
            return None;
        }
        Some(len.unwrap_or_else(|| h[2..2 + ext].iter().fold(0u64, |n, b| n << 8 | u64::from(*b))))
    }
}

/// Close status 1001, "going away" (RFC 6455 §7.4.1): the gateway is shutting down.
pub const GOING_AWAY: u16 = 1001;

/// A close frame with `code` as a server sends it (unmasked).
pub fn close_to_client(code: u16) -> Vec<u8> {
    let [hi, lo] = code.to_be_bytes();
    vec![0x88, 0x02, hi, lo]
}

/// A close frame with `code` as a client sends it: masked with `key` (§5.3).
pub fn close_to_server(code: u16, key: [u8; 4]) -> Vec<u8> {
    let [hi, lo] = code.to_be_bytes();
    vec![0x88, 0x82, key[0], key[1], key[2], key[3], hi ^ key[0], lo ^ key[1]]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(opcode: u8, masked: bool, payload: usize) -> Vec<u8> {
        let mut f = vec![0x80 | opcode];
        let m = if masked { 0x80 } else { 0 };
        match payload {
            0..=125 => f.push(m | payload as u8),
            126..=0xffff => {
                f.push(m | 126);
                f.extend_from_slice(&(payload as u16).to_be_bytes());
            }
            _ => {
                f.push(m | 127);
                f.extend_from_slice(&(payload as u64).to_be_bytes());
            }
        }
        if masked {
            f.extend_from_slice(&[1, 2, 3, 4]);
        }
        f.extend(std::iter::repeat_n(0x5a, payload));
        f
    }

    #[test]
    fn follows_every_length_form_byte_by_byte_and_at_once() {
        let mut stream = Vec::new();
        for (op, masked, n) in [(1, true, 5), (2, false, 126), (2, true, 70_000), (9, false, 0), (1, false, 125)] {
            stream.extend(frame(op, masked, n));
        }
        let mut whole = FrameCursor::default();
        assert_eq!(whole.advance(&stream, false), stream.len());
        assert!(whole.at_boundary());
        let mut bytewise = FrameCursor::default();
        for b in &stream {
            bytewise.advance(std::slice::from_ref(b), false);
        }
        assert!(bytewise.at_boundary() && !bytewise.closed());
    }

    #[test]
    fn stops_at_the_first_boundary() {
        let a = frame(2, false, 300);
        let mut stream = a.clone();
        stream.extend(frame(1, false, 10));
        let mut c = FrameCursor::default();
        assert_eq!(c.advance(&stream, true), 0, "a fresh stream is at a boundary");
        assert_eq!(c.advance(&stream[..100], false), 100);
        assert_eq!(c.advance(&stream[100..], true), a.len() - 100, "then up to the frame's end");
        assert!(c.at_boundary());
        assert_eq!(c.advance(&stream[a.len()..], true), 0, "already at a boundary");
    }

    #[test]
    fn spliced_payload_is_skipped() {
        let f = frame(2, false, 100_000);
        let mut c = FrameCursor::default();
        c.advance(&f[..4000], false);
        let left = c.payload_left();
        assert_eq!(left as usize, f.len() - 4000);
        c.skip_payload(left - 10);
        assert!(!c.at_boundary());
        assert_eq!(c.advance(&f[f.len() - 10..], true), 10);
        assert!(c.at_boundary());
    }

    #[test]
    fn notices_a_close_frame_once_whole() {
        let close = close_to_server(1000, [9, 8, 7, 6]);
        let mut c = FrameCursor::default();
        c.advance(&close[..5], false);
        assert!(!c.closed());
        c.advance(&close[5..], false);
        assert!(c.closed() && c.at_boundary());
        assert_eq!(close_to_client(GOING_AWAY), [0x88, 2, 0x03, 0xe9]);
        let masked = close_to_server(GOING_AWAY, [1, 2, 3, 4]);
        assert_eq!([masked[6] ^ 1, masked[7] ^ 2], [0x03, 0xe9]);
    }
}
