//! AST → [`Expr`]: resolves `context.*` chains, methods and static functions, infers types and
//! rejects anything outside the subset with its position.

use std::sync::Arc;

use super::parser::{Arg, Ast, AstKind, Lit, Stmt};
use super::program::*;
use super::value::{Ty, Value};
use super::ExprError;

#[derive(Default)]
pub struct Compiler {
    /// Block locals: (name, slot, type).
    locals: Vec<(String, u16, Ty)>,
    next_slot: u16,
    pub uses: Uses,
}

type R = Result<(Expr, Ty), ExprError>;

fn err<T>(pos: usize, m: impl Into<String>) -> Result<T, ExprError> {
    Err(ExprError::new(pos, m))
}

/// The member names of a chain rooted at the identifier `context`, with `?.` flags.
fn context_path(ast: &Ast) -> Option<Vec<(&str, bool)>> {
    match &ast.kind {
        AstKind::Ident(n) if n == "context" => Some(Vec::new()),
        AstKind::Member { recv, name, nullc } => {
            let mut p = context_path(recv)?;
            p.push((name.as_str(), *nullc));
            Some(p)
        }
        _ => None,
    }
}

/// A dotted chain of plain identifiers (`Encoding.UTF8`, `string`), for static calls.
fn dotted(ast: &Ast) -> Option<String> {
    match &ast.kind {
        AstKind::Ident(n) => Some(n.clone()),
        AstKind::Member { recv, name, nullc: false } => Some(format!("{}.{}", dotted(recv)?, name)),
        _ => None,
    }
}

fn prop_of(path: &[&str]) -> Option<CtxProp> {
    use CtxProp::*;
    let url = |p: &str| match p {
        "Scheme" => Some(UrlPart::Scheme),
        "Host" => Some(UrlPart::Host),
        "Port" => Some(UrlPart::Port),
        "Path" => Some(UrlPart::Path),
        "QueryString" => Some(UrlPart::QueryString),
        _ => None,
    };
    Some(match path {
        ["Request", "Method"] => RequestMethod,
        ["Request", "IpAddress"] => RequestIp,
        ["Request", "Url"] => Url(UrlPart::Whole),
        ["Request", "Url", p] => Url(url(p)?),
        ["Request", "OriginalUrl"] => OriginalUrl(UrlPart::Whole),
        ["Request", "OriginalUrl", p] => OriginalUrl(url(p)?),
        ["Response", "StatusCode"] => StatusCode,
        ["Response", "StatusReason"] => StatusReason,
        ["Subscription", "Id"] => SubscriptionId,
        ["Subscription", "Name"] => SubscriptionName,
        ["Subscription", "Key"] => SubscriptionKey,
        ["Subscription", "PrimaryKey"] => SubscriptionPrimaryKey,
        ["Subscription", "SecondaryKey"] => SubscriptionSecondaryKey,
        ["Product", "Id"] => ProductId,
        ["Product", "Name"] => ProductName,
        ["Api", "Id"] => ApiId,
        ["Api", "Name"] => ApiName,
        ["Api", "Path"] => ApiPath,
        ["Api", "ServiceUrl"] => ApiServiceUrl,
        ["Api", "Version"] => ApiVersion,
        ["Api", "Revision"] => ApiRevision,
        ["Api", "IsCurrentRevision"] => ApiIsCurrentRevision,
        ["Operation", "Id"] => OperationId,
        ["Operation", "Name"] => OperationName,
        ["Operation", "Method"] => OperationMethod,
        ["Operation", "UrlTemplate"] => OperationUrlTemplate,
        ["User", "Id"] => UserId,
        ["Deployment", "GatewayId"] | ["Deployment", "Gateway", "Id"] => GatewayId,
        ["Deployment", "Region"] => Region,
        ["Deployment", "ServiceName"] => ServiceName,
        ["RequestId"] => RequestId,
        ["Timestamp"] => Timestamp,
        ["Elapsed", "TotalMilliseconds"] => ElapsedMilliseconds,
        ["Elapsed", "TotalSeconds"] => ElapsedSeconds,
        ["LastError", "Source"] => LastErrorSource,
        ["LastError", "Reason"] => LastErrorReason,
        ["LastError", "Message"] => LastErrorMessage,
        ["LastError", "Scope"] => LastErrorScope,
        ["LastError", "Section"] => LastErrorSection,
        ["LastError", "Path"] => LastErrorPath,
        ["LastError", "PolicyId"] => LastErrorPolicyId,
        ["Request", "Certificate"] => Certificate(CertPart::Whole),
        ["Request", "Certificate", p @ ..] => Certificate(match p {
            ["Thumbprint"] => CertPart::Thumbprint,
            ["Subject"] | ["SubjectName", "Name"] => CertPart::Subject,
            ["Issuer"] | ["IssuerName", "Name"] => CertPart::Issuer,
            ["SerialNumber"] => CertPart::SerialNumber,
            ["NotBefore"] => CertPart::NotBefore,
            ["NotAfter"] => CertPart::NotAfter,
            ["RawData"] => CertPart::Raw,
            _ => return None,
        }),
        _ => return None,
    })
}

