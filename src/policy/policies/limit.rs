//! What the limit policies share: attribute parsing, the `<api>`/`<operation>` children of
//! `rate-limit` and `quota`, the headers and variables they report, and APIM's refusals.
//!
//! Refusals are policy failures, as in APIM (`context.LastError.Reason` is
//! `RateLimitExceeded` or `QuotaExceeded`, and on-error runs): 429 for rate limits and
//! concurrency, 403 for quotas. The `Retry-After` header goes into the response edits before
//! failing, so the gateway's error response carries it unless on-error answers otherwise.
//!
//! Counter identity: `rate-limit` and `quota` count per subscription, under an identity made of
//! their scope, document, place in it and definition ([`LimitIdent`], set when plans are
//! built), so an unchanged limit keeps counting across configuration updates and a changed one
//! starts fresh. The `-by-key` forms follow APIM's "one counter per key value across all
//! scopes": their identity is the policy name, the limit and the key value.

use std::sync::Arc;
use std::time::Duration;

use super::{only_children, Attrs, Cx, Failure, Result};
use crate::limits::LimitStore;
use crate::policy::expr::Value;
use crate::policy::runtime::PolicyContext;
use crate::policy::xml::Element;

/// `renewal-period="0"` on quotas: a window that never renews (about 100 years).
pub const FOREVER: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// Largest `calls` a counter holds (counts are 32-bit).
pub const MAX_CALLS: u64 = u32::MAX as u64 - 1;

/// The counter identity of a subscription-bound limit; empty until plans are built (then
/// `scope:id/section/path#definition`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LimitIdent(pub Arc<str>);

/// The node's counters, or the 500 a request gets when the proxy provided none.
pub fn store<'a>(ctx: &PolicyContext<'a>) -> Result<&'a LimitStore> {
    ctx.limits.ok_or_else(|| Failure::new("LimitsUnavailable", "limits unavailable", 500))
}

/// Whole seconds to wait, at least 1.
pub fn retry_secs(d: Duration) -> u64 {
    (d.as_secs() + u64::from(d.subsec_nanos() > 0)).max(1)
}

/// A .NET `TimeSpan` as APIM prints it: `hh:mm:ss`, or `d.hh:mm:ss`.
pub fn timespan(d: Duration) -> String {
    let s = retry_secs(d);
    let (days, h, m, sec) = (s / 86400, s / 3600 % 24, s / 60 % 60, s % 60);
    if days > 0 {
        format!("{days}.{h:02}:{m:02}:{sec:02}")
    } else {
        format!("{h:02}:{m:02}:{sec:02}")
    }
}

pub fn rate_limit_exceeded(retry: Duration) -> Failure {
    let s = retry_secs(retry);
    Failure::new("RateLimitExceeded", format!("Rate limit is exceeded. Try again in {s} seconds."), 429)
}

pub fn quota_exceeded(bandwidth: bool, retry: Duration) -> Failure {
    let what = if bandwidth { "bandwidth" } else { "call volume" };
    let msg = format!("Out of {what} quota. Quota will be replenished in {}.", timespan(retry));
    Failure::new("QuotaExceeded", msg, 403)
}

/// The names a limit reports under (all optional; `Retry-After` is the default header).
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub retry_after_header: Option<Box<str>>,
    pub retry_after_variable: Option<Box<str>>,
    pub remaining_header: Option<Box<str>>,
    pub remaining_variable: Option<Box<str>>,
    pub total_header: Option<Box<str>>,
}

impl Report {
    /// Reads `retry-after-header-name`, `retry-after-variable-name`,
    /// `remaining-calls-header-name`, `remaining-calls-variable-name`, `total-calls-header-name`.
    pub fn compile(a: &mut Attrs<'_>, cx: &mut Cx<'_>) -> Report {
        let mut name = |n: &str| a.literal(cx, n).map(|(v, _)| v.trim()).filter(|v| !v.is_empty()).map(Box::from);
        Report {
            retry_after_header: name("retry-after-header-name"),
            retry_after_variable: name("retry-after-variable-name"),
            remaining_header: name("remaining-calls-header-name"),
            remaining_variable: name("remaining-calls-variable-name"),
            total_header: name("total-calls-header-name"),
        }
    }

