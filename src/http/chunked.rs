//! A streaming, validating chunked-coding scanner (RFC 9112 §7.1).
//!
//! It walks the raw bytes as they arrive and says where the message ends, so the proxy can forward
//! the bytes as they are (no re-encoding) while refusing anything ambiguous: bare LF or CR, a bad
//! hex size, oversized sizes, control bytes in extensions or trailers.

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid chunked framing: {0}")]
pub struct ChunkError(pub &'static str);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Size,
    Ext,
    SizeLf,
    Data,
    DataCr,
    DataLf,
    /// At the start of a trailer line (or the final empty line).
    TrailerStart,
    TrailerLine,
    TrailerLf,
    FinalLf,
    Done,
}

#[derive(Debug, Clone)]
pub struct ChunkedScanner {
    state: State,
    size: u64,
    digits: u8,
    line_len: usize,
    /// Decoded payload bytes seen so far (for body-size limits).
    pub payload: u64,
    /// A chunk-size line has been read whole (a response whose first one is malformed is
    /// refused before its head is relayed).
    sized: bool,
    /// Where in the last scanned input the trailer section began (after the last chunk's size
    /// line), when the scan reached it: trailers are not forwarded.
    trailer_at: Option<usize>,
}

impl Default for ChunkedScanner {
    fn default() -> Self {
        ChunkedScanner {
            state: State::Size,
            size: 0,
            digits: 0,
            line_len: 0,
            payload: 0,
            sized: false,
            trailer_at: None,
        }
    }
}

const MAX_LINE: usize = 4096;

impl ChunkedScanner {
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// At least one chunk-size line was read whole and valid.
    pub fn sized(&self) -> bool {
        self.sized
    }

    /// Of the `used` bytes the last [`scan`](Self::scan) consumed from its input, how many to
    /// forward: the trailer fields are left out (RFC 9112 §7.1.2 lets a recipient drop them, and a
    /// backend that merged them into the head could read them as headers). When the message is
    /// done the caller ends it with [`END`](Self::END) instead.
    pub fn forwardable(&self, used: usize) -> usize {
        self.trailer_at.map_or(used, |t| t.min(used))
    }

    /// The end of a chunked message without trailers.
    pub const END: &'static [u8] = b"\r\n";

