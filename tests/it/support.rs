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

/// Runs `forksim validate` on `text` written to a file and returns (exit code, stderr).
pub fn validate_text(text: &str, extra: &[&str]) -> (i32, String, String) {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("bad.toml");
    std::fs::write(&path, text).unwrap();
    let p = path.to_str().unwrap().to_string();
    let mut args = vec!["validate", p.as_str()];
    args.extend_from_slice(extra);
    let o = forksim(&args);
    (o.status.code().unwrap_or(-1), stderr(&o), p)
}

/// Asserts that `forksim validate` rejects `text` (with `extra` arguments) with exit code 2
/// and a message naming the file and containing every needle.
pub fn assert_error(text: &str, extra: &[&str], needles: &[&str]) {
    let (code, err, path) = validate_text(text, extra);
    assert_eq!(code, 2, "exit code for {text:?}: {err}");
    assert!(err.contains(&path), "message does not name the file {path}: {err}");
    for n in needles {
        assert!(err.contains(n), "message lacks {n:?}: {err}");
    }
    assert!(!err.contains("panicked"), "panicked: {err}");
}

/// Asserts that `forksim validate` accepts `text`.
pub fn assert_valid(text: &str) {
    let (code, err, _) = validate_text(text, &[]);
    assert_eq!(code, 0, "{text:?}: {err}");
}

/// Asserts that the results folders `a` and `b` of two runs hold more than five files, the
/// same ones, byte for byte.
pub fn assert_same_files(a: &Path, b: &Path) {
    let names = |dir: &Path| {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    };
    let listed = names(a);
    assert!(listed.len() > 5, "{listed:?}");
    assert_eq!(listed, names(b), "the two runs wrote other files");
    for name in &listed {
        assert!(read(a, name) == read(b, name), "{name} differs between two runs");
    }
}
