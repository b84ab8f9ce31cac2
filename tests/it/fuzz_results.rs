//! Fuzzing what reads a results folder: real outputs of two small runs (one with forks, one
//! with payments), damaged the ways files get damaged (missing, empty, header only,
//! truncated, garbled or duplicated rows, short and long rows, bytes that are not UTF-8,
//! extreme numbers), fed in-process to the code behind `forksim plot` and `forksim tree`, to
//! the row readers, and to the scenario check `forksim replay` starts with; a few are fed
//! to the `forksim replay` binary itself. Every input is drawn or refused with an error
//! naming a file; none panics.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use forksim::figures::{draw_run_plots, tree::draw_tree};
use forksim::results::rows::{
    BlockRow, CsvRow, MempoolRow, MinerRow, PropagationCdfRow, PropagationRow, ReorgRow,
    TransactionRow, read_rows_from,
};
use forksim::scenario::{self, RawScenario};
use proptest::prelude::*;
use proptest::sample::Index;

use crate::fuzz_common as common;
use crate::fuzz_folder::{
    Folder, apply, cells, damage, join, join_cells, lines, read_folder, write,
};
use crate::support::{forksim_ok, stderr};

/// Inputs per run of each target.
const ROW_CASES: u32 = 20_000;
const TREE_CASES: u32 = 600;
const PLOT_CASES: u32 = 120;
const MANIFEST_CASES: u32 = 10_000;
const REPLAY_CASES: u32 = 16;

/// Real result folders: a short fork-rich network run, and a short run with payments.
fn originals() -> &'static [Folder; 2] {
    static FOLDERS: OnceLock<[Folder; 2]> = OnceLock::new();
    FOLDERS.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let run = |name: &str, scenario: &str, sets: &[&str]| -> Folder {
            let out = tmp.path().join(name);
            let mut args = vec!["run", scenario, "--quiet", "--out", out.to_str().unwrap()];
            for s in sets {
                args.extend(["--set", s]);
            }
            forksim_ok(&args);
            let mut files = read_folder(&out);
            // Long tables are cut to their first rows (still a real file's rows): a damaged
            // row is found as well in 80 rows as in 1,000, and much faster.
            for (name, bytes) in &mut files {
                if name.ends_with(".csv") {
                    let l = lines(bytes);
                    *bytes = join(&l[..l.len().min(80)]);
                }
            }
            files
        };
        let forks = run(
            "forks",
            "scenarios/quickstart.toml",
            &["run.blocks=40", "network.nodes=30", "chain.block_interval_s=4"],
        );
        let stale =
            String::from_utf8_lossy(&forks.iter().find(|(n, _)| n == "blocks.csv").unwrap().1)
                .matches(",false")
                .count();
        assert!(stale > 0, "the fuzzed tree has forks");
        let payments = run("payments", "scenarios/payments.toml", &["run.blocks=6"]);
        [forks, payments]
    })
}

/// A damaged copy of one of the original folders.
fn damaged(only: &'static [&'static str]) -> impl Strategy<Value = Folder> {
    (any::<Index>(), prop::collection::vec(damage(), 1..4)).prop_map(move |(which, ds)| {
        let originals = originals();
        let mut folder = originals[which.index(originals.len())].clone();
        for d in &ds {
            apply(&mut folder, d, only);
        }
        folder
    })
}

/// An error from reading a results folder names a file in it.
fn names_a_file(message: &str, dir: &Path) -> Result<(), TestCaseError> {
    prop_assert!(message.contains(&dir.display().to_string()), "no file named: {message}");
    Ok(())
}

/// Reads every CSV of `folder` with its row type; an error names the file.
fn read_all(folder: &Folder) -> Result<(), TestCaseError> {
    fn read<R: CsvRow>(folder: &Folder) -> Result<(), TestCaseError> {
        if let Some((name, bytes)) = folder.iter().find(|(n, _)| n == R::FILE)
            && let Err(e) = read_rows_from::<R>(name, bytes.as_slice())
        {
            let message = e.to_string();
            prop_assert!(message.starts_with(name.as_str()), "{message}");
        }
        Ok(())
    }
    read::<BlockRow>(folder)?;
    read::<PropagationRow>(folder)?;
    read::<PropagationCdfRow>(folder)?;
    read::<ReorgRow>(folder)?;
    read::<MinerRow>(folder)?;
    read::<TransactionRow>(folder)?;
    read::<MempoolRow>(folder)?;
    Ok(())
}

