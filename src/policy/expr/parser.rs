//! Recursive-descent parser for the C# subset: tokens → [`Ast`].
//!
//! Depth is bounded ([`MAX_DEPTH`]): expressions come from configuration documents that a
//! hostile or broken control plane may send, and the loader must never overflow its stack.
//! Operator chains (`a + b + …`, `x.F().G()…`, `x[0][1]…`) are parsed in loops but build
//! left-deep trees that compiling, evaluating and dropping walk recursively, so their links
//! are bounded too ([`MAX_LINKS`] per statement or expression).

use super::lexer::{lex, Piece, Tok, Token};
use super::ExprError;

pub const MAX_DEPTH: usize = 100;
/// Binary operators, member accesses, calls and indexers in one expression (or statement).
/// Compiling a link takes several KiB of stack in a debug build: 150 links, with the deepest
/// nesting besides, fit a 2 MiB thread (the control thread's) with room to spare. A longer
/// expression is refused with a message; splitting it into `var` statements avoids the limit.
pub const MAX_LINKS: usize = 150;

#[derive(Clone, Debug, PartialEq)]
pub enum Lit {
    Null,
    Bool(bool),
    Int(i64),
    Double(f64),
    Str(String),
}

#[derive(Clone, Debug)]
pub struct Arg {
    pub name: Option<String>,
    pub value: Ast,
}

#[derive(Clone, Debug)]
pub enum AstKind {
    Lit(Lit),
    Ident(String),
    /// `recv.name` (`?.` when `nullc`).
    Member {
        recv: Box<Ast>,
        name: String,
        nullc: bool,
    },
    /// `callee(args)`; `callee` is an `Ident` or a `Member`; `generic` is `<T>`.
    Call {
        callee: Box<Ast>,
        generic: Option<String>,
        args: Vec<Arg>,
    },
    Index {
        recv: Box<Ast>,
        index: Box<Ast>,
        nullc: bool,
    },
    Unary {
        op: &'static str,
        e: Box<Ast>,
    },
    Binary {
        op: &'static str,
        l: Box<Ast>,
        r: Box<Ast>,
    },
    Cond {
        c: Box<Ast>,
        t: Box<Ast>,
        f: Box<Ast>,
    },
    Cast {
        ty: String,
        e: Box<Ast>,
    },
    Interp(Vec<Ast>),
}

#[derive(Clone, Debug)]
pub struct Ast {
    pub kind: AstKind,
    pub pos: usize,
}

#[derive(Clone, Debug)]
pub enum Stmt {
    /// `var x = e;` / `string x = e;` (the declared type when not `var`).
    Decl {
        name: String,
        ty: Option<String>,
        init: Ast,
        pos: usize,
    },
    Assign {
        name: String,
        value: Ast,
        pos: usize,
    },
    If {
        cond: Ast,
        then: Vec<Stmt>,
        els: Vec<Stmt>,
    },
    Return(Ast),
}

const TYPE_NAMES: [&str; 7] = ["string", "int", "bool", "double", "long", "object", "var"];
pub const CAST_TYPES: [&str; 5] = ["string", "int", "bool", "double", "long"];

struct Parser {
    toks: Vec<Token>,
    i: usize,
    depth: usize,
    /// Chain links in the current expression or statement (see [`MAX_LINKS`]).
    links: usize,
}

fn err(pos: usize, m: impl Into<String>) -> ExprError {
    ExprError::new(pos, m)
}

