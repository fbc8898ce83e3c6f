//! Latency and size histograms (hdrhistogram, microseconds and bytes) per API, owned by one
//! worker and merged into the node's on the housekeeping tick.

use hdrhistogram::Histogram;

/// Durations recorded: total, backend, client, gateway (the order of `Record::durations`).
pub const DURATIONS: [&str; 4] = ["request", "backend", "client", "gateway"];

#[derive(Clone, Debug)]
pub struct ApiHistograms {
    /// Microseconds, indexed like [`DURATIONS`].
    pub durations: [Histogram<u64>; 4],
    pub duration_sums_us: [u64; 4],
    pub request_bytes: Histogram<u64>,
    pub response_bytes: Histogram<u64>,
    pub request_bytes_sum: u64,
    pub response_bytes_sum: u64,
}

fn histogram(max: u64) -> Histogram<u64> {
    // Two significant digits: ~1% error, a few KiB each; auto-resize beyond `max`.
    // Invariant: the bounds are constants (low 1, high >= 2, sigfig 2), which hdrhistogram accepts.
    let mut h = Histogram::new_with_bounds(1, max, 2).expect("constant histogram bounds are valid");
    h.auto(true);
    h
}

impl Default for ApiHistograms {
    fn default() -> Self {
        let d = || histogram(3_600_000_000);
        ApiHistograms {
            durations: [d(), d(), d(), d()],
            duration_sums_us: [0; 4],
            request_bytes: histogram(1 << 40),
            response_bytes: histogram(1 << 40),
            request_bytes_sum: 0,
            response_bytes_sum: 0,
        }
    }
}

impl ApiHistograms {
    pub fn record(&mut self, durations_us: [u64; 4], request_bytes: u64, response_bytes: u64) {
        for (i, us) in durations_us.into_iter().enumerate() {
            self.durations[i].saturating_record(us.max(1));
            self.duration_sums_us[i] += us;
        }
        self.request_bytes.saturating_record(request_bytes.max(1));
        self.response_bytes.saturating_record(response_bytes.max(1));
        self.request_bytes_sum += request_bytes;
        self.response_bytes_sum += response_bytes;
    }

    pub fn count(&self) -> u64 {
        self.durations[0].len()
    }

    /// Adds `other` into `self` (node-side merge).
    pub fn merge(&mut self, other: &ApiHistograms) {
        for i in 0..4 {
            let _ = self.durations[i].add(&other.durations[i]);
            self.duration_sums_us[i] += other.duration_sums_us[i];
        }
        let _ = self.request_bytes.add(&other.request_bytes);
        let _ = self.response_bytes.add(&other.response_bytes);
        self.request_bytes_sum += other.request_bytes_sum;
        self.response_bytes_sum += other.response_bytes_sum;
    }

    pub fn reset(&mut self) {
        for h in &mut self.durations {
            h.reset();
        }
        self.duration_sums_us = [0; 4];
        self.request_bytes.reset();
        self.response_bytes.reset();
        self.request_bytes_sum = 0;
        self.response_bytes_sum = 0;
    }
}

/// How many recorded values are at or below `bound` (cumulative bucket count).
pub fn at_or_below(h: &Histogram<u64>, bound: u64) -> u64 {
    if h.is_empty() {
        return 0;
    }
    h.count_between(0, bound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_merges_and_buckets() {
        let mut a = ApiHistograms::default();
        a.record([1000, 400, 300, 300], 10, 20);
        a.record([5000, 1000, 1000, 3000], 0, 2048);
        let mut node = ApiHistograms::default();
        node.merge(&a);
        node.merge(&a);
        assert_eq!(node.count(), 4);
        assert_eq!(node.duration_sums_us[0], 12_000);
        assert_eq!(at_or_below(&node.durations[0], 1_000), 2);
        assert_eq!(at_or_below(&node.durations[0], 10_000), 4);
        a.reset();
        assert_eq!(a.count(), 0);
    }
}
