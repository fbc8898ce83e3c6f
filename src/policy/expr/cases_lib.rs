//! Table rows for `Uri`, `System.Xml.Linq` and `Regex.Matches`/`Split`: expressions as
//! written in policies and the text .NET gives for their values (`ToString()` of the
//! result), or `ERR <part of the message>`. Values follow the .NET API documentation
//! (Uri's members, RFC 3986 §5.4 for relative resolution, XElement.ToString's indented
//! form, Regex.Split including captured groups).

use super::cases::run;
use crate::policy::expr::Value;
use crate::policy::runtime::PolicyContext;
use crate::policy::testkit::{eval_with, info, FakeReq};

const URL: &str = "new Uri(\"https://api.contoso.com:8443/v1/orders/42?x=1&y=a%20b#top\")";

#[test]
fn uri_members() {
    let rows: Vec<(String, &str)> = vec![
        (format!("@({URL}.Host)"), "api.contoso.com"),
        (format!("@({URL}.Port)"), "8443"),
        (format!("@({URL}.Scheme)"), "https"),
        (format!("@({URL}.AbsolutePath)"), "/v1/orders/42"),
        (format!("@({URL}.Query)"), "?x=1&y=a%20b"),
        (format!("@({URL}.Fragment)"), "#top"),
        (format!("@({URL}.PathAndQuery)"), "/v1/orders/42?x=1&y=a%20b"),
        (format!("@({URL}.Authority)"), "api.contoso.com:8443"),
        (format!("@({URL}.AbsoluteUri)"), "https://api.contoso.com:8443/v1/orders/42?x=1&y=a%20b#top"),
        (format!("@({URL}.ToString())"), "https://api.contoso.com:8443/v1/orders/42?x=1&y=a b#top"),
        (format!("@(string.Join(\"|\", {URL}.Segments))"), "/|v1/|orders/|42"),
        (format!("@({URL}.Segments.Last())"), "42"),
        (format!("@({URL}.IsDefaultPort)"), "False"),
        (format!("@({URL}.GetLeftPart(UriPartial.Authority))"), "https://api.contoso.com:8443"),
        (format!("@({URL}.GetLeftPart(UriPartial.Path))"), "https://api.contoso.com:8443/v1/orders/42"),
        ("@(new Uri(\"http://example.com\").AbsolutePath)".into(), "/"),
        ("@(new Uri(\"http://example.com\").ToString())".into(), "http://example.com/"),
        ("@(new Uri(\"HTTP://Example.COM:80/a\").AbsoluteUri)".into(), "http://example.com/a"),
        ("@(new Uri(\"http://example.com\").Port)".into(), "80"),
        ("@(new Uri(new Uri(\"http://a/b/c/d;p?q\"), \"../g\").ToString())".into(), "http://a/b/g"), // RFC 3986 §5.4.1
        ("@(new Uri(new Uri(\"http://a/b/c/d;p?q\"), \"g?y\").AbsoluteUri)".into(), "http://a/b/c/g?y"),
        ("@(new Uri(\"not a uri\"))".into(), "ERR"),
        ("@(new Uri(\"http://x/\") == new Uri(\"http://x/\"))".into(), "True"),
        ("@(Uri.UriSchemeHttps + Uri.SchemeDelimiter)".into(), "https://"),
        ("@{ Uri u = new Uri(\"https://h/p\"); return u.Host + u.AbsolutePath; }".into(), "h/p"),
        ("@(context.Request.Url.ToUri().Host)".into(), "api.contoso.local"),
        ("@(context.Request.Url.ToUri().Port)".into(), "443"),
        ("@(context.Request.Url.ToUri().AbsolutePath)".into(), "/orders/items/42"),
        ("@(context.Request.Url.ToUri().Query)".into(), "?format=json&q=a%20b"),
        ("@(context.Request.Url.ToUri().Segments[2])".into(), "items/"),
        ("@(context.Request.OriginalUrl.ToUri().Scheme)".into(), "https"),
        ("@(context.Api.ServiceUrl.ToUri().Authority)".into(), "backend:8080"),
        ("@(context.Request.Url.ToUri(1))".into(), "ERR IUrl.ToUri takes no arguments"),
        (
            format!("@({URL}.MakeRelativeUri({URL}))"),
            "ERR System.Uri.MakeRelativeUri() is not yet supported by ringgate",
        ),
        ("@(new Uri(\"https://h/\", UriKind.Absolute))".into(), "ERR UriKind"),
    ];
    let rows: Vec<(&str, &str)> = rows.iter().map(|(a, b)| (a.as_str(), *b)).collect();
    run(&rows);
}

