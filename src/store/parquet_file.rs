//! One Parquet file of a snapshot (or a spill file), written on a thread of its own.
//!
//! Polars encodes a batch's columns in parallel, but compresses the pages on the thread that
//! calls `write_batch`. During an import that was the main thread, which meanwhile neither
//! parsed the next CSV chunk nor merged the next partition: at 10M commits, LZ4 of the spill
//! files and zstd of the snapshot were ~5 core-seconds on one core while the other idled (perf).
//! Here each file is written by its own thread from a short queue of frames, so compression
//! overlaps the work that produces the next frames. The file's SHA-256 (for the manifest) is
//! computed from the bytes on their way out, not by reading the file again.

use std::cell::RefCell;
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use polars::prelude::*;
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
        },
    );
    let mut writer = ParquetWriter::new(out).with_compression(layout.compression);
    if !layout.lasting {
        writer = writer.with_statistics(StatisticsOptions {
            min_value: false,
            max_value: false,
            distinct_count: false,
            null_count: false,
            binary_statistics_truncate_length: None,
        });
    }
    let mut writer = writer.batched(schema).context(ctx)?;
    let mut rows = 0;
    for frame in frames {
        // Polars accepts a frame of other columns without complaint when no statistics are written.
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
        let mut offset = 0;
        while offset < frame.height() {
            let mut group = frame.slice(offset as i64, step);
            group.rechunk_mut();
            writer.write_batch(&group).context(ctx)?;
            offset += step;
        }
        rows += frame.height();
    }
    // Writes the footer and flushes the buffer into the hasher and the file.
    writer.finish().context(ctx)?;
    drop(writer);
    if layout.lasting {
        handle.sync_all().map_err(|e| Error::io("write", path, e))?;
    }
    let sha256 = if layout.lasting {
        crate::collect::fingerprint::hex(&digest.borrow_mut().finalize_reset())
    } else {
        String::new()
    };
    Ok(Written { rows, sha256 })
}

/// Passes bytes to the file and, if any, to the digest.
struct Hashing {
    file: fs::File,
    digest: Option<Rc<RefCell<Sha256>>>,
}

impl Write for Hashing {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
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
        };
        let mut file = ParquetFile::create(path.clone(), frame.schema(), layout).unwrap();
        file.write(frame.clone()).unwrap();
        file.write(frame.slice(1, 2)).unwrap();
        let written = file.finish().unwrap();
        assert_eq!(written.rows, 5);
        assert_eq!(written.sha256, crate::collect::fingerprint::file_sha256(&path).unwrap());
        let back = ParquetReader::new(fs::File::open(&path).unwrap()).finish().unwrap();
        assert!(back.equals(&frame.vstack(&frame.slice(1, 2)).unwrap()));
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
