//! Complete policy documents in the style of APIM's documentation and community examples,
//! with the C# their expressions use (JSON rewrites with Newtonsoft's model, JWT claims for
//! routing, LINQ over headers, statements, try/catch fallbacks, collections), run by the real
//! gateway against a real recording backend. Also: a runaway loop and a huge StringBuilder
//! each fail their own request cleanly while other requests on the same worker succeed.

mod common;
mod expression_support;

use common::backend::echoed_headers;
use common::*;
use expression_support::{api, doc, jwt, one};
use serde_json::{json, Value};

/// JSON body rewrites of the request (add, remove, rename, compute) seen by the backend, and
/// of the response seen by the client.
#[test]
fn json_rewrites_reach_backend_and_client() {
    let b = Backend::normal();
    // APIM docs' pattern: parse, modify, return the serialised token from set-body.
    let req_rewrite = api(
        "reqjson",
        r#"<set-body>@{
            var body = context.Request.Body.As<JObject>(preserveContent: true);
            body["source"] = "gateway";
            body.Remove("internal");
            var name = body["name"];
            body.Remove("name");
            body["fullName"] = name;
            var total = 0.0;
            foreach (var item in (JArray)body["items"]) {
                var line = (double)item["price"] * (int)item["qty"];
                item["line"] = line;
                total += line;
            }
            body["total"] = total;
            return body.ToString(Newtonsoft.Json.Formatting.None);
        }</set-body>"#,
        "",
    );
    let resp_rewrite = api(
        "respjson",
        "",
        r#"<set-body>@{
            var response = context.Response.Body.As<JObject>();
            response["gateway"] = "ringgate";
            response.Property("connection").Remove();
            var headers = (JArray)response["headers"];
            response["headerCount"] = headers.Count;
            response.Remove("headers");
            response.Remove("bodyFnv");
            return response.ToString();
        }</set-body>"#,
    );
    let gw = Gateway::start(&doc(&b, vec![req_rewrite, resp_rewrite]), &[]);
    let mut c = Conn::connect(gw.http_addr());

    let input = br#"{"name":"Bob","internal":"x","items":[{"price":2.5,"qty":2},{"price":1,"qty":3}]}"#;
    let r = c.request("POST", "/reqjson/echo", &[("Content-Type", "application/json")], input);
    assert_eq!(r.status, 200, "{r:?}");
    let want = r#"{"items":[{"price":2.5,"qty":2,"line":5.0},{"price":1,"qty":3,"line":3.0}],"source":"gateway","fullName":"Bob","total":8.0}"#;
    let e = r.json();
    assert_eq!(e["bodyFnv"], fnv_hex(want.as_bytes()), "the backend got the rewritten body: {e}");
    assert_eq!(e["bodyLength"], want.len());

    let r = c.request("GET", "/respjson/echo?x=1", &[], b"");
    assert_eq!(r.status, 200, "{r:?}");
    let text = r.text();
    let v: Value = serde_json::from_str(&text).expect("json");
    let n = v["headerCount"].as_i64().unwrap_or(0);
    // Newtonsoft's indented format, properties in document order, new ones last.
    let want = format!("{{\n  \"bodyLength\": 0,\n  \"method\": \"GET\",\n  \"path\": \"/echo?x=1\",\n  \"gateway\": \"ringgate\",\n  \"headerCount\": {n}\n}}");
    assert_eq!(text, want);
    assert_eq!(v["gateway"], "ringgate");
    assert!(v.get("connection").is_none() && v.get("headers").is_none(), "{v}");
    assert!(v["headerCount"].as_i64().unwrap_or(0) >= 1, "{v}");
}

