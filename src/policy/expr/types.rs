//! Type names as written in expressions: keywords, short names of the namespaces APIM
//! imports, and fully qualified names (`System.Text.StringBuilder`). Resolving a name says
//! what ringgate runs it as, or why not: "not yet supported by ringgate" for a type APIM
//! allows, "not allowed in APIM policy expressions" for one it does not.

use super::parser::TypeRef;
use super::value::Ty;
use super::ExprError;

/// Namespaces whose types APIM expressions may name (the allowed types' namespaces).
const NAMESPACES: [&str; 12] = [
    "System",
    "System.Text",
    "System.Text.RegularExpressions",
    "System.Collections.Generic",
    "System.Linq",
    "System.Net",
    "System.IO",
    "System.Security.Cryptography",
    "System.Security.Cryptography.X509Certificates",
    "System.Xml.Linq",
    "Newtonsoft.Json",
    "Newtonsoft.Json.Linq",
];

/// The short names of the types APIM's policy-expressions page allows (its table of 130).
const APIM_TYPES: &[&str] = &[
    "Formatting",
    "JsonConvert",
    "Extensions",
    "JArray",
    "JConstructor",
    "JContainer",
    "JObject",
    "JProperty",
    "JRaw",
    "JToken",
    "JTokenType",
    "JValue",
    "Array",
    "BitConverter",
    "Boolean",
    "Byte",
    "Char",
    "Dictionary",
    "HashSet",
    "ICollection",
    "IDictionary",
    "IEnumerable",
    "IEnumerator",
    "IList",
    "IReadOnlyCollection",
    "IReadOnlyDictionary",
    "ISet",
    "KeyValuePair",
    "List",
    "Queue",
    "Stack",
    "Convert",
    "DateTime",
    "DateTimeKind",
    "DateTimeOffset",
    "Decimal",
    "Double",
    "Enum",
    "Exception",
    "Guid",
    "Int16",
    "Int32",
    "Int64",
    "StringReader",
    "StringWriter",
    "Enumerable",
    "Math",
    "MidpointRounding",
    "IPAddress",
    "WebUtility",
    "Nullable",
    "Random",
    "SByte",
    "AsymmetricAlgorithm",
    "CipherMode",
    "HashAlgorithm",
    "HashAlgorithmName",
    "HMAC",
    "HMACMD5",
    "HMACSHA1",
    "HMACSHA256",
    "HMACSHA384",
    "HMACSHA512",
    "KeyedHashAlgorithm",
    "MD5",
    "Oid",
    "PaddingMode",
    "RNGCryptoServiceProvider",
    "RSA",
    "RSAEncryptionPadding",
    "RSASignaturePadding",
    "SHA1",
    "SHA1Managed",
    "SHA256",
    "SHA256Managed",
    "SHA384",
    "SHA384Managed",
    "SHA512",
    "SHA512Managed",
    "SymmetricAlgorithm",
    "PublicKey",
    "RSACertificateExtensions",
    "X500DistinguishedName",
    "X509Certificate",
    "X509Certificate2",
    "X509ContentType",
    "X509NameType",
    "Single",
    "String",
    "StringComparer",
    "StringComparison",
    "StringSplitOptions",
    "Encoding",
    "Capture",
    "CaptureCollection",
    "Group",
    "GroupCollection",
    "Match",
    "Regex",
    "RegexOptions",
    "StringBuilder",
    "TimeSpan",
    "TimeZone",
    "TimeZoneInfo",
    "Tuple",
    "UInt16",
    "UInt32",
    "UInt64",
    "Uri",
    "UriPartial",
    "XAttribute",
    "XCData",
    "XComment",
    "XContainer",
    "XDeclaration",
    "XDocument",
    "XDocumentType",
    "XElement",
    "XName",
    "XNamespace",
    "XNode",
    "XNodeDocumentOrderComparer",
    "XNodeEqualityComparer",
    "XObject",
    "XProcessingInstruction",
    "XText",
    "XmlNodeType",
    "Object",
    "IGrouping",
    "MatchCollection",
    "Func",
    "Action",
    "IResponse",
    "Jwt",
    "BasicAuthCredentials",
    "FormatException",
    "ArgumentException",
    "ArgumentNullException",
    "ArgumentOutOfRangeException",
    "InvalidOperationException",
    "NullReferenceException",
    "InvalidCastException",
    "OverflowException",
    "KeyNotFoundException",
    "IndexOutOfRangeException",
    "DivideByZeroException",
    "JsonReaderException",
    "JsonException",
    "NotSupportedException",
    "SystemException",
    "ApplicationException",
];

