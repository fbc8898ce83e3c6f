//! The limit policies on the fake context: admission counts, reported headers and variables,
//! refusals (status, reason, `Retry-After`), increment conditions, counter identity across
//! recompiles, concurrency slots, and document rejection.

use std::sync::Arc;

use super::documents::*;
use crate::config::Snapshot;
use crate::limits::LimitStore;
use crate::policy::runtime::*;
use crate::policy::testkit::*;
use crate::policy::Plan;

fn op_plan(s: &Snapshot, product: Option<u32>) -> &Plan {
    s.policy_plans.get(0, Some(0), product)
}

fn get() -> FakeReq {
    FakeReq::new("GET", "/orders/items/42")
}

/// One call through `plan` with `store`, from `ip`, with or without the subscription; the
/// request then ends with `bytes` transferred.
fn call(plan: &Plan, store: Option<&LimitStore>, req: &FakeReq, ip: &str, sub: bool, backend: &FakeResp) -> Result_ {
    call_bytes(plan, store, req, ip, sub, backend, 0)
}

fn call_bytes(
    plan: &Plan,
    store: Option<&LimitStore>,
    req: &FakeReq,
    ip: &str,
    sub: bool,
    backend: &FakeResp,
    bytes: u64,
) -> Result_ {
    let mut i = info(ip);
    if !sub {
        i.subscription = None;
    }
    let mut ctx = PolicyContext::new(req, i);
    ctx.limits = store;
    let out = drive_ctx(plan, &mut ctx, backend);
    ctx.finish_limits(bytes);
    out
}

fn ok() -> FakeResp {
    FakeResp::new(200, "{}")
}

fn op_doc(inbound: &str) -> String {
    format!("<policies><inbound><base/>{inbound}</inbound></policies>")
}

fn retry_after(r: &Result_) -> u64 {
    r.header("retry-after").expect("Retry-After").parse().expect("seconds")
}

#[test]
fn rate_limit_by_key_admits_exactly_calls_and_reports() {
    let p = op_doc(
        r#"<rate-limit-by-key calls="3" renewal-period="300" counter-key="@(context.Request.IpAddress)"
             remaining-calls-header-name="x-remaining" total-calls-header-name="x-total"
             remaining-calls-variable-name="rem" retry-after-variable-name="ra"/>"#,
    );
    let s = load(&config(None, None, None, Some(&p)));
    let store = LimitStore::new();
    let plan = op_plan(&s, None);
    for left in [2, 1, 0] {
        let r = call(plan, Some(&store), &get(), "10.0.0.1", true, &ok());
        assert_eq!(r.forwarded, 1);
        assert_eq!(r.header("x-remaining").as_deref(), Some(left.to_string().as_str()));
        assert_eq!(r.header("x-total").as_deref(), Some("3"));
        assert_eq!(r.var("rem"), Some(left.to_string()));
    }
    let r = call(plan, Some(&store), &get(), "10.0.0.1", true, &ok());
    assert_eq!((r.forwarded, r.status()), (0, 429));
    let e = r.error.as_ref().expect("error");
    assert_eq!((e.reason.as_str(), e.source.as_str()), ("RateLimitExceeded", "rate-limit-by-key"));
    let secs = retry_after(&r);
    assert!((1..=300).contains(&secs), "{secs}");
    assert!(r.body().contains(&format!("Rate limit is exceeded. Try again in {secs} seconds.")), "{}", r.body());
    assert_eq!(r.var("ra"), Some(secs.to_string()));
    // Another key has its own counter.
    assert_eq!(call(plan, Some(&store), &get(), "10.0.0.2", true, &ok()).forwarded, 1);
}

#[test]
fn without_a_store_limits_fail_closed() {
    for pol in [
        r#"<rate-limit-by-key calls="3" renewal-period="60" counter-key="k"/>"#,
        r#"<quota-by-key calls="3" renewal-period="60" counter-key="k"/>"#,
        r#"<limit-concurrency key="k" max-count="1"><set-header name="a"><value>1</value></set-header></limit-concurrency>"#,
    ] {
        let s = load(&config(None, None, None, Some(&op_doc(pol))));
        let r = call(op_plan(&s, None), None, &get(), "10.0.0.1", true, &ok());
        assert_eq!((r.forwarded, r.status()), (0, 500), "{pol}");
        assert!(r.body().contains("limits unavailable"), "{}", r.body());
    }
}

