//! The per-request state policies read and write.
//!
//! The proxy owns the request head and buffers; it hands the engine a [`RequestView`] (read
//! access to the head as received, by borrowing its spans) and a [`RequestInfo`] (what routing
//! and the subscription check found). Everything a policy changes is recorded as *edits*
//! ([`RequestEdits`], [`ResponseEdits`]) that the proxy applies while it writes heads, so the
//! original bytes are never copied. Lookups made by expressions see the edits first.

use std::borrow::Cow;
use std::cell::{OnceCell, RefCell};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use super::edits::{HeaderEdits, RequestEdits, ResponseEdits};
use super::LastError;
use crate::policy::expr::Value;

/// Read access to the request as received (the proxy implements it over its buffers).
pub trait RequestView {
    /// Uppercase method as received.
    fn method(&self) -> &str;
    /// `http` or `https`.
    fn scheme(&self) -> &str;
    /// Host as the client named it (without port).
    fn host(&self) -> &str;
    fn port(&self) -> u16;
    /// Full raw path (with the API suffix), starting with '/'.
    fn path(&self) -> &str;
    /// Raw query without '?', may be "".
    fn query(&self) -> &str;
    /// The first value of a header, by lowercase name.
    fn header(&self, lowercase_name: &str) -> Option<&[u8]>;
    /// Every header as received, in order, names as written: what enumerating
    /// `context.Request.Headers` lists. `None` when the view cannot list them (the
    /// enumeration then fails with a message saying so; lookups by name still work).
    fn header_list(&self) -> Option<Vec<(&str, &[u8])>> {
        None
    }
}

/// Read access to a backend response head (outbound).
pub trait ResponseView {
    fn status(&self) -> u16;
    fn reason(&self) -> &str;
    fn header(&self, lowercase_name: &str) -> Option<&[u8]>;
    /// Every header, in order (as [`RequestView::header_list`]).
    fn header_list(&self) -> Option<Vec<(&str, &[u8])>> {
        None
    }
}

impl<T: ResponseView + ?Sized> ResponseView for &T {
    fn status(&self) -> u16 {
        (**self).status()
    }
    fn reason(&self) -> &str {
        (**self).reason()
    }
    fn header(&self, lowercase_name: &str) -> Option<&[u8]> {
        (**self).header(lowercase_name)
    }
    fn header_list(&self) -> Option<Vec<(&str, &[u8])>> {
        (**self).header_list()
    }
}

/// The caller's subscription, when a key admitted the call.
#[derive(Clone, Copy, Debug, Default)]
pub struct SubscriptionInfo<'a> {
    pub id: &'a str,
    pub name: &'a str,
    /// The key the caller presented.
    pub key: &'a str,
    pub primary_key: &'a str,
    pub secondary_key: &'a str,
}

/// What routing and admission found, borrowed from the snapshot (no copies per request).
#[derive(Clone, Copy, Debug, Default)]
pub struct RequestInfo<'a> {
    pub api_id: &'a str,
    pub api_name: &'a str,
    pub api_path: &'a str,
    pub api_service_url: &'a str,
    pub api_version: &'a str,
    /// `None` for APIs without operations.
    pub operation: Option<OperationInfo<'a>>,
    pub product: Option<(&'a str, &'a str)>,
    pub subscription: Option<SubscriptionInfo<'a>>,
    pub user_id: Option<&'a str>,
    pub gateway_id: &'a str,
    pub region: &'a str,
    pub service_name: &'a str,
    pub request_id: &'a str,
    /// ISO 8601 UTC time the request arrived.
    pub timestamp: &'a str,
    pub client_ip: Option<IpAddr>,
    /// Byte offset in `RequestView::path` where the operation-relative path starts.
    pub rest_start: usize,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct OperationInfo<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub method: &'a str,
    pub url_template: &'a str,
}

/// The response the engine works on in outbound and on-error.
pub struct ResponseState<'a> {
    /// The backend's head; `None` when the gateway builds the response itself.
    pub backend: Option<Box<dyn ResponseView + 'a>>,
    /// The buffered response body (only when the plan asked for it).
    pub body: Option<Arc<[u8]>>,
}

