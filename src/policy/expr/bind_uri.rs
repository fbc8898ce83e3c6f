//! `System.Uri` at runtime: `new Uri(…)`, `IUrl.ToUri()`, and the
//! members of a `Uri` value (`Host`, `AbsolutePath`, `Query`, `Segments`, …). The library
//! (`policy::dotnet::uri`) parses and prints as .NET does.

use std::sync::Arc;

use crate::policy::dotnet::uri::{Uri, UriKind, UriPartial};

use super::bind::dn;
use super::value::Value;
use super::EvalError;

fn text(v: &Value, param: &str) -> Result<String, EvalError> {
    match v {
        Value::Null => {
            Err(EvalError::of("ArgumentNullException", format!("Value cannot be null. (Parameter '{param}')")))
        }
        v => Ok(v.to_text()),
    }
}

fn uri(u: Uri) -> Value {
    Value::Uri(Arc::new(u))
}

/// `new Uri(text)`, `new Uri(baseUri, relative)` (`UriKind` is not a type APIM allows).
pub fn construct(args: &[Value]) -> Result<Value, EvalError> {
    let a0 = args.first().unwrap_or(&Value::Null);
    match (a0, args.get(1)) {
        (Value::Uri(base), Some(rel)) => Uri::join(base, &text(rel, "relativeUri")?).map(uri).map_err(dn),
        (v, None) => Uri::parse(&text(v, "uriString")?).map(uri).map_err(dn),
        (v, Some(other)) => Err(EvalError::new(format!(
            "new Uri({}, {}) is not yet supported by ringgate",
            v.type_name(),
            other.type_name()
        ))),
    }
}

/// `IUrl.ToUri()`: the URL's text as a Uri.
pub fn static_call(id: &str, args: &[Value]) -> Option<Result<Value, EvalError>> {
    let a0 = args.first().unwrap_or(&Value::Null);
    Some(match id {
        "Uri.FromUrl" => Uri::parse(&a0.to_text()).map(uri).map_err(dn),
        _ => return None,
    })
}

/// Properties of a `Uri`.
pub fn get(name: &str, recv: &Value) -> Option<Result<Value, EvalError>> {
    let Value::Uri(u) = recv else { return None };
    let s = |r: Result<&str, crate::policy::dotnet::DotnetError>| r.map(Value::str).map_err(dn);
    let st = |r: Result<String, crate::policy::dotnet::DotnetError>| r.map(|x| Value::str(&x)).map_err(dn);
    Some(match name {
        "AbsolutePath" => s(u.absolute_path()),
        "AbsoluteUri" => st(u.absolute_uri()),
        "Authority" => st(u.authority()),
        "Fragment" => s(u.fragment()),
        "Host" | "DnsSafeHost" | "IdnHost" => s(u.host()),
        "IsAbsoluteUri" => Ok(Value::Bool(u.is_absolute_uri())),
        "IsDefaultPort" => u.is_default_port().map(Value::Bool).map_err(dn),
        "OriginalString" => Ok(Value::str(u.original_string())),
        "PathAndQuery" => st(u.path_and_query()),
        "Port" => u.port().map(|p| Value::Int(i64::from(p))).map_err(dn),
        "Query" => s(u.query()),
        "Scheme" => s(u.scheme()),
        "UserInfo" => s(u.user_info()),
        "Segments" => {
            u.segments().map(|v| Value::Array(v.iter().map(|x| Value::str(x)).collect::<Vec<_>>().into())).map_err(dn)
        }
        _ => return None,
    })
}

/// Methods of a `Uri`.
pub fn invoke(name: &str, recv: &Value, args: &[Value]) -> Option<Result<Value, EvalError>> {
    let Value::Uri(u) = recv else { return None };
    Some(match (name, args.first()) {
        ("ToString", None) => Ok(Value::str(&u.to_dotnet_string())),
        ("GetLeftPart", Some(Value::Enum("UriPartial", p))) => {
            let part = match *p {
                "Scheme" => UriPartial::Scheme,
                "Authority" => UriPartial::Authority,
                "Path" => UriPartial::Path,
                _ => UriPartial::Query,
            };
            u.get_left_part(part).map(|s| Value::str(&s)).map_err(dn)
        }
        ("GetLeftPart", Some(v)) => Err(EvalError::new(format!("a UriPartial is needed, found {}", v.type_name()))),
        ("Equals", Some(Value::Uri(o))) => Ok(Value::Bool(u == o)),
        ("Equals", Some(Value::Str(s))) => {
            Ok(Value::Bool(Uri::parse_kind(s, UriKind::RelativeOrAbsolute).is_ok_and(|o| **u == o)))
        }
        _ => return None,
    })
}