    /// Scans `input`; returns how many bytes belong to this message (all of them unless the
    /// message ends inside `input`). `on_data` receives the decoded payload pieces.
    pub fn scan(&mut self, input: &[u8], mut on_data: impl FnMut(&[u8])) -> Result<usize, ChunkError> {
        let mut i = 0;
        self.trailer_at = matches!(
            self.state,
            State::TrailerStart | State::TrailerLine | State::TrailerLf | State::FinalLf | State::Done
        )
        .then_some(0);
        while i < input.len() {
            let b = input[i];
            match self.state {
                State::Size => match b {
                    b'0'..=b'9' | b'a'..=b'f' | b'A'..=b'F' => {
                        self.digits += 1;
                        if self.digits > 15 {
                            return Err(ChunkError("chunk size too large"));
                        }
                        let d = (b as char).to_digit(16).unwrap_or(0);
                        self.size = self.size * 16 + u64::from(d);
                    }
                    b';' if self.digits > 0 => self.state = State::Ext,
                    b'\r' if self.digits > 0 => self.state = State::SizeLf,
                    _ => return Err(ChunkError("bad chunk size")),
                },
                State::Ext => match b {
                    b'\r' => self.state = State::SizeLf,
                    b'\t' | b' '..=b'~' | 0x80..=0xff => {
                        self.line_len += 1;
                        if self.line_len > MAX_LINE {
                            return Err(ChunkError("chunk extension too long"));
                        }
                    }
                    _ => return Err(ChunkError("bad byte in chunk extension")),
                },
                State::SizeLf => {
                    if b != b'\n' {
                        return Err(ChunkError("expected LF after chunk size"));
                    }
                    self.line_len = 0;
                    self.digits = 0;
                    self.sized = true;
                    self.state = if self.size == 0 {
                        self.trailer_at = Some(i + 1);
                        State::TrailerStart
                    } else {
                        State::Data
                    };
                }
                State::Data => {
                    let take = (self.size as usize).min(input.len() - i);
                    on_data(&input[i..i + take]);
                    self.payload += take as u64;
                    self.size -= take as u64;
                    i += take;
                    if self.size == 0 {
                        self.state = State::DataCr;
                    }
                    continue;
                }
                State::DataCr => {
                    if b != b'\r' {
                        return Err(ChunkError("expected CRLF after chunk data"));
                    }
                    self.state = State::DataLf;
                }
                State::DataLf => {
                    if b != b'\n' {
                        return Err(ChunkError("expected CRLF after chunk data"));
                    }
                    self.state = State::Size;
                }
                State::TrailerStart => match b {
                    b'\r' => self.state = State::FinalLf,
                    b' ' | b'\t' => return Err(ChunkError("folded trailer")),
                    _ => {
                        self.state = State::TrailerLine;
                        continue;
                    }
                },
                State::TrailerLine => match b {
                    b'\r' => self.state = State::TrailerLf,
                    b'\t' | b' '..=b'~' | 0x80..=0xff => {
                        self.line_len += 1;
                        if self.line_len > MAX_LINE {
                            return Err(ChunkError("trailer line too long"));
                        }
                    }
                    _ => return Err(ChunkError("bad byte in trailer")),
                },
                State::TrailerLf => {
                    if b != b'\n' {
                        return Err(ChunkError("expected LF after trailer"));
                    }
                    self.line_len = 0;
                    self.state = State::TrailerStart;
                }
                State::FinalLf => {
                    if b != b'\n' {
                        return Err(ChunkError("expected LF at end of chunked body"));
                    }
                    self.state = State::Done;
                    return Ok(i + 1);
                }
                State::Done => return Ok(i),
            }
            i += 1;
        }
        Ok(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(input: &[u8], split: usize) -> Result<(usize, Vec<u8>, bool), ChunkError> {
        let mut s = ChunkedScanner::default();
        let mut out = Vec::new();
        let a = s.scan(&input[..split], |d| out.extend_from_slice(d))?;
        let mut used = a;
        if !s.is_done() {
            used += s.scan(&input[split..], |d| out.extend_from_slice(d))?;
        }
        Ok((used, out, s.is_done()))
    }

    #[test]
    fn decodes_across_any_split() {
        let body = b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\nNEXT";
        for split in 0..body.len() {
            let (used, data, done) = run(body, split).expect("valid");
            assert!(done, "split {split}");
            assert_eq!(used, body.len() - 4, "split {split}");
            assert_eq!(data, b"hello world");
        }
    }

    #[test]
    fn trailers_are_not_forwarded() {
        let body = b"5\r\nhello\r\n0\r\nTransfer_Encoding: x\r\nX-T: 1\r\n\r\n";
        for split in 0..body.len() {
            let mut s = ChunkedScanner::default();
            let mut fwd = Vec::new();
            for part in [&body[..split], &body[split..]] {
                let used = s.scan(part, |_| {}).expect("valid");
                fwd.extend_from_slice(&part[..s.forwardable(used)]);
            }
            assert!(s.is_done());
            fwd.extend_from_slice(ChunkedScanner::END);
            assert_eq!(fwd, b"5\r\nhello\r\n0\r\n\r\n", "split {split}");
        }
    }

    #[test]
    fn refuses_ambiguous_framing() {
        let bad: &[&[u8]] = &[
            b"5\nhello\r\n0\r\n\r\n",
            b"5\r\nhelloX\r\n0\r\n\r\n",
            b"zz\r\n",
            b"\r\n",
            b"1234567890abcdef0\r\n",
            b"0\r\n folded\r\n\r\n",
            b"0\r\n\n",
            b"5;a\x00b\r\nhello\r\n",
        ];
        for b in bad {
            assert!(run(b, b.len()).is_err(), "{:?}", String::from_utf8_lossy(b));
        }
    }
}

#[cfg(test)]
mod fuzz {
    use super::*;

    #[test]
    fn arbitrary_input_never_panics_and_never_overruns() {
        let mut rng = fastrand::Rng::with_seed(11);
        for _ in 0..20_000 {
            let len = rng.usize(0..128);
            let input: Vec<u8> =
                (0..len).map(|_| *rng.choice(b"0123456789abcdefXx\r\n; =\t".iter()).unwrap_or(&b'0')).collect();
            let mut s = ChunkedScanner::default();
            let mut seen = 0u64;
            if let Ok(used) = s.scan(&input, |d| seen += d.len() as u64) {
                assert!(used <= input.len());
                assert_eq!(seen, s.payload);
            }
        }
    }
}
