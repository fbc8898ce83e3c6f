//! Numbers as .NET prints and parses them (invariant culture): `double.ToString()` with the
//! shortest round-trip digits, standard and custom format strings, `int.Parse` /
//! `double.Parse` rules, `Convert.To*` rounding, `Math.*`.

mod custom;
mod digits;
mod math;
mod parse;
mod standard;

#[cfg(test)]
mod tests;

pub use math::{round, round_digits, MidpointRounding};
pub use parse::{
    convert_to_boolean, convert_to_int32, convert_to_int64, parse_bool, parse_double, parse_int, try_parse_double,
    IntType,
};
pub use standard::{format_double, format_int, format_single};

/// `double.ToString()`: shortest round-trip digits, `E+XX` from 1E+15 up and below 1E-04.
pub fn double_to_string(v: f64) -> String {
    format_double(v, "").unwrap_or_default()
}

/// `float.ToString()`.
pub fn single_to_string(v: f32) -> String {
    format_single(v, "").unwrap_or_default()
}

/// `bool.ToString()`.
pub fn bool_to_string(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}
