//! Edits the proxy applies while writing heads: the passthrough path stays zero-copy because
//! the original head is never rewritten in memory, only filtered and extended on the way out.

use crate::api_model::BackendUrl;

/// Header changes as a final state: drop every original header named in `removed`, then
/// write `added` in order. `removed` and lookups are by lowercase name.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HeaderEdits {
    /// Lowercase names whose original occurrences are not written.
    pub removed: Vec<Box<str>>,
    /// `(name as written in the policy, value)`, written after the kept originals.
    pub added: Vec<(Box<str>, String)>,
}

impl HeaderEdits {
    pub fn is_removed(&self, lowercase: &str) -> bool {
        self.removed.iter().any(|r| &**r == lowercase)
    }

    /// Added values of a header (any case of `lowercase`).
    pub fn values<'s, 'n>(&'s self, lowercase: &'n str) -> impl Iterator<Item = &'s str> + use<'s, 'n> {
        self.added.iter().filter(move |(n, _)| n.eq_ignore_ascii_case(lowercase)).map(|(_, v)| v.as_str())
    }

    /// Removes a header entirely (originals and anything added so far).
    pub fn delete(&mut self, name: &str) {
        let lower = name.to_ascii_lowercase();
        self.added.retain(|(n, _)| !n.eq_ignore_ascii_case(&lower));
        if !self.is_removed(&lower) {
            self.removed.push(lower.into());
        }
    }

    /// Replaces a header with `values`.
    pub fn set(&mut self, name: &str, values: impl IntoIterator<Item = String>) {
        self.delete(name);
        self.append(name, values);
    }

    pub fn append(&mut self, name: &str, values: impl IntoIterator<Item = String>) {
        for v in values {
            self.added.push((name.into(), v));
        }
    }

    pub fn is_empty(&self) -> bool {
        self.removed.is_empty() && self.added.is_empty()
    }
}

/// Where the request goes instead of the API's `serviceUrl`.
#[derive(Clone, Debug, PartialEq)]
pub enum BackendTarget {
    Url(BackendUrl),
    /// A `backends[]` entry, by id (validated at load time when the id is constant).
    BackendId(String),
}

/// Changes to the request going to the backend.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RequestEdits {
    pub headers: HeaderEdits,
    /// Replaces the request method.
    pub method: Option<String>,
    /// Replaces the backend-relative path and query (`/rest?q=1`), after `rewrite-uri` or
    /// `set-query-parameter`. The proxy still removes the subscription-key parameter.
    pub path_and_query: Option<String>,
    pub backend: Option<BackendTarget>,
    /// Replaces the request body (the proxy then sends a Content-Length body).
    pub body: Option<Vec<u8>>,
    /// `authentication-certificate`: the certificate (by id) presented to the backend.
    pub client_certificate: Option<Box<str>>,
}

impl RequestEdits {
    pub fn is_empty(&self) -> bool {
        self.headers.is_empty()
            && self.method.is_none()
            && self.path_and_query.is_none()
            && self.backend.is_none()
            && self.body.is_none()
            && self.client_certificate.is_none()
    }
}

/// Changes to the response going to the client (outbound, on-error, and CORS headers
/// decided in inbound).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResponseEdits {
    pub headers: HeaderEdits,
    /// `(code, reason)`.
    pub status: Option<(u16, String)>,
    pub body: Option<Vec<u8>>,
}

/// A response the gateway sends itself (`return-response`, `mock-response`, CORS preflight,
/// or the shaped result of on-error).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    /// `(name, value)` in order; the proxy adds framing headers itself.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_edits() {
        let mut h = HeaderEdits::default();
        h.append("X-A", ["1".to_string()]);
        h.set("x-a", ["2".to_string(), "3".to_string()]);
        assert_eq!(h.values("x-a").collect::<Vec<_>>(), ["2", "3"]);
        assert!(h.is_removed("x-a"));
        h.delete("X-A");
        assert_eq!(h.values("x-a").count(), 0);
        assert_eq!(h.removed.len(), 1);
    }
}
