//! `{{name}}` substitution, done once at load time.
//!
//! Only `{{` + a name made of letters, digits, `.`, `-`, `_` + `}}` is a placeholder; any
//! other `{{` (for example inside a policy expression) is left as written. Names are
//! case-sensitive. Values are inserted verbatim and never re-scanned (not recursive).

use std::collections::HashMap;

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_')
}

/// Replaces every placeholder in `s`. On failure returns the unknown names (each once, in
/// order of first appearance).
pub fn substitute(s: &str, values: &HashMap<String, String>) -> Result<String, Vec<String>> {
    if !s.contains("{{") {
        return Ok(s.to_string());
    }
    let mut out = String::with_capacity(s.len());
    let mut unknown: Vec<String> = Vec::new();
    let mut rest = s;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let name_len = after.bytes().take_while(|&b| is_name_byte(b)).count();
        let name = &after[..name_len];
        if name_len > 0 && after[name_len..].starts_with("}}") {
            out.push_str(&rest[..start]);
            match values.get(name) {
                Some(v) => out.push_str(v),
                None => {
                    if !unknown.iter().any(|u| u == name) {
                        unknown.push(name.to_string());
                    }
                }
            }
            rest = &after[name_len + 2..];
        } else {
            // Advance one byte only, so "{{{name}}}" still finds "{{name}}".
            out.push_str(&rest[..start + 1]);
            rest = &rest[start + 1..];
        }
    }
    out.push_str(rest);
    if unknown.is_empty() {
        Ok(out)
    } else {
        Err(unknown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vals() -> HashMap<String, String> {
        [("env", "prod"), ("s", "{{env}}")].into_iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    #[test]
    fn replaces_known_names() {
        assert_eq!(substitute("a-{{env}}-{{env}}", &vals()).unwrap(), "a-prod-prod");
        assert_eq!(substitute("no placeholders", &vals()).unwrap(), "no placeholders");
    }

    #[test]
    fn not_recursive() {
        assert_eq!(substitute("{{s}}", &vals()).unwrap(), "{{env}}");
    }

    #[test]
    fn non_names_left_alone() {
        assert_eq!(substitute("{{ x }} {{}} {{{env}}} {{a", &vals()).unwrap(), "{{ x }} {{}} {prod} {{a");
    }

    #[test]
    fn unknown_names_reported_once() {
        assert_eq!(substitute("{{x}}{{y}}{{x}}", &vals()).unwrap_err(), ["x", "y"]);
    }

    #[test]
    fn multibyte_is_safe() {
        assert_eq!(substitute("é{{é}}{{env}}ü{{", &vals()).unwrap(), "é{{é}}prodü{{");
    }
}
