//! The control plane's state, kept in its data folder with atomic writes so a restart loses
//! nothing: the master document (as put), the gateways' keys, the admin key, the heartbeats.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::cut::{self, GatewayEntry};
use crate::fsutil::{private_dir, random_secret, write_private};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {error}")]
    Io { path: PathBuf, error: std::io::Error },
    #[error("{path}: not valid state ({error})")]
    Corrupt { path: PathBuf, error: String },
    #[error("no random numbers from the operating system")]
    Random,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Keys {
    pub primary: String,
    pub secondary: String,
}

/// Instances remembered per gateway.
const MAX_INSTANCES: usize = 64;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Heartbeat {
    pub body: Value,
    /// Unix seconds when it arrived.
    pub received: u64,
}

/// The master and what is derived from it (each gateway's cut, rendered once per put).
struct Master {
    bytes: Vec<u8>,
    gateways: Vec<GatewayEntry>,
    cuts: HashMap<String, (Arc<Vec<u8>>, String)>,
}

#[derive(Default)]
struct Inner {
    master: Option<Master>,
    keys: BTreeMap<String, Keys>,
    heartbeats: BTreeMap<String, BTreeMap<String, Heartbeat>>,
}

pub struct Store {
    dir: PathBuf,
    inner: Mutex<Inner>,
}

