//! Damaging a folder of result files the ways files get damaged: missing, empty, header
//! only, truncated, garbled or duplicated rows, short and long rows, bytes that are not
//! UTF-8, hostile cell texts. Shared by the fuzz targets for run folders
//! (`fuzz_results`) and sweep folders (`fuzz_sweeps`).

use std::path::Path;

use proptest::prelude::*;
use proptest::sample::Index;

use crate::fuzz_common as common;

/// The files of a folder, by path relative to it (figures left out: they are outputs).
pub type Folder = Vec<(String, Vec<u8>)>;

/// Cell texts that break readers: empty, signs, huge, not numbers, quotes.
const CELLS: &[&str] = &[
    "",
    "-1",
    "0",
    "1",
    "NaN",
    "nan",
    "inf",
    "-inf",
    "1e400",
    "1e308",
    "-0.000",
    "4294967295",
    "4294967296",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999999999",
    "0.0000001",
    "1.2.3",
    "abc",
    "true",
    "\"",
    "\"\"",
    "n0",
    "n9999",
    "\u{fffd}",
];

/// One way a results folder gets damaged.
#[derive(Clone, Debug)]
pub enum Damage {
    Delete(Index),
    Empty(Index),
    HeaderOnly(Index),
    Truncate(Index, Index),
    /// A field of a row replaced by a hostile text.
    Cell(Index, Index, Index, String),
    /// A field of a row replaced by the same column's field from another row (parents that
    /// come later, heights that repeat, hashes that repeat).
    CopyCell(Index, Index, Index, Index),
    DuplicateRow(Index, Index),
    DropRow(Index, Index),
    SwapRows(Index, Index, Index),
    ShortRow(Index, Index),
    LongRow(Index, Index),
    /// Bytes that are not UTF-8, or a stray quote or newline, inserted anywhere.
    Bytes(Index, Index, Vec<u8>),
}

pub fn damage() -> impl Strategy<Value = Damage> {
    let i = || any::<Index>();
    prop_oneof![
        1 => i().prop_map(Damage::Delete),
        1 => i().prop_map(Damage::Empty),
        1 => i().prop_map(Damage::HeaderOnly),
        1 => (i(), i()).prop_map(|(f, at)| Damage::Truncate(f, at)),
        6 => (i(), i(), i(), prop_oneof![
                4 => prop::sample::select(CELLS).prop_map(str::to_string),
                1 => common::scalar().prop_map(|v| v.to_string()),
            ])
            .prop_map(|(f, r, c, t)| Damage::Cell(f, r, c, t)),
        4 => (i(), i(), i(), i()).prop_map(|(f, r, c, s)| Damage::CopyCell(f, r, c, s)),
        1 => (i(), i()).prop_map(|(f, r)| Damage::DuplicateRow(f, r)),
        1 => (i(), i()).prop_map(|(f, r)| Damage::DropRow(f, r)),
        1 => (i(), i(), i()).prop_map(|(f, a, b)| Damage::SwapRows(f, a, b)),
        1 => (i(), i()).prop_map(|(f, r)| Damage::ShortRow(f, r)),
        1 => (i(), i()).prop_map(|(f, r)| Damage::LongRow(f, r)),
        1 => (i(), i(), prop::collection::vec(
                prop_oneof![Just(0xffu8), Just(0xc3), Just(b'"'), Just(b'\n'), Just(b','), any::<u8>()],
                1..4,
            ))
            .prop_map(|(f, at, b)| Damage::Bytes(f, at, b)),
    ]
}

/// Splits CSV bytes into lines (naively, as damage does not care about quoting).
pub fn lines(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = bytes.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
    if out.last().is_some_and(Vec::is_empty) {
        out.pop();
    }
    out
}

pub fn join(lines: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for l in lines {
        out.extend_from_slice(l);
        out.push(b'\n');
    }
    out
}

/// Row `r` (1 and up: never the header) of `lines`, if there is one.
fn row(lines: &[Vec<u8>], r: Index) -> Option<usize> {
    (lines.len() > 1).then(|| 1 + r.index(lines.len() - 1))
}

pub fn cells(line: &[u8]) -> Vec<Vec<u8>> {
    line.split(|&b| b == b',').map(<[u8]>::to_vec).collect()
}

