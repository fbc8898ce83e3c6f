//! `validate-jwt` `<openid-config>`: the discovery document and its JWKS, fetched on the
//! control thread (never on the request path). The key sets are an input of the snapshot's
//! assembly ([`crate::snapshot::Builder::assemble`]), which hands them to workers.
//!
//! Per URL: fetched as soon as a snapshot names it, refreshed every hour, and re-fetched when
//! a worker noted a `kid` miss, at most once per `policy.jwt.openid.refetch-interval` (APIM:
//! 5 minutes). A failed fetch keeps the keys already known; a provider that never answered
//! leaves the policy failing with `TokenSignatureKeyNotFound` while everything else serves.
//! Each call has a short timeout so a dead provider holds the control loop for seconds at most.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::policy::policies::validate_jwt::keys::{parse_jwks, KeySets, Provider};

/// How long fetched keys are trusted before a refresh.
const CACHE_FOR: Duration = Duration::from_secs(3600);
/// Per HTTP call (connect, TLS, headers and body).
const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// Discovery documents and key sets are small; refuse anything larger.
const MAX_BODY: u64 = 1 << 20;

struct Entry {
    provider: Arc<Provider>,
    /// Shared with every provider handed out for this URL: workers raise it.
    miss: Arc<AtomicBool>,
    last_attempt: Option<Instant>,
    last_success: Option<Instant>,
    /// The discovery document and JWKS as last fetched, to tell a change.
    fetched: Vec<u8>,
}

pub struct OpenIdCache {
    agent: ureq::Agent,
    refetch: Duration,
    entries: HashMap<String, Entry>,
}

impl OpenIdCache {
    pub fn new(refetch: Duration) -> OpenIdCache {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(CALL_TIMEOUT))
            .http_status_as_error(false)
            .max_redirects(3)
            .user_agent(concat!("ringgate/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        OpenIdCache { agent, refetch, entries: HashMap::new() }
    }

    /// The key sets for `urls` (a document's `<openid-config>` URLs): what is known for each,
    /// or an empty provider for a URL not tracked yet. Changes nothing: a document that is
    /// then rejected leaves the cache as it was (see [`OpenIdCache::track`]).
    pub fn key_sets(&self, urls: &[String]) -> KeySets {
        let mut keys = KeySets::default();
        for u in urls {
            let provider = match self.entries.get(u) {
                Some(e) => e.provider.clone(),
                None => Arc::new(Provider { miss: Arc::new(AtomicBool::new(false)), ..Provider::default() }),
            };
            keys.insert(u.clone(), provider);
        }
        keys
    }

    /// The key sets of every URL tracked (those of the document in service).
    pub fn current(&self) -> KeySets {
        let mut keys = KeySets::default();
        for (u, e) in &self.entries {
            keys.insert(u.clone(), e.provider.clone());
        }
        keys
    }

    /// The document assembled with `keys` is in service: tracks exactly its URLs from now on
    /// (new ones fetched at the next [`OpenIdCache::refresh`], sharing the miss flag of the
    /// provider handed out), and forgets the URLs it no longer names.
    pub fn track(&mut self, keys: &KeySets) {
        self.entries.retain(|u, _| keys.get(u).is_some());
        for (u, p) in keys.iter() {
            self.entries.entry(u.to_string()).or_insert_with(|| Entry {
                provider: p.clone(),
                miss: p.miss.clone(),
                last_attempt: None,
                last_success: None,
                fetched: Vec::new(),
            });
        }
    }

    /// Fetches what is due; returns whether any provider's keys changed (a snapshot must be
    /// assembled with the new key sets and pushed).
    pub fn refresh(&mut self) -> bool {
        let now = Instant::now();
        let mut changed = false;
        for (url, e) in &mut self.entries {
            let since = |t: Option<Instant>| t.map_or(Duration::MAX, |t| now.duration_since(t));
            let due = e.last_attempt.is_none()
                || (since(e.last_success) >= CACHE_FOR && since(e.last_attempt) >= self.refetch)
                || (e.miss.load(Ordering::Relaxed) && since(e.last_attempt) >= self.refetch);
            if !due {
                continue;
            }
            e.miss.store(false, Ordering::Relaxed);
            e.last_attempt = Some(now);
            match fetch(&self.agent, url) {
                Ok((raw, issuer, keys)) => {
                    e.last_success = Some(now);
                    let same = raw == e.fetched;
                    e.fetched = raw;
                    tracing::info!(url = %url, keys = keys.len(), changed = !same, "openid-config fetched");
                    if !same {
                        e.provider = Arc::new(Provider { issuer, keys, miss: e.miss.clone() });
                        changed = true;
                    }
                }
                Err(err) => tracing::warn!(url = %url, "openid-config fetch failed (keys kept): {err}"),
            }
        }
        changed
    }
}

fn get_json(agent: &ureq::Agent, url: &str) -> Result<Vec<u8>, String> {
    let mut resp = agent.get(url).header("Accept", "application/json").call().map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    if status != 200 {
        return Err(format!("{url} answered {status}"));
    }
    resp.body_mut().with_config().limit(MAX_BODY).read_to_vec().map_err(|e| format!("{url}: {e}"))
}

type Fetched = (Vec<u8>, Option<String>, Vec<crate::policy::policies::validate_jwt::keys::SigningKey>);

/// The discovery document, then the JWKS it names.
fn fetch(agent: &ureq::Agent, url: &str) -> Result<Fetched, String> {
    let body = get_json(agent, url)?;
    let doc: serde_json::Value = serde_json::from_slice(&body).map_err(|e| format!("discovery is not JSON: {e}"))?;
    let issuer = doc.get("issuer").and_then(|v| v.as_str()).map(str::to_string);
    let jwks_uri = doc.get("jwks_uri").and_then(|v| v.as_str()).ok_or("discovery has no jwks_uri")?;
    if !(jwks_uri.starts_with("https://") || jwks_uri.starts_with("http://")) {
        return Err(format!("jwks_uri '{jwks_uri}' is not http(s)"));
    }
    let jwks = get_json(agent, jwks_uri)?;
    let (keys, skipped) = parse_jwks(&jwks)?;
    for s in skipped {
        tracing::warn!(url = %jwks_uri, "JWKS key skipped: {s}");
    }
    let mut raw = body;
    raw.extend_from_slice(&jwks);
    Ok((raw, issuer, keys))
}
