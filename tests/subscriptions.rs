//! Subscription admission as in APIM: header then query key, custom parameter
//! names, open and closed products, API and all-API scopes, states, secondary
//! keys, APIs that need no subscription. Keys never reach the logs.

mod common;

use common::*;

const ALPHA_PRIMARY: &str = "alpha-primary-key-5f1c2e9a7b";
const ALPHA_SECONDARY: &str = "alpha-secondary-key-8d3b6a0c4e";
const BETA_KEY: &str = "beta-primary-key-1a2b3c4d5e";
const ALL_KEY: &str = "all-apis-primary-key-9z8y7x6w";
const SUSPENDED_KEY: &str = "suspended-primary-key-0q9w8e7r";
const PRODUCT_KEY: &str = "closed-product-key-4t5y6u7i8o";
const CUSTOM_KEY: &str = "custom-param-key-3e4r5t6y7u";
const BOGUS_KEY: &str = "bogus-key-that-matches-nothing-00";
const ALL_KEYS: &[&str] =
    &[ALPHA_PRIMARY, ALPHA_SECONDARY, BETA_KEY, ALL_KEY, SUSPENDED_KEY, PRODUCT_KEY, CUSTOM_KEY, BOGUS_KEY];

fn config(b: &Backend) -> String {
    let u = b.url();
    format!(
        r#"{{
  "revision": "r1",
  "apis": [
    {{"id":"alpha","path":"alpha","serviceUrl":"{u}/be-alpha"}},
    {{"id":"beta","path":"beta","serviceUrl":"{u}/be-beta"}},
    {{"id":"custom","path":"custom","serviceUrl":"{u}/be-custom",
      "subscriptionKeyParameterNames":{{"header":"X-My-Key","query":"my-key"}}}},
    {{"id":"free","path":"free","serviceUrl":"{u}/be-free","subscriptionRequired":false}},
    {{"id":"popen","path":"popen","serviceUrl":"{u}/be-popen"}},
    {{"id":"pclosed","path":"pclosed","serviceUrl":"{u}/be-pclosed"}}
  ],
  "products": [
    {{"id":"open-product","subscriptionRequired":false,"apis":["popen"]}},
    {{"id":"closed-product","subscriptionRequired":true,"apis":["pclosed"]}}
  ],
  "subscriptions": [
    {{"id":"s-alpha","scope":"/apis/alpha","primaryKey":"{ALPHA_PRIMARY}","secondaryKey":"{ALPHA_SECONDARY}","state":"active"}},
    {{"id":"s-beta","scope":"/apis/beta","primaryKey":"{BETA_KEY}","state":"active"}},
    {{"id":"s-all","scope":"/apis","primaryKey":"{ALL_KEY}","state":"active"}},
    {{"id":"s-susp","scope":"/apis/alpha","primaryKey":"{SUSPENDED_KEY}","state":"suspended"}},
    {{"id":"s-prod","scope":"/products/closed-product","primaryKey":"{PRODUCT_KEY}","state":"active"}},
    {{"id":"s-custom","scope":"/apis/custom","primaryKey":"{CUSTOM_KEY}","state":"active"}}
  ]
}}"#
    )
}

const HDR: &str = "Ocp-Apim-Subscription-Key";

fn ok(r: &Response, prefix: &str) {
    assert_eq!(r.status, 200, "{r:?}");
    let p = r.json()["path"].as_str().unwrap().to_string();
    assert!(p.starts_with(prefix), "answered by {p}, expected {prefix}");
}

/// The gateway plus a count of the requests sent, to wait for their access-log lines.
struct Gw {
    gw: Gateway,
    sent: std::cell::Cell<usize>,
}

impl Gw {
    fn get(&self, target: &str, headers: &[(&str, &str)]) -> Response {
        self.sent.set(self.sent.get() + 1);
        self.gw.get(target, headers)
    }
    fn log_text(&self) -> String {
        self.gw.log_text()
    }
}

fn start(b: &Backend) -> Gw {
    let gw = Gateway::start(&config(b), &["telemetry.logs.std.level=all", "telemetry.logs.requests=true"]);
    Gw { gw, sent: std::cell::Cell::new(0) }
}

