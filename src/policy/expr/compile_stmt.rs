//! Statements of `@{ … }` blocks → [`BStmt`]: scopes, loops, `try`/`catch`, `switch`, and
//! C#'s rule that every path of a value-returning block ends in `return` or `throw`.

use super::compile::{assignable, err, Compiler, R};
use super::members::elem_ty;
use super::parser::{Ast, Stmt};
use super::program::*;
use super::types;
use super::value::{Ty, Value};
use super::ExprError;

impl Compiler {
    fn cond(&mut self, c: &Ast, what: &str) -> Result<Expr, ExprError> {
        let (e, t) = self.expr(c)?;
        if !matches!(t, Ty::Bool | Ty::Any | Ty::Json) {
            return err(c.pos, format!("{what} must be a bool, found {}", t.name()));
        }
        Ok(e)
    }

    /// Statements in a new scope.
    pub(crate) fn stmts(&mut self, stmts: &[Stmt]) -> Result<Vec<BStmt>, ExprError> {
        let scope = self.locals.len();
        let mut out = Vec::with_capacity(stmts.len());
        for s in stmts {
            if let Some(b) = self.stmt(s)? {
                out.push(b);
            }
        }
        self.locals.truncate(scope);
        Ok(out)
    }

    fn in_loop(&mut self, body: &[Stmt]) -> Result<Vec<BStmt>, ExprError> {
        self.loops += 1;
        let r = self.stmts(body);
        self.loops -= 1;
        r
    }

    fn stmt(&mut self, s: &Stmt) -> Result<Option<BStmt>, ExprError> {
        Ok(Some(match s {
            Stmt::Empty => return Ok(None),
            Stmt::Decl { ty, name, init, pos } => {
                let (e, ety) = match init {
                    Some(i) => {
                        let (e, t) = self.expr(i)?;
                        (Some(e), t)
                    }
                    None => (None, Ty::Null),
                };
                let declared = match ty {
                    Some(t) => {
                        let d = types::resolve(t)?.ty;
                        let null_ok = t.nullable && ety == Ty::Null;
                        if init.is_some() && !assignable(ety, d) && !null_ok {
                            return err(
                                *pos,
                                format!("cannot implicitly convert type {} to {}", ety.name(), t.display()),
                            );
                        }
                        d
                    }
                    None => {
                        if init.is_none() {
                            return err(*pos, "implicitly-typed variables must be initialized");
                        }
                        if ety == Ty::Null {
                            return err(*pos, "cannot assign null to an implicitly-typed variable");
                        }
                        ety
                    }
                };
                let slot = self.declare(name, declared, *pos)?;
                let e = e.map(|e| super::compile::coerce(e, ety, declared));
                let init = e.unwrap_or(match declared {
                    Ty::Int | Ty::Long => Expr::Const(Value::Int(0)),
                    Ty::Double => Expr::Const(Value::Double(0.0)),
                    Ty::Bool => Expr::Const(Value::Bool(false)),
                    _ => Expr::Const(Value::Null),
                });
                BStmt::Set(slot, init)
            }
            Stmt::Expr(e) => BStmt::Expr(self.expr(e)?.0),
            Stmt::If { cond, then, els } => {
                let c = self.cond(cond, "an if condition")?;
                BStmt::If(c, self.stmts(then)?, self.stmts(els)?)
            }
            Stmt::Return(e) => BStmt::Return(self.expr(e)?.0),
            Stmt::While { cond, body } => {
                let c = self.cond(cond, "a while condition")?;
                BStmt::While(c, self.in_loop(body)?)
            }
            Stmt::Do { body, cond } => {
                let b = self.in_loop(body)?;
                BStmt::Do(b, self.cond(cond, "a do-while condition")?)
            }
            Stmt::For { init, cond, step, body } => {
                let scope = self.locals.len();
                let mut i = Vec::with_capacity(init.len());
                for s in init {
                    if let Some(b) = self.stmt(s)? {
                        i.push(b);
                    }
                }
                let c = match cond {
                    Some(c) => Some(self.cond(c, "a for condition")?),
                    None => None,
                };
                let mut st = Vec::with_capacity(step.len());
                for e in step {
                    st.push(self.expr(e)?.0);
                }
                let b = self.in_loop(body)?;
                self.locals.truncate(scope);
                BStmt::For(i, c, st, b)
            }
            Stmt::Foreach { ty, name, iter, body, pos } => {
                let (it, ity) = self.expr(iter)?;
                if !ity.enumerable() && !matches!(ity, Ty::Json | Ty::Any) {
                    return err(iter.pos, format!("foreach cannot operate on a value of type {}", ity.name()));
                }
                let ety = match ty {
                    Some(t) => types::resolve(t)?.ty,
                    None => elem_ty(ity),
                };
                let scope = self.locals.len();
                let slot = self.declare(name, ety, *pos)?;
                let b = self.in_loop(body)?;
                self.locals.truncate(scope);
                BStmt::Foreach(slot, it, b)
            }
            Stmt::Break(pos) => {
                if self.loops == 0 && self.switches == 0 {
                    return err(*pos, "no enclosing loop or switch out of which to break");
                }
                BStmt::Break
            }
            Stmt::Continue(pos) => {
                if self.loops == 0 {
                    return err(*pos, "no enclosing loop out of which to continue");
                }
                BStmt::Continue
            }
            Stmt::Block(b) => BStmt::Block(self.stmts(b)?),
            Stmt::Try { body, catches, finally } => {
                let b = self.stmts(body)?;
                let mut cs = Vec::with_capacity(catches.len());
                for c in catches {
                    let ty = match &c.ty {
                        Some(t) => {
                            let short = types::strip_namespace(&t.name).unwrap_or("");
                            Some(types::exception_type(short).ok_or_else(|| types::refuse_type(t, "exception type"))?)
                        }
                        None => None,
                    };
                    let scope = self.locals.len();
                    // Every catch gets a slot for `throw;`, named or not.
                    let slot = match &c.name {
                        Some(n) => self.declare(n, Ty::Exception, c.pos)?,
                        None => self.declare(&format!("<catch{}>", self.next_slot), Ty::Exception, c.pos)?,
                    };
                    let when = match &c.when {
                        Some(w) => Some(self.cond(w, "a catch filter")?),
                        None => None,
                    };
                    self.catches.push(slot);
                    let body = self.stmts(&c.body);
                    self.catches.pop();
                    let body = body?;
                    self.locals.truncate(scope);
                    cs.push(CatchC {
                        ty: ty.or(Some("Exception")).filter(|t| *t != "Exception"),
                        slot: Some(slot),
                        when,
                        body,
                    });
                }
                let f = match finally {
                    Some(f) => Some(self.stmts(f)?),
                    None => None,
                };
                BStmt::Try(b, cs, f)
            }
            Stmt::Throw(e, pos) => match e {
                Some(e) => {
                    let (x, t) = self.expr(e)?;
                    if !matches!(t, Ty::Exception | Ty::Any) {
                        return err(*pos, format!("only exceptions can be thrown, found {}", t.name()));
                    }
                    BStmt::Throw(Some(x))
                }
                None => match self.catches.last() {
                    Some(slot) => BStmt::Throw(Some(Expr::Local(*slot))),
                    None => {
                        return err(
                            *pos,
                            "a throw statement with no arguments is not allowed outside of a catch clause",
                        )
                    }
                },
            },
            Stmt::Switch { e, sections, pos } => {
                let (x, xt) = self.expr(e)?;
                let mut out = Vec::with_capacity(sections.len());
                self.switches += 1;
                for (k, sec) in sections.iter().enumerate() {
                    let mut labels = Vec::with_capacity(sec.labels.len());
                    for l in &sec.labels {
                        labels.push(match l {
                            Some(l) => {
                                let (v, t) = self.expr(l)?;
                                if !matches!(v, Expr::Const(_)) {
                                    return err(l.pos, "a case label must be a constant");
                                }
                                if !(assignable(t, xt) || t.numeric() && xt.numeric()) {
                                    return err(
                                        l.pos,
                                        format!("a case label of type {} cannot match a {}", t.name(), xt.name()),
                                    );
                                }
                                Some(v)
                            }
                            None => None,
                        });
                    }
                    let body = self.stmts(&sec.body)?;
                    if k + 1 < sections.len() && !ends_flow(&sec.body) {
                        self.switches -= 1;
                        return err(*pos, "control cannot fall through from one case label to another (end each section with break, return or throw)");
                    }
                    out.push((labels, body));
                }
                self.switches -= 1;
                BStmt::Switch(x, out)
            }
        }))
    }

