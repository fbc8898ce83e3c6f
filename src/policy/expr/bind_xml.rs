//! `System.Xml.Linq` at runtime: `XDocument`, `XElement`, `XAttribute`, `XName` and
//! `XNamespace` members, `XDocument.Parse`/`XElement.Parse`, `new XElement(…)`, and the
//! explicit conversions `(string)el`, `(int)attr`, … (XmlConvert's rules).

use std::sync::Arc;

use crate::policy::dotnet::xml::{self as dx, XName};

use super::eval::Eval;
use super::value::{CollKind, Ty, Value};
use super::xml::{AddError, Content, XAttr, XRef};
use super::EvalError;

/// The .NET name printed by `ToString()` of an element sequence.
const SEQ: &str = "System.Collections.Generic.IEnumerable`1[System.Xml.Linq.XElement]";

/// Limits for parsing: bounded depth, and size and node count as the memory budget allows
/// (the parsed tree and its shared copy are charged per node).
fn limits(ev: &Eval<'_, '_>) -> dx::XmlLimits {
    let left = ev.budget.memory_left();
    dx::XmlLimits {
        max_bytes: left,
        max_nodes: (left / (2 * dx::NODE_COST)).min(dx::XmlLimits::default().max_nodes),
        ..dx::XmlLimits::default()
    }
}

/// Parses a body or a string as a document (`doc`) or an element. A text past the budgets
/// (size, nesting, nodes) fails the expression with a budget error naming the limit, before
/// the tree grows past them.
pub fn parse(ev: &mut Eval<'_, '_>, text: &str, doc: bool) -> Result<Value, EvalError> {
    // The shared tree costs a few times the text; charge it before building it.
    ev.budget.alloc(text.len().saturating_mul(3))?;
    let (d, nodes) = dx::parse_counted(text, limits(ev)).map_err(super::bind::dn)?;
    ev.budget.alloc(nodes.saturating_mul(2 * dx::NODE_COST))?;
    Ok(Value::Xml(if doc { XRef::document(&d) } else { XRef::from_owned(&d.root) }))
}

/// The `XName` an argument converts to (a string converts implicitly).
pub fn xname(v: &Value) -> Result<XName, EvalError> {
    match v {
        Value::XName(n) => Ok((**n).clone()),
        Value::Str(s) => Ok(XName::parse(s)),
        Value::Null => Err(EvalError::of("ArgumentNullException", "Value cannot be null. (Parameter 'name')")),
        other => Err(EvalError::new(format!("an XName is needed, found {}", other.type_name()))),
    }
}

fn opt_name(args: &[Value]) -> Result<Option<XName>, EvalError> {
    args.first().map(xname).transpose()
}

fn seq(items: Vec<XRef>) -> Value {
    Value::list(CollKind::ReadOnly(SEQ), "System.Xml.Linq.XElement", items.into_iter().map(Value::Xml).collect())
}

fn attr(a: XAttr) -> Value {
    Value::XAttr(Arc::new(a))
}

/// A value as `Add` content: elements, attributes, text (other values print as text), and
/// sequences of these.
fn content(v: &Value, out: &mut Vec<Content>) -> Result<(), EvalError> {
    match v {
        Value::Null => {}
        Value::Xml(x) if x.is_document() => {
            if let Some(r) = x.root() {
                out.push(Content::Element(r));
            }
        }
        Value::Xml(x) => out.push(Content::Element(x.clone())),
        Value::XAttr(a) => out.push(Content::Attribute(a.name.clone(), a.value.clone())),
        Value::List(_) | Value::Array(_) => {
            for x in super::linq::items(v)? {
                content(&x, out)?;
            }
        }
        Value::Bool(b) => out.push(Content::Text(if *b { "true" } else { "false" }.into())),
        other => out.push(Content::Text(other.to_text())),
    }
    Ok(())
}

