//! `System.Linq.Enumerable` over every enumerable value (arrays, lists, sets, dictionaries,
//! JSON arrays and objects, strings, groupings). Evaluation is eager: each operator builds
//! its result list, charging one step per item visited and memory per item kept.

use std::cmp::Ordering;
use std::sync::Arc;

use super::eval::{equals, fail, truthy, Eval};
use super::json::JKind;
use super::value::{CollKind, Dict, Ty, Value};
use super::EvalError;

/// "The element type" (see members.rs).
const ELEM: Ty = Ty::Group;

/// The operators: (id, min args, max args, result type).
pub fn signature(name: &str) -> Option<(&'static str, usize, usize, Ty)> {
    const OPS: &[(&str, usize, usize, Ty)] = &[
        ("Where", 1, 1, Ty::List),
        ("Select", 1, 1, Ty::List),
        ("SelectMany", 1, 1, Ty::List),
        ("Any", 0, 1, Ty::Bool),
        ("All", 1, 1, Ty::Bool),
        ("First", 0, 1, ELEM),
        ("FirstOrDefault", 0, 1, ELEM),
        ("Last", 0, 1, ELEM),
        ("LastOrDefault", 0, 1, ELEM),
        ("Single", 0, 1, ELEM),
        ("SingleOrDefault", 0, 1, ELEM),
        ("ElementAt", 1, 1, ELEM),
        ("ElementAtOrDefault", 1, 1, ELEM),
        ("Count", 0, 1, Ty::Int),
        ("LongCount", 0, 1, Ty::Long),
        ("OrderBy", 1, 1, Ty::List),
        ("OrderByDescending", 1, 1, Ty::List),
        ("ThenBy", 1, 1, Ty::List),
        ("ThenByDescending", 1, 1, Ty::List),
        ("GroupBy", 1, 2, Ty::List),
        ("Distinct", 0, 0, Ty::List),
        ("Skip", 1, 1, Ty::List),
        ("Take", 1, 1, Ty::List),
        ("SkipWhile", 1, 1, Ty::List),
        ("TakeWhile", 1, 1, Ty::List),
        ("ToArray", 0, 0, Ty::List),
        ("ToList", 0, 0, Ty::List),
        ("ToHashSet", 0, 0, Ty::List),
        ("ToDictionary", 1, 2, Ty::Dict),
        ("Aggregate", 1, 2, Ty::Any),
        ("Sum", 0, 1, Ty::Any),
        ("Min", 0, 1, Ty::Any),
        ("Max", 0, 1, Ty::Any),
        ("Average", 0, 1, Ty::Double),
        ("Contains", 1, 1, Ty::Bool),
        ("Concat", 1, 1, Ty::List),
        ("Union", 1, 1, Ty::List),
        ("Intersect", 1, 1, Ty::List),
        ("Except", 1, 1, Ty::List),
        ("Zip", 2, 2, Ty::List),
        ("Reverse", 0, 0, Ty::List),
        ("SequenceEqual", 1, 1, Ty::Bool),
        ("DefaultIfEmpty", 0, 1, Ty::List),
        ("Cast", 0, 0, Ty::List),
        ("OfType", 0, 0, Ty::List),
    ];
    OPS.iter().find(|o| o.0 == name).map(|o| (o.0, o.1, o.2, o.3))
}

/// The items of an enumerable value.
pub fn items(v: &Value) -> Result<Vec<Value>, EvalError> {
    Ok(match v {
        Value::Array(a) => a.to_vec(),
        Value::List(c) => c.lock().clone(),
        Value::Dict(d) => d.lock().iter().map(|(k, v)| Value::Pair(Arc::new((k.clone(), v.clone())))).collect(),
        Value::Group(g) => g.1.clone(),
        Value::Str(s) => s.chars().map(Value::Char).collect(),
        Value::Bytes(b) => b.iter().map(|x| Value::Int(i64::from(*x))).collect(),
        Value::Json(j) => {
            if j.is_object() {
                j.keys().into_iter().map(|k| Value::Pair(Arc::new((Value::Json(j.clone()), Value::Str(k))))).collect()
            } else if j.is_array() {
                j.items().into_iter().map(Value::Json).collect()
            } else {
                return fail(format!("Cannot access child value on {}.", j.kind_name()));
            }
        }
        Value::Claims(j) => j
            .claims
            .iter()
            .map(|(n, v)| {
                Value::Pair(Arc::new((
                    Value::str(n),
                    Value::Array(v.iter().map(|x| Value::str(x)).collect::<Vec<_>>().into()),
                )))
            })
            .collect(),
        Value::Null => {
            return Err(EvalError::of("ArgumentNullException", "Value cannot be null. (Parameter 'source')"))
        }
        other => return fail(format!("{} is not enumerable", other.type_name())),
    })
}

