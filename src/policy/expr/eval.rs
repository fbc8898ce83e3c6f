//! Evaluating compiled expressions against a [`PolicyContext`].
//!
//! Every failure (null dereference, bad cast, parse error, an exception the expression
//! throws, a budget running out) is an [`EvalError`] that the executor turns into
//! `ExpressionValueEvaluationFailure`; nothing here panics.

use std::sync::Arc;

use super::budget::Budget;
use super::json::{JKind, JRef};
use super::members;
use super::methods::call_method;
use super::program::*;
use super::value::{from_json, CollKind, Ty, Value};
use super::EvalError;
use crate::policy::runtime::PolicyContext;

/// Deepest nesting of blocks inside blocks at runtime (compiled trees are already bounded).
const MAX_EVAL_DEPTH: usize = 256;

pub(crate) fn fail<T>(m: impl Into<String>) -> Result<T, EvalError> {
    Err(EvalError::new(m))
}

fn null_ref(what: &str) -> EvalError {
    EvalError::of("NullReferenceException", format!("Object reference not set to an instance of an object ({what})."))
}

pub struct Eval<'c, 'a> {
    pub ctx: &'c PolicyContext<'a>,
    locals: Vec<Value>,
    depth: usize,
    pub budget: Budget,
}

enum Flow {
    Next,
    Break,
    Continue,
    Return(Value),
}

pub fn int_arg(v: &Value) -> Result<i64, EvalError> {
    match super::linq::scalar(v) {
        Value::Int(n) => Ok(n),
        Value::Char(c) => Ok(i64::from(u32::from(c))),
        other => fail(format!("an integer is needed, found {}", other.type_name())),
    }
}

pub fn truthy(v: &Value) -> Result<bool, EvalError> {
    match super::linq::scalar(v) {
        Value::Bool(b) => Ok(b),
        v => fail(format!("a condition must be a bool, found {}", v.type_name())),
    }
}

/// A double to an integer as `Convert` does after rounding (out of range is an overflow).
pub fn double_to_int(d: f64, int32: bool) -> Result<Value, EvalError> {
    let t = d.trunc();
    let ok = if int32 {
        t >= f64::from(i32::MIN) && t <= f64::from(i32::MAX)
    } else {
        (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&t)
    };
    if !d.is_finite() || !ok {
        return Err(EvalError::of(
            "OverflowException",
            format!("Value was either too large or too small for an {}.", if int32 { "Int32" } else { "Int64" }),
        ));
    }
    Ok(Value::Int(t as i64))
}

impl<'c, 'a> Eval<'c, 'a> {
    pub fn new(ctx: &'c PolicyContext<'a>) -> Self {
        Eval { ctx, locals: Vec::new(), depth: 0, budget: Budget::default() }
    }

