//! Instance members of values: the load-time table (which names exist on which static
//! types, their arity and result types) and the runtime dispatch on the value's type.
//!
//! A member not in the table is refused at load with its full name and whose gap it is.

use super::compile::err;
use super::eval::{equals, fail, Eval};
use super::json::{JKind, JRef};
use super::linq;
use super::parser::Arg;
use super::strings;
use super::value::{to_json, CollKind, Ty, Value};
use super::{EvalError, ExprError};

/// In the table, a result type of "the receiver's element type".
const ELEM: Ty = Ty::Group;

struct Row {
    name: &'static str,
    on: &'static [Ty],
    min: usize,
    max: usize,
    ret: Ty,
}

const fn row(name: &'static str, on: &'static [Ty], min: usize, max: usize, ret: Ty) -> Row {
    Row { name, on, min, max, ret }
}

const S: &[Ty] = &[Ty::Str];
const L: &[Ty] = &[Ty::List];
const D: &[Ty] = &[Ty::Dict];
const J: &[Ty] = &[Ty::Json];
const SB: &[Ty] = &[Ty::StringBuilder];
const ALL: &[Ty] = &[];

/// Methods (`on` empty: every type).
static METHODS: &[Row] = &[
    row("ToString", ALL, 0, 2, Ty::Str),
    row("Equals", ALL, 1, 2, Ty::Bool),
    row("CompareTo", ALL, 1, 1, Ty::Int),
    row("ToLower", S, 0, 1, Ty::Str),
    row("ToUpper", S, 0, 1, Ty::Str),
    row("ToLowerInvariant", S, 0, 0, Ty::Str),
    row("ToUpperInvariant", S, 0, 0, Ty::Str),
    row("Trim", S, 0, 8, Ty::Str),
    row("TrimStart", S, 0, 8, Ty::Str),
    row("TrimEnd", S, 0, 8, Ty::Str),
    row("Contains", &[Ty::Str, Ty::List, Ty::Array, Ty::Bytes, Ty::Json, Ty::Group], 1, 2, Ty::Bool),
    row("StartsWith", S, 1, 3, Ty::Bool),
    row("EndsWith", S, 1, 3, Ty::Bool),
    row("IndexOf", &[Ty::Str, Ty::List], 1, 3, Ty::Int),
    row("LastIndexOf", S, 1, 3, Ty::Int),
    row("IndexOfAny", S, 1, 2, Ty::Int),
    row("Substring", S, 1, 2, Ty::Str),
    row("Replace", &[Ty::Str, Ty::StringBuilder], 2, 3, Ty::Str),
    row("Split", S, 0, 3, Ty::Array),
    row("PadLeft", S, 1, 2, Ty::Str),
    row("PadRight", S, 1, 2, Ty::Str),
    row("Insert", &[Ty::Str, Ty::List, Ty::StringBuilder], 2, 2, Ty::Any),
    row("Remove", &[Ty::Str, Ty::List, Ty::Dict, Ty::Json, Ty::StringBuilder, Ty::Pair], 0, 2, Ty::Any),
    row("ToCharArray", S, 0, 0, Ty::List),
    row("TryParseJwt", S, 1, 1, Ty::Bool),
    row("TryParseBasic", S, 1, 1, Ty::Bool),
    // List<T>, HashSet<T>, arrays
    row("Add", &[Ty::List, Ty::Dict, Ty::Json], 1, 2, Ty::Any),
    row("AddRange", L, 1, 1, Ty::Null),
    row("RemoveAt", L, 1, 1, Ty::Null),
    row("RemoveAll", L, 1, 1, Ty::Int),
    row("Clear", &[Ty::List, Ty::Dict, Ty::StringBuilder], 0, 0, Ty::Any),
    row("Exists", L, 1, 1, Ty::Bool),
    row("Find", L, 1, 1, Ty::Any),
    row("FindAll", L, 1, 1, Ty::List),
    row("FindIndex", L, 1, 1, Ty::Int),
    row("ForEach", L, 1, 1, Ty::Null),
    row("Sort", L, 0, 0, Ty::Null),
    row("UnionWith", L, 1, 1, Ty::Null),
    row("IntersectWith", L, 1, 1, Ty::Null),
    row("ExceptWith", L, 1, 1, Ty::Null),
    // Dictionary<K,V>
    row("ContainsKey", &[Ty::Dict, Ty::Json], 1, 1, Ty::Bool),
    row("ContainsValue", D, 1, 1, Ty::Bool),
    row("TryGetValue", &[Ty::Dict, Ty::Json], 2, 2, Ty::Bool),
    row("GetValueOrDefault", D, 1, 2, Ty::Any),
    // JToken
    row("Value", J, 1, 1, Ty::Any),
    row("Values", J, 0, 1, Ty::List),
    row("SelectToken", J, 1, 2, Ty::Json),
    row("ToObject", J, 0, 0, Ty::Any),
    row("Property", J, 1, 1, Ty::Pair),
    row("Properties", J, 0, 0, Ty::List),
    row("Children", J, 0, 0, Ty::List),
    row("DeepClone", J, 0, 0, Ty::Json),
    row("AddFirst", J, 1, 1, Ty::Null),
    row("RemoveAll", J, 0, 0, Ty::Null),
    // StringBuilder
    row("Append", SB, 1, 3, Ty::StringBuilder),
    row("AppendLine", SB, 0, 1, Ty::StringBuilder),
    row("AppendFormat", SB, 2, 8, Ty::StringBuilder),
];

