//! The bindings of the dotnet library module (`policy::dotnet`): `DateTime`, `TimeSpan`,
//! `Regex` with its `Match`/`Group`, and the hash and HMAC classes. The library computes;
//! this file maps expression values to its arguments and its `DotnetError`s to exceptions.

use std::sync::Arc;

use crate::policy::dotnet::crypto::{
    aes_decrypt, aes_encrypt, compute_hash, compute_hmac, CipherMode, HashAlgorithm, PaddingMode,
};
use crate::policy::dotnet::datetime::{self, Civil, DateTime, DateTimeKind, TimeSpan};
use crate::policy::dotnet::regex::{Regex, RegexOptions};
use crate::policy::dotnet::{DotnetError, ExceptionKind};

use super::program::BinOp;
use super::value::{Ty, Value};
use super::EvalError;

/// A library failure as the exception the expression sees.
pub fn dn(e: DotnetError) -> EvalError {
    if e.kind == ExceptionKind::Budget {
        return EvalError::budget(e.message);
    }
    let full = e.kind.type_name();
    let short = full.rsplit('.').next().unwrap_or(full);
    let ty = super::types::exception_type(short).unwrap_or(match e.kind {
        ExceptionKind::RegexParse => "ArgumentException",
        _ => "Exception",
    });
    EvalError::of(ty, e.message)
}

fn text(v: &Value) -> Result<String, EvalError> {
    match v {
        Value::Null => Err(EvalError::of("ArgumentNullException", "Value cannot be null. (Parameter 'input')")),
        v => Ok(v.to_text()),
    }
}

fn num(v: &Value) -> Result<f64, EvalError> {
    super::linq::scalar(v)
        .as_f64()
        .ok_or_else(|| EvalError::new(format!("a number is needed, found {}", v.type_name())))
}

fn bytes(v: &Value) -> Result<Arc<[u8]>, EvalError> {
    match v {
        Value::Bytes(b) => Ok(b.clone()),
        Value::Null => Err(EvalError::of("ArgumentNullException", "Value cannot be null. (Parameter 'buffer')")),
        other => Err(EvalError::new(format!("a byte[] is needed, found {}", other.type_name()))),
    }
}

/// `RegexOptions` from an enum member or a combination (`IgnoreCase | Multiline`).
pub fn regex_options(v: Option<&Value>) -> Result<RegexOptions, EvalError> {
    Ok(RegexOptions(match v {
        None => 0,
        Some(Value::Enum("RegexOptions", m)) => option_bit(m),
        Some(Value::Int(n)) => u32::try_from(*n).unwrap_or(0),
        Some(other) => return Err(EvalError::new(format!("a RegexOptions is needed, found {}", other.type_name()))),
    }))
}

pub fn option_bit(m: &str) -> u32 {
    match m {
        "IgnoreCase" => RegexOptions::IGNORE_CASE,
        "Multiline" => RegexOptions::MULTILINE,
        "ExplicitCapture" => RegexOptions::EXPLICIT_CAPTURE,
        "Compiled" => RegexOptions::COMPILED,
        "Singleline" => RegexOptions::SINGLELINE,
        "IgnorePatternWhitespace" => RegexOptions::IGNORE_PATTERN_WHITESPACE,
        "RightToLeft" => RegexOptions::RIGHT_TO_LEFT,
        "ECMAScript" => RegexOptions::ECMA_SCRIPT,
        "CultureInvariant" => RegexOptions::CULTURE_INVARIANT,
        _ => RegexOptions::NONE,
    }
}

/// A pattern written as a literal is compiled at load, so what the linear-time engine
/// cannot run (backreferences, lookaround) is refused with its position.
pub fn check_pattern(pattern: &str) -> Result<(), String> {
    Regex::new(pattern, RegexOptions(0)).map(|_| ()).map_err(|e| e.message)
}

