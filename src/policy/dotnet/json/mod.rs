//! Newtonsoft.Json's LINQ-to-JSON model (`JToken`, `JObject`, `JArray`, `JProperty`,
//! `JValue`) with its parsing, printing, conversions and JSONPath.

mod convert;
mod parse;
mod path;
mod token;
mod write;

#[cfg(test)]
mod tests;

pub use convert::{cast, value_as, Prim, Target};
pub use parse::{date_of, parse_array, parse_bytes, parse_object, parse_token, ParseLimits};
pub use token::{JToken, JValue, Key};
pub use write::{iso_date, json_double, serialize_string, value_to_string, write_escaped, NEWLINE};

/// `Newtonsoft.Json.Formatting`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Formatting {
    None,
    Indented,
}

/// `Newtonsoft.Json.Linq.JTokenType`, with Newtonsoft's numbering.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JTokenType {
    None = 0,
    Object = 1,
    Array = 2,
    Constructor = 3,
    Property = 4,
    Comment = 5,
    Integer = 6,
    Float = 7,
    String = 8,
    Boolean = 9,
    Null = 10,
    Undefined = 11,
    Date = 12,
    Raw = 13,
    Bytes = 14,
    Guid = 15,
    Uri = 16,
    TimeSpan = 17,
}

impl JTokenType {
    /// The enum member's name, as `ToString()` prints it.
    pub fn name(self) -> &'static str {
        match self {
            Self::None => "None",
            Self::Object => "Object",
            Self::Array => "Array",
            Self::Constructor => "Constructor",
            Self::Property => "Property",
            Self::Comment => "Comment",
            Self::Integer => "Integer",
            Self::Float => "Float",
            Self::String => "String",
            Self::Boolean => "Boolean",
            Self::Null => "Null",
            Self::Undefined => "Undefined",
            Self::Date => "Date",
            Self::Raw => "Raw",
            Self::Bytes => "Bytes",
            Self::Guid => "Guid",
            Self::Uri => "Uri",
            Self::TimeSpan => "TimeSpan",
        }
    }
}
