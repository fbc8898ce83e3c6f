//! `System.Array` (its static helpers and the members every `T[]` has) and `System.Random`
//! without a seed. Arrays made with `new` are shared, fixed-size collections
//! (`CollKind::Array`); the `string[]` that `Split` and header values give is immutable
//! here, so the helpers that write into an array fail on it, saying so (its static type
//! `string[]` is shared with `new[] { "a" }`, which they do write into).
//!
//! `new Random(seed)` is refused at load: .NET's seeded sequence (its subtractive
//! generator) is part of the observable result and ringgate does not reproduce it. An
//! unseeded `Random` is only a source of uniform numbers, which is what runs here.

use std::sync::Arc;

use super::compile::err;
use super::eval::{equals, fail, int_arg, Eval};
use super::value::{CollKind, Ty, Value};
use super::{EvalError, ExprError};

/// `Array.*` statics: (id, min args, max args, result).
static STATICS: &[(&str, usize, usize, Ty)] = &[
    ("Array.IndexOf", 2, 4, Ty::Int),
    ("Array.LastIndexOf", 2, 2, Ty::Int),
    ("Array.Exists", 2, 2, Ty::Bool),
    ("Array.TrueForAll", 2, 2, Ty::Bool),
    ("Array.Find", 2, 2, Ty::Any),
    ("Array.FindLast", 2, 2, Ty::Any),
    ("Array.FindIndex", 2, 2, Ty::Int),
    ("Array.FindLastIndex", 2, 2, Ty::Int),
    ("Array.FindAll", 2, 2, Ty::List),
    ("Array.ConvertAll", 2, 2, Ty::List),
    ("Array.ForEach", 2, 2, Ty::Null),
    ("Array.Sort", 1, 1, Ty::Null),
    ("Array.Reverse", 1, 1, Ty::Null),
    ("Array.Clear", 1, 3, Ty::Null),
    ("Array.Copy", 3, 5, Ty::Null),
    ("Array.BinarySearch", 2, 2, Ty::Int),
];

/// Load-time check of `Array.name(args)`; `None` when `ty` is not `Array`.
pub fn check_static(ty: &str, name: &str, tys: &[Ty], pos: usize) -> Option<Result<(&'static str, Ty), ExprError>> {
    if ty != "Array" {
        return None;
    }
    Some((|| {
        if name == "Resize" {
            return err(pos, "Array.Resize is not yet supported by ringgate (it takes the array by ref; build a new array with ToArray() or a List<T>)");
        }
        if name == "Empty" {
            return err(pos, "Array.Empty needs a type argument, as in Array.Empty<string>()");
        }
        let Some(&(n, min, max, ret)) = STATICS.iter().find(|s| s.0.strip_prefix("Array.") == Some(name)) else {
            return err(pos, format!("Array.{name} is not yet supported by ringgate"));
        };
        let k = tys.len();
        if k < min || k > max {
            return err(
                pos,
                format!("no overload of Array.{name} takes {k} argument(s) (ringgate runs {min} to {max})"),
            );
        }
        if k == 4 && name == "Copy" {
            return err(pos, "no overload of Array.Copy takes 4 arguments");
        }
        if k == 2 && name == "Clear" {
            return err(pos, "no overload of Array.Clear takes 2 arguments");
        }
        Ok((n, ret))
    })())
}

/// Members of arrays (`Rank`, `GetLength`, …) and of `Random`: (id, min, max, result).
pub fn method(on: Ty, name: &str) -> Option<(&'static str, usize, usize, Ty)> {
    let arr = matches!(on, Ty::List | Ty::Array);
    Some(match name {
        "GetLength" | "GetUpperBound" | "GetLowerBound" if arr => (pick(name), 1, 1, Ty::Int),
        "GetValue" if arr => ("GetValue", 1, 1, Ty::Any),
        "SetValue" if on == Ty::List => ("SetValue", 2, 2, Ty::Null),
        "Clone" if arr => ("Clone", 0, 0, Ty::Any),
        "CopyTo" if arr => ("CopyTo", 1, 2, Ty::Null),
        "Next" if on == Ty::Random => ("Next", 0, 2, Ty::Int),
        "NextDouble" if on == Ty::Random => ("NextDouble", 0, 0, Ty::Double),
        _ => return None,
    })
}

