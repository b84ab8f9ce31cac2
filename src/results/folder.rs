//! A results folder replaced as a whole: a run writes into a fresh staging folder next to
//! its target and swaps it in at the end.
//!
//! Writing each file atomically is not enough: a rerun that produces fewer files (no
//! `trace.csv` this time) would leave the old ones beside the new, and a rerun killed
//! half-way would leave new data files beside the old, complete-looking `manifest.json`.
//! So every file of a run goes into `.NAME.partial.PID` in the target's parent folder, and
//! [`Staging::commit`] exchanges that folder with the target in one step (Linux's
//! `renameat2(RENAME_EXCHANGE)`; elsewhere two renames). Whatever happens, the target is
//! either the old complete folder or the new complete folder.
//!
//! Creating the staging folder before the run also proves the output location writable
//! before any simulation work is done. A target that exists must look like a results folder
//! (a `manifest.json`, and no file the manifest does not list): a folder holding anything
//! else is refused rather than replaced, so nothing a user put there is lost. Staging folders
//! left by killed runs are removed when the next run to the same target starts.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Why a results folder cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FolderError {
    /// The target exists but is not a folder forksim wrote.
    #[error(
        "{path}: {why}; forksim replaces a results folder as a whole, so it will not write \
         here (choose another folder with --out, or move the folder away)"
    )]
    NotResults {
        /// The target.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },
    /// The file system refused.
    #[error("{path}: cannot write results here: {source}")]
    Io {
        /// The path that failed.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
}

impl FolderError {
    fn io(path: &Path, source: io::Error) -> FolderError {
        FolderError::Io { path: path.to_path_buf(), source }
    }

    /// Whether the problem is the user's choice of folder (exit 2) rather than a failure
    /// of the file system during the run.
    pub fn is_input(&self) -> bool {
        matches!(self, FolderError::NotResults { .. })
    }
}

/// A staging folder for the results that will replace `target`.
#[derive(Debug)]
pub struct Staging {
    target: PathBuf,
    dir: PathBuf,
    committed: bool,
}

/// The file in which forksim lists a results folder's files.
const MANIFEST: &str = "manifest.json";

impl Staging {
    /// Checks that `target` may be replaced, removes staging folders that killed runs left
    /// for it, and creates a fresh staging folder beside it (proving the location
    /// writable).
    ///
    /// # Errors
    ///
    /// [`FolderError::NotResults`] if `target` exists and is not a results folder;
    /// [`FolderError::Io`] if the staging folder cannot be created.
    pub fn begin(target: &Path) -> Result<Staging, FolderError> {
        check_replaceable(target)?;
        let (parent, name) = split(target)?;
        fs::create_dir_all(&parent).map_err(|e| FolderError::io(&parent, e))?;
        remove_abandoned(&parent, &name);
        let dir = parent.join(format!(".{name}.partial.{}", std::process::id()));
        if dir.exists() {
            fs::remove_dir_all(&dir).map_err(|e| FolderError::io(&dir, e))?;
        }
        fs::create_dir(&dir).map_err(|e| FolderError::io(&dir, e))?;
        Ok(Staging { target: target.to_path_buf(), dir, committed: false })
    }

    /// The folder to write the run's files into.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The folder the results will have once committed.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Puts the staged folder in the target's place, in one step where the system allows
    /// it, and removes the old folder.
    ///
    /// # Errors
    ///
    /// [`FolderError::Io`] if a rename fails; the old folder is then still in place.
    pub fn commit(mut self) -> Result<(), FolderError> {
        // Checked again: the folder may have changed while the simulation ran.
        check_replaceable(&self.target)?;
        let io = |e| FolderError::io(&self.target, e);
        if self.target.exists() {
            exchange(&self.dir, &self.target).map_err(io)?;
            // `dir` now holds the old results.
            fs::remove_dir_all(&self.dir).map_err(|e| FolderError::io(&self.dir, e))?;
        } else {
            fs::rename(&self.dir, &self.target).map_err(io)?;
        }
        self.committed = true;
        Ok(())
    }
}

impl Drop for Staging {
    /// A run that fails or is abandoned leaves no staging folder behind.
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// The parent folder and the file name of `target`.
fn split(target: &Path) -> Result<(PathBuf, String), FolderError> {
    let name = target.file_name().map(|n| n.to_string_lossy().to_string()).ok_or_else(|| {
        FolderError::NotResults {
            path: target.to_path_buf(),
            why: "names no folder (it ends in `..` or is a root)".to_string(),
        }
    })?;
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((parent, name))
}

/// Whether `target` is absent, an empty folder, or a results folder whose every file its
/// manifest lists (the manifest itself and the hidden temporary files of an interrupted
/// write aside).
fn check_replaceable(target: &Path) -> Result<(), FolderError> {
    let not = |why: String| FolderError::NotResults { path: target.to_path_buf(), why };
    let meta = match fs::symlink_metadata(target) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(FolderError::io(target, e)),
    };
    if !meta.is_dir() {
        return Err(not("exists and is not a folder".to_string()));
    }
    let mut names = Vec::new();
    for entry in fs::read_dir(target).map_err(|e| FolderError::io(target, e))? {
        let entry = entry.map_err(|e| FolderError::io(target, e))?;
        names.push(entry.file_name().to_string_lossy().to_string());
    }
    names.sort();
    if names.is_empty() {
        return Ok(());
    }
    if !names.iter().any(|n| n == MANIFEST) {
        return Err(not(format!(
            "is not empty and has no {MANIFEST}, so it is not a forksim results folder (it holds {})",
            shown(&names)
        )));
    }
    let listed = listed_files(&target.join(MANIFEST));
    let unlisted: Vec<String> = names
        .into_iter()
        .filter(|n| n != MANIFEST && !is_temporary(n) && !listed.contains_key(n))
        .collect();
    if !unlisted.is_empty() {
        return Err(not(format!("holds files its {MANIFEST} does not list: {}", shown(&unlisted))));
    }
    Ok(())
}

/// The files a manifest lists (none if it cannot be read).
fn listed_files(manifest: &Path) -> BTreeMap<String, serde_json::Value> {
    fs::read(manifest)
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v.get("files").and_then(|f| f.as_object()).cloned())
        .map(|m| m.into_iter().collect())
        .unwrap_or_default()
}