impl Parser {
    fn peek(&self) -> &Tok {
        self.toks.get(self.i).map_or(&Tok::Eof, |t| &t.tok)
    }
    fn peek_at(&self, k: usize) -> &Tok {
        self.toks.get(self.i + k).map_or(&Tok::Eof, |t| &t.tok)
    }
    fn pos(&self) -> usize {
        self.toks.get(self.i).or(self.toks.last()).map_or(0, |t| t.pos)
    }
    fn bump(&mut self) -> Tok {
        let t = self.peek().clone();
        self.i += 1;
        t
    }
    fn is(&self, p: &str) -> bool {
        matches!(self.peek(), Tok::Punct(q) if *q == p)
    }
    fn eat(&mut self, p: &str) -> bool {
        if self.is(p) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn expect(&mut self, p: &str) -> Result<(), ExprError> {
        if self.eat(p) {
            Ok(())
        } else {
            Err(err(self.pos(), format!("expected '{p}', found {}", describe(self.peek()))))
        }
    }
    fn enter(&mut self) -> Result<(), ExprError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(err(self.pos(), "expression nested too deeply"));
        }
        Ok(())
    }

    /// One more link in an operator chain.
    fn link(&mut self, pos: usize) -> Result<(), ExprError> {
        self.links += 1;
        if self.links > MAX_LINKS {
            return Err(err(
                pos,
                format!("expression too long (more than {MAX_LINKS} operators, calls and member accesses)"),
            ));
        }
        Ok(())
    }

    fn expr(&mut self) -> Result<Ast, ExprError> {
        self.enter()?;
        let r = self.conditional();
        self.depth -= 1;
        r
    }

    fn conditional(&mut self) -> Result<Ast, ExprError> {
        let c = self.coalesce()?;
        if self.is("?") {
            let pos = self.pos();
            self.i += 1;
            let t = self.expr()?;
            self.expect(":")?;
            let f = self.expr()?;
            return Ok(Ast { kind: AstKind::Cond { c: Box::new(c), t: Box::new(t), f: Box::new(f) }, pos });
        }
        Ok(c)
    }

    fn coalesce(&mut self) -> Result<Ast, ExprError> {
        let l = self.binary(0)?;
        if self.is("??") {
            let pos = self.pos();
            self.i += 1;
            self.enter()?;
            let r = self.coalesce();
            self.depth -= 1;
            let r = r?;
            return Ok(Ast { kind: AstKind::Binary { op: "??", l: Box::new(l), r: Box::new(r) }, pos });
        }
        Ok(l)
    }

    fn binary(&mut self, level: usize) -> Result<Ast, ExprError> {
        const LEVELS: [&[&str]; 6] =
            [&["||"], &["&&"], &["==", "!="], &["<", "<=", ">", ">="], &["+", "-"], &["*", "/", "%"]];
        let Some(ops) = LEVELS.get(level) else { return self.unary() };
        let mut l = self.binary(level + 1)?;
        loop {
            let op = match self.peek() {
                Tok::Punct(p) if ops.contains(p) => *p,
                _ => return Ok(l),
            };
            let pos = self.pos();
            self.link(pos)?;
            self.i += 1;
            let r = self.binary(level + 1)?;
            l = Ast { kind: AstKind::Binary { op, l: Box::new(l), r: Box::new(r) }, pos };
        }
    }

    fn unary(&mut self) -> Result<Ast, ExprError> {
        self.enter()?;
        let r = self.unary_inner();
        self.depth -= 1;
        r
    }

    fn unary_inner(&mut self) -> Result<Ast, ExprError> {
        let pos = self.pos();
        for op in ["!", "-", "+"] {
            if self.eat(op) {
                let e = self.unary()?;
                return Ok(Ast { kind: AstKind::Unary { op, e: Box::new(e) }, pos });
            }
        }
        if self.is("++") || self.is("--") {
            return Err(err(pos, "increment and decrement operators are not supported"));
        }
        // A cast: '(' type ')' followed by something that starts an operand.
        if self.is("(") {
            if let (Tok::Ident(ty), Tok::Punct(")")) = (self.peek_at(1), self.peek_at(2)) {
                let starts_operand = matches!(
                    self.peek_at(3),
                    Tok::Ident(_) | Tok::Int(_) | Tok::Double(_) | Tok::Str(_) | Tok::Char(_) | Tok::Interp(_)
                ) || matches!(self.peek_at(3), Tok::Punct("(") | Tok::Punct("!"));
                if starts_operand && is_type_like(ty) {
                    let ty = ty.clone();
                    if !CAST_TYPES.contains(&ty.as_str()) {
                        return Err(err(pos, format!("cast to '{ty}' is not supported")));
                    }
                    self.i += 3;
                    let e = self.unary()?;
                    return Ok(Ast { kind: AstKind::Cast { ty, e: Box::new(e) }, pos });
                }
            }
        }
        let prim = self.primary()?;
        self.postfix(prim)
    }

    fn primary(&mut self) -> Result<Ast, ExprError> {
        let pos = self.pos();
        let kind = match self.bump() {
            Tok::Int(n) => AstKind::Lit(Lit::Int(n)),
            Tok::Double(d) => AstKind::Lit(Lit::Double(d)),
            Tok::Str(s) => AstKind::Lit(Lit::Str(s)),
            Tok::Char(c) => AstKind::Lit(Lit::Str(c.to_string())),
            Tok::Interp(pieces) => {
                let mut parts = Vec::new();
                for p in pieces {
                    match p {
                        Piece::Lit(s) => parts.push(Ast { kind: AstKind::Lit(Lit::Str(s)), pos }),
                        Piece::Hole(src, at) => {
                            self.enter()?;
                            let (e, links) = parse_expr_at(&src, at, self.depth, self.links)?;
                            self.links = links;
                            self.depth -= 1;
                            parts.push(e);
                        }
                    }
                }
                AstKind::Interp(parts)
            }
            Tok::Ident(id) => match id.as_str() {
                "true" => AstKind::Lit(Lit::Bool(true)),
                "false" => AstKind::Lit(Lit::Bool(false)),
                "null" => AstKind::Lit(Lit::Null),
                "new" | "typeof" | "nameof" | "default" | "await" | "throw" | "is" | "as" | "checked" => {
                    return Err(err(pos, format!("'{id}' is not supported in policy expressions")))
                }
                _ => AstKind::Ident(id),
            },
            Tok::Punct("(") => {
                let e = self.expr()?;
                self.expect(")")?;
                return Ok(e);
            }
            t => return Err(err(pos, format!("expected an expression, found {}", describe(&t)))),
        };
        Ok(Ast { kind, pos })
    }

    fn postfix(&mut self, mut e: Ast) -> Result<Ast, ExprError> {
        let mut chain_nullc = false;
        loop {
            let pos = self.pos();
            if self.is(".")
                || self.is("?.")
                || self.is("(")
                || self.is("[")
                || (self.is("?") && matches!(self.peek_at(1), Tok::Punct("[")))
            {
                self.link(pos)?;
            }
            if self.is(".") || self.is("?.") {
                let nullc = self.is("?.") || chain_nullc;
                chain_nullc = nullc;
                self.i += 1;
                let name = match self.bump() {
                    Tok::Ident(n) => n,
                    t => return Err(err(pos, format!("expected a member name, found {}", describe(&t)))),
                };
                e = Ast { kind: AstKind::Member { recv: Box::new(e), name, nullc }, pos };
                // Generic call: Name<T>(…)
                if self.is("<") {
                    if let (Tok::Ident(t), Tok::Punct(">"), Tok::Punct("(")) =
                        (self.peek_at(1), self.peek_at(2), self.peek_at(3))
                    {
                        let generic = Some(t.clone());
                        self.i += 4;
                        let args = self.args()?;
                        e = Ast { kind: AstKind::Call { callee: Box::new(e), generic, args }, pos };
                    }
                }
            } else if self.is("(") {
                if !matches!(e.kind, AstKind::Member { .. } | AstKind::Ident(_)) {
                    return Err(err(pos, "only methods can be called"));
                }
                self.i += 1;
                let args = self.args()?;
                e = Ast { kind: AstKind::Call { callee: Box::new(e), generic: None, args }, pos };
            } else if self.is("[") || (self.is("?") && matches!(self.peek_at(1), Tok::Punct("["))) {
                let nullc = self.is("?") || chain_nullc;
                chain_nullc = nullc;
                self.i += if self.is("?") { 2 } else { 1 };
                let index = self.expr()?;
                self.expect("]")?;
                e = Ast { kind: AstKind::Index { recv: Box::new(e), index: Box::new(index), nullc }, pos };
            } else if self.is("=>") {
                return Err(err(pos, "lambda expressions are not supported"));
            } else if self.is("++") || self.is("--") {
                return Err(err(pos, "increment and decrement operators are not supported"));
            } else {
                return Ok(e);
            }
        }
    }

    /// Arguments after '(' through ')'.
    fn args(&mut self) -> Result<Vec<Arg>, ExprError> {
        let mut args = Vec::new();
        if self.eat(")") {
            return Ok(args);
        }
        loop {
            let name = match (self.peek(), self.peek_at(1)) {
                (Tok::Ident(n), Tok::Punct(":")) => {
                    let n = n.clone();
                    self.i += 2;
                    Some(n)
                }
                (Tok::Ident(n), Tok::Ident(_)) if n == "out" || n == "ref" => {
                    return Err(err(self.pos(), format!("'{n}' arguments are not supported")))
                }
                _ => None,
            };
            let value = self.expr()?;
            args.push(Arg { name, value });
            if self.eat(")") {
                return Ok(args);
            }
            self.expect(",")?;
        }
    }

    fn block(&mut self) -> Result<Vec<Stmt>, ExprError> {
        self.enter()?;
        let mut out = Vec::new();
        while !self.is("}") {
            if matches!(self.peek(), Tok::Eof) {
                return Err(err(self.pos(), "expected '}'"));
            }
            out.push(self.statement()?);
        }
        self.i += 1;
        self.depth -= 1;
        Ok(out)
    }

    fn body(&mut self) -> Result<Vec<Stmt>, ExprError> {
        if self.eat("{") {
            self.block()
        } else {
            self.enter()?;
            let s = self.statement()?;
            self.depth -= 1;
            Ok(vec![s])
        }
    }

    fn statement(&mut self) -> Result<Stmt, ExprError> {
        let pos = self.pos();
        self.links = 0;
        match (self.peek().clone(), self.peek_at(1).clone()) {
            (Tok::Ident(k), _) if k == "return" => {
                self.i += 1;
                let e = self.expr()?;
                self.expect(";")?;
                Ok(Stmt::Return(e))
            }
            (Tok::Ident(k), Tok::Punct("(")) if k == "if" => {
                self.i += 2;
                let cond = self.expr()?;
                self.expect(")")?;
                let then = self.body()?;
                let els = if matches!(self.peek(), Tok::Ident(k) if k == "else") {
                    self.i += 1;
                    self.body()?
                } else {
                    Vec::new()
                };
                Ok(Stmt::If { cond, then, els })
            }
            (Tok::Ident(ty), Tok::Ident(name)) if TYPE_NAMES.contains(&ty.as_str()) => {
                self.i += 2;
                self.expect("=")?;
                let init = self.expr()?;
                self.expect(";")?;
                let ty = (ty != "var").then_some(ty);
                Ok(Stmt::Decl { name, ty, init, pos })
            }
            (Tok::Ident(name), Tok::Punct("=")) => {
                self.i += 2;
                let value = self.expr()?;
                self.expect(";")?;
                Ok(Stmt::Assign { name, value, pos })
            }
            (Tok::Ident(k), _) if matches!(k.as_str(), "for" | "foreach" | "while" | "do" | "switch" | "try") => {
                Err(err(pos, format!("'{k}' statements are not supported (use var, if/else and return)")))
            }
            (Tok::Ident(ty), Tok::Ident(_)) => Err(err(pos, format!("declarations of type '{ty}' are not supported"))),
            _ => Err(err(pos, "expected a statement (var, if, return or an assignment)")),
        }
    }
}

