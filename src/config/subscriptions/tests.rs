use super::*;
use crate::config::{load_document, Snapshot};

const DOC: &str = r#"{
 "apis": [
  {"id":"a","path":"a"},
  {"id":"b","path":"b"},
  {"id":"free","path":"free","subscriptionRequired":false},
  {"id":"inopen","path":"inopen"},
  {"id":"hidden","path":"hidden"}
 ],
 "products": [
  {"id":"starter","apis":["a","b"]},
  {"id":"open","subscriptionRequired":false,"apis":["inopen"]},
  {"id":"draft","state":"notPublished","apis":["hidden"]},
  {"id":"draftopen","state":"notPublished","subscriptionRequired":false,"apis":["a"]}
 ],
 "subscriptions": [
  {"id":"all","scope":"/apis","primaryKey":"k-all","secondaryKey":"k-all-2"},
  {"id":"api-a","scope":"/apis/a","primaryKey":"k-a"},
  {"id":"prod","scope":"/products/starter","primaryKey":"k-prod","userId":"u1"},
  {"id":"draft","scope":"/products/draft","primaryKey":"k-draft"},
  {"id":"susp","scope":"/apis","primaryKey":"k-susp","state":"suspended"},
  {"id":"dup1","scope":"/apis/b","primaryKey":"k-shared"},
  {"id":"dup2","scope":"/apis/a","primaryKey":"k-shared"}
 ]
}"#;

fn snap() -> Snapshot {
    let mut b = DOC.as_bytes().to_vec();
    load_document(&mut b).map_err(|e| e.to_string()).unwrap().snapshot
}

fn admit(s: &Snapshot, api: &str, key: Option<&str>) -> Result<(Option<String>, Option<String>), AuthFailure> {
    let idx = s.api_by_id(api).unwrap();
    s.subscriptions.admit(&s.apis, &s.products, idx, key.map(str::as_bytes)).map(|a| {
        (
            a.subscription.map(|i| s.subscriptions.get(i).id.clone()),
            a.product.map(|p| s.products[p as usize].id.clone()),
        )
    })
}

fn some(sub: &str, prod: Option<&str>) -> Result<(Option<String>, Option<String>), AuthFailure> {
    Ok((Some(sub.to_string()), prod.map(str::to_string)))
}

#[test]
fn key_scopes() {
    let s = snap();
    assert_eq!(admit(&s, "a", Some("k-all")), some("all", None));
    assert_eq!(admit(&s, "hidden", Some("k-all-2")), some("all", None));
    assert_eq!(admit(&s, "a", Some("k-a")), some("api-a", None));
    assert_eq!(admit(&s, "b", Some("k-a")), Err(AuthFailure::KeyInvalid), "API scope on another API");
    assert_eq!(admit(&s, "b", Some("k-prod")), some("prod", Some("starter")));
    assert_eq!(admit(&s, "free", Some("k-prod")), Err(AuthFailure::KeyInvalid));
    assert_eq!(admit(&s, "hidden", Some("k-draft")), Err(AuthFailure::KeyInvalid), "unpublished product");
    assert_eq!(admit(&s, "a", Some("k-susp")), Err(AuthFailure::KeyInvalid), "suspended");
    assert_eq!(admit(&s, "a", Some("nope")), Err(AuthFailure::KeyInvalid));
    assert_eq!(admit(&s, "a", Some("")), Err(AuthFailure::KeyInvalid));
    assert_eq!(
        admit(&s, "free", Some("nope")),
        Err(AuthFailure::KeyInvalid),
        "an invalid key is 401 even on a free API"
    );
}

#[test]
fn shared_keys_check_every_subscription() {
    let s = snap();
    assert_eq!(admit(&s, "a", Some("k-shared")), some("dup2", None));
    assert_eq!(admit(&s, "b", Some("k-shared")), some("dup1", None));
}

#[test]
fn no_key() {
    let s = snap();
    assert_eq!(admit(&s, "inopen", None), Ok((None, Some("open".into()))));
    assert_eq!(admit(&s, "free", None), Ok((None, None)));
    assert_eq!(admit(&s, "a", None), Err(AuthFailure::KeyNotFound), "unpublished open product does not count");
    assert_eq!(admit(&s, "hidden", None), Err(AuthFailure::KeyNotFound));
    assert_eq!(s.apis[s.api_by_id("inopen").unwrap() as usize].open_product, Some(1));
}

#[test]
fn records_and_debug_masking() {
    let s = snap();
    let idx = (0..s.subscriptions.len() as u32).find(|&i| s.subscriptions.get(i).id == "prod").unwrap();
    let sub = s.subscriptions.get(idx);
    assert_eq!(sub.user_id.as_deref(), Some("u1"));
    assert_eq!(sub.scope, SubScope::Product(0));
    assert_eq!(sub.state, SubState::Active);
    let dbg = format!("{:?}", s);
    for k in ["k-all", "k-prod", "k-shared"] {
        assert!(!dbg.contains(k), "key {k} leaked into Debug");
    }
    assert_eq!(s.subscriptions.get(9999).state, SubState::Cancelled);
}

#[test]
fn bad_scopes_and_two_open_products() {
    let mut b = br#"{"apis":[{"id":"a","path":"a"}],
      "products":[{"id":"p1","subscriptionRequired":false,"apis":["a"]},{"id":"p2","subscriptionRequired":false,"apis":["a","zz"]}],
      "subscriptions":[{"id":"s1","scope":"/apis/nope"},{"id":"s2","scope":"/products/nope"},{"id":"s3","scope":"/users"},
        {"id":"s4","scope":"/apis","state":"paused","primaryKey":""}]}"#
        .to_vec();
    let e = load_document(&mut b).unwrap_err();
    let p: Vec<String> = e.problems.iter().map(ToString::to_string).collect();
    let expected = [
        "products[1].apis[1]: unknown API 'zz'",
        "products[1].apis: API 'a' is already in open product 'p1'",
        "subscriptions[0].scope: unknown API 'nope'",
        "subscriptions[1].scope: unknown product 'nope'",
        "subscriptions[2].scope: '/users' is not a scope",
        "subscriptions[3].state: unknown subscription state 'paused'",
        "subscriptions[3].primaryKey: must not be empty",
    ];
    for x in expected {
        assert!(p.iter().any(|m| m.starts_with(x)), "missing {x:?} in {p:#?}");
    }
    assert_eq!(p.len(), expected.len(), "{p:#?}");
}
