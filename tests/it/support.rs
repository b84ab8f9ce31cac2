//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The project root (where `scenarios/` lives).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A shipped scenario's path.
pub fn scenario(name: &str) -> PathBuf {
    root().join("scenarios").join(name)
}

/// Runs the forksim binary with `args`.
pub fn forksim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_forksim"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("the forksim binary runs")
}

/// Reads a results file.
pub fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{}: {e}", dir.join(name).display()))
}

/// Standard error as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// Standard output as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

/// Runs the forksim binary with `args` and fails the test, showing stderr, unless it succeeds.
pub fn forksim_ok(args: &[&str]) -> Output {
    let o = forksim(args);
    assert!(o.status.success(), "forksim {args:?} failed: {}", stderr(&o));
    o
}