fn prop_ty(p: CtxProp) -> Ty {
    match p {
        CtxProp::StatusCode | CtxProp::Url(UrlPart::Port) | CtxProp::OriginalUrl(UrlPart::Port) => Ty::Int,
        CtxProp::ApiIsCurrentRevision | CtxProp::Certificate(CertPart::Verify) => Ty::Bool,
        CtxProp::Certificate(CertPart::Whole) => Ty::Any,
        CtxProp::Certificate(CertPart::Raw) => Ty::Bytes,
        CtxProp::ElapsedMilliseconds | CtxProp::ElapsedSeconds => Ty::Double,
        _ => Ty::Str,
    }
}

fn method_of(name: &str, recv: Ty) -> Option<(Method, Ty)> {
    use Method::*;
    let on_str = matches!(recv, Ty::Str | Ty::Any | Ty::Null);
    Some(match (name, recv) {
        ("ToLower" | "ToLowerInvariant", _) if on_str => (ToLower, Ty::Str),
        ("ToUpper" | "ToUpperInvariant", _) if on_str => (ToUpper, Ty::Str),
        ("Trim", _) if on_str => (Trim, Ty::Str),
        ("TrimStart", _) if on_str => (TrimStart, Ty::Str),
        ("TrimEnd", _) if on_str => (TrimEnd, Ty::Str),
        ("Contains", Ty::Str | Ty::Any | Ty::Array) => (Contains, Ty::Bool),
        ("StartsWith", _) if on_str => (StartsWith, Ty::Bool),
        ("EndsWith", _) if on_str => (EndsWith, Ty::Bool),
        ("Substring", _) if on_str => (Substring, Ty::Str),
        ("Replace", _) if on_str => (Replace, Ty::Str),
        ("Split", _) if on_str => (Split, Ty::Array),
        ("IndexOf", _) if on_str => (IndexOf, Ty::Int),
        ("LastIndexOf", _) if on_str => (LastIndexOf, Ty::Int),
        ("ToString", _) => (ToString, Ty::Str),
        ("Equals", _) => (Equals, Ty::Bool),
        ("First", Ty::Array | Ty::Any) => (First, Ty::Str),
        ("Last", Ty::Array | Ty::Any) => (Last, Ty::Str),
        ("FirstOrDefault", Ty::Array | Ty::Any) => (FirstOrDefault, Ty::Str),
        ("LastOrDefault", Ty::Array | Ty::Any) => (LastOrDefault, Ty::Str),
        ("AsJwt", _) if on_str => (AsJwt, Ty::Jwt),
        ("TryParseJwt", _) if on_str => (TryParseJwt, Ty::Bool),
        ("AsBasic", _) if on_str => (AsBasic, Ty::Basic),
        ("TryParseBasic", _) if on_str => (TryParseBasic, Ty::Bool),
        ("GetValueOrDefault", Ty::Claims | Ty::Any) => (ClaimsGet, Ty::Str),
        ("ContainsKey", Ty::Claims) => (ClaimsContainsKey, Ty::Bool),
        ("ContainsKey", Ty::Json | Ty::Any) => (JsonContainsKey, Ty::Bool),
        ("Value", Ty::Json | Ty::Any) => (JsonValue, Ty::Any),
        _ => return None,
    })
}