const DOC: &str = r#"XDocument.Parse("<order id=\"7\"><line sku=\"a\" qty=\"2\">Apple</line><line sku=\"b\" qty=\"5\">Pear</line><note/></order>")"#;

#[test]
fn xml_members() {
    let rows: Vec<(String, &str)> = vec![
        (format!("@({DOC}.Root.Name.LocalName)"), "order"),
        (format!("@({DOC}.Root.Attribute(\"id\").Value)"), "7"),
        (format!("@((int){DOC}.Root.Attribute(\"id\") + 1)"), "8"),
        (format!("@({DOC}.Root.Elements(\"line\").Count())"), "2"),
        (format!("@({DOC}.Root.Elements().Count())"), "3"),
        (format!("@({DOC}.Descendants(\"line\").Sum(l => (int)l.Attribute(\"qty\")))"), "7"),
        (format!("@(string.Join(\",\", {DOC}.Descendants(\"line\").Select(l => l.Value)))"), "Apple,Pear"),
        (format!("@({DOC}.Descendants().Where(e => e.Name.LocalName == \"line\").First().Attribute(\"sku\").Value)"), "a"),
        (format!("@({DOC}.Root.Element(\"line\").Value)"), "Apple"),
        (format!("@((string){DOC}.Root.Element(\"missing\"))"), ""),
        (format!("@({DOC}.Root.Element(\"missing\") == null)"), "True"),
        (format!("@({DOC}.Root.Attribute(\"nope\")?.Value ?? \"none\")"), "none"),
        (format!("@({DOC}.Root.Element(\"note\").IsEmpty)"), "True"),
        (format!("@({DOC}.Root.HasElements)"), "True"),
        (format!("@({DOC}.Root.Element(\"line\").Parent.Name.LocalName)"), "order"),
        (format!("@({DOC}.Root.Element(\"line\").Attribute(\"qty\").ToString())"), "qty=\"2\""),
        (format!("@({DOC}.Root.Element(\"line\").Name == \"line\")"), "True"),
        (format!("@({DOC}.Root.Value)"), "ApplePear"),
        (format!("@({DOC}.Root.Element(\"line\").ToString())"), "<line sku=\"a\" qty=\"2\">Apple</line>"),
        (format!("@({DOC}.Root.Element(\"line\").Foo())"), "ERR System.Xml.Linq.XElement.Foo() is not yet supported by ringgate"),
        ("@(XElement.Parse(\"<a><b>1</b><c /></a>\").ToString())".into(), "<a>\r\n  <b>1</b>\r\n  <c />\r\n</a>"),
        ("@(XDocument.Parse(\"<?xml version=\\\"1.0\\\"?><a/>\").ToString())".into(), "<a />"),
        ("@(XElement.Parse(\"<a>1<b>2</b>3</a>\").Value)".into(), "123"),
        ("@((double)XElement.Parse(\"<p> 2.5 </p>\"))".into(), "2.5"),
        ("@((bool)XElement.Parse(\"<f>1</f>\"))".into(), "True"),
        ("@((int)XElement.Parse(\"<n>x</n>\"))".into(), "ERR"),
        ("@{ try { XDocument.Parse(\"<a>\"); return \"ok\"; } catch (Exception) { return \"bad\"; } }".into(), "bad"),
        ("@{ XNamespace ns = \"urn:x\"; var d = XDocument.Parse(\"<r xmlns=\\\"urn:x\\\"><v>1</v></r>\"); return d.Root.Element(ns + \"v\").Value + \"|\" + (d.Root.Element(\"v\") == null) + \"|\" + d.Root.Name; }".into(), "1|True|{urn:x}r"),
        ("@{ var d = XDocument.Parse(\"<s:E xmlns:s=\\\"urn:s\\\"><s:B><m>9</m></s:B></s:E>\"); XNamespace s = \"urn:s\"; return d.Root.Element(s + \"B\").Element(\"m\").Value + d.Root.Name.NamespaceName; }".into(), "9urn:s"),
        ("@(new XElement(\"item\", new XAttribute(\"id\", 5), \"text\").ToString())".into(), "<item id=\"5\">text</item>"),
        ("@(new XElement(\"list\", new XElement(\"a\", 1), new XElement(\"b\", true)).ToString())".into(), "<list>\r\n  <a>1</a>\r\n  <b>true</b>\r\n</list>"),
        ("@{ var e = XElement.Parse(\"<a x=\\\"1\\\"/>\"); e.SetAttributeValue(\"x\", null); e.SetAttributeValue(\"y\", 2); return e.ToString(); }".into(), "<a y=\"2\" />"),
        ("@{ var e = XElement.Parse(\"<a><b/></a>\"); e.Element(\"b\").Value = \"t\"; e.SetElementValue(\"c\", \"u\"); return e.ToString(); }".into(), "<a>\r\n  <b>t</b>\r\n  <c>u</c>\r\n</a>"),
        ("@{ var d = XDocument.Parse(\"<a><b/><c/></a>\"); d.Root.Element(\"b\").Remove(); return d.ToString(); }".into(), "<a>\r\n  <c />\r\n</a>"),
        ("@{ var d = XDocument.Parse(\"<a><b/></a>\"); foreach (var b in d.Descendants(\"b\")) { b.SetAttributeValue(\"seen\", \"yes\"); } return d.Root.Element(\"b\").Attribute(\"seen\").Value; }".into(), "yes"),
        ("@{ var sb = new StringBuilder(); foreach (XElement e in XElement.Parse(\"<a><x/><y/></a>\").Elements()) { sb.Append(e.Name.LocalName); } return sb.ToString(); }".into(), "xy"),
        ("@{ var root = new XElement(\"r\"); var item = new XElement(\"i\"); root.Add(item); item.SetAttributeValue(\"n\", 1); return root.ToString(); }".into(), "<r>\r\n  <i n=\"1\" />\r\n</r>"),
        ("@{ var e = new XElement(\"r\"); e.Add(e); return 1; }".into(), "ERR"),
        ("@(XDocument.Load(\"x.xml\"))".into(), "ERR XDocument.Load is not allowed in APIM policy expressions"),
    ];
    let rows: Vec<(&str, &str)> = rows.iter().map(|(a, b)| (a.as_str(), *b)).collect();
    run(&rows);
}

