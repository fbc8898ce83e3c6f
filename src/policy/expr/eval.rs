//! Evaluating compiled expressions against a [`PolicyContext`].
//!
//! Every failure (null dereference, bad cast, parse error, overflow) is an [`EvalError`]
//! that the executor turns into `ExpressionValueEvaluationFailure`; nothing here panics.

use std::sync::Arc;

use super::methods::{call_method, call_static};
use super::program::*;
use super::value::{from_json, Ty, Value};
use super::EvalError;
use crate::policy::runtime::PolicyContext;

/// Deepest nesting of blocks inside blocks at runtime (compiled trees are already bounded).
const MAX_EVAL_DEPTH: usize = 256;

pub(crate) fn fail<T>(m: impl Into<String>) -> Result<T, EvalError> {
    Err(EvalError(m.into()))
}

pub struct Eval<'c, 'a> {
    pub ctx: &'c PolicyContext<'a>,
    locals: Vec<Value>,
    depth: usize,
}

enum Flow {
    Next,
    Return(Value),
}

impl<'c, 'a> Eval<'c, 'a> {
    pub fn new(ctx: &'c PolicyContext<'a>) -> Self {
        Eval { ctx, locals: Vec::new(), depth: 0 }
    }

    fn name<'n>(&mut self, n: &'n Name) -> Result<std::borrow::Cow<'n, str>, EvalError> {
        match n {
            Name::Const(s) => Ok(std::borrow::Cow::Borrowed(s)),
            Name::Dyn(e) => match self.eval(e)? {
                Value::Null => fail("a lookup key evaluated to null"),
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

    pub fn eval(&mut self, e: &Expr) -> Result<Value, EvalError> {
        match e {
            Expr::Const(v) => Ok(v.clone()),
            Expr::Local(i) => Ok(self.locals.get(usize::from(*i)).cloned().unwrap_or(Value::Null)),
            Expr::Prop { p, nullc } => match super::props::prop(self.ctx, *p) {
                Some(v) => Ok(v),
                None if *nullc => Ok(Value::Null),
                None => fail(format!("Object reference not set to an instance of an object ({p:?} of a null object)")),
            },
            Expr::Header { msg, name, default, nullc } => {
                let lower = self.header_name(name)?;
                let found = match msg {
                    Msg::Request => self.ctx.request_header(&lower).map(|v| Value::str(&v)),
                    Msg::Response => {
                        if self.ctx.response.is_none() {
                            return if *nullc { Ok(Value::Null) } else { fail("context.Response is null here") };
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
                            return if *nullc { Ok(Value::Null) } else { fail("context.Response is null here") };
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
                    None => fail(format!("header '{n}' is not present")),
                }
            }
            Expr::Query { name, default, contains } => {
                let n = self.name(name)?;
                let found = self.ctx.query_param(&n).map(|v| Value::str(&percent_decode(v)));
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
                    return fail(format!("the matched parameter '{n}' was not found"));
                }
                self.or_default(found, default)
            }
            Expr::Var { name, default, ty, mode } => {
                let n = self.name(name)?;
                let found = self.ctx.variable(&n).cloned();
                match mode {
                    VarMode::ContainsKey => Ok(Value::Bool(found.is_some())),
                    VarMode::Index => found.ok_or_else(|| EvalError(format!("the variable '{n}' was not found"))),
                    VarMode::OrDefault => match (found, ty) {
                        (Some(v), Some(t)) => cast(*t, v),
                        (Some(v), None) => Ok(v),
                        (None, _) => self.or_default(None, default),
                    },
                }
            }
            Expr::Body { msg, as_, nullc } => {
                let body = match msg {
                    Msg::Request => self.ctx.current_request_body(),
                    Msg::Response => {
                        if self.ctx.response.is_none() {
                            return if *nullc { Ok(Value::Null) } else { fail("context.Response is null here") };
                        }
                        self.ctx.current_response_body()
                    }
                };
                let body = body.unwrap_or(&[]);
                match as_ {
                    BodyAs::Str => Ok(Value::str(&String::from_utf8_lossy(body))),
                    BodyAs::Json => match serde_json::from_slice::<serde_json::Value>(body) {
                        Ok(j) => Ok(Value::Json(Arc::new(j))),
                        Err(e) => fail(format!("the body is not valid JSON: {e}")),
                    },
                }
            }
            Expr::Unary(op, x) => {
                let v = self.eval(x)?;
                match (op, v) {
                    (UnOp::Not, Value::Bool(b)) => Ok(Value::Bool(!b)),
                    (UnOp::Neg, Value::Int(n)) => {
                        n.checked_neg().map(Value::Int).ok_or_else(|| EvalError("overflow".into()))
                    }
                    (UnOp::Neg, Value::Double(d)) => Ok(Value::Double(-d)),
                    // C#'s lifted operators: `!` and `-` of a null `bool?` / `int?` are null
                    // (`!jwt?.Claims…Contains("admin") ?? true` with no token).
                    (_, Value::Null) => Ok(Value::Null),
                    (UnOp::Not, v) => fail(format!("'!' needs a bool, found {}", v.ty().name())),
                    (UnOp::Neg, v) => fail(format!("'-' needs a number, found {}", v.ty().name())),
                }
            }
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
                binary(*op, x, y)
            }
            Expr::Cast(t, x) => {
                let v = self.eval(x)?;
                cast(*t, v)
            }
            Expr::Call { recv, m, args, nullc, ty } => {
                let r = self.eval(recv)?;
                if r.is_null() {
                    if *nullc {
                        return Ok(Value::Null);
                    }
                    return fail(format!(
                        "Object reference not set to an instance of an object (calling {m:?} on null)"
                    ));
                }
                let mut a = Vec::with_capacity(args.len());
                for x in args {
                    a.push(self.eval(x)?);
                }
                call_method(*m, r, a, *ty)
            }
            Expr::Index { recv, index, nullc } => {
                let r = self.eval(recv)?;
                if r.is_null() {
                    return if *nullc {
                        Ok(Value::Null)
                    } else {
                        fail("Object reference not set to an instance of an object (indexing null)")
                    };
                }
                let i = self.eval(index)?;
                index_value(r, i)
            }
            Expr::Static(f, args) => {
                let mut a = Vec::with_capacity(args.len());
                for x in args {
                    a.push(self.eval(x)?);
                }
                call_static(*f, a)
            }
            Expr::Concat(parts) => {
                let mut s = String::new();
                for p in parts {
                    self.eval(p)?.write_text(&mut s);
                }
                Ok(Value::str(&s))
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
                    Flow::Next => Ok(Value::Null),
                }
            }
        }
    }

    fn stmts(&mut self, body: &[BStmt]) -> Result<Flow, EvalError> {
        for s in body {
            match s {
                BStmt::Set(slot, e) => {
                    let v = self.eval(e)?;
                    if let Some(l) = self.locals.get_mut(usize::from(*slot)) {
                        *l = v;
                    }
                }
                BStmt::If(c, t, f) => {
                    let branch = if self.truth(c)? { t } else { f };
                    if let Flow::Return(v) = self.stmts(branch)? {
                        return Ok(Flow::Return(v));
                    }
                }
                BStmt::Return(e) => return Ok(Flow::Return(self.eval(e)?)),
            }
        }
        Ok(Flow::Next)
    }

    pub fn truth(&mut self, e: &Expr) -> Result<bool, EvalError> {
        match self.eval(e)? {
            Value::Bool(b) => Ok(b),
            Value::Json(j) if j.is_boolean() => Ok(j.as_bool().unwrap_or(false)),
            v => fail(format!("a condition must be a bool, found {}", v.ty().name())),
        }
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                match std::str::from_utf8(&b[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn num_pair(x: &Value, y: &Value) -> Option<(f64, f64)> {
    Some((x.as_f64()?, y.as_f64()?))
}

pub fn equals(x: &Value, y: &Value) -> bool {
    match (x, y) {
        (Value::Null, Value::Null) => true,
        (Value::Null, _) | (_, Value::Null) => false,
        (Value::Str(a), Value::Str(b)) => a == b,
        (Value::Bool(a), Value::Bool(b)) => a == b,
        (Value::Int(a), Value::Int(b)) => a == b,
        (Value::Json(_), other) | (other, Value::Json(_)) if other.as_str().is_some() => x.to_text() == y.to_text(),
        _ => match num_pair(x, y) {
            Some((a, b)) => a == b,
            None => false,
        },
    }
}

fn binary(op: BinOp, x: Value, y: Value) -> Result<Value, EvalError> {
    use BinOp::*;
    let x = unwrap_json(x);
    let y = unwrap_json(y);
    match op {
        Eq => return Ok(Value::Bool(equals(&x, &y))),
        Ne => return Ok(Value::Bool(!equals(&x, &y))),
        Add if matches!(x, Value::Str(_)) || matches!(y, Value::Str(_)) => {
            let mut s = x.to_text();
            y.write_text(&mut s);
            return Ok(Value::str(&s));
        }
        _ => {}
    }
    // C#'s lifted operators on `int?`/`double?`: a null operand makes arithmetic null and
    // comparisons false (`jwt?.Claims…Length > 3` with no token).
    if x.is_null() || y.is_null() {
        return Ok(if matches!(op, Lt | Le | Gt | Ge) { Value::Bool(false) } else { Value::Null });
    }
    if let (Value::Int(a), Value::Int(b)) = (&x, &y) {
        let (a, b) = (*a, *b);
        let r = match op {
            Add => a.checked_add(b),
            Sub => a.checked_sub(b),
            Mul => a.checked_mul(b),
            Div if b == 0 => return fail("division by zero"),
            Div => a.checked_div(b),
            Rem if b == 0 => return fail("division by zero"),
            Rem => a.checked_rem(b),
            Lt => return Ok(Value::Bool(a < b)),
            Le => return Ok(Value::Bool(a <= b)),
            Gt => return Ok(Value::Bool(a > b)),
            Ge => return Ok(Value::Bool(a >= b)),
            Eq | Ne => None,
        };
        return r.map(Value::Int).ok_or_else(|| EvalError("arithmetic overflow".into()));
    }
    let Some((a, b)) = num_pair(&x, &y) else {
        return fail(format!("operator {op:?} cannot be applied to {} and {}", x.ty().name(), y.ty().name()));
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
        Eq | Ne => Value::Null,
    })
}

/// JSON scalars behave like the matching C# values in operators.
fn unwrap_json(v: Value) -> Value {
    match &v {
        Value::Json(j) if !j.is_object() && !j.is_array() => from_json(j),
        _ => v,
    }
}

pub fn cast(t: Ty, v: Value) -> Result<Value, EvalError> {
    let v = unwrap_json(v);
    let bad =
        |v: &Value| EvalError(format!("Unable to cast object of type '{}' to type '{}'", v.ty().name(), t.name()));
    if t == Ty::Any || (v.is_null() && matches!(t, Ty::Str | Ty::Json)) {
        return Ok(v);
    }
    match (t, &v) {
        (Ty::Str, Value::Str(_)) => Ok(v),
        (Ty::Int, Value::Int(_)) => Ok(v),
        (Ty::Int, Value::Double(d)) if d.is_finite() && d.abs() < 9.2e18 => Ok(Value::Int(*d as i64)),
        (Ty::Double, Value::Int(n)) => Ok(Value::Double(*n as f64)),
        (Ty::Double, Value::Double(_)) => Ok(v),
        (Ty::Bool, Value::Bool(_)) => Ok(v),
        (Ty::Json, Value::Json(_)) => Ok(v),
        (Ty::Json, _) => Ok(v),
        _ => Err(bad(&v)),
    }
}

fn index_value(r: Value, i: Value) -> Result<Value, EvalError> {
    match (&r, &i) {
        (Value::Array(a), Value::Int(n)) => usize::try_from(*n)
            .ok()
            .and_then(|n| a.get(n))
            .cloned()
            .ok_or_else(|| EvalError(format!("index {n} is outside the array (length {})", a.len()))),
        (Value::Str(s), Value::Int(n)) => usize::try_from(*n)
            .ok()
            .and_then(|n| s.chars().nth(n))
            .map(|c| Value::str(c.encode_utf8(&mut [0u8; 4])))
            .ok_or_else(|| EvalError(format!("index {n} is outside the string"))),
        (Value::Claims(j), Value::Str(n)) => match j.claim(n) {
            Some(v) => Ok(Value::Array(v.iter().map(|s| Value::str(s)).collect::<Vec<_>>().into())),
            None => fail(format!("the claim '{n}' was not found")),
        },
        (Value::Json(j), Value::Str(n)) => Ok(match j.get(&**n) {
            Some(x) => Value::Json(Arc::new(x.clone())),
            None => Value::Null,
        }),
        (Value::Json(j), Value::Int(n)) => Ok(match usize::try_from(*n).ok().and_then(|n| j.get(n)) {
            Some(x) => Value::Json(Arc::new(x.clone())),
            None => Value::Null,
        }),
        _ => fail(format!("{} cannot be indexed by {}", r.ty().name(), i.ty().name())),
    }
}
