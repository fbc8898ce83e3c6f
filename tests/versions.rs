//! Versions as APIM's image has them: `ringgate --version` names the release (major.minor.patch)
//! and the git commit; the same pair is in `/status`, in the heartbeat (as the control plane
//! lists it), and in the `ringgate_build_info{version,commit} 1` gauge.

mod common;

use std::process::Command;
use std::time::Duration;

use common::gateway::{managed_gateway, ControlPlane};
use common::{python_with_stdin, wait_until, Gateway};
use serde_json::{json, Value};

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The commit the binary says it was built from: `git rev-parse` of this checkout, unless the
/// build was given one (RINGGATE_GIT_COMMIT) or had no git.
fn expected_commit() -> Option<String> {
    if std::env::var("RINGGATE_GIT_COMMIT").is_ok_and(|c| !c.trim().is_empty()) {
        return None;
    }
    let out = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn version_output() -> (String, String) {
    let (code, stdout, stderr) = common::gateway::run_cli(&["--version"]);
    assert_eq!(code, 0, "{stderr}");
    let line = stdout.trim().to_string();
    let rest = line.strip_prefix("ringgate ").unwrap_or_else(|| panic!("{line}"));
    let (version, commit) = rest.split_once(" (commit ").unwrap_or_else(|| panic!("{line}"));
    (version.to_string(), commit.strip_suffix(')').unwrap_or_else(|| panic!("{line}")).to_string())
}

#[test]
fn version_flag_names_release_and_commit() {
    let (version, commit) = version_output();
    assert_eq!(version, VERSION);
    let parts: Vec<&str> = version.split('.').collect();
    assert!(parts.len() == 3 && parts.iter().all(|p| p.parse::<u32>().is_ok()), "major.minor.patch: {version}");
    assert!(!commit.is_empty() && commit.chars().all(|c| c.is_ascii_alphanumeric()), "{commit}");
    if let Some(head) = expected_commit() {
        assert_eq!(commit, head, "the commit of this checkout");
    }
    // -V is the same.
    let (code, short, _) = common::gateway::run_cli(&["-V"]);
    assert_eq!(code, 0);
    assert_eq!(short.trim(), format!("ringgate {version} (commit {commit})"));
}

#[test]
fn status_and_build_info_metric_carry_the_version() {
    let (version, commit) = version_output();
    let gw = Gateway::start(r#"{"revision":"v1","apis":[]}"#, &[]);
    gw.wait_revision("v1");
    let status = gw.status();
    assert_eq!(status["version"], version.as_str());
    assert_eq!(status["commit"], commit.as_str());
    let text = gw.metrics();
    let line = format!("ringgate_build_info{{version=\"{version}\",commit=\"{commit}\"}} 1");
    assert!(text.lines().any(|l| l == line), "{line} in:\n{text}");
    assert!(text.contains("# TYPE ringgate_build_info gauge"));
    // A real Prometheus parser reads the gauge with both labels.
    let script = "import sys\nfrom prometheus_client.parser import text_string_to_metric_families\n\
                  for f in text_string_to_metric_families(sys.stdin.read()):\n\
                  \x20   if f.name == 'ringgate_build_info':\n\
                  \x20       s = f.samples[0]\n\
                  \x20       print(f.type, s.labels['version'], s.labels['commit'], float(s.value))";
    let out = python_with_stdin(script, &text);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), format!("gauge {version} {commit} 1.0"));
}

#[test]
fn heartbeat_carries_the_version() {
    let (version, commit) = version_output();
    let tmp = tempfile::tempdir().unwrap();
    let cp = ControlPlane::start(&tmp.path().join("cp"), "127.0.0.1:0", &[]);
    let doc = json!({"apis": [], "gateways": [{"id": "west", "location": "dc", "apis": []}]});
    assert_eq!(cp.call("PUT", "/admin/document", &doc, None).status, 200);
    let sets = vec![
        format!("config.service.endpoint.ca-file={}", cp.ca_file().display()),
        "config.service.heartbeat.interval=200ms".to_string(),
    ];
    let (_gw, _http, _admin) = managed_gateway(&cp.url(), &cp.token("west"), &sets);
    let instance = wait_until("a heartbeat", Duration::from_secs(15), || {
        let v = cp.call("GET", "/admin/gateways", &Value::Null, None).json();
        v[0]["instances"].as_array().and_then(|i| i.first().cloned())
    });
    assert_eq!(instance["version"], version.as_str());
    assert_eq!(instance["commit"], commit.as_str());
}
