//! Policy expressions: the C# subset of `@( … )` and `@{ … }`.
//!
//! Pipeline, all at load time: [`lexer`] → [`parser`] (AST, bounded depth) → [`compile`]
//! (resolves `context.*`, methods and types; rejects what the subset does not cover, with the
//! construct and its position) → [`program::Expr`], a typed enum tree. Per request only
//! [`eval`] runs: no parsing, no host access (files, processes, environment, network are not
//! reachable from any node), and every failure is an [`EvalError`], never a panic.

pub mod bind;
pub mod bind_array;
pub mod bind_dto;
pub mod bind_lib;
pub mod bind_uri;
pub mod bind_xml;
pub mod budget;
pub mod compile;
pub mod compile_stmt;
pub mod ctx;
pub mod eval;
pub mod format;
pub mod headers;
pub mod json;
pub mod jsonpath;
pub mod jwt;
pub mod lexer;
pub mod linq;
pub mod members;
pub mod methods;
pub mod parser;
pub mod program;
pub mod props;
pub mod statics;
pub mod strings;
pub mod types;
pub mod value;
pub mod xml;

use std::sync::Arc;

pub use program::{Expr, Uses};
pub use value::{Ty, Value};

use super::runtime::PolicyContext;
use super::xml::Src;

/// A load-time problem in an expression; `pos` is a byte offset in the expression's source.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ExprError {
    pub pos: usize,
    pub message: String,
}

impl ExprError {
    pub fn new(pos: usize, message: impl Into<String>) -> ExprError {
        ExprError { pos, message: message.into() }
    }
}

/// A runtime failure (becomes `ExpressionValueEvaluationFailure`): the message and the .NET
/// exception type a `catch` clause matches it by.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct EvalError(pub String, pub &'static str);

impl EvalError {
    /// A failure of .NET type `Exception` (caught by `catch (Exception)`).
    pub fn new(m: impl Into<String>) -> EvalError {
        EvalError(m.into(), "Exception")
    }
    pub fn of(exception: &'static str, m: impl Into<String>) -> EvalError {
        EvalError(m.into(), exception)
    }
    /// A budget ran out: no `catch` stops it, the evaluation ends.
    pub fn budget(m: impl Into<String>) -> EvalError {
        EvalError(m.into(), BUDGET)
    }
    pub fn is_budget(&self) -> bool {
        self.1 == BUDGET
    }
}

/// The exception type of budget failures (not a .NET type, so nothing catches it).
pub const BUDGET: &str = "<budget>";

/// A compiled expression with its static type and what it reads.
#[derive(Clone, Debug)]
pub struct Program {
    pub expr: Expr,
    pub ty: Ty,
    pub uses: Uses,
}

impl Program {
    pub fn eval(&self, ctx: &PolicyContext<'_>) -> Result<Value, EvalError> {
        eval::Eval::new(ctx).run(&self.expr)
    }
}

/// An attribute or text value: a literal, or an expression evaluated per request.
#[derive(Clone, Debug)]
pub enum Dyn {
    Lit(Arc<str>),
    Expr(Box<Program>),
}

impl Dyn {
    pub fn lit(s: &str) -> Dyn {
        Dyn::Lit(Arc::from(s))
    }

    /// The literal text, when the value is not an expression.
    pub fn as_lit(&self) -> Option<&str> {
        match self {
            Dyn::Lit(s) => Some(s),
            Dyn::Expr(_) => None,
        }
    }

    pub fn uses(&self) -> Uses {
        match self {
            Dyn::Lit(_) => Uses::default(),
            Dyn::Expr(p) => p.uses,
        }
    }

    pub fn ty(&self) -> Ty {
        match self {
            Dyn::Lit(_) => Ty::Str,
            Dyn::Expr(p) => p.ty,
        }
    }

    pub fn eval(&self, ctx: &PolicyContext<'_>) -> Result<Value, EvalError> {
        match self {
            Dyn::Lit(s) => Ok(Value::Str(s.clone())),
            Dyn::Expr(p) => p.eval(ctx),
        }
    }

    /// The value as text (`ToString()` of the result; null is "").
    pub fn text(&self, ctx: &PolicyContext<'_>) -> Result<String, EvalError> {
        match self {
            Dyn::Lit(s) => Ok(s.to_string()),
            Dyn::Expr(p) => Ok(p.eval(ctx)?.to_text()),
        }
    }

    /// The value as a bool (`"true"`/`"false"` literals, or a bool expression).
    pub fn truth(&self, ctx: &PolicyContext<'_>) -> Result<bool, EvalError> {
        match self {
            Dyn::Lit(s) => match s.trim() {
                t if t.eq_ignore_ascii_case("true") => Ok(true),
                t if t.eq_ignore_ascii_case("false") => Ok(false),
                t => Err(EvalError::new(format!("'{t}' is not a bool"))),
            },
            Dyn::Expr(p) => eval::Eval::new(ctx).truth(&p.expr),
        }
    }
}

/// Compiles the inside of `@( … )` (`inner` starts right after `@(`, at offset `base`).
pub fn compile_expression(inner: &str, base: usize) -> Result<Program, ExprError> {
    let ast = parser::parse_expression(inner, base)?;
    let mut c = compile::Compiler::new();
    let (expr, ty) = c.expr(&ast)?;
    Ok(Program { expr, ty, uses: c.uses })
}

/// Compiles the inside of `@{ … }`.
pub fn compile_block(inner: &str, base: usize) -> Result<Program, ExprError> {
    let stmts = parser::parse_block(inner, base)?;
    let mut c = compile::Compiler::new();
    let (expr, ty) = c.block(&stmts, base)?;
    Ok(Program { expr, ty, uses: c.uses })
}

/// Compiles a value as written in an attribute or element text: an expression when it starts
/// with `@(`/`@{` (after whitespace), else a literal. Errors carry offsets into `src.text`.
pub fn compile_value(src: &Src) -> Result<Dyn, ExprError> {
    let text = src.text.as_str();
    let lead = text.len() - text.trim_start().len();
    let t = text.trim();
    let end = lead + t.len();
    if let Some(rest) = t.strip_prefix("@(") {
        if !rest.ends_with(')') {
            return Err(ExprError::new(lead, "an expression must end with ')'"));
        }
        let inner = &text[lead + 2..end - 1];
        return compile_expression(inner, lead + 2).map(|p| Dyn::Expr(Box::new(p)));
    }
    if let Some(rest) = t.strip_prefix("@{") {
        if !rest.ends_with('}') {
            return Err(ExprError::new(lead, "an expression block must end with '}'"));
        }
        let inner = &text[lead + 2..end - 1];
        return compile_block(inner, lead + 2).map(|p| Dyn::Expr(Box::new(p)));
    }
    Ok(Dyn::Lit(Arc::from(text)))
}

#[cfg(test)]
mod cases;
#[cfg(test)]
mod cases_lib;
#[cfg(test)]
mod tests;
