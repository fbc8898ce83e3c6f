//! Runtime values of policy expressions and their static types.
//!
//! Strings are `Arc<str>` so constants in the compiled program are shared, not copied, each
//! time they are evaluated; everything is `Send` so compiled plans can travel to workers.

use std::fmt::Write as _;
use std::sync::Arc;

use super::jwt::{Basic, Jwt};

#[derive(Clone, Debug)]
pub enum Value {
    Null,
    Bool(bool),
    /// C# `int` and `long` (one 64-bit integer).
    Int(i64),
    Double(f64),
    Str(Arc<str>),
    Bytes(Arc<[u8]>),
    /// `string[]` from `Split`.
    Array(Arc<[Value]>),
    /// A Newtonsoft `JToken` (`Body.As<JObject>()`).
    Json(Arc<serde_json::Value>),
    Jwt(Arc<Jwt>),
    /// `jwt.Claims` (a dictionary of claim name → string values).
    Claims(Arc<Jwt>),
    Basic(Arc<Basic>),
}

/// Static types, as far as they are known at load time (`Any` defers the check to runtime).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    Any,
    Null,
    Bool,
    Int,
    Double,
    Str,
    Bytes,
    Array,
    Json,
    Jwt,
    Claims,
    Basic,
}

impl Ty {
    pub fn name(self) -> &'static str {
        match self {
            Ty::Any => "object",
            Ty::Null => "null",
            Ty::Bool => "bool",
            Ty::Int => "int",
            Ty::Double => "double",
            Ty::Str => "string",
            Ty::Bytes => "byte[]",
            Ty::Array => "string[]",
            Ty::Json => "JToken",
            Ty::Jwt => "Jwt",
            Ty::Claims => "claims",
            Ty::Basic => "BasicAuthCredentials",
        }
    }
    pub fn numeric(self) -> bool {
        matches!(self, Ty::Int | Ty::Double)
    }
}

impl Value {
    pub fn str(s: &str) -> Value {
        Value::Str(Arc::from(s))
    }

    pub fn ty(&self) -> Ty {
        match self {
            Value::Null => Ty::Null,
            Value::Bool(_) => Ty::Bool,
            Value::Int(_) => Ty::Int,
            Value::Double(_) => Ty::Double,
            Value::Str(_) => Ty::Str,
            Value::Bytes(_) => Ty::Bytes,
            Value::Array(_) => Ty::Array,
            Value::Json(_) => Ty::Json,
            Value::Jwt(_) => Ty::Jwt,
            Value::Claims(_) => Ty::Claims,
            Value::Basic(_) => Ty::Basic,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// C# `ToString()` (and string concatenation, where null is "").
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        self.write_text(&mut s);
        s
    }

    pub fn write_text(&self, out: &mut String) {
        match self {
            Value::Null => {}
            Value::Bool(true) => out.push_str("True"),
            Value::Bool(false) => out.push_str("False"),
            Value::Int(n) => {
                let _ = write!(out, "{n}");
            }
            Value::Double(d) => write_double(out, *d),
            Value::Str(s) => out.push_str(s),
            Value::Bytes(_) => out.push_str("System.Byte[]"),
            Value::Array(_) => out.push_str("System.String[]"),
            Value::Json(j) => match &**j {
                serde_json::Value::String(s) => out.push_str(s),
                serde_json::Value::Null => {}
                serde_json::Value::Bool(b) => out.push_str(if *b { "True" } else { "False" }),
                other => {
                    let _ = write!(out, "{}", serde_json::to_string_pretty(other).unwrap_or_default());
                }
            },
            Value::Jwt(_) => out.push_str("Jwt"),
            Value::Claims(_) => out.push_str("Claims"),
            Value::Basic(_) => out.push_str("BasicAuthCredentials"),
        }
    }

    /// The value as a string slice when it is one (no allocation).
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(n) => Some(*n as f64),
            Value::Double(d) => Some(*d),
            Value::Json(j) => j.as_f64(),
            _ => None,
        }
    }
}

fn write_double(out: &mut String, d: f64) {
    if d.fract() == 0.0 && d.abs() < 1e15 {
        let _ = write!(out, "{}", d as i64);
    } else {
        let _ = write!(out, "{d}");
    }
}

/// Converts a JSON value to the nearest expression value (scalars unwrap, containers stay JSON).
pub fn from_json(j: &serde_json::Value) -> Value {
    match j {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Double(n.as_f64().unwrap_or(0.0)),
        },
        serde_json::Value::String(s) => Value::str(s),
        other => Value::Json(Arc::new(other.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_forms() {
        assert_eq!(Value::Bool(true).to_text(), "True");
        assert_eq!(Value::Double(2.0).to_text(), "2");
        assert_eq!(Value::Double(2.5).to_text(), "2.5");
        assert_eq!(Value::Null.to_text(), "");
        assert_eq!(from_json(&serde_json::json!({"a":1})).to_text(), "{\n  \"a\": 1\n}");
    }
}
