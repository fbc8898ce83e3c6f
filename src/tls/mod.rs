//! TLS for clients of the gateway: certificates by SNI from the document, TLS 1.2 and 1.3 only,
//! the allowed cipher suites by IANA name, session resumption shared by every worker,
//! client certificates requested when the document asks (`negotiateClientCertificate`).

pub mod ciphers;
pub mod client;
pub mod client_auth;
pub mod handshake;
pub mod local_ca;
pub mod server;
pub mod v1_chain;
pub mod x509;

pub use server::{ServerTls, TlsSetupError};
