//! JSON bytes → [`Doc`]: parse with simd-json, then walk the value collecting every problem.

use simd_json::OwnedValue as Value;

use super::json::{index, Ctx, Fields};
use super::model::{CacheDoc, CertDoc, Doc, HostDoc};

mod api;
mod backend;
mod breaker;

/// 1-based line and column of a byte offset, computed from the newline positions recorded
/// before parsing (simd-json rewrites the buffer in place while parsing).
fn line_col(newlines: &[usize], offset: usize) -> (usize, usize) {
    let line = newlines.partition_point(|&n| n < offset);
    let start = if line == 0 { 0 } else { newlines[line - 1] + 1 };
    (line + 1, offset.saturating_sub(start) + 1)
}

/// Parses the bytes; a syntax or UTF-8 error becomes a single `$` problem.
pub(crate) fn parse(bytes: &mut [u8], ctx: &mut Ctx) -> Option<Value> {
    let newlines: Vec<usize> = memchr::memchr_iter(b'\n', bytes).collect();
    if bytes.iter().all(u8::is_ascii_whitespace) {
        ctx.problem("$", "empty document");
        return None;
    }
    match simd_json::to_owned_value(bytes) {
        Ok(v) => Some(v),
        Err(e) => {
            let at = e.index().min(bytes.len());
            let (line, col) = line_col(&newlines, at);
            ctx.problem("$", format!("invalid JSON at byte {at} (line {line}, column {col}): {:?}", e.error()));
            None
        }
    }
}

const ROOT_FIELDS: &[&str] = &[
    "revision",
    "gateway",
    "namedValues",
    "policy",
    "policyFragments",
    "apis",
    "products",
    "subscriptions",
    "backends",
    "certificates",
    "caches",
];

/// Walks the whole document.
pub(crate) fn walk(root: &Value, ctx: &mut Ctx) -> Doc {
    let mut doc = Doc::default();
    let Some(f) = ctx.fields(root, "$", ROOT_FIELDS) else {
        return doc;
    };
    doc.revision = f.opt_str(ctx, "revision");
    if let Some(g) = f.get("gateway") {
        walk_gateway(g, &mut doc, ctx);
    }
    doc.named_values = string_map(&f, ctx, "namedValues");
    doc.policy = f.opt_str(ctx, "policy");
    doc.fragments = string_map(&f, ctx, "policyFragments");
    for (i, v) in f.array(ctx, "apis").iter().enumerate() {
        doc.apis.push(api::walk_api(v, &index("apis", i), ctx));
    }
    for (i, v) in f.array(ctx, "products").iter().enumerate() {
        doc.products.push(api::walk_product(v, &index("products", i), ctx));
    }
    for (i, v) in f.array(ctx, "subscriptions").iter().enumerate() {
        doc.subscriptions.push(api::walk_subscription(v, &index("subscriptions", i), ctx));
    }
    for (i, v) in f.array(ctx, "backends").iter().enumerate() {
        doc.backends.push(backend::walk_backend(v, &index("backends", i), ctx));
    }
    for (i, v) in f.array(ctx, "certificates").iter().enumerate() {
        let at = index("certificates", i);
        if let Some(c) = ctx.fields(v, &at, &["id", "pem", "key", "isTrusted"]) {
            doc.certificates.push(CertDoc {
                id: c.req_str(ctx, "id").unwrap_or_default(),
                pem: c.req_str(ctx, "pem").unwrap_or_default(),
                key: c.opt_str(ctx, "key"),
                is_trusted: c.bool(ctx, "isTrusted", false),
            });
        }
    }
    for (i, v) in f.array(ctx, "caches").iter().enumerate() {
        let at = index("caches", i);
        if let Some(c) = ctx.fields(v, &at, &["id", "connectionString"]) {
            doc.caches.push(CacheDoc {
                id: c.req_str(ctx, "id").unwrap_or_default(),
                connection_string: c.req_str(ctx, "connectionString").unwrap_or_default(),
            });
        }
    }
    doc
}

fn walk_gateway(v: &Value, doc: &mut Doc, ctx: &mut Ctx) {
    let Some(g) = ctx.fields(v, "gateway", &["id", "location", "hostnames", "description"]) else {
        return;
    };
    doc.gateway_id = g.opt_str(ctx, "id");
    doc.gateway_location = g.opt_str(ctx, "location");
    const HOST_FIELDS: &[&str] =
        &["hostname", "certificateId", "negotiateClientCertificate", "http2Enabled", "tls10Enabled", "tls11Enabled"];
    for (i, h) in g.array(ctx, "hostnames").iter().enumerate() {
        let at = index("gateway.hostnames", i);
        let Some(h) = ctx.fields(h, &at, HOST_FIELDS) else {
            continue;
        };
        for old in ["tls10Enabled", "tls11Enabled"] {
            if h.bool(ctx, old, false) {
                ctx.problem(h.at(old), "TLS 1.0/1.1 are not supported; only TLS 1.2 and 1.3");
            }
        }
        doc.hostnames.push(HostDoc {
            hostname: h.req_str(ctx, "hostname").unwrap_or_default(),
            certificate_id: h.opt_str(ctx, "certificateId"),
            negotiate_client_certificate: h.bool(ctx, "negotiateClientCertificate", false),
            http2_enabled: h.bool(ctx, "http2Enabled", true),
        });
    }
}

/// An object of string values (`namedValues`, `policyFragments`), sorted by name.
fn string_map(f: &Fields<'_>, ctx: &mut Ctx, key: &str) -> Vec<(String, String)> {
    let Some(v) = f.get(key) else {
        return Vec::new();
    };
    let path = f.at(key);
    let Value::Object(obj) = v else {
        ctx.problem(path, format!("expected an object, found {}", super::json::kind(v)));
        return Vec::new();
    };
    let mut out: Vec<(String, String)> = Vec::with_capacity(obj.len());
    for (name, value) in obj.iter() {
        if let Some(s) = ctx.string(value, &super::json::join(&path, name)) {
            out.push((name.clone(), s));
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_errors_have_line_and_column() {
        let mut ctx = Ctx::default();
        let mut b = b"{\n  \"apis\": [\n    1,,\n]}".to_vec();
        assert!(parse(&mut b, &mut ctx).is_none());
        let p = &ctx.problems[0];
        assert_eq!(p.path, "$");
        assert!(p.message.starts_with("invalid JSON at byte"), "{}", p.message);
        assert!(p.message.contains("(line 3,"), "{}", p.message);
    }

    #[test]
    fn invalid_utf8_and_empty() {
        let mut ctx = Ctx::default();
        assert!(parse(&mut b"{\"a\":\"\xff\"}".to_vec(), &mut ctx).is_none());
        assert!(parse(&mut b"  ".to_vec(), &mut ctx).is_none());
        assert_eq!(ctx.problems.len(), 2);
    }

    #[test]
    fn line_col_math() {
        let nl = [3, 7];
        assert_eq!(line_col(&nl, 0), (1, 1));
        assert_eq!(line_col(&nl, 3), (1, 4));
        assert_eq!(line_col(&nl, 4), (2, 1));
        assert_eq!(line_col(&nl, 9), (3, 2));
    }
}