/// Strips an allowed namespace from a dotted name: `System.Text.StringBuilder` → `StringBuilder`.
/// `None` when the prefix is not one of the namespaces APIM imports.
pub fn strip_namespace(name: &str) -> Option<&str> {
    match name.rsplit_once('.') {
        None => Some(name),
        Some((ns, short)) => NAMESPACES.contains(&ns).then_some(short),
    }
}

pub fn apim_allows(short: &str) -> bool {
    APIM_TYPES.contains(&short)
}

/// The refusal for a type ringgate does not run, naming whose gap it is.
pub fn refuse_type(t: &TypeRef, what: &str) -> ExprError {
    let full = t.display();
    let short = strip_namespace(&t.name).unwrap_or(&t.name);
    // C# keywords name allowed types (`decimal` is System.Decimal).
    let short = match short {
        "decimal" => "Decimal",
        "float" => "Single",
        "sbyte" => "SByte",
        "short" => "Int16",
        "ushort" => "UInt16",
        "uint" => "UInt32",
        "ulong" => "UInt64",
        "object" => "Object",
        s => s,
    };
    if apim_allows(short) {
        ExprError::new(t.pos, format!("{what} {full} is not yet supported by ringgate"))
    } else {
        ExprError::new(t.pos, format!("{what} {full}: the type is not allowed in APIM policy expressions"))
    }
}

/// The exception types `catch` and `throw` know, with their base types.
pub fn exception_type(short: &str) -> Option<&'static str> {
    Some(match short {
        "Exception" => "Exception",
        "SystemException" => "SystemException",
        "ApplicationException" => "ApplicationException",
        "FormatException" => "FormatException",
        "ArgumentException" => "ArgumentException",
        "ArgumentNullException" => "ArgumentNullException",
        "ArgumentOutOfRangeException" => "ArgumentOutOfRangeException",
        "InvalidOperationException" => "InvalidOperationException",
        "NullReferenceException" => "NullReferenceException",
        "InvalidCastException" => "InvalidCastException",
        "OverflowException" => "OverflowException",
        "KeyNotFoundException" => "KeyNotFoundException",
        "IndexOutOfRangeException" => "IndexOutOfRangeException",
        "DivideByZeroException" => "DivideByZeroException",
        "JsonReaderException" => "JsonReaderException",
        "JsonException" => "JsonException",
        "NotSupportedException" => "NotSupportedException",
        _ => return None,
    })
}

/// Whether an exception of type `thrown` is caught by `catch (caught)` (.NET's hierarchy).
pub fn exception_is(thrown: &str, caught: &str) -> bool {
    let mut t = thrown;
    loop {
        if t == caught {
            return true;
        }
        t = match t {
            "Exception" => return false,
            "ArgumentNullException" | "ArgumentOutOfRangeException" => "ArgumentException",
            "JsonReaderException" => "JsonException",
            "JsonException" | "ApplicationException" | "SystemException" => "Exception",
            "DivideByZeroException" | "OverflowException" => "ArithmeticException",
            "ArithmeticException" => "SystemException",
            _ => "SystemException",
        };
    }
}

/// A resolved type: its static type and, for JSON tokens and collections, the exact kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resolved {
    pub ty: Ty,
    /// `JObject`, `JArray`, `JValue`, `JToken`, `JProperty`, `List`, `HashSet`, `Dictionary`, …
    pub kind: &'static str,
    /// The element type's .NET name, for collections (`System.String`).
    pub elem: &'static str,
}

fn r(ty: Ty, kind: &'static str) -> Resolved {
    Resolved { ty, kind, elem: "System.Object" }
}

/// .NET's full name of an element type (for `ToString()` of collections).
pub fn dotnet_name(t: &TypeRef) -> &'static str {
    match strip_namespace(&t.name).unwrap_or("") {
        "string" | "String" => "System.String",
        "int" | "Int32" => "System.Int32",
        "long" | "Int64" => "System.Int64",
        "bool" | "Boolean" => "System.Boolean",
        "double" | "Double" => "System.Double",
        "char" | "Char" => "System.Char",
        "JObject" => "Newtonsoft.Json.Linq.JObject",
        "JToken" => "Newtonsoft.Json.Linq.JToken",
        _ => "System.Object",
    }
}

