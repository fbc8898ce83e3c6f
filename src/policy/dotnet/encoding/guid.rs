//! `System.Guid`: parsing the N/D/B/P/X forms, printing them, `ToByteArray` with .NET's
//! mixed-endian layout, and `NewGuid` from random bytes the caller supplies.

use crate::policy::dotnet::error::{DnResult, DotnetError};
use std::fmt::Write;

/// The 16 bytes in RFC 4122 (big-endian, printing) order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Guid(pub [u8; 16]);

fn bad() -> DotnetError {
    DotnetError::format("Unrecognized Guid format.")
}

impl Guid {
    pub const EMPTY: Guid = Guid([0; 16]);

    /// `Guid.NewGuid()`: version 4 from 16 random bytes.
    pub fn new_v4(mut random: [u8; 16]) -> Self {
        random[6] = (random[6] & 0x0f) | 0x40;
        random[8] = (random[8] & 0x3f) | 0x80;
        Guid(random)
    }

    /// `new Guid(byte[])`: the first three fields are little endian.
    pub fn from_dotnet_bytes(b: &[u8]) -> DnResult<Self> {
        let b: [u8; 16] = b
            .try_into()
            .map_err(|_| DotnetError::argument("Byte array for Guid must be exactly 16 bytes long. (Parameter 'b')"))?;
        let mut o = b;
        o[0..4].reverse();
        o[4..6].reverse();
        o[6..8].reverse();
        Ok(Guid(o))
    }

    /// `ToByteArray()`.
    pub fn to_dotnet_bytes(self) -> [u8; 16] {
        let mut o = self.0;
        o[0..4].reverse();
        o[4..6].reverse();
        o[6..8].reverse();
        o
    }

    /// `Guid.Parse(s)`: any of N, D, B, P (surrounding white space allowed), or X.
    pub fn parse(s: &str) -> DnResult<Self> {
        let t = s.trim();
        let inner = match (t.chars().next(), t.chars().last()) {
            (Some('{'), Some('}')) if t.contains("0x") || t.contains("0X") => return parse_x(t),
            (Some('{'), Some('}')) | (Some('('), Some(')')) if t.len() == 38 => &t[1..37],
            _ => t,
        };
        let hex: String = match inner.len() {
            32 => inner.to_string(),
            36 => {
                let b = inner.as_bytes();
                if b[8] != b'-' || b[13] != b'-' || b[18] != b'-' || b[23] != b'-' {
                    return Err(DotnetError::format(
                        "Guid should contain 32 digits with 4 dashes (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx).",
                    ));
                }
                inner.replace('-', "")
            }
            _ => return Err(bad()),
        };
        if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let mut out = [0u8; 16];
        for (i, o) in out.iter_mut().enumerate() {
            *o = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        Ok(Guid(out))
    }

    pub fn try_parse(s: &str) -> Option<Self> {
        Self::parse(s).ok()
    }

    /// `ToString(format)`: "D" (default), "N", "B", "P", "X"; others throw.
    pub fn to_string_format(self, f: &str) -> DnResult<String> {
        let mut hex = String::with_capacity(32);
        for b in self.0 {
            let _ = write!(hex, "{b:02x}");
        }
        let d = || format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32]);
        Ok(match f {
            "" | "D" | "d" => d(),
            "N" | "n" => hex.clone(),
            "B" | "b" => format!("{{{}}}", d()),
            "P" | "p" => format!("({})", d()),
            "X" | "x" => {
                let mut s = format!("{{0x{},0x{},0x{},{{", &hex[0..8], &hex[8..12], &hex[12..16]);
                for i in 0..8 {
                    if i > 0 {
                        s.push(',');
                    }
                    let _ = write!(s, "0x{}", &hex[16 + 2 * i..18 + 2 * i]);
                }
                s.push_str("}}");
                s
            }
            _ => {
                return Err(DotnetError::format(
                    "Format string can be only \"D\", \"d\", \"N\", \"n\", \"P\", \"p\", \"B\", \"b\", \"X\" or \"x\".",
                ))
            }
        })
    }

    /// `ToString()`.
    pub fn to_dotnet_string(self) -> String {
        self.to_string_format("D").unwrap_or_default()
    }
}

fn parse_x(t: &str) -> DnResult<Guid> {
    let body: String = t.chars().filter(|c| !c.is_whitespace() && *c != '{' && *c != '}').collect();
    let parts: Vec<&str> = body.split(',').collect();
    if parts.len() != 11 {
        return Err(bad());
    }
    let widths = [8, 4, 4, 2, 2, 2, 2, 2, 2, 2, 2];
    let mut hex = String::new();
    for (p, w) in parts.iter().zip(widths) {
        let h = p.strip_prefix("0x").or_else(|| p.strip_prefix("0X")).ok_or_else(bad)?;
        if h.is_empty() || h.len() > w || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        hex.push_str(&format!("{h:0>w$}"));
    }
    Guid::parse(&hex)
}
