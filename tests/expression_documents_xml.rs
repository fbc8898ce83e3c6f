//! XML body transformations with policy expressions (System.Xml.Linq), run by the real
//! gateway against a real recording backend: request bodies rewritten before the backend
//! (checked by the backend's checksum of what it received), response bodies rewritten before
//! the client, values extracted into headers and JSON, namespaces, and the XML budgets.
//! Expected texts are .NET's: `XDocument.ToString()` indents by two spaces with CRLF line
//! ends (XmlWriterSettings' default NewLineChars) and leaves out the declaration; empty
//! elements print as `<a />`.

mod common;
mod expression_support;

use common::*;
use expression_support::{api, api_doc, assert_backend_body, doc, one, post};

const ORDER: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<order id="7" currency="EUR">
  <customer>Contoso</customer>
  <line sku="a-1" qty="2" price="2.50" />
  <line sku="b-2" qty="3" price="1.00" />
  <password>hunter2</password>
</order>"#;

/// Elements added, changed and removed in the request body; the backend gets .NET's text.
#[test]
fn request_xml_edited_before_the_backend() {
    let b = Backend::normal();
    let edit = api(
        "edit",
        r#"<set-body>@{
            var doc = context.Request.Body.As<XDocument>(preserveContent: true);
            var order = doc.Root;
            order.Element("password").Remove();
            order.SetAttributeValue("currency", null);
            order.Add(new XElement("source", "gateway"));
            foreach (var line in order.Elements("line")) {
                line.SetAttributeValue("total", ((double)line.Attribute("qty") * (double)line.Attribute("price")).ToString("F2"));
            }
            order.Element("customer").Value = order.Element("customer").Value.ToUpper();
            return doc.ToString();
        }</set-body>"#,
        "",
    );
    let gw = Gateway::start(&doc(&b, vec![edit]), &[]);
    let r = post(&gw, "/edit/echo", "application/xml", ORDER.as_bytes());
    assert_eq!(r.status, 200, "{r:?}");
    let want = "<order id=\"7\">\r\n  <customer>CONTOSO</customer>\r\n  <line sku=\"a-1\" qty=\"2\" price=\"2.50\" total=\"5.00\" />\r\n  <line sku=\"b-2\" qty=\"3\" price=\"1.00\" total=\"3.00\" />\r\n  <source>gateway</source>\r\n</order>";
    assert_backend_body(&r.json(), want);
}

/// Values extracted from an XML body once into a JObject variable (the snippet's pattern:
/// Descendants by LocalName), then used by a choose and by headers.
#[test]
fn xml_values_extracted_into_json() {
    let b = Backend::normal();
    let extract = api(
        "extract",
        r#"<set-variable name="values" value="@{
            var doc = XDocument.Parse(context.Request.Body.As<string>(preserveContent: true));
            var obj = new JObject();
            obj["conditionValue"] = doc.Descendants().Where(r => r.Name.LocalName == "conditionValue").First().Value;
            obj["value1"] = doc.Descendants().Where(r => r.Name.LocalName == "value1").First().Value;
            return obj;
        }" />
        <choose>
            <when condition="@((bool)((JObject)context.Variables["values"])["conditionValue"])">
                <set-header name="X-Value1" exists-action="override"><value>@((string)((JObject)context.Variables["values"])["value1"])</value></set-header>
            </when>
            <otherwise>
                <set-header name="X-Value1" exists-action="override"><value>skipped</value></set-header>
            </otherwise>
        </choose>"#,
        "",
    );
    let gw = Gateway::start(&doc(&b, vec![extract]), &[]);
    let body = "<message1><conditionValue>true</conditionValue><value1>M1_T1</value1></message1>";
    let r = post(&gw, "/extract/echo", "text/xml", body.as_bytes());
    assert_eq!(r.status, 200, "{r:?}");
    let e = r.json();
    assert_eq!(one(&e, "x-value1").as_deref(), Some("M1_T1"), "{e}");
    assert_backend_body(&e, body);
    let body = "<m><conditionValue>false</conditionValue><value1>x</value1></m>";
    let e = post(&gw, "/extract/echo", "text/xml", body.as_bytes()).json();
    assert_eq!(one(&e, "x-value1").as_deref(), Some("skipped"), "{e}");
}

