//! The journal: one small file per finished run, so a killed sweep loses only the runs in
//! progress.
//!
//! Layout, under the output folder:
//! - `journal/manifest.json`: which sweep (SHA-256 of its `sweep.json`) and which shard the
//!   journal belongs to; `--resume` compares it before touching anything;
//! - `journal/run-000123.json`: the record of run 123.
//!
//! Every file is written to a hidden temporary name (`.run-000123.json.<pid>.tmp`), flushed
//! to disk, then renamed; a rename is atomic, so a file with the final name is always
//! complete, whenever the process dies. Temporaries left by a kill are ignored and removed
//! on the next start. Each record also carries the SHA-256 of its body, so damage from
//! outside (a truncated copy, a disk error) is detected and reported with the file name
//! rather than silently trusted.
//!
//! Metric values are stored as text in Rust's shortest round-trip form (`0.1`, `NaN`,
//! `inf`), which parses back to the identical `f64`; a resumed or merged sweep therefore
//! writes exactly the bytes of an uninterrupted one.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::output::sha256_hex;
use super::{Metric, SweepError};

/// Folder of the journal inside an output folder.
pub const JOURNAL_DIR: &str = "journal";
/// Name of the manifest inside the journal folder.
const MANIFEST: &str = "manifest.json";
/// Format tag of the manifest.
const MANIFEST_FORMAT: &str = "forksim-sweep-journal-v1";

/// The finished result of one run.
#[derive(Clone, Debug, PartialEq)]
pub struct RunRecord {
    /// Run index.
    pub run: u64,
    /// Point index.
    pub point: u64,
    /// Replicate within the point.
    pub replicate: u64,
    /// The run's seed.
    pub seed: u64,
    /// The runner's metrics, in its order.
    pub metrics: Vec<(String, Metric)>,
}

/// Which sweep and shard a journal belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Always `MANIFEST_FORMAT`.
    pub format: String,
    /// SHA-256 (hex) of the sweep's `sweep.json`.
    pub sweep_sha256: String,
    /// The shard, as `K/N` (`1/1` for a whole sweep).
    pub shard: String,
}

impl Manifest {
    /// The manifest of shard `k` of `n` of the sweep with this digest.
    pub fn new(sweep_sha256: &str, k: u32, n: u32) -> Manifest {
        Manifest {
            format: MANIFEST_FORMAT.to_string(),
            sweep_sha256: sweep_sha256.to_string(),
            shard: format!("{k}/{n}"),
        }
    }
}

/// A metric as stored: values as round-trip text so no precision is lost.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum StoredMetric {
    Value { name: String, value: String },
    Proportion { name: String, successes: u64, trials: u64 },
}

/// The checksummed body of a run file.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    sweep_sha256: String,
    run: u64,
    point: u64,
    replicate: u64,
    seed: u64,
    metrics: Vec<StoredMetric>,
}

/// A run file: the body and the SHA-256 of its compact JSON.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryFile {
    entry: Entry,
    sha256: String,
}

/// The journal folder of one output folder.
#[derive(Clone, Debug)]
pub struct Journal {
    dir: PathBuf,
}

impl Journal {
    /// The journal of `out_dir`, creating the folders.
    ///
    /// # Errors
    ///
    /// Returns [`SweepError::Io`] if the folder cannot be created.
    pub fn create(out_dir: &Path) -> Result<Journal, SweepError> {
        let journal = Journal::open(out_dir);
        fs::create_dir_all(&journal.dir).map_err(|e| SweepError::io(&journal.dir, e))?;
        Ok(journal)
    }

    /// The journal of `out_dir`, which may not exist.
    pub fn open(out_dir: &Path) -> Journal {
        Journal { dir: out_dir.join(JOURNAL_DIR) }
    }

    /// The file of run `run`.
    pub fn entry_path(&self, run: u64) -> PathBuf {
        self.dir.join(format!("run-{run:06}.json"))
    }

