//! Network namespaces for chaos tests: a star of veth links around one hub namespace, addresses
//! from 198.18.0.0/15 (RFC 2544 benchmarking space) only on veths inside namespaces we created,
//! nftables rules for loss and partitions, all torn down by a guard (even on panic).
//!
//! Code runs inside a namespace on a fresh thread that joined it with setns(2): sockets and
//! child processes created there belong to that namespace and keep it when handed back.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Why namespaces cannot be used here (the caller prints it and skips), or `None` when they can.
/// Probed once per test binary (tests run in parallel).
pub fn unavailable() -> Option<String> {
    static PROBE: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    PROBE.get_or_init(probe).clone()
}

fn probe() -> Option<String> {
    // SAFETY: geteuid(2) reads a process attribute; no memory is touched.
    if unsafe { libc::geteuid() } != 0 {
        return Some("not root (ip netns needs CAP_SYS_ADMIN)".into());
    }
    for tool in ["ip", "nft"] {
        if Command::new(tool).arg("-V").output().is_err() {
            return Some(format!("`{tool}` is not installed (iproute2, nftables)"));
        }
    }
    let probe = format!("rgc-probe-{}", std::process::id());
    let ok = run_ok(&["ip", "netns", "add", &probe]);
    let _ = run_ok(&["ip", "netns", "del", &probe]);
    if !ok {
        return Some("`ip netns add` fails here (no namespace support or no privilege)".into());
    }
    None
}

fn run_ok(args: &[&str]) -> bool {
    Command::new(args[0]).args(&args[1..]).output().is_ok_and(|o| o.status.success())
}

/// Runs a command that must succeed (panics with its output otherwise).
pub fn run(args: &[&str]) {
    let out = Command::new(args[0]).args(&args[1..]).output().unwrap_or_else(|e| panic!("{args:?}: {e}"));
    assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
}

/// Stale namespaces of earlier runs that were killed before their guard ran.
fn remove_stale() {
    let Ok(out) = Command::new("ip").args(["netns", "list"]).output() else { return };
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let name = line.split_whitespace().next().unwrap_or("");
        let Some(rest) = name.strip_prefix("rgc-") else { continue };
        let pid: u32 = rest.split('-').next().and_then(|p| p.parse().ok()).unwrap_or(0);
        if pid != 0 && !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let _ = run_ok(&["ip", "netns", "del", name]);
        }
    }
}

/// One namespace we created.
#[derive(Clone, Debug)]
pub struct Ns {
    pub name: String,
}

impl Ns {
    /// Runs `f` on a thread inside this namespace and returns its result.
    pub fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        let path = format!("/run/netns/{}", self.name);
        std::thread::spawn(move || {
            let file = File::open(&path).unwrap_or_else(|e| panic!("open {path}: {e}"));
            // SAFETY: setns(2) on an fd we own; it changes only this (fresh) thread's namespace.
            let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
            assert_eq!(rc, 0, "setns {path}: {}", std::io::Error::last_os_error());
            f()
        })
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e))
    }

    /// Loads an nftables ruleset (nft -f syntax) into this namespace.
    pub fn nft(&self, rules: &str) {
        let mut child = Command::new("ip")
            .args(["netns", "exec", &self.name, "nft", "-f", "-"])
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn nft");
        use std::io::Write;
        child.stdin.take().expect("stdin").write_all(rules.as_bytes()).expect("write rules");
        let out = child.wait_with_output().expect("nft");
        assert!(out.status.success(), "nft in {}: {}\n{rules}", self.name, String::from_utf8_lossy(&out.stderr));
    }

    /// Drops this namespace's `chaos` table (loss or partition rules), if any.
    pub fn clear_rules(&self) {
        let _ = run_ok(&["ip", "netns", "exec", &self.name, "nft", "delete", "table", "inet", "chaos"]);
    }

    /// One rule on the input hook, in this namespace's own `chaos` table.
    fn input_rule(&self, rule: &str) {
        self.nft(&format!(
            "table inet chaos {{\n chain in {{\n  type filter hook input priority 0; policy accept;\n  {rule}\n }}\n}}\n"
        ));
    }

    /// Drops every packet arriving from `peer` (a silent partition: no RST, no ICMP).
    pub fn partition_from(&self, peer: &str) {
        self.clear_rules();
        self.input_rule(&format!("ip saddr {peer} drop"));
    }

    /// Drops `percent`% of arriving packets at random.
    pub fn loss(&self, percent: u32) {
        self.clear_rules();
        self.input_rule(&format!("numgen random mod 100 < {percent} drop"));
    }
}

/// A hub namespace (the gateway and its clients) with one veth link to each spoke namespace
/// (backend, Redis, control plane). Link i: hub 198.18.i.1/24, spoke 198.18.i.2/24.
/// Everything is deleted when this guard drops.
pub struct Star {
    pub hub: Ns,
    pub spokes: Vec<Ns>,
}

static SEQ: AtomicUsize = AtomicUsize::new(0);

impl Star {
    pub fn new(spokes: &[&str]) -> Star {
        remove_stale();
        let id = format!("rgc-{}-{}", std::process::id(), SEQ.fetch_add(1, Ordering::SeqCst));
        let mk = |role: &str| {
            let name = format!("{id}-{role}");
            run(&["ip", "netns", "add", &name]);
            run(&["ip", "-n", &name, "link", "set", "lo", "up"]);
            Ns { name }
        };
        // The guard exists before any link, so a failure below still removes what was made.
        let mut star = Star { hub: mk("hub"), spokes: Vec::new() };
        for (i, role) in spokes.iter().enumerate() {
            let spoke = mk(role);
            star.spokes.push(spoke.clone());
            let n = i + 1;
            let (h, s) = (format!("h{n}"), format!("s{n}"));
            run(&[
                "ip",
                "-n",
                &star.hub.name,
                "link",
                "add",
                &h,
                "type",
                "veth",
                "peer",
                "name",
                &s,
                "netns",
                &spoke.name,
            ]);
            run(&["ip", "-n", &star.hub.name, "addr", "add", &format!("198.18.{n}.1/24"), "dev", &h]);
            run(&["ip", "-n", &spoke.name, "addr", "add", &format!("198.18.{n}.2/24"), "dev", &s]);
            run(&["ip", "-n", &star.hub.name, "link", "set", &h, "up"]);
            run(&["ip", "-n", &spoke.name, "link", "set", &s, "up"]);
        }
        star
    }

    /// The spoke namespace of link `i` (0-based, in the order given to `new`).
    pub fn spoke(&self, i: usize) -> &Ns {
        &self.spokes[i]
    }

    /// The hub's address on link `i`.
    pub fn hub_addr(i: usize) -> String {
        format!("198.18.{}.1", i + 1)
    }

    /// The spoke's address on link `i`.
    pub fn spoke_addr(i: usize) -> String {
        format!("198.18.{}.2", i + 1)
    }
}

impl Drop for Star {
    fn drop(&mut self) {
        // Deleting a namespace deletes its veth ends (and so the peers); processes still in it
        // are killed by their own guards, which the tests declare after this one.
        for ns in self.spokes.iter().chain(std::iter::once(&self.hub)) {
            let _ = run_ok(&["ip", "netns", "del", &ns.name]);
        }
    }
}
