//! Members of APIM's own types: `Jwt`, its claims dictionary, `BasicAuthCredentials`, and
//! the `AsJwt()` / `AsBasic()` string extensions.

use std::sync::Arc;

use super::eval::fail;
use super::jwt::{parse_basic, parse_jwt};
use super::program::Method;
use super::value::{Ty, Value};
use super::EvalError;

fn strs(v: &[String]) -> Value {
    Value::Array(v.iter().map(|s| Value::str(s)).collect::<Vec<_>>().into())
}

pub fn call_method(m: Method, r: Value, args: Vec<Value>, _ty: Option<Ty>) -> Result<Value, EvalError> {
    use Method::*;
    let a0 = args.first().map(Value::to_text).unwrap_or_default();
    match (m, &r) {
        (AsJwt, Value::Str(s)) => Ok(parse_jwt(s).map_or(Value::Null, |j| Value::Jwt(Arc::new(j)))),
        (AsBasic, Value::Str(s)) => Ok(parse_basic(s).map_or(Value::Null, |b| Value::Basic(Arc::new(b)))),
        (JwtSubject | JwtIssuer | JwtId | JwtAlgorithm | JwtType, Value::Jwt(j)) => {
            let v = match m {
                JwtSubject => j.first("sub"),
                JwtIssuer => j.first("iss"),
                JwtId => j.first("jti"),
                JwtAlgorithm => j.header_value("alg"),
                _ => j.header_value("typ"),
            };
            Ok(v.map_or(Value::Null, Value::str))
        }
        (JwtAudiences, Value::Jwt(j)) => Ok(j.claim("aud").map_or(Value::Array(Arc::from(Vec::new())), strs)),
        (JwtExpirationTime | JwtNotBefore | JwtIssuedAt, Value::Jwt(j)) => {
            let name = match m {
                JwtExpirationTime => "exp",
                JwtNotBefore => "nbf",
                _ => "iat",
            };
            // `DateTime?` in UTC, as APIM's Jwt gives (null without the claim).
            let secs = j.first(name).and_then(|v| v.parse::<f64>().ok()).filter(|s| s.is_finite());
            Ok(secs
                .and_then(|s| crate::policy::dotnet::datetime::DateTimeOffset::from_unix_seconds(s.trunc() as i64).ok())
                .map_or(Value::Null, |d| Value::DateTime(d.utc_date_time())))
        }
        (JwtClaims, Value::Jwt(j)) => Ok(Value::Claims(j.clone())),
        (ClaimsGet, Value::Claims(j)) => match j.claim(&a0) {
            Some(v) => Ok(Value::str(&v.join(","))),
            None => Ok(args.get(1).cloned().unwrap_or(Value::Null)),
        },
        (ClaimsContainsKey, Value::Claims(j)) => Ok(Value::Bool(j.claim(&a0).is_some())),
        (BasicUserId, Value::Basic(b)) => Ok(Value::str(&b.user_id)),
        (BasicPassword, Value::Basic(b)) => Ok(Value::str(&b.password)),
        _ => fail(format!("{m:?} is not available on {}", r.type_name())),
    }
}
