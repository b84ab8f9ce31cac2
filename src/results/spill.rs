//! Result rows written out during the run, as soon as they can no longer change.
//!
//! A run of a million blocks has a million rows of `blocks.csv` and `propagation.csv`, more
//! of `reorgs.csv`, and twenty propagation times per block for `propagation_cdf.csv`. Kept
//! in memory until the end they were most of the run's memory. The metrics instead write
//! each row here once its block is final (below the store's pruned height, see
//! [`crate::chain::BlockStore::prune_through`]; a reorg row at once), into a hidden file of
//! the results folder (or of the system's temporary folder for runs that render into
//! memory). Rendering then copies the file into the result file and appends the rows still
//! held: the same bytes as rendering every row at the end. The files are removed when the
//! metrics are dropped.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::rows::{CsvRow, writer};

/// Tells spill files of one process apart (tests run many runs at once).
static NEXT: AtomicU64 = AtomicU64::new(0);

/// A hidden, unique path for a spill file named after `name` in `dir`.
fn spill_path(dir: &Path, name: &str) -> PathBuf {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    dir.join(format!(".{name}.spill.{}.{n}", std::process::id()))
}

/// One spill file: created on first use, written through a buffer, removed on drop. An I/O
/// error is kept (a run's observer cannot fail) and returned when the file is read back.
#[derive(Debug)]
struct SpillFile {
    path: PathBuf,
    out: Option<BufWriter<File>>,
    error: Option<io::Error>,
}

impl SpillFile {
    fn create(dir: &Path, name: &str) -> SpillFile {
        let path = spill_path(dir, name);
        match File::create(&path) {
            Ok(f) => SpillFile { path, out: Some(BufWriter::new(f)), error: None },
            Err(e) => SpillFile { path, out: None, error: Some(e) },
        }
    }

    fn write(&mut self, bytes: &[u8]) {
        if let Some(out) = self.out.as_mut()
            && let Err(e) = out.write_all(bytes)
        {
            self.error.get_or_insert(e);
            self.out = None;
        }
    }

    /// Flushes what was written and opens the file for reading from its start.
    fn reader(&mut self) -> io::Result<BufReader<File>> {
        if let Some(out) = self.out.as_mut()
            && let Err(e) = out.flush()
        {
            self.error.get_or_insert(e);
        }
        if let Some(e) = &self.error {
            return Err(io::Error::new(e.kind(), format!("{}: {e}", self.path.display())));
        }
        File::open(&self.path).map(BufReader::new)
    }
}

impl Drop for SpillFile {
    fn drop(&mut self) {
        self.out = None;
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The rows of one CSV result file written so far: its header, then rows in file order.
#[derive(Debug)]
pub struct CsvSpill<R> {
    file: SpillFile,
    line: Vec<u8>,
    row: PhantomData<fn(R)>,
}

impl<R: CsvRow> CsvSpill<R> {
    /// Starts `R::FILE`'s spill in `dir` with its header.
    pub fn create(dir: &Path) -> CsvSpill<R> {
        let mut file = SpillFile::create(dir, R::FILE);
        let header = writer::<R, _>(Vec::new())
            .and_then(|w| w.into_inner().map_err(|e| e.into_error().into()))
            .expect("a header renders in memory");
        file.write(&header);
        CsvSpill { file, line: Vec::new(), row: PhantomData }
    }

    /// Writes one row (the same bytes a [`csv::Writer`] of the whole file writes for it).
    pub fn push(&mut self, row: R) {
        self.line.clear();
        let mut w = csv::WriterBuilder::new().has_headers(false).from_writer(&mut self.line);
        w.serialize(row).expect("a row serializes to plain fields in memory");
        w.flush().expect("flushing to memory cannot fail");
        drop(w);
        let line = std::mem::take(&mut self.line);
        self.file.write(&line);
        self.line = line;
    }

    /// Copies the header and every row written so far to `out`.
    ///
    /// # Errors
    ///
    /// The first I/O error of writing or reading the spill, or of `out`.
    pub fn copy_into(&mut self, out: &mut dyn Write) -> io::Result<()> {
        io::copy(&mut self.file.reader()?, out).map(|_| ())
    }
}

/// Fixed-size records of `N` unsigned 64-bit numbers, read back in writing order.
#[derive(Debug)]
pub struct RecordSpill<const N: usize> {
    file: SpillFile,
    records: u64,
}

impl<const N: usize> RecordSpill<N> {
    /// Starts a spill named after `name` in `dir`.
    pub fn create(dir: &Path, name: &str) -> RecordSpill<N> {
        RecordSpill { file: SpillFile::create(dir, name), records: 0 }
    }

    /// Writes one record.
    pub fn push(&mut self, record: &[u64; N]) {
        let mut bytes = [0u8; 8];
        for value in record {
            bytes.copy_from_slice(&value.to_le_bytes());
            self.file.write(&bytes);
        }
        self.records += 1;
    }

    /// Records written.
    pub fn len(&self) -> u64 {
        self.records
    }

    /// Whether none was written.
    pub fn is_empty(&self) -> bool {
        self.records == 0
    }

    /// Calls `each` with every record, in writing order.
    ///
    /// # Errors
    ///
    /// The first I/O error of writing or reading the spill.
    pub fn for_each(&mut self, mut each: impl FnMut(&[u64; N])) -> io::Result<()> {
        let mut reader = self.file.reader()?;
        let mut bytes = vec![0u8; 8 * N];
        let mut record = [0u64; N];
        for _ in 0..self.records {
            reader.read_exact(&mut bytes)?;
            for (value, chunk) in record.iter_mut().zip(bytes.chunks_exact(8)) {
                *value = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
            }
            each(&record);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::rows::{MempoolRow, Millis, to_csv_bytes};

    fn row(i: u64) -> MempoolRow {
        MempoolRow {
            time_ms: Millis::from_micros(i * 1_500),
            node: format!("n,{i}"),
            txs: i,
            bytes: 9,
        }
    }

    #[test]
    fn a_spilled_file_reads_back_as_the_whole_file_rendered_at_once() {
        let dir = std::env::temp_dir();
        let mut spill = CsvSpill::<MempoolRow>::create(&dir);
        let path = spill.file.path.clone();
        (0..3).for_each(|i| spill.push(row(i)));
        let mut out = Vec::new();
        spill.copy_into(&mut out).unwrap();
        assert_eq!(out, to_csv_bytes((0..3).map(row)));
        // Reading does not consume: more rows, and the copy again holds all of them.
        spill.push(row(3));
        let mut again = Vec::new();
        spill.copy_into(&mut again).unwrap();
        assert_eq!(again, to_csv_bytes((0..4).map(row)));
        let mut records = RecordSpill::<3>::create(&dir, "numbers");
        records.push(&[1, u64::MAX, 3]);
        records.push(&[4, 5, 6]);
        let mut seen = Vec::new();
        records.for_each(|r| seen.push(*r)).unwrap();
        assert_eq!(seen, [[1, u64::MAX, 3], [4, 5, 6]]);
        drop(spill);
        assert!(!path.exists(), "a spill file is removed with its spill");
    }
}