fn list(items: Vec<Value>) -> Value {
    Value::list(CollKind::List, "System.Object", items)
}

/// .NET's default ordering: numbers numerically, strings as the invariant culture orders
/// them for letters (case-insensitive first, then lowercase before uppercase).
pub fn compare(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Less,
        (_, Value::Null) => Ordering::Greater,
        (Value::Str(x), Value::Str(y)) => culture_cmp(x, y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Json(_), _) | (_, Value::Json(_)) => {
            let (x, y) = (scalar(a), scalar(b));
            if matches!(x, Value::Json(_)) || matches!(y, Value::Json(_)) {
                return x.to_text().cmp(&y.to_text());
            }
            compare(&x, &y)
        }
        _ => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
            _ => a.to_text().cmp(&b.to_text()),
        },
    }
}

fn culture_cmp(x: &str, y: &str) -> Ordering {
    let fold = |s: &str| s.chars().map(super::strings::lower).collect::<String>();
    fold(x).cmp(&fold(y)).then_with(|| {
        // Tertiary level: lowercase sorts before uppercase.
        let swap = |s: &str| {
            s.chars()
                .map(|c| if c.is_uppercase() { super::strings::lower(c) } else { super::strings::upper(c) })
                .collect::<String>()
        };
        swap(x).cmp(&swap(y))
    })
}

pub fn sort(v: &mut [Value]) {
    v.sort_by(compare);
}

fn no_elements() -> EvalError {
    EvalError::of("InvalidOperationException", "Sequence contains no elements")
}

fn num(v: &Value) -> Result<f64, EvalError> {
    scalar(v)
        .as_f64()
        .ok_or_else(|| EvalError::of("InvalidCastException", format!("{} is not a number", v.type_name())))
}