fn regex(pattern: &Value, opts: Option<&Value>) -> Result<Arc<Regex>, EvalError> {
    Regex::new(&text(pattern)?, regex_options(opts)?).map(Arc::new).map_err(dn)
}

fn now() -> DateTime {
    DateTime::from_system_time(std::time::SystemTime::now(), DateTimeKind::Utc)
}

fn hash_of(name: &str) -> Option<HashAlgorithm> {
    HashAlgorithm::from_name(name)
}

/// Static members of the bound types, by id (`DateTime.UtcNow`, `Regex.Match`…).
pub fn static_call(id: &str, args: &[Value]) -> Option<Result<Value, EvalError>> {
    let a = |i: usize| args.get(i).unwrap_or(&Value::Null);
    Some((|| -> Result<Value, EvalError> {
        Ok(match id {
            "DateTime.UtcNow" => Value::DateTime(now()),
            // The gateway's local zone is UTC (as a container's is by default).
            "DateTime.Now" => Value::DateTime(now().with_kind(DateTimeKind::Local)),
            "DateTime.Today" => Value::DateTime(now().with_kind(DateTimeKind::Local).date()),
            "DateTime.Parse" => Value::DateTime(datetime::parse_datetime(&text(a(0))?).map_err(dn)?),
            "DateTime.ParseExact" => {
                Value::DateTime(datetime::parse_datetime_exact(&text(a(0))?, &text(a(1))?).map_err(dn)?)
            }
            "DateTime.TryParse" => match datetime::parse_datetime(&a(0).to_text()) {
                Ok(d) => Value::Pair(Arc::new((Value::Bool(true), Value::DateTime(d)))),
                Err(_) => Value::Pair(Arc::new((
                    Value::Bool(false),
                    Value::DateTime(DateTime::from_ticks(0, DateTimeKind::Unspecified).map_err(dn)?),
                ))),
            },
            "TimeSpan.FromDays" => Value::TimeSpan(TimeSpan::from_days(num(a(0))?).map_err(dn)?),
            "TimeSpan.FromHours" => Value::TimeSpan(TimeSpan::from_hours(num(a(0))?).map_err(dn)?),
            "TimeSpan.FromMinutes" => Value::TimeSpan(TimeSpan::from_minutes(num(a(0))?).map_err(dn)?),
            "TimeSpan.FromSeconds" => Value::TimeSpan(TimeSpan::from_seconds(num(a(0))?).map_err(dn)?),
            "TimeSpan.FromMilliseconds" => Value::TimeSpan(TimeSpan::from_milliseconds(num(a(0))?).map_err(dn)?),
            "TimeSpan.Parse" => Value::TimeSpan(datetime::parse_timespan(&text(a(0))?).map_err(dn)?),
            "Regex.IsMatch" => Value::Bool(regex(a(1), args.get(2))?.is_match(&text(a(0))?)),
            "Regex.Match" => Value::RxMatch(Arc::new(regex(a(1), args.get(2))?.find(&text(a(0))?))),
            "Regex.Replace" => {
                Value::str(&regex(a(1), args.get(3))?.replace(&text(a(0))?, &text(a(2))?, -1).map_err(dn)?)
            }
            "BitConverter.ToString" => {
                Value::str(&crate::policy::dotnet::encoding::bit_converter_to_string(&bytes(a(0))?))
            }
            "SHA256.Create" | "SHA1.Create" | "SHA384.Create" | "SHA512.Create" | "MD5.Create" => {
                let alg = hash_of(id.split('.').next().unwrap_or(""))
                    .ok_or_else(|| EvalError::new(format!("{id} is not yet supported by ringgate")))?;
                Value::Hasher(Arc::new((alg, None)))
            }
            _ => return Err(EvalError::new(format!("{id} is not yet supported by ringgate"))),
        })
    })())
}