fn property_of(name: &str, recv: Ty) -> Option<(Method, Ty)> {
    use Method::*;
    Some(match (name, recv) {
        ("Length", Ty::Str | Ty::Array | Ty::Bytes | Ty::Any) => (Length, Ty::Int),
        ("Count", Ty::Array | Ty::Json) => (Length, Ty::Int),
        ("Subject", Ty::Jwt | Ty::Any) => (JwtSubject, Ty::Str),
        ("Issuer", Ty::Jwt | Ty::Any) => (JwtIssuer, Ty::Str),
        ("Id", Ty::Jwt) => (JwtId, Ty::Str),
        ("Audiences", Ty::Jwt | Ty::Any) => (JwtAudiences, Ty::Array),
        ("ExpirationTime", Ty::Jwt | Ty::Any) => (JwtExpirationTime, Ty::Any),
        ("NotBefore", Ty::Jwt | Ty::Any) => (JwtNotBefore, Ty::Any),
        ("IssuedAt", Ty::Jwt | Ty::Any) => (JwtIssuedAt, Ty::Any),
        ("Claims", Ty::Jwt | Ty::Any) => (JwtClaims, Ty::Claims),
        ("Algorithm", Ty::Jwt) => (JwtAlgorithm, Ty::Str),
        ("Type", Ty::Jwt) => (JwtType, Ty::Str),
        ("UserId", Ty::Basic | Ty::Any) => (BasicUserId, Ty::Str),
        ("Password", Ty::Basic | Ty::Any) => (BasicPassword, Ty::Str),
        _ => return None,
    })
}

fn static_of(name: &str) -> Option<(StaticFn, Ty)> {
    use StaticFn::*;
    Some(match name {
        "string.IsNullOrEmpty" | "String.IsNullOrEmpty" => (IsNullOrEmpty, Ty::Bool),
        "string.IsNullOrWhiteSpace" | "String.IsNullOrWhiteSpace" => (IsNullOrWhiteSpace, Ty::Bool),
        "string.Concat" | "String.Concat" => (Concat, Ty::Str),
        "string.Format" | "String.Format" => (Format, Ty::Str),
        "string.Join" | "String.Join" => (Join, Ty::Str),
        "int.Parse" | "long.Parse" | "Int32.Parse" | "Int64.Parse" => (ParseInt, Ty::Int),
        "double.Parse" | "Double.Parse" => (ParseDouble, Ty::Double),
        "bool.Parse" | "Boolean.Parse" => (ParseBool, Ty::Bool),
        "Convert.ToBase64String" | "System.Convert.ToBase64String" => (ToBase64, Ty::Str),
        "Convert.FromBase64String" | "System.Convert.FromBase64String" => (FromBase64, Ty::Bytes),
        "Encoding.UTF8.GetBytes" | "System.Text.Encoding.UTF8.GetBytes" => (Utf8Bytes, Ty::Bytes),
        "Encoding.UTF8.GetString" | "System.Text.Encoding.UTF8.GetString" => (Utf8String, Ty::Str),
        "Convert.ToInt32" | "Convert.ToInt64" => (ToInt, Ty::Int),
        "Convert.ToString" => (ToStr, Ty::Str),
        "Guid.NewGuid" => (NewGuid, Ty::Str),
        "Math.Min" => (Min, Ty::Any),
        "Math.Max" => (Max, Ty::Any),
        "Math.Abs" => (Abs, Ty::Any),
        _ => return None,
    })
}

fn cast_ty(name: &str) -> Option<Ty> {
    Some(match name {
        "string" | "String" => Ty::Str,
        "int" | "long" | "Int32" | "Int64" => Ty::Int,
        "bool" | "Boolean" => Ty::Bool,
        "double" | "Double" => Ty::Double,
        "object" => Ty::Any,
        "JObject" | "JToken" | "JArray" => Ty::Json,
        _ => return None,
    })
}

impl Compiler {
    pub fn new() -> Compiler {
        Compiler::default()
    }

    fn args(&mut self, args: &[Arg], min: usize, max: usize, pos: usize, what: &str) -> Result<Vec<Expr>, ExprError> {
        if args.len() < min || args.len() > max {
            let want = if min == max { format!("{min}") } else { format!("{min} to {max}") };
            return err(pos, format!("{what} takes {want} argument(s), found {}", args.len()));
        }
        args.iter().map(|a| self.expr(&a.value).map(|(e, _)| e)).collect()
    }

    fn name(&mut self, a: &Arg, lower: bool) -> Result<Name, ExprError> {
        match &a.value.kind {
            AstKind::Lit(Lit::Str(s)) => Ok(Name::Const(if lower { s.to_ascii_lowercase() } else { s.clone() }.into())),
            _ => Ok(Name::Dyn(Box::new(self.expr(&a.value)?.0))),
        }
    }

