//! `System.DateTime`, `DateTimeOffset` and `TimeSpan`: 100 ns ticks from 0001-01-01, the
//! proleptic Gregorian calendar, invariant-culture formatting and parsing.
//!
//! The machine's local time zone is taken to be UTC (as on APIM's gateways): `Local` and
//! `Unspecified` values format `K`/`zzz` as `+00:00`, and parsing a string with an offset
//! converts it to local (= UTC) time, as `DateTime.Parse` does.

mod calendar;
mod format;
mod parse;
mod timespan;
mod zones;

#[cfg(test)]
mod tests;

pub use calendar::{days_in_month, is_leap_year};
pub use format::{format_datetime, format_offset};
pub use parse::{parse_datetime, parse_datetime_exact, parse_offset, parse_offset_exact, try_parse_datetime};
pub use timespan::parse_timespan;
pub use timespan::TimeSpan;
pub use zones::TimeZoneInfo;

use super::error::{DnResult, DotnetError};
use std::time::{SystemTime, UNIX_EPOCH};

pub const TICKS_PER_MS: i64 = 10_000;
pub const TICKS_PER_SECOND: i64 = 10_000_000;
pub const TICKS_PER_MINUTE: i64 = 600_000_000;
pub const TICKS_PER_HOUR: i64 = 36_000_000_000;
pub const TICKS_PER_DAY: i64 = 864_000_000_000;
/// Ticks of 9999-12-31T23:59:59.9999999.
pub const MAX_TICKS: i64 = 3_155_378_975_999_999_999;
/// Ticks of 1970-01-01T00:00:00.
pub const UNIX_EPOCH_TICKS: i64 = 621_355_968_000_000_000;

/// `System.DateTimeKind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DateTimeKind {
    Unspecified,
    Utc,
    Local,
}

/// `System.DayOfWeek`, with .NET's numbering (Sunday = 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DayOfWeek {
    Sunday,
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
}

impl DayOfWeek {
    pub fn name(self) -> &'static str {
        calendar::DAY_NAMES[self as usize]
    }
}

/// A calendar date and a time of day, the fields `new DateTime(y, M, d, h, m, s, ms)` takes
/// (checked by [`DateTime::new`], not here).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Civil {
    pub year: i32,
    pub month: i32,
    pub day: i32,
    pub hour: i32,
    pub minute: i32,
    pub second: i32,
    pub millisecond: i32,
}

impl Civil {
    /// Midnight of a date.
    pub const fn date(year: i32, month: i32, day: i32) -> Civil {
        Civil { year, month, day, hour: 0, minute: 0, second: 0, millisecond: 0 }
    }
    /// The same date at `hour:minute:second` (milliseconds kept).
    pub const fn at(self, hour: i32, minute: i32, second: i32) -> Civil {
        Civil { hour, minute, second, ..self }
    }
    /// The same date and time with `millisecond`.
    pub const fn ms(self, millisecond: i32) -> Civil {
        Civil { millisecond, ..self }
    }
}

/// `System.DateTime`: ticks and a kind. Equality and ordering compare ticks only, as .NET.
#[derive(Clone, Copy, Debug)]
pub struct DateTime {
    ticks: i64,
    kind: DateTimeKind,
}

impl PartialEq for DateTime {
    fn eq(&self, other: &Self) -> bool {
        self.ticks == other.ticks
    }
}
impl Eq for DateTime {}
impl PartialOrd for DateTime {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for DateTime {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.ticks.cmp(&other.ticks)
    }
}

fn unrepresentable() -> DotnetError {
    DotnetError::out_of_range("value", "The added or subtracted value results in an un-representable DateTime.")
}

impl DateTime {
    pub const MIN: DateTime = DateTime { ticks: 0, kind: DateTimeKind::Unspecified };
    pub const MAX: DateTime = DateTime { ticks: MAX_TICKS, kind: DateTimeKind::Unspecified };

