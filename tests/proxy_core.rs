//! The request lifecycle's shared behaviour, the same for the pass-through plan and for plans
//! with policies: a backend's early answer relayed while the client still uploads, gateway-made
//! errors carrying the request id, and the errors the gateway finds itself going through the
//! documents' on-error sections, as in APIM.

mod common;

use common::*;
use std::time::{Duration, Instant};

const FIFTY_MIB: u64 = 50 * 1024 * 1024;

const EARLY_401: &[u8] =
    b"HTTP/1.1 401 Unauthorized\r\nContent-Type: text/plain\r\nContent-Length: 12\r\nConnection: close\r\n\r\nupload nope\n";

fn apis(b: &Backend, policy: Option<&str>) -> String {
    let policy = policy.map(|p| format!(r#","policy":{}"#, serde_json::Value::String(p.into()))).unwrap_or_default();
    format!(
        r#"{{"revision":"r1","apis":[{{"id":"up","path":"up","serviceUrl":"{}/be","subscriptionRequired":false{policy}}}]}}"#,
        b.url()
    )
}

/// Sends a 50 MiB upload's head and its first MiB, then waits (writing nothing more) for the
/// answer: a gateway that holds the backend's answer until the body ends never gives one.
fn early_answer_while_uploading(gw: &Gateway) -> Response {
    let mut c = Conn::connect(gw.http_addr());
    c.set_read_timeout(Duration::from_secs(10));
    c.send(format!("POST /up/upload HTTP/1.1\r\nHost: x\r\nContent-Length: {FIFTY_MIB}\r\n\r\n").as_bytes()).unwrap();
    let mut chunk = vec![0u8; 1 << 20];
    fill_pattern(0, &mut chunk);
    c.send(&chunk).unwrap();
    let started = Instant::now();
    c.read_response(false)
        .unwrap_or_else(|e| panic!("no answer {:?} after the first MiB of the upload: {e}", started.elapsed()))
}

#[test]
fn a_backends_early_401_reaches_a_client_still_uploading_on_both_plan_kinds() {
    let b = Backend::start(BackendMode::EarlyReply(EARLY_401));
    for policy in [
        None,
        Some(
            r#"<policies><inbound><set-header name="x-p" exists-action="override"><value>1</value></set-header></inbound><backend><forward-request/></backend><outbound/><on-error/></policies>"#,
        ),
    ] {
        let gw = Gateway::start(&apis(&b, policy), &[]);
        let r = early_answer_while_uploading(&gw);
        assert_eq!(r.status, 401, "policy={policy:?}: {r:?}");
        assert_eq!(r.header("connection"), Some("close"), "the rest of the upload is not read: the connection ends");
        assert!(r.header("x-request-id").is_some(), "{r:?}");
    }
}

#[test]
fn a_gateway_made_502_carries_the_request_id_on_both_plan_kinds() {
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = dead.local_addr().unwrap().port();
    drop(dead); // nothing listens there now
    let policy = r#"<policies><inbound><set-header name="x-p" exists-action="override"><value>1</value></set-header></inbound><backend><forward-request/></backend><outbound/><on-error/></policies>"#;
    let doc = format!(
        r#"{{"revision":"r1","apis":[
          {{"id":"plain","path":"plain","serviceUrl":"http://127.0.0.1:{port}/x","subscriptionRequired":false}},
          {{"id":"pol","path":"pol","serviceUrl":"http://127.0.0.1:{port}/x","subscriptionRequired":false,"policy":{}}}]}}"#,
        serde_json::Value::String(policy.into())
    );
    let gw = Gateway::start(&doc, &[]);
    for path in ["/plain/a", "/pol/a"] {
        let r = gw.get(path, &[]);
        assert_eq!(r.status, 502, "{path}: {r:?}");
        let id = r.header("x-request-id").unwrap_or_else(|| panic!("{path}: no x-request-id on the 502: {r:?}"));
        assert_eq!(id.len(), 36, "{path}: a UUID: {id}");
        assert_eq!(r.json()["statusCode"], 502, "{path}");
    }
}

