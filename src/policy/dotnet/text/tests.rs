use super::*;
use crate::policy::dotnet::datetime::DateTime;
use crate::policy::dotnet::error::ExceptionKind;
use StringComparison::*;

fn v(xs: &[&str]) -> Vec<String> {
    xs.iter().map(|s| s.to_string()).collect()
}

#[test]
fn comparisons_honour_string_comparison() {
    // https://learn.microsoft.com/dotnet/api/system.stringcomparison
    assert!(equals("east asia", "East Asia", OrdinalIgnoreCase));
    assert!(!equals("east asia", "East Asia", Ordinal));
    assert!(equals("east asia", "East Asia", InvariantCultureIgnoreCase));
    assert!(equals("straße", "STRAßE", OrdinalIgnoreCase));
    assert!(compare("a", "B", Ordinal) > 0);
    assert_eq!(compare("a", "B", InvariantCulture), -1);
    assert_eq!(compare("a", "A", InvariantCulture), -1);
    assert_eq!(compare("A", "a", InvariantCultureIgnoreCase), 0);
    assert_eq!(compare("abc", "abd", CurrentCulture), -1);
    assert_eq!(compare("b", "a", OrdinalIgnoreCase), 1);
    assert!(compare("ab", "abc", Ordinal) < 0);
    assert!(starts_with("Hello", "he", OrdinalIgnoreCase));
    assert!(!starts_with("Hello", "he", Ordinal));
    assert!(starts_with("Hello", "", Ordinal));
    assert!(ends_with("file.JSON", ".json", OrdinalIgnoreCase));
    assert_eq!(index_of("Hello World", "o", 5, Ordinal), Some(7));
    assert_eq!(index_of("Hello World", "WORLD", 0, OrdinalIgnoreCase), Some(6));
    assert_eq!(index_of("Hello", "", 0, Ordinal), Some(0));
    assert_eq!(index_of("😀x", "x", 0, Ordinal), Some(2));
    assert_eq!(index_of("Hello", "z", 0, Ordinal), None);
    assert_eq!(last_index_of("abcabc", "bc", Ordinal), Some(4));
    assert!(contains("Bearer xyz", "bearer", OrdinalIgnoreCase));
    assert!(!contains("Bearer xyz", "bearer", Ordinal));
    assert_eq!(StringComparison::from_name("OrdinalIgnoreCase"), Some(OrdinalIgnoreCase));
}

#[test]
fn index_members_and_exceptions() {
    // https://learn.microsoft.com/dotnet/api/system.string.substring (exceptions table)
    assert_eq!(substring("Hello", 1, Some(3)).unwrap(), "ell");
    assert_eq!(substring("Hello", 5, None).unwrap(), "");
    assert_eq!(substring("a😀b", 1, Some(2)).unwrap(), "😀");
    let e = substring("Hello", 6, None).unwrap_err();
    assert_eq!(
        (e.kind, e.message.as_str()),
        (
            ExceptionKind::ArgumentOutOfRange,
            "startIndex cannot be larger than length of string. (Parameter 'startIndex')"
        )
    );
    assert_eq!(
        substring("Hello", -1, None).unwrap_err().message,
        "StartIndex cannot be less than zero. (Parameter 'startIndex')"
    );
    assert_eq!(
        substring("Hello", 2, Some(9)).unwrap_err().message,
        "Index and length must refer to a location within the string. (Parameter 'length')"
    );
    assert_eq!(
        substring("Hello", 2, Some(-1)).unwrap_err().message,
        "Length cannot be less than zero. (Parameter 'length')"
    );
    assert_eq!(len16("😀"), 2);
    assert_eq!(char_at("abc", 1).unwrap(), 'b');
    assert_eq!(char_at("abc", 3).unwrap_err().kind, ExceptionKind::IndexOutOfRange);
    assert_eq!(pad_left("42", 5, '0').unwrap(), "00042");
    assert_eq!(pad_right("ab", 4, '.').unwrap(), "ab..");
    assert_eq!(pad_left("abcdef", 3, ' ').unwrap(), "abcdef");
    assert_eq!(pad_left("a", -1, ' ').unwrap_err().message, "Non-negative number required. (Parameter 'totalWidth')");
    assert_eq!(insert("abc", 1, "X").unwrap(), "aXbc");
    assert_eq!(insert("abc", 4, "X").unwrap_err().kind, ExceptionKind::ArgumentOutOfRange);
    assert_eq!(remove("abcdef", 2, None).unwrap(), "ab");
    assert_eq!(remove("abcdef", 1, Some(2)).unwrap(), "adef");
    assert_eq!(remove("abc", 3, None).unwrap_err().kind, ExceptionKind::ArgumentOutOfRange);
    assert_eq!(replace("a-b-c", "-", Some("+")).unwrap(), "a+b+c");
    assert_eq!(replace("a-b-c", "-", None).unwrap(), "abc");
    assert_eq!(replace("x", "", Some("y")).unwrap_err().kind, ExceptionKind::Argument);
    assert_eq!(replace_with("Hello HELLO", "hello", Some("bye"), OrdinalIgnoreCase).unwrap(), "bye bye");
    assert_eq!(trim("  x  ", None), "x");
    assert_eq!(trim("\u{a0}\t x \r\n", None), "x");
    assert_eq!(trim("xxhixx", Some(&['x'])), "hi");
    assert_eq!(trim_start("0012", Some(&['0'])), "12");
    assert_eq!(trim_end("a/b//", Some(&['/'])), "a/b");
    assert_eq!(trim_start("  a ", None), "a ");
    assert_eq!(to_upper("straße"), "STRAßE");
    assert_eq!(to_lower("ÀB"), "àb");
    assert_eq!(to_upper("hello world"), "HELLO WORLD");
    assert!(is_null_or_whitespace(None) && is_null_or_whitespace(Some(" \t")) && !is_null_or_whitespace(Some(" a")));
}