#[test]
fn header_and_query_keys() {
    let b = Backend::normal();
    let gw = start(&b);
    assert_error_shape(&gw.get("/alpha/x", &[]), 401);
    ok(&gw.get("/alpha/x", &[(HDR, ALPHA_PRIMARY)]), "/be-alpha/x");
    ok(&gw.get("/alpha/x", &[("ocp-apim-subscription-key", ALPHA_PRIMARY)]), "/be-alpha/x");
    ok(&gw.get("/alpha/x", &[(HDR, ALPHA_SECONDARY)]), "/be-alpha/x");
    ok(&gw.get(&format!("/alpha/x?subscription-key={ALPHA_PRIMARY}"), &[]), "/be-alpha/x");
    ok(&gw.get(&format!("/alpha/x?a=1&subscription-key={ALPHA_SECONDARY}"), &[]), "/be-alpha/x");
    assert_error_shape(&gw.get("/alpha/x", &[(HDR, BOGUS_KEY)]), 401);
    assert_error_shape(&gw.get(&format!("/alpha/x?subscription-key={BOGUS_KEY}"), &[]), 401);
    // the query parameter counts only when the header is absent
    assert_error_shape(&gw.get(&format!("/alpha/x?subscription-key={ALPHA_PRIMARY}"), &[(HDR, BOGUS_KEY)]), 401);
    ok(&gw.get(&format!("/alpha/x?subscription-key={BOGUS_KEY}"), &[(HDR, ALPHA_PRIMARY)]), "/be-alpha/x");
    // a real key (of another subscription) in the query while the header decides
    ok(&gw.get(&format!("/alpha/x?subscription-key={BETA_KEY}"), &[(HDR, ALPHA_PRIMARY)]), "/be-alpha/x");
    assert_eq!(b.requests(), 7, "only admitted calls reach the backend");
    assert_no_key_in_logs(&gw);
}

#[test]
fn custom_parameter_names() {
    let b = Backend::normal();
    let gw = start(&b);
    ok(&gw.get("/custom/x", &[("X-My-Key", CUSTOM_KEY)]), "/be-custom/x");
    ok(&gw.get(&format!("/custom/x?my-key={CUSTOM_KEY}"), &[]), "/be-custom/x");
    // the default names mean nothing for this API
    assert_error_shape(&gw.get("/custom/x", &[(HDR, CUSTOM_KEY)]), 401);
    assert_error_shape(&gw.get(&format!("/custom/x?subscription-key={CUSTOM_KEY}"), &[]), 401);
    assert_no_key_in_logs(&gw);
}

#[test]
fn scopes_states_and_products() {
    let b = Backend::normal();
    let gw = start(&b);
    // a key for another API
    assert_error_shape(&gw.get("/alpha/x", &[(HDR, BETA_KEY)]), 401);
    assert_error_shape(&gw.get("/beta/x", &[(HDR, ALPHA_PRIMARY)]), 401);
    ok(&gw.get("/beta/x", &[(HDR, BETA_KEY)]), "/be-beta/x");
    // all-API scope
    ok(&gw.get("/alpha/x", &[(HDR, ALL_KEY)]), "/be-alpha/x");
    ok(&gw.get("/beta/x", &[(HDR, ALL_KEY)]), "/be-beta/x");
    ok(&gw.get("/custom/x", &[("X-My-Key", ALL_KEY)]), "/be-custom/x");
    // suspended
    assert_error_shape(&gw.get("/alpha/x", &[(HDR, SUSPENDED_KEY)]), 401);
    // open product: no key needed
    ok(&gw.get("/popen/x", &[]), "/be-popen/x");
    // closed product: key needed, and the product key works only for its APIs
    assert_error_shape(&gw.get("/pclosed/x", &[]), 401);
    ok(&gw.get("/pclosed/x", &[(HDR, PRODUCT_KEY)]), "/be-pclosed/x");
    assert_error_shape(&gw.get("/alpha/x", &[(HDR, PRODUCT_KEY)]), 401);
    // subscriptionRequired:false
    ok(&gw.get("/free/x", &[]), "/be-free/x");
    assert_no_key_in_logs(&gw);
}

/// Assumption (APIM behaviour): the subscription key header and query
/// parameter are removed before the request goes to the backend.
#[test]
fn key_is_not_forwarded_to_backend() {
    let b = Backend::normal();
    let gw = start(&b);
    let r = gw.get(&format!("/alpha/x?a=1&subscription-key={ALPHA_PRIMARY}"), &[]);
    assert_eq!(r.status, 200, "{r:?}");
    let r2 = gw.get("/alpha/y", &[(HDR, ALPHA_PRIMARY)]);
    assert_eq!(r2.status, 200, "{r2:?}");
    for r in [r, r2] {
        assert!(!r.text().contains(ALPHA_PRIMARY), "backend received the key: {}", r.text());
    }
}

fn assert_no_key_in_logs(gw: &Gw) {
    // every request has its access-log line (category GatewayLogs) before we look
    let want = gw.sent.get();
    wait_until(&format!("{want} access-log lines"), std::time::Duration::from_secs(5), || {
        let n = gw
            .gw
            .logs()
            .iter()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["category"] == "GatewayLogs")
            .count();
        (n >= want).then_some(())
    });
    let logs = gw.log_text();
    assert!(!logs.is_empty());
    for k in ALL_KEYS {
        assert!(!logs.contains(k), "subscription key {k} appears in the gateway logs");
    }
}
