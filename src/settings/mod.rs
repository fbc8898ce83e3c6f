//! Settings as APIM's flat dotted keys, from `--set`, the environment, a settings file and defaults
//! (highest precedence first), checked and turned into typed [`Settings`].

pub mod keys;
pub mod parse;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use keys::{Kind, KEYS};

/// Where an effective value came from, for `ringgate settings`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    CommandLine,
    Environment,
    File,
    Default,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::CommandLine => "command line (--set)",
            Source::Environment => "environment",
            Source::File => "settings file",
            Source::Default => "default",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("settings file {path}: {error}")]
    File { path: String, error: std::io::Error },
    #[error("settings file {path}:{line}: expected key=value")]
    FileSyntax { path: String, line: usize },
    #[error("--set {0}: expected key=value")]
    SetSyntax(String),
    #[error("setting {key}={value:?} is invalid: expected {expected}")]
    Invalid { key: String, value: String, expected: String },
}

/// Every known key with its effective raw value and source, plus warnings about unknown keys.
pub struct RawSettings {
    pub values: BTreeMap<&'static str, (String, Source)>,
    pub warnings: Vec<String>,
}

impl RawSettings {
    /// Gathers the layers. `env` is passed in (not read here) so tests can control it.
    pub fn gather(
        sets: &[String],
        env: impl IntoIterator<Item = (String, String)>,
        file: Option<&str>,
    ) -> Result<Self, SettingsError> {
        let mut values = BTreeMap::new();
        let mut warnings = Vec::new();
        for k in KEYS {
            if let Some(d) = k.default {
                values.insert(k.name, (d.to_string(), Source::Default));
            }
        }
        if let Some(path) = file {
            let text =
                std::fs::read_to_string(path).map_err(|error| SettingsError::File { path: path.to_string(), error })?;
            for (i, line) in text.lines().enumerate() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                let (k, v) =
                    line.split_once('=').ok_or(SettingsError::FileSyntax { path: path.to_string(), line: i + 1 })?;
                put(&mut values, &mut warnings, k.trim(), v.trim(), Source::File);
            }
        }
        for (k, v) in env {
            if keys::find(&k).is_some() {
                put(&mut values, &mut warnings, &k, &v, Source::Environment);
            } else if k.contains('.') && keys::NAMESPACES.iter().any(|p| k.to_ascii_lowercase().starts_with(p)) {
                warnings.push(format!("unknown setting {k:?} in the environment is ignored"));
            }
        }
        for s in sets {
            let (k, v) = s.split_once('=').ok_or_else(|| SettingsError::SetSyntax(s.clone()))?;
            put(&mut values, &mut warnings, k.trim(), v, Source::CommandLine);
        }
        Ok(RawSettings { values, warnings })
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(|(v, _)| v.as_str())
    }

    /// Checks every value against its kind; the first malformed one is the error.
    pub fn check(&self) -> Result<(), SettingsError> {
        for k in KEYS {
            if let Some(v) = self.get(k.name) {
                check_value(k.name, k.kind, v).map_err(|e| match e {
                    // The error is printed: a secret's value is not.
                    SettingsError::Invalid { key, expected, .. } if k.secret || secret_name(k.name) => {
                        SettingsError::Invalid { key, value: mask(v), expected }
                    }
                    SettingsError::Invalid { key, value, expected } => {
                        SettingsError::Invalid { key, value: mask_url_password(&value), expected }
                    }
                    other => other,
                })?;
            }
        }
        Ok(())
    }

    /// Lines for `ringgate settings`: key, value (secrets masked), source.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        for k in KEYS {
            let (value, source) = match self.values.get(k.name) {
                Some((v, s)) if k.secret || secret_name(k.name) => (mask(v), s.as_str()),
                Some((v, s)) => (mask_url_password(v), s.as_str()),
                None => ("(unset)".to_string(), Source::Default.as_str()),
            };
            out.push_str(&format!("{:<52} {:<40} # {}\n", k.name, value, source));
        }
        out
    }
}

