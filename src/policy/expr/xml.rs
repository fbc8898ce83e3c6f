//! XML values of expressions: `XDocument` and `XElement` as shared nodes, so an edit through
//! one handle (`el.SetAttributeValue(…)` on an element found with `Descendants()`) is seen
//! through every other, as in .NET. Parsing and printing are `policy::dotnet::xml`'s; this
//! file converts between its owned trees and the shared ones.
//!
//! Locks are taken parent before child (printing walks down); a node's parent link has its
//! own lock and is never held while a node's content is locked.
//!
//! Ownership: a parent owns its children (`Arc`), a child links to its parent weakly, and a
//! handle keeps the top of the tree it was found in alive (`anchor`), so
//! `XDocument.Parse(…).Root.Element("a").Parent` still reaches its parent although the
//! document's own handle is gone, and no tree is a reference cycle.

use std::sync::{Arc, Mutex, MutexGuard, Weak};

use crate::policy::dotnet::xml::{self as dx, XName};

/// An attribute read from an element: a snapshot of its name and value, with its owner.
#[derive(Debug)]
pub struct XAttr {
    pub owner: Option<XRef>,
    pub name: XName,
    pub qname: String,
    pub value: String,
}

pub enum XChild {
    Element(Arc<XInner>),
    Text(String),
    CData(String),
    Comment(String),
}

pub struct XData {
    pub name: XName,
    pub qname: String,
    pub attributes: Vec<dx::XAttribute>,
    pub nodes: Vec<XChild>,
}

pub struct XInner {
    /// An `XDocument` (its only element child is the root) rather than an element.
    doc: bool,
    data: Mutex<XData>,
    parent: Mutex<Weak<XInner>>,
}

/// A handle on a shared node, with the top of the tree it was reached from.
#[derive(Clone)]
pub struct XRef {
    node: Arc<XInner>,
    anchor: Option<Arc<XInner>>,
}

impl std::fmt::Debug for XRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "XRef({})", self.lock().qname)
    }
}

fn own(node: Arc<XInner>) -> XRef {
    XRef { node, anchor: None }
}

fn guard<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// What `Add` accepts.
pub enum Content {
    Element(XRef),
    Attribute(XName, String),
    Text(String),
}

/// Why an `Add` failed.
#[derive(Debug, PartialEq, Eq)]
pub enum AddError {
    /// The node would contain itself.
    Circular,
    /// A document takes one root element and no text.
    Document,
    /// An attribute of that name is already there.
    DuplicateAttribute(String),
}

impl XRef {
    fn new(doc: bool, data: XData) -> XRef {
        own(Arc::new(XInner { doc, data: Mutex::new(data), parent: Mutex::new(Weak::new()) }))
    }

    /// A handle on another node of this handle's tree.
    fn reach(&self, node: Arc<XInner>) -> XRef {
        XRef { node, anchor: Some(self.anchor.clone().unwrap_or_else(|| self.node.clone())) }
    }