/// Properties.
static PROPS: &[Row] = &[
    row("Length", &[Ty::Str, Ty::Array, Ty::Bytes, Ty::List, Ty::StringBuilder], 0, 0, Ty::Int),
    row("Count", &[Ty::List, Ty::Dict, Ty::Json, Ty::Array], 0, 0, Ty::Int),
    row("Keys", D, 0, 0, Ty::List),
    row("Values", D, 0, 0, Ty::List),
    row("Key", &[Ty::Pair, Ty::Group], 0, 0, Ty::Any),
    row("Value", &[Ty::Pair], 0, 0, Ty::Any),
    row("Name", &[Ty::Pair], 0, 0, Ty::Str),
    row("Type", J, 0, 0, Ty::Enum),
    row("HasValues", J, 0, 0, Ty::Bool),
    row("First", J, 0, 0, Ty::Json),
    row("Last", J, 0, 0, Ty::Json),
    row("Message", &[Ty::Exception], 0, 0, Ty::Str),
    row("InnerException", &[Ty::Exception], 0, 0, Ty::Exception),
];

/// Member names of the bound library types (so a value of unknown type may use them).
const BOUND_NAMES: &[&str] = &[
    "Year",
    "Month",
    "Day",
    "Hour",
    "Minute",
    "Second",
    "Millisecond",
    "Ticks",
    "DayOfYear",
    "DayOfWeek",
    "Date",
    "TimeOfDay",
    "TotalDays",
    "TotalHours",
    "TotalMinutes",
    "TotalSeconds",
    "TotalMilliseconds",
    "Days",
    "Hours",
    "Minutes",
    "Seconds",
    "Milliseconds",
    "Success",
    "Value",
    "Index",
    "Length",
    "Groups",
    "Name",
    "Count",
    "AddDays",
    "AddHours",
    "AddMinutes",
    "AddSeconds",
    "AddMilliseconds",
    "AddMonths",
    "AddYears",
    "AddTicks",
    "Subtract",
    "ToUniversalTime",
    "ToLocalTime",
    "IsMatch",
    "Match",
    "ComputeHash",
    "Encrypt",
    "Decrypt",
];

/// The static id of a bound member name.
fn leak_name(name: &str) -> &'static str {
    BOUND_NAMES.iter().find(|n| **n == name).copied().unwrap_or(match name {
        "ToString" => "ToString",
        "Add" => "Add",
        "Replace" => "Replace",
        _ => "?",
    })
}

/// The element type of an enumerable's static type (`foreach`, lambda parameters).
pub fn elem_ty(t: Ty) -> Ty {
    match t {
        Ty::Array => Ty::Str,
        Ty::Str => Ty::Char,
        Ty::Bytes => Ty::Int,
        Ty::Json => Ty::Json,
        Ty::Dict => Ty::Pair,
        _ => Ty::Any,
    }
}

/// The type an `out var` declares for a method.
pub fn out_ty(method: &str) -> Ty {
    match method {
        "TryParseJwt" => Ty::Jwt,
        "TryParseBasic" => Ty::Basic,
        _ => Ty::Any,
    }
}

/// A lambda parameter's type: argument `argi` of `method`, parameter `k`.
pub fn lambda_param_ty(method: &str, argi: usize, k: usize, elem: Ty) -> Ty {
    match (method, argi, k) {
        ("Aggregate", _, 0) => Ty::Any,
        ("Select" | "Where" | "SelectMany" | "SkipWhile" | "TakeWhile", 0, 1) => Ty::Int,
        ("Zip", _, 1) => Ty::Any,
        (_, _, 0) => elem,
        _ => Ty::Any,
    }
}

