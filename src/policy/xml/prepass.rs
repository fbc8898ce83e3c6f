//! The expression-aware pre-pass: APIM's raw policy form → well-formed XML.
//!
//! APIM lets authors write `condition="@(a == "x" && b < 3)"`: quotes, `<` and `&&` unescaped
//! inside `@(…)` / `@{…}`. No XML parser accepts that, so before quick-xml sees the text this
//! pass finds every expression (in attribute values and text, when the value *starts* with
//! `@(` or `@{`), walks it with C#'s lexical rules (strings, verbatim and interpolated strings,
//! char literals, nesting) to find where it really ends, and escapes what XML would choke on.
//! Entities that are already there (`&quot;`, `&amp;&amp;`) are kept, so well-formed documents
//! pass through unchanged. Outside expressions the text is copied as is.
//!
//! Positions: the output is longer than the input, so the pass records an offset map
//! ([`OffsetMap`]) and every later error is reported at the position in the text as written.
//! Named values (`{{name}}`) are substituted in the same pass, also through the map.

use std::collections::HashMap;

use super::secrets::Secrets;

/// Maps offsets in a rewritten text back to offsets in the original.
///
/// Breakpoints `(out, orig)`: from `out` on, output offsets advance with original offsets
/// until the next breakpoint. Inside a replacement (an escape, a substituted value) the
/// original offset of the replaced piece is used.
#[derive(Clone, Debug, Default)]
pub struct OffsetMap {
    points: Vec<(u32, u32, bool)>,
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl OffsetMap {
    fn linear(&mut self, out: usize, orig: usize) {
        self.points.push((to_u32(out), to_u32(orig), false));
    }
    fn fixed(&mut self, out: usize, orig: usize) {
        self.points.push((to_u32(out), to_u32(orig), true));
    }

    /// The original offset of output offset `o`.
    pub fn orig(&self, o: usize) -> usize {
        let o = to_u32(o);
        let i = self.points.partition_point(|p| p.0 <= o);
        match i.checked_sub(1).and_then(|i| self.points.get(i)) {
            Some(&(out, orig, true)) => {
                let _ = out;
                orig as usize
            }
            Some(&(out, orig, false)) => (orig + (o - out)) as usize,
            None => o as usize,
        }
    }
}

/// A problem found by the pre-pass, at an offset in the input it was given.
#[derive(Clone, Debug, PartialEq)]
pub struct PrepassError {
    pub offset: usize,
    pub message: String,
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_')
}

/// Largest size a document may reach once its named values are substituted: a value used many
/// times (`{{big}}` a thousand times) must not multiply a small document into a huge one.
pub const MAX_EXPANDED: usize = 1024 * 1024;

/// A document with its named values substituted.
pub struct Substituted {
    pub text: String,
    /// Output offsets back to the text as written.
    pub map: OffsetMap,
    /// The values used, to keep them out of problem messages.
    pub secrets: Secrets,
}

/// Substitutes known `{{name}}` placeholders (unknown ones are left as written: the config
/// compiler reports them). Refuses (at the placeholder that crossed it) a document that would
/// grow beyond [`MAX_EXPANDED`].
pub fn substitute(text: &str, values: &HashMap<String, String>) -> Result<Substituted, PrepassError> {
    let mut map = OffsetMap::default();
    map.linear(0, 0);
    let mut secrets = Secrets::default();
    if !text.contains("{{") || values.is_empty() {
        return Ok(Substituted { text: text.to_string(), map, secrets });
    }
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut copied = 0;
    while let Some(rel) = text.get(i..).and_then(|s| s.find("{{")) {
        let start = i + rel;
        let after = start + 2;
        let len = b.get(after..).map_or(0, |r| r.iter().take_while(|&&c| is_name_byte(c)).count());
        let name = text.get(after..after + len).unwrap_or("");
        let closed = text.get(after + len..).is_some_and(|r| r.starts_with("}}"));
        match values.get(name) {
            Some(v) if len > 0 && closed => {
                let end = after + len + 2;
                let grown = out.len() + (start - copied) + v.len() + (text.len() - end);
                if grown > MAX_EXPANDED {
                    return Err(PrepassError {
                        offset: start,
                        message: format!(
                            "named values expand this document beyond {MAX_EXPANDED} bytes (written: {} bytes; \
                             {{{{{name}}}}} is {} bytes)",
                            text.len(),
                            v.len()
                        ),
                    });
                }
                secrets.add(name, v);
                out.push_str(text.get(copied..start).unwrap_or(""));
                map.fixed(out.len(), start);
                out.push_str(v);
                map.linear(out.len(), end);
                copied = end;
                i = end;
            }
            _ => i = start + 1,
        }
    }
    out.push_str(text.get(copied..).unwrap_or(""));
    Ok(Substituted { text: out, map, secrets })
}

struct Pass<'a> {
    b: &'a [u8],
    i: usize,
    out: Vec<u8>,
    map: OffsetMap,
    /// Inside an attribute value: quotes must be escaped too.
    in_attr: bool,
}

