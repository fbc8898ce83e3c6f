//! `Convert.ToBase64String` / `FromBase64String` with .NET's rules (white space ignored
//! anywhere, length a multiple of four, at most two `=` at the end) and
//! `Convert.ToHexString` / `FromHexString`.

use crate::policy::dotnet::error::{DnResult, DotnetError};
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine;

const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

fn bad_base64() -> DotnetError {
    DotnetError::format(
        "The input is not a valid Base-64 string as it contains a non-base 64 character, more than two padding characters, or an illegal character among the padding characters.",
    )
}

pub fn to_base64(b: &[u8]) -> String {
    STANDARD.encode(b)
}

/// `Base64FormattingOptions.InsertLineBreaks`: a CRLF after every 76 characters.
pub fn to_base64_lines(b: &[u8]) -> String {
    let s = STANDARD.encode(b);
    let mut out = String::with_capacity(s.len() + s.len() / 38);
    for (i, chunk) in s.as_bytes().chunks(76).enumerate() {
        if i > 0 {
            out.push_str("\r\n");
        }
        out.push_str(std::str::from_utf8(chunk).unwrap_or(""));
    }
    out
}

pub fn from_base64(s: &str) -> DnResult<Vec<u8>> {
    let clean: Vec<u8> = s.bytes().filter(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n')).collect();
    if !clean.len().is_multiple_of(4) {
        return Err(bad_base64());
    }
    LENIENT.decode(&clean).map_err(|_| bad_base64())
}

/// `Convert.ToHexString(bytes)`: uppercase.
pub fn to_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

pub fn from_hex(s: &str) -> DnResult<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return Err(DotnetError::format("The input is not a valid hex string as its length is not a multiple of 2."));
    }
    let nib = |c: u8| -> DnResult<u8> {
        (c as char).to_digit(16).map(|d| d as u8).ok_or_else(|| {
            DotnetError::format("The input is not a valid hex string as it contains a non-hex character.")
        })
    };
    s.as_bytes().chunks(2).map(|p| Ok(nib(p[0])? << 4 | nib(p[1])?)).collect()
}
