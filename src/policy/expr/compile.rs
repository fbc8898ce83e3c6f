//! AST → [`Expr`]: resolves names, members, overloads and types at load time, infers static
//! types, and refuses what ringgate does not run with its position, the member's full name
//! and whose gap it is (ringgate's or APIM's).

use std::sync::Arc;

use super::ctx::{context_path, dotted, prop_of};
use super::members::{self, elem_ty};
use super::parser::{Arg, Ast, AstKind, Init, LambdaBody as PBody, Lit, TypeRef};
use super::program::*;
use super::statics;
use super::types::{self, Resolved};
use super::value::{Ty, Value};
use super::ExprError;

#[derive(Default)]
pub struct Compiler {
    /// Locals in scope: (name, slot, type).
    pub(crate) locals: Vec<(String, u16, Ty)>,
    pub(crate) next_slot: u16,
    pub uses: Uses,
    /// Enclosing loops (and switches, for `break`).
    pub(crate) loops: usize,
    pub(crate) switches: usize,
    /// Slots of the exceptions bound by enclosing `catch` clauses (for `throw;`).
    pub(crate) catches: Vec<u16>,
}

pub type R = Result<(Expr, Ty), ExprError>;

/// Compiled arguments, the `out` arguments' (index, local slot), and the arguments' types.
pub(crate) type CallArgs = (Vec<Expr>, Vec<(u8, u16)>, Vec<Ty>);

pub fn err<T>(pos: usize, m: impl Into<String>) -> Result<T, ExprError> {
    Err(ExprError::new(pos, m))
}

/// Old-style members of APIM's own types (Jwt, claims, basic credentials).
fn property_of(name: &str, recv: Ty) -> Option<(Method, Ty)> {
    use Method::*;
    Some(match (name, recv) {
        ("Subject", Ty::Jwt) => (JwtSubject, Ty::Str),
        ("Issuer", Ty::Jwt) => (JwtIssuer, Ty::Str),
        ("Id", Ty::Jwt) => (JwtId, Ty::Str),
        ("Audiences", Ty::Jwt) => (JwtAudiences, Ty::Array),
        ("ExpirationTime", Ty::Jwt) => (JwtExpirationTime, Ty::Any),
        ("NotBefore", Ty::Jwt) => (JwtNotBefore, Ty::Any),
        ("IssuedAt", Ty::Jwt) => (JwtIssuedAt, Ty::Any),
        ("Claims", Ty::Jwt) => (JwtClaims, Ty::Claims),
        ("Algorithm", Ty::Jwt) => (JwtAlgorithm, Ty::Str),
        ("Type", Ty::Jwt) => (JwtType, Ty::Str),
        ("UserId" | "Username", Ty::Basic) => (BasicUserId, Ty::Str),
        ("Password", Ty::Basic) => (BasicPassword, Ty::Str),
        _ => return None,
    })
}

fn jwt_method(name: &str, recv: Ty) -> Option<(Method, Ty, usize, usize)> {
    use Method::*;
    Some(match (name, recv) {
        ("AsJwt", Ty::Str) => (AsJwt, Ty::Jwt, 0, 0),
        ("AsBasic", Ty::Str) => (AsBasic, Ty::Basic, 0, 0),
        ("GetValueOrDefault", Ty::Claims) => (ClaimsGet, Ty::Str, 1, 2),
        ("ContainsKey", Ty::Claims) => (ClaimsContainsKey, Ty::Bool, 1, 1),
        _ => return None,
    })
}

/// Whether a value of static type `from` can be converted to `to` implicitly (C# rules).
pub fn assignable(from: Ty, to: Ty) -> bool {
    from == to
        || matches!(to, Ty::Any)
        || matches!(from, Ty::Any)
        || (from == Ty::Null && !matches!(to, Ty::Bool | Ty::Int | Ty::Long | Ty::Double | Ty::Char))
        || (from == Ty::Int && matches!(to, Ty::Long | Ty::Double))
        || (from == Ty::Long && to == Ty::Double)
        || (from == Ty::Char && matches!(to, Ty::Int | Ty::Long | Ty::Double))
        // Newtonsoft's implicit conversions to JToken.
        || (to == Ty::Json && matches!(from, Ty::Str | Ty::Int | Ty::Long | Ty::Double | Ty::Bool | Ty::Null))
        || (to == Ty::Func && from == Ty::Func)
        || (to == Ty::List && matches!(from, Ty::Array | Ty::List | Ty::XmlList | Ty::RxMatches))
        || (to == Ty::Array && from == Ty::List)
        // System.Xml.Linq's implicit conversions from string.
        || (matches!(to, Ty::XName | Ty::XNs) && from == Ty::Str)
}

