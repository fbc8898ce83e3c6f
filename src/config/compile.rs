//! [`Doc`] → [`Snapshot`]: resolves named values, references, URLs, templates and policies,
//! recording every problem with its path.

use std::collections::HashMap;

use super::hosts::{validate_hostname, HostMatcher};
use super::json::Ctx;
use super::model::Doc;
use super::named_values::substitute;
use super::policy_check::{compile_policy, PolicyKind};
use super::route::Router;
use super::snapshot::*;
use crate::api_model::parse_backend_url;

mod refs;

use refs::{compile_subscriptions, unique_ids};

/// Shared state while compiling.
pub(crate) struct Compiler<'a> {
    pub ctx: &'a mut Ctx,
    pub values: HashMap<String, String>,
    /// Ids of `backends[]`, for `set-backend-service backend-id` (known before policies).
    pub backend_ids: Vec<String>,
    /// Compiled policy documents by JSON path, turned into plans at the end.
    pub policies: crate::policy::Sources,
}

impl Compiler<'_> {
    /// Substitutes named values; unknown names are problems at `path`.
    pub fn subst(&mut self, s: &str, path: &str) -> String {
        match substitute(s, &self.values) {
            Ok(out) => out,
            Err(unknown) => {
                for name in unknown {
                    self.ctx.problem(path, format!("unknown named value '{name}'"));
                }
                s.to_string()
            }
        }
    }

    /// Compiles a policy document (positions refer to the text as written) and keeps it for
    /// the plans; returns the text after named-value substitution.
    pub fn policy(&mut self, p: Option<&str>, path: &str, kind: PolicyKind) -> Option<String> {
        let p = p?;
        match compile_policy(p, kind, &self.values, Some(&self.backend_ids)) {
            Ok(doc) => match path.strip_prefix("policyFragments.") {
                Some(id) if kind == PolicyKind::Fragment => self.policies.add_fragment(id, p, doc),
                _ => self.policies.add_document(path, p, doc),
            },
            Err(problems) => {
                for pp in problems {
                    self.ctx.problem(format!("{path}:{}:{}", pp.line, pp.column), pp.message);
                }
            }
        }
        Some(self.subst(p, path))
    }

    fn url(&mut self, raw: Option<&str>, path: &str) -> Option<BackendUrl> {
        self.url_as(raw, path, parse_backend_url)
    }

    fn url_as(
        &mut self,
        raw: Option<&str>,
        path: &str,
        parse: fn(&str) -> Result<BackendUrl, String>,
    ) -> Option<BackendUrl> {
        let raw = raw?;
        let s = self.subst(raw, path);
        match parse(&s) {
            Ok(u) => Some(u),
            // The parser quotes what it could not read, which may be a piece of a secret named
            // value: name the URL as written instead.
            Err(_) if s != raw => {
                self.ctx.problem(
                    path,
                    format!(
                        "'{raw}' is not a valid absolute URL once its named values are substituted \
                         (their values are not shown)"
                    ),
                );
                None
            }
            Err(e) => {
                self.ctx.problem(path, e);
                None
            }
        }
    }
}

/// FNV-1a, 64-bit: a stable content hash for documents without a `revision`.
pub(crate) fn content_revision(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("h-{h:016x}")
}

/// The certificate chain of `pem`, parsed once here for every TLS and token use; an empty
/// chain only when a problem was reported.
fn parse_pem(c: &Certificate, at: &str, ctx: &mut Ctx) -> Vec<rustls::pki_types::CertificateDer<'static>> {
    let mut rd = c.pem.as_bytes();
    let certs: Result<Vec<_>, _> = rustls_pemfile::certs(&mut rd).collect();
    let chain = match certs {
        Ok(v) if !v.is_empty() => v,
        Ok(_) => {
            ctx.problem(format!("{at}.pem"), "no CERTIFICATE block found");
            Vec::new()
        }
        Err(e) => {
            ctx.problem(format!("{at}.pem"), format!("unreadable PEM: {e}"));
            Vec::new()
        }
    };
    if let Some(k) = &c.key {
        match rustls_pemfile::private_key(&mut k.as_bytes()) {
            Ok(Some(_)) => {}
            Ok(None) => ctx.problem(format!("{at}.key"), "no private key block found"),
            Err(e) => ctx.problem(format!("{at}.key"), format!("unreadable PEM: {e}")),
        }
    }
    chain
}

