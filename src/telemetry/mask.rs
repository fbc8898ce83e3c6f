//! The one place that decides which query parameters carry a subscription key, for every URL
//! the telemetry writes (the access log's `url` and `backendUrl`).
//!
//! A parameter is a key when its name, percent-decoded (repeatedly, so `%2573` is caught too)
//! and compared without ASCII case, is APIM's default `subscription-key` or the API's
//! configured key parameter. Matching is deliberately wider than the gateway's own key lookup:
//! a backend or a framework that folds case or decodes names would read `Subscription-Key`
//! or `%73ubscription-key` as the key, so the log must not show it either. Key parameters are
//! left out of the logged URL entirely (name and value).

/// APIM's default query parameter for the subscription key.
pub const DEFAULT_KEY_QUERY: &str = "subscription-key";

/// Decoding rounds: enough for any realistic multiple encoding; each round only shrinks.
const DECODE_ROUNDS: usize = 4;

/// Longest name worth decoding: key names are short, longer ones cannot match.
const NAME_MAX: usize = 256;

/// Whether the raw (as sent) query parameter name `raw` names a subscription key, given the
/// API's configured key parameter `custom` (if the request was routed to an API).
pub fn is_key_param(raw: &[u8], custom: Option<&str>) -> bool {
    if raw.len() > NAME_MAX * 3usize.pow(DECODE_ROUNDS as u32) {
        return false;
    }
    let mut name = raw.to_vec();
    for _ in 0..=DECODE_ROUNDS {
        let matches = |want: &str| !want.is_empty() && name.eq_ignore_ascii_case(want.as_bytes());
        if matches(DEFAULT_KEY_QUERY) || custom.is_some_and(matches) {
            return true;
        }
        match percent_decode(&name) {
            Some(next) => name = next,
            None => return false,
        }
    }
    false
}

/// One round of `%XX` decoding (`+` as a space, as form encoding has it); `None` when nothing
/// changed.
fn percent_decode(s: &[u8]) -> Option<Vec<u8>> {
    if !s.iter().any(|&b| b == b'%' || b == b'+') {
        return None;
    }
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match (s[i], s.get(i + 1).copied().and_then(hex), s.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(h), Some(l)) => {
                out.push(h << 4 | l);
                i += 3;
            }
            (b'+', _, _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    (out != s).then_some(out)
}

/// Appends `?query` (without key parameters; nothing when none is left) through `push`, the
/// caller's escaping writer.
pub fn push_query(out: &mut Vec<u8>, query: &[u8], custom: Option<&str>, push: fn(&mut Vec<u8>, &[u8])) {
    let mut first = true;
    for pair in query.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
        let name = pair.split(|b| *b == b'=').next().unwrap_or(b"");
        if is_key_param(name, custom) {
            continue;
        }
        out.push(if first { b'?' } else { b'&' });
        first = false;
        push(out, pair);
    }
}

/// Appends `target` (`path?query`) through `push`, without key parameters.
pub fn push_target(out: &mut Vec<u8>, target: &[u8], custom: Option<&str>, push: fn(&mut Vec<u8>, &[u8])) {
    match memchr::memchr(b'?', target) {
        Some(q) => {
            push(out, &target[..q]);
            push_query(out, &target[q + 1..], custom, push);
        }
        None => push(out, target),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(out: &mut Vec<u8>, b: &[u8]) {
        out.extend_from_slice(b);
    }

    #[test]
    fn key_names_whatever_their_case_or_encoding() {
        let table: [(&str, Option<&str>, bool); 18] = [
            ("subscription-key", None, true),
            ("Subscription-Key", None, true),
            ("SUBSCRIPTION-KEY", None, true),
            ("subscription%2Dkey", None, true),
            ("subscription%2dkey", None, true),
            ("%73ubscription-key", None, true),
            ("%53UBSCRIPTION%2DKEY", None, true),
            ("%2573ubscription-key", None, true),
            ("%252573ubscription%25252Dkey", None, true),
            ("api-key", Some("api-key"), true),
            ("API-Key", Some("api-key"), true),
            ("api%2Dkey", Some("API-KEY"), true),
            ("subscription-key", Some("api-key"), true),
            ("api-key", None, false),
            ("subscription-keys", None, false),
            ("subscription", None, false),
            ("", Some(""), false),
            ("%zz", None, false),
        ];
        for (name, custom, want) in table {
            assert_eq!(is_key_param(name.as_bytes(), custom), want, "{name} with custom {custom:?}");
        }
    }

    #[test]
    fn urls_lose_their_key_parameters() {
        let table: [(&str, Option<&str>, &str); 6] = [
            ("/a?subscription-key=s3&b=1", None, "/a?b=1"),
            ("/a?b=1&Subscription-Key=s3", None, "/a?b=1"),
            ("/a?%73ubscription-key=s3", None, "/a"),
            ("/a?k=s3&x&&y=2", Some("k"), "/a?x&y=2"),
            ("/a?K=s3", Some("k"), "/a"),
            ("/plain", None, "/plain"),
        ];
        for (target, custom, want) in table {
            let mut out = Vec::new();
            push_target(&mut out, target.as_bytes(), custom, raw);
            assert_eq!(String::from_utf8_lossy(&out), want, "{target}");
        }
    }
}
