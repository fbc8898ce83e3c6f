#![allow(clippy::should_implement_trait)] // .NET member names (Add, Subtract) are kept as written.

//! The .NET libraries that APIM policy expressions call, as plain Rust with .NET's semantics:
//! outputs and exceptions are those a .NET 6+ gateway gives (invariant culture, UTC local
//! zone). Each member that can throw returns [`DnResult`] carrying the .NET exception kind,
//! so the expression language can honour `try`/`catch`. Nothing here does I/O or reads the
//! clock: callers pass the current time in.

pub mod crypto;
pub mod datetime;
pub mod encoding;
pub mod error;
pub mod ip;
pub mod json;
pub mod number;
pub mod regex;
pub mod text;
pub mod uri;
pub mod xml;

pub use error::{DnResult, DotnetError, ExceptionKind};
