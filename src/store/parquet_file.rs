//! One Parquet file of a snapshot (or a spill file), written on a thread of its own.
//!
//! Each file is written by its own thread from a short queue of frames, so its encoding and
//! compression overlap the work that produces the next frames (the CSV reading, the next
//! partition's merge). The thread encodes and compresses a frame's row groups in parallel and
//! writes them in order: Polars' `BatchedWriter` compressed every page on the thread that
//! wrote, and at the end of an import that one thread compressing the last partition was all
//! that ran (about 2 s of a 10M-commit import, perf). The pages are those Polars' writer makes,
//! with one choice it does not offer: which columns may be dictionary-encoded. It tries a
//! dictionary on every text column and gives up on the shas only after estimating their
//! distinct count, hashing every value (8% of an import at 20M commits); spill files, read back
//! once, need no dictionary at all (building them was another 6%). The file's SHA-256 (for the
//! manifest) is computed from the bytes on their way out, not by reading the file again.

use std::cell::RefCell;
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use polars::prelude::*;
use polars_parquet::write::{
    CompressedPage, DynIter, DynStreamingIterator, Encoding, FileWriter, ParquetType, Version, WriteOptions,
    array_to_columns, compress, fallible_streaming_iterator, get_dtype_encoding,
};
use rayon::prelude::*;
use sha2::{Digest as _, Sha256};

use crate::error::{Error, PolarsContext, Result};

/// Frames waiting for the writer thread: enough to keep it busy, few enough that memory stays
/// bounded (a producer that outruns the compression waits).
const QUEUE: usize = 2;

/// What a finished file is.
#[derive(Debug, Clone)]
pub struct Written {
    pub rows: usize,
    /// Hex SHA-256 of the file's bytes (empty for a file that is not `lasting`).
    pub sha256: String,
}

/// A Parquet file being written on a thread: [`ParquetFile::write`] hands it frames,
/// [`ParquetFile::finish`] waits for the footer and the sync to disk.
pub struct ParquetFile {
    path: PathBuf,
    queue: Option<SyncSender<DataFrame>>,
    thread: Option<JoinHandle<Result<Written>>>,
}

/// How a file is written.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    pub compression: ParquetCompression,
    /// Rows per row group (frames are cut to this size).
    pub row_group: usize,
    /// Whether the file is flushed to disk when finished, hashed, and has min/max statistics
    /// (a snapshot's files do; spill files are read once, soon, by the same process, and need
    /// none of it: hashing them alone was a core-second of an import at 10M commits).
    pub lasting: bool,
    pub dictionary: Dictionary,
}

/// Which columns may be dictionary-encoded.
#[derive(Debug, Clone, Copy)]
pub enum Dictionary {
    /// None: every page is plain.
    Never,
    /// Every column Polars' writer would try, except these: for them, the values are (almost)
    /// all distinct, and the attempt always ends in plain pages after costing a hash of each.
    /// A column Polars tries gets a dictionary when its estimated distinct values are at most
    /// three quarters of a row group's rows (or when the group has at most 128 rows).
    Except(&'static [&'static str]),
}

impl Dictionary {
    fn encodings(self, field: &polars::prelude::ArrowField) -> Vec<Encoding> {
        let mut encodings = get_dtype_encoding(field.dtype());
        let plain = match self {
            Dictionary::Never => true,
            Dictionary::Except(names) => names.contains(&field.name.as_str()),
        };
        if plain {
            for e in &mut encodings {
                if *e == Encoding::RleDictionary {
                    *e = Encoding::Plain;
                }
            }
        }
        encodings
    }
}

impl ParquetFile {
    /// Creates the file (an error names it at once) and starts its thread; the columns are
    /// those of `schema`.
    pub fn create(path: PathBuf, schema: &Schema, layout: Layout) -> Result<ParquetFile> {
        let file = fs::File::create(&path).map_err(|e| Error::io("create", &path, e))?;
        let (queue, frames) = sync_channel(QUEUE);
        let schema = schema.clone();
        let thread_path = path.clone();
        let thread = std::thread::Builder::new()
            .name("dora-parquet".into())
            .spawn(move || write_all(&thread_path, file, &schema, layout, &frames))
            .map_err(|e| Error::io("start a writer for", &path, e))?;
        Ok(ParquetFile {
            path,
            queue: Some(queue),
            thread: Some(thread),
        })
    }

