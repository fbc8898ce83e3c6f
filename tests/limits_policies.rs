//! The limit policies through the real gateway (2 workers) and real backends: exact counts
//! under parallel connections, per-subscription rate limits and quotas, limit-concurrency
//! against a slow backend, refusals with their status and `Retry-After`, and a fleet of two
//! gateways sharing a real redis-server (one limit, quotas across a restart, Redis lost).

mod common;

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::redis::Redis;
use common::*;

/// The rate-limit window (epoch-aligned, see `ringgate::limits`).
const RL_PERIOD: u64 = 300;
const QUOTA_PERIOD: u64 = 86_400;

/// Waits out the end of the current `period` window if fewer than 15 s are left, so a test's
/// calls all fall in one window.
fn away_from_window_end(period: u64) {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_secs();
    let left = period - now % period;
    if left < 15 {
        std::thread::sleep(Duration::from_secs(left + 1));
    }
}

/// `tag` makes counter keys unique to a test run (counters meet in Redis by key).
fn config(b: &Backend, tag: &str) -> String {
    let u = b.url();
    let by_key = format!(
        r#"<policies><inbound><base/><rate-limit-by-key calls="20" renewal-period="{RL_PERIOD}" counter-key="{tag}-k" remaining-calls-header-name="x-remaining"/></inbound></policies>"#
    );
    let fleet = format!(
        r#"<policies><inbound><base/><rate-limit-by-key calls="30" renewal-period="{RL_PERIOD}" counter-key="{tag}-fleet"/></inbound></policies>"#
    );
    let lc = r#"<policies><inbound><base/></inbound><backend><limit-concurrency key="lc" max-count="2"><forward-request/></limit-concurrency></backend></policies>"#;
    let gold = format!(
        r#"<policies><inbound><base/><rate-limit calls="5" renewal-period="{RL_PERIOD}"/></inbound></policies>"#
    );
    let silver =
        format!(r#"<policies><inbound><base/><quota calls="7" renewal-period="{QUOTA_PERIOD}"/></inbound></policies>"#);
    let bronze = format!(
        r#"<policies><inbound><base/><quota bandwidth="1" renewal-period="{QUOTA_PERIOD}"/></inbound></policies>"#
    );
    let j = |s: &str| serde_json::to_string(s).expect("json");
    format!(
        r#"{{
  "revision": "r1",
  "apis": [
    {{"id":"bykey","path":"bykey","serviceUrl":"{u}/be","subscriptionRequired":false,"policy":{}}},
    {{"id":"fleet","path":"fleet","serviceUrl":"{u}/be","subscriptionRequired":false,"policy":{}}},
    {{"id":"lc","path":"lc","serviceUrl":"{u}/be","subscriptionRequired":false,"policy":{}}},
    {{"id":"rl","path":"rl","serviceUrl":"{u}/be"}},
    {{"id":"q","path":"q","serviceUrl":"{u}/be"}},
    {{"id":"bw","path":"bw","serviceUrl":"{u}/be"}},
    {{"id":"free","path":"free","serviceUrl":"{u}/be","subscriptionRequired":false}}
  ],
  "products": [
    {{"id":"gold","apis":["rl"],"policy":{}}},
    {{"id":"silver","apis":["q"],"policy":{}}},
    {{"id":"bronze","apis":["bw"],"policy":{}}}
  ],
  "subscriptions": [
    {{"id":"s-gold-{tag}","scope":"/products/gold","primaryKey":"gold-key-{tag}","state":"active"}},
    {{"id":"s-silver-{tag}","scope":"/products/silver","primaryKey":"silver-key-{tag}","state":"active"}},
    {{"id":"s-bronze-{tag}","scope":"/products/bronze","primaryKey":"bronze-key-{tag}","state":"active"}}
  ]
}}"#,
        j(&by_key),
        j(&fleet),
        j(lc),
        j(&gold),
        j(&silver),
        j(&bronze)
    )
}

fn tag() -> String {
    let n = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_nanos();
    format!("t{}x{n}", std::process::id())
}

const HDR: &str = "Ocp-Apim-Subscription-Key";