fn found(rows: &'static [Row], on: Ty, name: &str) -> Vec<&'static Row> {
    rows.iter().filter(|r| r.name == name && (r.on.is_empty() || on == Ty::Any || r.on.contains(&on))).collect()
}

fn ret_of(r: &Row, on: Ty) -> Ty {
    if r.ret == ELEM {
        elem_ty(on)
    } else {
        r.ret
    }
}

/// Resolves `recv.name(args)`: the member's id and result type, or the refusal.
pub fn check_call(
    on: Ty,
    name: &str,
    tys: &[Ty],
    targ: Option<Ty>,
    args: &[Arg],
    pos: usize,
) -> Result<(&'static str, Ty), ExprError> {
    let n = tys.len();
    for a in args {
        if let Some(an) = &a.name {
            return err(a.value.pos, format!("the named argument '{an}:' of {name} is not yet supported by ringgate"));
        }
    }
    if on == Ty::Null {
        return err(pos, format!("cannot call {name}() on null"));
    }
    // A literal numeric format is checked at load, as in interpolation holes.
    if let ("ToString", Ty::Int | Ty::Long | Ty::Double, [a]) = (name, on, args) {
        if let super::parser::AstKind::Lit(super::parser::Lit::Str(f)) = &a.value.kind {
            super::format::check(f, on, a.value.pos)?;
        }
    }
    if let Some((id, min, max, ret)) = super::bind_array::method(on, name) {
        if n < min || n > max {
            return err(pos, format!("no overload of {} takes {n} argument(s)", full_name(on, name)));
        }
        return Ok((id, ret));
    }
    if on == Ty::Random && !matches!(name, "ToString" | "Equals") {
        return Err(super::bind_array::refuse_random(name, pos));
    }
    if on != Ty::Any {
        if let Some((id, min, max, ret)) = super::bind_lib::method(on, name) {
            if n < min || n > max {
                return err(pos, format!("no overload of {} takes {n} argument(s)", full_name(on, name)));
            }
            return Ok((id, ret));
        }
    }
    if let Some((min, max, ret)) = super::bind::method_ty(on, name) {
        if n < min || n > max {
            return err(pos, format!("no overload of {}.{name} takes {n} argument(s)", on.name()));
        }
        return Ok((leak_name(name), ret));
    }
    let rows = found(METHODS, on, name);
    if let Some(r) = rows.iter().find(|r| n >= r.min && n <= r.max) {
        strings::check_args(on, r.name, tys, pos)?;
        let ret = match (r.name, targ) {
            ("Value" | "ToObject", Some(t)) => t,
            ("Value" | "ToObject", None) => return err(pos, format!("{name} needs a type argument such as <string>")),
            (_, Some(_)) if r.name != "Values" => {
                return err(pos, format!("{name}<T> is not yet supported by ringgate"))
            }
            _ => ret_of(r, on),
        };
        return Ok((r.name, if on == Ty::Any && r.on.len() > 1 { Ty::Any } else { ret }));
    }
    if let Some(r) = rows.first() {
        return err(
            pos,
            format!(
                "no overload of {} takes {n} argument(s) (ringgate runs {} to {})",
                full_name(on, name),
                r.min,
                r.max
            ),
        );
    }
    if name.starts_with("ThenBy") {
        return err(
            pos,
            format!("Enumerable.{name} is not yet supported by ringgate (order by one composite key instead)"),
        );
    }
    if on == Ty::Any {
        if let Some((id, _, _, ret)) = super::bind_lib::method(on, name) {
            return Ok((id, ret));
        }
    }
    if on.enumerable() || matches!(on, Ty::List | Ty::Dict | Ty::Group) {
        if let Some((id, min, max, ret)) = linq::signature(name) {
            if n < min || n > max {
                return err(pos, format!("Enumerable.{name} takes {min} to {max} argument(s) here, found {n}"));
            }
            if targ.is_some() && !matches!(id, "Cast" | "OfType") {
                return err(pos, format!("Enumerable.{name}<T> is not yet supported by ringgate"));
            }
            return Ok((id, if ret == ELEM { elem_ty(on) } else { ret }));
        }
    }
    err(pos, refusal(on, name, true))
}

/// Resolves `recv.name` as a property.
pub fn check_prop(on: Ty, name: &str, pos: usize) -> Result<(&'static str, Ty), ExprError> {
    if on == Ty::Null {
        return err(pos, format!("cannot read {name} of null"));
    }
    if let Some(t) = super::bind::prop_ty(on, name) {
        return Ok((leak_name(name), t));
    }
    if let Some(r) = super::bind_array::prop(on, name) {
        return Ok(r);
    }
    if on == Ty::Random {
        return Err(super::bind_array::refuse_random(name, pos));
    }
    if on != Ty::Any {
        if let Some(r) = super::bind_lib::prop(on, name) {
            return Ok(r);
        }
    }
    match found(PROPS, on, name).first() {
        Some(r) => Ok((r.name, if on == Ty::Any { Ty::Any } else { ret_of(r, on) })),
        None if on == Ty::Any && BOUND_NAMES.contains(&name) => Ok((leak_name(name), Ty::Any)),
        None if on == Ty::Any => match super::bind_lib::prop(on, name) {
            Some(r) => Ok(r),
            None => err(pos, refusal(on, name, false)),
        },
        None => err(pos, refusal(on, name, false)),
    }
}

fn full_name(on: Ty, name: &str) -> String {
    let t = match on {
        Ty::Str => "System.String",
        Ty::List => "System.Collections.Generic.List<T>",
        Ty::Dict => "System.Collections.Generic.Dictionary<TKey, TValue>",
        Ty::Json => "Newtonsoft.Json.Linq.JToken",
        Ty::StringBuilder => "System.Text.StringBuilder",
        Ty::Array => "System.String[]",
        Ty::Bytes => "System.Byte[]",
        Ty::Char => "System.Char",
        Ty::Int => "System.Int32",
        Ty::Long => "System.Int64",
        Ty::Double => "System.Double",
        Ty::Bool => "System.Boolean",
        Ty::Exception => "System.Exception",
        Ty::Jwt => "Jwt",
        Ty::Basic => "BasicAuthCredentials",
        t => super::bind_lib::full_name(t).unwrap_or("object"),
    };
    format!("{t}.{name}")
}

fn refusal(on: Ty, name: &str, method: bool) -> String {
    let what = if method { format!("{}()", full_name(on, name)) } else { full_name(on, name) };
    // Every member of these types is allowed in APIM ("All" in its table): the gap is ours.
    let apim_all = matches!(
        on,
        Ty::Str
            | Ty::List
            | Ty::Dict
            | Ty::Json
            | Ty::StringBuilder
            | Ty::Array
            | Ty::Bytes
            | Ty::Char
            | Ty::Int
            | Ty::Long
            | Ty::Double
            | Ty::Bool
            | Ty::Exception
            | Ty::Pair
            | Ty::Xml
            | Ty::XDoc
            | Ty::XAttr
            | Ty::XName
            | Ty::XNs
            | Ty::Uri
            | Ty::RxMatches
            | Ty::Dto
    );
    if apim_all {
        format!("{what} is not yet supported by ringgate")
    } else if on == Ty::Any {
        format!("{name} is not a member ringgate knows on an object of unknown type (cast the value first, e.g. (string)x, or the member is not yet supported by ringgate)")
    } else {
        format!("{what} does not exist or is not allowed in APIM policy expressions")
    }
}

/// The id of a member that `recv.Name = v` (or an object initializer) may set.
pub fn settable(on: Ty, name: &str) -> Option<&'static str> {
    if let Some(id) = super::bind_lib::settable(on, name) {
        return Some(id);
    }
    match (on, name) {
        (Ty::Pair | Ty::Any, "Value") => Some("Value"),
        (Ty::StringBuilder | Ty::Any, "Length") => Some("Length"),
        _ => None,
    }
}