fn pick(name: &str) -> &'static str {
    match name {
        "GetLength" => "GetLength",
        "GetUpperBound" => "GetUpperBound",
        _ => "GetLowerBound",
    }
}

/// The refusal of a `Random` member not run here.
pub fn refuse_random(name: &str, pos: usize) -> ExprError {
    let why = match name {
        "NextBytes" => " (byte[] values are immutable in ringgate; draw bytes with Next(256))",
        _ => "",
    };
    ExprError::new(pos, format!("System.Random.{name} is not yet supported by ringgate{why}"))
}

/// Properties of arrays: `Rank`, `LongLength`.
pub fn prop(on: Ty, name: &str) -> Option<(&'static str, Ty)> {
    match (on, name) {
        (Ty::List | Ty::Array, "Rank") => Some(("Rank", Ty::Int)),
        (Ty::List | Ty::Array, "LongLength") => Some(("LongLength", Ty::Long)),
        _ => None,
    }
}

/// `new Random(…)`: the kind, or the refusal of a seed.
pub fn check_new(n: usize, pos: usize) -> Result<&'static str, ExprError> {
    if n == 0 {
        return Ok("Random");
    }
    err(pos, "new Random(seed) is refused by ringgate: .NET's seeded sequence cannot be reproduced (use new Random() without a seed)")
}

fn not_array(v: &Value, param: &str) -> EvalError {
    match v {
        Value::Array(_) => EvalError::new(format!(
            "writing into the string[] that Split or a header gives is not yet supported by ringgate (parameter '{param}'; copy it with ToArray() first)"
        )),
        Value::Null => EvalError::of("ArgumentNullException", format!("Value cannot be null. (Parameter '{param}')")),
        other => EvalError::of("InvalidCastException", format!("an array is needed, found {}", other.type_name())),
    }
}

/// The items of an array argument (a `T[]` made with `new`, or a `string[]`).
fn items(v: &Value, param: &str) -> Result<(Vec<Value>, &'static str), EvalError> {
    match v {
        Value::Array(a) => Ok((a.to_vec(), "System.String")),
        Value::List(c) if c.kind == CollKind::Array => Ok((c.lock().clone(), c.elem)),
        other => Err(not_array(other, param)),
    }
}

/// `default(T)` for an element type's .NET name.
fn default_of(elem: &str) -> Value {
    match elem {
        "System.Int32" | "System.Int64" => Value::Int(0),
        "System.Double" => Value::Double(0.0),
        "System.Boolean" => Value::Bool(false),
        "System.Char" => Value::Char('\0'),
        _ => Value::Null,
    }
}

fn count(n: usize) -> Value {
    Value::Int(i64::try_from(n).unwrap_or(i64::MAX))
}

fn range_err(param: &str) -> EvalError {
    EvalError::of(
        "ArgumentOutOfRangeException",
        format!("Index was out of range. Must be non-negative and less than the size of the collection. (Parameter '{param}')"),
    )
}

fn index_arg(v: &Value, len: usize, param: &str) -> Result<usize, EvalError> {
    usize::try_from(int_arg(v)?).ok().filter(|i| *i <= len).ok_or_else(|| range_err(param))
}

/// `Array.name(args)` at runtime.
pub fn static_call(ev: &mut Eval<'_, '_>, id: &str, args: &[Value]) -> Option<Result<Value, EvalError>> {
    let name = id.strip_prefix("Array.")?;
    Some(array_static(ev, name, args))
}

fn pred(ev: &mut Eval<'_, '_>, f: &Value, x: &Value) -> Result<bool, EvalError> {
    match ev.apply(f, std::slice::from_ref(x))? {
        Value::Bool(b) => Ok(b),
        other => fail(format!("the predicate returned {}, not a bool", other.type_name())),
    }
}

