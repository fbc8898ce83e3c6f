//! Newtonsoft's JSONPath (`SelectToken` / `SelectTokens`): `$`, `.name`, `['name']`,
//! `["name"]`, `[0]`, `[0,2]`, `[1:3]`, `[-2:]`, `[::2]`, `*`, `..name` (scan), `..*`, and
//! filters `[?(@.a == 1 && @.b != 'x' || @.c =~ /re/i)]` with `==`, `!=`, `<`, `<=`, `>`,
//! `>=`, `=~`, existence tests and `$`-rooted operands.
//! https://www.newtonsoft.com/json/help/html/QueryJsonSelectTokenJsonPath.htm

use super::convert::as_number;
use super::token::{JToken, JValue};
use crate::policy::dotnet::error::{DnResult, DotnetError, ExceptionKind};

fn path_err(m: impl Into<String>) -> DotnetError {
    DotnetError::new(ExceptionKind::Json, m)
}

#[derive(Clone, Debug)]
enum Seg {
    /// A member by name; None is `*` (every value).
    Field(Option<String>),
    Fields(Vec<String>),
    Index(i64),
    Indexes(Vec<i64>),
    Slice(Option<i64>, Option<i64>, Option<i64>),
    Scan(Option<String>),
    Filter(Box<Expr>),
    Root,
    Current,
}

#[derive(Clone, Debug)]
enum Operand {
    Path(Vec<Seg>),
    Value(JValue),
    Regex(String, String),
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    Eq,
    StrictEq,
    Ne,
    StrictNe,
    Lt,
    Le,
    Gt,
    Ge,
    Match,
    Exists,
}

#[derive(Clone, Debug)]
enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Cmp(Operand, Op, Option<Operand>),
}