    fn name<'n>(&mut self, n: &'n Name) -> Result<std::borrow::Cow<'n, str>, EvalError> {
        match n {
            Name::Const(s) => Ok(std::borrow::Cow::Borrowed(s)),
            Name::Dyn(e) => match self.eval(e)? {
                Value::Null => Err(EvalError::of("ArgumentNullException", "Value cannot be null. (Parameter 'key')")),
                v => Ok(std::borrow::Cow::Owned(v.to_text())),
            },
        }
    }

    /// Header names: constants were lowercased at load time, so a plain lookup allocates
    /// nothing but its result.
    fn header_name<'n>(&mut self, n: &'n Name) -> Result<std::borrow::Cow<'n, str>, EvalError> {
        match n {
            Name::Const(s) => Ok(std::borrow::Cow::Borrowed(s)),
            Name::Dyn(_) => Ok(std::borrow::Cow::Owned(self.name(n)?.to_ascii_lowercase())),
        }
    }

    fn or_default(&mut self, found: Option<Value>, default: &Option<Box<Expr>>) -> Result<Value, EvalError> {
        match (found, default) {
            (Some(v), _) => Ok(v),
            (None, Some(d)) => self.eval(d),
            (None, None) => Ok(Value::Null),
        }
    }

    fn local(&self, i: u16) -> Value {
        self.locals.get(usize::from(i)).cloned().unwrap_or(Value::Null)
    }

    fn set_local(&mut self, i: u16, v: Value) {
        let i = usize::from(i);
        if i >= self.locals.len() {
            self.locals.resize(i + 1, Value::Null);
        }
        self.locals[i] = v;
    }

    /// Runs a program's root: a top-level expression with lambdas gets its frame here.
    pub fn run(&mut self, e: &Expr) -> Result<Value, EvalError> {
        let v = self.eval(e)?;
        let size = match &v {
            Value::Str(s) => s.len(),
            Value::Bytes(b) => b.len(),
            _ => 0,
        };
        if size > super::budget::MAX_RESULT_BYTES {
            return Err(EvalError::budget(format!(
                "the expression's result ({size} bytes) is larger than the result budget ({} bytes)",
                super::budget::MAX_RESULT_BYTES
            )));
        }
        Ok(v)
    }

    /// Calls a lambda value with arguments.
    pub fn apply(&mut self, f: &Value, args: &[Value]) -> Result<Value, EvalError> {
        let Value::Func(l) = f else {
            return fail(format!("a lambda is needed, found {}", f.type_name()));
        };
        self.budget.step()?;
        for (slot, v) in l.params.iter().zip(args) {
            self.set_local(*slot, v.clone());
        }
        match &l.body {
            LambdaBody::Expr(e) => self.eval(e),
            LambdaBody::Block(b) => match self.stmts(b)? {
                Flow::Return(v) => Ok(v),
                _ => Ok(Value::Null),
            },
        }
    }

    fn args(&mut self, args: &[Expr]) -> Result<Vec<Value>, EvalError> {
        let mut a = Vec::with_capacity(args.len());
        for x in args {
            a.push(self.eval(x)?);
        }
        Ok(a)
    }

    /// Writes `out` arguments: a Try-method returns (result, out value) as a pair.
    fn outs(&mut self, v: Value, outs: &[(u8, u16)]) -> Value {
        match (outs.first(), v) {
            (Some((_, slot)), Value::Pair(p)) => {
                self.set_local(*slot, p.1.clone());
                p.0.clone()
            }
            (_, v) => v,
        }
    }

    fn body(&mut self, msg: Msg, as_: BodyAs, nullc: bool, preserve: bool) -> Result<Value, EvalError> {
        let body = match msg {
            Msg::Request => self.ctx.current_request_body(),
            Msg::Response => {
                if self.ctx.response.is_none() {
                    return if nullc { Ok(Value::Null) } else { Err(null_ref("context.Response")) };
                }
                self.ctx.current_response_body()
            }
        };
        let body = body.unwrap_or(&[]);
        let response = msg == Msg::Response;
        if !self.ctx.read_body(response, body, preserve) {
            return Err(EvalError::of(
                "InvalidOperationException",
                "the body was already read: a Body.As call without preserveContent: true consumes it (APIM's rule)",
            ));
        }
        match as_ {
            BodyAs::Xml(doc) => super::bind_xml::parse(self, &String::from_utf8_lossy(body), doc),
            BodyAs::Str => {
                self.budget.alloc(body.len())?;
                Ok(Value::str(&String::from_utf8_lossy(body)))
            }
            BodyAs::Bytes => {
                self.budget.alloc(body.len())?;
                Ok(Value::Bytes(body.into()))
            }
            BodyAs::Json(kind) => {
                // Parsed once per body per request; each reader gets its own copy, so one
                // expression's edits are not seen by another's read (each As<> reads anew in APIM).
                self.budget.alloc(body.len().saturating_mul(2))?;
                let j = self.ctx.parsed_body(response, body).map_err(|m| EvalError::of("JsonReaderException", m))?;
                let j = j.deep_clone();
                match (kind, j.kind_name()) {
                    ("JObject", k) if k != "Object" => Err(EvalError::of(
                        "JsonReaderException",
                        format!(
                            "Error reading JObject from JsonReader. Current JsonReader item is not an object: {k}."
                        ),
                    )),
                    ("JArray", k) if k != "Array" => Err(EvalError::of(
                        "JsonReaderException",
                        format!("Error reading JArray from JsonReader. Current JsonReader item is not an array: {k}."),
                    )),
                    _ => Ok(Value::Json(j)),
                }
            }
        }
    }

    /// Evaluates a node. The common recursive nodes are here, each in a small function,
    /// so a long operator chain (up to `MAX_LINKS` deep) keeps a small frame per level.
    pub fn eval(&mut self, e: &Expr) -> Result<Value, EvalError> {
        match e {
            Expr::Const(v) => Ok(v.clone()),
            Expr::Local(i) => Ok(self.local(*i)),
            Expr::Binary(op, a, b) => self.eval_binary(*op, a, b),
            Expr::Wrap32(x) => match self.eval(x)? {
                Value::Int(n) => Ok(Value::Int(i64::from(n as i32))),
                v => Ok(v),
            },
            Expr::Invoke { recv, name, args, nullc, targ, outs } => {
                self.eval_invoke(recv, name, args, *nullc, *targ, outs)
            }
            Expr::Index { recv, index, nullc } => self.eval_index(recv, index, *nullc),
            Expr::Unary(op, x) => self.eval_unary(*op, x),
            _ => self.eval_rest(e),
        }
    }

    #[inline(never)]
    fn eval_binary(&mut self, op: BinOp, a: &Expr, b: &Expr) -> Result<Value, EvalError> {
        let (x, y) = (self.eval(a)?, self.eval(b)?);
        let r = binary(op, x, y)?;
        if let Value::Str(s) = &r {
            self.budget.alloc(s.len())?;
        }
        Ok(r)
    }

    #[inline(never)]
    fn eval_invoke(
        &mut self,
        recv: &Expr,
        name: &str,
        args: &[Expr],
        nullc: bool,
        targ: Option<Ty>,
        outs: &[(u8, u16)],
    ) -> Result<Value, EvalError> {
        let r = self.eval(recv)?;
        if r.is_null() {
            return if nullc { Ok(Value::Null) } else { Err(null_ref(&format!("calling {name}() on null"))) };
        }
        self.budget.step()?;
        let a = self.args(args)?;
        let v = members::invoke(self, name, r, a, targ)?;
        Ok(self.outs(v, outs))
    }

    #[inline(never)]
    fn eval_index(&mut self, recv: &Expr, index: &Expr, nullc: bool) -> Result<Value, EvalError> {
        let r = self.eval(recv)?;
        if r.is_null() {
            return if nullc { Ok(Value::Null) } else { Err(null_ref("indexing null")) };
        }
        let i = super::linq::scalar(&self.eval(index)?);
        members::index(&r, &i)
    }

    #[inline(never)]
    fn eval_unary(&mut self, op: UnOp, x: &Expr) -> Result<Value, EvalError> {
        let v = super::linq::scalar(&self.eval(x)?);
        match (op, v) {
            (UnOp::Not, Value::Bool(b)) => Ok(Value::Bool(!b)),
            (UnOp::Neg, Value::Int(n)) => Ok(Value::Int(n.wrapping_neg())),
            (UnOp::Neg, Value::Char(c)) => Ok(Value::Int(-i64::from(u32::from(c)))),
            (UnOp::Neg, Value::Double(d)) => Ok(Value::Double(-d)),
            // C#'s lifted operators: `!` and `-` of a null `bool?` / `int?` are null.
            (_, Value::Null) => Ok(Value::Null),
            (UnOp::Not, v) => fail(format!("'!' needs a bool, found {}", v.type_name())),
            (UnOp::Neg, v) => fail(format!("'-' needs a number, found {}", v.type_name())),
        }
    }

    #[inline(never)]
    fn eval_rest(&mut self, e: &Expr) -> Result<Value, EvalError> {
        match e {
            Expr::Const(v) => Ok(v.clone()),
            Expr::Local(i) => Ok(self.local(*i)),
            Expr::Prop { p, nullc } => match super::props::prop(self.ctx, *p) {
                Some(v) => Ok(v),
                None if *nullc => Ok(Value::Null),
                None => Err(null_ref(&format!("{p:?} of a null object"))),
            },
            Expr::Header { msg, name, default, nullc } => {
                let lower = self.header_name(name)?;
                let found = match msg {
                    Msg::Request => self.ctx.request_header(&lower).map(|v| Value::str(&v)),
                    Msg::Response => {
                        if self.ctx.response.is_none() {
                            return if *nullc { Ok(Value::Null) } else { Err(null_ref("context.Response")) };
                        }
                        self.ctx.response_header(&lower).map(|v| Value::str(&v))
                    }
                };
                self.or_default(found, default)
            }
            Expr::HeaderContains { msg, name, nullc } => {
                let n = self.header_name(name)?;
                Ok(Value::Bool(match msg {
                    Msg::Request => self.ctx.request_header(&n).is_some(),
                    Msg::Response => {
                        if self.ctx.response.is_none() {
                            return if *nullc { Ok(Value::Null) } else { Err(null_ref("context.Response")) };
                        }
                        self.ctx.response_header(&n).is_some()
                    }
                }))
            }
            Expr::HeaderValues { msg, name, nullc } => {
                let n = self.header_name(name)?;
                let v = match msg {
                    Msg::Request => self.ctx.request_header(&n),
                    Msg::Response if self.ctx.response.is_none() && *nullc => return Ok(Value::Null),
                    Msg::Response => self.ctx.response_header(&n),
                };
                match v {
                    Some(v) => Ok(Value::Array(v.split(',').map(|s| Value::str(s.trim())).collect::<Vec<_>>().into())),
                    None => Err(EvalError::of(
                        "KeyNotFoundException",
                        format!("The given key '{n}' was not present in the dictionary."),
                    )),
                }
            }
            Expr::Query { name, default, contains } => {
                let n = self.name(name)?;
                let found = self.ctx.query_param(&n).map(|v| Value::str(&super::statics::percent_decode(v, true)));
                if *contains {
                    return Ok(Value::Bool(found.is_some()));
                }
                self.or_default(found, default)
            }
            Expr::Matched { name, default, index, contains } => {
                let n = self.name(name)?;
                let found = self.ctx.matched_param(&n).map(Value::str);
                if *contains {
                    return Ok(Value::Bool(found.is_some()));
                }
                if *index && found.is_none() {
                    return Err(EvalError::of(
                        "KeyNotFoundException",
                        format!("The given key '{n}' was not present in the dictionary."),
                    ));
                }
                self.or_default(found, default)
            }
            Expr::Var { name, default, ty, mode } => {
                let n = self.name(name)?;
                let found = self.ctx.variable(&n).cloned();
                match mode {
                    VarMode::ContainsKey => Ok(Value::Bool(found.is_some())),
                    VarMode::Index => found.ok_or_else(|| {
                        EvalError::of(
                            "KeyNotFoundException",
                            format!("The given key '{n}' was not present in the dictionary."),
                        )
                    }),
                    VarMode::OrDefault => match (found, ty) {
                        (Some(v), Some(t)) => cast(*t, v),
                        (Some(v), None) => Ok(v),
                        (None, _) => {
                            let d = self.or_default(None, default)?;
                            // The one-argument form returns default(T).
                            Ok(match (d, ty) {
                                (Value::Null, Some(Ty::Int | Ty::Long)) if default.is_none() => Value::Int(0),
                                (Value::Null, Some(Ty::Bool)) if default.is_none() => Value::Bool(false),
                                (Value::Null, Some(Ty::Double)) if default.is_none() => Value::Double(0.0),
                                (d, _) => d,
                            })
                        }
                    },
                }
            }
            Expr::Body { msg, as_, nullc, preserve } => self.body(*msg, *as_, *nullc, *preserve),
            Expr::Unary(op, x) => self.eval_unary(*op, x),
            Expr::Wrap32(x) => match self.eval(x)? {
                Value::Int(n) => Ok(Value::Int(i64::from(n as i32))),
                v => Ok(v),
            },
            Expr::And(a, b) => Ok(Value::Bool(self.truth(a)? && self.truth(b)?)),
            Expr::Or(a, b) => Ok(Value::Bool(self.truth(a)? || self.truth(b)?)),
            Expr::Cond(c, t, f) => {
                if self.truth(c)? {
                    self.eval(t)
                } else {
                    self.eval(f)
                }
            }
            Expr::Coalesce(a, b) => match self.eval(a)? {
                Value::Null => self.eval(b),
                v => Ok(v),
            },
            Expr::Binary(op, a, b) => {
                let (x, y) = (self.eval(a)?, self.eval(b)?);
                let r = binary(*op, x, y)?;
                if let Value::Str(s) = &r {
                    self.budget.alloc(s.len())?;
                }
                Ok(r)
            }
            Expr::Cast(t, x) => {
                let v = self.eval(x)?;
                cast(*t, v)
            }
            Expr::JsonCast(kind, x) => json_cast(kind, self.eval(x)?),
            Expr::Call { recv, m, args, nullc, ty } => {
                let r = self.eval(recv)?;
                if r.is_null() {
                    return if *nullc { Ok(Value::Null) } else { Err(null_ref(&format!("calling {m:?} on null"))) };
                }
                let a = self.args(args)?;
                call_method(*m, r, a, *ty)
            }
            Expr::Invoke { recv, name, args, nullc, targ, outs } => {
                let r = self.eval(recv)?;
                if r.is_null() {
                    return if *nullc { Ok(Value::Null) } else { Err(null_ref(&format!("calling {name}() on null"))) };
                }
                self.budget.step()?;
                let a = self.args(args)?;
                let v = members::invoke(self, name, r, a, *targ)?;
                Ok(self.outs(v, outs))
            }
            Expr::Get { recv, name, nullc } => {
                let r = self.eval(recv)?;
                if r.is_null() {
                    return if *nullc { Ok(Value::Null) } else { Err(null_ref(&format!("reading {name} of null"))) };
                }
                members::get(name, &r)
            }
            Expr::Anon(members) => {
                let mut fields = Vec::with_capacity(members.len());
                for (n, e) in members {
                    fields.push((n.clone(), self.eval(e)?));
                }
                self.budget.alloc(32 * fields.len())?;
                Ok(Value::Anon(fields.into()))
            }
            Expr::Field { recv, name, nullc } => match self.eval(recv)? {
                Value::Null if *nullc => Ok(Value::Null),
                Value::Null => Err(null_ref(&format!("reading {name} of null"))),
                Value::Anon(fields) => {
                    fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).ok_or_else(|| {
                        EvalError::new(format!("'<anonymous type>' does not contain a definition for '{name}'"))
                    })
                }
                other => fail(format!("{name} is not available on {}", other.type_name())),
            },
            Expr::StaticCall { name, args, targ, outs } => {
                self.budget.step()?;
                let a = self.args(args)?;
                let v = super::statics::call(self, name, a, *targ)?;
                Ok(self.outs(v, outs))
            }
            Expr::Index { recv, index, nullc } => {
                let r = self.eval(recv)?;
                if r.is_null() {
                    return if *nullc { Ok(Value::Null) } else { Err(null_ref("indexing null")) };
                }
                let i = super::linq::scalar(&self.eval(index)?);
                members::index(&r, &i)
            }
            Expr::Concat(parts) => {
                let mut s = String::new();
                for p in parts {
                    self.eval(p)?.write_text(&mut s);
                }
                self.budget.alloc(s.len())?;
                Ok(Value::str(&s))
            }
            Expr::Format(x, f) => {
                let v = self.eval(x)?;
                Ok(Value::str(&super::format::format_value(&v, f)?))
            }
            Expr::Block(b) => {
                self.depth += 1;
                if self.depth > MAX_EVAL_DEPTH {
                    return fail("expression blocks nested too deeply");
                }
                let saved = std::mem::replace(&mut self.locals, vec![Value::Null; usize::from(b.slots)]);
                let r = self.stmts(&b.body);
                self.locals = saved;
                self.depth -= 1;
                match r? {
                    Flow::Return(v) => Ok(v),
                    _ => Ok(Value::Null),
                }
            }
            Expr::Assign { target, op, value, post, wrap32 } => self.assign(target, *op, value, *post, *wrap32),
            Expr::Lambda(l) => Ok(Value::Func(l.clone())),
            Expr::New { ty, elem, args, init } => {
                self.budget.step()?;
                let a = self.args(args)?;
                let v = super::statics::construct(self, ty, elem, a)?;
                self.init(&v, init)?;
                Ok(v)
            }
            Expr::NewArray { elem, size, items } => {
                let mut out = match size {
                    Some(s) => {
                        let n = int_arg(&self.eval(s)?)?;
                        let n = usize::try_from(n).map_err(|_| {
                            EvalError::of("OverflowException", "Arithmetic operation resulted in an overflow.")
                        })?;
                        self.budget.alloc(n.saturating_mul(16))?;
                        let zero = match *elem {
                            "System.Int32" | "System.Int64" | "System.Byte" => Value::Int(0),
                            "System.Boolean" => Value::Bool(false),
                            "System.Char" => Value::Char('\0'),
                            "System.Double" => Value::Double(0.0),
                            _ => Value::Null,
                        };
                        vec![zero; n]
                    }
                    None => Vec::with_capacity(items.len()),
                };
                let given = self.args(items)?;
                if size.is_some() && !given.is_empty() {
                    if given.len() != out.len() {
                        return fail("an array initializer of the wrong length");
                    }
                    out = given;
                } else if size.is_none() {
                    out = given;
                }
                if *elem == "System.Byte" {
                    let mut b = Vec::with_capacity(out.len());
                    for v in out {
                        b.push(u8::try_from(int_arg(&v)?).map_err(|_| {
                            EvalError::of(
                                "OverflowException",
                                "Value was either too large or too small for an unsigned byte.",
                            )
                        })?);
                    }
                    return Ok(Value::Bytes(b.into()));
                }
                // A `string[]` made with `new` is writable (`a[0] = …`, `Array.Sort(a)`): a
                // shared fixed-size collection, like every other `T[]`.
                Ok(Value::list(CollKind::Array, elem, out))
            }
            Expr::Is { e, ty, json, bind } => {
                let v = self.eval(e)?;
                let ok = is_type(&v, *ty, *json);
                if let (true, Some(slot)) = (ok, bind) {
                    self.set_local(*slot, v);
                }
                Ok(Value::Bool(ok))
            }
            Expr::As { e, ty, json } => {
                let v = self.eval(e)?;
                Ok(if is_type(&v, *ty, *json) { v } else { Value::Null })
            }
            Expr::Throw(x) => Err(throwable(self.eval(x)?)),
        }
    }

    fn init(&mut self, v: &Value, init: &NewInit) -> Result<(), EvalError> {
        match init {
            NewInit::None => {}
            NewInit::Collection(items) => {
                for it in items {
                    let args = self.args(it)?;
                    members::invoke(self, "Add", v.clone(), args, None)?;
                }
            }
            NewInit::Keyed(items) => {
                for (k, x) in items {
                    let (k, x) = (self.eval(k)?, self.eval(x)?);
                    members::set_index(self, v, &k, x)?;
                }
            }
            NewInit::Object(items) => {
                for (n, x) in items {
                    let x = self.eval(x)?;
                    members::set(n, v, x)?;
                }
            }
        }
        Ok(())
    }

    fn assign(
        &mut self,
        target: &Target,
        op: Option<AssignOp>,
        value: &Expr,
        post: bool,
        wrap32: bool,
    ) -> Result<Value, EvalError> {
        let combine = |me: &mut Self, old: Value| -> Result<Value, EvalError> {
            Ok(match op {
                None => me.eval(value)?,
                Some(AssignOp::Coalesce) => match old {
                    Value::Null => me.eval(value)?,
                    v => v,
                },
                Some(AssignOp::Bin(o)) => {
                    let v = me.eval(value)?;
                    let r = binary(o, old, v)?;
                    match (r, wrap32) {
                        (Value::Int(n), true) => Value::Int(i64::from(n as i32)),
                        (r, _) => r,
                    }
                }
            })
        };
        match target {
            Target::Local(slot) => {
                let old = if op.is_some() { self.local(*slot) } else { Value::Null };
                let new = combine(self, old.clone())?;
                if let Value::Str(s) = &new {
                    self.budget.alloc(s.len())?;
                }
                self.set_local(*slot, new.clone());
                Ok(if post { old } else { new })
            }
            Target::Index(r, i) => {
                let r = self.eval(r)?;
                if r.is_null() {
                    return Err(null_ref("indexing null"));
                }
                let i = super::linq::scalar(&self.eval(i)?);
                let old = if op.is_some() { members::index(&r, &i)? } else { Value::Null };
                let new = combine(self, old.clone())?;
                members::set_index(self, &r, &i, new.clone())?;
                Ok(if post { old } else { new })
            }
            Target::Member(r, name) => {
                let r = self.eval(r)?;
                if r.is_null() {
                    return Err(null_ref(&format!("setting {name} of null")));
                }
                let old = if op.is_some() { members::get(name, &r)? } else { Value::Null };
                let new = combine(self, old.clone())?;
                members::set(name, &r, new.clone())?;
                Ok(if post { old } else { new })
            }
        }
    }

    fn stmts(&mut self, body: &[BStmt]) -> Result<Flow, EvalError> {
        for s in body {
            self.budget.step()?;
            match self.stmt(s)? {
                Flow::Next => {}
                f => return Ok(f),
            }
        }
        Ok(Flow::Next)
    }

    fn stmt(&mut self, s: &BStmt) -> Result<Flow, EvalError> {
        match s {
            BStmt::Set(slot, e) => {
                let v = self.eval(e)?;
                self.set_local(*slot, v);
            }
            BStmt::Expr(e) => {
                self.eval(e)?;
            }
            BStmt::If(c, t, f) => {
                let branch = if self.truth(c)? { t } else { f };
                return self.stmts(branch);
            }
            BStmt::Return(e) => return Ok(Flow::Return(self.eval(e)?)),
            BStmt::Block(b) => return self.stmts(b),
            BStmt::While(c, b) => {
                while self.truth(c)? {
                    self.budget.step()?;
                    match self.stmts(b)? {
                        Flow::Break => break,
                        Flow::Return(v) => return Ok(Flow::Return(v)),
                        Flow::Next | Flow::Continue => {}
                    }
                }
            }
            BStmt::Do(b, c) => loop {
                self.budget.step()?;
                match self.stmts(b)? {
                    Flow::Break => break,
                    Flow::Return(v) => return Ok(Flow::Return(v)),
                    Flow::Next | Flow::Continue => {}
                }
                if !self.truth(c)? {
                    break;
                }
            },
            BStmt::For(init, c, step, b) => {
                for s in init {
                    self.stmt(s)?;
                }
                loop {
                    if let Some(c) = c {
                        if !self.truth(c)? {
                            break;
                        }
                    }
                    self.budget.step()?;
                    match self.stmts(b)? {
                        Flow::Break => break,
                        Flow::Return(v) => return Ok(Flow::Return(v)),
                        Flow::Next | Flow::Continue => {}
                    }
                    for e in step {
                        self.eval(e)?;
                    }
                }
            }
            BStmt::Foreach(slot, it, b) => {
                let v = self.eval(it)?;
                if v.is_null() {
                    return Err(null_ref("foreach over null"));
                }
                let items = super::linq::items(&v)?;
                for x in items {
                    self.budget.step()?;
                    self.set_local(*slot, x);
                    match self.stmts(b)? {
                        Flow::Break => break,
                        Flow::Return(v) => return Ok(Flow::Return(v)),
                        Flow::Next | Flow::Continue => {}
                    }
                }
            }
            BStmt::Break => return Ok(Flow::Break),
            BStmt::Continue => return Ok(Flow::Continue),
            BStmt::Throw(e) => {
                let v = match e {
                    Some(e) => self.eval(e)?,
                    None => Value::Null,
                };
                return Err(throwable(v));
            }
            BStmt::Try(body, catches, finally) => {
                let r = match self.stmts(body) {
                    Err(e) if !e.is_budget() => {
                        let mut handled = None;
                        for c in catches {
                            if let Some(t) = c.ty {
                                if !super::types::exception_is(e.1, t) {
                                    continue;
                                }
                            }
                            if let Some(slot) = c.slot {
                                self.set_local(slot, Value::Exception(Arc::new((e.1, e.0.clone()))));
                            }
                            if let Some(w) = &c.when {
                                if !self.truth(w)? {
                                    continue;
                                }
                            }
                            handled = Some(self.stmts(&c.body));
                            break;
                        }
                        handled.unwrap_or(Err(e))
                    }
                    r => r,
                };
                if let Some(f) = finally {
                    if let Err(e) = &r {
                        if e.is_budget() {
                            return r;
                        }
                    }
                    match self.stmts(f)? {
                        Flow::Next => {}
                        other => return Ok(other),
                    }
                }
                return r;
            }
            BStmt::Switch(x, sections) => {
                let v = super::linq::scalar(&self.eval(x)?);
                let hit = sections
                    .iter()
                    .position(|(labels, _)| labels.iter().any(|l| matches!(l, Some(Expr::Const(c)) if equals(c, &v))))
                    .or_else(|| sections.iter().position(|(labels, _)| labels.iter().any(Option::is_none)));
                if let Some(i) = hit {
                    return match self.stmts(&sections[i].1)? {
                        Flow::Break => Ok(Flow::Next),
                        f => Ok(f),
                    };
                }
            }
        }
        Ok(Flow::Next)
    }

    pub fn truth(&mut self, e: &Expr) -> Result<bool, EvalError> {
        let v = self.eval(e)?;
        truthy(&v)
    }
}