#[test]
fn api_on_error_turns_operation_not_found_into_a_405() {
    let b = Backend::normal();
    let policy = r#"<policies><inbound><base/></inbound><backend><base/></backend><outbound><base/></outbound>
      <on-error><base/><choose><when condition="@(context.LastError.Reason == &quot;OperationNotFound&quot;)">
        <return-response><set-status code="405" reason="Method Not Allowed"/><set-header name="Allow" exists-action="override"><value>GET</value></set-header>
          <set-body>@("{\"error\":\"" + context.LastError.Source + "/" + context.LastError.Reason + "\"}")</set-body></return-response>
      </when></choose></on-error></policies>"#;
    let doc = format!(
        r#"{{"revision":"r1","apis":[{{"id":"ops","path":"ops","serviceUrl":"{}/be","subscriptionRequired":false,
          "operations":[{{"id":"get-item","method":"GET","urlTemplate":"/items/{{id}}"}}],"policy":{}}}]}}"#,
        b.url(),
        serde_json::Value::String(policy.into())
    );
    let gw = Gateway::start(&doc, &[]);
    let r = Conn::connect(gw.http_addr()).request("DELETE", "/ops/items/1", &[("Host", "x")], b"");
    assert_eq!(r.status, 405, "{r:?}");
    assert_eq!(r.header("allow"), Some("GET"));
    assert_eq!(r.json()["error"], "configuration/OperationNotFound", "{}", r.text());
    assert!(r.header("x-request-id").is_some());
    assert_eq!(gw.get("/ops/items/1", &[]).status, 200, "a matching operation still goes through");
    assert_eq!(b.requests(), 1);
}

#[test]
fn global_on_error_shapes_a_missing_subscription_key() {
    let b = Backend::normal();
    let global = r#"<policies><inbound/><backend><forward-request/></backend><outbound/>
      <on-error><choose><when condition="@(context.LastError.Reason == &quot;SubscriptionKeyNotFound&quot;)">
        <return-response><set-status code="401" reason="Unauthorized"/><set-header name="WWW-Authenticate" exists-action="override"><value>ApiKey header="Ocp-Apim-Subscription-Key"</value></set-header>
          <set-body>@("key missing for " + context.Api.Name)</set-body></return-response>
      </when></choose></on-error></policies>"#;
    let doc = format!(
        r#"{{"revision":"r1","policy":{},"apis":[{{"id":"keyed","name":"Keyed API","path":"keyed","serviceUrl":"{}/be"}}],
          "subscriptions":[{{"id":"s","scope":"/apis","primaryKey":"global-onerror-key-1234567","state":"active"}}]}}"#,
        serde_json::Value::String(global.into()),
        b.url()
    );
    let gw = Gateway::start(&doc, &[]);
    let r = gw.get("/keyed/x", &[]);
    assert_eq!(r.status, 401, "{r:?}");
    assert_eq!(r.header("www-authenticate"), Some(r#"ApiKey header="Ocp-Apim-Subscription-Key""#));
    assert_eq!(r.text(), "key missing for Keyed API");
    let ok = gw.get("/keyed/x", &[("Ocp-Apim-Subscription-Key", "global-onerror-key-1234567")]);
    assert_eq!(ok.status, 200, "{ok:?}");
    assert_eq!(b.requests(), 1);
}

#[test]
fn debug_level_traces_a_connection_and_its_requests_in_spans() {
    let b = Backend::normal();
    let gw = Gateway::start(&apis(&b, None), &["telemetry.logs.std.level=debug"]);
    let r = gw.get("/up/echo", &[]);
    assert_eq!(r.status, 200);
    let id = r.header("x-request-id").expect("x-request-id").to_string();
    let r = gw.get("/nope", &[]);
    assert_eq!(r.status, 404);
    let id404 = r.header("x-request-id").expect("x-request-id on a 404").to_string();
    // JSON logs: the event carries its spans, outermost first.
    let deadline = Instant::now() + Duration::from_secs(10);
    let event = loop {
        let found = gw.logs().iter().filter_map(|l| common::gateway::json_line(l)).find(|v| {
            v["spans"].as_array().is_some_and(|s| s.iter().any(|s| s["name"] == "request" && s["id"] == id404.as_str()))
        });
        if let Some(v) = found {
            break v;
        }
        assert!(Instant::now() < deadline, "no request span for {id404} (the 200 was {id}) in:\n{}", gw.log_text());
        std::thread::sleep(Duration::from_millis(20));
    };
    let spans = event["spans"].as_array().unwrap();
    assert_eq!(spans[0]["name"], "connection", "the request span sits in its connection's: {event}");
    assert_eq!(spans[1]["method"], "GET", "{event}");
}
