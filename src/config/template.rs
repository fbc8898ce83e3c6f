//! Operation URL templates (`/users/{id}`, `/files/*`, `/`), compiled at load time.
//!
//! Matching is on the raw (still percent-encoded) path, case-sensitive, and treats one
//! trailing slash as insignificant (`/users/` matches `/users`). Precedence, compared
//! segment by segment from the left: a literal beats `{param}`, which beats `/*`; when all
//! positions tie, a template without a wildcard beats one whose `*` matched nothing.

use std::cmp::Ordering;

#[derive(Clone, Debug, PartialEq)]
enum Seg {
    Lit(Box<str>),
    Param,
}

/// A compiled template.
#[derive(Clone, Debug, PartialEq)]
pub struct Template {
    segs: Vec<Seg>,
    /// Ends in `/*`: matches any remaining segments, including none.
    wildcard: bool,
    /// Parameter names in order (for `context.Request.MatchedParameters` later).
    pub params: Vec<Box<str>>,
}

/// Parse result: the template plus an optional warning (query part ignored).
pub struct Parsed {
    pub template: Template,
    pub warning: Option<String>,
}

/// Strips a leading '/' and one trailing '/'.
fn normalize(rest: &str) -> &str {
    let r = rest.strip_prefix('/').unwrap_or(rest);
    r.strip_suffix('/').unwrap_or(r)
}

/// Number of segments in a normalized rest (0 for "").
pub fn segment_count(norm: &str) -> usize {
    if norm.is_empty() {
        0
    } else {
        memchr::memchr_iter(b'/', norm.as_bytes()).count() + 1
    }
}

pub fn parse_template(t: &str) -> Result<Parsed, String> {
    if !t.starts_with('/') {
        return Err("must start with '/'".into());
    }
    let (path, warning) = match t.find('?') {
        Some(i) => (&t[..i], Some("query parameters in a urlTemplate are not matched; only the path is".to_string())),
        None => (t, None),
    };
    if path.bytes().filter(|&b| b == b'{').count() != path.bytes().filter(|&b| b == b'}').count() {
        return Err("unbalanced braces".into());
    }
    let body = normalize(path);
    let mut segs = Vec::new();
    let mut params: Vec<Box<str>> = Vec::new();
    let mut wildcard = false;
    let n = segment_count(body);
    for (i, s) in body.split('/').enumerate().take(n) {
        if s == "*" {
            if i + 1 != n {
                return Err("'*' must be the last segment".into());
            }
            wildcard = true;
        } else if s.contains(['{', '}']) {
            let Some(name) = s.strip_prefix('{').and_then(|x| x.strip_suffix('}')) else {
                return Err(format!("segment '{s}': a parameter must be a whole segment"));
            };
            if name.is_empty() || name.contains(['{', '}']) {
                return Err(format!("segment '{s}': invalid parameter name"));
            }
            if params.iter().any(|p| &**p == name) {
                return Err(format!("duplicate parameter name '{name}'"));
            }
            params.push(name.into());
            segs.push(Seg::Param);
        } else {
            segs.push(Seg::Lit(s.into()));
        }
    }
    Ok(Parsed { template: Template { segs, wildcard, params }, warning })
}

impl Template {
    /// The requests this template matches, as text: two templates with the same shape match
    /// exactly the same paths (parameter names do not matter, nor one trailing slash).
    pub fn shape(&self) -> String {
        let mut s = String::new();
        for seg in &self.segs {
            s.push('/');
            match seg {
                Seg::Lit(l) => s.push_str(l),
                // Literal segments cannot hold braces, so this cannot collide with one.
                Seg::Param => s.push_str("{}"),
            }
        }
        if self.wildcard {
            s.push_str("/*");
        }
        s
    }

    /// Whether this template matches `rest` (the path after the API, may be "").
    /// Returns the normalized segment count on success (for ranking), without allocating.
    pub fn matches(&self, rest: &str) -> Option<usize> {
        let norm = normalize(rest);
        let n = segment_count(norm);
        if n < self.segs.len() || (!self.wildcard && n != self.segs.len()) {
            return None;
        }
        for (seg, part) in self.segs.iter().zip(norm.split('/')) {
            match seg {
                Seg::Lit(l) if **l == *part => {}
                Seg::Param if !part.is_empty() => {}
                _ => return None,
            }
        }
        Some(n)
    }

    fn rank_at(&self, i: usize) -> u8 {
        match self.segs.get(i) {
            Some(Seg::Lit(_)) => 2,
            Some(Seg::Param) => 1,
            None => 0,
        }
    }

    /// Specificity of two templates that both matched a rest of `n` segments.
    /// `Greater` means `self` is more specific.
    pub fn specificity(&self, other: &Template, n: usize) -> Ordering {
        for i in 0..n {
            match self.rank_at(i).cmp(&other.rank_at(i)) {
                Ordering::Equal => {}
                o => return o,
            }
        }
        other.wildcard.cmp(&self.wildcard)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Template {
        parse_template(s).unwrap().template
    }

    #[test]
    fn root_template() {
        let r = t("/");
        assert!(r.matches("").is_some());
        assert!(r.matches("/").is_some());
        assert!(r.matches("/x").is_none());
    }

    #[test]
    fn literal_param_wildcard() {
        assert!(t("/users/{id}").matches("/users/3").is_some());
        assert!(t("/users/{id}").matches("/users/").is_none());
        assert!(t("/users/{id}").matches("/users/3/x").is_none());
        assert!(t("/users").matches("/users/").is_some());
        assert!(t("/users").matches("/Users").is_none());
        assert!(t("/files/*").matches("/files").is_some());
        assert!(t("/files/*").matches("/files/a/b/c").is_some());
        assert!(t("/files/*").matches("/file").is_none());
        assert!(t("/*").matches("").is_some());
    }

    #[test]
    fn precedence() {
        let (lit, par, wild) = (t("/users/me"), t("/users/{id}"), t("/users/*"));
        assert_eq!(lit.specificity(&par, 2), Ordering::Greater);
        assert_eq!(par.specificity(&wild, 2), Ordering::Greater);
        assert_eq!(t("/users").specificity(&wild, 1), Ordering::Greater);
        assert_eq!(t("/a/*").specificity(&t("/*"), 2), Ordering::Greater);
    }

    #[test]
    fn shapes_ignore_parameter_names_and_a_trailing_slash() {
        assert_eq!(t("/users/{id}").shape(), t("/users/{name}/").shape());
        assert_ne!(t("/users/{id}").shape(), t("/users/me").shape());
        assert_ne!(t("/files/*").shape(), t("/files").shape());
    }

    #[test]
    fn rejects() {
        for (bad, why) in [
            ("users", "start"),
            ("/a/{id", "unbalanced"),
            ("/a/{id}/{id}", "duplicate"),
            ("/*/a", "last"),
            ("/a/x{id}", "whole segment"),
            ("/a/{}", "invalid"),
        ] {
            let e = parse_template(bad).err().unwrap();
            assert!(e.contains(why), "{bad}: {e}");
        }
        assert!(parse_template("/a?x={x}").unwrap().warning.is_some());
    }
}