fn array_static(ev: &mut Eval<'_, '_>, name: &str, args: &[Value]) -> Result<Value, EvalError> {
    let a = |i: usize| args.get(i).unwrap_or(&Value::Null);
    if let Some(f) = args.get(1).filter(|_| {
        matches!(
            name,
            "Exists"
                | "TrueForAll"
                | "Find"
                | "FindLast"
                | "FindIndex"
                | "FindLastIndex"
                | "FindAll"
                | "ConvertAll"
                | "ForEach"
        )
    }) {
        if f.is_null() {
            let p = if name == "ConvertAll" {
                "converter"
            } else if name == "ForEach" {
                "action"
            } else {
                "match"
            };
            return Err(EvalError::of("ArgumentNullException", format!("Value cannot be null. (Parameter '{p}')")));
        }
    }
    match name {
        "IndexOf" | "LastIndexOf" | "BinarySearch" => {
            let (xs, _) = items(a(0), "array")?;
            let start = match args.get(2) {
                Some(v) => index_arg(v, xs.len(), "startIndex")?,
                None => 0,
            };
            let end = match args.get(3) {
                Some(v) => {
                    let n = index_arg(v, xs.len() - start, "count")?;
                    start + n
                }
                None => xs.len(),
            };
            let hit = |x: &Value| equals(x, a(1));
            let found = match name {
                "LastIndexOf" => xs.iter().rposition(hit),
                "BinarySearch" => {
                    // The array must be sorted (as .NET requires); the result is the index
                    // found, or the bitwise complement of where the value would go.
                    let r = xs.binary_search_by(|x| super::linq::compare(x, a(1)));
                    return Ok(Value::Int(match r {
                        Ok(i) => i64::try_from(i).unwrap_or(i64::MAX),
                        Err(i) => !i64::try_from(i).unwrap_or(i64::MAX),
                    }));
                }
                _ => xs[start..end].iter().position(hit).map(|i| i + start),
            };
            Ok(found.map_or(Value::Int(-1), count))
        }
        "Exists" | "TrueForAll" => {
            let (xs, _) = items(a(0), "array")?;
            let all = name == "TrueForAll";
            for x in &xs {
                if pred(ev, a(1), x)? != all {
                    return Ok(Value::Bool(!all));
                }
            }
            Ok(Value::Bool(all))
        }
        "Find" | "FindLast" | "FindIndex" | "FindLastIndex" => {
            let (xs, elem) = items(a(0), "array")?;
            let last = name.starts_with("FindLast");
            let order: Vec<usize> = if last { (0..xs.len()).rev().collect() } else { (0..xs.len()).collect() };
            for i in order {
                if pred(ev, a(1), &xs[i])? {
                    return Ok(if name.ends_with("Index") { count(i) } else { xs[i].clone() });
                }
            }
            Ok(if name.ends_with("Index") { Value::Int(-1) } else { default_of(elem) })
        }
        "FindAll" => {
            let (xs, elem) = items(a(0), "array")?;
            let mut out = Vec::new();
            for x in xs {
                if pred(ev, a(1), &x)? {
                    out.push(x);
                }
            }
            ev.budget.alloc(16 * out.len())?;
            Ok(Value::list(CollKind::Array, elem, out))
        }
        "ConvertAll" => {
            let (xs, _) = items(a(0), "array")?;
            let mut out = Vec::with_capacity(xs.len());
            for x in &xs {
                out.push(ev.apply(a(1), std::slice::from_ref(x))?);
            }
            ev.budget.alloc(16 * out.len())?;
            let elem = match out.first() {
                Some(Value::Int(_)) => "System.Int32",
                Some(Value::Str(_)) => "System.String",
                Some(Value::Double(_)) => "System.Double",
                Some(Value::Bool(_)) => "System.Boolean",
                _ => "System.Object",
            };
            Ok(Value::list(CollKind::Array, elem, out))
        }
        "ForEach" => {
            let (xs, _) = items(a(0), "array")?;
            for x in &xs {
                ev.apply(a(1), std::slice::from_ref(x))?;
            }
            Ok(Value::Null)
        }
        "Sort" | "Reverse" | "Clear" => {
            let Value::List(c) = a(0) else { return Err(not_array(a(0), "array")) };
            if c.kind != CollKind::Array {
                return Err(not_array(a(0), "array"));
            }
            let elem = c.elem;
            let mut xs = c.lock();
            match name {
                "Sort" => super::linq::sort(&mut xs),
                "Reverse" => xs.reverse(),
                _ => {
                    let (start, n) = match (args.get(1), args.get(2)) {
                        (Some(i), Some(n)) => {
                            let (i, n) = (int_arg(i)?, int_arg(n)?);
                            let len = i64::try_from(xs.len()).unwrap_or(i64::MAX);
                            if i < 0 || n < 0 || i + n > len {
                                return Err(EvalError::of(
                                    "IndexOutOfRangeException",
                                    "Index was outside the bounds of the array.",
                                ));
                            }
                            (usize::try_from(i).unwrap_or(0), usize::try_from(n).unwrap_or(0))
                        }
                        _ => (0, xs.len()),
                    };
                    for x in xs.iter_mut().skip(start).take(n) {
                        *x = default_of(elem);
                    }
                }
            }
            Ok(Value::Null)
        }
        "Copy" => {
            let (src, (si, dst_v, di, n)) = if args.len() == 5 {
                (a(0), (int_arg(a(1))?, a(2), int_arg(a(3))?, int_arg(a(4))?))
            } else {
                (a(0), (0, a(1), 0, int_arg(a(2))?))
            };
            let (xs, _) = items(src, "sourceArray")?;
            copy_into(&xs, si, dst_v, di, n)
        }
        other => fail(format!("Array.{other} is not yet supported by ringgate")),
    }
}

