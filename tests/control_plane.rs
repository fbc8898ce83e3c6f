//! `ringgate control-plane` with real gateways: two gateways with different assignments serve
//! only their APIs, an admin change is served within a poll, heartbeats list each instance with
//! its applied revision, bad documents and bad admin keys are refused, tokens are checked
//! (tampered, expired, other gateway, regenerated key), and a restart keeps everything.

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::gateway::{managed_gateway, ControlPlane};
use common::{wait_until, Backend, Proc};
use serde_json::{json, Value};

fn start_cp(data: &Path, listen: &str) -> ControlPlane {
    ControlPlane::start(data, listen, &[])
}

fn master(backend: &Backend, extra_api: bool) -> Value {
    let mut apis = vec![
        json!({"id": "orders", "path": "orders", "serviceUrl": backend.url(), "subscriptionRequired": false}),
        json!({"id": "billing", "path": "billing", "serviceUrl": backend.url(), "subscriptionRequired": false}),
    ];
    if extra_api {
        apis.push(json!({"id": "extra", "path": "extra", "serviceUrl": backend.url(), "subscriptionRequired": false}));
    }
    json!({
        "apis": apis,
        "gateways": [
            {"id": "west", "location": "dc-west", "apis": if extra_api { json!(["orders", "extra"]) } else { json!(["orders"]) }},
            {"id": "east", "location": "dc-east", "apis": ["billing"]}
        ]
    })
}

struct Gw {
    proc: Proc,
    http: SocketAddr,
    admin: SocketAddr,
}

/// A managed gateway verifying the control plane's HTTPS with its generated certificate.
fn gateway(cp: &ControlPlane, token: &str, backup: Option<&Path>) -> Gw {
    let mut sets = vec![format!("config.service.endpoint.ca-file={}", cp.ca_file().display())];
    if let Some(dir) = backup {
        sets.push(format!("config.backup.path={}", dir.display()));
    }
    let (proc, http, admin) = managed_gateway(&cp.url(), token, &sets);
    Gw { proc, http, admin }
}

impl Gw {
    fn code(&self, path: &str) -> u16 {
        common::client::get(self.http, path, &[]).status
    }

    fn status(&self) -> Value {
        common::client::get(self.admin, "/status", &[]).json()
    }

    fn wait_applied(&self) -> String {
        wait_until("a revision applied", Duration::from_secs(15), || {
            let s = self.status();
            (s["applied"] == true).then(|| s["revision"].as_str().unwrap_or_default().to_string())
        })
    }
}

fn data_dir() -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().expect("tempdir");
    let p = d.path().join("cp");
    (d, p)
}

#[test]
fn two_gateways_get_their_own_apis_and_changes_arrive_within_a_poll() {
    let backend = Backend::normal();
    let (_tmp, data) = data_dir();
    let cp = start_cp(&data, "127.0.0.1:0");
    assert_eq!(cp.call("PUT", "/admin/document", &master(&backend, false), None).status, 200);
    let (west, east) = (gateway(&cp, &cp.token("west"), None), gateway(&cp, &cp.token("east"), None));
    let rev_west = west.wait_applied();
    east.wait_applied();
    assert_eq!(west.code("/orders/x"), 200);
    assert_eq!(west.code("/billing/x"), 404);
    assert_eq!(east.code("/billing/x"), 200);
    assert_eq!(east.code("/orders/x"), 404);

    // A change for west only: west gets it within a poll, east's revision does not move.
    let east_rev = east.status()["revision"].clone();
    assert_eq!(cp.call("PUT", "/admin/document", &master(&backend, true), None).status, 200);
    wait_until("west serving the new API", Duration::from_secs(3), || (west.code("/extra/x") == 200).then_some(()));
    assert_ne!(west.wait_applied(), rev_west);
    assert_eq!(east.status()["revision"], east_rev);

    // Heartbeats: each gateway lists its instance with the applied revision.
    let view = wait_until("heartbeats with applied revisions", Duration::from_secs(5), || {
        let v = cp.call("GET", "/admin/gateways", &Value::Null, None).json();
        let ok = v.as_array().is_some_and(|gws| {
            gws.iter()
                .all(|g| g["instances"].as_array().is_some_and(|i| i.len() == 1 && i[0]["revision"] == g["revision"]))
        });
        ok.then_some(v)
    });
    assert_eq!(view[0]["id"], "west");
    assert_eq!(view[0]["instances"][0]["status"], "ok");
}

