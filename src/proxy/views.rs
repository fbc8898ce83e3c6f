//! What the policy engine reads of a request and a backend response, over the proxy's own
//! parsed heads (spans into byte buffers), and what routing found, borrowed from the snapshot.

use std::net::IpAddr;

use super::request::Route;
use crate::config::Scheme;
use crate::http::request::RequestHead;
use crate::http::response::ResponseHead;
use crate::policy::{OperationInfo, RequestInfo, RequestView, ResponseView, SubscriptionInfo};
use crate::snapshot::Snapshot;

/// A request head over a copy of its bytes (the connection buffer moves on while policies run).
pub struct HeadView<'a> {
    pub head: &'a RequestHead,
    pub buf: &'a [u8],
    pub scheme: Scheme,
}

fn text(b: &[u8]) -> &str {
    // httparse yields ASCII spans for the method and target.
    std::str::from_utf8(b).unwrap_or("")
}

impl HeadView<'_> {
    fn host_port(&self) -> (&str, Option<u16>) {
        let raw = text(self.head.host.map_or(&b""[..], |h| h.get(self.buf)));
        if let Some(rest) = raw.strip_prefix('[') {
            // [v6]:port
            let (h, tail) = rest.split_once(']').unwrap_or((rest, ""));
            return (h, tail.strip_prefix(':').and_then(|p| p.parse().ok()));
        }
        match raw.rsplit_once(':') {
            Some((h, p)) => (h, p.parse().ok()),
            None => (raw, None),
        }
    }
}

impl RequestView for HeadView<'_> {
    fn method(&self) -> &str {
        text(self.head.method.get(self.buf))
    }
    fn scheme(&self) -> &str {
        match self.scheme {
            Scheme::Https => "https",
            Scheme::Http => "http",
        }
    }
    fn host(&self) -> &str {
        self.host_port().0
    }
    fn port(&self) -> u16 {
        let default = if self.scheme == Scheme::Https { 443 } else { 80 };
        self.host_port().1.unwrap_or(default)
    }
    fn path(&self) -> &str {
        text(self.head.path.get(self.buf))
    }
    fn query(&self) -> &str {
        text(self.head.query.get(self.buf))
    }
    fn header(&self, lowercase_name: &str) -> Option<&[u8]> {
        self.head.header(self.buf, lowercase_name)
    }
    fn header_list(&self) -> Option<Vec<(&str, &[u8])>> {
        Some(list_headers(&self.head.headers, self.buf))
    }
}

/// A backend's response head, owned: policies read it while the connection reads on.
pub struct BackendHead {
    pub head: ResponseHead,
    pub bytes: Vec<u8>,
}

impl ResponseView for BackendHead {
    fn status(&self) -> u16 {
        self.head.status
    }
    fn reason(&self) -> &str {
        text(self.head.reason.get(&self.bytes))
    }
    fn header(&self, lowercase_name: &str) -> Option<&[u8]> {
        response_header(&self.head, &self.bytes, lowercase_name)
    }
    fn header_list(&self) -> Option<Vec<(&str, &[u8])>> {
        Some(list_headers(&self.head.headers, &self.bytes))
    }
}

/// Every header over the bytes it was parsed from, in order, names as written (only an
/// expression that enumerates the headers asks, so the list is made on demand).
fn list_headers<'b>(headers: &[crate::http::request::HeaderSpan], bytes: &'b [u8]) -> Vec<(&'b str, &'b [u8])> {
    headers.iter().map(|h| (text(h.name.get(bytes)), h.value.get(bytes))).collect()
}

/// The first value of a response header, over the bytes the head was parsed from.
pub fn response_header<'b>(head: &ResponseHead, bytes: &'b [u8], lowercase_name: &str) -> Option<&'b [u8]> {
    head.headers
        .iter()
        .find(|h| h.name.get(bytes).eq_ignore_ascii_case(lowercase_name.as_bytes()))
        .map(|h| h.value.get(bytes))
}

/// Per-request strings the info borrows (made once, only on the policy path).
pub struct InfoText {
    pub request_id: String,
    pub timestamp: String,
}

pub fn request_info<'a>(
    snap: &'a Snapshot,
    route: &Route,
    key: Option<&'a str>,
    client_ip: IpAddr,
    t: &'a InfoText,
) -> RequestInfo<'a> {
    let doc = &snap.doc;
    let api = &doc.apis[route.api as usize];
    let operation = route.operation.and_then(|o| api.operations.get(o as usize)).map(|o| OperationInfo {
        id: &o.id,
        name: &o.name,
        method: o.method.as_deref().unwrap_or("*"),
        url_template: &o.url_template,
    });
    let product = route.product.and_then(|p| doc.products.get(p as usize)).map(|p| (p.id.as_str(), p.name.as_str()));
    let sub = route.subscription.and_then(|s| doc.subscriptions.get_opt(s));
    let subscription = sub.map(|s| SubscriptionInfo {
        id: &s.id,
        name: &s.name,
        key: key.unwrap_or(""),
        primary_key: s.primary_key.as_deref().and_then(|k| std::str::from_utf8(k).ok()).unwrap_or(""),
        secondary_key: s.secondary_key.as_deref().and_then(|k| std::str::from_utf8(k).ok()).unwrap_or(""),
    });
    RequestInfo {
        api_id: &api.id,
        api_name: &api.name,
        api_path: &api.path,
        api_service_url: &api.service_url_text,
        api_version: api.version.as_deref().unwrap_or(""),
        operation,
        product,
        subscription,
        user_id: sub.and_then(|s| s.user_id.as_deref()),
        gateway_id: doc.gateway_id.as_deref().unwrap_or(""),
        region: doc.gateway_location.as_deref().unwrap_or(""),
        service_name: "ringgate",
        request_id: &t.request_id,
        timestamp: &t.timestamp,
        client_ip: Some(match client_ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(client_ip),
            v4 => v4,
        }),
        rest_start: route.rest_start,
    }
}