/// `new HMACSHA256(key)`, `new Regex(pattern[, options])`, `new TimeSpan(…)`, `new DateTime(…)`.
pub fn construct(kind: &str, args: &[Value]) -> Option<Result<Value, EvalError>> {
    let a = |i: usize| args.get(i).unwrap_or(&Value::Null);
    Some((|| -> Result<Value, EvalError> {
        Ok(match kind {
            "Regex" => Value::Regex(regex(a(0), args.get(1))?),
            k if k.starts_with("HMAC") => {
                let alg = hash_of(k).ok_or_else(|| EvalError::new(format!("{k} is not yet supported by ringgate")))?;
                let key = match args.first() {
                    Some(v) => bytes(v)?,
                    None => return Err(EvalError::new("an HMAC without a key is not yet supported by ringgate")),
                };
                Value::Hasher(Arc::new((alg, Some(key))))
            }
            "TimeSpan" => {
                let n: Vec<i64> = args.iter().map(super::eval::int_arg).collect::<Result<_, _>>()?;
                let i = |k: usize| i32::try_from(n.get(k).copied().unwrap_or(0)).unwrap_or(0);
                Value::TimeSpan(match n.len() {
                    1 => TimeSpan::from_ticks(n[0]),
                    3 => TimeSpan::new(0, i(0), i(1), i(2), 0).map_err(dn)?,
                    4 => TimeSpan::new(i(0), i(1), i(2), i(3), 0).map_err(dn)?,
                    _ => TimeSpan::new(i(0), i(1), i(2), i(3), i(4)).map_err(dn)?,
                })
            }
            "DateTime" => {
                let n: Vec<i64> = args
                    .iter()
                    .filter(|v| !matches!(v, Value::Enum(..)))
                    .map(super::eval::int_arg)
                    .collect::<Result<_, _>>()?;
                let kind = match args.last() {
                    Some(Value::Enum("DateTimeKind", "Utc")) => DateTimeKind::Utc,
                    _ => DateTimeKind::Unspecified,
                };
                let i = |k: usize| i32::try_from(n.get(k).copied().unwrap_or(0)).unwrap_or(0);
                Value::DateTime(
                    DateTime::new(Civil::date(i(0), i(1), i(2)).at(i(3), i(4), i(5)).ms(i(6)), kind).map_err(dn)?,
                )
            }
            _ => return Err(EvalError::new(format!("new {kind}(…) is not yet supported by ringgate"))),
        })
    })())
}