fn coll_of(v: &Value) -> Option<&super::value::Coll> {
    match v {
        Value::List(c) => Some(c),
        _ => None,
    }
}

fn key_text(v: &Value) -> Result<String, EvalError> {
    match v {
        Value::Null => Err(EvalError::of("ArgumentNullException", "Value cannot be null. (Parameter 'key')")),
        v => Ok(v.to_text()),
    }
}

/// `recv.name(args)` at runtime.
pub fn invoke(
    ev: &mut Eval<'_, '_>,
    name: &str,
    recv: Value,
    args: Vec<Value>,
    targ: Option<Ty>,
) -> Result<Value, EvalError> {
    if let Some(r) = super::bind_array::invoke(ev, name, &recv, &args) {
        return r;
    }
    if let Some(r) = super::bind_lib::invoke(ev, name, &recv, &args) {
        return r;
    }
    if let Some(r) = super::bind::invoke(name, &recv, &args) {
        return r;
    }
    match name {
        "ToString" if !matches!(recv, Value::StringBuilder(_)) || args.is_empty() => return to_string(&recv, &args),
        "Equals" if !matches!(recv, Value::Str(_)) => {
            return Ok(Value::Bool(args.first().is_some_and(|a| equals(&recv, a))));
        }
        _ => {}
    }
    match &recv {
        Value::Str(s) => return strings::invoke(ev, name, s, &args),
        Value::StringBuilder(sb) => return strings::builder(ev, name, sb, &recv, &args),
        Value::Json(j) => {
            if let Some(v) = json_method(ev, name, j, &args, targ)? {
                return Ok(v);
            }
        }
        Value::List(c) => {
            if let Some(v) = list_method(ev, name, c, &args)? {
                return Ok(v);
            }
        }
        Value::Dict(d) => {
            if let Some(v) = dict_method(ev, name, d, &args)? {
                return Ok(v);
            }
        }
        Value::Pair(p) if name == "Remove" => {
            // JProperty.Remove(): the pair holds (owner, name) for properties of a JObject.
            if let (Value::Json(owner), Value::Str(k)) = (&p.0, &p.1) {
                owner.remove(k);
                return Ok(Value::Null);
            }
        }
        _ => {}
    }
    if name == "CompareTo" {
        let a = args.first().unwrap_or(&Value::Null);
        return Ok(Value::Int(match (recv.as_f64(), a.as_f64()) {
            (Some(x), Some(y)) => x.partial_cmp(&y).map_or(0, |o| o as i64),
            _ => return fail(format!("CompareTo is not supported between {} and {}", recv.type_name(), a.type_name())),
        }));
    }
    if let Some(id) = linq::signature(name).map(|s| s.0) {
        return linq::call(ev, id, recv, args, targ);
    }
    fail(format!("{name}() is not available on {}", recv.type_name()))
}

fn to_string(v: &Value, args: &[Value]) -> Result<Value, EvalError> {
    match (v, args.first()) {
        (Value::Json(j), Some(Value::Enum("Formatting", f))) => Ok(Value::str(&j.to_json(*f == "Indented"))),
        (Value::Json(j), None) if j.is_container() => Ok(Value::str(&j.to_json(true))),
        (_, None) => Ok(Value::str(&v.to_text())),
        (_, Some(Value::Str(fmt))) => Ok(Value::str(&super::format::format_value(v, fmt)?)),
        (_, Some(Value::Null)) => Ok(Value::str(&v.to_text())),
        (_, Some(a)) => fail(format!("ToString({}) is not yet supported by ringgate", a.type_name())),
    }
}

