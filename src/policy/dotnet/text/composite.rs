//! Composite formatting: `String.Format`, `StringBuilder.AppendFormat` and C# interpolation
//! holes `{index[,alignment][:format]}`, with `{{`/`}}` escapes.
//! https://learn.microsoft.com/dotnet/standard/base-types/composite-formatting

use super::ops::len16;
use crate::policy::dotnet::datetime::{DateTime, DateTimeOffset, TimeSpan};
use crate::policy::dotnet::encoding::Guid;
use crate::policy::dotnet::error::{DnResult, DotnetError};
use crate::policy::dotnet::number::{bool_to_string, format_double, format_int};

/// An argument of a composite format: what `IFormattable.ToString(format, invariant)` sees.
#[derive(Clone, Debug)]
pub enum FormatArg {
    Null,
    Str(String),
    /// An integer and its type's width in bits (for `X` on negatives).
    Int(i128, u32),
    Double(f64),
    Bool(bool),
    DateTime(DateTime),
    DateTimeOffset(DateTimeOffset),
    TimeSpan(TimeSpan),
    Guid(Guid),
    /// Anything else, already rendered by its `ToString()` (formats are ignored).
    Text(String),
}

impl FormatArg {
    /// `ToString(format)` of the argument (an empty format is `ToString()`).
    pub fn render(&self, fmt: &str) -> DnResult<String> {
        match self {
            Self::Null => Ok(String::new()),
            Self::Str(s) | Self::Text(s) => Ok(s.clone()),
            Self::Int(v, bits) => format_int(*v, *bits, fmt),
            Self::Double(v) => format_double(*v, fmt),
            Self::Bool(b) => Ok(bool_to_string(*b).to_string()),
            Self::DateTime(d) => d.to_string_format(fmt),
            Self::DateTimeOffset(d) => d.to_string_format(fmt),
            Self::TimeSpan(t) => t.to_string_format(fmt),
            Self::Guid(g) => g.to_string_format(fmt),
        }
    }
}

fn bad() -> DotnetError {
    DotnetError::format("Input string was not in a correct format.")
}

/// .NET caps index and alignment at 1,000,000.
const LIMIT: usize = 1_000_000;

pub fn format_composite(fmt: &str, args: &[FormatArg]) -> DnResult<String> {
    let c: Vec<char> = fmt.chars().collect();
    let mut out = String::with_capacity(fmt.len() + 16);
    let mut i = 0;
    while i < c.len() {
        match c[i] {
            '{' if c.get(i + 1) == Some(&'{') => {
                out.push('{');
                i += 2;
            }
            '}' if c.get(i + 1) == Some(&'}') => {
                out.push('}');
                i += 2;
            }
            '}' => return Err(bad()),
            '{' => {
                i += 1;
                let mut idx = 0usize;
                let start = i;
                while i < c.len() && c[i].is_ascii_digit() {
                    idx = idx * 10 + c[i] as usize - '0' as usize;
                    if idx >= LIMIT {
                        return Err(bad());
                    }
                    i += 1;
                }
                if i == start {
                    return Err(bad());
                }
                while i < c.len() && c[i] == ' ' {
                    i += 1;
                }
                let mut width: i64 = 0;
                if i < c.len() && c[i] == ',' {
                    i += 1;
                    while i < c.len() && c[i] == ' ' {
                        i += 1;
                    }
                    let neg = i < c.len() && c[i] == '-';
                    if neg {
                        i += 1;
                    }
                    let ws = i;
                    while i < c.len() && c[i].is_ascii_digit() {
                        width = width * 10 + i64::from(c[i] as u8 - b'0');
                        if width as usize >= LIMIT {
                            return Err(bad());
                        }
                        i += 1;
                    }
                    if i == ws {
                        return Err(bad());
                    }
                    if neg {
                        width = -width;
                    }
                    while i < c.len() && c[i] == ' ' {
                        i += 1;
                    }
                }
                let mut spec = String::new();
                if i < c.len() && c[i] == ':' {
                    i += 1;
                    loop {
                        match c.get(i) {
                            None => return Err(bad()),
                            Some('}') if c.get(i + 1) == Some(&'}') => {
                                // Inside a format item `}}` is not an escape in .NET Core 3+;
                                // the item ends at the first `}`.
                                break;
                            }
                            Some('}') => break,
                            Some('{') => return Err(bad()),
                            Some(&ch) => {
                                spec.push(ch);
                                i += 1;
                            }
                        }
                    }
                }
                if c.get(i) != Some(&'}') {
                    return Err(bad());
                }
                i += 1;
                let arg = args.get(idx).ok_or_else(|| {
                    DotnetError::format("Index (zero based) must be greater than or equal to zero and less than the size of the argument list.")
                })?;
                let text = arg.render(&spec)?;
                let pad = (width.unsigned_abs() as usize).saturating_sub(len16(&text));
                if width > 0 {
                    out.extend(std::iter::repeat_n(' ', pad));
                    out.push_str(&text);
                } else {
                    out.push_str(&text);
                    out.extend(std::iter::repeat_n(' ', pad));
                }
            }
            ch => {
                out.push(ch);
                i += 1;
            }
        }
    }
    Ok(out)
}
