//! `context.*` chains: resolved at load time to direct lookups ([`Expr::Prop`],
//! [`Expr::Header`], …) so evaluating them reads the request without dispatch.

use super::compile::{err, Compiler, R};
use super::parser::{Arg, Ast, AstKind, Lit, TypeRef};
use super::program::*;
use super::value::Ty;

/// The member names of a chain rooted at the identifier `context`, with `?.` flags.
pub fn context_path(ast: &Ast) -> Option<Vec<(&str, bool)>> {
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
pub fn dotted(ast: &Ast) -> Option<String> {
    match &ast.kind {
        AstKind::Ident(n) => Some(n.clone()),
        AstKind::Member { recv, name, nullc: false } => Some(format!("{}.{}", dotted(recv)?, name)),
        _ => None,
    }
}

pub fn prop_of(path: &[&str]) -> Option<CtxProp> {
    use CtxProp::*;
    let url = |p: &str| match p {
        "Scheme" => Some(UrlPart::Scheme),
        "Host" => Some(UrlPart::Host),
        "AbsolutePath" => Some(UrlPart::Path),
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
        ["Elapsed"] => Elapsed,
        ["Tracing"] => Tracing,
        ["Deployment", "Gateway", "InstanceId"] => GatewayInstanceId,
        ["Deployment", "Gateway", "IsManaged"] => GatewayIsManaged,
        ["Api", "ServiceUrl", p] => ServiceUrlPart(url(p)?),
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

pub fn prop_ty(p: CtxProp) -> Ty {
    match p {
        CtxProp::StatusCode | CtxProp::Url(UrlPart::Port) | CtxProp::OriginalUrl(UrlPart::Port) => Ty::Int,
        CtxProp::ApiIsCurrentRevision | CtxProp::Certificate(CertPart::Verify) => Ty::Bool,
        CtxProp::Certificate(CertPart::Whole) => Ty::Any,
        CtxProp::Certificate(CertPart::Raw) => Ty::Bytes,
        CtxProp::ElapsedMilliseconds | CtxProp::ElapsedSeconds => Ty::Double,
        CtxProp::Elapsed => Ty::TimeSpan,
        CtxProp::Timestamp => Ty::DateTime,
        CtxProp::Tracing | CtxProp::GatewayIsManaged => Ty::Bool,
        CtxProp::ServiceUrlPart(UrlPart::Port) => Ty::Int,
        _ => Ty::Str,
    }
}

impl Compiler {
    /// `context.<path>` as a property read (no call).
    pub fn context_member(&mut self, path: &[(&str, bool)], pos: usize) -> R {
        let names: Vec<&str> = path.iter().map(|p| p.0).collect();
        let nullc = path.iter().any(|p| p.1);
        if names.first() == Some(&"Response") {
            self.uses.response = true;
        }
        if let Some(p) = prop_of(&names) {
            return Ok((Expr::Prop { p, nullc }, prop_ty(p)));
        }
        if let [m @ ("Request" | "Response"), "Headers", rest @ ..] = names.as_slice() {
            let recv = headers(m);
            return match rest {
                [] => Ok((recv, Ty::Dict)),
                [prop] => {
                    let (id, ty) = super::members::check_prop(Ty::Dict, prop, pos)?;
                    Ok((Expr::Get { recv: Box::new(recv), name: id, nullc }, ty))
                }
                _ => err(pos, unknown_member(&names)),
            };
        }
        if let Some(refusal) = no_directory(&names) {
            return err(pos, refusal);
        }
        // `context.Request.Url.Path.Length`: a property of a context value.
        if let (Some((last, head)), Some(&(_, last_nullc))) = (names.split_last(), path.last()) {
            if let Some(p) = prop_of(head) {
                let (id, ty) = super::members::check_prop(prop_ty(p), last, pos)?;
                let recv = Box::new(Expr::Prop { p, nullc: path[..path.len() - 1].iter().any(|x| x.1) });
                return Ok((Expr::Get { recv, name: id, nullc: last_nullc }, ty));
            }
        }
        err(pos, unknown_member(&names))
    }

    /// `context.<path>.<method>(args)`.
    pub fn context_call(
        &mut self,
        path: &[(&str, bool)],
        method: &str,
        generic: &[TypeRef],
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
            (["Request", "Url" | "OriginalUrl"] | ["Api", "ServiceUrl"], "ToUri") => {
                if !args.is_empty() {
                    return err(pos, "IUrl.ToUri takes no arguments");
                }
                let p = prop_of(&names).unwrap_or(CtxProp::Url(UrlPart::Whole));
                let url = Expr::Prop { p, nullc };
                Ok((Expr::StaticCall { name: "Uri.FromUrl", args: vec![url], targ: None, outs: Vec::new() }, Ty::Uri))
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
            ([m @ ("Request" | "Response"), "Headers"], "TryGetValue") => {
                let (exprs, outs, _) = self.call_args(args, Ty::Any, method)?;
                if exprs.len() != 2 || outs.first().map(|o| o.0) != Some(1) {
                    return err(pos, "Headers.TryGetValue takes a name and an out string[]");
                }
                let name = if *m == "Response" { super::headers::RESPONSE_TRY } else { super::headers::REQUEST_TRY };
                Ok((Expr::StaticCall { name, args: exprs, targ: None, outs }, Ty::Bool))
            }
            ([m @ ("Request" | "Response"), "Headers"], _)
                if !matches!(method, "GetValueOrDefault" | "ContainsKey") =>
            {
                // Any other member of the dictionary (LINQ, Keys…): on the whole dictionary.
                let targ = match generic {
                    [] => None,
                    [t] => Some(super::types::resolve(t)?.ty),
                    _ => {
                        return err(
                            pos,
                            format!("{method}<…> with several type arguments is not yet supported by ringgate"),
                        )
                    }
                };
                let (exprs, outs, tys) = self.call_args(args, Ty::Pair, method)?;
                let (id, ty) = super::members::check_call(Ty::Dict, method, &tys, targ, args, pos)?;
                let recv = Box::new(headers(m));
                Ok((Expr::Invoke { recv, name: id, args: exprs, nullc, targ, outs }, ty))
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
                    [g] => Some(super::types::resolve(g)?.ty),
                    [] => None,
                    _ => return err(pos, "GetValueOrDefault takes one type argument"),
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
                let mut preserve = false;
                for a in args {
                    if let AstKind::Lit(Lit::Bool(b)) = a.value.kind {
                        preserve = b;
                    }
                }
                let g = generic.first().map(|g| super::types::strip_namespace(&g.name).unwrap_or(""));
                let (as_, ty) = match g {
                    Some("string" | "String") => (BodyAs::Str, Ty::Str),
                    Some("byte[]") => (BodyAs::Bytes, Ty::Bytes),
                    Some("byte" | "Byte") if generic[0].array => (BodyAs::Bytes, Ty::Bytes),
                    Some("JObject") => (BodyAs::Json("JObject"), Ty::Json),
                    Some("JArray") => (BodyAs::Json("JArray"), Ty::Json),
                    Some("JToken") => (BodyAs::Json("JToken"), Ty::Json),
                    Some("XDocument") => (BodyAs::Xml(true), Ty::XDoc),
                    Some("XElement" | "XNode") => (BodyAs::Xml(false), Ty::Xml),
                    Some(g) => {
                        return err(pos, format!("Body.As<{g}>: APIM allows string, byte[], JObject, JArray, JToken, XNode, XElement, XDocument"))
                    }
                    None => return err(pos, "Body.As needs a type argument such as <string>"),
                };
                let msg = msg(m);
                match msg {
                    Msg::Request => self.uses.request_body = true,
                    Msg::Response => self.uses.response_body = true,
                }
                Ok((Expr::Body { msg, as_, nullc, preserve }, ty))
            }
            ([], "Trace") => {
                let exprs = self.args(args, 1, 2, pos, "context.Trace")?;
                Ok((Expr::StaticCall { name: "context.Trace", args: exprs, targ: None, outs: Vec::new() }, Ty::Null))
            }
            _ => {
                let mut all = names.clone();
                all.push(method);
                if let Some(refusal) = no_directory(&all) {
                    return err(pos, refusal);
                }
                err(pos, format!("{}()", unknown_member(&all)))
            }
        }
    }
}

/// `context.Request.Headers` / `context.Response.Headers` as a whole dictionary.
fn headers(m: &str) -> Expr {
    let name = if m == "Response" { super::headers::RESPONSE } else { super::headers::REQUEST };
    Expr::StaticCall { name, args: Vec::new(), targ: None, outs: Vec::new() }
}

/// Members of `context.User` and `context.Product` whose data ringgate's configuration does
/// not hold (it has no user records and no groups): refused, naming the member.
fn no_directory(names: &[&str]) -> Option<String> {
    let what = match names {
        ["User", m, ..] if *m != "Id" => {
            "user records (a subscription carries only its userId, which context.User.Id reads)"
        }
        ["Product", "Groups", ..] => "product groups",
        ["Product", m, ..] if !matches!(*m, "Id" | "Name") => "this product property",
        _ => return None,
    };
    Some(format!(
        "context.{} is not yet supported by ringgate: the gateway's configuration has no {what}",
        names.join(".")
    ))
}

/// The refusal for a `context` member ringgate does not run.
fn unknown_member(names: &[&str]) -> String {
    const APIM: [&str; 18] = [
        "Api",
        "Backend",
        "Deployment",
        "Elapsed",
        "GraphQL",
        "LastError",
        "Operation",
        "Product",
        "Request",
        "RequestId",
        "Response",
        "Subscription",
        "Timestamp",
        "Tracing",
        "User",
        "Variables",
        "Trace",
        "Workspace",
    ];
    let full = names.join(".");
    match names.first() {
        Some(top) if APIM.contains(top) => format!("context.{full} is not yet supported by ringgate"),
        _ => format!("context.{full} is not a member of APIM's context (not allowed in APIM policy expressions)"),
    }
}
