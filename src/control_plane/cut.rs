//! The document each gateway receives: the master cut down to the gateway's APIs, the products
//! and subscriptions that reach them, and its own `gateway` entry. Its revision is a hash of the
//! cut, so it changes only when that gateway's cut changes.

use std::collections::BTreeSet;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// One entry of the master's `gateways`.
#[derive(Clone, Debug)]
pub struct GatewayEntry {
    pub id: String,
    pub location: Option<String>,
    pub description: Option<String>,
    pub apis: Vec<String>,
    pub hostnames: Value,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MasterError {
    #[error("$: the document must be a JSON object")]
    NotAnObject,
    #[error("gateways: expected an array of gateway entries")]
    Gateways,
    #[error("gateways[{0}].id: required, a non-empty string without '&' or whitespace")]
    GatewayId(usize),
    #[error("gateways[{0}].id: '{1}' appears twice")]
    Duplicate(usize, String),
    #[error("gateways[{0}].apis[{1}]: unknown API '{2}'")]
    UnknownApi(usize, usize, String),
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

/// The gateway entries of a master document, checked against its APIs.
pub fn gateways(master: &Value) -> Result<Vec<GatewayEntry>, Vec<MasterError>> {
    let Some(obj) = master.as_object() else { return Err(vec![MasterError::NotAnObject]) };
    let api_ids: BTreeSet<String> = obj
        .get("apis")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|x| text(x, "id")).collect())
        .unwrap_or_default();
    let list = match obj.get("gateways") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(a)) => a,
        Some(_) => return Err(vec![MasterError::Gateways]),
    };
    let mut errors = Vec::new();
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, g) in list.iter().enumerate() {
        let id = text(g, "id").filter(|s| !s.is_empty() && !s.contains('&') && !s.contains(char::is_whitespace));
        let Some(id) = id else {
            errors.push(MasterError::GatewayId(i));
            continue;
        };
        if !seen.insert(id.clone()) {
            errors.push(MasterError::Duplicate(i, id.clone()));
        }
        let mut apis = Vec::new();
        for (j, a) in g.get("apis").and_then(Value::as_array).into_iter().flatten().enumerate() {
            let a = a.as_str().unwrap_or_default().to_string();
            if !api_ids.contains(&a) {
                errors.push(MasterError::UnknownApi(i, j, a.clone()));
            }
            apis.push(a);
        }
        out.push(GatewayEntry {
            id,
            location: text(g, "location"),
            description: text(g, "description"),
            apis,
            hostnames: g.get("hostnames").cloned().unwrap_or(Value::Array(Vec::new())),
        });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// The document for `gw` and its revision (`g-` + 16 hex digits of SHA-256 over the cut).
pub fn cut(master: &Value, gw: &GatewayEntry) -> (Value, String) {
    let mut doc: Map<String, Value> = master.as_object().cloned().unwrap_or_default();
    doc.remove("gateways");
    doc.remove("revision");
    let assigned: BTreeSet<&str> = gw.apis.iter().map(String::as_str).collect();
    let keep_api = |a: &Value| a.get("id").and_then(Value::as_str).is_some_and(|id| assigned.contains(id));
    if let Some(Value::Array(apis)) = doc.get_mut("apis") {
        apis.retain(keep_api);
    }
    let mut kept_products = BTreeSet::new();
    if let Some(Value::Array(products)) = doc.get_mut("products") {
        for p in products.iter_mut() {
            if let Some(Value::Array(list)) = p.get_mut("apis") {
                list.retain(|a| a.as_str().is_some_and(|id| assigned.contains(id)));
            }
        }
        products.retain(|p| p.get("apis").and_then(Value::as_array).is_some_and(|l| !l.is_empty()));
        kept_products = products.iter().filter_map(|p| text(p, "id")).collect();
    }
    if let Some(Value::Array(subs)) = doc.get_mut("subscriptions") {
        subs.retain(|s| match s.get("scope").and_then(Value::as_str).map(|x| x.trim_end_matches('/')) {
            Some("/apis") => true,
            Some(scope) => match (scope.strip_prefix("/apis/"), scope.strip_prefix("/products/")) {
                (Some(api), _) => assigned.contains(api),
                (_, Some(product)) => kept_products.contains(product),
                _ => false,
            },
            None => false,
        });
    }
    let mut entry = Map::new();
    entry.insert("id".into(), Value::String(gw.id.clone()));
    if let Some(l) = &gw.location {
        entry.insert("location".into(), Value::String(l.clone()));
    }
    entry.insert("hostnames".into(), gw.hostnames.clone());
    doc.insert("gateway".into(), Value::Object(entry));
    // serde_json's map is ordered by key, so this text is canonical for the content.
    let canonical = serde_json::to_vec(&doc).unwrap_or_default();
    let digest = Sha256::digest(&canonical);
    let revision = format!("g-{}", digest.iter().take(8).map(|b| format!("{b:02x}")).collect::<String>());
    doc.insert("revision".into(), Value::String(revision.clone()));
    (Value::Object(doc), revision)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn master() -> Value {
        json!({
            "apis": [{"id": "a", "path": "a"}, {"id": "b", "path": "b"}],
            "products": [{"id": "pa", "apis": ["a"]}, {"id": "pab", "apis": ["a", "b"]}, {"id": "pb", "apis": ["b"]}],
            "subscriptions": [
                {"id": "all", "scope": "/apis"}, {"id": "sa", "scope": "/apis/a"}, {"id": "sb", "scope": "/apis/b"},
                {"id": "spa", "scope": "/products/pa"}, {"id": "spb", "scope": "/products/pb"}
            ],
            "namedValues": {"x": "y"},
            "gateways": [{"id": "g1", "apis": ["a"], "location": "west"}, {"id": "g2", "apis": ["b"]}]
        })
    }

    #[test]
    fn cuts_to_the_assigned_apis() {
        let m = master();
        let gws = gateways(&m).expect("valid");
        let (doc, rev) = cut(&m, &gws[0]);
        let ids = |k: &str| -> Vec<String> {
            doc[k].as_array().expect("array").iter().map(|v| v["id"].as_str().unwrap_or("").to_string()).collect()
        };
        assert_eq!(ids("apis"), ["a"]);
        assert_eq!(ids("products"), ["pa", "pab"]);
        assert_eq!(doc["products"][1]["apis"], json!(["a"]));
        assert_eq!(ids("subscriptions"), ["all", "sa", "spa"]);
        assert_eq!(doc["gateway"]["id"], "g1");
        assert_eq!(doc["namedValues"]["x"], "y");
        assert_eq!(doc["revision"], rev.as_str());
        assert!(doc.get("gateways").is_none());
    }

    #[test]
    fn revision_moves_only_with_the_gateways_cut() {
        let mut m = master();
        let gws = gateways(&m).expect("valid");
        let (_, r1) = cut(&m, &gws[0]);
        m["apis"][1]["path"] = json!("b2"); // only g2's API changes
        let (_, r1b) = cut(&m, &gateways(&m).expect("valid")[0]);
        assert_eq!(r1, r1b);
        m["apis"][0]["path"] = json!("a2");
        let (_, r1c) = cut(&m, &gateways(&m).expect("valid")[0]);
        assert_ne!(r1, r1c);
    }

    #[test]
    fn unknown_apis_and_duplicates_are_named() {
        let m = json!({"apis": [], "gateways": [{"id": "g", "apis": ["nope"]}, {"id": "g"}]});
        let errs = gateways(&m).expect_err("invalid");
        assert!(errs.contains(&MasterError::UnknownApi(0, 0, "nope".into())));
        assert!(errs.contains(&MasterError::Duplicate(1, "g".into())));
    }
}