#[test]
fn custom_retry_after_header_and_on_error_sees_the_reason() {
    let p = r#"<policies><inbound><base/><rate-limit-by-key calls="0" renewal-period="10" counter-key="x"
        retry-after-header-name="x-wait"/></inbound>
        <on-error><set-header name="x-reason"><value>@(context.LastError.Reason)</value></set-header></on-error></policies>"#;
    let s = load(&config(None, None, None, Some(p)));
    let store = LimitStore::new();
    let r = call(op_plan(&s, None), Some(&store), &get(), "10.0.0.1", true, &ok());
    assert_eq!(r.status(), 429);
    assert!(r.header("retry-after").is_none());
    assert!((1..=10).contains(&r.header("x-wait").expect("x-wait").parse::<u64>().expect("n")));
    assert_eq!(r.header("x-reason").as_deref(), Some("RateLimitExceeded"));
}

#[test]
fn rate_limit_counts_per_subscription_with_api_children() {
    let product = r#"<policies><inbound><base/><rate-limit calls="5" renewal-period="300"
        remaining-calls-header-name="x-remaining">
          <api name="Orders" calls="2" renewal-period="300"/>
          <api name="Other" calls="1" renewal-period="300"/>
        </rate-limit></inbound></policies>"#;
    let s = load(&config(None, Some(product), None, None));
    let store = LimitStore::new();
    let plan = op_plan(&s, Some(0));
    let r = call(plan, Some(&store), &get(), "10.0.0.1", true, &ok());
    assert_eq!(r.header("x-remaining").as_deref(), Some("1"), "the tightest limit is reported");
    assert_eq!(call(plan, Some(&store), &get(), "10.0.0.1", true, &ok()).forwarded, 1);
    let r = call(plan, Some(&store), &get(), "10.0.0.1", true, &ok());
    assert_eq!(r.status(), 429, "the API limit of 2 applies");
    assert!(retry_after(&r) >= 1);
    // Without a subscription APIM does not apply rate-limit.
    for _ in 0..4 {
        assert_eq!(call(plan, Some(&store), &get(), "10.0.0.1", false, &ok()).forwarded, 1);
    }
}

#[test]
fn rate_limit_own_limit_applies() {
    let product = r#"<policies><inbound><base/><rate-limit calls="2" renewal-period="300"/></inbound></policies>"#;
    let s = load(&config(None, Some(product), None, None));
    let store = LimitStore::new();
    let plan = op_plan(&s, Some(0));
    let admitted = (0..5).filter(|_| call(plan, Some(&store), &get(), "1.1.1.1", true, &ok()).forwarded == 1).count();
    assert_eq!(admitted, 2);
}

#[test]
fn quota_calls_and_refusal() {
    let product = r#"<policies><inbound><base/><quota calls="2" renewal-period="3600"/></inbound></policies>"#;
    let s = load(&config(None, Some(product), None, None));
    let store = LimitStore::new();
    let plan = op_plan(&s, Some(0));
    assert_eq!(call(plan, Some(&store), &get(), "1.1.1.1", true, &ok()).forwarded, 1);
    assert_eq!(call(plan, Some(&store), &get(), "1.1.1.1", true, &ok()).forwarded, 1);
    let r = call(plan, Some(&store), &get(), "1.1.1.1", true, &ok());
    assert_eq!(r.status(), 403);
    assert_eq!(r.error.as_ref().map(|e| e.reason.as_str()), Some("QuotaExceeded"));
    assert!((1..=3600).contains(&retry_after(&r)));
    assert!(r.body().contains("Out of call volume quota. Quota will be replenished in "), "{}", r.body());
}

#[test]
fn quota_bandwidth_counts_reported_bytes() {
    let product = r#"<policies><inbound><base/><quota bandwidth="1" renewal-period="3600"/></inbound></policies>"#;
    let s = load(&config(None, Some(product), None, None));
    let store = LimitStore::new();
    let plan = op_plan(&s, Some(0));
    let r = call_bytes(plan, Some(&store), &get(), "1.1.1.1", true, &ok(), 600);
    assert_eq!(r.forwarded, 1);
    let r = call_bytes(plan, Some(&store), &get(), "1.1.1.1", true, &ok(), 600);
    assert_eq!(r.forwarded, 1, "600 of 1024 bytes used: still room");
    let r = call(plan, Some(&store), &get(), "1.1.1.1", true, &ok());
    assert_eq!(r.status(), 403);
    assert!(r.body().contains("Out of bandwidth quota"), "{}", r.body());
}

