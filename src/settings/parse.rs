//! Value syntax: durations (`10s`, `500ms`, `2m`, `00:01:40`), sizes (`64MiB`, `65536`), booleans.

use std::time::Duration;

/// `10s`, `250ms`, `2m`, `1h`, a bare number of seconds, or .NET's `hh:mm:ss[.fff]` (APIM's form).
pub fn duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    if s.contains(':') {
        let parts: Vec<&str> = s.split(':').collect();
        if parts.len() != 3 {
            return None;
        }
        let h: u64 = parts[0].parse().ok()?;
        let m: u64 = parts[1].parse().ok()?;
        let sec: f64 = parts[2].parse().ok()?;
        if m >= 60 || !(0.0..60.0).contains(&sec) {
            return None;
        }
        // Checked: a huge hour count is refused, not an overflow (found by fuzz/settings).
        let whole = h.checked_mul(3600)?.checked_add(m * 60)?;
        return Duration::from_secs(whole).checked_add(Duration::try_from_secs_f64(sec).ok()?);
    }
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().ok()?;
    if !n.is_finite() || n < 0.0 {
        return None;
    }
    let secs = match unit.trim() {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        _ => return None,
    };
    // `try_`: a number too large for a Duration is refused, not a panic (found by fuzz/settings).
    Duration::try_from_secs_f64(secs).ok()
}

/// `65536`, `64KiB`, `64MiB`, `1GiB`, `10KB`, `10MB` (decimal units are powers of 1000).
pub fn bytes(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().ok()?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        _ => return None,
    };
    n.checked_mul(mult)
}

pub fn boolean(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration("10s"), Some(Duration::from_secs(10)));
        assert_eq!(duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(duration("00:01:40"), Some(Duration::from_secs(100)));
        assert_eq!(duration("7"), Some(Duration::from_secs(7)));
        assert_eq!(duration("abc"), None);
        assert_eq!(duration("1:99:00"), None);
        assert_eq!(duration("-1s"), None);
    }

    #[test]
    fn durations_too_large_are_refused_not_a_panic() {
        // fuzz/regressions/settings/huge-duration: from_secs_f64 panicked on these.
        assert_eq!(duration(&"5".repeat(40)), None);
        assert_eq!(duration(&format!("{}h", "9".repeat(30))), None);
        assert_eq!(duration(&format!("{}:00:00", u64::MAX)), None);
    }

    #[test]
    fn sizes() {
        assert_eq!(bytes("65536"), Some(65536));
        assert_eq!(bytes("64MiB"), Some(64 << 20));
        assert_eq!(bytes("10KB"), Some(10_000));
        assert_eq!(bytes("ten"), None);
        assert_eq!(bytes("99999999999GiB"), None);
    }
}