#[test]
fn xml_bodies() {
    let r = FakeReq::new("POST", "/orders/items");
    let xml = r#"<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><GetPrice><Item>Apple</Item></GetPrice></soap:Body></soap:Envelope>"#;
    let rows = [
        ("@(context.Request.Body.As<XDocument>(preserveContent: true).Descendants(\"Item\").First().Value)", "Apple"),
        ("@(context.Request.Body.As<XElement>(true).Name.LocalName)", "Envelope"),
        ("@{ XNamespace soap = \"http://schemas.xmlsoap.org/soap/envelope/\"; var body = context.Request.Body.As<XDocument>(true).Root.Element(soap + \"Body\"); return body.Elements().First().Name.LocalName; }", "GetPrice"),
        ("@(context.Request.Body.As<XNode>(true).ToString().Length > 0)", "True"),
        ("@{ var a = context.Request.Body.As<XDocument>(); var b = context.Request.Body.As<XDocument>(); return 1; }", "ERR the body was already read"),
    ];
    for (src, want) in rows {
        let mut ctx = PolicyContext::new(&r, info("10.1.2.3"));
        ctx.request_body = Some(std::sync::Arc::from(xml.as_bytes()));
        let got = match eval_with(src, &ctx) {
            Ok(v) => v.to_text(),
            Err(e) => format!("ERR {e}"),
        };
        match want.strip_prefix("ERR ") {
            Some(p) => assert!(got.contains(p), "{src}: {got}"),
            None => assert_eq!(got, want, "{src}"),
        }
    }
    let mut ctx = PolicyContext::new(&r, info("10.1.2.3"));
    ctx.request_body = Some(std::sync::Arc::from(&b"<a><b>"[..]));
    let got = eval_with("@(context.Request.Body.As<XDocument>().Root)", &ctx);
    assert!(got.is_err(), "malformed XML throws: {got:?}");
    let _ = Value::Null;
}

