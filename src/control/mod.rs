//! The control thread: takes documents from a source (local file now; the configuration endpoint
//! and the backup plug in as further sources), loads and compiles them off the request path, and
//! hands every worker its own copy. A rejected document never replaces the running one.

pub mod backup;
pub mod endpoint;
pub mod file_source;
pub mod openid;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use crate::config;
use crate::node::NodeState;
use crate::policy::policies::validate_jwt::openid_urls;
use crate::settings::Settings;
use crate::snapshot::Snapshot;
use crate::worker::WorkerMsg;

/// Where documents come from. `poll` is called on the control thread every [`POLL`]; it returns a
/// new document's bytes when there is one.
pub trait Source: Send {
    fn name(&self) -> &'static str;
    fn poll(&mut self) -> Option<Result<Vec<u8>, String>>;
    /// What became of the last document `poll` returned: its revision, or why it was rejected.
    fn outcome(&mut self, _result: Result<&str, &str>) {}
    /// SIGHUP: the document to reload now (re-read whatever the file's stamp says), or `None`
    /// when the source has nothing to reload (it logs why).
    fn reload(&mut self) -> Option<Result<Vec<u8>, String>> {
        tracing::info!(source = self.name(), "SIGHUP: this configuration source has nothing to reload");
        None
    }
}

/// What the main thread tells the control thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlMsg {
    /// SIGHUP: reload the configuration now.
    Reload,
    /// Shutting down: return.
    Stop,
}

const POLL: Duration = Duration::from_millis(100);

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("{0}")]
    Load(#[from] config::LoadError),
    #[error("{0}")]
    Build(#[from] crate::snapshot::BuildError),
}

pub struct Control {
    pub settings: Arc<Settings>,
    pub node: Arc<NodeState>,
    builder: crate::snapshot::Builder,
    generation: u64,
    /// `validate-jwt` `<openid-config>` keys, fetched here; an input of each snapshot's assembly.
    openid: openid::OpenIdCache,
    /// The document in service, kept only while it names an `<openid-config>` (to assemble
    /// it again with new keys when the provider's keys change).
    current: Option<config::Snapshot>,
}

impl Control {
    pub fn new(settings: Arc<Settings>, node: Arc<NodeState>, builder: crate::snapshot::Builder) -> Control {
        let openid = openid::OpenIdCache::new(settings.openid_refetch);
        Control { settings, node, builder, generation: 0, openid, current: None }
    }

    /// Loads and compiles a document into the next snapshot, recording the outcome in the node
    /// status. Does not hand it to workers.
    pub fn compile(&mut self, mut bytes: Vec<u8>, source: &'static str) -> Result<Snapshot, ApplyError> {
        let result = config::load_document(&mut bytes).map_err(ApplyError::from).and_then(|loaded| {
            for w in &loaded.warnings {
                tracing::warn!(path = %w.path, "{}", w.message);
            }
            let urls = openid_urls(&loaded.snapshot.policy_plans);
            let keys = self.openid.key_sets(&urls);
            let kept = (!urls.is_empty()).then(|| loaded.snapshot.clone());
            let snap = self.builder.assemble(loaded.snapshot, &keys, self.generation + 1)?;
            self.openid.track(&keys);
            self.current = kept;
            Ok(snap)
        });
        match &result {
            Ok(snap) => {
                self.generation = snap.generation;
                let redis = self.settings.counters_redis.clone().or_else(|| {
                    snap.doc.caches.iter().find(|c| c.id == "default").map(|c| c.connection_string.clone())
                });
                if let Ok(mut url) = self.node.limits_redis.lock() {
                    *url = redis;
                }
                let revision = snap.revision().to_string();
                self.node.update_control(|c| {
                    c.revision = Some(revision);
                    c.generation = snap.generation;
                    c.source = source;
                    c.last_load = Some(SystemTime::now());
                    c.last_error = None;
                });
            }
            Err(e) => {
                let text = e.to_string();
                for line in text.lines() {
                    tracing::error!(source, "configuration rejected: {line}");
                }
                self.node.update_control(|c| {
                    c.last_error = Some(text);
                    c.sync_failures += 1;
                });
            }
        }
        result
    }

    /// Fetches the `<openid-config>` keys that are due; when they changed, the document in
    /// service is assembled again with the new keys, under a new generation, for broadcast.
    pub fn refresh_openid(&mut self) -> Option<Snapshot> {
        let doc = self.current.as_ref()?;
        if !self.openid.refresh() {
            return None;
        }
        let snap = match self.builder.assemble(doc.clone(), &self.openid.current(), self.generation + 1) {
            Ok(snap) => snap,
            Err(e) => {
                // The same document was assembled before; only a TLS setup that changed under
                // it could fail here. The snapshot in service stays.
                tracing::error!("openid-config keys changed but the snapshot could not be assembled: {e}");
                return None;
            }
        };
        self.generation = snap.generation;
        self.node.update_control(|c| c.generation = snap.generation);
        Some(snap)
    }

    /// Runs until told to stop: polls the source and broadcasts each accepted snapshot; a
    /// reload request goes through the same load → validate → compile path as a poll.
    pub fn run(mut self, mut source: Box<dyn Source>, workers: Vec<Sender<WorkerMsg>>, msgs: Receiver<ControlMsg>) {
        loop {
            let next = match msgs.recv_timeout(POLL) {
                Ok(ControlMsg::Stop) | Err(RecvTimeoutError::Disconnected) => return,
                Ok(ControlMsg::Reload) => source.reload(),
                Err(RecvTimeoutError::Timeout) => source.poll(),
            };
            match next {
                None => {}
                Some(Err(e)) => {
                    tracing::error!(source = source.name(), "configuration source failed: {e}");
                    self.node.update_control(|c| {
                        c.last_error = Some(e);
                        c.sync_failures += 1;
                    });
                }
                Some(Ok(bytes)) => match self.compile(bytes, source.name()) {
                    Ok(snap) => {
                        tracing::info!(
                            revision = snap.revision(),
                            generation = snap.generation,
                            "configuration applied"
                        );
                        source.outcome(Ok(snap.revision()));
                        broadcast(&workers, snap);
                    }
                    Err(e) => source.outcome(Err(&e.to_string())),
                },
            }
            if let Some(snap) = self.refresh_openid() {
                tracing::info!(generation = snap.generation, "openid-config keys changed: snapshot pushed");
                broadcast(&workers, snap);
            }
        }
    }
}

/// Each worker gets its own deep copy: no cache line of a snapshot is shared between cores.
pub fn broadcast(workers: &[Sender<WorkerMsg>], snap: Snapshot) {
    for tx in workers {
        let _ = tx.send(WorkerMsg::Install(Box::new(snap.clone())));
    }
}