#[test]
fn split_cases() {
    // https://learn.microsoft.com/dotnet/api/system.string.split (examples)
    let none = SplitOptions::NONE;
    let rm = SplitOptions::REMOVE_EMPTY;
    let trim = SplitOptions { remove_empty: false, trim: true };
    let max = i64::from(i32::MAX);
    assert_eq!(split_chars("apple,banana,,cherry", &[','], max, none).unwrap(), v(&["apple", "banana", "", "cherry"]));
    assert_eq!(split_chars("apple,banana,,cherry", &[','], max, rm).unwrap(), v(&["apple", "banana", "cherry"]));
    assert_eq!(split_chars("a b  c", &[], max, none).unwrap(), v(&["a", "b", "", "c"]));
    assert_eq!(split_chars("one, two ,three", &[','], max, trim).unwrap(), v(&["one", "two", "three"]));
    assert_eq!(split_chars("a,b,c,d", &[','], 2, none).unwrap(), v(&["a", "b,c,d"]));
    assert_eq!(split_chars("a,b", &[','], 0, none).unwrap(), Vec::<String>::new());
    assert_eq!(split_chars("", &[','], max, none).unwrap(), v(&[""]));
    assert_eq!(split_chars("", &[','], max, rm).unwrap(), Vec::<String>::new());
    assert_eq!(split_chars("a;b,c", &[',', ';'], max, none).unwrap(), v(&["a", "b", "c"]));
    assert_eq!(split_chars("a,b", &[','], -1, none).unwrap_err().kind, ExceptionKind::ArgumentOutOfRange);
    let src = "[stop]ONE[stop][stop]TWO[stop][stop][stop]THREE[stop][stop]";
    let sep = vec!["[stop]".to_string()];
    assert_eq!(split_strings(src, &sep, max, none).unwrap(), v(&["", "ONE", "", "TWO", "", "", "THREE", "", ""]));
    assert_eq!(split_strings(src, &sep, max, rm).unwrap(), v(&["ONE", "TWO", "THREE"]));
    assert_eq!(
        split_strings(src, &sep, 2, none).unwrap(),
        v(&["", "ONE[stop][stop]TWO[stop][stop][stop]THREE[stop][stop]"])
    );
    assert_eq!(split_strings(src, &sep, 2, rm).unwrap(), v(&["ONE", "TWO[stop][stop][stop]THREE[stop][stop]"]));
    assert_eq!(split_string("a::b", Some("::"), max, none).unwrap(), v(&["a", "b"]));
    assert_eq!(split_string("a b", Some(""), max, none).unwrap(), v(&["a b"]));
    assert_eq!(split_strings("a b", &[String::new()], max, none).unwrap(), v(&["a", "b"]));
    assert_eq!(SplitOptions::from_bits(3).unwrap(), SplitOptions { remove_empty: true, trim: true });
    assert!(SplitOptions::from_bits(4).is_err());
}