proptest! {
    #![proptest_config(common::config(ROW_CASES, 0x2095_0001))]

    #[test]
    fn fuzz_damaged_result_rows_read_or_are_refused_by_file(folder in damaged(&[])) {
        read_all(&folder)?;
    }
}

proptest! {
    #![proptest_config(common::config(TREE_CASES, 0x7ee_0001))]

    #[test]
    fn fuzz_tree_draws_damaged_blocks_files_or_refuses_them(
        folder in damaged(&["blocks.csv"]),
    ) {
        let tmp = write(&folder);
        if let Err(e) = draw_tree(tmp.path(), "fuzz") {
            names_a_file(&e.to_string(), tmp.path())?;
        }
    }
}

proptest! {
    #![proptest_config(common::config(PLOT_CASES, 0x9107_0001))]

    #[test]
    fn fuzz_plot_draws_damaged_result_folders_or_refuses_them(folder in damaged(&[])) {
        let tmp = write(&folder);
        if let Err(e) = draw_run_plots(tmp.path()) {
            names_a_file(&e.to_string(), tmp.path())?;
        }
    }
}

/// A mutation of one value of the manifest's JSON (a path picked among all of them).
fn mutate_json(root: &mut serde_json::Value, at: Index, with: Option<serde_json::Value>) {
    fn all(v: &serde_json::Value, here: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        out.push(here.clone());
        let children: Vec<(String, &serde_json::Value)> = match v {
            serde_json::Value::Object(m) => m.iter().map(|(k, v)| (k.clone(), v)).collect(),
            serde_json::Value::Array(a) => {
                a.iter().enumerate().map(|(i, v)| (i.to_string(), v)).collect()
            }
            _ => Vec::new(),
        };
        for (k, v) in children {
            here.push(k);
            all(v, here, out);
            here.pop();
        }
    }
    let mut paths = Vec::new();
    all(root, &mut Vec::new(), &mut paths);
    let path = &paths[at.index(paths.len())];
    let Some((last, parent)) = path.split_last() else { return };
    let mut v = &mut *root;
    for k in parent {
        v = match v {
            serde_json::Value::Object(m) => m.get_mut(k).unwrap(),
            serde_json::Value::Array(a) => &mut a[k.parse::<usize>().unwrap()],
            _ => return,
        };
    }
    match (v, with) {
        (serde_json::Value::Object(m), None) => {
            m.remove(last);
        }
        (serde_json::Value::Array(a), None) => {
            a.remove(last.parse::<usize>().unwrap());
        }
        (serde_json::Value::Object(m), Some(new)) => {
            m.insert(last.clone(), new);
        }
        (serde_json::Value::Array(a), Some(new)) => a[last.parse::<usize>().unwrap()] = new,
        _ => {}
    }
}

/// What `forksim replay` does with a manifest before it runs anything: read the JSON, the
/// recorded scenario and the digests, and validate the scenario. Every manifest is either
/// accepted or refused with a message naming the field or the scenario's source.
fn check_manifest(bytes: &[u8]) -> Result<(), TestCaseError> {
    let Ok(manifest) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return Ok(());
    };
    let _ = serde_json::from_value::<std::collections::BTreeMap<String, String>>(
        manifest["files"].clone(),
    );
    let Ok(raw) = serde_json::from_value::<RawScenario>(manifest["scenario"].clone()) else {
        return Ok(());
    };
    let source = PathBuf::from(manifest["scenario_file"].as_str().unwrap_or("manifest.json"));
    if let Err(e) = scenario::from_raw(raw, &source) {
        let message = e.to_string();
        prop_assert!(message.starts_with(&source.display().to_string()), "{message}");
    }
    Ok(())
}

