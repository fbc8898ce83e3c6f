//! Everything decided before a backend is involved: health paths, hostname, route, subscription.
//! Pure and synchronous: it reads the head and the snapshot and returns a decision.

use crate::config::{AuthFailure, HeaderLookup, RouteOutcome, RouteRequest, Scheme};
use crate::http::request::RequestHead;
use crate::snapshot::Snapshot;

/// Where a subscription key was found, so the forwarded request can leave it out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeySource {
    None,
    Header,
    Query,
}

#[derive(Debug)]
pub enum Decision {
    /// The health endpoint.
    Status,
    /// The gateway answers itself (404, 401, …) with APIM's reason.
    Refuse {
        status: u16,
        reason: &'static str,
        message: &'static str,
        api: Option<u32>,
    },
    Forward(Route),
}

#[derive(Clone, Copy, Debug)]
pub struct Route {
    pub api: u32,
    /// `None` for APIs without operations (pass-through).
    pub operation: Option<u32>,
    /// Offset in the request path where the backend-relative part starts.
    pub rest_start: usize,
    pub key: KeySource,
    pub subscription: Option<u32>,
    pub product: Option<u32>,
}

struct Headers<'a> {
    head: &'a RequestHead,
    buf: &'a [u8],
}

impl HeaderLookup for Headers<'_> {
    fn header(&self, lowercase_name: &str) -> Option<&[u8]> {
        self.head.header(self.buf, lowercase_name)
    }
}

const NOT_FOUND: &str = "Resource not found";
const OPERATION_NOT_FOUND: &str = "Unable to match incoming request to an operation.";
const KEY_MISSING: &str =
    "Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API.";
const KEY_INVALID: &str =
    "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription.";

pub fn decide(snap: &Snapshot, head: &RequestHead, buf: &[u8], scheme: Scheme) -> Decision {
    let path_bytes = head.path.get(buf);
    if super::STATUS_PATHS.contains(&path_bytes) {
        return Decision::Status;
    }
    let doc = &snap.doc;
    let host = head.host.map(|h| h.get(buf)).unwrap_or(b"");
    if !doc.hosts.matches(host) {
        return Decision::Refuse { status: 404, reason: "ApiNotFound", message: NOT_FOUND, api: None };
    }
    // httparse only yields spans of valid ASCII for the target and method.
    let text = |s: crate::http::Span| std::str::from_utf8(s.get(buf)).unwrap_or("");
    let req = RouteRequest { path: text(head.path), query: text(head.query), method: text(head.method), scheme };
    let lookup = Headers { head, buf };
    let m = match doc.router.route(&req, &lookup) {
        RouteOutcome::Matched(m) => m,
        RouteOutcome::ApiNotFound => {
            return Decision::Refuse { status: 404, reason: "ApiNotFound", message: NOT_FOUND, api: None }
        }
        RouteOutcome::OperationNotFound { api } => {
            return Decision::Refuse {
                status: 404,
                reason: "OperationNotFound",
                message: OPERATION_NOT_FOUND,
                api: Some(api),
            }
        }
    };
    let api = &doc.apis[m.api as usize];
    let (key, source) = match head.header(buf, &api.key_header) {
        Some(k) => (Some(k), KeySource::Header),
        None => match query_param(head.query.get(buf), api.key_query.as_bytes()) {
            Some(k) => (Some(k), KeySource::Query),
            None => (None, KeySource::None),
        },
    };
    match doc.subscriptions.admit(&doc.apis, &doc.products, m.api, key) {
        Ok(adm) => Decision::Forward(Route {
            api: m.api,
            operation: m.operation,
            rest_start: m.rest_start,
            key: source,
            subscription: adm.subscription,
            product: adm.product,
        }),
        Err(AuthFailure::KeyNotFound) => {
            Decision::Refuse { status: 401, reason: "SubscriptionKeyNotFound", message: KEY_MISSING, api: Some(m.api) }
        }
        Err(AuthFailure::KeyInvalid) => {
            Decision::Refuse { status: 401, reason: "SubscriptionKeyInvalid", message: KEY_INVALID, api: Some(m.api) }
        }
    }
}

/// The raw value of the first query parameter named `name`.
pub fn query_param<'a>(query: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    query.split(|b| *b == b'&').find_map(|pair| {
        let (k, v) = match memchr::memchr(b'=', pair) {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, &b""[..]),
        };
        (k == name).then_some(v)
    })
}

#[cfg(test)]
mod tests {
    use super::query_param;

    #[test]
    fn finds_query_params() {
        assert_eq!(query_param(b"a=1&subscription-key=k&b", b"subscription-key"), Some(&b"k"[..]));
        assert_eq!(query_param(b"a=1", b"subscription-key"), None);
        assert_eq!(query_param(b"b", b"b"), Some(&b""[..]));
    }
}