fn add(x: &XRef, args: &[Value]) -> Result<(), EvalError> {
    let mut items = Vec::new();
    for a in args {
        content(a, &mut items)?;
    }
    for c in items {
        x.add(c).map_err(|e| match e {
            AddError::Circular => EvalError::of(
                "InvalidOperationException",
                "This operation would create an incorrectly structured document.",
            ),
            AddError::Document => EvalError::of(
                "InvalidOperationException",
                "This operation would create an incorrectly structured document.",
            ),
            AddError::DuplicateAttribute(n) => {
                EvalError::of("InvalidOperationException", format!("Duplicate attribute: {n}."))
            }
        })?;
    }
    Ok(())
}

/// `new XElement(name, content…)`, `new XAttribute(name, value)`, `new XDocument(content…)`.
pub fn construct(kind: &str, args: &[Value]) -> Result<Value, EvalError> {
    match kind {
        "XElement" => {
            let first = args.first().unwrap_or(&Value::Null);
            let x = match first {
                // The copy constructor.
                Value::Xml(src) if !src.is_document() && args.len() == 1 => return Ok(Value::Xml(src.deep_clone())),
                n => XRef::element(xname(n)?),
            };
            add(&x, &args[1..])?;
            Ok(Value::Xml(x))
        }
        "XAttribute" => {
            let name = xname(args.first().unwrap_or(&Value::Null))?;
            let value = match args.get(1) {
                None | Some(Value::Null) => {
                    return Err(EvalError::of("ArgumentNullException", "Value cannot be null. (Parameter 'value')"))
                }
                Some(Value::Bool(b)) => if *b { "true" } else { "false" }.to_string(),
                Some(v) => v.to_text(),
            };
            Ok(attr(XAttr { owner: None, qname: name.local.clone(), name, value }))
        }
        _ => {
            let doc = XRef::document(&dx::XDocument { declaration: None, root: dx::XElement::new("x", None) });
            if let Some(r) = doc.root() {
                r.remove();
            }
            add(&doc, args)?;
            Ok(Value::Xml(doc))
        }
    }
}

/// Static members: `XDocument.Parse`, `XElement.Parse`, `XNamespace.Get`, `XName.Get`.
pub fn static_call(ev: &mut Eval<'_, '_>, id: &str, args: &[Value]) -> Option<Result<Value, EvalError>> {
    let a0 = args.first().unwrap_or(&Value::Null);
    let text = || match a0 {
        Value::Null => Err(EvalError::of("ArgumentNullException", "Value cannot be null. (Parameter 'text')")),
        v => Ok(v.to_text()),
    };
    Some(match id {
        "XDocument.Parse" => text().and_then(|t| parse(ev, &t, true)),
        "XElement.Parse" => text().and_then(|t| parse(ev, &t, false)),
        "XNamespace.Get" => text().map(|t| Value::XNs(Arc::from(t.as_str()))),
        "XName.Get" => match args.get(1) {
            Some(ns) => Ok(Value::XName(Arc::new(XName { namespace: ns.to_text(), local: a0.to_text() }))),
            None => xname(a0).map(|n| Value::XName(Arc::new(n))),
        },
        _ => return None,
    })
}

/// Properties.
pub fn get(name: &str, recv: &Value) -> Option<Result<Value, EvalError>> {
    let s = |x: &str| Some(Ok(Value::str(x)));
    match (recv, name) {
        (Value::Xml(x), "Root") => Some(Ok(x.root().map_or(Value::Null, Value::Xml))),
        (Value::Xml(x), "Name") => Some(Ok(Value::XName(Arc::new(x.name())))),
        (Value::Xml(x), "Value") => Some(Ok(Value::str(&x.value()))),
        (Value::Xml(x), "Parent") => Some(Ok(x.parent().map_or(Value::Null, Value::Xml))),
        (Value::Xml(x), "HasElements") => Some(Ok(Value::Bool(x.has_elements()))),
        (Value::Xml(x), "HasAttributes") => Some(Ok(Value::Bool(x.has_attributes()))),
        (Value::Xml(x), "IsEmpty") => Some(Ok(Value::Bool(x.is_empty()))),
        (Value::Xml(x), "FirstAttribute" | "LastAttribute") => {
            let mut all = x.attributes(None);
            let a = if name == "FirstAttribute" { all.drain(..).next() } else { all.pop() };
            Some(Ok(a.map_or(Value::Null, attr)))
        }
        (Value::XAttr(a), "Name") => Some(Ok(Value::XName(Arc::new(a.name.clone())))),
        (Value::XAttr(a), "Value") => s(&a.value),
        (Value::XAttr(a), "Parent") => Some(Ok(a.owner.clone().map_or(Value::Null, Value::Xml))),
        (Value::XName(n), "LocalName") => s(&n.local),
        (Value::XName(n), "NamespaceName") => s(&n.namespace),
        (Value::XName(n), "Namespace") => Some(Ok(Value::XNs(Arc::from(n.namespace.as_str())))),
        (Value::XNs(n), "NamespaceName") => s(n),
        _ => None,
    }
}

