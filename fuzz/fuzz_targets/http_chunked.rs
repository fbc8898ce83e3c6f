//! The streaming chunked decoder (src/http/chunked.rs).
//!
//! Two properties on each input:
//! - decoding the raw bytes is independent of how they are split into reads (the proxy sees
//!   arbitrary read boundaries): same verdict, same message length, same payload; the length
//!   never exceeds the input and the payload count equals the bytes handed out;
//! - encoding the input as chunks (sizes taken from the input) and decoding gives the input back,
//!   and the decoder stops exactly at the end of the message (a pipelined next message is left).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringgate::http::chunked::{ChunkError, ChunkedScanner};

/// Decodes `input` in pieces of the given sizes; returns the verdict, bytes used and payload.
fn decode(input: &[u8], pieces: &[u8]) -> (Result<usize, ChunkError>, Vec<u8>, bool) {
    let mut sc = ChunkedScanner::default();
    let mut out = Vec::new();
    let mut used = 0;
    let mut sizes = pieces.iter().map(|&p| p as usize + 1).cycle();
    while used < input.len() && !sc.is_done() {
        let n = if pieces.is_empty() { input.len() } else { sizes.next().unwrap_or(1) };
        let end = (used + n).min(input.len());
        match sc.scan(&input[used..end], |d| out.extend_from_slice(d)) {
            Ok(k) => {
                assert!(k <= end - used, "scan consumed more than it was given");
                if k < end - used {
                    assert!(sc.is_done(), "scan stopped early without finishing the message");
                }
                used += k;
            }
            Err(e) => return (Err(e), out, false),
        }
    }
    assert_eq!(sc.payload as usize, out.len(), "payload count differs from the bytes handed out");
    (Ok(used), out, sc.is_done())
}

fn encode(payload: &[u8], sizes: &[u8]) -> Vec<u8> {
    let mut wire = Vec::new();
    let mut rest = payload;
    let mut sizes = sizes.iter().map(|&s| s as usize + 1).cycle();
    while !rest.is_empty() {
        let n = sizes.next().unwrap_or(rest.len()).min(rest.len());
        wire.extend_from_slice(format!("{n:x}\r\n").as_bytes());
        wire.extend_from_slice(&rest[..n]);
        wire.extend_from_slice(b"\r\n");
        rest = &rest[n..];
    }
    wire.extend_from_slice(b"0\r\n\r\n");
    wire
}

fuzz_target!(|data: &[u8]| {
    let Some((&k, rest)) = data.split_first() else { return };
    let k = (k as usize % 8).min(rest.len());
    let (pieces, input) = rest.split_at(k);

    // Split independence on the raw bytes.
    let whole = decode(input, &[]);
    let split = decode(input, pieces);
    match (&whole.0, &split.0) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a, b, "message length depends on read boundaries");
            assert_eq!(whole.1, split.1, "payload depends on read boundaries");
            assert_eq!(whole.2, split.2);
        }
        (Err(_), Err(_)) => {}
        _ => panic!("verdict depends on read boundaries: {:?} vs {:?}", whole.0, split.0),
    }

    // Round trip: encode then decode, with a pipelined byte after the message.
    let mut wire = encode(input, pieces);
    let msg_len = wire.len();
    wire.extend_from_slice(b"G");
    let (verdict, payload, done) = decode(&wire, pieces);
    assert_eq!(verdict, Ok(msg_len), "the decoder did not stop at the end of the message");
    assert!(done);
    assert_eq!(payload, input, "decode(encode(x)) != x");
});