/// `recv.name` at runtime.
pub fn get(name: &str, recv: &Value) -> Result<Value, EvalError> {
    if let Some(r) = super::bind_array::get(name, recv) {
        return r;
    }
    if let Some(r) = super::bind::get(name, recv) {
        return r;
    }
    if let Some(r) = super::bind_lib::get(name, recv) {
        return r;
    }
    let count = |n: usize| Value::Int(i64::try_from(n).unwrap_or(i64::MAX));
    Ok(match (name, recv) {
        ("Length" | "Count", Value::Str(s)) => count(strings::utf16_len(s)),
        ("Length" | "Count", Value::Array(a)) => count(a.len()),
        ("Length" | "Count", Value::Bytes(b)) => count(b.len()),
        ("Length" | "Count", Value::List(c)) => count(c.lock().len()),
        ("Count", Value::Dict(d)) => count(d.lock().len()),
        ("Count", Value::Json(j)) => count(j.count()),
        ("Count", Value::Group(g)) => count(g.1.len()),
        ("Length", Value::StringBuilder(sb)) => {
            count(strings::utf16_len(&sb.lock().unwrap_or_else(|p| p.into_inner())))
        }
        ("Keys", Value::Dict(d)) => {
            Value::list(CollKind::List, "System.Object", d.lock().iter().map(|e| e.0.clone()).collect())
        }
        ("Values", Value::Dict(d)) => {
            Value::list(CollKind::List, "System.Object", d.lock().iter().map(|e| e.1.clone()).collect())
        }
        ("Key" | "Name", Value::Pair(p)) => match (&p.0, &p.1) {
            (Value::Json(_), k) => k.clone(),
            (k, _) => k.clone(),
        },
        ("Value", Value::Pair(p)) => match (&p.0, &p.1) {
            (Value::Json(owner), Value::Str(k)) if name == "Value" => match owner.get(k) {
                Some(v) => Value::Json(v),
                None => Value::Null,
            },
            (_, v) => v.clone(),
        },
        ("Key", Value::Group(g)) => g.0.clone(),
        ("Type", Value::Json(j)) => Value::Enum("JTokenType", j.kind_name()),
        ("HasValues", Value::Json(j)) => Value::Bool(j.count() > 0),
        ("First", Value::Json(j)) => first_last(j, true),
        ("Last", Value::Json(j)) => first_last(j, false),
        ("Message", Value::Exception(e)) => Value::str(&e.1),
        ("InnerException", Value::Exception(_)) => Value::Null,
        (n, v) => return fail(format!("{n} is not available on {}", v.type_name())),
    })
}

fn first_last(j: &JRef, first: bool) -> Value {
    if j.is_object() {
        let props = j.props();
        let p = if first { props.first() } else { props.last() };
        return p.map_or(Value::Null, |(k, _)| {
            Value::Pair(std::sync::Arc::new((Value::Json(j.clone()), Value::Str(k.clone()))))
        });
    }
    let items = j.items();
    let x = if first { items.first() } else { items.last() };
    x.map_or(Value::Null, |x| Value::Json(x.clone()))
}

/// `recv.name = v` at runtime.
pub fn set(name: &str, recv: &Value, v: Value) -> Result<(), EvalError> {
    if let Some(r) = super::bind_xml::set(name, recv, &v) {
        return r;
    }
    match (name, recv) {
        ("Value", Value::Pair(p)) => match (&p.0, &p.1) {
            (Value::Json(owner), Value::Str(k)) => {
                owner.set(k, to_json(&v).map_err(EvalError::new)?).map_err(EvalError::new)
            }
            _ => fail("KeyValuePair.Value is read-only"),
        },
        ("Length", Value::StringBuilder(sb)) => {
            let n = super::eval::int_arg(&v)?;
            let mut s = sb.lock().unwrap_or_else(|p| p.into_inner());
            let chars: Vec<char> = s.chars().collect();
            let n = usize::try_from(n)
                .map_err(|_| EvalError::of("ArgumentOutOfRangeException", "Length cannot be less than zero."))?;
            if n <= chars.len() {
                *s = chars[..n].iter().collect();
            } else {
                s.extend(std::iter::repeat_n('\0', n - chars.len()));
            }
            Ok(())
        }
        (n, r) => fail(format!("{n} cannot be set on {}", r.type_name())),
    }
}