#[test]
fn regex_collections() {
    run(&[
        ("@(Regex.Matches(\"a1b22c333\", @\"\\d+\").Count)", "3"),
        ("@(string.Join(\",\", Regex.Matches(\"a1b22c333\", @\"\\d+\").Cast<Match>().Select(m => m.Value)))", "1,22,333"),
        ("@(string.Join(\",\", Regex.Matches(\"a1b22\", @\"\\d+\").Select(m => m.Index)))", "1,3"),
        ("@{ var sb = new StringBuilder(); foreach (Match m in Regex.Matches(\"k1=v1;k2=v2\", @\"(\\w+)=(\\w+)\")) { sb.Append(m.Groups[2].Value); } return sb.ToString(); }", "v1v2"),
        ("@(Regex.Matches(\"abc\", @\"\\d\").Count)", "0"),
        ("@(Regex.Matches(\"a1b2\", @\"\\d\")[1].Value)", "2"),
        ("@(Regex.Matches(\"A1b2\", \"[a-z]\", RegexOptions.IgnoreCase).Count)", "2"),
        ("@(Regex.Matches(\"a1\", @\"\\d\").ToString())", "System.Text.RegularExpressions.MatchCollection"),
        ("@(string.Join(\"|\", Regex.Split(\"a1b22c\", @\"\\d+\")))", "a|b|c"),
        ("@(string.Join(\"|\", Regex.Split(\"a-b_c\", \"[-_]\")))", "a|b|c"),
        ("@(string.Join(\"|\", Regex.Split(\"a1b\", @\"(\\d)\")))", "a|1|b"), // captured groups are included
        ("@(Regex.Split(\"1,2\", \",\").Length)", "2"),
        ("@(new Regex(@\"\\s+\").Split(\"a  b c\").Length)", "3"),
        ("@(new Regex(\"o\").Matches(\"foo\").Count)", "2"),
        ("@(Regex.Matches(\"aa\", @\"(a)\\1\"))", "ERR Regex pattern"),
        ("@{ var ms = Regex.Matches(\"x\", \"x\"); ms.Add(null); return 1; }", "ERR"),
    ]);
}

/// Implicit conversions that change a value's representation where a type is declared.
#[test]
fn declared_conversions() {
    run(&[
        ("@{ double d = 1; return d / 2; }", "0.5"),
        ("@{ double d = 3.5; d = 2; return d / 4; }", "0.5"),
        ("@{ long n = 'a'; return n; }", "97"),
        ("@{ XName n = \"{urn:a}b\"; return n.LocalName + \"|\" + n.NamespaceName; }", "b|urn:a"),
    ]);
}

/// `context.Request.Headers` as APIM's `IReadOnlyDictionary<string, string[]>`, and the
/// members of `context.User`/`context.Product` the configuration cannot back.
#[test]
fn headers_dictionary_and_directory() {
    run(&[
        ("@(context.Request.Headers.Count)", "3"),
        ("@(string.Join(\",\", context.Request.Headers.Keys))", "authorization,x-region,x-list"),
        ("@(context.Request.Headers.Keys.Count())", "3"),
        ("@(context.Request.Headers.Any(h => h.Key == \"x-list\"))", "True"),
        ("@(string.Join(\";\", context.Request.Headers.Where(h => h.Key.StartsWith(\"x-\")).Select(h => h.Key + \"=\" + string.Join(\"|\", h.Value))))", "x-region=east asia;x-list=a|b|c"),
        ("@{ var n = 0; foreach (var h in context.Request.Headers) { n += h.Value.Length; } return n; }", "5"),
        ("@{ string[] value; if (context.Request.Headers.TryGetValue(\"X-List\", out value)) { return value.Length + \":\" + value[1]; } return \"none\"; }", "3:b"),
        ("@{ string[] value; return context.Request.Headers.TryGetValue(\"Nope\", out value) + \"|\" + (value == null); }", "False|True"),
        ("@(context.Request.Headers.TryGetValue(\"X-List\", out var v) ? v.First() : \"\")", "a"),
        ("@(context.Request.Headers.ContainsKey(\"X-REGION\"))", "True"),
        ("@(context.Request.Headers.GetValueOrDefault(\"x-region\", \"\"))", "east asia"),
        ("@(context.Response.Headers.Count)", "ERR context.Response"),
        ("@(context.User.Id)", "u1"),
        ("@(context.User.Email)", "ERR context.User.Email is not yet supported by ringgate: the gateway's configuration has no user records"),
        ("@(context.User.Groups.Any(g => g.Name == \"Administrators\"))", "ERR context.User.Groups.Any is not yet supported by ringgate"),
        ("@(context.Product.Groups.Count())", "ERR context.Product.Groups.Count is not yet supported by ringgate: the gateway's configuration has no product groups"),
        ("@(context.Product.Name)", "Starter"),
    ]);
}

