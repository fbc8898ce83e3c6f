//! `System.DateTimeOffset` at runtime: `UtcNow`/`Now`, `FromUnixTimeSeconds`/`Milliseconds`,
//! `Parse`, `new DateTimeOffset(dateTime[, offset])`, and the members JWT and signature
//! documents use (`ToUnixTimeSeconds()`, `UtcDateTime`, `AddMinutes`, `ToString(format)`…).

use crate::policy::dotnet::datetime::{self, DateTime, DateTimeKind, DateTimeOffset};

use super::bind::dn;
use super::program::BinOp;
use super::value::Value;
use super::EvalError;

const TICKS_PER_SECOND: f64 = 10_000_000.0;

fn now() -> DateTimeOffset {
    DateTimeOffset::from_datetime(DateTime::from_system_time(std::time::SystemTime::now(), DateTimeKind::Utc))
}

fn int(v: &Value) -> Result<i64, EvalError> {
    super::eval::int_arg(v)
}

fn num(v: &Value) -> Result<f64, EvalError> {
    super::linq::scalar(v)
        .as_f64()
        .ok_or_else(|| EvalError::new(format!("a number is needed, found {}", v.type_name())))
}

fn add_units(d: DateTimeOffset, amount: f64, seconds_per_unit: f64) -> Result<Value, EvalError> {
    let ticks = (amount * seconds_per_unit * TICKS_PER_SECOND).round();
    if !ticks.is_finite() || ticks.abs() > 3.2e18 {
        return Err(EvalError::of("ArgumentOutOfRangeException", "Value to add was out of range. (Parameter 'value')"));
    }
    d.add_ticks(ticks as i64).map(Value::Dto).map_err(dn)
}

/// Static members, by id.
pub fn static_call(id: &str, args: &[Value]) -> Option<Result<Value, EvalError>> {
    let a0 = args.first().unwrap_or(&Value::Null);
    Some(match id {
        "DateTimeOffset.UtcNow" | "DateTimeOffset.Now" => Ok(Value::Dto(now())),
        "DateTimeOffset.FromUnixTimeSeconds" => {
            int(a0).and_then(|s| DateTimeOffset::from_unix_seconds(s).map(Value::Dto).map_err(dn))
        }
        "DateTimeOffset.FromUnixTimeMilliseconds" => {
            int(a0).and_then(|s| DateTimeOffset::from_unix_milliseconds(s).map(Value::Dto).map_err(dn))
        }
        "DateTimeOffset.Parse" => match a0 {
            Value::Null => Err(EvalError::of("ArgumentNullException", "Value cannot be null. (Parameter 'input')")),
            v => datetime::parse_offset(&v.to_text()).map(Value::Dto).map_err(dn),
        },
        _ => return None,
    })
}

/// `new DateTimeOffset(dateTime)`, `new DateTimeOffset(dateTime, offset)`.
pub fn construct(args: &[Value]) -> Result<Value, EvalError> {
    match (args.first(), args.get(1)) {
        (Some(Value::DateTime(d)), None) => Ok(Value::Dto(DateTimeOffset::from_datetime(*d))),
        (Some(Value::DateTime(d)), Some(Value::TimeSpan(o))) => DateTimeOffset::new(*d, *o).map(Value::Dto).map_err(dn),
        _ => Err(EvalError::new(
            "new DateTimeOffset(…) runs with (DateTime) or (DateTime, TimeSpan) in ringgate; other overloads are not yet supported",
        )),
    }
}

