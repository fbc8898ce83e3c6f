//! HTTP/1.1 on the client side: the connection loop (heads, keep-alive, parking, drain) and
//! the heads the gateway writes. The protocol-neutral request lifecycle is `proxy::lifecycle`;
//! it reaches this codec only through `side` (the `proxy::seam::ClientSide` of a connection)
//! and `framer` (a relayed body on the wire).

pub mod client;
pub mod conn;
pub mod drain;
pub mod framer;
pub mod head;
pub mod idle;
pub mod parked;
pub mod side;