    /// `context.<path>` as a property read (no call).
    fn context_member(&mut self, path: &[(&str, bool)], pos: usize) -> R {
        let names: Vec<&str> = path.iter().map(|p| p.0).collect();
        let nullc = path.iter().any(|p| p.1);
        if names.first() == Some(&"Response") {
            self.uses.response = true;
        }
        if let Some(p) = prop_of(&names) {
            return Ok((Expr::Prop { p, nullc }, prop_ty(p)));
        }
        // `context.Request.Url.Path.Length`: a property of a context value.
        if let (Some((last, head)), Some(&(_, last_nullc))) = (names.split_last(), path.last()) {
            if let Some(p) = prop_of(head) {
                if let Some((m, ty)) = property_of(last, prop_ty(p)) {
                    let recv = Box::new(Expr::Prop { p, nullc: path[..path.len() - 1].iter().any(|x| x.1) });
                    return Ok((Expr::Call { recv, m, args: Vec::new(), nullc: last_nullc, ty: None }, ty));
                }
            }
        }
        err(pos, format!("context.{} is not supported", names.join(".")))
    }

    /// `context.<path>.<method>(args)`.
    fn context_call(
        &mut self,
        path: &[(&str, bool)],
        method: &str,
        generic: Option<&str>,
        args: &[Arg],
        pos: usize,
    ) -> R {
        let names: Vec<&str> = path.iter().map(|p| p.0).collect();
        let nullc = path.iter().any(|p| p.1);
        let msg = |first: &str| if first == "Response" { Msg::Response } else { Msg::Request };
        if names.first() == Some(&"Response") {
            self.uses.response = true;
        }
        match (names.as_slice(), method) {
            (["Request", "Certificate"], "Verify") => {
                if !args.is_empty() {
                    return err(pos, "Certificate.Verify takes no arguments");
                }
                Ok((Expr::Prop { p: CtxProp::Certificate(CertPart::Verify), nullc }, Ty::Bool))
            }
            ([m @ ("Request" | "Response"), "Headers"], "GetValueOrDefault") => {
                if args.is_empty() || args.len() > 2 {
                    return err(pos, "Headers.GetValueOrDefault takes 1 or 2 arguments");
                }
                let name = self.name(&args[0], true)?;
                let default = match args.get(1) {
                    Some(a) => Some(Box::new(self.expr(&a.value)?.0)),
                    None => None,
                };
                Ok((Expr::Header { msg: msg(m), name, default, nullc }, Ty::Str))
            }
            ([m @ ("Request" | "Response"), "Headers"], "ContainsKey") => {
                let [a] = args else { return err(pos, "Headers.ContainsKey takes 1 argument") };
                Ok((Expr::HeaderContains { msg: msg(m), name: self.name(a, true)?, nullc }, Ty::Bool))
            }
            (["Request", "Url", "Query"], "GetValueOrDefault" | "ContainsKey") => {
                let contains = method == "ContainsKey";
                let (max, what) = if contains { (1, "Query.ContainsKey") } else { (2, "Query.GetValueOrDefault") };
                if args.is_empty() || args.len() > max {
                    return err(pos, format!("{what} takes 1 to {max} arguments"));
                }
                let name = self.name(&args[0], false)?;
                let default = match args.get(1) {
                    Some(a) => Some(Box::new(self.expr(&a.value)?.0)),
                    None => None,
                };
                Ok((Expr::Query { name, default, contains }, if contains { Ty::Bool } else { Ty::Str }))
            }
            (["Request", "MatchedParameters"], "GetValueOrDefault" | "ContainsKey") => {
                let contains = method == "ContainsKey";
                if args.is_empty() || args.len() > 2 || (contains && args.len() != 1) {
                    return err(pos, format!("MatchedParameters.{method}: wrong number of arguments"));
                }
                let name = self.name(&args[0], false)?;
                let default = match args.get(1) {
                    Some(a) => Some(Box::new(self.expr(&a.value)?.0)),
                    None => None,
                };
                let ty = if contains { Ty::Bool } else { Ty::Str };
                Ok((Expr::Matched { name, default, index: false, contains }, ty))
            }
            (["Variables"], "GetValueOrDefault" | "ContainsKey") => {
                let contains = method == "ContainsKey";
                if args.is_empty() || args.len() > 2 || (contains && args.len() != 1) {
                    return err(pos, format!("Variables.{method}: wrong number of arguments"));
                }
                let ty = match generic {
                    Some(g) => {
                        Some(cast_ty(g).ok_or_else(|| ExprError::new(pos, format!("type '{g}' is not supported")))?)
                    }
                    None => None,
                };
                let name = self.name(&args[0], false)?;
                let default = match args.get(1) {
                    Some(a) => Some(Box::new(self.expr(&a.value)?.0)),
                    None => None,
                };
                let mode = if contains { VarMode::ContainsKey } else { VarMode::OrDefault };
                let rty = if contains { Ty::Bool } else { ty.unwrap_or(Ty::Any) };
                Ok((Expr::Var { name, default, ty, mode }, rty))
            }
            ([m @ ("Request" | "Response"), "Body"], "As") => {
                for a in args {
                    match (&a.name, &a.value.kind) {
                        (Some(n), AstKind::Lit(Lit::Bool(_))) if n == "preserveContent" => {}
                        (None, AstKind::Lit(Lit::Bool(_))) => {}
                        _ => return err(a.value.pos, "Body.As takes only preserveContent: true|false"),
                    }
                }
                let (as_, ty) = match generic {
                    Some("string") => (BodyAs::Str, Ty::Str),
                    Some("JObject" | "JToken" | "JArray") => (BodyAs::Json, Ty::Json),
                    Some(g) => {
                        return err(pos, format!("Body.As<{g}> is not supported (string, JObject, JArray, JToken)"))
                    }
                    None => return err(pos, "Body.As needs a type argument such as <string>"),
                };
                let msg = msg(m);
                match msg {
                    Msg::Request => self.uses.request_body = true,
                    Msg::Response => self.uses.response_body = true,
                }
                Ok((Expr::Body { msg, as_, nullc }, ty))
            }
            (["Trace"] | [], "Trace") => err(pos, "context.Trace is not supported"),
            _ => err(pos, format!("context.{}.{method}() is not supported", names.join("."))),
        }
    }