/// `n` calls at once, each on its own connection, released together.
fn parallel(addr: std::net::SocketAddr, n: usize, target: &str, headers: &[(&str, &str)]) -> Vec<Response> {
    let barrier = Arc::new(Barrier::new(n));
    let headers: Vec<(String, String)> = headers.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let (barrier, target, headers) = (barrier.clone(), target.to_string(), headers.clone());
            std::thread::spawn(move || {
                let mut conn = Conn::connect(addr);
                conn.set_read_timeout(Duration::from_secs(20));
                let h: Vec<(&str, &str)> = headers.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
                barrier.wait();
                conn.request("GET", &target, &h, b"")
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().expect("client thread")).collect()
}

fn count(rs: &[Response], status: u16) -> usize {
    rs.iter().filter(|r| r.status == status).count()
}

/// A refusal: the gateway's JSON error, `status`, and a `Retry-After` of 1..=`max` seconds.
fn assert_refused(r: &Response, status: u16, max: u64) {
    assert_error_shape(r, status);
    let secs: u64 =
        r.header("retry-after").and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("Retry-After: {r:?}"));
    assert!((1..=max).contains(&secs), "Retry-After {secs}: {r:?}");
}

#[test]
fn rate_limit_by_key_admits_exactly_its_calls_under_parallel_connections() {
    away_from_window_end(RL_PERIOD);
    let b = Backend::normal();
    let gw = Gateway::start(&config(&b, &tag()), &[]);
    let rs = parallel(gw.http_addr(), 60, "/bykey/x", &[]);
    assert_eq!(count(&rs, 200), 20, "exactly 20 of 60 admitted: {:?}", rs.iter().map(|r| r.status).collect::<Vec<_>>());
    assert_eq!(count(&rs, 429), 40);
    for r in rs.iter().filter(|r| r.status == 429) {
        assert_refused(r, 429, RL_PERIOD);
        let msg = r.json()["message"].as_str().unwrap_or_default().to_string();
        assert!(msg.starts_with("Rate limit is exceeded. Try again in "), "{msg}");
    }
    let mut remaining: Vec<u64> =
        rs.iter().filter_map(|r| r.header("x-remaining").and_then(|v| v.parse().ok())).collect();
    remaining.sort_unstable();
    assert_eq!(remaining, (0..20).collect::<Vec<u64>>(), "each admitted call saw its own remaining count");
    assert_eq!(b.requests(), 20, "refused calls never reach the backend");
}

#[test]
fn per_subscription_rate_limit_and_quota_admit_exactly_their_counts() {
    away_from_window_end(RL_PERIOD);
    let b = Backend::normal();
    let t = tag();
    let gw = Gateway::start(&config(&b, &t), &[]);
    let gold = format!("gold-key-{t}");
    let rs = parallel(gw.http_addr(), 20, "/rl/x", &[(HDR, &gold)]);
    assert_eq!(count(&rs, 200), 5, "{:?}", rs.iter().map(|r| r.status).collect::<Vec<_>>());
    for r in rs.iter().filter(|r| r.status != 200) {
        assert_refused(r, 429, RL_PERIOD);
    }
    let silver = format!("silver-key-{t}");
    let rs = parallel(gw.http_addr(), 20, "/q/x", &[(HDR, &silver)]);
    assert_eq!(count(&rs, 200), 7, "{:?}", rs.iter().map(|r| r.status).collect::<Vec<_>>());
    for r in rs.iter().filter(|r| r.status != 200) {
        assert_refused(r, 403, QUOTA_PERIOD);
        let msg = r.json()["message"].as_str().unwrap_or_default().to_string();
        assert!(msg.starts_with("Out of call volume quota. Quota will be replenished in "), "{msg}");
    }
    assert_eq!(gw.get("/free/x", &[]).status, 200, "other APIs are not limited");
}

#[test]
fn bandwidth_quota_counts_the_bytes_of_the_exchange() {
    let b = Backend::normal();
    let t = tag();
    let gw = Gateway::start(&config(&b, &t), &[]);
    let key = format!("bronze-key-{t}");
    let r = gw.get("/bw/bytes/2000", &[(HDR, &key)]);
    assert_eq!((r.status, r.body.len()), (200, 2000), "the first call has the whole allowance");
    // Charged once the response is written: the next call (at the latest the one after) is out.
    let r = wait_until("the bandwidth quota refuses", Duration::from_secs(5), || {
        let r = gw.get("/bw/x", &[(HDR, &key)]);
        (r.status != 200).then_some(r)
    });
    assert_refused(&r, 403, QUOTA_PERIOD);
    assert!(r.text().contains("Out of bandwidth quota"), "{r:?}");
}

#[test]
fn limit_concurrency_passes_two_of_six_against_a_slow_backend() {
    let b = Backend::normal();
    let gw = Gateway::start(&config(&b, &tag()), &[]);
    let started = Instant::now();
    let rs = parallel(gw.http_addr(), 6, "/lc/slow/1500", &[]);
    assert_eq!(count(&rs, 200), 2, "{:?}", rs.iter().map(|r| r.status).collect::<Vec<_>>());
    for r in rs.iter().filter(|r| r.status != 200) {
        assert_refused(r, 429, 1);
    }
    assert!(started.elapsed() < Duration::from_secs(10));
    // The slots came back when the calls ended.
    let rs = parallel(gw.http_addr(), 2, "/lc/slow/10", &[]);
    assert_eq!(count(&rs, 200), 2);
}

