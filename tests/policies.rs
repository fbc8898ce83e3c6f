//! Policies executed by the real gateway against real backends: header, query, URL, method and
//! body transformations, choose/variables, return and mock responses, access policies, scopes
//! through `<base/>`, on-error with `context.LastError`, retries, CORS, backends chosen by
//! policy, fragments and named values, and documents in APIM's raw form.

mod common;

use common::backend::{echoed_headers, Seen};
use common::*;
use serde_json::{json, Value};

/// A full document: `apis` entries get `serviceUrl` of `b` unless they set one.
fn doc(b: &Backend, global: Option<&str>, apis: Vec<Value>, extra: Value) -> String {
    let mut d = json!({"revision": "p1", "apis": apis});
    for api in d["apis"].as_array_mut().expect("apis") {
        if api.get("serviceUrl").is_none() {
            api["serviceUrl"] = json!(b.url());
        }
        if api.get("subscriptionRequired").is_none() {
            api["subscriptionRequired"] = json!(false);
        }
    }
    if let Some(g) = global {
        d["policy"] = json!(g);
    }
    if let Value::Object(m) = extra {
        for (k, v) in m {
            d[k] = v;
        }
    }
    d.to_string()
}

fn api(id: &str, policy: &str) -> Value {
    json!({"id": id, "path": id, "policy": policy})
}

fn echo(r: &Response) -> Value {
    assert_eq!(r.status, 200, "{r:?}");
    r.json()
}

fn one(v: &Value, name: &str) -> Option<String> {
    echoed_headers(v, name).into_iter().next()
}

#[test]
fn request_and_response_edits_reach_both_sides() {
    let b = Backend::normal();
    let headers = r#"<policies>
      <inbound>
        <set-header name="X-Added" exists-action="override"><value>one</value></set-header>
        <set-header name="X-Multi" exists-action="append"><value>a</value><value>b</value></set-header>
        <set-header name="X-Drop" exists-action="delete" />
        <set-header name="X-From-Expr" exists-action="override"><value>@(context.Request.Headers.GetValueOrDefault("X-In", "none").ToUpper())</value></set-header>
        <set-query-parameter name="added" exists-action="override"><value>q1</value></set-query-parameter>
        <set-method>PUT</set-method>
      </inbound>
      <backend><forward-request /></backend>
      <outbound>
        <set-header name="X-Out" exists-action="override"><value>@(context.Response.StatusCode.ToString())</value></set-header>
        <set-header name="Content-Type" exists-action="delete" />
        <set-status code="201" reason="Made" />
      </outbound>
    </policies>"#;
    let rewrite = r#"<policies><inbound>
        <rewrite-uri template="/orders/{id}/detail?src=gw" copy-unmatched-params="true" />
      </inbound><backend><forward-request /></backend></policies>"#;
    let ops = json!({"id": "rw", "path": "rw", "policy": rewrite,
        "operations": [{"id": "get", "method": "GET", "urlTemplate": "/items/{id}"}]});
    let gw = Gateway::start(&doc(&b, None, vec![api("hdr", headers), ops], json!({})), &[]);

    let r = gw.get("/hdr/echo?x=1", &[("X-Drop", "gone"), ("X-In", "shout"), ("X-Multi", "orig")]);
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.reason, "Made");
    assert_eq!(r.header("x-out"), Some("200"), "outbound saw the backend status");
    assert!(r.header("content-type").is_none(), "content-type deleted on the way out: {r:?}");
    assert!(r.header("x-request-id").is_some());
    let e = r.json();
    assert_eq!(e["method"], "PUT");
    assert_eq!(one(&e, "x-added").as_deref(), Some("one"));
    assert!(one(&e, "x-drop").is_none(), "{e}");
    assert_eq!(one(&e, "x-from-expr").as_deref(), Some("SHOUT"));
    let multi = echoed_headers(&e, "x-multi").join(",");
    assert!(multi.contains("orig") && multi.contains('a') && multi.contains('b'), "{multi}");
    let path = e["path"].as_str().expect("path");
    assert!(path.starts_with("/echo?") && path.contains("x=1") && path.contains("added=q1"), "{path}");

    let e = echo(&gw.get("/rw/items/42?keep=yes", &[]));
    let path = e["path"].as_str().expect("path");
    assert!(path.starts_with("/orders/42/detail?"), "{path}");
    assert!(path.contains("src=gw") && path.contains("keep=yes"), "{path}");
}