/// Properties.
pub fn get(name: &str, recv: &Value) -> Option<Result<Value, EvalError>> {
    let Value::Dto(d) = recv else { return None };
    let i = |n: i32| Ok(Value::Int(i64::from(n)));
    Some(match name {
        "UtcDateTime" => Ok(Value::DateTime(d.utc_date_time())),
        "DateTime" => Ok(Value::DateTime(d.date_time())),
        "LocalDateTime" => Ok(Value::DateTime(d.local_date_time())),
        "Offset" => Ok(Value::TimeSpan(d.offset())),
        "Year" => i(d.date_time().year()),
        "Month" => i(d.date_time().month()),
        "Day" => i(d.date_time().day()),
        "Hour" => i(d.date_time().hour()),
        "Minute" => i(d.date_time().minute()),
        "Second" => i(d.date_time().second()),
        "Millisecond" => i(d.date_time().millisecond()),
        "Ticks" => Ok(Value::Int(d.date_time().ticks())),
        "UtcTicks" => Ok(Value::Int(d.utc_date_time().ticks())),
        "Date" => Ok(Value::DateTime(d.date_time().date())),
        _ => return None,
    })
}

/// Methods.
pub fn invoke(name: &str, recv: &Value, args: &[Value]) -> Option<Result<Value, EvalError>> {
    let Value::Dto(d) = recv else { return None };
    let a0 = args.first().unwrap_or(&Value::Null);
    Some((|| match name {
        "ToUnixTimeSeconds" => Ok(Value::Int(d.to_unix_seconds())),
        "ToUnixTimeMilliseconds" => Ok(Value::Int(d.to_unix_milliseconds())),
        "ToUniversalTime" => Ok(Value::Dto(d.to_universal_time())),
        "ToString" => match a0 {
            Value::Null => Ok(Value::str(&d.to_dotnet_string())),
            f => d.to_string_format(&f.to_text()).map(|s| Value::str(&s)).map_err(dn),
        },
        "AddDays" => add_units(*d, num(a0)?, 86_400.0),
        "AddHours" => add_units(*d, num(a0)?, 3_600.0),
        "AddMinutes" => add_units(*d, num(a0)?, 60.0),
        "AddSeconds" => add_units(*d, num(a0)?, 1.0),
        "AddMilliseconds" => add_units(*d, num(a0)?, 0.001),
        "AddMonths" => d.add_months(i32::try_from(int(a0)?).unwrap_or(i32::MAX)).map(Value::Dto).map_err(dn),
        "Add" => match a0 {
            Value::TimeSpan(t) => d.add_ticks(t.ticks()).map(Value::Dto).map_err(dn),
            v => Err(EvalError::new(format!("DateTimeOffset.Add needs a TimeSpan, found {}", v.type_name()))),
        },
        "Subtract" => match a0 {
            Value::Dto(o) => Ok(Value::TimeSpan(d.subtract(*o))),
            Value::TimeSpan(t) => d.add_ticks(-t.ticks()).map(Value::Dto).map_err(dn),
            v => Err(EvalError::new(format!(
                "DateTimeOffset.Subtract needs a DateTimeOffset or TimeSpan, found {}",
                v.type_name()
            ))),
        },
        _ => Err(EvalError::new(format!("DateTimeOffset.{name} is not yet supported by ringgate"))),
    })())
}

/// Comparisons, `a - b` and `a ± span`.
pub fn binary(op: BinOp, x: &Value, y: &Value) -> Option<Result<Value, EvalError>> {
    use std::cmp::Ordering;
    let cmp = |o: Ordering| {
        Value::Bool(match op {
            BinOp::Lt => o == Ordering::Less,
            BinOp::Le => o != Ordering::Greater,
            BinOp::Gt => o == Ordering::Greater,
            BinOp::Ge => o != Ordering::Less,
            BinOp::Eq => o == Ordering::Equal,
            _ => o != Ordering::Equal,
        })
    };
    Some(match (x, y, op) {
        (Value::Dto(a), Value::Dto(b), BinOp::Sub) => Ok(Value::TimeSpan(a.subtract(*b))),
        (Value::Dto(a), Value::Dto(b), BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::Eq | BinOp::Ne) => {
            Ok(cmp(a.cmp(b)))
        }
        (Value::Dto(a), Value::TimeSpan(t), BinOp::Add) => a.add_ticks(t.ticks()).map(Value::Dto).map_err(dn),
        (Value::Dto(a), Value::TimeSpan(t), BinOp::Sub) => a.add_ticks(-t.ticks()).map(Value::Dto).map_err(dn),
        _ => return None,
    })
}