fn start_with_redis(b: &Backend, t: &str, redis: &Redis) -> Gateway {
    let url = format!("policy.counters.redis={}", redis.url());
    let gw = Gateway::start(&config(b, t), &[&url, "policy.counters.sync.interval=50ms"]);
    gw.wait_metric("ringgate_limits_redis_up", &[], 1.0);
    gw
}

fn redis_get(redis: &Redis, pattern: &str) -> Option<u64> {
    let mut conn = ::redis::Client::open(redis.url()).ok()?.get_connection().ok()?;
    let keys: Vec<String> = ::redis::cmd("KEYS").arg(pattern).query(&mut conn).ok()?;
    let key = keys.first()?;
    // One field per gateway process (its absolute count); the fleet total is their sum.
    let fields: Vec<u64> = ::redis::cmd("HVALS").arg(key).query(&mut conn).ok()?;
    Some(fields.iter().sum())
}

#[test]
fn two_gateways_share_one_limit_through_redis() {
    let redis = Redis::start().expect("redis-server is not installed (the test command installs it)");
    away_from_window_end(RL_PERIOD);
    let b = Backend::normal();
    let t = tag();
    let (g1, g2) = (start_with_redis(&b, &t, &redis), start_with_redis(&b, &t, &redis));
    // 60 calls paced 20 ms apart, alternating between the gateways: 50 calls/s in all.
    let mut admitted = 0;
    for i in 0..60 {
        let gw = if i % 2 == 0 { &g1 } else { &g2 };
        let r = gw.get("/fleet/x", &[]);
        match r.status {
            200 => admitted += 1,
            _ => assert_refused(&r, 429, RL_PERIOD),
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // Bound (ringgate::limits): what the other gateway admits in one sync interval, 25 calls/s ×
    // 50 ms ≈ 1.3 calls; the check allows a few intervals of scheduling delay on a loaded box.
    assert!(admitted >= 30, "a fleet limit must not under-admit: {admitted}");
    assert!(admitted <= 30 + 8, "over-admission beyond the bound: {admitted}");
}

#[test]
fn quota_counts_survive_a_gateway_restart_and_losing_redis_keeps_gateways_answering() {
    let redis = Redis::start().expect("redis-server is not installed (the test command installs it)");
    away_from_window_end(QUOTA_PERIOD);
    let b = Backend::normal();
    let t = tag();
    let key = format!("silver-key-{t}");
    let pattern = format!("ringgate:limit:*quota*s-silver-{t}*");
    {
        let mut g1 = start_with_redis(&b, &t, &redis);
        for _ in 0..5 {
            assert_eq!(g1.get("/q/x", &[(HDR, &key)]).status, 200);
        }
        wait_until("5 calls pushed to Redis", Duration::from_secs(10), || {
            (redis_get(&redis, &pattern) == Some(5)).then_some(())
        });
        g1.sigterm();
        g1.wait_exit(Duration::from_secs(20));
    }
    let g2 = start_with_redis(&b, &t, &redis);
    assert_eq!(g2.get("/q/x", &[(HDR, &key)]).status, 200, "6 of 7");
    wait_until("the restarted gateway learned the fleet count", Duration::from_secs(10), || {
        (redis_get(&redis, &pattern) == Some(6)).then_some(())
    });
    // Give the sync one more round to read the total back after pushing.
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(g2.get("/q/x", &[(HDR, &key)]).status, 200, "7 of 7");
    assert_refused(&g2.get("/q/x", &[(HDR, &key)]), 403, QUOTA_PERIOD);

    // Redis killed: both gateways answer at once, limits enforced locally.
    let g3 = start_with_redis(&b, &t, &redis);
    drop(redis);
    for gw in [&g2, &g3] {
        let started = Instant::now();
        assert_eq!(gw.get("/free/x", &[]).status, 200);
        assert_eq!(gw.get("/bykey/x", &[]).status, 200);
        assert!(started.elapsed() < Duration::from_secs(1), "answered at once: {:?}", started.elapsed());
    }
    g2.wait_metric("ringgate_limits_redis_up", &[], 0.0);
    assert_eq!(g2.get("/free/x", &[]).status, 200);
    assert_refused(&g2.get("/q/x", &[(HDR, &key)]), 403, QUOTA_PERIOD);
}
