//! APIs, operations and products as the gateway serves them (after loading: named values
//! substituted, URLs parsed, product membership resolved to indices).

use super::backend_url::{BackendUrl, Scheme};

/// Index of an API in the document's `apis` (as the router and plans count them).
pub type ApiIdx = u32;
/// Index into [`Api::operations`].
pub type OpIdx = u32;
/// Index of a product in the document's `products`.
pub type ProductIdx = u32;

/// Which schemes an API answers on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Protocols {
    pub http: bool,
    pub https: bool,
}

impl Protocols {
    pub fn allows(self, scheme: Scheme) -> bool {
        match scheme {
            Scheme::Http => self.http,
            Scheme::Https => self.https,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApiType {
    Http,
    WebSocket,
    Grpc,
}

/// How the version of a versioned API is read from a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VersionScheme {
    /// The path segment right after the API path.
    Segment,
    /// A request header (name lowercased).
    Header(String),
    /// A query parameter (name as written).
    Query(String),
}

#[derive(Clone, Debug)]
pub struct Api {
    pub id: String,
    pub name: String,
    /// Without leading/trailing '/', may contain '/', may be "" (root API).
    pub path: String,
    pub service_url: Option<BackendUrl>,
    /// `serviceUrl` as `context.Api.ServiceUrl` shows it ("" without one), made once at load.
    pub service_url_text: String,
    pub protocols: Protocols,
    pub subscription_required: bool,
    /// Lowercased header name carrying the subscription key.
    pub key_header: String,
    /// Query parameter carrying the key, read only when the header is absent.
    pub key_query: String,
    pub kind: ApiType,
    pub version: Option<String>,
    pub version_scheme: Option<VersionScheme>,
    /// API-scope policy XML after named-value substitution.
    pub policy: Option<String>,
    pub operations: Vec<Operation>,
    /// The published product with `subscriptionRequired=false` containing this API, if any
    /// (APIM allows at most one; more is a load error).
    pub open_product: Option<ProductIdx>,
}

#[derive(Clone, Debug)]
pub struct Operation {
    pub id: String,
    pub name: String,
    /// Uppercase method; `None` means `*` (any method).
    pub method: Option<String>,
    pub url_template: String,
    pub policy: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Product {
    pub id: String,
    pub name: String,
    pub published: bool,
    pub subscription_required: bool,
    /// Sorted and deduplicated, so membership is a binary search on the request path.
    pub apis: Vec<ApiIdx>,
    pub policy: Option<String>,
}

impl Product {
    pub fn contains(&self, api: ApiIdx) -> bool {
        self.apis.binary_search(&api).is_ok()
    }
}
