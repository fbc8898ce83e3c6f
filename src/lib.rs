//! ringgate: a thread-per-core API gateway (the data plane of an API-management system).
//!
//! Module map:
//! - [`settings`]: dotted-key settings from `--set`, environment, file, defaults.
//! - [`api_model`]: APIs, operations, products, backend URLs, the document's TLS material
//!   (below `config`, `policy` and `tls`).
//! - [`config`]: the configuration document: loading, validation, compiling routes, keys and
//!   (through the policy compiler) policy plans.
//! - [`snapshot`]: what a worker runs on, assembled in one place by the control thread from a
//!   loaded document and the fetched `<openid-config>` keys.
//! - [`control`]: the control thread (sources, compile, broadcast to workers).
//! - [`worker`]: worker threads (one per core), listeners, the I/O driver, housekeeping.
//! - [`proxy`]: the request path: connection loop, gate (route + key), backend exchange, pool.
//! - [`http`]: our HTTP/1.1 codec (heads, chunked framing, writers).
//! - [`policy`]: the policy engine: APIM-style documents compiled into flat plans.
//! - [`admin`]: `/status` and `/metrics` on the admin port.
//! - [`control_plane`]: the `ringgate control-plane` server; [`token`]: gateway tokens.
//! - [`limits`]: rate-limit, quota and concurrency counters (node-wide, Redis-shared).
//! - [`telemetry`]: per-core metrics, access log, OTLP, StatsD; [`tls`]: client-facing TLS.
//! - [`demo`]: the built-in echo demo.
#![deny(unsafe_code)]

pub mod admin;
pub mod api_model;
pub mod config;
pub mod control;
pub mod control_plane;
pub mod demo;
pub mod fsutil;
pub mod gateway;
pub mod http;
pub mod limits;
pub mod logging;
pub mod node;
pub mod policy;
pub mod proxy;
pub mod settings;
pub mod snapshot;
pub mod sys;
pub mod telemetry;
pub mod timefmt;
pub mod tls;
pub mod token;
pub mod worker;
