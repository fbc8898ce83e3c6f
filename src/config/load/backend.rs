//! Walking backends: URL, TLS settings, credentials, pool and circuit breaker.

use std::time::Duration;

use simd_json::OwnedValue as Value;

use crate::config::json::{index, join, Ctx, Fields};
use crate::config::model::BackendDoc;
use crate::config::snapshot::{BackendTls, PoolMember};

/// Parses an ISO 8601 duration with days, hours, minutes and (fractional) seconds:
/// `PT10S`, `PT1M30S`, `P1DT2H`, `PT0.5S`. Years, months and weeks are refused (their
/// length is ambiguous).
pub(crate) fn parse_iso_duration(s: &str) -> Option<Duration> {
    let rest = s.strip_prefix('P')?;
    if rest.is_empty() || rest == "T" {
        return None;
    }
    let mut total = 0f64;
    let mut in_time = false;
    let mut num = String::new();
    for c in rest.chars() {
        match c {
            'T' if !in_time && num.is_empty() => in_time = true,
            '0'..='9' | '.' => num.push(c),
            'D' | 'H' | 'M' | 'S' => {
                let n: f64 = num.parse().ok()?;
                num.clear();
                let unit = match (c, in_time) {
                    ('D', false) => 86_400.0,
                    ('H', true) => 3_600.0,
                    ('M', true) => 60.0,
                    ('S', true) => 1.0,
                    _ => return None,
                };
                total += n * unit;
            }
            _ => return None,
        }
    }
    if !num.is_empty() || !total.is_finite() || total > 1e12 {
        return None;
    }
    Some(Duration::from_secs_f64(total))
}

const FIELDS: &[&str] =
    &["id", "url", "tls", "credentials", "pool", "circuitBreaker", "protocol", "description", "type"];

pub(super) fn walk_backend(v: &Value, at: &str, ctx: &mut Ctx) -> BackendDoc {
    let mut b = BackendDoc {
        id: String::new(),
        url: None,
        tls: BackendTls::default(),
        header_credentials: Vec::new(),
        query_credentials: Vec::new(),
        pool: Vec::new(),
        circuit_breaker: None,
    };
    let Some(f) = ctx.fields(v, at, FIELDS) else {
        return b;
    };
    b.id = f.req_str(ctx, "id").unwrap_or_default();
    b.url = f.opt_str(ctx, "url");
    if let Some(t) = f.get("tls") {
        const TLS: &[&str] =
            &["validateCertificateChain", "validateCertificateName", "caCertificateIds", "clientCertificateId"];
        if let Some(t) = ctx.fields(t, &f.at("tls"), TLS) {
            b.tls.validate_certificate_chain = t.bool(ctx, "validateCertificateChain", true);
            b.tls.validate_certificate_name = t.bool(ctx, "validateCertificateName", true);
            b.tls.ca_certificate_ids = t.opt_str_list(ctx, "caCertificateIds").unwrap_or_default();
            b.tls.client_certificate_id = t.opt_str(ctx, "clientCertificateId");
        }
    }
    if let Some(c) = f.get("credentials") {
        if let Some(c) = ctx.fields(c, &f.at("credentials"), &["header", "query"]) {
            b.header_credentials = value_lists(&c, ctx, "header");
            for (name, _) in &mut b.header_credentials {
                *name = name.to_ascii_lowercase();
            }
            b.query_credentials = value_lists(&c, ctx, "query");
        }
    }
    if let Some(p) = f.get("pool") {
        if let Some(p) = ctx.fields(p, &f.at("pool"), &["services"]) {
            for (i, s) in p.array(ctx, "services").iter().enumerate() {
                let at = index(&p.at("services"), i);
                let Some(s) = ctx.fields(s, &at, &["id", "weight", "priority"]) else {
                    continue;
                };
                b.pool.push(PoolMember {
                    backend_id: s.req_str(ctx, "id").unwrap_or_default(),
                    weight: s.opt_uint(ctx, "weight", 1000).unwrap_or(1) as u32,
                    priority: s.opt_uint(ctx, "priority", 1000).unwrap_or(1) as u32,
                });
            }
        }
    }
    refuse_pool(&f, &b, ctx);
    if b.url.is_none() && b.pool.is_empty() {
        ctx.problem(f.at("url"), "required field missing (a backend needs a url or a pool)");
    }
    if let Some(cb) = f.get("circuitBreaker") {
        b.circuit_breaker = super::breaker::walk_breaker(cb, &f.at("circuitBreaker"), ctx);
        // Parsed (so its mistakes are reported) and then refused: a breaker that is accepted
        // and never trips is worse than none (issue 16).
        ctx.problem(
            f.at("circuitBreaker"),
            format!("backend '{}': circuit breakers are not enforced by this gateway yet; remove circuitBreaker", b.id),
        );
    }
    b
}

/// Pools (`type: Pool`, `pool.services`) are refused at load: a pool the gateway cannot
/// balance must not be accepted and then fail every call.
fn refuse_pool(f: &Fields<'_>, b: &BackendDoc, ctx: &mut Ctx) {
    let kind = f.opt_str(ctx, "type");
    match kind.as_deref() {
        None | Some("Single" | "single") => {}
        Some(k) if k.eq_ignore_ascii_case("pool") => {}
        Some(k) => ctx.problem(f.at("type"), format!("backend '{}': unknown type '{k}' (Single or Pool)", b.id)),
    }
    let is_pool = kind.as_deref().is_some_and(|k| k.eq_ignore_ascii_case("pool")) || f.get("pool").is_some();
    if is_pool {
        let at = if f.get("pool").is_some() { f.at("pool") } else { f.at("type") };
        ctx.problem(
            at,
            format!(
                "backend '{}': pool backends (type Pool) are not supported by this gateway; use single backends",
                b.id
            ),
        );
    }
}

/// `{"name": ["v1", "v2"]}` (a single string is accepted as one value).
fn value_lists(f: &Fields<'_>, ctx: &mut Ctx, key: &str) -> Vec<(String, Vec<String>)> {
    let Some(v) = f.get(key) else {
        return Vec::new();
    };
    let path = f.at(key);
    let Value::Object(obj) = v else {
        ctx.problem(path, format!("expected an object, found {}", crate::config::json::kind(v)));
        return Vec::new();
    };
    let mut out = Vec::new();
    for (name, vals) in obj.iter() {
        let at = join(&path, name);
        let list = match vals {
            Value::String(s) => vec![s.clone()],
            other => {
                ctx.array(other, &at).iter().enumerate().filter_map(|(i, x)| ctx.string(x, &index(&at, i))).collect()
            }
        };
        out.push((name.clone(), list));
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_iso_duration("PT10S"), Some(Duration::from_secs(10)));
        assert_eq!(parse_iso_duration("PT1M30S"), Some(Duration::from_secs(90)));
        assert_eq!(parse_iso_duration("P1DT1H"), Some(Duration::from_secs(90_000)));
        assert_eq!(parse_iso_duration("PT0.5S"), Some(Duration::from_millis(500)));
        for bad in ["", "P", "PT", "10S", "PT10", "P1M", "PTxS", "PT1..2S", "P1Y"] {
            assert_eq!(parse_iso_duration(bad), None, "{bad}");
        }
    }
}
