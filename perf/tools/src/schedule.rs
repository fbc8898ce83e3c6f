//! The open-loop send schedule: connection `i` of `C` sends its `k`-th request at
//! `t0 + (k*C + i) / R`, so the connections together send `R` requests per second,
//! evenly interleaved.

use std::time::Duration;

#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    rate: f64,
    connections: u64,
}

impl Schedule {
    /// `rate` is total requests per second (finite, > 0); `connections` >= 1.
    pub fn new(rate: f64, connections: u64) -> Result<Self, String> {
        if !(rate.is_finite() && rate > 0.0) {
            return Err(format!("rate must be a positive number, got {rate}"));
        }
        if connections == 0 {
            return Err("connections must be at least 1".into());
        }
        Ok(Self { rate, connections })
    }

    /// Offset from `t0` of the intended send time of request `k` on connection `conn`.
    pub fn offset(&self, conn: u64, k: u64) -> Duration {
        let slot = k.saturating_mul(self.connections).saturating_add(conn);
        Duration::from_nanos((slot as f64 * 1e9 / self.rate).round() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_interleave_evenly() {
        let s = Schedule::new(1000.0, 4).unwrap();
        assert_eq!(s.offset(0, 0), Duration::ZERO);
        assert_eq!(s.offset(1, 0), Duration::from_millis(1));
        assert_eq!(s.offset(3, 0), Duration::from_millis(3));
        assert_eq!(s.offset(0, 1), Duration::from_millis(4));
        assert_eq!(s.offset(2, 10), Duration::from_millis(42));
        // Every slot in the first second is used exactly once.
        let mut all: Vec<Duration> = (0..4).flat_map(|c| (0..250).map(move |k| s.offset(c, k))).collect();
        all.sort();
        for (n, d) in all.iter().enumerate() {
            assert_eq!(*d, Duration::from_millis(n as u64));
        }
    }

    #[test]
    fn fractional_rates_and_bad_input() {
        let s = Schedule::new(3.0, 1).unwrap();
        let d = s.offset(0, 1);
        assert!((d.as_secs_f64() - 1.0 / 3.0).abs() < 1e-9);
        assert!(Schedule::new(0.0, 1).is_err());
        assert!(Schedule::new(f64::NAN, 1).is_err());
        assert!(Schedule::new(10.0, 0).is_err());
    }
}
