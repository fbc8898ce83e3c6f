//! Recursive-descent parser for the C# 7 that APIM accepts: tokens → [`Ast`] and [`Stmt`].
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
    Char(char),
    Str(String),
}

/// A type as written: `string`, `System.DateTime`, `List<string>`, `int?`, `byte[]`.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeRef {
    /// The dotted name as written (`System.Text.StringBuilder`).
    pub name: String,
    pub args: Vec<TypeRef>,
    pub array: bool,
    pub nullable: bool,
    pub pos: usize,
}

impl TypeRef {
    /// The name without the namespaces APIM imports (`System.`, `Newtonsoft.Json.Linq.`…).
    pub fn short(&self) -> &str {
        self.name.rsplit('.').next().unwrap_or(&self.name)
    }
    pub fn display(&self) -> String {
        let mut s = self.name.clone();
        if !self.args.is_empty() {
            s.push('<');
            s.push_str(&self.args.iter().map(TypeRef::display).collect::<Vec<_>>().join(", "));
            s.push('>');
        }
        if self.nullable {
            s.push('?');
        }
        if self.array {
            s.push_str("[]");
        }
        s
    }
}

#[derive(Clone, Debug)]
pub struct Arg {
    pub name: Option<String>,
    pub value: Ast,
}

/// What follows `new T(...)`.
#[derive(Clone, Debug)]
pub enum Init {
    /// `{ a, b }` or `{ {k, v}, {k, v} }` (each item's expressions).
    Collection(Vec<Vec<Ast>>),
    /// `{ Name = value }`.
    Object(Vec<(String, Ast)>),
    /// `{ ["k"] = v }`.
    Keyed(Vec<(Ast, Ast)>),
}

