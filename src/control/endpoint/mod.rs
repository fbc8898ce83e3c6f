//! Managed mode: the configuration endpoint as a [`Source`]. Polls for the gateway's document
//! with `If-None-Match`, heartbeats, backs off with jitter on failures, keeps the backup, and
//! tracks the token's expiry. All of it on the control thread; workers never wait on it.

pub mod client;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use client::{backoff, CallError, Client, Fetched};

use super::{backup, Source};
use crate::http::write::json_escape_into;
use crate::node::NodeState;
use crate::settings::Settings;

/// Warn about the token from this long before it expires.
const EXPIRY_WARNING: Duration = Duration::from_secs(7 * 24 * 3600);

#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    #[error("managed mode needs config.service.auth (GatewayKey <token>)")]
    NoToken,
    #[error("config.service.auth is not a valid gateway token: {0}")]
    BadToken(String),
    #[error("{0}")]
    Client(#[from] CallError),
}

pub struct EndpointSource {
    client: Client,
    gateway: String,
    node: Arc<NodeState>,
    backup_dir: Option<PathBuf>,
    poll_every: Duration,
    heartbeat_every: Duration,
    next_poll: Instant,
    next_heartbeat: Instant,
    failures: u32,
    /// Revision the gateway runs (or last refused): sent as `If-None-Match`.
    etag: Option<String>,
    /// The document handed to the control thread, until it says what became of it.
    pending: Option<(Vec<u8>, Option<String>)>,
    token_expiry: SystemTime,
    instance_id: String,
    started_at: SystemTime,
    last_sync_error: Option<String>,
    last_expiry_warning: Option<Instant>,
}

impl EndpointSource {
    pub fn new(settings: &Settings, node: Arc<NodeState>) -> Result<EndpointSource, EndpointError> {
        let endpoint = settings.service_endpoint.as_deref().unwrap_or_default();
        let auth = settings.service_auth.as_deref().ok_or(EndpointError::NoToken)?;
        let token = crate::token::parse(auth).map_err(|e| EndpointError::BadToken(e.to_string()))?;
        // Not sent at all: a token that lives longer than the maximum is refused by the
        // endpoint anyway, and sending it would only spread a credential that should not exist.
        crate::token::check_lifetime(&token, SystemTime::now()).map_err(|e| EndpointError::BadToken(e.to_string()))?;
        let gateway = settings.gateway_name.clone().unwrap_or_else(|| token.gateway_id.clone());
        let client = Client::new(settings, endpoint, auth)?;
        let now = Instant::now();
        let source = EndpointSource {
            client,
            gateway,
            node,
            backup_dir: settings.backup_path.clone(),
            poll_every: settings.poll_interval,
            heartbeat_every: settings.heartbeat_interval,
            next_poll: now,
            next_heartbeat: now,
            failures: 0,
            etag: None,
            pending: None,
            token_expiry: token.expiry,
            instance_id: (0..16).map(|_| fastrand::alphanumeric()).collect(),
            started_at: SystemTime::now(),
            last_sync_error: None,
            last_expiry_warning: None,
        };
        source.node.update_control(|c| c.token_expires = Some(token.expiry));
        Ok(source)
    }

    pub fn gateway(&self) -> &str {
        &self.gateway
    }

    /// The gateway started from its backup (revision `rev`): ask the endpoint only for newer.
    pub fn started_from(&mut self, revision: &str) {
        self.etag = Some(revision.to_string());
    }

    /// One fetch now (start-up): the document, or why not.
    pub fn fetch_now(&mut self) -> Result<Vec<u8>, String> {
        match self.poll_once() {
            Some(Ok(bytes)) => Ok(bytes),
            Some(Err(e)) => Err(e),
            None => Err("the endpoint has no new document".into()),
        }
    }

    /// An expired token is an error on every poll; an expiring one a warning once an hour.
    fn check_token(&mut self) {
        match self.token_expiry.duration_since(SystemTime::now()) {
            Err(_) => tracing::error!(
                gateway = %self.gateway,
                "the gateway token has expired: serving the last configuration; issue a new token"
            ),
            Ok(left) if left < EXPIRY_WARNING => {
                if self.last_expiry_warning.is_none_or(|t| t.elapsed() >= Duration::from_secs(3600)) {
                    self.last_expiry_warning = Some(Instant::now());
                    tracing::warn!(gateway = %self.gateway, hours = left.as_secs() / 3600, "the gateway token expires soon");
                }
            }
            Ok(_) => {}
        }
    }