/// Instance methods of the bound values.
pub fn invoke(name: &str, recv: &Value, args: &[Value]) -> Option<Result<Value, EvalError>> {
    let a = |i: usize| args.get(i).unwrap_or(&Value::Null);
    let r = (|| -> Result<Option<Value>, EvalError> {
        Ok(Some(match (recv, name) {
            (Value::DateTime(d), "ToString") => Value::str(&match args.first() {
                None | Some(Value::Null) => d.to_dotnet_string(),
                Some(f) => d.to_string_format(&text(f)?).map_err(dn)?,
            }),
            (Value::DateTime(d), "AddDays") => Value::DateTime(d.add_days(num(a(0))?).map_err(dn)?),
            (Value::DateTime(d), "AddHours") => Value::DateTime(d.add_hours(num(a(0))?).map_err(dn)?),
            (Value::DateTime(d), "AddMinutes") => Value::DateTime(d.add_minutes(num(a(0))?).map_err(dn)?),
            (Value::DateTime(d), "AddSeconds") => Value::DateTime(d.add_seconds(num(a(0))?).map_err(dn)?),
            (Value::DateTime(d), "AddMilliseconds") => Value::DateTime(d.add_milliseconds(num(a(0))?).map_err(dn)?),
            (Value::DateTime(d), "AddMonths") => Value::DateTime(
                d.add_months(i32::try_from(super::eval::int_arg(a(0))?).unwrap_or(i32::MAX)).map_err(dn)?,
            ),
            (Value::DateTime(d), "AddYears") => Value::DateTime(
                d.add_years(i32::try_from(super::eval::int_arg(a(0))?).unwrap_or(i32::MAX)).map_err(dn)?,
            ),
            (Value::DateTime(d), "AddTicks") => Value::DateTime(d.add_ticks(super::eval::int_arg(a(0))?).map_err(dn)?),
            (Value::DateTime(d), "Add") => match a(0) {
                Value::TimeSpan(t) => Value::DateTime(d.add(*t).map_err(dn)?),
                v => return Err(EvalError::new(format!("DateTime.Add needs a TimeSpan, found {}", v.type_name()))),
            },
            (Value::DateTime(d), "Subtract") => match a(0) {
                Value::DateTime(o) => Value::TimeSpan(d.subtract(*o)),
                Value::TimeSpan(t) => Value::DateTime(d.subtract_span(*t).map_err(dn)?),
                v => {
                    return Err(EvalError::new(format!(
                        "DateTime.Subtract needs a DateTime or TimeSpan, found {}",
                        v.type_name()
                    )))
                }
            },
            (Value::DateTime(d), "ToUniversalTime") => Value::DateTime(d.to_universal_time()),
            (Value::DateTime(d), "ToLocalTime") => Value::DateTime(d.to_local_time()),
            (Value::TimeSpan(t), "ToString") => Value::str(&match args.first() {
                None | Some(Value::Null) => t.to_dotnet_string(),
                Some(f) => t.to_string_format(&text(f)?).map_err(dn)?,
            }),
            (Value::TimeSpan(t), "Add") => match a(0) {
                Value::TimeSpan(o) => Value::TimeSpan(t.add(*o).map_err(dn)?),
                v => return Err(EvalError::new(format!("TimeSpan.Add needs a TimeSpan, found {}", v.type_name()))),
            },
            (Value::Regex(r), "IsMatch") => Value::Bool(r.is_match(&text(a(0))?)),
            (Value::Regex(r), "Match") => Value::RxMatch(Arc::new(r.find(&text(a(0))?))),
            (Value::Regex(r), "Replace") => Value::str(&r.replace(&text(a(0))?, &text(a(1))?, -1).map_err(dn)?),
            (Value::Hasher(h), "ComputeHash") => {
                let data = bytes(a(0))?;
                Value::Bytes(
                    match &h.1 {
                        Some(key) => compute_hmac(h.0, key, &data).map_err(dn)?,
                        None => compute_hash(h.0, &data),
                    }
                    .into(),
                )
            }
            (Value::Bytes(b), "Encrypt" | "Decrypt") => {
                // APIM's extensions: `Encrypt(alg, key, iv)` with .NET's defaults (CBC, PKCS7).
                let alg = text(a(0))?;
                if !alg.eq_ignore_ascii_case("Aes") && !alg.eq_ignore_ascii_case("System.Security.Cryptography.Aes") {
                    return Err(EvalError::new(format!(
                        "{name}(\"{alg}\", …) is not yet supported by ringgate (Aes is)"
                    )));
                }
                let (key, iv) = (bytes(a(1))?, bytes(a(2))?);
                let out = if name == "Encrypt" {
                    aes_encrypt(b, &key, &iv, CipherMode::Cbc, PaddingMode::Pkcs7)
                } else {
                    aes_decrypt(b, &key, &iv, CipherMode::Cbc, PaddingMode::Pkcs7)
                };
                Value::Bytes(out.map_err(dn)?.into())
            }
            (Value::RxMatch(m), "ToString") => Value::str(m.value()),
            (Value::RxGroup(g), "ToString") => Value::str(&g.value),
            _ => return Ok(None),
        }))
    })();
    r.transpose()
}

