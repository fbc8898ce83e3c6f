//! `System.Uri` for absolute http(s)/ws(s)/ftp-style URIs (and relative references), with
//! .NET's canonical forms: lowercase scheme and host, default ports, dot segments removed,
//! `\` read as `/`, unsafe characters escaped in `AbsoluteUri`, and `ToString()` showing
//! the unescaped form (reserved escapes such as `%2F` kept).

use super::escape::unescape_data_string;
use crate::policy::dotnet::error::{DnResult, DotnetError, ExceptionKind};
use std::fmt::Write;

fn bad(m: &str) -> DotnetError {
    DotnetError::new(ExceptionKind::UriFormat, format!("Invalid URI: {m}"))
}

fn relative_op() -> DotnetError {
    DotnetError::invalid_op("This operation is not supported for a relative URI.")
}

#[derive(Clone, Debug, PartialEq)]
pub struct Uri {
    original: String,
    absolute: bool,
    scheme: String,
    user_info: String,
    host: String,
    /// The explicit port, if any.
    port: Option<u16>,
    /// Escaped path (starts with `/` for absolute URIs with an authority).
    path: String,
    /// Escaped query including `?`, or empty.
    query: String,
    /// Escaped fragment including `#`, or empty.
    fragment: String,
}

/// `UriKind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UriKind {
    RelativeOrAbsolute,
    Absolute,
    Relative,
}

/// `UriPartial`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UriPartial {
    Scheme,
    Authority,
    Path,
    Query,
}

pub fn default_port(scheme: &str) -> Option<u16> {
    Some(match scheme {
        "http" | "ws" => 80,
        "https" | "wss" => 443,
        "ftp" => 21,
        "gopher" => 70,
        "nntp" => 119,
        "telnet" => 23,
        "ldap" => 389,
        _ => return None,
    })
}

/// Percent-escapes what .NET escapes in a path/query/fragment: space, controls, non-ASCII,
/// and `"<>\^`{|}`; existing valid `%XX` escapes are kept (hex uppercased).
fn escape_component(s: &str, allow_hash: bool) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'%'
            && b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
            && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
        {
            out.push('%');
            out.push(char::from(b[i + 1].to_ascii_uppercase()));
            out.push(char::from(b[i + 2].to_ascii_uppercase()));
            i += 3;
            continue;
        }
        let plain = c.is_ascii_graphic() && !b"\"<>\\^`{|}%".contains(&c) && (allow_hash || c != b'#');
        if plain {
            out.push(char::from(c));
        } else {
            let _ = write!(out, "%{c:02X}");
        }
        i += 1;
    }
    out
}

/// RFC 3986 §5.2.4 remove_dot_segments.
fn remove_dots(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let segs: Vec<&str> = path.split('/').collect();
    let n = segs.len();
    for (i, s) in segs.iter().enumerate() {
        match *s {
            "." => {
                if i == n - 1 {
                    out.push("");
                }
            }
            ".." => {
                if out.len() > 1 {
                    out.pop();
                }
                if i == n - 1 {
                    out.push("");
                }
            }
            other => out.push(other),
        }
    }
    let j = out.join("/");
    if j.starts_with('/') {
        j
    } else {
        format!("/{j}")
    }
}

impl Uri {
    /// `new Uri(s)` (absolute).
    pub fn parse(s: &str) -> DnResult<Self> {
        Self::parse_kind(s, UriKind::Absolute)
    }

    /// `new Uri(s, kind)`.
    pub fn parse_kind(s: &str, kind: UriKind) -> DnResult<Self> {
        let t = s.trim_matches(|c: char| c == ' ' || c.is_ascii_control());
        if t.is_empty() && kind != UriKind::Relative {
            return Err(bad("The URI is empty."));
        }
        if t.len() > 65519 {
            return Err(bad("The Uri string is too long."));
        }
        let scheme_end = t.find(':').filter(|&i| {
            i > 0
                && t.as_bytes()[0].is_ascii_alphabetic()
                && t[..i].bytes().all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
        });
        let has_authority = scheme_end.is_some_and(|i| t[i + 1..].starts_with("//") || t[i + 1..].starts_with("\\\\"));
        match (scheme_end, kind) {
            (Some(i), UriKind::Absolute | UriKind::RelativeOrAbsolute) if has_authority || i > 1 => {
                return Self::absolute(s, &t[..i], &t[i + 1..]);
            }
            (_, UriKind::Absolute) => return Err(bad("The format of the URI could not be determined.")),
            _ => {}
        }
        if kind == UriKind::Relative && has_authority {
            return Err(bad("The format of the URI could not be determined."));
        }
        Ok(Self {
            original: s.to_string(),
            absolute: false,
            scheme: String::new(),
            user_info: String::new(),
            host: String::new(),
            port: None,
            path: t.to_string(),
            query: String::new(),
            fragment: String::new(),
        })
    }