#[test]
fn quota_by_key_with_bandwidth_and_calls() {
    let p = op_doc(r#"<quota-by-key calls="10" bandwidth="1" renewal-period="0" counter-key="k"/>"#);
    let s = load(&config(None, None, None, Some(&p)));
    let store = LimitStore::new();
    let plan = op_plan(&s, None);
    let mut ctx_req = get();
    ctx_req.headers.clear();
    let r = call_bytes(plan, Some(&store), &ctx_req, "1.1.1.1", true, &ok(), 5000);
    assert_eq!(r.forwarded, 1);
    let r = call(plan, Some(&store), &ctx_req, "1.1.1.1", true, &ok());
    assert_eq!(r.status(), 403, "the bandwidth is used up, forever");
}

#[test]
fn increment_condition_on_the_request() {
    let p = op_doc(
        r#"<rate-limit-by-key calls="1" renewal-period="300" counter-key="c"
             increment-condition="@(context.Request.Method == "POST")"/>"#,
    );
    let s = load(&config(None, None, None, Some(&p)));
    let store = LimitStore::new();
    let plan = op_plan(&s, None);
    for _ in 0..3 {
        assert_eq!(call(plan, Some(&store), &get(), "1.1.1.1", true, &ok()).forwarded, 1, "GETs are not counted");
    }
    let post = FakeReq::new("POST", "/orders/items/42");
    assert_eq!(call(plan, Some(&store), &post, "1.1.1.1", true, &ok()).forwarded, 1);
    assert_eq!(
        call(plan, Some(&store), &get(), "1.1.1.1", true, &ok()).status(),
        429,
        "uncounted calls are refused too"
    );
}

#[test]
fn increment_condition_on_the_response_counts_at_the_end() {
    let p = op_doc(
        r#"<rate-limit-by-key calls="1" renewal-period="300" counter-key="c" increment-count="1"
             increment-condition="@(context.Response.StatusCode == 200)"/>"#,
    );
    let s = load(&config(None, None, None, Some(&p)));
    let store = LimitStore::new();
    let plan = op_plan(&s, None);
    let failing = FakeResp::new(500, "");
    for _ in 0..3 {
        assert_eq!(call(plan, Some(&store), &get(), "1.1.1.1", true, &failing).forwarded, 1, "500s are not counted");
    }
    assert_eq!(call(plan, Some(&store), &get(), "1.1.1.1", true, &ok()).forwarded, 1);
    assert_eq!(call(plan, Some(&store), &get(), "1.1.1.1", true, &ok()).status(), 429);
}

#[test]
fn increment_count_and_expression_limits() {
    let p = op_doc(
        r#"<rate-limit-by-key calls="@(4)" renewal-period="@(100 + 200)" counter-key="c" increment-count="@(2)"/>"#,
    );
    let s = load(&config(None, None, None, Some(&p)));
    let store = LimitStore::new();
    let plan = op_plan(&s, None);
    let admitted = (0..5).filter(|_| call(plan, Some(&store), &get(), "1.1.1.1", true, &ok()).forwarded == 1).count();
    assert_eq!(admitted, 2);
    let bad = op_doc(r#"<rate-limit-by-key calls="@(-1)" renewal-period="10" counter-key="c"/>"#);
    let s = load(&config(None, None, None, Some(&bad)));
    let r = call(op_plan(&s, None), Some(&store), &get(), "1.1.1.1", true, &ok());
    assert_eq!(r.status(), 500);
    assert_eq!(r.error.map(|e| e.reason), Some("ExpressionValueEvaluationFailure".to_string()));
}

#[test]
fn counters_survive_a_recompile_that_leaves_the_limit_unchanged() {
    let product = |calls: u32, extra: &str| {
        format!(
            r#"<policies><inbound><base/>{extra}<rate-limit calls="{calls}" renewal-period="300"/><quota calls="{calls}" renewal-period="3600"/></inbound></policies>"#
        )
    };
    let store = LimitStore::new();
    let run = |s: &Snapshot| call(op_plan(s, Some(0)), Some(&store), &get(), "1.1.1.1", true, &ok()).forwarded;
    let a = load(&config(None, Some(&product(3, "")), None, None));
    assert_eq!(run(&a) + run(&a), 2);
    // Recompiled with another policy next to it and an API-level document: same counters.
    let set = r#"<set-header name="x-a"><value>1</value></set-header>"#;
    let b = load(&config(Some("<policies/>"), Some(&product(3, set)), Some("<policies/>"), None));
    assert_eq!(run(&b), 1);
    assert_eq!(run(&b), 0, "3 of 3 used across the recompile");
    // A changed limit starts fresh.
    let c = load(&config(None, Some(&product(4, "")), None, None));
    assert_eq!(run(&c), 1);
}

#[test]
fn by_key_counters_are_shared_across_scopes() {
    let pol = r#"<rate-limit-by-key calls="3" renewal-period="300" counter-key="shared"/>"#;
    let s = load(&config(None, None, Some(&op_doc(pol)), Some(&op_doc(pol))));
    let store = LimitStore::new();
    // API and operation policies count on one counter per key value: 2 per call.
    let plan = op_plan(&s, None);
    assert_eq!(call(plan, Some(&store), &get(), "1.1.1.1", true, &ok()).forwarded, 1);
    assert_eq!(call(plan, Some(&store), &get(), "1.1.1.1", true, &ok()).status(), 429);
}

fn lc_doc(backend: &str) -> String {
    format!(
        r#"<policies><inbound><base/></inbound><backend>
        <limit-concurrency key="@(context.Api.Id)" max-count="1">{backend}</limit-concurrency>
        </backend></policies>"#
    )
}

/// Runs the backend section of `plan` on a fresh context until it needs the proxy.
fn backend_step<'a>(plan: &Plan, req: &'a FakeReq, store: &'a LimitStore) -> (PolicyContext<'a>, Run, &'static str) {
    let mut ctx = PolicyContext::new(req, info("1.1.1.1"));
    ctx.limits = Some(store);
    let mut run = Run::new(plan, Section::Backend, &ctx);
    let what = match run.next(plan, &mut ctx) {
        Flow::Forward(_) => "forward",
        Flow::Error(_) => "error",
        Flow::Respond(_) => "respond",
        Flow::Done => "done",
        Flow::Wait(_) => "wait",
    };
    (ctx, run, what)
}

fn lc_plan(backend: &str) -> Snapshot {
    load(&config(None, None, None, Some(&lc_doc(backend))))
}

#[test]
fn concurrency_slot_held_across_the_backend_call_and_released_after() {
    let s = lc_plan("<forward-request/>");
    let plan = op_plan(&s, None);
    let (store, req) = (LimitStore::new(), get());
    let (mut ctx, mut run, what) = backend_step(plan, &req, &store);
    assert_eq!((what, ctx.held.len()), ("forward", 1));
    // A second request meanwhile is refused: 429 with Retry-After.
    let r = call(plan, Some(&store), &get(), "1.1.1.1", true, &ok());
    assert_eq!((r.status(), r.forwarded), (429, 0));
    assert_eq!(r.header("retry-after").as_deref(), Some("1"));
    assert_eq!(r.error.map(|e| e.source), Some("limit-concurrency".to_string()));
    ctx.response = Some(ResponseState { backend: Some(Box::new(ok())), body: None });
    assert!(matches!(run.next(plan, &mut ctx), Flow::Done));
    assert!(ctx.held.is_empty(), "released at the end of the block");
    assert_eq!(call(plan, Some(&store), &get(), "1.1.1.1", true, &ok()).forwarded, 1);
}

#[test]
fn concurrency_slot_released_on_error_response_and_drop() {
    let (store, req) = (LimitStore::new(), get());
    let failing = lc_plan(r#"<set-variable name="v" value="@(int.Parse("x"))"/><forward-request/>"#);
    let (ctx, _, what) = backend_step(op_plan(&failing, None), &req, &store);
    assert_eq!((what, ctx.held.len()), ("error", 0), "the failed section gave its slot back");
    let early = lc_plan("<return-response/>");
    let (ctx, _, what) = backend_step(op_plan(&early, None), &req, &store);
    assert_eq!((what, ctx.held.len()), ("respond", 0), "an early response gives it back too");
    // Held until the context is dropped mid-block (the request ended abruptly).
    let id = crate::limits::store::counter_id("limit-concurrency", "orders");
    let fwd = lc_plan("<forward-request/>");
    let (ctx, _, what) = backend_step(op_plan(&fwd, None), &req, &store);
    assert_eq!(what, "forward");
    assert!(store.enter(&id, 1).is_none());
    drop(ctx);
    assert!(store.enter(&id, 1).is_some());
}

#[test]
fn sequential_blocks_with_one_slot() {
    let body = r#"<limit-concurrency key="k" max-count="1"><set-header name="x-a"><value>1</value></set-header></limit-concurrency>
                  <limit-concurrency key="k" max-count="1"><set-header name="x-b"><value>1</value></set-header></limit-concurrency>"#;
    let s = load(&config(None, None, None, Some(&op_doc(body))));
    let store = LimitStore::new();
    let r = call(op_plan(&s, None), Some(&store), &get(), "1.1.1.1", true, &ok());
    assert_eq!(r.forwarded, 1);
    assert_eq!(r.req_header("x-b").as_deref(), Some("1"), "the first block gave its slot back");
}

#[test]
fn documents_with_bad_limits_are_rejected_with_positions() {
    let bad = |op: &str| load_err(&config(None, None, None, Some(op)));
    let p = bad("<policies>\n<inbound>\n<rate-limit-by-key calls=\"1\" renewal-period=\"1\" counter-key=\"k\" bogus=\"1\"/>\n</inbound>\n</policies>");
    assert_eq!(p, ["apis[0].operations[0].policy:3:65: unknown attribute 'bogus' on <rate-limit-by-key>"]);
    let p = bad("<policies><inbound><rate-limit-by-key calls=\"1\" renewal-period=\"301\" counter-key=\"k\"/></inbound></policies>");
    assert!(p[0].contains("'renewal-period' of <rate-limit-by-key> must be 1-300, found 301"), "{p:?}");
    let p = bad("<policies><inbound><rate-limit-by-key calls=\"1\" renewal-period=\"1\"/></inbound></policies>");
    assert!(p[0].contains("needs the attribute 'counter-key'"), "{p:?}");
    let p = bad("<policies><inbound><rate-limit calls=\"@(1)\" renewal-period=\"1\"/></inbound></policies>");
    assert!(p[0].contains("does not accept expressions"), "{p:?}");
    let p = bad("<policies><inbound><quota-by-key renewal-period=\"60\" counter-key=\"k\"/></inbound></policies>");
    assert!(p[0].contains("needs the attribute 'calls' or 'bandwidth'"), "{p:?}");
    let p = bad(
        "<policies><backend><limit-concurrency key=\"k\"><forward-request/></limit-concurrency></backend></policies>",
    );
    assert!(p[0].contains("needs the attribute 'max-count'"), "{p:?}");
    let p = bad("<policies><outbound><rate-limit-by-key calls=\"1\" renewal-period=\"1\" counter-key=\"k\"/></outbound></policies>");
    assert!(p[0].contains("not allowed in <outbound>"), "{p:?}");
    let p = bad("<policies><inbound><rate-limit calls=\"1\" renewal-period=\"1\"><api calls=\"1\" renewal-period=\"1\"/></rate-limit></inbound></policies>");
    assert!(p[0].contains("<api> needs the attribute 'name' or 'id'"), "{p:?}");
    let p = bad("<policies><inbound><quota-by-key calls=\"1\" renewal-period=\"3600\" counter-key=\"k\" first-period-start=\"2024-01-01T00:30:00Z\"/></inbound></policies>");
    assert!(p[0].contains("window boundary"), "{p:?}");
    assert!(bad("<policies><inbound><quota-by-key calls=\"1\" renewal-period=\"3600\" counter-key=\"k\" first-period-start=\"0001-01-01T00:00:00Z\"/></inbound></policies>").is_empty());
    // Scopes: rate-limit not at global scope, quota only at product scope.
    let p = load_err(&config(
        Some("<policies><inbound><rate-limit calls=\"1\" renewal-period=\"1\"/></inbound></policies>"),
        None,
        None,
        None,
    ));
    assert_eq!(p, ["policy:1:20: <rate-limit> is not allowed at global scope (product, API or operation)"]);
    let p = bad("<policies><inbound><quota calls=\"1\" renewal-period=\"1\"/></inbound></policies>");
    assert_eq!(p, ["apis[0].operations[0].policy:1:20: <quota> is only allowed at product scope, not operation"]);
}

#[test]
fn limits_are_exact_across_threads_through_the_engine() {
    let p = op_doc(r#"<rate-limit-by-key calls="20" renewal-period="300" counter-key="t"/>"#);
    let p: Arc<str> = Arc::from(p.as_str());
    let store = LimitStore::new();
    let admitted: usize = (0..4)
        .map(|_| {
            let (p, store) = (p.clone(), store.clone());
            std::thread::spawn(move || {
                let s = load(&config(None, None, None, Some(&p)));
                let plan = op_plan(&s, None);
                (0..15).filter(|_| call(plan, Some(&store), &get(), "1.1.1.1", true, &ok()).forwarded == 1).count()
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().expect("thread"))
        .sum();
    assert_eq!(admitted, 20);
}
