//! The document as read from JSON, before cross-references, named values, URLs, templates
//! and policies are resolved. Enum-like fields are already typed; strings are as written.
//! Required fields missing from the JSON are "" here (the problem is already recorded, and
//! the document will be rejected, but keeping the element keeps later indices and paths right).

use super::snapshot::{ApiType, BackendTls, CircuitBreaker, PoolMember, Protocols, VersionScheme};
use super::subscriptions::SubState;

#[derive(Debug, Default)]
pub(crate) struct Doc {
    pub revision: Option<String>,
    pub gateway_id: Option<String>,
    pub gateway_location: Option<String>,
    pub hostnames: Vec<HostDoc>,
    pub named_values: Vec<(String, String)>,
    pub policy: Option<String>,
    pub fragments: Vec<(String, String)>,
    pub apis: Vec<ApiDoc>,
    pub products: Vec<ProductDoc>,
    pub subscriptions: Vec<SubDoc>,
    pub backends: Vec<BackendDoc>,
    pub certificates: Vec<CertDoc>,
    pub caches: Vec<CacheDoc>,
}

#[derive(Debug)]
pub(crate) struct HostDoc {
    pub hostname: String,
    pub certificate_id: Option<String>,
    pub negotiate_client_certificate: bool,
    pub http2_enabled: bool,
}

#[derive(Debug)]
pub(crate) struct ApiDoc {
    pub id: String,
    pub name: Option<String>,
    pub path: String,
    pub service_url: Option<String>,
    pub protocols: Protocols,
    pub subscription_required: bool,
    pub key_header: String,
    pub key_query: String,
    pub kind: ApiType,
    pub version: Option<String>,
    pub version_scheme: Option<VersionScheme>,
    pub policy: Option<String>,
    pub operations: Vec<OpDoc>,
}

#[derive(Debug)]
pub(crate) struct OpDoc {
    pub id: String,
    pub name: Option<String>,
    /// Uppercased; `None` = `*`.
    pub method: Option<String>,
    pub url_template: String,
    pub policy: Option<String>,
}

#[derive(Debug)]
pub(crate) struct ProductDoc {
    pub id: String,
    pub name: Option<String>,
    pub published: bool,
    pub subscription_required: bool,
    pub apis: Vec<String>,
    pub policy: Option<String>,
}

#[derive(Debug)]
pub(crate) struct SubDoc {
    pub id: String,
    pub name: Option<String>,
    pub scope: String,
    pub primary_key: Option<String>,
    pub secondary_key: Option<String>,
    pub state: SubState,
    pub user_id: Option<String>,
}

#[derive(Debug)]
pub(crate) struct BackendDoc {
    pub id: String,
    pub url: Option<String>,
    pub tls: BackendTls,
    /// (name, values) as written; header names lowercased.
    pub header_credentials: Vec<(String, Vec<String>)>,
    pub query_credentials: Vec<(String, Vec<String>)>,
    pub pool: Vec<PoolMember>,
    pub circuit_breaker: Option<CircuitBreaker>,
}

#[derive(Debug)]
pub(crate) struct CertDoc {
    pub id: String,
    pub pem: String,
    pub key: Option<String>,
    pub is_trusted: bool,
}

#[derive(Debug)]
pub(crate) struct CacheDoc {
    pub id: String,
    pub connection_string: String,
}