/// Properties of the bound values.
pub fn get(name: &str, recv: &Value) -> Option<Result<Value, EvalError>> {
    let int = |n: i64| Value::Int(n);
    Some(Ok(match (recv, name) {
        (Value::DateTime(d), "Year") => int(i64::from(d.year())),
        (Value::DateTime(d), "Month") => int(i64::from(d.month())),
        (Value::DateTime(d), "Day") => int(i64::from(d.day())),
        (Value::DateTime(d), "Hour") => int(i64::from(d.hour())),
        (Value::DateTime(d), "Minute") => int(i64::from(d.minute())),
        (Value::DateTime(d), "Second") => int(i64::from(d.second())),
        (Value::DateTime(d), "Millisecond") => int(i64::from(d.millisecond())),
        (Value::DateTime(d), "Ticks") => int(d.ticks()),
        (Value::DateTime(d), "DayOfYear") => int(i64::from(d.day_of_year())),
        (Value::DateTime(d), "DayOfWeek") => Value::Enum("DayOfWeek", d.day_of_week().name()),
        (Value::DateTime(d), "Date") => Value::DateTime(d.date()),
        (Value::DateTime(d), "TimeOfDay") => Value::TimeSpan(d.time_of_day()),
        (Value::TimeSpan(t), "TotalDays") => Value::Double(t.total_days()),
        (Value::TimeSpan(t), "TotalHours") => Value::Double(t.total_hours()),
        (Value::TimeSpan(t), "TotalMinutes") => Value::Double(t.total_minutes()),
        (Value::TimeSpan(t), "TotalSeconds") => Value::Double(t.total_seconds()),
        (Value::TimeSpan(t), "TotalMilliseconds") => Value::Double(t.total_milliseconds()),
        (Value::TimeSpan(t), "Days") => int(i64::from(t.days())),
        (Value::TimeSpan(t), "Hours") => int(i64::from(t.hours())),
        (Value::TimeSpan(t), "Minutes") => int(i64::from(t.minutes())),
        (Value::TimeSpan(t), "Seconds") => int(i64::from(t.seconds())),
        (Value::TimeSpan(t), "Milliseconds") => int(i64::from(t.milliseconds())),
        (Value::TimeSpan(t), "Ticks") => int(t.ticks()),
        (Value::RxMatch(m), "Success") => Value::Bool(m.success()),
        (Value::RxMatch(m), "Value") => Value::str(m.value()),
        (Value::RxMatch(m), "Index") => int(i64::try_from(m.index()).unwrap_or(-1)),
        (Value::RxMatch(m), "Length") => int(i64::try_from(m.length()).unwrap_or(-1)),
        (Value::RxMatch(m), "Groups") => Value::RxGroups(m.clone()),
        (Value::RxGroups(m), "Count") => int(i64::try_from(m.group_count()).unwrap_or(0)),
        (Value::RxGroup(g), "Success") => Value::Bool(g.success),
        (Value::RxGroup(g), "Value") => Value::str(&g.value),
        (Value::RxGroup(g), "Index") => int(i64::try_from(g.index).unwrap_or(-1)),
        (Value::RxGroup(g), "Length") => int(i64::try_from(g.length).unwrap_or(-1)),
        (Value::RxGroup(g), "Name") => Value::str(&g.name),
        _ => return None,
    }))
}

/// `m.Groups[1]` / `m.Groups["name"]`.
pub fn index(recv: &Value, i: &Value) -> Option<Result<Value, EvalError>> {
    let Value::RxGroups(m) = recv else { return None };
    Some(Ok(Value::RxGroup(Arc::new(match i {
        Value::Int(n) => m.group(*n),
        v => m.group_named(&v.to_text()),
    }))))
}

