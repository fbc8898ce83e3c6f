//! Policy documents are checked whole: an unknown element or attribute, a malformed expression or one outside the supported subset
//! rejects the document with its position, and the running configuration stays.

mod common;

use common::gateway::run_cli;
use common::{wait_until, Backend, Gateway};
use std::time::Duration;

fn doc(rev: &str, backend: &Backend, policy: Option<&str>) -> String {
    let policy =
        policy.map(|p| format!(r#","policy":{}"#, serde_json::to_string(p).expect("json"))).unwrap_or_default();
    format!(
        r#"{{"revision":"{rev}","apis":[{{"id":"a","path":"a","serviceUrl":"{}","subscriptionRequired":false{policy}}}]}}"#,
        backend.url()
    )
}

#[test]
fn a_bad_policy_document_is_refused_whole_and_the_running_one_stays() {
    let backend = Backend::normal();
    let gw = Gateway::start(&doc("r1", &backend, None), &[]);
    // A misspelt attribute next to an ip-filter: the whole document is refused, nothing half-applied.
    let ip_filter = r#"<policies><inbound><base/><ip-filter action="forbid"><address>127.0.0.1</address></ip-filter><set-header name="X" exists-acton="override"><value>1</value></set-header></inbound><backend><base/></backend><outbound><base/></outbound><on-error><base/></on-error></policies>"#;
    gw.write_config(&doc("r2", &backend, Some(ip_filter)));
    let status = wait_until("the refusal in /status", Duration::from_secs(10), || {
        let s = gw.status();
        s["lastError"].as_str().is_some_and(|e| e.contains("exists-acton")).then_some(s)
    });
    assert_eq!(status["revision"], "r1", "the running configuration stays");
    assert_eq!(gw.get("/a/x", &[]).status, 200, "no ip-filter was half-applied");

    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("p.json");
    std::fs::write(&file, doc("r2", &backend, Some(ip_filter))).expect("write");
    let (code, out, _) = run_cli(&["validate", file.to_str().expect("path")]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("apis[0].policy:1:") && out.contains("exists-acton"), "{out}");
    // A valid document loads.
    let forward = r#"<policies><inbound><base/></inbound><backend><forward-request timeout="5"/></backend><outbound><base/></outbound><on-error><base/></on-error></policies>"#;
    std::fs::write(&file, doc("r3", &backend, Some(forward))).expect("write");
    let (code, out, _) = run_cli(&["validate", file.to_str().expect("path")]);
    assert_eq!(code, 0, "{out}");
    // A misspelt element is named with its position.
    std::fs::write(&file, doc("r4", &backend, Some("<policies><inbound><rate-limt/></inbound></policies>")))
        .expect("write");
    let (code, out, _) = run_cli(&["validate", file.to_str().expect("path")]);
    assert_eq!(code, 1);
    assert!(out.contains("apis[0].policy:1:") && out.contains("rate-limt"), "{out}");
    // Unknown attributes, malformed expressions and expressions outside the subset, with positions.
    let bad = [
        (
            r#"<policies><inbound><set-header name="X" exists-action="override" colour="red"><value>1</value></set-header></inbound></policies>"#,
            "colour",
        ),
        (
            r#"<policies><inbound><set-header name="X" exists-action="override"><value>@(context.Request.Headers[</value></set-header></inbound></policies>"#,
            "apis[0].policy:1:",
        ),
        (
            r#"<policies><inbound><set-header name="X" exists-action="override"><value>@(System.IO.File.ReadAllText("/etc/passwd"))</value></set-header></inbound></policies>"#,
            "not allowed in APIM policy expressions",
        ),
    ];
    for (policy, needle) in bad {
        std::fs::write(&file, doc("r5", &backend, Some(policy))).expect("write");
        let (code, out, _) = run_cli(&["validate", file.to_str().expect("path")]);
        assert_eq!(code, 1, "{policy}: {out}");
        assert!(out.contains("apis[0].policy:1:") && out.contains(needle), "{policy}: {out}");
    }
}
