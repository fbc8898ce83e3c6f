//! `context.Request.Headers` / `context.Response.Headers` as the dictionary APIM models
//! (`IReadOnlyDictionary<string, string[]>`, case-insensitive keys): enumerated with
//! `foreach` and LINQ, `Keys`, `Count`, and `TryGetValue(name, out string[] values)`.
//! Lookups by name (`GetValueOrDefault`, `ContainsKey`, `["x"]`) are direct nodes
//! (`Expr::Header*`) and do not build the dictionary.

use std::sync::{Arc, Mutex};

use super::eval::Eval;
use super::value::{Dict, Value};
use super::EvalError;

pub const REQUEST: &str = "context.Request.Headers";
pub const RESPONSE: &str = "context.Response.Headers";
pub const REQUEST_TRY: &str = "context.Request.Headers.TryGetValue";
pub const RESPONSE_TRY: &str = "context.Response.Headers.TryGetValue";

/// A header's values as `string[]` (split at commas, as `Headers["x"]` gives them).
fn values(v: &str) -> Value {
    Value::Array(v.split(',').map(|s| Value::str(s.trim())).collect::<Vec<_>>().into())
}

fn no_response() -> EvalError {
    EvalError::of(
        "NullReferenceException",
        "Object reference not set to an instance of an object (context.Response before the backend answered).",
    )
}

/// The dictionary of every header of the message.
fn dictionary(ev: &mut Eval<'_, '_>, response: bool) -> Result<Value, EvalError> {
    if response && ev.ctx.response.is_none() {
        return Err(no_response());
    }
    let list = if response { ev.ctx.response_header_list() } else { ev.ctx.request_header_list() };
    let what = if response { RESPONSE } else { REQUEST };
    let list = list.ok_or_else(|| {
        EvalError::new(format!(
            "enumerating {what} (foreach, LINQ, Keys, Count) is not yet supported by ringgate: this gateway's message view does not list headers"
        ))
    })?;
    ev.budget.alloc(list.iter().map(|(n, v)| 48 + n.len() + v.len()).sum())?;
    let entries = list.iter().map(|(n, v)| (Value::str(n), values(v))).collect();
    Ok(Value::Dict(Arc::new(Dict { ignore_case: true, entries: Mutex::new(entries) })))
}

/// `TryGetValue(name, out values)`: (found, values) for the `out` argument.
fn try_get(ev: &mut Eval<'_, '_>, response: bool, name: &Value) -> Result<Value, EvalError> {
    if response && ev.ctx.response.is_none() {
        return Err(no_response());
    }
    let lower = match name {
        Value::Null => return Err(EvalError::of("ArgumentNullException", "Value cannot be null. (Parameter 'key')")),
        n => n.to_text().to_ascii_lowercase(),
    };
    let found = if response { ev.ctx.response_header(&lower) } else { ev.ctx.request_header(&lower) };
    Ok(Value::Pair(Arc::new(match found {
        Some(v) => (Value::Bool(true), values(&v)),
        None => (Value::Bool(false), Value::Null),
    })))
}

/// The static-call ids above, at runtime.
pub fn call(ev: &mut Eval<'_, '_>, id: &str, args: &[Value]) -> Option<Result<Value, EvalError>> {
    let a0 = args.first().unwrap_or(&Value::Null);
    Some(match id {
        REQUEST => dictionary(ev, false),
        RESPONSE => dictionary(ev, true),
        REQUEST_TRY => try_get(ev, false, a0),
        RESPONSE_TRY => try_get(ev, true, a0),
        _ => return None,
    })
}
