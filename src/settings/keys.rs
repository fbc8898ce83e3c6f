//! The table of known settings: dotted key, default, kind, secrecy.
//!
//! APIM's own keys keep APIM's meaning; keys marked `own` are ringgate's (settings.md).

/// How a value is checked and typed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Text,
    Bool,
    Count,
    Port,
    Duration,
    Bytes,
    /// Bytes, or "unlimited".
    BytesOrUnlimited,
    Ip,
    OneOf(&'static [&'static str]),
}

pub struct Key {
    pub name: &'static str,
    /// `None` means unset by default.
    pub default: Option<&'static str>,
    pub kind: Kind,
    pub secret: bool,
}

const fn key(name: &'static str, default: Option<&'static str>, kind: Kind) -> Key {
    Key { name, default, kind, secret: false }
}

const LOG_LEVELS: &[&str] = &["all", "debug", "info", "warn", "error", "fatal"];

pub const KEYS: &[Key] = &[
    key("config.service.endpoint", None, Kind::Text),
    Key { name: "config.service.auth", default: None, kind: Kind::Text, secret: true },
    key("config.service.endpoint.disableCertificateValidation", Some("false"), Kind::Bool),
    // own: PEM CA certificates the endpoint's certificate is verified against (default: the
    // system's web roots), e.g. a control plane's DATA/tls/cert.pem.
    key("config.service.endpoint.ca-file", None, Kind::Text),
    // own: send the gateway token to an http:// endpoint (development only; warned about).
    key("config.service.endpoint.allow-plain-http", Some("false"), Kind::Bool),
    key("config.service.integration.timeout", Some("00:01:40"), Kind::Duration),
    key("config.service.poll.interval", Some("10s"), Kind::Duration),
    key("config.service.heartbeat.interval", Some("60s"), Kind::Duration),
    key("config.service.max-document-bytes", Some("64MiB"), Kind::Bytes),
    key("config.local.path", None, Kind::Text),
    key("config.backup.path", None, Kind::Text),
    key("gateway.name", None, Kind::Text),
    key("runtime.workers", None, Kind::Count),
    key("runtime.workers.pin", Some("true"), Kind::Bool),
    key("net.server.bind", Some("0.0.0.0"), Kind::Ip),
    key("net.server.http.port", Some("8080"), Kind::Port),
    key("net.server.https.port", Some("8081"), Kind::Port),
    key("net.server.admin.port", Some("8082"), Kind::Port),
    key("net.server.admin.bind", Some("127.0.0.1"), Kind::Ip),
    key("net.server.http.forwarded.proto.enabled", Some("false"), Kind::Bool),
    key("net.server.tls.ciphers.allowed-suites", None, Kind::Text),
    key("net.client.tls.ciphers.allowed-suites", None, Kind::Text),
    key("net.server.limits.header-bytes", Some("65536"), Kind::Bytes),
    key("net.server.limits.body-bytes", Some("unlimited"), Kind::BytesOrUnlimited),
    key("net.server.timeouts.header", Some("30s"), Kind::Duration),
    key("net.server.timeouts.idle", Some("120s"), Kind::Duration),
    key("net.client.timeouts.connect", Some("10s"), Kind::Duration),
    key("net.client.timeouts.response", Some("300s"), Kind::Duration),
    key("net.client.pool.idle-per-host", Some("64"), Kind::Count),
    key("net.client.pool.idle-timeout", Some("30s"), Kind::Duration),
    key("telemetry.logs.std", Some("text"), Kind::OneOf(&["none", "text", "json"])),
    key("telemetry.logs.std.level", Some("info"), Kind::OneOf(LOG_LEVELS)),
    key("telemetry.logs.std.color", Some("false"), Kind::Bool),
    key("telemetry.logs.requests", Some("true"), Kind::Bool),
    key("telemetry.metrics.requests", Some("true"), Kind::Bool),
    key("telemetry.metrics.local", Some("none"), Kind::OneOf(&["none", "statsd", "prometheus"])),
    key("telemetry.metrics.local.statsd.endpoint", None, Kind::Text),
    key(
        "telemetry.metrics.local.statsd.tag-format",
        Some("dogStatsD"),
        Kind::OneOf(&["none", "dogStatsD", "influxDB", "librato"]),
    ),
    key("observability.opentelemetry.enabled", Some("false"), Kind::Bool),
    key("observability.opentelemetry.collector.uri", None, Kind::Text),
    key(
        "observability.opentelemetry.histogram.buckets",
        Some("5,10,25,50,100,250,500,1000,2500,5000,10000"),
        Kind::Text,
    ),
    key("observability.opentelemetry.export.interval", Some("60s"), Kind::Duration),
    key("policy.counters.redis", None, Kind::Text),
    key("policy.counters.sync.interval", Some("100ms"), Kind::Duration),
    key("policy.jwt.openid.refetch-interval", Some("5m"), Kind::Duration),
    key("shutdown.drain.timeout", Some("30s"), Kind::Duration),
    // APIM's: trust the container's CA store (tls::local_ca)
    key("certificates.local.ca.enabled", Some("false"), Kind::Bool),
    // own: the whole request body must arrive within this after its head (408 otherwise)
    key("net.server.timeouts.body", Some("60s"), Kind::Duration),
    // own: connections beyond these are closed at accept
    key("net.server.connections.max-per-worker", Some("65536"), Kind::Count),
    key("net.server.connections.max-per-client-ip", Some("16384"), Kind::Count),
];

/// Finds a known key, case-insensitively (environment variables may be upper-cased).
pub fn find(name: &str) -> Option<&'static Key> {
    KEYS.iter().find(|k| k.name.eq_ignore_ascii_case(name))
}

/// Prefixes that mark an environment variable as meant for us, so a typo gets a warning.
pub const NAMESPACES: &[&str] = &[
    "config.",
    "gateway.",
    "runtime.",
    "net.",
    "telemetry.",
    "observability.",
    "policy.",
    "shutdown.",
    "certificates.",
];