    pub fn lock(&self) -> MutexGuard<'_, XData> {
        guard(&self.node.data)
    }

    pub fn same(&self, other: &XRef) -> bool {
        Arc::ptr_eq(&self.node, &other.node)
    }

    pub fn is_document(&self) -> bool {
        self.node.doc
    }

    fn set_parent(&self, parent: &XRef) {
        *guard(&self.node.parent) = Arc::downgrade(&parent.node);
    }

    /// `new XElement(name)`.
    pub fn element(name: XName) -> XRef {
        let qname = name.local.clone();
        XRef::new(false, XData { name, qname, attributes: Vec::new(), nodes: Vec::new() })
    }

    /// A shared copy of a parsed element.
    pub fn from_owned(e: &dx::XElement) -> XRef {
        let x = XRef::new(
            false,
            XData { name: e.name.clone(), qname: e.qname.clone(), attributes: e.attributes.clone(), nodes: Vec::new() },
        );
        let nodes = e
            .nodes
            .iter()
            .map(|n| match n {
                dx::XNode::Element(c) => {
                    let c = XRef::from_owned(c);
                    c.set_parent(&x);
                    XChild::Element(c.node)
                }
                dx::XNode::Text(t) => XChild::Text(t.clone()),
                dx::XNode::CData(t) => XChild::CData(t.clone()),
                dx::XNode::Comment(t) => XChild::Comment(t.clone()),
            })
            .collect();
        x.lock().nodes = nodes;
        x
    }

    /// A document holding a parsed root.
    pub fn document(d: &dx::XDocument) -> XRef {
        let doc = XRef::new(
            true,
            XData { name: XName::default(), qname: String::new(), attributes: Vec::new(), nodes: Vec::new() },
        );
        let root = XRef::from_owned(&d.root);
        root.set_parent(&doc);
        doc.lock().nodes.push(XChild::Element(root.node));
        doc
    }

    /// An owned copy (for printing).
    pub fn to_owned_element(&self) -> dx::XElement {
        let d = self.lock();
        dx::XElement {
            name: d.name.clone(),
            qname: d.qname.clone(),
            attributes: d.attributes.clone(),
            nodes: d
                .nodes
                .iter()
                .map(|n| match n {
                    XChild::Element(c) => dx::XNode::Element(own(c.clone()).to_owned_element()),
                    XChild::Text(t) => dx::XNode::Text(t.clone()),
                    XChild::CData(t) => dx::XNode::CData(t.clone()),
                    XChild::Comment(t) => dx::XNode::Comment(t.clone()),
                })
                .collect(),
        }
    }

    /// `ToString()` (indented) or `ToString(SaveOptions.DisableFormatting)`; a document
    /// prints its root without the declaration, as .NET does.
    pub fn to_xml(&self, formatted: bool) -> String {
        if self.is_document() {
            return self.root().map(|r| r.to_xml(formatted)).unwrap_or_default();
        }
        self.to_owned_element().to_xml(formatted)
    }

    pub fn deep_clone(&self) -> XRef {
        if self.is_document() {
            let root = self.root().map(|r| r.to_owned_element());
            return match root {
                Some(root) => XRef::document(&dx::XDocument { declaration: None, root }),
                None => XRef::new(
                    true,
                    XData { name: XName::default(), qname: String::new(), attributes: Vec::new(), nodes: Vec::new() },
                ),
            };
        }
        XRef::from_owned(&self.to_owned_element())
    }

    /// `XDocument.Root`.
    pub fn root(&self) -> Option<XRef> {
        self.elements(None).into_iter().next()
    }

    pub fn name(&self) -> XName {
        self.lock().name.clone()
    }

    /// `Value`: the concatenated text of every descendant text node.
    pub fn value(&self) -> String {
        let mut s = String::new();
        self.collect_text(&mut s);
        s
    }

    fn collect_text(&self, s: &mut String) {
        for n in &self.lock().nodes {
            match n {
                XChild::Text(t) | XChild::CData(t) => s.push_str(t),
                XChild::Element(c) => own(c.clone()).collect_text(s),
                XChild::Comment(_) => {}
            }
        }
    }

    /// `Elements()` / `Elements(name)`.
    pub fn elements(&self, name: Option<&XName>) -> Vec<XRef> {
        self.lock()
            .nodes
            .iter()
            .filter_map(|n| match n {
                XChild::Element(c) => Some(self.reach(c.clone())),
                _ => None,
            })
            .filter(|c| name.is_none_or(|n| c.lock().name == *n))
            .collect()
    }

    /// `Descendants()` / `Descendants(name)`, in document order.
    pub fn descendants(&self, name: Option<&XName>, out: &mut Vec<XRef>) {
        for c in self.elements(None) {
            if name.is_none_or(|n| c.lock().name == *n) {
                out.push(c.clone());
            }
            c.descendants(name, out);
        }
    }

    /// The containing element (`None` for a root: its parent is the document).
    pub fn parent(&self) -> Option<XRef> {
        let p = self.container()?;
        (!p.is_document()).then_some(p)
    }

    /// Whether the node is in no container (a new element, or one removed).
    pub fn container_is_none(&self) -> bool {
        self.container().is_none()
    }

    fn container(&self) -> Option<XRef> {
        let p = guard(&self.node.parent).upgrade()?;
        Some(self.reach(p))
    }

    /// `Ancestors()` / `Ancestors(name)`, nearest first.
    pub fn ancestors(&self, name: Option<&XName>) -> Vec<XRef> {
        let mut out = Vec::new();
        let mut at = self.parent();
        while let Some(p) = at {
            if name.is_none_or(|n| p.lock().name == *n) {
                out.push(p.clone());
            }
            at = p.parent();
        }
        out
    }

    pub fn attribute(&self, name: &XName) -> Option<XAttr> {
        let d = self.lock();
        d.attributes.iter().find(|a| a.name == *name).map(|a| XAttr {
            owner: Some(self.clone()),
            name: a.name.clone(),
            qname: a.qname.clone(),
            value: a.value.clone(),
        })
    }

    pub fn attributes(&self, name: Option<&XName>) -> Vec<XAttr> {
        let d = self.lock();
        d.attributes
            .iter()
            .filter(|a| name.is_none_or(|n| a.name == *n))
            .map(|a| XAttr {
                owner: Some(self.clone()),
                name: a.name.clone(),
                qname: a.qname.clone(),
                value: a.value.clone(),
            })
            .collect()
    }

    pub fn has_elements(&self) -> bool {
        self.lock().nodes.iter().any(|n| matches!(n, XChild::Element(_)))
    }

    pub fn has_attributes(&self) -> bool {
        !self.lock().attributes.is_empty()
    }

    pub fn is_empty(&self) -> bool {
        self.lock().nodes.is_empty()
    }

    /// `SetAttributeValue(name, value)`: `None` removes the attribute.
    pub fn set_attribute_value(&self, name: &XName, value: Option<&str>) {
        let mut d = self.lock();
        match (d.attributes.iter().position(|a| a.name == *name), value) {
            (Some(i), Some(v)) => d.attributes[i].value = v.to_string(),
            (Some(i), None) => {
                d.attributes.remove(i);
            }
            (None, Some(v)) => d.attributes.push(dx::XAttribute {
                qname: name.local.clone(),
                name: name.clone(),
                value: v.to_string(),
            }),
            (None, None) => {}
        }
    }

    /// `SetValue(text)` / `Value = text`: the content becomes one text node.
    pub fn set_value(&self, text: &str) {
        self.lock().nodes = vec![XChild::Text(text.to_string())];
    }

    /// `SetElementValue(name, value)`: sets the first child of that name (adding it if
    /// needed); `None` removes it.
    pub fn set_element_value(&self, name: &XName, value: Option<&str>) {
        match (self.elements(Some(name)).into_iter().next(), value) {
            (Some(c), Some(v)) => c.set_value(v),
            (Some(c), None) => c.remove(),
            (None, Some(v)) => {
                let c = XRef::element(name.clone());
                c.set_value(v);
                c.set_parent(self);
                self.lock().nodes.push(XChild::Element(c.node));
            }
            (None, None) => {}
        }
    }

    /// `Add(content)`: an element that already has a parent is copied (as .NET does).
    pub fn add(&self, c: Content) -> Result<(), AddError> {
        match c {
            Content::Element(e) => {
                let e = if e.container().is_some() { e.deep_clone() } else { e };
                let mut at = Some(self.clone());
                while let Some(a) = at {
                    if a.same(&e) {
                        return Err(AddError::Circular);
                    }
                    at = a.container();
                }
                if self.is_document() && self.root().is_some() {
                    return Err(AddError::Document);
                }
                e.set_parent(self);
                self.lock().nodes.push(XChild::Element(e.node));
            }
            Content::Attribute(name, value) => {
                if self.is_document() {
                    return Err(AddError::Document);
                }
                let mut d = self.lock();
                if d.attributes.iter().any(|a| a.name == name) {
                    return Err(AddError::DuplicateAttribute(name.to_dotnet_string()));
                }
                d.attributes.push(dx::XAttribute { qname: name.local.clone(), name, value });
            }
            Content::Text(t) => {
                if self.is_document() {
                    return Err(AddError::Document);
                }
                let mut d = self.lock();
                if let Some(XChild::Text(prev)) = d.nodes.last_mut() {
                    prev.push_str(&t);
                } else {
                    d.nodes.push(XChild::Text(t));
                }
            }
        }
        Ok(())
    }

    /// `Remove()`: detaches the node from its parent (nothing when it has none).
    pub fn remove(&self) {
        let Some(p) = self.container() else { return };
        p.lock().nodes.retain(|n| !matches!(n, XChild::Element(c) if Arc::ptr_eq(c, &self.node)));
        *guard(&self.node.parent) = Weak::new();
    }

    /// `RemoveAll()`: removes content and attributes.
    pub fn remove_all(&self) {
        let mut d = self.lock();
        d.nodes.clear();
        d.attributes.clear();
    }

    /// `RemoveAttributes()`.
    pub fn remove_attributes(&self) {
        self.lock().attributes.clear();
    }

    /// `Remove()` of one of its attributes.
    pub fn remove_attribute(&self, name: &XName) {
        self.lock().attributes.retain(|a| a.name != *name);
    }
}

