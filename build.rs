//! Stamps the build with its git commit: RINGGATE_GIT_COMMIT from the environment (image builds,
//! where the source has no .git: `docker build --build-arg GIT_COMMIT=$(git rev-parse HEAD)`),
//! else `git rev-parse` of the checkout, else "unknown".

use std::path::PathBuf;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!s.is_empty()).then_some(s)
}

fn main() {
    println!("cargo:rerun-if-env-changed=RINGGATE_GIT_COMMIT");
    let from_env = std::env::var("RINGGATE_GIT_COMMIT").ok().map(|c| c.trim().to_string()).filter(|c| !c.is_empty());
    let commit = from_env.or_else(|| {
        // Rebuild when HEAD moves (a worktree's HEAD lives in its own git dir).
        if let Some(head) = git(&["rev-parse", "--path-format=absolute", "--git-path", "HEAD"]) {
            println!("cargo:rerun-if-changed={head}");
        }
        if let Some(r) = git(&["symbolic-ref", "-q", "HEAD"]) {
            if let Some(p) = git(&["rev-parse", "--path-format=absolute", "--git-path", &r]) {
                if PathBuf::from(&p).exists() {
                    println!("cargo:rerun-if-changed={p}");
                }
            }
            if let Some(p) = git(&["rev-parse", "--path-format=absolute", "--git-common-dir"]) {
                let packed = PathBuf::from(p).join("packed-refs");
                if packed.exists() {
                    println!("cargo:rerun-if-changed={}", packed.display());
                }
            }
        }
        git(&["rev-parse", "--short=12", "HEAD"])
    });
    let commit: String =
        commit.unwrap_or_else(|| "unknown".into()).chars().filter(|c| c.is_ascii_alphanumeric()).take(40).collect();
    println!("cargo:rustc-env=RINGGATE_GIT_COMMIT={}", if commit.is_empty() { "unknown" } else { &commit });
}
