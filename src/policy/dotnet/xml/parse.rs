//! `XDocument.Parse` / `XElement.Parse` over quick-xml, with namespace resolution, entity
//! decoding, and depth and size limits; white-space-only text between elements is dropped
//! (LoadOptions.None).

use super::{XAttribute, XDocument, XElement, XName, XNode};
use crate::policy::dotnet::error::{DnResult, DotnetError, ExceptionKind};
use quick_xml::events::Event;
use quick_xml::Reader;

/// Bounds on what one parse may build. The text's size alone does not bound the tree: a
/// body of `<a/>` repeated, or of one element with many short attributes, builds nodes
/// many times larger than their text, so nodes (elements, attributes, text, comments,
/// CDATA) are counted too.
#[derive(Clone, Copy, Debug)]
pub struct XmlLimits {
    pub max_depth: usize,
    pub max_bytes: usize,
    pub max_nodes: usize,
}

impl Default for XmlLimits {
    fn default() -> Self {
        Self { max_depth: 128, max_bytes: 64 << 20, max_nodes: 1 << 20 }
    }
}

/// What one node of the parsed tree costs, for budgets that convert bytes to nodes: an
/// element's name, qualified name and vectors, or an attribute's name and value.
pub const NODE_COST: usize = 160;

fn xml_err(m: impl Into<String>) -> DotnetError {
    DotnetError::new(ExceptionKind::Xml, m)
}

const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";
const XMLNS_NS: &str = "http://www.w3.org/2000/xmlns/";

/// Namespace scopes: (prefix, uri) pairs, innermost last.
struct Scope(Vec<(String, String)>);

impl Scope {
    fn lookup(&self, prefix: &str) -> Option<String> {
        if prefix == "xml" {
            return Some(XML_NS.into());
        }
        self.0.iter().rev().find(|(p, _)| p == prefix).map(|(_, u)| u.clone())
    }
}

fn resolve(scope: &Scope, qname: &str, is_attr: bool) -> DnResult<XName> {
    match qname.split_once(':') {
        Some(("xmlns", local)) => Ok(XName { namespace: XMLNS_NS.into(), local: local.into() }),
        Some((p, local)) => {
            let ns = scope.lookup(p).ok_or_else(|| xml_err(format!("'{p}' is an undeclared prefix.")))?;
            Ok(XName { namespace: ns, local: local.into() })
        }
        None if qname == "xmlns" => Ok(XName { namespace: XMLNS_NS.into(), local: "xmlns".into() }),
        None if is_attr => Ok(XName { namespace: String::new(), local: qname.into() }),
        None => Ok(XName { namespace: scope.lookup("").unwrap_or_default(), local: qname.into() }),
    }
}

fn start(scope: &mut Scope, e: &quick_xml::events::BytesStart) -> DnResult<(XElement, usize)> {
    let qname = String::from_utf8_lossy(e.name().as_ref()).into_owned();
    let mut raw = Vec::new();
    let mut pushed = 0;
    // quick-xml's own duplicate check is quadratic in the attribute count; the check below
    // hashes the resolved names instead.
    for a in e.attributes().with_checks(false) {
        let a = a.map_err(|e| xml_err(e.to_string()))?;
        let k = String::from_utf8_lossy(a.key.as_ref()).into_owned();
        let v = a.unescape_value().map_err(|e| xml_err(e.to_string()))?.into_owned();
        if k == "xmlns" {
            scope.0.push((String::new(), v.clone()));
            pushed += 1;
        } else if let Some(p) = k.strip_prefix("xmlns:") {
            scope.0.push((p.to_string(), v.clone()));
            pushed += 1;
        }
        raw.push((k, v));
    }
    let name = resolve(scope, &qname, false)?;
    let mut attributes = Vec::with_capacity(raw.len());
    let mut seen = std::collections::HashSet::with_capacity(raw.len());
    for (k, v) in raw {
        let n = resolve(scope, &k, true)?;
        if !seen.insert((n.namespace.clone(), n.local.clone())) {
            return Err(xml_err(format!("'{k}' is a duplicate attribute name.")));
        }
        attributes.push(XAttribute { name: n, qname: k, value: v });
    }
    Ok((XElement { name, qname, attributes, nodes: Vec::new() }, pushed))
}

/// `XDocument.Parse(text)`.
pub fn parse_document(text: &str, limits: XmlLimits) -> DnResult<XDocument> {
    parse_counted(text, limits).map(|(d, _)| d)
}