proptest! {
    #![proptest_config(common::config(MANIFEST_CASES, 0x3a41_0001))]

    #[test]
    fn fuzz_damaged_manifests_are_read_or_refused(
        which in any::<Index>(),
        changes in prop::collection::vec(
            (any::<Index>(), prop::option::weighted(0.8, common::value())),
            1..4,
        ),
        cut in prop::option::weighted(0.1, any::<Index>()),
    ) {
        let originals = originals();
        let folder = &originals[which.index(originals.len())];
        let bytes = &folder.iter().find(|(n, _)| n == "manifest.json").unwrap().1;
        let mut manifest: serde_json::Value = serde_json::from_slice(bytes).unwrap();
        for (at, with) in &changes {
            let with = with.as_ref().map(|v| serde_json::to_value(v).unwrap());
            mutate_json(&mut manifest, *at, with);
        }
        let mut bytes = serde_json::to_vec(&manifest).unwrap();
        if let Some(at) = cut {
            let len = bytes.len();
            bytes.truncate(at.index(len + 1));
        }
        check_manifest(&bytes)?;
    }
}

proptest! {
    #![proptest_config(common::config(REPLAY_CASES, 0x4e91_0001))]

    #[test]
    fn fuzz_replay_of_damaged_folders_never_panics(folder in damaged(&[])) {
        let tmp = write(&folder);
        let o = crate::support::forksim(&["replay", tmp.path().to_str().unwrap()]);
        let err = stderr(&o);
        prop_assert!(matches!(o.status.code(), Some(0..=2)), "exit {:?}: {err}", o.status.code());
        prop_assert!(!err.contains("panicked"), "{err}");
    }
}

// Inputs the fuzz targets above found crashing, kept as regression tests.

/// `folder` with `file`'s field `column` of data row `row` (from 1) set to `text`.
fn with_cell(mut folder: Folder, file: &str, column: &str, row: usize, text: &str) -> Folder {
    let (_, bytes) = folder.iter_mut().find(|(n, _)| n == file).unwrap();
    let mut l = lines(bytes);
    let c = cells(&l[0]).iter().position(|h| h == column.as_bytes()).unwrap();
    let mut fields = cells(&l[row]);
    fields[c] = text.as_bytes().to_vec();
    l[row] = join_cells(&fields);
    *bytes = join(&l);
    folder
}

#[test]
fn a_blocks_file_with_a_damaged_height_is_refused_instead_of_exhausting_memory() {
    // Height 4294967295 sized the tree's per-height tables: 32 GiB asked for, then an abort.
    let folder = with_cell(originals()[0].clone(), "blocks.csv", "height", 2, "4294967295");
    let tmp = write(&folder);
    let err = draw_tree(tmp.path(), "t").unwrap_err().to_string();
    assert!(err.contains("blocks.csv") && err.contains("row 3"), "{err}");
    assert!(err.contains("height 4294967295 is not one above its parent's"), "{err}");
}

#[test]
fn an_infinite_share_or_time_is_refused_instead_of_hanging_the_plot() {
    // `inf` is a valid six-decimal field; as an axis bound it made plotting loop forever.
    for (file, column) in [
        ("miners.csv", "revenue_share"),
        ("miners.csv", "hash_share"),
        ("propagation_cdf.csv", "median_ms"),
        ("propagation_cdf.csv", "p90_ms"),
    ] {
        for text in ["inf", "NaN", "-1.000000"] {
            let text =
                if file == "propagation_cdf.csv" && text == "-1.000000" { "-1.000" } else { text };
            let folder = with_cell(originals()[0].clone(), file, column, 1, text);
            let tmp = write(&folder);
            let dir = tmp.path().to_path_buf();
            let (send, receive) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let _ = send.send(draw_run_plots(&dir).map(|_| ()).map_err(|e| e.to_string()));
            });
            let outcome = receive
                .recv_timeout(std::time::Duration::from_secs(120))
                .unwrap_or_else(|_| panic!("plot hangs on {file} {column} = {text}"));
            let err = outcome.unwrap_err();
            assert!(err.contains(file) && err.contains(&format!("column `{column}`")), "{err}");
            assert!(
                err.contains("line 2") && err.contains("not a finite number at least 0"),
                "{err}"
            );
        }
    }
}