    fn call(&mut self, callee: &Ast, generic: Option<&str>, args: &[Arg], pos: usize) -> R {
        if let AstKind::Member { recv, name, nullc } = &callee.kind {
            if let Some(path) = context_path(recv) {
                let names: Vec<&str> = path.iter().map(|p| p.0).collect();
                if prop_of(&names).is_none() || (names == ["Request", "Certificate"] && name == "Verify") {
                    return self.context_call(&path, name, generic, args, pos);
                }
            }
            if let Some(d) = dotted(callee) {
                if let Some((f, ty)) = static_of(&d) {
                    let exprs = match f {
                        StaticFn::Concat | StaticFn::Format | StaticFn::Join => self.args(args, 1, 16, pos, &d)?,
                        StaticFn::NewGuid => self.args(args, 0, 0, pos, &d)?,
                        StaticFn::Min | StaticFn::Max => self.args(args, 2, 2, pos, &d)?,
                        _ => self.args(args, 1, 1, pos, &d)?,
                    };
                    return Ok((Expr::Static(f, exprs), ty));
                }
                let root = d.split('.').next().unwrap_or("");
                if root != "context" && !self.locals.iter().any(|l| l.0 == root) {
                    return err(pos, format!("{d}() is not supported"));
                }
            }
            let (r, rty) = self.expr(recv)?;
            let Some((m, ty)) = method_of(name, rty) else {
                return err(pos, format!("method {name}() is not supported on {}", rty.name()));
            };
            let (min, max) = match m {
                Method::Contains | Method::StartsWith | Method::EndsWith | Method::IndexOf | Method::LastIndexOf => {
                    (1, 2)
                }
                Method::Substring => (1, 2),
                Method::Replace => (2, 2),
                Method::Split => (1, 4),
                Method::Equals => (1, 2),
                Method::ClaimsGet => (1, 2),
                Method::ClaimsContainsKey | Method::JsonContainsKey | Method::JsonValue => (1, 1),
                Method::Trim | Method::TrimStart | Method::TrimEnd => (0, 4),
                _ => (0, 0),
            };
            let exprs = self.args(args, min, max, pos, name)?;
            let ty_arg = match (m, generic) {
                (Method::JsonValue, Some(g)) => {
                    Some(cast_ty(g).ok_or_else(|| ExprError::new(pos, format!("type '{g}' is not supported")))?)
                }
                (Method::JsonValue, None) => return err(pos, "Value needs a type argument such as <string>"),
                (_, Some(g)) => return err(pos, format!("{name}<{g}> is not supported")),
                _ => None,
            };
            let rty = match (m, ty_arg) {
                (Method::JsonValue, Some(t)) => t,
                _ => ty,
            };
            return Ok((Expr::Call { recv: Box::new(r), m, args: exprs, nullc: *nullc, ty: ty_arg }, rty));
        }
        match &callee.kind {
            AstKind::Ident(n) => err(pos, format!("function {n}() is not supported")),
            _ => err(pos, "only methods can be called"),
        }
    }