fn json_method(
    ev: &mut Eval<'_, '_>,
    name: &str,
    j: &JRef,
    args: &[Value],
    targ: Option<Ty>,
) -> Result<Option<Value>, EvalError> {
    let a0 = args.first().unwrap_or(&Value::Null);
    let je = |r: Result<(), String>| r.map_err(|m| EvalError::of("ArgumentException", m));
    Ok(Some(match name {
        "Value" => {
            let key = key_text(a0)?;
            let v = match a0 {
                Value::Int(i) => usize::try_from(*i).ok().and_then(|i| j.at(i)),
                _ => j.get(&key),
            };
            match v {
                None => Value::Null,
                Some(t) => convert_token(&t, targ.unwrap_or(Ty::Any))?,
            }
        }
        "ToObject" => convert_token(j, targ.unwrap_or(Ty::Any))?,
        "Values" => Value::list(CollKind::List, "System.Object", j.items().into_iter().map(|t| super::value::from_json(&t)).collect()),
        "SelectToken" => match super::jsonpath::select(j, &key_text(a0)?)? {
            Some(t) => Value::Json(t),
            None if matches!(args.get(1), Some(Value::Bool(true))) => {
                return Err(EvalError::of("JsonException", format!("Path '{}' not found.", a0.to_text())))
            }
            None => Value::Null,
        },
        "Property" => {
            let k = key_text(a0)?;
            if j.get(&k).is_some() {
                Value::Pair(std::sync::Arc::new((Value::Json(j.clone()), Value::str(&k))))
            } else {
                Value::Null
            }
        }
        "Properties" => Value::list(
            CollKind::List,
            "Newtonsoft.Json.Linq.JProperty",
            j.keys().into_iter().map(|k| Value::Pair(std::sync::Arc::new((Value::Json(j.clone()), Value::Str(k))))).collect(),
        ),
        "Children" => {
            if j.is_object() {
                return json_method(ev, "Properties", j, args, targ);
            }
            Value::list(CollKind::List, "Newtonsoft.Json.Linq.JToken", j.items().into_iter().map(Value::Json).collect())
        }
        "DeepClone" => Value::Json(j.deep_clone()),
        "ContainsKey" => Value::Bool(j.get(&key_text(a0)?).is_some()),
        "TryGetValue" => {
            let v = j.get(&key_text(a0)?);
            let ok = v.is_some();
            Value::Pair(std::sync::Arc::new((Value::Bool(ok), v.map_or(Value::Null, Value::Json))))
        }
        "Add" => {
            match (args.len(), a0) {
                (2, k) => {
                    ev.budget.alloc(64)?;
                    je(j.add_prop(&key_text(k)?, to_json(&args[1]).map_err(EvalError::new)?))?
                }
                (_, Value::Pair(p)) if j.is_object() => {
                    let (k, v) = property_parts(p)?;
                    je(j.add_prop(&k, v))?
                }
                (_, v) => {
                    ev.budget.alloc(32)?;
                    je(j.push(to_json(v).map_err(EvalError::new)?))?
                }
            }
            Value::Null
        }
        "AddFirst" => {
            let v = to_json(a0).map_err(EvalError::new)?.for_insert();
            match &mut j.lock().kind {
                JKind::Array(a) => a.insert(0, v),
                _ => return fail("AddFirst on a JObject is not yet supported by ringgate"),
            }
            Value::Null
        }
        "Remove" => match a0 {
            Value::Str(k) => Value::Bool(j.remove(k)),
            Value::Null if args.is_empty() => {
                return fail("JToken.Remove() on a value is not yet supported by ringgate (use obj.Remove(\"name\") or obj.Property(\"name\").Remove())")
            }
            v => return fail(format!("JObject.Remove({}) is not yet supported by ringgate", v.type_name())),
        },
        "RemoveAll" => {
            match &mut j.lock().kind {
                JKind::Array(a) => a.clear(),
                JKind::Object(o) => o.clear(),
                _ => {}
            }
            Value::Null
        }
        "Contains" => return Ok(None),
        _ => return Ok(None),
    }))
}

/// A JProperty value's (name, token).
pub fn property_parts(p: &(Value, Value)) -> Result<(String, JRef), EvalError> {
    match (&p.0, &p.1) {
        (Value::Json(owner), Value::Str(k)) => {
            let v = owner.get(k).ok_or_else(|| EvalError::new("the property was removed"))?;
            Ok((k.to_string(), v.deep_clone()))
        }
        (k, v) => Ok((k.to_text(), to_json(v).map_err(EvalError::new)?)),
    }
}

/// `Value<T>()` / `ToObject<T>()` / `(T)token`: Newtonsoft's conversions.
pub fn convert_token(t: &JRef, to: Ty) -> Result<Value, EvalError> {
    let v = super::value::from_json(t);
    if to == Ty::Json {
        return Ok(Value::Json(t.clone()));
    }
    if matches!(v, Value::Json(_)) && to != Ty::Any {
        return Err(EvalError::of(
            "InvalidCastException",
            format!("Can not convert {} to {}.", t.kind_name(), to.dotnet()),
        ));
    }
    match (to, &v) {
        (Ty::Str, Value::Null) => Ok(Value::Null),
        (Ty::Str, _) => Ok(Value::str(&v.to_text())),
        (Ty::Int | Ty::Long, Value::Str(s)) => super::statics::parse_int(s, to == Ty::Int),
        (Ty::Double, Value::Str(s)) => super::statics::parse_double(s),
        (Ty::Bool, Value::Str(s)) => super::statics::parse_bool(s),
        (Ty::Int, Value::Double(d)) => super::eval::double_to_int(*d, true),
        (Ty::Long, Value::Double(d)) => super::eval::double_to_int(*d, false),
        _ => super::eval::cast(to, v),
    }
}