/// `XAttribute.ToString()`: `name="value"` with the value escaped.
pub fn attribute_text(a: &XAttr) -> String {
    let mut s = String::with_capacity(a.qname.len() + a.value.len() + 3);
    s.push_str(&a.qname);
    s.push_str("=\"");
    for c in a.value.chars() {
        match c {
            '&' => s.push_str("&amp;"),
            '<' => s.push_str("&lt;"),
            '>' => s.push_str("&gt;"),
            '"' => s.push_str("&quot;"),
            '\n' => s.push_str("&#xA;"),
            '\r' => s.push_str("&#xD;"),
            '\t' => s.push_str("&#x9;"),
            c => s.push(c),
        }
    }
    s.push('"');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> XRef {
        XRef::document(&dx::parse_document(s, dx::XmlLimits::default()).expect("xml"))
    }

    #[test]
    fn navigation_and_edits_are_shared() {
        let d = parse(r#"<a x="1"><b>one</b><c><b>two</b></c></a>"#);
        let root = d.root().expect("root");
        assert_eq!(root.name().local, "a");
        let mut bs = Vec::new();
        d.descendants(Some(&XName::parse("b")), &mut bs);
        assert_eq!(bs.iter().map(XRef::value).collect::<Vec<_>>(), ["one", "two"]);
        bs[1].set_attribute_value(&XName::parse("k"), Some("v"));
        assert_eq!(d.to_xml(false), r#"<a x="1"><b>one</b><c><b k="v">two</b></c></a>"#);
        assert_eq!(bs[1].ancestors(None).len(), 2);
        assert!(root.parent().is_none(), "a root's Parent is null");
        bs[0].remove();
        assert_eq!(root.to_xml(false), r#"<a x="1"><c><b k="v">two</b></c></a>"#);
    }

    #[test]
    fn add_copies_parented_nodes_and_refuses_cycles() {
        let d = parse("<a><b/></a>");
        let root = d.root().expect("root");
        let b = root.elements(None)[0].clone();
        assert_eq!(b.add(Content::Element(root.clone())), Ok(()), "a parented node is copied");
        let fresh = XRef::element(XName::parse("n"));
        fresh.add(Content::Text("t".into())).expect("text");
        root.add(Content::Element(fresh.clone())).expect("add");
        assert_eq!(fresh.add(Content::Element(root.clone())), Ok(()), "copied: root has a parent (the document)");
        let lone = XRef::element(XName::parse("x"));
        assert_eq!(lone.add(Content::Element(lone.clone())), Err(AddError::Circular));
        assert_eq!(d.add(Content::Element(XRef::element(XName::parse("y")))), Err(AddError::Document));
    }
}
