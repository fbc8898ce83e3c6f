//! Every signal a container runtime or an operator sends, to the real processes:
//! - gateway: SIGHUP reloads the configuration file (even a change its polling cannot see), a
//!   bad file is refused whole and the running document stays; in managed mode SIGHUP polls
//!   now; SIGUSR1, SIGUSR2 and SIGPIPE change nothing; SIGQUIT and SIGINT drain and exit 0;
//! - control plane: SIGHUP re-reads its master document (a bad one is refused, the running one
//!   stays); SIGUSR1, SIGUSR2, SIGPIPE change nothing; SIGTERM and SIGQUIT exit 0.
//!
//! On a process without handlers SIGHUP, SIGUSR1 and SIGUSR2 terminate it (and SIGQUIT dumps
//! core), so each of these fails there.

mod common;

use std::time::{Duration, SystemTime};

use common::gateway::{managed_gateway, ControlPlane};
use common::*;
use serde_json::{json, Value};

/// A document whose API path and revision have the same length whatever `tag` (one letter).
fn doc(rev: &str, b: &Backend, path: &str) -> String {
    format!(
        r#"{{"revision":"{rev}","apis":[{{"id":"a","path":"{path}","serviceUrl":"{}","subscriptionRequired":false}}]}}"#,
        b.url()
    )
}

/// Rewrites the file in place with the same length and puts its modification time back, so
/// the file's stamp (mtime, size, inode) does not change: only a reload can see it.
fn rewrite_unseen(path: &std::path::Path, text: &str) {
    let before = std::fs::metadata(path).unwrap();
    assert_eq!(before.len(), text.len() as u64, "same length, or the stamp changes");
    let mtime: SystemTime = before.modified().unwrap();
    std::fs::write(path, text).unwrap();
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(mtime).unwrap();
    drop(f);
    assert_eq!(std::fs::metadata(path).unwrap().modified().unwrap(), mtime);
}

#[test]
fn sighup_reloads_the_file_and_a_bad_file_changes_nothing() {
    let b = Backend::normal();
    let mut gw = Gateway::start(&doc("r1", &b, "one"), &[]);
    assert_eq!(gw.get("/one/x", &[]).status, 200);
    rewrite_unseen(&gw.config_path, &doc("r2", &b, "two"));
    // Polling does not see it (several poll intervals pass unchanged)...
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(gw.status()["revision"], "r1", "the test needs a change the file poll cannot see");
    // ...SIGHUP does.
    gw.proc.signal(libc::SIGHUP);
    gw.wait_revision("r2");
    assert_eq!(gw.get("/two/x", &[]).status, 200);
    assert_eq!(gw.get("/one/x", &[]).status, 404);

    // A bad document: refused whole on SIGHUP, r2 keeps serving.
    let bad = doc("r3", &b, "two").replace("\"subscriptionRequired\":false", "\"subscriptionRequired\":\"x\"");
    std::fs::write(&gw.config_path, &bad).unwrap();
    gw.proc.signal(libc::SIGHUP);
    wait_until("the rejection logged", Duration::from_secs(5), || {
        gw.log_text().contains("configuration rejected").then_some(())
    });
    assert!(gw.proc.try_exit().is_none(), "SIGHUP must not stop the gateway");
    assert_eq!(gw.status()["revision"], "r2");
    assert_eq!(gw.get("/two/x", &[]).status, 200);
    assert!(gw.log_text().contains("SIGHUP"), "{}", gw.log_text());
}

#[test]
fn usr1_usr2_and_pipe_change_nothing_then_sigquit_drains_and_exits_0() {
    let b = Backend::normal();
    let mut gw = Gateway::start(&doc("r1", &b, "one"), &[]);
    for sig in [libc::SIGUSR1, libc::SIGUSR2, libc::SIGPIPE] {
        gw.proc.signal(sig);
        assert_eq!(gw.get("/one/x", &[]).status, 200, "after signal {sig}");
    }
    wait_until("the ignored signals logged", Duration::from_secs(5), || {
        let text = gw.log_text();
        (text.contains("SIGUSR1") && text.contains("SIGUSR2")).then_some(())
    });
    assert_eq!(gw.status()["revision"], "r1");
    gw.proc.signal(libc::SIGQUIT);
    let status = gw.wait_exit(Duration::from_secs(15));
    assert_eq!(status.code(), Some(0), "SIGQUIT drains and exits 0: {status}");
    assert!(gw.log_text().contains("draining"), "{}", gw.log_text());
}