    /// Queues `frame` (waits while the queue is full). An error of the thread is returned by
    /// the next call after it happened.
    pub fn write(&mut self, frame: DataFrame) -> Result<()> {
        let sent = self.queue.as_ref().is_some_and(|q| q.send(frame).is_ok());
        if sent {
            return Ok(());
        }
        // The thread has stopped: it failed, and says why.
        self.join().map(|_| ())
    }

    /// Waits until every queued frame, the footer and the sync are written.
    pub fn finish(mut self) -> Result<Written> {
        self.join()
    }

    fn join(&mut self) -> Result<Written> {
        self.queue = None;
        let Some(thread) = self.thread.take() else {
            return Err(Error::io(
                "write",
                &self.path,
                std::io::Error::other("the writer already stopped"),
            ));
        };
        thread.join().unwrap_or_else(|_| {
            Err(Error::io(
                "write",
                &self.path,
                std::io::Error::other("the writer thread panicked"),
            ))
        })
    }
}

/// A [`ParquetFile`] started by the first frame written to it (its columns are that frame's):
/// a partition or a table may get no rows at all.
pub struct PendingFile {
    path: PathBuf,
    layout: Layout,
    file: Option<ParquetFile>,
}

impl PendingFile {
    pub fn new(path: PathBuf, layout: Layout) -> Self {
        PendingFile {
            path,
            layout,
            file: None,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn write(&mut self, frame: DataFrame) -> Result<()> {
        let file = match &mut self.file {
            Some(file) => file,
            None => self
                .file
                .insert(ParquetFile::create(self.path.clone(), frame.schema(), self.layout)?),
        };
        file.write(frame)
    }

    /// Waits for the file to be written; `None` when no frame was written (there is no file).
    pub fn finish(&mut self) -> Result<Option<Written>> {
        self.file.take().map(ParquetFile::finish).transpose()
    }
}

impl Drop for ParquetFile {
    /// An unfinished file (an import that failed elsewhere): the thread is stopped and waited
    /// for, so nothing writes into a staging folder that is being removed.
    fn drop(&mut self) {
        self.queue = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The thread: writes every frame it receives, then the footer.
fn write_all(
    path: &Path,
    file: fs::File,
    schema: &Schema,
    layout: Layout,
    frames: &Receiver<DataFrame>,
) -> Result<Written> {
    let ctx = || format!("failed to write `{}`", path.display());
    let digest = Rc::new(RefCell::new(Sha256::new()));
    let handle = file.try_clone().map_err(|e| Error::io("write", path, e))?;
    let out = BufWriter::with_capacity(
        1 << 20,
        Hashing {
            file,
            digest: layout.lasting.then(|| Rc::clone(&digest)),
            room: disk::room(path),
        },
    );
    // What `ParquetWriter::new(..).with_compression(..)` sets, statistics off for spill files.
    let options = WriteOptions {
        statistics: if layout.lasting {
            StatisticsOptions::default()
        } else {
            StatisticsOptions::empty()
        },
        compression: layout.compression.into(),
        version: Version::V1,
        data_page_size: None,
    };
    let arrow_schema = schema.to_arrow(CompatLevel::newest());
    let encodings: Vec<Vec<Encoding>> = arrow_schema
        .iter_values()
        .map(|field| layout.dictionary.encodings(field))
        .collect();
    let mut writer = FileWriter::try_new(out, arrow_schema, options).context(ctx)?;
    let types = writer.parquet_schema().fields().to_vec();
    // Row groups encoded at once: enough to keep every core busy, and a bounded amount of
    // compressed pages waiting to be written.
    let wave = 2 * rayon::current_num_threads().max(1);
    let mut rows = 0;
    for frame in frames {
        // The encoder would write a frame of other columns without complaint: a broken file.
        if frame.schema().as_ref() != schema {
            return Err(Error::io(
                "write",
                path,
                std::io::Error::other(format!(
                    "rows with the columns {:?} do not belong in a file of {:?}",
                    frame.schema(),
                    schema
                )),
            ));
        }
        let step = layout.row_group.max(1);
        let starts: Vec<usize> = (0..frame.height()).step_by(step).collect();
        for wave in starts.chunks(wave) {
            let groups: Vec<(usize, Vec<Vec<CompressedPage>>)> = wave
                .par_iter()
                .map(|&offset| {
                    let mut group = frame.slice(offset as i64, step);
                    group.rechunk_mut();
                    let pages = encode_group(&group, &types, &encodings, options)?;
                    Ok((group.height(), pages))
                })
                .collect::<PolarsResult<_>>()
                .context(ctx)?;
            for (height, columns) in &groups {
                let row_group = DynIter::new(columns.iter().map(|pages| {
                    Ok(DynStreamingIterator::new(fallible_streaming_iterator::convert(
                        pages.iter().map(PolarsResult::Ok),
                    )))
                }));
                writer.write(*height as u64, row_group).context(ctx)?;
            }
        }
        rows += frame.height();
    }
    // Writes the footer (with the Arrow schema, as Polars' writer does) and flushes the buffer
    // into the hasher and the file.
    writer.end(None).context(ctx)?;
    let mut out = writer.into_inner();
    out.flush().map_err(|e| Error::io("write", path, e))?;
    drop(out);
    if layout.lasting {
        handle.sync_all().map_err(|e| Error::io("write", path, e))?;
    }
    let sha256 = if layout.lasting {
        crate::table::fingerprint::hex(&digest.borrow_mut().finalize_reset())
    } else {
        String::new()
    };
    Ok(Written { rows, sha256 })
}

/// One row group (a frame of one chunk per column): each column's pages, encoded and compressed,
/// the columns in parallel.
fn encode_group(
    group: &DataFrame,
    types: &[ParquetType],
    encodings: &[Vec<Encoding>],
    options: WriteOptions,
) -> PolarsResult<Vec<Vec<CompressedPage>>> {
    let Some(batch) = group.iter_chunks(CompatLevel::newest(), false).next() else {
        return Ok(Vec::new());
    };
    batch
        .columns()
        .par_iter()
        .zip(types)
        .zip(encodings)
        .map(|((array, type_), encoding)| {
            let mut pages = Vec::new();
            for column in array_to_columns(array, type_.clone(), options, encoding)? {
                for page in column {
                    pages.push(compress(page?, Vec::new(), options.compression).map_err(PolarsError::from)?);
                }
            }
            Ok(pages)
        })
        .collect()
}

/// Passes bytes to the file and, if any, to the digest.
struct Hashing {
    file: fs::File,
    digest: Option<Rc<RefCell<Sha256>>>,
    /// Bytes the disk still takes, where a test made it fill up ([`disk`]); `None` otherwise.
    room: Option<Arc<AtomicU64>>,
}

impl Write for Hashing {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Some(room) = &self.room {
            let len = buf.len() as u64;
            if room
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |r| r.checked_sub(len))
                .is_err()
            {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::StorageFull,
                    "No space left on device",
                ));
            }
        }
        let n = self.file.write(buf)?;
        if let Some(digest) = &self.digest {
            digest.borrow_mut().update(&buf[..n]);
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// A disk that fills up, for tests of what a failed write leaves: writes of files under a
/// folder fail with `StorageFull` once it has taken so many bytes. Nothing registers a folder
/// outside tests.
pub(crate) mod disk {
    use std::path::{Path, PathBuf};
    use std::sync::atomic::AtomicU64;
    use std::sync::{Arc, Mutex};

    static FULL: Mutex<Vec<(PathBuf, Arc<AtomicU64>)>> = Mutex::new(Vec::new());

    /// Files under `root` take `bytes` more bytes in all, then fail (until [`empty`]).
    #[cfg(test)]
    pub fn fill_after(root: &Path, bytes: u64) {
        if let Ok(mut full) = FULL.lock() {
            full.push((root.to_path_buf(), Arc::new(AtomicU64::new(bytes))));
        }
    }

    /// Frees the disk of `root` again.
    #[cfg(test)]
    pub fn empty(root: &Path) {
        if let Ok(mut full) = FULL.lock() {
            full.retain(|(r, _)| r != root);
        }
    }

    pub(super) fn room(path: &Path) -> Option<Arc<AtomicU64>> {
        let full = FULL.lock().ok()?;
        full.iter()
            .find(|(root, _)| path.starts_with(root))
            .map(|(_, room)| Arc::clone(room))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_every_frame_and_hashes_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        let frame = df!("a" => [1i64, 2, 3], "b" => ["x", "y", "z"]).unwrap();
        let layout = Layout {
            compression: ParquetCompression::Zstd(None),
            row_group: 2,
            lasting: true,
            dictionary: Dictionary::Except(&["b"]),
        };
        let mut file = ParquetFile::create(path.clone(), frame.schema(), layout).unwrap();
        file.write(frame.clone()).unwrap();
        file.write(frame.slice(1, 2)).unwrap();
        let written = file.finish().unwrap();
        assert_eq!(written.rows, 5);
        assert_eq!(written.sha256, crate::table::fingerprint::file_sha256(&path).unwrap());
        let back = ParquetReader::new(fs::File::open(&path).unwrap()).finish().unwrap();
        assert!(back.equals(&frame.vstack(&frame.slice(1, 2)).unwrap()));
    }

    /// Row groups are encoded in parallel, in waves, and still written in order; the columns
    /// named in `Dictionary::Except` get plain pages, the others a dictionary where Polars'
    /// writer would make one.
    #[test]
    fn row_groups_stay_in_order_and_excepted_columns_have_no_dictionary() {
        let dir = tempfile::tempdir().unwrap();
        let n = 1000;
        let frame = df!(
            "sha" => (0..n).map(|i| format!("{i:040x}")).collect::<Vec<_>>(),
            "repo" => (0..n).map(|i| format!("acme/r{}", i % 3)).collect::<Vec<_>>(),
            "at" => (0..n).map(i64::from).collect::<Vec<_>>(),
        )
        .unwrap();
        // Groups of at most 128 rows: where Polars' writer would give every column a dictionary.
        for dictionary in [Dictionary::Except(&["sha"]), Dictionary::Never] {
            let path = dir.path().join("t.parquet");
            let layout = Layout {
                compression: ParquetCompression::Zstd(None),
                row_group: 100,
                lasting: true,
                dictionary,
            };
            let mut file = ParquetFile::create(path.clone(), frame.schema(), layout).unwrap();
            file.write(frame.clone()).unwrap();
            file.write(frame.slice(10, 300)).unwrap();
            assert_eq!(file.finish().unwrap().rows, 1300);
            let back = ParquetReader::new(fs::File::open(&path).unwrap()).finish().unwrap();
            assert!(back.equals(&frame.vstack(&frame.slice(10, 300)).unwrap()));

            let metadata = polars_parquet::read::read_metadata(&mut fs::File::open(&path).unwrap()).unwrap();
            assert_eq!(metadata.row_groups.len(), 10 + 3);
            // Row groups whose column `name` has a dictionary page.
            let dictionaries = |name: &str| {
                metadata
                    .row_groups
                    .iter()
                    .filter(|group| {
                        group
                            .columns_under_root_iter(name)
                            .unwrap()
                            .all(|c| c.dictionary_page_offset().is_some())
                    })
                    .count()
            };
            assert_eq!(dictionaries("sha"), 0);
            let expected = if matches!(dictionary, Dictionary::Except(_)) {
                13
            } else {
                0
            };
            assert_eq!(dictionaries("repo"), expected);
        }
    }

    #[test]
    fn a_failed_write_is_reported_with_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        let frame = df!("a" => [1i64, 2, 3]).unwrap();
        let layout = Layout {
            compression: ParquetCompression::Uncompressed,
            row_group: 10,
            lasting: false,
            dictionary: Dictionary::Never,
        };
        let mut file = ParquetFile::create(path.clone(), frame.schema(), layout).unwrap();
        // A frame of another schema: the writer refuses it.
        let other = df!("a" => ["text"]).unwrap();
        let mut error = None;
        for _ in 0..10 {
            if let Err(e) = file.write(other.clone()) {
                error = Some(e);
                break;
            }
        }
        let error = error.unwrap_or_else(|| file.finish().map(|_| ()).unwrap_err());
        assert!(error.to_string().contains("t.parquet"), "{error}");
    }
}
