use super::*;
use crate::policy::dotnet::error::ExceptionKind;

#[test]
fn uri_properties_docs_example() {
    // https://learn.microsoft.com/dotnet/api/system.uri (the class page's property dump)
    let u = Uri::parse("https://user:password@www.contoso.com:80/Home/Index.htm?q1=v1&q2=v2#FragmentName").unwrap();
    assert_eq!(u.absolute_path().unwrap(), "/Home/Index.htm");
    assert_eq!(
        u.absolute_uri().unwrap(),
        "https://user:password@www.contoso.com:80/Home/Index.htm?q1=v1&q2=v2#FragmentName"
    );
    assert_eq!(u.authority().unwrap(), "www.contoso.com:80");
    assert_eq!(u.fragment().unwrap(), "#FragmentName");
    assert_eq!(u.host().unwrap(), "www.contoso.com");
    assert!(u.is_absolute_uri());
    assert!(!u.is_default_port().unwrap());
    assert_eq!(u.path_and_query().unwrap(), "/Home/Index.htm?q1=v1&q2=v2");
    assert_eq!(u.port().unwrap(), 80);
    assert_eq!(u.query().unwrap(), "?q1=v1&q2=v2");
    assert_eq!(u.scheme().unwrap(), "https");
    assert_eq!(u.segments().unwrap(), vec!["/", "Home/", "Index.htm"]);
    assert_eq!(u.user_info().unwrap(), "user:password");
    assert_eq!(u.original_string(), "https://user:password@www.contoso.com:80/Home/Index.htm?q1=v1&q2=v2#FragmentName");
    assert_eq!(u.get_left_part(UriPartial::Authority).unwrap(), "https://user:password@www.contoso.com:80");
    assert_eq!(u.get_left_part(UriPartial::Path).unwrap(), "https://user:password@www.contoso.com:80/Home/Index.htm");
    assert_eq!(u.get_left_part(UriPartial::Scheme).unwrap(), "https://");
}

#[test]
fn canonical_forms() {
    let cases = [
        ("HTTP://Example.COM/a/../b/./c", "http://example.com/b/c", "http://example.com/b/c"),
        ("http://a.com", "http://a.com/", "http://a.com/"),
        ("http://a.com:80/x", "http://a.com/x", "http://a.com/x"),
        ("https://a.com:443", "https://a.com/", "https://a.com/"),
        ("http://a.com/x y?q=a b", "http://a.com/x%20y?q=a%20b", "http://a.com/x y?q=a b"),
        ("http://a.com/caf%C3%A9", "http://a.com/caf%C3%A9", "http://a.com/café"),
        ("http://a.com/é", "http://a.com/%C3%A9", "http://a.com/é"),
        ("http://a.com/a%2Fb%25c", "http://a.com/a%2Fb%25c", "http://a.com/a%2Fb%25c"),
        ("http://a.com\\x\\y", "http://a.com/x/y", "http://a.com/x/y"),
        ("http://[::1]:8080/p", "http://[::1]:8080/p", "http://[::1]:8080/p"),
        ("mailto:someone@example.com", "mailto:someone@example.com", "mailto:someone@example.com"),
        ("  http://a.com/  ", "http://a.com/", "http://a.com/"),
    ];
    for (src, abs, shown) in cases {
        let u = Uri::parse(src).unwrap_or_else(|e| panic!("{src}: {e}"));
        assert_eq!(u.absolute_uri().unwrap(), abs, "{src}");
        assert_eq!(u.to_dotnet_string(), shown, "{src}");
    }
    let ports = [("https://a.com", 443), ("http://a.com:8080", 8080), ("ftp://a", 21), ("ws://a", 80), ("foo://a", -1)];
    for (src, p) in ports {
        assert_eq!(Uri::parse(src).unwrap().port().unwrap(), p, "{src}");
    }
    assert_eq!(Uri::parse("http://[::1]/").unwrap().host().unwrap(), "[::1]");
}

#[test]
fn errors_and_relative() {
    // https://learn.microsoft.com/dotnet/api/system.uri.-ctor (UriFormatException cases)
    let cases = [
        ("", "Invalid URI: The URI is empty."),
        ("not a uri", "Invalid URI: The format of the URI could not be determined."),
        ("/relative/path", "Invalid URI: The format of the URI could not be determined."),
        ("http://", "Invalid URI: The hostname could not be parsed."),
        ("http://a.com:99999/", "Invalid URI: Invalid port specified."),
        ("http://a.com:8x/", "Invalid URI: Invalid port specified."),
        ("http://a b.com/", "Invalid URI: The hostname could not be parsed."),
        ("http://[zz]/", "Invalid URI: The hostname could not be parsed."),
    ];
    for (src, msg) in cases {
        let e = Uri::parse(src).unwrap_err();
        assert_eq!((e.kind, e.message.as_str()), (ExceptionKind::UriFormat, msg), "{src}");
        assert!(e.kind.is_caught_by("FormatException"));
    }
    let r = Uri::parse_kind("/a/b?c", UriKind::Relative).unwrap();
    assert!(!r.is_absolute_uri());
    assert_eq!(r.host().unwrap_err().message, "This operation is not supported for a relative URI.");
    assert_eq!(r.to_dotnet_string(), "/a/b?c");
    assert!(Uri::parse_kind("http://a/", UriKind::Relative).is_err());
    assert!(Uri::parse_kind("x/y", UriKind::RelativeOrAbsolute).is_ok_and(|u| !u.is_absolute_uri()));
    assert!(Uri::try_create("http://ok.com", UriKind::Absolute).is_some());
}

