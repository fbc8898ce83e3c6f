//! Expression table tests: each row is (source as written, expected text or error marker).

use crate::policy::expr::jwt::make_jwt;
use crate::policy::runtime::PolicyContext;
use crate::policy::testkit::{eval_with, info, FakeReq};

fn req() -> FakeReq {
    let jwt = make_jwt(
        &serde_json::json!({"sub": "alice", "aud": ["api://orders", "x"], "roles": ["admin", "reader"], "tid": "t1", "exp": 1700000000}),
    );
    FakeReq::new("GET", "/orders/items/42?format=json&q=a%20b")
        .h("Authorization", &format!("Bearer {jwt}"))
        .h("X-Basic", "Basic dXNlcjpwYXNz")
        .h("Content-Type", "application/json")
        .h("X-Num", "17")
}

fn check(rows: &[(&str, &str)]) {
    let r = req();
    let mut ctx = PolicyContext::new(&r, info("10.1.2.3"));
    ctx.matched = vec![("id", "42".into())];
    ctx.set_variable("n", crate::policy::expr::Value::Int(5));
    ctx.set_variable("s", crate::policy::expr::Value::str("hello"));
    ctx.request_body =
        Some(std::sync::Arc::from(&br#"{"name":"Bob","age":31,"tags":["a","b"],"nested":{"k":"v"}}"#[..]));
    for (src, want) in rows {
        let got = match eval_with(src, &ctx) {
            Ok(v) => v.to_text(),
            Err(e) => format!("ERR {e}"),
        };
        if let Some(prefix) = want.strip_prefix("ERR") {
            assert!(
                got.starts_with("ERR") && got.contains(prefix.trim()),
                "{src}: want error containing {prefix:?}, got {got:?}"
            );
        } else {
            assert_eq!(&got, want, "{src}");
        }
    }
}

#[test]
fn literals_and_operators() {
    check(&[
        ("@(1 + 2 * 3)", "7"),
        ("@((1 + 2) * 3 % 4)", "1"),
        ("@(7 / 2)", "3"),
        ("@(7.0 / 2)", "3.5"),
        ("@(\"a\" + 1 + true)", "a1True"),
        ("@(1 < 2 && 2 <= 2 && 3 > 2 && 3 >= 4 == false)", "True"),
        ("@(!(1 == 1) || 1 != 2)", "True"),
        ("@(null ?? \"d\")", "d"),
        ("@(1 == 1 ? \"y\" : \"n\")", "y"),
        ("@(@\"c:\\x\"\"q\")", "c:\\x\"q"),
        ("@(\"tab\\tend\")", "tab\tend"),
        ("@($\"id={context.Request.MatchedParameters[\"id\"]}, n={1 + 1}\")", "id=42, n=2"),
        ("@(-5 + 2)", "-3"),
        ("@(1 / 0)", "ERR Attempted to divide by zero"),
        ("@{ long x = 9223372036854775807; return x + 1; }", "-9223372036854775808"),
        ("literal text", "literal text"),
    ]);
}

#[test]
fn context_lookups() {
    check(&[
        ("@(context.Request.Method)", "GET"),
        ("@(context.Request.IpAddress)", "10.1.2.3"),
        ("@(context.Request.Url.Path)", "/orders/items/42"),
        ("@(context.Request.Url.Host)", "api.contoso.local"),
        ("@(context.Request.Url.Port)", "443"),
        ("@(context.Request.Url.QueryString)", "?format=json&q=a%20b"),
        ("@(context.Request.Url.Query.GetValueOrDefault(\"q\", \"\"))", "a b"),
        ("@(context.Request.Url.Query.GetValueOrDefault(\"missing\", \"dflt\"))", "dflt"),
        ("@(context.Request.Headers.GetValueOrDefault(\"x-num\", \"0\"))", "17"),
        ("@(context.Request.Headers.GetValueOrDefault(\"X-NUM\"))", "17"),
        ("@(context.Request.Headers.GetValueOrDefault(\"nope\", \"z\"))", "z"),
        ("@(context.Request.Headers.ContainsKey(\"Content-Type\"))", "True"),
        ("@(context.Request.Headers[\"x-num\"][0])", "17"),
        ("@(context.Request.MatchedParameters.GetValueOrDefault(\"nope\", \"d\"))", "d"),
        ("@(context.Variables[\"n\"])", "5"),
        ("@(context.Variables.GetValueOrDefault<int>(\"n\", 0) + 1)", "6"),
        ("@(context.Variables.GetValueOrDefault<string>(\"missing\", \"none\"))", "none"),
        ("@(context.Variables.ContainsKey(\"s\"))", "True"),
        ("@(context.Variables[\"missing\"])", "ERR was not present in the dictionary"),
        ("@((string)context.Variables[\"s\"])", "hello"),
        ("@((int)context.Variables[\"s\"])", "ERR Unable to cast"),
        ("@(context.Subscription.Id + \"/\" + context.Product.Name + \"/\" + context.Api.Name)", "sub1/Starter/Orders"),
        ("@(context.Operation.UrlTemplate)", "/items/{id}"),
        ("@(context.User.Id)", "u1"),
        ("@(context.Deployment.Region)", "dc-west"),
        ("@(context.RequestId)", "req-1"),
        ("@(context.LastError?.Reason ?? \"none\")", "none"),
        ("@(context.LastError.Reason)", "ERR Object reference"),
        ("@(context.Response?.StatusCode)", ""),
        ("@(context.Response.StatusCode)", "ERR Object reference"),
    ]);
}

#[test]
fn string_methods_and_statics() {
    check(&[
        ("@(\"  Hello \".Trim().ToLower())", "hello"),
        ("@(\"abc\".ToUpper().Length)", "3"),
        ("@(\"abcdef\".Substring(2, 3))", "cde"),
        ("@(\"abcdef\".Substring(4))", "ef"),
        ("@(\"abc\".Substring(5))", "ERR Index and length must refer to a location within the string"),
        ("@(\"a-b-c\".Replace(\"-\", \"+\"))", "a+b+c"),
        ("@(\"a,b,,c\".Split(',')[3])", "c"),
        ("@(\"a,b,,c\".Split(new char[] {','}).Length)", "4"),
        ("@(\"a b\".Split(' ').Length)", "2"),
        ("@(\"Bearer xyz\".Split(' ').Last())", "xyz"),
        ("@(\"hello\".IndexOf(\"l\"))", "2"),
        ("@(\"Hello\".StartsWith(\"he\", StringComparison.OrdinalIgnoreCase))", "True"),
        ("@(\"Hello\".EndsWith(\"lo\") && \"Hello\".Contains(\"ell\"))", "True"),
        ("@(string.IsNullOrEmpty(context.Request.Headers.GetValueOrDefault(\"nope\")))", "True"),
        ("@(String.Concat(\"a\", 1, \"b\"))", "a1b"),
        ("@(String.Format(\"{0}-{1}\", \"x\", 2))", "x-2"),
        ("@(int.Parse(\"41\") + 1)", "42"),
        ("@(int.Parse(\"x\"))", "ERR format"),
        ("@(Convert.ToBase64String(Encoding.UTF8.GetBytes(\"user:pass\")))", "dXNlcjpwYXNz"),
        ("@(Encoding.UTF8.GetString(Convert.FromBase64String(\"aGk=\")))", "hi"),
        ("@(42.ToString() + \"!\")", "42!"),
        ("@(System.IO.File.ReadAllText(\"/etc/passwd\"))", "ERR not allowed in APIM policy expressions"),
        ("@(Environment.GetEnvironmentVariable(\"HOME\"))", "ERR not allowed in APIM policy expressions"),
    ]);
}

#[test]
fn jwt_basic_json_and_blocks() {
    check(&[
        ("@(context.Request.Headers.GetValueOrDefault(\"Authorization\",\"\").AsJwt()?.Subject)", "alice"),
        ("@(context.Request.Headers.GetValueOrDefault(\"Authorization\",\"\").AsJwt()?.Claims.GetValueOrDefault(\"roles\", \"\"))", "admin,reader"),
        ("@(context.Request.Headers.GetValueOrDefault(\"Authorization\",\"\").AsJwt().Audiences.Contains(\"api://orders\"))", "True"),
        ("@(context.Request.Headers.GetValueOrDefault(\"Authorization\",\"\").AsJwt().ExpirationTime)", "11/14/2023 22:13:20"),
        ("@(context.Request.Headers.GetValueOrDefault(\"Authorization\",\"\").AsJwt().ExpirationTime?.ToString(\"yyyy-MM-ddTHH:mm:ss\"))", "2023-11-14T22:13:20"),
        ("@(context.Request.Headers.GetValueOrDefault(\"Authorization\",\"\").AsJwt().NotBefore == null)", "True"),
        ("@(context.Request.Headers.GetValueOrDefault(\"nope\",\"\").AsJwt()?.Subject ?? \"anon\")", "anon"),
        ("@(\"garbage\".TryParseJwt(out var j))", "False"),
        ("@(context.Request.Headers.GetValueOrDefault(\"X-Basic\",\"\").AsBasic().UserId)", "user"),
        ("@(context.Request.Headers.GetValueOrDefault(\"X-Basic\",\"\").AsBasic().Password)", "pass"),
        ("@(context.Request.Body.As<JObject>(preserveContent: true)[\"name\"])", "Bob"),
        ("@(context.Request.Body.As<JObject>(preserveContent: true).Value<int>(\"age\") + 1)", "32"),
        ("@((string)context.Request.Body.As<JObject>(true)[\"nested\"][\"k\"])", "v"),
        ("@(context.Request.Body.As<string>(preserveContent: true).Length > 10)", "True"),
        ("@{ var a = 2; int b = 3; if (a < b) { a = a * 10; } else { a = 0; } return a + b; }", "23"),
        ("@{ string s = context.Request.Method; if (s == \"POST\") return \"w\"; else if (s == \"GET\") { return \"r\"; } return \"?\"; }", "r"),
        ("@{ var x = 1; }", "ERR return"),
        ("@{ while (true) { } return 1; }", "ERR step budget"),
        ("@{ var x = 1; x = \"s\"; return x; }", "ERR cannot implicitly convert type string to int"),
    ]);
}

/// C#'s lifted operators: `?.` makes a `bool?`/`int?` that is null without a token; `!` and
/// arithmetic keep the null, comparisons are false, and `??` supplies the default.
#[test]
fn lifted_operators_on_null() {
    let none = "context.Request.Headers.GetValueOrDefault(\"nope\",\"\").AsJwt()?";
    let some = "context.Request.Headers.GetValueOrDefault(\"Authorization\",\"\").AsJwt()?";
    let rows = [
        (format!("@(!{none}.Claims.GetValueOrDefault(\"roles\",\"\").Contains(\"admin\") ?? true)"), "True"),
        (format!("@(!{some}.Claims.GetValueOrDefault(\"roles\",\"\").Contains(\"admin\") ?? true)"), "False"),
        (format!("@({none}.Subject.Length > 3)"), "False"),
        (format!("@({none}.Subject.Length <= 3)"), "False"),
        (format!("@({some}.Subject.Length > 3)"), "True"),
        (format!("@(({none}.Subject.Length + 1) ?? -1)"), "-1"),
        (format!("@(-{none}.Subject.Length ?? 7)"), "7"),
        (format!("@({none}.Subject.Length == null)"), "True"),
    ];
    let rows: Vec<(&str, &str)> = rows.iter().map(|(s, w)| (s.as_str(), *w)).collect();
    check(&rows);
}

/// Long operator chains build left-deep trees: up to `MAX_LINKS` they compile and evaluate on
/// a worker-sized (2 MiB) stack; past it they are refused, never overflowing the stack.
#[test]
fn long_chains_are_bounded() {
    use crate::policy::expr::parser::MAX_LINKS;
    let sum = format!("@(1{})", " + 1".repeat(MAX_LINKS));
    let calls = format!("@(\"a\"{}.Length)", ".ToUpper()".repeat(MAX_LINKS / 2 - 1));
    let nested = format!("@({}(1{} == 2))", "!".repeat(90), " + 1".repeat(MAX_LINKS - 1));
    let index =
        format!("@(context.Request.Body.As<JObject>(preserveContent: true){})", "[\"nested\"]".repeat(MAX_LINKS - 5));
    let too_long = format!("@(1{})", " + 1".repeat(MAX_LINKS + 1));
    let block =
        format!("@{{ var a = 1{}; var b = a{}; return b; }}", " + 1".repeat(MAX_LINKS), " - 1".repeat(MAX_LINKS));
    let handle = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            check(&[
                (sum.as_str(), &(MAX_LINKS + 1).to_string()),
                (calls.as_str(), "1"),
                (too_long.as_str(), "ERR too long"),
                (block.as_str(), "1"),
                (nested.as_str(), "False"),
            ]);
            let r = req();
            let ctx = PolicyContext::new(&r, info("10.1.2.3"));
            assert!(eval_with(&index, &ctx).is_err(), "no body: an error, not a crash");
        })
        .expect("spawn");
    handle.join().expect("no overflow, no panic");
}