/// Per-request state: read views, variables, edits and the last error.
pub struct PolicyContext<'a> {
    pub request: &'a dyn RequestView,
    pub info: RequestInfo<'a>,
    /// `(name, value)` of the operation's template parameters (see `Plan::matched_parameters`).
    pub matched: Vec<(&'a str, Cow<'a, str>)>,
    /// The buffered request body (only when the plan asked for it).
    pub request_body: Option<Arc<[u8]>>,
    pub variables: Vec<(Box<str>, Value)>,
    pub request_edits: RequestEdits,
    /// `None` before the backend answered (inbound, backend).
    pub response: Option<ResponseState<'a>>,
    pub response_edits: ResponseEdits,
    pub last_error: Option<LastError>,
    pub started: Instant,
    /// The node's limit counters; the proxy sets it. `None`: limit policies fail (500),
    /// they never admit unchecked.
    pub limits: Option<&'a crate::limits::LimitStore>,
    /// `limit-concurrency` slots held by blocks that have not ended, innermost last. A block's
    /// end step releases its slot; an error or an early response releases the slots taken in
    /// that section; dropping the context releases the rest.
    pub held: Vec<crate::limits::ConcurrencyGuard>,
    /// Counting left for the end of the request (see [`PolicyContext::end_limits`]).
    pub limit_tail: Vec<super::limits::LimitTail>,
    /// The chain the client presented in the TLS handshake, leaf first (`context.Request.Certificate`).
    pub client_chain: Option<Arc<[rustls::pki_types::CertificateDer<'static>]>>,
    /// The document's trusted CAs and certificates; `None`: nothing is trusted.
    pub client_trust: Option<&'a crate::tls::client_auth::ClientTrust>,
    /// The leaf, parsed on first use (`None` inside: not a certificate x509-parser reads).
    client_cert: OnceCell<Option<crate::tls::x509::CertInfo>>,
    /// What expressions did with the request body (`[0]`) and response body (`[1]`).
    bodies: RefCell<[BodyState; 2]>,
}

/// An expression's view of one body: whether a reader without `preserveContent` consumed
/// it, and its JSON parse (made once, whatever the number of expressions that read it).
#[derive(Default)]
struct BodyState {
    /// The body these facts are about (its address and length): `set-body` makes a new one.
    id: (usize, usize),
    consumed: bool,
    parsed: Option<crate::policy::expr::json::JRef>,
}

impl BodyState {
    fn for_body(&mut self, body: &[u8]) -> &mut BodyState {
        let id = (body.as_ptr() as usize, body.len());
        if self.id != id {
            *self = BodyState { id, ..BodyState::default() };
        }
        self
    }
}

fn lossy(b: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(b)
}

fn edited<'s>(edits: &'s HeaderEdits, orig: Option<&'s [u8]>, name: &str) -> Option<Cow<'s, str>> {
    let removed = edits.is_removed(name);
    let mut added = edits.values(name);
    let first_added = added.next();
    match (removed, orig, first_added) {
        (false, Some(o), None) => Some(lossy(o)),
        (false, Some(o), Some(a)) => {
            let mut s = lossy(o).into_owned();
            for v in std::iter::once(a).chain(added) {
                s.push_str(", ");
                s.push_str(v);
            }
            Some(Cow::Owned(s))
        }
        (_, _, Some(a)) => {
            let rest: Vec<&str> = added.collect();
            if rest.is_empty() {
                Some(Cow::Borrowed(a))
            } else {
                Some(Cow::Owned(std::iter::once(a).chain(rest).collect::<Vec<_>>().join(", ")))
            }
        }
        _ => None,
    }
}

