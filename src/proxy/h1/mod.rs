//! HTTP/1.1 on the client side: the connection loop (heads, keep-alive, parking, drain) and
//! the heads the gateway writes. The protocol-neutral request lifecycle is `proxy::lifecycle`.

pub mod client;
pub mod conn;
pub mod drain;
pub mod framer;
pub mod head;
pub mod idle;
pub mod parked;
pub mod side;
