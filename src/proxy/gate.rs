//! Everything decided before a backend is involved: health paths, hostname, route, subscription.
//! Pure and synchronous: it reads the head and the snapshot and returns a decision.

use crate::config::{AuthFailure, HeaderLookup, RouteOutcome, RouteRequest, Scheme};
use crate::http::request::RequestHead;
use crate::snapshot::Snapshot;

use super::failure::Failure;
pub use super::request::{KeySource, Route};

#[derive(Debug)]
pub enum Decision {
    /// The health endpoint.
    Status,
    /// The gateway answers itself (404, 401, …): the failure table's row; the API when one
    /// matched (its on-error may shape the answer).
    Refuse {
        failure: Failure,
        api: Option<u32>,
    },
    Forward(Route),
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

pub fn decide(snap: &Snapshot, head: &RequestHead, buf: &[u8], scheme: Scheme) -> Decision {
    let path_bytes = head.path.get(buf);
    if super::STATUS_PATHS.contains(&path_bytes) {
        return Decision::Status;
    }
    let doc = &snap.doc;
    let host = head.host.map(|h| h.get(buf)).unwrap_or(b"");
    if !doc.hosts.matches(host) {
        return Decision::Refuse { failure: Failure::ApiNotFound, api: None };
    }
    // httparse only yields spans of valid ASCII for the target and method.
    let text = |s: crate::http::Span| std::str::from_utf8(s.get(buf)).unwrap_or("");
    let req = RouteRequest { path: text(head.path), query: text(head.query), method: text(head.method), scheme };
    let lookup = Headers { head, buf };
    let m = match doc.router.route(&req, &lookup) {
        RouteOutcome::Matched(m) => m,
        RouteOutcome::ApiNotFound => return Decision::Refuse { failure: Failure::ApiNotFound, api: None },
        RouteOutcome::OperationNotFound { api } => {
            return Decision::Refuse { failure: Failure::OperationNotFound, api: Some(api) }
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
        Err(AuthFailure::KeyNotFound) => Decision::Refuse { failure: Failure::KeyMissing, api: Some(m.api) },
        Err(AuthFailure::KeyInvalid) => Decision::Refuse { failure: Failure::KeyInvalid, api: Some(m.api) },
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