#[test]
fn choose_variables_and_gateway_made_responses() {
    let b = Backend::normal();
    let choose = r#"<policies><inbound>
        <set-variable name="tier" value="@(context.Request.Headers.GetValueOrDefault("X-Tier", "free"))" />
        <choose>
          <when condition="@((string)context.Variables["tier"] == "gold")">
            <set-header name="X-Lane" exists-action="override"><value>fast</value></set-header>
          </when>
          <when condition="@(context.Request.Url.Query.GetValueOrDefault("block", "") == "1")">
            <return-response>
              <set-status code="418" reason="Teapot" />
              <set-header name="X-Why" exists-action="override"><value>@("blocked " + (string)context.Variables["tier"])</value></set-header>
              <set-body>no coffee</set-body>
            </return-response>
          </when>
          <otherwise>
            <set-header name="X-Lane" exists-action="override"><value>slow</value></set-header>
          </otherwise>
        </choose>
      </inbound><backend><forward-request /></backend></policies>"#;
    let mock = r#"<policies><inbound><mock-response status-code="200" content-type="application/json" /></inbound></policies>"#;
    let mut mock_api = api("mock", mock);
    mock_api["operations"] = json!([{"id": "m", "method": "GET", "urlTemplate": "/thing"}]);
    let gw = Gateway::start(&doc(&b, None, vec![api("ch", choose), mock_api], json!({})), &[]);

    assert_eq!(one(&echo(&gw.get("/ch/echo", &[("X-Tier", "gold")])), "x-lane").as_deref(), Some("fast"));
    assert_eq!(one(&echo(&gw.get("/ch/echo", &[])), "x-lane").as_deref(), Some("slow"));
    let before = b.requests();
    let r = gw.get("/ch/echo?block=1", &[]);
    assert_eq!(r.status, 418, "{r:?}");
    assert_eq!(r.header("x-why"), Some("blocked free"));
    assert_eq!(r.text(), "no coffee");
    assert_eq!(b.requests(), before, "return-response never reaches the backend");

    let r = gw.get("/mock/thing", &[]);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(b.requests(), before, "mock-response never reaches the backend");
    assert!(r.header("content-type").is_some_and(|c| c.contains("json")), "{r:?}");
}

#[test]
fn access_policies_refuse_with_their_codes() {
    let b = Backend::normal();
    let check = r#"<policies><inbound>
        <check-header name="X-Client" failed-check-httpcode="401" failed-check-error-message="X-Client is required" ignore-case="true">
          <value>app-one</value><value>app-two</value>
        </check-header>
      </inbound><backend><forward-request /></backend></policies>"#;
    let deny = r#"<policies><inbound>
        <ip-filter action="forbid"><address-range from="127.0.0.0" to="127.255.255.255" /></ip-filter>
      </inbound><backend><forward-request /></backend></policies>"#;
    let allow = r#"<policies><inbound>
        <ip-filter action="allow"><address>127.0.0.1</address><address>::1</address></ip-filter>
      </inbound><backend><forward-request /></backend></policies>"#;
    let gw =
        Gateway::start(&doc(&b, None, vec![api("chk", check), api("deny", deny), api("allow", allow)], json!({})), &[]);

    let r = gw.get("/chk/echo", &[]);
    assert_error_shape(&r, 401);
    assert!(r.text().contains("X-Client is required"), "{r:?}");
    assert_eq!(gw.get("/chk/echo", &[("X-Client", "other")]).status, 401);
    assert_eq!(gw.get("/chk/echo", &[("X-Client", "APP-TWO")]).status, 200);
    assert_error_shape(&gw.get("/deny/echo", &[]), 403);
    assert_eq!(gw.get("/allow/echo", &[]).status, 200);
}

