//! The request path: connection loop → gate (host, route, subscription) → exchange with the
//! backend (pooled, streamed both ways) → response. Runs entirely on one worker's event loop.

pub mod backend;
pub mod body;
pub mod context;
pub mod exchange;
pub mod failure;
pub mod gate;
pub mod h1;
pub mod io;
pub mod lifecycle;
pub mod policies;
pub mod relay;
pub mod request;
pub mod respond;
pub mod seam;
pub mod stop;
pub mod upgrade;
pub mod upstream;
pub mod views;

/// Health paths answered on the API port whatever the Host (Kubernetes probes).
pub const STATUS_PATHS: [&[u8]; 2] = [b"/status-0123456789abcdef", b"/internal-status-0123456789abcdef"];
