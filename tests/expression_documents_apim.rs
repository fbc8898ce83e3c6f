//! Documents in the shape of APIM's documentation examples and of the community policy
//! snippets (Azure/api-management-policy-snippets: random load balancing, 405 for methods an
//! API does not define, listing inbound headers, parsing a JWT, basic authentication, cache
//! duration from Cache-Control, filtering response content, regional routing), written for
//! these tests with the same constructs, run by the real gateway against a real recording
//! backend. Each test asserts what the backend received and what the client got.

mod common;
mod expression_support;

use common::*;
use expression_support::{api, api_doc, doc, jwt, one, post};
use serde_json::{json, Value};

/// Weighted random traffic split (`new System.Random().Next(1, 100) <= weight`): weight 0
/// never takes the override, weight 100 always does, 50 takes both lanes over many requests.
#[test]
fn random_traffic_split() {
    let b = Backend::normal();
    let split = |id: &str, weight: u32| {
        api(
            id,
            &format!(
                r#"<choose>
                    <when condition="@(new System.Random().Next(1,100) &lt;= {weight})">
                        <set-header name="X-Lane" exists-action="override"><value>canary</value></set-header>
                    </when>
                    <otherwise><set-header name="X-Lane" exists-action="override"><value>stable</value></set-header></otherwise>
                </choose>"#
            ),
            "",
        )
    };
    let gw = Gateway::start(&doc(&b, vec![split("never", 0), split("always", 100), split("half", 50)]), &[]);
    for _ in 0..10 {
        assert_eq!(one(&gw.get("/never/echo", &[]).json(), "x-lane").as_deref(), Some("stable"));
        assert_eq!(one(&gw.get("/always/echo", &[]).json(), "x-lane").as_deref(), Some("canary"));
    }
    let mut c = Conn::connect(gw.http_addr());
    let lanes: std::collections::HashSet<String> =
        (0..60).filter_map(|_| one(&c.request("GET", "/half/echo", &[], b"").json(), "x-lane")).collect();
    assert_eq!(lanes.len(), 2, "both lanes over 60 draws: {lanes:?}");
}

/// A 405 with an Allow header for methods the API does not define, decided with an array
/// and Array.IndexOf; the backend never sees the refused request.
#[test]
fn method_not_allowed_from_an_array() {
    let b = Backend::normal();
    let guard = api(
        "orders",
        r#"<choose>
            <when condition="@(Array.IndexOf(new[] { "GET", "POST" }, context.Request.Method) &lt; 0)">
                <return-response>
                    <set-status code="405" reason="Method Not Allowed" />
                    <set-header name="Allow" exists-action="override"><value>@(string.Join(", ", new[] { "GET", "POST" }))</value></set-header>
                </return-response>
            </when>
        </choose>"#,
        "",
    );
    let gw = Gateway::start(&doc(&b, vec![guard]), &[]);
    let mut c = Conn::connect(gw.http_addr());
    let r = c.request("DELETE", "/orders/echo", &[], b"");
    assert_eq!(r.status, 405, "{r:?}");
    assert_eq!(r.header("allow"), Some("GET, POST"));
    assert_eq!(b.requests(), 0, "the backend saw no request");
    let r = c.request("POST", "/orders/echo", &[], b"x");
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json()["method"], "POST");
    assert_eq!(b.requests(), 1);
}

/// Listing every inbound header into one header (the "list all inbound headers" snippet's
/// pattern: enumerate context.Request.Headers, join the values).
#[test]
fn list_inbound_headers() {
    let b = Backend::normal();
    let list = api(
        "list",
        r#"<set-header name="X-Inbound" exists-action="override"><value>@{
            var names = new List<string>();
            foreach (var h in context.Request.Headers) {
                if (h.Key.StartsWith("X-Demo", StringComparison.OrdinalIgnoreCase)) {
                    names.Add(h.Key.ToLower() + "=" + string.Join("|", h.Value));
                }
            }
            names.Sort();
            return names.Count + ":" + string.Join(";", names);
        }</value></set-header>"#,
        "",
    );
    let gw = Gateway::start(&doc(&b, vec![list]), &[]);
    let e = gw.get("/list/echo", &[("X-Demo-B", "2"), ("X-Demo-A", "1"), ("Accept", "*/*")]).json();
    assert_eq!(one(&e, "x-inbound").as_deref(), Some("2:x-demo-a=1;x-demo-b=2"), "{e}");
    let e = gw.get("/list/echo", &[]).json();
    assert_eq!(one(&e, "x-inbound").as_deref(), Some("0:"), "{e}");
}

