//! The .NET exception a member throws, so the language can `catch (FormatException)` and
//! report the message users see in APIM traces.

use std::fmt;

/// The .NET exception type a failing member throws.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExceptionKind {
    Format,
    Argument,
    ArgumentNull,
    ArgumentOutOfRange,
    Overflow,
    InvalidOperation,
    NullReference,
    JsonReader,
    /// `System.Text.RegularExpressions.RegexParseException` (an `ArgumentException`).
    RegexParse,
    Cryptographic,
    UriFormat,
    KeyNotFound,
    IndexOutOfRange,
    InvalidCast,
    DivideByZero,
    /// Newtonsoft's `JsonException` (e.g. adding to a `JProperty`).
    Json,
    TimeZoneNotFound,
    /// `System.Xml.XmlException`.
    Xml,
    /// A ringgate budget (memory, depth) ran out: not a .NET exception, never catchable.
    Budget,
}

impl ExceptionKind {
    /// The exception's full .NET type name, as `e.GetType().FullName` prints it.
    pub fn type_name(self) -> &'static str {
        match self {
            Self::Format => "System.FormatException",
            Self::Argument => "System.ArgumentException",
            Self::ArgumentNull => "System.ArgumentNullException",
            Self::ArgumentOutOfRange => "System.ArgumentOutOfRangeException",
            Self::Overflow => "System.OverflowException",
            Self::InvalidOperation => "System.InvalidOperationException",
            Self::NullReference => "System.NullReferenceException",
            Self::JsonReader => "Newtonsoft.Json.JsonReaderException",
            Self::RegexParse => "System.Text.RegularExpressions.RegexParseException",
            Self::Cryptographic => "System.Security.Cryptography.CryptographicException",
            Self::UriFormat => "System.UriFormatException",
            Self::KeyNotFound => "System.Collections.Generic.KeyNotFoundException",
            Self::IndexOutOfRange => "System.IndexOutOfRangeException",
            Self::InvalidCast => "System.InvalidCastException",
            Self::DivideByZero => "System.DivideByZeroException",
            Self::Json => "Newtonsoft.Json.JsonException",
            Self::TimeZoneNotFound => "System.TimeZoneNotFoundException",
            Self::Xml => "System.Xml.XmlException",
            Self::Budget => "ringgate.BudgetExceeded",
        }
    }

    /// Whether `catch (T)` for the .NET type named `catch_type` (short or full name) catches
    /// this exception, following .NET's inheritance (ArgumentNull is an Argument exception…).
    pub fn is_caught_by(self, catch_type: &str) -> bool {
        if self == Self::Budget {
            return false;
        }
        let short = catch_type.rsplit('.').next().unwrap_or(catch_type);
        let own = self.type_name().rsplit('.').next().unwrap_or("");
        if short == "Exception" || short == own {
            return true;
        }
        match short {
            "ArgumentException" => {
                matches!(self, Self::ArgumentNull | Self::ArgumentOutOfRange | Self::RegexParse)
            }
            "SystemException" => !matches!(self, Self::JsonReader | Self::Json),
            "ArithmeticException" => matches!(self, Self::Overflow | Self::DivideByZero),
            "JsonException" => matches!(self, Self::JsonReader),
            "FormatException" => matches!(self, Self::UriFormat),
            _ => false,
        }
    }
}

/// A thrown .NET exception: its type and its `Message`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DotnetError {
    pub kind: ExceptionKind,
    pub message: String,
}

impl DotnetError {
    pub fn new(kind: ExceptionKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into() }
    }
    pub fn format(message: impl Into<String>) -> Self {
        Self::new(ExceptionKind::Format, message)
    }
    pub fn argument(message: impl Into<String>) -> Self {
        Self::new(ExceptionKind::Argument, message)
    }
    /// `ArgumentOutOfRangeException` with .NET's "(Parameter 'name')" suffix.
    pub fn out_of_range(param: &str, message: &str) -> Self {
        Self::new(ExceptionKind::ArgumentOutOfRange, format!("{message} (Parameter '{param}')"))
    }
    pub fn null_arg(param: &str) -> Self {
        Self::new(ExceptionKind::ArgumentNull, format!("Value cannot be null. (Parameter '{param}')"))
    }
    pub fn overflow(message: impl Into<String>) -> Self {
        Self::new(ExceptionKind::Overflow, message)
    }
    pub fn invalid_op(message: impl Into<String>) -> Self {
        Self::new(ExceptionKind::InvalidOperation, message)
    }
    pub fn invalid_cast(message: impl Into<String>) -> Self {
        Self::new(ExceptionKind::InvalidCast, message)
    }
    pub fn budget(message: impl Into<String>) -> Self {
        Self::new(ExceptionKind::Budget, message)
    }
}

impl fmt::Display for DotnetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.type_name(), self.message)
    }
}

impl std::error::Error for DotnetError {}

pub type DnResult<T> = Result<T, DotnetError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catch_follows_dotnet_inheritance() {
        // https://learn.microsoft.com/dotnet/api/system.argumentnullexception (inherits ArgumentException)
        let cases = [
            (ExceptionKind::ArgumentNull, "ArgumentException", true),
            (ExceptionKind::ArgumentNull, "System.Exception", true),
            (ExceptionKind::Format, "ArgumentException", false),
            (ExceptionKind::UriFormat, "FormatException", true),
            (ExceptionKind::Overflow, "ArithmeticException", true),
            (ExceptionKind::JsonReader, "Newtonsoft.Json.JsonException", true),
            (ExceptionKind::Budget, "Exception", false),
            (ExceptionKind::RegexParse, "ArgumentException", true),
        ];
        for (k, t, want) in cases {
            assert_eq!(k.is_caught_by(t), want, "{k:?} by {t}");
        }
    }
}