    /// `new DateTime(ticks, kind)`.
    pub fn from_ticks(ticks: i64, kind: DateTimeKind) -> DnResult<Self> {
        if !(0..=MAX_TICKS).contains(&ticks) {
            return Err(DotnetError::out_of_range(
                "ticks",
                "Ticks must be between DateTime.MinValue.Ticks and DateTime.MaxValue.Ticks.",
            ));
        }
        Ok(Self { ticks, kind })
    }

    /// `new DateTime(y, M, d, h, m, s, ms, kind)`.
    pub fn new(c: Civil, kind: DateTimeKind) -> DnResult<Self> {
        let Civil { year: y, month: mo, day: d, hour: h, minute: mi, second: s, millisecond: ms } = c;
        if !(1..=9999).contains(&y) || !(1..=12).contains(&mo) {
            return Err(DotnetError::out_of_range(
                "year",
                "Year, Month, and Day parameters describe an un-representable DateTime.",
            ));
        }
        if d < 1 || d > days_in_month(y, mo) {
            return Err(DotnetError::out_of_range(
                "day",
                "Year, Month, and Day parameters describe an un-representable DateTime.",
            ));
        }
        if !(0..24).contains(&h) || !(0..60).contains(&mi) || !(0..60).contains(&s) {
            return Err(DotnetError::out_of_range(
                "hour",
                "Hour, Minute, and Second parameters describe an un-representable DateTime.",
            ));
        }
        if !(0..1000).contains(&ms) {
            return Err(DotnetError::out_of_range("millisecond", "Valid values are between 0 and 999, inclusive."));
        }
        let days = calendar::days_from_civil(y, mo, d);
        let ticks = days * TICKS_PER_DAY
            + i64::from(h) * TICKS_PER_HOUR
            + i64::from(mi) * TICKS_PER_MINUTE
            + i64::from(s) * TICKS_PER_SECOND
            + i64::from(ms) * TICKS_PER_MS;
        Ok(Self { ticks, kind })
    }

    /// `new DateTime(y, M, d)` (Unspecified).
    pub fn ymd(y: i32, mo: i32, d: i32) -> DnResult<Self> {
        Self::new(Civil::date(y, mo, d), DateTimeKind::Unspecified)
    }

    /// `DateTime.UtcNow` for a clock reading the language passes in.
    pub fn from_system_time(t: SystemTime, kind: DateTimeKind) -> Self {
        let ticks = match t.duration_since(UNIX_EPOCH) {
            Ok(d) => UNIX_EPOCH_TICKS.saturating_add(i64::try_from(d.as_nanos() / 100).unwrap_or(i64::MAX)),
            Err(e) => UNIX_EPOCH_TICKS.saturating_sub(i64::try_from(e.duration().as_nanos() / 100).unwrap_or(i64::MAX)),
        };
        Self { ticks: ticks.clamp(0, MAX_TICKS), kind }
    }