/// Claims from a JWT decide the route; the region compare is OrdinalIgnoreCase (today's bug
/// sent "east asia" to the default backend).
#[test]
fn jwt_claims_route_with_case_insensitive_comparison() {
    let b = Backend::normal();
    let routing = api(
        "route",
        r#"<set-variable name="region" value="@(context.Request.Headers.GetValueOrDefault("Authorization","").Split(' ').Last().AsJwt()?.Claims.GetValueOrDefault("region", "") ?? "")" />
        <choose>
            <when condition="@(((string)context.Variables["region"]).Equals("East Asia", StringComparison.OrdinalIgnoreCase))">
                <set-header name="X-Backend-Pool" exists-action="override"><value>asia</value></set-header>
            </when>
            <when condition="@(context.Request.Headers.GetValueOrDefault("Authorization","").Split(' ').Last().AsJwt()?.Claims["roles"].Contains("admin") == true)">
                <set-header name="X-Backend-Pool" exists-action="override"><value>admin</value></set-header>
            </when>
            <otherwise>
                <set-header name="X-Backend-Pool" exists-action="override"><value>default</value></set-header>
            </otherwise>
        </choose>"#,
        "",
    );
    let gw = Gateway::start(&doc(&b, vec![routing]), &[]);
    let token = |c: &Value| format!("Bearer {}", jwt(c));
    let pool = |auth: &str| {
        let r = gw.get("/route/echo", &[("Authorization", auth)]);
        assert_eq!(r.status, 200, "{r:?}");
        one(&r.json(), "x-backend-pool")
    };
    assert_eq!(pool(&token(&json!({"region": "east asia"}))).as_deref(), Some("asia"));
    assert_eq!(pool(&token(&json!({"region": "EAST ASIA", "roles": ["admin"]}))).as_deref(), Some("asia"));
    assert_eq!(pool(&token(&json!({"region": "west europe", "roles": ["admin", "x"]}))).as_deref(), Some("admin"));
    assert_eq!(pool(&token(&json!({"region": "west europe", "roles": ["reader"]}))).as_deref(), Some("default"));
    assert_eq!(pool("not a token").as_deref(), Some("default"));
}

