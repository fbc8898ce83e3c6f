//! `DateTime.Parse` / `DateTimeOffset.Parse` / `ParseExact` with the invariant culture.
//!
//! `Parse` accepts the shapes real documents feed it: ISO 8601 (`2009-06-15T13:45:30.0000000Z`,
//! `2009-06-15 13:45`, with `Z` or `±hh:mm`), the invariant short forms (`06/15/2009 13:45:30`,
//! `6/15/2009 1:45 PM`, `2009/06/15`), RFC 1123 (`Mon, 15 Jun 2009 20:45:30 GMT`) and long
//! forms (`15 June 2009`, `June 15, 2009`, `Monday, 15 June 2009 13:45:30`). A string with a
//! zone becomes local time (UTC here) with Kind Local, as .NET does; without one, Unspecified.
//! A time without a date needs "today" and is refused (FormatException).

use super::calendar::{days_in_month, DAY_ABBREVS, DAY_NAMES, MONTH_ABBREVS, MONTH_NAMES};
use super::{Civil, DateTime, DateTimeKind, DateTimeOffset, TimeSpan, TICKS_PER_MINUTE};
use crate::policy::dotnet::error::{DnResult, DotnetError};

#[derive(Clone, Copy, Debug, Default)]
struct Fields {
    y: i32,
    mo: i32,
    d: i32,
    h: i32,
    mi: i32,
    s: i32,
    frac: i64,
    /// `Some(minutes)` when the text carried a zone (`Z`/`GMT` = 0).
    zone: Option<i32>,
    /// True when the zone was written as `Z`/`GMT` (DateTimeKind.Utc under RoundtripKind).
    zulu: bool,
}

fn not_recognized(s: &str) -> DotnetError {
    DotnetError::format(format!(
        "The string '{s}' was not recognized as a valid DateTime. There is an unknown word starting at index '0'."
    ))
}

fn bad_exact() -> DotnetError {
    DotnetError::format("String was not recognized as a valid DateTime.")
}

/// A byte cursor over ASCII text.
struct Cur<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Cur<'a> {
    fn new(s: &'a str) -> Self {
        Self { b: s.as_bytes(), i: 0 }
    }
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn ws(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
    }
    fn done(&self) -> bool {
        self.i >= self.b.len()
    }
    /// Digits: between `min` and `max` of them.
    fn num(&mut self, min: usize, max: usize) -> Option<(i64, usize)> {
        let start = self.i;
        let mut v: i64 = 0;
        while self.i - start < max {
            match self.peek() {
                Some(c) if c.is_ascii_digit() => {
                    v = v * 10 + i64::from(c - b'0');
                    self.i += 1;
                }
                _ => break,
            }
        }
        let n = self.i - start;
        if n < min {
            self.i = start;
            return None;
        }
        Some((v, n))
    }
    fn word(&mut self) -> &'a str {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
            self.i += 1;
        }
        std::str::from_utf8(&self.b[start..self.i]).unwrap_or("")
    }
}

fn month_of(w: &str) -> Option<i32> {
    let l = w.to_ascii_lowercase();
    MONTH_NAMES
        .iter()
        .zip(MONTH_ABBREVS.iter())
        .position(|(n, a)| n.to_ascii_lowercase() == l || a.to_ascii_lowercase() == l)
        .map(|p| p as i32 + 1)
}

fn is_day_name(w: &str) -> bool {
    let l = w.to_ascii_lowercase();
    DAY_NAMES.iter().chain(DAY_ABBREVS.iter()).any(|n| n.to_ascii_lowercase() == l)
}

/// `hh:mm[:ss[.fffffff]] [AM|PM]` after the cursor (whitespace already skipped).
fn time(c: &mut Cur, f: &mut Fields) -> Option<()> {
    f.h = c.num(1, 2)?.0 as i32;
    if !c.eat(b':') {
        return None;
    }
    f.mi = c.num(2, 2)?.0 as i32;
    if c.eat(b':') {
        f.s = c.num(2, 2)?.0 as i32;
        if c.eat(b'.') {
            let (v, n) = c.num(1, 30)?;
            let digits = n.min(7);
            // Digits past the seventh are dropped (.NET rounds; we truncate beyond 100 ns).
            let scaled = if n > 7 { v / 10_i64.pow((n - 7).min(18) as u32) } else { v };
            f.frac = scaled * 10_i64.pow(7 - digits as u32);
        }
    }
    let save = c.i;
    c.ws();
    let w = c.word();
    match w.to_ascii_uppercase().as_str() {
        "AM" | "PM" => {
            if f.h == 0 || f.h > 12 {
                return None;
            }
            f.h %= 12;
            if w.eq_ignore_ascii_case("PM") {
                f.h += 12;
            }
        }
        _ => c.i = save,
    }
    Some(())
}