fn mask(v: &str) -> String {
    if v.is_empty() {
        String::new()
    } else {
        "****".to_string()
    }
}

/// A setting whose name says it holds a secret, whether or not the table marks it.
fn secret_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    ["token", "secret", "password", "passwd", "auth", "credential"].iter().any(|w| n.contains(w))
        || n.split(['.', '-', '_']).any(|part| part == "key" || part.ends_with("key"))
}

/// `scheme://user:password@host…` with the password (or a lone userinfo, which Redis reads as
/// the password) replaced by `****`; anything else unchanged.
pub fn mask_url_password(v: &str) -> String {
    let Some(scheme_end) = v.find("://") else { return v.to_string() };
    let rest = &v[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else { return v.to_string() };
    let userinfo = &rest[..at];
    let masked = match userinfo.split_once(':') {
        Some((user, _)) => format!("{user}:****"),
        None if userinfo.is_empty() => return v.to_string(),
        None => "****".to_string(),
    };
    format!("{}://{masked}{}", &v[..scheme_end], &rest[at..])
}

fn put(
    values: &mut BTreeMap<&'static str, (String, Source)>,
    warnings: &mut Vec<String>,
    k: &str,
    v: &str,
    source: Source,
) {
    match keys::find(k) {
        Some(key) => {
            values.insert(key.name, (v.to_string(), source));
        }
        None => warnings.push(format!("unknown setting {k:?} from the {} is ignored", source.as_str())),
    }
}

fn check_value(key: &str, kind: Kind, v: &str) -> Result<(), SettingsError> {
    let invalid = |expected: &str| SettingsError::Invalid {
        key: key.to_string(),
        value: v.to_string(),
        expected: expected.to_string(),
    };
    let ok = match kind {
        Kind::Text => true,
        Kind::Bool => parse::boolean(v).is_some(),
        Kind::Count => v.trim().parse::<usize>().map(|n| n > 0).unwrap_or(false),
        Kind::Port => v.trim().parse::<u16>().is_ok(),
        Kind::Duration => parse::duration(v).is_some(),
        Kind::Bytes => parse::bytes(v).is_some(),
        Kind::BytesOrUnlimited => v.trim() == "unlimited" || parse::bytes(v).is_some(),
        Kind::Ip => v.trim().parse::<IpAddr>().is_ok(),
        Kind::OneOf(allowed) => allowed.iter().any(|a| a.eq_ignore_ascii_case(v.trim())),
    };
    if ok {
        return Ok(());
    }
    Err(match kind {
        Kind::Text => invalid("text"),
        Kind::Bool => invalid("true or false"),
        Kind::Count => invalid("a whole number above 0"),
        Kind::Port => invalid("a port number from 0 to 65535"),
        Kind::Duration => invalid("a duration such as 10s, 500ms, 2m or 00:01:40"),
        Kind::Bytes => invalid("a size such as 65536, 64KiB or 64MiB"),
        Kind::BytesOrUnlimited => invalid("a size such as 1MiB, or unlimited"),
        Kind::Ip => invalid("an IP address"),
        Kind::OneOf(allowed) => invalid(&format!("one of {}", allowed.join(", "))),
    })
}

/// `5,10,25` → ascending, positive, finite bucket bounds.
fn buckets(v: &str) -> Result<Vec<f64>, SettingsError> {
    let invalid = || SettingsError::Invalid {
        key: "observability.opentelemetry.histogram.buckets".into(),
        value: v.into(),
        expected: "ascending positive numbers in milliseconds, comma-separated".into(),
    };
    let mut out = Vec::new();
    for part in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let b: f64 = part.parse().map_err(|_| invalid())?;
        if !b.is_finite() || b <= 0.0 || out.last().is_some_and(|l| *l >= b) {
            return Err(invalid());
        }
        out.push(b);
    }
    Ok(out)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    None,
    Text,
    Json,
}

