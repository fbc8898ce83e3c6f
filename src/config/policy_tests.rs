//! Engine tests: loading through the real configuration compiler, scope merge, each policy on
//! a fake context, fragments, positions, and robustness against arbitrary input.

mod client_certificate;
mod corpus;
mod documents;
mod fuzz;
mod limits;
mod validate_jwt;

use crate::config::Snapshot;
use crate::policy::testkit::*;
use crate::policy::{BackendTarget, DocKind, Plan};
use documents::{config, load, load_err};

fn op_plan(s: &Snapshot, product: Option<u32>) -> &Plan {
    s.policy_plans.get(0, Some(0), product)
}

fn run(policy_op: &str, req: FakeReq) -> Result_ {
    let s = load(&config(None, None, None, Some(policy_op)));
    drive(op_plan(&s, None), &req, "10.0.0.1", &FakeResp::new(200, "{\"ok\":true}"), None)
}

fn get() -> FakeReq {
    FakeReq::new("GET", "/orders/items/42?a=1")
}

#[test]
fn default_plan_is_passthrough() {
    let s = load(&config(None, None, None, None));
    let p = op_plan(&s, None);
    assert!(p.is_passthrough() && !p.needs_request_body() && !p.needs_response_body());
    let r = drive(p, &get(), "1.1.1.1", &FakeResp::new(200, ""), None);
    assert_eq!(r.forwarded, 1);
}

#[test]
fn scope_merge_with_and_without_base() {
    let g = r#"<policies><inbound><set-header name="x-order" exists-action="append"><value>global</value></set-header></inbound></policies>"#;
    let pr = r#"<policies><inbound><base/><set-header name="x-order" exists-action="append"><value>product</value></set-header></inbound></policies>"#;
    let api = r#"<policies><inbound><base/><set-header name="x-order" exists-action="append"><value>api</value></set-header></inbound></policies>"#;
    let op = r#"<policies><inbound><set-header name="x-order" exists-action="append"><value>op</value></set-header><base/></inbound></policies>"#;
    let s = load(&config(Some(g), Some(pr), Some(api), Some(op)));
    let vals = |p: &Plan| {
        let r = drive(p, &get(), "1.1.1.1", &FakeResp::new(200, ""), None);
        assert_eq!(r.forwarded, 1, "absent backend sections inherit the global forward-request");
        r.request_edits.headers.values("x-order").map(str::to_string).collect::<Vec<_>>()
    };
    assert_eq!(vals(op_plan(&s, Some(0))), ["op", "global", "product", "api"]);
    assert_eq!(vals(op_plan(&s, None)), ["op", "global", "api"], "product policies only in a product context");
    // Without <base/> nothing is inherited.
    let op2 = r#"<policies><inbound><set-header name="x-order" exists-action="append"><value>op</value></set-header></inbound><backend/></policies>"#;
    let s = load(&config(Some(g), Some(pr), Some(api), Some(op2)));
    let r = drive(op_plan(&s, Some(0)), &get(), "1.1.1.1", &FakeResp::new(200, ""), None);
    assert_eq!(r.request_edits.headers.values("x-order").collect::<Vec<_>>(), ["op"]);
    assert_eq!(r.forwarded, 0, "an empty <backend/> without <base/> forwards nothing");
    // <base/> at global scope is nothing.
    let s = load(&config(Some("<policies><inbound><base/></inbound></policies>"), None, None, None));
    assert!(s.policy_plans.global.is_passthrough());
}