    pub fn expr(&mut self, ast: &Ast) -> R {
        let pos = ast.pos;
        match &ast.kind {
            AstKind::Lit(l) => Ok(match l {
                Lit::Null => (Expr::Const(Value::Null), Ty::Null),
                Lit::Bool(b) => (Expr::Const(Value::Bool(*b)), Ty::Bool),
                Lit::Int(n) => (Expr::Const(Value::Int(*n)), Ty::Int),
                Lit::Double(d) => (Expr::Const(Value::Double(*d)), Ty::Double),
                Lit::Str(s) => (Expr::Const(Value::Str(Arc::from(s.as_str()))), Ty::Str),
            }),
            AstKind::Ident(n) => match self.locals.iter().rev().find(|l| &l.0 == n) {
                Some(l) => Ok((Expr::Local(l.1), l.2)),
                None if n == "context" => err(pos, "context cannot be used as a value"),
                None => err(pos, format!("unknown name '{n}'")),
            },
            AstKind::Member { recv, name, nullc } => {
                if let Some(path) = context_path(ast) {
                    return self.context_member(&path, pos);
                }
                if let Some(d) = dotted(ast) {
                    if let Some(v) = constant_of(&d) {
                        return Ok((Expr::Const(v), Ty::Str));
                    }
                }
                let (r, rty) = self.expr(recv)?;
                match property_of(name, rty) {
                    Some((m, ty)) => {
                        Ok((Expr::Call { recv: Box::new(r), m, args: Vec::new(), nullc: *nullc, ty: None }, ty))
                    }
                    None => err(pos, format!("property {name} is not supported on {}", rty.name())),
                }
            }
            AstKind::Call { callee, generic, args } => self.call(callee, generic.as_deref(), args, pos),
            AstKind::Index { recv, index, nullc } => {
                if let Some(path) = context_path(recv) {
                    let names: Vec<&str> = path.iter().map(|p| p.0).collect();
                    let a = Arg { name: None, value: (**index).clone() };
                    let any_nullc = path.iter().any(|p| p.1) || *nullc;
                    return match names.as_slice() {
                        ["Variables"] => Ok((
                            Expr::Var { name: self.name(&a, false)?, default: None, ty: None, mode: VarMode::Index },
                            Ty::Any,
                        )),
                        ["Request", "MatchedParameters"] => Ok((
                            Expr::Matched { name: self.name(&a, false)?, default: None, index: true, contains: false },
                            Ty::Str,
                        )),
                        [m @ ("Request" | "Response"), "Headers"] => {
                            let msg = if *m == "Response" { Msg::Response } else { Msg::Request };
                            self.uses.response |= msg == Msg::Response;
                            Ok((Expr::HeaderValues { msg, name: self.name(&a, true)?, nullc: any_nullc }, Ty::Array))
                        }
                        _ => err(pos, format!("context.{}[…] is not supported", names.join("."))),
                    };
                }
                let (r, rty) = self.expr(recv)?;
                let (i, ity) = self.expr(index)?;
                let ty = match rty {
                    Ty::Array => {
                        if !matches!(ity, Ty::Int | Ty::Any) {
                            return err(index.pos, "an array index must be an integer");
                        }
                        Ty::Str
                    }
                    Ty::Claims => Ty::Array,
                    Ty::Json | Ty::Any => Ty::Json,
                    Ty::Str => Ty::Str,
                    t => return err(pos, format!("{} cannot be indexed", t.name())),
                };
                Ok((Expr::Index { recv: Box::new(r), index: Box::new(i), nullc: *nullc }, ty))
            }
            AstKind::Unary { op, e } => {
                let (x, t) = self.expr(e)?;
                match *op {
                    "!" => {
                        if !matches!(t, Ty::Bool | Ty::Any) {
                            return err(pos, format!("'!' needs a bool, found {}", t.name()));
                        }
                        Ok((Expr::Unary(UnOp::Not, Box::new(x)), Ty::Bool))
                    }
                    "-" => {
                        if !matches!(t, Ty::Int | Ty::Double | Ty::Any) {
                            return err(pos, format!("'-' needs a number, found {}", t.name()));
                        }
                        Ok((Expr::Unary(UnOp::Neg, Box::new(x)), t))
                    }
                    _ => Ok((x, t)),
                }
            }
            AstKind::Binary { op, l, r } => self.binary(op, l, r, pos),
            AstKind::Cond { c, t, f } => {
                let (c, cty) = self.expr(c)?;
                if !matches!(cty, Ty::Bool | Ty::Any) {
                    return err(pos, format!("the condition of '?:' must be a bool, found {}", cty.name()));
                }
                let (t, tt) = self.expr(t)?;
                let (f, ft) = self.expr(f)?;
                let ty = if tt == ft {
                    tt
                } else if tt == Ty::Null {
                    ft
                } else if ft == Ty::Null {
                    tt
                } else {
                    Ty::Any
                };
                Ok((Expr::Cond(Box::new(c), Box::new(t), Box::new(f)), ty))
            }
            AstKind::Cast { ty, e } => {
                let target =
                    cast_ty(ty).ok_or_else(|| ExprError::new(pos, format!("cast to '{ty}' is not supported")))?;
                let (x, from) = self.expr(e)?;
                let ok = from == target
                    || matches!(from, Ty::Any | Ty::Null | Ty::Json)
                    || (target.numeric() && from.numeric());
                if !ok {
                    return err(pos, format!("cannot cast {} to {ty}", from.name()));
                }
                Ok((Expr::Cast(target, Box::new(x)), target))
            }
            AstKind::Interp(parts) => {
                let mut out = Vec::with_capacity(parts.len());
                for p in parts {
                    out.push(self.expr(p)?.0);
                }
                Ok((Expr::Concat(out), Ty::Str))
            }
        }
    }