/// Headers built with LINQ, Guid correlation ids, basic credentials, base64, switch
/// statements, dictionaries and StringBuilder: the everyday expressions of community policies.
#[test]
fn header_documents() {
    let b = Backend::normal();
    let apis = vec![
        api(
            "linq",
            // The count first: the second set-header reads the header as the first left it.
            r#"<set-header name="X-Tag-Count" exists-action="override"><value>@(context.Request.Headers.GetValueOrDefault("X-Tags","").Split(',').Count(t => !string.IsNullOrWhiteSpace(t)).ToString())</value></set-header>
            <set-header name="X-Tags" exists-action="override"><value>@(string.Join(";", context.Request.Headers.GetValueOrDefault("X-Tags","").Split(new[] { ',' }, StringSplitOptions.RemoveEmptyEntries).Select(t => t.Trim().ToLowerInvariant()).Where(t => t.Length > 0).Distinct().OrderBy(t => t)))</value></set-header>"#,
            "",
        ),
        api(
            "corr",
            r#"<set-header name="X-Correlation-Id" exists-action="skip"><value>@(Guid.NewGuid().ToString())</value></set-header>
            <set-header name="X-Trace" exists-action="override"><value>@($"{context.Request.Headers.GetValueOrDefault("X-Correlation-Id", "new")}|{context.Request.Method}")</value></set-header>"#,
            "",
        ),
        api(
            "basic",
            r#"<set-header name="X-User" exists-action="override"><value>@(context.Request.Headers.GetValueOrDefault("Authorization","").AsBasic()?.UserId ?? "anonymous")</value></set-header>
            <set-header name="X-Encoded" exists-action="override"><value>@(Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(context.Request.Url.Query.GetValueOrDefault("name", "") + ":" + context.Request.Method)))</value></set-header>"#,
            "",
        ),
        api(
            "tier",
            r#"<set-header name="X-Rate" exists-action="override"><value>@{
                var tier = context.Request.Url.Query.GetValueOrDefault("tier", "free");
                switch (tier.ToLowerInvariant()) {
                    case "gold": return "1000";
                    case "silver":
                    case "bronze": return "100";
                    default: return "10";
                }
            }</value></set-header>
            <set-header name="X-Region-Url" exists-action="override"><value>@{
                var map = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) {
                    { "eu", "https://eu.example" },
                    { "us", "https://us.example" },
                };
                string url;
                return map.TryGetValue(context.Request.Url.Query.GetValueOrDefault("region", ""), out url) ? url : "https://global.example";
            }</value></set-header>
            <set-header name="X-Summary" exists-action="override"><value>@{
                var sb = new StringBuilder();
                for (var i = 0; i < 3; i++) {
                    if (i > 0) { sb.Append(','); }
                    sb.Append(i * i);
                }
                return sb.ToString();
            }</value></set-header>"#,
            "",
        ),
        api(
            "enumerate",
            // Enumerating the request's headers (APIM's IReadOnlyDictionary<string, string[]>).
            r#"<set-header name="X-Custom-Seen" exists-action="override"><value>@(string.Join(",", context.Request.Headers.Where(h => h.Key.StartsWith("X-Custom-", StringComparison.OrdinalIgnoreCase)).Select(h => h.Key.ToLowerInvariant() + "=" + string.Join("|", h.Value)).OrderBy(x => x)))</value></set-header>"#,
            "",
        ),
    ];
    let gw = Gateway::start(&doc(&b, apis), &[]);

    let e = gw.get("/enumerate/echo", &[("X-Custom-B", "2"), ("x-custom-a", "1"), ("Other", "no")]).json();
    assert_eq!(one(&e, "x-custom-seen").as_deref(), Some("x-custom-a=1,x-custom-b=2"), "{e}");

    let e = gw.get("/linq/echo", &[("X-Tags", " Beta, alpha,,BETA , gamma ")]).json();
    assert_eq!(one(&e, "x-tags").as_deref(), Some("alpha;beta;gamma"), "{e}");
    assert_eq!(one(&e, "x-tag-count").as_deref(), Some("4"), "{e}");

    let e = gw.get("/corr/echo", &[]).json();
    let id = one(&e, "x-correlation-id").expect("a generated id");
    assert_eq!(id.len(), 36, "{id}");
    assert_eq!(id.as_bytes()[14], b'4', "a version-4 guid: {id}");
    let e = gw.get("/corr/echo", &[("X-Correlation-Id", "abc")]).json();
    assert_eq!(one(&e, "x-correlation-id").as_deref(), Some("abc"), "skip keeps the caller's id");
    assert_eq!(one(&e, "x-trace").as_deref(), Some("abc|GET"));

    let e = gw.get("/basic/echo?name=amy", &[("Authorization", "Basic dXNlcjpwYXNz")]).json();
    assert_eq!(one(&e, "x-user").as_deref(), Some("user"));
    assert_eq!(one(&e, "x-encoded").as_deref(), Some("YW15OkdFVA=="), "base64 of amy:GET");
    let e = gw.get("/basic/echo", &[]).json();
    assert_eq!(one(&e, "x-user").as_deref(), Some("anonymous"));

    let e = gw.get("/tier/echo?tier=Gold&region=EU", &[]).json();
    assert_eq!(one(&e, "x-rate").as_deref(), Some("1000"));
    assert_eq!(one(&e, "x-region-url").as_deref(), Some("https://eu.example"));
    assert_eq!(one(&e, "x-summary").as_deref(), Some("0,1,4"));
    let e = gw.get("/tier/echo?tier=bronze", &[]).json();
    assert_eq!(one(&e, "x-rate").as_deref(), Some("100"));
    assert_eq!(one(&e, "x-region-url").as_deref(), Some("https://global.example"));
}

