//! What this binary is: the release version (`major.minor.patch`, Cargo's) and the git commit it
//! was built from (build.rs: the checkout's, or RINGGATE_GIT_COMMIT in image builds; "unknown"
//! without either). Shown by `ringgate --version`, `/status`, the heartbeat, the first log line
//! and the `ringgate_build_info` gauge.

use std::fmt::Write as _;

pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub const COMMIT: &str = env!("RINGGATE_GIT_COMMIT");
/// `ringgate --version`: `ringgate 0.1.0 (commit 0123456789ab)`.
pub const LONG_VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("RINGGATE_GIT_COMMIT"), ")");

/// The Prometheus build-info gauge (always 1; the labels carry the information).
pub fn write_metric(s: &mut String) {
    let _ = writeln!(s, "# HELP ringgate_build_info The running ringgate's version and git commit.");
    let _ = writeln!(s, "# TYPE ringgate_build_info gauge");
    let _ = writeln!(s, "ringgate_build_info{{version=\"{VERSION}\",commit=\"{COMMIT}\"}} 1");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_is_semver_and_commit_is_plain() {
        let parts: Vec<&str> = VERSION.split('.').collect();
        assert_eq!(parts.len(), 3, "{VERSION}");
        assert!(parts.iter().all(|p| p.parse::<u64>().is_ok()), "{VERSION}");
        assert!(!COMMIT.is_empty() && COMMIT.chars().all(|c| c.is_ascii_alphanumeric()), "{COMMIT}");
        let mut s = String::new();
        write_metric(&mut s);
        assert!(s.ends_with(&format!("ringgate_build_info{{version=\"{VERSION}\",commit=\"{COMMIT}\"}} 1\n")));
    }
}