fn throwable(v: Value) -> EvalError {
    match v {
        Value::Exception(e) => EvalError::of(e.0, e.1.clone()),
        Value::Null => null_ref("throw null"),
        other => EvalError::new(format!("only exceptions can be thrown, found {}", other.type_name())),
    }
}

fn is_type(v: &Value, ty: Ty, json: Option<&str>) -> bool {
    match (ty, v) {
        (_, Value::Null) => false,
        (Ty::Any, _) => true,
        (Ty::Json, Value::Json(j)) => match json {
            Some("JObject") => j.is_object(),
            Some("JArray") => j.is_array(),
            Some("JValue") => !j.is_container(),
            _ => true,
        },
        (Ty::Int | Ty::Long, Value::Int(_)) => true,
        (Ty::List, Value::List(_) | Value::Array(_)) => true,
        (Ty::Array, Value::Array(_)) => true,
        (Ty::Array, Value::List(c)) => c.kind == CollKind::Array && c.elem == "System.String",
        (t, v) => v.ty() == t,
    }
}

fn json_cast(kind: &str, v: Value) -> Result<Value, EvalError> {
    let bad = |from: &str| {
        EvalError::of(
            "InvalidCastException",
            format!("Unable to cast object of type '{from}' to type 'Newtonsoft.Json.Linq.{kind}'."),
        )
    };
    match &v {
        Value::Null => Ok(v),
        Value::Json(j) => {
            let ok = match kind {
                "JObject" => j.is_object(),
                "JArray" => j.is_array(),
                "JValue" => !j.is_container(),
                _ => true,
            };
            if ok {
                Ok(v)
            } else {
                Err(bad(&format!("Newtonsoft.Json.Linq.{}", v.type_name())))
            }
        }
        other => Err(bad(&format!("System.{}", other.type_name()))),
    }
}