#[test]
fn scopes_merge_through_base_and_a_scope_without_base_inherits_nothing() {
    let b = Backend::normal();
    let stamp =
        |n: &str| format!(r#"<set-header name="X-{n}" exists-action="override"><value>{n}</value></set-header>"#);
    let global =
        format!("<policies><inbound>{}</inbound><backend><forward-request /></backend></policies>", stamp("Global"));
    let product = format!("<policies><inbound><base />{}</inbound></policies>", stamp("Product"));
    let api_doc =
        format!("<policies><inbound><base />{}</inbound><backend><base /></backend></policies>", stamp("Api"));
    let op_with_base =
        format!("<policies><inbound><base />{}</inbound><backend><base /></backend></policies>", stamp("Op"));
    let op_without = format!("<policies><inbound>{}</inbound><backend><base /></backend></policies>", stamp("Alone"));
    let a = json!({"id": "sc", "path": "sc", "policy": api_doc, "subscriptionRequired": true,
        "operations": [
            {"id": "with", "method": "GET", "urlTemplate": "/with", "policy": op_with_base},
            {"id": "without", "method": "GET", "urlTemplate": "/without", "policy": op_without}]});
    let extra = json!({
        "products": [{"id": "gold", "apis": ["sc"], "policy": product}],
        "subscriptions": [{"id": "s1", "scope": "/products/gold", "primaryKey": "scope-test-key-1234567890"}]});
    let gw = Gateway::start(&doc(&b, Some(&global), vec![a], extra), &[]);
    let key = [("Ocp-Apim-Subscription-Key", "scope-test-key-1234567890")];

    let e = echo(&gw.get("/sc/with", &key));
    for n in ["x-global", "x-product", "x-api", "x-op"] {
        assert!(one(&e, n).is_some(), "{n} missing: {e}");
    }
    let e = echo(&gw.get("/sc/without", &key));
    assert_eq!(one(&e, "x-alone").as_deref(), Some("Alone"));
    for n in ["x-global", "x-product", "x-api"] {
        assert!(one(&e, n).is_none(), "{n} inherited without <base/>: {e}");
    }
}

#[test]
fn on_error_sees_last_error_for_each_failure() {
    let b = Backend::normal();
    let shape = r#"<on-error>
        <return-response>
          <set-status code="599" reason="Shaped" />
          <set-header name="X-Reason" exists-action="override"><value>@(context.LastError.Reason)</value></set-header>
          <set-header name="X-Source" exists-action="override"><value>@(context.LastError.Source)</value></set-header>
          <set-header name="X-Section" exists-action="override"><value>@(context.LastError.Section)</value></set-header>
          <set-body>@(context.LastError.Message)</set-body>
        </return-response>
      </on-error>"#;
    let down = format!("<policies><inbound /><backend><forward-request /></backend>{shape}</policies>");
    let slow = format!(r#"<policies><inbound /><backend><forward-request timeout="1" /></backend>{shape}</policies>"#);
    let ip = format!(
        r#"<policies><inbound><ip-filter action="forbid"><address>127.0.0.1</address></ip-filter></inbound><backend><forward-request /></backend>{shape}</policies>"#
    );
    let expr = format!(
        r#"<policies><inbound><set-header name="X-N" exists-action="override"><value>@(int.Parse(context.Request.Headers.GetValueOrDefault("X-Num", "zz")).ToString())</value></set-header></inbound><backend><forward-request /></backend>{shape}</policies>"#
    );
    let status = format!(
        r#"<policies><inbound /><backend><forward-request fail-on-error-status-code="true" /></backend>{shape}</policies>"#
    );
    // on-error that only edits the default error response.
    let edit = r#"<policies><inbound><ip-filter action="forbid"><address>127.0.0.1</address></ip-filter></inbound>
        <backend><forward-request /></backend>
        <on-error><set-header name="X-Handled" exists-action="override"><value>yes</value></set-header></on-error></policies>"#;
    let dead = format!("http://127.0.0.1:{}", closed_port());
    let mut down_api = api("down", &down);
    down_api["serviceUrl"] = json!(dead);
    let limited = format!(
        r#"<policies><inbound><rate-limit-by-key calls="1" renewal-period="300" counter-key="@(context.Request.IpAddress)" /></inbound><backend><forward-request /></backend>{shape}</policies>"#
    );
    let header = format!(
        r#"<policies><inbound><check-header name="X-Need" failed-check-httpcode="401" failed-check-error-message="need it" ignore-case="true" /></inbound><backend><forward-request /></backend>{shape}</policies>"#
    );
    let apis = vec![
        down_api,
        api("slow", &slow),
        api("ip", &ip),
        api("expr", &expr),
        api("st", &status),
        api("edit", edit),
        api("limited", &limited),
        api("hdr", &header),
    ];
    let gw = Gateway::start(&doc(&b, None, apis, json!({})), &[]);

    let check = |path: &str, reason: &str, source: &str| {
        let r = gw.get(path, &[]);
        assert_eq!(r.status, 599, "{path}: {r:?}");
        assert_eq!(r.header("x-reason"), Some(reason), "{path}: {r:?}");
        assert_eq!(r.header("x-source"), Some(source), "{path}: {r:?}");
        assert!(!r.text().is_empty(), "{path}: a message");
        r
    };
    check("/down/echo", "BackendConnectionFailure", "forward-request");
    check("/slow/slow/3000", "Timeout", "forward-request");
    let r = check("/ip/echo", "CallerIpBlocked", "ip-filter");
    assert_eq!(r.header("x-section"), Some("inbound"));
    check("/expr/echo", "ExpressionValueEvaluationFailure", "set-header");
    check("/st/status/503", "BackendConnectionFailure", "forward-request");
    assert_eq!(gw.get("/limited/echo", &[]).status, 200, "the first call fits the limit");
    check("/limited/echo", "RateLimitExceeded", "rate-limit-by-key");
    check("/hdr/echo", "HeaderNotFound", "check-header");
    assert_eq!(gw.get("/st/status/200", &[]).status, 200);

    let r = gw.get("/edit/echo", &[]);
    assert_error_shape(&r, 403);
    assert_eq!(r.header("x-handled"), Some("yes"));
}

#[test]
fn bodies_are_read_replaced_and_transformed_only_when_a_policy_asks() {
    let b = Backend::normal();
    let set_body = r#"<policies><inbound>
        <set-header name="X-Len" exists-action="override"><value>@(context.Request.Body.As<string>(preserveContent: true).Length.ToString())</value></set-header>
        <set-body>@("wrapped:" + context.Request.Body.As<string>(preserveContent: true))</set-body>
      </inbound><backend><forward-request /></backend></policies>"#;
    let outbound = r#"<policies><inbound /><backend><forward-request /></backend><outbound>
        <set-body>@{ var body = context.Response.Body.As<string>(preserveContent: true); return "<<" + body.Substring(0, 9) + ">>"; }</set-body>
      </outbound></policies>"#;
    let replace = r#"<policies><inbound /><backend><forward-request /></backend><outbound>
        <find-and-replace from="&quot;method&quot;" to="&quot;verb&quot;" />
      </outbound></policies>"#;
    let to_xml = r#"<policies><inbound /><backend><forward-request /></backend><outbound>
        <json-to-xml apply="always" consider-accept-header="false" />
      </outbound></policies>"#;
    let header_only = r#"<policies><inbound><set-header name="X-Seen" exists-action="override"><value>1</value></set-header></inbound><backend><forward-request /></backend></policies>"#;
    let apis = vec![
        api("sb", set_body),
        api("ob", outbound),
        api("far", replace),
        api("xml", to_xml),
        api("plain", header_only),
    ];
    let gw = Gateway::start(&doc(&b, None, apis, json!({})), &["net.server.limits.body-bytes=1048576"]);

    let mut c = Conn::connect(gw.http_addr());
    let r = c.request("POST", "/sb/echo", &[("Content-Type", "text/plain")], b"hello");
    let e = echo(&r);
    assert_eq!(e["bodyLength"], 13, "{e}");
    assert_eq!(e["bodyFnv"], fnv_hex(b"wrapped:hello"), "{e}");
    assert_eq!(one(&e, "x-len").as_deref(), Some("5"));
    // the connection carries on after a buffered body
    let r = c.request("POST", "/sb/echo", &[("Transfer-Encoding", "chunked")], b"3\r\nabc\r\n0\r\n\r\n");
    assert_eq!(echo(&r)["bodyFnv"], fnv_hex(b"wrapped:abc"));

    let r = gw.get("/ob/echo", &[]);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.text(), "<<{\"bodyFnv>>", "{r:?}");
    let r = gw.get("/far/echo", &[]);
    assert!(r.text().contains("\"verb\":\"GET\"") && !r.text().contains("\"method\""), "{r:?}");
    let r = gw.get("/xml/echo", &[]);
    assert!(r.text().starts_with('<'), "{r:?}");
    assert!(r.header("content-type").is_some_and(|c| c.contains("xml")), "{r:?}");

    // A body over the cap is refused when a policy must buffer it, streamed otherwise.
    let big = vec![b'x'; 2 * 1024 * 1024];
    let mut c = Conn::connect(gw.http_addr());
    c.send_request("POST", "/sb/echo", &[("Transfer-Encoding", "chunked")], b"");
    let mut chunk = format!("{:x}\r\n", big.len()).into_bytes();
    chunk.extend_from_slice(&big);
    chunk.extend_from_slice(b"\r\n0\r\n\r\n");
    let _ = c.send(&chunk);
    let r = c.read_response(false).expect("a response");
    assert_eq!(r.status, 413, "{r:?}");
    let mut c = Conn::connect(gw.http_addr());
    let small = vec![b'y'; 512 * 1024];
    let e = echo(&c.request("POST", "/plain/upload", &[], &small));
    assert_eq!(e["bodyLength"], small.len());
    assert_eq!(e["bodyFnv"], fnv_hex(&small));
    assert_eq!(one(&e, "x-seen").as_deref(), Some("1"));
}

#[test]
fn retries_re_send_a_buffered_body() {
    let b = Backend::normal();
    let retry = r#"<policies><inbound /><backend>
        <retry condition="@(context.Response.StatusCode >= 500)" count="2" interval="0" first-fast-retry="true">
          <forward-request buffer-request-body="true" />
        </retry>
      </backend></policies>"#;
    let gw = Gateway::start(&doc(&b, None, vec![api("rt", retry)], json!({})), &[]);
    let before = b.requests();
    let mut c = Conn::connect(gw.http_addr());
    let r = c.request("POST", "/rt/status/500", &[], b"payload");
    assert_eq!(r.status, 500, "{r:?}");
    assert_eq!(b.requests() - before, 3, "one call and two retries");
    let bodies: Vec<Seen> = b.seen().into_iter().rev().take(3).collect();
    assert!(bodies.iter().all(|s| s.method == "POST"), "{bodies:?}");
    let e = r.json();
    assert_eq!(e["bodyFnv"], fnv_hex(b"payload"), "the last attempt carried the body");
    let before = b.requests();
    assert_eq!(c.request("GET", "/rt/echo", &[], b"").status, 200);
    assert_eq!(b.requests() - before, 1, "no retry on success");
}

#[test]
fn cors_preflight_is_answered_by_the_gateway() {
    let b = Backend::normal();
    let cors = r#"<policies><inbound>
        <cors allow-credentials="false">
          <allowed-origins><origin>https://app.example</origin></allowed-origins>
          <allowed-methods><method>GET</method><method>POST</method></allowed-methods>
          <allowed-headers><header>content-type</header></allowed-headers>
        </cors>
      </inbound><backend><forward-request /></backend></policies>"#;
    let gw = Gateway::start(&doc(&b, None, vec![api("cors", cors)], json!({})), &[]);
    let before = b.requests();
    let mut c = Conn::connect(gw.http_addr());
    let r = c.request(
        "OPTIONS",
        "/cors/echo",
        &[("Origin", "https://app.example"), ("Access-Control-Request-Method", "POST")],
        b"",
    );
    assert!(r.status == 200 || r.status == 204, "{r:?}");
    assert_eq!(r.header("access-control-allow-origin"), Some("https://app.example"), "{r:?}");
    assert_eq!(b.requests(), before, "the preflight stays at the gateway");
    let r = c.request("GET", "/cors/echo", &[("Origin", "https://app.example")], b"");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("access-control-allow-origin"), Some("https://app.example"), "{r:?}");
    let r = c.request("GET", "/cors/echo", &[("Origin", "https://evil.example")], b"");
    assert!(r.header("access-control-allow-origin").is_none(), "{r:?}");
}

