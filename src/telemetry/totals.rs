//! The node-wide totals exporters read: every worker's published counters and histograms,
//! summed. The node state (crate::node) produces them; telemetry only names their shape, so it
//! does not depend on how the node keeps its workers.

use std::collections::BTreeMap;
use std::time::Instant;

use super::histograms::ApiHistograms;

#[derive(Default)]
pub struct Totals {
    pub requests: u64,
    /// (api id, operation id, code class) → count.
    pub by_route: BTreeMap<(String, String, &'static str), u64>,
    /// API id ("" for requests that matched none) → histograms.
    pub histograms: BTreeMap<String, ApiHistograms>,
}

/// Where an exporter reads the totals from, on its own thread.
pub trait TotalsSource: Send + Sync {
    /// When counting began (cumulative temporality starts here).
    fn started(&self) -> Instant;
    fn totals(&self) -> Totals;
}
