//! Helpers to walk a parsed JSON value by hand, collecting every problem with its JSON path.
//!
//! Walking the value (rather than deriving serde) is what lets the loader report *all*
//! problems at once, each at an exact path, and warn about unknown fields instead of failing.

use std::collections::HashSet;

use simd_json::{OwnedValue as Value, StaticNode};

use super::error::{Problem, Warning};

/// The JSON object type simd-json produces.
pub(crate) type Object = simd_json::owned::Object;

/// Accumulates problems and warnings during one load.
#[derive(Default)]
pub(crate) struct Ctx {
    pub problems: Vec<Problem>,
    pub warnings: Vec<Warning>,
    unknown_seen: HashSet<String>,
}

/// A JSON type name, as used in "expected a string, found a number".
pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Static(StaticNode::Null) => "null",
        Value::Static(StaticNode::Bool(_)) => "a boolean",
        Value::Static(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `parent.key`, or `key` at the top level.
pub(crate) fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() || parent == "$" {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

/// `parent[i]`.
pub(crate) fn index(parent: &str, i: usize) -> String {
    format!("{parent}[{i}]")
}

impl Ctx {
    pub fn problem(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem::new(path, message));
    }

    pub fn warn(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.warnings.push(Warning { path: path.into(), message: message.into() });
    }

    fn type_problem(&mut self, path: &str, expected: &str, v: &Value) {
        self.problem(path, format!("expected {expected}, found {}", kind(v)));
    }

    /// Views `v` as an object with the given known field names; unknown fields are warned
    /// about once per distinct name (in sorted order, so the output is deterministic).
    pub fn fields<'v>(&mut self, v: &'v Value, path: &str, known: &[&str]) -> Option<Fields<'v>> {
        let Value::Object(obj) = v else {
            self.type_problem(path, "an object", v);
            return None;
        };
        let mut unknown: Vec<&str> = obj.keys().map(String::as_str).filter(|k| !known.contains(k)).collect();
        unknown.sort_unstable();
        for k in unknown {
            if self.unknown_seen.insert(k.to_string()) {
                self.warn(join(path, k), format!("unknown field '{k}' ignored"));
            }
        }
        Some(Fields { obj, path: path.to_string() })
    }

    /// A string value, or a problem.
    pub fn string(&mut self, v: &Value, path: &str) -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            _ => {
                self.type_problem(path, "a string", v);
                None
            }
        }
    }

    /// An array value, or a problem (and an empty slice).
    pub fn array<'v>(&mut self, v: &'v Value, path: &str) -> &'v [Value] {
        match v {
            Value::Array(a) => a.as_slice(),
            _ => {
                self.type_problem(path, "an array", v);
                &[]
            }
        }
    }
}

/// An object being walked, with its path.
pub(crate) struct Fields<'v> {
    pub obj: &'v Object,
    pub path: String,
}

impl<'v> Fields<'v> {
    /// The path of one of this object's fields.
    pub fn at(&self, key: &str) -> String {
        join(&self.path, key)
    }

    /// The field's value; `null` counts as absent (lenient for optional fields).
    pub fn get(&self, key: &str) -> Option<&'v Value> {
        match self.obj.get(key) {
            Some(Value::Static(StaticNode::Null)) | None => None,
            Some(v) => Some(v),
        }
    }

    pub fn req_str(&self, ctx: &mut Ctx, key: &str) -> Option<String> {
        match self.obj.get(key) {
            None => {
                ctx.problem(self.at(key), "required field missing");
                None
            }
            Some(v) => ctx.string(v, &self.at(key)),
        }
    }

    pub fn opt_str(&self, ctx: &mut Ctx, key: &str) -> Option<String> {
        self.get(key).and_then(|v| ctx.string(v, &self.at(key)))
    }

    pub fn bool(&self, ctx: &mut Ctx, key: &str, default: bool) -> bool {
        match self.get(key) {
            None => default,
            Some(Value::Static(StaticNode::Bool(b))) => *b,
            Some(v) => {
                ctx.type_problem(&self.at(key), "a boolean", v);
                default
            }
        }
    }

    /// A non-negative integer no larger than `max`.
    pub fn opt_uint(&self, ctx: &mut Ctx, key: &str, max: u64) -> Option<u64> {
        let v = self.get(key)?;
        let n = match v {
            Value::Static(StaticNode::U64(n)) => Some(*n),
            Value::Static(StaticNode::I64(n)) => u64::try_from(*n).ok(),
            _ => {
                ctx.type_problem(&self.at(key), "a non-negative integer", v);
                return None;
            }
        };
        match n {
            Some(n) if n <= max => Some(n),
            _ => {
                ctx.problem(self.at(key), format!("must be an integer from 0 to {max}"));
                None
            }
        }
    }

    /// The array under `key`; absent is empty.
    pub fn array(&self, ctx: &mut Ctx, key: &str) -> &'v [Value] {
        match self.get(key) {
            None => &[],
            Some(v) => ctx.array(v, &self.at(key)),
        }
    }

    /// An array of strings (each element checked), absent is `None`.
    pub fn opt_str_list(&self, ctx: &mut Ctx, key: &str) -> Option<Vec<String>> {
        let v = self.get(key)?;
        let path = self.at(key);
        let items = ctx.array(v, &path);
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            if let Some(s) = ctx.string(item, &index(&path, i)) {
                out.push(s);
            }
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Value {
        let mut b = s.as_bytes().to_vec();
        simd_json::to_owned_value(&mut b).unwrap()
    }

    #[test]
    fn wrong_types_and_missing_fields_have_paths() {
        let v = parse(r#"{"a": "x", "b": 3, "zz": 1, "yy": 2}"#);
        let mut ctx = Ctx::default();
        let f = ctx.fields(&v, "apis[0]", &["a", "b", "c"]).unwrap();
        assert!(f.bool(&mut ctx, "a", true), "wrong type keeps the default");
        assert_eq!(f.req_str(&mut ctx, "c"), None);
        assert_eq!(f.opt_uint(&mut ctx, "b", 2), None);
        let msgs: Vec<String> = ctx.problems.iter().map(|p| p.to_string()).collect();
        assert_eq!(
            msgs,
            [
                "apis[0].a: expected a boolean, found a string",
                "apis[0].c: required field missing",
                "apis[0].b: must be an integer from 0 to 2",
            ]
        );
        let w: Vec<&str> = ctx.warnings.iter().map(|w| w.path.as_str()).collect();
        assert_eq!(w, ["apis[0].yy", "apis[0].zz"]);
    }

    #[test]
    fn unknown_field_warned_once_per_name() {
        let v = parse(r#"[{"x": 1}, {"x": 2}]"#);
        let mut ctx = Ctx::default();
        for (i, item) in ctx.array(&v, "apis").iter().enumerate() {
            ctx.fields(item, &index("apis", i), &[]);
        }
        assert_eq!(ctx.warnings.len(), 1);
        assert_eq!(ctx.warnings[0].path, "apis[0].x");
    }
}