/// The implicit conversion of a value of type `from` stored where `to` is declared: the
/// ones that change the value's representation (`double d = 1;`, `XNamespace ns = "urn:x";`).
pub fn coerce(e: Expr, from: Ty, to: Ty) -> Expr {
    match (from, to) {
        (Ty::Int | Ty::Long | Ty::Char, Ty::Double)
        | (Ty::Char, Ty::Int | Ty::Long)
        | (Ty::Str, Ty::XName | Ty::XNs) => Expr::Cast(to, Box::new(e)),
        _ => e,
    }
}

fn wrap32(e: Expr, ty: Ty) -> Expr {
    if ty == Ty::Int {
        Expr::Wrap32(Box::new(e))
    } else {
        e
    }
}

/// The C# type of `a op b` for numbers (int op int is int, long wins over int, double over both).
fn numeric_result(a: Ty, b: Ty) -> Ty {
    match (a, b) {
        (Ty::Double, _) | (_, Ty::Double) => Ty::Double,
        (Ty::Long, _) | (_, Ty::Long) => Ty::Long,
        (Ty::Int | Ty::Char, Ty::Int | Ty::Char) => Ty::Int,
        _ => Ty::Any,
    }
}

impl Compiler {
    pub fn new() -> Compiler {
        Compiler::default()
    }

    pub(crate) fn args(
        &mut self,
        args: &[Arg],
        min: usize,
        max: usize,
        pos: usize,
        what: &str,
    ) -> Result<Vec<Expr>, ExprError> {
        if args.len() < min || args.len() > max {
            let want = if min == max { format!("{min}") } else { format!("{min} to {max}") };
            return err(pos, format!("{what} takes {want} argument(s), found {}", args.len()));
        }
        args.iter().map(|a| self.expr(&a.value).map(|(e, _)| e)).collect()
    }

    pub(crate) fn name(&mut self, a: &Arg, lower: bool) -> Result<Name, ExprError> {
        match &a.value.kind {
            AstKind::Lit(Lit::Str(s)) => Ok(Name::Const(if lower { s.to_ascii_lowercase() } else { s.clone() }.into())),
            _ => Ok(Name::Dyn(Box::new(self.expr(&a.value)?.0))),
        }
    }

    pub(crate) fn lookup(&self, name: &str) -> Option<(u16, Ty)> {
        self.locals.iter().rev().find(|l| l.0 == name).map(|l| (l.1, l.2))
    }

    pub(crate) fn declare(&mut self, name: &str, ty: Ty, pos: usize) -> Result<u16, ExprError> {
        if self.locals.iter().any(|l| l.0 == name) || name == "context" {
            return err(pos, format!("a local named '{name}' is already declared in this scope"));
        }
        let slot = self.next_slot;
        self.next_slot = self.next_slot.checked_add(1).ok_or_else(|| ExprError::new(pos, "too many variables"))?;
        self.locals.push((name.to_string(), slot, ty));
        Ok(slot)
    }

    /// Arguments of a member or static call: lambdas get their parameters typed from the
    /// receiver's element type, `out` arguments declare (or name) a local.
    pub(crate) fn call_args(&mut self, args: &[Arg], elem: Ty, method: &str) -> Result<CallArgs, ExprError> {
        let mut exprs = Vec::with_capacity(args.len());
        let mut outs = Vec::new();
        let mut tys = Vec::with_capacity(args.len());
        for (i, a) in args.iter().enumerate() {
            match &a.value.kind {
                AstKind::Out { name, declare } => {
                    let ty = members::out_ty(method);
                    let slot = match declare {
                        Some(t) => {
                            let ty = match t {
                                Some(t) => types::resolve(t)?.ty,
                                None => ty,
                            };
                            self.declare(name, ty, a.value.pos)?
                        }
                        None => match self.lookup(name) {
                            Some((s, _)) => s,
                            None => return err(a.value.pos, format!("unknown variable '{name}'")),
                        },
                    };
                    let i = u8::try_from(i).map_err(|_| ExprError::new(a.value.pos, "too many arguments"))?;
                    outs.push((i, slot));
                    exprs.push(Expr::Const(Value::Null));
                    tys.push(ty);
                }
                AstKind::Lambda { params, body } => {
                    let (e, t) = self.lambda(params, body, elem, method, i, a.value.pos)?;
                    exprs.push(e);
                    tys.push(t);
                }
                _ => {
                    let (e, t) = self.expr(&a.value)?;
                    exprs.push(e);
                    tys.push(t);
                }
            }
        }
        Ok((exprs, outs, tys))
    }