#[test]
fn backends_chosen_by_policy_with_credentials_fragments_and_named_values() {
    let main_backend = Backend::normal();
    let other = Backend::normal();
    let by_url = format!(
        r#"<policies><inbound><choose><when condition="@(context.Request.Headers.GetValueOrDefault("X-Region","") == "eu")"><set-backend-service base-url="{}/eu" /></when></choose></inbound><backend><forward-request /></backend></policies>"#,
        other.url()
    );
    let by_id = r#"<policies><inbound><set-backend-service backend-id="creds" /><include-fragment fragment-id="stamp" /></inbound><backend><forward-request /></backend></policies>"#;
    let basic = r#"<policies><inbound><authentication-basic username="{{user}}" password="{{pass}}" /></inbound><backend><forward-request /></backend></policies>"#;
    let extra = json!({
        "backends": [{"id": "creds", "url": format!("{}/byid", other.url()),
                      "credentials": {"header": {"X-Backend-Key": ["{{backend-key}}"]}}}],
        "namedValues": {"user": "alice", "pass": "wonder-land", "backend-key": "bk-123", "env": "prod"},
        "policyFragments": {"stamp": "<fragment><set-header name=\"X-Env\" exists-action=\"override\"><value>{{env}}</value></set-header></fragment>"}
    });
    let apis = vec![api("route", &by_url), api("byid", by_id), api("basic", basic)];
    let gw = Gateway::start(&doc(&main_backend, None, apis, extra), &[]);

    let e = echo(&gw.get("/route/echo", &[("X-Region", "eu")]));
    assert!(e["path"].as_str().is_some_and(|p| p.starts_with("/eu/echo")), "{e}");
    assert_eq!(other.requests(), 1);
    echo(&gw.get("/route/echo", &[]));
    assert_eq!(main_backend.requests(), 1, "no region: the API's serviceUrl");

    let e = echo(&gw.get("/byid/echo", &[]));
    assert!(e["path"].as_str().is_some_and(|p| p.starts_with("/byid/echo")), "{e}");
    assert_eq!(one(&e, "x-backend-key").as_deref(), Some("bk-123"));
    assert_eq!(one(&e, "x-env").as_deref(), Some("prod"));

    let e = echo(&gw.get("/basic/echo", &[]));
    assert_eq!(one(&e, "authorization").as_deref(), Some("Basic YWxpY2U6d29uZGVyLWxhbmQ="));
    let logs = gw.log_text();
    assert!(!logs.contains("wonder-land") && !logs.contains("bk-123"), "secrets never logged");
}