const ENTITIES: [&[u8]; 5] = [b"&amp;", b"&lt;", b"&gt;", b"&quot;", b"&apos;"];

impl Pass<'_> {
    fn peek(&self, k: usize) -> Option<u8> {
        self.b.get(self.i + k).copied()
    }
    fn starts(&self, s: &[u8]) -> bool {
        self.b.get(self.i..).is_some_and(|r| r.starts_with(s))
    }
    fn copy(&mut self, n: usize) {
        let end = (self.i + n).min(self.b.len());
        self.out.extend_from_slice(&self.b[self.i..end]);
        self.i = end;
    }
    fn copy_until(&mut self, end: &[u8]) {
        while self.i < self.b.len() && !self.starts(end) {
            self.copy(1);
        }
        self.copy(end.len());
    }

    /// Length of an entity reference at the cursor (`&amp;`, `&#60;`, `&#x3c;`), or 0.
    fn entity_len(&self) -> usize {
        let rest = &self.b[self.i..];
        if let Some(e) = ENTITIES.iter().find(|e| rest.starts_with(e)) {
            return e.len();
        }
        if rest.starts_with(b"&#") {
            let body = rest.iter().skip(2).take_while(|c| c.is_ascii_alphanumeric()).count();
            if body > 0 && rest.get(2 + body) == Some(&b';') {
                return 3 + body;
            }
        }
        0
    }

    /// The logical character at the cursor (entities decoded) and its width in the input.
    fn logical(&self) -> Option<(u8, usize)> {
        let c = self.peek(0)?;
        if c == b'&' {
            let n = self.entity_len();
            if n > 0 {
                let decoded = match &self.b[self.i..self.i + n] {
                    b"&amp;" => b'&',
                    b"&lt;" => b'<',
                    b"&gt;" => b'>',
                    b"&quot;" => b'"',
                    b"&apos;" => b'\'',
                    _ => b'?',
                };
                return Some((decoded, n));
            }
        }
        Some((c, 1))
    }

    /// Emits one logical character of an expression, escaping what XML cannot hold.
    fn emit_expr_char(&mut self) -> Option<u8> {
        let (c, w) = self.logical()?;
        if w > 1 {
            self.copy(w);
            return Some(c);
        }
        let esc: &[u8] = match c {
            b'<' => b"&lt;",
            b'>' => b"&gt;",
            b'&' => b"&amp;",
            b'"' if self.in_attr => b"&quot;",
            b'\'' if self.in_attr => b"&apos;",
            _ => {
                self.copy(1);
                return Some(c);
            }
        };
        self.map.fixed(self.out.len(), self.i);
        self.out.extend_from_slice(esc);
        self.i += 1;
        self.map.linear(self.out.len(), self.i);
        Some(c)
    }

    /// Copies an expression starting at `@(` or `@{`, through its matching close.
    fn expression(&mut self) -> Result<(), PrepassError> {
        let start = self.i;
        self.copy(1); // '@'
        let mut stack: Vec<u8> = Vec::new();
        loop {
            let Some((c, _)) = self.logical() else {
                return Err(PrepassError { offset: start, message: "unterminated policy expression".into() });
            };
            if stack.len() > 256 {
                return Err(PrepassError { offset: start, message: "policy expression nested too deeply".into() });
            }
            match c {
                b'(' | b'{' | b'[' => {
                    stack.push(c);
                    self.emit_expr_char();
                }
                b')' | b'}' | b']' => {
                    let open = stack.pop();
                    let want = match c {
                        b')' => b'(',
                        b'}' => b'{',
                        _ => b'[',
                    };
                    if open != Some(want) {
                        return Err(PrepassError {
                            offset: self.i,
                            message: format!("unbalanced '{}' in policy expression", c as char),
                        });
                    }
                    self.emit_expr_char();
                    if stack.is_empty() {
                        return Ok(());
                    }
                }
                b'"' => self.string(false, false, start)?,
                b'\'' => self.char_literal(start)?,
                b'/' if self.next_logical_is(b'/') => self.line_comment(),
                b'/' if self.next_logical_is(b'*') => self.block_comment(start)?,
                b'@' if self.next_logical_is(b'"') => {
                    self.emit_expr_char();
                    self.string(true, false, start)?;
                }
                b'$' => {
                    self.emit_expr_char();
                    let verbatim = if self.logical().is_some_and(|(c, _)| c == b'@') {
                        self.emit_expr_char();
                        true
                    } else {
                        false
                    };
                    if self.logical().is_some_and(|(c, _)| c == b'"') {
                        self.string(verbatim, true, start)?;
                    }
                }
                _ => {
                    self.emit_expr_char();
                }
            }
        }
    }

    /// A C# `//` comment: through the end of its line. Quotes, apostrophes and brackets in
    /// it (`// don't`, `// [x]`) are text, not literals or nesting.
    fn line_comment(&mut self) {
        while let Some(c) = self.emit_expr_char() {
            if c == b'\n' {
                return;
            }
        }
    }

    /// A C# `/* … */` comment.
    fn block_comment(&mut self, start: usize) -> Result<(), PrepassError> {
        self.emit_expr_char();
        self.emit_expr_char();
        let mut star = false;
        loop {
            let Some(c) = self.emit_expr_char() else {
                return Err(PrepassError {
                    offset: start,
                    message: "unterminated comment in policy expression".into(),
                });
            };
            if star && c == b'/' {
                return Ok(());
            }
            star = c == b'*';
        }
    }

    fn next_logical_is(&self, want: u8) -> bool {
        let Some((_, w)) = self.logical() else { return false };
        let probe = Pass { b: self.b, i: self.i + w, out: Vec::new(), map: OffsetMap::default(), in_attr: false };
        probe.logical().is_some_and(|(c, _)| c == want)
    }

    fn unterminated(start: usize) -> PrepassError {
        PrepassError { offset: start, message: "unterminated string in policy expression".into() }
    }

    /// A C# string literal at the cursor (opening quote included).
    fn string(&mut self, verbatim: bool, interpolated: bool, start: usize) -> Result<(), PrepassError> {
        self.emit_expr_char();
        loop {
            let Some((c, _)) = self.logical() else { return Err(Self::unterminated(start)) };
            match c {
                b'"' => {
                    self.emit_expr_char();
                    if verbatim && self.logical().is_some_and(|(c, _)| c == b'"') {
                        self.emit_expr_char();
                        continue;
                    }
                    return Ok(());
                }
                b'\\' if !verbatim => {
                    self.emit_expr_char();
                    if self.emit_expr_char().is_none() {
                        return Err(Self::unterminated(start));
                    }
                }
                b'{' if interpolated => {
                    self.emit_expr_char();
                    if self.logical().is_some_and(|(c, _)| c == b'{') {
                        self.emit_expr_char();
                        continue;
                    }
                    self.hole(start)?;
                }
                b'\n' if !verbatim => return Err(Self::unterminated(start)),
                _ => {
                    self.emit_expr_char();
                }
            }
        }
    }

    /// An interpolation hole `{…}` (after the `{`): nested code until the matching `}`.
    fn hole(&mut self, start: usize) -> Result<(), PrepassError> {
        let mut depth = 0usize;
        loop {
            let Some((c, _)) = self.logical() else { return Err(Self::unterminated(start)) };
            match c {
                b'"' => self.string(false, false, start)?,
                b'\'' => self.char_literal(start)?,
                b'{' | b'(' => {
                    depth += 1;
                    self.emit_expr_char();
                }
                b'}' if depth == 0 => {
                    self.emit_expr_char();
                    return Ok(());
                }
                b'}' | b')' => {
                    depth = depth.saturating_sub(1);
                    self.emit_expr_char();
                }
                _ => {
                    self.emit_expr_char();
                }
            }
            if depth > 256 {
                return Err(Self::unterminated(start));
            }
        }
    }

    fn char_literal(&mut self, start: usize) -> Result<(), PrepassError> {
        self.emit_expr_char();
        for _ in 0..12 {
            let Some((c, _)) = self.logical() else { break };
            if c == b'\\' {
                self.emit_expr_char();
                self.emit_expr_char();
                continue;
            }
            self.emit_expr_char();
            if c == b'\'' {
                return Ok(());
            }
        }
        Err(PrepassError { offset: start, message: "unterminated character literal in policy expression".into() })
    }

    fn at_expression(&self) -> bool {
        self.peek(0) == Some(b'@') && matches!(self.peek(1), Some(b'(') | Some(b'{'))
    }

    /// A start tag: attribute values starting with an expression are walked as expressions.
    fn start_tag(&mut self) -> Result<(), PrepassError> {
        self.copy(1); // '<'
        while let Some(c) = self.peek(0) {
            match c {
                b'>' => {
                    self.copy(1);
                    return Ok(());
                }
                b'"' | b'\'' => {
                    self.copy(1);
                    while self.peek(0).is_some_and(|c| c == b' ' || c == b'\t' || c == b'\n' || c == b'\r') {
                        self.copy(1);
                    }
                    if self.at_expression() {
                        self.in_attr = true;
                        let r = self.expression();
                        self.in_attr = false;
                        r?;
                    }
                    while let Some(d) = self.peek(0) {
                        if d == c {
                            break;
                        }
                        self.copy(1);
                    }
                    self.copy(1);
                }
                _ => self.copy(1),
            }
        }
        Ok(())
    }

    fn run(&mut self) -> Result<(), PrepassError> {
        let mut text_start = true;
        while let Some(c) = self.peek(0) {
            if c == b'<' {
                if self.starts(b"<!--") {
                    self.copy_until(b"-->");
                } else if self.starts(b"<![CDATA[") {
                    self.copy_until(b"]]>");
                } else if self.starts(b"<?") {
                    self.copy_until(b"?>");
                } else if self.starts(b"<!") || self.starts(b"</") {
                    self.copy_until(b">");
                } else {
                    self.start_tag()?;
                }
                text_start = true;
            } else if text_start && self.at_expression() {
                self.expression()?;
                text_start = false;
            } else {
                text_start = text_start && c.is_ascii_whitespace();
                self.copy(1);
            }
        }
        Ok(())
    }
}