    fn lambda(&mut self, params: &[String], body: &PBody, elem: Ty, method: &str, argi: usize, pos: usize) -> R {
        let scope = self.locals.len();
        let mut slots = Vec::with_capacity(params.len());
        for (k, p) in params.iter().enumerate() {
            let ty = members::lambda_param_ty(method, argi, k, elem);
            // A lambda parameter may not shadow an enclosing local (CS0136), but two
            // sibling lambdas may reuse a name: declare in a fresh scope.
            if self.lookup(p).is_some() {
                return err(pos, format!("a local named '{p}' is already declared in an enclosing scope"));
            }
            slots.push(self.declare(p, ty, pos)?);
        }
        let (body, ty) = match body {
            PBody::Expr(e) => {
                let (e, t) = self.expr(e)?;
                (LambdaBody::Expr(e), t)
            }
            PBody::Block(stmts) => {
                let loops = std::mem::take(&mut self.loops);
                let b = self.stmts(stmts)?;
                self.loops = loops;
                (LambdaBody::Block(b), Ty::Any)
            }
        };
        self.locals.truncate(scope);
        let _ = ty;
        Ok((Expr::Lambda(Arc::new(Lambda { params: slots, body })), Ty::Func))
    }

    #[inline(never)]
    fn call(&mut self, callee: &Ast, generic: &[TypeRef], args: &[Arg], pos: usize) -> R {
        let AstKind::Member { recv, name, nullc } = &callee.kind else {
            return match &callee.kind {
                AstKind::Ident(n) => err(
                    pos,
                    format!("{n}() is not a method ringgate knows (local functions are not yet supported by ringgate)"),
                ),
                _ => err(pos, "only methods can be called"),
            };
        };
        if let Some(path) = context_path(recv) {
            let names: Vec<&str> = path.iter().map(|p| p.0).collect();
            // `context.Request.Headers.Keys.Count()`: a member of a member of the dictionary.
            let header_chain = names.len() > 2 && names[1] == "Headers";
            if names.is_empty()
                || (prop_of(&names).is_none() && !header_chain)
                || (names == ["Request", "Certificate"] && name == "Verify")
                || name == "ToUri"
            {
                return self.context_call(&path, name, generic, args, pos);
            }
        }
        // A static member: `Type.Member(…)` where `Type` is not a local.
        if let Some(d) = dotted(recv) {
            let root = d.split('.').next().unwrap_or("");
            if root != "context" && self.lookup(root).is_none() && !statics::member_of_static(&d) {
                return self.static_call(&d, name, generic, args, pos);
            }
        }
        let (r, rty) = self.expr(recv)?;
        if let Some((m, ty, min, max)) = jwt_method(name, rty) {
            let exprs = self.args(args, min, max, pos, name)?;
            return Ok((Expr::Call { recv: Box::new(r), m, args: exprs, nullc: *nullc, ty: None }, ty));
        }
        let targ = match generic {
            [] => None,
            [t] => Some(types::resolve(t)?.ty),
            _ => return err(pos, format!("{name}<…> with several type arguments is not yet supported by ringgate")),
        };
        let (exprs, outs, tys) = self.call_args(args, elem_ty(rty), name)?;
        let ret = members::check_call(rty, name, &tys, targ, args, pos)?;
        Ok((Expr::Invoke { recv: Box::new(r), name: ret.0, args: exprs, nullc: *nullc, targ, outs }, ret.1))
    }

    fn static_call(&mut self, ty: &str, name: &str, generic: &[TypeRef], args: &[Arg], pos: usize) -> R {
        let canon = statics::canonical_type(ty).ok_or_else(|| statics::unknown_type(ty, name, pos))?;
        if canon == "Array" && name == "Empty" {
            let [t] = generic else {
                return err(pos, "Array.Empty needs one type argument, as in Array.Empty<string>()");
            };
            types::resolve(t)?;
            if !args.is_empty() {
                return err(pos, "Array.Empty takes no arguments");
            }
            // .NET returns one shared empty array per type: a constant is that array.
            let empty = Value::list(super::value::CollKind::Array, types::dotnet_name(t), Vec::new());
            return Ok((Expr::Const(empty), Ty::List));
        }
        let targ = match generic {
            [] => None,
            [t] => Some(types::resolve(t)?.ty),
            _ => {
                return err(
                    pos,
                    format!("{canon}.{name}<…> with several type arguments is not yet supported by ringgate"),
                )
            }
        };
        let (exprs, outs, tys) = self.call_args(args, Ty::Any, name)?;
        let (id, ret) = statics::check(canon, name, &tys, targ, args, pos)?;
        Ok((Expr::StaticCall { name: id, args: exprs, targ, outs }, ret))
    }

