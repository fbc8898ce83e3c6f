//! `System.Net.IPAddress`: `Parse`/`TryParse` with .NET's IPv4 forms (fewer than four parts,
//! octal `010`, hex `0x0A`), IPv6 with brackets and a numeric scope, `ToString`,
//! `AddressFamily`, `GetAddressBytes`, `IsLoopback`, `Equals`.

use super::error::{DnResult, DotnetError};
use std::net::{Ipv4Addr, Ipv6Addr};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IpAddress {
    V4(Ipv4Addr),
    V6(Ipv6Addr, u32),
}

fn bad() -> DotnetError {
    DotnetError::format("An invalid IP address was specified.")
}

/// One IPv4 part: decimal, `0`-prefixed octal or `0x` hex.
fn part(p: &str) -> Option<u64> {
    if p.is_empty() || p.len() > 12 {
        return None;
    }
    if let Some(h) = p.strip_prefix("0x").or_else(|| p.strip_prefix("0X")) {
        return if h.is_empty() { Some(0) } else { u64::from_str_radix(h, 16).ok() };
    }
    if p.len() > 1 && p.starts_with('0') {
        return u64::from_str_radix(&p[1..], 8).ok();
    }
    p.parse().ok().filter(|_| p.bytes().all(|b| b.is_ascii_digit()))
}

fn parse_v4(s: &str) -> Option<Ipv4Addr> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let vals: Vec<u64> = parts.iter().map(|p| part(p)).collect::<Option<_>>()?;
    let n = vals.len();
    // All but the last part are single bytes; the last fills the remaining bytes.
    if vals[..n - 1].iter().any(|&v| v > 255) {
        return None;
    }
    let last_bits = 8 * (5 - n as u32);
    if last_bits < 64 && vals[n - 1] >= (1u64 << last_bits) {
        return None;
    }
    let mut v: u64 = 0;
    for (i, x) in vals[..n - 1].iter().enumerate() {
        v |= x << (24 - 8 * i);
    }
    v |= vals[n - 1];
    Some(Ipv4Addr::from(v as u32))
}

impl IpAddress {
    /// `IPAddress.Parse(s)`.
    pub fn parse(s: &str) -> DnResult<Self> {
        if s.is_empty() || s.len() > 64 {
            return Err(bad());
        }
        if s.contains(':') {
            let inner = match (s.strip_prefix('['), s.find(']')) {
                (Some(_), Some(close)) if close == s.len() - 1 => &s[1..close],
                (None, None) => s,
                _ => return Err(bad()),
            };
            let (addr, scope) = match inner.split_once('%') {
                Some((a, sc)) => (a, sc.parse::<u32>().map_err(|_| bad())?),
                None => (inner, 0),
            };
            return addr.parse::<Ipv6Addr>().map(|a| IpAddress::V6(a, scope)).map_err(|_| bad());
        }
        parse_v4(s).map(IpAddress::V4).ok_or_else(bad)
    }

    pub fn try_parse(s: &str) -> Option<Self> {
        Self::parse(s).ok()
    }

    /// `AddressFamily`'s member name.
    pub fn address_family(&self) -> &'static str {
        match self {
            Self::V4(_) => "InterNetwork",
            Self::V6(..) => "InterNetworkV6",
        }
    }

    pub fn get_address_bytes(&self) -> Vec<u8> {
        match self {
            Self::V4(a) => a.octets().to_vec(),
            Self::V6(a, _) => a.octets().to_vec(),
        }
    }

    /// `IPAddress.IsLoopback(address)`: 127.0.0.0/8 and ::1 (and IPv4-mapped 127/8).
    pub fn is_loopback(&self) -> bool {
        match self {
            Self::V4(a) => a.is_loopback(),
            Self::V6(a, _) => a.is_loopback() || a.to_ipv4_mapped().is_some_and(|v| v.is_loopback()),
        }
    }

    /// `ToString()`: dotted quad, or RFC 5952 IPv6 with `%scope` when set.
    pub fn to_dotnet_string(&self) -> String {
        match self {
            Self::V4(a) => a.to_string(),
            Self::V6(a, 0) => a.to_string(),
            Self::V6(a, s) => format!("{a}%{s}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_print() {
        // https://learn.microsoft.com/dotnet/api/system.net.ipaddress.parse (IPv4 forms table)
        let cases = [
            ("65.54.183.138", "65.54.183.138"),
            ("65.54.183", "65.54.0.183"),
            ("65.54", "65.0.0.54"),
            ("65", "0.0.0.65"),
            ("0x41.0x36.0xb7.0x8a", "65.54.183.138"),
            ("0101.066.0267.0212", "65.54.183.138"),
            ("4294967295", "255.255.255.255"),
            ("::1", "::1"),
            ("2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
            ("[fe80::1%3]", "fe80::1%3"),
            ("::ffff:192.168.0.1", "::ffff:192.168.0.1"),
        ];
        for (s, want) in cases {
            assert_eq!(IpAddress::parse(s).unwrap_or_else(|e| panic!("{s}: {e}")).to_dotnet_string(), want, "{s}");
        }
        for bad in [
            "",
            "256.1.1.1",
            "1.2.3.4.5",
            "1..2.3",
            "abc",
            "4294967296",
            "1.2.3.256",
            "::g",
            "[::1",
            "1.2.3.4 ",
            "09.1.1.1",
        ] {
            let e = IpAddress::parse(bad).unwrap_err();
            assert_eq!(e.message, "An invalid IP address was specified.", "{bad}");
        }
    }

    #[test]
    fn members() {
        let v4 = IpAddress::parse("127.0.0.2").unwrap();
        assert!(v4.is_loopback());
        assert_eq!(v4.address_family(), "InterNetwork");
        assert_eq!(v4.get_address_bytes(), vec![127, 0, 0, 2]);
        let v6 = IpAddress::parse("::1").unwrap();
        assert!(v6.is_loopback());
        assert_eq!(v6.address_family(), "InterNetworkV6");
        assert_eq!(v6.get_address_bytes().len(), 16);
        assert!(!IpAddress::parse("10.0.0.1").unwrap().is_loopback());
        assert!(IpAddress::parse("::ffff:127.0.0.1").unwrap().is_loopback());
        assert_eq!(IpAddress::parse("10.1").unwrap(), IpAddress::parse("10.0.0.1").unwrap());
        assert!(IpAddress::try_parse("nope").is_none());
    }
}
