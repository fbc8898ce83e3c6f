//! The fleet half of limits: a thread that pushes each counter's admissions to Redis and reads
//! back the fleet totals, every sync interval. Keys: `ringgate:limit:{id}:{window}`, a hash with
//! one field per gateway process (a random id per start) holding that process's absolute count in
//! the window; the fleet total is the sum of the fields. Keys expire one period after their window
//! ends (quota counters live as long as their window, so a restarted gateway continues from the
//! fleet's count: its earlier process's field stays in the sum).
//!
//! Why absolute counts and not `INCRBY`: a push whose reply timed out (a partition) is pushed
//! again on a new connection, while the kernel may still deliver the abandoned one when the link
//! heals. With increments that counted the calls twice; a field that only ever grows to the
//! value pushed (`max`) makes every push idempotent and order-free.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::LimitStore;

pub struct RedisSync {
    /// The Redis to use, `None` for none; the control thread updates it as documents change
    /// (`policy.counters.redis`, else the document's `default` cache).
    pub url: Arc<Mutex<Option<String>>>,
    pub interval: Duration,
    pub store: Arc<LimitStore>,
}

/// Sets this process's field to the larger of its value and ARGV[2], refreshes the expiry and
/// returns the sum of all fields (the fleet total).
const PUSH: &str = "local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0') \
local v = tonumber(ARGV[2]) \
if v > cur then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end \
redis.call('EXPIRE', KEYS[1], ARGV[3]) \
local t = 0 \
for _, x in ipairs(redis.call('HVALS', KEYS[1])) do t = t + tonumber(x) end \
return t";

/// This process's field name in every counter hash: random per start, so a restart adds a field
/// instead of resetting the count it had pushed.
pub fn node_field() -> String {
    format!("{:016x}", fastrand::u64(..))
}

impl RedisSync {
    pub fn spawn(self) -> std::io::Result<std::thread::JoinHandle<()>> {
        std::thread::Builder::new().name("gw-limits-redis".into()).spawn(move || self.run())
    }

    fn run(self) {
        let mut current: Option<String> = None;
        let mut client: Option<redis::Client> = None;
        let mut conn: Option<redis::Connection> = None;
        let mut was_up = true;
        let node = node_field();
        loop {
            std::thread::sleep(self.interval);
            let wanted = self.url.lock().map(|u| u.clone()).unwrap_or(None);
            if wanted != current {
                current = wanted;
                conn = None;
                client = match current.as_deref().map(redis::Client::open) {
                    Some(Ok(c)) => Some(c),
                    Some(Err(e)) => {
                        tracing::error!(error = %e, "the Redis URL for limit counters is not usable: limits stay per node");
                        None
                    }
                    None => None,
                };
            }
            let Some(client) = &client else {
                self.store.redis_up.store(false, Ordering::Release);
                continue;
            };
            if conn.is_none() {
                conn = client.get_connection_with_timeout(Duration::from_secs(1)).ok();
                if let Some(c) = &mut conn {
                    let _ = c.set_read_timeout(Some(Duration::from_secs(1)));
                    let _ = c.set_write_timeout(Some(Duration::from_secs(1)));
                }
            }
            let ok = match &mut conn {
                Some(c) => sync_once(&self.store, c, &node).is_ok(),
                None => false,
            };
            if !ok {
                conn = None;
            }
            self.store.redis_up.store(ok, Ordering::Release);
            if ok != was_up {
                if ok {
                    tracing::info!("Redis for rate-limit counters is back: counts converge");
                } else {
                    tracing::warn!("Redis for rate-limit counters unreachable: enforcing the local view");
                }
                was_up = ok;
            }
        }
    }
}

/// One round: for every counter, push this process's absolute count in its window and learn the
/// fleet total. One pipeline for all counters.
pub fn sync_once(store: &LimitStore, conn: &mut redis::Connection, node: &str) -> redis::RedisResult<()> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let mut work = Vec::new();
    store.for_each(|id, c| {
        let (window, left) = c.window(now);
        let delta = c.unsynced.swap(0, Ordering::AcqRel);
        work.push((id.clone(), c.clone(), window, left, delta));
    });
    if work.is_empty() {
        return redis::cmd("PING").query::<()>(conn);
    }
    let mut pipe = redis::pipe();
    for (id, c, window, left, delta) in &work {
        let key = format!("ringgate:limit:{id}:{window}");
        let ttl = (left.as_secs() + c.period.as_secs()).max(1);
        let ours = c.synced_in(*window) + delta;
        pipe.cmd("EVAL").arg(PUSH).arg(1).arg(&key).arg(node).arg(ours).arg(ttl);
    }
    let totals: Vec<u64> = match pipe.query(conn) {
        Ok(t) => t,
        Err(e) => {
            // Not pushed: put the deltas back so they go with the next round.
            for (_, c, _, _, delta) in &work {
                c.unsynced.fetch_add(*delta, Ordering::AcqRel);
            }
            return Err(e);
        }
    };
    for ((_, c, window, _, delta), total) in work.iter().zip(totals) {
        let ours = c.synced_in(*window) + delta;
        c.set_synced(*window, ours);
        c.learn(*window, total, ours);
    }
    Ok(())
}
