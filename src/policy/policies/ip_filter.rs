//! `<ip-filter action="allow|forbid"><address>…</address><address-range from="…" to="…"/>
//! </ip-filter>`: IPv4 and IPv6, compared as numbers (IPv4-mapped IPv6 callers count as IPv4).
//! Addresses are literal: a filter whose list depends on the request is not a filter.

use std::net::IpAddr;

use super::{Attrs, Cx, Failure, Outcome, Result};
use crate::policy::runtime::PolicyContext;
use crate::policy::xml::{Element, Node};

#[derive(Clone, Debug, PartialEq)]
pub struct IpFilter {
    pub allow: bool,
    /// Inclusive ranges of normalized addresses (single addresses are `(a, a)`).
    pub ranges: Vec<(u128, u128, bool)>,
}

/// (number, is_v4) with IPv4-mapped IPv6 folded to IPv4.
pub fn key(ip: IpAddr) -> (u128, bool) {
    match ip {
        IpAddr::V4(v4) => (u128::from(u32::from(v4)), true),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => (u128::from(u32::from(v4)), true),
            None => (u128::from(v6), false),
        },
    }
}

pub fn compile(el: &Element, cx: &mut Cx<'_>) -> Option<IpFilter> {
    let mut a = Attrs::new(el);
    let allow = match a.literal(cx, "action").map(|(v, p)| (v.trim(), p)) {
        Some(("allow", _)) => Some(true),
        Some(("forbid", _)) => Some(false),
        Some((other, p)) => {
            cx.err(p, format!("ip-filter action must be allow or forbid, found '{other}'"));
            None
        }
        None => {
            cx.err(el.pos, "<ip-filter> needs the attribute 'action'");
            None
        }
    };
    a.finish(cx);
    let mut ranges = Vec::new();
    let parse = |cx: &mut Cx<'_>, text: &str, pos: usize| -> Option<(u128, bool)> {
        match text.trim().parse::<IpAddr>() {
            Ok(ip) => Some(key(ip)),
            Err(_) => {
                cx.err(pos, format!("'{}' is not an IP address", text.trim()));
                None
            }
        }
    };
    for c in &el.children {
        let e = match c {
            Node::Element(e) => e,
            Node::Text(t) if t.text.trim().is_empty() => continue,
            Node::Text(t) => {
                cx.err(t.start(), "<ip-filter> takes no text content");
                continue;
            }
        };
        match e.name.as_str() {
            "address" => {
                Attrs::new(e).finish(cx);
                let t = e.text();
                if let Some((n, v4)) = parse(cx, &t.text, t.start()) {
                    ranges.push((n, n, v4));
                }
            }
            "address-range" => {
                let mut ra = Attrs::new(e);
                let from = ra.literal(cx, "from");
                let to = ra.literal(cx, "to");
                ra.finish(cx);
                let (Some(f), Some(t)) = (from, to) else {
                    cx.err(e.pos, "<address-range> needs 'from' and 'to'");
                    continue;
                };
                if let (Some((f, fv4)), Some((t, tv4))) = (parse(cx, f.0, f.1), parse(cx, t.0, t.1)) {
                    if fv4 != tv4 || f > t {
                        cx.err(e.pos, "address-range: 'from' and 'to' must be the same family with from <= to");
                    } else {
                        ranges.push((f, t, fv4));
                    }
                }
            }
            other => {
                cx.err(e.pos, format!("unexpected <{other}> inside <ip-filter> (allowed: address, address-range)"))
            }
        }
    }
    Some(IpFilter { allow: allow?, ranges })
}

impl IpFilter {
    pub fn matches(&self, ip: IpAddr) -> bool {
        let (n, v4) = key(ip);
        self.ranges.iter().any(|&(f, t, fv4)| fv4 == v4 && f <= n && n <= t)
    }

    pub fn run(&self, ctx: &mut PolicyContext<'_>) -> Result<Outcome<'static>> {
        let Some(ip) = ctx.info.client_ip else {
            return Err(Failure::new("FailedToParseCallerIP", "Failed to parse caller IP address", 403));
        };
        let hit = self.matches(ip);
        match (self.allow, hit) {
            (true, false) => {
                Err(Failure::new("CallerIpNotAllowed", format!("Caller IP address {ip} is not allowed"), 403))
            }
            (false, true) => Err(Failure::new("CallerIpBlocked", format!("Caller IP address {ip} is blocked"), 403)),
            _ => Ok(Outcome::Continue),
        }
    }
}