    fn new_object(&mut self, t: &TypeRef, args: &[Arg], init: &Option<Init>, pos: usize) -> R {
        let res: Resolved = types::resolve(t)?;
        let (exprs, _, tys) = self.call_args(args, Ty::Any, "new")?;
        let kind = statics::check_new(t, res, &tys, pos)?;
        if kind == "Regex" {
            if let Some(Arg { value: Ast { kind: AstKind::Lit(Lit::Str(p)), pos: ppos }, .. }) = args.first() {
                super::bind::check_pattern(p).map_err(|m| ExprError::new(*ppos, format!("Regex pattern: {m}")))?;
            }
        }
        let init = match init {
            None => NewInit::None,
            Some(Init::Collection(items)) => {
                if !matches!(res.ty, Ty::List | Ty::Dict | Ty::Json) {
                    return err(pos, format!("a collection initializer needs a collection, not {}", t.display()));
                }
                let mut out = Vec::with_capacity(items.len());
                for it in items {
                    let want = if res.ty == Ty::Dict { 2 } else { 1 };
                    if it.len() != want && !(res.kind == "JObject" && it.len() == 2) {
                        return err(pos, format!("each item of this initializer takes {want} value(s)"));
                    }
                    let mut v = Vec::with_capacity(it.len());
                    for x in it {
                        v.push(self.expr(x)?.0);
                    }
                    out.push(v);
                }
                NewInit::Collection(out)
            }
            Some(Init::Keyed(items)) => {
                if !matches!(res.ty, Ty::Dict | Ty::Json) {
                    return err(
                        pos,
                        format!("an index initializer needs a dictionary or JObject, not {}", t.display()),
                    );
                }
                let mut out = Vec::with_capacity(items.len());
                for (k, v) in items {
                    out.push((self.expr(k)?.0, self.expr(v)?.0));
                }
                NewInit::Keyed(out)
            }
            Some(Init::Object(items)) => {
                let mut out = Vec::with_capacity(items.len());
                for (n, v) in items {
                    let id = members::settable(res.ty, n).ok_or_else(|| {
                        ExprError::new(
                            pos,
                            format!(
                                "{}.{n} cannot be set in an object initializer (not yet supported by ringgate)",
                                t.display()
                            ),
                        )
                    })?;
                    out.push((id, self.expr(v)?.0));
                }
                NewInit::Object(out)
            }
        };
        Ok((Expr::New { ty: kind, elem: res.elem, args: exprs, init }, res.ty))
    }

    /// Compiles an expression. Chain links (operators, calls, indexers) go to small
    /// functions so a long chain keeps a small frame per level.
    pub fn expr(&mut self, ast: &Ast) -> R {
        match &ast.kind {
            AstKind::Binary { op, l, r } => self.binary(op, l, r, ast.pos),
            AstKind::Call { callee, generic, args } => self.call(callee, generic, args, ast.pos),
            AstKind::Index { recv, index, nullc } => self.index(recv, index, *nullc, ast.pos),
            AstKind::Unary { op, e } => self.unary(op, e, ast.pos),
            _ => self.expr_rest(ast),
        }
    }