    fn poll_once(&mut self) -> Option<Result<Vec<u8>, String>> {
        self.check_token();
        let result = self.client.fetch(&self.gateway, self.etag.as_deref());
        let now = Instant::now();
        match result {
            Ok(fetched) => {
                self.failures = 0;
                self.next_poll = now + self.poll_every;
                self.node.update_control(|c| {
                    c.last_sync = Some(SystemTime::now());
                    c.endpoint_error = None;
                });
                match fetched {
                    Fetched::NotModified => None,
                    Fetched::Document { bytes, etag } => {
                        self.pending = Some((bytes.clone(), etag));
                        Some(Ok(bytes))
                    }
                }
            }
            Err(e) => {
                self.failures += 1;
                self.next_poll = now + backoff(self.failures, self.poll_every);
                let text = format!("configuration endpoint: {e}");
                self.last_sync_error = Some(text.clone());
                self.node.update_control(|c| c.endpoint_error = Some(text.clone()));
                Some(Err(text))
            }
        }
    }

    fn heartbeat(&mut self) {
        let body = self.heartbeat_body();
        if let Err(e) = self.client.heartbeat(&self.gateway, &body) {
            tracing::warn!(gateway = %self.gateway, "heartbeat failed: {e}");
        }
    }

    fn heartbeat_body(&self) -> String {
        let c = self.node.control();
        let applied = self.node.all_applied();
        let mut s = String::from("{\"instanceId\":\"");
        json_escape_into(&mut s, &self.instance_id);
        s.push_str("\",\"hostname\":\"");
        json_escape_into(&mut s, &hostname());
        s.push_str("\",\"version\":\"");
        s.push_str(crate::telemetry::build_info::VERSION);
        s.push_str("\",\"commit\":\"");
        s.push_str(crate::telemetry::build_info::COMMIT);
        s.push_str("\",\"revision\":");
        match c.revision.as_deref().filter(|_| applied) {
            Some(r) => {
                s.push('"');
                json_escape_into(&mut s, r);
                s.push('"');
            }
            None => s.push_str("null"),
        }
        s.push_str(",\"startedAt\":\"");
        s.push_str(&crate::timefmt::rfc3339(self.started_at));
        s.push_str("\",\"workers\":");
        s.push_str(&self.node.workers.len().to_string());
        let healthy = applied && self.last_sync_error.is_none();
        s.push_str(if healthy { ",\"status\":\"ok\"" } else { ",\"status\":\"degraded\"" });
        s.push_str(",\"lastSyncError\":");
        match &self.last_sync_error {
            Some(e) => {
                s.push('"');
                json_escape_into(&mut s, e);
                s.push('"');
            }
            None => s.push_str("null"),
        }
        s.push('}');
        s
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_string()).unwrap_or_default()
}

impl Source for EndpointSource {
    fn name(&self) -> &'static str {
        "endpoint"
    }

    fn poll(&mut self) -> Option<Result<Vec<u8>, String>> {
        let now = Instant::now();
        if now >= self.next_heartbeat {
            self.next_heartbeat = now + self.heartbeat_every;
            self.heartbeat();
        }
        if now < self.next_poll {
            return None;
        }
        self.poll_once()
    }

    /// SIGHUP in managed mode: the endpoint is polled anyway; poll it now rather than wait.
    fn reload(&mut self) -> Option<Result<Vec<u8>, String>> {
        tracing::info!(
            gateway = %self.gateway,
            "SIGHUP: managed mode polls the configuration endpoint anyway; polling it now"
        );
        self.poll_once()
    }

    fn outcome(&mut self, result: Result<&str, &str>) {
        let Some((bytes, etag)) = self.pending.take() else {
            return;
        };
        match result {
            Ok(revision) => {
                self.etag = etag.or_else(|| Some(revision.to_string()));
                self.last_sync_error = None;
                if let Some(dir) = &self.backup_dir {
                    match backup::write(dir, &bytes, revision) {
                        Ok(()) => {
                            tracing::info!(revision, dir = %dir.display(), "configuration backed up")
                        }
                        Err(e) => tracing::error!("configuration backup failed: {e}"),
                    }
                }
            }
            Err(error) => {
                // Not asked for again until its revision changes.
                self.etag = etag.or(self.etag.take());
                self.last_sync_error = Some(format!("document rejected: {error}"));
            }
        }
    }
}
