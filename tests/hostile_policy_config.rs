//! Hostile configuration against the policy loader, through `ringgate validate` and the real
//! gateway: named values (secrets) never appear in load errors or in gateway-made 500 bodies,
//! and expansion (fragments including fragments, a named value used many times) is budgeted
//! on the expanded size and refused with the offending document's path and the sizes.

mod common;

use std::time::{Duration, Instant};

use common::gateway::run_cli;
use common::{Backend, Gateway};
use serde_json::{json, Value};

const SECRET: &str = "Sup3r-S3cret-Named-Value-4242";

/// `ringgate validate` on `doc`: (exit code, output).
fn validate(doc: &Value) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    let started = Instant::now();
    let (code, out, err) = run_cli(&["validate", path.to_str().unwrap()]);
    assert!(started.elapsed() < Duration::from_secs(20), "validate took {:?}", started.elapsed());
    (code, format!("{out}{err}"))
}

fn with_policy(policy: &str, named: Value, fragments: Value) -> Value {
    json!({"revision": "h", "namedValues": named, "policyFragments": fragments,
           "apis": [{"id": "a", "path": "a", "serviceUrl": "http://127.0.0.1:9", "subscriptionRequired": false,
                     "policy": policy}]})
}

#[test]
fn named_values_never_appear_in_load_errors_and_positions_point_at_the_placeholder() {
    let named = json!({"secret": SECRET, "angle": format!("<{SECRET}"), "frag": SECRET});
    let cases = [
        // An attribute the policy quotes back when refusing it.
        "<policies><inbound><json-to-xml apply=\"{{secret}}\"/></inbound></policies>",
        r#"<policies><backend><forward-request timeout="{{secret}}"/></backend></policies>"#,
        // A value that breaks the XML around it.
        r#"<policies><inbound><set-header name="a" exists-action="override"><value>{{angle}}</value></set-header></inbound></policies>"#,
        // A fragment id taken from a named value (reported after fragments are resolved).
        r#"<policies><inbound><include-fragment fragment-id="{{frag}}"/></inbound></policies>"#,
        // Inside an expression.
        r#"<policies><inbound><set-variable name="v" value="@(&quot;{{secret}}&quot;.NoSuchMethod())"/></inbound></policies>"#,
        r#"<policies><inbound><set-variable name="v" value="@({{secret}})"/></inbound></policies>"#,
    ];
    for policy in cases {
        let (code, out) = validate(&with_policy(policy, named.clone(), json!({})));
        assert_ne!(code, 0, "{policy} was accepted: {out}");
        assert!(!out.contains(SECRET), "a named value leaked into the load error of {policy}:\n{out}");
        assert!(!out.contains(&SECRET[4..16]), "part of a named value leaked for {policy}:\n{out}");
        // The position is in the policy as written (not shifted by the value's length).
        let at: usize = out
            .split("apis[0].policy:1:")
            .nth(1)
            .and_then(|r| r.split(':').next()?.parse().ok())
            .unwrap_or_else(|| panic!("{policy}: no position in\n{out}"));
        assert!(at <= policy.len() - "</inbound></policies>".len(), "{policy}: column {at}\n{out}");
    }
    // A problem after a long value is still reported where the author wrote it.
    let policy =
        "<policies><inbound><set-variable name=\"v\" value=\"{{secret}}\"/>\n  <rate-limt/></inbound></policies>";
    let (_, out) = validate(&with_policy(policy, named, json!({})));
    assert!(out.contains("apis[0].policy:2:3: unknown policy element <rate-limt>"), "{out}");
}

#[test]
fn gateway_made_500_bodies_do_not_quote_named_values() {
    let b = Backend::normal();
    let policy = r#"<policies><inbound><set-backend-service base-url="@(&quot;not a url {{secret}}&quot;)"/></inbound>
        <backend><forward-request/></backend></policies>"#;
    let doc = json!({"revision": "h500", "namedValues": {"secret": SECRET},
        "apis": [{"id": "a", "path": "a", "serviceUrl": b.url(), "subscriptionRequired": false, "policy": policy}]});
    let gw = Gateway::start(&doc.to_string(), &["telemetry.logs.requests=true"]);
    let r = gw.get("/a/x", &[]);
    assert_eq!(r.status, 500, "{r:?}");
    let body = String::from_utf8_lossy(&r.body).into_owned();
    assert!(!body.contains(SECRET), "the 500 body quotes a named value: {body}");
    assert_eq!(r.json()["message"], "Internal server error", "{body}");
    assert!(!gw.log_text().contains(SECRET), "a named value reached the gateway's output");
}

/// `n` fragments, each including the previous one `times` times; `f0` is one policy.
fn laughs(n: usize, times: usize) -> Value {
    let mut frags = serde_json::Map::new();
    frags.insert(
        "f0".into(),
        json!("<fragment><set-header name=\"x\" exists-action=\"override\"><value>1</value></set-header></fragment>"),
    );
    for i in 1..n {
        let inc = format!("<include-fragment fragment-id=\"f{}\"/>", i - 1);
        frags.insert(format!("f{i}"), json!(format!("<fragment>{}</fragment>", inc.repeat(times))));
    }
    Value::Object(frags)
}

