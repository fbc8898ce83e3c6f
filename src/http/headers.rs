//! Header facts: hop-by-hop names, token lists, strict number parsing.

/// Connection-specific headers (RFC 9110 §7.6.1, plus `Trailer` and `Proxy-Connection` as every
/// proxy strips them), never forwarded. `Transfer-Encoding` is re-emitted by the framing code.
pub fn is_hop_by_hop(name: &[u8]) -> bool {
    const HOP: [&[u8]; 7] =
        [b"connection", b"keep-alive", b"proxy-connection", b"te", b"trailer", b"transfer-encoding", b"upgrade"];
    HOP.iter().any(|h| h.eq_ignore_ascii_case(name))
}

/// Iterates the comma-separated tokens of a header value, trimmed, skipping empty ones.
pub fn tokens(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value.split(|b| *b == b',').map(trim).filter(|t| !t.is_empty())
}

pub fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// A Content-Length value: digits only (no sign, no list), at most 18 digits.
pub fn content_length(value: &[u8]) -> Option<u64> {
    let v = trim(value);
    if v.is_empty() || v.len() > 18 || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(v.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_are_strict() {
        assert_eq!(content_length(b" 42 "), Some(42));
        assert_eq!(content_length(b"+42"), None);
        assert_eq!(content_length(b"4 2"), None);
        assert_eq!(content_length(b"42,42"), None);
        assert_eq!(content_length(b""), None);
        assert_eq!(content_length(b"9999999999999999999"), None);
    }

    #[test]
    fn token_lists() {
        let t: Vec<&[u8]> = tokens(b" close ,, Keep-Alive").collect();
        assert_eq!(t, vec![&b"close"[..], &b"Keep-Alive"[..]]);
        assert!(is_hop_by_hop(b"Keep-Alive"));
        assert!(!is_hop_by_hop(b"x-keep"));
    }
}
