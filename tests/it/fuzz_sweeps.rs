//! Fuzzing what reads a sweep folder: real outputs of two small sweeps (a race sweep drawn
//! as the safety figure, and a network sweep with a published reference drawn as the
//! stale-rate and reference figures), and the shard folders of the race sweep, damaged the
//! ways files get damaged (see [`crate::fuzz_folder`]). They are fed in-process to the code
//! behind `forksim plot` on a sweep folder, to the journal reader a resumed sweep starts
//! with, and to `forksim merge`; a few are resumed through the `forksim sweep` binary.
//! Every input is drawn, merged or resumed, or refused with an error naming a file or
//! folder; none panics.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use forksim::figures::sweep::draw_sweep_plots;
use forksim::sweep::journal::Journal;
use forksim::sweep::{SweepError, merge};
use proptest::prelude::*;
use proptest::sample::Index;

use crate::fuzz_common as common;
use crate::fuzz_folder::{Folder, apply, damage, read_folder, write};
use crate::support::{forksim_ok, root, stderr};

/// Inputs per run of each target.
const PLOT_CASES: u32 = 150;
const JOURNAL_CASES: u32 = 1_000;
const MERGE_CASES: u32 = 400;
const RESUME_CASES: u32 = 16;

/// The sweep files and their outputs, made once per test binary.
struct Originals {
    /// Kept alive: the sweep files live here.
    _tmp: tempfile::TempDir,
    /// The race sweep's file (a resumed sweep needs it).
    race_file: PathBuf,
    /// Whole folders: the race sweep, then the network sweep.
    whole: [Folder; 2],
    /// The race sweep run as shards 1/2 and 2/2.
    shards: [Folder; 2],
}

fn originals() -> &'static Originals {
    static ORIGINALS: OnceLock<Originals> = OnceLock::new();
    ORIGINALS.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let scenarios = root().join("scenarios");
        let race_file = tmp.path().join("race.toml");
        std::fs::write(
            &race_file,
            format!(
                "[sweep]\nname = \"race\"\nbase = \"{}\"\nseed = 5\nseeds = 2\n\
                 set = [\"race.trials=2000\"]\n\
                 [[sweep.axis]]\nfield = \"race.q\"\nvalues = [0.1, 0.3]\n\
                 [[sweep.axis]]\nfield = \"race.z\"\nrange = {{ from = 0, to = 2, steps = 3 }}\n",
                scenarios.join("attacks/double-spend-race.toml").display()
            ),
        )
        .unwrap();
        let network_file = tmp.path().join("network.toml");
        std::fs::write(
            &network_file,
            format!(
                "[sweep]\nname = \"network\"\nbase = \"{}\"\nseed = 1\nseeds = 1\n\
                 set = [\"run.blocks=12\", \"network.nodes=30\"]\n\
                 [[sweep.axis]]\nfield = \"chain.block_interval_s\"\nvalues = [5, 30]\n\
                 [[sweep.axis]]\nfield = \"mining.block_size_bytes\"\nvalues = [100000, 500000]\n\
                 [sweep.reference]\nlabel = \"a reference\"\nx = [5, 30]\n\
                 stale_rate = [0.1, 0.02]\n",
                scenarios.join("quickstart.toml").display()
            ),
        )
        .unwrap();
        let sweep = |file: &Path, out: &str, shard: Option<&str>| -> Folder {
            let dir = tmp.path().join(out);
            let mut args =
                vec!["sweep", file.to_str().unwrap(), "--quiet", "--out", dir.to_str().unwrap()];
            if let Some(s) = shard {
                args.extend(["--shard", s]);
            }
            forksim_ok(&args);
            read_folder(&dir)
        };
        let whole = [sweep(&race_file, "race", None), sweep(&network_file, "network", None)];
        for name in ["points.csv", "runs.csv", "sweep.json", "reference.csv"] {
            assert!(whole[1].iter().any(|(n, _)| n == name), "the network sweep wrote {name}");
        }
        let shards = [sweep(&race_file, "s1", Some("1/2")), sweep(&race_file, "s2", Some("2/2"))];
        Originals { _tmp: tmp, race_file, whole, shards }
    })
}

/// A damaged copy of one of `folders`; `only` limits the damage as [`apply`] does.
fn damaged_of(
    folders: fn(&'static Originals) -> &'static [Folder],
    only: &'static [&'static str],
) -> impl Strategy<Value = Folder> {
    (any::<Index>(), prop::collection::vec(damage(), 1..4)).prop_map(move |(which, ds)| {
        let all = folders(originals());
        let mut folder = all[which.index(all.len())].clone();
        for d in &ds {
            apply(&mut folder, d, only);
        }
        folder
    })
}

/// An error about a damaged folder names a path inside one of `dirs`.
fn names_a_path(message: &str, dirs: &[&Path]) -> Result<(), TestCaseError> {
    prop_assert!(
        dirs.iter().any(|d| message.contains(&d.display().to_string())),
        "no file or folder named: {message}"
    );
    Ok(())
}

proptest! {
    #![proptest_config(common::config(PLOT_CASES, 0x5e3e_0001))]

    #[test]
    fn fuzz_plot_draws_damaged_sweep_folders_or_refuses_them(
        folder in damaged_of(|o| &o.whole, &["points.csv", "reference.csv", "sweep.json"]),
    ) {
        let tmp = write(&folder);
        if let Err(e) = draw_sweep_plots(tmp.path(), "fuzz") {
            names_a_path(&e.to_string(), &[tmp.path()])?;
        }
    }
}

proptest! {
    #![proptest_config(common::config(JOURNAL_CASES, 0x5e3e_0002))]

    #[test]
    fn fuzz_damaged_journals_read_or_are_refused_by_file(
        folder in damaged_of(|o| &o.whole, &["journal/"]),
    ) {
        let tmp = write(&folder);
        let journal = Journal::open(tmp.path());
        if let Err(e) = journal.read_manifest().and_then(|_| journal.records("any")) {
            names_a_path(&e.to_string(), &[tmp.path()])?;
        }
    }
}

proptest! {
    #![proptest_config(common::config(MERGE_CASES, 0x5e3e_0003))]

    #[test]
    fn fuzz_merge_of_damaged_shards_merges_or_refuses_them(
        first in damaged_of(|o| &o.shards, &[]),
        undamaged_second in any::<bool>(),
    ) {
        let o = originals();
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (write(&first), write(&o.shards[usize::from(undamaged_second)]));
        let dirs = [a.path().to_path_buf(), b.path().to_path_buf()];
        if let Err(e) = merge(&dirs, &tmp.path().join("merged")) {
            // A problem of the set of shards (runs missing, or in two folders) may count the
            // runs instead of naming a folder.
            let counts_runs = matches!(e, SweepError::Merge { .. }) && e.to_string().contains("runs");
            if !counts_runs {
                names_a_path(&e.to_string(), &[a.path(), b.path(), tmp.path()])?;
            }
        }
    }
}

proptest! {
    #![proptest_config(common::config(RESUME_CASES, 0x5e3e_0004))]

    #[test]
    fn fuzz_resuming_a_damaged_sweep_folder_never_panics(
        folder in damaged_of(|o| &o.whole[..1], &[]),
    ) {
        let tmp = write(&folder);
        let race = originals().race_file.to_str().unwrap();
        let out = tmp.path().to_str().unwrap();
        let o = crate::support::forksim(&["sweep", race, "--quiet", "--out", out]);
        let err = stderr(&o);
        prop_assert!(matches!(o.status.code(), Some(0..=2)), "exit {:?}: {err}", o.status.code());
        prop_assert!(!err.contains("panicked"), "{err}");
    }
}