#[test]
fn positions_in_errors() {
    let bad = |op: &str| load_err(&config(None, None, None, Some(op)));
    let p = bad("<policies>\n  <inbound>\n    <rate-limt calls=\"1\"/>\n  </inbound>\n</policies>");
    assert_eq!(p, ["apis[0].operations[0].policy:3:5: unknown policy element <rate-limt>"]);
    let p = bad("<policies>\n <inbound>\n  <set-header name=\"a\" bogus=\"1\"/>\n </inbound>\n</policies>");
    assert_eq!(p, ["apis[0].operations[0].policy:3:24: unknown attribute 'bogus' on <set-header>"]);
    // Raw APIM form: the expression error points into the expression as written.
    let p = bad("<policies>\n<inbound>\n<set-variable name=\"v\" value=\"@(context.Request.Headers.GetValueOrDefault(\"a\", \"\") + )\" />\n</inbound>\n</policies>");
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(p[0].starts_with("apis[0].operations[0].policy:3:"), "{p:?}");
    assert!(p[0].contains("expected an expression"), "{p:?}");
    let col: usize = p[0].split(':').nth(2).unwrap().parse().unwrap();
    assert_eq!(col, 86, "{p:?}");
    // A construct outside the subset.
    let p =
        bad("<policies><inbound><set-variable name=\"v\" value=\"@(new Random(42).Next())\"/></inbound></policies>");
    assert_eq!(
        p,
        ["apis[0].operations[0].policy:1:52: policy expression: new Random(seed) is refused by ringgate: .NET's seeded sequence cannot be reproduced (use new Random() without a seed)"]
    );
    let p = bad("<policies><inbound><validate-content/></inbound></policies>");
    assert_eq!(p, ["apis[0].operations[0].policy:1:20: policy <validate-content> is not supported yet"]);
    let p = bad("<policies><outbound><forward-request/></outbound></policies>");
    assert!(p[0].contains("<forward-request> is not allowed in <outbound>"), "{p:?}");
    let p = bad("<policies><on-error><set-body>x</set-body></on-error></policies>");
    assert!(p[0].contains("not allowed in <on-error>"), "{p:?}");
    let p = bad("<policies><inbound><set-body template=\"liquid\">{{body}}</set-body></inbound></policies>");
    assert!(p[0].contains("liquid"), "{p:?}");
}

