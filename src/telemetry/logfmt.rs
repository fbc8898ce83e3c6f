//! Byte-level writers for access-log lines: JSON string content, numbers, milliseconds, IP
//! addresses and the timestamp, each appended to the line without allocating.

use std::cell::Cell;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// JSON string content from raw bytes. The common case (printable ASCII, no `"` or `\`) is one
/// copy; anything else goes through lossy UTF-8 decoding and escaping, as before.
pub fn push_json(out: &mut Vec<u8>, v: &[u8]) {
    if v.iter().all(|&b| PLAIN[b as usize]) {
        out.extend_from_slice(v);
    } else {
        let mut s = String::with_capacity(v.len() + 8);
        crate::http::write::json_escape_into(&mut s, &String::from_utf8_lossy(v));
        out.extend_from_slice(s.as_bytes());
    }
}

/// Bytes copied as they are: printable ASCII except `"` and backslash (one table load a byte).
const PLAIN: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0x20;
    while b < 0x80 {
        t[b] = b != b'"' as usize && b != b'\\' as usize;
        b += 1;
    }
    t
};

pub fn push_u64(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// Milliseconds with three decimals, from whole microseconds.
pub fn push_millis(out: &mut Vec<u8>, d: Duration) {
    let us = d.as_micros() as u64;
    push_u64(out, us / 1000);
    let frac = us % 1000;
    out.extend_from_slice(&[b'.', b'0' + (frac / 100) as u8, b'0' + (frac / 10 % 10) as u8, b'0' + (frac % 10) as u8]);
}

/// An IPv4 address by hand (the common case); IPv6 through `Display`.
pub fn push_ip(out: &mut Vec<u8>, ip: std::net::IpAddr) {
    match ip {
        std::net::IpAddr::V4(v4) => {
            for (i, octet) in v4.octets().iter().enumerate() {
                if i > 0 {
                    out.push(b'.');
                }
                out.extend_from_slice(itoa::Buffer::new().format(*octet).as_bytes());
            }
        }
        v6 => {
            use std::io::Write;
            let _ = write!(out, "{v6}");
        }
    }
}

/// This worker's wall clock, derived from the request's end `Instant` (already read for the
/// durations) instead of a second clock read: `unix` was the wall time at `at`. Re-anchored on
/// the system clock whenever the derived second changes, so it follows clock steps within a
/// second and the RFC 3339 text is formatted once per second.
#[derive(Clone, Copy)]
struct Clock {
    at: Instant,
    unix: Duration,
    secs: u64,
    text: [u8; 20],
}

thread_local! {
    static CLOCK: Cell<Option<Clock>> = const { Cell::new(None) };
}

/// Appends `2026-11-22T14:00:07Z` for the instant `now`.
pub fn push_time(out: &mut Vec<u8>, now: Instant) {
    CLOCK.with(|cell| {
        let derived = cell.get().filter(|c| now >= c.at && (c.unix + (now - c.at)).as_secs() == c.secs);
        let clock = derived.unwrap_or_else(|| {
            let wall = SystemTime::now();
            let unix = wall.duration_since(UNIX_EPOCH).unwrap_or_default();
            let mut text = [b'0'; 20];
            let s = crate::timefmt::rfc3339(wall);
            if s.len() == text.len() {
                text.copy_from_slice(s.as_bytes());
            }
            // Anchored at the start of the second, so every instant of this second derives it.
            let inst = Instant::now();
            let at = inst.checked_sub(Duration::from_nanos(unix.subsec_nanos().into())).unwrap_or(inst);
            let c = Clock { at, unix: Duration::from_secs(unix.as_secs()), secs: unix.as_secs(), text };
            cell.set(Some(c));
            c
        });
        out.extend_from_slice(&clock.text);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_numbers_escapes_and_time() {
        let mut out = Vec::new();
        push_millis(&mut out, Duration::from_micros(12_034));
        out.push(b' ');
        push_json(&mut out, b"/a\"b\\c\x01\xff");
        out.push(b' ');
        push_ip(&mut out, "10.0.0.255".parse().expect("ip"));
        assert_eq!(String::from_utf8_lossy(&out), "12.034 /a\\\"b\\\\c\\u0001\u{fffd} 10.0.0.255");
        let mut t = Vec::new();
        push_time(&mut t, Instant::now());
        let expected = crate::timefmt::rfc3339(SystemTime::now());
        let got = String::from_utf8(t).expect("ascii");
        assert_eq!(got.len(), 20);
        assert!(got == expected || got[..17] == expected[..17], "{got} vs {expected}");
    }
}