fn is_type_like(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_lowercase()) && TYPE_NAMES.contains(&s)
        || s.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            && matches!(s, "JObject" | "JArray" | "JToken" | "String" | "Int32" | "Int64" | "Boolean" | "Double")
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Ident(s) => format!("'{s}'"),
        Tok::Int(n) => format!("'{n}'"),
        Tok::Double(d) => format!("'{d}'"),
        Tok::Str(_) | Tok::Interp(_) => "a string".into(),
        Tok::Char(c) => format!("'{c}'"),
        Tok::Punct(p) => format!("'{p}'"),
        Tok::Eof => "the end of the expression".into(),
    }
}

/// Parses `src` as one expression at nesting `depth` with `links` already used; returns the
/// tree and the links used in all.
fn parse_expr_at(src: &str, base: usize, depth: usize, links: usize) -> Result<(Ast, usize), ExprError> {
    let mut p = Parser { toks: lex(src, base)?, i: 0, depth, links };
    let e = p.expr()?;
    if !matches!(p.peek(), Tok::Eof) {
        return Err(err(p.pos(), format!("unexpected {} after the expression", describe(p.peek()))));
    }
    Ok((e, p.links))
}

/// Parses the inside of `@( … )`; `base` is the offset of `src` in the attribute or text.
pub fn parse_expression(src: &str, base: usize) -> Result<Ast, ExprError> {
    parse_expr_at(src, base, 0, 0).map(|(e, _)| e)
}