    fn binary(&mut self, op: &str, l: &Ast, r: &Ast, pos: usize) -> R {
        let (a, at) = self.expr(l)?;
        let (b, bt) = self.expr(r)?;
        let (a, b) = (Box::new(a), Box::new(b));
        let known = |t: Ty| !matches!(t, Ty::Any | Ty::Json | Ty::Null);
        let bad = |what: &str| {
            err(pos, format!("operator '{op}' cannot be applied to {} and {} ({what})", at.name(), bt.name()))
        };
        match op {
            "&&" | "||" => {
                if !matches!(at, Ty::Bool | Ty::Any) || !matches!(bt, Ty::Bool | Ty::Any) {
                    return bad("bools needed");
                }
                Ok((if op == "&&" { Expr::And(a, b) } else { Expr::Or(a, b) }, Ty::Bool))
            }
            "??" => {
                let ty = if at == bt || bt == Ty::Null {
                    at
                } else if at == Ty::Null {
                    bt
                } else {
                    Ty::Any
                };
                Ok((Expr::Coalesce(a, b), ty))
            }
            "==" | "!=" => {
                if known(at) && known(bt) && at != bt && !(at.numeric() && bt.numeric()) {
                    return bad("different types");
                }
                Ok((Expr::Binary(if op == "==" { BinOp::Eq } else { BinOp::Ne }, a, b), Ty::Bool))
            }
            "<" | "<=" | ">" | ">=" => {
                if (known(at) && !at.numeric()) || (known(bt) && !bt.numeric()) {
                    return bad("numbers needed");
                }
                let o = match op {
                    "<" => BinOp::Lt,
                    "<=" => BinOp::Le,
                    ">" => BinOp::Gt,
                    _ => BinOp::Ge,
                };
                Ok((Expr::Binary(o, a, b), Ty::Bool))
            }
            "+" => {
                let ty = if at == Ty::Str || bt == Ty::Str {
                    Ty::Str
                } else if at == Ty::Int && bt == Ty::Int {
                    Ty::Int
                } else if at.numeric() && bt.numeric() {
                    Ty::Double
                } else if known(at) && known(bt) {
                    return bad("numbers or strings needed");
                } else {
                    Ty::Any
                };
                Ok((Expr::Binary(BinOp::Add, a, b), ty))
            }
            _ => {
                if (known(at) && !at.numeric()) || (known(bt) && !bt.numeric()) {
                    return bad("numbers needed");
                }
                let o = match op {
                    "-" => BinOp::Sub,
                    "*" => BinOp::Mul,
                    "/" => BinOp::Div,
                    _ => BinOp::Rem,
                };
                let ty = if at == Ty::Int && bt == Ty::Int {
                    Ty::Int
                } else if at.numeric() && bt.numeric() {
                    Ty::Double
                } else {
                    Ty::Any
                };
                Ok((Expr::Binary(o, a, b), ty))
            }
        }
    }

