//! The HTTP/1.1 request head parser (src/http/request.rs) on arbitrary bytes.
//!
//! Holds: no panic; an accepted head lies inside the input and its spans inside the head; the
//! method and target carry no byte that could end the request line early (space, CR, LF, NUL),
//! header values no CR, LF or NUL; a head parsed into a reused `RequestHead` (as a kept-alive
//! connection does) equals a fresh parse; parsing the accepted prefix alone gives the same head.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringgate::http::request::RequestHead;
use ringgate::http::Span;

fn check_accepted(buf: &[u8], head: &RequestHead) {
    assert!(head.len > 0 && head.len <= buf.len(), "head length {} outside the input", head.len);
    let inside = |s: Span| s.start <= s.end && (s.end as usize) <= head.len;
    assert!(inside(head.method) && inside(head.path) && inside(head.query));
    for b in [head.method, head.path, head.query] {
        assert!(
            !b.get(buf).iter().any(|c| matches!(c, b' ' | b'\r' | b'\n' | 0)),
            "request line part {:?}",
            b.get(buf)
        );
    }
    assert!(!head.method.is_empty(), "empty method accepted");
    for h in &head.headers {
        assert!(inside(h.name) && inside(h.value));
        assert!(!h.name.is_empty(), "empty header name accepted");
        assert!(!h.value.get(buf).iter().any(|c| matches!(c, b'\r' | b'\n' | 0)), "header value with CR/LF/NUL");
        assert!(
            h.name.get(buf).iter().all(|c| c.is_ascii_graphic() && *c != b':'),
            "header name {:?}",
            h.name.get(buf)
        );
    }
    if let Some(host) = head.host {
        assert!(inside(host));
    }
}

fuzz_target!(|data: &[u8]| {
    // The first byte says where a first (earlier) request ends, to exercise reuse.
    let Some((&cut, rest)) = data.split_first() else { return };
    let cut = (cut as usize).min(rest.len());
    let (first, second) = rest.split_at(cut);

    let mut reused = RequestHead::default();
    let _ = reused.parse(first);
    let again = reused.parse(second);
    let mut fresh = RequestHead::default();
    let once = fresh.parse(second);
    assert_eq!(again, once);
    if let Ok(Some(())) = once {
        assert_eq!(format!("{reused:?}"), format!("{fresh:?}"), "a reused head differs from a fresh one");
        check_accepted(second, &fresh);
        let mut prefix = RequestHead::default();
        assert_eq!(prefix.parse(&second[..fresh.len]), Ok(Some(())), "the accepted prefix alone is refused");
        assert_eq!(format!("{prefix:?}"), format!("{fresh:?}"));
    }
});