/// The typed settings the gateway runs with.
#[derive(Clone, Debug)]
pub struct Settings {
    pub service_endpoint: Option<String>,
    /// `GatewayKey …` (secret: never logged).
    pub service_auth: Option<String>,
    pub endpoint_insecure: bool,
    pub endpoint_ca_file: Option<PathBuf>,
    /// `config.service.endpoint.allow-plain-http`: the token may go to an `http://` endpoint.
    pub endpoint_plain_http: bool,
    pub integration_timeout: Duration,
    pub poll_interval: Duration,
    pub heartbeat_interval: Duration,
    pub max_document_bytes: u64,
    pub local_path: Option<PathBuf>,
    pub backup_path: Option<PathBuf>,
    pub gateway_name: Option<String>,
    pub workers: usize,
    pub pin_workers: bool,
    pub bind: IpAddr,
    pub http_port: u16,
    pub https_port: u16,
    pub admin_bind: IpAddr,
    pub admin_port: u16,
    pub forwarded_proto: bool,
    pub server_ciphers: Option<String>,
    /// `certificates.local.ca.enabled`: trust the container's CA store (tls::local_ca).
    pub local_ca: bool,
    pub client_ciphers: Option<String>,
    pub header_bytes: usize,
    pub body_bytes: Option<u64>,
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
    pub connect_timeout: Duration,
    pub response_timeout: Duration,
    pub pool_idle_per_host: usize,
    pub pool_idle_timeout: Duration,
    pub log_format: LogFormat,
    pub log_level: String,
    pub log_requests: bool,
    /// `telemetry.metrics.requests` (ringgate's own): record per-request metrics (request counts
    /// by API/operation/class and the duration and size histograms behind `/metrics`, OTLP and
    /// StatsD). Off: `/metrics` still serves per-worker, connection and configuration series.
    pub metrics_requests: bool,
    pub drain_timeout: Duration,
    /// `Some(endpoint)` when `telemetry.metrics.local=statsd`.
    pub statsd: Option<String>,
    pub statsd_tag_format: String,
    pub otel_enabled: bool,
    pub counters_redis: Option<String>,
    pub counters_sync: Duration,
    /// Least time between two fetches of an `<openid-config>` caused by unknown `kid`s.
    pub openid_refetch: Duration,
    pub otel_collector: Option<String>,
    /// Histogram bucket bounds in milliseconds, ascending.
    pub otel_buckets_ms: Vec<f64>,
    pub otel_interval: Duration,
    /// `net.server.timeouts.body`: the whole request body arrives within this after its head.
    pub body_timeout: Duration,
    /// `net.server.connections.max-per-worker`.
    pub max_connections_per_worker: u64,
    /// `net.server.connections.max-per-client-ip` (across the node's workers).
    pub max_connections_per_ip: u64,
}

