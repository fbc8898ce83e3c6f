//! The API model shared by the configuration loader and the policy engine: APIs, operations,
//! products and backend URLs. It sits below both (it imports neither), so `config` builds
//! these types and `policy` reads them without the two importing each other.

mod api;
mod backend_url;

pub use api::{Api, ApiIdx, ApiType, OpIdx, Operation, Product, ProductIdx, Protocols, VersionScheme};
pub use backend_url::{parse_backend_url, parse_websocket_url, BackendUrl, Scheme};
