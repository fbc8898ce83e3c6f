use super::*;

fn re(p: &str) -> Regex {
    Regex::new(p, RegexOptions(0)).unwrap_or_else(|e| panic!("{p}: {e}"))
}

#[test]
fn matches_and_groups() {
    // https://learn.microsoft.com/dotnet/standard/base-types/grouping-constructs-in-regular-expressions
    let m = re(r"\d{4}").find("The year 2024 was");
    assert!(m.success());
    assert_eq!((m.value(), m.index(), m.length()), ("2024", 9, 4));
    let m = re(r"(?<year>\d{4})-(?<month>\d{2})").find("on 2024-05!");
    assert_eq!(m.group_named("year").value, "2024");
    assert_eq!(m.group_named("month").value, "05");
    assert_eq!(m.group(1).value, "2024");
    // .NET numbers unnamed groups before named ones.
    let m = re(r"(?<y>\d+)-(\d+)").find("12-34");
    assert_eq!(m.group(1).value, "34");
    assert_eq!(m.group(2).value, "12");
    assert_eq!(m.group_named("y").value, "12");
    assert_eq!(m.group_named("1").value, "34");
    assert_eq!(re(r"(?<y>\d+)-(\d+)").group_names(), vec!["0", "1", "y"]);
    let m = re(r"(?'word'\w+)").find("hi there");
    assert_eq!(m.group_named("word").value, "hi");
    // Absent groups are unsuccessful and empty, never null.
    let m = re(r"(a)|(b)").find("b");
    assert!(!m.group(1).success && m.group(2).success);
    assert!(!m.group_named("nope").success);
    assert!(!m.group(99).success);
    assert_eq!(m.group_count(), 3);
    let none = re("x").find("abc");
    assert!(!none.success());
    assert_eq!(none.value(), "");
    assert_eq!(none, Match::empty());
    // UTF-16 indexes.
    assert_eq!(re(r"\d").find("é1").index(), 1);
    assert_eq!(re(r"\d").find("😀1").index(), 2);
    let m = re(r"\d+").match_at("a1b22", 2).unwrap();
    assert_eq!((m.value(), m.index()), ("22", 3));
    assert!(re("a").match_at("a", 5).is_err());
    let all: Vec<String> =
        re(r"\d+").matches("a1b22c333", 100).unwrap().iter().map(|m| m.value().to_string()).collect();
    assert_eq!(all, vec!["1", "22", "333"]);
    assert_eq!(re("").matches("abc", 100).unwrap().len(), 4);
    assert!(re(r"\d").matches("1234", 2).is_err());
    // The docs' Cache-Control example: max-age from a header.
    let m = re(r"max-age=(?<maxAge>\d+)").find("public, max-age=3600");
    assert_eq!(m.group_named("maxAge").value, "3600");
}

#[test]
fn options() {
    // https://learn.microsoft.com/dotnet/standard/base-types/regular-expression-options
    let o = |p: &str, f: u32| Regex::new(p, RegexOptions(f)).unwrap();
    assert!(o("abc", RegexOptions::IGNORE_CASE).is_match("xABCx"));
    assert!(!re("abc").is_match("ABC"));
    assert!(o("^b", RegexOptions::MULTILINE).is_match("a\nb"));
    assert!(!re("^b").is_match("a\nb"));
    assert!(o("a.b", RegexOptions::SINGLELINE).is_match("a\nb"));
    assert!(!re("a.b").is_match("a\nb"));
    assert!(o("a b # comment", RegexOptions::IGNORE_PATTERN_WHITESPACE).is_match("ab"));
    let m = o("(a)(?<n>b)", RegexOptions::EXPLICIT_CAPTURE).find("ab");
    assert_eq!(m.group_count(), 2);
    assert_eq!(m.group_named("n").value, "b");
    assert!(o("(?i)abc", 0).is_match("ABC"));
    assert!(o("a(?i:b)c", 0).is_match("aBc"));
    assert!(
        o("abc", RegexOptions::CULTURE_INVARIANT | RegexOptions::COMPILED | RegexOptions::IGNORE_CASE).is_match("ABC")
    );
    assert!(Regex::new("a", RegexOptions(RegexOptions::RIGHT_TO_LEFT)).is_err());
    assert!(Regex::new("a", RegexOptions(RegexOptions::ECMA_SCRIPT)).is_err());
}

