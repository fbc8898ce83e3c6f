//! A corpus of realistic policy documents in APIM's raw form (unescaped quotes, `<`, `&&`
//! inside expressions), each loaded through the configuration compiler as an operation policy
//! and run on a fake context with a behaviour assertion.

use crate::policy::expr::jwt::make_jwt;
use crate::policy::testkit::*;

pub const DOCS: &[(&str, &str)] = &[
    ("require-api-key", r#"<policies><inbound><base /><check-header name="X-Api-Key" failed-check-httpcode="401" failed-check-error-message="Missing key" ignore-case="false" /></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>"#),
    ("jwt-sub-to-header", r#"<policies><inbound><set-header name="X-User" exists-action="override"><value>@(context.Request.Headers.GetValueOrDefault("Authorization","").AsJwt()?.Subject)</value></set-header></inbound></policies>"#),
    ("jwt-role-gate", r#"<policies><inbound><choose><when condition="@(!context.Request.Headers.GetValueOrDefault("Authorization","").AsJwt()?.Claims.GetValueOrDefault("roles","").Contains("admin") ?? true)"><return-response><set-status code="403" reason="Forbidden" /></return-response></when></choose></inbound></policies>"#),
    ("version-rewrite", r#"<policies><inbound><rewrite-uri template="/v2/items/{id}" copy-unmatched-params="false" /></inbound></policies>"#),
    ("conditional-backend", r#"<policies><inbound><choose><when condition="@(context.Request.Headers.GetValueOrDefault("x-region","") == "eu" && context.Request.Method == "GET")"><set-backend-service base-url="https://eu.backend.local/api" /></when><otherwise><set-backend-service base-url="https://us.backend.local/api" /></otherwise></choose></inbound></policies>"#),
    ("error-shaping", r#"<policies><inbound><check-header name="x-tenant" failed-check-httpcode="400" failed-check-error-message="tenant required" ignore-case="true" /></inbound><on-error><return-response><set-status code="@(context.LastError.Reason == "HeaderNotFound" ? 422 : 500)" reason="Unprocessable" /><set-header name="Content-Type" exists-action="override"><value>application/problem+json</value></set-header><set-body>@{ return "{\"title\":\"" + context.LastError.Message + "\",\"reason\":\"" + context.LastError.Reason + "\"}"; }</set-body></return-response></on-error></policies>"#),
    ("cors-spa", r#"<policies><inbound><cors allow-credentials="false"><allowed-origins><origin>*</origin></allowed-origins><allowed-methods><method>*</method></allowed-methods><allowed-headers><header>*</header></allowed-headers></cors></inbound></policies>"#),
    ("mock-while-building", r#"<policies><inbound><mock-response status-code="200" content-type="application/json" /></inbound></policies>"#),
    ("correlation-id", r#"<policies><inbound><set-header name="x-correlation-id" exists-action="skip"><value>@(context.RequestId)</value></set-header></inbound><outbound><set-header name="x-correlation-id" exists-action="override"><value>@(context.Request.Headers.GetValueOrDefault("x-correlation-id", context.RequestId))</value></set-header></outbound></policies>"#),
    ("strip-server-headers", r#"<policies><outbound><set-header name="X-Powered-By" exists-action="delete" /><set-header name="X-AspNet-Version" exists-action="delete" /></outbound></policies>"#),
    ("query-to-header", r#"<policies><inbound><set-header name="x-format" exists-action="override"><value>@(context.Request.Url.Query.GetValueOrDefault("format", "json"))</value></set-header><set-query-parameter name="format" exists-action="delete" /></inbound></policies>"#),
    ("basic-to-backend", r#"<policies><inbound><authentication-basic username="gateway" password="s3cr3t" /></inbound></policies>"#),
    ("basic-user-read", r#"<policies><inbound><set-variable name="user" value="@(context.Request.Headers.GetValueOrDefault("Authorization","").AsBasic()?.UserId ?? "anonymous")" /></inbound></policies>"#),
    ("ip-allow-office", r#"<policies><inbound><ip-filter action="allow"><address-range from="10.0.0.0" to="10.255.255.255" /><address>203.0.113.7</address></ip-filter></inbound></policies>"#),
    ("ip-block-v6", r#"<policies><inbound><ip-filter action="forbid"><address-range from="2001:db8::" to="2001:db8:ffff:ffff:ffff:ffff:ffff:ffff" /></ip-filter></inbound></policies>"#),
    ("method-override", r#"<policies><inbound><choose><when condition="@(context.Request.Headers.ContainsKey("X-HTTP-Method-Override"))"><set-method>@(context.Request.Headers.GetValueOrDefault("X-HTTP-Method-Override","GET"))</set-method></when></choose></inbound></policies>"#),
    ("body-enrich", r#"<policies><inbound><set-body>@{ var body = context.Request.Body.As<JObject>(preserveContent: true); string name = (string)body["name"]; return "{\"name\":\"" + name.ToUpper() + "\",\"by\":\"" + context.Subscription.Name + "\"}"; }</set-body></inbound></policies>"#),
    ("response-rewrite-urls", r#"<policies><outbound><find-and-replace from="http://backend:8080/api" to="https://api.contoso.local/orders" /></outbound></policies>"#),
    ("status-remap", r#"<policies><outbound><choose><when condition="@(context.Response.StatusCode == 404)"><set-status code="204" reason="No Content" /><set-body></set-body></when></choose></outbound></policies>"#),
    ("retry-5xx", r#"<policies><backend><retry condition="@(context.Response.StatusCode >= 500 && context.Response.StatusCode < 600)" count="2" interval="0"><forward-request buffer-request-body="true" /></retry></backend></policies>"#),
    ("timeout-override", r#"<policies><backend><forward-request timeout="5" follow-redirects="true" /></backend></policies>"#),
    ("variables-flow", r#"<policies><inbound><set-variable name="isMobile" value="@(context.Request.Headers.GetValueOrDefault("User-Agent","").Contains("Mobile"))" /><choose><when condition="@(context.Variables.GetValueOrDefault<bool>("isMobile"))"><rewrite-uri template="/mobile/items/{id}" /></when></choose></inbound></policies>"#),
    ("tenant-from-path", r#"<policies><inbound><set-header name="x-item" exists-action="override"><value>@($"item-{context.Request.MatchedParameters["id"]}")</value></set-header></inbound></policies>"#),
    ("json-to-xml-legacy", r#"<policies><inbound><json-to-xml apply="content-type-json" consider-accept-header="false" /></inbound></policies>"#),
    ("xml-to-json-soap", r#"<policies><outbound><xml-to-json kind="javascript-friendly" apply="content-type-xml" consider-accept-header="false" /></outbound></policies>"#),
    ("on-error-headers", r#"<policies><inbound><set-variable name="x" value="@(context.Variables["missing"])" /></inbound><on-error><set-status code="503" reason="Unavailable" /><set-header name="Retry-After" exists-action="override"><value>30</value></set-header></on-error></policies>"#),
    ("api-version-header", r#"<policies><inbound><set-header name="api-version" exists-action="skip"><value>@(context.Request.Url.Query.GetValueOrDefault("api-version", "2024-01-01"))</value></set-header></inbound></policies>"#),
    ("block-by-claim", r#"<policies><inbound><choose><when condition="@{ var jwt = context.Request.Headers.GetValueOrDefault("Authorization","").AsJwt(); if (jwt == null) { return true; } return jwt.Claims.GetValueOrDefault("tid", "") != "t1"; }"><return-response><set-status code="401" reason="Unauthorized" /><set-header name="WWW-Authenticate" exists-action="override"><value>Bearer error="invalid_token"</value></set-header></return-response></when></choose></inbound></policies>"#),
    ("backend-by-id", r#"<policies><inbound><set-backend-service backend-id="b1" /></inbound></policies>"#),
    ("well-formed-escaped", "<policies><inbound><set-variable name=\"ok\" value=\"@(context.Request.Method == &quot;GET&quot; &amp;&amp; 1 &lt; 2)\" /></inbound></policies>"),
    ("elapsed-header", r#"<policies><outbound><set-header name="x-elapsed" exists-action="override"><value>@(((int)context.Elapsed.TotalMilliseconds >= 0).ToString())</value></set-header></outbound></policies>"#),
    ("fragment-like-comments", "<policies>\n  <!-- raw form with a comment containing <tags> & ampersands -->\n  <inbound>\n    <base />\n    <set-header name=\"x-env\" exists-action=\"override\">\n      <value>prod</value>\n    </set-header>\n  </inbound>\n</policies>"),
];

fn jwt(claims: serde_json::Value) -> String {
    format!("Bearer {}", make_jwt(&claims))
}

#[test]
fn corpus_loads_and_behaves() {
    assert!(DOCS.len() >= 30);
    for (name, doc) in DOCS {
        let s = load(&config(None, None, None, Some(doc)));
        let p = s.policy_plans.get(0, Some(0), None);
        let go = |req: FakeReq| drive(p, &req, "10.1.1.1", &FakeResp::new(200, r#"{"ok":true}"#), None);
        let get = || FakeReq::new("GET", "/orders/items/42?format=xml&x=1");
        match *name {
            "require-api-key" => {
                assert_eq!(go(get()).status(), 401);
                assert_eq!(go(get().h("x-api-key", "k")).forwarded, 1);
            }
            "jwt-sub-to-header" => {
                let r = go(get().h("authorization", &jwt(serde_json::json!({"sub": "bob"}))));
                assert_eq!(r.req_header("x-user").as_deref(), Some("bob"));
            }
            "jwt-role-gate" => {
                assert_eq!(go(get().h("authorization", &jwt(serde_json::json!({"roles": ["admin"]})))).forwarded, 1);
                assert_eq!(go(get().h("authorization", &jwt(serde_json::json!({"roles": "reader"})))).status(), 403);
            }
            "version-rewrite" => assert_eq!(go(get()).request_edits.path_and_query.as_deref(), Some("/v2/items/42")),
            "conditional-backend" => {
                let host = |r: Result_| match r.request_edits.backend {
                    Some(crate::policy::BackendTarget::Url(u)) => u.host,
                    other => panic!("{other:?}"),
                };
                assert_eq!(host(go(get().h("x-region", "eu"))), "eu.backend.local");
                assert_eq!(host(go(get())), "us.backend.local");
            }
            "error-shaping" => {
                let r = go(get());
                assert_eq!(r.status(), 422);
                assert_eq!(r.body(), r#"{"title":"tenant required","reason":"HeaderNotFound"}"#);
                assert_eq!(r.header("content-type").as_deref(), Some("application/problem+json"));
            }
            "cors-spa" => {
                let r = go(FakeReq::new("OPTIONS", "/orders/items/42")
                    .h("origin", "https://a.b")
                    .h("access-control-request-method", "DELETE"));
                assert_eq!(r.header("access-control-allow-origin").as_deref(), Some("*"));
                assert_eq!(r.header("access-control-allow-methods").as_deref(), Some("DELETE"));
            }
            "mock-while-building" => assert_eq!((go(get()).status(), go(get()).forwarded), (200, 0)),
            "correlation-id" => {
                let r = go(get());
                assert_eq!(r.req_header("x-correlation-id").as_deref(), Some("req-1"));
                assert_eq!(go(get().h("x-correlation-id", "c9")).header("x-correlation-id").as_deref(), Some("c9"));
            }
            "strip-server-headers" => assert!(go(get()).response_edits.headers.is_removed("x-powered-by")),
            "query-to-header" => {
                let r = go(get());
                assert_eq!(r.req_header("x-format").as_deref(), Some("xml"));
                assert_eq!(r.request_edits.path_and_query.as_deref(), Some("/items/42?x=1"));
            }
            "basic-to-backend" => {
                assert_eq!(go(get()).req_header("authorization").as_deref(), Some("Basic Z2F0ZXdheTpzM2NyM3Q="))
            }
            "basic-user-read" => {
                assert_eq!(go(get().h("authorization", "Basic dTE6cA==")).var("user").as_deref(), Some("u1"));
                assert_eq!(go(get()).var("user").as_deref(), Some("anonymous"));
            }
            "ip-allow-office" => {
                assert_eq!(go(get()).forwarded, 1);
                assert_eq!(drive(p, &get(), "203.0.113.8", &FakeResp::new(200, ""), None).status(), 403);
            }
            "ip-block-v6" => {
                assert_eq!(go(get()).forwarded, 1);
                assert_eq!(drive(p, &get(), "2001:db8::5", &FakeResp::new(200, ""), None).status(), 403);
            }
            "method-override" => assert_eq!(
                go(get().h("x-http-method-override", "patch")).request_edits.method.as_deref(),
                Some("PATCH")
            ),
            "body-enrich" => {
                let r = drive(p, &get(), "1.1.1.1", &FakeResp::new(200, ""), Some(r#"{"name":"ann"}"#));
                assert_eq!(r.request_edits.body.as_deref(), Some(&br#"{"name":"ANN","by":"Sub One"}"#[..]));
                assert!(p.needs_request_body());
            }
            "response-rewrite-urls" => {
                let r = drive(p, &get(), "1.1.1.1", &FakeResp::new(200, "see http://backend:8080/api/items/1"), None);
                assert_eq!(r.body(), "see https://api.contoso.local/orders/items/1");
            }
            "status-remap" => {
                let r = drive(p, &get(), "1.1.1.1", &FakeResp::new(404, "nf"), None);
                assert_eq!((r.status(), r.body().as_str()), (204, ""));
            }
            "retry-5xx" => assert_eq!(drive(p, &get(), "1.1.1.1", &FakeResp::new(502, ""), None).forwarded, 3),
            "timeout-override" => {
                let f = p.forward().unwrap();
                assert!(p.is_passthrough() && f.timeout.as_secs() == 5 && f.follow_redirects);
            }
            "variables-flow" => {
                assert_eq!(
                    go(get().h("user-agent", "X Mobile Y")).request_edits.path_and_query.as_deref(),
                    Some("/mobile/items/42?format=xml&x=1")
                );
                assert_eq!(go(get()).request_edits.path_and_query, None);
            }
            "tenant-from-path" => assert_eq!(go(get()).req_header("x-item").as_deref(), Some("item-42")),
            "json-to-xml-legacy" => {
                let r = drive(
                    p,
                    &get().h("content-type", "application/json"),
                    "1.1.1.1",
                    &FakeResp::new(200, ""),
                    Some(r#"{"a":"b"}"#),
                );
                assert_eq!(
                    r.request_edits.body.as_deref(),
                    Some(&b"<?xml version=\"1.0\" encoding=\"utf-8\"?><Document><a>b</a></Document>"[..])
                );
            }
            "xml-to-json-soap" => {
                let mut resp = FakeResp::new(200, "<a><b>1</b></a>");
                resp.headers = vec![("content-type".into(), "text/xml".into())];
                assert_eq!(drive(p, &get(), "1.1.1.1", &resp, None).body(), r#"{"a":{"b":"1"}}"#);
            }
            "on-error-headers" => {
                let r = go(get());
                assert_eq!((r.status(), r.header("retry-after").as_deref()), (503, Some("30")));
                assert!(r.body().contains("\"statusCode\":500"), "{}", r.body());
            }
            "api-version-header" => assert_eq!(go(get()).req_header("api-version").as_deref(), Some("2024-01-01")),
            "block-by-claim" => {
                assert_eq!(go(get()).status(), 401);
                assert_eq!(go(get().h("authorization", &jwt(serde_json::json!({"tid": "t1"})))).forwarded, 1);
            }
            "backend-by-id" => assert!(go(get()).request_edits.backend.is_some()),
            "well-formed-escaped" => assert_eq!(go(get()).var("ok").as_deref(), Some("True")),
            "elapsed-header" => assert_eq!(go(get()).header("x-elapsed").as_deref(), Some("True")),
            "fragment-like-comments" => assert_eq!(go(get()).req_header("x-env").as_deref(), Some("prod")),
            other => panic!("no assertion for {other}"),
        }
    }
}
