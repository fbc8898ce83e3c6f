//! Configuration reload from the local file: in-flight and idle keep-alive
//! connections across a change, in-place rewrites, and rejected documents.

mod common;

use common::*;
use std::time::Duration;

fn doc(rev: &str, b: &Backend, apis: &[&str]) -> String {
    let apis: Vec<String> = apis
        .iter()
        .map(|id| {
            format!(r#"{{"id":"{id}","path":"{id}","serviceUrl":"{}/be-{id}","subscriptionRequired":false}}"#, b.url())
        })
        .collect();
    format!(r#"{{"revision":"{rev}","apis":[{}]}}"#, apis.join(","))
}

#[test]
fn reload_keeps_in_flight_and_idle_connections() {
    let b = Backend::normal();
    let gw = Gateway::start(&doc("r1", &b, &["one"]), &[]);
    // idle keep-alive connection, used once under r1
    let mut idle = Conn::connect(gw.http_addr());
    let r = idle.get("/one/echo");
    assert_eq!(r.status, 200, "{r:?}");
    assert_error_shape(&idle.get("/two/echo"), 404);
    // in-flight slow request
    let mut slow = Conn::connect(gw.http_addr());
    slow.send_request("GET", "/one/slow/2500", &[], b"");
    wait_until("the slow request reaches the backend", Duration::from_secs(5), || {
        b.seen().iter().any(|s| s.target.contains("/slow/")).then_some(())
    });
    gw.write_config(&doc("r2", &b, &["one", "two"]));
    gw.wait_revision("r2");
    assert!(
        !slow.has_data(),
        "the slow response arrived before the reload was applied: the test did not exercise an in-flight reload"
    );
    let r = slow.read_response(false).unwrap();
    assert_eq!(r.status, 200, "in-flight request across the reload: {r:?}");
    assert_eq!(r.json()["path"], "/be-one/slow/2500");
    // the idle connection serves its next request under r2
    let r = idle.get("/two/echo");
    assert_eq!(r.status, 200, "idle keep-alive connection after reload: {r:?}");
    assert_eq!(r.json()["path"], "/be-two/echo");
    // and the slow connection too
    assert_eq!(slow.get("/two/x").status, 200);
    assert_eq!(gw.get("/two/y", &[]).status, 200);
}

#[test]
fn in_place_rewrite_is_noticed() {
    let b = Backend::normal();
    let gw = Gateway::start(&doc("r1", &b, &["one"]), &[]);
    assert_error_shape(&gw.get("/three/x", &[]), 404);
    gw.write_config_in_place(&doc("r3", &b, &["one", "three"]));
    gw.wait_revision("r3");
    let r = gw.get("/three/x", &[]);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json()["path"], "/be-three/x");
    // removing an API takes it away
    gw.write_config(&doc("r4", &b, &["three"]));
    gw.wait_revision("r4");
    assert_error_shape(&gw.get("/one/x", &[]), 404);
    assert_eq!(gw.get("/three/x", &[]).status, 200);
}

pub const INVALID: &str = r#"{"revision":"bad",
  "apis":[
    {"id":"x","path":"x","serviceUrl":"ftp://not-http.example"},
    {"id":"y","serviceUrl":"http://127.0.0.1:1"}
  ],
  "subscriptions":[{"id":"s","scope":"/apis","primaryKey":"k1234567890","state":5}]
}"#;

#[test]
fn invalid_document_is_rejected_and_old_revision_keeps_serving() {
    let b = Backend::normal();
    let gw = Gateway::start(&doc("r1", &b, &["one"]), &[]);
    gw.write_config(INVALID);
    let status = wait_until("/status lastError after an invalid document", Duration::from_secs(10), || {
        let s = gw.status();
        s["lastError"].as_str().is_some().then_some(s)
    });
    let err = status["lastError"].as_str().unwrap();
    for path in ["apis[0].serviceUrl", "apis[1].path", "subscriptions[0].state"] {
        assert!(err.contains(path), "lastError does not name {path}: {err}");
    }
    assert_eq!(status["revision"], "r1", "{status}");
    assert_eq!(status["applied"], true, "{status}");
    let r = gw.get("/one/x", &[]);
    assert_eq!(r.status, 200, "{r:?}");
    // a later valid document is taken, and clears the error
    gw.write_config(&doc("r5", &b, &["one", "five"]));
    gw.wait_revision("r5");
    assert_eq!(gw.get("/five/x", &[]).status, 200);
    let s = gw.status();
    assert!(s["lastError"].is_null(), "lastError not cleared after a good load: {s}");
    // not valid JSON at all: same
    gw.write_config("{\"revision\": \"r6\", \"apis\": [");
    wait_until("lastError after broken JSON", Duration::from_secs(10), || {
        gw.status()["lastError"].as_str().map(|_| ())
    });
    assert_eq!(gw.status()["revision"], "r5");
    assert_eq!(gw.get("/five/x", &[]).status, 200);
}