/// Methods.
pub fn invoke(name: &str, recv: &Value, args: &[Value]) -> Option<Result<Value, EvalError>> {
    let r = (|| -> Result<Option<Value>, EvalError> {
        let a0 = args.first().unwrap_or(&Value::Null);
        Ok(Some(match (recv, name) {
            (Value::Xml(x), "ToString") if args.is_empty() => Value::str(&x.to_xml(true)),
            (Value::Xml(x), "Element") => {
                x.elements(Some(&xname(a0)?)).into_iter().next().map_or(Value::Null, Value::Xml)
            }
            (Value::Xml(x), "Elements") => seq(x.elements(opt_name(args)?.as_ref())),
            (Value::Xml(x), "Descendants") => {
                let mut out = Vec::new();
                x.descendants(opt_name(args)?.as_ref(), &mut out);
                seq(out)
            }
            (Value::Xml(x), "DescendantsAndSelf") => {
                let n = opt_name(args)?;
                let mut out = Vec::new();
                if n.as_ref().is_none_or(|n| x.name() == *n) {
                    out.push(x.clone());
                }
                x.descendants(n.as_ref(), &mut out);
                seq(out)
            }
            (Value::Xml(x), "Ancestors") => seq(x.ancestors(opt_name(args)?.as_ref())),
            (Value::Xml(x), "Attribute") => x.attribute(&xname(a0)?).map_or(Value::Null, attr),
            (Value::Xml(x), "Attributes") => Value::list(
                CollKind::ReadOnly("System.Collections.Generic.IEnumerable`1[System.Xml.Linq.XAttribute]"),
                "System.Xml.Linq.XAttribute",
                x.attributes(opt_name(args)?.as_ref()).into_iter().map(attr).collect(),
            ),
            (Value::Xml(x), "SetAttributeValue") => {
                let v = args.get(1).filter(|v| !v.is_null()).map(Value::to_text);
                x.set_attribute_value(&xname(a0)?, v.as_deref());
                Value::Null
            }
            (Value::Xml(x), "SetElementValue") => {
                let v = args.get(1).filter(|v| !v.is_null()).map(Value::to_text);
                x.set_element_value(&xname(a0)?, v.as_deref());
                Value::Null
            }
            (Value::Xml(x), "SetValue") => {
                if a0.is_null() {
                    return Err(EvalError::of("ArgumentNullException", "Value cannot be null. (Parameter 'value')"));
                }
                x.set_value(&a0.to_text());
                Value::Null
            }
            (Value::Xml(x), "Add") => {
                add(x, args)?;
                Value::Null
            }
            (Value::Xml(x), "Remove") => {
                if x.container_is_none() {
                    return Err(EvalError::of("InvalidOperationException", "The parent is missing."));
                }
                x.remove();
                Value::Null
            }
            (Value::Xml(x), "RemoveAll") => {
                x.remove_all();
                Value::Null
            }
            (Value::Xml(x), "RemoveAttributes") => {
                x.remove_attributes();
                Value::Null
            }
            (Value::XAttr(a), "Remove") => match &a.owner {
                Some(o) => {
                    o.remove_attribute(&a.name);
                    Value::Null
                }
                None => return Err(EvalError::of("InvalidOperationException", "The parent is missing.")),
            },
            (Value::XNs(n), "GetName") => {
                Value::XName(Arc::new(XName { namespace: n.to_string(), local: a0.to_text() }))
            }
            _ => return Ok(None),
        }))
    })();
    r.transpose()
}

