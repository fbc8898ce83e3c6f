//! `XElement.ToString()` / `XDocument.ToString()`: indented with two spaces and `\r\n`
//! (XmlWriterSettings' NewLineChars default) except inside mixed content; `<a />` for an
//! empty element; `SaveOptions.DisableFormatting` writes everything on one line.

use super::{XDocument, XElement, XNode};

fn escape_text(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
}

fn escape_attr(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            '\t' => out.push_str("&#x9;"),
            c => out.push(c),
        }
    }
}

fn write(e: &XElement, out: &mut String, indent: Option<usize>) {
    out.push('<');
    out.push_str(&e.qname);
    for a in &e.attributes {
        out.push(' ');
        out.push_str(&a.qname);
        out.push_str("=\"");
        escape_attr(&a.value, out);
        out.push('"');
    }
    if e.nodes.is_empty() {
        out.push_str(" />");
        return;
    }
    out.push('>');
    let mixed = e.nodes.iter().any(|n| matches!(n, XNode::Text(_) | XNode::CData(_)));
    let child_indent = if mixed { None } else { indent.map(|d| d + 1) };
    for n in &e.nodes {
        if let Some(d) = child_indent {
            out.push_str("\r\n");
            out.push_str(&"  ".repeat(d));
        }
        match n {
            XNode::Element(c) => write(c, out, child_indent),
            XNode::Text(t) => escape_text(t, out),
            XNode::CData(t) => {
                out.push_str("<![CDATA[");
                out.push_str(t);
                out.push_str("]]>");
            }
            XNode::Comment(t) => {
                out.push_str("<!--");
                out.push_str(t);
                out.push_str("-->");
            }
        }
    }
    if let (Some(d), false) = (indent, mixed) {
        out.push_str("\r\n");
        out.push_str(&"  ".repeat(d));
    }
    out.push_str("</");
    out.push_str(&e.qname);
    out.push('>');
}

impl XElement {
    /// `ToString()` (formatted) or `ToString(SaveOptions.DisableFormatting)`.
    pub fn to_xml(&self, formatted: bool) -> String {
        let mut out = String::new();
        write(self, &mut out, formatted.then_some(0));
        out
    }
}

impl XDocument {
    /// `XDocument.ToString()`: the root, without the declaration (as .NET).
    pub fn to_xml(&self, formatted: bool) -> String {
        self.root.to_xml(formatted)
    }
}
