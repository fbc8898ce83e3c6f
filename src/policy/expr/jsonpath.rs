//! `SelectToken` paths: the JSONPath subset real documents use (`$.a.b`, `a.b[0]`,
//! `['key with dots']`, `[*]` first match). Filters (`?(...)`) and recursive descent (`..`)
//! are refused with a message rather than answered wrongly.

use super::json::JRef;
use super::EvalError;

enum Step {
    Key(String),
    Index(usize),
}

fn parse(path: &str) -> Result<Vec<Step>, EvalError> {
    let unsupported = |what: &str| {
        EvalError::new(format!("SelectToken: {what} in JSONPath is not yet supported by ringgate ('{path}')"))
    };
    if path.contains("..") {
        return Err(unsupported("recursive descent (..)"));
    }
    if path.contains("?(") {
        return Err(unsupported("filters (?(…))"));
    }
    let b = path.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    if b.first() == Some(&b'$') {
        i = 1;
    }
    while i < b.len() {
        match b[i] {
            b'.' => {
                i += 1;
            }
            b'[' => {
                let end = path[i..].find(']').map(|e| e + i).ok_or_else(|| {
                    EvalError::of("JsonException", format!("Unexpected end while parsing path: {path}"))
                })?;
                let inner = path[i + 1..end].trim();
                if inner == "*" {
                    return Err(unsupported("wildcards ([*])"));
                }
                if let Some(q) = inner.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')) {
                    out.push(Step::Key(q.to_string()));
                } else {
                    let n: usize = inner.parse().map_err(|_| unsupported("this bracket expression"))?;
                    out.push(Step::Index(n));
                }
                i = end + 1;
            }
            _ => {
                let end = path[i..].find(['.', '[']).map_or(path.len(), |e| e + i);
                let key = &path[i..end];
                if key == "*" {
                    return Err(unsupported("wildcards (*)"));
                }
                out.push(Step::Key(key.to_string()));
                i = end;
            }
        }
    }
    Ok(out)
}

pub fn select(root: &JRef, path: &str) -> Result<Option<JRef>, EvalError> {
    let mut cur = root.clone();
    for s in parse(path)? {
        let next = match s {
            Step::Key(k) => cur.get(&k),
            Step::Index(n) => cur.at(n),
        };
        match next {
            Some(n) => cur = n,
            None => return Ok(None),
        }
    }
    Ok(Some(cur))
}