fn copy_into(xs: &[Value], si: i64, dst_v: &Value, di: i64, n: i64) -> Result<Value, EvalError> {
    let Value::List(dst) = dst_v else { return Err(not_array(dst_v, "destinationArray")) };
    if dst.kind != CollKind::Array {
        return Err(not_array(dst_v, "destinationArray"));
    }
    if si < 0 || di < 0 || n < 0 {
        return Err(EvalError::of("ArgumentOutOfRangeException", "Non-negative number required."));
    }
    let (si, di, n) = (
        usize::try_from(si).unwrap_or(usize::MAX),
        usize::try_from(di).unwrap_or(usize::MAX),
        usize::try_from(n).unwrap_or(usize::MAX),
    );
    let mut out = dst.lock();
    if si.saturating_add(n) > xs.len() || di.saturating_add(n) > out.len() {
        return Err(EvalError::of(
            "ArgumentException",
            "Destination array was not long enough. Check the destination index, length, and the array's lower bounds.",
        ));
    }
    out[di..di + n].clone_from_slice(&xs[si..si + n]);
    Ok(Value::Null)
}

/// Array members and `Random` members at runtime; `None` when `recv` is neither.
pub fn invoke(ev: &mut Eval<'_, '_>, name: &str, recv: &Value, args: &[Value]) -> Option<Result<Value, EvalError>> {
    match recv {
        Value::Random(_) if matches!(name, "Next" | "NextDouble") => Some(random(name, args)),
        Value::Array(_) => array_member(ev, name, recv, args),
        Value::List(c) if c.kind == CollKind::Array => array_member(ev, name, recv, args),
        Value::List(_)
            if matches!(name, "GetLength" | "GetUpperBound" | "GetLowerBound" | "GetValue" | "SetValue" | "Clone") =>
        {
            Some(fail(format!("List<T> has no member {name} (it is a member of arrays)")))
        }
        _ => None,
    }
}