#[derive(Clone, Debug)]
pub enum LambdaBody {
    Expr(Box<Ast>),
    Block(Vec<Stmt>),
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
    /// `callee(args)`; `callee` is an `Ident` or a `Member`; `generic` is `<T, …>`.
    Call {
        callee: Box<Ast>,
        generic: Vec<TypeRef>,
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
        ty: TypeRef,
        e: Box<Ast>,
    },
    As {
        e: Box<Ast>,
        ty: TypeRef,
    },
    /// `e is T` / `e is T name`.
    Is {
        e: Box<Ast>,
        ty: TypeRef,
        bind: Option<String>,
    },
    /// `$"…"`: literal parts and holes with their format specifiers.
    Interp(Vec<(Ast, Option<String>)>),
    New {
        ty: TypeRef,
        args: Vec<Arg>,
        init: Option<Init>,
    },
    /// `new T[] { … }`, `new[] { … }`, `new T[n]`.
    NewArray {
        elem: Option<TypeRef>,
        size: Option<Box<Ast>>,
        items: Vec<Ast>,
    },
    Lambda {
        params: Vec<String>,
        body: LambdaBody,
    },
    /// `target = value` and compound forms (`op` is `+` for `+=`…, `??` for `??=`).
    Assign {
        target: Box<Ast>,
        op: Option<&'static str>,
        value: Box<Ast>,
    },
    IncDec {
        target: Box<Ast>,
        inc: bool,
        prefix: bool,
    },
    /// `out var x` / `out T x` (declares) and `out x` (an existing local).
    Out {
        name: String,
        declare: Option<Option<TypeRef>>,
    },
    /// `throw e` as an expression (`x ?? throw new …`).
    Throw(Box<Ast>),
    /// `default(T)`.
    Default(TypeRef),
    /// `new { a = x, b.c }`: an anonymous type's members, in order.
    NewAnon(Vec<(String, Ast)>),
    /// `typeof(T)`, `nameof(x)`: accepted by the parser so the compiler can refuse with a name.
    Unsupported(&'static str),
}

#[derive(Clone, Debug)]
pub struct Ast {
    pub kind: AstKind,
    pub pos: usize,
}

#[derive(Clone, Debug)]
pub struct Catch {
    pub ty: Option<TypeRef>,
    pub name: Option<String>,
    pub when: Option<Ast>,
    pub body: Vec<Stmt>,
    pub pos: usize,
}

#[derive(Clone, Debug)]
pub struct SwitchSection {
    /// `case e:` labels; `None` is `default:`.
    pub labels: Vec<Option<Ast>>,
    pub body: Vec<Stmt>,
}

#[derive(Clone, Debug)]
pub enum Stmt {
    /// `var x = e;` / `string x = e;` / `string x;`.
    Decl {
        ty: Option<TypeRef>,
        name: String,
        init: Option<Ast>,
        pos: usize,
    },
    Expr(Ast),
    If {
        cond: Ast,
        then: Vec<Stmt>,
        els: Vec<Stmt>,
    },
    Return(Ast),
    While {
        cond: Ast,
        body: Vec<Stmt>,
    },
    Do {
        body: Vec<Stmt>,
        cond: Ast,
    },
    For {
        init: Vec<Stmt>,
        cond: Option<Ast>,
        step: Vec<Ast>,
        body: Vec<Stmt>,
    },
    Foreach {
        ty: Option<TypeRef>,
        name: String,
        iter: Ast,
        body: Vec<Stmt>,
        pos: usize,
    },
    Break(usize),
    Continue(usize),
    Block(Vec<Stmt>),
    Try {
        body: Vec<Stmt>,
        catches: Vec<Catch>,
        finally: Option<Vec<Stmt>>,
    },
    Throw(Option<Ast>, usize),
    Switch {
        e: Ast,
        sections: Vec<SwitchSection>,
        pos: usize,
    },
    /// `;`
    Empty,
}

/// The C# keywords that name types.
const KEYWORD_TYPES: [&str; 17] = [
    "string", "int", "bool", "double", "long", "object", "var", "char", "byte", "short", "float", "decimal", "uint",
    "ulong", "ushort", "sbyte", "dynamic",
];

/// Keywords that can never be a variable or type name.
const RESERVED: [&str; 30] = [
    "return", "if", "else", "for", "foreach", "while", "do", "switch", "case", "default", "break", "continue", "try",
    "catch", "finally", "throw", "new", "is", "as", "in", "out", "ref", "true", "false", "null", "typeof", "nameof",
    "this", "base", "await",
];

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

fn kw(t: &Tok, k: &str) -> bool {
    matches!(t, Tok::Ident(s) if s == k)
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
    fn is_kw(&self, k: &str) -> bool {
        kw(self.peek(), k)
    }
    fn eat(&mut self, p: &str) -> bool {
        if self.is(p) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn eat_kw(&mut self, k: &str) -> bool {
        if self.is_kw(k) {
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
    fn ident(&mut self, what: &str) -> Result<String, ExprError> {
        match self.peek().clone() {
            Tok::Ident(n) if !RESERVED.contains(&n.as_str()) => {
                self.i += 1;
                Ok(n)
            }
            t => Err(err(self.pos(), format!("expected {what}, found {}", describe(&t)))),
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

    /// A type at the cursor, or `None` (cursor unchanged) when there is none.
    fn try_type(&mut self) -> Result<Option<TypeRef>, ExprError> {
        let save = self.i;
        let r = self.type_inner();
        match r {
            Ok(Some(t)) => Ok(Some(t)),
            Ok(None) | Err(_) => {
                self.i = save;
                Ok(None)
            }
        }
    }

    fn type_inner(&mut self) -> Result<Option<TypeRef>, ExprError> {
        self.enter()?;
        let r = self.type_body();
        self.depth -= 1;
        r
    }

    fn type_body(&mut self) -> Result<Option<TypeRef>, ExprError> {
        let pos = self.pos();
        let Tok::Ident(first) = self.peek().clone() else { return Ok(None) };
        if RESERVED.contains(&first.as_str()) {
            return Ok(None);
        }
        self.i += 1;
        let mut name = first;
        while self.is(".") && matches!(self.peek_at(1), Tok::Ident(_)) {
            if let Tok::Ident(n) = self.peek_at(1).clone() {
                name.push('.');
                name.push_str(&n);
            }
            self.i += 2;
        }
        let mut args = Vec::new();
        if self.is("<") {
            self.i += 1;
            loop {
                match self.type_inner()? {
                    Some(t) => args.push(t),
                    None => return Ok(None),
                }
                if self.eat(",") {
                    continue;
                }
                if self.eat(">") {
                    break;
                }
                return Ok(None);
            }
        }
        let nullable = self.is("?")
            && (!self.starts_operand_at(1)
                || (matches!(self.peek_at(1), Tok::Ident(_))
                    && matches!(self.peek_at(2), Tok::Punct("=" | ";" | "," | ")"))));
        if nullable {
            self.i += 1;
        }
        let mut array = false;
        if self.is("[") && matches!(self.peek_at(1), Tok::Punct("]")) {
            self.i += 2;
            array = true;
        }
        Ok(Some(TypeRef { name, args, array, nullable, pos }))
    }

    /// Whether the token `k` ahead can start an operand (used to tell `T?` from `a ? b : c`).
    fn starts_operand_at(&self, k: usize) -> bool {
        match self.peek_at(k) {
            Tok::Ident(n) => !matches!(n.as_str(), "is" | "as"),
            Tok::Int(_) | Tok::Double(_) | Tok::Str(_) | Tok::Char(_) | Tok::Interp(_) => true,
            Tok::Punct(p) => matches!(*p, "(" | "!" | "-" | "+" | "~" | "[" | "."),
            Tok::Eof => false,
        }
    }

    fn expr(&mut self) -> Result<Ast, ExprError> {
        // An expression level costs a dozen stack frames (one per precedence level), so it
        // counts three towards the depth bound.
        self.depth += 2;
        let r = self.enter().and_then(|_| self.assignment());
        self.depth -= 3;
        r
    }

    fn assignment(&mut self) -> Result<Ast, ExprError> {
        let l = self.conditional()?;
        let op = match self.peek() {
            Tok::Punct("=") => None,
            Tok::Punct("+=") => Some("+"),
            Tok::Punct("-=") => Some("-"),
            Tok::Punct("*=") => Some("*"),
            Tok::Punct("/=") => Some("/"),
            Tok::Punct("%=") => Some("%"),
            Tok::Punct("??=") => Some("??"),
            _ => return Ok(l),
        };
        let pos = self.pos();
        self.i += 1;
        if !matches!(l.kind, AstKind::Ident(_) | AstKind::Member { .. } | AstKind::Index { .. }) {
            return Err(err(pos, "the left-hand side of an assignment must be a variable, property or indexer"));
        }
        let value = self.expr()?;
        Ok(Ast { kind: AstKind::Assign { target: Box::new(l), op, value: Box::new(value) }, pos })
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
            let r = if self.is_kw("throw") {
                let tpos = self.pos();
                self.i += 1;
                let e = self.coalesce()?;
                Ok(Ast { kind: AstKind::Throw(Box::new(e)), pos: tpos })
            } else {
                self.coalesce()
            };
            self.depth -= 1;
            let r = r?;
            return Ok(Ast { kind: AstKind::Binary { op: "??", l: Box::new(l), r: Box::new(r) }, pos });
        }
        Ok(l)
    }

    fn binary(&mut self, level: usize) -> Result<Ast, ExprError> {
        const LEVELS: [&[&str]; 9] = [
            &["||"],
            &["&&"],
            &["|"],
            &["^"],
            &["&"],
            &["==", "!="],
            &["<", "<=", ">", ">="],
            &["+", "-"],
            &["*", "/", "%"],
        ];
        let Some(ops) = LEVELS.get(level) else { return self.unary() };
        let relational = level == 6;
        let mut l = self.binary(level + 1)?;
        loop {
            let pos = self.pos();
            if relational && (self.is_kw("is") || self.is_kw("as")) {
                self.link(pos)?;
                let is = self.is_kw("is");
                self.i += 1;
                if is && self.eat_kw("null") {
                    let null = Ast { kind: AstKind::Lit(Lit::Null), pos };
                    l = Ast { kind: AstKind::Binary { op: "==", l: Box::new(l), r: Box::new(null) }, pos };
                    continue;
                }
                if is && matches!(self.peek(), Tok::Str(_) | Tok::Int(_) | Tok::Char(_) | Tok::Double(_))
                    || self.is_kw("true")
                    || self.is_kw("false")
                {
                    let c = self.primary()?;
                    l = Ast { kind: AstKind::Binary { op: "==", l: Box::new(l), r: Box::new(c) }, pos };
                    continue;
                }
                let ty = self.try_type()?.ok_or_else(|| err(self.pos(), "expected a type after 'is'/'as'"))?;
                if is {
                    let bind = match self.peek().clone() {
                        Tok::Ident(n) if !RESERVED.contains(&n.as_str()) => {
                            self.i += 1;
                            Some(n)
                        }
                        _ => None,
                    };
                    l = Ast { kind: AstKind::Is { e: Box::new(l), ty, bind }, pos };
                } else {
                    l = Ast { kind: AstKind::As { e: Box::new(l), ty }, pos };
                }
                continue;
            }
            let op = match self.peek() {
                Tok::Punct(p) if ops.contains(p) => *p,
                _ => return Ok(l),
            };
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
        for op in ["!", "-", "+", "~"] {
            if self.eat(op) {
                let e = self.unary()?;
                return Ok(Ast { kind: AstKind::Unary { op, e: Box::new(e) }, pos });
            }
        }
        if self.is("++") || self.is("--") {
            let inc = self.is("++");
            self.i += 1;
            let e = self.unary()?;
            return Ok(Ast { kind: AstKind::IncDec { target: Box::new(e), inc, prefix: true }, pos });
        }
        // A cast: '(' type ')' followed by something that starts an operand.
        if self.is("(") && !self.lambda_ahead() {
            let save = self.i;
            self.i += 1;
            if let Some(ty) = self.try_type()? {
                if self.eat(")") {
                    let keyword = KEYWORD_TYPES.contains(&ty.name.as_str());
                    let operand = match self.peek() {
                        Tok::Ident(n) => !matches!(n.as_str(), "is" | "as"),
                        Tok::Int(_) | Tok::Double(_) | Tok::Str(_) | Tok::Char(_) | Tok::Interp(_) => true,
                        Tok::Punct(p) => matches!(*p, "(" | "!" | "~") || (keyword && matches!(*p, "-" | "+")),
                        Tok::Eof => false,
                    };
                    if operand {
                        let e = self.unary()?;
                        return Ok(Ast { kind: AstKind::Cast { ty, e: Box::new(e) }, pos });
                    }
                }
            }
            self.i = save;
        }
        let prim = self.primary()?;
        self.postfix(prim)
    }

    /// `x =>`, `(x, y) =>`, `() =>`, `(string x) =>` at the cursor.
    fn lambda_ahead(&self) -> bool {
        if matches!(self.peek(), Tok::Ident(_)) && matches!(self.peek_at(1), Tok::Punct("=>")) {
            return true;
        }
        if !self.is("(") {
            return false;
        }
        let mut k = 1;
        loop {
            match self.peek_at(k) {
                Tok::Ident(_) | Tok::Punct(",") => k += 1,
                Tok::Punct(")") => return matches!(self.peek_at(k + 1), Tok::Punct("=>")),
                _ => return false,
            }
        }
    }

    fn lambda(&mut self) -> Result<Ast, ExprError> {
        let pos = self.pos();
        let mut params = Vec::new();
        if self.eat("(") {
            while !self.eat(")") {
                // `(string a, int b)`: the type, if written, is the ident before the name.
                let mut name = self.ident("a lambda parameter")?;
                if let Tok::Ident(n) = self.peek().clone() {
                    self.i += 1;
                    name = n;
                }
                params.push(name);
                if !self.eat(",") && !self.is(")") {
                    return Err(err(self.pos(), "expected ',' or ')' in the lambda's parameters"));
                }
            }
        } else {
            params.push(self.ident("a lambda parameter")?);
        }
        self.expect("=>")?;
        let body = if self.is("{") {
            self.i += 1;
            LambdaBody::Block(self.block()?)
        } else {
            LambdaBody::Expr(Box::new(self.expr()?))
        };
        Ok(Ast { kind: AstKind::Lambda { params, body }, pos })
    }

    fn primary(&mut self) -> Result<Ast, ExprError> {
        let pos = self.pos();
        if self.lambda_ahead() {
            return self.lambda();
        }
        let kind = match self.bump() {
            Tok::Int(n) => AstKind::Lit(Lit::Int(n)),
            Tok::Double(d) => AstKind::Lit(Lit::Double(d)),
            Tok::Str(s) => AstKind::Lit(Lit::Str(s)),
            Tok::Char(c) => AstKind::Lit(Lit::Char(c)),
            Tok::Interp(pieces) => {
                let mut parts = Vec::new();
                for p in pieces {
                    match p {
                        Piece::Lit(s) => parts.push((Ast { kind: AstKind::Lit(Lit::Str(s)), pos }, None)),
                        Piece::Hole(src, at, fmt) => {
                            self.enter()?;
                            let (e, links) = parse_expr_at(&src, at, self.depth, self.links)?;
                            self.links = links;
                            self.depth -= 1;
                            parts.push((e, fmt));
                        }
                    }
                }
                AstKind::Interp(parts)
            }
            Tok::Ident(id) => match id.as_str() {
                "true" => AstKind::Lit(Lit::Bool(true)),
                "false" => AstKind::Lit(Lit::Bool(false)),
                "null" => AstKind::Lit(Lit::Null),
                "new" => return self.new_expr(pos),
                "default" => {
                    self.expect("(")?;
                    let ty = self.try_type()?.ok_or_else(|| err(self.pos(), "expected a type in default(…)"))?;
                    self.expect(")")?;
                    AstKind::Default(ty)
                }
                "typeof" | "nameof" | "sizeof" | "checked" | "unchecked" | "stackalloc" => {
                    self.skip_parens()?;
                    AstKind::Unsupported(match id.as_str() {
                        "typeof" => "typeof",
                        "nameof" => "nameof",
                        "sizeof" => "sizeof",
                        "checked" => "checked",
                        "unchecked" => "unchecked",
                        _ => "stackalloc",
                    })
                }
                "await" | "this" | "base" | "ref" | "delegate" => {
                    return Err(err(pos, format!("'{id}' is not allowed in APIM policy expressions")))
                }
                "throw" => {
                    let e = self.expr()?;
                    AstKind::Throw(Box::new(e))
                }
                "switch" => {
                    return Err(err(
                        pos,
                        "switch expressions are C# 8; APIM policy expressions are C# 7 (use a switch statement)",
                    ))
                }
                _ => AstKind::Ident(id),
            },
            Tok::Punct("(") => {
                let e = self.expr()?;
                if self.is(",") {
                    return Err(err(self.pos(), "tuples are not yet supported by ringgate"));
                }
                self.expect(")")?;
                return Ok(e);
            }
            t => return Err(err(pos, format!("expected an expression, found {}", describe(&t)))),
        };
        Ok(Ast { kind, pos })
    }

    fn skip_parens(&mut self) -> Result<(), ExprError> {
        self.expect("(")?;
        let mut depth = 1;
        while depth > 0 {
            match self.bump() {
                Tok::Punct("(") => depth += 1,
                Tok::Punct(")") => depth -= 1,
                Tok::Eof => return Err(err(self.pos(), "expected ')'")),
                _ => {}
            }
        }
        Ok(())
    }

    fn new_expr(&mut self, pos: usize) -> Result<Ast, ExprError> {
        self.enter()?;
        let r = self.new_inner(pos);
        self.depth -= 1;
        r
    }

    fn new_inner(&mut self, pos: usize) -> Result<Ast, ExprError> {
        // new[] { … }
        if self.is("[") && matches!(self.peek_at(1), Tok::Punct("]")) {
            self.i += 2;
            let items = self.array_items()?;
            return Ok(Ast { kind: AstKind::NewArray { elem: None, size: None, items }, pos });
        }
        if self.eat("{") {
            return self.anon_members(pos);
        }
        let ty = self.try_type()?.ok_or_else(|| err(self.pos(), "expected a type after 'new'"))?;
        if ty.array {
            let elem = TypeRef { array: false, ..ty };
            let items = if self.is("{") { self.array_items()? } else { Vec::new() };
            return Ok(Ast { kind: AstKind::NewArray { elem: Some(elem), size: None, items }, pos });
        }
        if self.eat("[") {
            let size = self.expr()?;
            self.expect("]")?;
            let items = if self.is("{") { self.array_items()? } else { Vec::new() };
            return Ok(Ast { kind: AstKind::NewArray { elem: Some(ty), size: Some(Box::new(size)), items }, pos });
        }
        let args = if self.eat("(") { self.args()? } else { Vec::new() };
        let init = if self.is("{") { Some(self.init()?) } else { None };
        if args.is_empty()
            && init.is_none()
            && !matches!(self.toks.get(self.i - 1).map(|t| &t.tok), Some(Tok::Punct(")")))
        {
            return Err(err(self.pos(), "expected '(' or '{' after the type in 'new'"));
        }
        Ok(Ast { kind: AstKind::New { ty, args, init }, pos })
    }

    /// `{ a = x, b.c, d }` after `new`: a member is named by `name =`, or by the last
    /// identifier of a simple name or member access (a projection initializer).
    fn anon_members(&mut self, pos: usize) -> Result<Ast, ExprError> {
        let mut members: Vec<(String, Ast)> = Vec::new();
        while !self.eat("}") {
            let named = matches!(self.peek(), Tok::Ident(_)) && matches!(self.peek_at(1), Tok::Punct("="));
            let (name, value) = if named {
                let name = self.ident("a member name")?;
                self.expect("=")?;
                (name, self.expr()?)
            } else {
                let at = self.pos();
                let e = self.expr()?;
                let name = match &e.kind {
                    AstKind::Ident(n) => n.clone(),
                    AstKind::Member { name, .. } => name.clone(),
                    _ => return Err(err(
                        at,
                        "an anonymous type member must be named (name = value) or be a simple name or member access",
                    )),
                };
                (name, e)
            };
            if members.iter().any(|(n, _)| *n == name) {
                return Err(err(pos, format!("an anonymous type cannot have two members named '{name}'")));
            }
            members.push((name, value));
            if !self.eat(",") && !self.is("}") {
                return Err(err(self.pos(), format!("expected ',' or '}}', found {}", describe(self.peek()))));
            }
        }
        Ok(Ast { kind: AstKind::NewAnon(members), pos })
    }

    fn array_items(&mut self) -> Result<Vec<Ast>, ExprError> {
        self.expect("{")?;
        let mut items = Vec::new();
        while !self.eat("}") {
            items.push(self.expr()?);
            if !self.eat(",") && !self.is("}") {
                return Err(err(self.pos(), format!("expected ',' or '}}', found {}", describe(self.peek()))));
            }
        }
        Ok(items)
    }

    fn init(&mut self) -> Result<Init, ExprError> {
        self.expect("{")?;
        if self.eat("}") {
            return Ok(Init::Collection(Vec::new()));
        }
        if self.is("[") {
            let mut out = Vec::new();
            while !self.eat("}") {
                self.expect("[")?;
                let k = self.expr()?;
                self.expect("]")?;
                self.expect("=")?;
                let v = self.expr()?;
                out.push((k, v));
                if !self.eat(",") && !self.is("}") {
                    return Err(err(self.pos(), "expected ',' or '}'"));
                }
            }
            return Ok(Init::Keyed(out));
        }
        if matches!(self.peek(), Tok::Ident(_)) && matches!(self.peek_at(1), Tok::Punct("=")) {
            let mut out = Vec::new();
            while !self.eat("}") {
                let n = self.ident("a member name")?;
                self.expect("=")?;
                let v = if self.is("{") {
                    return Err(err(self.pos(), "nested object initializers are not yet supported by ringgate"));
                } else {
                    self.expr()?
                };
                out.push((n, v));
                if !self.eat(",") && !self.is("}") {
                    return Err(err(self.pos(), "expected ',' or '}'"));
                }
            }
            return Ok(Init::Object(out));
        }
        let mut out = Vec::new();
        while !self.eat("}") {
            if self.is("{") {
                out.push(self.array_items()?);
            } else {
                out.push(vec![self.expr()?]);
            }
            if !self.eat(",") && !self.is("}") {
                return Err(err(self.pos(), format!("expected ',' or '}}', found {}", describe(self.peek()))));
            }
        }
        Ok(Init::Collection(out))
    }

    /// Explicit type arguments after a member name (`As<JObject>(`), when they are there.
    fn generic_args(&mut self) -> Result<Option<Vec<TypeRef>>, ExprError> {
        if !self.is("<") {
            return Ok(None);
        }
        let save = self.i;
        self.i += 1;
        let mut out = Vec::new();
        while let Some(t) = self.try_type()? {
            out.push(t);
            if self.eat(",") {
                continue;
            }
            if self.eat(">") && self.is("(") {
                return Ok(Some(out));
            }
            break;
        }
        self.i = save;
        Ok(None)
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
                if let Some(generic) = self.generic_args()? {
                    self.expect("(")?;
                    let args = self.args()?;
                    e = Ast { kind: AstKind::Call { callee: Box::new(e), generic, args }, pos };
                }
            } else if self.is("(") {
                if !matches!(e.kind, AstKind::Member { .. } | AstKind::Ident(_)) {
                    return Err(err(pos, "only methods can be called"));
                }
                self.i += 1;
                let args = self.args()?;
                e = Ast { kind: AstKind::Call { callee: Box::new(e), generic: Vec::new(), args }, pos };
            } else if self.is("[") || (self.is("?") && matches!(self.peek_at(1), Tok::Punct("["))) {
                let nullc = self.is("?") || chain_nullc;
                chain_nullc = nullc;
                self.i += if self.is("?") { 2 } else { 1 };
                let index = self.expr()?;
                if self.is(",") {
                    return Err(err(self.pos(), "multi-dimensional indexers are not yet supported by ringgate"));
                }
                self.expect("]")?;
                e = Ast { kind: AstKind::Index { recv: Box::new(e), index: Box::new(index), nullc }, pos };
            } else if self.is("++") || self.is("--") {
                let inc = self.is("++");
                self.i += 1;
                e = Ast { kind: AstKind::IncDec { target: Box::new(e), inc, prefix: false }, pos };
            } else if matches!(e.kind, AstKind::Ident(_)) && self.is("<") {
                // `Func<…>` or a generic static call on an identifier: `JsonConvert.Deserialize…`
                // comes through the member path; a bare generic name is not an expression.
                return Ok(e);
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
            let pos = self.pos();
            let name = match (self.peek(), self.peek_at(1)) {
                (Tok::Ident(n), Tok::Punct(":")) => {
                    let n = n.clone();
                    self.i += 2;
                    Some(n)
                }
                _ => None,
            };
            let value = if self.eat_kw("out") {
                if self.eat_kw("var") {
                    let name = self.ident("a variable name")?;
                    Ast { kind: AstKind::Out { name, declare: Some(None) }, pos }
                } else if matches!(self.peek_at(1), Tok::Ident(_))
                    || matches!(self.peek_at(1), Tok::Punct("<" | "." | "[" | "?"))
                {
                    let ty = self.try_type()?.ok_or_else(|| err(self.pos(), "expected a type after 'out'"))?;
                    let name = self.ident("a variable name")?;
                    Ast { kind: AstKind::Out { name, declare: Some(Some(ty)) }, pos }
                } else {
                    let name = self.ident("a variable name")?;
                    Ast { kind: AstKind::Out { name, declare: None }, pos }
                }
            } else if self.is_kw("ref") {
                return Err(err(pos, "'ref' arguments are not allowed in APIM policy expressions"));
            } else {
                self.expr()?
            };
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

    /// The end of a switch section's statements: the next label or the switch's end.
    fn section_ends(&self) -> bool {
        self.is_kw("case") || (self.is_kw("default") && matches!(self.peek_at(1), Tok::Punct(":"))) || self.is("}")
    }

    fn paren_expr(&mut self) -> Result<Ast, ExprError> {
        self.expect("(")?;
        let e = self.expr()?;
        self.expect(")")?;
        Ok(e)
    }

    /// `T name = e` / `var name = e` at the cursor (without the ';'), or `None`.
    fn declaration(&mut self) -> Result<Option<Stmt>, ExprError> {
        let pos = self.pos();
        let save = self.i;
        let Some(ty) = self.try_type()? else { return Ok(None) };
        let name = match self.peek().clone() {
            Tok::Ident(n) if !RESERVED.contains(&n.as_str()) => n,
            _ => {
                self.i = save;
                return Ok(None);
            }
        };
        if !matches!(self.peek_at(1), Tok::Punct("=" | ";" | ",")) && !kw(self.peek_at(1), "in") {
            self.i = save;
            return Ok(None);
        }
        if ty.name == "const" {
            return Err(err(pos, "const locals are not yet supported by ringgate"));
        }
        self.i += 1;
        let init = if self.eat("=") { Some(self.expr()?) } else { None };
        if self.is(",") {
            return Err(err(
                self.pos(),
                "declare one variable per statement (several declarators are not yet supported by ringgate)",
            ));
        }
        let ty = (ty.name != "var").then_some(ty);
        Ok(Some(Stmt::Decl { ty, name, init, pos }))
    }

    fn statement(&mut self) -> Result<Stmt, ExprError> {
        self.enter()?;
        let r = self.statement_inner();
        self.depth -= 1;
        r
    }

    fn statement_inner(&mut self) -> Result<Stmt, ExprError> {
        let pos = self.pos();
        self.links = 0;
        let Tok::Ident(k) = self.peek().clone() else {
            if self.eat(";") {
                return Ok(Stmt::Empty);
            }
            if self.eat("{") {
                return Ok(Stmt::Block(self.block()?));
            }
            let e = self.expr()?;
            self.expect(";")?;
            return Ok(Stmt::Expr(e));
        };
        match k.as_str() {
            "return" => {
                self.i += 1;
                if self.is(";") {
                    return Err(err(pos, "a policy expression must return a value"));
                }
                let e = self.expr()?;
                self.expect(";")?;
                Ok(Stmt::Return(e))
            }
            "if" => {
                self.i += 1;
                let cond = self.paren_expr()?;
                let then = self.body()?;
                let els = if self.eat_kw("else") { self.body()? } else { Vec::new() };
                Ok(Stmt::If { cond, then, els })
            }
            "while" => {
                self.i += 1;
                let cond = self.paren_expr()?;
                let body = self.body()?;
                Ok(Stmt::While { cond, body })
            }
            "do" => {
                self.i += 1;
                let body = self.body()?;
                if !self.eat_kw("while") {
                    return Err(err(self.pos(), "expected 'while' after the body of 'do'"));
                }
                let cond = self.paren_expr()?;
                self.expect(";")?;
                Ok(Stmt::Do { body, cond })
            }
            "for" => {
                self.i += 1;
                self.expect("(")?;
                let mut init = Vec::new();
                if !self.is(";") {
                    match self.declaration()? {
                        Some(d) => init.push(d),
                        None => loop {
                            init.push(Stmt::Expr(self.expr()?));
                            if !self.eat(",") {
                                break;
                            }
                        },
                    }
                }
                self.expect(";")?;
                let cond = if self.is(";") { None } else { Some(self.expr()?) };
                self.expect(";")?;
                let mut step = Vec::new();
                while !self.is(")") {
                    step.push(self.expr()?);
                    if !self.eat(",") {
                        break;
                    }
                }
                self.expect(")")?;
                let body = self.body()?;
                Ok(Stmt::For { init, cond, step, body })
            }
            "foreach" => {
                self.i += 1;
                self.expect("(")?;
                let ty = self.try_type()?.ok_or_else(|| err(self.pos(), "expected a type or 'var' in foreach"))?;
                let name = self.ident("a variable name")?;
                if !self.eat_kw("in") {
                    return Err(err(self.pos(), "expected 'in' in foreach"));
                }
                let iter = self.expr()?;
                self.expect(")")?;
                let body = self.body()?;
                let ty = (ty.name != "var").then_some(ty);
                Ok(Stmt::Foreach { ty, name, iter, body, pos })
            }
            "break" => {
                self.i += 1;
                self.expect(";")?;
                Ok(Stmt::Break(pos))
            }
            "continue" => {
                self.i += 1;
                self.expect(";")?;
                Ok(Stmt::Continue(pos))
            }
            "throw" => {
                self.i += 1;
                let e = if self.is(";") { None } else { Some(self.expr()?) };
                self.expect(";")?;
                Ok(Stmt::Throw(e, pos))
            }
            "try" => {
                self.i += 1;
                self.expect("{")?;
                let body = self.block()?;
                let mut catches = Vec::new();
                while self.is_kw("catch") {
                    let cpos = self.pos();
                    self.i += 1;
                    let (mut ty, mut name) = (None, None);
                    if self.eat("(") {
                        ty = Some(self.try_type()?.ok_or_else(|| err(self.pos(), "expected an exception type"))?);
                        if let Tok::Ident(n) = self.peek().clone() {
                            self.i += 1;
                            name = Some(n);
                        }
                        self.expect(")")?;
                    }
                    let when = if self.eat_kw("when") { Some(self.paren_expr()?) } else { None };
                    self.expect("{")?;
                    let body = self.block()?;
                    catches.push(Catch { ty, name, when, body, pos: cpos });
                }
                let finally = if self.eat_kw("finally") {
                    self.expect("{")?;
                    Some(self.block()?)
                } else {
                    None
                };
                if catches.is_empty() && finally.is_none() {
                    return Err(err(self.pos(), "expected 'catch' or 'finally' after 'try'"));
                }
                Ok(Stmt::Try { body, catches, finally })
            }
            "switch" => {
                self.i += 1;
                let e = self.paren_expr()?;
                self.expect("{")?;
                let mut sections: Vec<SwitchSection> = Vec::new();
                while !self.eat("}") {
                    let mut labels = Vec::new();
                    loop {
                        if self.eat_kw("case") {
                            let l = self.expr()?;
                            if self.is_kw("when") {
                                return Err(err(self.pos(), "case guards (when) are not yet supported by ringgate"));
                            }
                            self.expect(":")?;
                            labels.push(Some(l));
                        } else if self.is_kw("default") && matches!(self.peek_at(1), Tok::Punct(":")) {
                            self.i += 2;
                            labels.push(None);
                        } else {
                            break;
                        }
                    }
                    if labels.is_empty() {
                        return Err(err(
                            self.pos(),
                            format!("expected 'case' or 'default', found {}", describe(self.peek())),
                        ));
                    }
                    let mut body = Vec::new();
                    while !self.section_ends() {
                        if matches!(self.peek(), Tok::Eof) {
                            return Err(err(self.pos(), "expected '}'"));
                        }
                        body.push(self.statement()?);
                    }
                    sections.push(SwitchSection { labels, body });
                }
                Ok(Stmt::Switch { e, sections, pos })
            }
            "goto" | "lock" | "using" | "fixed" | "unsafe" | "yield" => {
                Err(err(pos, format!("'{k}' statements are not allowed in APIM policy expressions")))
            }
            _ => {
                if let Some(d) = self.declaration()? {
                    self.expect(";")?;
                    return Ok(d);
                }
                // A local function: `string F(int x) { … }` / `T F(…) =>`.
                let save = self.i;
                if self.try_type()?.is_some()
                    && matches!(self.peek(), Tok::Ident(_))
                    && matches!(self.peek_at(1), Tok::Punct("("))
                {
                    let at = self.pos();
                    let mut k = 2;
                    let mut depth = 1;
                    while depth > 0 {
                        match self.peek_at(k) {
                            Tok::Punct("(") => depth += 1,
                            Tok::Punct(")") => depth -= 1,
                            Tok::Eof => break,
                            _ => {}
                        }
                        k += 1;
                    }
                    if matches!(self.peek_at(k), Tok::Punct("{" | "=>")) {
                        return Err(err(at, "local functions are not yet supported by ringgate"));
                    }
                }
                self.i = save;
                let e = self.expr()?;
                if !matches!(
                    e.kind,
                    AstKind::Assign { .. } | AstKind::IncDec { .. } | AstKind::Call { .. } | AstKind::New { .. }
                ) {
                    return Err(err(
                        pos,
                        "only assignment, call, increment, decrement and new expressions can be used as a statement",
                    ));
                }
                self.expect(";")?;
                Ok(Stmt::Expr(e))
            }
        }
    }
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
        assert!(matches!(e.kind, AstKind::Call { ref generic, .. } if generic.len() == 1));
        let e = parse_expression("(a) + 1", 0).unwrap();
        assert!(matches!(e.kind, AstKind::Binary { .. }));
        let e = parse_expression("(JObject)x", 0).unwrap();
        assert!(matches!(e.kind, AstKind::Cast { .. }));
        let e = parse_expression("a < b ? c : d", 0).unwrap();
        assert!(matches!(e.kind, AstKind::Cond { .. }));
        let e = parse_expression("x is string s && s.Length > 0", 0).unwrap();
        assert!(matches!(e.kind, AstKind::Binary { op: "&&", .. }));
        let e = parse_expression("xs.Where(x => x > 1).Select((x, i) => x + i)", 0).unwrap();
        assert!(matches!(e.kind, AstKind::Call { .. }));
        let e = parse_expression("new Dictionary<string, int> { {\"a\", 1}, [\"b\"] = 2 }", 0);
        assert!(e.is_err());
        let e = parse_expression("new List<string> { \"a\", \"b\" }", 0).unwrap();
        assert!(matches!(e.kind, AstKind::New { init: Some(Init::Collection(_)), .. }));
    }

    #[test]
    fn blocks() {
        let b =
            parse_block("var a = 1; string b = \"x\"; if (a > 0) { b = \"y\"; } else return b; return b;", 0).unwrap();
        assert_eq!(b.len(), 4);
        let b = parse_block("for (var i = 0; i < 3; i++) { if (i == 1) continue; } foreach (var x in xs) break; while (true) { } do { x++; } while (x < 3); return 1;", 0).unwrap();
        assert_eq!(b.len(), 5);
        let b = parse_block(
            "try { throw new Exception(\"x\"); } catch (FormatException e) { } catch { } finally { } return 1;",
            0,
        )
        .unwrap();
        assert_eq!(b.len(), 2);
        let b = parse_block("switch (x) { case \"a\": case \"b\": return 1; default: return 2; }", 0).unwrap();
        assert_eq!(b.len(), 1);
        assert!(parse_block("int F(int x) { return x; } return F(1);", 0)
            .unwrap_err()
            .message
            .contains("local functions"));
    }

    #[test]
    fn rejections_with_positions() {
        let e = parse_expression("a + new { 1 + 2 }", 0).unwrap_err();
        assert_eq!(e.pos, 10, "an unnamed anonymous-type member: {e:?}");
        assert!(parse_expression("x switch { _ => 1 }", 0).is_err());
        let deep = "(".repeat(500) + "1" + &")".repeat(500);
        assert!(parse_expression(&deep, 0).unwrap_err().message.contains("deeply"));
        let deep = "!".repeat(500) + "a";
        assert!(parse_expression(&deep, 0).is_err());
        let deep = "new List<".repeat(200) + "int" + &">".repeat(200) + "()";
        assert!(parse_expression(&deep, 0).is_err());
    }
}