    fn declare(&mut self, name: &str, ty: Ty, pos: usize) -> Result<u16, ExprError> {
        if self.locals.iter().any(|l| l.0 == name) || name == "context" {
            return err(pos, format!("'{name}' is already declared"));
        }
        let slot = self.next_slot;
        self.next_slot = self.next_slot.checked_add(1).ok_or_else(|| ExprError::new(pos, "too many variables"))?;
        self.locals.push((name.to_string(), slot, ty));
        Ok(slot)
    }

    fn stmts(&mut self, stmts: &[Stmt]) -> Result<Vec<BStmt>, ExprError> {
        let scope = self.locals.len();
        let mut out = Vec::with_capacity(stmts.len());
        for s in stmts {
            out.push(match s {
                Stmt::Decl { name, ty, init, pos } => {
                    let (e, ety) = self.expr(init)?;
                    let declared = match ty {
                        Some(t) => {
                            let d = cast_ty(t)
                                .ok_or_else(|| ExprError::new(*pos, format!("type '{t}' is not supported")))?;
                            if d != Ty::Any
                                && !matches!(ety, Ty::Any | Ty::Null)
                                && ety != d
                                && !(d == Ty::Double && ety == Ty::Int)
                            {
                                return err(*pos, format!("cannot assign {} to {t} '{name}'", ety.name()));
                            }
                            d
                        }
                        None => ety,
                    };
                    let slot = self.declare(name, declared, *pos)?;
                    BStmt::Set(slot, e)
                }
                Stmt::Assign { name, value, pos } => {
                    let Some(&(_, slot, lty)) = self.locals.iter().rev().find(|l| &l.0 == name) else {
                        return err(*pos, format!("unknown variable '{name}'"));
                    };
                    let (e, ety) = self.expr(value)?;
                    if lty != Ty::Any
                        && !matches!(ety, Ty::Any | Ty::Null)
                        && ety != lty
                        && !(lty == Ty::Double && ety == Ty::Int)
                    {
                        return err(*pos, format!("cannot assign {} to '{name}' ({})", ety.name(), lty.name()));
                    }
                    BStmt::Set(slot, e)
                }
                Stmt::If { cond, then, els } => {
                    let (c, cty) = self.expr(cond)?;
                    if !matches!(cty, Ty::Bool | Ty::Any) {
                        return err(cond.pos, format!("an if condition must be a bool, found {}", cty.name()));
                    }
                    BStmt::If(c, self.stmts(then)?, self.stmts(els)?)
                }
                Stmt::Return(e) => BStmt::Return(self.expr(e)?.0),
            });
        }
        self.locals.truncate(scope);
        Ok(out)
    }

    pub fn block(&mut self, stmts: &[Stmt], pos: usize) -> R {
        if !always_returns(stmts) {
            return err(pos, "a policy expression block must end with a return statement");
        }
        let body = self.stmts(stmts)?;
        Ok((Expr::Block(Box::new(Block { slots: self.next_slot, body })), Ty::Any))
    }
}

/// Every path through the statements ends in `return` (C#'s rule for a value-returning block).
fn always_returns(stmts: &[Stmt]) -> bool {
    match stmts.last() {
        Some(Stmt::Return(_)) => true,
        Some(Stmt::If { then, els, .. }) => always_returns(then) && always_returns(els),
        _ => false,
    }
}

/// Named constants that read like members (`StringComparison.OrdinalIgnoreCase`).
fn constant_of(d: &str) -> Option<Value> {
    match d {
        "StringComparison.OrdinalIgnoreCase"
        | "StringComparison.InvariantCultureIgnoreCase"
        | "StringComparison.CurrentCultureIgnoreCase" => Some(Value::str("IgnoreCase")),
        "StringComparison.Ordinal" | "StringComparison.InvariantCulture" | "StringComparison.CurrentCulture" => {
            Some(Value::str("Ordinal"))
        }
        "StringSplitOptions.RemoveEmptyEntries" => Some(Value::str("RemoveEmptyEntries")),
        "StringSplitOptions.None" => Some(Value::str("None")),
        "string.Empty" | "String.Empty" => Some(Value::str("")),
        _ => None,
    }
}
