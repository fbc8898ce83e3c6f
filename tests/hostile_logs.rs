//! Hostile input against the logs: a subscription key sent under a query parameter name that
//! differs from the configured one only in case or percent-encoding must not reach the access
//! log, neither in `url` nor in `backendUrl` (the backend may see such a parameter: it is not
//! the gateway's key, but a backend that folds case would read it as one).

mod common;

use std::time::Duration;

use common::{wait_until, Backend, Gateway};

const KEY: &str = "hostile-logs-key-0123456789";
const CUSTOM: &str = "custom-key-9876543210-abc";

fn document(backend: &Backend) -> String {
    format!(
        r#"{{"revision":"h1","apis":[
        {{"id":"open","path":"open","serviceUrl":"{url}","subscriptionRequired":false}},
        {{"id":"keyed","path":"keyed","serviceUrl":"{url}",
          "subscriptionKeyParameterNames":{{"header":"x-api-key","query":"api-key"}}}}],
        "subscriptions":[{{"id":"s1","scope":"/apis","primaryKey":"{KEY}","secondaryKey":"{CUSTOM}","state":"active"}}]}}"#,
        url = backend.url()
    )
}

fn gateway_lines(gw: &Gateway) -> Vec<serde_json::Value> {
    gw.logs()
        .iter()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["category"] == "GatewayLogs")
        .collect()
}

#[test]
fn key_parameters_are_masked_whatever_their_case_or_encoding() {
    let backend = Backend::normal();
    let gw = Gateway::start(&document(&backend), &["telemetry.logs.requests=true"]);
    let names = [
        "subscription-key",
        "Subscription-Key",
        "SUBSCRIPTION-KEY",
        "subscription%2Dkey",
        "subscription%2dkey",
        "%73ubscription-key",
        "%2573ubscription-key",
    ];
    let mut sent = 0;
    for api in ["open", "keyed"] {
        for name in names {
            let r = gw.get(&format!("/{api}/p?a=1&{name}={KEY}&b=2"), &[]);
            assert!(r.status == 200 || r.status == 401, "{api} {name}: {r:?}");
            sent += 1;
        }
    }
    // The API's own key parameter name, in its variants, with the other key.
    for name in ["api-key", "API-KEY", "Api-Key", "api%2Dkey", "%61pi-key"] {
        let r = gw.get(&format!("/keyed/p?{name}={CUSTOM}&z=9"), &[]);
        assert!(r.status == 200 || r.status == 401, "{name}: {r:?}");
        sent += 1;
    }
    let lines = wait_until("every access-log line", Duration::from_secs(5), || {
        let l = gateway_lines(&gw);
        (l.len() >= sent).then_some(l)
    });
    // The open API forwarded the variants: the backend URL was logged, and masked.
    let forwarded = lines.iter().filter(|l| l["apiId"] == "open" && l["backendUrl"].is_string()).count();
    assert_eq!(forwarded, names.len(), "{lines:?}");
    for l in &lines {
        let url = l["url"].as_str().unwrap_or_default();
        assert!(url.contains("a=1") || url.contains("z=9"), "the rest of the query is kept: {l}");
    }
    let all = gw.log_text();
    assert!(!all.contains(KEY), "a subscription key leaked into the logs:\n{all}");
    assert!(!all.contains(CUSTOM), "a key under the API's parameter name leaked into the logs:\n{all}");
}