pub fn join_cells(cells: &[Vec<u8>]) -> Vec<u8> {
    cells.join(&b","[..])
}

/// Applies `d` to the folder; `only` limits it to the files whose path starts with one of
/// its entries (a file name, or a subfolder such as `journal/`; all files when empty).
pub fn apply(folder: &mut Folder, d: &Damage, only: &[&str]) {
    let candidates: Vec<usize> = (0..folder.len())
        .filter(|&k| only.is_empty() || only.iter().any(|o| folder[k].0.starts_with(o)))
        .collect();
    if candidates.is_empty() {
        return;
    }
    let pick = |f: &Index| candidates[f.index(candidates.len())];
    match d {
        Damage::Delete(f) => {
            folder.remove(pick(f));
        }
        Damage::Empty(f) => folder[pick(f)].1.clear(),
        Damage::HeaderOnly(f) => {
            let k = pick(f);
            let l = lines(&folder[k].1);
            folder[k].1 = join(&l[..l.len().min(1)]);
        }
        Damage::Truncate(f, at) => {
            let k = pick(f);
            let len = folder[k].1.len();
            folder[k].1.truncate(at.index(len + 1));
        }
        Damage::Cell(f, r, c, text) => {
            let k = pick(f);
            let mut l = lines(&folder[k].1);
            if let Some(r) = row(&l, *r) {
                let mut cs = cells(&l[r]);
                let c = c.index(cs.len());
                cs[c] = text.as_bytes().to_vec();
                l[r] = join_cells(&cs);
                folder[k].1 = join(&l);
            }
        }
        Damage::CopyCell(f, r, c, s) => {
            let k = pick(f);
            let mut l = lines(&folder[k].1);
            if let (Some(r), Some(s)) = (row(&l, *r), row(&l, *s)) {
                let mut cs = cells(&l[r]);
                let from = cells(&l[s]);
                let c = c.index(cs.len());
                if let Some(v) = from.get(c) {
                    cs[c] = v.clone();
                }
                l[r] = join_cells(&cs);
                folder[k].1 = join(&l);
            }
        }
        Damage::DuplicateRow(f, r) => {
            let k = pick(f);
            let mut l = lines(&folder[k].1);
            if let Some(r) = row(&l, *r) {
                l.insert(r, l[r].clone());
                folder[k].1 = join(&l);
            }
        }
        Damage::DropRow(f, r) => {
            let k = pick(f);
            let mut l = lines(&folder[k].1);
            if let Some(r) = row(&l, *r) {
                l.remove(r);
                folder[k].1 = join(&l);
            }
        }
        Damage::SwapRows(f, a, b) => {
            let k = pick(f);
            let mut l = lines(&folder[k].1);
            if let (Some(a), Some(b)) = (row(&l, *a), row(&l, *b)) {
                l.swap(a, b);
                folder[k].1 = join(&l);
            }
        }
        Damage::ShortRow(f, r) | Damage::LongRow(f, r) => {
            let k = pick(f);
            let mut l = lines(&folder[k].1);
            if let Some(r) = row(&l, *r) {
                let mut cs = cells(&l[r]);
                if matches!(d, Damage::ShortRow(..)) {
                    cs.pop();
                } else {
                    cs.push(b"1".to_vec());
                }
                l[r] = join_cells(&cs);
                folder[k].1 = join(&l);
            }
        }
        Damage::Bytes(f, at, bytes) => {
            let k = pick(f);
            let len = folder[k].1.len();
            let at = at.index(len + 1);
            folder[k].1.splice(at..at, bytes.iter().copied());
        }
    }
}

/// The files of the folder `dir` (figures left out: they are outputs), by path relative to
/// it, sorted.
pub fn read_folder(dir: &Path) -> Folder {
    fn walk(dir: &Path, base: &Path, out: &mut Folder) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, base, out);
            } else if !matches!(path.extension().and_then(|e| e.to_str()), Some("png" | "svg")) {
                let name = path.strip_prefix(base).unwrap().to_string_lossy().to_string();
                out.push((name, std::fs::read(&path).unwrap()));
            }
        }
    }
    let mut out = Folder::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Writes `folder` into a fresh temporary folder.
pub fn write(folder: &Folder) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for (name, bytes) in folder {
        let path = tmp.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    tmp
}
