//! Percent-encoding as `Uri.EscapeDataString`, `WebUtility.UrlEncode` (space `+`, uppercase
//! hex) and `HttpUtility.UrlEncode` (space `+`, lowercase hex) do it, and the decoders.

use std::fmt::Write;

fn encode(s: &str, keep: impl Fn(u8) -> bool, space_plus: bool, upper: bool) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for &b in s.as_bytes() {
        if b == b' ' && space_plus {
            out.push('+');
        } else if keep(b) {
            out.push(char::from(b));
        } else if upper {
            let _ = write!(out, "%{b:02X}");
        } else {
            let _ = write!(out, "%{b:02x}");
        }
    }
    out
}

fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// `Uri.EscapeDataString`: everything but RFC 3986 unreserved characters.
pub fn escape_data_string(s: &str) -> String {
    encode(s, unreserved, false, true)
}

/// `Uri.EscapeUriString`: keeps reserved and unreserved characters.
pub fn escape_uri_string(s: &str) -> String {
    encode(s, |b| unreserved(b) || b":/?#[]@!$&'()*+,;=".contains(&b), false, true)
}

fn url_safe(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'!' | b'*' | b'(' | b')')
}

/// `WebUtility.UrlEncode`.
pub fn web_url_encode(s: &str) -> String {
    encode(s, url_safe, true, true)
}

/// `HttpUtility.UrlEncode`.
pub fn http_url_encode(s: &str) -> String {
    encode(s, url_safe, true, false)
}

/// Decodes `%XX` (invalid escapes stay as written); `plus` turns `+` into a space. Bytes that
/// do not form UTF-8 become U+FFFD.
fn decode(s: &str, plus: bool) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' if plus => {
                out.push(b' ');
                i += 1;
            }
            b'%' if b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit) =>
            {
                let h = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
                out.push(h(b[i + 1]) << 4 | h(b[i + 2]));
                i += 3;
            }
            x => {
                out.push(x);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `Uri.UnescapeDataString`: `+` stays `+`; escapes that do not decode to UTF-8 stay escaped.
pub fn unescape_data_string(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            // Gather a run of escapes and decode it as UTF-8 if it is valid.
            let start = i;
            let h = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
            let esc = |i: usize| {
                b.get(i) == Some(&b'%')
                    && b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                    && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
            };
            if !esc(i) {
                out.push('%');
                i += 1;
                continue;
            }
            let first = h(b[i + 1]) << 4 | h(b[i + 2]);
            if first < 0x80 {
                out.push(char::from(first));
                i += 3;
                continue;
            }
            // A run of non-ASCII escapes decodes when it is UTF-8, else stays escaped.
            let mut bytes = Vec::new();
            while esc(i) && (h(b[i + 1]) << 4 | h(b[i + 2])) >= 0x80 {
                bytes.push(h(b[i + 1]) << 4 | h(b[i + 2]));
                i += 3;
            }
            match String::from_utf8(bytes) {
                Ok(t) => out.push_str(&t),
                Err(_) => out.push_str(&s[start..i]),
            }
            continue;
        }
        let ch = s[i..].chars().next().unwrap_or('\u{fffd}');
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

/// `WebUtility.UrlDecode` / `HttpUtility.UrlDecode`.
pub fn url_decode(s: &str) -> String {
    decode(s, true)
}

/// `WebUtility.HtmlEncode`: `&<>"'`, and U+00A0..U+00FF as numeric references.
pub fn html_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if ('\u{a0}'..='\u{ff}').contains(&c) => {
                let _ = write!(out, "&#{};", c as u32);
            }
            c if (c as u32) > 0xffff => {
                let _ = write!(out, "&#{};", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// `WebUtility.HtmlDecode`: named entities of HTML 4, decimal and hex references.
pub fn html_decode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(p) = rest.find('&') {
        out.push_str(&rest[..p]);
        rest = &rest[p..];
        let end = rest[1..].find(';').map(|e| e + 1).filter(|e| *e <= 10);
        let decoded = end.and_then(|e| {
            let name = &rest[1..e];
            let ch = if let Some(num) = name.strip_prefix('#') {
                let v = match num.strip_prefix(['x', 'X']) {
                    Some(h) => u32::from_str_radix(h, 16).ok(),
                    None => num.parse::<u32>().ok(),
                };
                v.and_then(char::from_u32)
            } else {
                named_entity(name)
            };
            ch.map(|c| (c, e))
        });
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = &rest[e + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn named_entity(n: &str) -> Option<char> {
    Some(match n {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{a0}',
        "copy" => '©',
        "reg" => '®',
        "trade" => '™',
        "euro" => '€',
        "pound" => '£',
        "yen" => '¥',
        "cent" => '¢',
        "sect" => '§',
        "deg" => '°',
        "plusmn" => '±',
        "times" => '×',
        "divide" => '÷',
        "hellip" => '…',
        "ndash" => '–',
        "mdash" => '—',
        "lsquo" => '‘',
        "rsquo" => '’',
        "ldquo" => '“',
        "rdquo" => '”',
        "laquo" => '«',
        "raquo" => '»',
        "middot" => '·',
        "eacute" => 'é',
        "egrave" => 'è',
        "agrave" => 'à',
        "ccedil" => 'ç',
        "uuml" => 'ü',
        "ouml" => 'ö',
        "auml" => 'ä',
        "szlig" => 'ß',
        _ => return None,
    })
}

/// `HttpUtility.ParseQueryString(query)`: pairs in order (a name without `=` has a null
/// name, as .NET's NameValueCollection records it), values URL-decoded.
pub fn parse_query_string(q: &str) -> Vec<(Option<String>, String)> {
    let q = q.strip_prefix('?').unwrap_or(q);
    let mut out = Vec::new();
    if q.is_empty() {
        return out;
    }
    for part in q.split('&') {
        match part.split_once('=') {
            Some((k, v)) => out.push((Some(url_decode(k)), url_decode(v))),
            None => out.push((None, url_decode(part))),
        }
    }
    out
}

/// `NameValueCollection[name]`: the values for `name` (case-insensitive) joined with commas.
pub fn query_get(pairs: &[(Option<String>, String)], name: &str) -> Option<String> {
    let vals: Vec<&str> = pairs
        .iter()
        .filter(|(k, _)| k.as_deref().is_some_and(|k| k.eq_ignore_ascii_case(name)))
        .map(|(_, v)| v.as_str())
        .collect();
    (!vals.is_empty()).then(|| vals.join(","))
}