#[test]
fn dialect_translation() {
    let cases: &[(&str, &str, Option<&str>)] = &[
        ("a{b", "xa{b", Some("a{b")),
        ("{foo}", "{foo}", Some("{foo}")),
        ("a{2}", "aaa", Some("aa")),
        ("a{2,}", "aaaa", Some("aaaa")),
        ("[a-z-[aeiou]]+", "hello", Some("h")),
        ("[[]", "a[b", Some("[")),
        ("[]a]+", "]a]", Some("]a]")),
        (r"\e", "\u{1b}", Some("\u{1b}")),
        (r"\x41\u0042", "AB", Some("AB")),
        (r"\cA", "\u{1}", Some("\u{1}")),
        (r"\p{Lu}+", "abCDe", Some("CD")),
        (r"a(?#comment)b", "ab", Some("ab")),
        (r"\d+(?:px)?", "12px", Some("12px")),
        (r"[\d-]+", "12-3", Some("12-3")),
        (r"^\s*Bearer\s+(\S+)$", "Bearer abc.def", Some("Bearer abc.def")),
        (r"a&&b", "a&&b", Some("a&&b")),
        (r"[&~]+", "&~", Some("&~")),
    ];
    for (p, input, want) in cases {
        let m = re(p).find(input);
        assert_eq!(m.success().then(|| m.value().to_string()).as_deref(), *want, "{p}");
    }
}

#[test]
fn refusals_name_the_construct_and_offset() {
    let cases = [
        (r"(\w)\1", 4, "A backreference"),
        (r"(?<n>x)\k<n>", 7, "A named backreference"),
        ("a(?=b)", 1, "A lookahead assertion"),
        ("a(?!b)", 1, "A lookahead assertion"),
        ("(?<=a)b", 0, "A lookbehind assertion"),
        ("(?<!a)b", 0, "A lookbehind assertion"),
        ("(?>a+)", 0, "An atomic group"),
        ("(?(a)b|c)", 0, "A conditional expression"),
        ("(?<o>a)(?<c-o>b)", 7, "A balancing group"),
        (r"\Ga", 0, "The \\G anchor"),
        (r"\p{IsGreek}", 0, "A Unicode block name"),
        ("(?<n>a)(?<n>b)", 7, "A group name used twice"),
    ];
    for (p, off, what) in cases {
        let e = Regex::new(p, RegexOptions(0)).unwrap_err();
        assert_eq!(e.kind, ExceptionKind::RegexParse, "{p}");
        assert!(e.message.contains(&format!("at offset {off}. {what}")), "{p}: {}", e.message);
        assert!(e.kind.is_caught_by("ArgumentException"));
    }
    for bad in ["(", ")", "[a", "\\", "a*+", "a{2}+", r"\q", "(?z)"] {
        let e = Regex::new(bad, RegexOptions(0)).unwrap_err();
        assert_eq!(e.kind, ExceptionKind::RegexParse, "{bad}");
    }
}

