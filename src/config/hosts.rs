//! Host (and SNI) matching against `gateway.hostnames`.
//!
//! Semantics chosen and documented here:
//! - Case-insensitive (DNS names are).
//! - A `:port` suffix on the Host value is ignored, also after a bracketed IPv6 literal
//!   (`[::1]:8080` is matched as `::1`); one trailing dot (`api.contoso.local.`) is ignored.
//! - `*.contoso.local` matches exactly one extra label: `a.contoso.local`, not
//!   `a.b.contoso.local` and not `contoso.local` (as TLS wildcard certificates do).
//! - IPv6 literals are written without brackets (`::1`).
//! - `*` alone matches every host; an empty list also matches every host.

/// Precomputed host table; `matches` does not allocate.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HostMatcher {
    any: bool,
    /// Lowercased exact names, sorted.
    exact: Vec<Box<[u8]>>,
    /// Lowercased suffixes including the leading dot (".contoso.local"), sorted.
    wildcard: Vec<Box<[u8]>>,
}

/// Checks one configured hostname; returns the lowercased form.
pub(crate) fn validate_hostname(h: &str) -> Result<String, String> {
    let lower = h.to_ascii_lowercase();
    let ipv6 = lower.contains(':') && lower.bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
    if lower == "*" || ipv6 {
        return Ok(lower);
    }
    let name = lower.strip_prefix("*.").unwrap_or(&lower);
    let ok_label = |l: &str| {
        !l.is_empty() && l.len() <= 63 && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if name.is_empty() || name.len() > 253 || !name.split('.').all(ok_label) {
        return Err(format!("'{h}' is not a valid hostname (exact name, '*.suffix' or '*')"));
    }
    Ok(lower)
}

impl HostMatcher {
    /// Builds from validated, lowercased hostnames.
    pub fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        let mut m = HostMatcher::default();
        let mut count = 0usize;
        for n in names {
            count += 1;
            if n == "*" {
                m.any = true;
            } else if let Some(suffix) = n.strip_prefix('*') {
                m.wildcard.push(suffix.as_bytes().into());
            } else {
                m.exact.push(n.as_bytes().into());
            }
        }
        if count == 0 {
            m.any = true;
        }
        m.exact.sort();
        m.exact.dedup();
        m.wildcard.sort();
        m.wildcard.dedup();
        m
    }

    /// Whether a Host header value (or SNI name) is served by this gateway.
    pub fn matches(&self, host: &[u8]) -> bool {
        if self.any {
            return true;
        }
        let name = strip_port(host);
        let name = name.strip_suffix(b".").unwrap_or(name);
        if name.is_empty() {
            return false;
        }
        if self.exact.binary_search_by(|e| cmp_lower(e, name)).is_ok() {
            return true;
        }
        match name.iter().position(|&b| b == b'.') {
            Some(dot) if dot > 0 => {
                let suffix = &name[dot..];
                self.wildcard.binary_search_by(|w| cmp_lower(w, suffix)).is_ok()
            }
            _ => false,
        }
    }
}

/// Removes a `:port` suffix and IPv6 brackets.
fn strip_port(host: &[u8]) -> &[u8] {
    if let Some(inner) = host.strip_prefix(b"[") {
        return match inner.iter().position(|&b| b == b']') {
            Some(end) => &inner[..end],
            None => inner,
        };
    }
    match host.iter().rposition(|&b| b == b':') {
        // More than one colon without brackets: an IPv6 literal, no port to strip.
        Some(i) if !host[..i].contains(&b':') => &host[..i],
        _ => host,
    }
}

/// Compares an already-lowercased `a` with `b` lowercased on the fly.
pub(crate) fn cmp_lower(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    let bl = b.iter().map(u8::to_ascii_lowercase);
    a.iter().copied().cmp(bl)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(names: &[&str]) -> HostMatcher {
        HostMatcher::new(
            names.iter().map(|n| validate_hostname(n).unwrap()).collect::<Vec<_>>().iter().map(String::as_str),
        )
    }

    #[test]
    fn empty_matches_any() {
        assert!(m(&[]).matches(b"whatever:1"));
        assert!(m(&["*"]).matches(b"x"));
    }

    #[test]
    fn exact_case_insensitive_with_ports() {
        let h = m(&["API.contoso.local", "10.0.0.1", "::1"]);
        assert!(h.matches(b"api.contoso.local"));
        assert!(h.matches(b"Api.Contoso.Local:8443"));
        assert!(h.matches(b"api.contoso.local."));
        assert!(h.matches(b"10.0.0.1:80"));
        assert!(h.matches(b"[::1]:8080"));
        assert!(h.matches(b"[::1]"));
        assert!(!h.matches(b"other.local"));
        assert!(!h.matches(b""));
        assert!(!h.matches(b":80"));
    }

    #[test]
    fn wildcard_one_label() {
        let h = m(&["*.contoso.local"]);
        assert!(h.matches(b"a.contoso.local"));
        assert!(h.matches(b"A.CONTOSO.LOCAL:443"));
        assert!(!h.matches(b"contoso.local"));
        assert!(!h.matches(b"a.b.contoso.local"));
        assert!(!h.matches(b".contoso.local"));
        assert!(!h.matches(b"acontoso.local"));
    }

    #[test]
    fn invalid_hostnames() {
        for bad in ["", "a..b", "a b", "*.", "**.x", "a.*.b", "x*"] {
            assert!(validate_hostname(bad).is_err(), "{bad:?}");
        }
    }
}