fn list_method(
    ev: &mut Eval<'_, '_>,
    name: &str,
    c: &super::value::Coll,
    args: &[Value],
) -> Result<Option<Value>, EvalError> {
    let a0 = args.first().unwrap_or(&Value::Null);
    let fixed = matches!(c.kind, CollKind::Array | CollKind::ReadOnly(_));
    if fixed && matches!(name, "Add" | "AddRange" | "Remove" | "RemoveAt" | "Insert" | "Clear" | "RemoveAll") {
        let m = if c.kind == CollKind::Array { "Collection was of a fixed size." } else { "Collection is read-only." };
        return Err(EvalError::of("NotSupportedException", m));
    }
    Ok(Some(match name {
        "Add" => {
            ev.budget.alloc(16 + a0.as_str().map_or(0, str::len))?;
            let mut items = c.lock();
            if c.kind == CollKind::HashSet {
                if items.iter().any(|x| equals(x, a0)) {
                    return Ok(Some(Value::Bool(false)));
                }
                items.push(a0.clone());
                return Ok(Some(Value::Bool(true)));
            }
            items.push(a0.clone());
            Value::Null
        }
        "AddRange" | "UnionWith" => {
            let more = linq::items(a0)?;
            ev.budget.alloc(16 * more.len())?;
            let mut items = c.lock();
            for x in more {
                if c.kind != CollKind::HashSet || !items.iter().any(|y| equals(y, &x)) {
                    items.push(x);
                }
            }
            Value::Null
        }
        "IntersectWith" | "ExceptWith" => {
            let other = linq::items(a0)?;
            let keep = name == "IntersectWith";
            c.lock().retain(|x| other.iter().any(|y| equals(x, y)) == keep);
            Value::Null
        }
        "Remove" => {
            let mut items = c.lock();
            match items.iter().position(|x| equals(x, a0)) {
                Some(i) => {
                    items.remove(i);
                    Value::Bool(true)
                }
                None => Value::Bool(false),
            }
        }
        "RemoveAt" => {
            let i = super::eval::int_arg(a0)?;
            let mut items = c.lock();
            match usize::try_from(i).ok().filter(|i| *i < items.len()) {
                Some(i) => {
                    items.remove(i);
                }
                None => return Err(EvalError::of("ArgumentOutOfRangeException", "Index was out of range. Must be non-negative and less than the size of the collection. (Parameter 'index')")),
            }
            Value::Null
        }
        "Insert" => {
            let i = super::eval::int_arg(a0)?;
            let v = args.get(1).cloned().unwrap_or(Value::Null);
            let mut items = c.lock();
            match usize::try_from(i).ok().filter(|i| *i <= items.len()) {
                Some(i) => items.insert(i, v),
                None => {
                    return Err(EvalError::of(
                        "ArgumentOutOfRangeException",
                        "Index must be within the bounds of the List. (Parameter 'index')",
                    ))
                }
            }
            Value::Null
        }
        "Clear" => {
            c.lock().clear();
            Value::Null
        }
        "IndexOf" => {
            let items = c.lock();
            Value::Int(items.iter().position(|x| equals(x, a0)).map_or(-1, |i| i64::try_from(i).unwrap_or(-1)))
        }
        "Sort" => {
            let mut items = c.lock().clone();
            linq::sort(&mut items);
            *c.lock() = items;
            Value::Null
        }
        "Reverse" if c.kind == CollKind::List => {
            c.lock().reverse();
            Value::Null
        }
        "Exists" | "Find" | "FindAll" | "FindIndex" | "RemoveAll" | "ForEach" => {
            let items = c.lock().clone();
            let mut hits = Vec::new();
            for (i, x) in items.iter().enumerate() {
                let r = ev.apply(a0, std::slice::from_ref(x))?;
                if name == "ForEach" {
                    continue;
                }
                if super::eval::truthy(&r)? {
                    match name {
                        "Exists" => return Ok(Some(Value::Bool(true))),
                        "Find" => return Ok(Some(x.clone())),
                        "FindIndex" => return Ok(Some(Value::Int(i64::try_from(i).unwrap_or(-1)))),
                        _ => hits.push(i),
                    }
                }
            }
            match name {
                "Exists" => Value::Bool(false),
                "Find" => Value::Null,
                "FindIndex" => Value::Int(-1),
                "FindAll" => Value::list(CollKind::List, c.elem, hits.iter().map(|i| items[*i].clone()).collect()),
                "RemoveAll" => {
                    let n = hits.len();
                    let mut k = 0;
                    c.lock().retain(|_| {
                        let keep = !hits.contains(&k);
                        k += 1;
                        keep
                    });
                    Value::Int(i64::try_from(n).unwrap_or(0))
                }
                _ => Value::Null,
            }
        }
        _ => return Ok(None),
    }))
}

fn dict_method(
    ev: &mut Eval<'_, '_>,
    name: &str,
    d: &super::value::Dict,
    args: &[Value],
) -> Result<Option<Value>, EvalError> {
    let a0 = args.first().unwrap_or(&Value::Null);
    Ok(Some(match name {
        "Add" => {
            key_text(a0)?;
            let v = args.get(1).cloned().unwrap_or(Value::Null);
            ev.budget.alloc(32 + a0.as_str().map_or(0, str::len))?;
            if d.find(a0).is_some() {
                return Err(EvalError::of(
                    "ArgumentException",
                    format!("An item with the same key has already been added. Key: {}", a0.to_text()),
                ));
            }
            d.lock().push((a0.clone(), v));
            Value::Null
        }
        "ContainsKey" => {
            key_text(a0)?;
            Value::Bool(d.find(a0).is_some())
        }
        "ContainsValue" => Value::Bool(d.lock().iter().any(|(_, v)| equals(v, a0))),
        "Remove" => {
            key_text(a0)?;
            let mut e = d.lock();
            match e.iter().position(|(k, _)| d.key_eq(k, a0)) {
                Some(i) => {
                    e.remove(i);
                    Value::Bool(true)
                }
                None => Value::Bool(false),
            }
        }
        "TryGetValue" => {
            key_text(a0)?;
            let v = d.find(a0);
            Value::Pair(std::sync::Arc::new((Value::Bool(v.is_some()), v.unwrap_or(Value::Null))))
        }
        "GetValueOrDefault" => {
            key_text(a0)?;
            d.find(a0).unwrap_or_else(|| args.get(1).cloned().unwrap_or(Value::Null))
        }
        "Clear" => {
            d.lock().clear();
            Value::Null
        }
        _ => return Ok(None),
    }))
}