    pub fn try_create(s: &str, kind: UriKind) -> Option<Self> {
        Self::parse_kind(s, kind).ok()
    }

    fn absolute(original: &str, scheme: &str, rest: &str) -> DnResult<Self> {
        let scheme = scheme.to_ascii_lowercase();
        let hierarchical = rest.starts_with("//") || rest.starts_with("\\\\");
        let web = matches!(scheme.as_str(), "http" | "https" | "ws" | "wss" | "ftp");
        let rest_fixed;
        let rest = if web {
            // .NET reads back slashes as forward slashes in the authority and path of web URIs.
            let cut = rest.find(['?', '#']).unwrap_or(rest.len());
            rest_fixed = format!("{}{}", rest[..cut].replace('\\', "/"), &rest[cut..]);
            rest_fixed.as_str()
        } else {
            rest
        };
        if !hierarchical {
            // mailto:, urn:, data: — no authority.
            let (body, frag) = rest.split_once('#').map_or((rest, ""), |(a, b)| (a, b));
            let (path, q) = body.split_once('?').map_or((body, None), |(a, b)| (a, Some(b)));
            return Ok(Self {
                original: original.to_string(),
                absolute: true,
                scheme,
                user_info: String::new(),
                host: String::new(),
                port: None,
                path: escape_component(path, false),
                query: q.map(|q| format!("?{}", escape_component(q, false))).unwrap_or_default(),
                fragment: if rest.contains('#') { format!("#{}", escape_component(frag, true)) } else { String::new() },
            });
        }
        let after = &rest[2..];
        let auth_end = after.find(['/', '?', '#']).unwrap_or(after.len());
        let authority = &after[..auth_end];
        let tail = &after[auth_end..];
        let (user_info, hostport) = match authority.rfind('@') {
            Some(p) => (authority[..p].to_string(), &authority[p + 1..]),
            None => (String::new(), authority),
        };
        let (host, port_text) = if let Some(stripped) = hostport.strip_prefix('[') {
            let close = stripped.find(']').ok_or_else(|| bad("The hostname could not be parsed."))?;
            let inner = &stripped[..close];
            if inner.parse::<std::net::Ipv6Addr>().is_err() {
                return Err(bad("The hostname could not be parsed."));
            }
            let after_b = &stripped[close + 1..];
            let pt = match after_b.strip_prefix(':') {
                Some(p) => Some(p),
                None if after_b.is_empty() => None,
                None => return Err(bad("Invalid port specified.")),
            };
            let canon = inner.parse::<std::net::Ipv6Addr>().map(|a| a.to_string()).unwrap_or_default();
            (format!("[{canon}]"), pt)
        } else {
            match hostport.rfind(':') {
                Some(p) => (hostport[..p].to_ascii_lowercase(), Some(&hostport[p + 1..])),
                None => (hostport.to_ascii_lowercase(), None),
            }
        };
        if host.is_empty() && web {
            return Err(bad("The hostname could not be parsed."));
        }
        if host.bytes().any(|b| b" <>\"{}|\\^`%".contains(&b) || b.is_ascii_control()) {
            return Err(bad("The hostname could not be parsed."));
        }
        let port = match port_text {
            None | Some("") => None,
            Some(p) => {
                if !p.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(bad("Invalid port specified."));
                }
                Some(p.parse::<u16>().map_err(|_| bad("Invalid port specified."))?)
            }
        };
        let (body, frag) = match tail.find('#') {
            Some(p) => (&tail[..p], Some(&tail[p + 1..])),
            None => (tail, None),
        };
        let (path, q) = match body.find('?') {
            Some(p) => (&body[..p], Some(&body[p + 1..])),
            None => (body, None),
        };
        let mut path = escape_component(path, false);
        if web || !path.is_empty() {
            path = remove_dots(if path.is_empty() { "/" } else { &path });
        }
        Ok(Self {
            original: original.to_string(),
            absolute: true,
            scheme,
            user_info,
            host,
            port,
            path,
            query: q.map(|q| format!("?{}", escape_component(q, false))).unwrap_or_default(),
            fragment: frag.map(|f| format!("#{}", escape_component(f, true))).unwrap_or_default(),
        })
    }

    fn need_abs(&self) -> DnResult<()> {
        if self.absolute {
            Ok(())
        } else {
            Err(relative_op())
        }
    }

    pub fn is_absolute_uri(&self) -> bool {
        self.absolute
    }
    pub fn original_string(&self) -> &str {
        &self.original
    }
    pub fn scheme(&self) -> DnResult<&str> {
        self.need_abs()?;
        Ok(&self.scheme)
    }
    /// `Host` (IPv6 in brackets).
    pub fn host(&self) -> DnResult<&str> {
        self.need_abs()?;
        Ok(&self.host)
    }
    /// `Port`: the explicit port, else the scheme's default, else -1.
    pub fn port(&self) -> DnResult<i32> {
        self.need_abs()?;
        Ok(self.port.map(i32::from).or_else(|| default_port(&self.scheme).map(i32::from)).unwrap_or(-1))
    }
    pub fn is_default_port(&self) -> DnResult<bool> {
        self.need_abs()?;
        Ok(self.port.is_none() || self.port == default_port(&self.scheme))
    }
    pub fn user_info(&self) -> DnResult<&str> {
        self.need_abs()?;
        Ok(&self.user_info)
    }
    pub fn absolute_path(&self) -> DnResult<&str> {
        self.need_abs()?;
        Ok(&self.path)
    }
    pub fn query(&self) -> DnResult<&str> {
        self.need_abs()?;
        Ok(&self.query)
    }
    pub fn fragment(&self) -> DnResult<&str> {
        self.need_abs()?;
        Ok(&self.fragment)
    }
    pub fn path_and_query(&self) -> DnResult<String> {
        self.need_abs()?;
        Ok(format!("{}{}", self.path, self.query))
    }
    /// `Authority`: host, plus `:port` when it is not the default.
    pub fn authority(&self) -> DnResult<String> {
        self.need_abs()?;
        Ok(match self.port {
            Some(p) if Some(p) != default_port(&self.scheme) => format!("{}:{p}", self.host),
            _ => self.host.clone(),
        })
    }
    /// `Segments`: `/`, `a/`, `b`.
    pub fn segments(&self) -> DnResult<Vec<String>> {
        self.need_abs()?;
        let mut out = Vec::new();
        let mut rest = self.path.as_str();
        while !rest.is_empty() {
            match rest.find('/') {
                Some(p) => {
                    out.push(rest[..=p].to_string());
                    rest = &rest[p + 1..];
                }
                None => {
                    out.push(rest.to_string());
                    break;
                }
            }
        }
        Ok(out)
    }
    /// `GetLeftPart(part)`.
    pub fn get_left_part(&self, part: UriPartial) -> DnResult<String> {
        self.need_abs()?;
        let hier = !self.host.is_empty() || self.original.contains("//");
        let mut s = format!("{}:{}", self.scheme, if hier { "//" } else { "" });
        if part == UriPartial::Scheme {
            return Ok(s);
        }
        if !self.user_info.is_empty() {
            s.push_str(&self.user_info);
            s.push('@');
        }
        s.push_str(&self.authority()?);
        if part == UriPartial::Authority {
            return Ok(s);
        }
        s.push_str(&self.path);
        if part == UriPartial::Path {
            return Ok(s);
        }
        s.push_str(&self.query);
        Ok(s)
    }
    /// `AbsoluteUri` (escaped).
    pub fn absolute_uri(&self) -> DnResult<String> {
        Ok(format!("{}{}", self.get_left_part(UriPartial::Query)?, self.fragment))
    }
    /// `Uri.ToString()`: unescaped, except escapes of reserved characters and `%`.
    pub fn to_dotnet_string(&self) -> String {
        if !self.absolute {
            return self.original.clone();
        }
        let abs = self.absolute_uri().unwrap_or_default();
        unescape_display(&abs)
    }

    /// `new Uri(baseUri, relative)`: RFC 3986 §5.2 resolution.
    pub fn join(base: &Uri, relative: &str) -> DnResult<Uri> {
        base.need_abs()?;
        if let Ok(abs) = Uri::parse_kind(relative, UriKind::Absolute) {
            return Ok(abs);
        }
        let r = relative.replace('\\', "/");
        let mut out = base.clone();
        out.original = relative.to_string();
        let (body, frag) = match r.find('#') {
            Some(p) => (&r[..p], Some(&r[p + 1..])),
            None => (r.as_str(), None),
        };
        let (path, q) = match body.find('?') {
            Some(p) => (&body[..p], Some(&body[p + 1..])),
            None => (body, None),
        };
        if let Some(auth) = r.strip_prefix("//") {
            return Uri::parse(&format!("{}://{auth}", base.scheme));
        }
        if path.is_empty() {
            if let Some(q) = q {
                out.query = format!("?{}", escape_component(q, false));
            }
        } else {
            let merged = if path.starts_with('/') {
                path.to_string()
            } else {
                let dir = &base.path[..base.path.rfind('/').map_or(0, |p| p + 1)];
                format!("{dir}{path}")
            };
            out.path = remove_dots(&escape_component(&merged, false));
            out.query = q.map(|q| format!("?{}", escape_component(q, false))).unwrap_or_default();
        }
        out.fragment = frag.map(|f| format!("#{}", escape_component(f, true))).unwrap_or_default();
        out.original = out.absolute_uri().unwrap_or_default();
        Ok(out)
    }
}

