//! `TimeZoneInfo` for the zones date-based routing documents name (Windows ids such as
//! "W. Europe Standard Time" and their IANA equivalents): a base offset and the zone's
//! current daylight-saving rule (US, EU, Australian, New Zealand), applied to every year.
//! Historical rule changes (e.g. US before 2007) are not modelled; an unknown id throws
//! TimeZoneNotFoundException.

use super::calendar::{days_from_civil, days_in_month};
use super::{DateTime, DateTimeKind, TimeSpan, TICKS_PER_DAY, TICKS_PER_HOUR, TICKS_PER_MINUTE};
use crate::policy::dotnet::error::{DnResult, DotnetError, ExceptionKind};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rule {
    None,
    /// Second Sunday of March 02:00 local → first Sunday of November 02:00 local (daylight).
    Us,
    /// Last Sunday of March 01:00 UTC → last Sunday of October 01:00 UTC.
    Eu,
    /// First Sunday of October 02:00 standard → first Sunday of April 03:00 daylight.
    Au,
    /// Last Sunday of September 02:00 standard → first Sunday of April 03:00 daylight.
    Nz,
}

/// A system time zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeZoneInfo {
    pub id: &'static str,
    /// Standard-time offset from UTC in minutes.
    base: i32,
    rule: Rule,
}

/// (Windows id, IANA id, base offset minutes, rule).
const ZONES: &[(&str, &str, i32, Rule)] = &[
    ("UTC", "Etc/UTC", 0, Rule::None),
    ("GMT Standard Time", "Europe/London", 0, Rule::Eu),
    ("Greenwich Standard Time", "Atlantic/Reykjavik", 0, Rule::None),
    ("W. Europe Standard Time", "Europe/Berlin", 60, Rule::Eu),
    ("Central Europe Standard Time", "Europe/Budapest", 60, Rule::Eu),
    ("Central European Standard Time", "Europe/Warsaw", 60, Rule::Eu),
    ("Romance Standard Time", "Europe/Paris", 60, Rule::Eu),
    ("GTB Standard Time", "Europe/Bucharest", 120, Rule::Eu),
    ("FLE Standard Time", "Europe/Helsinki", 120, Rule::Eu),
    ("Russian Standard Time", "Europe/Moscow", 180, Rule::None),
    ("Turkey Standard Time", "Europe/Istanbul", 180, Rule::None),
    ("South Africa Standard Time", "Africa/Johannesburg", 120, Rule::None),
    ("Arabian Standard Time", "Asia/Dubai", 240, Rule::None),
    ("Arab Standard Time", "Asia/Riyadh", 180, Rule::None),
    ("India Standard Time", "Asia/Kolkata", 330, Rule::None),
    ("SE Asia Standard Time", "Asia/Bangkok", 420, Rule::None),
    ("China Standard Time", "Asia/Shanghai", 480, Rule::None),
    ("Singapore Standard Time", "Asia/Singapore", 480, Rule::None),
    ("Taipei Standard Time", "Asia/Taipei", 480, Rule::None),
    ("W. Australia Standard Time", "Australia/Perth", 480, Rule::None),
    ("Tokyo Standard Time", "Asia/Tokyo", 540, Rule::None),
    ("Korea Standard Time", "Asia/Seoul", 540, Rule::None),
    ("E. Australia Standard Time", "Australia/Brisbane", 600, Rule::None),
    ("AUS Eastern Standard Time", "Australia/Sydney", 600, Rule::Au),
    ("New Zealand Standard Time", "Pacific/Auckland", 720, Rule::Nz),
    ("Atlantic Standard Time", "America/Halifax", -240, Rule::Us),
    ("E. South America Standard Time", "America/Sao_Paulo", -180, Rule::None),
    ("Eastern Standard Time", "America/New_York", -300, Rule::Us),
    ("Central Standard Time", "America/Chicago", -360, Rule::Us),
    ("Central Standard Time (Mexico)", "America/Mexico_City", -360, Rule::None),
    ("Canada Central Standard Time", "America/Regina", -360, Rule::None),
    ("Mountain Standard Time", "America/Denver", -420, Rule::Us),
    ("US Mountain Standard Time", "America/Phoenix", -420, Rule::None),
    ("Pacific Standard Time", "America/Los_Angeles", -480, Rule::Us),
    ("Alaskan Standard Time", "America/Anchorage", -540, Rule::Us),
    ("Hawaiian Standard Time", "Pacific/Honolulu", -600, Rule::None),
];

/// Ticks (UTC) of `hour`:00 local standard time on the nth (1-based; 0 = last) Sunday.
fn sunday(year: i32, month: i32, nth: i32) -> i64 {
    let first = days_from_civil(year, month, 1);
    // 0001-01-01 (day 0) was a Monday, so day d is a Sunday when d % 7 == 6.
    let to_sunday = (6 - first.rem_euclid(7)).rem_euclid(7);
    let day = if nth > 0 {
        first + to_sunday + 7 * i64::from(nth - 1)
    } else {
        let last = first + i64::from(days_in_month(year, month)) - 1;
        last - (last - 6).rem_euclid(7)
    };
    day * TICKS_PER_DAY
}