fn array_member(ev: &mut Eval<'_, '_>, name: &str, recv: &Value, args: &[Value]) -> Option<Result<Value, EvalError>> {
    if !matches!(name, "GetLength" | "GetUpperBound" | "GetLowerBound" | "GetValue" | "SetValue" | "Clone" | "CopyTo") {
        return None;
    }
    let a = |i: usize| args.get(i).unwrap_or(&Value::Null);
    Some((|| {
        let (xs, elem) = items(recv, "array")?;
        match name {
            "GetLength" | "GetUpperBound" | "GetLowerBound" => {
                if int_arg(a(0))? != 0 {
                    return Err(EvalError::of(
                        "IndexOutOfRangeException",
                        "Index was outside the bounds of the array.",
                    ));
                }
                Ok(match name {
                    "GetLength" => count(xs.len()),
                    "GetUpperBound" => Value::Int(i64::try_from(xs.len()).unwrap_or(i64::MAX) - 1),
                    _ => Value::Int(0),
                })
            }
            "GetValue" => usize::try_from(int_arg(a(0))?)
                .ok()
                .and_then(|i| xs.get(i).cloned())
                .ok_or_else(|| EvalError::of("IndexOutOfRangeException", "Index was outside the bounds of the array.")),
            "SetValue" => {
                let Value::List(c) = recv else { return fail("SetValue needs an array") };
                let mut items = c.lock();
                let slot = usize::try_from(int_arg(a(1))?).ok().and_then(|i| items.get_mut(i)).ok_or_else(|| {
                    EvalError::of("IndexOutOfRangeException", "Index was outside the bounds of the array.")
                })?;
                *slot = a(0).clone();
                Ok(Value::Null)
            }
            "Clone" => {
                ev.budget.alloc(16 * xs.len())?;
                Ok(match recv {
                    Value::Array(a) => Value::Array(a.clone()),
                    _ => Value::list(CollKind::Array, elem, xs),
                })
            }
            "CopyTo" => {
                let di = match args.get(1) {
                    Some(v) => int_arg(v)?,
                    None => 0,
                };
                let n = i64::try_from(xs.len()).unwrap_or(i64::MAX);
                copy_into(&xs, 0, a(0), di, n)
            }
            other => fail(format!("{other} is not a member of arrays in ringgate")),
        }
    })())
}

/// Array properties at runtime.
pub fn get(name: &str, recv: &Value) -> Option<Result<Value, EvalError>> {
    let n = match recv {
        Value::Array(a) => a.len(),
        Value::List(c) if c.kind == CollKind::Array => c.lock().len(),
        Value::List(_) if matches!(name, "Rank" | "LongLength") => {
            return Some(fail(format!("List<T> has no member {name} (it is a member of arrays)")))
        }
        _ => return None,
    };
    match name {
        "Rank" => Some(Ok(Value::Int(1))),
        "LongLength" => Some(Ok(count(n))),
        _ => None,
    }
}

fn random(name: &str, args: &[Value]) -> Result<Value, EvalError> {
    let arg = |i: usize| args.get(i).map(int_arg).transpose();
    match (name, args.len()) {
        ("Next", 0) => Ok(Value::Int(i64::from(fastrand::i32(0..i32::MAX)))),
        ("Next", 1) => {
            let max = arg(0)?.unwrap_or(0);
            if max < 0 {
                return Err(EvalError::of(
                    "ArgumentOutOfRangeException",
                    "'maxValue' must be greater than zero. (Parameter 'maxValue')",
                ));
            }
            Ok(Value::Int(if max == 0 { 0 } else { fastrand::i64(0..max) }))
        }
        ("Next", 2) => {
            let (min, max) = (arg(0)?.unwrap_or(0), arg(1)?.unwrap_or(0));
            if min > max {
                return Err(EvalError::of(
                    "ArgumentOutOfRangeException",
                    "'minValue' cannot be greater than maxValue. (Parameter 'minValue')",
                ));
            }
            Ok(Value::Int(if min == max { min } else { fastrand::i64(min..max) }))
        }
        ("NextDouble", 0) => Ok(Value::Double(fastrand::f64())),
        _ => fail(format!("System.Random.{name} is not yet supported by ringgate")),
    }
}

/// `new Random()` at runtime.
pub fn construct() -> Value {
    Value::Random(Arc::new(()))
}