/// Operators on dates and spans: `d2 - d1`, `d + span`, comparisons.
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
    let is_cmp = matches!(op, BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::Eq | BinOp::Ne);
    Some(match (x, y) {
        (Value::DateTime(a), Value::DateTime(b)) if is_cmp => Ok(cmp(a.cmp(b))),
        (Value::DateTime(a), Value::DateTime(b)) if op == BinOp::Sub => Ok(Value::TimeSpan(a.subtract(*b))),
        (Value::DateTime(a), Value::TimeSpan(t)) if op == BinOp::Add => a.add(*t).map(Value::DateTime).map_err(dn),
        (Value::DateTime(a), Value::TimeSpan(t)) if op == BinOp::Sub => {
            a.subtract_span(*t).map(Value::DateTime).map_err(dn)
        }
        (Value::TimeSpan(a), Value::TimeSpan(b)) if is_cmp => Ok(cmp(a.ticks().cmp(&b.ticks()))),
        (Value::TimeSpan(a), Value::TimeSpan(b)) if op == BinOp::Add => a.add(*b).map(Value::TimeSpan).map_err(dn),
        (Value::TimeSpan(a), Value::TimeSpan(b)) if op == BinOp::Sub => a.subtract(*b).map(Value::TimeSpan).map_err(dn),
        (Value::Enum("RegexOptions", a), Value::Enum("RegexOptions", b)) if op == BinOp::BitOr => {
            Ok(Value::Int(i64::from(option_bit(a) | option_bit(b))))
        }
        (Value::Int(a), Value::Enum("RegexOptions", b)) | (Value::Enum("RegexOptions", b), Value::Int(a))
            if op == BinOp::BitOr =>
        {
            Ok(Value::Int(a | i64::from(option_bit(b))))
        }
        _ => return None,
    })
}

/// The static type of a bound member's result, for the load-time tables.
pub fn prop_ty(on: Ty, name: &str) -> Option<Ty> {
    Some(match (on, name) {
        (Ty::DateTime, "Date") => Ty::DateTime,
        (Ty::DateTime, "TimeOfDay") => Ty::TimeSpan,
        (Ty::DateTime, "DayOfWeek") => Ty::Enum,
        (Ty::DateTime, "Year" | "Month" | "Day" | "Hour" | "Minute" | "Second" | "Millisecond" | "DayOfYear") => {
            Ty::Int
        }
        (Ty::DateTime, "Ticks") | (Ty::TimeSpan, "Ticks") => Ty::Long,
        (Ty::TimeSpan, "TotalDays" | "TotalHours" | "TotalMinutes" | "TotalSeconds" | "TotalMilliseconds") => {
            Ty::Double
        }
        (Ty::TimeSpan, "Days" | "Hours" | "Minutes" | "Seconds" | "Milliseconds") => Ty::Int,
        (Ty::RxMatch, "Success") | (Ty::RxGroup, "Success") => Ty::Bool,
        (Ty::RxMatch, "Value") | (Ty::RxGroup, "Value" | "Name") => Ty::Str,
        (Ty::RxMatch, "Index" | "Length") | (Ty::RxGroup, "Index" | "Length") => Ty::Int,
        (Ty::RxMatch, "Groups") => Ty::RxGroups,
        (Ty::RxGroups, "Count") => Ty::Int,
        _ => return None,
    })
}

pub fn method_ty(on: Ty, name: &str) -> Option<(usize, usize, Ty)> {
    Some(match (on, name) {
        (Ty::DateTime, "ToString") | (Ty::TimeSpan, "ToString") => (0, 1, Ty::Str),
        (
            Ty::DateTime,
            "AddDays" | "AddHours" | "AddMinutes" | "AddSeconds" | "AddMilliseconds" | "AddMonths" | "AddYears"
            | "AddTicks" | "Add",
        ) => (1, 1, Ty::DateTime),
        (Ty::DateTime, "Subtract") => (1, 1, Ty::Any),
        (Ty::DateTime, "ToUniversalTime" | "ToLocalTime") => (0, 0, Ty::DateTime),
        (Ty::TimeSpan, "Add") => (1, 1, Ty::TimeSpan),
        (Ty::Regex, "IsMatch") => (1, 1, Ty::Bool),
        (Ty::Regex, "Match") => (1, 1, Ty::RxMatch),
        (Ty::Regex, "Replace") => (2, 2, Ty::Str),
        (Ty::Hasher, "ComputeHash") => (1, 1, Ty::Bytes),
        (Ty::Bytes, "Encrypt" | "Decrypt") => (3, 3, Ty::Bytes),
        _ => return None,
    })
}