/// `Z`, `GMT`, `UTC`, `±hh[:mm]` / `±hhmm`.
fn zone(c: &mut Cur, f: &mut Fields) -> Option<()> {
    c.ws();
    if c.done() {
        return Some(());
    }
    if c.eat(b'Z') || c.eat(b'z') {
        f.zone = Some(0);
        f.zulu = true;
        return Some(());
    }
    let save = c.i;
    let w = c.word();
    if w == "GMT" || w == "UTC" {
        f.zone = Some(0);
        f.zulu = true;
        c.ws();
        if c.done() {
            return Some(());
        }
    } else {
        c.i = save;
    }
    let neg = match c.peek() {
        Some(b'+') => false,
        Some(b'-') => true,
        _ => return None,
    };
    c.i += 1;
    let (h, n) = c.num(1, 4)?;
    let (h, m) = if n > 2 {
        (h / 100, h % 100)
    } else if c.eat(b':') {
        (h, c.num(2, 2)?.0)
    } else {
        (h, 0)
    };
    if h > 14 || m > 59 {
        return None;
    }
    let mins = (h * 60 + m) as i32;
    f.zone = Some(if neg { -mins } else { mins });
    f.zulu = false;
    Some(())
}

fn iso_or_numeric(s: &str) -> Option<Fields> {
    let mut c = Cur::new(s);
    let mut f = Fields::default();
    c.ws();
    let (a, na) = c.num(1, 4)?;
    let sep = c.peek()?;
    if sep != b'-' && sep != b'/' && sep != b'.' {
        return None;
    }
    c.i += 1;
    let (b, _) = c.num(1, 2)?;
    if !c.eat(sep) {
        return None;
    }
    let (d3, n3) = c.num(1, 4)?;
    if na == 4 {
        (f.y, f.mo, f.d) = (a as i32, b as i32, d3 as i32);
    } else if n3 == 4 || n3 == 2 {
        // Invariant order is month/day/year; two-digit years map to 1930..2029.
        let y = if n3 == 2 {
            if d3 < 30 {
                2000 + d3
            } else {
                1900 + d3
            }
        } else {
            d3
        };
        (f.y, f.mo, f.d) = (y as i32, a as i32, b as i32);
    } else {
        return None;
    }
    if c.eat(b'T') || c.peek().is_some_and(|x| x.is_ascii_whitespace()) {
        c.ws();
        if c.peek().is_some_and(|x| x.is_ascii_digit()) {
            time(&mut c, &mut f)?;
        }
    }
    zone(&mut c, &mut f)?;
    c.ws();
    c.done().then_some(f)
}

/// `[ddd[,]] d MMM yyyy [time] [zone]`, `MMM d[,] yyyy [time]`, `yyyy MMMM` is not accepted.
fn textual(s: &str) -> Option<Fields> {
    let mut c = Cur::new(s);
    let mut f = Fields::default();
    c.ws();
    let save = c.i;
    let w = c.word();
    if !w.is_empty() && is_day_name(w) {
        c.eat(b',');
        c.ws();
    } else {
        c.i = save;
    }
    if let Some((d, _)) = c.num(1, 2) {
        c.ws();
        f.mo = month_of(c.word())?;
        f.d = d as i32;
        c.ws();
        f.y = c.num(4, 4)?.0 as i32;
    } else {
        f.mo = month_of(c.word())?;
        c.ws();
        f.d = c.num(1, 2)?.0 as i32;
        c.eat(b',');
        c.ws();
        f.y = c.num(4, 4)?.0 as i32;
    }
    c.ws();
    if c.peek().is_some_and(|x| x.is_ascii_digit()) {
        time(&mut c, &mut f)?;
    }
    zone(&mut c, &mut f)?;
    c.ws();
    c.done().then_some(f)
}

