//! Where things are: the workspace's root, its target directory, and the
//! binaries of its other packages (`wingman`, `wingman-load`,
//! `wingspan-report`), which a test spawns as real processes.
//!
//! The binaries sit in the test binary's profile directory
//! (`<target>/<profile>/deps/<test>` → `<target>/<profile>/<binary>`), so
//! `CARGO_TARGET_DIR` and the profile are whatever the test was built
//! with. `make nextest` builds them first (`cargo build --workspace
//! --all-features`); alone, `cargo build -p wingman -p wingspan-report`.

use std::path::{Path, PathBuf};

/// The repository's root (the `wingspan` package and the workspace).
pub fn workspace_root() -> PathBuf {
    // This crate is crates/test-support.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/test-support has a grandparent")
        .to_path_buf()
}

/// `<target>/<profile>`: the directory of the running test binary's `deps/`.
pub fn profile_dir() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    exe.parent()
        .and_then(|deps| deps.parent())
        .map(Path::to_path_buf)
        .ok_or_else(|| format!("unexpected test binary location {}", exe.display()))
}

/// The target directory's scratch space (`<target>/tmp`, Cargo's
/// `CARGO_TARGET_TMPDIR` for integration tests).
pub fn target_tmp() -> PathBuf {
    let dir = profile_dir()
        .ok()
        .and_then(|p| p.parent().map(|t| t.join("tmp")))
        .unwrap_or_else(std::env::temp_dir);
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// The built binary `name` of a workspace package, or a message saying how
/// to build it.
pub fn binary(name: &str) -> Result<PathBuf, String> {
    let bin = profile_dir()?.join(name);
    if bin.is_file() {
        Ok(bin)
    } else {
        Err(format!(
            "{} is missing: build the workspace's binaries first with \
             `cargo build --workspace --all-features` (`make nextest` does)",
            bin.display()
        ))
    }
}

/// [`binary`], panicking with the message when it is missing.
pub fn require_binary(name: &str) -> PathBuf {
    binary(name).unwrap_or_else(|e| panic!("{e}"))
}