    pub fn ticks(self) -> i64 {
        self.ticks
    }
    pub fn kind(self) -> DateTimeKind {
        self.kind
    }
    /// `DateTime.SpecifyKind`.
    pub fn with_kind(self, kind: DateTimeKind) -> Self {
        Self { ticks: self.ticks, kind }
    }
    fn days(self) -> i64 {
        self.ticks / TICKS_PER_DAY
    }
    fn civil(self) -> (i32, i32, i32) {
        calendar::civil_from_days(self.days())
    }
    pub fn year(self) -> i32 {
        self.civil().0
    }
    pub fn month(self) -> i32 {
        self.civil().1
    }
    pub fn day(self) -> i32 {
        self.civil().2
    }
    pub fn hour(self) -> i32 {
        ((self.ticks / TICKS_PER_HOUR) % 24) as i32
    }
    pub fn minute(self) -> i32 {
        ((self.ticks / TICKS_PER_MINUTE) % 60) as i32
    }
    pub fn second(self) -> i32 {
        ((self.ticks / TICKS_PER_SECOND) % 60) as i32
    }
    pub fn millisecond(self) -> i32 {
        ((self.ticks / TICKS_PER_MS) % 1000) as i32
    }
    /// Ticks within the second (0..9,999,999), what `fffffff` prints.
    pub fn fraction_ticks(self) -> i64 {
        self.ticks % TICKS_PER_SECOND
    }
    pub fn day_of_week(self) -> DayOfWeek {
        // 0001-01-01 was a Monday.
        const ORDER: [DayOfWeek; 7] = [
            DayOfWeek::Monday,
            DayOfWeek::Tuesday,
            DayOfWeek::Wednesday,
            DayOfWeek::Thursday,
            DayOfWeek::Friday,
            DayOfWeek::Saturday,
            DayOfWeek::Sunday,
        ];
        ORDER[(self.days() % 7) as usize]
    }
    pub fn day_of_year(self) -> i32 {
        let (y, _, _) = self.civil();
        (self.days() - calendar::days_from_civil(y, 1, 1)) as i32 + 1
    }
    /// `Date`: midnight of the same day, same kind.
    pub fn date(self) -> Self {
        Self { ticks: self.days() * TICKS_PER_DAY, kind: self.kind }
    }
    pub fn time_of_day(self) -> TimeSpan {
        TimeSpan::from_ticks(self.ticks % TICKS_PER_DAY)
    }
    /// Always false: the local zone is UTC.
    pub fn is_daylight_saving_time(self) -> bool {
        false
    }

    pub fn add_ticks(self, t: i64) -> DnResult<Self> {
        match self.ticks.checked_add(t) {
            Some(n) if (0..=MAX_TICKS).contains(&n) => Ok(Self { ticks: n, kind: self.kind }),
            _ => Err(unrepresentable()),
        }
    }
    pub fn add(self, span: TimeSpan) -> DnResult<Self> {
        self.add_ticks(span.ticks())
    }
    pub fn subtract_span(self, span: TimeSpan) -> DnResult<Self> {
        self.add_ticks(span.ticks().checked_neg().ok_or_else(unrepresentable)?)
    }
    /// `a - b` / `a.Subtract(b)` between two dates (kinds ignored, as .NET).
    pub fn subtract(self, other: DateTime) -> TimeSpan {
        TimeSpan::from_ticks(self.ticks - other.ticks)
    }
    /// .NET rounds the scaled double to the nearest millisecond (`AddDays(0.5)` etc.).
    fn add_scaled(self, value: f64, scale: i64) -> DnResult<Self> {
        let ms = value * (scale / TICKS_PER_MS) as f64;
        let ms = if ms >= 0.0 { (ms + 0.5).trunc() } else { (ms - 0.5).trunc() };
        if !ms.is_finite() || ms.abs() >= (MAX_TICKS / TICKS_PER_MS) as f64 {
            return Err(DotnetError::out_of_range("value", "Value to add was out of range."));
        }
        self.add_ticks(ms as i64 * TICKS_PER_MS)
    }
    pub fn add_days(self, v: f64) -> DnResult<Self> {
        self.add_scaled(v, TICKS_PER_DAY)
    }
    pub fn add_hours(self, v: f64) -> DnResult<Self> {
        self.add_scaled(v, TICKS_PER_HOUR)
    }
    pub fn add_minutes(self, v: f64) -> DnResult<Self> {
        self.add_scaled(v, TICKS_PER_MINUTE)
    }
    pub fn add_seconds(self, v: f64) -> DnResult<Self> {
        self.add_scaled(v, TICKS_PER_SECOND)
    }
    pub fn add_milliseconds(self, v: f64) -> DnResult<Self> {
        self.add_scaled(v, TICKS_PER_MS)
    }
    /// `AddMonths`: the day is clamped to the target month's length.
    pub fn add_months(self, months: i32) -> DnResult<Self> {
        if !(-120_000..=120_000).contains(&months) {
            return Err(DotnetError::out_of_range("months", "Months value must be between +/-120000."));
        }
        let (y, m, d) = self.civil();
        let total = i64::from(y) * 12 + i64::from(m - 1) + i64::from(months);
        let ny = total.div_euclid(12);
        let nm = total.rem_euclid(12) as i32 + 1;
        if !(1..=9999).contains(&ny) {
            return Err(DotnetError::out_of_range(
                "months",
                "The added or subtracted value results in an un-representable DateTime.",
            ));
        }
        let ny = ny as i32;
        let nd = d.min(days_in_month(ny, nm));
        let ticks = calendar::days_from_civil(ny, nm, nd) * TICKS_PER_DAY + self.ticks % TICKS_PER_DAY;
        Ok(Self { ticks, kind: self.kind })
    }
    pub fn add_years(self, years: i32) -> DnResult<Self> {
        if !(-10_000..=10_000).contains(&years) {
            return Err(DotnetError::out_of_range("years", "Years value must be between +/-10000."));
        }
        self.add_months(years * 12)
    }

