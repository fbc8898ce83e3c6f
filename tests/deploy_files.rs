//! The deployment files in deploy/: the io_uring seccomp profile is valid JSON in the format
//! Docker and the OCI runtimes read, Docker's default allow list plus the three io_uring calls,
//! and the Dockerfile and README name it where it is.

use std::collections::BTreeSet;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn profile() -> serde_json::Value {
    let text =
        std::fs::read_to_string(root().join("deploy/io_uring-profile.json")).expect("deploy/io_uring-profile.json");
    serde_json::from_str(&text).expect("the seccomp profile is valid JSON")
}

fn allowed(profile: &serde_json::Value) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for rule in profile["syscalls"].as_array().expect("syscalls is an array") {
        let action = rule["action"].as_str().expect("every rule has an action");
        assert!(action.starts_with("SCMP_ACT_"), "action {action}");
        if action == "SCMP_ACT_ALLOW" && rule.get("args").is_none() {
            for n in rule["names"].as_array().expect("names is an array") {
                names.insert(n.as_str().expect("a syscall name").to_string());
            }
        }
    }
    names
}

#[test]
fn seccomp_profile_is_docker_default_plus_io_uring() {
    let p = profile();
    assert_eq!(p["defaultAction"], "SCMP_ACT_ERRNO", "deny by default, as Docker's profile");
    assert_eq!(p["defaultErrnoRet"], 1);
    let arches: Vec<&str> = p["architectures"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
    assert!(arches.contains(&"SCMP_ARCH_X86_64") && arches.contains(&"SCMP_ARCH_AARCH64"), "{arches:?}");
    let names = allowed(&p);
    for call in ["io_uring_setup", "io_uring_enter", "io_uring_register"] {
        assert!(names.contains(call), "{call} allowed");
    }
    // What the gateway and its libc need (a sample of Docker's list) …
    for call in ["epoll_wait", "accept4", "mmap", "futex", "rt_sigaction", "sched_setaffinity", "mlock", "getrandom"] {
        assert!(names.contains(call), "{call} allowed");
    }
    // … and what Docker's default keeps out without capabilities, still out.
    for call in ["mount", "unshare", "setns", "bpf", "ptrace", "kexec_load", "init_module", "reboot", "perf_event_open"]
    {
        assert!(!names.contains(call), "{call} must stay blocked");
    }
    // clone only without namespace flags; clone3 answers ENOSYS so libc falls back to clone.
    let rules = p["syscalls"].as_array().unwrap();
    let clone = rules.iter().find(|r| r["names"] == serde_json::json!(["clone"])).expect("a clone rule");
    assert_eq!(clone["args"][0]["op"], "SCMP_CMP_MASKED_EQ");
    let clone3 = rules.iter().find(|r| r["names"] == serde_json::json!(["clone3"])).expect("a clone3 rule");
    assert_eq!(clone3["action"], "SCMP_ACT_ERRNO");
    assert_eq!(clone3["errnoRet"], 38);
}

#[test]
fn dockerfile_and_readme_name_the_committed_profile() {
    let dockerfile = std::fs::read_to_string(root().join("Dockerfile")).unwrap();
    assert!(dockerfile.contains("seccomp=deploy/io_uring-profile.json"), "Dockerfile comment");
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    assert!(readme.contains("deploy/io_uring-profile.json"), "README");
    for text in [&dockerfile, &readme] {
        assert!(!text.contains("./io_uring-profile.json"), "a stale path");
    }
}

/// One version everywhere: Cargo's, the image's default VERSION label, the chart's appVersion
/// (the image tag the chart pins), and a CHANGELOG section for it.
#[test]
fn image_chart_and_changelog_carry_the_crate_version() {
    let version = env!("CARGO_PKG_VERSION");
    let dockerfile = std::fs::read_to_string(root().join("Dockerfile")).unwrap();
    assert!(dockerfile.contains(&format!("ARG VERSION={version}\n")), "Dockerfile ARG VERSION");
    for label in ["title", "description", "version", "revision", "created", "licenses"] {
        assert!(dockerfile.contains(&format!("org.opencontainers.image.{label}=")), "OCI label {label}");
    }
    assert!(dockerfile.contains("org.opencontainers.image.version=\"${VERSION}\""));
    assert!(dockerfile.contains("org.opencontainers.image.revision=\"${GIT_COMMIT}\""));
    assert!(dockerfile.contains("ENV RINGGATE_GIT_COMMIT=${GIT_COMMIT}"), "the binary gets the commit too");
    let chart = std::fs::read_to_string(root().join("deploy/helm/ringgate/Chart.yaml")).unwrap();
    assert!(chart.contains(&format!("appVersion: \"{version}\"")), "Chart.yaml appVersion");
    let changelog = std::fs::read_to_string(root().join("CHANGELOG.md")).unwrap();
    assert!(changelog.contains(&format!("## [{version}]")), "CHANGELOG.md has a section for {version}");
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    assert!(readme.contains("ringgate:0.1"), "README describes the tag scheme");
}
