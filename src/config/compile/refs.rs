//! APIs, products and subscriptions: ids, cross-references, open products.

use std::collections::HashMap;

use super::Compiler;
use crate::api_model::parse_websocket_url;
use crate::config::json::Ctx;
use crate::config::model::{ApiDoc, ProductDoc, SubDoc};
use crate::config::policy_check::PolicyKind;
use crate::config::snapshot::{Api, ApiIdx, ApiType, BackendUrl, Operation, Product, ProductIdx};
use crate::config::subscriptions::{SubScope, Subscription, SubscriptionIndex};

/// Reports duplicate (non-empty) ids in one collection, at `{coll}[i].id`.
pub(crate) fn unique_ids<'a>(ctx: &mut Ctx, coll: &str, ids: impl Iterator<Item = &'a str>) {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, id) in ids.enumerate() {
        if id.is_empty() {
            continue;
        }
        if let Some(first) = seen.get(id) {
            ctx.problem(format!("{coll}[{i}].id"), format!("duplicate id '{id}' (first used at {coll}[{first}])"));
        } else {
            seen.insert(id, i);
        }
    }
}

pub(super) fn compile_apis_products(
    c: &mut Compiler<'_>,
    api_docs: Vec<ApiDoc>,
    product_docs: Vec<ProductDoc>,
) -> (Vec<Api>, Vec<Product>) {
    unique_ids(c.ctx, "apis", api_docs.iter().map(|a| a.id.as_str()));
    let mut apis = Vec::with_capacity(api_docs.len());
    for (i, a) in api_docs.into_iter().enumerate() {
        let at = format!("apis[{i}]");
        unique_ids(c.ctx, &format!("{at}.operations"), a.operations.iter().map(|o| o.id.as_str()));
        let operations = a
            .operations
            .into_iter()
            .enumerate()
            .map(|(j, o)| Operation {
                name: o.name.unwrap_or_else(|| o.id.clone()),
                policy: c.policy(o.policy.as_deref(), &format!("{at}.operations[{j}].policy"), PolicyKind::Policies),
                id: o.id,
                method: o.method,
                url_template: o.url_template,
            })
            .collect();
        let service_url = match a.kind {
            ApiType::WebSocket => c.url_as(a.service_url.as_deref(), &format!("{at}.serviceUrl"), parse_websocket_url),
            _ => c.url(a.service_url.as_deref(), &format!("{at}.serviceUrl")),
        };
        apis.push(Api {
            name: a.name.unwrap_or_else(|| a.id.clone()),
            service_url_text: service_url.as_ref().map(BackendUrl::text).unwrap_or_default(),
            service_url,
            policy: c.policy(a.policy.as_deref(), &format!("{at}.policy"), PolicyKind::Policies),
            id: a.id,
            path: a.path,
            protocols: a.protocols,
            subscription_required: a.subscription_required,
            key_header: a.key_header,
            key_query: a.key_query,
            kind: a.kind,
            version: a.version.filter(|v| !v.is_empty()),
            version_scheme: a.version_scheme,
            operations,
            open_product: None,
        });
    }
    let api_index: HashMap<&str, ApiIdx> =
        apis.iter().enumerate().filter_map(|(i, a)| Some((a.id.as_str(), ApiIdx::try_from(i).ok()?))).collect();

    unique_ids(c.ctx, "products", product_docs.iter().map(|p| p.id.as_str()));
    let mut products = Vec::with_capacity(product_docs.len());
    for (i, p) in product_docs.into_iter().enumerate() {
        let at = format!("products[{i}]");
        let mut members = Vec::with_capacity(p.apis.len());
        for (j, id) in p.apis.iter().enumerate() {
            match api_index.get(id.as_str()) {
                Some(&a) => members.push(a),
                None => c.ctx.problem(format!("{at}.apis[{j}]"), format!("unknown API '{id}'")),
            }
        }
        members.sort_unstable();
        members.dedup();
        products.push(Product {
            name: p.name.unwrap_or_else(|| p.id.clone()),
            policy: c.policy(p.policy.as_deref(), &format!("{at}.policy"), PolicyKind::Policies),
            id: p.id,
            published: p.published,
            subscription_required: p.subscription_required,
            apis: members,
        });
    }
    (apis, products)
}

/// Sets `Api::open_product`; an API in two published open products is a problem.
pub(super) fn assign_open_products(ctx: &mut Ctx, apis: &mut [Api], products: &mut [Product]) {
    for (pi, p) in products.iter().enumerate() {
        if !p.published || p.subscription_required {
            continue;
        }
        let Ok(pidx) = ProductIdx::try_from(pi) else {
            break;
        };
        for &a in &p.apis {
            let Some(api) = apis.get_mut(a as usize) else {
                continue;
            };
            match api.open_product {
                Some(other) => {
                    let other_id = products_id(products, other);
                    ctx.problem(
                        format!("products[{pi}].apis"),
                        format!("API '{}' is already in open product '{other_id}' (an API can be in at most one published product that needs no subscription)", api.id),
                    );
                }
                None => api.open_product = Some(pidx),
            }
        }
    }
}

fn products_id(products: &[Product], idx: ProductIdx) -> &str {
    products.get(idx as usize).map_or("?", |p| p.id.as_str())
}

pub(super) fn compile_subscriptions(
    ctx: &mut Ctx,
    docs: Vec<SubDoc>,
    apis: &[Api],
    products: &[Product],
) -> SubscriptionIndex {
    unique_ids(ctx, "subscriptions", docs.iter().map(|s| s.id.as_str()));
    let mut subs = Vec::with_capacity(docs.len());
    for (i, s) in docs.into_iter().enumerate() {
        let at = format!("subscriptions[{i}].scope");
        let find_api = |id: &str| apis.iter().position(|a| a.id == id).and_then(|x| ApiIdx::try_from(x).ok());
        let find_product =
            |id: &str| products.iter().position(|p| p.id == id).and_then(|x| ProductIdx::try_from(x).ok());
        let scope = if s.scope == "/apis" {
            Some(SubScope::AllApis)
        } else if let Some(id) = s.scope.strip_prefix("/apis/") {
            let found = find_api(id).map(SubScope::Api);
            if found.is_none() {
                ctx.problem(&at, format!("unknown API '{id}'"));
            }
            found
        } else if let Some(id) = s.scope.strip_prefix("/products/") {
            let found = find_product(id).map(SubScope::Product);
            if found.is_none() {
                ctx.problem(&at, format!("unknown product '{id}'"));
            }
            found
        } else {
            if !s.scope.is_empty() {
                ctx.problem(
                    &at,
                    format!(
                        "'{}' is not a scope (expected /apis, /apis/{{apiId}} or /products/{{productId}})",
                        s.scope
                    ),
                );
            }
            None
        };
        subs.push(Subscription {
            name: s.name.unwrap_or_else(|| s.id.clone()),
            id: s.id,
            user_id: s.user_id,
            scope: scope.unwrap_or(SubScope::AllApis),
            state: s.state,
            primary_key: s.primary_key.map(|k| k.into_bytes().into_boxed_slice()),
            secondary_key: s.secondary_key.map(|k| k.into_bytes().into_boxed_slice()),
        });
    }
    SubscriptionIndex::new(subs)
}