impl TimeZoneInfo {
    /// `TimeZoneInfo.FindSystemTimeZoneById(id)`: Windows or IANA id (case-insensitive).
    pub fn find(id: &str) -> DnResult<Self> {
        ZONES
            .iter()
            .find(|(w, i, _, _)| w.eq_ignore_ascii_case(id) || i.eq_ignore_ascii_case(id))
            .map(|&(w, _, base, rule)| TimeZoneInfo { id: w, base, rule })
            .ok_or_else(|| {
                DotnetError::new(
                    ExceptionKind::TimeZoneNotFound,
                    format!("The time zone ID '{id}' was not found on the local computer."),
                )
            })
    }

    /// `TimeZoneInfo.Utc` and `TimeZoneInfo.Local` (the gateway's local zone is UTC).
    pub fn utc() -> Self {
        TimeZoneInfo { id: "UTC", base: 0, rule: Rule::None }
    }

    /// `BaseUtcOffset`.
    pub fn base_utc_offset(&self) -> TimeSpan {
        TimeSpan::from_ticks(i64::from(self.base) * TICKS_PER_MINUTE)
    }

    pub fn supports_daylight_saving_time(&self) -> bool {
        self.rule != Rule::None
    }

    /// The (start, end) of daylight time in `year` as UTC ticks; for the southern zones the
    /// start is in the year's spring (October/September) and the end in its autumn (April).
    fn dst_window(&self, year: i32) -> Option<(i64, i64)> {
        let std = i64::from(self.base) * TICKS_PER_MINUTE;
        let h = TICKS_PER_HOUR;
        Some(match self.rule {
            Rule::None => return None,
            Rule::Us => (sunday(year, 3, 2) + 2 * h - std, sunday(year, 11, 1) + h - std),
            Rule::Eu => (sunday(year, 3, 0) + h, sunday(year, 10, 0) + h),
            Rule::Au => (sunday(year, 10, 1) + 2 * h - std, sunday(year, 4, 1) + 2 * h - std),
            Rule::Nz => (sunday(year, 9, 0) + 2 * h - std, sunday(year, 4, 1) + 2 * h - std),
        })
    }

    fn is_dst_utc(&self, utc_ticks: i64) -> bool {
        let year = DateTime { ticks: utc_ticks.clamp(0, super::MAX_TICKS), kind: DateTimeKind::Utc }.year();
        match self.dst_window(year) {
            None => false,
            Some((start, end)) if start < end => utc_ticks >= start && utc_ticks < end,
            // Southern hemisphere: daylight from the spring start to the next autumn end.
            Some((start, end)) => utc_ticks >= start || utc_ticks < end,
        }
    }

    /// `GetUtcOffset(utcDateTime)`.
    pub fn utc_offset_at(&self, utc: DateTime) -> TimeSpan {
        let extra = if self.is_dst_utc(utc.ticks) { 60 } else { 0 };
        TimeSpan::from_ticks(i64::from(self.base + extra) * TICKS_PER_MINUTE)
    }

    /// `IsDaylightSavingTime(utcDateTime)`.
    pub fn is_daylight_saving_time(&self, utc: DateTime) -> bool {
        self.is_dst_utc(utc.ticks)
    }

    /// `TimeZoneInfo.ConvertTimeFromUtc(dt, zone)`: the zone's clock, Kind Unspecified
    /// (Kind Utc for the UTC zone, as .NET).
    pub fn convert_from_utc(&self, dt: DateTime) -> DnResult<DateTime> {
        let off = self.utc_offset_at(dt).ticks();
        let kind = if self.id == "UTC" { DateTimeKind::Utc } else { DateTimeKind::Unspecified };
        Ok(dt.add_ticks(off)?.with_kind(kind))
    }

    /// `TimeZoneInfo.ConvertTimeToUtc(dt, zone)`: a time in the spring-forward gap throws;
    /// an ambiguous autumn time is read as standard time, as .NET.
    pub fn convert_to_utc(&self, dt: DateTime) -> DnResult<DateTime> {
        if dt.kind == DateTimeKind::Utc {
            return Ok(dt);
        }
        let std = i64::from(self.base) * TICKS_PER_MINUTE;
        let as_std = dt.ticks - std;
        let as_dst = as_std - TICKS_PER_HOUR;
        let std_ok = !self.is_dst_utc(as_std);
        let dst_ok = self.is_dst_utc(as_dst);
        let utc = match (std_ok, dst_ok) {
            (true, _) => as_std,
            (false, true) => as_dst,
            (false, false) => {
                return Err(DotnetError::argument(
                    "The supplied DateTime represents an invalid time.  For example, when the clock is adjusted forward, any time in the period that is skipped is invalid. (Parameter 'dateTime')",
                ))
            }
        };
        DateTime::from_ticks(utc, DateTimeKind::Utc)
    }
}
