//! `System.String` members with .NET's semantics: lengths and indexes count UTF-16 code
//! units, `StringComparison` is honoured, `Split`/`Trim`/`Pad*`/`Substring`… throw what .NET
//! throws; composite formatting (`String.Format`, interpolation) and `StringBuilder`.
//!
//! Culture: the current culture is the invariant culture. Culture-sensitive comparisons
//! (`CurrentCulture*`, `InvariantCulture*`, and the defaults of `Compare`, `StartsWith(string)`,
//! `EndsWith(string)`, `IndexOf(string)`) compare case-insensitively first and then put
//! lowercase before uppercase, as ICU's root collation does for Latin text; equality is
//! ordinal (or case-folded for the IgnoreCase forms).

mod builder;
mod compare;
mod composite;
mod ops;
mod split;

#[cfg(test)]
mod tests;

pub use builder::StringBuilder;
pub use compare::{compare, ends_with, equals, index_of, last_index_of, starts_with, StringComparison};
pub use composite::{format_composite, FormatArg};
pub use ops::{
    char_at, contains, insert, is_null_or_whitespace, len16, pad_left, pad_right, remove, replace, replace_with,
    substring, to_lower, to_upper, trim, trim_end, trim_start,
};
pub use split::{split_chars, split_string, split_strings, SplitOptions};

/// `Environment.NewLine` on APIM's (Windows) gateways, as `AppendLine` writes it.
pub const NEWLINE: &str = "\r\n";
