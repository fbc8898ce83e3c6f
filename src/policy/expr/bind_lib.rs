//! The load-time table and the runtime dispatch of the members of `Uri`, the
//! `System.Xml.Linq` types and `MatchCollection` (runtime in `bind_uri`, `bind_xml` and
//! here for the regex collection). A member not in the table is refused at load by
//! `members.rs` with its full name.

use std::sync::Arc;

use super::eval::Eval;
use super::value::{CollKind, Ty, Value};
use super::EvalError;

struct Row {
    on: &'static [Ty],
    name: &'static str,
    min: usize,
    max: usize,
    ret: Ty,
}

const fn row(on: &'static [Ty], name: &'static str, min: usize, max: usize, ret: Ty) -> Row {
    Row { on, name, min, max, ret }
}

const X: &[Ty] = &[Ty::Xml];
const XD: &[Ty] = &[Ty::Xml, Ty::XDoc];
const D: &[Ty] = &[Ty::XDoc];
const XA: &[Ty] = &[Ty::Xml, Ty::XAttr];
const N: &[Ty] = &[Ty::XName];
const NS: &[Ty] = &[Ty::XNs];
const U: &[Ty] = &[Ty::Uri];
const RX: &[Ty] = &[Ty::Regex];
const MC: &[Ty] = &[Ty::RxMatches];
const DTO: &[Ty] = &[Ty::Dto];

static METHODS: &[Row] = &[
    row(XD, "ToString", 0, 0, Ty::Str),
    row(XD, "Element", 1, 1, Ty::Xml),
    row(XD, "Elements", 0, 1, Ty::XmlList),
    row(XD, "Descendants", 0, 1, Ty::XmlList),
    row(X, "DescendantsAndSelf", 0, 1, Ty::XmlList),
    row(X, "Ancestors", 0, 1, Ty::XmlList),
    row(X, "Attribute", 1, 1, Ty::XAttr),
    row(X, "Attributes", 0, 1, Ty::List),
    row(X, "SetAttributeValue", 2, 2, Ty::Null),
    row(X, "SetElementValue", 2, 2, Ty::Null),
    row(X, "SetValue", 1, 1, Ty::Null),
    row(XD, "Add", 1, 16, Ty::Null),
    row(XA, "Remove", 0, 0, Ty::Null),
    row(X, "RemoveAll", 0, 0, Ty::Null),
    row(X, "RemoveAttributes", 0, 0, Ty::Null),
    row(NS, "GetName", 1, 1, Ty::XName),
    row(U, "ToString", 0, 0, Ty::Str),
    row(U, "GetLeftPart", 1, 1, Ty::Str),
    row(RX, "Matches", 1, 1, Ty::RxMatches),
    row(RX, "Split", 1, 1, Ty::Array),
    row(DTO, "ToUnixTimeSeconds", 0, 0, Ty::Long),
    row(DTO, "ToUnixTimeMilliseconds", 0, 0, Ty::Long),
    row(DTO, "ToUniversalTime", 0, 0, Ty::Dto),
    row(DTO, "ToString", 0, 1, Ty::Str),
    row(DTO, "AddDays", 1, 1, Ty::Dto),
    row(DTO, "AddHours", 1, 1, Ty::Dto),
    row(DTO, "AddMinutes", 1, 1, Ty::Dto),
    row(DTO, "AddSeconds", 1, 1, Ty::Dto),
    row(DTO, "AddMilliseconds", 1, 1, Ty::Dto),
    row(DTO, "AddMonths", 1, 1, Ty::Dto),
    row(DTO, "Add", 1, 1, Ty::Dto),
    row(DTO, "Subtract", 1, 1, Ty::Any),
];