    #[inline(never)]
    fn expr_rest(&mut self, ast: &Ast) -> R {
        let pos = ast.pos;
        match &ast.kind {
            AstKind::Lit(l) => Ok(match l {
                Lit::Null => (Expr::Const(Value::Null), Ty::Null),
                Lit::Bool(b) => (Expr::Const(Value::Bool(*b)), Ty::Bool),
                Lit::Int(n) => (Expr::Const(Value::Int(*n)), if i32::try_from(*n).is_ok() { Ty::Int } else { Ty::Long }),
                Lit::Double(d) => (Expr::Const(Value::Double(*d)), Ty::Double),
                Lit::Char(c) => (Expr::Const(Value::Char(*c)), Ty::Char),
                Lit::Str(s) => (Expr::Const(Value::Str(Arc::from(s.as_str()))), Ty::Str),
            }),
            AstKind::Ident(n) => match self.lookup(n) {
                Some((slot, ty)) => Ok((Expr::Local(slot), ty)),
                None if n == "context" => err(pos, "context cannot be used as a value"),
                None => err(pos, format!("the name '{n}' does not exist in the current context")),
            },
            AstKind::Member { recv, name, nullc } => {
                if let Some(path) = context_path(ast) {
                    return self.context_member(&path, pos);
                }
                if let Some(d) = dotted(recv) {
                    let root = d.split('.').next().unwrap_or("");
                    if root != "context" && self.lookup(root).is_none() && !statics::member_of_static(&d) {
                        let canon = statics::canonical_type(&d).ok_or_else(|| statics::unknown_type(&d, name, pos))?;
                        let (id, ty) = statics::check_prop(canon, name, pos)?;
                        return Ok(match statics::constant(id) {
                            Some(v) => (Expr::Const(v), ty),
                            None => (Expr::StaticCall { name: id, args: Vec::new(), targ: None, outs: Vec::new() }, ty),
                        });
                    }
                }
                let (r, rty) = self.expr(recv)?;
                if rty == Ty::Anon {
                    let name = Arc::from(name.as_str());
                    return Ok((Expr::Field { recv: Box::new(r), name, nullc: *nullc }, Ty::Any));
                }
                if let Some((m, ty)) = property_of(name, rty) {
                    return Ok((Expr::Call { recv: Box::new(r), m, args: Vec::new(), nullc: *nullc, ty: None }, ty));
                }
                let (id, ty) = members::check_prop(rty, name, pos)?;
                Ok((Expr::Get { recv: Box::new(r), name: id, nullc: *nullc }, ty))
            }
            AstKind::Call { callee, generic, args } => self.call(callee, generic, args, pos),
            AstKind::Index { recv, index, nullc } => self.index(recv, index, *nullc, pos),
            AstKind::Binary { op, l, r } => self.binary(op, l, r, pos),
            AstKind::Unary { op, e } => self.unary(op, e, pos),
            AstKind::Cond { c, t, f } => {
                let (c, cty) = self.expr(c)?;
                if !matches!(cty, Ty::Bool | Ty::Any | Ty::Json) {
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
                } else if tt.numeric() && ft.numeric() {
                    numeric_result(tt, ft)
                } else {
                    Ty::Any
                };
                Ok((Expr::Cond(Box::new(c), Box::new(t), Box::new(f)), ty))
            }
            AstKind::Cast { ty, e } => {
                let target = types::resolve(ty)?;
                let (x, from) = self.expr(e)?;
                if target.ty == Ty::Json {
                    if !matches!(from, Ty::Json | Ty::Any | Ty::Null) {
                        return err(pos, format!("cannot convert type {} to {}", from.name(), ty.display()));
                    }
                    return Ok((Expr::JsonCast(target.kind, Box::new(x)), Ty::Json));
                }
                // XElement's and XAttribute's explicit conversions to strings and numbers.
                let xml = matches!(from, Ty::Xml | Ty::XAttr)
                    && matches!(target.ty, Ty::Str | Ty::Int | Ty::Long | Ty::Double | Ty::Bool);
                let ok = from == target.ty
                    || xml
                    || matches!(from, Ty::Any | Ty::Null | Ty::Json)
                    || matches!(target.ty, Ty::Any)
                    || (target.ty.numeric() && from.numeric())
                    || assignable(from, target.ty);
                if !ok {
                    return err(pos, format!("cannot convert type {} to {}", from.name(), ty.display()));
                }
                Ok((Expr::Cast(target.ty, Box::new(x)), target.ty))
            }
            AstKind::As { e, ty } => {
                let target = types::resolve(ty)?;
                if matches!(target.ty, Ty::Int | Ty::Long | Ty::Double | Ty::Bool | Ty::Char) && !ty.nullable {
                    return err(pos, format!("the as operator must be used with a reference or nullable type ('{}' is a value type)", ty.display()));
                }
                let (x, _) = self.expr(e)?;
                let json = (target.ty == Ty::Json).then_some(target.kind);
                Ok((Expr::As { e: Box::new(x), ty: target.ty, json }, target.ty))
            }
            AstKind::Is { e, ty, bind } => {
                let target = types::resolve(ty)?;
                let (x, _) = self.expr(e)?;
                let bind = match bind {
                    Some(n) => Some(self.declare(n, target.ty, pos)?),
                    None => None,
                };
                let json = (target.ty == Ty::Json).then_some(target.kind);
                Ok((Expr::Is { e: Box::new(x), ty: target.ty, json, bind }, Ty::Bool))
            }
            AstKind::Interp(parts) => {
                let mut out = Vec::with_capacity(parts.len());
                for (p, fmt) in parts {
                    let (e, t) = self.expr(p)?;
                    match fmt {
                        Some(f) => {
                            super::format::check(f, t, p.pos)?;
                            out.push(Expr::Format(Box::new(e), Arc::from(f.as_str())));
                        }
                        None => out.push(e),
                    }
                }
                Ok((Expr::Concat(out), Ty::Str))
            }
            AstKind::New { ty, args, init } => self.new_object(ty, args, init, pos),
            AstKind::NewAnon(members) => {
                let mut out = Vec::with_capacity(members.len());
                for (n, v) in members {
                    out.push((Arc::from(n.as_str()), self.expr(v)?.0));
                }
                Ok((Expr::Anon(out), Ty::Anon))
            }
            AstKind::NewArray { elem, size, items } => {
                let (ename, ety) = match elem {
                    Some(t) => {
                        let r = types::resolve(t)?;
                        (types::dotnet_name(t), r.ty)
                    }
                    None => ("System.Object", Ty::Any),
                };
                let size = match size {
                    Some(s) => {
                        let (e, t) = self.expr(s)?;
                        if !matches!(t, Ty::Int | Ty::Long | Ty::Any) {
                            return err(s.pos, "an array size must be an integer");
                        }
                        Some(Box::new(e))
                    }
                    None => None,
                };
                let mut out = Vec::with_capacity(items.len());
                let mut inferred = None;
                for it in items {
                    let (e, t) = self.expr(it)?;
                    if ety != Ty::Any && !assignable(t, ety) {
                        return err(it.pos, format!("cannot convert {} to the array's element type", t.name()));
                    }
                    inferred = Some(inferred.map_or(t, |p| if p == t { p } else { Ty::Any }));
                    out.push(e);
                }
                let ename = if elem.is_none() {
                    match inferred {
                        Some(Ty::Str) => "System.String",
                        Some(Ty::Int) => "System.Int32",
                        _ => ename,
                    }
                } else {
                    ename
                };
                if ety == Ty::Int && elem.as_ref().is_some_and(|t| matches!(t.name.as_str(), "byte" | "Byte" | "System.Byte")) {
                    return Ok((Expr::NewArray { elem: "System.Byte", size, items: out }, Ty::Bytes));
                }
                if ety == Ty::Char || (elem.is_none() && inferred == Some(Ty::Char)) {
                    return Ok((Expr::NewArray { elem: "System.Char", size, items: out }, Ty::List));
                }
                Ok((Expr::NewArray { elem: ename, size, items: out }, if ety == Ty::Str || (elem.is_none() && inferred == Some(Ty::Str)) { Ty::Array } else { Ty::List }))
            }
            AstKind::Lambda { .. } => err(pos, "a lambda expression can only be passed to a method here (Func<…> locals are not yet supported by ringgate)"),
            AstKind::Assign { target, op, value } => self.assign(target, *op, value, pos),
            AstKind::IncDec { target, inc, prefix } => {
                let (t, ty) = self.target(target)?;
                if !matches!(ty, Ty::Int | Ty::Long | Ty::Double | Ty::Any | Ty::Char) {
                    return err(pos, format!("operator '++'/'--' cannot be applied to {}", ty.name()));
                }
                let one = Expr::Const(Value::Int(1));
                let op = if *inc { BinOp::Add } else { BinOp::Sub };
                Ok((
                    Expr::Assign { target: t, op: Some(AssignOp::Bin(op)), value: Box::new(one), post: !prefix, wrap32: ty == Ty::Int },
                    ty,
                ))
            }
            AstKind::Out { .. } => err(pos, "'out' is only allowed in a method's arguments"),
            AstKind::Throw(e) => {
                let (x, t) = self.expr(e)?;
                if !matches!(t, Ty::Exception | Ty::Any) {
                    return err(pos, format!("only exceptions can be thrown, found {}", t.name()));
                }
                Ok((Expr::Throw(Box::new(x)), Ty::Null))
            }
            AstKind::Default(t) => {
                let r = types::resolve(t)?;
                let v = match r.ty {
                    Ty::Int | Ty::Long if !t.nullable => Value::Int(0),
                    Ty::Double if !t.nullable => Value::Double(0.0),
                    Ty::Bool if !t.nullable => Value::Bool(false),
                    Ty::Char if !t.nullable => Value::Char('\0'),
                    _ => Value::Null,
                };
                Ok((Expr::Const(v), r.ty))
            }
            AstKind::Unsupported(what) => err(pos, format!("'{what}' is not yet supported by ringgate")),
        }
    }