#[test]
fn raw_form_documents_load_and_run() {
    let b = Backend::normal();
    // As people paste them from APIM: unescaped quotes, && and < inside expressions.
    let raw = r#"<policies><inbound><choose><when condition="@(context.Request.Headers.GetValueOrDefault("X-A","") == "1" && context.Request.Url.Path.Length < 100)"><set-header name="X-Raw" exists-action="override"><value>@{ var v = context.Request.Headers.GetValueOrDefault("X-A",""); if (v == "1") { return "yes"; } else { return "no"; } }</value></set-header></when></choose></inbound><backend><forward-request /></backend></policies>"#;
    let gw = Gateway::start(&doc(&b, None, vec![api("raw", raw)], json!({})), &[]);
    assert_eq!(one(&echo(&gw.get("/raw/echo", &[("X-A", "1")])), "x-raw").as_deref(), Some("yes"));
    assert!(one(&echo(&gw.get("/raw/echo", &[])), "x-raw").is_none());
}

#[test]
fn forward_request_follows_redirects_when_asked() {
    let b = Backend::normal();
    let other = Backend::normal();
    let follow = r#"<policies><inbound /><backend><forward-request follow-redirects="true" /></backend></policies>"#;
    let gw = Gateway::start(
        &doc(
            &b,
            None,
            vec![
                api("fr", follow),
                api("nofr", "<policies><inbound /><backend><forward-request /></backend></policies>"),
            ],
            json!({}),
        ),
        &[],
    );

    let e = echo(&gw.get("/fr/redirect/302?to=/landed", &[]));
    assert_eq!(e["path"], "/landed");
    // absolute, to another server; a POST after 303 becomes a body-less GET
    let to = format!("{}/elsewhere?x=1", other.url());
    let mut c = Conn::connect(gw.http_addr());
    let r = c.request("POST", &format!("/fr/redirect/303?to={to}"), &[], b"data");
    let e = echo(&r);
    assert_eq!(e["method"], "GET");
    assert_eq!(e["path"], "/elsewhere?x=1");
    assert_eq!(e["bodyLength"], 0);
    assert_eq!(other.requests(), 1);
    // a redirect loop ends with the last redirect answer, not a hang
    let r = gw.get("/fr/redirect/307?to=self", &[]);
    assert_eq!(r.status, 307, "{r:?}");
    // without the attribute the redirect goes back to the client
    let r = gw.get("/nofr/redirect/302?to=/landed", &[]);
    assert_eq!(r.status, 302);
    assert_eq!(r.header("location"), Some("/landed"));
}