    /// An admitted call: remaining and total calls as headers and variable.
    pub fn admitted(&self, ctx: &mut PolicyContext<'_>, remaining: u64, total: u64) {
        if let Some(h) = &self.remaining_header {
            ctx.response_edits.headers.set(h, [remaining.to_string()]);
        }
        if let Some(h) = &self.total_header {
            ctx.response_edits.headers.set(h, [total.to_string()]);
        }
        if let Some(v) = &self.remaining_variable {
            ctx.set_variable(v, Value::Int(i64::try_from(remaining).unwrap_or(i64::MAX)));
        }
    }

    /// A refused call: `Retry-After` (or the configured header) and variable.
    pub fn refused(&self, ctx: &mut PolicyContext<'_>, retry: Duration) {
        let secs = retry_secs(retry);
        let header = self.retry_after_header.as_deref().unwrap_or("Retry-After");
        ctx.response_edits.headers.set(header, [secs.to_string()]);
        if let Some(v) = &self.retry_after_variable {
            ctx.set_variable(v, Value::Int(i64::try_from(secs).unwrap_or(i64::MAX)));
        }
        if let Some(v) = &self.remaining_variable {
            ctx.set_variable(v, Value::Int(0));
        }
    }
}

/// A literal whole number attribute within `range`, with its position in problems.
pub fn number_in(
    a: &mut Attrs<'_>,
    cx: &mut Cx<'_>,
    el: &Element,
    name: &str,
    range: std::ops::RangeInclusive<u64>,
) -> Option<u64> {
    let n = a.number::<u64>(cx, name)?;
    if !range.contains(&n) {
        cx.err(
            el.pos,
            format!("attribute '{name}' of <{}> must be {}-{}, found {n}", el.name, range.start(), range.end()),
        );
        return None;
    }
    Some(n)
}

/// An `<api>` or `<operation>` child of `rate-limit` / `quota`: its own limit, applied
/// independently of the enclosing one to calls of that API or operation.
#[derive(Clone, Debug)]
pub struct Scoped {
    pub name: Option<Box<str>>,
    pub id: Option<Box<str>>,
    pub calls: Option<u64>,
    /// Kilobytes (quota only).
    pub bandwidth: Option<u64>,
    pub period: Duration,
    /// The definition, part of the counter identity.
    pub def: String,
    pub operations: Vec<Scoped>,
}

/// Reads the `<api>` children (and their `<operation>` children). `quota` allows `bandwidth`
/// and a period of 0 (forever); `rate-limit` requires `calls` and a period of 1-300 s.
pub fn scoped_children(el: &Element, cx: &mut Cx<'_>, quota: bool) -> Vec<Scoped> {
    only_children(el, cx, &["api"]);
    el.elements().filter(|e| e.name == "api").filter_map(|api| scoped(api, cx, quota, true)).collect()
}

fn scoped(el: &Element, cx: &mut Cx<'_>, quota: bool, is_api: bool) -> Option<Scoped> {
    let mut a = Attrs::new(el);
    let name = a.literal(cx, "name").map(|(v, _)| v.trim().into());
    let id = a.literal(cx, "id").map(|(v, _)| v.trim().into());
    let calls = number_in(&mut a, cx, el, "calls", 0..=MAX_CALLS);
    let bandwidth = if quota { number_in(&mut a, cx, el, "bandwidth", 0..=u64::MAX / 1024) } else { None };
    let period = period(&mut a, cx, el, quota);
    a.finish(cx);
    let operations = if is_api {
        only_children(el, cx, &["operation"]);
        el.elements().filter(|e| e.name == "operation").filter_map(|o| scoped(o, cx, quota, false)).collect()
    } else {
        super::no_children(el, cx);
        Vec::new()
    };
    if name.is_none() && id.is_none() {
        cx.err(el.pos, format!("<{}> needs the attribute 'name' or 'id'", el.name));
    }
    check_amounts(el, cx, quota, calls, bandwidth);
    let period = period?;
    let def = format!(
        "{}[{}|{}]:{}/{}/{}",
        el.name,
        name.as_deref().unwrap_or(""),
        id.as_deref().unwrap_or(""),
        calls.map_or(String::new(), |c| c.to_string()),
        bandwidth.map_or(String::new(), |b| b.to_string()),
        period.as_secs()
    );
    Some(Scoped { name, id, calls, bandwidth, period, def, operations })
}