/// `set` of `el.Value = text` (and `attr.Value`).
pub fn set(name: &str, recv: &Value, v: &Value) -> Option<Result<(), EvalError>> {
    match (recv, name) {
        (Value::Xml(x), "Value") => Some(match v {
            Value::Null => Err(EvalError::of("ArgumentNullException", "Value cannot be null. (Parameter 'value')")),
            v => {
                x.set_value(&v.to_text());
                Ok(())
            }
        }),
        (Value::XAttr(a), "Value") => Some(match (&a.owner, v) {
            (_, Value::Null) => {
                Err(EvalError::of("ArgumentNullException", "Value cannot be null. (Parameter 'value')"))
            }
            (Some(o), v) => {
                o.set_attribute_value(&a.name, Some(&v.to_text()));
                Ok(())
            }
            (None, _) => Err(EvalError::new(
                "setting the Value of an XAttribute that belongs to no element is not yet supported by ringgate",
            )),
        }),
        _ => None,
    }
}

/// `XNamespace + "local"`.
pub fn binary_add(x: &Value, y: &Value) -> Option<Result<Value, EvalError>> {
    match (x, y) {
        (Value::XNs(ns), Value::Str(local)) => {
            Some(Ok(Value::XName(Arc::new(XName { namespace: ns.to_string(), local: local.to_string() }))))
        }
        (Value::XNs(_), Value::Null) => {
            Some(Err(EvalError::of("ArgumentNullException", "Value cannot be null. (Parameter 'localName')")))
        }
        _ => None,
    }
}

/// `XName == "name"`, `XNamespace == "uri"` (the string converts implicitly).
pub fn equals(x: &Value, y: &Value) -> Option<bool> {
    Some(match (x, y) {
        (Value::XName(a), Value::XName(b)) => a == b,
        (Value::XName(a), Value::Str(s)) | (Value::Str(s), Value::XName(a)) => **a == XName::parse(s),
        (Value::XNs(a), Value::XNs(b)) => a == b,
        (Value::XNs(a), Value::Str(s)) | (Value::Str(s), Value::XNs(a)) => **a == **s,
        (Value::Xml(a), Value::Xml(b)) => a.same(b),
        _ => return None,
    })
}

/// The explicit conversions of `XElement` and `XAttribute` to strings and numbers
/// (`XmlConvert`'s parsing: invariant, surrounding white space allowed).
pub fn cast(t: Ty, v: &Value) -> Option<Result<Value, EvalError>> {
    let text = match v {
        Value::Xml(x) if !x.is_document() => x.value(),
        Value::XAttr(a) => a.value.clone(),
        _ => return None,
    };
    let bad = |to: &str| EvalError::of("FormatException", format!("The string '{text}' is not a valid {to} value."));
    let s = text.trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\r'));
    Some(match t {
        Ty::Str | Ty::Any => Ok(Value::str(&text)),
        Ty::Bool => match s {
            "true" | "1" => Ok(Value::Bool(true)),
            "false" | "0" => Ok(Value::Bool(false)),
            _ => Err(bad("Boolean")),
        },
        Ty::Int | Ty::Long => {
            let n = s.parse::<i64>().map_err(|_| bad(if t == Ty::Int { "Int32" } else { "Int64" }));
            match n {
                Ok(n) if t == Ty::Int && i32::try_from(n).is_err() => {
                    Err(EvalError::of("OverflowException", "Value was either too large or too small for an Int32."))
                }
                Ok(n) => Ok(Value::Int(n)),
                Err(e) => Err(e),
            }
        }
        Ty::Double => match s {
            "INF" => Ok(Value::Double(f64::INFINITY)),
            "-INF" => Ok(Value::Double(f64::NEG_INFINITY)),
            "NaN" => Ok(Value::Double(f64::NAN)),
            _ if s.contains(['i', 'I', 'n', 'N']) => Err(bad("Double")),
            _ => s.parse::<f64>().map(Value::Double).map_err(|_| bad("Double")),
        },
        Ty::Xml | Ty::XAttr => Ok(v.clone()),
        _ => return None,
    })
}