#[test]
fn compile_time_rejections() {
    check(&[
        ("@(\"a\" < 1)", "ERR numbers needed"),
        ("@(\"a\".Foo())", "ERR System.String.Foo() is not yet supported by ringgate"),
        ("@(context.Request.Nope)", "ERR context.Request.Nope is not yet supported by ringgate"),
        ("@(x => x)", "ERR a lambda expression can only be passed to a method"),
        ("@(new Random(7))", "ERR new Random(seed) is refused by ringgate"),
        ("@((decimal)1)", "ERR type decimal is not yet supported by ringgate"), // System.Decimal is an APIM type
        ("@((2.5).ToString(\"0.00\"))", "ERR the numeric format '0.00' is not yet supported by ringgate"),
        ("@((2.5).ToString(\"F2\"))", "2.50"),
        ("@(1 +)", "ERR expected an expression"),
        ("@(typeof(string))", "ERR typeof"),
        ("@(context.Request.Body.As<XElement>())", "ERR Data at the root level is invalid"), // a JSON body is not XML
    ]);
}

#[test]
fn request_certificate_is_null_without_one() {
    check(&[
        ("@(context.Request.Certificate == null)", "True"),
        ("@(context.Request.Certificate?.Thumbprint ?? \"none\")", "none"),
        ("@(context.Request.Certificate.Thumbprint)", "ERR Object reference"),
        ("@(context.Request.Certificate.Verify())", "ERR Object reference"),
        ("@(context.Request.Certificate.Color)", "ERR Color is not a member"),
    ]);
}