/// Rewrites `text` into well-formed XML; the map turns output offsets into input offsets.
pub fn prepass(text: &str) -> Result<(String, OffsetMap), PrepassError> {
    let mut p = Pass {
        b: text.as_bytes(),
        i: 0,
        out: Vec::with_capacity(text.len() + 64),
        map: OffsetMap::default(),
        in_attr: false,
    };
    p.map.linear(0, 0);
    p.run()?;
    // Only ASCII bytes were inserted and whole input bytes copied, so the output is UTF-8.
    let out = String::from_utf8(p.out).map_err(|e| PrepassError {
        offset: p.map.orig(e.utf8_error().valid_up_to()),
        message: "policy text is not valid UTF-8".into(),
    })?;
    Ok((out, p.map))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pp(s: &str) -> String {
        prepass(s).unwrap().0
    }

    #[test]
    fn escapes_inside_attribute_expressions() {
        assert_eq!(
            pp(r#"<when condition="@(context.LastError.Source == "validate-jwt" && 1 < 2)">"#),
            r#"<when condition="@(context.LastError.Source == &quot;validate-jwt&quot; &amp;&amp; 1 &lt; 2)">"#
        );
    }

    #[test]
    fn keeps_well_formed_documents() {
        let s = r#"<a c="@(x == &quot;)&quot; &amp;&amp; y)" d="plain &amp; x"><b>@{ return "a" + "&lt;"; }</b></a>"#;
        assert_eq!(pp(s), s);
    }

    #[test]
    fn text_blocks_and_strings_with_braces() {
        let s = "<set-body>@{ var s = \"}\"; if (a < b) { return $\"{s}<x>\"; } return @\"q\"\"}\"; }</set-body>";
        let (out, map) = prepass(s).unwrap();
        assert_eq!(
            out,
            "<set-body>@{ var s = \"}\"; if (a &lt; b) { return $\"{s}&lt;x&gt;\"; } return @\"q\"\"}\"; }</set-body>"
        );
        let i = out.find("if").unwrap();
        assert_eq!(map.orig(i), s.find("if").unwrap());
        assert!(out.ends_with("</set-body>"));
    }

    #[test]
    fn char_literals_and_interpolation() {
        assert_eq!(pp("<v a=\"@(x.Split(',')[0])\"/>"), "<v a=\"@(x.Split(&apos;,&apos;)[0])\"/>");
        assert_eq!(pp("<v>@($\"{a.Replace(\"}\", \"<\")}\")</v>"), "<v>@($\"{a.Replace(\"}\", \"&lt;\")}\")</v>");
    }

    #[test]
    fn errors_point_at_expression() {
        let e = prepass("<a b=\"@(x == \"y)\"/>").unwrap_err();
        assert_eq!(e.offset, 6);
        assert!(prepass("<a>@(a))</a>").is_ok());
        assert!(prepass("<a>@(a]</a>").is_err());
    }

    #[test]
    fn comments_hide_quotes_and_brackets() {
        // An apostrophe in a line comment is not a char literal; brackets are not nesting.
        let s = "<set-body>@{\n// don't [x] (y \"z\n var a = 1; // } ]\n return a < 2; }</set-body><b/>";
        assert_eq!(pp(s), "<set-body>@{\n// don't [x] (y \"z\n var a = 1; // } ]\n return a &lt; 2; }</set-body><b/>");
        let s = "<v a=\"@{ // don't [x]\n return 1; }\"/>";
        assert_eq!(pp(s), "<v a=\"@{ // don&apos;t [x]\n return 1; }\"/>");
        let s = "<v>@{ /* it's ( { [ \" */ return 1; }</v><w/>";
        assert_eq!(pp(s), s);
        // `/` alone is division, and `//` inside a string is text.
        let s = "<v a=\"@(4 / 2 + \"http://x\".Length)\"/>";
        assert_eq!(pp(s), "<v a=\"@(4 / 2 + &quot;http://x&quot;.Length)\"/>");
        let e = prepass("<v>@{ /* open ( return 1; }</v>").unwrap_err();
        assert!(e.message.contains("unterminated comment"), "{e:?}");
        // A comment that never ends its line runs to the end: the expression is unterminated.
        assert!(prepass("<v a=\"@(1 // )\"/>").is_err());
    }

    #[test]
    fn commented_expressions_compile_from_documents() {
        // Through the reader (quick-xml after the pass) and the expression compiler: the
        // comment's line break survives in the attribute, so the code after it is code.
        for doc in [
            "<v a=\"@{ // don't [x]\n return \"ok\"; }\"/>",
            "<v>@{ // it's [1] (\n var s = \"ok\"; /* ' ] */ return s; }</v>",
        ] {
            let read = super::super::read(doc, &HashMap::new());
            let root = read.root.expect("reads");
            let src = match (root.attrs.first(), root.children.first()) {
                (Some(a), _) => a.value.clone(),
                (None, Some(super::super::Node::Text(t))) => t.clone(),
                _ => panic!("{doc}: no value"),
            };
            let v = crate::policy::expr::compile_value(&src).expect(doc);
            let r = crate::policy::testkit::FakeReq::new("GET", "/");
            let ctx = crate::policy::runtime::PolicyContext::new(&r, crate::policy::testkit::info("10.0.0.1"));
            assert_eq!(v.text(&ctx).unwrap(), "ok", "{doc}");
        }
    }

    #[test]
    fn email_text_untouched() {
        assert_eq!(pp("<a>mail me@(home)</a>"), "<a>mail me@(home)</a>");
    }

    #[test]
    fn named_values_map_back() {
        let vals: HashMap<String, String> = [("n".to_string(), "LONG-VALUE".to_string())].into_iter().collect();
        let Substituted { text: out, map, .. } = substitute("<a x=\"{{n}}\"/><b/>", &vals).unwrap();
        assert_eq!(out, "<a x=\"LONG-VALUE\"/><b/>");
        assert_eq!(map.orig(out.find("<b").unwrap()), "<a x=\"{{n}}\"/>".len());
        assert_eq!(map.orig(8), 6);
    }
}