struct Parser<'a> {
    c: Vec<char>,
    i: usize,
    _src: &'a str,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.c.get(self.i).copied()
    }
    fn ws(&mut self) {
        while self.peek().is_some_and(|c| c == ' ') {
            self.i += 1;
        }
    }

    fn path(&mut self, in_filter: bool) -> DnResult<Vec<Seg>> {
        let mut segs = Vec::new();
        match self.peek() {
            Some('$') => {
                self.i += 1;
                segs.push(Seg::Root);
            }
            Some('@') => {
                self.i += 1;
                segs.push(Seg::Current);
            }
            _ => {}
        }
        let mut first = true;
        loop {
            match self.peek() {
                None => break,
                Some('[') => {
                    self.i += 1;
                    segs.push(self.bracket()?);
                }
                Some('.') => {
                    self.i += 1;
                    if self.peek() == Some('.') {
                        self.i += 1;
                        if self.peek() == Some('[') {
                            self.i += 1;
                            match self.bracket()? {
                                Seg::Field(n) => segs.push(Seg::Scan(n)),
                                Seg::Fields(ns) if ns.len() == 1 => segs.push(Seg::Scan(ns.into_iter().next())),
                                other => {
                                    segs.push(Seg::Scan(None));
                                    segs.push(other);
                                }
                            }
                        } else {
                            let n = self.name(in_filter);
                            segs.push(Seg::Scan(if n == "*" { None } else { Some(n) }));
                        }
                    } else {
                        let n = self.name(in_filter);
                        if n.is_empty() {
                            return Err(path_err("Unexpected end while parsing path."));
                        }
                        segs.push(Seg::Field(if n == "*" { None } else { Some(n) }));
                    }
                }
                Some(c) if in_filter && (c == ' ' || c == ')' || "=!<>&|".contains(c)) => break,
                Some(']') if !in_filter => return Err(path_err("Unexpected character while parsing path: ]")),
                Some(_) if first && segs.is_empty() => {
                    let n = self.name(in_filter);
                    segs.push(Seg::Field(if n == "*" { None } else { Some(n) }));
                }
                Some(c) => return Err(path_err(format!("Unexpected character following indexer: {c}"))),
            }
            first = false;
        }
        Ok(segs)
    }

    fn name(&mut self, in_filter: bool) -> String {
        let start = self.i;
        while let Some(c) = self.peek() {
            if c == '.' || c == '[' || (in_filter && (c == ' ' || c == ')' || "=!<>&|".contains(c))) {
                break;
            }
            if c == ']' || c == '(' || c == ')' {
                break;
            }
            self.i += 1;
        }
        self.c[start..self.i].iter().collect()
    }

    fn quoted(&mut self) -> DnResult<String> {
        let q = self.peek().unwrap_or('\'');
        self.i += 1;
        let mut s = String::new();
        loop {
            match self.peek() {
                None => return Err(path_err("Path ended with an open string.")),
                Some('\\') => {
                    self.i += 1;
                    match self.peek() {
                        Some('n') => s.push('\n'),
                        Some('t') => s.push('\t'),
                        Some('r') => s.push('\r'),
                        Some(c) => s.push(c),
                        None => return Err(path_err("Path ended with an open string.")),
                    }
                    self.i += 1;
                }
                Some(c) if c == q => {
                    self.i += 1;
                    return Ok(s);
                }
                Some(c) => {
                    s.push(c);
                    self.i += 1;
                }
            }
        }
    }

    fn int(&mut self) -> DnResult<Option<i64>> {
        self.ws();
        let start = self.i;
        if self.peek() == Some('-') {
            self.i += 1;
        }
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        if self.i == start {
            return Ok(None);
        }
        let t: String = self.c[start..self.i].iter().collect();
        self.ws();
        t.parse().map(Some).map_err(|_| path_err(format!("Could not read query value: {t}")))
    }

    fn bracket(&mut self) -> DnResult<Seg> {
        self.ws();
        let seg = match self.peek() {
            None => return Err(path_err("Path ended with open indexer.")),
            Some('*') => {
                self.i += 1;
                self.ws();
                Seg::Field(None)
            }
            Some('\'' | '"') => {
                let mut names = vec![self.quoted()?];
                self.ws();
                while self.peek() == Some(',') {
                    self.i += 1;
                    self.ws();
                    names.push(self.quoted()?);
                    self.ws();
                }
                if names.len() == 1 {
                    Seg::Field(names.pop())
                } else {
                    Seg::Fields(names)
                }
            }
            Some('?') => {
                self.i += 1;
                if self.peek() != Some('(') {
                    return Err(path_err("Unexpected character while parsing path indexer: ?"));
                }
                self.i += 1;
                let e = self.or_expr()?;
                self.ws();
                if self.peek() != Some(')') {
                    return Err(path_err("Path ended with open query."));
                }
                self.i += 1;
                self.ws();
                Seg::Filter(Box::new(e))
            }
            _ => {
                let a = self.int()?;
                match self.peek() {
                    Some(':') => {
                        self.i += 1;
                        let b = self.int()?;
                        let step = if self.peek() == Some(':') {
                            self.i += 1;
                            self.int()?
                        } else {
                            None
                        };
                        if step == Some(0) {
                            return Err(path_err("Step cannot be zero."));
                        }
                        Seg::Slice(a, b, step)
                    }
                    Some(',') => {
                        let mut v = vec![a.ok_or_else(|| path_err("Array index expected."))?];
                        while self.peek() == Some(',') {
                            self.i += 1;
                            v.push(self.int()?.ok_or_else(|| path_err("Array index expected."))?);
                        }
                        Seg::Indexes(v)
                    }
                    _ => match a {
                        Some(i) => Seg::Index(i),
                        None => {
                            let c = self.peek().unwrap_or(' ');
                            return Err(path_err(format!("Unexpected character while parsing path indexer: {c}")));
                        }
                    },
                }
            }
        };
        if self.peek() != Some(']') {
            return Err(path_err("Path ended with open indexer."));
        }
        self.i += 1;
        Ok(seg)
    }

    fn or_expr(&mut self) -> DnResult<Expr> {
        let mut parts = vec![self.and_expr()?];
        loop {
            self.ws();
            if self.c.get(self.i..self.i + 2) == Some(&['|', '|']) {
                self.i += 2;
                parts.push(self.and_expr()?);
            } else {
                break;
            }
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Expr::Or(parts) })
    }

    fn and_expr(&mut self) -> DnResult<Expr> {
        let mut parts = vec![self.cmp()?];
        loop {
            self.ws();
            if self.c.get(self.i..self.i + 2) == Some(&['&', '&']) {
                self.i += 2;
                parts.push(self.cmp()?);
            } else {
                break;
            }
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Expr::And(parts) })
    }

    fn cmp(&mut self) -> DnResult<Expr> {
        self.ws();
        if self.peek() == Some('(') {
            self.i += 1;
            let e = self.or_expr()?;
            self.ws();
            if self.peek() != Some(')') {
                return Err(path_err("Path ended with open query."));
            }
            self.i += 1;
            return Ok(e);
        }
        let left = self.operand()?;
        self.ws();
        let two: String =
            self.c.get(self.i..(self.i + 3).min(self.c.len())).map(|s| s.iter().collect()).unwrap_or_default();
        let (op, len) = if two.starts_with("===") {
            (Op::StrictEq, 3)
        } else if two.starts_with("!==") {
            (Op::StrictNe, 3)
        } else if two.starts_with("==") {
            (Op::Eq, 2)
        } else if two.starts_with("!=") || two.starts_with("<>") {
            (Op::Ne, 2)
        } else if two.starts_with("<=") {
            (Op::Le, 2)
        } else if two.starts_with(">=") {
            (Op::Ge, 2)
        } else if two.starts_with("=~") {
            (Op::Match, 2)
        } else if two.starts_with('<') {
            (Op::Lt, 1)
        } else if two.starts_with('>') {
            (Op::Gt, 1)
        } else {
            (Op::Exists, 0)
        };
        if op == Op::Exists {
            return Ok(Expr::Cmp(left, Op::Exists, None));
        }
        self.i += len;
        self.ws();
        let right = self.operand()?;
        Ok(Expr::Cmp(left, op, Some(right)))
    }

    fn operand(&mut self) -> DnResult<Operand> {
        self.ws();
        match self.peek() {
            Some('@' | '$') => Ok(Operand::Path(self.path(true)?)),
            Some('\'' | '"') => Ok(Operand::Value(JValue::String(self.quoted()?))),
            Some('/') => {
                self.i += 1;
                let mut pat = String::new();
                loop {
                    match self.peek() {
                        None => return Err(path_err("Path ended with an open regex.")),
                        Some('\\') => {
                            pat.push('\\');
                            self.i += 1;
                            if let Some(c) = self.peek() {
                                pat.push(c);
                                self.i += 1;
                            }
                        }
                        Some('/') => {
                            self.i += 1;
                            break;
                        }
                        Some(c) => {
                            pat.push(c);
                            self.i += 1;
                        }
                    }
                }
                let start = self.i;
                while self.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
                    self.i += 1;
                }
                Ok(Operand::Regex(pat, self.c[start..self.i].iter().collect()))
            }
            _ => {
                let start = self.i;
                while self.peek().is_some_and(|c| !(c == ' ' || c == ')' || "=!<>&|".contains(c))) {
                    self.i += 1;
                }
                let t: String = self.c[start..self.i].iter().collect();
                let v = match t.as_str() {
                    "true" => JValue::Boolean(true),
                    "false" => JValue::Boolean(false),
                    "null" => JValue::Null,
                    _ if !t.contains(['.', 'e', 'E']) && t.parse::<i64>().is_ok() => {
                        JValue::Integer(t.parse().unwrap_or(0))
                    }
                    _ => match t.parse::<f64>() {
                        Ok(f) if !t.is_empty() => JValue::Float(f),
                        _ => return Err(path_err(format!("Could not read query value: {t}"))),
                    },
                };
                Ok(Operand::Value(v))
            }
        }
    }
}