/// `rate-limit` needs `calls`; a quota needs `calls` or `bandwidth` (or both).
pub fn check_amounts(el: &Element, cx: &mut Cx<'_>, quota: bool, calls: Option<u64>, bandwidth: Option<u64>) {
    if quota && calls.is_none() && bandwidth.is_none() {
        cx.err(el.pos, format!("<{}> needs the attribute 'calls' or 'bandwidth'", el.name));
    } else if !quota && calls.is_none() {
        cx.err(el.pos, format!("<{}> needs the attribute 'calls'", el.name));
    }
}

/// `renewal-period`: 1-300 s for rate limits; any for quotas, 0 meaning forever.
pub fn period(a: &mut Attrs<'_>, cx: &mut Cx<'_>, el: &Element, quota: bool) -> Option<Duration> {
    if a.get("renewal-period").is_none() {
        cx.err(el.pos, format!("<{}> needs the attribute 'renewal-period'", el.name));
        return None;
    }
    if quota {
        let s = number_in(a, cx, el, "renewal-period", 0..=FOREVER.as_secs())?;
        Some(if s == 0 { FOREVER } else { Duration::from_secs(s) })
    } else {
        number_in(a, cx, el, "renewal-period", 1..=300).map(Duration::from_secs)
    }
}

impl Scoped {
    /// Whether the request's API (for `<api>`) or operation (for `<operation>`) is this one.
    pub fn matches_api(&self, ctx: &PolicyContext<'_>) -> bool {
        self.name.as_deref().is_some_and(|n| n == ctx.info.api_name)
            || self.id.as_deref().is_some_and(|i| i == ctx.info.api_id)
    }

    pub fn matches_operation(&self, ctx: &PolicyContext<'_>) -> bool {
        let Some(op) = ctx.info.operation else { return false };
        self.name.as_deref().is_some_and(|n| n == op.name) || self.id.as_deref().is_some_and(|i| i == op.id)
    }
}

/// The limits that apply to this request: the policy's own, then the matching `<api>` and its
/// matching `<operation>`, each with its identity suffix.
pub fn applicable<'s>(children: &'s [Scoped], ctx: &PolicyContext<'_>) -> Vec<&'s Scoped> {
    let mut out = Vec::new();
    for api in children.iter().filter(|a| a.matches_api(ctx)) {
        out.push(api);
        out.extend(api.operations.iter().filter(|o| o.matches_operation(ctx)));
    }
    out
}

/// A bandwidth limit of `kb` kilobytes as `(limit, unit)`: counted in bytes while that fits a
/// counter, else in kilobytes.
pub fn bandwidth_units(kb: u64) -> (u64, u64) {
    let bytes = kb.saturating_mul(1024);
    if bytes <= MAX_CALLS {
        (bytes, 1)
    } else {
        (kb.min(MAX_CALLS), 1024)
    }
}

/// The counter id of one limit: the policy identity, a suffix for `<api>`/`<operation>`
/// children, and the key (subscription id or counter-key value).
pub fn id_of(ident: &str, suffix: &str, key: &str) -> crate::limits::CounterId {
    let mut s = String::with_capacity(ident.len() + suffix.len() + 1);
    s.push_str(ident);
    s.push_str(suffix);
    crate::limits::store::counter_id(&s, key)
}

/// A whole number that is a literal or, where APIM allows, an expression.
#[derive(Clone, Debug)]
pub enum Num {
    Lit(u64),
    Expr(crate::policy::expr::Dyn),
}

impl Num {
    /// Reads `name` (required when `default` is `None`), checking literals against `range`.
    pub fn compile(
        a: &mut Attrs<'_>,
        cx: &mut Cx<'_>,
        el: &Element,
        name: &str,
        range: std::ops::RangeInclusive<u64>,
        default: Option<u64>,
    ) -> Option<Num> {
        let Some(attr) = a.get(name) else {
            if default.is_none() {
                cx.err(el.pos, format!("<{}> needs the attribute '{name}'", el.name));
            }
            return default.map(Num::Lit);
        };
        match cx.value(&attr.value)? {
            crate::policy::expr::Dyn::Lit(t) => match t.trim().parse::<u64>() {
                Ok(n) if range.contains(&n) => Some(Num::Lit(n)),
                Ok(n) => {
                    let (lo, hi) = (range.start(), range.end());
                    cx.err(attr.pos, format!("attribute '{name}' of <{}> must be {lo}-{hi}, found {n}", el.name));
                    None
                }
                Err(_) => {
                    cx.err(attr.pos, format!("attribute '{name}' must be a whole number, found '{}'", t.trim()));
                    None
                }
            },
            d => Some(Num::Expr(d)),
        }
    }