#[test]
fn bad_documents_and_admin_keys_change_nothing() {
    let backend = Backend::normal();
    let (_tmp, data) = data_dir();
    let cp = start_cp(&data, "127.0.0.1:0");
    assert_eq!(cp.call("PUT", "/admin/document", &master(&backend, false), None).status, 200);
    assert_eq!(cp.call("GET", "/admin/document", &Value::Null, Some("wrong")).status, 401);
    let mut bad = master(&backend, false);
    bad["apis"][0]["serviceUrl"] = json!("ftp://nope");
    bad["gateways"][1]["apis"] = json!(["ghost"]);
    let r = cp.call("PUT", "/admin/document", &bad, None);
    assert_eq!(r.status, 400);
    let errors = r.json()["errors"].to_string();
    assert!(errors.contains("ghost"), "{errors}");
    let mut bad2 = master(&backend, false);
    bad2["apis"][0]["serviceUrl"] = json!("ftp://nope");
    let r = cp.call("PUT", "/admin/document", &bad2, None);
    assert_eq!(r.status, 400);
    assert!(r.json()["errors"].to_string().contains("apis[0].serviceUrl"), "{}", r.text());
    let current: Value = cp.call("GET", "/admin/document", &Value::Null, None).json();
    assert_eq!(current, master(&backend, false), "a rejected document changes nothing");
}

#[test]
fn tokens_are_checked_and_a_restart_keeps_everything() {
    let backend = Backend::normal();
    let (_tmp, data) = data_dir();
    let cp = start_cp(&data, "127.0.0.1:0");
    assert_eq!(cp.call("PUT", "/admin/document", &master(&backend, false), None).status, 200);
    let token = cp.token("west");
    assert_eq!(cp.fetch_status(&token, "west"), 200);
    assert_eq!(cp.fetch_status(&token, "east"), 401, "a token for west is not good for east");
    let tampered = token.replacen("west&", "east&", 1);
    assert_eq!(cp.fetch_status(&tampered, "east"), 401);
    let expired = "GatewayKey west&202001010000&AAAA";
    assert_eq!(cp.fetch_status(expired, "west"), 401);
    assert_eq!(cp.fetch_status(&token, "nowhere"), 404);

    // A gateway with a tampered token: a clear error, nothing served.
    let mut forged = token.clone();
    let flip = if forged.ends_with("A==") { "B==" } else { "A==" };
    forged.replace_range(forged.len() - 3.., flip); // a well-formed token with a wrong signature
    let gw_bad = gateway(&cp, &forged, None);
    wait_until("the refusal in /status", Duration::from_secs(5), || {
        gw_bad.status()["endpointError"].as_str().is_some_and(|e| e.contains("401")).then_some(())
    });
    assert_eq!(gw_bad.code("/orders/x"), 503);
    drop(gw_bad);

    // Restart: the document, keys (the old token) and admin key survive.
    let addr = cp.addr;
    let admin = cp.key.clone();
    drop(cp);
    let cp = start_cp(&data, &addr.to_string());
    assert_eq!(cp.key, admin);
    assert_eq!(cp.fetch_status(&token, "west"), 200, "tokens stay valid across a restart");
    assert_eq!(cp.call("GET", "/admin/document", &Value::Null, None).json(), master(&backend, false));

    // A gateway keeps serving while the control plane is down, from its backup after a restart.
    let backup = tempfile::tempdir().expect("backup dir");
    let gw = gateway(&cp, &token, Some(backup.path()));
    gw.wait_applied();
    assert_eq!(gw.code("/orders/x"), 200);
    let addr = cp.addr;
    let ca = cp.ca_file();
    drop(cp);
    std::thread::sleep(Duration::from_millis(1000)); // three poll intervals with the endpoint gone
    assert_eq!(gw.code("/orders/x"), 200);
    drop(gw);
    let sets = [
        format!("config.service.endpoint.ca-file={}", ca.display()),
        format!("config.backup.path={}", backup.path().display()),
    ];
    let (proc, http, admin) = managed_gateway(&format!("https://127.0.0.1:{}", addr.port()), &token, &sets);
    let gw = Gw { proc, http, admin };
    gw.wait_applied();
    assert_eq!(gw.status()["source"], "backup");
    assert_eq!(gw.code("/orders/x"), 200);
    assert!(gw.proc.log_text().contains("starting from the configuration backup"));

    // Regenerating the primary key invalidates its tokens.
    let cp = start_cp(&data, &addr.to_string());
    let r = cp.call("POST", "/admin/gateways/west/keys/regenerate", &json!({"keyType": "primary"}), None);
    assert_eq!(r.status, 204);
    assert_eq!(cp.fetch_status(&token, "west"), 401);
}