/// Compiles the walked document. The result is only handed out when `ctx` has no problems.
pub(crate) fn compile(doc: Doc, revision_fallback: String, ctx: &mut Ctx) -> Snapshot {
    let mut c = Compiler {
        ctx,
        values: doc.named_values.iter().cloned().collect(),
        backend_ids: Vec::new(),
        policies: crate::policy::Sources::default(),
    };

    unique_ids(c.ctx, "certificates", doc.certificates.iter().map(|x| x.id.as_str()));
    let certificates: Vec<Certificate> = doc
        .certificates
        .into_iter()
        .enumerate()
        .map(|(i, d)| {
            let mut cert =
                Certificate { id: d.id, pem: d.pem, key: d.key, is_trusted: d.is_trusted, chain: Vec::new() };
            cert.chain = parse_pem(&cert, &format!("certificates[{i}]"), c.ctx);
            cert
        })
        .collect();
    let cert_exists = |id: &str| certificates.iter().any(|x| x.id == id);

    let mut hostnames = Vec::new();
    for (i, h) in doc.hostnames.into_iter().enumerate() {
        let at = format!("gateway.hostnames[{i}]");
        let hostname = match validate_hostname(&h.hostname) {
            Ok(n) => n,
            Err(e) => {
                c.ctx.problem(format!("{at}.hostname"), e);
                continue;
            }
        };
        if let Some(id) = &h.certificate_id {
            if !cert_exists(id) {
                c.ctx.problem(format!("{at}.certificateId"), format!("unknown certificate '{id}'"));
            }
        }
        hostnames.push(HostnameConfig {
            hostname,
            certificate_id: h.certificate_id,
            negotiate_client_certificate: h.negotiate_client_certificate,
            http2_enabled: h.http2_enabled,
        });
    }
    let hosts = HostMatcher::new(hostnames.iter().map(|h| h.hostname.as_str()));

    unique_ids(c.ctx, "backends", doc.backends.iter().map(|x| x.id.as_str()));
    let backend_ids: Vec<String> = doc.backends.iter().map(|b| b.id.clone()).collect();
    c.backend_ids = backend_ids.clone();
    let mut backends = Vec::new();
    for (i, b) in doc.backends.into_iter().enumerate() {
        let at = format!("backends[{i}]");
        let url = c.url(b.url.as_deref(), &format!("{at}.url"));
        let refs =
            b.tls.ca_certificate_ids.iter().enumerate().map(|(j, id)| (format!("{at}.tls.caCertificateIds[{j}]"), id));
        let client = b.tls.client_certificate_id.iter().map(|id| (format!("{at}.tls.clientCertificateId"), id));
        for (path, id) in refs.chain(client) {
            if !cert_exists(id) {
                c.ctx.problem(path, format!("unknown certificate '{id}'"));
            }
        }
        for (j, m) in b.pool.iter().enumerate() {
            if !backend_ids.contains(&m.backend_id) {
                c.ctx.problem(format!("{at}.pool.services[{j}].id"), format!("unknown backend '{}'", m.backend_id));
            }
        }
        let mut creds = |list: Vec<(String, Vec<String>)>, kind: &str| -> Vec<(String, Vec<String>)> {
            list.into_iter()
                .map(|(n, vals)| {
                    let path = format!("{at}.credentials.{kind}.{n}");
                    let vals = vals.iter().map(|v| c.subst(v, &path)).collect();
                    (n, vals)
                })
                .collect()
        };
        let credentials =
            Credentials { header: creds(b.header_credentials, "header"), query: creds(b.query_credentials, "query") };
        backends.push(Backend {
            id: b.id,
            url,
            tls: b.tls,
            credentials,
            pool: b.pool,
            circuit_breaker: b.circuit_breaker,
        });
    }

    unique_ids(c.ctx, "caches", doc.caches.iter().map(|x| x.id.as_str()));
    let caches = doc.caches.into_iter().map(|x| Cache { id: x.id, connection_string: x.connection_string }).collect();

    let (mut apis, mut products) = refs::compile_apis_products(&mut c, doc.apis, doc.products);
    refs::assign_open_products(c.ctx, &mut apis, &mut products);
    let router = Router::build(&apis, c.ctx);
    let subscriptions = compile_subscriptions(c.ctx, doc.subscriptions, &apis, &products);

    let policy = c.policy(doc.policy.as_deref(), "policy", PolicyKind::Policies);
    let policy_fragments = doc
        .fragments
        .into_iter()
        .map(|(name, text)| {
            let p = c.policy(Some(&text), &format!("policyFragments.{name}"), PolicyKind::Fragment);
            (name, p.unwrap_or_default())
        })
        .collect();

    let (mut policy_plans, plan_problems) = crate::policy::build_plans(&c.policies, &apis, &products);
    for p in plan_problems {
        c.ctx.problem(format!("{}:{}:{}", p.path, p.line, p.column), p.message);
    }
    let leaf =
        |id: &str| certificates.iter().find(|x| x.id == id).map(|x| x.chain.first().map_or(&[][..], |d| d.as_ref()));
    for m in crate::policy::policies::validate_jwt::resolve_certificates(&mut policy_plans, leaf) {
        c.ctx.problem("policy", m);
    }

    Snapshot {
        revision: doc.revision.filter(|r| !r.is_empty()).unwrap_or(revision_fallback),
        gateway_id: doc.gateway_id,
        gateway_location: doc.gateway_location,
        hosts,
        hostnames,
        apis,
        products,
        router,
        subscriptions,
        named_values: NamedValues { map: c.values },
        policy,
        policy_fragments,
        policy_plans,
        certificates,
        backends,
        caches,
    }
}
