//! Request path normalisation: the rule every request goes through before routing, admission
//! and the backend (so all three see the same path), as RFC 3986 and the strict gateways do
//! (Envoy's `normalize_path`, nginx's merge of dot segments).
//!
//! 1. Percent-escapes of unreserved characters (`ALPHA DIGIT - . _ ~`, RFC 3986 §2.3) are
//!    decoded, so `%2e`/`%2E` is `.` and `%61` is `a`; every other escape stays as sent.
//! 2. Dot-segments are removed (RFC 3986 §5.2.4): `.` goes, `..` removes the segment before it.
//!    A `..` with nothing left to remove (climbing above `/`) is refused: 400.
//! 3. A segment holding an encoded slash (`%2F`) or a backslash (raw `\` or `%5C`) stays as sent
//!    (`a%2Fb` is a name, not two segments), unless splitting it at those would make a `.` or
//!    `..` segment (`..%2F`, `%2e%2e%5c`, `a\..`): a backend that decodes them would then climb
//!    where the gateway did not, so such a path is refused: 400. So is a segment that is a dot-
//!    segment once its path parameters are stripped (`..;x`, `.;`), as Tomcat and Jetty do.
//! 4. Empty segments (`//`) are kept (they are not separators a backend would merge upward).
//!
//! The query is not touched. Paths a policy writes (`rewrite-uri`) go through the same rule
//! relative to the backend's base path: they cannot climb above the API's `serviceUrl` path.

use super::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("the path climbs above the root")]
    AboveRoot,
    #[error("the path hides a dot-segment behind an encoded slash or a backslash")]
    HiddenDotSegment,
}