#[test]
fn headers_dictionary_sees_edits() {
    let r = FakeReq::new("GET", "/x").h("A", "1").h("B", "2");
    let mut ctx = PolicyContext::new(&r, info("10.1.2.3"));
    ctx.request_edits.headers.delete("a");
    ctx.request_edits.headers.set("C", ["3".to_string()]);
    ctx.request_edits.headers.append("b", ["4".to_string()]);
    let got = eval_with(
        "@(string.Join(\";\", context.Request.Headers.Select(h => h.Key + \"=\" + string.Join(\"|\", h.Value))))",
        &ctx,
    );
    assert_eq!(got.map(|v| v.to_text()), Ok("b=2|4;C=3".to_string()));
}

/// Anonymous types (as JSON payloads are built in community policies) and DateTimeOffset.
#[test]
fn anonymous_types_and_offsets() {
    run(&[
        ("@(JsonConvert.SerializeObject(new { typ = \"JWT\", alg = \"HS256\" }))", "{\"typ\":\"JWT\",\"alg\":\"HS256\"}"),
        ("@{ var exp = 1700000000L; var username = \"john_doe\"; var payload = new { exp, username }; return JsonConvert.SerializeObject(payload); }", "{\"exp\":1700000000,\"username\":\"john_doe\"}"),
        ("@(new { a = 1, b = \"x\" }.ToString())", "{ a = 1, b = x }"),
        ("@(new { a = 1, b = \"x\" }.b)", "x"),
        ("@(new { context.Request.Method }.Method)", "GET"),
        ("@(JObject.FromObject(new { n = 2.5, ok = true })[\"n\"].ToString())", "2.5"),
        ("@(new { a = 1 }.c)", "ERR does not contain a definition for 'c'"),
        ("@(new { a = 1, a = 2 })", "ERR two members named 'a'"),
        ("@(new { 1 + 2 })", "ERR an anonymous type member must be named"),
        ("@(DateTimeOffset.FromUnixTimeSeconds(1700000000).UtcDateTime.ToString(\"o\"))", "2023-11-14T22:13:20.0000000Z"),
        ("@(DateTimeOffset.FromUnixTimeSeconds(1700000000).ToUnixTimeMilliseconds())", "1700000000000"),
        ("@(new DateTimeOffset(new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc)).ToUnixTimeSeconds())", "1704067200"),
        ("@(new DateTimeOffset(new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc)).AddMinutes(10).ToUnixTimeSeconds())", "1704067800"),
        ("@(new DateTimeOffset(new DateTime(2024, 1, 1, 12, 0, 0), TimeSpan.FromHours(2)).ToString(\"yyyy-MM-ddTHH:mmzzz\"))", "2024-01-01T12:00+02:00"),
        ("@(new DateTimeOffset(new DateTime(2024, 1, 1, 12, 0, 0), TimeSpan.FromHours(2)).UtcDateTime.Hour)", "10"),
        ("@(DateTimeOffset.UtcNow.ToUnixTimeSeconds() > 1700000000)", "True"),
        ("@(DateTimeOffset.UtcNow > DateTimeOffset.FromUnixTimeSeconds(0))", "True"),
        ("@((DateTimeOffset.FromUnixTimeSeconds(120) - DateTimeOffset.FromUnixTimeSeconds(60)).TotalSeconds)", "60"),
        ("@(DateTimeOffset.Parse(\"2024-05-06T07:08:09+02:00\").ToUnixTimeSeconds())", "1714972089"),
    ]);
}

