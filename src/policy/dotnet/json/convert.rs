//! `Value<T>()`, `ToObject<T>()` and the explicit casts `(string)token`, `(int)token`… with
//! Newtonsoft's rules: casts accept only the token types Newtonsoft lists for the target and
//! then use `System.Convert` (banker's rounding, OverflowException, invariant parsing);
//! `Value<T>` goes through `Convert.ChangeType`.

use super::token::{JToken, JValue};
use super::write::value_to_string;
use super::JTokenType;
use crate::policy::dotnet::datetime::{parse_datetime, DateTime};
use crate::policy::dotnet::error::{DnResult, DotnetError};
use crate::policy::dotnet::number::{convert_to_int32, convert_to_int64, parse_bool, parse_double, parse_int, IntType};
use base64::Engine;

/// The primitive targets of `Value<T>` / casts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    String,
    Int32,
    Int64,
    Double,
    Boolean,
    DateTime,
}

impl Target {
    fn name(self) -> &'static str {
        match self {
            Self::String => "String",
            Self::Int32 => "Int32",
            Self::Int64 => "Int64",
            Self::Double => "Double",
            Self::Boolean => "Boolean",
            Self::DateTime => "DateTime",
        }
    }
}

/// A converted value (`Null` for a null string or an empty `T?`).
#[derive(Clone, Debug, PartialEq)]
pub enum Prim {
    Null,
    String(String),
    Int32(i32),
    Int64(i64),
    Double(f64),
    Boolean(bool),
    DateTime(DateTime),
}

fn type_name_of(v: &JValue) -> &'static str {
    match v {
        JValue::Integer(_) => "Int64",
        JValue::BigInteger(_) => "BigInteger",
        JValue::Float(_) => "Double",
        JValue::String(_) | JValue::Raw(_) => "String",
        JValue::Boolean(_) => "Boolean",
        JValue::Date(_) => "DateTime",
        JValue::DateOffset(_) => "DateTimeOffset",
        JValue::Guid(_) => "Guid",
        JValue::Uri(_) => "Uri",
        JValue::TimeSpan(_) => "TimeSpan",
        JValue::Bytes(_) => "Byte[]",
        JValue::Null | JValue::Undefined => "Object",
    }
}

fn invalid_cast(v: &JValue, t: Target) -> DotnetError {
    DotnetError::invalid_cast(format!("Invalid cast from '{}' to '{}'.", type_name_of(v), t.name()))
}

/// `System.Convert.To{target}(value, InvariantCulture)` on a non-null JValue.
fn system_convert(v: &JValue, t: Target) -> DnResult<Prim> {
    let int_of_i64 = |i: i64| -> DnResult<Prim> {
        match t {
            Target::Int32 => i32::try_from(i)
                .map(Prim::Int32)
                .map_err(|_| DotnetError::overflow("Value was either too large or too small for an Int32.")),
            _ => Ok(Prim::Int64(i)),
        }
    };
    match t {
        Target::String => Ok(match v {
            JValue::Bytes(b) => Prim::String(base64::engine::general_purpose::STANDARD.encode(b)),
            other => Prim::String(value_to_string(other)),
        }),
        Target::Int32 | Target::Int64 => match v {
            JValue::Integer(i) => int_of_i64(*i),
            JValue::BigInteger(_) => {
                Err(DotnetError::overflow(format!("Value was either too large or too small for an {}.", t.name())))
            }
            JValue::Float(f) => match t {
                Target::Int32 => convert_to_int32(*f).map(Prim::Int32),
                _ => convert_to_int64(*f).map(Prim::Int64),
            },
            JValue::String(s) | JValue::Raw(s) => {
                let it = if t == Target::Int32 { IntType::Int32 } else { IntType::Int64 };
                int_of_i64(parse_int(s, it)? as i64)
            }
            JValue::Boolean(b) => int_of_i64(i64::from(*b)),
            other => Err(invalid_cast(other, t)),
        },
        Target::Double => match v {
            JValue::Integer(i) => Ok(Prim::Double(*i as f64)),
            JValue::BigInteger(s) => Ok(Prim::Double(s.parse().unwrap_or(f64::NAN))),
            JValue::Float(f) => Ok(Prim::Double(*f)),
            JValue::String(s) | JValue::Raw(s) => parse_double(s).map(Prim::Double),
            JValue::Boolean(b) => Ok(Prim::Double(if *b { 1.0 } else { 0.0 })),
            other => Err(invalid_cast(other, t)),
        },
        Target::Boolean => match v {
            JValue::Integer(i) => Ok(Prim::Boolean(*i != 0)),
            JValue::BigInteger(_) => Ok(Prim::Boolean(true)),
            JValue::Float(f) => Ok(Prim::Boolean(*f != 0.0)),
            JValue::String(s) | JValue::Raw(s) => parse_bool(s).map(Prim::Boolean),
            JValue::Boolean(b) => Ok(Prim::Boolean(*b)),
            other => Err(invalid_cast(other, t)),
        },
        Target::DateTime => match v {
            JValue::Date(d) => Ok(Prim::DateTime(*d)),
            JValue::DateOffset(d) => Ok(Prim::DateTime(d.date_time())),
            JValue::String(s) | JValue::Raw(s) => parse_datetime(s).map(Prim::DateTime),
            other => Err(invalid_cast(other, t)),
        },
    }
}