/// Resolves a type name for declarations, casts, `is`/`as`, generic arguments and `new`.
pub fn resolve(t: &TypeRef) -> Result<Resolved, ExprError> {
    let Some(short) = strip_namespace(&t.name) else {
        return Err(refuse_type(t, "type"));
    };
    if t.array {
        let elem = TypeRef { array: false, ..t.clone() };
        let e = resolve(&elem)?;
        return Ok(match e.ty {
            Ty::Int if short == "byte" || short == "Byte" => r(Ty::Bytes, "byte[]"),
            _ => Resolved { ty: Ty::List, kind: "Array", elem: dotnet_name(&elem) },
        });
    }
    if t.nullable
        && !matches!(short, "int" | "long" | "bool" | "double" | "char" | "Int32" | "Int64" | "Boolean" | "Double")
    {
        return Err(refuse_type(t, "nullable type"));
    }
    let generic_ok = |n: usize| t.args.len() == n;
    let res = match short {
        "string" | "String" => r(Ty::Str, "string"),
        "int" | "Int32" | "short" | "Int16" | "byte" | "Byte" | "sbyte" | "SByte" | "ushort" | "UInt16" => {
            r(Ty::Int, "int")
        }
        "long" | "Int64" | "uint" | "UInt32" => r(Ty::Long, "long"),
        "bool" | "Boolean" => r(Ty::Bool, "bool"),
        "double" | "Double" | "float" | "Single" => r(Ty::Double, "double"),
        "char" | "Char" => r(Ty::Char, "char"),
        "object" | "Object" | "dynamic" => r(Ty::Any, "object"),
        "JObject" => r(Ty::Json, "JObject"),
        "JArray" => r(Ty::Json, "JArray"),
        "JToken" | "JContainer" => r(Ty::Json, "JToken"),
        "JValue" => r(Ty::Json, "JValue"),
        "JProperty" => r(Ty::Pair, "JProperty"),
        "StringBuilder" => r(Ty::StringBuilder, "StringBuilder"),
        "Exception" => r(Ty::Exception, "Exception"),
        "Jwt" => r(Ty::Jwt, "Jwt"),
        "BasicAuthCredentials" => r(Ty::Basic, "BasicAuthCredentials"),
        "List" | "IList" | "ICollection" | "IEnumerable" | "IReadOnlyCollection" | "IReadOnlyList" if generic_ok(1) => {
            Resolved { ty: Ty::List, kind: "List", elem: dotnet_name(&t.args[0]) }
        }
        "HashSet" | "ISet" if generic_ok(1) => {
            Resolved { ty: Ty::List, kind: "HashSet", elem: dotnet_name(&t.args[0]) }
        }
        "Dictionary" | "IDictionary" | "IReadOnlyDictionary" if generic_ok(2) => r(Ty::Dict, "Dictionary"),
        "KeyValuePair" if generic_ok(2) => r(Ty::Pair, "KeyValuePair"),
        "Func" | "Action" => r(Ty::Func, "Func"),
        "DateTime" => r(Ty::DateTime, "DateTime"),
        "TimeSpan" => r(Ty::TimeSpan, "TimeSpan"),
        "DateTimeOffset" => r(Ty::Dto, "DateTimeOffset"),
        "Regex" => r(Ty::Regex, "Regex"),
        "Random" => r(Ty::Random, "Random"),
        "Match" => r(Ty::RxMatch, "Match"),
        "MatchCollection" => r(Ty::RxMatches, "MatchCollection"),
        "Uri" => r(Ty::Uri, "Uri"),
        "XDocument" => r(Ty::XDoc, "XDocument"),
        "XElement" => r(Ty::Xml, "XElement"),
        "XNode" | "XContainer" => r(Ty::Xml, "XNode"),
        "XAttribute" => r(Ty::XAttr, "XAttribute"),
        "XName" => r(Ty::XName, "XName"),
        "XNamespace" => r(Ty::XNs, "XNamespace"),
        "Group" => r(Ty::RxGroup, "Group"),
        "HMACSHA256" | "HMACSHA1" | "HMACSHA384" | "HMACSHA512" | "HMACMD5" => r(Ty::Hasher, "HMAC"),
        "HashAlgorithm" | "HMAC" | "KeyedHashAlgorithm" | "SHA256" | "SHA1" | "SHA384" | "SHA512" | "MD5" => {
            r(Ty::Hasher, "HashAlgorithm")
        }
        s if exception_type(s).is_some() => r(Ty::Exception, "Exception"),
        _ => return Err(refuse_type(t, "type")),
    };
    if t.args.is_empty() || matches!(res.ty, Ty::List | Ty::Dict | Ty::Pair | Ty::Func) {
        Ok(res)
    } else {
        Err(refuse_type(t, "type"))
    }
}