/// The display form: decode escapes except reserved characters, `%`, controls and spaces'
/// neighbours that would change meaning; invalid UTF-8 stays escaped.
fn unescape_display(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
            && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
        {
            let h = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
            let v = h(b[i + 1]) << 4 | h(b[i + 2]);
            if v < 0x80 {
                let keep = v < 0x20 || v == 0x7f || b":/?#[]@!$&'()*+,;=%\\".contains(&v);
                if keep {
                    out.push_str(&s[i..i + 3]);
                } else {
                    out.push(char::from(v));
                }
                i += 3;
                continue;
            }
            // A run of non-ASCII escapes: decoded when it is UTF-8.
            let start = i;
            let mut run = Vec::new();
            while i < b.len()
                && b[i] == b'%'
                && b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
            {
                let v = h(b[i + 1]) << 4 | h(b[i + 2]);
                if v < 0x80 {
                    break;
                }
                run.push(v);
                i += 3;
            }
            match String::from_utf8(run) {
                Ok(t) => out.push_str(&t),
                Err(_) => out.push_str(&s[start..i]),
            }
            continue;
        }
        let ch = s[i..].chars().next().unwrap_or('\u{fffd}');
        out.push(ch);
        i += ch.len_utf8();
    }
    let _ = unescape_data_string;
    out
}

