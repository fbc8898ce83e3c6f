use super::*;
use crate::policy::dotnet::error::ExceptionKind;

fn p(s: &str) -> JToken {
    parse_token(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn none(s: &str) -> String {
    p(s).to_json(Formatting::None)
}

#[test]
fn indented_output_is_newtonsofts() {
    // Newtonsoft JToken.ToString(): two-space indent, `"a": 1`, arrays one item per line,
    // empty containers as `{}` / `[]`, Environment.NewLine (\r\n on APIM's Windows hosts).
    // https://www.newtonsoft.com/json/help/html/SerializingJSON.htm (indented output sample)
    let t = p(r#"{"a":1,"b":[1,2],"c":{},"d":[],"e":null,"f":1.0,"g":"x","h":{"i":true}}"#);
    let want = "{\r\n  \"a\": 1,\r\n  \"b\": [\r\n    1,\r\n    2\r\n  ],\r\n  \"c\": {},\r\n  \"d\": [],\r\n  \"e\": null,\r\n  \"f\": 1.0,\r\n  \"g\": \"x\",\r\n  \"h\": {\r\n    \"i\": true\r\n  }\r\n}";
    assert_eq!(t.to_dotnet_string(), want);
    assert_eq!(t.to_json_with(Formatting::Indented, "\n"), want.replace("\r\n", "\n"));
    assert_eq!(p("[]").to_dotnet_string(), "[]");
    assert_eq!(p("{}").to_dotnet_string(), "{}");
    assert_eq!(p("[[]]").to_dotnet_string(), "[\r\n  []\r\n]");
    let prop = t.property("a", false).unwrap();
    assert_eq!(prop.to_dotnet_string(), "\"a\": 1");
}

#[test]
fn compact_output_round_trips() {
    let cases = [
        (
            r#"{"a":1,"b":[1,2],"c":{},"d":[],"e":null,"f":1.0,"g":"x"}"#,
            r#"{"a":1,"b":[1,2],"c":{},"d":[],"e":null,"f":1.0,"g":"x"}"#,
        ),
        (r#" { "a" : [ true , false ] } "#, r#"{"a":[true,false]}"#),
        // Floats: JsonConvert.ToString(double) = "R" plus ".0" for whole numbers.
        (
            "[1e16, 1.5, 0.1, 100.0, -0.0, 1.0E-7, 3.0e2, 123456789.0]",
            "[1E+16,1.5,0.1,100.0,-0.0,1E-07,300.0,123456789.0]",
        ),
        ("[12345678901234567890, -9223372036854775808]", "[12345678901234567890,-9223372036854775808]"),
        // Escaping: quotes, backslash, control characters (lowercase hex), nothing else.
        (r#"["a\"b\\c\n\u0001é/\u2028<>&'"]"#, "[\"a\\\"b\\\\c\\n\\u0001é/\\u2028<>&'\"]"),
        // Lenient reader: unquoted names, single quotes, comments, trailing commas.
        ("{a:1, 'b':'x', /*c*/ \"c\":[1,2,],} // end", r#"{"a":1,"b":"x","c":[1,2]}"#),
        ("[NaN, Infinity, -Infinity, undefined]", r#"["NaN","Infinity","-Infinity",undefined]"#),
        ("[0x1F, 010]", "[31,8]"),
        // Duplicate names: the last value wins, in the first position.
        (r#"{"a":1,"b":2,"a":3}"#, r#"{"a":3,"b":2}"#),
    ];
    for (src, want) in cases {
        assert_eq!(none(src), want, "{src}");
    }
}

#[test]
fn dates_parse_and_print_as_newtonsoft() {
    // DateParseHandling.DateTime + DateTimeZoneHandling.RoundtripKind (Newtonsoft defaults);
    // local time is UTC on the gateway.
    let cases = [
        ("2012-03-21T05:40:00Z", "2012-03-21T05:40:00Z"),
        ("2012-03-21T05:40:00.1230000Z", "2012-03-21T05:40:00.123Z"),
        ("2012-03-21T05:40:00.1234567Z", "2012-03-21T05:40:00.1234567Z"),
        ("2012-03-21T05:40:00", "2012-03-21T05:40:00"),
        ("2012-03-21T05:40:00+02:00", "2012-03-21T03:40:00+00:00"),
        ("2012-03-21T05:40:00-0530", "2012-03-21T11:10:00+00:00"),
        ("/Date(1198908717056)/", "2007-12-29T06:11:57.056Z"),
        // Not dates: too short, bad month, no seconds, trailing text, eight fraction digits.
        ("2012-03-21", "2012-03-21"),
        ("2012-13-21T05:40:00Z", "2012-13-21T05:40:00Z"),
        ("2012-03-21T05:40Z", "2012-03-21T05:40Z"),
        ("2012-03-21T05:40:00Zx", "2012-03-21T05:40:00Zx"),
        ("2012-03-21T05:40:00.12345678Z", "2012-03-21T05:40:00.12345678Z"),
    ];
    for (src, want) in cases {
        let t = p(&format!("{{\"d\":\"{src}\"}}"));
        assert_eq!(t.to_json(Formatting::None), format!("{{\"d\":\"{want}\"}}"), "{src}");
    }
    let t = p(r#"{"d":"2012-03-21T05:40:00Z","s":"x"}"#);
    let d = t.get(Key::Name("d")).unwrap().unwrap();
    assert_eq!(d.token_type(), JTokenType::Date);
    // Value<string>() of a Date: Convert.ToString(DateTime, InvariantCulture).
    assert_eq!(value_as(Some(&d), Target::String, false).unwrap(), Prim::String("03/21/2012 05:40:00".into()));
    assert_eq!(d.to_dotnet_string(), "03/21/2012 05:40:00");
    assert_eq!(t.get(Key::Name("s")).unwrap().unwrap().token_type(), JTokenType::String);
}

#[test]
fn values_and_casts() {
    let t = p(r#"{"i":42,"f":1.5,"s":"42","b":true,"n":null,"o":{},"big":2.5,"str":"abc","neg":-2.5}"#);
    let g = |k: &str| t.get(Key::Name(k)).unwrap();
    // JValue.ToString(): the value's own ToString.
    assert_eq!(g("s").unwrap().to_dotnet_string(), "42");
    assert_eq!(g("b").unwrap().to_dotnet_string(), "True");
    assert_eq!(g("n").unwrap().to_dotnet_string(), "");
    assert_eq!(p("[1.0]").first().unwrap().to_dotnet_string(), "1");
    assert_eq!(g("s").unwrap().to_json(Formatting::None), "\"42\"");
    // Value<T>: Convert.ChangeType.
    let cases: Vec<(&str, Target, Prim)> = vec![
        ("i", Target::String, Prim::String("42".into())),
        ("f", Target::String, Prim::String("1.5".into())),
        ("b", Target::String, Prim::String("True".into())),
        ("s", Target::Int32, Prim::Int32(42)),
        ("i", Target::Int64, Prim::Int64(42)),
        ("f", Target::Int32, Prim::Int32(2)),
        ("big", Target::Int32, Prim::Int32(2)),
        ("neg", Target::Int32, Prim::Int32(-2)),
        ("i", Target::Double, Prim::Double(42.0)),
        ("b", Target::Int32, Prim::Int32(1)),
        ("i", Target::Boolean, Prim::Boolean(true)),
        ("n", Target::String, Prim::Null),
        ("missing", Target::Int32, Prim::Null),
    ];
    for (k, tg, want) in cases {
        assert_eq!(value_as(g(k).as_ref(), tg, false).unwrap(), want, "{k} {tg:?}");
    }
    assert_eq!(
        value_as(g("o").as_ref(), Target::String, false).unwrap_err().message,
        "Cannot cast Newtonsoft.Json.Linq.JObject to Newtonsoft.Json.Linq.JToken."
    );
    assert_eq!(value_as(g("n").as_ref(), Target::Int32, false).unwrap_err().kind, ExceptionKind::InvalidCast);
    assert_eq!(value_as(g("n").as_ref(), Target::Int32, true).unwrap(), Prim::Null);
    assert_eq!(value_as(g("str").as_ref(), Target::Int32, false).unwrap_err().kind, ExceptionKind::Format);
    // Explicit casts: (string)token, (int)token.
    assert_eq!(cast(g("s").as_ref(), Target::String, false).unwrap(), Prim::String("42".into()));
    assert_eq!(cast(g("i").as_ref(), Target::Int32, false).unwrap(), Prim::Int32(42));
    assert_eq!(cast(g("o").as_ref(), Target::String, false).unwrap_err().message, "Can not convert Object to String.");
    assert_eq!(cast(g("n").as_ref(), Target::Int32, false).unwrap_err().message, "Can not convert Null to Int32.");
    assert_eq!(cast(g("n").as_ref(), Target::Int32, true).unwrap(), Prim::Null);
    assert_eq!(cast(g("n").as_ref(), Target::String, false).unwrap(), Prim::Null);
    assert_eq!(cast(None, Target::Int32, false).unwrap_err().kind, ExceptionKind::Argument);
    let huge = p("[3000000000]").first().unwrap();
    assert_eq!(cast(Some(&huge), Target::Int32, false).unwrap_err().kind, ExceptionKind::Overflow);
    let d = p(r#"["2012-03-21T05:40:00Z"]"#).first().unwrap();
    assert_eq!(cast(Some(&d), Target::Int32, false).unwrap_err().message, "Can not convert Date to Int32.");
    match cast(Some(&p(r#"["2009-06-15T13:45:30"]"#).first().unwrap()), Target::DateTime, false).unwrap() {
        Prim::DateTime(dt) => assert_eq!(dt.hour(), 13),
        other => panic!("{other:?}"),
    }
}

#[test]
fn shared_references_and_mutation() {
    // JObject is a reference type: a cast handle modifies the body it came from.
    let body = p(r#"{"x":{"a":1},"arr":[1,2,3],"keep":"k"}"#);
    let o = body.get(Key::Name("x")).unwrap().unwrap();
    o.set(Key::Name("y"), JToken::value(JValue::Integer(1))).unwrap();
    o.set(Key::Name("a"), JToken::string("one")).unwrap();
    assert_eq!(body.to_json(Formatting::None), r#"{"x":{"a":"one","y":1},"arr":[1,2,3],"keep":"k"}"#);
    // Adding a token that has a parent adds a deep clone.
    let other = JToken::new_object();
    other.set(Key::Name("copy"), o.clone()).unwrap();
    o.set(Key::Name("y"), JToken::value(JValue::Integer(2))).unwrap();
    assert_eq!(other.to_json(Formatting::None), r#"{"copy":{"a":"one","y":1}}"#);
    // Remove, Replace, Add, Insert, RemoveAt.
    body.property("keep", false).unwrap().remove().unwrap();
    let arr = body.get(Key::Name("arr")).unwrap().unwrap();
    arr.get(Key::Index(0)).unwrap().unwrap().remove().unwrap();
    arr.add(JToken::string("z")).unwrap();
    arr.insert(0, JToken::null()).unwrap();
    arr.get(Key::Index(1)).unwrap().unwrap().replace(JToken::value(JValue::Boolean(false))).unwrap();
    assert_eq!(body.to_json(Formatting::None), r#"{"x":{"a":"one","y":2},"arr":[null,false,3,"z"]}"#);
    arr.remove_at(0).unwrap();
    assert!(body.remove_key("x"));
    assert!(!body.remove_key("x"));
    assert_eq!(body.to_json(Formatting::None), r#"{"arr":[false,3,"z"]}"#);
    // Renaming a field the way policies do: add under the new name, remove the old.
    let doc = p(r#"{"old":5,"z":0}"#);
    let v = doc.get(Key::Name("old")).unwrap().unwrap();
    doc.add_named("new", v).unwrap();
    doc.remove_key("old");
    assert_eq!(doc.to_json(Formatting::None), r#"{"z":0,"new":5}"#);
    // Errors Newtonsoft throws.
    assert_eq!(
        doc.add_named("z", JToken::null()).unwrap_err().message,
        "Can not add property z to Newtonsoft.Json.Linq.JObject. Property with the same name already exists on object."
    );
    let val = doc.get(Key::Name("z")).unwrap().unwrap();
    assert_eq!(val.remove().unwrap_err().kind, ExceptionKind::Json);
    assert_eq!(JToken::null().remove().unwrap_err().message, "The parent is missing.");
    assert_eq!(arr.get(Key::Index(9)).unwrap_err().kind, ExceptionKind::ArgumentOutOfRange);
    assert_eq!(
        arr.get(Key::Name("a")).unwrap_err().message,
        "Accessed JArray values with invalid key value: \"a\". Int32 array index expected."
    );
    assert_eq!(
        doc.get(Key::Index(0)).unwrap_err().message,
        "Accessed JObject values with invalid key value: 0. Object property name expected."
    );
    assert_eq!(
        val.get(Key::Name("a")).unwrap_err().message,
        "Cannot access child value on Newtonsoft.Json.Linq.JValue."
    );
    assert!(doc.get(Key::Name("absent")).unwrap().is_none());
    // DeepClone is independent; DeepEquals is structural.
    let c = doc.deep_clone();
    assert!(c.deep_equals(&doc));
    c.set(Key::Name("z"), JToken::value(JValue::Float(0.0))).unwrap();
    assert!(c.deep_equals(&doc), "0 == 0.0 for DeepEquals");
    c.set(Key::Name("z"), JToken::string("0")).unwrap();
    assert!(!c.deep_equals(&doc));
    assert_eq!(doc.to_json(Formatting::None), r#"{"z":0,"new":5}"#);
}

#[test]
fn navigation() {
    let t = p(r#"{"a":{"b":[10,{"c":1}]},"x y":2}"#);
    let c = t.select_token("a.b[1].c", false).unwrap().unwrap();
    assert_eq!(c.path(), "a.b[1].c");
    assert_eq!(t.get(Key::Name("x y")).unwrap().unwrap().path(), "['x y']");
    assert!(c.root().ptr_eq(&t));
    assert_eq!(t.properties().len(), 2);
    assert_eq!(t.descendants().len(), 10);
    assert_eq!(t.children().len(), 2);
    assert!(t.contains_key("a") && !t.contains_key("A"));
    assert!(t.property("A", true).is_some());
    assert_eq!(t.token_type().name(), "Object");
    assert_eq!(t.count(), 2);
    assert!(t.has_values());
}

fn stores() -> JToken {
    // The sample document of Newtonsoft's "Querying JSON with JSONPath" page.
    p(r#"{
      'Stores': ['Lambton Quay', 'Willis Street'],
      'Manufacturers': [
        { 'Name': 'Acme Co', 'Products': [ { 'Name': 'Anvil', 'Price': 50 } ] },
        { 'Name': 'Contoso', 'Products': [
            { 'Name': 'Elbow Grease', 'Price': 99.95 },
            { 'Name': 'Headlight Fluid', 'Price': 4 } ] }
      ]
    }"#)
}

#[test]
fn jsonpath_cases() {
    // https://www.newtonsoft.com/json/help/html/QueryJsonSelectTokenJsonPath.htm
    // https://www.newtonsoft.com/json/help/html/SelectToken.htm
    let s = stores();
    let texts = |path: &str| -> Vec<String> {
        s.select_tokens(path, false)
            .unwrap_or_else(|e| panic!("{path}: {e}"))
            .iter()
            .map(|t| t.to_json(Formatting::None))
            .collect()
    };
    let cases: &[(&str, &[&str])] = &[
        ("$.Manufacturers[?(@.Name == 'Acme Co')].Name", &["\"Acme Co\""]),
        ("$..Products[?(@.Price >= 50)].Name", &["\"Anvil\"", "\"Elbow Grease\""]),
        ("Manufacturers[0].Name", &["\"Acme Co\""]),
        ("Manufacturers[1].Products[0].Price", &["99.95"]),
        ("Stores[1]", &["\"Willis Street\""]),
        ("$.Stores[*]", &["\"Lambton Quay\"", "\"Willis Street\""]),
        ("$..Name", &["\"Acme Co\"", "\"Anvil\"", "\"Contoso\"", "\"Elbow Grease\"", "\"Headlight Fluid\""]),
        ("$.Stores[-1:]", &["\"Willis Street\""]),
        ("$.Stores[0:1]", &["\"Lambton Quay\""]),
        ("$.Stores[::-1]", &["\"Willis Street\"", "\"Lambton Quay\""]),
        ("$.Stores[0,1]", &["\"Lambton Quay\"", "\"Willis Street\""]),
        ("$['Stores'][0]", &["\"Lambton Quay\""]),
        ("$[\"Stores\"][1]", &["\"Willis Street\""]),
        ("$.Manufacturers[*].Products[*].Price", &["50", "99.95", "4"]),
        ("$..Products[?(@.Price < 10 || @.Name == 'Anvil')].Name", &["\"Anvil\"", "\"Headlight Fluid\""]),
        ("$..Products[?(@.Price > 5 && @.Price < 100)].Name", &["\"Anvil\"", "\"Elbow Grease\""]),
        ("$..Products[?(@.Name =~ /^h.*/i)].Price", &["4"]),
        ("$.Manufacturers[?(@.Name != 'Acme Co')].Name", &["\"Contoso\""]),
        ("$.Manufacturers[?(@.Products)].Name", &["\"Acme Co\"", "\"Contoso\""]),
        ("$.Manufacturers[?(@.Missing)].Name", &[]),
        ("$.Stores[5]", &[]),
        ("$.Nope", &[]),
        ("$.Stores.Name", &[]),
        ("$..Products[0].Name", &["\"Anvil\"", "\"Elbow Grease\""]),
        ("$.Manufacturers[0].*", &["\"Acme Co\"", "[{\"Name\":\"Anvil\",\"Price\":50}]"]),
    ];
    for (path, want) in cases {
        assert_eq!(texts(path), want.iter().map(|s| s.to_string()).collect::<Vec<_>>(), "{path}");
    }
    assert_eq!(s.select_token("$.Manufacturers[*].Name", false).unwrap_err().message, "Path returned multiple tokens.");
    assert!(s.select_token("$.Nope", false).unwrap().is_none());
    assert_eq!(s.select_token("$.Nope", true).unwrap_err().message, "Property 'Nope' does not exist on JObject.");
    assert_eq!(s.select_token("$.Stores[5]", true).unwrap_err().message, "Index 5 outside the bounds of JArray.");
    for bad in ["$.Stores[", "$.Stores[0", "$[?(@.a == 1]", "$.Stores[::0]"] {
        assert!(s.select_tokens(bad, false).is_err(), "{bad}");
    }
}

#[test]
fn reader_errors() {
    // Newtonsoft's JsonReaderException messages with path, line and position.
    let cases = [
        (r#"{"a":}"#, "Unexpected character encountered while parsing value: }. Path 'a', line 1, position 6."),
        ("{} x", "Additional text encountered after finished reading JSON content: x. Path '', line 1, position 4."),
        (r#"{"a":"x"#, "Unterminated string. Expected delimiter: \". Path 'a', line 1, position 7."),
        (r#"["\q"]"#, "Bad JSON escape sequence: \\q. Path '[0]', line 1, position 4."),
        ("[1 2]", "After parsing a value an unexpected character was encountered: 2. Path '', line 1, position 4."),
    ];
    for (src, want) in cases {
        let e = parse_token(src).unwrap_err();
        assert_eq!(e.kind, ExceptionKind::JsonReader, "{src}");
        assert_eq!(e.message, want, "{src}");
    }
    assert_eq!(parse_object("[1]").unwrap_err().message, "Error reading JObject from JsonReader. Current JsonReader item is not an object: StartArray. Path '', line 1, position 1.");
    assert_eq!(parse_array("{}").unwrap_err().kind, ExceptionKind::JsonReader);
    assert!(parse_object(" {\"a\":1} ").is_ok());
    assert_eq!(parse_token("").unwrap_err().kind, ExceptionKind::JsonReader);
    // MaxDepth 64, as Newtonsoft's reader.
    let deep_ok = "[".repeat(64) + &"]".repeat(64);
    assert!(parse_token(&deep_ok).is_ok());
    let deep = "[".repeat(65) + &"]".repeat(65);
    let e = parse_token(&deep).unwrap_err();
    assert!(e.message.starts_with("The reader's MaxDepth of 64 has been exceeded."), "{}", e.message);
    // The memory budget is a ringgate limit, not a catchable .NET exception.
    let big = format!("[\"{}\"]", "x".repeat(10_000));
    let e = parse_bytes(big.as_bytes(), ParseLimits { max_depth: 64, max_bytes: 1000 }).unwrap_err();
    assert_eq!(e.kind, ExceptionKind::Budget);
}

#[test]
fn building_and_serializing() {
    let o = JToken::new_object();
    o.add_named("name", JToken::string("x")).unwrap();
    o.add_named(
        "when",
        JToken::value(JValue::Date(
            crate::policy::dotnet::datetime::DateTime::new(
                crate::policy::dotnet::datetime::Civil::date(2020, 1, 2).at(3, 4, 5).ms(600),
                crate::policy::dotnet::datetime::DateTimeKind::Utc,
            )
            .unwrap(),
        )),
    )
    .unwrap();
    o.add_named("guid", JToken::value(JValue::Guid("0f8fad5b-d9cb-469f-a165-70867728950e".into()))).unwrap();
    o.add_named(
        "span",
        JToken::value(JValue::TimeSpan(crate::policy::dotnet::datetime::TimeSpan::from_ticks(15_000_000_000))),
    )
    .unwrap();
    o.add_named("bytes", JToken::value(JValue::Bytes(vec![1, 2, 3]))).unwrap();
    let a = JToken::new_array();
    a.add(JToken::value(JValue::Integer(1))).unwrap();
    o.add(JToken::new_property("list", a)).unwrap();
    assert_eq!(
        o.to_json(Formatting::None),
        r#"{"name":"x","when":"2020-01-02T03:04:05.6Z","guid":"0f8fad5b-d9cb-469f-a165-70867728950e","span":"00:25:00","bytes":"AQID","list":[1]}"#
    );
    assert_eq!(serialize_string("a\"b"), "\"a\\\"b\"");
    assert_eq!(json_double(2.0), "2.0");
    assert_eq!(json_double(f64::NAN), "\"NaN\"");
    assert_eq!(o.add(JToken::null()).unwrap_err().kind, ExceptionKind::Argument);
    // Adding a tree to itself adds a copy (Newtonsoft's EnsureParentToken), never a cycle.
    let a = p("[1]");
    a.add(a.clone()).unwrap();
    a.get(Key::Index(1)).unwrap().unwrap().add(a.clone()).unwrap();
    assert_eq!(a.to_json(Formatting::None), "[1,[1,[1,[1]]]]");
}

proptest::proptest! {
    #[test]
    fn parse_and_path_never_panic(s in "\\PC{0,60}") {
        if let Ok(t) = parse_token(&s) {
            let _ = t.to_json(Formatting::Indented);
            let again = parse_token(&t.to_json(Formatting::None));
            proptest::prop_assert!(again.is_ok(), "reparse of {}", t.to_json(Formatting::None));
        }
        let _ = stores().select_tokens(&s, false);
        let _ = date_of(&s);
    }
}

#[test]
fn handles_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<JToken>();
    let t = p(r#"{"a":[1,{"b":2}]}"#);
    let copy = t.clone();
    let h = std::thread::spawn(move || {
        copy.get(Key::Name("a")).unwrap().unwrap().add(JToken::string("x")).unwrap();
        copy.to_json(Formatting::None)
    });
    assert_eq!(h.join().unwrap(), r#"{"a":[1,{"b":2},"x"]}"#);
    assert_eq!(t.to_json(Formatting::None), r#"{"a":[1,{"b":2},"x"]}"#);
    assert!(t.deep_equals(&t));
}