/// The token types Newtonsoft's explicit operator accepts for each target.
fn cast_allows(tt: JTokenType, t: Target) -> bool {
    use JTokenType as T;
    match t {
        Target::String => matches!(
            tt,
            T::Date
                | T::Integer
                | T::Float
                | T::String
                | T::Comment
                | T::Boolean
                | T::Bytes
                | T::Guid
                | T::TimeSpan
                | T::Uri
                | T::Raw
                | T::Null
                | T::Undefined
        ),
        Target::Int32 | Target::Int64 | Target::Double | Target::Boolean => {
            matches!(tt, T::Integer | T::Float | T::String | T::Comment | T::Raw | T::Boolean)
        }
        Target::DateTime => matches!(tt, T::Date | T::Comment | T::String | T::Raw),
    }
}

/// `(T)token` / `(T?)token` / `token.ToObject<T>()` for a primitive `T`.
pub fn cast(token: Option<&JToken>, t: Target, nullable: bool) -> DnResult<Prim> {
    let Some(token) = token else {
        if t == Target::String || nullable {
            return Ok(Prim::Null);
        }
        return Err(DotnetError::argument(format!("Can not convert Null to {}.", t.name())));
    };
    let tt = token.token_type();
    let Some(v) = token.as_value() else {
        return Err(DotnetError::argument(format!("Can not convert {} to {}.", tt.name(), t.name())));
    };
    let is_null = matches!(v, JValue::Null | JValue::Undefined);
    if is_null && (t == Target::String || nullable) {
        return Ok(Prim::Null);
    }
    if !cast_allows(tt, t) || is_null {
        return Err(DotnetError::argument(format!("Can not convert {} to {}.", tt.name(), t.name())));
    }
    system_convert(&v, t)
}

/// `token.Value<T>()` (and `obj.Value<T>("key")` on the looked-up token).
pub fn value_as(token: Option<&JToken>, t: Target, nullable: bool) -> DnResult<Prim> {
    let Some(token) = token else { return Ok(Prim::Null) };
    let Some(v) = token.as_value() else {
        return Err(DotnetError::invalid_cast(format!(
            "Cannot cast Newtonsoft.Json.Linq.{} to Newtonsoft.Json.Linq.JToken.",
            token.class_name()
        )));
    };
    if matches!(v, JValue::Null | JValue::Undefined) {
        if t == Target::String || nullable {
            return Ok(Prim::Null);
        }
        return Err(DotnetError::invalid_cast("Null object cannot be converted to a value type."));
    }
    // Guid, Uri, TimeSpan and byte[] are not IConvertible: ChangeType refuses them.
    if matches!(v, JValue::Guid(_) | JValue::Uri(_) | JValue::TimeSpan(_) | JValue::Bytes(_)) {
        return Err(DotnetError::invalid_cast("Object must implement IConvertible."));
    }
    system_convert(&v, t)
}

/// `JValue` equality as `JToken.DeepEquals` uses it: numbers by value, others by kind.
pub fn values_equal(a: &JValue, b: &JValue) -> bool {
    match (a, b) {
        (JValue::Integer(x), JValue::Float(y)) | (JValue::Float(y), JValue::Integer(x)) => (*x as f64) == *y,
        (JValue::Null, JValue::Null) | (JValue::Undefined, JValue::Undefined) => true,
        _ => a == b,
    }
}

/// Numeric view for comparisons (JSONPath filters): Integer, Float, BigInteger.
pub fn as_number(v: &JValue) -> Option<f64> {
    match v {
        JValue::Integer(i) => Some(*i as f64),
        JValue::Float(f) => Some(*f),
        JValue::BigInteger(s) => s.parse().ok(),
        _ => None,
    }
}
