//! A results folder is replaced as a whole: a rerun never mixes old and new files, an
//! interrupted run leaves the old folder complete, an unusable output folder is refused
//! before any work, and `replay` writes nothing into the folder it checks.

use std::path::Path;
use std::process::Command;

use crate::support::{forksim, forksim_ok, scenario, stderr};

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    names
}

fn run_quickstart(out: &Path, extra: &[&str]) -> std::process::Output {
    let s = scenario("quickstart.toml");
    let mut args = vec!["run", s.to_str().unwrap(), "--quiet", "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    forksim(&args)
}

/// Every file the manifest lists is on disk with its digest, and nothing else is.
fn assert_complete(dir: &Path) {
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    let files = manifest["files"].as_object().unwrap();
    for (name, digest) in files {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        assert_eq!(forksim::results::files::sha256_hex(&bytes), digest.as_str().unwrap(), "{name}");
    }
    let mut expected: Vec<String> = files.keys().cloned().collect();
    expected.push("manifest.json".to_string());
    expected.sort();
    assert_eq!(listing(dir), expected);
}

#[test]
fn a_rerun_without_a_trace_leaves_no_trace_of_the_earlier_run() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("q");
    assert!(run_quickstart(&out, &["--trace", "--html"]).status.success());
    assert!(out.join("trace.csv").exists() && out.join("replay.html").exists());
    let o = run_quickstart(&out, &["--seed", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!out.join("trace.csv").exists(), "trace.csv of the first run survived");
    assert!(!out.join("replay.html").exists(), "replay.html of the first run survived");
    assert_complete(&out);
    assert_eq!(listing(tmp.path()), ["q"], "no staging folder is left beside the results");
    forksim_ok(&["replay", out.to_str().unwrap()]);
}

#[test]
fn a_run_killed_mid_way_leaves_the_old_folder_complete_and_the_next_run_cleans_up() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("q");
    assert!(run_quickstart(&out, &[]).status.success());
    let before = std::fs::read(out.join("manifest.json")).unwrap();
    // A long run into the same folder, killed while it simulates.
    let s = scenario("quickstart.toml");
    let mut child = Command::new(env!("CARGO_BIN_EXE_forksim"))
        .args(["run", s.to_str().unwrap(), "--quiet", "--out", out.to_str().unwrap()])
        .args(["--set", "run.blocks=10000000", "--seed", "3"])
        .spawn()
        .unwrap();
    let staging = |dir: &Path| listing(dir).into_iter().filter(|n| n.contains(".partial.")).count();
    let started = std::time::Instant::now();
    while staging(tmp.path()) == 0 && started.elapsed().as_secs() < 60 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(staging(tmp.path()), 1, "the killed run staged its files beside the target");
    assert_eq!(std::fs::read(out.join("manifest.json")).unwrap(), before);
    assert_complete(&out);
    forksim_ok(&["replay", out.to_str().unwrap()]);
    // The next run removes the killed run's staging folder.
    assert!(run_quickstart(&out, &["--seed", "4"]).status.success());
    assert_eq!(listing(tmp.path()), ["q"]);
    assert_complete(&out);
}

#[test]
fn an_unusable_output_folder_is_refused_before_the_run_with_exit_code_2() {
    let tmp = tempfile::tempdir().unwrap();
    // Below a plain file nothing can be created.
    std::fs::write(tmp.path().join("file"), "x").unwrap();
    let blocked = tmp.path().join("file").join("out");
    let started = std::time::Instant::now();
    let o = run_quickstart(&blocked, &["--set", "run.blocks=10000000"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("cannot write results here"), "{}", stderr(&o));
    assert!(stderr(&o).contains(blocked.to_str().unwrap()), "{}", stderr(&o));
    assert!(started.elapsed().as_secs() < 30, "the run started before the folder was checked");
    // A folder of the user's that is not a results folder is not replaced.
    let mine = tmp.path().join("mine");
    std::fs::create_dir(&mine).unwrap();
    std::fs::write(mine.join("notes.txt"), "keep me").unwrap();
    let o = run_quickstart(&mine, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("notes.txt"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(mine.join("notes.txt")).unwrap(), "keep me");
    assert_eq!(listing(&mine), ["notes.txt"]);
}

#[test]
fn replay_writes_nothing_into_the_folder_it_checks_so_a_read_only_archive_replays() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("archive");
    assert!(run_quickstart(&out, &["--trace"]).status.success());
    let files = listing(&out);
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o555)).unwrap();
    // Creating and removing a scratch entry would change the folder's modification time
    // (even for a user the permissions do not stop).
    let modified = std::fs::metadata(&out).unwrap().modified().unwrap();
    let o = forksim(&["replay", out.to_str().unwrap()]);
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::metadata(&out).unwrap().modified().unwrap(), modified);
    assert_eq!(listing(&out), files);
}

#[test]
fn a_crash_prints_the_seed_the_scenario_digest_and_the_command_that_reproduces_it() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("crash");
    let s = scenario("quickstart.toml");
    let o = Command::new(env!("CARGO_BIN_EXE_forksim"))
        .args(["run", s.to_str().unwrap(), "--quiet", "--set", "run.blocks=40"])
        .args(["--out", out.to_str().unwrap()])
        .env("FORKSIM_TEST_PANIC", "1")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(101));
    let err = stderr(&o);
    assert!(err.contains("forksim crashed: this is a bug"), "{err}");
    assert!(err.contains("seed:     1"), "{err}");
    let digest = err
        .split("resolved scenario sha256 ")
        .nth(1)
        .and_then(|rest| rest.get(..64))
        .unwrap_or_else(|| panic!("no digest in {err}"));
    assert!(digest.chars().all(|c| c.is_ascii_hexdigit()), "{err}");
    let expected = format!(
        "reproduce with: forksim run {} --quiet --set run.blocks=40 --out {} --seed 1",
        s.display(),
        out.display()
    );
    assert!(err.contains(&expected), "{err}\nexpected: {expected}");
    assert_eq!(listing(tmp.path()), Vec::<String>::new(), "nothing was written");
}
