//! `<quota-by-key calls="N" bandwidth="KB" renewal-period="s" counter-key="expr"
//! increment-condition="expr" first-period-start="…"/>`: an allowance of calls and/or
//! kilobytes per period (0 = never renews) per key value, 403 + `Retry-After` beyond.
//!
//! One counter per key value across scopes (and per limit), as for `rate-limit-by-key`.
//! Windows are aligned to the Unix epoch; `first-period-start` is accepted when it falls on a
//! window boundary of that alignment (APIM's default, 0001-01-01T00:00:00Z, does for every
//! period dividing a day) and rejected otherwise, rather than silently shifting the windows.

use std::sync::Arc;
use std::time::Duration;

use super::limit::{self};
use super::{Attrs, Cx, Outcome, Result};
use crate::policy::expr::{Dyn, Uses};
use crate::policy::runtime::PolicyContext;
use crate::policy::xml::Element;

#[derive(Clone, Debug)]
pub struct QuotaByKey {
    pub calls: Option<u64>,
    pub bandwidth: Option<u64>,
    pub period: Duration,
    pub key: Dyn,
    pub condition: Option<Arc<Dyn>>,
    /// `quota-by-key:calls/bandwidth/period:`, the identity before the key value.
    pub def: String,
}

pub fn compile(el: &Element, cx: &mut Cx<'_>) -> Option<QuotaByKey> {
    let mut a = Attrs::new(el);
    let calls = limit::number_in(&mut a, cx, el, "calls", 0..=limit::MAX_CALLS);
    let bandwidth = limit::number_in(&mut a, cx, el, "bandwidth", 0..=u64::MAX / 1024);
    let period = limit::period(&mut a, cx, el, true);
    let key = a.required(cx, "counter-key").and_then(|k| cx.value(&k.value));
    let condition = a.get("increment-condition").map(|c| cx.condition(&c.value));
    let start = a.literal(cx, "first-period-start");
    a.finish(cx);
    super::no_children(el, cx);
    limit::check_amounts(el, cx, true, calls, bandwidth);
    let period = period?;
    if let Some((text, pos)) = start {
        match parse_utc(text.trim()) {
            None => cx.err(pos, format!("first-period-start must be yyyy-MM-ddTHH:mm:ssZ, found '{}'", text.trim())),
            Some(secs) if secs.rem_euclid(period.as_secs() as i64) != 0 && period != limit::FOREVER => cx.err(
                pos,
                "first-period-start must fall on a window boundary counted from 1970-01-01T00:00:00Z \
                 (windows are aligned to the Unix epoch so that every node agrees on them)",
            ),
            Some(_) => {}
        }
    }
    let condition = match condition {
        Some(c) => Some(Arc::new(c?)),
        None => None,
    };
    let opt = |v: Option<u64>| v.map_or(String::new(), |v| v.to_string());
    let def = format!("quota-by-key:{}/{}/{}", opt(calls), opt(bandwidth), period.as_secs());
    Some(QuotaByKey { calls, bandwidth, period, key: key?, condition, def })
}

/// Seconds from the Unix epoch of `yyyy-MM-ddTHH:mm:ssZ` (proleptic Gregorian, may be negative).
fn parse_utc(t: &str) -> Option<i64> {
    let t = t.strip_suffix('Z').unwrap_or(t);
    let (date, time) = t.split_once('T').unwrap_or((t, "00:00:00"));
    let d: Vec<i64> = date.split('-').map(|x| x.parse().ok()).collect::<Option<_>>()?;
    let h: Vec<i64> = time.split(':').map(|x| x.parse().ok()).collect::<Option<_>>()?;
    let ([y, m, dd], [hh, mm, ss]) = (d.as_slice(), h.as_slice()) else { return None };
    if !(1..=12).contains(m) || !(1..=31).contains(dd) || *hh > 23 || *mm > 59 || *ss > 59 {
        return None;
    }
    // Days from civil (Howard Hinnant).
    let y = if *m <= 2 { y - 1 } else { *y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + dd - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86400 + hh * 3600 + mm * 60 + ss)
}

impl QuotaByKey {
    pub fn uses(&self) -> Uses {
        super::union(self.key.uses(), self.condition.as_ref().map(|c| c.uses()).unwrap_or_default())
    }

    pub fn run(&self, ctx: &mut PolicyContext<'_>) -> Result<Outcome<'static>> {
        let store = limit::store(ctx)?;
        let key = self.key.text(ctx)?;
        let how = limit::counting(self.condition.as_ref(), ctx)?;
        limit::quota_check(store, ctx, &self.def, &key, (self.calls, self.bandwidth, self.period), &how)?;
        Ok(Outcome::Continue)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_utc() {
        assert_eq!(super::parse_utc("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(super::parse_utc("2024-03-01T12:00:00Z"), Some(1_709_294_400));
        assert_eq!(super::parse_utc("0001-01-01T00:00:00Z"), Some(-62_135_596_800));
        assert_eq!(super::parse_utc("2024-13-01T00:00:00Z"), None);
    }
}