/// C# `==` on values: strings ordinally, numbers numerically, reference types by identity.
pub fn equals(x: &Value, y: &Value) -> bool {
    if let Some(b) = super::bind_xml::equals(x, y) {
        return b;
    }
    match (x, y) {
        (Value::Uri(a), Value::Uri(b)) => a == b,
        (Value::Null, Value::Null) => true,
        (Value::Null, _) | (_, Value::Null) => false,
        (Value::Str(a), Value::Str(b)) => a == b,
        (Value::Bool(a), Value::Bool(b)) => a == b,
        (Value::Int(a), Value::Int(b)) => a == b,
        (Value::Char(a), Value::Char(b)) => a == b,
        (Value::Enum(t, a), Value::Enum(u, b)) => t == u && a == b,
        (Value::Json(a), Value::Json(b)) => a.same(b) || json_scalar_eq(a, b),
        // A JSON scalar against a C# value: the `Equals` of their values (LINQ Contains,
        // dictionary keys); C#'s `==` between a JToken and a string is a reference
        // comparison and is false, which `binary` keeps.
        (Value::Json(_), o) | (o, Value::Json(_)) if !matches!(o, Value::Json(_)) => {
            let j = if let Value::Json(_) = x { super::linq::scalar(x) } else { super::linq::scalar(y) };
            !matches!(j, Value::Json(_)) && equals(&j, o)
        }
        (Value::List(a), Value::List(b)) => Arc::ptr_eq(a, b),
        (Value::Dict(a), Value::Dict(b)) => Arc::ptr_eq(a, b),
        (Value::Pair(a), Value::Pair(b)) => equals(&a.0, &b.0) && equals(&a.1, &b.1),
        _ => match (x.as_f64(), y.as_f64()) {
            (Some(a), Some(b)) if !matches!(x, Value::Str(_)) && !matches!(y, Value::Str(_)) => a == b,
            _ => false,
        },
    }
}