/// A SOAP envelope: namespaced navigation (XNamespace + name), the operation and a value
/// into headers, and the payload unwrapped into a JSON body for a REST backend.
#[test]
fn soap_envelope_to_json() {
    let b = Backend::normal();
    let soap = api(
        "soap",
        r#"<set-header name="X-Operation" exists-action="override"><value>@{
            XNamespace soapNs = "http://schemas.xmlsoap.org/soap/envelope/";
            var doc = context.Request.Body.As<XDocument>(preserveContent: true);
            return doc.Root.Element(soapNs + "Body").Elements().First().Name.LocalName;
        }</value></set-header>
        <set-body>@{
            XNamespace soapNs = "http://schemas.xmlsoap.org/soap/envelope/";
            XNamespace m = "urn:orders";
            var call = context.Request.Body.As<XDocument>().Root.Element(soapNs + "Body").Element(m + "GetOrder");
            var json = new JObject();
            json["id"] = (int)call.Element(m + "Id");
            json["expand"] = call.Elements(m + "Expand").Select(x => (string)x).ToArray().Length;
            json["ns"] = call.Name.NamespaceName;
            return json.ToString(Newtonsoft.Json.Formatting.None);
        }</set-body>
        <set-header name="Content-Type" exists-action="override"><value>application/json</value></set-header>"#,
        "",
    );
    let gw = Gateway::start(&doc(&b, vec![soap]), &[]);
    let env = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><m:GetOrder xmlns:m="urn:orders"><m:Id>42</m:Id><m:Expand>lines</m:Expand><m:Expand>customer</m:Expand></m:GetOrder></s:Body></s:Envelope>"#;
    let r = post(&gw, "/soap/echo", "text/xml", env.as_bytes());
    assert_eq!(r.status, 200, "{r:?}");
    let e = r.json();
    assert_eq!(one(&e, "x-operation").as_deref(), Some("GetOrder"), "{e}");
    assert_eq!(one(&e, "content-type").as_deref(), Some("application/json"), "{e}");
    assert_backend_body(&e, r#"{"id":42,"expand":2,"ns":"urn:orders"}"#);
}

/// A JSON backend answer turned into XML for the client (new XElement trees built with
/// LINQ), then a second outbound set-body reading that XML back with
/// context.Response.Body.As<XDocument>() and adding a summary element.
#[test]
fn response_built_and_reread_as_xml() {
    let b = Backend::normal();
    let to_xml = api(
        "toxml",
        "",
        r#"<set-body>@{
            var echo = context.Response.Body.As<JObject>();
            var root = new XElement("echo",
                new XAttribute("method", (string)echo["method"]),
                new XElement("path", (string)echo["path"]),
                new XElement("length", (int)echo["bodyLength"]));
            return new XDocument(root).ToString();
        }</set-body>
        <set-body>@{
            var doc = context.Response.Body.As<XDocument>();
            doc.Root.Add(new XElement("summary", doc.Root.Attribute("method").Value + " " + doc.Root.Element("path").Value));
            return doc.ToString();
        }</set-body>
        <set-header name="Content-Type" exists-action="override"><value>application/xml</value></set-header>"#,
    );
    let gw = Gateway::start(&doc(&b, vec![to_xml]), &[]);
    let r = gw.get("/toxml/echo?a=1", &[]);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("content-type"), Some("application/xml"));
    assert_eq!(
        r.text(),
        "<echo method=\"GET\">\r\n  <path>/echo?a=1</path>\r\n  <length>0</length>\r\n  <summary>GET /echo?a=1</summary>\r\n</echo>"
    );
    assert_eq!(b.requests(), 1);
}

/// Sums and counts over attributes with explicit conversions ((int), (string)) and LINQ,
/// into headers; a malformed number fails the expression into on-error.
#[test]
fn attribute_arithmetic_into_headers() {
    let b = Backend::normal();
    let sums = api_doc(
        "sums",
        r#"<policies><inbound>
            <set-header name="X-Quantity" exists-action="override"><value>@(context.Request.Body.As<XElement>(preserveContent: true).Elements("line").Sum(l => (int)l.Attribute("qty")).ToString())</value></set-header>
            <set-header name="X-Skus" exists-action="override"><value>@(string.Join(",", context.Request.Body.As<XElement>(preserveContent: true).Elements("line").Select(l => (string)l.Attribute("sku")).OrderByDescending(s => s)))</value></set-header>
        </inbound><backend><forward-request /></backend><outbound />
        <on-error><return-response><set-status code="422" reason="Bad XML" /><set-body>@(context.LastError.Reason)</set-body></return-response></on-error></policies>"#,
    );
    let gw = Gateway::start(&doc(&b, vec![sums]), &[]);
    let r = post(&gw, "/sums/echo", "application/xml", ORDER.as_bytes());
    assert_eq!(r.status, 200, "{r:?}");
    let e = r.json();
    assert_eq!(one(&e, "x-quantity").as_deref(), Some("5"), "{e}");
    assert_eq!(one(&e, "x-skus").as_deref(), Some("b-2,a-1"), "{e}");
    assert_backend_body(&e, ORDER);
    let r = post(&gw, "/sums/echo", "application/xml", br#"<order><line sku="x" qty="two" /></order>"#);
    assert_eq!(r.status, 422, "{r:?}");
    assert_eq!(r.text(), "ExpressionValueEvaluationFailure");
    assert_eq!(b.requests(), 1, "the failed request did not reach the backend");
}

/// Sensitive elements removed wherever they are (Descendants, ToList, Remove), comments
/// kept, and the result re-serialised with an XML declaration written by hand.
#[test]
fn sensitive_elements_stripped() {
    let b = Backend::normal();
    let strip = api(
        "strip",
        r#"<set-body>@{
            var doc = XDocument.Parse(context.Request.Body.As<string>());
            foreach (var secret in doc.Descendants().Where(d => d.Name.LocalName == "password" || d.Name.LocalName == "token").ToList()) {
                secret.Remove();
            }
            return "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n" + doc.ToString();
        }</set-body>"#,
        "",
    );
    let gw = Gateway::start(&doc(&b, vec![strip]), &[]);
    let body = "<user><name>amy</name><!-- kept --><auth><password>p</password><token>t</token><kind>basic</kind></auth></user>";
    let r = post(&gw, "/strip/echo", "application/xml", body.as_bytes());
    assert_eq!(r.status, 200, "{r:?}");
    let want = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<user>\r\n  <name>amy</name>\r\n  <!-- kept -->\r\n  <auth>\r\n    <kind>basic</kind>\r\n  </auth>\r\n</user>";
    assert_backend_body(&r.json(), want);
}