fn valid(f: &Fields) -> bool {
    (1..=9999).contains(&f.y)
        && (1..=12).contains(&f.mo)
        && f.d >= 1
        && f.d <= days_in_month(f.y, f.mo)
        && (0..24).contains(&f.h)
        && (0..60).contains(&f.mi)
        && (0..60).contains(&f.s)
}

fn clock(f: &Fields) -> DnResult<DateTime> {
    let base = DateTime::new(Civil::date(f.y, f.mo, f.d).at(f.h, f.mi, f.s), DateTimeKind::Unspecified)?;
    base.add_ticks(f.frac)
}

fn parse_fields(s: &str) -> DnResult<Fields> {
    if s.len() > 256 {
        return Err(not_recognized(s));
    }
    iso_or_numeric(s).or_else(|| textual(s)).filter(valid).ok_or_else(|| not_recognized(s))
}

/// A zoned reading becomes local time (= UTC) with Kind Local.
fn to_datetime(f: &Fields) -> DnResult<DateTime> {
    let c = clock(f)?;
    match f.zone {
        None => Ok(c),
        Some(z) => Ok(c.add_ticks(-i64::from(z) * TICKS_PER_MINUTE)?.with_kind(DateTimeKind::Local)),
    }
}

/// `DateTime.Parse(s)` (invariant culture, DateTimeStyles.None).
pub fn parse_datetime(s: &str) -> DnResult<DateTime> {
    to_datetime(&parse_fields(s)?)
}

/// `DateTimeOffset.Parse(s)`: no zone means the local offset (+00:00).
pub fn parse_offset(s: &str) -> DnResult<DateTimeOffset> {
    let f = parse_fields(s)?;
    let c = clock(&f)?;
    let off = TimeSpan::from_ticks(i64::from(f.zone.unwrap_or(0)) * TICKS_PER_MINUTE);
    DateTimeOffset::new(c, off)
}

/// `DateTime.ParseExact(s, format, InvariantCulture)` for the standard letters and the
/// custom specifiers.
pub fn parse_datetime_exact(s: &str, fmt: &str) -> DnResult<DateTime> {
    let f = exact_fields(s, fmt)?;
    match (f.zone, f.zulu) {
        (None, _) => clock(&f),
        (Some(_), _) => to_datetime(&f),
    }
}

/// `DateTimeOffset.ParseExact`.
pub fn parse_offset_exact(s: &str, fmt: &str) -> DnResult<DateTimeOffset> {
    let f = exact_fields(s, fmt)?;
    let c = clock(&f)?;
    DateTimeOffset::new(c, TimeSpan::from_ticks(i64::from(f.zone.unwrap_or(0)) * TICKS_PER_MINUTE))
}

fn expand_standard(fmt: &str) -> DnResult<&str> {
    if fmt.chars().count() != 1 {
        return Ok(fmt);
    }
    Ok(match fmt {
        "d" => "MM/dd/yyyy",
        "D" => "dddd, dd MMMM yyyy",
        "f" => "dddd, dd MMMM yyyy HH:mm",
        "F" | "U" => "dddd, dd MMMM yyyy HH:mm:ss",
        "g" => "MM/dd/yyyy HH:mm",
        "G" => "MM/dd/yyyy HH:mm:ss",
        "M" | "m" => "MMMM dd",
        "O" | "o" => "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
        "R" | "r" => "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
        "s" => "yyyy'-'MM'-'dd'T'HH':'mm':'ss",
        "t" => "HH:mm",
        "T" => "HH:mm:ss",
        "u" => "yyyy'-'MM'-'dd HH':'mm':'ss'Z'",
        "Y" | "y" => "yyyy MMMM",
        _ => return Err(DotnetError::format("Input string was not in a correct format.")),
    })
}

