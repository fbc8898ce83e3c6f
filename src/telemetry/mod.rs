//! Telemetry recorded per core and merged off the request path: each worker owns its counters,
//! hdrhistograms and access-log buffer; the housekeeping tick hands them on (histograms merged
//! into the node's under a lock the request path never takes, log bytes to a writer thread).

pub mod access_log;
pub mod build_info;
pub mod fxhash;
pub mod histograms;
pub mod logfmt;
pub mod mask;
pub mod names;
pub mod otlp;
pub mod record;
pub mod recorder;
pub mod statsd;
pub mod totals;
pub mod trace;

pub use names::Names;
pub use record::{LogText, Record};
pub use recorder::Recorder;