#[test]
fn sigint_drains_and_exits_0() {
    let b = Backend::normal();
    let mut gw = Gateway::start(&doc("r1", &b, "one"), &[]);
    gw.proc.signal(libc::SIGINT);
    let status = gw.wait_exit(Duration::from_secs(15));
    assert_eq!(status.code(), Some(0), "{status}");
}

/// On the epoll driver (the fallback where io_uring is not allowed) the drain ends too: every
/// acceptor wakes when the listeners shut. It used to wait for ever on all but one of them.
#[test]
fn sigterm_on_the_epoll_driver_drains_and_exits_0() {
    let b = Backend::normal();
    let mut gw = Gateway::start_with_env(&doc("r1", &b, "one"), &[], &[("RINGGATE_DRIVER", "epoll")]);
    gw.proc.wait_line("the epoll driver in use", Duration::from_secs(5), |l| l.contains("epoll"));
    for _ in 0..4 {
        assert_eq!(gw.get("/one/x", &[]).status, 200);
    }
    gw.proc.signal(libc::SIGTERM);
    let status = gw.wait_exit(Duration::from_secs(15));
    assert_eq!(status.code(), Some(0), "{status}");
}

fn master(b: &Backend, path: &str) -> Value {
    json!({
        "apis": [{"id": "a", "path": path, "serviceUrl": b.url(), "subscriptionRequired": false}],
        "gateways": [{"id": "west", "apis": ["a"]}]
    })
}

#[test]
fn control_plane_sighup_reloads_its_master_and_other_signals_are_defined() {
    let b = Backend::normal();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("cp");
    let mut cp = ControlPlane::start(&data, "127.0.0.1:0", &[]);
    assert_eq!(cp.call("PUT", "/admin/document", &master(&b, "one"), None).status, 200);

    // An operator restores or edits the master on disk, then sends SIGHUP.
    std::fs::write(data.join("master.json"), master(&b, "two").to_string()).unwrap();
    cp.proc.signal(libc::SIGHUP);
    wait_until("the new master served", Duration::from_secs(5), || {
        (cp.call("GET", "/admin/document", &Value::Null, None).json() == master(&b, "two")).then_some(())
    });
    // A master that does not load: refused, the running one stays.
    std::fs::write(data.join("master.json"), b"{\"apis\": [").unwrap();
    cp.proc.signal(libc::SIGHUP);
    cp.proc.wait_line("the refused reload", Duration::from_secs(5), |l| l.contains("not reloaded"));
    assert_eq!(cp.call("GET", "/admin/document", &Value::Null, None).json(), master(&b, "two"));

    // A gateway polling it keeps working across all of this.
    let token = cp.token("west");
    let ca = format!("config.service.endpoint.ca-file={}", cp.ca_file().display());
    let (mut gw, http, _admin) = managed_gateway(&cp.url(), &token, &[ca]);
    wait_until("the gateway serving /two", Duration::from_secs(10), || {
        (common::client::get(http, "/two/x", &[]).status == 200).then_some(())
    });
    // SIGHUP in managed mode: polls now, keeps serving.
    gw.signal(libc::SIGHUP);
    gw.wait_line("the managed-mode SIGHUP line", Duration::from_secs(5), |l| l.contains("polling it now"));
    assert_eq!(common::client::get(http, "/two/x", &[]).status, 200);
    assert!(gw.try_exit().is_none());

    for sig in [libc::SIGUSR1, libc::SIGUSR2, libc::SIGPIPE] {
        cp.proc.signal(sig);
        assert_eq!(cp.call("GET", "/admin/gateways", &Value::Null, None).status, 200, "after signal {sig}");
    }
    cp.proc.signal(libc::SIGTERM);
    let status = cp.proc.wait_exit(Duration::from_secs(10));
    assert_eq!(status.code(), Some(0), "{status}");

    // SIGQUIT stops it the same way (the good master back on disk for the start).
    std::fs::write(data.join("master.json"), master(&b, "two").to_string()).unwrap();
    let mut cp = ControlPlane::start(&data, "127.0.0.1:0", &[]);
    cp.proc.signal(libc::SIGQUIT);
    assert_eq!(cp.proc.wait_exit(Duration::from_secs(10)).code(), Some(0));
}
