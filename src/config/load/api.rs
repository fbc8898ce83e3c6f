//! Walking APIs, operations, products and subscriptions.

use simd_json::OwnedValue as Value;

use crate::config::json::{index, Ctx};
use crate::config::model::{ApiDoc, OpDoc, ProductDoc, SubDoc};
use crate::config::snapshot::{ApiType, Protocols, VersionScheme};
use crate::config::subscriptions::SubState;

const API_FIELDS: &[&str] = &[
    "id",
    "name",
    "path",
    "serviceUrl",
    "protocols",
    "subscriptionRequired",
    "subscriptionKeyParameterNames",
    "type",
    "apiVersion",
    "apiVersionSet",
    "policy",
    "operations",
    "description",
    "displayName",
];

/// Checks an API path: no leading/trailing '/', no empty segments, no spaces, '?' or '#'.
fn check_api_path(p: &str) -> Result<(), &'static str> {
    if p.is_empty() {
        return Ok(());
    }
    if p.starts_with('/') || p.ends_with('/') {
        return Err("must not start or end with '/'");
    }
    if p.split('/').any(str::is_empty) {
        return Err("must not contain empty segments ('//')");
    }
    if p.bytes().any(|b| b <= b' ' || b == 0x7f || b == b'?' || b == b'#') {
        return Err("must not contain spaces, control characters, '?' or '#'");
    }
    Ok(())
}

pub(super) fn walk_api(v: &Value, at: &str, ctx: &mut Ctx) -> ApiDoc {
    let f = ctx.fields(v, at, API_FIELDS);
    let mut api = ApiDoc {
        id: String::new(),
        name: None,
        path: String::new(),
        service_url: None,
        protocols: Protocols { http: true, https: true },
        subscription_required: true,
        key_header: "ocp-apim-subscription-key".into(),
        key_query: "subscription-key".into(),
        kind: ApiType::Http,
        version: None,
        version_scheme: None,
        policy: None,
        operations: Vec::new(),
    };
    let Some(f) = f else { return api };
    api.id = f.req_str(ctx, "id").unwrap_or_default();
    api.name = f.opt_str(ctx, "name");
    api.path = f.req_str(ctx, "path").unwrap_or_default();
    if let Err(e) = check_api_path(&api.path) {
        ctx.problem(f.at("path"), e);
    }
    api.service_url = f.opt_str(ctx, "serviceUrl");
    if let Some(list) = f.opt_str_list(ctx, "protocols") {
        api.protocols = Protocols { http: false, https: false };
        for (i, p) in list.iter().enumerate() {
            match p.to_ascii_lowercase().as_str() {
                "http" => api.protocols.http = true,
                "https" => api.protocols.https = true,
                _ => ctx
                    .problem(index(&f.at("protocols"), i), format!("unknown protocol '{p}' (expected http or https)")),
            }
        }
        if list.is_empty() {
            ctx.problem(f.at("protocols"), "must list at least one of http, https");
        }
    }
    api.subscription_required = f.bool(ctx, "subscriptionRequired", true);
    if let Some(k) = f.get("subscriptionKeyParameterNames") {
        let at = f.at("subscriptionKeyParameterNames");
        if let Some(k) = ctx.fields(k, &at, &["header", "query"]) {
            if let Some(h) = k.opt_str(ctx, "header") {
                if h.is_empty() || !h.bytes().all(|b| b.is_ascii_graphic() && b != b':') {
                    ctx.problem(k.at("header"), "not a valid header name");
                }
                api.key_header = h.to_ascii_lowercase();
            }
            if let Some(q) = k.opt_str(ctx, "query") {
                if q.is_empty() {
                    ctx.problem(k.at("query"), "must not be empty");
                }
                api.key_query = q;
            }
        }
    }
    if let Some(t) = f.opt_str(ctx, "type") {
        api.kind = match t.to_ascii_lowercase().as_str() {
            "http" => ApiType::Http,
            "websocket" => ApiType::WebSocket,
            "grpc" => ApiType::Grpc,
            _ => {
                ctx.problem(f.at("type"), format!("unknown API type '{t}' (expected http, websocket or grpc)"));
                ApiType::Http
            }
        };
    }
    api.version = f.opt_str(ctx, "apiVersion");
    if let Some(vs) = f.get("apiVersionSet") {
        api.version_scheme = walk_version_set(vs, &f.at("apiVersionSet"), ctx);
    } else if api.version.as_deref().is_some_and(|v| !v.is_empty()) {
        ctx.problem(f.at("apiVersion"), "apiVersion requires apiVersionSet");
    }
    api.policy = f.opt_str(ctx, "policy");
    for (j, o) in f.array(ctx, "operations").iter().enumerate() {
        api.operations.push(walk_operation(o, &index(&f.at("operations"), j), ctx));
    }
    api
}

