//! The language table: each row is an expression as written in a policy and the text .NET
//! gives for its value (`ToString()` of the result), or `ERR <part of the message>`.
//! Values are C#'s as documented (C# language reference, .NET API docs); where a row's
//! value is not obvious, a comment cites the rule.

use crate::policy::expr::jwt::make_jwt;
use crate::policy::expr::Value;
use crate::policy::runtime::PolicyContext;
use crate::policy::testkit::{eval_with, info, FakeReq};

const BODY: &str = r#"{"name":"Bob","age":31,"tags":["a","b"],"nested":{"k":"v"},"items":[{"id":1,"price":2.5,"qty":2},{"id":2,"price":10,"qty":1},{"id":3,"price":0.5,"qty":4}],"flag":true,"none":null}"#;

fn req() -> FakeReq {
    let jwt = make_jwt(&serde_json::json!({"sub": "alice", "roles": ["admin", "reader"], "region": "East Asia"}));
    FakeReq::new("GET", "/orders/items/42?format=json&q=a%20b")
        .h("Authorization", &format!("Bearer {jwt}"))
        .h("X-Region", "east asia")
        .h("X-List", "a, b, c")
}

pub(super) fn run(rows: &[(&str, &str)]) {
    let r = req();
    let mut failures = Vec::new();
    for (src, want) in rows {
        // A fresh request per row: a row that consumes the body must not affect the next.
        let mut ctx = PolicyContext::new(&r, info("10.1.2.3"));
        ctx.matched = vec![("id", "42".into())];
        ctx.set_variable("n", Value::Int(5));
        ctx.set_variable("s", Value::str("hello"));
        ctx.request_body = Some(std::sync::Arc::from(BODY.as_bytes()));
        let got = match eval_with(src, &ctx) {
            Ok(v) => v.to_text(),
            Err(e) => format!("ERR {e}"),
        };
        let ok = match want.strip_prefix("ERR") {
            Some(p) => got.starts_with("ERR") && got.contains(p.trim()),
            None => &got == want,
        };
        if !ok {
            failures.push(format!("{src}\n    want {want:?}\n    got  {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{} of {} rows differ:\n{}", failures.len(), rows.len(), failures.join("\n"));
}

#[test]
fn arithmetic_and_overflow() {
    run(&[
        ("@(2147483647 + 1 == -2147483648)", "ERR overflows at compile time"), // CS0220 for constants
        ("@{ int x = int.MaxValue; return x + 1; }", "-2147483648"),           // unchecked int wraps
        ("@{ int x = int.MinValue; return x - 1; }", "2147483647"),
        ("@{ int x = 65536; return x * 65536; }", "0"),
        ("@{ long x = long.MaxValue; return x + 1; }", "-9223372036854775808"),
        ("@{ long x = int.MaxValue; return x + 1; }", "2147483648"), // long arithmetic
        ("@{ int i = 0; i++; i++; i--; return i; }", "1"),
        ("@{ int i = 5; var j = i++; return j * 10 + i; }", "56"), // post-increment yields the old value
        ("@{ int i = 5; var j = ++i; return j * 10 + i; }", "66"),
        ("@{ int i = 10; i += 5; i -= 3; i *= 2; i /= 4; i %= 4; return i; }", "2"),
        ("@(7 / 2)", "3"),
        ("@(-7 / 2)", "-3"), // integer division truncates toward zero
        ("@(-7 % 3)", "-1"),
        ("@(7.0 / 2)", "3.5"),
        ("@(1.0 / 0)", "∞"),                     // .NET Core 3.0+ prints infinity as the symbol
        ("@(0.1 + 0.2)", "0.30000000000000004"), // shortest round-trip printing
        ("@(1e15 * 10)", "1E+16"),
        ("@(0.00001)", "1E-05"),
        ("@(2.0)", "2"),
        ("@(5 & 3)", "1"),
        ("@(5 | 3)", "7"),
        ("@(5 ^ 3)", "6"),
        ("@(true ^ true)", "False"),
        ("@(true & false | true)", "True"),
        ("@('a' + 1)", "98"), // char + int is int
        ("@((char)('a' + 1))", "b"),
        ("@(\"x\" + 'y')", "xy"),
        ("@((int)3.99)", "3"), // explicit cast truncates
        ("@((int)-3.99)", "-3"),
        ("@((long)1e10)", "10000000000"),
        ("@((double)1 / 4)", "0.25"),
        ("@(10 - 2 - 3)", "5"),
        ("@(2 + 3 * 4 - 6 / 2)", "11"),
        ("@(1 / 0)", "ERR Attempted to divide by zero"),
        ("@(Math.Max(3, 7) + Math.Min(-1, 2))", "6"),
        ("@(Math.Abs(-4.5))", "4.5"),
        ("@(Math.Round(2.5))", "2"), // banker's rounding
        ("@(Math.Round(3.5))", "4"),
        ("@(Math.Round(2.345, 2))", "2.35"), // .NET multiplies by 100 in binary (234.50000000000003), then rounds,
        ("@(Math.Floor(-1.5))", "-2"),
        ("@(Math.Ceiling(1.2))", "2"),
        ("@(Math.Pow(2, 10))", "1024"),
        ("@(Math.Sqrt(2))", "1.4142135623730951"),
    ]);
}

#[test]
fn parsing_and_conversion() {
    run(&[
        ("@(int.Parse(\" 42 \"))", "42"),
        ("@(int.Parse(\"-7\") * 2)", "-14"),
        ("@(int.Parse(\"2147483648\"))", "ERR too large or too small for an Int32"),
        ("@(int.Parse(\"4x\"))", "ERR was not in a correct format"),
        ("@(long.Parse(\"2147483648\"))", "2147483648"),
        ("@(double.Parse(\"1.5\") * 2)", "3"),
        ("@(bool.Parse(\"TRUE\"))", "True"),
        ("@(bool.Parse(\"yes\"))", "ERR not recognized as a valid Boolean"),
        ("@{ int n; var ok = int.TryParse(\"12\", out n); return ok + \":\" + n; }", "True:12"),
        ("@(int.TryParse(\"nope\", out var n) ? n : -1)", "-1"),
        ("@{ if (int.TryParse(context.Request.MatchedParameters[\"id\"], out var id)) { return id + 1; } return 0; }", "43"),
        ("@(double.TryParse(\"2.5\", out var d) ? d * 2 : 0)", "5"),
        ("@(Convert.ToInt32(\"15\") + 1)", "16"),
        ("@(Convert.ToInt32(2.5))", "2"), // Convert rounds to even
        ("@(Convert.ToInt32(3.5))", "4"),
        ("@(Convert.ToInt32(null))", "0"),
        ("@(Convert.ToBoolean(\"False\"))", "False"),
        ("@(Convert.ToDouble(\"0.5\") + 1)", "1.5"),
        ("@(Convert.ToString(12))", "12"),
        ("@(Convert.ToBase64String(Encoding.UTF8.GetBytes(\"Aladdin:open sesame\")))", "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="), // RFC 7617
        ("@(Encoding.UTF8.GetString(Convert.FromBase64String(\"aGVsbG8=\")))", "hello"),
        ("@(Convert.FromBase64String(\"***\"))", "ERR not a valid Base-64 string"),
        ("@(Encoding.UTF8.GetBytes(\"é\").Length)", "2"),
        ("@(Encoding.ASCII.GetString(Encoding.ASCII.GetBytes(\"é\")))", "?"),
        ("@(System.Text.Encoding.UTF8.GetBytes(\"abc\").Length)", "3"),
        ("@(42.ToString())", "42"),
        ("@(true.ToString())", "True"),
        ("@(1234567.891.ToString(\"N2\"))", "1,234,567.89"),
        ("@(0.5.ToString(\"F0\"))", "1"), // .NET Core 3.0+ rounds half away from zero in F
        ("@(42.ToString(\"D5\"))", "00042"),
        ("@(255.ToString(\"X\"))", "FF"),
        ("@(255.ToString(\"x4\"))", "00ff"),
        ("@((-1).ToString(\"X\"))", "FFFFFFFF"),
        ("@(3.14159.ToString(\"F2\"))", "3.14"),
        ("@(1000.ToString(\"N0\"))", "1,000"),
        ("@((-1234.5).ToString(\"N1\"))", "-1,234.5"),
    ]);
}

#[test]
fn strings_and_comparisons() {
    run(&[
        // The regional-routing document: OrdinalIgnoreCase must ignore case.
        ("@(context.Request.Headers.GetValueOrDefault(\"X-Region\",\"\").Equals(\"East Asia\", StringComparison.OrdinalIgnoreCase))", "True"),
        ("@(context.Request.Headers.GetValueOrDefault(\"X-Region\",\"\").Equals(\"East Asia\", StringComparison.Ordinal))", "False"),
        ("@(context.Request.Headers.GetValueOrDefault(\"X-Region\",\"\").Equals(\"East Asia\"))", "False"),
        ("@(string.Equals(\"ABC\", \"abc\", StringComparison.OrdinalIgnoreCase))", "True"),
        ("@(string.Equals(\"ABC\", \"abc\"))", "False"),
        ("@(String.Equals(null, null))", "True"),
        ("@(\"Hello\".Contains(\"ELL\", StringComparison.OrdinalIgnoreCase))", "True"),
        ("@(\"Hello\".Contains(\"ELL\"))", "False"),
        ("@(\"Hello\".StartsWith(\"HE\", StringComparison.OrdinalIgnoreCase))", "True"),
        ("@(\"Hello\".StartsWith(\"HE\"))", "False"),
        ("@(\"Hello\".EndsWith(\"LO\", StringComparison.InvariantCultureIgnoreCase))", "True"),
        ("@(\"Hello\".StartsWith(\"he\", true, null))", "True"),
        ("@(\"Hello\".IndexOf(\"L\", StringComparison.OrdinalIgnoreCase))", "2"),
        ("@(\"Hello\".IndexOf(\"L\"))", "-1"),
        ("@(\"Hello\".IndexOf('l'))", "2"),
        ("@(\"Hello\".IndexOf('l', 3))", "3"),
        ("@(\"Hello\".LastIndexOf(\"l\"))", "3"),
        ("@(\"a-b-c\".IndexOf(\"-\", 2))", "3"),
        ("@(\"Hello\".Replace(\"L\", \"x\", StringComparison.OrdinalIgnoreCase))", "Hexxo"),
        ("@(\"Hello\".Replace(\"L\", \"x\"))", "Hello"),
        ("@(\"Hello\".Replace('l', 'L'))", "HeLLo"),
        ("@(\"a,b,,c\".Split(',').Length)", "4"),
        ("@(\"a,b,,c\".Split(new[] { ',' }, StringSplitOptions.RemoveEmptyEntries).Length)", "3"),
        ("@(\"a,b,c,d\".Split(new[] { ',' }, 2)[1])", "b,c,d"), // the count caps the substrings
        ("@(\"a,b,c,d\".Split(',', 2).Length)", "2"),
        ("@(\"a--b--c\".Split(\"--\")[2])", "c"), // .NET Core: Split(string) splits on the whole string
        ("@(\"a--b\".Split(new[] { \"--\" }, StringSplitOptions.None)[1])", "b"),
        ("@(\" a , b \".Split(',', StringSplitOptions.TrimEntries)[1])", "b"),
        ("@(\"a b  c\".Split().Length)", "4"),
        ("@(\"a;b,c\".Split(';', ',')[2])", "c"),
        ("@(string.Join(\"|\", \"a,b,c\".Split(',').Reverse()))", "c|b|a"),
        ("@(\"abc\".Length)", "3"),
        ("@(\"😀\".Length)", "2"), // UTF-16 code units
        ("@(\"  x  \".Trim() + \"|\")", "x|"),
        ("@(\"xxhixx\".Trim('x'))", "hi"),
        ("@(\"/path/\".TrimEnd('/'))", "/path"),
        ("@(\"/path/\".TrimStart('/'))", "path/"),
        ("@(\"abc\".PadLeft(5, '0'))", "00abc"),
        ("@(\"abc\".PadRight(5) + \"|\")", "abc  |"),
        ("@(\"abcdef\".Substring(2, 3))", "cde"),
        ("@(\"abcdef\".Substring(2, 9))", "ERR Index and length must refer to a location within the string"),
        ("@(\"abcdef\".Remove(2))", "ab"),
        ("@(\"abcdef\".Remove(1, 2))", "adef"),
        ("@(\"abc\".Insert(1, \"X\"))", "aXbc"),
        ("@(\"ß\".ToUpper())", "ß"), // invariant simple case mapping keeps ß
        ("@(\"MiXeD\".ToLowerInvariant())", "mixed"),
        ("@(\"abc\"[1])", "b"),
        ("@(\"abc\"[5])", "ERR Index was outside the bounds of the array"),
        ("@(string.IsNullOrEmpty(\"\"))", "True"),
        ("@(string.IsNullOrWhiteSpace(\" \\t\"))", "True"),
        ("@(string.Concat(\"a\", 1, true))", "a1True"),
        ("@(string.Format(\"{0}-{1:D3}-{0}\", \"x\", 7))", "x-007-x"),
        ("@(string.Format(\"[{0,5}|{1,-4}]\", \"ab\", 1))", "[   ab|1   ]"),
        ("@(string.Format(\"{{{0}}}\", 1))", "{1}"),
        ("@(string.Format(\"{1}\", 1))", "ERR Index (zero based)"),
        ("@(string.Compare(\"a\", \"B\", StringComparison.OrdinalIgnoreCase) < 0)", "True"),
        ("@(string.Compare(\"a\", \"B\", StringComparison.Ordinal) > 0)", "True"), // 'a' (97) > 'B' (66)
        ("@(\"a\".CompareTo(\"b\"))", "ERR culture-sensitive comparison is not yet supported by ringgate"),
        ("@(\"x\".ToLower(null))", "ERR is not yet supported by ringgate"),
        ("@(new string('-', 3))", "---"),
        ("@(new string(new[] { 'o', 'k' }))", "ok"),
        ("@(\"hello\".ToCharArray().Length)", "5"),
        ("@(\"hello\".Contains('e'))", "True"),
        ("@(Char.IsDigit('7') && !Char.IsLetter('7'))", "True"),
        ("@(char.ToUpper('q'))", "Q"),
        ("@(\"x\".Equals(null))", "False"),
        ("@(WebUtility.UrlEncode(\"a b&c/d\"))", "a+b%26c%2Fd"),
        ("@(WebUtility.UrlDecode(\"a+b%26c\"))", "a b&c"),
        ("@(Uri.EscapeDataString(\"a b/c\"))", "a%20b%2Fc"),
        ("@(WebUtility.HtmlEncode(\"<a href='x'>\"))", "&lt;a href=&#39;x&#39;&gt;"),
    ]);
}

#[test]
fn null_propagation_and_coalescing() {
    run(&[
        ("@(context.Request.Headers.GetValueOrDefault(\"nope\")?.Length)", ""),
        ("@(context.Request.Headers.GetValueOrDefault(\"nope\")?.Length ?? -1)", "-1"),
        ("@(context.Request.Headers.GetValueOrDefault(\"nope\")?.ToUpper() ?? \"none\")", "none"),
        ("@(context.Request.Headers.GetValueOrDefault(\"nope\").Length)", "ERR Object reference not set"),
        ("@{ string s = null; return s?.Trim() ?? \"d\"; }", "d"),
        ("@{ string s = null; s ??= \"set\"; return s; }", "set"),
        ("@{ string s = \"keep\"; s ??= \"set\"; return s; }", "keep"),
        ("@{ string s = null; return s == null; }", "True"),
        ("@{ string s = null; return s + \"x\"; }", "x"), // null concatenates as empty
        ("@{ int? n = null; return n ?? 3; }", "3"),
        (
            "@{ var b = context.Request.Body.As<JObject>(true); return b[\"missing\"]?.ToString() ?? \"absent\"; }",
            "absent",
        ),
        ("@{ var b = context.Request.Body.As<JObject>(true); return b[\"nested\"]?[\"k\"]?.ToString(); }", "v"),
        ("@{ var b = context.Request.Body.As<JObject>(true); return b[\"missing\"]?[\"k\"] == null; }", "True"),
        ("@(context.Subscription?.Key ?? \"anonymous\")", "k1"),
        ("@(context.LastError?.Message ?? \"ok\")", "ok"),
        ("@(null ?? null ?? \"z\")", "z"),
        ("@{ string s = null; return s?.Length > 0; }", "False"),
    ]);
}

#[test]
fn statements() {
    run(&[
        ("@{ var sum = 0; for (var i = 1; i <= 10; i++) { sum += i; } return sum; }", "55"),
        ("@{ var sum = 0; for (int i = 0; i < 10; i++) { if (i % 2 == 0) continue; if (i > 7) break; sum += i; } return sum; }", "16"),
        ("@{ var n = 0; while (n < 5) n++; return n; }", "5"),
        ("@{ var n = 10; do { n--; } while (n > 100); return n; }", "9"),
        ("@{ var s = \"\"; foreach (var t in new[] { \"a\", \"b\", \"c\" }) { s += t; } return s; }", "abc"),
        ("@{ var s = \"\"; foreach (char c in \"hey\") { s = c + s; } return s; }", "yeh"),
        ("@{ var n = 0; foreach (var x in new List<int> { 1, 2, 3 }) { if (x == 2) break; n += x; } return n; }", "1"),
        ("@{ var s = \"\"; for (var i = 0; i < 3; i++) for (var j = 0; j < 3; j++) { if (j == 1) break; s += i; } return s; }", "012"),
        ("@{ switch (context.Request.Method) { case \"GET\": return \"read\"; case \"POST\": case \"PUT\": return \"write\"; default: return \"other\"; } }", "read"),
        ("@{ var r = \"\"; switch (3) { case 1: r = \"one\"; break; case 3: r = \"three\"; break; default: r = \"many\"; break; } return r; }", "three"),
        ("@{ var r = \"none\"; switch (\"x\") { case \"y\": r = \"y\"; break; } return r; }", "none"),
        ("@{ switch (1) { case 1: var a = 1; case 2: return 2; } return 0; }", "ERR control cannot fall through"),
        ("@{ try { return int.Parse(\"x\"); } catch (FormatException) { return -1; } }", "-1"),
        ("@{ try { return int.Parse(\"x\"); } catch (Exception e) { return e.Message; } }", "The input string 'x' was not in a correct format."),
        ("@{ try { throw new InvalidOperationException(\"boom\"); } catch (ArgumentException) { return \"arg\"; } catch (InvalidOperationException e) { return \"ioe:\" + e.Message; } }", "ioe:boom"),
        ("@{ try { throw new ArgumentNullException(\"p\"); } catch (ArgumentException) { return \"caught as base\"; } }", "caught as base"),
        ("@{ var log = \"\"; try { log += \"t\"; } finally { log += \"f\"; } return log; }", "tf"),
        ("@{ var log = \"\"; try { try { throw new Exception(\"x\"); } finally { log += \"f\"; } } catch { log += \"c\"; } return log; }", "fc"),
        ("@{ try { throw new Exception(\"inner\"); } catch (Exception e) when (e.Message == \"other\") { return 1; } catch { return 2; } }", "2"),
        ("@{ try { try { throw new FormatException(\"f\"); } catch (FormatException) { throw; } } catch (Exception e) { return e.Message; } }", "f"),
        ("@{ throw new Exception(\"unhandled\"); }", "ERR unhandled"),
        ("@{ var x = context.Request.Body.As<JObject>(true)[\"age\"]; if (x == null) { return \"none\"; } return \"some\"; }", "some"),
        ("@{ int F(int x) { return x; } return F(1); }", "ERR local functions are not yet supported by ringgate"),
        ("@{ if (context.Request.Method == \"GET\") { return 1; } }", "ERR not all code paths return a value"),
        ("@{ while (true) { } }", "ERR step budget"),
        ("@{ var i = 0; while (true) { i++; if (i == 3) break; } return i; }", "3"),
        ("@{ for (;;) { return 7; } }", "7"),
        ("@{ break; return 1; }", "ERR no enclosing loop"),
        ("@{ var a = 1; var a = 2; return a; }", "ERR already declared"),
        ("@{ string x; x = \"late\"; return x; }", "late"),
        ("@{ var x; return 1; }", "ERR implicitly-typed variables must be initialized"),
        ("@{ goto end; return 1; }", "ERR not allowed in APIM"),
    ]);
}

#[test]
fn lambdas_and_linq() {
    run(&[
        ("@(new[] { 3, 1, 2 }.OrderBy(x => x).First())", "1"),
        ("@(new[] { 3, 1, 2 }.OrderByDescending(x => x).First())", "3"),
        ("@(string.Join(\",\", new[] { \"b\", \"A\", \"a\", \"B\" }.OrderBy(x => x)))", "a,A,b,B"), // culture order: case-insensitive, lowercase first
        ("@(new[] { 1, 2, 3, 4 }.Where(x => x % 2 == 0).Sum())", "6"),
        ("@(new[] { 1, 2, 3 }.Select(x => x * x).Sum())", "14"),
        ("@(string.Join(\",\", new[] { \"a\", \"b\" }.Select((x, i) => x + i)))", "a0,b1"),
        ("@(new[] { 1, 2, 3 }.Any(x => x > 2))", "True"),
        ("@(new[] { 1, 2, 3 }.All(x => x > 2))", "False"),
        ("@(new int[0].Any())", "False"),
        ("@(new[] { 1, 2, 3 }.Count(x => x != 2))", "2"),
        ("@(new[] { 5, 6 }.First(x => x > 9))", "ERR Sequence contains no matching element"),
        ("@(new List<int>().First())", "ERR Sequence contains no elements"),
        ("@(new[] { \"a\" }.FirstOrDefault(x => x == \"z\") ?? \"none\")", "none"),
        ("@(new[] { 1, 2, 2 }.Single(x => x == 2))", "ERR Sequence contains more than one element"),
        ("@(new[] { 1, 2, 3 }.Last())", "3"),
        ("@(new[] { 1, 2, 3, 4, 5 }.Skip(1).Take(3).Sum())", "9"),
        ("@(new[] { 1, 1, 2, 3, 3 }.Distinct().Count())", "3"),
        ("@(new[] { 1, 2, 3 }.Aggregate((a, b) => a * b))", "6"),
        ("@(new[] { \"a\", \"b\", \"c\" }.Aggregate(\"\", (acc, x) => x + acc))", "cba"),
        ("@(new[] { 2, 8, 5 }.Max())", "8"),
        ("@(new[] { 2, 8, 5 }.Min())", "2"),
        ("@(new[] { 1, 2 }.Average())", "1.5"),
        ("@(new[] { 1, 2, 3 }.Contains(2))", "True"),
        ("@(new[] { 1, 2 }.Concat(new[] { 3 }).Count())", "3"),
        ("@(string.Join(\",\", new[] { 1, 2 }.Union(new[] { 2, 3 })))", "1,2,3"),
        ("@(string.Join(\",\", new[] { 1, 2, 3 }.Intersect(new[] { 2, 3, 4 })))", "2,3"),
        ("@(string.Join(\",\", new[] { 1, 2, 3 }.Except(new[] { 2 })))", "1,3"),
        ("@(string.Join(\",\", new[] { 1, 2 }.Zip(new[] { \"a\", \"b\" }, (n, s) => s + n)))", "a1,b2"),
        ("@(new[] { 1, 2, 3 }.SequenceEqual(new List<int> { 1, 2, 3 }))", "True"),
        ("@(new[] { 1, 2, 3, 1 }.TakeWhile(x => x < 3).Count())", "2"),
        ("@(new[] { 1, 2, 3, 1 }.SkipWhile(x => x < 3).Count())", "2"),
        ("@(new[] { \"apple\", \"avocado\", \"banana\" }.GroupBy(x => x[0]).Count())", "2"),
        ("@(new[] { \"apple\", \"avocado\", \"banana\" }.GroupBy(x => x.Substring(0, 1)).First().Count())", "2"),
        ("@(new[] { \"apple\", \"banana\" }.ToDictionary(x => x.Substring(0, 1), x => x.Length)[\"b\"])", "6"),
        ("@(new[] { \"a\", \"a\" }.ToDictionary(x => x))", "ERR An item with the same key has already been added"),
        ("@(new[] { new[] { 1, 2 }, new[] { 3 } }.SelectMany(x => x).Sum())", "6"),
        ("@(\"a,b;c\".Split(',', ';').Select(x => x.ToUpper()).ToArray()[2])", "C"),
        ("@(string.Join(\"+\", context.Request.Headers.GetValueOrDefault(\"X-List\", \"\").Split(',').Select(x => x.Trim()).Where(x => x != \"b\")))", "a+c"),
        ("@{ var total = 0; new List<int> { 1, 2, 3 }.ForEach(x => { total += x; }); return total; }", "6"), // closures see locals
        ("@{ var k = 2; return new[] { 1, 2, 3 }.Where(x => x >= k).Count(); }", "2"),
        ("@(new[] { 1, 2, 3 }.Select(x => new[] { 10, 20 }.Select(y => x * y).Sum()).Sum())", "180"), // nested lambdas
        ("@(new[] { 1, 2, 3 }.Where(x => { if (x == 2) { return false; } return true; }).Count())", "2"),
        ("@(new[] { 3, 1 }.ToList().IndexOf(1))", "1"),
        ("@(new[] { \"x\" }.Select(x => x.Foo()).Count())", "ERR System.String.Foo() is not yet supported by ringgate"),
        ("@(new[] { 1 }.ThenBy(x => x))", "ERR ThenBy is not yet supported by ringgate"),
        ("@(new[] { \"b\", \"a\" }.OrderBy(x => x).ToList()[0])", "a"),
        ("@(\"hello\".Count(c => c == 'l'))", "2"),
        ("@(\"hello\".Reverse().First())", "o"),
        ("@(new[] { 1.5, 2.5 }.Sum())", "4"),
        ("@(new[] { 1, 2, 3 }.Select(x => x * 1.5).Max())", "4.5"),
    ]);
}

#[test]
fn collections() {
    run(&[
        ("@{ var l = new List<string>(); l.Add(\"a\"); l.Add(\"b\"); l.Insert(0, \"z\"); return string.Join(\",\", l) + \":\" + l.Count; }", "z,a,b:3"),
        ("@{ var l = new List<string> { \"a\", \"b\", \"c\" }; l.Remove(\"b\"); l.RemoveAt(0); return l[0] + l.Count; }", "c1"),
        ("@{ var l = new List<int> { 3, 1, 2 }; l.Sort(); return string.Join(\"\", l); }", "123"),
        ("@{ var l = new List<int> { 1, 2, 3 }; l.Reverse(); return string.Join(\"\", l); }", "321"),
        ("@{ var l = new List<int> { 1, 2, 3, 4 }; var n = l.RemoveAll(x => x % 2 == 0); return n + \":\" + string.Join(\"\", l); }", "2:13"),
        ("@{ var l = new List<int> { 1, 2 }; l[1] = 9; return l[1]; }", "9"),
        ("@{ var l = new List<int> { 1 }; return l[3]; }", "ERR Index was out of range"),
        ("@(new List<string> { \"a\" }.ToString())", "System.Collections.Generic.List`1[System.String]"),
        ("@{ var a = new int[3]; a[1] = 5; return a[0] + a[1] + a.Length; }", "8"),
        ("@{ var a = new[] { 1, 2 }; a.Add(3); return 0; }", "ERR Collection was of a fixed size"),
        ("@{ var d = new Dictionary<string, int>(); d[\"a\"] = 1; d.Add(\"b\", 2); d[\"a\"] += 10; return d[\"a\"] + d[\"b\"] + d.Count; }", "15"),
        ("@{ var d = new Dictionary<string, string> { { \"k\", \"v\" } }; return d.ContainsKey(\"k\") + \"/\" + d.ContainsKey(\"K\"); }", "True/False"),
        ("@{ var d = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { [\"Key\"] = \"v\" }; return d[\"KEY\"]; }", "v"),
        ("@{ var d = new Dictionary<string, int>(); d.Add(\"a\", 1); d.Add(\"a\", 2); return 0; }", "ERR An item with the same key has already been added. Key: a"),
        ("@{ var d = new Dictionary<string, int>(); return d[\"x\"]; }", "ERR The given key 'x' was not present in the dictionary"),
        ("@{ var d = new Dictionary<string, int> { { \"a\", 1 } }; return d.TryGetValue(\"a\", out var v) ? v : -1; }", "1"),
        ("@{ var d = new Dictionary<string, string> { { \"a\", \"1\" } }; string v; var ok = d.TryGetValue(\"z\", out v); return ok + \":\" + v; }", "False:"),
        ("@{ var d = new Dictionary<string, int> { { \"a\", 1 }, { \"b\", 2 } }; var s = \"\"; foreach (var kv in d) { s += kv.Key + \"=\" + kv.Value + \";\"; } return s; }", "a=1;b=2;"),
        ("@{ var d = new Dictionary<string, int> { { \"a\", 1 }, { \"b\", 2 } }; return string.Join(\",\", d.Keys) + \"|\" + d.Values.Sum(); }", "a,b|3"),
        ("@{ var d = new Dictionary<string, int> { { \"a\", 1 } }; d.Remove(\"a\"); return d.Count; }", "0"),
        ("@{ var h = new HashSet<string>(); var a = h.Add(\"x\"); var b = h.Add(\"x\"); return a + \"/\" + b + \"/\" + h.Count; }", "True/False/1"),
        ("@{ var h = new HashSet<int> { 1, 2, 2, 3 }; return h.Count + \":\" + h.Contains(2); }", "3:True"),
        ("@{ var a = new List<int> { 1 }; var b = a; b.Add(2); return a.Count; }", "2"), // reference semantics
        ("@{ var sb = new StringBuilder(); sb.Append(\"a\").Append(1).Append('c'); return sb.ToString(); }", "a1c"),
        ("@{ var sb = new System.Text.StringBuilder(\"x\"); sb.AppendLine(\"y\"); sb.AppendFormat(\"{0}-{1}\", 1, 2); return sb.ToString(); }", "xy\n1-2"),
        ("@{ var sb = new StringBuilder(\"hello\"); sb.Insert(0, \">\").Replace(\"l\", \"L\").Remove(1, 1); return sb.ToString() + sb.Length; }", ">eLLo5"),
        ("@{ var sb = new StringBuilder(\"abc\"); sb.Length = 1; return sb.ToString(); }", "a"),
        ("@{ var sb = new StringBuilder(); sb.Append('-', 3); return sb.ToString(); }", "---"),
        ("@{ var sb = new StringBuilder(); for (var i = 0; i < 3; i++) { sb.Append(i); } return sb.ToString(); }", "012"),
        ("@(new Queue<int>())", "ERR is not yet supported by ringgate"),
    ]);
}

#[test]
fn casts_as_is_and_types() {
    run(&[
        ("@{ object o = \"text\"; return o is string; }", "True"),
        ("@{ object o = \"text\"; return o is string s && s.Length == 4; }", "True"),
        ("@{ object o = 5; return o is string; }", "False"),
        ("@{ object o = 5; return (o as string) ?? \"not a string\"; }", "not a string"),
        ("@{ object o = 5; return (int)o + 1; }", "6"),
        ("@{ object o = \"5\"; return (int)o; }", "ERR Unable to cast object of type"),
        ("@{ object o = null; return (int)o; }", "ERR Object reference not set"),
        ("@((string)context.Variables[\"s\"] + \"!\")", "hello!"),
        ("@(context.Variables[\"n\"] is int)", "True"),
        ("@(context.Variables.GetValueOrDefault<int>(\"n\") * 2)", "10"),
        ("@(context.Variables.GetValueOrDefault<int>(\"missing\"))", "0"),
        ("@(context.Variables.GetValueOrDefault<string>(\"missing\", \"dflt\"))", "dflt"),
        ("@(context.Variables.GetValueOrDefault<int>(\"s\"))", "ERR Unable to cast"),
        ("@{ var j = context.Request.Body.As<JObject>(true); return j[\"tags\"] is JArray; }", "True"),
        ("@{ var j = context.Request.Body.As<JObject>(true); return j[\"tags\"] is JObject; }", "False"),
        ("@{ var j = context.Request.Body.As<JObject>(true); return (j[\"nested\"] as JObject)[\"k\"].ToString(); }", "v"),
        ("@{ var j = context.Request.Body.As<JObject>(true); return (j[\"tags\"] as JObject) == null; }", "True"),
        ("@{ var j = context.Request.Body.As<JObject>(true); var o = (JObject)j[\"tags\"]; return 1; }", "ERR Unable to cast object of type 'Newtonsoft.Json.Linq.JArray' to type 'Newtonsoft.Json.Linq.JObject'"),
        ("@{ var j = (JObject)context.Request.Body.As<JToken>(true); return j[\"name\"].ToString(); }", "Bob"),
        ("@{ Newtonsoft.Json.Linq.JObject j = context.Request.Body.As<JObject>(true); return (string)j[\"name\"]; }", "Bob"),
        ("@((int)context.Request.Body.As<JObject>(true)[\"age\"] + 1)", "32"),
        ("@((double)context.Request.Body.As<JObject>(true)[\"items\"][0][\"price\"])", "2.5"),
        ("@((bool)context.Request.Body.As<JObject>(true)[\"flag\"])", "True"),
        ("@((string)context.Request.Body.As<JObject>(true)[\"none\"] == null)", "True"),
        ("@((int)context.Request.Body.As<JObject>(true)[\"nested\"])", "ERR Can not convert Object to Int32"),
        ("@{ System.String s = \"q\"; return s; }", "q"),
        ("@{ System.Collections.Generic.List<string> l = new System.Collections.Generic.List<string>(); return l.Count; }", "0"),
        ("@(default(int) + 1)", "1"),
        ("@(default(string) ?? \"null\")", "null"),
        ("@{ var x = 1; x = \"s\"; return x; }", "ERR cannot implicitly convert type string to int"),
        ("@{ string s = 5; return s; }", "ERR cannot implicitly convert type int to string"),
        ("@(\"a\" - 1)", "ERR cannot be applied"),
        ("@(1 as int)", "ERR the as operator must be used with a reference or nullable type"),
        ("@((Foo)1)", "ERR type Foo: the type is not allowed in APIM policy expressions"),
        ("@(System.Diagnostics.Process.Start(\"sh\"))", "ERR not allowed in APIM policy expressions"),
        ("@(typeof(string))", "ERR 'typeof' is not yet supported by ringgate"),
    ]);
}

#[test]
fn interpolation_and_verbatim() {
    run(&[
        ("@($\"{1 + 1}\")", "2"),
        ("@($\"id={context.Request.MatchedParameters[\"id\"]}\")", "id=42"),
        ("@($\"{1234.5:N2}\")", "1,234.50"),
        ("@($\"{7:D3}\")", "007"),
        ("@($\"{255:X2}\")", "FF"),
        ("@($\"{0.125:F2}\")", "0.13"), // 0.125 is exact in binary; .NET Core 3.0+ rounds the tie away from zero
        ("@($\"{\"text\":N2}\")", "text"), // a string is not IFormattable: the format is ignored
        ("@($\"{{literal}} {1}\")", "{literal} 1"),
        ("@($\"{(true ? \"y\" : \"n\")}\")", "y"),
        ("@($\"{1.5:E2}\")", "ERR the numeric format 'E2' is not yet supported by ringgate"),
        ("@($\"{1,5}\")", "ERR alignment in interpolation holes"),
        ("@(@\"C:\\temp\\\"\"q\"\"\")", "C:\\temp\\\"q\""),
        ("@($@\"{1}\\n\")", "1\\n"),
        ("@($\"a{null}b\")", "ab"),
        ("@(1.5m)", "ERR decimal literals (System.Decimal) are not yet supported by ringgate"),
    ]);
}

#[test]
fn json_model() {
    run(&[
        ("@(context.Request.Body.As<JObject>(true)[\"name\"].ToString())", "Bob"),
        ("@(context.Request.Body.As<JObject>(true)[\"tags\"].ToString(Newtonsoft.Json.Formatting.None))", "[\"a\",\"b\"]"),
        ("@(context.Request.Body.As<JObject>(true)[\"nested\"].ToString())", "{\n  \"k\": \"v\"\n}"),
        ("@(context.Request.Body.As<JObject>(true).Value<string>(\"name\"))", "Bob"),
        ("@(context.Request.Body.As<JObject>(true).Value<int>(\"age\") * 2)", "62"),
        ("@(context.Request.Body.As<JObject>(true)[\"items\"].Count())", "3"),
        ("@(context.Request.Body.As<JObject>(true)[\"items\"].Sum(i => (double)i[\"price\"] * (int)i[\"qty\"]))", "17"),
        ("@(string.Join(\",\", context.Request.Body.As<JObject>(true)[\"items\"].Where(i => (int)i[\"qty\"] > 1).Select(i => i[\"id\"].ToString())))", "1,3"),
        ("@(context.Request.Body.As<JObject>(true).SelectToken(\"$.items[1].price\").ToString())", "10"),
        ("@(context.Request.Body.As<JObject>(true).SelectToken(\"nested.k\").ToString())", "v"),
        ("@(context.Request.Body.As<JObject>(true).SelectToken(\"nested.zz\") == null)", "True"),
        ("@(context.Request.Body.As<JObject>(true).SelectToken(\"$..k\"))", "ERR recursive descent"),
        ("@(context.Request.Body.As<JObject>(true)[\"name\"].Type.ToString())", "String"),
        ("@(context.Request.Body.As<JObject>(true)[\"items\"][0][\"price\"].Type.ToString())", "Float"),
        ("@(context.Request.Body.As<JObject>(true).Properties().Count())", "7"),
        ("@(string.Join(\",\", context.Request.Body.As<JObject>(true).Properties().Select(p => p.Name).Take(3)))", "name,age,tags"),
        ("@(context.Request.Body.As<JObject>(true).ContainsKey(\"age\"))", "True"),
        ("@(context.Request.Body.As<JObject>(true)[\"name\"] == \"Bob\")", "False"), // JToken == string compares references in C#
        ("@((string)context.Request.Body.As<JObject>(true)[\"name\"] == \"Bob\")", "True"),
        ("@{ var b = context.Request.Body.As<JObject>(true); b[\"name\"] = \"Alice\"; b[\"added\"] = 1; b.Remove(\"tags\"); b.Remove(\"items\"); b.Remove(\"none\"); return b.ToString(Formatting.None); }", "{\"name\":\"Alice\",\"age\":31,\"nested\":{\"k\":\"v\"},\"flag\":true,\"added\":1}"),
        ("@{ var b = context.Request.Body.As<JObject>(true); b.Property(\"age\").Remove(); return b.ContainsKey(\"age\"); }", "False"),
        ("@{ var b = context.Request.Body.As<JObject>(true); var v = b[\"name\"]; b.Remove(\"name\"); b[\"fullName\"] = v; return b.Properties().Last().Name + \"=\" + b[\"fullName\"]; }", "fullName=Bob"),
        ("@{ var b = context.Request.Body.As<JObject>(true); ((JArray)b[\"tags\"]).Add(\"c\"); return b[\"tags\"].ToString(Formatting.None); }", "[\"a\",\"b\",\"c\"]"),
        ("@{ var b = context.Request.Body.As<JObject>(true); var t = b[\"tags\"]; var c = new JObject(); c[\"t\"] = t; ((JArray)t).Add(\"z\"); return c.ToString(Formatting.None) + b[\"tags\"].Count(); }", "{\"t\":[\"a\",\"b\"]}3"), // a token with a parent is copied when added
        ("@{ var b = context.Request.Body.As<JObject>(true); b.Add(\"name\", \"dup\"); return 1; }", "ERR Property with the same name already exists"),
        ("@{ var b = context.Request.Body.As<JObject>(true); foreach (var item in b[\"items\"]) { item[\"total\"] = (double)item[\"price\"] * (int)item[\"qty\"]; } return b[\"items\"][0][\"total\"].ToString(); }", "5"),
        ("@{ var b = context.Request.Body.As<JObject>(true); foreach (var p in b.Properties()) { if (p.Name == \"age\") { p.Value = 32; } } return (int)b[\"age\"]; }", "32"),
        ("@(new JObject(new JProperty(\"a\", 1), new JProperty(\"b\", \"x\")).ToString(Formatting.None))", "{\"a\":1,\"b\":\"x\"}"),
        ("@(new JObject { [\"a\"] = 1, [\"b\"] = new JArray(1, 2) }.ToString(Formatting.None))", "{\"a\":1,\"b\":[1,2]}"),
        ("@(new JObject { { \"k\", \"v\" } }.ToString(Formatting.None))", "{\"k\":\"v\"}"),
        ("@(new JArray { 1, \"two\", true, null }.ToString(Formatting.None))", "[1,\"two\",true,null]"),
        ("@(new JArray(new[] { \"a\", \"b\" }).Count)", "2"),
        ("@(JObject.Parse(\"{\\\"a\\\": [1, 2.0, \\\"\\\\u00e9\\\"]}\").ToString(Formatting.None))", "{\"a\":[1,2.0,\"é\"]}"), // Newtonsoft keeps 2.0 a float and does not escape é
        ("@(JObject.Parse(\"[1]\"))", "ERR Current JsonReader item is not an object"),
        ("@(JObject.Parse(\"{bad\"))", "ERR Error reading JToken"),
        ("@(JArray.Parse(\"[1,2,3]\").Select(x => (int)x).Sum())", "6"),
        ("@(JToken.Parse(\"\\\"s\\\"\").ToString())", "s"),
        ("@(JsonConvert.SerializeObject(new Dictionary<string, int> { { \"a\", 1 } }))", "{\"a\":1}"),
        ("@(JsonConvert.SerializeObject(new[] { \"x\", \"y\" }))", "[\"x\",\"y\"]"),
        ("@(JsonConvert.SerializeObject(\"q\\\"\"))", "\"q\\\"\""),
        ("@(((JObject)JsonConvert.DeserializeObject(\"{\\\"a\\\":1}\"))[\"a\"].ToString())", "1"),
        ("@(JObject.FromObject(new Dictionary<string, string> { { \"k\", \"v\" } }).ToString(Formatting.None))", "{\"k\":\"v\"}"),
        ("@(new JObject { [\"s\"] = \"line\\nbreak\\t\\\"q\\\"\" }.ToString(Formatting.None))", "{\"s\":\"line\\nbreak\\t\\\"q\\\"\"}"),
        ("@(new JObject { [\"d\"] = 1.5, [\"i\"] = 2.0 }.ToString(Formatting.None))", "{\"d\":1.5,\"i\":2.0}"),
        ("@(new JObject().ToString())", "{}"),
        ("@(context.Request.Body.As<JObject>(true)[\"tags\"][5])", "ERR Index was out of range"),
        ("@(context.Request.Body.As<JObject>(true)[0])", "ERR Accessed JObject values with invalid key value"),
        ("@(context.Request.Body.As<JArray>(true))", "ERR Current JsonReader item is not an array"),
        ("@(context.Request.Body.As<JObject>(true)[\"items\"].First()[\"id\"].ToString())", "1"),
        ("@(context.Request.Body.As<JObject>(true)[\"items\"].First[\"id\"].ToString())", "1"),
        ("@(context.Request.Body.As<JObject>(true)[\"items\"].Last[\"id\"].ToString())", "3"),
        ("@(context.Request.Body.As<JObject>(true)[\"items\"].OrderByDescending(i => (double)i[\"price\"]).First()[\"id\"].ToString())", "2"),
        ("@(context.Request.Body.As<JObject>(true)[\"tags\"].Values<string>().Count())", "2"),
        ("@(context.Request.Body.As<JObject>(true)[\"tags\"].ToObject<string>())", "ERR Can not convert Array"),
        ("@(context.Request.Body.As<JObject>(true)[\"age\"].ToObject<int>() + 1)", "32"),
        ("@(context.Request.Body.As<JObject>(true).DeepClone()[\"name\"].ToString())", "Bob"),
    ]);
}

#[test]
fn body_reads_follow_apim() {
    run(&[
        // Without preserveContent the first read consumes the body; a second read throws.
        ("@{ var a = context.Request.Body.As<string>(); var b = context.Request.Body.As<string>(); return b; }", "ERR the body was already read"),
        ("@{ var a = context.Request.Body.As<string>(preserveContent: true); var b = context.Request.Body.As<string>(); return a.Length == b.Length; }", "True"),
        ("@{ var a = context.Request.Body.As<JObject>(true); a[\"name\"] = \"x\"; var b = context.Request.Body.As<JObject>(true); return (string)b[\"name\"]; }", "Bob"), // each read is a fresh model
        ("@(context.Request.Body.As<byte[]>(true).Length > 10)", "True"),
        ("@(context.Request.Body.As<XDocument>(true))", "ERR Data at the root level is invalid"), // XmlException on a JSON body
        ("@(context.Request.Body.As<int>(true))", "ERR APIM allows string, byte[], JObject"),
    ]);
}

#[test]
fn context_model() {
    run(&[
        ("@(context.Request.Url.Path)", "/orders/items/42"),
        ("@(context.Request.Url.Path.StartsWith(\"/orders\"))", "True"),
        ("@(context.Request.Url.Path.Split('/').Last())", "42"),
        ("@(context.Request.Url.Query.GetValueOrDefault(\"q\", \"\"))", "a b"),
        ("@(context.Request.Url.Host.ToUpper())", "API.CONTOSO.LOCAL"),
        ("@(context.Request.OriginalUrl.Port)", "443"),
        ("@(context.Deployment.Gateway.Id)", "gw"),
        ("@(context.Request.Headers.GetValueOrDefault(\"Authorization\",\"\").AsJwt()?.Claims.GetValueOrDefault(\"region\", \"\"))", "East Asia"),
        ("@{ var jwt = context.Request.Headers.GetValueOrDefault(\"Authorization\",\"\").Split(' ').Last().AsJwt(); return jwt.Claims[\"roles\"].Contains(\"admin\"); }", "True"),
        ("@{ if (context.Request.Headers.GetValueOrDefault(\"Authorization\",\"\").Split(' ')[1].TryParseJwt(out var jwt)) { return jwt.Subject; } return \"none\"; }", "alice"),
        ("@{ context.Trace(\"src\", \"hello\"); return 1; }", "1"),
        ("@(context.Trace(\"only message\"))", ""),
        ("@{ context.Variables[\"x\"] = 1; return 1; }", "ERR context is read-only"),
        ("@(context.Foo)", "ERR not a member of APIM's context"),
        ("@(context.Api.ServiceUrl.Host)", "backend"),
        ("@(context.Api.ServiceUrl.Port)", "8080"),
        ("@(context.Api.ServiceUrl.AbsolutePath)", "/api"),
        ("@(context.Api.ServiceUrl.Scheme)", "http"),
        ("@(context.Timestamp.ToString(\"o\"))", "2024-01-01T00:00:00.0000000Z"),
        ("@(context.Timestamp.Year)", "2024"),
        ("@(context.Timestamp.AddMinutes(5).ToString(\"HH:mm\"))", "00:05"),
        ("@(context.Elapsed.TotalMilliseconds >= 0)", "True"),
        ("@(context.Elapsed < TimeSpan.FromMinutes(1))", "True"),
        ("@(context.Tracing)", "False"),
        ("@(context.Deployment.Gateway.InstanceId)", "gw"),
        ("@(context.Deployment.Gateway.IsManaged)", "False"),
        ("@(context.Request.Url.Query[\"q\"])", "ERR context.Request.Url.Query[…] is not yet supported by ringgate"),
    ]);
}

/// Rows bound to the dotnet library module: dates, spans, regular expressions, hashes.
#[test]
fn library_bindings() {
    run(&[
        ("@(new DateTime(2024, 1, 2, 3, 4, 5).ToString(\"yyyy-MM-ddTHH:mm:ss\"))", "2024-01-02T03:04:05"),
        ("@(new DateTime(2024, 1, 2, 3, 4, 5, DateTimeKind.Utc).ToString(\"o\"))", "2024-01-02T03:04:05.0000000Z"),
        ("@(new DateTime(2024, 1, 2, 3, 4, 5).ToString(\"o\"))", "2024-01-02T03:04:05.0000000"),
        ("@(new DateTime(2024, 1, 31).AddDays(30).Month)", "3"),
        ("@(new DateTime(2024, 1, 31).AddMonths(1).Day)", "29"), // clamps to the month's last day (leap year)
        ("@((new DateTime(2024, 3, 1) - new DateTime(2024, 2, 1)).TotalDays)", "29"),
        ("@(new DateTime(2024, 1, 1).DayOfWeek.ToString())", "Monday"),
        ("@(new DateTime(2024, 2, 30))", "ERR"),
        ("@(new DateTime(2024, 5, 6) > new DateTime(2024, 5, 5))", "True"),
        ("@(DateTime.UtcNow > new DateTime(2020, 1, 1))", "True"),
        ("@(DateTime.UtcNow.Year >= 2024)", "True"),
        ("@(System.DateTime.UtcNow.AddHours(1) > DateTime.UtcNow)", "True"),
        ("@(DateTime.Parse(\"2024-05-06T07:08:09Z\").ToUniversalTime().ToString(\"yyyy-MM-dd HH:mm\"))", "2024-05-06 07:08"),
        ("@(DateTime.Parse(\"not a date\"))", "ERR"),
        ("@(TimeSpan.FromMinutes(90).TotalHours)", "1.5"),
        ("@(TimeSpan.FromSeconds(3661).ToString())", "01:01:01"),
        ("@((TimeSpan.FromHours(1) + TimeSpan.FromMinutes(30)).TotalMinutes)", "90"),
        ("@(new TimeSpan(1, 2, 3).TotalSeconds)", "3723"),
        ("@(new DateTime(2024, 1, 1, 10, 0, 0).Add(TimeSpan.FromMinutes(5)).ToString(\"HH:mm\"))", "10:05"),
        ("@(DateTime.UtcNow.ToString(\"dddd\").Length > 5)", "True"),
        ("@{ var d = new DateTime(2024, 6, 1); switch (d.DayOfWeek.ToString()) { case \"Saturday\": case \"Sunday\": return \"weekend\"; default: return \"weekday\"; } }", "weekend"),
        ("@(Regex.Match(\"/orders/123/items\", @\"/orders/(\\d+)\").Groups[1].Value)", "123"),
        ("@(Regex.Match(\"key=val\", @\"(?<k>\\w+)=(?<v>\\w+)\").Groups[\"v\"].Value)", "val"),
        ("@(Regex.Match(\"x\", \"(?<n>y)\").Success)", "False"),
        ("@(Regex.Match(\"x\", \"(?<n>y)\").Groups[\"n\"]?.Value ?? \"none\")", ""), // Group is never null; its Value is ""
        ("@(Regex.IsMatch(\"ABC\", \"^abc$\", RegexOptions.IgnoreCase))", "True"),
        ("@(Regex.IsMatch(\"ABC\", \"^abc$\"))", "False"),
        ("@(Regex.IsMatch(\"Ab\", \"ab\", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant))", "True"),
        ("@(Regex.Replace(\"a1b22\", @\"\\d+\", \"#\"))", "a#b#"),
        ("@(Regex.Replace(\"John Smith\", @\"(\\w+) (\\w+)\", \"$2, $1\"))", "Smith, John"),
        ("@(new Regex(@\"^\\d{3}$\").IsMatch(\"123\"))", "True"),
        ("@(new Regex(\"b+\").Match(\"abbbc\").Index)", "1"),
        ("@(Regex.Match(\"abbbc\", \"b+\").Length)", "3"),
        ("@(Regex.IsMatch(\"aa\", @\"(a)\\1\"))", "ERR Regex pattern"), // backreferences: not on a linear-time engine
        ("@(Regex.IsMatch(\"ab\", \"a(?=b)\"))", "ERR Regex pattern"),
        ("@(Regex.Escape(\"a.b\"))", "ERR not allowed in APIM policy expressions"), // Escape is not in APIM's list
        ("@(Convert.ToBase64String(new HMACSHA256(Encoding.UTF8.GetBytes(\"Jefe\")).ComputeHash(Encoding.UTF8.GetBytes(\"what do ya want for nothing?\"))))", "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM="), // RFC 4231 case 2
        ("@(Convert.ToBase64String(new System.Security.Cryptography.HMACSHA1(Encoding.UTF8.GetBytes(\"key\")).ComputeHash(Encoding.UTF8.GetBytes(\"The quick brown fox jumps over the lazy dog\"))))", "3nybhbi3iqa8ino29wqQcBydtNk="),
        ("@(Convert.ToBase64String(SHA256.Create().ComputeHash(Encoding.UTF8.GetBytes(\"abc\"))))", "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="), // FIPS 180-2
        ("@(Convert.ToBase64String(MD5.Create().ComputeHash(Encoding.UTF8.GetBytes(\"abc\"))))", "kAFQmDzST7DWlj99KOF/cg=="), // RFC 1321
        ("@{ using (var h = new HMACSHA256(new byte[] { 1 })) { return 1; } }", "ERR not allowed in APIM"),
        ("@(BitConverter.ToString(new byte[] { 1, 171, 255 }))", "01-AB-FF"),
        ("@(BitConverter.ToString(SHA256.Create().ComputeHash(Encoding.UTF8.GetBytes(\"abc\"))).Replace(\"-\", \"\").ToLowerInvariant().Substring(0, 16))", "ba7816bf8f01cfea"),
        ("@{ var key = Convert.FromBase64String(\"K34VFiiu0qar9xWICc9PPA==\"); var iv = new byte[16]; var enc = Encoding.UTF8.GetBytes(\"top secret\").Encrypt(\"Aes\", key, iv); return Encoding.UTF8.GetString(enc.Decrypt(\"Aes\", key, iv)) + \":\" + enc.Length; }", "top secret:16"),
        ("@(Convert.ToBase64String(Convert.FromBase64String(\"a8G+4i5An5bpPX4Rc5MXKg==\").Encrypt(\"Aes\", Convert.FromBase64String(\"K34VFiiu0qar9xWICc9PPA==\"), Convert.FromBase64String(\"AAECAwQFBgcICQoLDA0ODw==\"))).Substring(0, 21))", "dkmrrIEZskbO6Y6bEukZf"), // NIST SP 800-38A F.2.1 first block 7649abac8119b246cee98e9b12e9197d
        ("@(Encoding.UTF8.GetBytes(\"x\").Decrypt(\"Aes\", new byte[16], new byte[16]))", "ERR"),
        ("@(Encoding.UTF8.GetBytes(\"x\").Encrypt(\"TripleDES\", new byte[16], new byte[16]))", "ERR Encrypt(\"TripleDES\", …) is not yet supported by ringgate"),
    ]);
}
