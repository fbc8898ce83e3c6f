//! TLS for clients of the gateway: certificates by SNI from the document, TLS 1.2 and 1.3 only,
//! the allowed cipher suites by IANA name, session resumption shared by every worker.

pub mod ciphers;
pub mod client;
pub mod handshake;
pub mod server;

pub use server::{ServerTls, TlsSetupError};