fn walk_version_set(v: &Value, at: &str, ctx: &mut Ctx) -> Option<VersionScheme> {
    const FIELDS: &[&str] = &["id", "name", "versioningScheme", "versionHeaderName", "versionQueryName"];
    let f = ctx.fields(v, at, FIELDS)?;
    let scheme = f.req_str(ctx, "versioningScheme")?;
    let mut named = |key: &str| match f.opt_str(ctx, key) {
        Some(n) if !n.is_empty() => Some(n),
        _ => {
            ctx.problem(f.at(key), format!("required when versioningScheme is '{scheme}'"));
            None
        }
    };
    match scheme.to_ascii_lowercase().as_str() {
        "segment" => Some(VersionScheme::Segment),
        "header" => named("versionHeaderName").map(|h| VersionScheme::Header(h.to_ascii_lowercase())),
        "query" => named("versionQueryName").map(VersionScheme::Query),
        _ => {
            ctx.problem(
                f.at("versioningScheme"),
                format!("unknown versioning scheme '{scheme}' (expected Segment, Header or Query)"),
            );
            None
        }
    }
}

fn walk_operation(v: &Value, at: &str, ctx: &mut Ctx) -> OpDoc {
    let mut op = OpDoc { id: String::new(), name: None, method: None, url_template: String::new(), policy: None };
    let Some(f) = ctx.fields(v, at, &["id", "name", "method", "urlTemplate", "policy", "description", "displayName"])
    else {
        return op;
    };
    op.id = f.req_str(ctx, "id").unwrap_or_default();
    op.name = f.opt_str(ctx, "name");
    let method = f.req_str(ctx, "method").unwrap_or_default();
    if method != "*" {
        let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
        if method.is_empty() || !method.bytes().all(token) {
            ctx.problem(f.at("method"), format!("'{method}' is not an HTTP method or '*'"));
        }
        op.method = Some(method.to_ascii_uppercase());
    }
    op.url_template = f.req_str(ctx, "urlTemplate").unwrap_or_default();
    op.policy = f.opt_str(ctx, "policy");
    op
}

pub(super) fn walk_product(v: &Value, at: &str, ctx: &mut Ctx) -> ProductDoc {
    let mut p = ProductDoc {
        id: String::new(),
        name: None,
        published: true,
        subscription_required: true,
        apis: Vec::new(),
        policy: None,
    };
    let Some(f) = ctx.fields(
        v,
        at,
        &["id", "name", "state", "subscriptionRequired", "apis", "policy", "description", "displayName"],
    ) else {
        return p;
    };
    p.id = f.req_str(ctx, "id").unwrap_or_default();
    p.name = f.opt_str(ctx, "name");
    if let Some(s) = f.opt_str(ctx, "state") {
        match s.as_str() {
            "published" => p.published = true,
            "notPublished" => p.published = false,
            _ => {
                ctx.problem(f.at("state"), format!("unknown product state '{s}' (expected published or notPublished)"))
            }
        }
    }
    p.subscription_required = f.bool(ctx, "subscriptionRequired", true);
    p.apis = f.opt_str_list(ctx, "apis").unwrap_or_default();
    p.policy = f.opt_str(ctx, "policy");
    p
}

pub(super) fn walk_subscription(v: &Value, at: &str, ctx: &mut Ctx) -> SubDoc {
    let mut s = SubDoc {
        id: String::new(),
        name: None,
        scope: String::new(),
        primary_key: None,
        secondary_key: None,
        state: SubState::Active,
        user_id: None,
    };
    const FIELDS: &[&str] = &["id", "name", "scope", "primaryKey", "secondaryKey", "state", "userId", "displayName"];
    let Some(f) = ctx.fields(v, at, FIELDS) else {
        return s;
    };
    s.id = f.req_str(ctx, "id").unwrap_or_default();
    s.name = f.opt_str(ctx, "name");
    s.scope = f.req_str(ctx, "scope").unwrap_or_default();
    for (key, slot) in [("primaryKey", &mut s.primary_key), ("secondaryKey", &mut s.secondary_key)] {
        *slot = f.opt_str(ctx, key);
        if slot.as_deref() == Some("") {
            ctx.problem(f.at(key), "must not be empty");
        }
    }
    if let Some(st) = f.opt_str(ctx, "state") {
        s.state = match st.as_str() {
            "active" => SubState::Active,
            "suspended" => SubState::Suspended,
            "cancelled" => SubState::Cancelled,
            "expired" => SubState::Expired,
            _ => {
                ctx.problem(
                    f.at("state"),
                    format!("unknown subscription state '{st}' (expected active, suspended, cancelled or expired)"),
                );
                SubState::Cancelled
            }
        };
    }
    s.user_id = f.opt_str(ctx, "userId");
    s
}
