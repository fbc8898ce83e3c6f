//! Test helpers: a fake request/response and a driver that runs a plan the way the proxy will
//! (inbound → backend → outbound, on-error on failure). Loading whole configuration documents
//! is the loader's business: see `config::policy_tests::documents`, which uses these.

use std::net::IpAddr;
use std::sync::Arc;

use super::expr::{compile_value, Value};
use super::runtime::*;
use super::xml::Src;
use super::Plan;

pub struct FakeReq {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
}

impl FakeReq {
    pub fn new(method: &str, target: &str) -> FakeReq {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        FakeReq { method: method.into(), path: path.into(), query: query.into(), headers: Vec::new() }
    }
    pub fn h(mut self, n: &str, v: &str) -> FakeReq {
        self.headers.push((n.to_ascii_lowercase(), v.into()));
        self
    }
}

impl RequestView for FakeReq {
    fn method(&self) -> &str {
        &self.method
    }
    fn scheme(&self) -> &str {
        "https"
    }
    fn host(&self) -> &str {
        "api.contoso.local"
    }
    fn port(&self) -> u16 {
        443
    }
    fn path(&self) -> &str {
        &self.path
    }
    fn query(&self) -> &str {
        &self.query
    }
    fn header(&self, n: &str) -> Option<&[u8]> {
        self.headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_bytes())
    }
    fn header_list(&self) -> Option<Vec<(&str, &[u8])>> {
        Some(self.headers.iter().map(|(k, v)| (k.as_str(), v.as_bytes())).collect())
    }
}

pub struct FakeResp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl FakeResp {
    pub fn new(status: u16, body: &str) -> FakeResp {
        FakeResp { status, headers: vec![("content-type".into(), "application/json".into())], body: body.into() }
    }
}

impl ResponseView for FakeResp {
    fn status(&self) -> u16 {
        self.status
    }
    fn reason(&self) -> &str {
        "OK"
    }
    fn header(&self, n: &str) -> Option<&[u8]> {
        self.headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_bytes())
    }
    fn header_list(&self) -> Option<Vec<(&str, &[u8])>> {
        Some(self.headers.iter().map(|(k, v)| (k.as_str(), v.as_bytes())).collect())
    }
}

pub fn info(ip: &str) -> RequestInfo<'static> {
    RequestInfo {
        api_id: "orders",
        api_name: "Orders",
        api_path: "orders",
        api_service_url: "http://backend:8080/api",
        api_version: "",
        operation: Some(OperationInfo {
            id: "get-order",
            name: "Get order",
            method: "GET",
            url_template: "/items/{id}",
        }),
        product: Some(("starter", "Starter")),
        subscription: Some(SubscriptionInfo {
            id: "sub1",
            name: "Sub One",
            key: "k1",
            primary_key: "k1",
            secondary_key: "k2",
        }),
        user_id: Some("u1"),
        gateway_id: "gw",
        region: "dc-west",
        service_name: "ringgate",
        request_id: "req-1",
        timestamp: "2024-01-01T00:00:00Z",
        client_ip: ip.parse::<IpAddr>().ok(),
        rest_start: 7,
    }
}

/// Evaluates a value as written (`@(…)`, `@{…}` or a literal) against a context.
pub fn eval_with(src: &str, ctx: &PolicyContext<'_>) -> Result<Value, String> {
    let d = compile_value(&Src::plain(src, 0)).map_err(|e| format!("compile: {} at {}", e.message, e.pos))?;
    d.eval(ctx).map_err(|e| format!("eval: {e}"))
}

/// What running a plan produced.
#[derive(Debug, Default)]
pub struct Result_ {
    pub response: Option<Response>,
    pub forwarded: u32,
    pub waits: u32,
    pub request_edits: RequestEdits,
    pub response_edits: ResponseEdits,
    pub error: Option<LastError>,
    pub variables: Vec<(Box<str>, Value)>,
}

impl Result_ {
    pub fn status(&self) -> u16 {
        self.response.as_ref().map_or_else(|| self.response_edits.status.as_ref().map_or(200, |s| s.0), |r| r.status)
    }
    pub fn body(&self) -> String {
        match &self.response {
            Some(r) => String::from_utf8_lossy(&r.body).into_owned(),
            None => String::from_utf8_lossy(self.response_edits.body.as_deref().unwrap_or(b"")).into_owned(),
        }
    }
    pub fn header(&self, n: &str) -> Option<String> {
        match &self.response {
            Some(r) => r.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(n)).map(|(_, v)| v.clone()),
            None => self.response_edits.headers.values(&n.to_ascii_lowercase()).next().map(str::to_string),
        }
    }
    pub fn req_header(&self, n: &str) -> Option<String> {
        self.request_edits.headers.values(&n.to_ascii_lowercase()).next().map(str::to_string)
    }
    pub fn var(&self, n: &str) -> Option<String> {
        self.variables.iter().find(|(k, _)| &**k == n).map(|(_, v)| v.to_text())
    }
}

/// Runs a plan like the proxy: inbound, backend (the fake backend answers `backend`),
/// outbound; on-error after a failure.
pub fn drive(plan: &Plan, req: &FakeReq, ip: &str, backend: &FakeResp, body: Option<&str>) -> Result_ {
    let mut ctx = PolicyContext::new(req, info(ip));
    ctx.matched = vec![("id", "42".into())];
    if let Some(b) = body {
        ctx.request_body = Some(Arc::from(b.as_bytes()));
    }
    drive_ctx(plan, &mut ctx, backend)
}

/// [`drive`] on a context the test prepared (limits, subscription, …).
pub fn drive_ctx<'a>(plan: &Plan, ctx: &mut PolicyContext<'a>, backend: &'a FakeResp) -> Result_ {
    let mut out = Result_::default();
    let mut failure: Option<LastError> = None;
    'sections: for section in [Section::Inbound, Section::Backend, Section::Outbound] {
        let mut run = Run::new(plan, section, ctx);
        loop {
            match run.next(plan, ctx) {
                Flow::Done => break,
                Flow::Respond(r) => {
                    out.response = Some(r);
                    break 'sections;
                }
                Flow::Forward(_) => {
                    out.forwarded += 1;
                    ctx.response = Some(ResponseState {
                        backend: Some(Box::new(backend)),
                        body: Some(Arc::from(&backend.body[..])),
                    });
                }
                Flow::Wait(_) => out.waits += 1,
                Flow::Error(e) => {
                    failure = Some(e);
                    break 'sections;
                }
            }
        }
    }
    if let Some(e) = failure {
        ctx.last_error = Some(e.clone());
        out.error = Some(e.clone());
        if ctx.response.is_none() {
            ctx.response = Some(ResponseState { backend: None, body: None });
        }
        let mut run = Run::new(plan, Section::OnError, ctx);
        loop {
            match run.next(plan, ctx) {
                Flow::Done => {
                    out.response = Some(ctx.error_response(&e));
                    break;
                }
                Flow::Respond(r) => {
                    out.response = Some(r);
                    break;
                }
                Flow::Forward(_) | Flow::Wait(_) => {}
                Flow::Error(e2) => {
                    out.response = Some(e2.default_response());
                    break;
                }
            }
        }
    }
    out.request_edits = ctx.request_edits.clone();
    out.response_edits = ctx.response_edits.clone();
    out.variables = ctx.variables.clone();
    out
}
