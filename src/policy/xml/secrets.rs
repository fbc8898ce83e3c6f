//! Named values a document used, kept so that none of their values reaches a problem message.
//!
//! Values are substituted before the document is parsed, so any message that quotes document
//! text (an attribute value, an expression, a fragment id) may quote a value, often a secret.
//! Rather than trusting every message writer, each problem of the document goes through
//! [`Secrets::scrub`]: a whole value becomes `{{name}}`, and so does any run of at least
//! [`WINDOW`] bytes taken from a value (a message that quotes part of one). Positions are not
//! affected: they already point at the `{{name}}` as written.

use std::collections::HashMap;

/// Values shorter than this are not scrubbed (`1`, `on`: no secret, and replacing them would
/// garble every message).
pub const MIN_VALUE: usize = 3;

/// Shortest fragment of a value recognised inside a message.
pub const WINDOW: usize = 8;

/// The (name, value) pairs substituted in one document.
#[derive(Clone, Default)]
pub struct Secrets {
    /// Longest value first, so a value containing another is replaced whole.
    used: Vec<(Box<str>, Box<str>)>,
}

impl std::fmt::Debug for Secrets {
    // Names only: the values are what this type keeps out of output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.used.iter().map(|u| &u.0)).finish()
    }
}

impl Secrets {
    pub fn add(&mut self, name: &str, value: &str) {
        if value.len() < MIN_VALUE || self.used.iter().any(|u| &*u.0 == name) {
            return;
        }
        self.used.push((name.into(), value.into()));
        self.used.sort_by_key(|u| std::cmp::Reverse(u.1.len()));
    }

    pub fn is_empty(&self) -> bool {
        self.used.is_empty()
    }

    /// `message` with every value, whole or in part, replaced by its `{{name}}`.
    pub fn scrub(&self, message: String) -> String {
        if self.used.is_empty() {
            return message;
        }
        let mut m = message;
        for (name, value) in &self.used {
            if m.contains(&**value) {
                m = m.replace(&**value, &format!("{{{{{name}}}}}"));
            }
        }
        self.scrub_parts(m)
    }

    /// Runs of bytes covered by [`WINDOW`]-byte slices of some value.
    fn scrub_parts(&self, m: String) -> String {
        let b = m.as_bytes();
        if b.len() < WINDOW {
            return m;
        }
        let mut windows: HashMap<&[u8], usize> = HashMap::new();
        for (i, (_, v)) in self.used.iter().enumerate() {
            for w in v.as_bytes().windows(WINDOW) {
                windows.entry(w).or_insert(i);
            }
        }
        // (start, end, value index) of covered runs, merged as found.
        let mut runs: Vec<(usize, usize, usize)> = Vec::new();
        for (at, w) in b.windows(WINDOW).enumerate() {
            let Some(&i) = windows.get(w) else { continue };
            match runs.last_mut() {
                Some(r) if r.1 >= at => r.1 = at + WINDOW,
                _ => runs.push((at, at + WINDOW, i)),
            }
        }
        if runs.is_empty() {
            return m;
        }
        let mut out = String::with_capacity(m.len());
        let mut copied = 0;
        for (mut start, mut end, i) in runs {
            while !m.is_char_boundary(start) {
                start -= 1;
            }
            while !m.is_char_boundary(end) {
                end += 1;
            }
            if start < copied {
                start = copied;
            }
            out.push_str(&m[copied..start]);
            out.push_str("{{");
            out.push_str(&self.used[i].0);
            out.push_str("}}");
            copied = end;
        }
        out.push_str(&m[copied..]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets() -> Secrets {
        let mut s = Secrets::default();
        s.add("key", "s3cr3t-Value-0123456789");
        s.add("env", "prod");
        s.add("one", "1");
        s
    }

    #[test]
    fn whole_and_partial_values_become_names() {
        let s = secrets();
        let table = [
            ("found 's3cr3t-Value-0123456789'", "found '{{key}}'"),
            ("found 's3cr3t-Value-01…'", "found '{{key}}…'"),
            ("near 'Value-0123456789 + x'", "near '{{key}} + x'"),
            ("env prod and 1 stay readable", "env {{env}} and 1 stay readable"),
            ("nothing here", "nothing here"),
            ("é s3cr3t-Va é", "é {{key}} é"),
        ];
        for (m, want) in table {
            assert_eq!(s.scrub(m.to_string()), want, "{m}");
        }
    }

    #[test]
    fn debug_shows_names_only() {
        let d = format!("{:?}", secrets());
        assert!(d.contains("key") && !d.contains("s3cr3t"), "{d}");
    }
}
