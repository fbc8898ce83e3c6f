use super::*;
use crate::policy::dotnet::error::ExceptionKind;

fn doc(s: &str) -> XDocument {
    parse_document(s, XmlLimits::default()).unwrap_or_else(|e| panic!("{s}: {e}"))
}

#[test]
fn navigation_and_values() {
    // https://learn.microsoft.com/dotnet/standard/linq/find-element-specific-name
    let d = doc(r#"<?xml version="1.0"?>
<Root xmlns:aw="http://www.adventure-works.com">
  <aw:Child1 id="1">child one</aw:Child1>
  <Child2 aw:id="2">child <b>two</b></Child2>
  <Child2>second</Child2>
  <Empty/>
</Root>"#);
    let r = &d.root;
    assert_eq!(r.name.local, "Root");
    assert_eq!(r.elements().count(), 4);
    let c1 = r.element("{http://www.adventure-works.com}Child1").unwrap();
    assert_eq!(c1.value(), "child one");
    assert_eq!(c1.name.to_dotnet_string(), "{http://www.adventure-works.com}Child1");
    assert_eq!(c1.attribute("id").unwrap().value, "1");
    assert!(r.element("Child1").is_none());
    let c2 = r.element("Child2").unwrap();
    assert_eq!(c2.value(), "child two");
    assert_eq!(c2.attribute("{http://www.adventure-works.com}id").unwrap().value, "2");
    assert_eq!(r.elements_named("Child2").count(), 2);
    assert_eq!(r.descendants().len(), 5);
    assert_eq!(r.descendants_named("b")[0].value(), "two");
    assert!(r.element("Empty").unwrap().is_empty());
    assert_eq!(r.value(), "child onechild twosecond");
    assert!(d.declaration.is_some());
    // Default namespace applies to elements, not attributes.
    let s = doc(r#"<e xmlns="urn:x" a="1"><f/></e>"#);
    assert_eq!(s.root.name.namespace, "urn:x");
    assert_eq!(s.root.element("{urn:x}f").map(|e| e.name.local.as_str()), Some("f"));
    assert_eq!(s.root.attribute("a").unwrap().value, "1");
    // Entities and CDATA.
    let e = doc("<a x=\"&lt;&quot;\">1 &amp; 2<![CDATA[<raw>]]></a>");
    assert_eq!(e.root.value(), "1 & 2<raw>");
    assert_eq!(e.root.attribute("x").unwrap().value, "<\"");
}

#[test]
fn to_string_formats() {
    // XElement.ToString(): indented two spaces, \r\n, `<a />`; mixed content stays inline.
    let d = doc("<root><a>1</a><b><c/></b><m>x<i>y</i>z</m></root>");
    assert_eq!(
        d.to_xml(true),
        "<root>\r\n  <a>1</a>\r\n  <b>\r\n    <c />\r\n  </b>\r\n  <m>x<i>y</i>z</m>\r\n</root>"
    );
    assert_eq!(d.to_xml(false), "<root><a>1</a><b><c /></b><m>x<i>y</i>z</m></root>");
    let mut e = XElement::new("item", Some("a<b&c>"));
    e.set_attribute_value("q", Some("\"x\" & y"));
    assert_eq!(e.to_xml(true), "<item q=\"&quot;x&quot; &amp; y\">a&lt;b&amp;c&gt;</item>");
    e.set_attribute_value("q", None);
    e.set_value("v");
    e.add(XElement::new("child", None));
    assert_eq!(e.to_xml(false), "<item>v<child /></item>");
    let ns = doc(r#"<p:a xmlns:p="urn:p" p:k="v"/>"#);
    assert_eq!(ns.to_xml(true), r#"<p:a xmlns:p="urn:p" p:k="v" />"#);
}

#[test]
fn errors() {
    for bad in ["", "<a>", "<a></b>", "<a/><b/>", "text", "<p:a/>", "<a x='1' x='2'/>"] {
        let e = parse_document(bad, XmlLimits::default()).unwrap_err();
        assert_eq!(e.kind, ExceptionKind::Xml, "{bad}");
    }
    let deep = "<a>".repeat(200) + &"</a>".repeat(200);
    assert_eq!(parse_document(&deep, XmlLimits::default()).unwrap_err().kind, ExceptionKind::Budget);
    assert_eq!(
        parse_document("<a/>", XmlLimits { max_depth: 8, max_bytes: 2, max_nodes: 10 }).unwrap_err().kind,
        ExceptionKind::Budget
    );
}

proptest::proptest! {
    #[test]
    fn parse_never_panics(s in "[<>/a-c =\"'&;!\\[\\]CDAT?x:ml\\-]{0,40}") {
        if let Ok(d) = parse_document(&s, XmlLimits::default()) {
            let _ = d.to_xml(true);
            let _ = d.root.value();
        }
    }
}

#[test]
fn node_budget() {
    let many = format!("<r>{}</r>", "<a/>".repeat(1000));
    let limits = XmlLimits { max_nodes: 500, ..XmlLimits::default() };
    let e = parse_document(&many, limits).unwrap_err();
    assert_eq!(e.kind, ExceptionKind::Budget);
    assert!(e.message.contains("more than 500 nodes"), "{}", e.message);
    let attrs = format!("<r {}/>", (0..1000).map(|i| format!("a{i}=''")).collect::<Vec<_>>().join(" "));
    assert_eq!(parse_document(&attrs, limits).unwrap_err().kind, ExceptionKind::Budget);
    let (_, n) = super::parse_counted("<r a='1'><b>t</b><!--c--></r>", XmlLimits::default()).unwrap();
    assert_eq!(n, 5); // r, a, b, t, the comment
                      // Entities declared in a DTD are not expanded (no billion laughs).
    let lol = "<!DOCTYPE l [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]><l>&b;</l>";
    let e = parse_document(lol, XmlLimits::default()).unwrap_err();
    assert_eq!(e.kind, ExceptionKind::Xml);
    assert!(e.message.contains("not expanded by ringgate"), "{}", e.message);
}