#[test]
fn policy_examples_load_and_run() {
    let b = Backend::normal();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/policies");
    let mut apis = Vec::new();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("examples/policies")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".xml"))
        .collect();
    names.sort();
    assert!(names.len() >= 5, "{names:?}");
    for n in &names {
        let text = std::fs::read_to_string(dir.join(n)).expect("read example");
        let id = n.trim_end_matches(".xml");
        apis.push(json!({"id": id, "path": id, "policy": text,
            "operations": [{"id": "get", "method": "GET", "urlTemplate": "/orders/{id}"}]}));
    }
    let mut err_api = apis.iter().find(|a| a["id"] == "error-shaping").expect("error-shaping").clone();
    err_api["id"] = json!("down");
    err_api["path"] = json!("down");
    err_api["serviceUrl"] = json!(format!("http://127.0.0.1:{}", closed_port()));
    apis.push(err_api);
    let gw = Gateway::start(&doc(&b, None, apis, json!({})), &[]);

    let r = gw.get("/mock/orders/42", &[]);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json()["mock"], true);
    let r = gw.get("/down/orders/42", &[]);
    assert_eq!(r.status, 502, "{r:?}");
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    assert_eq!(r.json()["title"], "BackendConnectionFailure");
    let e = echo(&gw.get("/key-and-stamp/orders/1", &[]));
    assert_eq!(one(&e, "x-caller-subscription").as_deref(), Some("anonymous"));
}