/// Whether `path` may need work (fast path: most paths have no `%`, `\` or `/.`).
fn needs_work(path: &[u8]) -> bool {
    // `..;` needs no `%` or `\` but starts with `/.`, so the checks below see it.
    path.iter().any(|b| *b == b'%' || *b == b'\\') || path.windows(2).any(|w| w == b"/.") || path.first() == Some(&b'.')
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Decodes escapes of unreserved bytes in one segment.
fn decode_unreserved(seg: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(seg.len());
    let mut i = 0;
    while i < seg.len() {
        if seg[i] == b'%' && i + 2 < seg.len() {
            if let (Some(h), Some(l)) = (hex(seg[i + 1]), hex(seg[i + 2])) {
                let c = h * 16 + l;
                if is_unreserved(c) {
                    out.push(c);
                    i += 3;
                    continue;
                }
            }
        }
        out.push(seg[i]);
        i += 1;
    }
    out
}

/// Splits a (decoded) segment at the separators a backend might decode: `\`, `%2F`, `%5C`.
fn hides_dot_segment(seg: &[u8]) -> bool {
    let mut pieces: Vec<&[u8]> = Vec::new();
    let (mut from, mut i) = (0, 0);
    let mut separated = false;
    while i < seg.len() {
        let sep = if seg[i] == b'\\' {
            1
        } else if seg[i] == b'%'
            && seg.get(i + 1) == Some(&b'2')
            && seg.get(i + 2).is_some_and(|b| b.eq_ignore_ascii_case(&b'f'))
            || seg[i] == b'%'
                && seg.get(i + 1) == Some(&b'5')
                && seg.get(i + 2).is_some_and(|b| b.eq_ignore_ascii_case(&b'c'))
        {
            3
        } else {
            0
        };
        if sep > 0 {
            pieces.push(&seg[from..i]);
            i += sep;
            from = i;
            separated = true;
        } else {
            i += 1;
        }
    }
    pieces.push(&seg[from..]);
    let dot = |p: &[u8]| p == b"." || p == b"..";
    // `..;x`: servers that strip path parameters (Tomcat, Jetty) read it as `..`.
    let dot_with_params = |p: &[u8]| p.contains(&b';') && p.split(|b| *b == b';').next().is_some_and(dot);
    (separated && pieces.iter().any(|p| dot(p))) || pieces.iter().any(|p| dot_with_params(p))
}

/// Normalises `path` (which should start with `/`; one is assumed when it does not) into `out`.
pub fn normalise_into(path: &[u8], out: &mut Vec<u8>) -> Result<(), PathError> {
    let body = path.strip_prefix(b"/").unwrap_or(path);
    let mut segments: Vec<Vec<u8>> = Vec::new();
    let mut trailing_slash = false;
    let raw: Vec<&[u8]> = body.split(|b| *b == b'/').collect();
    for (i, seg) in raw.iter().enumerate() {
        let last = i + 1 == raw.len();
        let seg = decode_unreserved(seg);
        if hides_dot_segment(&seg) {
            return Err(PathError::HiddenDotSegment);
        }
        match seg.as_slice() {
            b"." => trailing_slash = last,
            b".." => {
                if segments.pop().is_none() {
                    return Err(PathError::AboveRoot);
                }
                trailing_slash = last;
            }
            _ => {
                segments.push(seg);
                trailing_slash = false;
            }
        }
    }
    out.push(b'/');
    for (i, seg) in segments.iter().enumerate() {
        if i > 0 {
            out.push(b'/');
        }
        out.extend_from_slice(seg);
    }
    if trailing_slash && !segments.is_empty() {
        out.push(b'/');
    }
    Ok(())
}

/// The normalised form of `path`, borrowed when nothing changes.
pub fn normalise(path: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>, PathError> {
    if !needs_work(path) {
        return Ok(std::borrow::Cow::Borrowed(path));
    }
    let mut out = Vec::with_capacity(path.len() + 1);
    normalise_into(path, &mut out)?;
    Ok(std::borrow::Cow::Owned(out))
}

/// Normalises the path at `span` of `buf` in place (the result is never longer) and returns its
/// new span.
pub fn normalise_in_place(buf: &mut [u8], span: Span) -> Result<Span, PathError> {
    let path = span.get(buf);
    if !needs_work(path) {
        return Ok(span);
    }
    let mut out = Vec::with_capacity(path.len());
    normalise_into(path, &mut out)?;
    let start = span.start as usize;
    // A request path starts with '/', so the result (which does too) is never longer.
    let n = out.len().min(path.len());
    buf[start..start + n].copy_from_slice(&out[..n]);
    Ok(Span { start: span.start, end: span.start + n as u32 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let cases: &[(&str, Result<&str, PathError>)] = &[
            ("/", Ok("/")),
            ("/a/b", Ok("/a/b")),
            ("/a/b/", Ok("/a/b/")),
            ("/a/./b", Ok("/a/b")),
            ("/a/../b", Ok("/b")),
            ("/a/b/..", Ok("/a/")),
            ("/a/b/.", Ok("/a/b/")),
            ("/a/%2e%2e/b", Ok("/b")),
            ("/a/%2E./b", Ok("/b")),
            ("/a/.%2e/b", Ok("/b")),
            ("/a/%2e/b", Ok("/a/b")),
            ("/keyless/../secret/x", Ok("/secret/x")),
            ("/keyless/%2e%2e/secret/x", Ok("/secret/x")),
            ("/..", Err(PathError::AboveRoot)),
            ("/a/../..", Err(PathError::AboveRoot)),
            ("/%2e%2e/a", Err(PathError::AboveRoot)),
            ("/a/..%2F..%2Fb", Err(PathError::HiddenDotSegment)),
            ("/a/..%2fb", Err(PathError::HiddenDotSegment)),
            ("/a/%2e%2e%2fb", Err(PathError::HiddenDotSegment)),
            ("/a/..\\b", Err(PathError::HiddenDotSegment)),
            ("/a/b\\..\\c", Err(PathError::HiddenDotSegment)),
            ("/a/%2e%2e%5Cb", Err(PathError::HiddenDotSegment)),
            ("/a/x%2F.", Err(PathError::HiddenDotSegment)),
            ("/a/..;/b", Err(PathError::HiddenDotSegment)),
            ("/a/..;x=1/b", Err(PathError::HiddenDotSegment)),
            ("/a/%2e%2e;/b", Err(PathError::HiddenDotSegment)),
            ("/a/.;/b", Err(PathError::HiddenDotSegment)),
            ("/a/b;v=1/c", Ok("/a/b;v=1/c")),
            ("/a/...;x", Ok("/a/...;x")),
            ("/files/a%2Fb", Ok("/files/a%2Fb")),
            ("/a\\b", Ok("/a\\b")),
            ("/%61pi/x%20y", Ok("/api/x%20y")),
            ("/a//b", Ok("/a//b")),
            ("/a//../b", Ok("/a/b")),
            ("/file.json", Ok("/file.json")),
            ("/.well-known/x", Ok("/.well-known/x")),
            ("/a/...", Ok("/a/...")),
            ("/a/%2", Ok("/a/%2")),
            ("/a/%", Ok("/a/%")),
        ];
        for (input, want) in cases {
            let got = normalise(input.as_bytes()).map(|c| String::from_utf8_lossy(&c).into_owned());
            assert_eq!(got, want.map(str::to_string), "{input}");
            let mut buf = format!("GET {input} HTTP/1.1").into_bytes();
            let span = Span { start: 4, end: 4 + input.len() as u32 };
            let got = normalise_in_place(&mut buf, span).map(|s| String::from_utf8_lossy(s.get(&buf)).into_owned());
            assert_eq!(got, want.map(str::to_string), "in place: {input}");
        }
    }

    #[test]
    fn relative_rest_is_rooted() {
        assert_eq!(normalise(b"a/../b").unwrap().as_ref(), b"/b");
        assert_eq!(normalise(b"../b"), Err(PathError::AboveRoot));
    }
}