#[test]
fn composite_formatting() {
    // https://learn.microsoft.com/dotnet/standard/base-types/composite-formatting
    let d = DateTime::new(
        crate::policy::dotnet::datetime::Civil::date(2009, 6, 15).at(13, 45, 30),
        crate::policy::dotnet::datetime::DateTimeKind::Utc,
    )
    .unwrap();
    let cases: Vec<(&str, Vec<FormatArg>, &str)> = vec![
        ("{0,-10}|{1,8:N2}|", vec![FormatArg::Str("abc".into()), FormatArg::Double(1234.5)], "abc       |1,234.50|"),
        ("{0:D5}", vec![FormatArg::Int(42, 32)], "00042"),
        ("{{0}} {0}", vec![FormatArg::Int(7, 32)], "{0} 7"),
        ("{0:yyyy-MM-dd}", vec![FormatArg::DateTime(d)], "2009-06-15"),
        ("{0:o}", vec![FormatArg::DateTime(d)], "2009-06-15T13:45:30.0000000Z"),
        ("{0:P1}", vec![FormatArg::Double(0.125)], "12.5 %"),
        ("Hex {0:X}", vec![FormatArg::Int(255, 32)], "Hex FF"),
        ("{0,5}", vec![FormatArg::Str("ab".into())], "   ab"),
        ("{0} {1} {0}", vec![FormatArg::Bool(true), FormatArg::Null], "True  True"),
        ("{0}", vec![FormatArg::Double(0.1 + 0.2)], "0.30000000000000004"),
        ("{0:0.00}", vec![FormatArg::Double(2.5)], "2.50"),
        ("{0 }", vec![FormatArg::Int(1, 32)], "1"),
    ];
    for (f, args, want) in cases {
        assert_eq!(format_composite(f, &args).unwrap(), want, "{f}");
    }
    for bad in ["{0", "}", "{a}", "{0,}", "{0:x", "{1}", "{ 0}"] {
        assert_eq!(format_composite(bad, &[FormatArg::Int(1, 32)]).unwrap_err().kind, ExceptionKind::Format, "{bad}");
    }
    assert_eq!(
        format_composite("{1}", &[FormatArg::Null]).unwrap_err().message,
        "Index (zero based) must be greater than or equal to zero and less than the size of the argument list."
    );
}

#[test]
fn string_builder() {
    // https://learn.microsoft.com/dotnet/api/system.text.stringbuilder
    let mut sb = StringBuilder::new(1 << 10);
    sb.append("Hello").unwrap().append(" World").unwrap();
    sb.append_line("!").unwrap();
    sb.append_format("{0:N1}", &[FormatArg::Double(1.25)]).unwrap();
    assert_eq!(sb.as_str(), "Hello World!\r\n1.2");
    sb.insert(0, ">").unwrap();
    sb.replace("World", "There").unwrap();
    sb.remove(1, 6).unwrap();
    assert_eq!(sb.to_string(), ">There!\r\n1.2");
    assert_eq!(sb.length(), 12);
    assert_eq!(sb.insert(99, "x").unwrap_err().kind, ExceptionKind::ArgumentOutOfRange);
    sb.append_repeat('-', 3).unwrap();
    assert!(sb.as_str().ends_with("---"));
    sb.clear();
    assert_eq!(sb.length(), 0);
    let mut small = StringBuilder::new(8);
    small.append("12345678").unwrap();
    assert_eq!(small.append("9").unwrap_err().kind, ExceptionKind::Budget);
    assert_eq!(small.append_repeat('x', i64::MAX).unwrap_err().kind, ExceptionKind::Budget);
}

proptest::proptest! {
    #[test]
    fn string_members_never_panic(s in "\\PC{0,20}", t in "\\PC{0,4}", a in -3i64..25, b in -3i64..25) {
        let _ = substring(&s, a, Some(b));
        let _ = remove(&s, a, Some(b));
        let _ = insert(&s, a, &t);
        let _ = char_at(&s, a);
        let _ = index_of(&s, &t, a.max(0) as usize, OrdinalIgnoreCase);
        let _ = split_strings(&s, std::slice::from_ref(&t), b, SplitOptions::REMOVE_EMPTY);
        let _ = format_composite(&s, &[FormatArg::Int(1, 32)]);
        let _ = replace_with(&s, &t, Some("x"), OrdinalIgnoreCase);
    }
}