/// `System.Array` statics and array members (.NET's results and exception messages).
#[test]
fn arrays() {
    run(&[
        ("@(new[] { 3, 1, 2 }.Length)", "3"),
        ("@(new int[] { 3, 1, 2 }[1])", "1"),
        ("@(new string[3].Length)", "3"),
        ("@(new[] { 1, 2, 3 }.ToString())", "System.Int32[]"),
        ("@(new[] { 1, 2, 3 }[5])", "ERR Index was outside the bounds of the array"),
        ("@(Array.IndexOf(new[] { \"a\", \"b\" }, \"b\"))", "1"),
        ("@(Array.IndexOf(new[] { 1, 2 }, 5))", "-1"),
        ("@(Array.IndexOf(new[] { 1, 2, 1, 2 }, 1, 1))", "2"),
        ("@(Array.IndexOf(new[] { 1, 2, 1, 2 }, 1, 1, 1))", "-1"),
        ("@(Array.IndexOf(new[] { 1, 2 }, 1, 3))", "ERR Index was out of range"),
        ("@(Array.IndexOf(\"a,b,c\".Split(','), \"c\"))", "2"),
        ("@(Array.LastIndexOf(new[] { 1, 2, 1 }, 1))", "2"),
        ("@(Array.IndexOf(null, 1))", "ERR Value cannot be null. (Parameter 'array')"),
        ("@(Array.Empty<string>().Length)", "0"),
        ("@(Array.Empty<int>().ToString())", "System.Int32[]"),
        ("@(Array.Empty<string>().Any())", "False"),
        ("@(Array.Exists(new[] { 1, 2 }, x => x == 2))", "True"),
        ("@(Array.Exists(new[] { 1, 2 }, x => x == 3))", "False"),
        ("@(Array.TrueForAll(new[] { 1, 2 }, x => x > 0))", "True"),
        ("@(Array.TrueForAll(new int[0], x => x > 5))", "True"),
        ("@(Array.Find(new[] { 1, 2, 3 }, x => x > 1))", "2"),
        ("@(Array.Find(new[] { 1, 2 }, x => x > 5))", "0"), // default(int)
        ("@(Array.Find(new[] { \"a\" }, x => x == \"z\") == null)", "True"),
        ("@(Array.FindLast(new[] { 1, 2, 3 }, x => x > 1))", "3"),
        ("@(Array.FindIndex(new[] { 1, 2 }, x => x > 1))", "1"),
        ("@(Array.FindLastIndex(new[] { 2, 2, 1 }, x => x == 2))", "1"),
        ("@(Array.FindIndex(new[] { 1 }, x => x > 1))", "-1"),
        ("@(Array.FindAll(new[] { 1, 2, 3 }, x => x > 1).Length)", "2"),
        ("@(Array.FindAll(new[] { 1, 2, 3 }, x => x > 1).ToString())", "System.Int32[]"),
        ("@(Array.ConvertAll(new[] { \"1\", \"2\" }, s => int.Parse(s)).Sum())", "3"),
        ("@(Array.Exists(new[] { 1 }, null))", "ERR Value cannot be null. (Parameter 'match')"),
        ("@{ var t = 0; Array.ForEach(new[] { 1, 2, 3 }, x => { t += x; }); return t; }", "6"),
        ("@{ var a = new[] { 3, 1, 2 }; Array.Sort(a); return string.Join(\",\", a); }", "1,2,3"),
        ("@{ var a = new[] { \"b\", \"B\", \"a\" }; Array.Sort(a); return string.Join(\",\", a); }", "a,b,B"),
        ("@{ var a = new[] { 3, 1, 2 }; Array.Reverse(a); return string.Join(\",\", a); }", "2,1,3"),
        ("@{ var a = new[] { 1, 3, 5 }; return Array.BinarySearch(a, 3) + \"/\" + Array.BinarySearch(a, 4); }", "1/-3"),
        ("@{ var a = new[] { 1, 2, 3 }; Array.Clear(a, 0, 2); return string.Join(\",\", a); }", "0,0,3"),
        ("@{ var a = new[] { \"x\", \"y\" }; Array.Clear(a); return a[0] == null; }", "True"),
        ("@{ var a = new[] { 1, 2, 3 }; Array.Clear(a, 2, 2); return a[0]; }", "ERR Index was outside the bounds of the array"),
        ("@{ var a = new[] { 1, 2, 3 }; var b = new int[3]; Array.Copy(a, b, 2); return string.Join(\",\", b); }", "1,2,0"),
        ("@{ var a = new[] { 1, 2, 3 }; var b = new int[4]; Array.Copy(a, 1, b, 2, 2); return string.Join(\",\", b); }", "0,0,2,3"),
        ("@{ var a = new[] { 1, 2, 3 }; var b = new int[1]; Array.Copy(a, b, 2); return b[0]; }", "ERR Destination array was not long enough"),
        ("@{ var a = new[] { 1, 2 }; var b = new int[3]; a.CopyTo(b, 1); return string.Join(\",\", b); }", "0,1,2"),
        ("@{ var a = new[] { 1, 2, 3 }; var c = (int[])a.Clone(); c[0] = 9; return a[0] + c[0]; }", "10"),
        ("@{ var a = new[] { 1, 2 }; a.SetValue(7, 1); return a.GetValue(1); }", "7"),
        ("@(new[] { 1, 2 }.Rank)", "1"),
        ("@(new[] { 1, 2 }.LongLength)", "2"),
        ("@(new[] { 1, 2 }.GetLength(0))", "2"),
        ("@(new[] { 1, 2 }.GetUpperBound(0))", "1"),
        ("@(new[] { 1, 2 }.GetLength(1))", "ERR Index was outside the bounds of the array"),
        ("@(\"a,b\".Split(',').Rank)", "1"),
        ("@(\"a,b\".Split(',').Contains(\"b\"))", "True"),
        ("@(string.Join(\"-\", new[] { \"a\", \"b\" }))", "a-b"),
        ("@(string.Join(\"-\", \"a,b\".Split(',')))", "a-b"),
        ("@(new List<int> { 1 }.Rank)", "ERR List<T> has no member Rank"),
        ("@{ var a = \"b,a\".Split(','); Array.Sort(a); return a[0]; }", "ERR writing into the string[] that Split or a header gives is not yet supported"),
        ("@{ var a = \"b,a\".Split(',').ToArray(); Array.Sort(a); return a[0]; }", "a"),
        // Refused at load, naming the construct.
        ("@(Array.Resize)", "ERR Array.Resize is not yet supported by ringgate"),
        ("@(Array.Empty())", "ERR Array.Empty needs one type argument"),
        ("@(Array.AsReadOnly(new[] { 1 }))", "ERR Array.AsReadOnly is not yet supported by ringgate"),
        ("@(Array.ConvertAll(new[] { \"1\" }, int.Parse))", "ERR"),
    ]);
}