fn json_scalar_eq(a: &JRef, b: &JRef) -> bool {
    // JValue.Equals compares values; used by LINQ Distinct/Contains on tokens.
    let (x, y) = (from_json(a), from_json(b));
    !matches!(x, Value::Json(_)) && !matches!(y, Value::Json(_)) && equals(&x, &y)
}

fn binary(op: BinOp, x: Value, y: Value) -> Result<Value, EvalError> {
    use BinOp::*;
    if let Some(r) = super::bind::binary(op, &x, &y) {
        return r;
    }
    if op == Add {
        if let Some(r) = super::bind_xml::binary_add(&x, &y) {
            return r;
        }
    }
    if let Some(r) = super::bind_dto::binary(op, &x, &y) {
        return r;
    }
    match op {
        Eq | Ne => {
            // JToken == string: C# compares references (false); JToken == null is a null test.
            let r = match (&x, &y) {
                (Value::Json(a), Value::Json(b)) => a.same(b),
                (Value::Json(_), Value::Null) | (Value::Null, Value::Json(_)) => false,
                (Value::Json(_), _) | (_, Value::Json(_)) => false,
                _ => equals(&x, &y),
            };
            return Ok(Value::Bool(if op == Eq { r } else { !r }));
        }
        Add if matches!(x, Value::Str(_)) || matches!(y, Value::Str(_)) => {
            let mut s = x.to_text();
            y.write_text(&mut s);
            return Ok(Value::str(&s));
        }
        _ => {}
    }
    let x = super::linq::scalar(&x);
    let y = super::linq::scalar(&y);
    // C#'s lifted operators on `int?`/`double?`: a null operand makes arithmetic null and
    // comparisons false (`jwt?.Claims…Length > 3` with no token).
    if x.is_null() || y.is_null() {
        return Ok(if matches!(op, Lt | Le | Gt | Ge) { Value::Bool(false) } else { Value::Null });
    }
    let int_of = |v: &Value| match v {
        Value::Int(n) => Some(*n),
        Value::Char(c) => Some(i64::from(u32::from(*c))),
        _ => None,
    };
    if let (Value::Bool(a), Value::Bool(b)) = (&x, &y) {
        return match op {
            BitAnd => Ok(Value::Bool(*a & *b)),
            BitOr => Ok(Value::Bool(*a | *b)),
            Xor => Ok(Value::Bool(*a ^ *b)),
            _ => fail(format!("operator {op:?} cannot be applied to bools")),
        };
    }
    if let (Some(a), Some(b)) = (int_of(&x), int_of(&y)) {
        // Unchecked (C#'s default): 64-bit results wrap; `int` results are wrapped to 32
        // bits by the compiler's Wrap32 node.
        let r = match op {
            Add => a.wrapping_add(b),
            Sub => a.wrapping_sub(b),
            Mul => a.wrapping_mul(b),
            Div | Rem if b == 0 => return Err(EvalError::of("DivideByZeroException", "Attempted to divide by zero.")),
            Div => a
                .checked_div(b)
                .ok_or_else(|| EvalError::of("OverflowException", "Arithmetic operation resulted in an overflow."))?,
            Rem => a.checked_rem(b).unwrap_or(0),
            BitAnd => a & b,
            BitOr => a | b,
            Xor => a ^ b,
            Lt => return Ok(Value::Bool(a < b)),
            Le => return Ok(Value::Bool(a <= b)),
            Gt => return Ok(Value::Bool(a > b)),
            Ge => return Ok(Value::Bool(a >= b)),
            Eq | Ne => return Ok(Value::Null),
        };
        return Ok(Value::Int(r));
    }
    let (Some(a), Some(b)) = (x.as_f64(), y.as_f64()) else {
        return fail(format!("operator {op:?} cannot be applied to {} and {}", x.type_name(), y.type_name()));
    };
    Ok(match op {
        Add => Value::Double(a + b),
        Sub => Value::Double(a - b),
        Mul => Value::Double(a * b),
        Div => Value::Double(a / b),
        Rem => Value::Double(a % b),
        Lt => Value::Bool(a < b),
        Le => Value::Bool(a <= b),
        Gt => Value::Bool(a > b),
        Ge => Value::Bool(a >= b),
        _ => return fail(format!("operator {op:?} cannot be applied to doubles")),
    })
}