/// `XDocument.Parse(text)`, with the number of nodes built (for budgets).
pub fn parse_counted(text: &str, limits: XmlLimits) -> DnResult<(XDocument, usize)> {
    if text.len() > limits.max_bytes {
        return Err(DotnetError::budget(format!("XML document exceeds the {} byte budget", limits.max_bytes)));
    }
    let mut r = Reader::from_str(text);
    r.config_mut().check_end_names = true;
    let mut scope = Scope(Vec::new());
    let mut stack: Vec<(XElement, usize)> = Vec::new();
    let mut root: Option<XElement> = None;
    let mut decl = None;
    let mut nodes = 0usize;
    let mut dtd = false;
    loop {
        let ev = r.read_event().map_err(|e| xml_err(format!("{e} (at byte {})", r.buffer_position())))?;
        nodes += match &ev {
            Event::Start(e) | Event::Empty(e) => 1 + e.attributes().with_checks(false).count(),
            Event::Text(_) | Event::CData(_) | Event::Comment(_) => 1,
            _ => 0,
        };
        if nodes > limits.max_nodes {
            return Err(DotnetError::budget(format!(
                "XML document has more than {} nodes (elements, attributes and text), its budget",
                limits.max_nodes
            )));
        }
        match ev {
            Event::Decl(d) => decl = Some(String::from_utf8_lossy(&d).into_owned()),
            Event::Start(e) => {
                if root.is_some() {
                    return Err(xml_err("There are multiple root elements."));
                }
                if stack.len() >= limits.max_depth {
                    return Err(DotnetError::budget(format!("XML nesting deeper than {}", limits.max_depth)));
                }
                stack.push(start(&mut scope, &e)?);
            }
            Event::Empty(e) => {
                if root.is_some() {
                    return Err(xml_err("There are multiple root elements."));
                }
                let (el, pushed) = start(&mut scope, &e)?;
                scope.0.truncate(scope.0.len() - pushed);
                match stack.last_mut() {
                    Some((p, _)) => p.nodes.push(XNode::Element(el)),
                    None => root = Some(el),
                }
            }
            Event::End(_) => {
                let Some((el, pushed)) = stack.pop() else { return Err(xml_err("Unexpected end tag.")) };
                scope.0.truncate(scope.0.len() - pushed);
                match stack.last_mut() {
                    Some((p, _)) => p.nodes.push(XNode::Element(el)),
                    None => root = Some(el),
                }
            }
            Event::Text(t) => {
                let s = t
                    .unescape()
                    .map_err(|e| {
                        let why = if dtd { " (entities declared in a DTD are not expanded by ringgate)" } else { "" };
                        xml_err(format!("{e}{why}"))
                    })?
                    .into_owned();
                match stack.last_mut() {
                    // White space is kept until the element is complete (drop_whitespace).
                    Some((p, _)) => push_text(p, s),
                    None if s.trim().is_empty() => {}
                    None => return Err(xml_err("Data at the root level is invalid.")),
                }
            }
            Event::CData(c) => match stack.last_mut() {
                Some((p, _)) => p.nodes.push(XNode::CData(String::from_utf8_lossy(&c).into_owned())),
                None => return Err(xml_err("Data at the root level is invalid.")),
            },
            Event::Comment(c) => {
                if let Some((p, _)) = stack.last_mut() {
                    p.nodes.push(XNode::Comment(String::from_utf8_lossy(&c).into_owned()));
                }
            }
            Event::DocType(_) => dtd = true,
            Event::PI(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(xml_err("Unexpected end of file has occurred. The following elements are not closed."));
    }
    let mut root = root.ok_or_else(|| xml_err("Root element is missing."))?;
    drop_whitespace(&mut root);
    Ok((XDocument { declaration: decl, root }, nodes))
}

fn push_text(p: &mut XElement, s: String) {
    if let Some(XNode::Text(prev)) = p.nodes.last_mut() {
        prev.push_str(&s);
    } else {
        p.nodes.push(XNode::Text(s));
    }
}

/// LoadOptions.None: white-space-only text is dropped where it sits between markup.
fn drop_whitespace(e: &mut XElement) {
    let has_real_text =
        e.nodes.iter().any(|n| matches!(n, XNode::Text(t) if !t.trim().is_empty()) || matches!(n, XNode::CData(_)));
    if !has_real_text && e.nodes.iter().any(|n| !matches!(n, XNode::Text(_))) {
        e.nodes.retain(|n| !matches!(n, XNode::Text(_)));
    }
    for n in &mut e.nodes {
        if let XNode::Element(c) = n {
            drop_whitespace(c);
        }
    }
}

/// `XElement.Parse(text)`.
pub fn parse_element(text: &str, limits: XmlLimits) -> DnResult<XElement> {
    parse_document(text, limits).map(|d| d.root)
}
