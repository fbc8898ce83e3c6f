//! Request smuggling: ambiguous framing and malformed heads get 400, the
//! connection closes, and the backend receives nothing. A valid sentinel request
//! afterwards proves the backend is reachable and only ever saw the sentinel.

mod common;

use common::*;
use std::time::Duration;

fn check(case: &str, raw: &[u8], head_level: bool) {
    let b = Backend::normal();
    let gw = Gateway::start(
        &format!(
            r#"{{"revision":"r1","apis":[{{"id":"s","path":"s","serviceUrl":"{}","subscriptionRequired":false}}]}}"#,
            b.url()
        ),
        &[],
    );
    let mut c = Conn::connect(gw.http_addr());
    c.set_read_timeout(Duration::from_secs(10));
    c.send(raw).unwrap();
    let r = c.read_response(false).unwrap_or_else(|e| panic!("{case}: no response ({e})"));
    assert_eq!(r.status, 400, "{case}: {r:?}");
    assert!(c.wait_closed(Duration::from_secs(5)).is_ok(), "{case}: connection still open after 400");
    // sentinel: the backend works, and it saw only the sentinel
    let s = gw.get("/s/sentinel", &[]);
    assert_eq!(s.status, 200, "{case}: sentinel {s:?}");
    let seen: Vec<String> = b.seen().iter().map(|s| s.target.clone()).collect();
    assert_eq!(b.requests(), 1, "{case}: backend got a complete request besides the sentinel; saw {seen:?}");
    assert!(!seen.iter().any(|t| t.contains("smuggle")), "{case}: backend saw {seen:?}");
    if head_level {
        assert_eq!(b.heads(), 1, "{case}: backend saw a request head; saw {seen:?}");
    }
}

#[test]
fn content_length_and_transfer_encoding() {
    check(
        "CL+TE",
        b"POST /s/smuggle HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /s/smuggled-inner HTTP/1.1\r\nHost: x\r\n\r\n",
        true,
    );
}

#[test]
fn transfer_encoding_and_content_length_reversed() {
    check(
        "TE+CL",
        b"POST /s/smuggle HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n0\r\n\r\nGET /s/smuggled-inner HTTP/1.1\r\nHost: x\r\n\r\n",
        true,
    );
}

#[test]
fn two_differing_content_lengths() {
    check(
        "CL+CL",
        b"POST /s/smuggle HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 44\r\n\r\nhelloGET /s/smuggled-inner HTTP/1.1\r\nHost: x\r\n\r\n",
        true,
    );
}

#[test]
fn content_length_list_with_different_values() {
    check(
        "CL list",
        b"POST /s/smuggle HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 44\r\n\r\nhelloGET /s/smuggled-inner HTTP/1.1\r\nHost: x\r\n\r\n",
        true,
    );
}

#[test]
fn invalid_content_length() {
    check("CL +5", b"POST /s/smuggle HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello", true);
}

/// The chunk-level cases are found in the body, which a streaming gateway may
/// see after it forwarded the head: the backend must still never receive a
/// complete request (only `requests` is checked, not `heads`).
#[test]
fn invalid_chunk_size() {
    check(
        "chunk size zz",
        b"POST /s/smuggle HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
        false,
    );
}

#[test]
fn chunk_size_overflow() {
    check(
        "chunk size overflow",
        b"POST /s/smuggle HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000000005\r\nhello\r\n0\r\n\r\n",
        false,
    );
}

#[test]
fn chunk_data_without_crlf() {
    check(
        "chunk framing",
        b"POST /s/smuggle HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n",
        false,
    );
}

#[test]
fn transfer_encoding_not_ending_in_chunked() {
    check("TE gzip", b"POST /s/smuggle HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", true);
}

#[test]
fn obsolete_line_folding() {
    check("obs-fold", b"GET /s/smuggle HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n", true);
}

#[test]
fn folded_transfer_encoding() {
    check(
        "obs-fold TE",
        b"POST /s/smuggle HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nX-A: b\r\n Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        true,
    );
}

#[test]
fn whitespace_between_header_name_and_colon() {
    check(
        "name SP colon",
        b"POST /s/smuggle HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
        true,
    );
}

#[test]
fn bare_cr_in_header() {
    check("bare CR", b"GET /s/smuggle HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n", true);
}
