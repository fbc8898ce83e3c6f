use super::*;
use crate::policy::dotnet::error::ExceptionKind;

fn dt(c: Civil, k: DateTimeKind) -> DateTime {
    DateTime::new(c, k).unwrap()
}

#[test]
fn standard_formats_invariant() {
    // https://learn.microsoft.com/dotnet/standard/base-types/standard-date-and-time-format-strings
    // (the page's 2009-06-15T13:45:30 examples, invariant culture column).
    let u = dt(Civil::date(2009, 6, 15).at(13, 45, 30), DateTimeKind::Unspecified);
    let z = u.with_kind(DateTimeKind::Utc);
    let cases = [
        (u, "d", "06/15/2009"),
        (u, "D", "Monday, 15 June 2009"),
        (u, "f", "Monday, 15 June 2009 13:45"),
        (u, "F", "Monday, 15 June 2009 13:45:30"),
        (u, "g", "06/15/2009 13:45"),
        (u, "G", "06/15/2009 13:45:30"),
        (u, "M", "June 15"),
        (u, "m", "June 15"),
        (u, "O", "2009-06-15T13:45:30.0000000"),
        (z, "o", "2009-06-15T13:45:30.0000000Z"),
        (u.with_kind(DateTimeKind::Local), "o", "2009-06-15T13:45:30.0000000+00:00"),
        (u, "R", "Mon, 15 Jun 2009 13:45:30 GMT"),
        (u, "r", "Mon, 15 Jun 2009 13:45:30 GMT"),
        (u, "s", "2009-06-15T13:45:30"),
        (u, "t", "13:45"),
        (u, "T", "13:45:30"),
        (u, "u", "2009-06-15 13:45:30Z"),
        (u, "U", "Monday, 15 June 2009 13:45:30"),
        (u, "Y", "2009 June"),
        (u, "y", "2009 June"),
        (u, "", "06/15/2009 13:45:30"),
    ];
    for (v, f, want) in cases {
        assert_eq!(v.to_string_format(f).unwrap(), want, "format {f:?}");
    }
    assert_eq!(u.to_dotnet_string(), "06/15/2009 13:45:30");
    assert_eq!(u.to_string_format("x").unwrap_err().kind, ExceptionKind::Format);
}

#[test]
fn custom_formats() {
    // https://learn.microsoft.com/dotnet/standard/base-types/custom-date-and-time-format-strings
    let a = dt(Civil::date(2008, 8, 29).at(19, 27, 15).ms(18), DateTimeKind::Unspecified);
    let midnight = dt(Civil::date(2008, 1, 1), DateTimeKind::Unspecified);
    let even = dt(Civil::date(2009, 6, 15).at(13, 45, 30), DateTimeKind::Utc);
    let odd = dt(Civil::date(2009, 6, 15).at(13, 45, 30).ms(500), DateTimeKind::Utc);
    let cases = [
        (a, "hh:mm:ss.fff tt", "07:27:15.018 PM"),
        (a, "hh:mm:ss.FFF tt", "07:27:15.018 PM"),
        (a, "%d", "29"),
        (a, "dd", "29"),
        (a, "ddd", "Fri"),
        (a, "dddd", "Friday"),
        (a, "%M", "8"),
        (a, "MM", "08"),
        (a, "MMM", "Aug"),
        (a, "MMMM", "August"),
        (a, "MMMM dd, yyyy", "August 29, 2008"),
        (a, "%y", "8"),
        (a, "yy", "08"),
        (a, "yyy", "2008"),
        (a, "yyyy", "2008"),
        (a, "yyyyy", "02008"),
        (a, "%h", "7"),
        (a, "%H", "19"),
        (a, "%t", "P"),
        (a, "%f", "0"),
        (a, "ff", "01"),
        (a, "fff", "018"),
        (a, "ffff", "0180"),
        (a, "fffffff", "0180000"),
        (a, "FFFFFFF", "018"),
        (a, "%F", ""),
        (a, "yyyy-MM-ddTHH:mm:ssZ", "2008-08-29T19:27:15Z"),
        (a, "yyyyMMddHHmmss", "20080829192715"),
        (a, "dd/MM/yyyy", "29/08/2008"),
        (a, "MM/dd/yyyy hh:mm tt", "08/29/2008 07:27 PM"),
        (a, "'Date:' yyyy", "Date: 2008"),
        (a, "\"Year\" yyyy", "Year 2008"),
        (a, "\\h\\h hh", "hh 07"),
        (a, "%g", "A.D."),
        (midnight, "h:mm tt", "12:00 AM"),
        (midnight, "HH:mm", "00:00"),
        (even, "ss.FFF", "30"),
        (even, "HH:mm:ss.FFFFFFFK", "13:45:30Z"),
        (odd, "ss.FFF", "30.5"),
        (odd, "yyyy-MM-dd'T'HH:mm:ss.fffK", "2009-06-15T13:45:30.500Z"),
        (odd, "o", "2009-06-15T13:45:30.5000000Z"),
        (odd, "%K", "Z"),
        (a, "%K", ""),
        (a, "%z", "+0"),
        (a, "zz", "+00"),
        (a, "zzz", "+00:00"),
    ];
    for (v, f, want) in cases {
        assert_eq!(v.to_string_format(f).unwrap(), want, "format {f:?}");
    }
    for bad in ["ffffffff", "'abc", "\\", "%", "%%"] {
        assert_eq!(a.to_string_format(bad).unwrap_err().kind, ExceptionKind::Format, "{bad:?}");
    }
}

