//! Backend URL parsing (`serviceUrl`, backend `url`), done once at load time so the proxy
//! only concatenates precomputed pieces per request.

/// URL schemes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}

/// A parsed absolute backend URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackendUrl {
    pub scheme: Scheme,
    /// As written (lowercased), IPv6 without brackets.
    pub host: String,
    /// Explicit, or the scheme default.
    pub port: u16,
    /// The Host header value: host plus ":port" only when not the default; IPv6 bracketed.
    pub authority: String,
    /// Path without trailing '/', "" for none ("http://b:9/api/v3/" -> "/api/v3").
    pub base_path: String,
}

impl BackendUrl {
    /// `scheme://authority/base`.
    pub fn text(&self) -> String {
        let scheme = if self.scheme == Scheme::Https { "https" } else { "http" };
        format!("{scheme}://{}{}", self.authority, self.base_path)
    }
}

/// Parses an absolute `http://` or `https://` URL with a host. Query strings, fragments and
/// user-info are refused: the gateway appends the request's own path and query.
pub fn parse_backend_url(s: &str) -> Result<BackendUrl, String> {
    let lower_prefix = |p: &str| s.len() >= p.len() && s.as_bytes()[..p.len()].eq_ignore_ascii_case(p.as_bytes());
    let (scheme, rest) = if lower_prefix("http://") {
        (Scheme::Http, &s[7..])
    } else if lower_prefix("https://") {
        (Scheme::Https, &s[8..])
    } else {
        return Err(format!("'{s}' is not an absolute http:// or https:// URL"));
    };
    if rest.contains(['?', '#']) {
        return Err("must not contain a query string or fragment".into());
    }
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    if authority.contains('@') {
        return Err("must not contain user information".into());
    }
    if path.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err("path must not contain spaces or control characters".into());
    }
    let (host, port_str, ipv6) = if let Some(inner) = authority.strip_prefix('[') {
        let Some(end) = inner.find(']') else {
            return Err("unterminated IPv6 address".into());
        };
        let host = &inner[..end];
        let after = &inner[end + 1..];
        if host.is_empty() || !host.bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.') {
            return Err(format!("invalid IPv6 address '{host}'"));
        }
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return Err("unexpected characters after the IPv6 address".into()),
        };
        (host, port, true)
    } else {
        match authority.rfind(':') {
            Some(i) => (&authority[..i], Some(&authority[i + 1..]), false),
            None => (authority, None, false),
        }
    };
    if host.is_empty() {
        return Err("URL has no host".into());
    }
    if !ipv6 && !host.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_')) {
        return Err(format!("invalid host '{host}'"));
    }
    let port = match port_str {
        None => scheme.default_port(),
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n != 0 && p.bytes().all(|b| b.is_ascii_digit()) => n,
            _ => return Err(format!("invalid port '{p}'")),
        },
    };
    let host = host.to_ascii_lowercase();
    let bracketed = if ipv6 { format!("[{host}]") } else { host.clone() };
    let authority = if port == scheme.default_port() { bracketed } else { format!("{bracketed}:{port}") };
    Ok(BackendUrl { scheme, host, port, authority, base_path: path.trim_end_matches('/').to_string() })
}

/// A WebSocket API's `serviceUrl`: `ws://` or `wss://` (the handshake travels as HTTP/1.1, over
/// TLS for `wss`), otherwise as [`parse_backend_url`].
pub fn parse_websocket_url(s: &str) -> Result<BackendUrl, String> {
    let has = |p: &str| s.len() >= p.len() && s.as_bytes()[..p.len()].eq_ignore_ascii_case(p.as_bytes());
    let http = if has("ws://") {
        format!("http://{}", &s[5..])
    } else if has("wss://") {
        format!("https://{}", &s[6..])
    } else {
        return Err(format!("'{s}' is not an absolute ws:// or wss:// URL (a WebSocket API's serviceUrl)"));
    };
    parse_backend_url(&http)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn websocket_urls_map_to_their_http_schemes() {
        let u = parse_websocket_url("WSS://b/chat/").unwrap();
        assert_eq!((u.scheme, u.port, u.base_path.as_str()), (Scheme::Https, 443, "/chat"));
        assert_eq!(parse_websocket_url("ws://b:81").unwrap().scheme, Scheme::Http);
        assert!(parse_websocket_url("http://b").unwrap_err().contains("ws:// or wss://"));
    }

    fn p(s: &str) -> BackendUrl {
        parse_backend_url(s).unwrap()
    }

    #[test]
    fn default_ports_and_base_paths() {
        let u = p("http://b:9/api/v3/");
        assert_eq!((u.scheme, u.host.as_str(), u.port), (Scheme::Http, "b", 9));
        assert_eq!((u.authority.as_str(), u.base_path.as_str()), ("b:9", "/api/v3"));
        let u = p("HTTPS://Example.COM");
        assert_eq!(
            (u.scheme, u.port, u.authority.as_str(), u.base_path.as_str()),
            (Scheme::Https, 443, "example.com", "")
        );
        let u = p("http://x:80/");
        assert_eq!((u.authority.as_str(), u.base_path.as_str()), ("x", ""));
        let u = p("https://x:80");
        assert_eq!(u.authority, "x:80");
    }

    #[test]
    fn ipv6() {
        let u = p("http://[::1]:8080/a");
        assert_eq!((u.host.as_str(), u.port, u.authority.as_str()), ("::1", 8080, "[::1]:8080"));
        let u = p("https://[FE80::1]/");
        assert_eq!((u.host.as_str(), u.port, u.authority.as_str()), ("fe80::1", 443, "[fe80::1]"));
    }

    #[test]
    fn rejects() {
        for bad in [
            "ftp://x",
            "x",
            "http://",
            "http://:80",
            "http://[::1",
            "http://[::1]x",
            "http://h:0",
            "http://h:99999",
            "http://h:+1",
            "http://u@h",
            "http://h/?q",
            "http://h#f",
            "http://h a/",
            "http://h/a b",
            "http://[zz]/",
            "",
        ] {
            assert!(parse_backend_url(bad).is_err(), "{bad}");
        }
    }
}