/// `recv[index]` for collections and JSON.
pub fn index(recv: &Value, i: &Value) -> Result<Value, EvalError> {
    if let Some(r) = super::bind::index(recv, i) {
        return r;
    }
    let oob = |n: i64, len: usize| {
        EvalError::of(
            "IndexOutOfRangeException",
            format!("Index was outside the bounds of the array (index {n}, length {len})."),
        )
    };
    match (recv, i) {
        (Value::Array(a), Value::Int(n)) => {
            usize::try_from(*n).ok().and_then(|k| a.get(k)).cloned().ok_or_else(|| oob(*n, a.len()))
        }
        (Value::Bytes(b), Value::Int(n)) => usize::try_from(*n)
            .ok()
            .and_then(|k| b.get(k))
            .map(|x| Value::Int(i64::from(*x)))
            .ok_or_else(|| oob(*n, b.len())),
        (Value::List(c), Value::Int(n)) if c.kind == CollKind::Array => {
            let items = c.lock();
            usize::try_from(*n).ok().and_then(|k| items.get(k)).cloned().ok_or_else(|| oob(*n, items.len()))
        }
        (Value::List(c), Value::Int(n)) => {
            let items = c.lock();
            usize::try_from(*n).ok().and_then(|k| items.get(k)).cloned().ok_or_else(|| {
                EvalError::of("ArgumentOutOfRangeException", "Index was out of range. Must be non-negative and less than the size of the collection. (Parameter 'index')")
            })
        }
        (Value::Str(s), Value::Int(n)) => strings::char_at(s, *n),
        (Value::Dict(d), k) => {
            key_text(k)?;
            d.find(k).ok_or_else(|| {
                EvalError::of(
                    "KeyNotFoundException",
                    format!("The given key '{}' was not present in the dictionary.", k.to_text()),
                )
            })
        }
        (Value::Json(j), Value::Str(n)) => {
            if j.is_array() {
                return Err(EvalError::of(
                    "ArgumentException",
                    format!("Accessed JArray values with invalid key value: \"{n}\". Int32 array index expected."),
                ));
            }
            Ok(j.get(n).map_or(Value::Null, Value::Json))
        }
        (Value::Json(j), Value::Int(n)) => {
            if j.is_object() {
                return Err(EvalError::of(
                    "ArgumentException",
                    format!("Accessed JObject values with invalid key value: {n}. Object property name expected."),
                ));
            }
            let len = j.count();
            usize::try_from(*n).ok().and_then(|k| j.at(k)).map(Value::Json).ok_or_else(|| {
                EvalError::of("ArgumentOutOfRangeException", format!("Index was out of range. Must be non-negative and less than the size of the collection. (Parameter 'index') (index {n}, count {len})"))
            })
        }
        (Value::Claims(j), Value::Str(n)) => match j.claim(n) {
            Some(v) => Ok(Value::Array(v.iter().map(|s| Value::str(s)).collect::<Vec<_>>().into())),
            None => Err(EvalError::of(
                "KeyNotFoundException",
                format!("The given key '{n}' was not present in the dictionary."),
            )),
        },
        (Value::Group(g), Value::Int(n)) => {
            usize::try_from(*n).ok().and_then(|k| g.1.get(k)).cloned().ok_or_else(|| oob(*n, g.1.len()))
        }
        _ => fail(format!("{} cannot be indexed by {}", recv.type_name(), i.type_name())),
    }
}

/// `recv[index] = v`.
pub fn set_index(ev: &mut Eval<'_, '_>, recv: &Value, i: &Value, v: Value) -> Result<(), EvalError> {
    match (recv, i) {
        (Value::List(c), Value::Int(n)) => {
            let array = c.kind == CollKind::Array;
            let mut items = c.lock();
            let len = items.len();
            match usize::try_from(*n).ok().and_then(|k| items.get_mut(k)) {
                Some(slot) => {
                    *slot = v;
                    Ok(())
                }
                None if array => Err(EvalError::of(
                    "IndexOutOfRangeException",
                    format!("Index was outside the bounds of the array (index {n}, length {len})."),
                )),
                None => Err(EvalError::of("ArgumentOutOfRangeException", "Index was out of range. Must be non-negative and less than the size of the collection. (Parameter 'index')")),
            }
        }
        (Value::Dict(d), k) => {
            key_text(k)?;
            ev.budget.alloc(32)?;
            let mut e = d.lock();
            match e.iter_mut().find(|(x, _)| d.key_eq(x, k)) {
                Some(slot) => slot.1 = v,
                None => e.push((k.clone(), v)),
            }
            Ok(())
        }
        (Value::Json(j), Value::Str(n)) => {
            ev.budget.alloc(32 + n.len())?;
            j.set(n, to_json(&v).map_err(EvalError::new)?).map_err(|m| EvalError::of("InvalidOperationException", m))
        }
        (Value::Json(j), Value::Int(n)) => {
            let k = usize::try_from(*n)
                .map_err(|_| EvalError::of("ArgumentOutOfRangeException", "Index was out of range."))?;
            j.set_at(k, to_json(&v).map_err(EvalError::new)?)
                .map_err(|m| EvalError::of("ArgumentOutOfRangeException", m))
        }
        (Value::Bytes(_), _) => fail("assigning into a byte[] is not yet supported by ringgate"),
        (Value::Array(_), _) => fail("assigning into the string[] that Split or a header gives is not yet supported by ringgate (copy it with ToArray() or new List<string>(…) first)"),
        _ => fail(format!("{} cannot be assigned by index {}", recv.type_name(), i.type_name())),
    }
}

pub fn coll(v: &Value) -> Option<&super::value::Coll> {
    coll_of(v)
}