#[test]
fn offset_formats() {
    // https://learn.microsoft.com/dotnet/standard/base-types/standard-date-and-time-format-strings
    // DateTimeOffset examples with a -07:00 offset.
    let dto = DateTimeOffset::new(
        dt(Civil::date(2009, 6, 15).at(13, 45, 30), DateTimeKind::Unspecified),
        TimeSpan::from_hours(-7.0).unwrap(),
    )
    .unwrap();
    let cases = [
        ("o", "2009-06-15T13:45:30.0000000-07:00"),
        ("R", "Mon, 15 Jun 2009 20:45:30 GMT"),
        ("u", "2009-06-15 20:45:30Z"),
        ("s", "2009-06-15T13:45:30"),
        ("zzz", "-07:00"),
        ("%z", "-7"),
        ("zz", "-07"),
        ("%K", "-07:00"),
        ("", "06/15/2009 13:45:30 -07:00"),
    ];
    for (f, want) in cases {
        assert_eq!(dto.to_string_format(f).unwrap(), want, "format {f:?}");
    }
    assert_eq!(dto.to_unix_seconds(), 1_245_098_730);
    assert_eq!(dto.utc_date_time().hour(), 20);
    let same =
        DateTimeOffset::new(dt(Civil::date(2009, 6, 15).at(20, 45, 30), DateTimeKind::Utc), TimeSpan::ZERO).unwrap();
    assert_eq!(dto, same);
    assert_eq!(
        DateTimeOffset::from_unix_seconds(0).unwrap().to_string_format("o").unwrap(),
        "1970-01-01T00:00:00.0000000+00:00"
    );
}