    /// `ToUniversalTime()`: local is UTC, so only the kind changes.
    pub fn to_universal_time(self) -> Self {
        self.with_kind(DateTimeKind::Utc)
    }
    /// `ToLocalTime()`: local is UTC, so only the kind changes.
    pub fn to_local_time(self) -> Self {
        self.with_kind(DateTimeKind::Local)
    }
    /// `ToString()`: the invariant culture's "G".
    pub fn to_dotnet_string(self) -> String {
        format_datetime(self, "G").unwrap_or_default()
    }
    /// `ToString(format)`.
    pub fn to_string_format(self, fmt: &str) -> DnResult<String> {
        format_datetime(self, fmt)
    }
    /// Seconds since 1970 (as `DateTimeOffset.ToUnixTimeSeconds`, flooring).
    pub fn unix_seconds(self) -> i64 {
        (self.ticks - UNIX_EPOCH_TICKS).div_euclid(TICKS_PER_SECOND)
    }
}

/// `System.DateTimeOffset`: a clock time and its offset from UTC (whole minutes, ±14 h).
#[derive(Clone, Copy, Debug)]
pub struct DateTimeOffset {
    /// Ticks of the local clock reading.
    local_ticks: i64,
    offset_minutes: i16,
}

impl PartialEq for DateTimeOffset {
    /// Offsets compare by the instant, as .NET.
    fn eq(&self, other: &Self) -> bool {
        self.utc_ticks() == other.utc_ticks()
    }
}
impl Eq for DateTimeOffset {}
impl PartialOrd for DateTimeOffset {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for DateTimeOffset {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.utc_ticks().cmp(&other.utc_ticks())
    }
}