fn read_json<T: for<'de> Deserialize<'de> + Default>(path: &Path) -> Result<T, StoreError> {
    match std::fs::read(path) {
        Ok(b) => {
            serde_json::from_slice(&b).map_err(|e| StoreError::Corrupt { path: path.into(), error: e.to_string() })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(T::default()),
        Err(error) => Err(StoreError::Io { path: path.into(), error }),
    }
}

pub fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

impl Store {
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        private_dir(dir).map_err(|error| StoreError::Io { path: dir.into(), error })?;
        let mut inner = Inner {
            keys: read_json(&dir.join("keys.json"))?,
            heartbeats: read_json(&dir.join("heartbeats.json"))?,
            master: None,
        };
        let master_path = dir.join("master.json");
        match std::fs::read(&master_path) {
            Ok(bytes) => {
                let master = prepare(bytes)
                    .map_err(|errors| StoreError::Corrupt { path: master_path.clone(), error: errors.join("; ") })?;
                inner.master = Some(master);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(StoreError::Io { path: master_path, error }),
        }
        Ok(Store { dir: dir.into(), inner: Mutex::new(inner) })
    }

    /// SIGHUP: re-reads `master.json` and `keys.json` (edited or restored by an operator). A
    /// master that does not load is refused whole and the running one stays. Returns a summary
    /// of what now runs, `None` when there is no master file.
    pub fn reload_master(&self) -> Result<Option<String>, StoreError> {
        let keys: BTreeMap<String, Keys> = read_json(&self.dir.join("keys.json"))?;
        let path = self.dir.join("master.json");
        let master = match std::fs::read(&path) {
            Ok(bytes) => Some(
                prepare(bytes)
                    .map_err(|errors| StoreError::Corrupt { path: path.clone(), error: errors.join("; ") })?,
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(error) => return Err(StoreError::Io { path, error }),
        };
        let mut inner = self.lock();
        inner.keys = keys;
        let Some(master) = master else { return Ok(None) };
        let summary = master.gateways.iter().map(|g| g.id.as_str()).collect::<Vec<_>>().join(", ");
        let summary = format!("gateways: {summary}");
        inner.master = Some(master);
        Ok(Some(summary))
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the state half-written (writes go to disk
        // first), so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn save<T: Serialize>(&self, name: &str, value: &T) -> Result<(), StoreError> {
        let path = self.dir.join(name);
        let bytes = serde_json::to_vec_pretty(value)
            .map_err(|e| StoreError::Corrupt { path: path.clone(), error: e.to_string() })?;
        write_private(&path, &bytes).map_err(|error| StoreError::Io { path, error })
    }

    pub fn master(&self) -> Option<Vec<u8>> {
        self.lock().master.as_ref().map(|m| m.bytes.clone())
    }

    /// Validates and stores a new master: every problem, or nothing changes.
    pub fn put_master(&self, bytes: Vec<u8>) -> Result<(), Result<Vec<String>, StoreError>> {
        let master = prepare(bytes).map_err(Ok)?;
        let mut inner = self.lock();
        write_private(&self.dir.join("master.json"), &master.bytes)
            .map_err(|error| Err(StoreError::Io { path: self.dir.join("master.json"), error }))?;
        let mut changed_keys = false;
        for g in &master.gateways {
            if !inner.keys.contains_key(&g.id) {
                let (p, s) = match (random_secret(), random_secret()) {
                    (Ok(p), Ok(s)) => (p, s),
                    _ => return Err(Err(StoreError::Random)),
                };
                inner.keys.insert(g.id.clone(), Keys { primary: p, secondary: s });
                changed_keys = true;
            }
        }
        if changed_keys {
            self.save("keys.json", &inner.keys).map_err(Err)?;
        }
        inner.master = Some(master);
        Ok(())
    }

    /// The gateway's document and revision; `None` for a gateway the master does not name.
    pub fn document_for(&self, gateway: &str) -> Option<(Arc<Vec<u8>>, String)> {
        self.lock().master.as_ref().and_then(|m| m.cuts.get(gateway).cloned())
    }

    pub fn keys(&self, gateway: &str) -> Option<Keys> {
        self.lock().keys.get(gateway).cloned()
    }

    pub fn regenerate(&self, gateway: &str, primary: bool) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        let fresh = random_secret().map_err(|_| StoreError::Random)?;
        let Some(keys) = inner.keys.get_mut(gateway) else { return Ok(false) };
        if primary {
            keys.primary = fresh;
        } else {
            keys.secondary = fresh;
        }
        self.save("keys.json", &inner.keys)?;
        Ok(true)
    }

    pub fn record_heartbeat(&self, gateway: &str, body: Value) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let instance: String =
            body.get("instanceId").and_then(Value::as_str).unwrap_or("unknown").chars().take(128).collect();
        let instances = inner.heartbeats.entry(gateway.to_string()).or_default();
        instances.insert(instance, Heartbeat { body, received: now_secs() });
        // Bounded: a gateway restarting in a loop (a new instance id each time) keeps the most
        // recent ones only.
        while instances.len() > MAX_INSTANCES {
            let oldest = instances.iter().min_by_key(|(_, hb)| hb.received).map(|(id, _)| id.clone());
            match oldest {
                Some(id) => instances.remove(&id),
                None => break,
            };
        }
        self.save("heartbeats.json", &inner.heartbeats)
    }

    /// `GET /admin/gateways`.
    pub fn gateways_view(&self) -> Value {
        let inner = self.lock();
        let Some(master) = &inner.master else { return Value::Array(Vec::new()) };
        let list = master
            .gateways
            .iter()
            .map(|g| {
                let instances: Vec<Value> = inner
                    .heartbeats
                    .get(&g.id)
                    .map(|m| {
                        m.iter()
                            .map(|(id, hb)| {
                                serde_json::json!({
                                    "instanceId": id,
                                    "hostname": hb.body.get("hostname"),
                                    "version": hb.body.get("version"),
                                    "commit": hb.body.get("commit"),
                                    "revision": hb.body.get("revision"),
                                    "status": hb.body.get("status"),
                                    "lastSyncError": hb.body.get("lastSyncError"),
                                    "startedAt": hb.body.get("startedAt"),
                                    "lastHeartbeat": crate::timefmt::rfc3339(UNIX_EPOCH + std::time::Duration::from_secs(hb.received)),
                                    "secondsSinceHeartbeat": now_secs().saturating_sub(hb.received),
                                })
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                serde_json::json!({
                    "id": g.id,
                    "location": g.location,
                    "description": g.description,
                    "apis": g.apis,
                    "revision": master.cuts.get(&g.id).map(|c| c.1.clone()),
                    "instances": instances,
                })
            })
            .collect();
        Value::Array(list)
    }
}

/// Parses a master, checks its gateway entries, and validates the master and every cut with the
/// gateway's own loader. Problems carry the path they were found at.
fn prepare(bytes: Vec<u8>) -> Result<Master, Vec<String>> {
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| vec![format!("$: invalid JSON: {e}")])?;
    // serde keeps the last of repeated members silently, and the re-serialised copy the loader
    // checks has none left: look at the bytes as put.
    let repeated: Vec<String> = crate::config::duplicate_members(&bytes).iter().map(|p| p.to_string()).collect();

    let gateways = cut::gateways(&value).map_err(|es| es.iter().map(|e| e.to_string()).collect::<Vec<_>>())?;
    let mut problems = repeated;
    let mut whole = value.clone();
    if let Some(o) = whole.as_object_mut() {
        o.remove("gateways");
    }
    let mut whole_bytes = serde_json::to_vec(&whole).unwrap_or_default();
    if let Err(e) = crate::config::load_document(&mut whole_bytes) {
        problems.extend(e.problems.iter().map(|p| p.to_string()));
    }
    let mut cuts = HashMap::new();
    for (i, g) in gateways.iter().enumerate() {
        let (doc, revision) = cut::cut(&value, g);
        let body = serde_json::to_vec(&doc).unwrap_or_default();
        let mut check = body.clone();
        if problems.is_empty() {
            if let Err(e) = crate::config::load_document(&mut check) {
                problems.extend(e.problems.iter().map(|p| format!("gateways[{i}] ({}) document: {p}", g.id)));
            }
        }
        cuts.insert(g.id.clone(), (Arc::new(body), revision));
    }
    if problems.is_empty() {
        Ok(Master { bytes, gateways, cuts })
    } else {
        Err(problems)
    }
}