#[test]
fn properties_and_arithmetic() {
    // https://learn.microsoft.com/dotnet/api/system.datetime.addmonths (day clamped)
    let jan31 = DateTime::ymd(2009, 1, 31).unwrap();
    assert_eq!(jan31.add_months(1).unwrap().to_string_format("yyyy-MM-dd").unwrap(), "2009-02-28");
    assert_eq!(DateTime::ymd(2008, 1, 31).unwrap().add_months(1).unwrap().day(), 29);
    assert_eq!(DateTime::ymd(2008, 2, 29).unwrap().add_years(1).unwrap().day(), 28);
    let d = dt(Civil::date(2009, 6, 15).at(13, 45, 30), DateTimeKind::Utc);
    assert_eq!(d.day_of_week(), DayOfWeek::Monday);
    assert_eq!(d.day_of_week().name(), "Monday");
    assert_eq!(d.day_of_year(), 166);
    assert_eq!(d.date().to_string_format("s").unwrap(), "2009-06-15T00:00:00");
    assert_eq!(d.time_of_day().to_dotnet_string(), "13:45:30");
    assert_eq!(d.add_days(0.5).unwrap().hour(), 1);
    assert_eq!(d.add_hours(-14.0).unwrap().day(), 14);
    assert_eq!(d.add_minutes(15.0).unwrap().minute(), 0);
    assert_eq!(d.add_seconds(30.0).unwrap().minute(), 46);
    assert_eq!(d.add_milliseconds(1.5).unwrap().fraction_ticks(), 20_000);
    assert_eq!(d.kind(), DateTimeKind::Utc);
    assert_eq!(d.add_days(1.0).unwrap().kind(), DateTimeKind::Utc);
    let later = dt(Civil::date(2009, 6, 16).at(14, 46, 31), DateTimeKind::Utc);
    assert_eq!(later.subtract(d).to_dotnet_string(), "1.01:01:01");
    assert!(later > d);
    // https://learn.microsoft.com/dotnet/api/system.datetime.ticks: 0001-01-01 is tick 0
    assert_eq!(DateTime::ymd(1, 1, 1).unwrap().ticks(), 0);
    assert_eq!(DateTime::ymd(1970, 1, 1).unwrap().ticks(), UNIX_EPOCH_TICKS);
    assert_eq!(DateTime::MAX.to_string_format("o").unwrap(), "9999-12-31T23:59:59.9999999");
    assert_eq!(DateTime::MIN.to_dotnet_string(), "01/01/0001 00:00:00");
    assert_eq!(DateTime::MAX.add_days(1.0).unwrap_err().kind, ExceptionKind::ArgumentOutOfRange);
    assert_eq!(DateTime::ymd(2009, 2, 29).unwrap_err().kind, ExceptionKind::ArgumentOutOfRange);
    assert!(is_leap_year(2000) && !is_leap_year(1900) && is_leap_year(2024));
    assert_eq!(days_in_month(2024, 2), 29);
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_245_073_530);
    assert_eq!(
        DateTime::from_system_time(t, DateTimeKind::Utc).to_string_format("o").unwrap(),
        "2009-06-15T13:45:30.0000000Z"
    );
}

