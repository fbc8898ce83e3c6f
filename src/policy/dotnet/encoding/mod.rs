//! `System.Text.Encoding` (UTF8, ASCII, Unicode), `Convert` base64/hex, `BitConverter`, `Guid`.

mod base64;
mod guid;

#[cfg(test)]
mod tests;

pub use self::base64::{from_base64, from_hex, to_base64, to_base64_lines, to_hex};
pub use guid::Guid;

/// `Encoding.UTF8.GetBytes(s)`.
pub fn utf8_bytes(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

/// `Encoding.UTF8.GetString(bytes)`: invalid sequences become U+FFFD (maximal subparts, as
/// .NET Core 3.0+ does).
pub fn utf8_string(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `Encoding.ASCII.GetBytes(s)`: each non-ASCII character (a surrogate pair counts once)
/// becomes `?`.
pub fn ascii_bytes(s: &str) -> Vec<u8> {
    s.chars().map(|c| if c.is_ascii() { c as u8 } else { b'?' }).collect()
}

/// `Encoding.ASCII.GetString(bytes)`: bytes above 0x7F become `?`.
pub fn ascii_string(b: &[u8]) -> String {
    b.iter().map(|&x| if x < 0x80 { char::from(x) } else { '?' }).collect()
}

/// `Encoding.Unicode.GetBytes(s)` (UTF-16 little endian).
pub fn utf16le_bytes(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// `Encoding.Unicode.GetString(bytes)`: unpaired surrogates and an odd last byte become U+FFFD.
pub fn utf16le_string(b: &[u8]) -> String {
    let units: Vec<u16> = b.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
    let mut s: String = char::decode_utf16(units).map(|r| r.unwrap_or('\u{fffd}')).collect();
    if b.len() % 2 == 1 {
        s.push('\u{fffd}');
    }
    s
}

/// `Encoding.Latin1` / ISO-8859-1 bytes of a string (others become `?`).
pub fn latin1_bytes(s: &str) -> Vec<u8> {
    s.chars().map(|c| if (c as u32) < 0x100 { c as u32 as u8 } else { b'?' }).collect()
}

/// `BitConverter.ToString(bytes)`: `01-AB-FF`.
pub fn bit_converter_to_string(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len() * 3);
    for (i, x) in b.iter().enumerate() {
        if i > 0 {
            out.push('-');
        }
        out.push_str(&format!("{x:02X}"));
    }
    out
}

/// `BitConverter.GetBytes(int)` / `(long)` (little endian, as on x64).
pub fn bit_converter_i32(v: i32) -> Vec<u8> {
    v.to_le_bytes().to_vec()
}
pub fn bit_converter_i64(v: i64) -> Vec<u8> {
    v.to_le_bytes().to_vec()
}

/// `BitConverter.ToInt32(bytes, start)`.
pub fn bit_converter_to_i32(b: &[u8], start: i32) -> crate::policy::dotnet::DnResult<i32> {
    use crate::policy::dotnet::DotnetError;
    let s = usize::try_from(start).ok().filter(|s| *s < b.len().max(1) && !b.is_empty()).ok_or_else(|| {
        DotnetError::out_of_range(
            "startIndex",
            "Index was out of range. Must be non-negative and less than the size of the collection.",
        )
    })?;
    let w = b.get(s..s + 4).ok_or_else(|| {
        DotnetError::argument("Destination array is not long enough to copy all the items in the collection. Check array index and length. (Parameter 'value')")
    })?;
    Ok(i32::from_le_bytes([w[0], w[1], w[2], w[3]]))
}
