#![allow(clippy::should_implement_trait)] // .NET member names (Add, Subtract) are kept as written.

//! The .NET libraries that APIM policy expressions call, as plain Rust with .NET's semantics:
//! outputs and exceptions are those a .NET 6+ gateway gives (invariant culture, UTC local
//! zone). Each member that can throw returns [`DnResult`] carrying the .NET exception kind,
//! so the expression language can honour `try`/`catch`. Nothing here does I/O or reads the
//! clock: callers pass the current time in (and random bytes for `Guid.NewGuid`).
//!
//! Choices made where .NET's output depends on the host, each following APIM's managed
//! gateways (Windows, UTC clock):
//! - `Environment.NewLine` is `\r\n` (indented `JToken.ToString()`, `AppendLine`); XML output
//!   uses `\r\n` on every platform (XmlWriterSettings' default).
//! - The current culture is the invariant culture (`DateTime.ToString()` is
//!   `MM/dd/yyyy HH:mm:ss`, `N2` groups with `,`, `P` prints `12.50 %`).
//! - The local time zone is UTC: `Kind.Local` prints `+00:00`, zoned strings parse to local.
//!
//! | module | .NET types |
//! |---|---|
//! | [`json`] | Newtonsoft `JToken`/`JObject`/`JArray`/`JProperty`/`JValue`, JSONPath |
//! | [`datetime`] | `DateTime`, `DateTimeOffset`, `TimeSpan`, `TimeZoneInfo` |
//! | [`number`] | `double`/`int` `ToString(format)`, `Parse`, `Convert.To*`, `Math.Round` |
//! | [`text`] | `String` members, `StringComparison`, `String.Format`, `StringBuilder` |
//! | [`regex`] | `Regex`, `Match`, `Group` (linear-time engine; unsupported constructs refused) |
//! | [`encoding`] | `Encoding`, `Convert` base64/hex, `BitConverter`, `Guid` |
//! | [`crypto`] | hashes, HMACs, AES, RSA verification, `X509Certificate2` |
//! | [`uri`] | `Uri`, `UriBuilder`, `WebUtility`, `HttpUtility` |
//! | [`ip`] | `IPAddress` |
//! | [`xml`] | `XDocument`, `XElement`, `XName` |

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