/// `new Random()` draws uniformly; a seeded one is refused (its sequence is .NET's).
#[test]
fn random() {
    run(&[
        ("@(new Random().Next(10) < 10)", "True"),
        ("@(new Random().Next() >= 0)", "True"),
        ("@(new Random().Next(5, 6))", "5"),
        ("@(new Random().Next(5, 5))", "5"),
        ("@(new Random().Next(0))", "0"),
        ("@(new Random().Next(-1))", "ERR 'maxValue' must be greater than zero"),
        ("@(new Random().Next(3, 2))", "ERR 'minValue' cannot be greater than maxValue"),
        ("@{ var d = new Random().NextDouble(); return d >= 0.0 && d < 1.0; }", "True"),
        ("@{ var r = new Random(); var ok = true; for (var i = 0; i < 200; i++) { var x = r.Next(-3, 4); ok = ok && x >= -3 && x < 4; } return ok; }", "True"),
        ("@{ Random r = new System.Random(); return r.ToString(); }", "System.Random"),
        ("@(new Random(42).Next())", "ERR new Random(seed) is refused by ringgate: .NET's seeded sequence cannot be reproduced"),
        ("@(new Random().NextBytes(new byte[4]))", "ERR System.Random.NextBytes is not yet supported by ringgate"),
        ("@(new Random().Seed)", "ERR System.Random.Seed is not yet supported by ringgate"),
    ]);
    // Draws differ between evaluations (not a constant folded at load).
    let r = FakeReq::new("GET", "/");
    let ctx = PolicyContext::new(&r, info("10.1.2.3"));
    let draws: std::collections::HashSet<String> =
        (0..20).map(|_| eval_with("@(new Random().Next())", &ctx).map(|v| v.to_text()).unwrap_or_default()).collect();
    assert!(draws.len() > 1, "{draws:?}");
    let _ = Value::Null;
}

