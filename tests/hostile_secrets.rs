//! Secrets at rest and in output (issue #23, class 5), with the real processes:
//! - the files holding keys, tokens, certificates' keys and configuration backups are 0600 in
//!   0700 folders (control plane data, its generated TLS key, the gateway's backup);
//! - `ringgate settings` masks URL passwords (Redis) and secret-named settings;
//! - a named value's text never appears in validation errors (`ringgate validate`, the
//!   gateway's log and `/status`, the heartbeat the control plane shows, the control plane's
//!   error body);
//! - a gateway token that expires more than 30 days ahead is refused by the control plane
//!   whatever its signature, and a gateway does not send one.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, SystemTime};

use base64::Engine;
use common::gateway::{managed_gateway, run_cli, ControlPlane};
use common::*;
use hmac::Mac;
use serde_json::{json, Value};

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())).permissions().mode() & 0o777
}

fn master(b: &Backend) -> Value {
    json!({
        "apis": [{"id": "a", "path": "a", "serviceUrl": b.url(), "subscriptionRequired": false}],
        "gateways": [{"id": "west", "apis": ["a"]}]
    })
}

#[test]
fn secret_files_are_0600_in_0700_folders() {
    let b = Backend::normal();
    let tmp = tempfile::tempdir().unwrap();
    // Folders that do not exist yet: created by the processes (the umask would make them 0755).
    let data = tmp.path().join("state").join("cp");
    let cp = ControlPlane::start(&data, "127.0.0.1:0", &[]);
    assert_eq!(cp.call("PUT", "/admin/document", &master(&b), None).status, 200);
    let token = cp.token("west");
    let backup = tmp.path().join("backups").join("west");
    let sets = [
        format!("config.service.endpoint.ca-file={}", cp.ca_file().display()),
        format!("config.backup.path={}", backup.display()),
    ];
    let (gw, _http, _admin) = managed_gateway(&cp.url(), &token, &sets);
    let backup_file = backup.join("ringgate-config.backup");
    wait_until("the backup and a heartbeat written", Duration::from_secs(10), || {
        (backup_file.exists() && data.join("heartbeats.json").exists()).then_some(())
    });
    assert_eq!(mode(&backup), 0o700, "backup folder");
    assert_eq!(mode(&backup_file), 0o600, "backup file");
    assert_eq!(mode(&data), 0o700, "control plane data folder");
    assert_eq!(mode(&data.join("tls")), 0o700, "control plane TLS folder");
    for f in ["admin.key", "keys.json", "master.json", "heartbeats.json", "tls/key.pem", "tls/cert.pem"] {
        assert_eq!(mode(&data.join(f)), 0o600, "{f}");
    }
    drop(gw);
}