/// An explicit cast `(T)v` (and `GetValueOrDefault<T>`) with .NET's rules.
pub fn cast(t: Ty, v: Value) -> Result<Value, EvalError> {
    let bad = |v: &Value| {
        EvalError::of(
            "InvalidCastException",
            format!("Unable to cast object of type '{}' to type '{}'.", v.type_name(), t.name()),
        )
    };
    if t == Ty::Any {
        return Ok(v);
    }
    if let Some(r) = super::bind_xml::cast(t, &v) {
        return r;
    }
    if let Value::Json(j) = &v {
        return match t {
            Ty::Json => Ok(v),
            _ if j.is_container() => {
                Err(EvalError::of("ArgumentException", format!("Can not convert {} to {}.", j.kind_name(), t.dotnet())))
            }
            Ty::Int | Ty::Long | Ty::Double | Ty::Bool | Ty::Str | Ty::Char => {
                if matches!(j.lock().kind, JKind::Null) && matches!(t, Ty::Str) {
                    return Ok(Value::Null);
                }
                members::convert_token(j, t)
            }
            _ => Err(bad(&v)),
        };
    }
    if v.is_null() {
        return match t {
            Ty::Int | Ty::Long | Ty::Double | Ty::Bool | Ty::Char => Err(null_ref("unboxing null to a value type")),
            _ => Ok(v),
        };
    }
    match (t, &v) {
        (Ty::Str, Value::Str(_)) => Ok(v),
        (Ty::Int, Value::Int(n)) => Ok(Value::Int(i64::from(*n as i32))),
        (Ty::Long, Value::Int(_)) => Ok(v),
        (Ty::Int | Ty::Long, Value::Char(c)) => Ok(Value::Int(i64::from(u32::from(*c)))),
        (Ty::Int | Ty::Long, Value::Double(d)) => {
            if d.is_finite() && d.abs() < 9.2e18 {
                let n = d.trunc() as i64;
                Ok(Value::Int(if t == Ty::Int { i64::from(n as i32) } else { n }))
            } else {
                Ok(Value::Int(if t == Ty::Int { i64::from(i32::MIN) } else { i64::MIN }))
            }
        }
        (Ty::Char, Value::Int(n)) => {
            Ok(Value::Char(u32::try_from(*n & 0xFFFF).ok().and_then(char::from_u32).unwrap_or('\u{FFFD}')))
        }
        (Ty::Char, Value::Char(_)) => Ok(v),
        (Ty::Double, Value::Int(n)) => Ok(Value::Double(*n as f64)),
        (Ty::Double, Value::Char(c)) => Ok(Value::Double(f64::from(u32::from(*c)))),
        (Ty::Double, Value::Double(_)) => Ok(v),
        (Ty::Bool, Value::Bool(_)) => Ok(v),
        (Ty::Json, Value::Str(s)) => Ok(Value::Json(JRef::new(JKind::Str(s.clone())))),
        (Ty::Json, _) => Err(bad(&v)),
        (Ty::List, Value::List(_) | Value::Array(_)) => Ok(v),
        (Ty::Array, Value::Array(_) | Value::List(_)) => Ok(v),
        (Ty::XmlList | Ty::RxMatches, Value::List(_)) => Ok(v),
        (Ty::XName, Value::Str(s)) => Ok(Value::XName(Arc::new(crate::policy::dotnet::xml::XName::parse(s)))),
        (Ty::XNs, Value::Str(s)) => Ok(Value::XNs(s.clone())),
        (t, v) if v.ty() == t => Ok(v.clone()),
        _ => Err(bad(&v)),
    }
}
