//! Where rendered result files go: kept in memory, or written into a results folder as each
//! is rendered.
//!
//! A long run's CSVs are hundreds of bytes per block or payment. Rendering every file into
//! memory before writing any held all of them at once at the end of the run, on top of the
//! run's own state; a [`FolderSink`] instead streams each file through a buffer straight to
//! disk, hashing it on the way for the manifest, so rendering needs no memory that grows
//! with the run. [`MemorySink`] keeps the bytes for callers that read them back (benchmarks,
//! tests). Both produce the same bytes.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::rows::{CsvRow, writer};
use super::spill::CsvSpill;

/// Receives result files as they are rendered.
pub trait Sink {
    /// Creates file `name` and lets `fill` write its bytes.
    ///
    /// # Errors
    ///
    /// The first I/O error, naming the path.
    fn file(
        &mut self,
        name: &'static str,
        fill: &mut dyn FnMut(&mut dyn Write) -> io::Result<()>,
    ) -> io::Result<()>;
}

/// Writes `rows` as CSV file [`CsvRow::FILE`] of `sink`: the header of `R`, then one line
/// per row (the same bytes as [`super::rows::to_csv_bytes`]).
///
/// # Errors
///
/// The sink's I/O error.
pub fn write_csv<R: CsvRow>(
    sink: &mut dyn Sink,
    rows: impl IntoIterator<Item = R>,
) -> io::Result<()> {
    let mut rows = Some(rows);
    sink.file(R::FILE, &mut |out| {
        let mut w = writer::<R, _>(out)?;
        for row in rows.take().into_iter().flatten() {
            w.serialize(row)?;
        }
        w.flush()
    })
}

/// Writes CSV file [`CsvRow::FILE`] of `sink`: the rows `spilled` during the run (with the
/// header; the header alone without a spill), then `rows`.
///
/// # Errors
///
/// The sink's or the spill's I/O error.
pub fn write_csv_after<R: CsvRow>(
    sink: &mut dyn Sink,
    spilled: Option<&mut CsvSpill<R>>,
    rows: impl IntoIterator<Item = R>,
) -> io::Result<()> {
    let mut spilled = spilled;
    let mut rows = Some(rows);
    sink.file(R::FILE, &mut |out| {
        match spilled.as_deref_mut() {
            Some(spill) => spill.copy_into(out)?,
            None => writer::<R, _>(&mut *out)?.flush()?,
        }
        let mut w = csv::WriterBuilder::new().has_headers(false).from_writer(out);
        for row in rows.take().into_iter().flatten() {
            w.serialize(row)?;
        }
        w.flush()
    })
}

/// Writes `bytes` as file `name` of `sink`.
///
/// # Errors
///
/// The sink's I/O error.
pub fn write_bytes(sink: &mut dyn Sink, name: &'static str, bytes: &[u8]) -> io::Result<()> {
    sink.file(name, &mut |out| out.write_all(bytes))
}

/// Keeps every file in memory, in rendering order.
#[derive(Debug, Default)]
pub struct MemorySink {
    /// (file name, bytes).
    pub files: Vec<(&'static str, Vec<u8>)>,
}

impl Sink for MemorySink {
    fn file(
        &mut self,
        name: &'static str,
        fill: &mut dyn FnMut(&mut dyn Write) -> io::Result<()>,
    ) -> io::Result<()> {
        let mut bytes = Vec::new();
        fill(&mut bytes)?;
        self.files.push((name, bytes));
        Ok(())
    }
}

/// Writes every file into a folder as it is rendered: to a temporary name, flushed to disk,
/// then renamed into place (as [`super::files::write_atomic`] does), keeping its SHA-256.
#[derive(Debug)]
pub struct FolderSink {
    dir: PathBuf,
    /// Hex SHA-256 by file name, for the manifest.
    pub digests: BTreeMap<String, String>,
}

impl FolderSink {
    /// A sink into `dir` (created if needed).
    ///
    /// # Errors
    ///
    /// The I/O error if `dir` cannot be created, naming it.
    pub fn new(dir: &Path) -> io::Result<FolderSink> {
        std::fs::create_dir_all(dir).map_err(|e| named(dir, e))?;
        Ok(FolderSink { dir: dir.to_path_buf(), digests: BTreeMap::new() })
    }
}

/// A writer that hashes what passes through it.
pub(super) struct Hashing<W> {
    inner: W,
    hasher: Sha256,
}

impl<W> Hashing<W> {
    /// Hashes what is written to `inner`.
    pub(super) fn new(inner: W) -> Hashing<W> {
        Hashing { inner, hasher: Sha256::new() }
    }

    /// The inner writer, and the hex SHA-256 of everything written through.
    pub(super) fn finish(self) -> (W, String) {
        (self.inner, super::files::hex(&self.hasher.finalize()))
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn named(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

impl Sink for FolderSink {
    fn file(
        &mut self,
        name: &'static str,
        fill: &mut dyn FnMut(&mut dyn Write) -> io::Result<()>,
    ) -> io::Result<()> {
        let path = self.dir.join(name);
        let tmp = self.dir.join(format!(".{name}.tmp.{}", std::process::id()));
        let result = (|| {
            let file = File::create(&tmp)?;
            let mut out = Hashing::new(BufWriter::new(file));
            fill(&mut out)?;
            out.flush()?;
            let (buffered, digest) = out.finish();
            let file = buffered.into_inner().map_err(io::IntoInnerError::into_error)?;
            file.sync_all()?;
            std::fs::rename(&tmp, &path)?;
            Ok(digest)
        })();
        match result {
            Ok(digest) => {
                self.digests.insert(name.to_string(), digest);
                Ok(())
            }
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                Err(named(&path, e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::files::sha256_hex;
    use crate::results::rows::{MempoolRow, Millis, to_csv_bytes};

    fn rows() -> Vec<MempoolRow> {
        (0..3)
            .map(|i| MempoolRow {
                time_ms: Millis::from_micros(i * 1_500),
                node: format!("n{i}"),
                txs: i,
                bytes: 250 * i,
            })
            .collect()
    }

    #[test]
    fn a_folder_sink_writes_the_bytes_and_digest_a_memory_render_gives() {
        let dir = std::env::temp_dir().join(format!("forksim-sink-{}", std::process::id()));
        let mut folder = FolderSink::new(&dir).unwrap();
        write_csv(&mut folder, rows()).unwrap();
        let mut memory = MemorySink::default();
        write_csv(&mut memory, rows()).unwrap();
        let expected = to_csv_bytes(rows());
        assert_eq!(memory.files, vec![("mempool.csv", expected.clone())]);
        assert_eq!(std::fs::read(dir.join("mempool.csv")).unwrap(), expected);
        assert_eq!(folder.digests["mempool.csv"], sha256_hex(&expected));
        let leftovers: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