fn parse(path: &str) -> DnResult<Vec<Seg>> {
    let mut p = Parser { c: path.chars().collect(), i: 0, _src: path };
    p.path(false)
}

fn apply(root: &JToken, current: Vec<JToken>, seg: &Seg, strict: bool) -> DnResult<Vec<JToken>> {
    let mut out = Vec::new();
    for t in current {
        match seg {
            Seg::Root => out.push(root.clone()),
            Seg::Current => out.push(t),
            Seg::Field(None) => {
                for c in t.children() {
                    out.push(c.property_value().unwrap_or(c));
                }
            }
            Seg::Field(Some(n)) => {
                if t.is_object() {
                    match t.get(super::Key::Name(n))? {
                        Some(v) => out.push(v),
                        None if strict => return Err(path_err(format!("Property '{n}' does not exist on JObject."))),
                        None => {}
                    }
                } else if strict {
                    return Err(path_err(format!("Property '{n}' not valid on {}.", t.class_name())));
                }
            }
            Seg::Fields(ns) => {
                for n in ns {
                    if let Some(v) = t.get(super::Key::Name(n)).ok().flatten() {
                        out.push(v);
                    } else if strict {
                        return Err(path_err(format!("Property '{n}' does not exist on JObject.")));
                    }
                }
            }
            Seg::Index(_) | Seg::Indexes(_) if !t.is_array() => {
                if strict {
                    return Err(path_err(format!("Index {} not valid on {}.", index_text(seg), t.class_name())));
                }
            }
            Seg::Index(i) => push_index(&t, *i, strict, &mut out)?,
            Seg::Indexes(v) => {
                for i in v {
                    push_index(&t, *i, strict, &mut out)?;
                }
            }
            Seg::Slice(a, b, step) => {
                if !t.is_array() {
                    if strict {
                        return Err(path_err(format!("Array slice is not valid on {}.", t.class_name())));
                    }
                    continue;
                }
                let items = t.children();
                let n = items.len() as i64;
                let step = step.unwrap_or(1);
                let norm = |x: i64| if x < 0 { (n + x).max(0) } else { x.min(n) };
                if step > 0 {
                    let (mut s, e) = (a.map_or(0, norm), b.map_or(n, norm));
                    while s < e {
                        out.push(items[s as usize].clone());
                        s += step;
                    }
                } else {
                    let (mut s, e) = (a.map_or(n - 1, |x| norm(x).min(n - 1)), b.map_or(-1, norm));
                    while s > e && s >= 0 {
                        out.push(items[s as usize].clone());
                        s += step;
                    }
                }
            }
            Seg::Scan(name) => {
                for d in t.descendants() {
                    match (d.name(), name) {
                        (Some(pn), Some(n)) if &pn == n => {
                            if let Some(v) = d.property_value() {
                                out.push(v);
                            }
                        }
                        (None, None) => out.push(d),
                        _ => {}
                    }
                }
            }
            Seg::Filter(e) => {
                for c in t.children() {
                    if matches(root, &c, e)? {
                        out.push(c);
                    }
                }
            }
        }
    }
    Ok(out)
}

