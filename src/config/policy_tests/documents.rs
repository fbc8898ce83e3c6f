//! Whole configuration documents for the policy tests: a small document around the policies
//! under test, loaded through the real loader (`load_document`).

use crate::config::{load_document, Snapshot};

/// Loads a configuration document; panics with the problems when rejected.
pub fn load(doc: &serde_json::Value) -> Snapshot {
    let mut bytes = doc.to_string().into_bytes();
    match load_document(&mut bytes) {
        Ok(l) => l.snapshot,
        Err(e) => panic!("rejected:\n{e}"),
    }
}

pub fn load_err(doc: &serde_json::Value) -> Vec<String> {
    let mut bytes = doc.to_string().into_bytes();
    match load_document(&mut bytes) {
        Ok(_) => Vec::new(),
        Err(e) => e.problems.iter().map(ToString::to_string).collect(),
    }
}

/// A config with one API (`orders`, operation `GET /items/{id}`), product `starter`, and the
/// given policies (global, product, api, operation).
pub fn config(global: Option<&str>, product: Option<&str>, api: Option<&str>, op: Option<&str>) -> serde_json::Value {
    serde_json::json!({
        "policy": global,
        "backends": [{"id": "b1", "url": "http://b1:9000/x"}],
        "apis": [{"id": "orders", "path": "orders", "serviceUrl": "http://backend:8080/api", "policy": api,
                  "operations": [{"id": "get-order", "method": "GET", "urlTemplate": "/items/{id}", "policy": op},
                                 {"id": "opt", "method": "OPTIONS", "urlTemplate": "/opt"}]}],
        "products": [{"id": "starter", "apis": ["orders"], "policy": product}],
        "subscriptions": [{"id": "sub1", "scope": "/products/starter", "primaryKey": "k1"}]
    })
}
