//! The compiled, immutable configuration every worker serves from.
//!
//! Everything here is owned (`Clone + Send + 'static`): the control thread compiles one
//! snapshot and hands each worker its own deep copy, so the request path never shares memory.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

pub use super::hosts::HostMatcher;
use super::route::Router;
use super::subscriptions::SubscriptionIndex;
// The API model and the TLS material live below config, policy and tls (see `crate::api_model`);
// re-exported here so `crate::config::{Api, Product, Certificate, …}` keeps naming them.
pub use super::subscriptions::{SubIdx, SubScope, SubState, Subscription};
pub use crate::api_model::{
    Api, ApiIdx, ApiType, BackendTls, BackendUrl, Certificate, HostnameConfig, OpIdx, Operation, Product, ProductIdx,
    Protocols, Scheme, VersionScheme,
};

/// The whole compiled document.
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// The document's `revision`, or `h-<16 hex>` (FNV-1a of the bytes) when absent, so a
    /// changed document always has a different revision.
    pub revision: String,
    pub gateway_id: Option<String>,
    pub gateway_location: Option<String>,
    /// Which Host/SNI values this gateway answers (`gateway.hostnames`).
    pub hosts: HostMatcher,
    /// The hostname entries themselves, for the TLS layer (certificate per SNI).
    pub hostnames: Vec<HostnameConfig>,
    pub apis: Vec<Api>,
    pub products: Vec<Product>,
    pub router: Router,
    pub subscriptions: SubscriptionIndex,
    pub named_values: NamedValues,
    /// Global-scope policy document (after named-value substitution).
    pub policy: Option<String>,
    /// Policy fragments by id (after substitution), sorted by id.
    pub policy_fragments: Vec<(String, String)>,
    /// Compiled policy plans per (API, operation, product context): what the request path
    /// executes (see `crate::policy`).
    pub policy_plans: crate::policy::Plans,
    pub certificates: Vec<Certificate>,
    pub backends: Vec<Backend>,
    pub caches: Vec<Cache>,
}

impl Snapshot {
    /// Finds an API by id (control-plane and diagnostics use; not for the request path).
    pub fn api_by_id(&self, id: &str) -> Option<ApiIdx> {
        self.apis.iter().position(|a| a.id == id).and_then(|i| u32::try_from(i).ok())
    }

    pub fn backend(&self, id: &str) -> Option<&Backend> {
        self.backends.iter().find(|b| b.id == id)
    }

    pub fn certificate(&self, id: &str) -> Option<&Certificate> {
        self.certificates.iter().find(|c| c.id == id)
    }
}

/// Named values, resolved. Debug prints names only: values are often secrets.
#[derive(Clone, Default, PartialEq)]
pub struct NamedValues {
    pub(crate) map: HashMap<String, String>,
}

impl NamedValues {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.map.get(name).map(String::as_str)
    }
    pub fn len(&self) -> usize {
        self.map.len()
    }
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

impl fmt::Debug for NamedValues {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&String> = self.map.keys().collect();
        names.sort();
        f.debug_set().entries(names).finish()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Backend {
    pub id: String,
    /// Absent for pool backends.
    pub url: Option<BackendUrl>,
    pub tls: BackendTls,
    pub credentials: Credentials,
    /// Member backends of a pool (`pool.services`).
    pub pool: Vec<PoolMember>,
    pub circuit_breaker: Option<CircuitBreaker>,
}

/// Headers and query parameters added to backend requests (values after substitution).
/// Debug hides values: they are usually secrets.
#[derive(Clone, Default, PartialEq)]
pub struct Credentials {
    /// (lowercased header name, values)
    pub header: Vec<(String, Vec<String>)>,
    pub query: Vec<(String, Vec<String>)>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let h: Vec<&str> = self.header.iter().map(|(n, _)| n.as_str()).collect();
        let q: Vec<&str> = self.query.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("Credentials").field("header", &h).field("query", &q).finish()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct PoolMember {
    pub backend_id: String,
    pub weight: u32,
    pub priority: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CircuitBreaker {
    pub failure_count: u32,
    pub interval: Duration,
    pub trip_duration: Duration,
    /// Inclusive status ranges counted as failures.
    pub status_code_ranges: Vec<(u16, u16)>,
    /// Gateway failure reasons (`BackendConnectionFailure`, `Timeout`) counted as failures;
    /// empty: connection failures and timeouts count.
    pub error_reasons: Vec<String>,
    /// Open for the backend's own `Retry-After` (when it sends one) instead of `tripDuration`.
    pub accept_retry_after: bool,
}

#[derive(Clone, PartialEq)]
pub struct Cache {
    pub id: String,
    pub connection_string: String,
}

impl fmt::Debug for Cache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Connection strings may embed passwords.
        f.debug_struct("Cache").field("id", &self.id).finish_non_exhaustive()
    }
}