#[test]
fn parse_shapes() {
    // https://learn.microsoft.com/dotnet/api/system.datetime.parse (invariant culture; a zone
    // converts to local time, here UTC, with Kind Local).
    let cases: &[(&str, &str, DateTimeKind)] = &[
        ("2009-06-15T13:45:30", "2009-06-15T13:45:30.0000000", DateTimeKind::Unspecified),
        ("2009-06-15T13:45:30.1234567", "2009-06-15T13:45:30.1234567", DateTimeKind::Unspecified),
        ("2009-06-15T13:45:30Z", "2009-06-15T13:45:30.0000000+00:00", DateTimeKind::Local),
        ("2009-06-15T13:45:30+02:00", "2009-06-15T11:45:30.0000000+00:00", DateTimeKind::Local),
        ("2009-06-15T13:45:30-0530", "2009-06-15T19:15:30.0000000+00:00", DateTimeKind::Local),
        ("2009-06-15 13:45", "2009-06-15T13:45:00.0000000", DateTimeKind::Unspecified),
        ("2009-06-15", "2009-06-15T00:00:00.0000000", DateTimeKind::Unspecified),
        ("2009/06/15", "2009-06-15T00:00:00.0000000", DateTimeKind::Unspecified),
        ("06/15/2009 13:45:30", "2009-06-15T13:45:30.0000000", DateTimeKind::Unspecified),
        ("6/15/2009 1:45 PM", "2009-06-15T13:45:00.0000000", DateTimeKind::Unspecified),
        ("6/15/2009 12:05:01 AM", "2009-06-15T00:05:01.0000000", DateTimeKind::Unspecified),
        ("Mon, 15 Jun 2009 20:45:30 GMT", "2009-06-15T20:45:30.0000000+00:00", DateTimeKind::Local),
        ("15 June 2009", "2009-06-15T00:00:00.0000000", DateTimeKind::Unspecified),
        ("June 15, 2009", "2009-06-15T00:00:00.0000000", DateTimeKind::Unspecified),
        ("Monday, 15 June 2009 13:45:30", "2009-06-15T13:45:30.0000000", DateTimeKind::Unspecified),
        ("  2009-06-15T13:45:30  ", "2009-06-15T13:45:30.0000000", DateTimeKind::Unspecified),
    ];
    for (s, want, kind) in cases {
        let d = parse_datetime(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!(d.to_string_format("o").unwrap(), *want, "{s}");
        assert_eq!(d.kind(), *kind, "{s}");
    }
    for bad in ["", "hello", "2009-02-30", "2009-13-01", "25:00", "2009-06-15T24:00:00", "6/15/2009 13:00 PM"] {
        assert_eq!(parse_datetime(bad).unwrap_err().kind, ExceptionKind::Format, "{bad:?}");
    }
    let o = parse_offset("2009-06-15T13:45:30-07:00").unwrap();
    assert_eq!(o.offset_minutes(), -420);
    assert_eq!(o.to_string_format("o").unwrap(), "2009-06-15T13:45:30.0000000-07:00");
    assert_eq!(parse_offset("2009-06-15").unwrap().to_string_format("zzz").unwrap(), "+00:00");
}

#[test]
fn parse_exact() {
    // https://learn.microsoft.com/dotnet/api/system.datetime.parseexact
    let cases = [
        ("20090615", "yyyyMMdd", "2009-06-15T00:00:00.0000000"),
        ("15/06/2009 13:45", "dd/MM/yyyy HH:mm", "2009-06-15T13:45:00.0000000"),
        ("2009-06-15T13:45:30.1234567", "o", "2009-06-15T13:45:30.1234567"),
        ("2009-06-15T13:45:30.1230000Z", "o", "2009-06-15T13:45:30.1230000+00:00"),
        ("Mon, 15 Jun 2009 20:45:30 GMT", "R", "2009-06-15T20:45:30.0000000+00:00"),
        ("6/5/2009 1:02:03 PM", "M/d/yyyy h:mm:ss tt", "2009-06-05T13:02:03.0000000"),
        ("2009-06-15 13:45:30Z", "u", "2009-06-15T13:45:30.0000000+00:00"),
        ("June 15", "MMMM dd", "0001-06-15T00:00:00.0000000"),
    ];
    for (s, f, want) in cases {
        let d = parse_datetime_exact(s, f).unwrap_or_else(|e| panic!("{s} / {f}: {e}"));
        assert_eq!(d.to_string_format("o").unwrap(), want, "{s} / {f}");
    }
    for (s, f) in [("2009-6-15", "yyyy-MM-dd"), ("20090615 ", "yyyyMMdd"), ("20091315", "yyyyMMdd"), ("x", "")] {
        assert_eq!(parse_datetime_exact(s, f).unwrap_err().kind, ExceptionKind::Format, "{s} / {f}");
    }
    let o = parse_offset_exact("2009-06-15T13:45:30+05:30", "yyyy-MM-ddTHH:mm:sszzz").unwrap();
    assert_eq!(o.offset_minutes(), 330);
}

#[test]
fn timespan_formats() {
    // https://learn.microsoft.com/dotnet/standard/base-types/standard-timespan-format-strings
    let t = TimeSpan::new(1, 3, 16, 50, 500).unwrap();
    assert_eq!(t.to_dotnet_string(), "1.03:16:50.5000000");
    assert_eq!(t.to_string_format("c").unwrap(), "1.03:16:50.5000000");
    assert_eq!(t.to_string_format("g").unwrap(), "1:3:16:50.5");
    assert_eq!(t.to_string_format("G").unwrap(), "1:03:16:50.5000000");
    let neg = TimeSpan::new(0, -18, -30, 0, 0).unwrap();
    assert_eq!(neg.to_dotnet_string(), "-18:30:00");
    assert_eq!(neg.to_string_format("g").unwrap(), "-18:30:00");
    assert_eq!(TimeSpan::ZERO.to_dotnet_string(), "00:00:00");
    // https://learn.microsoft.com/dotnet/standard/base-types/custom-timespan-format-strings
    let c = TimeSpan::new(6, 14, 32, 17, 685).unwrap();
    let cases = [
        ("dd\\.hh\\:mm", "06.14:32"),
        ("hh\\:mm\\:ss", "14:32:17"),
        ("%d", "6"),
        ("%h", "14"),
        ("d\\.hh\\:mm\\:ss\\.fff", "6.14:32:17.685"),
        ("%F", "6"),
        ("FFFFF", "685"),
        ("mm'm 'ss's'", "32m 17s"),
        ("ddd", "006"),
    ];
    for (f, want) in cases {
        assert_eq!(c.to_string_format(f).unwrap(), want, "{f}");
    }
    assert_eq!(c.to_string_format("hh:mm").unwrap_err().kind, ExceptionKind::Format);
    assert_eq!(c.total_hours(), 158.53824583333333);
    assert_eq!(c.days(), 6);
    assert_eq!(c.milliseconds(), 685);
    assert_eq!(TimeSpan::from_minutes(90.0).unwrap().to_dotnet_string(), "01:30:00");
    assert_eq!(TimeSpan::from_seconds(1.5).unwrap().total_milliseconds(), 1500.0);
}

#[test]
fn timespan_parse() {
    // https://learn.microsoft.com/dotnet/api/system.timespan.parse (examples table)
    let cases = [
        ("6", "6.00:00:00"),
        ("6:12", "06:12:00"),
        ("6:12:14", "06:12:14"),
        ("6:12:14:45", "6.12:14:45"),
        ("6.12:14:45", "6.12:14:45"),
        ("6:12:14:45.3448", "6.12:14:45.3448000"),
        ("-6:12", "-06:12:00"),
        (" 00:00:01.5 ", "00:00:01.5000000"),
    ];
    for (s, want) in cases {
        assert_eq!(parse_timespan(s).unwrap().to_dotnet_string(), want, "{s}");
    }
    assert_eq!(parse_timespan("6:34:14:45").unwrap_err().kind, ExceptionKind::Overflow);
    assert_eq!(parse_timespan("abc").unwrap_err().kind, ExceptionKind::Format);
    assert_eq!(parse_timespan("").unwrap_err().kind, ExceptionKind::Format);
}

proptest::proptest! {
    #[test]
    fn parse_never_panics(s in "\\PC{0,40}") {
        let _ = parse_datetime(&s);
        let _ = parse_offset(&s);
        let _ = parse_timespan(&s);
        let _ = parse_datetime_exact(&s, "yyyy-MM-ddTHH:mm:ss.FFFFFFFK");
        let d = DateTime::ymd(2020, 2, 29).unwrap();
        let _ = d.to_string_format(&s);
        let _ = TimeSpan::from_ticks(123).to_string_format(&s);
    }
}

#[test]
fn time_zones() {
    // https://learn.microsoft.com/dotnet/api/system.timezoneinfo.converttimefromutc
    let utc = |y, mo, d, h, mi| dt(Civil::date(y, mo, d).at(h, mi, 0), DateTimeKind::Utc);
    let cases = [
        ("W. Europe Standard Time", utc(2024, 1, 15, 12, 0), "2024-01-15T13:00:00"),
        ("W. Europe Standard Time", utc(2024, 7, 15, 12, 0), "2024-07-15T14:00:00"),
        // EU switch: last Sunday of March (2024-03-31) at 01:00 UTC.
        ("Europe/Berlin", utc(2024, 3, 31, 0, 59), "2024-03-31T01:59:00"),
        ("Europe/Berlin", utc(2024, 3, 31, 1, 0), "2024-03-31T03:00:00"),
        ("Europe/Berlin", utc(2024, 10, 27, 0, 59), "2024-10-27T02:59:00"),
        ("Europe/Berlin", utc(2024, 10, 27, 1, 0), "2024-10-27T02:00:00"),
        ("GMT Standard Time", utc(2024, 6, 1, 12, 0), "2024-06-01T13:00:00"),
        // US switch: second Sunday of March (2024-03-10) 02:00 EST = 07:00 UTC.
        ("Eastern Standard Time", utc(2024, 3, 10, 6, 59), "2024-03-10T01:59:00"),
        ("Eastern Standard Time", utc(2024, 3, 10, 7, 0), "2024-03-10T03:00:00"),
        ("Eastern Standard Time", utc(2024, 11, 3, 5, 59), "2024-11-03T01:59:00"),
        ("Eastern Standard Time", utc(2024, 11, 3, 6, 0), "2024-11-03T01:00:00"),
        ("Pacific Standard Time", utc(2024, 12, 1, 20, 0), "2024-12-01T12:00:00"),
        ("US Mountain Standard Time", utc(2024, 7, 1, 12, 0), "2024-07-01T05:00:00"),
        ("India Standard Time", utc(2024, 7, 1, 12, 0), "2024-07-01T17:30:00"),
        ("Tokyo Standard Time", utc(2024, 12, 31, 20, 0), "2025-01-01T05:00:00"),
        // Sydney: daylight from the first Sunday of October to the first Sunday of April.
        ("AUS Eastern Standard Time", utc(2024, 1, 15, 0, 0), "2024-01-15T11:00:00"),
        ("AUS Eastern Standard Time", utc(2024, 7, 15, 0, 0), "2024-07-15T10:00:00"),
        ("New Zealand Standard Time", utc(2024, 1, 15, 0, 0), "2024-01-15T13:00:00"),
        ("UTC", utc(2024, 1, 15, 0, 0), "2024-01-15T00:00:00Z"),
    ];
    for (id, when, want) in cases {
        let z = TimeZoneInfo::find(id).unwrap();
        let local = z.convert_from_utc(when).unwrap();
        let f = if id == "UTC" { "yyyy-MM-ddTHH:mm:ssK" } else { "s" };
        assert_eq!(local.to_string_format(f).unwrap(), want, "{id} {}", when.to_string_format("o").unwrap());
        if id != "UTC" {
            assert_eq!(local.kind(), DateTimeKind::Unspecified);
        }
    }
    let ny = TimeZoneInfo::find("eastern standard time").unwrap();
    assert!(ny.is_daylight_saving_time(utc(2024, 7, 1, 0, 0)));
    assert_eq!(ny.utc_offset_at(utc(2024, 1, 1, 0, 0)).to_dotnet_string(), "-05:00:00");
    assert_eq!(ny.base_utc_offset().to_dotnet_string(), "-05:00:00");
    let back = ny.convert_to_utc(dt(Civil::date(2024, 7, 1).at(8, 0, 0), DateTimeKind::Unspecified)).unwrap();
    assert_eq!(back.to_string_format("o").unwrap(), "2024-07-01T12:00:00.0000000Z");
    // 02:30 on the spring-forward day does not exist; 01:30 on the fall-back day is standard.
    assert_eq!(
        ny.convert_to_utc(dt(Civil::date(2024, 3, 10).at(2, 30, 0), DateTimeKind::Unspecified)).unwrap_err().kind,
        ExceptionKind::Argument
    );
    assert_eq!(
        ny.convert_to_utc(dt(Civil::date(2024, 11, 3).at(1, 30, 0), DateTimeKind::Unspecified)).unwrap().hour(),
        6
    );
    let e = TimeZoneInfo::find("Mars Standard Time").unwrap_err();
    assert_eq!(
        (e.kind, e.message.as_str()),
        (ExceptionKind::TimeZoneNotFound, "The time zone ID 'Mars Standard Time' was not found on the local computer.")
    );
    assert!(!TimeZoneInfo::utc().supports_daylight_saving_time());
}