impl<'a> PolicyContext<'a> {
    pub fn new(request: &'a dyn RequestView, info: RequestInfo<'a>) -> PolicyContext<'a> {
        PolicyContext {
            request,
            info,
            matched: Vec::new(),
            request_body: None,
            variables: Vec::new(),
            request_edits: RequestEdits::default(),
            response: None,
            response_edits: ResponseEdits::default(),
            last_error: None,
            started: Instant::now(),
            limits: None,
            held: Vec::new(),
            limit_tail: Vec::new(),
            client_chain: None,
            client_trust: None,
            client_cert: OnceCell::new(),
            bodies: RefCell::new(Default::default()),
        }
    }

    /// The client's certificate, parsed; `None` without one (or when it cannot be read).
    pub fn client_certificate(&self) -> Option<&crate::tls::x509::CertInfo> {
        self.client_cert
            .get_or_init(|| self.client_chain.as_ref()?.first().and_then(|c| crate::tls::x509::CertInfo::parse(c)))
            .as_ref()
    }

    /// `Certificate.Verify()`: the chain leads to a trusted CA and every certificate on it is
    /// current (no revocation lists: none are configured).
    pub fn verify_client_certificate(&self) -> bool {
        match (&self.client_chain, self.client_trust) {
            (Some(chain), Some(trust)) => trust.verify_chain(chain, crate::tls::x509::now_unix()).is_ok(),
            _ => false,
        }
    }

    /// A request header as the backend will see it (edits applied); `name` lowercase.
    pub fn request_header(&self, name: &str) -> Option<Cow<'_, str>> {
        edited(&self.request_edits.headers, self.request.header(name), name)
    }

    /// A response header as the client will see it; `None` when there is no response yet.
    pub fn response_header(&self, name: &str) -> Option<Cow<'_, str>> {
        let r = self.response.as_ref()?;
        let orig = r.backend.as_ref().and_then(|b| b.header(name));
        edited(&self.response_edits.headers, orig, name)
    }

    /// The current method (after `set-method`).
    pub fn method(&self) -> &str {
        self.request_edits.method.as_deref().unwrap_or_else(|| self.request.method())
    }

    /// The current query string (after `set-query-parameter` / `rewrite-uri`).
    pub fn query(&self) -> &str {
        match &self.request_edits.path_and_query {
            Some(pq) => pq.split_once('?').map_or("", |(_, q)| q),
            None => self.request.query(),
        }
    }

    /// The current backend-relative path (after `rewrite-uri`).
    pub fn rest_path(&self) -> &str {
        match &self.request_edits.path_and_query {
            Some(pq) => pq.split_once('?').map_or(pq.as_str(), |(p, _)| p),
            None => self.request.path().get(self.info.rest_start..).unwrap_or(""),
        }
    }

    /// A query parameter (first occurrence, percent-decoding left to the caller).
    pub fn query_param(&self, name: &str) -> Option<&str> {
        query_lookup(self.query(), name)
    }

    pub fn matched_param(&self, name: &str) -> Option<&str> {
        self.matched.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_ref())
    }

    pub fn variable(&self, name: &str) -> Option<&Value> {
        self.variables.iter().find(|(n, _)| &**n == name).map(|(_, v)| v)
    }

    pub fn set_variable(&mut self, name: &str, value: Value) {
        match self.variables.iter_mut().find(|(n, _)| &**n == name) {
            Some(slot) => slot.1 = value,
            None => self.variables.push((name.into(), value)),
        }
    }

    /// The request body as the backend will see it (edited or original).
    pub fn current_request_body(&self) -> Option<&[u8]> {
        match &self.request_edits.body {
            Some(b) => Some(b.as_slice()),
            None => self.request_body.as_deref(),
        }
    }

    pub fn current_response_body(&self) -> Option<&[u8]> {
        match &self.response_edits.body {
            Some(b) => Some(b.as_slice()),
            None => self.response.as_ref().and_then(|r| r.body.as_deref()),
        }
    }

    /// Records a `Body.As` read: `false` when an earlier read without `preserveContent`
    /// consumed this body (APIM then throws).
    pub fn read_body(&self, response: bool, body: &[u8], preserve: bool) -> bool {
        let mut b = self.bodies.borrow_mut();
        let st = b[usize::from(response)].for_body(body);
        if st.consumed {
            return false;
        }
        st.consumed = !preserve;
        true
    }

    /// The body parsed as JSON, once per body per request.
    pub fn parsed_body(&self, response: bool, body: &[u8]) -> Result<crate::policy::expr::json::JRef, String> {
        let mut b = self.bodies.borrow_mut();
        let st = b[usize::from(response)].for_body(body);
        if let Some(j) = &st.parsed {
            return Ok(j.clone());
        }
        let j = crate::policy::expr::json::JRef::parse(body)?;
        st.parsed = Some(j.clone());
        Ok(j)
    }

    pub fn response_status(&self) -> Option<u16> {
        let r = self.response.as_ref()?;
        Some(self.response_edits.status.as_ref().map(|s| s.0).or(r.backend.as_ref().map(|b| b.status())).unwrap_or(200))
    }
}

/// The headers a message will carry, edits applied: each name once (as first written),
/// with its value as `lookup` gives it (the comma-joined values).
fn list_headers<'s>(
    edits: &HeaderEdits,
    orig: &[(&str, &[u8])],
    lookup: impl Fn(&str) -> Option<Cow<'s, str>>,
) -> Vec<(String, String)> {
    let mut names: Vec<String> = Vec::new();
    let seen = |names: &[String], n: &str| names.iter().any(|x| x.eq_ignore_ascii_case(n));
    for (n, _) in orig.iter().filter(|(n, _)| !edits.is_removed(&n.to_ascii_lowercase())) {
        if !seen(&names, n) {
            names.push(n.to_string());
        }
    }
    for (n, _) in &edits.added {
        if !seen(&names, n) {
            names.push(n.to_string());
        }
    }
    names.into_iter().filter_map(|n| lookup(&n.to_ascii_lowercase()).map(|v| (n, v.into_owned()))).collect()
}

impl PolicyContext<'_> {
    /// Every request header as the backend will see it (edits applied), in order:
    /// `None` when the request view cannot list headers.
    pub fn request_header_list(&self) -> Option<Vec<(String, String)>> {
        let orig = self.request.header_list()?;
        Some(list_headers(&self.request_edits.headers, &orig, |n| self.request_header(n)))
    }

    /// Every response header as the client will see it; `None` when there is no response
    /// yet or its view cannot list headers.
    pub fn response_header_list(&self) -> Option<Vec<(String, String)>> {
        let r = self.response.as_ref()?;
        let orig = match &r.backend {
            Some(b) => b.header_list()?,
            None => Vec::new(),
        };
        Some(list_headers(&self.response_edits.headers, &orig, |n| self.response_header(n)))
    }
}

/// The raw value of the first `name` parameter in a query string.
pub fn query_lookup<'q>(query: &'q str, name: &str) -> Option<&'q str> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == name && !pair.is_empty()).then_some(v)
    })
}