impl DateTimeOffset {
    /// `new DateTimeOffset(dateTime, offset)`.
    pub fn new(clock: DateTime, offset: TimeSpan) -> DnResult<Self> {
        let t = offset.ticks();
        if t % TICKS_PER_MINUTE != 0 {
            return Err(DotnetError::argument("Offset must be specified in whole minutes. (Parameter 'offset')"));
        }
        let minutes = t / TICKS_PER_MINUTE;
        if !(-840..=840).contains(&minutes) {
            return Err(DotnetError::out_of_range("offset", "Offset must be within plus or minus 14 hours."));
        }
        if clock.kind == DateTimeKind::Utc && minutes != 0 {
            return Err(DotnetError::argument(
                "The UTC Offset for Utc DateTime instances must be 0. (Parameter 'offset')",
            ));
        }
        let utc = clock.ticks - minutes * TICKS_PER_MINUTE;
        if !(0..=MAX_TICKS).contains(&utc) {
            return Err(DotnetError::out_of_range(
                "offset",
                "The UTC time represented when the offset is applied must be between year 0 and 10,000.",
            ));
        }
        Ok(Self { local_ticks: clock.ticks, offset_minutes: minutes as i16 })
    }
    /// `new DateTimeOffset(dateTime)` / the implicit conversion: local and unspecified get +00:00.
    pub fn from_datetime(dt: DateTime) -> Self {
        Self { local_ticks: dt.ticks, offset_minutes: 0 }
    }
    /// `DateTimeOffset.FromUnixTimeSeconds`.
    pub fn from_unix_seconds(s: i64) -> DnResult<Self> {
        let t = s
            .checked_mul(TICKS_PER_SECOND)
            .and_then(|t| t.checked_add(UNIX_EPOCH_TICKS))
            .filter(|t| (0..=MAX_TICKS).contains(t))
            .ok_or_else(|| {
                DotnetError::out_of_range(
                    "seconds",
                    "Valid values are between -62135596800 and 253402300799, inclusive.",
                )
            })?;
        Ok(Self { local_ticks: t, offset_minutes: 0 })
    }
    pub fn from_unix_milliseconds(ms: i64) -> DnResult<Self> {
        let t = ms
            .checked_mul(TICKS_PER_MS)
            .and_then(|t| t.checked_add(UNIX_EPOCH_TICKS))
            .filter(|t| (0..=MAX_TICKS).contains(t))
            .ok_or_else(|| {
                DotnetError::out_of_range(
                    "milliseconds",
                    "Valid values are between -62135596800000 and 253402300799999, inclusive.",
                )
            })?;
        Ok(Self { local_ticks: t, offset_minutes: 0 })
    }
    pub fn offset(self) -> TimeSpan {
        TimeSpan::from_ticks(i64::from(self.offset_minutes) * TICKS_PER_MINUTE)
    }
    pub fn offset_minutes(self) -> i32 {
        i32::from(self.offset_minutes)
    }
    fn utc_ticks(self) -> i64 {
        self.local_ticks - i64::from(self.offset_minutes) * TICKS_PER_MINUTE
    }
    /// `DateTime`: the clock reading, Unspecified.
    pub fn date_time(self) -> DateTime {
        DateTime { ticks: self.local_ticks, kind: DateTimeKind::Unspecified }
    }
    /// `UtcDateTime`: Kind Utc.
    pub fn utc_date_time(self) -> DateTime {
        DateTime { ticks: self.utc_ticks(), kind: DateTimeKind::Utc }
    }
    /// `LocalDateTime`: local is UTC.
    pub fn local_date_time(self) -> DateTime {
        DateTime { ticks: self.utc_ticks(), kind: DateTimeKind::Local }
    }
    pub fn to_universal_time(self) -> Self {
        Self { local_ticks: self.utc_ticks(), offset_minutes: 0 }
    }
    /// `ToOffset(offset)`.
    pub fn to_offset(self, offset: TimeSpan) -> DnResult<Self> {
        let minutes = offset.ticks() / TICKS_PER_MINUTE;
        let clock = DateTime::from_ticks(self.utc_ticks() + minutes * TICKS_PER_MINUTE, DateTimeKind::Unspecified)?;
        Self::new(clock, offset)
    }
    pub fn to_unix_seconds(self) -> i64 {
        self.utc_date_time().unix_seconds()
    }
    pub fn to_unix_milliseconds(self) -> i64 {
        (self.utc_ticks() - UNIX_EPOCH_TICKS).div_euclid(TICKS_PER_MS)
    }
    pub fn add_ticks(self, t: i64) -> DnResult<Self> {
        let clock = self.date_time().add_ticks(t)?;
        Self::new(clock, self.offset())
    }
    pub fn add_months(self, m: i32) -> DnResult<Self> {
        let clock = self.date_time().add_months(m)?;
        Self::new(clock, self.offset())
    }
    pub fn subtract(self, other: DateTimeOffset) -> TimeSpan {
        TimeSpan::from_ticks(self.utc_ticks() - other.utc_ticks())
    }
    /// `ToString()`: "G" plus " zzz" in the invariant culture.
    pub fn to_dotnet_string(self) -> String {
        format_offset(self, "G").unwrap_or_default()
    }
    pub fn to_string_format(self, fmt: &str) -> DnResult<String> {
        format_offset(self, fmt)
    }
}