/// Parses the inside of `@{ … }`.
pub fn parse_block(src: &str, base: usize) -> Result<Vec<Stmt>, ExprError> {
    let mut p = Parser { toks: lex(src, base)?, i: 0, depth: 0, links: 0 };
    let mut out = Vec::new();
    while !matches!(p.peek(), Tok::Eof) {
        out.push(p.statement()?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_and_postfix() {
        let e = parse_expression("a.B(1, x: 2)?.C[0] + 3 * 4 == 15 && !d ? \"y\" : e ?? f", 0).unwrap();
        assert!(matches!(e.kind, AstKind::Cond { .. }));
        let e = parse_expression("(string)context.Variables[\"x\"]", 0).unwrap();
        assert!(matches!(e.kind, AstKind::Cast { .. }));
        let e = parse_expression("context.Request.Body.As<JObject>(preserveContent: true)", 0).unwrap();
        assert!(matches!(e.kind, AstKind::Call { generic: Some(_), .. }));
        let e = parse_expression("(a) + 1", 0).unwrap();
        assert!(matches!(e.kind, AstKind::Binary { .. }));
    }

    #[test]
    fn blocks() {
        let b =
            parse_block("var a = 1; string b = \"x\"; if (a > 0) { b = \"y\"; } else return b; return b;", 0).unwrap();
        assert_eq!(b.len(), 4);
        assert!(parse_block("for (;;) {}", 0).unwrap_err().message.contains("for"));
    }

    #[test]
    fn rejections_with_positions() {
        let e = parse_expression("a + new JObject()", 0).unwrap_err();
        assert_eq!(e.pos, 4);
        assert!(parse_expression("x => x", 0).is_err());
        assert!(parse_expression("(Foo)x", 0).is_err() || parse_expression("(Foo)x", 0).is_ok());
        assert!(parse_expression("(JObject)x", 0).unwrap_err().message.contains("JObject"));
        let deep = "(".repeat(500) + "1" + &")".repeat(500);
        assert!(parse_expression(&deep, 0).unwrap_err().message.contains("deeply"));
        let deep = "!".repeat(500) + "a";
        assert!(parse_expression(&deep, 0).is_err());
    }
}