#[test]
fn settings_output_masks_url_passwords_and_secret_names() {
    let (code, out, err) = run_cli(&[
        "settings",
        "--set",
        "policy.counters.redis=redis://:hunter2-pw@127.0.0.1:6379/0",
        "--set",
        "config.service.auth=GatewayKey gw&202601010000&c2VjcmV0LXNpZw==",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(!out.contains("hunter2-pw") && !err.contains("hunter2-pw"), "{out}{err}");
    assert!(out.contains("redis://:****@127.0.0.1:6379/0"), "{out}");
    assert!(!out.contains("c2VjcmV0LXNpZw"), "{out}");
}

const SECRET: &str = "s3cr3t-Zq8xW1-value";
/// A value of which a URL parser would quote only a part (the host).
const PARTIAL: &str = "Pq7 zz-host/tail-Wx9";
const PART: &str = "Pq7 zz-host";

/// A document whose only problem quotes a URL made from a secret named value.
fn leaky(b: &Backend, rev: &str) -> Value {
    json!({
        "revision": rev,
        "namedValues": {"backend-secret": SECRET, "partial": PARTIAL},
        "apis": [{"id": "a", "path": "a", "serviceUrl": "ftp://{{backend-secret}}@h", "subscriptionRequired": false},
                 {"id": "c", "path": "c", "serviceUrl": "https://{{partial}}", "subscriptionRequired": false},
                 {"id": "b", "path": "b", "serviceUrl": b.url(), "subscriptionRequired": false}]
    })
}

#[test]
fn named_values_never_appear_in_validation_errors_logs_status_or_heartbeats() {
    let b = Backend::normal();
    // `ringgate validate`
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("doc.json");
    std::fs::write(&file, leaky(&b, "x").to_string()).unwrap();
    let (code, out, err) = run_cli(&["validate", file.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("apis[0].serviceUrl"), "the problem is still named: {out}");
    assert!(out.contains("apis[1].serviceUrl"), "the problem is still named: {out}");
    for leak in [SECRET, PART] {
        assert!(!out.contains(leak) && !err.contains(leak), "{leak} leaked: {out}{err}");
    }

    // The running gateway: its log and /status after a rejected reload.
    let ok = json!({"revision": "r1", "apis": [{"id": "b", "path": "b", "serviceUrl": b.url(), "subscriptionRequired": false}]});
    let gw = Gateway::start(&ok.to_string(), &[]);
    gw.write_config(&leaky(&b, "r2").to_string());
    let status = wait_until("the rejection in /status", Duration::from_secs(5), || {
        let s = gw.status();
        s["lastError"].as_str().is_some_and(|e| e.contains("serviceUrl")).then_some(s)
    });
    for leak in [SECRET, PART] {
        assert!(!status.to_string().contains(leak), "{status}");
        assert!(!gw.log_text().contains(leak), "{}", gw.log_text());
    }

    // The control plane: its error body, and the heartbeat of a gateway whose cut fails.
    let data = tmp.path().join("cp");
    let cp = ControlPlane::start(&data, "127.0.0.1:0", &[]);
    let mut m = leaky(&b, "m");
    m["gateways"] = json!([{"id": "west", "apis": ["b"]}]);
    m["apis"][1]["serviceUrl"] = json!("https://{{partial}}");
    let r = cp.call("PUT", "/admin/document", &m, None);
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("apis[0].serviceUrl"), "{}", r.text());
    for leak in [SECRET, PART] {
        assert!(!r.text().contains(leak), "{}", r.text());
        assert!(!cp.proc.log_text().contains(leak));
    }
}

/// A token for `gw` signed with its real primary key (read from the control plane's data),
/// expiring `days` ahead: only its lifetime is wrong.
fn signed_token(data: &Path, gw: &str, days: u64) -> String {
    let keys: Value = serde_json::from_slice(&std::fs::read(data.join("keys.json")).unwrap()).unwrap();
    let key = keys[gw]["primary"].as_str().unwrap();
    let exp = ringgate::timefmt::compact(SystemTime::now() + Duration::from_secs(days * 86_400));
    let mut mac = hmac::Hmac::<sha2::Sha512>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(format!("{gw}\n{exp}").as_bytes());
    let sig = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    format!("GatewayKey {gw}&{exp}&{sig}")
}

#[test]
fn tokens_beyond_30_days_are_refused_and_not_sent() {
    let b = Backend::normal();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("cp");
    let cp = ControlPlane::start(&data, "127.0.0.1:0", &[]);
    assert_eq!(cp.call("PUT", "/admin/document", &master(&b), None).status, 200);
    assert_eq!(cp.fetch_status(&signed_token(&data, "west", 29), "west"), 200, "a 29-day token is fine");
    let long = signed_token(&data, "west", 31);
    let r = cp.raw("GET", "/gateways/west/configuration", Some(&long), b"");
    assert_eq!(r.status, 401, "{}", r.text());
    assert!(r.text().contains("30 days"), "a clear reason: {}", r.text());
    let r = cp.raw("POST", "/gateways/west/heartbeat", Some(&long), b"{}");
    assert_eq!(r.status, 401, "{}", r.text());

    // The gateway refuses to start with it rather than send it.
    let ca = format!("config.service.endpoint.ca-file={}", cp.ca_file().display());
    let mut args = vec!["run".to_string()];
    for s in [
        format!("config.service.endpoint={}", cp.url()),
        format!("config.service.auth={long}"),
        ca,
        "net.server.http.port=0".into(),
        "net.server.https.port=0".into(),
        "net.server.admin.port=0".into(),
    ] {
        args.push("--set".into());
        args.push(s);
    }
    let mut gw = Proc::spawn(&args);
    let status = gw.wait_exit(Duration::from_secs(10));
    assert_eq!(status.code(), Some(2), "{}", gw.log_text());
    assert!(gw.log_text().contains("30 days"), "{}", gw.log_text());
}