impl Settings {
    pub fn from_raw(raw: &RawSettings) -> Result<Settings, SettingsError> {
        raw.check()?;
        let text = |k: &str| raw.get(k).map(str::to_string).filter(|s| !s.is_empty());
        // `check` proved every present value parses, so the fallbacks below are never used.
        let dur = |k: &str| raw.get(k).and_then(parse::duration).unwrap_or_default();
        let flag = |k: &str| raw.get(k).and_then(parse::boolean).unwrap_or(false);
        let num = |k: &str| raw.get(k).and_then(|v| v.trim().parse::<u64>().ok()).unwrap_or(0);
        let size = |k: &str| raw.get(k).and_then(parse::bytes).unwrap_or(0);
        let ip = |k: &str| raw.get(k).and_then(|v| v.trim().parse().ok()).unwrap_or(IpAddr::from([127, 0, 0, 1]));
        let workers = match raw.get("runtime.workers") {
            Some(v) => v.trim().parse().unwrap_or(1),
            None => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        };
        let body_bytes = match raw.get("net.server.limits.body-bytes") {
            Some(v) if v.trim() != "unlimited" => parse::bytes(v),
            _ => None,
        };
        let log_format = match raw.get("telemetry.logs.std").map(str::to_ascii_lowercase).as_deref() {
            Some("none") => LogFormat::None,
            Some("json") => LogFormat::Json,
            _ => LogFormat::Text,
        };
        let metrics_requests = flag("telemetry.metrics.requests");
        let statsd_on = raw.get("telemetry.metrics.local").is_some_and(|v| v.eq_ignore_ascii_case("statsd"));
        if !metrics_requests && (statsd_on || flag("observability.opentelemetry.enabled")) {
            return Err(SettingsError::Invalid {
                key: "telemetry.metrics.requests".into(),
                value: "false".into(),
                expected: "true while telemetry.metrics.local=statsd or observability.opentelemetry.enabled=true \
                           (they export the per-request metrics)"
                    .into(),
            });
        }
        Ok(Settings {
            service_endpoint: text("config.service.endpoint"),
            service_auth: text("config.service.auth"),
            endpoint_insecure: flag("config.service.endpoint.disableCertificateValidation"),
            endpoint_ca_file: text("config.service.endpoint.ca-file").map(PathBuf::from),
            endpoint_plain_http: flag("config.service.endpoint.allow-plain-http"),
            integration_timeout: dur("config.service.integration.timeout"),
            poll_interval: dur("config.service.poll.interval").max(Duration::from_millis(100)),
            heartbeat_interval: dur("config.service.heartbeat.interval").max(Duration::from_millis(100)),
            max_document_bytes: size("config.service.max-document-bytes"),
            local_path: text("config.local.path").map(PathBuf::from),
            backup_path: text("config.backup.path").map(PathBuf::from),
            gateway_name: text("gateway.name"),
            workers,
            pin_workers: flag("runtime.workers.pin"),
            bind: ip("net.server.bind"),
            http_port: num("net.server.http.port") as u16,
            https_port: num("net.server.https.port") as u16,
            admin_bind: ip("net.server.admin.bind"),
            admin_port: num("net.server.admin.port") as u16,
            forwarded_proto: flag("net.server.http.forwarded.proto.enabled"),
            server_ciphers: text("net.server.tls.ciphers.allowed-suites"),
            local_ca: flag("certificates.local.ca.enabled"),
            client_ciphers: text("net.client.tls.ciphers.allowed-suites"),
            header_bytes: size("net.server.limits.header-bytes").clamp(1024, 16 << 20) as usize,
            body_bytes,
            header_timeout: dur("net.server.timeouts.header"),
            idle_timeout: dur("net.server.timeouts.idle"),
            connect_timeout: dur("net.client.timeouts.connect"),
            response_timeout: dur("net.client.timeouts.response"),
            pool_idle_per_host: num("net.client.pool.idle-per-host") as usize,
            pool_idle_timeout: dur("net.client.pool.idle-timeout"),
            log_format,
            log_level: raw.get("telemetry.logs.std.level").unwrap_or("info").to_ascii_lowercase(),
            log_requests: flag("telemetry.logs.requests"),
            metrics_requests,
            drain_timeout: dur("shutdown.drain.timeout"),
            statsd: match raw.get("telemetry.metrics.local").map(str::to_ascii_lowercase).as_deref() {
                Some("statsd") => {
                    Some(text("telemetry.metrics.local.statsd.endpoint").ok_or_else(|| SettingsError::Invalid {
                        key: "telemetry.metrics.local.statsd.endpoint".into(),
                        value: String::new(),
                        expected: "host:port (required when telemetry.metrics.local=statsd)".into(),
                    })?)
                }
                _ => None,
            },
            statsd_tag_format: text("telemetry.metrics.local.statsd.tag-format").unwrap_or_default(),
            otel_enabled: flag("observability.opentelemetry.enabled"),
            counters_redis: text("policy.counters.redis"),
            counters_sync: dur("policy.counters.sync.interval").max(Duration::from_millis(10)),
            openid_refetch: dur("policy.jwt.openid.refetch-interval"),
            otel_collector: text("observability.opentelemetry.collector.uri"),
            otel_buckets_ms: buckets(raw.get("observability.opentelemetry.histogram.buckets").unwrap_or(""))?,
            otel_interval: dur("observability.opentelemetry.export.interval").max(Duration::from_millis(100)),
            body_timeout: dur("net.server.timeouts.body").max(Duration::from_millis(1)),
            max_connections_per_worker: num("net.server.connections.max-per-worker"),
            max_connections_per_ip: num("net.server.connections.max-per-client-ip"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_is_set_then_env_then_file_then_default() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("env.conf");
        std::fs::write(&file, "# comment\nruntime.workers=3\nnet.server.http.port=9001\nbogus.key=1\n").expect("write");
        let raw = RawSettings::gather(
            &["net.server.http.port=9003".to_string()],
            vec![("RUNTIME.WORKERS".to_string(), "5".to_string()), ("PATH".to_string(), "/bin".to_string())],
            file.to_str(),
        )
        .expect("gather");
        let s = Settings::from_raw(&raw).expect("settings");
        assert_eq!(s.http_port, 9003);
        assert_eq!(s.workers, 5);
        assert_eq!(s.https_port, 8081);
        assert_eq!(raw.values["runtime.workers"].1, Source::Environment);
        assert_eq!(raw.warnings.len(), 1, "{:?}", raw.warnings);
    }

    #[test]
    fn malformed_value_names_key_and_accepted_values() {
        let raw = RawSettings::gather(&["telemetry.logs.std=xml".to_string()], vec![], None).expect("gather");
        let err = Settings::from_raw(&raw).expect_err("must fail").to_string();
        assert!(err.contains("telemetry.logs.std") && err.contains("none, text, json"), "{err}");
    }

    #[test]
    fn per_request_metrics_default_on_and_cannot_be_off_while_exported() {
        let gather = |sets: &[&str]| {
            let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
            Settings::from_raw(&RawSettings::gather(&sets, vec![], None).expect("gather"))
        };
        assert!(gather(&[]).expect("defaults").metrics_requests);
        assert!(!gather(&["telemetry.metrics.requests=false"]).expect("off").metrics_requests);
        let err = gather(&["telemetry.metrics.requests=false", "observability.opentelemetry.enabled=true"])
            .expect_err("OTLP exports the per-request metrics")
            .to_string();
        assert!(err.contains("telemetry.metrics.requests"), "{err}");
        let statsd = [
            "telemetry.metrics.requests=false",
            "telemetry.metrics.local=statsd",
            "telemetry.metrics.local.statsd.endpoint=127.0.0.1:8125",
        ];
        assert!(gather(&statsd).is_err());
    }

    #[test]
    fn url_passwords_and_secret_names_are_masked() {
        assert_eq!(mask_url_password("redis://:pw@h:6379/0"), "redis://:****@h:6379/0");
        assert_eq!(mask_url_password("rediss://u:p%40ss@h"), "rediss://u:****@h");
        assert_eq!(mask_url_password("redis://tok@h"), "redis://****@h");
        assert_eq!(mask_url_password("redis://h:6379/0?x=a@b"), "redis://h:6379/0?x=a@b");
        assert_eq!(mask_url_password("http://h/p"), "http://h/p");
        assert!(secret_name("config.service.auth") && secret_name("x.api-key") && secret_name("a.password"));
        assert!(!secret_name("net.server.http.port") && !secret_name("telemetry.logs.std"));
        let raw =
            RawSettings::gather(&["policy.counters.redis=redis://:hunter2@127.0.0.1:6379".to_string()], vec![], None)
                .expect("gather");
        let out = raw.describe();
        assert!(!out.contains("hunter2"), "{out}");
        assert!(out.contains("redis://:****@127.0.0.1:6379"), "{out}");
    }

    #[test]
    fn secrets_are_masked() {
        let raw =
            RawSettings::gather(&["config.service.auth=GatewayKey abc".to_string()], vec![], None).expect("gather");
        let out = raw.describe();
        assert!(!out.contains("abc"), "{out}");
        assert!(out.contains("****"));
    }
}
