//! Golden outputs: four tiny scenarios in `tests/golden/` whose result files and narration
//! are pinned byte for byte, so that a change to the simulator's behaviour or output shows up
//! as a diff of `tests/golden/<case>/`.
//!
//! Each case runs `forksim run tests/golden/<case>.toml --out DIR --quiet` and compares every
//! file it writes, except the figures (PNG, SVG), with `tests/golden/<case>/`; the figures are
//! still pinned through their SHA-256 digests in `manifest.json`. It then runs the scenario
//! again with `--narrate` and compares standard output with `narration.txt`, after replacing
//! the wall time and the results folder, which change from run to run. The scenario path is
//! given relative to the project root, so `manifest.json`'s `scenario_file` is the same on
//! every machine.
//!
//! `BLESS=1 cargo test --release golden` rewrites the golden files from the current
//! behaviour (and removes stale ones) instead of comparing. See `tests/golden/README.md`.

use std::collections::BTreeMap;
use std::path::Path;

use crate::support::{forksim, root, stderr, stdout};

/// How to rewrite the golden files.
const HINT: &str = "BLESS=1 cargo test --release golden";

/// The file holding the narrated run's standard output.
const NARRATION: &str = "narration.txt";

#[test]
fn golden_honest() {
    check("honest");
}

#[test]
fn golden_payments() {
    check("payments");
}

#[test]
fn golden_selfish() {
    check("selfish");
}

#[test]
fn golden_double_spend() {
    check("double-spend");
}

/// Figures are binary and large; their digests in `manifest.json` pin them.
fn is_figure(name: &str) -> bool {
    name.ends_with(".png") || name.ends_with(".svg")
}

/// Whether the golden files are to be rewritten rather than compared.
fn blessing() -> bool {
    std::env::var("BLESS").is_ok_and(|v| v == "1")
}

/// Runs `case`, then compares (or, when blessing, rewrites) its golden files.
fn check(case: &str) {
    let actual = run_case(case);
    let dir = root().join("tests").join("golden").join(case);
    if blessing() {
        bless(case, &dir, &actual);
        return;
    }
    let expected = read_dir(&dir);
    assert!(
        !expected.is_empty(),
        "golden {case}: {} holds no golden files; create them with `{HINT}`",
        dir.display()
    );
    let mut problems = Vec::new();
    for (name, want) in &expected {
        match actual.get(name) {
            None => problems.push(format!("{name}: the run did not write this file")),
            Some(got) if got != want => {
                problems.push(format!("{name}: {}", first_difference(want, got)))
            }
            Some(_) => {}
        }
    }
    for name in actual.keys().filter(|n| !expected.contains_key(*n)) {
        problems.push(format!("{name}: the run wrote this file, which has no golden counterpart"));
    }
    assert!(
        problems.is_empty(),
        "golden {case}: {} file(s) differ from tests/golden/{case}/\n  {}\nIf the change is intended, rewrite the golden files with `{HINT}` and review the diff.",
        problems.len(),
        problems.join("\n  ")
    );
}

/// Runs `case` quietly and narrated, and returns the files to pin by name: the quiet run's
/// non-figure files and the narration.
fn run_case(case: &str) -> BTreeMap<String, Vec<u8>> {
    let scenario = format!("tests/golden/{case}.toml");
    let tmp = tempfile::tempdir().unwrap();
    let quiet = tmp.path().join("quiet");
    let o = forksim(&["run", &scenario, "--out", quiet.to_str().unwrap(), "--quiet"]);
    assert!(o.status.success(), "golden {case}: the run failed: {}", stderr(&o));
    let mut files: BTreeMap<String, Vec<u8>> =
        read_dir(&quiet).into_iter().filter(|(name, _)| !is_figure(name)).collect();

    let narrated = tmp.path().join("narrated");
    let n = forksim(&["run", &scenario, "--out", narrated.to_str().unwrap(), "--narrate"]);
    assert!(n.status.success(), "golden {case}: the narrated run failed: {}", stderr(&n));
    // Narrating only watches: the narrated run writes the same files.
    for (name, bytes) in read_dir(&narrated).iter().filter(|(name, _)| !is_figure(name)) {
        assert!(
            files.get(name) == Some(bytes),
            "golden {case}: {name} of the narrated run differs from the quiet run's"
        );
    }
    let text = normalize_narration(&stdout(&n), narrated.to_str().unwrap());
    files.insert(NARRATION.to_string(), text.into_bytes());
    files
}

/// Replaces what changes from run to run in the narrated output: the wall time on the
/// summary's last lines and the results folder.
fn normalize_narration(text: &str, out_dir: &str) -> String {
    let mut o = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let line = line.replace(out_dir, "<out>");
        match line.find("| wall ") {
            Some(at) => {
                let start = at + "| wall ".len();
                let end = line[start..].find(" s").map_or(line.len(), |e| start + e);
                o.push_str(&line[..start]);
                o.push_str("<wall>");
                o.push_str(&line[end..]);
            }
            None => o.push_str(&line),
        }
    }
    o
}

/// Every file directly in `dir` by name; empty if `dir` does not exist.
fn read_dir(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return BTreeMap::new();
    };
    let mut files = BTreeMap::new();
    for entry in entries {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            let name = entry.file_name().to_string_lossy().to_string();
            files.insert(name, std::fs::read(entry.path()).unwrap());
        }
    }
    files
}

/// Describes the first line where `got` differs from `want`.
fn first_difference(want: &[u8], got: &[u8]) -> String {
    let (want, got) = (String::from_utf8_lossy(want), String::from_utf8_lossy(got));
    let (mut w, mut g) = (want.split('\n'), got.split('\n'));
    let mut line = 1;
    loop {
        match (w.next(), g.next()) {
            (Some(a), Some(b)) if a == b => line += 1,
            (a, b) => {
                let show =
                    |s: Option<&str>| s.map_or("(end of file)".to_string(), |s| format!("{s:?}"));
                return format!(
                    "first difference at line {line}\n      expected: {}\n      actual:   {}",
                    show(a),
                    show(b)
                );
            }
        }
    }
}

/// Rewrites `dir` with `files`, removing golden files the run no longer writes.
fn bless(case: &str, dir: &Path, files: &BTreeMap<String, Vec<u8>>) {
    let old = read_dir(dir);
    std::fs::create_dir_all(dir).unwrap();
    let mut changed = Vec::new();
    for (name, bytes) in files {
        if old.get(name) != Some(bytes) {
            std::fs::write(dir.join(name), bytes).unwrap();
            changed.push(name.as_str());
        }
    }
    let stale: Vec<&String> = old.keys().filter(|n| !files.contains_key(*n)).collect();
    for name in &stale {
        std::fs::remove_file(dir.join(name)).unwrap();
    }
    eprintln!(
        "golden {case}: blessed tests/golden/{case}/ ({} written: {changed:?}; {} removed: {stale:?})",
        changed.len(),
        stale.len()
    );
}