#[test]
fn relative_resolution() {
    // RFC 3986 §5.4 normal examples, as new Uri(baseUri, relative) resolves them.
    let base = Uri::parse("http://a/b/c/d;p?q").unwrap();
    let cases = [
        ("g", "http://a/b/c/g"),
        ("./g", "http://a/b/c/g"),
        ("g/", "http://a/b/c/g/"),
        ("/g", "http://a/g"),
        ("//g", "http://g/"),
        ("?y", "http://a/b/c/d;p?y"),
        ("g?y", "http://a/b/c/g?y"),
        ("#s", "http://a/b/c/d;p?q#s"),
        ("..", "http://a/b/"),
        ("../g", "http://a/b/g"),
        ("../../g", "http://a/g"),
        ("https://other/x", "https://other/x"),
    ];
    for (rel, want) in cases {
        assert_eq!(Uri::join(&base, rel).unwrap().absolute_uri().unwrap(), want, "{rel}");
    }
}

#[test]
fn escaping_helpers() {
    // https://learn.microsoft.com/dotnet/api/system.uri.escapedatastring
    assert_eq!(escape_data_string("a b&c=d/é~"), "a%20b%26c%3Dd%2F%C3%A9~");
    assert_eq!(unescape_data_string("a%20b+c%zz%C3%A9%"), "a b+c%zzé%");
    assert_eq!(unescape_data_string("%FF%41"), "%FFA");
    assert_eq!(escape_uri_string("http://a/b c?d=e"), "http://a/b%20c?d=e");
    // WebUtility.UrlEncode: uppercase hex; HttpUtility.UrlEncode: lowercase hex.
    assert_eq!(web_url_encode("a b&c=d/é*"), "a+b%26c%3Dd%2F%C3%A9*");
    assert_eq!(http_url_encode("a b&c=d/é*"), "a+b%26c%3dd%2f%c3%a9*");
    assert_eq!(web_url_encode("-_.!*()~"), "-_.!*()%7E");
    assert_eq!(url_decode("a+b%26%zz%c3%a9"), "a b&%zzé");
    // https://learn.microsoft.com/dotnet/api/system.net.webutility.htmlencode
    assert_eq!(
        html_encode("<a href=\"x\">Tom & Jerry's</a> ©"),
        "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt; &#169;"
    );
    assert_eq!(html_decode("&lt;b&gt; &amp;amp; &#65;&#x42; &copy; &unknown; &"), "<b> &amp; AB © &unknown; &");
    let q = parse_query_string("?a=1&b=x+y&a=3&c");
    assert_eq!(query_get(&q, "a").as_deref(), Some("1,3"));
    assert_eq!(query_get(&q, "B").as_deref(), Some("x y"));
    assert_eq!(query_get(&q, "z"), None);
    assert_eq!(q[3], (None, "c".to_string()));
}

#[test]
fn uri_builder() {
    // https://learn.microsoft.com/dotnet/api/system.uribuilder
    let mut b = UriBuilder::parse("http://a.com/x").unwrap();
    b.set_query("k=v");
    assert_eq!(b.to_dotnet_string(), "http://a.com/x?k=v");
    b.set_query("?k=w");
    b.port = 8080;
    b.set_fragment("f");
    assert_eq!(b.to_dotnet_string(), "http://a.com:8080/x?k=w#f");
    b.set_path("new path");
    assert_eq!(b.uri().unwrap().absolute_uri().unwrap(), "http://a.com:8080/new%20path?k=w#f");
    let b2 = UriBuilder::parse("example.org").unwrap();
    assert_eq!(b2.to_dotnet_string(), "http://example.org/");
    assert_eq!(b2.port, 80);
}

proptest::proptest! {
    #[test]
    fn uri_parsing_never_panics(s in "\\PC{0,40}") {
        if let Ok(u) = Uri::parse(&s) {
            let _ = u.absolute_uri();
            let _ = u.to_dotnet_string();
            let _ = u.segments();
            let _ = Uri::join(&u, &s);
        }
        let _ = Uri::parse_kind(&s, UriKind::RelativeOrAbsolute);
        let _ = unescape_data_string(&s);
        let _ = html_decode(&s);
        let _ = parse_query_string(&s);
        let _ = UriBuilder::parse(&s);
    }
}
