//! Limits shared by a fleet through a real redis-server: two stores (two "gateways") pacing calls
//! against one limit stay within the documented over-admission bound; losing Redis keeps both
//! admitting locally; a restarted node continues from the fleet's count.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ringgate::limits::redis_sync::RedisSync;
use ringgate::limits::store::counter_id;
use ringgate::limits::LimitStore;

use common::redis::Redis;

const PERIOD: Duration = Duration::from_secs(86_400);
const SYNC: Duration = Duration::from_millis(50);

/// Not within 10 s of a window boundary (the windows are epoch-aligned days).
fn away_from_window_end() {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_secs();
    let left = PERIOD.as_secs() - now % PERIOD.as_secs();
    if left < 10 {
        std::thread::sleep(Duration::from_secs(left + 1));
    }
}

fn node(redis: &Redis) -> Arc<LimitStore> {
    let store = LimitStore::new();
    let url = Arc::new(std::sync::Mutex::new(Some(redis.url())));
    RedisSync { url, interval: SYNC, store: store.clone() }.spawn().expect("sync thread");
    store
}

fn wait<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn two_nodes_share_one_limit_within_the_bound() {
    let Some(redis) = Redis::start() else {
        panic!("redis-server is not installed (the test command installs it)");
    };
    away_from_window_end();
    let (a, b) = (node(&redis), node(&redis));
    let id = counter_id(&format!("fleet-test-{}", std::process::id()), "k");
    wait("both nodes syncing", || {
        (a.redis_up.load(std::sync::atomic::Ordering::Acquire) && b.redis_up.load(std::sync::atomic::Ordering::Acquire))
            .then_some(())
    });
    // 60 calls paced 20 ms apart, alternating between the nodes: 50 calls/s in all.
    let mut admitted = 0;
    for i in 0..60 {
        let store = if i % 2 == 0 { &a } else { &b };
        if store.admit(&id, 30, PERIOD, 1).allowed {
            admitted += 1;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // Bound (limits/mod.rs): what the other node admits in one sync interval, 25 calls/s × 50 ms
    // ≈ 1.3 calls; the check allows a few intervals of scheduling delay on a loaded 2-core CI box.
    assert!(admitted >= 30, "a fleet limit must not under-admit: {admitted}");
    assert!(admitted <= 30 + 8, "over-admission beyond the bound: {admitted}");
}

#[test]
fn losing_redis_keeps_nodes_admitting_and_a_restart_continues_the_count() {
    let Some(redis) = Redis::start() else {
        panic!("redis-server is not installed (the test command installs it)");
    };
    away_from_window_end();
    let id = counter_id(&format!("quota-test-{}", std::process::id()), "sub");
    {
        let a = node(&redis);
        wait("syncing", || a.redis_up.load(std::sync::atomic::Ordering::Acquire).then_some(()));
        for _ in 0..8 {
            assert!(a.admit(&id, 10, PERIOD, 1).allowed);
        }
        // Pushed to Redis before this "gateway" goes away.
        wait("the counts pushed", || {
            let mut done = true;
            a.for_each(|_, c| done &= c.pending() == 0);
            done.then_some(())
        });
    }
    // A restarted node: 2 left of 10, learned from Redis before it admits more.
    let b = node(&redis);
    assert!(b.admit(&id, 10, PERIOD, 1).allowed, "the first call goes through before any sync");
    wait("the fleet count learned", || {
        b.for_each(|_, _| {});
        let probe = b.admit(&id, 10, PERIOD, 0);
        (probe.remaining <= 1).then_some(())
    });
    assert!(b.admit(&id, 10, PERIOD, 1).allowed);
    assert!(!b.admit(&id, 10, PERIOD, 1).allowed, "8 + 2 of 10 used across the restart");
    // Redis gone: admission goes on locally, and the store says Redis is down.
    let port = redis.port;
    drop(redis);
    let other = counter_id(&format!("local-test-{}", std::process::id()), "k");
    wait("redis marked down", || (!b.redis_up.load(std::sync::atomic::Ordering::Acquire)).then_some(()));
    let admitted = (0..10).filter(|_| b.admit(&other, 5, PERIOD, 1).allowed).count();
    assert_eq!(admitted, 5, "local enforcement goes on, exactly");
    // Redis back (empty): the counts made meanwhile are pushed, so the totals converge.
    let redis = Redis::start_on(port).expect("redis again");
    wait("redis marked up", || b.redis_up.load(std::sync::atomic::Ordering::Acquire).then_some(()));
    let mut conn = redis::Client::open(redis.url()).expect("client").get_connection().expect("conn");
    let keys: Vec<String> = redis::cmd("KEYS").arg("ringgate:limit:*local-test*").query(&mut conn).expect("keys");
    assert_eq!(keys.len(), 1, "{keys:?}");
    let fields: Vec<u64> = redis::cmd("HVALS").arg(&keys[0]).query(&mut conn).expect("hvals");
    let total: u64 = fields.iter().sum();
    assert_eq!(total, 5);
}