static PROPS: &[Row] = &[
    row(D, "Root", 0, 0, Ty::Xml),
    row(XA, "Name", 0, 0, Ty::XName),
    row(XA, "Value", 0, 0, Ty::Str),
    row(XA, "Parent", 0, 0, Ty::Xml),
    row(X, "HasElements", 0, 0, Ty::Bool),
    row(X, "HasAttributes", 0, 0, Ty::Bool),
    row(X, "IsEmpty", 0, 0, Ty::Bool),
    row(X, "FirstAttribute", 0, 0, Ty::XAttr),
    row(X, "LastAttribute", 0, 0, Ty::XAttr),
    row(N, "LocalName", 0, 0, Ty::Str),
    row(N, "NamespaceName", 0, 0, Ty::Str),
    row(N, "Namespace", 0, 0, Ty::XNs),
    row(NS, "NamespaceName", 0, 0, Ty::Str),
    row(U, "AbsolutePath", 0, 0, Ty::Str),
    row(U, "AbsoluteUri", 0, 0, Ty::Str),
    row(U, "Authority", 0, 0, Ty::Str),
    row(U, "Fragment", 0, 0, Ty::Str),
    row(U, "Host", 0, 0, Ty::Str),
    row(U, "DnsSafeHost", 0, 0, Ty::Str),
    row(U, "IdnHost", 0, 0, Ty::Str),
    row(U, "IsAbsoluteUri", 0, 0, Ty::Bool),
    row(U, "IsDefaultPort", 0, 0, Ty::Bool),
    row(U, "OriginalString", 0, 0, Ty::Str),
    row(U, "PathAndQuery", 0, 0, Ty::Str),
    row(U, "Port", 0, 0, Ty::Int),
    row(U, "Query", 0, 0, Ty::Str),
    row(U, "Scheme", 0, 0, Ty::Str),
    row(U, "UserInfo", 0, 0, Ty::Str),
    row(U, "Segments", 0, 0, Ty::Array),
    row(MC, "Count", 0, 0, Ty::Int),
    row(DTO, "UtcDateTime", 0, 0, Ty::DateTime),
    row(DTO, "DateTime", 0, 0, Ty::DateTime),
    row(DTO, "LocalDateTime", 0, 0, Ty::DateTime),
    row(DTO, "Date", 0, 0, Ty::DateTime),
    row(DTO, "Offset", 0, 0, Ty::TimeSpan),
    row(DTO, "Year", 0, 0, Ty::Int),
    row(DTO, "Month", 0, 0, Ty::Int),
    row(DTO, "Day", 0, 0, Ty::Int),
    row(DTO, "Hour", 0, 0, Ty::Int),
    row(DTO, "Minute", 0, 0, Ty::Int),
    row(DTO, "Second", 0, 0, Ty::Int),
    row(DTO, "Millisecond", 0, 0, Ty::Int),
    row(DTO, "Ticks", 0, 0, Ty::Long),
    row(DTO, "UtcTicks", 0, 0, Ty::Long),
];

fn find(rows: &'static [Row], on: Ty, name: &str) -> Option<&'static Row> {
    rows.iter().find(|r| r.name == name && (on == Ty::Any || r.on.contains(&on)))
}

/// Whether the type's members are all in this table (so a miss is refused here).
pub fn owns(on: Ty) -> bool {
    matches!(on, Ty::Xml | Ty::XDoc | Ty::XAttr | Ty::XName | Ty::XNs | Ty::Uri | Ty::RxMatches | Ty::Dto)
}

/// A method: its id, arity and result type (`Any` on a receiver of unknown type).
pub fn method(on: Ty, name: &str) -> Option<(&'static str, usize, usize, Ty)> {
    let r = find(METHODS, on, name)?;
    Some((r.name, r.min, r.max, if on == Ty::Any { Ty::Any } else { r.ret }))
}

/// A property: its id and type.
pub fn prop(on: Ty, name: &str) -> Option<(&'static str, Ty)> {
    let r = find(PROPS, on, name)?;
    Some((r.name, if on == Ty::Any { Ty::Any } else { r.ret }))
}

/// The .NET type whose member a refusal names.
pub fn full_name(on: Ty) -> Option<&'static str> {
    Some(match on {
        Ty::Xml => "System.Xml.Linq.XElement",
        Ty::XDoc => "System.Xml.Linq.XDocument",
        Ty::XAttr => "System.Xml.Linq.XAttribute",
        Ty::XName => "System.Xml.Linq.XName",
        Ty::XNs => "System.Xml.Linq.XNamespace",
        Ty::Uri => "System.Uri",
        Ty::RxMatches => "System.Text.RegularExpressions.MatchCollection",
        Ty::Dto => "System.DateTimeOffset",
        _ => return None,
    })
}