/// `System.UriBuilder`.
#[derive(Clone, Debug, PartialEq)]
pub struct UriBuilder {
    pub scheme: String,
    pub host: String,
    /// -1 means the scheme's default.
    pub port: i32,
    pub path: String,
    /// With its leading `?`, or empty.
    pub query: String,
    /// With its leading `#`, or empty.
    pub fragment: String,
    pub user_name: String,
    pub password: String,
}

impl UriBuilder {
    /// `new UriBuilder(uri)`.
    pub fn from_uri(u: &Uri) -> DnResult<Self> {
        u.need_abs()?;
        let (user, pw) = u
            .user_info
            .split_once(':')
            .map_or((u.user_info.clone(), String::new()), |(a, b)| (a.to_string(), b.to_string()));
        Ok(Self {
            scheme: u.scheme.clone(),
            host: u.host.clone(),
            port: u.port()?,
            path: u.path.clone(),
            query: u.query.clone(),
            fragment: u.fragment.clone(),
            user_name: user,
            password: pw,
        })
    }

    /// `new UriBuilder(string)`: a string without a scheme gets `http://`.
    pub fn parse(s: &str) -> DnResult<Self> {
        let u = Uri::parse(s).or_else(|_| Uri::parse(&format!("http://{s}")))?;
        Self::from_uri(&u)
    }

    /// `Query = value` (.NET Core: a leading `?` is not doubled).
    pub fn set_query(&mut self, q: &str) {
        let q = q.strip_prefix('?').unwrap_or(q);
        self.query = if q.is_empty() { String::new() } else { format!("?{q}") };
    }
    pub fn set_fragment(&mut self, f: &str) {
        let f = f.strip_prefix('#').unwrap_or(f);
        self.fragment = if f.is_empty() { String::new() } else { format!("#{f}") };
    }
    pub fn set_path(&mut self, p: &str) {
        let p = escape_component(&p.replace('\\', "/"), false);
        self.path = if p.starts_with('/') { p } else { format!("/{p}") };
    }

    /// `ToString()`: the port is shown unless it is -1 or the scheme's default.
    pub fn to_dotnet_string(&self) -> String {
        let mut s = format!("{}://", self.scheme);
        if !self.user_name.is_empty() {
            s.push_str(&self.user_name);
            if !self.password.is_empty() {
                s.push(':');
                s.push_str(&self.password);
            }
            s.push('@');
        }
        s.push_str(&self.host);
        if self.port != -1 && default_port(&self.scheme).map(i32::from) != Some(self.port) {
            let _ = write!(s, ":{}", self.port);
        }
        if !self.path.starts_with('/') {
            s.push('/');
        }
        s.push_str(&self.path);
        s.push_str(&self.query);
        s.push_str(&self.fragment);
        s
    }

    /// `Uri` property.
    pub fn uri(&self) -> DnResult<Uri> {
        Uri::parse(&self.to_dotnet_string())
    }
}