/// try/catch fallbacks, variables holding a JObject across policies, and an exception the
/// expression throws reaching on-error as ExpressionValueEvaluationFailure.
#[test]
fn fallbacks_variables_and_errors() {
    let b = Backend::normal();
    let tenant = api(
        "tenant",
        r#"<set-header name="X-Tenant" exists-action="override"><value>@{
            try {
                var body = context.Request.Body.As<JObject>(preserveContent: true);
                return (string)body["tenant"] ?? "none";
            } catch (JsonReaderException) {
                return "invalid-json";
            } catch (Exception e) {
                return "error:" + e.Message;
            }
        }</value></set-header>"#,
        "",
    );
    let vars = api(
        "vars",
        r#"<set-variable name="payload" value="@(context.Request.Body.As<JObject>(preserveContent: true))" />
        <set-variable name="count" value="@(((JObject)context.Variables["payload"])["ids"].Count())" />
        <set-header name="X-First" exists-action="override"><value>@(((JObject)context.Variables["payload"])["ids"].First().ToString())</value></set-header>
        <set-header name="X-Count" exists-action="override"><value>@(context.Variables.GetValueOrDefault<int>("count").ToString())</value></set-header>"#,
        "",
    );
    let thrower = json!({"id": "throw", "path": "throw", "policy": r#"<policies><inbound><set-header name="X-Never" exists-action="override"><value>@{ if (context.Request.Method == "GET") { throw new InvalidOperationException("no GET here"); } return "ok"; }</value></set-header></inbound><backend><forward-request /></backend><on-error><return-response><set-status code="418" reason="Caught" /><set-header name="X-Reason" exists-action="override"><value>@(context.LastError.Reason)</value></set-header><set-body>@(context.LastError.Message)</set-body></return-response></on-error></policies>"#});
    let gw = Gateway::start(&doc(&b, vec![tenant, vars, thrower]), &[]);
    let mut c = Conn::connect(gw.http_addr());

    let e = c.request("POST", "/tenant/echo", &[], br#"{"tenant":"contoso"}"#).json();
    assert_eq!(one(&e, "x-tenant").as_deref(), Some("contoso"));
    let e = c.request("POST", "/tenant/echo", &[], br#"{"tenant":nope"#).json();
    assert_eq!(one(&e, "x-tenant").as_deref(), Some("invalid-json"));
    let e = c.request("POST", "/tenant/echo", &[], br#"{"other":1}"#).json();
    assert_eq!(one(&e, "x-tenant").as_deref(), Some("none"));

    let e = c.request("POST", "/vars/echo", &[], br#"{"ids":[7,8,9]}"#).json();
    assert_eq!(one(&e, "x-first").as_deref(), Some("7"));
    assert_eq!(one(&e, "x-count").as_deref(), Some("3"));

    let r = c.request("GET", "/throw/echo", &[], b"");
    assert_eq!(r.status, 418, "{r:?}");
    assert_eq!(r.header("x-reason"), Some("ExpressionValueEvaluationFailure"));
    assert!(r.text().contains("no GET here"), "{}", r.text());
}

/// A document whose expression does not compile is refused at load with line:column and the
/// member's name, and the gateway keeps serving the previous configuration.
#[test]
fn load_time_refusals_name_the_member() {
    let b = Backend::normal();
    let good = api("ok", "", "");
    let gw = Gateway::start(&doc(&b, vec![good]), &[]);
    assert_eq!(gw.get("/ok/echo", &[]).status, 200);
    let bad =
        api("bad", r#"<set-header name="X" exists-action="override"><value>@("a".Foo())</value></set-header>"#, "");
    let mut d: Value = serde_json::from_str(&doc(&b, vec![api("ok", "", ""), bad])).expect("json");
    d["revision"] = json!("e2");
    gw.write_config(&d.to_string());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let logs = gw.log_text();
        if logs.contains("System.String.Foo() is not yet supported by ringgate") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no refusal logged:\n{logs}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(gw.get("/ok/echo", &[]).status, 200, "the previous configuration still serves");
    assert_eq!(gw.get("/bad/echo", &[]).status, 404, "the refused document did not load");
}

/// A runaway loop and a 100 MB StringBuilder each fail their own request with
/// ExpressionValueEvaluationFailure, quickly, while a concurrent load on the same (only)
/// worker sees no error.
#[test]
fn runaway_expressions_fail_alone() {
    let b = Backend::normal();
    let spin = json!({"id": "spin", "path": "spin", "policy": r#"<policies><inbound><set-header name="X" exists-action="override"><value>@{ var i = 0; while (true) { i++; } }</value></set-header></inbound><backend><forward-request /></backend><on-error><return-response><set-status code="500" reason="Budget" /><set-body>@(context.LastError.Reason + ": " + context.LastError.Message)</set-body></return-response></on-error></policies>"#});
    let big = json!({"id": "big", "path": "big", "policy": r#"<policies><inbound><set-header name="X" exists-action="override"><value>@{ var sb = new StringBuilder(); var chunk = new string('x', 1048576); for (var i = 0; i < 100; i++) { sb.Append(chunk); } return sb.Length.ToString(); }</value></set-header></inbound><backend><forward-request /></backend><on-error><return-response><set-status code="500" reason="Budget" /><set-body>@(context.LastError.Reason + ": " + context.LastError.Message)</set-body></return-response></on-error></policies>"#});
    let caught = json!({"id": "caught", "path": "caught", "policy": r#"<policies><inbound><set-header name="X" exists-action="override"><value>@{ try { while (true) { } } catch (Exception) { return "caught"; } }</value></set-header></inbound><backend><forward-request /></backend></policies>"#});
    let fine = api(
        "fine",
        r#"<set-header name="X-Ok" exists-action="override"><value>@(new[] { 1, 2, 3 }.Sum().ToString())</value></set-header>"#,
        "",
    );
    let gw = Gateway::start(&doc(&b, vec![spin, big, caught, fine]), &["runtime.workers=1"]);

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let addr = gw.http_addr();
    let load = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut c = Conn::connect(addr);
            let (mut ok, mut bad) = (0u32, 0u32);
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let r = c.request("GET", "/fine/echo", &[], b"");
                if r.status == 200 && echoed_headers(&r.json(), "x-ok") == ["6"] {
                    ok += 1;
                } else {
                    bad += 1;
                }
            }
            (ok, bad)
        })
    };
    let mut c = Conn::connect(gw.http_addr());
    for path in ["/spin/echo", "/big/echo", "/spin/echo", "/big/echo"] {
        let t = std::time::Instant::now();
        let r = c.request("GET", path, &[], b"");
        let took = t.elapsed();
        assert_eq!(r.status, 500, "{path}: {r:?}");
        let text = r.text();
        assert!(text.starts_with("ExpressionValueEvaluationFailure: "), "{path}: {text}");
        assert!(text.contains("budget"), "{path}: {text}");
        assert!(took < std::time::Duration::from_secs(5), "{path} took {took:?}");
    }
    // `catch (Exception)` does not stop a budget failure.
    let r = c.request("GET", "/caught/echo", &[], b"");
    assert_eq!(r.status, 500, "{r:?}");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (ok, bad) = load.join().expect("load thread");
    assert_eq!(bad, 0, "the concurrent load saw errors ({ok} ok)");
    assert!(ok > 0, "the concurrent load made progress");
}

/// Documents that use the .NET libraries: an HMAC signature computed for the backend, an id
/// extracted from the path with a regex, date-based routing and an ISO timestamp header.
#[test]
fn library_documents() {
    use hmac::Mac;
    let b = Backend::normal();
    let sign = api(
        "sign",
        r#"<set-header name="X-Signature" exists-action="override"><value>@{
            var key = Encoding.UTF8.GetBytes("s3cret");
            var payload = context.Request.Method + "\n" + context.Request.Url.Path + "\n" + context.Request.Headers.GetValueOrDefault("X-Date", "");
            var hmac = new System.Security.Cryptography.HMACSHA256(key);
            return Convert.ToBase64String(hmac.ComputeHash(Encoding.UTF8.GetBytes(payload)));
        }</value></set-header>"#,
        "",
    );
    let extract = api(
        "cust",
        r#"<set-header name="X-Customer" exists-action="override"><value>@{
            var m = Regex.Match(context.Request.Url.Path, @"/customers/(?<id>\d+)(/|$)");
            return m.Success ? m.Groups["id"].Value : "unknown";
        }</value></set-header>
        <set-header name="X-Era" exists-action="override"><value>@(DateTime.UtcNow >= new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc) ? "current" : "legacy")</value></set-header>
        <set-header name="X-Stamp" exists-action="override"><value>@(DateTime.UtcNow.ToString("o"))</value></set-header>
        <set-header name="X-Ttl" exists-action="override"><value>@(TimeSpan.FromMinutes(90).TotalSeconds.ToString())</value></set-header>"#,
        "",
    );
    let gw = Gateway::start(&doc(&b, vec![sign, extract]), &[]);

    let e = gw.get("/sign/echo/x", &[("X-Date", "2026-01-01")]).json();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"s3cret").expect("key");
    mac.update(b"GET\n/sign/echo/x\n2026-01-01");
    use base64::Engine;
    let want = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    assert_eq!(one(&e, "x-signature").as_deref(), Some(want.as_str()), "{e}");

    let e = gw.get("/cust/customers/4711/orders", &[]).json();
    assert_eq!(one(&e, "x-customer").as_deref(), Some("4711"));
    assert_eq!(one(&e, "x-era").as_deref(), Some("current"));
    assert_eq!(one(&e, "x-ttl").as_deref(), Some("5400"));
    let stamp = one(&e, "x-stamp").expect("stamp");
    assert_eq!(stamp.len(), 28, "round-trip format yyyy-MM-ddTHH:mm:ss.fffffffZ: {stamp}");
    assert!(stamp.ends_with('Z') && stamp.as_bytes()[10] == b'T', "{stamp}");
    let e = gw.get("/cust/other", &[]).json();
    assert_eq!(one(&e, "x-customer").as_deref(), Some("unknown"));
}

/// APIM's AES helper: a header encrypted by the caller (AES-128-CBC, PKCS7) is decrypted by
/// the policy and forwarded in clear; a header that does not decrypt takes the catch branch.
#[test]
fn aes_decrypt_of_a_header() {
    use aes::cipher::{BlockEncrypt, KeyInit};
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let key: [u8; 16] = *b"0123456789abcdef";
    let iv: [u8; 16] = *b"fedcba9876543210";
    // One CBC block: "user-42" padded with PKCS7 (nine 0x09 bytes), XORed with the IV.
    let mut block = [9u8; 16];
    block[..7].copy_from_slice(b"user-42");
    for (x, v) in block.iter_mut().zip(iv) {
        *x ^= v;
    }
    let mut ga = aes::cipher::generic_array::GenericArray::from(block);
    aes::Aes128::new(&key.into()).encrypt_block(&mut ga);
    let token = b64.encode(ga);

    let b = Backend::normal();
    let policy = format!(
        r#"<set-header name="X-User" exists-action="override"><value>@{{
            try {{
                var key = Convert.FromBase64String("{}");
                var iv = Convert.FromBase64String("{}");
                var secret = Convert.FromBase64String(context.Request.Headers.GetValueOrDefault("X-Enc", ""));
                return Encoding.UTF8.GetString(secret.Decrypt("Aes", key, iv));
            }} catch (Exception) {{
                return "undecryptable";
            }}
        }}</value></set-header>"#,
        b64.encode(key),
        b64.encode(iv)
    );
    let gw = Gateway::start(&doc(&b, vec![api("aes", &policy, "")]), &[]);
    let e = gw.get("/aes/echo", &[("X-Enc", &token)]).json();
    assert_eq!(one(&e, "x-user").as_deref(), Some("user-42"), "{e}");
    let e = gw.get("/aes/echo", &[("X-Enc", "AAAAAAAAAAAAAAAAAAAAAA==")]).json();
    assert_eq!(one(&e, "x-user").as_deref(), Some("undecryptable"), "{e}");
}