fn index_text(seg: &Seg) -> String {
    match seg {
        Seg::Index(i) => i.to_string(),
        _ => "*".into(),
    }
}

fn push_index(t: &JToken, i: i64, strict: bool, out: &mut Vec<JToken>) -> DnResult<()> {
    let items = t.children();
    match usize::try_from(i).ok().and_then(|i| items.get(i)) {
        Some(v) => out.push(v.clone()),
        None if strict => return Err(path_err(format!("Index {i} outside the bounds of JArray."))),
        None => {}
    }
    Ok(())
}

fn eval_path(root: &JToken, current: &JToken, segs: &[Seg]) -> DnResult<Vec<JToken>> {
    let mut cur = vec![current.clone()];
    for s in segs {
        cur = apply(root, cur, s, false)?;
    }
    Ok(cur)
}

fn operand_values(root: &JToken, current: &JToken, o: &Operand) -> DnResult<Vec<JToken>> {
    match o {
        Operand::Path(p) => eval_path(root, current, p),
        Operand::Value(v) => Ok(vec![JToken::value(v.clone())]),
        Operand::Regex(..) => Ok(Vec::new()),
    }
}

fn matches(root: &JToken, current: &JToken, e: &Expr) -> DnResult<bool> {
    match e {
        Expr::And(v) => {
            for x in v {
                if !matches(root, current, x)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        Expr::Or(v) => {
            for x in v {
                if matches(root, current, x)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Expr::Cmp(l, op, r) => {
            let left = operand_values(root, current, l)?;
            if *op == Op::Exists {
                return Ok(!left.is_empty());
            }
            let Some(r) = r else { return Ok(false) };
            if let Operand::Regex(pat, flags) = r {
                let mut b = regex::RegexBuilder::new(pat);
                b.case_insensitive(flags.contains('i'))
                    .multi_line(flags.contains('m'))
                    .dot_matches_new_line(flags.contains('s'));
                b.size_limit(1 << 20);
                let re = b.build().map_err(|e| path_err(format!("Invalid regex in JSONPath: {e}")))?;
                return Ok(left.iter().any(|t| matches!(t.as_value(), Some(JValue::String(s)) if re.is_match(&s))));
            }
            let right = operand_values(root, current, r)?;
            for a in &left {
                for b in &right {
                    if compare(a, *op, b) {
                        return Ok(true);
                    }
                }
            }
            Ok(false)
        }
    }
}

fn compare(a: &JToken, op: Op, b: &JToken) -> bool {
    let (Some(x), Some(y)) = (a.as_value(), b.as_value()) else {
        return match op {
            Op::Eq | Op::StrictEq => a.deep_equals(b),
            Op::Ne | Op::StrictNe => !a.deep_equals(b),
            _ => false,
        };
    };
    let ord = match (as_number(&x), as_number(&y)) {
        (Some(p), Some(q)) => p.partial_cmp(&q),
        _ => match (&x, &y) {
            (JValue::String(p), JValue::String(q)) => Some(p.cmp(q)),
            (JValue::Boolean(p), JValue::Boolean(q)) => Some(p.cmp(q)),
            (JValue::Null, JValue::Null) => Some(std::cmp::Ordering::Equal),
            _ => {
                // String coercion: a date/guid/uri compares with its string form.
                let xs = super::write::value_to_string(&x);
                match (&x, &y) {
                    (JValue::String(_), JValue::Date(_) | JValue::Guid(_) | JValue::Uri(_) | JValue::TimeSpan(_))
                    | (JValue::Date(_) | JValue::Guid(_) | JValue::Uri(_) | JValue::TimeSpan(_), JValue::String(_))
                        if matches!(op, Op::Eq | Op::Ne) =>
                    {
                        let ys = super::write::value_to_string(&y);
                        let xs = if let JValue::Date(d) = &x { super::write::iso_date(*d, None) } else { xs };
                        let ys = if let JValue::Date(d) = &y { super::write::iso_date(*d, None) } else { ys };
                        Some(xs.cmp(&ys))
                    }
                    _ => None,
                }
            }
        },
    };
    let strict_same = x.token_type() == y.token_type();
    match (op, ord) {
        (Op::Eq, Some(o)) => o.is_eq(),
        (Op::StrictEq, Some(o)) => strict_same && o.is_eq(),
        (Op::Ne, Some(o)) => !o.is_eq(),
        (Op::Ne, None) => true,
        (Op::StrictNe, o) => !(strict_same && o.is_some_and(|o| o.is_eq())),
        (Op::Lt, Some(o)) => o.is_lt(),
        (Op::Le, Some(o)) => o.is_le(),
        (Op::Gt, Some(o)) => o.is_gt(),
        (Op::Ge, Some(o)) => o.is_ge(),
        _ => false,
    }
}

impl JToken {
    /// `SelectTokens(path, errorWhenNoMatch)`.
    pub fn select_tokens(&self, path: &str, error_when_no_match: bool) -> DnResult<Vec<JToken>> {
        let segs = parse(path)?;
        let mut cur = vec![self.clone()];
        for s in &segs {
            cur = apply(self, cur, s, error_when_no_match)?;
        }
        Ok(cur)
    }

    /// `SelectToken(path, errorWhenNoMatch)`: null when nothing matches; more than one match
    /// throws.
    pub fn select_token(&self, path: &str, error_when_no_match: bool) -> DnResult<Option<JToken>> {
        let mut v = self.select_tokens(path, error_when_no_match)?;
        if v.len() > 1 {
            return Err(path_err("Path returned multiple tokens."));
        }
        Ok(v.pop())
    }
}
