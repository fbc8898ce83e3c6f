//! `context.*` properties. `None` means the object holding the property is null
//! (no subscription, no product, no response yet, no error…).

use super::program::{CertPart, CtxProp, UrlPart};
use super::value::Value;
use crate::policy::runtime::PolicyContext;

fn url(ctx: &PolicyContext<'_>, part: UrlPart, original: bool) -> Value {
    let r = ctx.request;
    let (path, query): (std::borrow::Cow<'_, str>, &str) = if original {
        (r.path().into(), r.query())
    } else {
        match &ctx.request_edits.path_and_query {
            Some(_) => {
                let api = ctx.info.api_path;
                let p = if api.is_empty() { ctx.rest_path().to_string() } else { format!("/{api}{}", ctx.rest_path()) };
                (p.into(), ctx.query())
            }
            None => (r.path().into(), r.query()),
        }
    };
    match part {
        UrlPart::Scheme => Value::str(r.scheme()),
        UrlPart::Host => Value::str(r.host()),
        UrlPart::Port => Value::Int(i64::from(r.port())),
        UrlPart::Path => Value::str(&path),
        UrlPart::QueryString => Value::str(&if query.is_empty() { String::new() } else { format!("?{query}") }),
        UrlPart::Whole => {
            let default = matches!((r.scheme(), r.port()), ("http", 80) | ("https", 443));
            let port = if default { String::new() } else { format!(":{}", r.port()) };
            let q = if query.is_empty() { String::new() } else { format!("?{query}") };
            Value::str(&format!("{}://{}{port}{path}{q}", r.scheme(), r.host()))
        }
    }
}

/// A part of the API's service URL text (`http://host:port/path?query`).
fn service_url_part(text: &str, part: UrlPart) -> Value {
    let (scheme, rest) = text.split_once("://").unwrap_or(("http", text));
    let (authority, tail) = rest.find(['/', '?']).map_or((rest, ""), |i| (&rest[..i], &rest[i..]));
    let (path, query) = tail.split_once('?').map_or((tail, ""), |(p, q)| (p, q));
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) && !p.is_empty() => (h, p.parse().unwrap_or(0)),
        _ => (authority, if scheme.eq_ignore_ascii_case("https") { 443 } else { 80 }),
    };
    match part {
        UrlPart::Scheme => Value::str(scheme),
        UrlPart::Host => Value::str(host),
        UrlPart::Port => Value::Int(port),
        UrlPart::Path => Value::str(if path.is_empty() { "/" } else { path }),
        UrlPart::QueryString => Value::str(&if query.is_empty() { String::new() } else { format!("?{query}") }),
        UrlPart::Whole => Value::str(text),
    }
}