#[test]
fn request_certificate_members() {
    let mut p = rcgen::CertificateParams::new(vec!["c.local".to_string()]).unwrap();
    p.distinguished_name.push(rcgen::DnType::CommonName, "c1");
    p.serial_number = Some(rcgen::SerialNumber::from_slice(&[0x7f, 0x01]));
    p.not_before = rcgen::date_time_ymd(2024, 1, 2);
    p.not_after = rcgen::date_time_ymd(2030, 3, 4);
    let cert = p.self_signed(&rcgen::KeyPair::generate().unwrap()).unwrap();
    let r = req();
    let mut ctx = PolicyContext::new(&r, info("10.1.2.3"));
    ctx.client_chain = Some(std::sync::Arc::from(vec![rustls::pki_types::CertificateDer::from(cert.der().to_vec())]));
    let thumb = crate::tls::x509::thumbprint(cert.der());
    let rows = [
        ("@(context.Request.Certificate != null)", "True"),
        ("@(context.Request.Certificate.Thumbprint)", thumb.as_str()),
        ("@(context.Request.Certificate.Subject)", "CN=c1"),
        ("@(context.Request.Certificate.SubjectName.Name)", "CN=c1"),
        ("@(context.Request.Certificate.Issuer)", "CN=c1"),
        ("@(context.Request.Certificate.SerialNumber)", "7F01"),
        ("@(context.Request.Certificate.NotBefore)", "2024-01-02T00:00:00Z"),
        ("@(context.Request.Certificate.NotAfter)", "2030-03-04T00:00:00Z"),
        ("@(context.Request.Certificate.RawData.Length > 100)", "True"),
        // Nothing is trusted in this context.
        ("@(context.Request.Certificate.Verify())", "False"),
    ];
    for (src, want) in rows {
        assert_eq!(eval_with(src, &ctx).map(|v| v.to_text()).as_deref(), Ok(want), "{src}");
    }
}