#[test]
fn fragments_and_cycles() {
    let mut doc = config(
        None,
        None,
        None,
        Some(r#"<policies><inbound><include-fragment fragment-id="outer"/></inbound></policies>"#),
    );
    doc["policyFragments"] = serde_json::json!({
        "outer": "<fragment><set-header name=\"x-f\"><value>outer</value></set-header><include-fragment fragment-id=\"inner\"/></fragment>",
        "inner": "<fragment><set-variable name=\"inner\" value=\"yes\"/></fragment>"
    });
    let s = load(&doc);
    let r = drive(op_plan(&s, None), &get(), "1.1.1.1", &FakeResp::new(200, ""), None);
    assert_eq!(r.req_header("x-f").as_deref(), Some("outer"));
    assert_eq!(r.var("inner").as_deref(), Some("yes"));

    doc["policyFragments"] = serde_json::json!({
        "outer": "<fragment><include-fragment fragment-id=\"inner\"/></fragment>",
        "inner": "<fragment>\n  <include-fragment fragment-id=\"outer\"/></fragment>"
    });
    let p = load_err(&doc);
    assert_eq!(p, ["policyFragments.outer:1:11: fragment cycle: inner -> outer -> inner"]);
    doc["policyFragments"] = serde_json::json!({"outer": "<fragment><forward-request/></fragment>"});
    let p = load_err(&doc);
    assert!(p.iter().any(|m| m.contains("fragment 'outer' contains <forward-request>")), "{p:?}");
    doc["policyFragments"] = serde_json::json!({});
    assert!(load_err(&doc)[0].contains("unknown policy fragment 'outer'"));
}

#[test]
fn choose_paths_and_on_error() {
    let op = r#"<policies>
  <inbound>
    <choose>
      <when condition="@(context.Request.Headers.GetValueOrDefault("x-mode","") == "a")"><set-variable name="m" value="a"/></when>
      <when condition="@(context.Request.Headers.GetValueOrDefault("x-mode","") == "b")">
        <set-variable name="m" value="@(context.Variables["nope"])" id="bad"/>
      </when>
      <otherwise><set-variable name="m" value="other"/></otherwise>
    </choose>
  </inbound>
  <on-error>
    <return-response>
      <set-status code="418" reason="Teapot"/>
      <set-body>@($"{context.LastError.Source}|{context.LastError.Reason}|{context.LastError.Path}|{context.LastError.PolicyId}|{context.LastError.Scope}|{context.LastError.Section}")</set-body>
    </return-response>
  </on-error>
</policies>"#;
    assert_eq!(run(op, get().h("x-mode", "a")).var("m").as_deref(), Some("a"));
    assert_eq!(run(op, get()).var("m").as_deref(), Some("other"));
    let r = run(op, get().h("x-mode", "b"));
    assert_eq!(r.status(), 418);
    assert_eq!(
        r.body(),
        "set-variable|ExpressionValueEvaluationFailure|choose[1]/when[2]/set-variable[1]|bad|operation|inbound"
    );
}

#[test]
fn check_header_and_ip_filter() {
    let ch = r#"<policies><inbound><check-header name="X-Key" failed-check-httpcode="401" failed-check-error-message="Missing or bad key" ignore-case="true"><value>alpha</value><value>beta</value></check-header></inbound></policies>"#;
    assert_eq!(run(ch, get().h("x-key", "BETA")).forwarded, 1);
    let r = run(ch, get().h("x-key", "gamma"));
    assert_eq!((r.status(), r.error.unwrap().reason.as_str()), (401, "HeaderValueNotAllowed"));
    let r = run(ch, get());
    assert_eq!(r.error.as_ref().unwrap().reason, "HeaderNotFound");
    assert_eq!(r.body(), r#"{"statusCode":401,"message":"Missing or bad key"}"#);

    let ipf = r#"<policies><inbound><ip-filter action="allow"><address>10.0.0.1</address><address-range from="192.168.1.0" to="192.168.1.255"/><address-range from="2001:db8::" to="2001:db8::ffff"/></ip-filter></inbound></policies>"#;
    let s = load(&config(None, None, None, Some(ipf)));
    let p = op_plan(&s, None);
    let at = |ip: &str| drive(p, &get(), ip, &FakeResp::new(200, ""), None);
    assert_eq!(at("10.0.0.1").forwarded, 1);
    assert_eq!(at("192.168.1.77").forwarded, 1);
    assert_eq!(at("::ffff:192.168.1.5").forwarded, 1);
    assert_eq!(at("2001:db8::1").forwarded, 1);
    let r = at("10.0.0.2");
    assert_eq!((r.status(), r.error.unwrap().reason.as_str()), (403, "CallerIpNotAllowed"));
    let forbid =
        r#"<policies><inbound><ip-filter action="forbid"><address>10.0.0.1</address></ip-filter></inbound></policies>"#;
    assert_eq!(run(forbid, get()).error.unwrap().reason, "CallerIpBlocked");
    assert!(load_err(&config(None, None, None, Some(r#"<policies><inbound><ip-filter action="allow"><address>10.0.0.300</address></ip-filter></inbound></policies>"#)))[0].contains("not an IP address"));
}

#[test]
fn cors_preflight_and_simple() {
    let c = r#"<policies><inbound><check-header name="x-key" failed-check-httpcode="401" ignore-case="true"/><cors allow-credentials="true"><allowed-origins><origin>https://app.contoso.com</origin></allowed-origins><allowed-methods preflight-result-max-age="300"><method>GET</method><method>PUT</method></allowed-methods><allowed-headers><header>content-type</header></allowed-headers><expose-headers><header>x-total</header></expose-headers></cors></inbound></policies>"#;
    let pre = FakeReq::new("OPTIONS", "/orders/items/42")
        .h("origin", "https://app.contoso.com")
        .h("access-control-request-method", "PUT")
        .h("access-control-request-headers", "Content-Type");
    let r = run(c, pre);
    assert_eq!(r.status(), 200, "only cors runs for the preflight, check-header is skipped");
    assert_eq!(r.header("access-control-allow-origin").as_deref(), Some("https://app.contoso.com"));
    assert_eq!(r.header("access-control-allow-methods").as_deref(), Some("GET,PUT"));
    assert_eq!(r.header("access-control-max-age").as_deref(), Some("300"));
    let r = run(c, get().h("origin", "https://app.contoso.com").h("x-key", "1"));
    assert_eq!(r.forwarded, 1);
    assert_eq!(r.header("access-control-allow-credentials").as_deref(), Some("true"));
    assert_eq!(r.header("access-control-expose-headers").as_deref(), Some("x-total"));
    let r = run(
        c,
        FakeReq::new("OPTIONS", "/orders/items/42")
            .h("origin", "https://evil.com")
            .h("access-control-request-method", "PUT"),
    );
    assert_eq!((r.status(), r.header("access-control-allow-origin")), (200, None));
    assert!(load_err(&config(None, None, None, Some(r#"<policies><inbound><cors allow-credentials="true"><allowed-origins><origin>*</origin></allowed-origins></cors></inbound></policies>"#)))[0].contains("cannot be combined"));
}

#[test]
fn routing_and_transformation_policies() {
    let op = r#"<policies>
  <inbound>
    <set-backend-service base-url="https://other:8443/v2"/>
    <rewrite-uri template="/products/{id}/detail?view=full" />
    <set-query-parameter name="trace" exists-action="override"><value>1</value></set-query-parameter>
    <set-method>POST</set-method>
    <set-header name="x-del" exists-action="delete"/>
    <set-header name="x-skip" exists-action="skip"><value>new</value></set-header>
    <set-header name="x-multi"><value>a</value><value>@(context.Request.Method)</value></set-header>
    <authentication-basic username="svc" password="p@ss"/>
    <set-body>@("{\"id\":" + context.Request.MatchedParameters["id"] + "}")</set-body>
  </inbound>
  <backend><forward-request timeout="10" buffer-request-body="true" fail-on-error-status-code="true"/></backend>
  <outbound>
    <set-status code="201" reason="Created"/>
    <find-and-replace from="true" to="false"/>
    <set-header name="x-out"><value>@(context.Response.StatusCode.ToString())</value></set-header>
  </outbound>
</policies>"#;
    let s = load(&config(None, None, None, Some(op)));
    let p = op_plan(&s, None);
    assert!(p.needs_request_body() && p.needs_response_body() && !p.is_passthrough());
    let f = p.forward().unwrap();
    assert_eq!((f.timeout.as_secs(), f.buffer_request_body, f.fail_on_error_status_code), (10, true, true));
    let r = drive(
        p,
        &get().h("x-skip", "old").h("x-del", "1"),
        "1.1.1.1",
        &FakeResp::new(200, "{\"ok\":true}"),
        Some("{}"),
    );
    let e = &r.request_edits;
    assert_eq!(e.path_and_query.as_deref(), Some("/products/42/detail?view=full&a=1&trace=1"));
    assert_eq!(e.method.as_deref(), Some("POST"));
    assert!(matches!(&e.backend, Some(BackendTarget::Url(u)) if u.host == "other" && u.port == 8443));
    assert!(e.headers.is_removed("x-del") && e.headers.values("x-skip").next().is_none());
    assert_eq!(e.headers.values("x-multi").collect::<Vec<_>>(), ["a", "POST"], "after set-method");
    assert_eq!(r.req_header("authorization").as_deref(), Some("Basic c3ZjOnBAc3M="));
    assert_eq!(e.body.as_deref(), Some(&b"{\"id\":42}"[..]));
    assert_eq!(r.status(), 201);
    assert_eq!(r.body(), "{\"ok\":false}");
    assert_eq!(r.header("x-out").as_deref(), Some("201"));
    // backend-id must exist.
    let bad = load_err(&config(
        None,
        None,
        None,
        Some(r#"<policies><inbound><set-backend-service backend-id="nope"/></inbound></policies>"#),
    ));
    assert!(bad[0].contains("unknown backend 'nope'"), "{bad:?}");
    let ok = run(r#"<policies><inbound><set-backend-service backend-id="b1"/></inbound></policies>"#, get());
    assert_eq!(ok.request_edits.backend, Some(BackendTarget::BackendId("b1".into())));
}

#[test]
fn responses_mock_and_conversions() {
    let r = run(
        r#"<policies><inbound><mock-response status-code="202" content-type="text/plain"/></inbound></policies>"#,
        get(),
    );
    assert_eq!((r.status(), r.forwarded, r.header("content-type").as_deref()), (202, 0, Some("text/plain")));
    let r = run(
        r#"<policies><inbound><set-variable name="msg" value="cached"/><return-response response-variable-name="msg"><set-header name="x-a"><value>1</value></set-header></return-response></inbound></policies>"#,
        get(),
    );
    assert_eq!((r.status(), r.body().as_str(), r.header("x-a").as_deref()), (200, "cached", Some("1")));

    let s = load(&config(
        None,
        None,
        None,
        Some(
            r#"<policies><outbound><json-to-xml apply="always" consider-accept-header="false"/></outbound></policies>"#,
        ),
    ));
    let r = drive(
        op_plan(&s, None),
        &get(),
        "1.1.1.1",
        &FakeResp::new(200, r#"{"a":1,"b":["x","y"],"c":{"d":"<"}}"#),
        None,
    );
    assert_eq!(
        r.body(),
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><Document><a>1</a><b>x</b><b>y</b><c><d>&lt;</d></c></Document>"
    );
    assert_eq!(r.header("content-type").as_deref(), Some("application/xml"));
    let s = load(&config(
        None,
        None,
        None,
        Some(
            r#"<policies><outbound><xml-to-json kind="direct" apply="always" consider-accept-header="false"/></outbound></policies>"#,
        ),
    ));
    let r = drive(
        op_plan(&s, None),
        &get(),
        "1.1.1.1",
        &FakeResp::new(200, r#"<r id="1"><i>a</i><i>b</i><n>t</n></r>"#),
        None,
    );
    assert_eq!(r.body(), r#"{"r":{"@id":"1","i":["a","b"],"n":"t"}}"#);
}

#[test]
fn retry_is_driven_by_the_proxy() {
    let op = r#"<policies><backend><retry condition="@(context.Response.StatusCode >= 500)" count="3" interval="1" delta="1" max-interval="5" first-fast-retry="true"><forward-request/></retry></backend></policies>"#;
    let s = load(&config(None, None, None, Some(op)));
    let r = drive(op_plan(&s, None), &get(), "1.1.1.1", &FakeResp::new(503, ""), None);
    assert_eq!((r.forwarded, r.waits), (4, 2), "1 try + 3 retries, the first one fast");
    let r = drive(op_plan(&s, None), &get(), "1.1.1.1", &FakeResp::new(200, ""), None);
    assert_eq!((r.forwarded, r.waits), (1, 0));
    let bad = load_err(&config(
        None,
        None,
        None,
        Some(
            r#"<policies><backend><retry condition="@(1)" count="99" interval="1"><forward-request/></retry></backend></policies>"#,
        ),
    ));
    assert!(bad.iter().any(|m| m.contains("must be a bool")) && bad.iter().any(|m| m.contains("1-50")), "{bad:?}");
}

#[test]
fn matched_parameters_from_templates() {
    let s = load(&config(None, None, None, None));
    assert_eq!(s.policy_plans.matched_parameters(0, Some(0), "/items/42"), [("id", "42")]);
    assert!(s.policy_plans.matched_parameters(0, Some(1), "/opt").is_empty());
}

/// Arbitrary bytes and mutated documents: the loader returns (accepts or rejects) without
/// panicking, in bounded time, and deep nesting is refused rather than recursed into.
#[test]
fn loader_survives_arbitrary_and_mutated_input() {
    let mut rng = fastrand::Rng::with_seed(0x5eed);
    let seeds: Vec<String> = corpus::DOCS.iter().map(|d| d.1.to_string()).collect();
    let check = |text: &str| {
        let _ = crate::policy::check_document(text, DocKind::Policies, &Default::default(), None);
        let _ = crate::policy::check_document(text, DocKind::Fragment, &Default::default(), None);
    };
    for _ in 0..300 {
        let n = rng.usize(0..200);
        let bytes: Vec<u8> = (0..n).map(|_| rng.u8(..)).collect();
        check(&String::from_utf8_lossy(&bytes));
    }
    const PIECES: [&str; 14] =
        ["<", ">", "\"", "@(", "@{", ")", "}", "&", "&amp;", "/>", "<when condition=\"@(", "$\"{", "'", "\n"];
    for i in 0..1500 {
        let mut s = seeds[i % seeds.len()].clone().into_bytes();
        for _ in 0..rng.usize(1..6) {
            let at = rng.usize(0..=s.len());
            match rng.u8(0..3) {
                0 => {
                    let p = PIECES[rng.usize(0..PIECES.len())];
                    s.splice(at..at, p.bytes());
                }
                1 if at < s.len() => {
                    let end = (at + rng.usize(1..20)).min(s.len());
                    s.drain(at..end);
                }
                _ if at < s.len() => s[at] = rng.u8(..),
                _ => {}
            }
        }
        check(&String::from_utf8_lossy(&s));
    }
    let deep = format!("<policies><inbound>{}</inbound></policies>", "<choose><when condition=\"true\">".repeat(5000));
    check(&deep);
    let deep_expr = format!(
        "<policies><inbound><set-variable name=\"x\" value=\"@({}1{})\"/></inbound></policies>",
        "(".repeat(5000),
        ")".repeat(5000)
    );
    check(&deep_expr);
    let deep_block = format!(
        "<policies><inbound><set-body>@{{ {} return 1; }}</set-body></inbound></policies>",
        "if (true) {".repeat(3000)
    );
    check(&deep_block);
}
