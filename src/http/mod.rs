//! Our HTTP/1.1 codec: the one place that reads and writes HTTP/1 on the wire.
//!
//! Heads are parsed with `httparse` (the parser monoio-http uses) into byte spans over the
//! connection's own buffer, so nothing is copied or allocated per request. Bodies are framed here
//! (content-length and chunked, validated while they stream) because monoio-http's codec buffers
//! content-length bodies whole and has no head-size limit (../shared/reference/monoio-stack.md).

pub mod chunked;
pub mod headers;
pub mod path;
pub mod request;
pub mod response;
pub mod wire;
pub mod write;

/// A byte range into a buffer the caller owns (a head stays in its connection buffer).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn of(buf: &[u8], part: &[u8]) -> Span {
        // `part` is a sub-slice of `buf` (httparse borrows from it), so the offset is in range.
        let start = (part.as_ptr() as usize).saturating_sub(buf.as_ptr() as usize);
        Span { start: start as u32, end: (start + part.len()) as u32 }
    }

    #[inline]
    pub fn get<'a>(&self, buf: &'a [u8]) -> &'a [u8] {
        buf.get(self.start as usize..self.end as usize).unwrap_or(&[])
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
}

/// How a message body is delimited on the wire.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Framing {
    #[default]
    None,
    Length(u64),
    Chunked,
    /// Responses only: the body runs until the connection closes.
    UntilClose,
}

/// Most headers a head may carry; more is answered with 431.
pub const MAX_HEADERS: usize = 128;
