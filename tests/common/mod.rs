//! Helpers shared by the integration tests.
//!
//! Go toolchains are installed by `testdata/go-toolchains.sh` (the README's test
//! command runs it first) into `$GOTV_GO_DIR`, by default `target/go/` inside the
//! checkout, one `go<VERSION>/bin/go` per pinned version. A test that needs one
//! asks [`go_toolchain`]; outside CI a missing toolchain skips the test with a
//! message, in CI (`CI=true`) it fails, so a broken install can never pass as green.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub mod gui;
pub mod traces;

/// The toolchain whose source tree is the specification (conformance tests, fuzz seeds).
pub const SPEC_GO: &str = "1.27.3";

/// Root of the checkout.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Whether we run in CI, where missing prerequisites are failures.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Reports a missing prerequisite: panics in CI, otherwise prints why the test
/// is skipped and returns `None` so the caller can return early.
pub fn missing<T>(what: &str) -> Option<T> {
    let msg = format!(
        "prerequisite missing: {what}; run `bash testdata/go-toolchains.sh` (the README's test command does)"
    );
    assert!(!in_ci(), "{msg}");
    eprintln!("SKIPPED: {msg}");
    None
}

/// The `go` binary of a pinned toolchain version, e.g. `go_toolchain("1.27.3")`.
pub fn go_toolchain(version: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("GOTV_GO_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target").join("go"));
    let go = dir.join(format!("go{version}")).join("bin").join("go");
    if go.is_file() {
        Some(go)
    } else {
        missing(&format!("Go {version} toolchain at {}", go.display()))
    }
}

/// `GOROOT` of a toolchain, as `go env GOROOT` reports it.
pub fn goroot(go: &Path) -> Option<PathBuf> {
    let out = Command::new(go)
        .args(["env", "GOROOT"])
        .env("GOTOOLCHAIN", "local")
        .output()
        .ok()?;
    let root = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if out.status.success() && !root.is_empty() {
        Some(PathBuf::from(root))
    } else {
        missing(&format!("`{} env GOROOT`", go.display()))
    }
}

/// `$GOROOT/src` of the specification toolchain.
pub fn spec_src() -> Option<PathBuf> {
    goroot(&go_toolchain(SPEC_GO)?).map(|r| r.join("src"))
}

/// Path of the `gotv` binary built for this test run.
pub fn gotv_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_gotv"))
}