    /// Reads the manifest, if there is one.
    ///
    /// # Errors
    ///
    /// Returns [`SweepError::Journal`] if it exists but cannot be read or parsed.
    pub fn read_manifest(&self) -> Result<Option<Manifest>, SweepError> {
        let path = self.dir.join(MANIFEST);
        let bad =
            |problem: String| SweepError::Journal { file: path.display().to_string(), problem };
        match fs::read(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(bad(e.to_string())),
            Ok(bytes) => {
                let manifest: Manifest =
                    serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()))?;
                if manifest.format != MANIFEST_FORMAT {
                    return Err(bad(format!("unknown format `{}`", manifest.format)));
                }
                Ok(Some(manifest))
            }
        }
    }

    /// Writes the manifest atomically.
    ///
    /// # Errors
    ///
    /// Returns [`SweepError::Io`] if it cannot be written.
    pub fn write_manifest(&self, manifest: &Manifest) -> Result<(), SweepError> {
        let mut bytes =
            serde_json::to_vec_pretty(manifest).map_err(|e| SweepError::io(&self.dir, e))?;
        bytes.push(b'\n');
        super::output::atomic_write(&self.dir.join(MANIFEST), &bytes)
    }

    /// The run files present (by name only), sorted by run index.
    ///
    /// # Errors
    ///
    /// Returns [`SweepError::Io`] if the folder cannot be listed.
    pub fn entry_files(&self) -> Result<Vec<(u64, PathBuf)>, SweepError> {
        let listing = match fs::read_dir(&self.dir) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(SweepError::io(&self.dir, e)),
            Ok(listing) => listing,
        };
        let mut files = Vec::new();
        for item in listing {
            let item = item.map_err(|e| SweepError::io(&self.dir, e))?;
            let name = item.file_name();
            let Some(name) = name.to_str() else { continue };
            let Some(number) = name.strip_prefix("run-").and_then(|n| n.strip_suffix(".json"))
            else {
                continue;
            };
            let path = item.path();
            let run: u64 = number.parse().map_err(|_| SweepError::Journal {
                file: path.display().to_string(),
                problem: "the file name is not run-<index>.json".into(),
            })?;
            files.push((run, path));
        }
        files.sort();
        Ok(files)
    }

    /// How many run files there are.
    ///
    /// # Errors
    ///
    /// As [`Journal::entry_files`].
    pub fn entry_count(&self) -> Result<usize, SweepError> {
        Ok(self.entry_files()?.len())
    }

    /// Reads and verifies every run file, sorted by run index.
    ///
    /// # Errors
    ///
    /// Returns [`SweepError::Journal`] naming the file if one cannot be parsed, its checksum
    /// does not match, its run differs from its name, or it belongs to another sweep.
    pub fn records(&self, sweep_sha256: &str) -> Result<Vec<RunRecord>, SweepError> {
        self.entry_files()?
            .into_iter()
            .map(|(run, path)| read_entry(&path, run, sweep_sha256))
            .collect()
    }

    /// Writes the record of one run atomically.
    ///
    /// # Errors
    ///
    /// Returns [`SweepError::Io`] if it cannot be written.
    pub fn write(&self, sweep_sha256: &str, record: &RunRecord) -> Result<(), SweepError> {
        let entry = Entry {
            sweep_sha256: sweep_sha256.to_string(),
            run: record.run,
            point: record.point,
            replicate: record.replicate,
            seed: record.seed,
            metrics: record
                .metrics
                .iter()
                .map(|(name, metric)| match *metric {
                    Metric::Value(x) => {
                        StoredMetric::Value { name: name.clone(), value: x.to_string() }
                    }
                    Metric::Proportion { successes, trials } => {
                        StoredMetric::Proportion { name: name.clone(), successes, trials }
                    }
                })
                .collect(),
        };
        let path = self.entry_path(record.run);
        let body = serde_json::to_string(&entry).map_err(|e| SweepError::io(&path, e))?;
        let file = EntryFile { sha256: sha256_hex(body.as_bytes()), entry };
        let mut bytes = serde_json::to_vec(&file).map_err(|e| SweepError::io(&path, e))?;
        bytes.push(b'\n');
        super::output::atomic_write(&path, &bytes)
    }

    /// Removes temporaries left by a killed process (hidden `*.tmp` files).
    pub fn remove_temporaries(&self) {
        let Ok(listing) = fs::read_dir(&self.dir) else {
            return;
        };
        for item in listing.flatten() {
            let name = item.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') && name.ends_with(".tmp") {
                // Best effort: a leftover temporary is harmless, it is never read.
                let _ = fs::remove_file(item.path());
            }
        }
    }
}