#[test]
fn replace_and_split() {
    // https://learn.microsoft.com/dotnet/standard/base-types/substitutions-in-regular-expressions
    let r = re(r"(\w+) (\w+)");
    assert_eq!(r.replace("John Smith", "$2, $1", -1).unwrap(), "Smith, John");
    assert_eq!(r.replace("John Smith", "[$0]", -1).unwrap(), "[John Smith]");
    assert_eq!(r.replace("John Smith", "[$&]", -1).unwrap(), "[John Smith]");
    assert_eq!(r.replace("John Smith", "$$1", -1).unwrap(), "$1");
    assert_eq!(r.replace("John Smith", "$3", -1).unwrap(), "$3");
    assert_eq!(r.replace("John Smith", "$10", -1).unwrap(), "John0");
    assert_eq!(r.replace("John Smith", "$", -1).unwrap(), "$");
    let n = re(r"(?<first>\w+)\s(?<last>\w+)");
    assert_eq!(n.replace("Ada Lovelace", "${last} ${first} ${nope}", -1).unwrap(), "Lovelace Ada ${nope}");
    let d = re(r"\d");
    assert_eq!(d.replace("a1b2c3", "#", 2).unwrap(), "a#b#c3");
    assert_eq!(d.replace("a1b2", "[$`|$']", -1).unwrap(), "a[a|b2]b[a1b|]");
    assert_eq!(d.replace("a1", "$_", -1).unwrap(), "aa1");
    assert_eq!(re(r"(a)(b)?").replace("a", "<$+>", -1).unwrap(), "<>");
    assert_eq!(d.replace_with("a1b2", |m| Ok(format!("<{}>", m.value()))).unwrap(), "a<1>b<2>");
    let m = r.find("John Smith");
    assert_eq!(r.result(&m, "John Smith", "$2!").unwrap(), "Smith!");
    assert!(r.result(&Match::empty(), "", "x").is_err());
    // https://learn.microsoft.com/dotnet/api/system.text.regularexpressions.regex.split
    assert_eq!(re("-").split("one-two-three"), vec!["one", "two", "three"]);
    assert_eq!(re("(-)").split("one-two-three"), vec!["one", "-", "two", "-", "three"]);
    assert_eq!(re(r"(-)|(/)").split("07/14/2007"), vec!["07", "/", "14", "/", "2007"]);
    assert_eq!(re("x").split("abc"), vec!["abc"]);
    assert_eq!(re("").split("abc"), vec!["", "a", "b", "c", ""]);
}

#[test]
fn escape_unescape() {
    // https://learn.microsoft.com/dotnet/api/system.text.regularexpressions.regex.escape
    assert_eq!(escape("a.b*c (x)"), r"a\.b\*c\ \(x\)");
    assert_eq!(escape("[a]{b}#\t"), r"\[a]\{b}\#\t");
    assert_eq!(unescape(r"\t\x41\.\u0042\101").unwrap(), "\tA.BA");
    assert!(unescape("\\").is_err());
    assert!(unescape(r"\q").is_err());
    assert!(re(&escape("1+1=2 (yes)?")).is_match("1+1=2 (yes)?"));
}

proptest::proptest! {
    #[test]
    fn translation_never_panics(p in "[\\\\()\\[\\]{}?*+|^$.a-c0-9<>=!:#'\\-&~,PkpGZ ]{0,16}", s in "\\PC{0,12}") {
        if let Ok(r) = Regex::new(&p, RegexOptions(0)) {
            let _ = r.find(&s);
            let _ = r.split(&s);
            let _ = r.replace(&s, "$1${x}$$", -1);
        }
        let _ = unescape(&p);
    }
}

#[test]
fn dollar_matches_before_a_final_newline() {
    // https://learn.microsoft.com/dotnet/standard/base-types/anchors-in-regular-expressions
    // ("$ ... or before \n at the end of the string").
    assert!(re("^[0-9]+$").is_match("123\n"));
    assert!(!re("^[0-9]+$").is_match("123\n\n"));
    assert!(re(r"^abc\Z").is_match("abc\n"));
    assert!(!re(r"^abc\z").is_match("abc\n"));
    let m = re(r"\w+$").find("one two\n");
    assert_eq!((m.value(), m.index()), ("two", 4));
    let all: Vec<(String, usize)> =
        re(".*$").matches("ab\n", 10).unwrap().iter().map(|m| (m.value().to_string(), m.index())).collect();
    assert_eq!(all, vec![("ab".to_string(), 0), (String::new(), 2), (String::new(), 3)]);
    assert_eq!(re("x$").replace("ax\n", "Y", -1).unwrap(), "aY\n");
    // .NET reports an empty match right after a non-empty one: a* on "abc" gives 4 matches.
    assert_eq!(re("a*").matches("abc", 10).unwrap().len(), 4);
    assert_eq!(re("a*").replace("abc", "-", -1).unwrap(), "--b-c-");
}
