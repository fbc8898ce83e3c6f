//! The control plane's calls: the two gateway calls (token-authenticated) and the admin API
//! (admin-key-authenticated). Pure request → response; the server does the I/O.

use std::time::SystemTime;

use serde_json::{json, Value};

use super::store::Store;
use crate::token;

pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

pub struct Response {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Response {
    fn json(status: u16, v: &Value) -> Response {
        Response {
            status,
            headers: vec![("content-type", "application/json".into())],
            body: serde_json::to_vec(v).unwrap_or_default(),
        }
    }

    fn error(status: u16, message: &str) -> Response {
        Response::json(status, &json!({"statusCode": status, "message": message}))
    }

    fn empty(status: u16) -> Response {
        Response { status, headers: Vec::new(), body: Vec::new() }
    }
}

/// Decides from the head alone whether the request is authenticated and where it goes, and
/// how large a body it may then send. `Err` is the answer (the body is never read).
pub fn authorize(
    store: &Store,
    admin_key: &str,
    req: &Request,
    limits: &super::server::Limits,
) -> Result<u64, Response> {
    let parts: Vec<&str> = req.path.trim_matches('/').split('/').collect();
    match (req.method.as_str(), parts.as_slice()) {
        ("GET", ["gateways", id, "configuration"]) | ("POST", ["gateways", id, "heartbeat"]) => {
            match gateway_auth(store, id, req) {
                None => Ok(limits.max_small_body),
                Some(refusal) => Err(refusal),
            }
        }
        (method, ["admin", rest @ ..]) => {
            if !admin_ok(admin_key, req) {
                return Err(Response::error(401, "a valid admin key is required (Authorization: Bearer <admin key>)"));
            }
            Ok(if method == "PUT" && rest == ["document"] { limits.max_document_bytes } else { limits.max_small_body })
        }
        _ => Err(Response::error(404, "Resource not found")),
    }
}

pub fn handle(store: &Store, admin_key: &str, req: &Request) -> Response {
    let parts: Vec<&str> = req.path.trim_matches('/').split('/').collect();
    match (req.method.as_str(), parts.as_slice()) {
        ("GET", ["gateways", id, "configuration"]) => {
            gateway_auth(store, id, req).unwrap_or_else(|| configuration(store, id, req))
        }
        ("POST", ["gateways", id, "heartbeat"]) => {
            gateway_auth(store, id, req).unwrap_or_else(|| heartbeat(store, id, req))
        }
        (_, ["admin", ..]) => {
            if !admin_ok(admin_key, req) {
                return Response::error(401, "a valid admin key is required (Authorization: Bearer <admin key>)");
            }
            admin(store, req, &parts[1..])
        }
        _ => Response::error(404, "Resource not found"),
    }
}

fn admin_ok(admin_key: &str, req: &Request) -> bool {
    use subtle::ConstantTimeEq;
    let Some(given) = req.header("authorization").and_then(|a| a.strip_prefix("Bearer ")) else { return false };
    bool::from(given.trim().as_bytes().ct_eq(admin_key.as_bytes()))
}

/// `None` when the token is good for this gateway; else the refusal.
fn gateway_auth(store: &Store, id: &str, req: &Request) -> Option<Response> {
    let Some(keys) = store.keys(id).filter(|_| store.document_for(id).is_some()) else {
        return Some(Response::error(404, "unknown gateway"));
    };
    let Some(auth) = req.header("authorization") else {
        return Some(Response::error(401, "missing GatewayKey token"));
    };
    let verdict =
        token::parse(auth).and_then(|t| token::verify(&t, id, &[&keys.primary, &keys.secondary], SystemTime::now()));
    match verdict {
        Ok(()) => None,
        Err(e) => Some(Response::error(401, &format!("token refused: {e}"))),
    }
}

fn configuration(store: &Store, id: &str, req: &Request) -> Response {
    let Some((body, revision)) = store.document_for(id) else { return Response::error(404, "unknown gateway") };
    let etag = format!("\"{revision}\"");
    if req.header("if-none-match").is_some_and(|v| v.split(',').any(|t| t.trim().trim_start_matches("W/") == etag)) {
        return Response { status: 304, headers: vec![("etag", etag)], body: Vec::new() };
    }
    Response {
        status: 200,
        headers: vec![("content-type", "application/json".into()), ("etag", etag)],
        body: (*body).clone(),
    }
}

fn heartbeat(store: &Store, id: &str, req: &Request) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
        return Response::error(400, "the heartbeat body must be JSON");
    };
    match store.record_heartbeat(id, body) {
        Ok(()) => Response::empty(204),
        Err(e) => Response::error(500, &e.to_string()),
    }
}

fn key_type(body: &[u8]) -> Result<(bool, Value), Response> {
    let v: Value = serde_json::from_slice(body).map_err(|_| Response::error(400, "the body must be JSON"))?;
    match v.get("keyType").and_then(Value::as_str) {
        Some("primary") => Ok((true, v)),
        Some("secondary") => Ok((false, v)),
        _ => Err(Response::error(400, "keyType must be \"primary\" or \"secondary\"")),
    }
}

fn admin(store: &Store, req: &Request, parts: &[&str]) -> Response {
    match (req.method.as_str(), parts) {
        ("GET", ["document"]) => match store.master() {
            Some(bytes) => {
                Response { status: 200, headers: vec![("content-type", "application/json".into())], body: bytes }
            }
            None => Response::error(404, "no document yet"),
        },
        ("PUT", ["document"]) => match store.put_master(req.body.clone()) {
            Ok(()) => Response::json(200, &json!({"gateways": store.gateways_view()})),
            Err(Ok(errors)) => Response::json(
                400,
                &json!({"statusCode": 400, "message": "the document was rejected; nothing changed", "errors": errors}),
            ),
            Err(Err(e)) => Response::error(500, &e.to_string()),
        },
        ("GET", ["gateways"]) => Response::json(200, &store.gateways_view()),
        ("POST", ["gateways", id, "token"]) => {
            let (primary, v) = match key_type(&req.body) {
                Ok(x) => x,
                Err(r) => return r,
            };
            let Some(keys) = store.keys(id) else { return Response::error(404, "unknown gateway") };
            let now = SystemTime::now();
            let expiry = match v.get("expiry").and_then(Value::as_str) {
                Some(e) => match token::parse_expiry(e, now) {
                    Ok(t) => t,
                    Err(e) => return Response::error(400, &e.to_string()),
                },
                None => now + token::MAX_LIFETIME,
            };
            let key = if primary { &keys.primary } else { &keys.secondary };
            match token::issue(id, key, expiry, now) {
                Ok(value) => Response::json(200, &json!({"value": value})),
                Err(e) => Response::error(400, &e.to_string()),
            }
        }
        ("POST", ["gateways", id, "keys", "regenerate"]) => {
            let (primary, _) = match key_type(&req.body) {
                Ok(x) => x,
                Err(r) => return r,
            };
            match store.regenerate(id, primary) {
                Ok(true) => Response::empty(204),
                Ok(false) => Response::error(404, "unknown gateway"),
                Err(e) => Response::error(500, &e.to_string()),
            }
        }
        _ => Response::error(404, "Resource not found"),
    }
}