/// Settable members (`el.Value = …`, `attr.Value = …`).
pub fn settable(on: Ty, name: &str) -> Option<&'static str> {
    matches!((on, name), (Ty::Xml | Ty::XAttr, "Value")).then_some("Value")
}

fn matches_value(ms: Vec<crate::policy::dotnet::regex::Match>) -> Value {
    Value::list(
        CollKind::ReadOnly("System.Text.RegularExpressions.MatchCollection"),
        "System.Text.RegularExpressions.Match",
        ms.into_iter().map(|m| Value::RxMatch(Arc::new(m))).collect(),
    )
}

fn split_value(parts: Vec<String>) -> Value {
    Value::Array(parts.iter().map(|s| Value::str(s)).collect::<Vec<_>>().into())
}

/// The most matches one `Matches` call may collect (a budget, as for every list).
fn max_matches(ev: &Eval<'_, '_>) -> usize {
    ev.budget.memory_left() / 64
}

fn input(v: &Value) -> Result<String, EvalError> {
    match v {
        Value::Null => Err(EvalError::of("ArgumentNullException", "Value cannot be null. (Parameter 'input')")),
        v => Ok(v.to_text()),
    }
}

/// `Regex.Matches(input, pattern[, options])`, `Regex.Split(input, pattern[, options])`.
pub fn regex_static(ev: &mut Eval<'_, '_>, id: &str, args: &[Value]) -> Option<Result<Value, EvalError>> {
    if !matches!(id, "Regex.Matches" | "Regex.Split") {
        return None;
    }
    Some((|| {
        let a = |i: usize| args.get(i).unwrap_or(&Value::Null);
        let opts = super::bind::regex_options(args.get(2))?;
        let r = crate::policy::dotnet::regex::Regex::new(&input(a(1))?, opts).map_err(super::bind::dn)?;
        let text = input(a(0))?;
        if id == "Regex.Split" {
            let parts = r.split(&text);
            ev.budget.alloc(text.len() + 32 * parts.len())?;
            return Ok(split_value(parts));
        }
        let ms = r.matches(&text, max_matches(ev)).map_err(super::bind::dn)?;
        ev.budget.alloc(64 * ms.len())?;
        Ok(matches_value(ms))
    })())
}

/// Static members of the types here, by id.
pub fn static_call(ev: &mut Eval<'_, '_>, id: &str, args: &[Value]) -> Option<Result<Value, EvalError>> {
    if id.starts_with("Array.") {
        return super::bind_array::static_call(ev, id, args);
    }
    regex_static(ev, id, args)
        .or_else(|| super::bind_xml::static_call(ev, id, args))
        .or_else(|| super::bind_uri::static_call(id, args))
        .or_else(|| super::bind_dto::static_call(id, args))
}

/// `new T(args)` for the types here.
pub fn construct(kind: &str, args: &[Value]) -> Option<Result<Value, EvalError>> {
    Some(match kind {
        "Uri" => super::bind_uri::construct(args),
        "DateTimeOffset" => super::bind_dto::construct(args),
        "XElement" | "XAttribute" | "XDocument" => super::bind_xml::construct(kind, args),
        _ => return None,
    })
}

/// Properties at runtime.
pub fn get(name: &str, recv: &Value) -> Option<Result<Value, EvalError>> {
    super::bind_xml::get(name, recv)
        .or_else(|| super::bind_uri::get(name, recv))
        .or_else(|| super::bind_dto::get(name, recv))
}

/// Methods at runtime.
pub fn invoke(ev: &mut Eval<'_, '_>, name: &str, recv: &Value, args: &[Value]) -> Option<Result<Value, EvalError>> {
    if let Value::Regex(r) = recv {
        let text = match args.first().map(input) {
            Some(Ok(t)) => t,
            Some(Err(e)) => return Some(Err(e)),
            None => return None,
        };
        return match name {
            "Matches" => Some(r.matches(&text, max_matches(ev)).map(matches_value).map_err(super::bind::dn)),
            "Split" => Some(Ok(split_value(r.split(&text)))),
            _ => None,
        };
    }
    super::bind_xml::invoke(name, recv, args)
        .or_else(|| super::bind_uri::invoke(name, recv, args))
        .or_else(|| super::bind_dto::invoke(name, recv, args))
}
