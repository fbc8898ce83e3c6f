//! Walking a backend's circuit breaker, in either shape: APIM's ARM shape
//! (`circuitBreaker.rules[]`, each with `failureCondition`, `tripDuration`, `acceptRetryAfter`)
//! or the flattened one ringgate has always read (`failureCount`, `interval`, `tripDuration`,
//! `statusCodeRanges`, `acceptRetryAfter` on `circuitBreaker` itself). APIM allows one rule per
//! backend; so does ringgate. `failureCondition.percentage` is refused: it is not enforced.

use simd_json::OwnedValue as Value;

use super::backend::parse_iso_duration;
use crate::config::json::{index, Ctx, Fields};
use crate::config::snapshot::CircuitBreaker;

const FLAT: &[&str] =
    &["failureCount", "interval", "tripDuration", "statusCodeRanges", "acceptRetryAfter", "errorReasons"];
const RULE: &[&str] = &["name", "failureCondition", "tripDuration", "acceptRetryAfter"];
const CONDITION: &[&str] = &["count", "percentage", "interval", "statusCodeRanges", "errorReasons"];

pub(super) fn walk_breaker(v: &Value, at: &str, ctx: &mut Ctx) -> Option<CircuitBreaker> {
    let is_arm = matches!(v, Value::Object(o) if o.contains_key("rules"));
    if !is_arm {
        let f = ctx.fields(v, at, FLAT)?;
        return rule(&f, &f, "failureCount", ctx);
    }
    let f = ctx.fields(v, at, &["rules"])?;
    let rules = f.array(ctx, "rules");
    if rules.len() != 1 {
        ctx.problem(f.at("rules"), format!("a backend takes exactly one circuit breaker rule (found {})", rules.len()));
        return None;
    }
    let r = ctx.fields(&rules[0], &index(&f.at("rules"), 0), RULE)?;
    let Some(cond) = r.get("failureCondition") else {
        ctx.problem(r.at("failureCondition"), "required field missing");
        return None;
    };
    let c = ctx.fields(cond, &r.at("failureCondition"), CONDITION)?;
    if c.get("percentage").is_some() {
        ctx.problem(
            c.at("percentage"),
            "failure percentages are not supported by this gateway: use `count` (failures within `interval`)",
        );
        return None;
    }
    if c.get("count").is_none() {
        ctx.problem(c.at("count"), "required field missing");
    }
    rule(&c, &r, "count", ctx)
}

/// One rule: the failure condition's fields in `cond`, `tripDuration` and `acceptRetryAfter`
/// in `trip` (the same object in the flattened shape).
fn rule(cond: &Fields<'_>, trip: &Fields<'_>, count_key: &str, ctx: &mut Ctx) -> Option<CircuitBreaker> {
    let interval = duration(cond, "interval", ctx);
    let trip_duration = duration(trip, "tripDuration", ctx);
    let failure_count = match cond.opt_uint(ctx, count_key, u64::from(u32::MAX)) {
        Some(0) => {
            ctx.problem(cond.at(count_key), "must be at least 1");
            return None;
        }
        n => n.unwrap_or(5) as u32,
    };
    let mut ranges = Vec::new();
    for (i, r) in cond.array(ctx, "statusCodeRanges").iter().enumerate() {
        let at = index(&cond.at("statusCodeRanges"), i);
        let Some(r) = ctx.fields(r, &at, &["min", "max"]) else {
            continue;
        };
        let min = r.opt_uint(ctx, "min", 599).unwrap_or(100) as u16;
        let max = r.opt_uint(ctx, "max", 599).unwrap_or(599) as u16;
        if min > max {
            ctx.problem(at, "min must not exceed max");
        }
        ranges.push((min, max));
    }
    let error_reasons = cond.opt_str_list(ctx, "errorReasons").unwrap_or_default();
    if ranges.is_empty() && error_reasons.is_empty() {
        ranges.push((500, 599));
    }
    Some(CircuitBreaker {
        failure_count,
        interval: interval?,
        trip_duration: trip_duration?,
        status_code_ranges: ranges,
        error_reasons,
        accept_retry_after: trip.bool(ctx, "acceptRetryAfter", false),
    })
}

fn duration(f: &Fields<'_>, key: &str, ctx: &mut Ctx) -> Option<std::time::Duration> {
    let s = f.req_str(ctx, key)?;
    match parse_iso_duration(&s) {
        Some(d) if !d.is_zero() => Some(d),
        _ => {
            ctx.problem(f.at(key), format!("'{s}' is not a positive ISO 8601 duration such as PT30S"));
            None
        }
    }
}
