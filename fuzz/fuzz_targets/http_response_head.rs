//! The backend response head parser (src/http/response.rs) on arbitrary bytes.
//!
//! Holds: no panic; an accepted head lies inside the input with its spans; its status is a
//! three-digit code (100..=999) and the reason phrase carries no CR, LF or NUL; a response to
//! HEAD, 1xx, 204 and 304 has no body; a body delimited by the close forces the close; reuse
//! of a `ResponseHead` equals a fresh parse.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringgate::http::response::ResponseHead;
use ringgate::http::{Framing, Span};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else { return };
    let request_was_head = flags & 1 == 1;
    let cut = ((flags >> 1) as usize).min(rest.len());
    let (first, second) = rest.split_at(cut);

    let mut reused = ResponseHead::default();
    let _ = reused.parse(first, !request_was_head);
    let again = reused.parse(second, request_was_head);
    let mut fresh = ResponseHead::default();
    let once = fresh.parse(second, request_was_head);
    assert_eq!(again, once);
    let Ok(Some(())) = once else { return };
    assert_eq!(format!("{reused:?}"), format!("{fresh:?}"), "a reused head differs from a fresh one");

    let buf = second;
    assert!(fresh.len > 0 && fresh.len <= buf.len());
    let inside = |s: Span| s.start <= s.end && (s.end as usize) <= fresh.len;
    assert!(inside(fresh.reason));
    assert!((100..=999).contains(&fresh.status), "status {}", fresh.status);
    assert!(!fresh.reason.get(buf).iter().any(|c| matches!(c, b'\r' | b'\n' | 0)), "reason with CR/LF/NUL");
    for h in &fresh.headers {
        assert!(inside(h.name) && inside(h.value));
        assert!(!h.value.get(buf).iter().any(|c| matches!(c, b'\r' | b'\n' | 0)));
    }
    let bodiless = request_was_head || (100..200).contains(&fresh.status) || fresh.status == 204 || fresh.status == 304;
    if bodiless {
        assert_eq!(fresh.framing, Framing::None, "a bodiless response with a body");
    }
    if fresh.framing == Framing::UntilClose {
        assert!(fresh.close, "a close-delimited body on a connection marked reusable");
    }
});
