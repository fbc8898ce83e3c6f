//! `System.Xml.Linq` for reading bodies: `XDocument.Parse`, `XElement` with `Name`
//! (`LocalName`, `NamespaceName`), `Element(s)`, `Descendants`, `Attribute(s)`, `Value`,
//! and `ToString()` (indented, two spaces, `\r\n` as XmlWriterSettings' default, `<a />`
//! for empty elements) or `SaveOptions.DisableFormatting`. Owned values (Send + Sync):
//! callers share them behind their own handles.

mod parse;
mod write;

#[cfg(test)]
mod tests;

pub use parse::{parse_counted, parse_document, parse_element, XmlLimits, NODE_COST};

/// `XName`: namespace URI (empty for none) and local name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct XName {
    pub namespace: String,
    pub local: String,
}

impl XName {
    /// The implicit conversion from string: `"{urn:x}local"` or `"local"`.
    pub fn parse(s: &str) -> Self {
        if let Some(rest) = s.strip_prefix('{') {
            if let Some((ns, local)) = rest.split_once('}') {
                return XName { namespace: ns.to_string(), local: local.to_string() };
            }
        }
        XName { namespace: String::new(), local: s.to_string() }
    }
    /// `ToString()`: `{ns}local` or `local`.
    pub fn to_dotnet_string(&self) -> String {
        if self.namespace.is_empty() {
            self.local.clone()
        } else {
            format!("{{{}}}{}", self.namespace, self.local)
        }
    }
}

/// An attribute as written (`prefix:name` kept for output) and its resolved name.
#[derive(Clone, Debug, PartialEq)]
pub struct XAttribute {
    pub name: XName,
    /// The qualified name as written (`xmlns:a`, `a:id`, `id`).
    pub qname: String,
    pub value: String,
}

#[derive(Clone, Debug, PartialEq)]
pub enum XNode {
    Element(XElement),
    Text(String),
    CData(String),
    Comment(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct XElement {
    pub name: XName,
    /// The qualified name as written, for output.
    pub qname: String,
    pub attributes: Vec<XAttribute>,
    pub nodes: Vec<XNode>,
}

/// `XDocument`: the root element and the declaration, if any.
#[derive(Clone, Debug, PartialEq)]
pub struct XDocument {
    pub declaration: Option<String>,
    pub root: XElement,
}

impl XElement {
    /// `new XElement(name, value)`.
    pub fn new(name: &str, text: Option<&str>) -> Self {
        let n = XName::parse(name);
        XElement {
            qname: n.local.clone(),
            name: n,
            attributes: Vec::new(),
            nodes: text.map(|t| vec![XNode::Text(t.to_string())]).unwrap_or_default(),
        }
    }

    /// `Elements()`.
    pub fn elements(&self) -> impl Iterator<Item = &XElement> {
        self.nodes.iter().filter_map(|n| match n {
            XNode::Element(e) => Some(e),
            _ => None,
        })
    }

    /// `Elements(name)`.
    pub fn elements_named<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a XElement> + 'a {
        let n = XName::parse(name);
        self.elements().filter(move |e| e.name == n)
    }

    /// `Element(name)`: the first child with that name.
    pub fn element(&self, name: &str) -> Option<&XElement> {
        let n = XName::parse(name);
        self.elements().find(|e| e.name == n)
    }

    /// `Descendants()` in document order.
    pub fn descendants(&self) -> Vec<&XElement> {
        let mut out = Vec::new();
        fn walk<'a>(e: &'a XElement, out: &mut Vec<&'a XElement>) {
            for c in e.elements() {
                out.push(c);
                walk(c, out);
            }
        }
        walk(self, &mut out);
        out
    }

    /// `Descendants(name)`.
    pub fn descendants_named(&self, name: &str) -> Vec<&XElement> {
        let n = XName::parse(name);
        self.descendants().into_iter().filter(|e| e.name == n).collect()
    }

    /// `Attribute(name)`.
    pub fn attribute(&self, name: &str) -> Option<&XAttribute> {
        let n = XName::parse(name);
        self.attributes.iter().find(|a| a.name == n)
    }

    /// `Value`: the concatenated text of every descendant text node.
    pub fn value(&self) -> String {
        let mut s = String::new();
        fn walk(e: &XElement, s: &mut String) {
            for n in &e.nodes {
                match n {
                    XNode::Text(t) | XNode::CData(t) => s.push_str(t),
                    XNode::Element(c) => walk(c, s),
                    XNode::Comment(_) => {}
                }
            }
        }
        walk(self, &mut s);
        s
    }

    /// `HasElements`.
    pub fn has_elements(&self) -> bool {
        self.elements().next().is_some()
    }

    /// `IsEmpty`: no content at all (written `<a />`).
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// `SetAttributeValue(name, value)`: None removes.
    pub fn set_attribute_value(&mut self, name: &str, value: Option<&str>) {
        let n = XName::parse(name);
        match (self.attributes.iter().position(|a| a.name == n), value) {
            (Some(i), Some(v)) => self.attributes[i].value = v.to_string(),
            (Some(i), None) => {
                self.attributes.remove(i);
            }
            (None, Some(v)) => {
                self.attributes.push(XAttribute { qname: n.local.clone(), name: n, value: v.to_string() })
            }
            (None, None) => {}
        }
    }

    /// `SetValue(text)` / `Value = text`: replaces the content with one text node.
    pub fn set_value(&mut self, text: &str) {
        self.nodes = vec![XNode::Text(text.to_string())];
    }

    /// `Add(element)`.
    pub fn add(&mut self, e: XElement) {
        self.nodes.push(XNode::Element(e));
    }
}
