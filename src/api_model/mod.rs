//! The API model shared by the configuration loader, the policy engine and the TLS builders:
//! APIs, operations, products, backend URLs, and the document's TLS material (certificates,
//! hostnames, backend TLS settings). It sits below all three (it imports none), so `config`
//! builds these types and `policy` and `tls` read them without importing `config` back.

mod api;
mod backend_url;
mod tls;

pub use api::{Api, ApiIdx, ApiType, OpIdx, Operation, Product, ProductIdx, Protocols, VersionScheme};
pub use backend_url::{parse_backend_url, parse_websocket_url, BackendUrl, Scheme};
pub use tls::{BackendTls, Certificate, HostnameConfig};