/// Reads and verifies one run file.
fn read_entry(path: &Path, run: u64, sweep_sha256: &str) -> Result<RunRecord, SweepError> {
    let bad = |problem: String| SweepError::Journal { file: path.display().to_string(), problem };
    let bytes = fs::read(path).map_err(|e| bad(e.to_string()))?;
    let file: EntryFile = serde_json::from_slice(&bytes).map_err(|e| {
        bad(format!("not a complete run record ({e}); delete it to rerun run {run}"))
    })?;
    let body = serde_json::to_string(&file.entry).map_err(|e| bad(e.to_string()))?;
    if sha256_hex(body.as_bytes()) != file.sha256 {
        return Err(bad(format!("checksum mismatch; delete it to rerun run {run}")));
    }
    let entry = file.entry;
    if entry.sweep_sha256 != sweep_sha256 {
        return Err(bad("it belongs to a different sweep".into()));
    }
    if entry.run != run {
        return Err(bad(format!("it holds run {} but is named for run {run}", entry.run)));
    }
    let mut metrics = Vec::with_capacity(entry.metrics.len());
    for stored in entry.metrics {
        metrics.push(match stored {
            StoredMetric::Value { name, value } => {
                let x: f64 = value
                    .parse()
                    .map_err(|_| bad(format!("metric `{name}` = {value:?} is not a number")))?;
                (name, Metric::Value(x))
            }
            StoredMetric::Proportion { name, successes, trials } => {
                (name, Metric::Proportion { successes, trials })
            }
        });
    }
    Ok(RunRecord {
        run: entry.run,
        point: entry.point,
        replicate: entry.replicate,
        seed: entry.seed,
        metrics,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(run: u64, x: f64) -> RunRecord {
        RunRecord {
            run,
            point: run / 2,
            replicate: run % 2,
            seed: 42 + run,
            metrics: vec![
                ("x".into(), Metric::Value(x)),
                ("p".into(), Metric::Proportion { successes: 3, trials: 7 }),
            ],
        }
    }

    #[test]
    fn records_round_trip_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::create(dir.path()).unwrap();
        let values =
            [0.1 + 0.2, 1e-300, f64::INFINITY, -0.0, 123_456_789.123_456_79, f64::MIN_POSITIVE];
        for (i, &x) in values.iter().enumerate() {
            journal.write("abc", &record(i as u64, x)).unwrap();
        }
        journal.write("abc", &record(1_234_567, f64::NAN)).unwrap();
        let back = journal.records("abc").unwrap();
        assert_eq!(back.len(), values.len() + 1);
        for (i, &x) in values.iter().enumerate() {
            assert_eq!(back[i].run, i as u64);
            let Metric::Value(y) = back[i].metrics[0].1 else { panic!() };
            assert_eq!(y.to_bits(), x.to_bits());
            assert_eq!(back[i], record(i as u64, x));
        }
        assert!(matches!(back[6].metrics[0].1, Metric::Value(y) if y.is_nan()));
        assert_eq!(back[6].run, 1_234_567);
    }

    #[test]
    fn damaged_entries_are_reported_by_file() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::create(dir.path()).unwrap();
        journal.write("abc", &record(0, 1.5)).unwrap();
        journal.write("abc", &record(1, 2.5)).unwrap();
        // A torn file (a prefix of a valid one).
        let good = fs::read(journal.entry_path(1)).unwrap();
        fs::write(journal.entry_path(1), &good[..good.len() / 2]).unwrap();
        let err = journal.records("abc").unwrap_err().to_string();
        assert!(err.contains("run-000001.json") && err.contains("not a complete"), "{err}");
        // A tampered value keeps valid JSON but breaks the checksum.
        let text = String::from_utf8(good).unwrap().replace("\"2.5\"", "\"2.6\"");
        fs::write(journal.entry_path(1), text).unwrap();
        let err = journal.records("abc").unwrap_err().to_string();
        assert!(err.contains("checksum"), "{err}");
        // Another sweep's entry.
        journal.write("def", &record(1, 2.5)).unwrap();
        let err = journal.records("abc").unwrap_err().to_string();
        assert!(err.contains("different sweep"), "{err}");
    }

    #[test]
    fn temporaries_are_ignored_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::create(dir.path()).unwrap();
        journal.write("abc", &record(0, 1.5)).unwrap();
        let tmp = dir.path().join(JOURNAL_DIR).join(".run-000001.json.99.tmp");
        fs::write(&tmp, "{\"entry\":").unwrap();
        assert_eq!(journal.records("abc").unwrap().len(), 1);
        journal.remove_temporaries();
        assert!(!tmp.exists());
        assert_eq!(journal.entry_count().unwrap(), 1);
    }
}