fn exact_fields(s: &str, fmt: &str) -> DnResult<Fields> {
    if fmt.is_empty() {
        return Err(DotnetError::format("Format specifier was invalid."));
    }
    let gmt = matches!(fmt, "R" | "r" | "u");
    let pattern = expand_standard(fmt)?;
    let p: Vec<char> = pattern.chars().collect();
    let mut c = Cur::new(s);
    let mut f = Fields { y: 1, mo: 1, d: 1, ..Fields::default() };
    let mut pm: Option<bool> = None;
    let mut i = 0;
    while i < p.len() {
        let ch = p[i];
        let n = p[i..].iter().take_while(|&&x| x == ch).count();
        let digits = |c: &mut Cur, n: usize, max: usize| c.num(n.min(max), if n == 1 { max } else { n }).map(|v| v.0);
        match ch {
            'y' => {
                let v = if n <= 2 { c.num(n, 2) } else { c.num(n, n.max(4)) }.ok_or_else(bad_exact)?;
                f.y = if n <= 2 {
                    if v.0 < 30 {
                        2000 + v.0
                    } else {
                        1900 + v.0
                    }
                } else {
                    v.0
                } as i32;
            }
            'M' if n >= 3 => {
                f.mo = month_of(c.word()).ok_or_else(bad_exact)?;
            }
            'M' => f.mo = digits(&mut c, n, 2).ok_or_else(bad_exact)? as i32,
            'd' if n >= 3 => {
                if !is_day_name(c.word()) {
                    return Err(bad_exact());
                }
            }
            'd' => f.d = digits(&mut c, n, 2).ok_or_else(bad_exact)? as i32,
            'H' | 'h' => f.h = digits(&mut c, n, 2).ok_or_else(bad_exact)? as i32,
            'm' => f.mi = digits(&mut c, n, 2).ok_or_else(bad_exact)? as i32,
            's' => f.s = digits(&mut c, n, 2).ok_or_else(bad_exact)? as i32,
            'f' | 'F' => {
                if n > 7 {
                    return Err(bad_exact());
                }
                let min = if ch == 'f' { n } else { 0 };
                match c.num(min, n) {
                    Some((v, got)) if got > 0 => f.frac = v * 10_i64.pow(7 - got as u32),
                    Some(_) => {}
                    None => return Err(bad_exact()),
                }
            }
            't' => {
                let w = c.word().to_ascii_uppercase();
                pm = Some(match (w.as_str(), n) {
                    ("AM", _) | ("A", 1) => false,
                    ("PM", _) | ("P", 1) => true,
                    _ => return Err(bad_exact()),
                });
            }
            'K' | 'z' => {
                if c.done() {
                    if ch == 'z' {
                        return Err(bad_exact());
                    }
                } else {
                    zone_exact(&mut c, &mut f, ch == 'K').ok_or_else(bad_exact)?;
                }
            }
            '\'' | '"' => {
                let close = p[i + 1..].iter().position(|&x| x == ch).ok_or_else(bad_exact)?;
                for lit in &p[i + 1..i + 1 + close] {
                    expect_char(&mut c, *lit)?;
                }
                i += close + 2;
                continue;
            }
            '\\' => {
                let lit = *p.get(i + 1).ok_or_else(bad_exact)?;
                expect_char(&mut c, lit)?;
                i += 2;
                continue;
            }
            '%' => {
                i += 1;
                continue;
            }
            other => {
                expect_char(&mut c, other)?;
                i += 1;
                continue;
            }
        }
        i += n;
    }
    if !c.done() {
        return Err(bad_exact());
    }
    if let Some(pm) = pm {
        if f.h > 12 {
            return Err(bad_exact());
        }
        f.h %= 12;
        if pm {
            f.h += 12;
        }
    }
    if gmt {
        f.zone = Some(0);
        f.zulu = true;
    }
    if !valid(&f) {
        return Err(bad_exact());
    }
    Ok(f)
}

fn expect_char(c: &mut Cur, lit: char) -> DnResult<()> {
    let mut buf = [0u8; 4];
    for b in lit.encode_utf8(&mut buf).bytes() {
        if !c.eat(b) {
            return Err(bad_exact());
        }
    }
    Ok(())
}

fn zone_exact(c: &mut Cur, f: &mut Fields, allow_z: bool) -> Option<()> {
    if allow_z && (c.eat(b'Z') || c.eat(b'z')) {
        f.zone = Some(0);
        f.zulu = true;
        return Some(());
    }
    let neg = match c.peek()? {
        b'+' => false,
        b'-' => true,
        _ => return None,
    };
    c.i += 1;
    let h = c.num(1, 2)?.0;
    let m = if c.eat(b':') { c.num(2, 2)?.0 } else { c.num(2, 2).map(|v| v.0).unwrap_or(0) };
    if h > 14 || m > 59 {
        return None;
    }
    let mins = (h * 60 + m) as i32;
    f.zone = Some(if neg { -mins } else { mins });
    Some(())
}

/// `DateTime.TryParse`.
pub fn try_parse_datetime(s: &str) -> Option<DateTime> {
    parse_datetime(s).ok()
}