pub fn call(
    ev: &mut Eval<'_, '_>,
    id: &str,
    recv: Value,
    args: Vec<Value>,
    targ: Option<Ty>,
) -> Result<Value, EvalError> {
    let xs = items(&recv)?;
    for _ in 0..xs.len() / 16 {
        ev.budget.step()?;
    }
    ev.budget.alloc(xs.len() * 16)?;
    let f = args.first().cloned().unwrap_or(Value::Null);
    let has_f = matches!(f, Value::Func(_));
    let apply =
        |ev: &mut Eval<'_, '_>, x: &Value| -> Result<Value, EvalError> { ev.apply(&f, std::slice::from_ref(x)) };
    let pred = |ev: &mut Eval<'_, '_>, xs: &[Value], f: &Value| -> Result<Vec<Value>, EvalError> {
        let mut out = Vec::new();
        for x in xs {
            if !matches!(f, Value::Func(_)) || truthy(&ev.apply(f, std::slice::from_ref(x))?)? {
                out.push(x.clone());
            }
        }
        Ok(out)
    };
    Ok(match id {
        "Where" => {
            let mut out = Vec::new();
            for (i, x) in xs.iter().enumerate() {
                let r = ev.apply(&f, &[x.clone(), Value::Int(i as i64)])?;
                if truthy(&r)? {
                    out.push(x.clone());
                }
            }
            list(out)
        }
        "Select" => {
            let mut out = Vec::with_capacity(xs.len());
            for (i, x) in xs.iter().enumerate() {
                out.push(ev.apply(&f, &[x.clone(), Value::Int(i as i64)])?);
            }
            list(out)
        }
        "SelectMany" => {
            let mut out = Vec::new();
            for x in &xs {
                let inner = apply(ev, x)?;
                out.extend(items(&inner)?);
            }
            ev.budget.alloc(out.len() * 16)?;
            list(out)
        }
        "Any" => Value::Bool(!pred(ev, &xs, &f)?.is_empty()),
        "All" => {
            for x in &xs {
                if !truthy(&apply(ev, x)?)? {
                    return Ok(Value::Bool(false));
                }
            }
            Value::Bool(true)
        }
        "Count" | "LongCount" => Value::Int(i64::try_from(pred(ev, &xs, &f)?.len()).unwrap_or(i64::MAX)),
        "First" | "FirstOrDefault" | "Last" | "LastOrDefault" | "Single" | "SingleOrDefault" => {
            let hits = if has_f { pred(ev, &xs, &f)? } else { xs };
            let or_default = id.ends_with("OrDefault");
            let pick = match id {
                "First" | "FirstOrDefault" => hits.first().cloned(),
                "Last" | "LastOrDefault" => hits.last().cloned(),
                _ => {
                    if hits.len() > 1 {
                        return Err(EvalError::of(
                            "InvalidOperationException",
                            "Sequence contains more than one element",
                        ));
                    }
                    hits.first().cloned()
                }
            };
            match pick {
                Some(v) => v,
                None if or_default => Value::Null,
                None if has_f => {
                    return Err(EvalError::of("InvalidOperationException", "Sequence contains no matching element"))
                }
                None => return Err(no_elements()),
            }
        }
        "ElementAt" | "ElementAtOrDefault" => {
            let i = super::eval::int_arg(&f)?;
            match usize::try_from(i).ok().and_then(|i| xs.get(i)) {
                Some(v) => v.clone(),
                None if id == "ElementAtOrDefault" => Value::Null,
                None => {
                    return Err(EvalError::of(
                        "ArgumentOutOfRangeException",
                        "Index was out of range. (Parameter 'index')",
                    ))
                }
            }
        }
        "OrderBy" | "OrderByDescending" | "ThenBy" | "ThenByDescending" => {
            // ThenBy re-sorts stably by the new key: equal to OrderBy(k1).ThenBy(k2) only when
            // the previous order came from OrderBy (what real documents write).
            let mut keyed = Vec::with_capacity(xs.len());
            for x in xs {
                keyed.push((apply(ev, &x)?, x));
            }
            if id.starts_with("Then") {
                return fail(format!("{id} is not yet supported by ringgate (sort by one composite key instead)"));
            }
            let desc = id.ends_with("Descending");
            keyed.sort_by(|a, b| if desc { compare(&b.0, &a.0) } else { compare(&a.0, &b.0) });
            list(keyed.into_iter().map(|k| k.1).collect())
        }
        "GroupBy" => {
            let mut groups: Vec<(Value, Vec<Value>)> = Vec::new();
            let g = args.get(1).cloned();
            for x in xs {
                let k = apply(ev, &x)?;
                let v = match &g {
                    Some(g) => ev.apply(g, std::slice::from_ref(&x))?,
                    None => x,
                };
                match groups.iter_mut().find(|(gk, _)| equals(gk, &k)) {
                    Some(slot) => slot.1.push(v),
                    None => groups.push((k, vec![v])),
                }
            }
            list(groups.into_iter().map(|g| Value::Group(Arc::new(g))).collect())
        }
        "Distinct" | "ToHashSet" => {
            let mut out: Vec<Value> = Vec::new();
            for x in xs {
                if !out.iter().any(|y| equals(y, &x)) {
                    out.push(x);
                }
            }
            if id == "ToHashSet" {
                Value::list(CollKind::HashSet, "System.Object", out)
            } else {
                list(out)
            }
        }
        "Skip" | "Take" => {
            let n = usize::try_from(super::eval::int_arg(&f)?.max(0)).unwrap_or(0);
            list(if id == "Skip" { xs.into_iter().skip(n).collect() } else { xs.into_iter().take(n).collect() })
        }
        "SkipWhile" | "TakeWhile" => {
            let mut k = 0;
            while k < xs.len() && truthy(&apply(ev, &xs[k])?)? {
                k += 1;
            }
            list(if id == "SkipWhile" { xs[k..].to_vec() } else { xs[..k].to_vec() })
        }
        "ToArray" => {
            let elem = match &recv {
                Value::List(c) => c.elem,
                Value::Array(_) => "System.String",
                _ => "System.Object",
            };
            // A fresh, writable `T[]` (a string[] too: Array.Sort(x.ToArray()) sorts it).
            let elem =
                if xs.iter().all(|x| matches!(x, Value::Str(_))) && !xs.is_empty() { "System.String" } else { elem };
            Value::list(CollKind::Array, elem, xs)
        }
        "ToList" => {
            let elem = match &recv {
                Value::List(c) => c.elem,
                Value::Array(_) => "System.String",
                _ => "System.Object",
            };
            Value::list(CollKind::List, elem, xs)
        }
        "ToDictionary" => {
            let d = Dict { ignore_case: false, entries: std::sync::Mutex::new(Vec::with_capacity(xs.len())) };
            let g = args.get(1).cloned();
            for x in xs {
                let k = apply(ev, &x)?;
                if k.is_null() {
                    return Err(EvalError::of("ArgumentNullException", "Value cannot be null. (Parameter 'key')"));
                }
                let v = match &g {
                    Some(g) => ev.apply(g, std::slice::from_ref(&x))?,
                    None => x,
                };
                if d.find(&k).is_some() {
                    return Err(EvalError::of(
                        "ArgumentException",
                        format!("An item with the same key has already been added. Key: {}", k.to_text()),
                    ));
                }
                d.lock().push((k, v));
            }
            Value::Dict(Arc::new(d))
        }
        "Aggregate" => {
            let (mut acc, func, rest): (Value, Value, &[Value]) = if args.len() == 2 {
                (args[0].clone(), args[1].clone(), &xs[..])
            } else {
                let (first, rest) = xs.split_first().ok_or_else(no_elements)?;
                (first.clone(), f.clone(), rest)
            };
            for x in rest {
                acc = ev.apply(&func, &[acc, x.clone()])?;
            }
            acc
        }
        "Sum" | "Average" | "Min" | "Max" => {
            let vals: Vec<Value> = if has_f {
                let mut v = Vec::with_capacity(xs.len());
                for x in &xs {
                    v.push(scalar(&apply(ev, x)?));
                }
                v
            } else {
                xs.iter().map(scalar).collect()
            };
            let vals: Vec<Value> = vals.into_iter().filter(|v| !v.is_null()).collect();
            match id {
                "Sum" => {
                    if vals.iter().all(|v| matches!(v, Value::Int(_))) {
                        let mut s: i64 = 0;
                        for v in &vals {
                            if let Value::Int(n) = v {
                                // Enumerable.Sum is checked arithmetic in .NET.
                                s = s.checked_add(*n).ok_or_else(|| {
                                    EvalError::of("OverflowException", "Arithmetic operation resulted in an overflow.")
                                })?;
                            }
                        }
                        Value::Int(s)
                    } else {
                        let mut s = 0.0;
                        for v in &vals {
                            s += num(v)?;
                        }
                        Value::Double(s)
                    }
                }
                "Average" => {
                    if vals.is_empty() {
                        return Err(no_elements());
                    }
                    let mut s = 0.0;
                    for v in &vals {
                        s += num(v)?;
                    }
                    Value::Double(s / vals.len() as f64)
                }
                _ => {
                    let mut best: Option<Value> = None;
                    for v in vals {
                        best = Some(match best {
                            None => v,
                            Some(b) => {
                                let o = compare(&v, &b);
                                if (id == "Min" && o == Ordering::Less) || (id == "Max" && o == Ordering::Greater) {
                                    v
                                } else {
                                    b
                                }
                            }
                        });
                    }
                    best.ok_or_else(no_elements)?
                }
            }
        }
        "Contains" => Value::Bool(xs.iter().any(|x| equals(x, &f))),
        "Concat" => {
            let mut out = xs;
            out.extend(items(&f)?);
            list(out)
        }
        "Union" => {
            let mut out: Vec<Value> = Vec::new();
            for x in xs.into_iter().chain(items(&f)?) {
                if !out.iter().any(|y| equals(y, &x)) {
                    out.push(x);
                }
            }
            list(out)
        }
        "Intersect" | "Except" => {
            let other = items(&f)?;
            let keep = id == "Intersect";
            let mut out: Vec<Value> = Vec::new();
            for x in xs {
                if other.iter().any(|y| equals(y, &x)) == keep && !out.iter().any(|y| equals(y, &x)) {
                    out.push(x);
                }
            }
            list(out)
        }
        "Zip" => {
            let other = items(&f)?;
            let g = args.get(1).cloned().unwrap_or(Value::Null);
            let mut out = Vec::new();
            for (a, b) in xs.into_iter().zip(other) {
                out.push(ev.apply(&g, &[a, b])?);
            }
            list(out)
        }
        "Reverse" => list(xs.into_iter().rev().collect()),
        "SequenceEqual" => {
            let other = items(&f)?;
            Value::Bool(xs.len() == other.len() && xs.iter().zip(&other).all(|(a, b)| equals(a, b)))
        }
        "DefaultIfEmpty" => {
            if xs.is_empty() {
                list(vec![f])
            } else {
                list(xs)
            }
        }
        "Cast" | "OfType" => {
            let t = targ.unwrap_or(Ty::Any);
            let mut out = Vec::with_capacity(xs.len());
            for x in xs {
                match (id, super::eval::cast(t, x.clone())) {
                    (_, Ok(v)) => out.push(v),
                    ("Cast", Err(e)) => return Err(e),
                    _ => {}
                }
            }
            list(out)
        }
        other => return fail(format!("Enumerable.{other} is not yet supported by ringgate")),
    })
}

/// A JSON scalar as its C# value (for sums and ordering).
pub fn scalar(v: &Value) -> Value {
    match v {
        Value::Json(j) => match &j.lock().kind {
            JKind::Int(i) => Value::Int(*i),
            JKind::Float(f) => Value::Double(*f),
            JKind::Str(s) => Value::Str(s.clone()),
            JKind::Bool(b) => Value::Bool(*b),
            JKind::Null => Value::Null,
            _ => v.clone(),
        },
        _ => v.clone(),
    }
}