/// Parsing a JWT in expressions (TryParseJwt with out, claims, subject, expiry) into headers
/// for the backend; a malformed token takes the fallback.
#[test]
fn parse_jwt_into_headers() {
    let b = Backend::normal();
    let parse = api(
        "jwt",
        r#"<set-variable name="jwt" value="@{
            Jwt token;
            var raw = context.Request.Headers.GetValueOrDefault("Authorization", "scheme param").Split(' ').Last();
            return raw.TryParseJwt(out token) ? token.Subject + "|" + token.Claims.GetValueOrDefault("scp", "-") + "|" + (token.ExpirationTime?.ToString("yyyy-MM-dd") ?? "none") : "invalid";
        }" />
        <set-header name="X-Jwt" exists-action="override"><value>@((string)context.Variables["jwt"])</value></set-header>
        <set-header name="Authorization" exists-action="delete" />"#,
        "",
    );
    let gw = Gateway::start(&doc(&b, vec![parse]), &[]);
    let t = jwt(&json!({"sub": "alice", "scp": "orders.read", "exp": 1767225600}));
    let e = gw.get("/jwt/echo", &[("Authorization", &format!("Bearer {t}"))]).json();
    assert_eq!(one(&e, "x-jwt").as_deref(), Some("alice|orders.read|2026-01-01"), "{e}");
    assert_eq!(one(&e, "authorization"), None, "the token was removed before the backend");
    let e = gw.get("/jwt/echo", &[("Authorization", "Bearer nope")]).json();
    assert_eq!(one(&e, "x-jwt").as_deref(), Some("invalid"), "{e}");
}

/// Basic authentication checked in expressions: wrong or missing credentials get a 401 with
/// WWW-Authenticate from return-response; right ones reach the backend without the header.
#[test]
fn basic_authentication_check() {
    let b = Backend::normal();
    let basic = api_doc(
        "basic",
        r#"<policies><inbound>
            <choose>
                <when condition="@{
                    var creds = context.Request.Headers.GetValueOrDefault("Authorization", "").AsBasic();
                    return creds == null || creds.UserId != "apim" || creds.Password != "s3cret";
                }">
                    <return-response>
                        <set-status code="401" reason="Unauthorized" />
                        <set-header name="WWW-Authenticate" exists-action="override"><value>Basic realm="orders"</value></set-header>
                    </return-response>
                </when>
            </choose>
            <set-header name="X-Caller" exists-action="override"><value>@(context.Request.Headers.GetValueOrDefault("Authorization", "").AsBasic().UserId)</value></set-header>
            <set-header name="Authorization" exists-action="delete" />
        </inbound><backend><forward-request /></backend><outbound /><on-error /></policies>"#,
    );
    let gw = Gateway::start(&doc(&b, vec![basic]), &[]);
    use base64::Engine;
    let enc = |s: &str| format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(s));
    let r = gw.get("/basic/echo", &[("Authorization", &enc("apim:wrong"))]);
    assert_eq!(r.status, 401, "{r:?}");
    assert_eq!(r.header("www-authenticate"), Some("Basic realm=\"orders\""));
    let r = gw.get("/basic/echo", &[]);
    assert_eq!(r.status, 401, "{r:?}");
    assert_eq!(b.requests(), 0);
    let r = gw.get("/basic/echo", &[("Authorization", &enc("apim:s3cret"))]);
    assert_eq!(r.status, 200, "{r:?}");
    let e = r.json();
    assert_eq!(one(&e, "x-caller").as_deref(), Some("apim"));
    assert_eq!(one(&e, "authorization"), None);
    assert_eq!(b.requests(), 1);
}

/// Cache duration from a Cache-Control max-age (the snippet's named-group regex,
/// `Groups["maxAge"]?.Value`), echoed to the client as a header computed in outbound.
#[test]
fn cache_duration_from_cache_control() {
    let b = Backend::normal();
    let cache = api(
        "cache",
        r#"<set-variable name="maxAge" value="@{
            var header = context.Request.Headers.GetValueOrDefault("Cache-Control", "");
            var m = Regex.Match(header, @"max-age=(?<maxAge>\d+)");
            return m.Success ? int.Parse(m.Groups["maxAge"]?.Value) : 60;
        }" />"#,
        r#"<set-header name="X-Cache-Duration" exists-action="override"><value>@(Math.Min(context.Variables.GetValueOrDefault<int>("maxAge"), 3600).ToString())</value></set-header>"#,
    );
    let gw = Gateway::start(&doc(&b, vec![cache]), &[]);
    let r = gw.get("/cache/echo", &[("Cache-Control", "public, max-age=120")]);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("x-cache-duration"), Some("120"));
    assert_eq!(one(&r.json(), "cache-control").as_deref(), Some("public, max-age=120"), "the backend got it unchanged");
    assert_eq!(gw.get("/cache/echo", &[("Cache-Control", "max-age=86400")]).header("x-cache-duration"), Some("3600"));
    assert_eq!(gw.get("/cache/echo", &[]).header("x-cache-duration"), Some("60"));
}

