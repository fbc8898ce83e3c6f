//! ringgate: a thread-per-core API gateway (the data plane of an API-management system).
#![forbid(unsafe_code)]

pub mod config;
pub mod http;
pub mod settings;