    #[inline(never)]
    fn unary(&mut self, op: &str, e: &Ast, pos: usize) -> R {
        let (x, t) = self.expr(e)?;
        match op {
            "!" => {
                if !matches!(t, Ty::Bool | Ty::Any | Ty::Json) {
                    return err(pos, format!("operator '!' cannot be applied to an operand of type {}", t.name()));
                }
                Ok((Expr::Unary(UnOp::Not, Box::new(x)), Ty::Bool))
            }
            "-" => {
                if !matches!(t, Ty::Int | Ty::Long | Ty::Double | Ty::Char | Ty::Any | Ty::Json) {
                    return err(pos, format!("operator '-' cannot be applied to an operand of type {}", t.name()));
                }
                let t = if t == Ty::Char { Ty::Int } else { t };
                Ok((wrap32(Expr::Unary(UnOp::Neg, Box::new(x)), t), t))
            }
            "~" => err(pos, "operator '~' is not yet supported by ringgate"),
            _ => Ok((x, t)),
        }
    }

    #[inline(never)]
    fn index(&mut self, recv: &Ast, index: &Ast, nullc: bool, pos: usize) -> R {
        if let Some(path) = context_path(recv) {
            let names: Vec<&str> = path.iter().map(|p| p.0).collect();
            let a = Arg { name: None, value: index.clone() };
            let any_nullc = path.iter().any(|p| p.1) || nullc;
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
                _ => err(pos, format!("context.{}[…] is not yet supported by ringgate", names.join("."))),
            };
        }
        let (r, rty) = self.expr(recv)?;
        let (i, ity) = self.expr(index)?;
        let ty = match rty {
            Ty::Array | Ty::List | Ty::Bytes => {
                if !matches!(ity, Ty::Int | Ty::Long | Ty::Any | Ty::Char) {
                    return err(index.pos, "an array or list index must be an integer");
                }
                match rty {
                    Ty::Array => Ty::Str,
                    Ty::Bytes => Ty::Int,
                    _ => Ty::Any,
                }
            }
            Ty::Str => {
                if !matches!(ity, Ty::Int | Ty::Any) {
                    return err(index.pos, "a string index must be an integer");
                }
                Ty::Char
            }
            Ty::Claims => Ty::Array,
            Ty::RxGroups => Ty::RxGroup,
            Ty::RxMatches => {
                if !matches!(ity, Ty::Int | Ty::Any) {
                    return err(index.pos, "a MatchCollection index must be an integer");
                }
                Ty::RxMatch
            }
            Ty::Json => Ty::Json,
            Ty::Dict | Ty::Any | Ty::Group => Ty::Any,
            t => return err(pos, format!("cannot apply indexing with [] to an expression of type {}", t.name())),
        };
        Ok((Expr::Index { recv: Box::new(r), index: Box::new(i), nullc }, ty))
    }

    /// The place an assignment writes, with its static type.
    fn target(&mut self, t: &Ast) -> Result<(Target, Ty), ExprError> {
        match &t.kind {
            AstKind::Ident(n) => match self.lookup(n) {
                Some((slot, ty)) => Ok((Target::Local(slot), ty)),
                None => err(t.pos, format!("the name '{n}' does not exist in the current context")),
            },
            AstKind::Index { recv, index, .. } => {
                if context_path(recv).is_some() {
                    return err(t.pos, "context is read-only in expressions (use set-variable, set-header, set-body)");
                }
                let (r, rty) = self.expr(recv)?;
                if matches!(rty, Ty::Str | Ty::Array | Ty::Claims) {
                    return err(t.pos, format!("the indexer of {} is read-only", rty.name()));
                }
                let (i, _) = self.expr(index)?;
                let ty = if rty == Ty::Json { Ty::Json } else { Ty::Any };
                Ok((Target::Index(Box::new(r), Box::new(i)), ty))
            }
            AstKind::Member { recv, name, .. } => {
                if context_path(recv).is_some() || context_path(t).is_some() {
                    return err(t.pos, "context is read-only in expressions (use set-variable, set-header, set-body)");
                }
                let (r, rty) = self.expr(recv)?;
                let id = members::settable(rty, name).ok_or_else(|| {
                    ExprError::new(
                        t.pos,
                        format!("{}.{name} cannot be assigned (not yet supported by ringgate)", rty.name()),
                    )
                })?;
                Ok((Target::Member(Box::new(r), id), Ty::Any))
            }
            _ => err(t.pos, "the left-hand side of an assignment must be a variable, property or indexer"),
        }
    }

    fn assign(&mut self, target: &Ast, op: Option<&str>, value: &Ast, pos: usize) -> R {
        let (t, tty) = self.target(target)?;
        let (v, vty) = self.expr(value)?;
        let op = match op {
            None => {
                if !assignable(vty, tty) {
                    return err(pos, format!("cannot implicitly convert type {} to {}", vty.name(), tty.name()));
                }
                let v = coerce(v, vty, tty);
                return Ok((Expr::Assign { target: t, op: None, value: Box::new(v), post: false, wrap32: false }, tty));
            }
            Some("??") => Some(AssignOp::Coalesce),
            Some(o) => {
                if o == "+" && tty == Ty::Str {
                    Some(AssignOp::Bin(BinOp::Add))
                } else {
                    if !(tty.numeric() || tty == Ty::Any) || !(vty.numeric() || matches!(vty, Ty::Any | Ty::Json)) {
                        return err(
                            pos,
                            format!("operator '{o}=' cannot be applied to {} and {}", tty.name(), vty.name()),
                        );
                    }
                    Some(AssignOp::Bin(match o {
                        "+" => BinOp::Add,
                        "-" => BinOp::Sub,
                        "*" => BinOp::Mul,
                        "/" => BinOp::Div,
                        _ => BinOp::Rem,
                    }))
                }
            }
        };
        let wrap = tty == Ty::Int && matches!(op, Some(AssignOp::Bin(_)));
        Ok((Expr::Assign { target: t, op, value: Box::new(v), post: false, wrap32: wrap }, tty))
    }

    #[inline(never)]
    fn binary(&mut self, op: &str, l: &Ast, r: &Ast, pos: usize) -> R {
        let (a, at) = self.expr(l)?;
        let (b, bt) = self.expr(r)?;
        // Constant int arithmetic that overflows is a compile error in C# (CS0220).
        if let (Expr::Const(Value::Int(x)), Expr::Const(Value::Int(y)), Ty::Int, Ty::Int) = (&a, &b, at, bt) {
            let r = match op {
                "+" => x.checked_add(*y),
                "-" => x.checked_sub(*y),
                "*" => x.checked_mul(*y),
                _ => Some(0),
            };
            if r.is_none_or(|r| i32::try_from(r).is_err()) {
                return err(pos, "the operation overflows at compile time in checked mode (CS0220)");
            }
        }
        let (a, b) = (Box::new(a), Box::new(b));
        let known = |t: Ty| !matches!(t, Ty::Any | Ty::Json | Ty::Null);
        let time = |t: Ty| matches!(t, Ty::DateTime | Ty::TimeSpan | Ty::Dto);
        if time(at) || time(bt) {
            let (o, ty) = match (op, at, bt) {
                ("-", Ty::DateTime, Ty::DateTime) | ("-", Ty::Dto, Ty::Dto) => (BinOp::Sub, Ty::TimeSpan),
                ("+" | "-", Ty::Dto, Ty::TimeSpan) => (if op == "+" { BinOp::Add } else { BinOp::Sub }, Ty::Dto),
                ("+" | "-", Ty::DateTime, Ty::TimeSpan) => {
                    (if op == "+" { BinOp::Add } else { BinOp::Sub }, Ty::DateTime)
                }
                ("+" | "-", Ty::TimeSpan, Ty::TimeSpan) => {
                    (if op == "+" { BinOp::Add } else { BinOp::Sub }, Ty::TimeSpan)
                }
                ("<" | "<=" | ">" | ">=" | "==" | "!=", x, y) if x == y => (
                    match op {
                        "<" => BinOp::Lt,
                        "<=" => BinOp::Le,
                        ">" => BinOp::Gt,
                        ">=" => BinOp::Ge,
                        "==" => BinOp::Eq,
                        _ => BinOp::Ne,
                    },
                    Ty::Bool,
                ),
                ("==" | "!=", _, Ty::Null | Ty::Any) | ("==" | "!=", Ty::Null | Ty::Any, _) => {
                    (if op == "==" { BinOp::Eq } else { BinOp::Ne }, Ty::Bool)
                }
                _ => {
                    return err(
                        pos,
                        format!(
                            "operator '{op}' cannot be applied to operands of type {} and {}",
                            at.name(),
                            bt.name()
                        ),
                    )
                }
            };
            return Ok((Expr::Binary(o, a, b), ty));
        }
        let bad = |what: &str| {
            err(
                pos,
                format!(
                    "operator '{op}' cannot be applied to operands of type {} and {} ({what})",
                    at.name(),
                    bt.name()
                ),
            )
        };
        match op {
            "&&" | "||" => {
                if !matches!(at, Ty::Bool | Ty::Any | Ty::Json) || !matches!(bt, Ty::Bool | Ty::Any | Ty::Json) {
                    return bad("bools needed");
                }
                Ok((if op == "&&" { Expr::And(a, b) } else { Expr::Or(a, b) }, Ty::Bool))
            }
            "&" | "|" | "^" => {
                let o = match op {
                    "&" => BinOp::BitAnd,
                    "|" => BinOp::BitOr,
                    _ => BinOp::Xor,
                };
                let ty = if at == Ty::Bool && bt == Ty::Bool {
                    Ty::Bool
                } else if at.integral() && bt.integral() {
                    numeric_result(at, bt)
                } else if at == Ty::Enum && bt == Ty::Enum && op == "|" {
                    Ty::Any
                } else if at == Ty::Enum && bt == Ty::Enum {
                    return err(pos, format!("combining enum flags with '{op}' is not yet supported by ringgate"));
                } else if known(at) && known(bt) {
                    return bad("bools or integers needed");
                } else {
                    Ty::Any
                };
                Ok((Expr::Binary(o, a, b), ty))
            }
            "??" => {
                let ty = if at == bt || bt == Ty::Null {
                    at
                } else if at == Ty::Null {
                    bt
                } else if assignable(bt, at) {
                    at
                } else {
                    Ty::Any
                };
                Ok((Expr::Coalesce(a, b), ty))
            }
            "==" | "!=" => {
                if known(at)
                    && known(bt)
                    && at != bt
                    && !(at.numeric() && bt.numeric())
                    && !assignable(at, bt)
                    && !assignable(bt, at)
                {
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
            "+" if at == Ty::XNs => {
                if !matches!(bt, Ty::Str | Ty::Any) {
                    return bad("XNamespace + string");
                }
                Ok((Expr::Binary(BinOp::Add, a, b), Ty::XName))
            }
            "+" => {
                let ty = if at == Ty::Str || bt == Ty::Str {
                    Ty::Str
                } else if at.numeric() && bt.numeric() {
                    numeric_result(at, bt)
                } else if known(at) && known(bt) {
                    return bad("numbers or strings needed");
                } else {
                    Ty::Any
                };
                Ok((wrap32(Expr::Binary(BinOp::Add, a, b), ty), ty))
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
                let ty = if at.numeric() && bt.numeric() { numeric_result(at, bt) } else { Ty::Any };
                Ok((wrap32(Expr::Binary(o, a, b), ty), ty))
            }
        }
    }
}
