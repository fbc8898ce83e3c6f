//! The compiled form of an expression: a typed enum tree, built once at load time.
//!
//! Context lookups are resolved when compiling (`context.Request.Headers.GetValueOrDefault(
//! "x","")` becomes one [`Expr::Header`] node with a lowercased constant name), so evaluating
//! them is a direct lookup that allocates only the resulting string.

use super::value::{Ty, Value};

/// Which message a header or body lookup reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Msg {
    Request,
    Response,
}

/// A lookup key: constant (lowercased where lookups are case-insensitive) or computed.
#[derive(Clone, Debug)]
pub enum Name {
    Const(Box<str>),
    Dyn(Box<Expr>),
}

/// Parts of a URL (`context.Request.Url.*`, `context.Request.OriginalUrl.*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UrlPart {
    Whole,
    Scheme,
    Host,
    Port,
    Path,
    QueryString,
}

/// Simple properties of `context` (no arguments).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CtxProp {
    RequestMethod,
    RequestIp,
    Url(UrlPart),
    OriginalUrl(UrlPart),
    StatusCode,
    StatusReason,
    SubscriptionId,
    SubscriptionName,
    SubscriptionKey,
    SubscriptionPrimaryKey,
    SubscriptionSecondaryKey,
    ProductId,
    ProductName,
    ApiId,
    ApiName,
    ApiPath,
    ApiServiceUrl,
    ApiVersion,
    ApiRevision,
    ApiIsCurrentRevision,
    OperationId,
    OperationName,
    OperationMethod,
    OperationUrlTemplate,
    UserId,
    GatewayId,
    Region,
    ServiceName,
    RequestId,
    Timestamp,
    ElapsedMilliseconds,
    ElapsedSeconds,
    LastErrorSource,
    LastErrorReason,
    LastErrorMessage,
    LastErrorScope,
    LastErrorSection,
    LastErrorPath,
    LastErrorPolicyId,
    /// `context.Request.Certificate` and its members.
    Certificate(CertPart),
}

/// What of `context.Request.Certificate` an expression reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertPart {
    /// The certificate itself (its DER as `byte[]`; null without one).
    Whole,
    Thumbprint,
    /// `Subject`, `SubjectName.Name`.
    Subject,
    /// `Issuer`, `IssuerName.Name`.
    Issuer,
    SerialNumber,
    /// ISO 8601 UTC text.
    NotBefore,
    NotAfter,
    /// `RawData`.
    Raw,
    /// `Verify()`.
    Verify,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VarMode {
    /// `context.Variables["x"]`: missing is an error.
    Index,
    /// `GetValueOrDefault<T>("x"[, d])`.
    OrDefault,
    ContainsKey,
}

/// What `Body.As<T>()` reads the body as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyAs {
    Str,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    Not,
    Neg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// Instance methods and properties of values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    ToLower,
    ToUpper,
    Trim,
    TrimStart,
    TrimEnd,
    Contains,
    StartsWith,
    EndsWith,
    Substring,
    Replace,
    Split,
    IndexOf,
    LastIndexOf,
    ToString,
    Equals,
    Length,
    First,
    Last,
    FirstOrDefault,
    LastOrDefault,
    AsJwt,
    TryParseJwt,
    AsBasic,
    TryParseBasic,
    JwtSubject,
    JwtIssuer,
    JwtId,
    JwtAudiences,
    JwtExpirationTime,
    JwtNotBefore,
    JwtIssuedAt,
    JwtClaims,
    JwtAlgorithm,
    JwtType,
    ClaimsGet,
    ClaimsContainsKey,
    BasicUserId,
    BasicPassword,
    /// `JToken.Value<T>(name)`; the target type is in the call's `ty`.
    JsonValue,
    /// `JObject.ContainsKey(name)` / `JToken["x"] != null`.
    JsonContainsKey,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StaticFn {
    IsNullOrEmpty,
    IsNullOrWhiteSpace,
    Concat,
    Format,
    Join,
    ParseInt,
    ParseDouble,
    ParseBool,
    ToBase64,
    FromBase64,
    Utf8Bytes,
    Utf8String,
    ToInt,
    ToStr,
    NewGuid,
    Min,
    Max,
    Abs,
}

#[derive(Clone, Debug)]
pub enum Expr {
    Const(Value),
    Local(u16),
    Prop {
        p: CtxProp,
        nullc: bool,
    },
    Header {
        msg: Msg,
        name: Name,
        default: Option<Box<Expr>>,
        nullc: bool,
    },
    /// `Headers.ContainsKey(name)`.
    HeaderContains {
        msg: Msg,
        name: Name,
        nullc: bool,
    },
    /// `Headers["x"]`: `string[]`, missing is an error.
    HeaderValues {
        msg: Msg,
        name: Name,
        nullc: bool,
    },
    Query {
        name: Name,
        default: Option<Box<Expr>>,
        contains: bool,
    },
    /// `MatchedParameters[...]` (missing: error) or `.GetValueOrDefault` (with `default`).
    Matched {
        name: Name,
        default: Option<Box<Expr>>,
        index: bool,
        contains: bool,
    },
    Var {
        name: Name,
        default: Option<Box<Expr>>,
        ty: Option<Ty>,
        mode: VarMode,
    },
    Body {
        msg: Msg,
        as_: BodyAs,
        nullc: bool,
    },
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Cond(Box<Expr>, Box<Expr>, Box<Expr>),
    Coalesce(Box<Expr>, Box<Expr>),
    Cast(Ty, Box<Expr>),
    Call {
        recv: Box<Expr>,
        m: Method,
        args: Vec<Expr>,
        nullc: bool,
        ty: Option<Ty>,
    },
    Index {
        recv: Box<Expr>,
        index: Box<Expr>,
        nullc: bool,
    },
    Static(StaticFn, Vec<Expr>),
    /// String interpolation: the parts' texts concatenated.
    Concat(Vec<Expr>),
    Block(Box<Block>),
}

#[derive(Clone, Debug)]
pub struct Block {
    pub slots: u16,
    pub body: Vec<BStmt>,
}

#[derive(Clone, Debug)]
pub enum BStmt {
    Set(u16, Expr),
    If(Expr, Vec<BStmt>, Vec<BStmt>),
    Return(Expr),
}

/// What a compiled expression reads, so a plan knows which bodies it needs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Uses {
    pub request_body: bool,
    pub response_body: bool,
    /// Reads anything of `context.Response` (status, headers, body): only meaningful once
    /// the backend answered (`increment-condition` is then evaluated at the end).
    pub response: bool,
}