pub fn prop(ctx: &PolicyContext<'_>, p: CtxProp) -> Option<Value> {
    use CtxProp::*;
    let i = &ctx.info;
    let s = |x: &str| Some(Value::str(x));
    let err = ctx.last_error.as_ref();
    match p {
        RequestMethod => s(ctx.method()),
        RequestIp => i.client_ip.map(|ip| Value::str(&ip.to_string())).or(Some(Value::Null)),
        Url(part) => Some(url(ctx, part, false)),
        OriginalUrl(part) => Some(url(ctx, part, true)),
        StatusCode => ctx.response_status().map(|c| Value::Int(i64::from(c))),
        StatusReason => {
            let r = ctx.response.as_ref()?;
            match &ctx.response_edits.status {
                Some((_, reason)) => s(reason),
                None => s(r.backend.as_ref().map(|b| b.reason()).unwrap_or("OK")),
            }
        }
        SubscriptionId => i.subscription.map(|x| Value::str(x.id)),
        SubscriptionName => i.subscription.map(|x| Value::str(x.name)),
        SubscriptionKey => i.subscription.map(|x| Value::str(x.key)),
        SubscriptionPrimaryKey => i.subscription.map(|x| Value::str(x.primary_key)),
        SubscriptionSecondaryKey => i.subscription.map(|x| Value::str(x.secondary_key)),
        ProductId => i.product.map(|x| Value::str(x.0)),
        ProductName => i.product.map(|x| Value::str(x.1)),
        ApiId => s(i.api_id),
        ApiName => s(i.api_name),
        ApiPath => s(i.api_path),
        ApiServiceUrl => s(i.api_service_url),
        ApiVersion => s(i.api_version),
        ApiRevision => s("1"),
        ApiIsCurrentRevision => Some(Value::Bool(true)),
        OperationId => i.operation.map(|o| Value::str(o.id)),
        OperationName => i.operation.map(|o| Value::str(o.name)),
        OperationMethod => i.operation.map(|o| Value::str(o.method)),
        OperationUrlTemplate => i.operation.map(|o| Value::str(o.url_template)),
        UserId => i.user_id.map(Value::str),
        GatewayId => s(i.gateway_id),
        Region => s(i.region),
        ServiceName => s(i.service_name),
        RequestId => s(i.request_id),
        // An ISO 8601 UTC text made by the gateway: it always parses.
        Timestamp => Some(
            crate::policy::dotnet::datetime::parse_datetime(i.timestamp)
                .map(|d| Value::DateTime(d.to_universal_time()))
                .unwrap_or_else(|_| Value::str(i.timestamp)),
        ),
        Elapsed => Some(Value::TimeSpan(crate::policy::dotnet::datetime::TimeSpan::from_ticks(
            i64::try_from(ctx.started.elapsed().as_nanos() / 100).unwrap_or(i64::MAX),
        ))),
        // Tracing (APIM's request traces) is not a ringgate feature: always off.
        Tracing => Some(Value::Bool(false)),
        GatewayInstanceId => s(i.gateway_id),
        GatewayIsManaged => Some(Value::Bool(false)),
        ServiceUrlPart(part) => Some(service_url_part(i.api_service_url, part)),
        ElapsedMilliseconds => Some(Value::Double(ctx.started.elapsed().as_secs_f64() * 1000.0)),
        ElapsedSeconds => Some(Value::Double(ctx.started.elapsed().as_secs_f64())),
        LastErrorSource => err.map(|e| Value::str(&e.source)),
        LastErrorReason => err.map(|e| Value::str(&e.reason)),
        LastErrorMessage => err.map(|e| Value::str(&e.message)),
        LastErrorScope => err.map(|e| Value::str(&e.scope)),
        LastErrorSection => err.map(|e| Value::str(&e.section)),
        LastErrorPath => err.map(|e| Value::str(&e.path)),
        LastErrorPolicyId => err.map(|e| Value::str(&e.policy_id)),
        Certificate(part) => certificate(ctx, part),
    }
}

/// `context.Request.Certificate…`: null (the whole) or a null object (a member) without one.
fn certificate(ctx: &PolicyContext<'_>, part: CertPart) -> Option<Value> {
    use crate::tls::x509::time_text;
    let Some(c) = ctx.client_certificate() else {
        return if part == CertPart::Whole { Some(Value::Null) } else { None };
    };
    let der = || ctx.client_chain.as_ref().and_then(|ch| ch.first()).map(|d| Value::Bytes(d.as_ref().into()));
    Some(match part {
        CertPart::Whole | CertPart::Raw => der()?,
        CertPart::Thumbprint => Value::str(&c.thumbprint),
        CertPart::Subject => Value::str(&c.subject),
        CertPart::Issuer => Value::str(&c.issuer),
        CertPart::SerialNumber => Value::str(&c.serial),
        CertPart::NotBefore => Value::str(&time_text(c.not_before)),
        CertPart::NotAfter => Value::str(&time_text(c.not_after)),
        CertPart::Verify => Value::Bool(ctx.verify_client_certificate()),
    })
}