/// Filtering response content by the caller (the "filter response content based on product
/// name" snippet's pattern): without the privileged product, properties are removed from the
/// backend's JSON before the client sees it.
#[test]
fn filter_response_content() {
    let b = Backend::normal();
    let filter = api(
        "filter",
        "",
        r#"<choose>
            <when condition="@(context.Response.StatusCode == 200 &amp;&amp; (context.Product?.Name ?? "none") != "Unlimited")">
                <set-body>@{
                    var response = context.Response.Body.As<JObject>();
                    foreach (var key in new[] { "headers", "connection", "bodyFnv" }) {
                        response.Property(key)?.Remove();
                    }
                    response["filtered"] = true;
                    return response.ToString(Newtonsoft.Json.Formatting.None);
                }</set-body>
            </when>
        </choose>"#,
    );
    let gw = Gateway::start(&doc(&b, vec![filter]), &[]);
    let r = gw.get("/filter/echo?q=1", &[]);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.text(), r#"{"bodyLength":0,"method":"GET","path":"/echo?q=1","filtered":true}"#);
    assert_eq!(b.requests(), 1);
}

/// Regional routing (the "route requests to regional backend instances" snippet's pattern,
/// driven by a header here): a dictionary of regions picks the path prefix the backend sees.
#[test]
fn regional_routing_rewrites_the_path() {
    let b = Backend::normal();
    let route = api(
        "geo",
        r#"<set-variable name="region" value="@{
            var regions = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { { "westeurope", "eu" }, { "eastus", "us" } };
            var wanted = context.Request.Headers.GetValueOrDefault("X-Region", "");
            return regions.ContainsKey(wanted) ? regions[wanted] : "global";
        }" />
        <rewrite-uri template="@("/echo/" + (string)context.Variables["region"] + context.Request.Url.Path.Substring(context.Request.Url.Path.IndexOf("/echo") + 5))" />"#,
        "",
    );
    let gw = Gateway::start(&doc(&b, vec![route]), &[]);
    let e = gw.get("/geo/echo/orders/1", &[("X-Region", "WestEurope")]).json();
    assert_eq!(e["path"], "/echo/eu/orders/1", "{e}");
    let e = gw.get("/geo/echo/orders/2", &[("X-Region", "mars")]).json();
    assert_eq!(e["path"], "/echo/global/orders/2", "{e}");
}

/// APIM's documentation forms with C# comments, in the raw (unescaped) form: `//` comments
/// holding apostrophes and brackets, a `/* */` comment, an array built and sorted in place.
#[test]
fn commented_blocks_with_arrays() {
    let b = Backend::normal();
    let commented = api(
        "notes",
        r#"<set-header name="X-Sorted" exists-action="override"><value>@{
            // don't trust the caller's order [sorted here]
            var parts = context.Request.Headers.GetValueOrDefault("X-Parts", "").Split(',').ToArray();
            Array.Sort(parts); /* culture order: it's "a" before "B" */
            var firstLong = Array.FindIndex(parts, p => p.Length > 3);
            return string.Join("+", parts) + "/" + firstLong + "/" + parts.Length;
        }</value></set-header>"#,
        "",
    );
    let gw = Gateway::start(&doc(&b, vec![commented]), &[]);
    let e = gw.get("/notes/echo", &[("X-Parts", "delta,B,a,charlie")]).json();
    assert_eq!(one(&e, "x-sorted").as_deref(), Some("a+B+charlie+delta/2/4"), "{e}");
}

/// A JSON request body checked against a list with LINQ over an array, an unknown value
/// refused with 400 and a JSON error body built with JObject; valid bodies reach the backend
/// unchanged (preserveContent).
#[test]
fn validate_body_values_against_a_list() {
    let b = Backend::normal();
    let check = api(
        "check",
        r#"<set-variable name="bad" value="@{
            var body = context.Request.Body.As<JObject>(preserveContent: true);
            var allowed = new[] { "small", "medium", "large" };
            var sizes = body["items"].Select(i => (string)i["size"]).ToArray();
            return string.Join(",", sizes.Where(s => !allowed.Contains(s)));
        }" />
        <choose>
            <when condition="@(((string)context.Variables["bad"]).Length &gt; 0)">
                <return-response>
                    <set-status code="400" reason="Bad Request" />
                    <set-header name="Content-Type" exists-action="override"><value>application/json</value></set-header>
                    <set-body>@(new JObject(new JProperty("error", "unknown sizes"), new JProperty("values", new JArray(((string)context.Variables["bad"]).Split(',')))).ToString(Newtonsoft.Json.Formatting.None))</set-body>
                </return-response>
            </when>
        </choose>"#,
        "",
    );
    let gw = Gateway::start(&doc(&b, vec![check]), &[]);
    let r = post(
        &gw,
        "/check/echo",
        "application/json",
        br#"{"items":[{"size":"small"},{"size":"huge"},{"size":"tiny"}]}"#,
    );
    assert_eq!(r.status, 400, "{r:?}");
    assert_eq!(r.text(), r#"{"error":"unknown sizes","values":["huge","tiny"]}"#);
    assert_eq!(b.requests(), 0);
    let good = br#"{"items":[{"size":"small"},{"size":"large"}]}"#;
    let r = post(&gw, "/check/echo", "application/json", good);
    assert_eq!(r.status, 200, "{r:?}");
    let e: Value = r.json();
    assert_eq!(e["bodyFnv"], fnv_hex(good), "{e}");
}
