//! Tools for ringgate's perf lab: `openloop` (an open-loop, coordinated-omission
//! aware HTTP/1.1 load generator) and `plot` (SVG charts from a JSON spec).

pub mod chart;
pub mod http;
pub mod loadgen;
pub mod schedule;
