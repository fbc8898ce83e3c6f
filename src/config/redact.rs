//! Named values are often secrets (keys, passwords): a rejected document's problems are
//! printed, logged, stored as the last error, sent in heartbeats and returned by the control
//! plane, so no problem may carry a value. Whatever check produced it (a URL quoted back, a
//! policy attribute after substitution), each value's text becomes `{{name}}` here, the one
//! place every problem passes through.

use super::error::Problem;

/// Values shorter than this are not searched for (they would mangle ordinary words and are
/// not secrets worth the name).
const MIN_LEN: usize = 4;

pub fn named_values(problems: &mut [Problem], values: &[(String, String)]) {
    // Longest first, so a value containing another is replaced whole.
    let mut by_len: Vec<&(String, String)> = values.iter().filter(|(_, v)| v.len() >= MIN_LEN).collect();
    by_len.sort_by_key(|(_, v)| std::cmp::Reverse(v.len()));
    if by_len.is_empty() {
        return;
    }
    for p in problems.iter_mut() {
        for (name, value) in &by_len {
            if p.message.contains(value.as_str()) {
                p.message = p.message.replace(value.as_str(), &format!("{{{{{name}}}}}"));
            }
            if p.path.contains(value.as_str()) {
                p.path = p.path.replace(value.as_str(), &format!("{{{{{name}}}}}"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_become_their_names() {
        let mut ps = vec![Problem::new("apis[0].serviceUrl", "invalid URL 'ftp://u:hunter22@h': scheme")];
        named_values(&mut ps, &[("pw".into(), "hunter22".into()), ("x".into(), "h".into())]);
        assert_eq!(ps[0].message, "invalid URL 'ftp://u:{{pw}}@h': scheme");
    }
}