    pub fn block(&mut self, stmts: &[Stmt], pos: usize) -> R {
        if !always_returns(stmts) {
            return err(pos, "not all code paths return a value (a policy expression block must end with return)");
        }
        let body = self.stmts(stmts)?;
        Ok((Expr::Block(Box::new(Block { slots: self.next_slot, body })), Ty::Any))
    }
}

/// A switch section ends without falling through.
fn ends_flow(stmts: &[Stmt]) -> bool {
    match stmts.last() {
        Some(Stmt::Break(_) | Stmt::Continue(_) | Stmt::Return(_) | Stmt::Throw(..)) => true,
        Some(Stmt::Block(b)) => ends_flow(b),
        Some(Stmt::If { then, els, .. }) => ends_flow(then) && ends_flow(els),
        _ => false,
    }
}

/// Every path through the statements ends in `return` or `throw` (C#'s rule for a
/// value-returning block; `while (true)` without `break` never ends normally).
fn always_returns(stmts: &[Stmt]) -> bool {
    match stmts.last() {
        Some(Stmt::Return(_) | Stmt::Throw(..)) => true,
        Some(Stmt::Block(b)) => always_returns(b),
        Some(Stmt::If { then, els, .. }) => always_returns(then) && always_returns(els),
        Some(Stmt::Try { body, catches, finally }) => {
            finally.as_ref().is_some_and(|f| always_returns(f))
                || (always_returns(body) && catches.iter().all(|c| always_returns(&c.body)))
        }
        Some(Stmt::Switch { sections, .. }) => {
            sections.iter().any(|s| s.labels.iter().any(Option::is_none))
                && sections.iter().all(|s| always_returns(&s.body) || ends_in_throw_or_return_only(&s.body))
        }
        Some(Stmt::While { cond, body }) | Some(Stmt::Do { body, cond }) => is_true(cond) && !has_break(body),
        Some(Stmt::For { cond: None, body, .. }) => !has_break(body),
        _ => false,
    }
}

fn ends_in_throw_or_return_only(stmts: &[Stmt]) -> bool {
    always_returns(stmts)
}

fn is_true(c: &Ast) -> bool {
    matches!(c.kind, super::parser::AstKind::Lit(super::parser::Lit::Bool(true)))
}

/// A `break` that leaves this loop (not one inside a nested loop or switch).
fn has_break(stmts: &[Stmt]) -> bool {
    stmts.iter().any(|s| match s {
        Stmt::Break(_) => true,
        Stmt::If { then, els, .. } => has_break(then) || has_break(els),
        Stmt::Block(b) => has_break(b),
        Stmt::Try { body, catches, finally } => {
            has_break(body)
                || catches.iter().any(|c| has_break(&c.body))
                || finally.as_ref().is_some_and(|f| has_break(f))
        }
        _ => false,
    })
}