/// `System.Xml.XmlConvert` is not among APIM's allowed types: refused as APIM refuses it.
#[test]
fn xml_convert_is_not_allowed() {
    run(&[
        ("@(XmlConvert.ToString(12))", "ERR the type XmlConvert is not allowed in APIM policy expressions"),
        ("@(System.Xml.XmlConvert.ToInt32(\"1\"))", "ERR not allowed in APIM policy expressions"),
    ]);
}

/// XML parsed inside expressions is bounded: a hostile body fails the expression with a
/// budget error (which no `catch` stops) instead of building a tree many times its size.
#[test]
fn xml_budgets() {
    let eval_body = |src: &str, body: &str| {
        let r = FakeReq::new("POST", "/").h("Content-Type", "application/xml");
        let mut ctx = PolicyContext::new(&r, info("10.1.2.3"));
        ctx.request_body = Some(std::sync::Arc::from(body.as_bytes()));
        let started = std::time::Instant::now();
        let got = eval_with(src, &ctx).map(|v| v.to_text());
        (got, started.elapsed())
    };
    let count = "@(context.Request.Body.As<XDocument>().Root.Elements().Count())";
    // Ordinary documents parse.
    let fine = format!("<r>{}</r>", "<item id=\"1\">x</item>".repeat(5000));
    assert_eq!(eval_body(count, &fine).0.as_deref(), Ok("5000"));
    // Many tiny elements: 1 MB of text, a million nodes.
    let tiny = format!("<r>{}</r>", "<a/>".repeat(250_000));
    let (got, took) = eval_body(count, &tiny);
    let e = got.unwrap_err();
    assert!(e.contains("nodes") && e.contains("budget"), "{e}");
    assert!(took < std::time::Duration::from_secs(2), "{took:?}");
    // Many short attributes on one element.
    let attrs = format!("<r {}/>", (0..150_000).map(|i| format!("a{i}=\"\"")).collect::<Vec<_>>().join(" "));
    let e = eval_body("@(context.Request.Body.As<XElement>().Attributes().Count())", &attrs).0.unwrap_err();
    assert!(e.contains("budget"), "{e}");
    // Deep nesting.
    let deep = "<a>".repeat(5000) + &"</a>".repeat(5000);
    let e = eval_body(count, &deep).0.unwrap_err();
    assert!(e.contains("XML nesting deeper than 128"), "{e}");
    // A body past the memory budget.
    let big = format!("<r>{}</r>", "x".repeat(8 << 20));
    let e = eval_body(count, &big).0.unwrap_err();
    assert!(e.contains("memory budget"), "{e}");
    // XDocument.Parse / XElement.Parse of a string are bounded the same way, and a catch
    // does not stop a budget failure.
    let caught = "@{ try { var s = new StringBuilder(\"<r>\"); for (var i = 0; i < 120000; i++) { s.Append(\"<a/>\"); } s.Append(\"</r>\"); return XElement.Parse(s.ToString()).Elements().Count(); } catch (Exception) { return -1; } }";
    let e = eval_body(caught, "<x/>").0.unwrap_err();
    assert!(e.contains("nodes") && e.contains("budget"), "{e}");
    // Entities a DTD declares are not expanded.
    let lol = "<!DOCTYPE l [<!ENTITY a \"aaaaaaaaaa\">]><l>&a;</l>";
    let e = eval_body("@(XDocument.Parse(context.Request.Body.As<string>()).Root.Value)", lol).0.unwrap_err();
    assert!(e.contains("not expanded by ringgate"), "{e}");
}