/// A hidden temporary file of an interrupted write (`.NAME.tmp.PID`) or an older version's
/// replay scratch folder (`.replay.PID`).
fn is_temporary(name: &str) -> bool {
    name.starts_with('.') && (name.contains(".tmp.") || name.starts_with(".replay."))
}

/// The first few names, for messages.
fn shown(names: &[String]) -> String {
    let first: Vec<&str> = names.iter().take(5).map(String::as_str).collect();
    let more =
        if names.len() > 5 { format!(" and {} more", names.len() - 5) } else { String::new() };
    format!("{}{more}", first.join(", "))
}

/// Removes the staging folders that runs to `name` left in `parent` when they were killed
/// (their process no longer exists). Without `/proc` nothing is removed.
fn remove_abandoned(parent: &Path, name: &str) {
    let prefix = format!(".{name}.partial.");
    let Ok(entries) = fs::read_dir(parent) else { return };
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().to_string();
        let Some(pid) = file_name.strip_prefix(&prefix) else { continue };
        if pid.parse::<u32>().is_ok() && process_gone(pid) {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// Whether no process `pid` runs (false when that cannot be told).
fn process_gone(pid: &str) -> bool {
    let proc_root = Path::new("/proc");
    proc_root.join("self").exists() && !proc_root.join(pid).exists()
}

/// Swaps two existing paths.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| {
        CString::new(p.as_os_str().as_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a path holds a NUL byte"))
    };
    let (ca, cb) = (c(a)?, c(b)?);
    // SAFETY: both pointers are valid NUL-terminated strings that outlive the call;
    // renameat2 only reads them.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            ca.as_ptr(),
            libc::AT_FDCWD,
            cb.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        return Ok(());
    }
    let err = io::Error::last_os_error();
    // Some file systems do not support the exchange: fall back to two renames.
    match err.raw_os_error() {
        Some(libc::EINVAL) | Some(libc::ENOSYS) | Some(libc::EOPNOTSUPP) => swap_by_renames(a, b),
        _ => Err(err),
    }
}

/// Swaps two existing paths.
#[cfg(not(target_os = "linux"))]
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    swap_by_renames(a, b)
}