    /// The value for this request; an expression out of `range` is an evaluation failure.
    pub fn get(&self, ctx: &PolicyContext<'_>, name: &str, range: std::ops::RangeInclusive<u64>) -> Result<u64> {
        let d = match self {
            Num::Lit(n) => return Ok(*n),
            Num::Expr(d) => d,
        };
        let v = d.eval(ctx)?;
        let n = match v {
            Value::Int(i) => u64::try_from(i).ok(),
            Value::Double(f) if f.fract() == 0.0 && f >= 0.0 => Some(f as u64),
            other => other.to_text().trim().parse::<u64>().ok(),
        };
        match n {
            Some(n) if range.contains(&n) => Ok(n),
            _ => Err(Failure::new(
                "ExpressionValueEvaluationFailure",
                format!("'{name}' must evaluate to a whole number in {}-{}", range.start(), range.end()),
                500,
            )),
        }
    }

    pub fn uses(&self) -> crate::policy::expr::Uses {
        match self {
            Num::Lit(_) => Default::default(),
            Num::Expr(d) => d.uses(),
        }
    }
}

/// When a `-by-key` limit counts this call, from its `increment-condition`.
pub enum Counting {
    /// Now, at admission (no condition, or a true one that does not read the response).
    Now,
    /// Not at all (a false condition): the call is still refused when the limit is reached.
    Skip,
    /// At the end of the request, if the condition (which reads the response) holds then.
    Later(Arc<crate::policy::expr::Dyn>),
}

pub fn counting(cond: Option<&Arc<crate::policy::expr::Dyn>>, ctx: &PolicyContext<'_>) -> Result<Counting> {
    Ok(match cond {
        None => Counting::Now,
        Some(c) if c.uses().response => Counting::Later(c.clone()),
        Some(c) if c.truth(ctx)? => Counting::Now,
        Some(_) => Counting::Skip,
    })
}

/// Admits a call of weight `n` under `counting`: counted now (exact under any concurrency), or
/// checked for room and counted later (then the end of the request counts it).
pub fn admit_counted(
    store: &LimitStore,
    ctx: &mut PolicyContext<'_>,
    id: crate::limits::CounterId,
    (calls, period): (u64, Duration),
    n: u64,
    how: &Counting,
) -> crate::limits::Admission {
    match how {
        Counting::Now => store.admit(&id, calls, period, n),
        Counting::Skip => store.peek(&id, calls, period),
        Counting::Later(c) => {
            let mut a = store.peek(&id, calls, period);
            if a.allowed {
                a.remaining = a.remaining.saturating_sub(n);
                let condition = Some(c.clone());
                ctx.limit_tail.push(crate::policy::runtime::LimitTail::Calls { id, calls, period, n, condition });
            }
            a
        }
    }
}

/// One quota limit (`calls` and/or `bandwidth` kilobytes per `period`) for `key`: calls are
/// counted under `how`; bandwidth is checked now and charged with the request's bytes when it
/// ends. Refusals are 403 `QuotaExceeded` with `Retry-After`.
pub fn quota_check(
    store: &LimitStore,
    ctx: &mut PolicyContext<'_>,
    ident: &str,
    key: &str,
    amounts: (Option<u64>, Option<u64>, Duration),
    how: &Counting,
) -> Result<()> {
    let (calls, bandwidth, period) = amounts;
    if let Some(calls) = calls {
        let a = admit_counted(store, ctx, id_of(ident, "#calls", key), (calls, period), 1, how);
        if !a.allowed {
            return Err(quota_refused(ctx, false, a.retry_after));
        }
    }
    if let Some(kb) = bandwidth {
        let (limit, unit) = bandwidth_units(kb);
        let id = id_of(ident, "#bytes", key);
        let a = store.peek(&id, limit, period);
        if !a.allowed {
            return Err(quota_refused(ctx, true, a.retry_after));
        }
        let condition = match how {
            Counting::Skip => return Ok(()),
            Counting::Now => None,
            Counting::Later(c) => Some(c.clone()),
        };
        ctx.limit_tail.push(crate::policy::runtime::LimitTail::Bytes { id, limit, period, unit, condition });
    }
    Ok(())
}

fn quota_refused(ctx: &mut PolicyContext<'_>, bandwidth: bool, retry: Duration) -> Failure {
    ctx.response_edits.headers.set("Retry-After", [retry_secs(retry).to_string()]);
    quota_exceeded(bandwidth, retry)
}