fn include(id: &str) -> String {
    format!("<policies><inbound><include-fragment fragment-id=\"{id}\"/></inbound></policies>")
}

#[test]
fn fragments_are_budgeted_on_their_expanded_size() {
    // A million-fold document (6 levels of 10), then the 10^10-fold one.
    for n in [7, 10] {
        let top = format!("f{}", n - 1);
        let (code, out) = validate(&with_policy(&include(&top), json!({}), laughs(n, 10)));
        assert_ne!(code, 0, "{n} levels accepted: {out}");
        assert!(out.contains("policyFragments.f"), "the offending fragment is named: {out}");
        assert!(out.contains("expands to") && out.contains("bytes"), "sizes are given: {out}");
        assert!(out.contains("apis[0].policy"), "the including document is named: {out}");
    }
    // Three levels of ten: a thousand policies, well within the budget.
    let (code, out) = validate(&with_policy(&include("f3"), json!({}), laughs(4, 10)));
    assert_eq!(code, 0, "{out}");
}

#[test]
fn one_fragment_included_a_thousand_times_is_budgeted() {
    let frag = format!("<fragment><set-variable name=\"v\" value=\"{}\"/></fragment>", "x".repeat(2000));
    let policy =
        format!("<policies><inbound>{}</inbound></policies>", "<include-fragment fragment-id=\"big\"/>".repeat(1000));
    let (code, out) = validate(&with_policy(&policy, json!({}), json!({"big": frag})));
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("apis[0].policy") && out.contains("expands to"), "{out}");
}

#[test]
fn a_named_value_used_many_times_is_budgeted_on_the_expanded_size() {
    let big = "v".repeat(10_000);
    let body = "<set-variable name=\"v\" value=\"{{big}}\"/>".repeat(1000);
    let policy = format!("<policies><inbound>{body}</inbound></policies>");
    let (code, out) = validate(&with_policy(&policy, json!({"big": big}), json!({})));
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("apis[0].policy") && out.contains("{{big}} is 10000 bytes"), "{out}");
    assert!(!out.contains(&big[..100]), "{out}");
    // Ten uses are fine.
    let body = "<set-variable name=\"v\" value=\"{{big}}\"/>".repeat(10);
    let policy = format!("<policies><inbound>{body}</inbound></policies>");
    let (code, out) = validate(&with_policy(&policy, json!({"big": "v".repeat(10_000)}), json!({})));
    assert_eq!(code, 0, "{out}");
}

#[test]
fn fragment_cycles_and_deep_chains_are_refused_with_their_path() {
    let cyc = json!({
        "ping": "<fragment><include-fragment fragment-id=\"pong\"/></fragment>",
        "pong": "<fragment><include-fragment fragment-id=\"ping\"/></fragment>"});
    let (code, out) = validate(&with_policy(&include("ping"), json!({}), cyc));
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("fragment cycle: ping -> pong -> ping"), "{out}");
    // A chain of 40 fragments: refused, never silently cut.
    let mut chain = serde_json::Map::new();
    chain.insert("c0".into(), json!("<fragment><set-header name=\"x\"><value>1</value></set-header></fragment>"));
    for i in 1..40 {
        chain.insert(
            format!("c{i}"),
            json!(format!("<fragment><include-fragment fragment-id=\"c{}\"/></fragment>", i - 1)),
        );
    }
    let (code, out) = validate(&with_policy(&include("c39"), json!({}), Value::Object(chain)));
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("policyFragments.c39") && out.contains("deeper than 16"), "{out}");
}

/// The global policy is repeated in every operation's plan: a large one times many
/// operations is refused at load instead of multiplying in memory.
#[test]
fn plans_multiplying_a_large_global_policy_are_refused() {
    let stmts = "<set-header name=\"x\" exists-action=\"override\"><value>1</value></set-header>".repeat(4000);
    let global = format!("<policies><inbound>{stmts}</inbound><backend><forward-request/></backend></policies>");
    let ops: Vec<Value> =
        (0..600).map(|i| json!({"id": format!("o{i}"), "method": "GET", "urlTemplate": format!("/o{i}")})).collect();
    let api_policy = "<policies><inbound><base/></inbound><backend><base/></backend></policies>";
    let doc = json!({"revision": "m", "policy": global,
        "apis": [{"id": "a", "path": "a", "serviceUrl": "http://127.0.0.1:9", "subscriptionRequired": false,
                  "policy": api_policy, "operations": ops}]});
    let (code, out) = validate(&doc);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("policy:1:1") && out.contains("more than 2000000 steps"), "{out}");
    // The same global policy with 20 operations is fine.
    let mut small = doc.clone();
    small["apis"][0]["operations"] = json!(ops[..20]);
    let (code, out) = validate(&small);
    assert_eq!(code, 0, "{out}");
}