/// Swaps `a` and `b` through a third name: between the renames `b` is briefly absent, but
/// never a mix of the two.
fn swap_by_renames(a: &Path, b: &Path) -> io::Result<()> {
    let mut aside = a.as_os_str().to_owned();
    aside.push(".swap");
    let aside = PathBuf::from(aside);
    fs::rename(b, &aside)?;
    if let Err(e) = fs::rename(a, b) {
        let _ = fs::rename(&aside, b);
        return Err(e);
    }
    fs::rename(&aside, a)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("forksim-folder-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn write_results(dir: &Path, files: &[(&str, &str)]) {
        fs::create_dir_all(dir).unwrap();
        let mut listed = serde_json::Map::new();
        for (name, text) in files {
            fs::write(dir.join(name), text).unwrap();
            listed.insert(name.to_string(), serde_json::Value::String("x".into()));
        }
        let manifest = serde_json::json!({ "files": listed });
        fs::write(dir.join(MANIFEST), manifest.to_string()).unwrap();
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_rerun_replaces_the_whole_folder_so_no_old_file_survives() {
        let root = scratch("rerun");
        let target = root.join("run");
        write_results(&target, &[("trace.csv", "old"), ("blocks.csv", "old")]);
        let staging = Staging::begin(&target).unwrap();
        write_results(staging.dir(), &[("blocks.csv", "new")]);
        assert_eq!(names(&target), ["blocks.csv", MANIFEST, "trace.csv"], "untouched until commit");
        staging.commit().unwrap();
        assert_eq!(names(&target), ["blocks.csv", MANIFEST]);
        assert_eq!(fs::read_to_string(target.join("blocks.csv")).unwrap(), "new");
        assert_eq!(names(&root), ["run"], "no staging or old folder is left");
    }

    #[test]
    fn an_abandoned_run_leaves_the_old_folder_intact_and_no_staging_folder() {
        let root = scratch("abandon");
        let target = root.join("run");
        write_results(&target, &[("blocks.csv", "old")]);
        {
            let staging = Staging::begin(&target).unwrap();
            fs::write(staging.dir().join("blocks.csv"), "half").unwrap();
        }
        assert_eq!(fs::read_to_string(target.join("blocks.csv")).unwrap(), "old");
        assert_eq!(names(&root), ["run"]);
    }

    #[test]
    fn a_staging_folder_of_a_killed_run_is_removed_by_the_next_run() {
        let root = scratch("killed");
        let target = root.join("run");
        // No process has this id (above the kernel's pid_max).
        let leftover = root.join(".run.partial.4294967295");
        fs::create_dir_all(&leftover).unwrap();
        fs::write(leftover.join(".blocks.csv.tmp.4294967295"), "half").unwrap();
        let staging = Staging::begin(&target).unwrap();
        staging.commit().unwrap();
        assert_eq!(names(&root), ["run"]);
    }

    #[test]
    fn a_folder_that_is_not_a_results_folder_is_refused_not_replaced() {
        let root = scratch("foreign");
        let target = root.join("mine");
        fs::create_dir_all(&target).unwrap();
        fs::write(target.join("notes.txt"), "keep me").unwrap();
        let err = Staging::begin(&target).unwrap_err();
        assert!(err.is_input());
        assert!(err.to_string().contains("notes.txt"), "{err}");
        // A results folder with a file of the user's beside it is refused too.
        let results = root.join("results");
        write_results(&results, &[("blocks.csv", "x")]);
        fs::write(results.join("notes.txt"), "keep me").unwrap();
        let err = Staging::begin(&results).unwrap_err();
        assert!(err.to_string().contains("does not list: notes.txt"), "{err}");
        // A plain file is refused.
        let file = root.join("file");
        fs::write(&file, "x").unwrap();
        assert!(Staging::begin(&file).unwrap_err().is_input());
        assert_eq!(fs::read_to_string(target.join("notes.txt")).unwrap(), "keep me");
    }

    #[test]
    fn an_unwritable_location_is_found_before_any_work() {
        let root = scratch("unwritable");
        // A file where a parent folder should be: nothing can be created below it.
        fs::write(root.join("blocked"), "x").unwrap();
        let err = Staging::begin(&root.join("blocked").join("run")).unwrap_err();
        assert!(!err.is_input());
        assert!(err.to_string().contains("blocked"), "{err}");
    }
}