/// XML built from a JSON request body (new XElement over a LINQ projection, attributes
/// from values, escaping of text), sent to an XML backend.
#[test]
fn json_request_to_xml() {
    let b = Backend::normal();
    let build = api(
        "build",
        r#"<set-body>@{
            var body = context.Request.Body.As<JObject>();
            var doc = new XElement("customers",
                body["customers"].Select(c => new XElement("customer",
                    new XAttribute("id", (int)c["id"]),
                    new XElement("name", (string)c["name"]))));
            return doc.ToString();
        }</set-body>
        <set-header name="Content-Type" exists-action="override"><value>application/xml</value></set-header>"#,
        "",
    );
    let gw = Gateway::start(&doc(&b, vec![build]), &[]);
    let r = post(
        &gw,
        "/build/echo",
        "application/json",
        br#"{"customers":[{"id":1,"name":"Tom & Jerry"},{"id":2,"name":"<Ann>"}]}"#,
    );
    assert_eq!(r.status, 200, "{r:?}");
    let e = r.json();
    assert_eq!(one(&e, "content-type").as_deref(), Some("application/xml"));
    let want = "<customers>\r\n  <customer id=\"1\">\r\n    <name>Tom &amp; Jerry</name>\r\n  </customer>\r\n  <customer id=\"2\">\r\n    <name>&lt;Ann&gt;</name>\r\n  </customer>\r\n</customers>";
    assert_backend_body(&e, want);
}

/// Hostile XML bodies fail their own request quickly with the budget's error (many tiny
/// elements, deep nesting), without reaching the backend, while a normal body on the same
/// (only) worker still works.
#[test]
fn hostile_xml_bodies_fail_alone() {
    let b = Backend::normal();
    let count = api_doc(
        "count",
        r#"<policies><inbound>
            <set-header name="X-Items" exists-action="override"><value>@(context.Request.Body.As<XDocument>(preserveContent: true).Root.Elements().Count().ToString())</value></set-header>
        </inbound><backend><forward-request /></backend><outbound />
        <on-error><return-response><set-status code="413" reason="Too Big" /><set-body>@(context.LastError.Reason + ": " + context.LastError.Message)</set-body></return-response></on-error></policies>"#,
    );
    let gw = Gateway::start(&doc(&b, vec![count]), &["runtime.workers=1"]);
    let many = format!("<r>{}</r>", "<a/>".repeat(200_000));
    let started = std::time::Instant::now();
    let r = post(&gw, "/count/echo", "application/xml", many.as_bytes());
    assert_eq!(r.status, 413, "{r:?}");
    let text = r.text();
    assert!(text.starts_with("ExpressionValueEvaluationFailure: ") && text.contains("nodes"), "{text}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
    let deep = "<a>".repeat(1000) + &"</a>".repeat(1000);
    let r = post(&gw, "/count/echo", "application/xml", deep.as_bytes());
    assert_eq!(r.status, 413, "{r:?}");
    assert!(r.text().contains("XML nesting deeper than 128"), "{}", r.text());
    assert_eq!(b.requests(), 0);
    let fine = format!("<r>{}</r>", "<item>x</item>".repeat(1000));
    let r = post(&gw, "/count/echo", "application/xml", fine.as_bytes());
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(one(&r.json(), "x-items").as_deref(), Some("1000"));
}
