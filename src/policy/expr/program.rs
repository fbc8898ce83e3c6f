//! The compiled form of an expression: a typed enum tree, built once at load time.
//!
//! Context lookups are resolved when compiling (`context.Request.Headers.GetValueOrDefault(
//! "x","")` becomes one [`Expr::Header`] node with a lowercased constant name), so evaluating
//! them is a direct lookup that allocates only the resulting string.

use std::sync::Arc;

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
    /// `context.Elapsed` as a TimeSpan.
    Elapsed,
    Tracing,
    GatewayInstanceId,
    GatewayIsManaged,
    /// A part of `context.Api.ServiceUrl` (an IUrl).
    ServiceUrlPart(UrlPart),
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
    Bytes,
    /// `JObject`, `JArray` or `JToken`: the kind the body must parse as.
    Json(&'static str),
    /// `XDocument` (`true`) or `XElement`/`XNode` (`false`).
    Xml(bool),
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
    BitAnd,
    BitOr,
    Xor,
}

/// Members of APIM's own types (`Jwt`, claims, `BasicAuthCredentials`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    AsJwt,
    AsBasic,
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
        /// `preserveContent: true`: without it the read consumes the body (APIM's rule).
        preserve: bool,
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
    /// String interpolation: the parts' texts concatenated.
    Concat(Vec<Expr>),
    Block(Box<Block>),
    /// An `int` result of `+ - * ++ --` wraps to 32 bits (C#'s default `unchecked`).
    Wrap32(Box<Expr>),
    Assign {
        target: Target,
        /// Compound assignment: the operator applied to the old value.
        op: Option<AssignOp>,
        value: Box<Expr>,
        /// The value after the assignment (`x = y = 1`, `i++` is compiled as a pre/post form).
        post: bool,
        wrap32: bool,
    },
    Lambda(Arc<Lambda>),
    /// A member of a value resolved by name at load time and dispatched on the value's
    /// runtime type (`members.rs`).
    Invoke {
        recv: Box<Expr>,
        name: &'static str,
        args: Vec<Expr>,
        nullc: bool,
        targ: Option<Ty>,
        /// `out` arguments: (argument index, local slot).
        outs: Vec<(u8, u16)>,
    },
    /// A property read through `members.rs` (`x.Count`, `pair.Key`).
    Get {
        recv: Box<Expr>,
        name: &'static str,
        nullc: bool,
    },
    /// A static member: `Type.Member(args)` or a static property (`args` empty, `call` false).
    StaticCall {
        name: &'static str,
        args: Vec<Expr>,
        targ: Option<Ty>,
        outs: Vec<(u8, u16)>,
    },
    /// `new T(args) { init }`.
    New {
        ty: &'static str,
        elem: &'static str,
        args: Vec<Expr>,
        init: NewInit,
    },
    NewArray {
        elem: &'static str,
        size: Option<Box<Expr>>,
        items: Vec<Expr>,
    },
    /// `e is T [name]`.
    Is {
        e: Box<Expr>,
        ty: Ty,
        json: Option<&'static str>,
        bind: Option<u16>,
    },
    /// `e as T`.
    As {
        e: Box<Expr>,
        ty: Ty,
        json: Option<&'static str>,
    },
    /// A cast to a JSON type (`(JObject)x`): checks the token's kind.
    JsonCast(&'static str, Box<Expr>),
    /// An interpolation hole with a format specifier (`{x:N2}`).
    Format(Box<Expr>, Arc<str>),
    Throw(Box<Expr>),
    /// `new { a = x, b }`.
    Anon(Vec<(Arc<str>, Expr)>),
    /// A member of an anonymous object, found by name when read.
    Field {
        recv: Box<Expr>,
        name: Arc<str>,
        nullc: bool,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssignOp {
    Bin(BinOp),
    Coalesce,
}

/// Where an assignment writes.
#[derive(Clone, Debug)]
pub enum Target {
    Local(u16),
    /// `recv[index] = v` (list, array, dictionary, JToken).
    Index(Box<Expr>, Box<Expr>),
    /// `recv.Name = v` (`JProperty.Value`, `StringBuilder.Length`…).
    Member(Box<Expr>, &'static str),
}

#[derive(Clone, Debug)]
pub enum NewInit {
    None,
    /// `{ a, b }` → `Add(a)`, `{ {k, v} }` → `Add(k, v)`.
    Collection(Vec<Vec<Expr>>),
    /// `{ ["k"] = v }`.
    Keyed(Vec<(Expr, Expr)>),
    /// `{ Name = v }`.
    Object(Vec<(&'static str, Expr)>),
}

/// A lambda: parameters are local slots of the enclosing frame (closures see the
/// enclosing locals by reference, as C#'s do).
#[derive(Debug)]
pub struct Lambda {
    pub params: Vec<u16>,
    pub body: LambdaBody,
}

#[derive(Debug)]
pub enum LambdaBody {
    Expr(Expr),
    Block(Vec<BStmt>),
}

/// A `catch` clause: the exception type caught (`None`: all) and the local it binds.
#[derive(Clone, Debug)]
pub struct CatchC {
    pub ty: Option<&'static str>,
    pub slot: Option<u16>,
    pub when: Option<Expr>,
    pub body: Vec<BStmt>,
}

#[derive(Clone, Debug)]
pub struct Block {
    pub slots: u16,
    pub body: Vec<BStmt>,
}

#[derive(Clone, Debug)]
pub enum BStmt {
    Set(u16, Expr),
    Expr(Expr),
    If(Expr, Vec<BStmt>, Vec<BStmt>),
    Return(Expr),
    While(Expr, Vec<BStmt>),
    Do(Vec<BStmt>, Expr),
    For(Vec<BStmt>, Option<Expr>, Vec<Expr>, Vec<BStmt>),
    Foreach(u16, Expr, Vec<BStmt>),
    Break,
    Continue,
    Block(Vec<BStmt>),
    Try(Vec<BStmt>, Vec<CatchC>, Option<Vec<BStmt>>),
    /// `throw e;` or `throw;` (rethrow the caught exception in `slot`).
    Throw(Option<Expr>),
    /// Sections: their labels (`None`: default) and bodies.
    Switch(Expr, Vec<(Vec<Option<Expr>>, Vec<BStmt>)>),
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
