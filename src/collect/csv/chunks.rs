//! A CSV file cut into chunks of whole records, and each chunk tokenized into its projected
//! columns: by the plain tokenizer (`plain.rs`) when the chunk is plain, by Polars' CSV reader
//! otherwise.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use polars::polars_utils::mmap::MMapSemaphore;
use polars::prelude::*;

use super::diagnosis::diagnose;
use super::plain::{Cells, Column as PlainColumn, Plain, read_plain};
use crate::error::{Error, Result};

/// A CSV file cut into chunks of whole records: each chunk ends at a line break outside quotes
/// (an even number of `"` since the chunk began), so a quoted cell spanning lines is never
/// split.
pub(super) struct Chunks {
    file: std::fs::File,
    path: PathBuf,
    size: usize,
    carry: Vec<u8>,
    eof: bool,
    served: usize,
    /// The file fits in one chunk: Polars reads it from the path (memory-mapped), which spares
    /// copying it into a buffer of fresh pages (a tenth of `--input` at 2M commits, perf).
    whole: bool,
    /// A bigger file is memory-mapped: its chunks are ranges of a mapping, not copies in fresh
    /// buffers (`read` into a new 256 MB buffer per chunk cost page faults and a copy of every
    /// byte: a tenth of an import's first phase, perf at 10M commits). Each chunk maps the file
    /// anew and unmaps it when parsed, so the pages read count in the process's memory for one
    /// chunk, not for the whole file. `false`: the file cannot be mapped (a pipe): read in copies.
    pub(super) mapped: bool,
    /// Where the next mapped chunk starts; for a file read in copies, the bytes read so far.
    offset: usize,
    length: u64,
}

/// A range of a memory-mapped file, as Polars' CSV reader takes bytes (`Cursor<impl AsRef<[u8]>>`).
pub(super) struct MappedRange {
    map: Arc<MMapSemaphore>,
    start: usize,
    end: usize,
}

impl AsRef<[u8]> for MappedRange {
    fn as_ref(&self) -> &[u8] {
        let bytes: &[u8] = self.map.as_ref().as_ref();
        &bytes[self.start..self.end]
    }
}

/// What [`Chunks`] serves.
pub(super) enum Chunk {
    /// The whole file, to be read from its path.
    File,
    Mapped(MappedRange),
    Bytes(Vec<u8>),
}

impl Chunks {
    pub(super) fn open(path: &Path, size: usize) -> Result<Self> {
        let file = std::fs::File::open(path).map_err(|e| Error::io("read", path, e))?;
        let length = file.metadata().map_err(|e| Error::io("read", path, e))?.len();
        let map = (length > 0).then(|| MMapSemaphore::new_from_file(&file).ok()).flatten();
        // A file that fits in one chunk is read from its path, unless it ends in blank lines,
        // which the range of a mapping leaves out.
        let blank_end = map
            .as_ref()
            .is_some_and(|map| records_end(map.as_ref()) < map.as_ref().len());
        let whole = length > 0 && length <= size as u64 && !blank_end;
        let mapped = !whole && map.is_some();
        Ok(Chunks {
            file,
            path: path.into(),
            size: size.max(1),
            carry: Vec::new(),
            eof: false,
            served: 0,
            whole,
            mapped,
            offset: 0,
            length,
        })
    }

    /// How many bytes of the file the chunks served so far hold.
    pub(super) fn position(&self) -> u64 {
        if self.whole {
            if self.served > 0 { self.length } else { 0 }
        } else if self.mapped {
            self.offset as u64
        } else {
            (self.offset - self.carry.len()) as u64
        }
    }

    /// Whether the chunk served last was the first (the one with the header).
    pub(super) fn first(&self) -> bool {
        self.served == 1
    }

    pub(super) fn next_chunk(&mut self) -> Result<Option<Chunk>> {
        use std::io::Read as _;
        if self.whole {
            if self.served > 0 {
                return Ok(None);
            }
            self.served = 1;
            return Ok(Some(Chunk::File));
        }
        if self.mapped {
            let map = Arc::new(MMapSemaphore::new_from_file(&self.file).map_err(|e| Error::NotCsv {
                file: self.path.clone(),
                message: format!("cannot be memory-mapped: {e}"),
            })?);
            let bytes: &[u8] = map.as_ref().as_ref();
            let limit = records_end(bytes);
            let start = self.offset;
            if start >= limit {
                self.offset = bytes.len();
                return Ok(None);
            }
            let mut end = (start + self.size).min(limit);
            loop {
                if end == limit {
                    // The last chunk: what follows is blank lines, read too.
                    self.offset = bytes.len();
                    self.served += 1;
                    return Ok(Some(Chunk::Mapped(MappedRange { map, start, end })));
                }
                if let Some(record_end) = last_record_end(&bytes[start..end]) {
                    end = start + record_end;
                    break;
                }
                // One record longer than a chunk: read on.
                end = (end + self.size).min(limit);
            }
            self.offset = end;
            self.served += 1;
            return Ok(Some(Chunk::Mapped(MappedRange { map, start, end })));
        }
        let mut buf = std::mem::take(&mut self.carry);
        loop {
            if !self.eof {
                let want = buf.len() + self.size;
                let mut limited = (&mut self.file).take(self.size as u64);
                buf.reserve(self.size);
                self.offset += limited
                    .read_to_end(&mut buf)
                    .map_err(|e| Error::io("read", &self.path, e))?;
                if buf.len() < want {
                    self.eof = true;
                }
            }
            if self.eof {
                buf.truncate(records_end(&buf));
                if buf.is_empty() {
                    return Ok(None);
                }
                self.served += 1;
                return Ok(Some(Chunk::Bytes(buf)));
            }
            if let Some(end) = last_record_end(&buf) {
                self.carry = buf.split_off(end);
                self.served += 1;
                return Ok(Some(Chunk::Bytes(buf)));
            }
            // One record longer than a chunk: read on.
        }
    }
}

/// Where a file's records end: after the line break that ends its last line with anything but
/// whitespace on it. Blank lines at the end of an export (an editor's or exporter's extra line
/// breaks) are not records; blank lines between records still are (and invalid ones).
fn records_end(bytes: &[u8]) -> usize {
    match bytes.iter().rposition(|b| !b.is_ascii_whitespace()) {
        None => 0,
        Some(last) => memchr::memchr(b'\n', &bytes[last..]).map_or(bytes.len(), |i| last + i + 1),
    }
}

/// The position after the last line break outside quotes, if any.
fn last_record_end(buf: &[u8]) -> Option<usize> {
    let mut quoted = false;
    let mut end = None;
    for i in memchr::memchr2_iter(b'"', b'\n', buf) {
        if buf[i] == b'"' {
            quoted = !quoted;
        } else if !quoted {
            end = Some(i + 1);
        }
    }
    end
}

/// The name of a text column read by Polars' reader: its index in the record.
fn raw_name(index: usize) -> String {
    format!("c{index}")
}

/// A chunk's projected columns, as read.
pub(super) enum Raw {
    /// By Polars' reader: text columns named by [`raw_name`].
    Polars(DataFrame),
    /// By the plain reader: in the projection's order, numbers already parsed.
    Plain(Plain),
}

/// One projected column of a [`Raw`] chunk.
pub(super) enum RawColumn {
    Text(StringChunked),
    /// Parsed (null where blank or bad), with the bad cells: (row in the chunk, text).
    Numbers {
        values: Int64Chunked,
        bad: Vec<(usize, String)>,
    },
}

impl Raw {
    pub(super) fn height(&self) -> usize {
        match self {
            Raw::Polars(frame) => frame.height(),
            Raw::Plain(plain) => plain.height,
        }
    }

    /// The column of the file's `index`-th cell (one of `projection`).
    pub(super) fn column(&self, index: usize, projection: &[usize]) -> PolarsResult<RawColumn> {
        match self {
            Raw::Polars(frame) => Ok(RawColumn::Text(frame.column(&raw_name(index))?.str()?.clone())),
            Raw::Plain(plain) => {
                let position = projection.iter().position(|&p| p == index);
                match position.and_then(|p| plain.columns.get(p)) {
                    Some(PlainColumn::Text(cells)) => Ok(RawColumn::Text(cells.clone())),
                    Some(PlainColumn::Numbers { values, bad }) => Ok(RawColumn::Numbers {
                        values: values.clone(),
                        bad: bad.clone(),
                    }),
                    None => Err(polars_err!(ColumnNotFound: "{}", raw_name(index))),
                }
            }
        }
    }
}

/// Reads the projected columns of one chunk: plain text (most exports) by the plain reader
/// (`plain.rs`), anything else by Polars' reader as text; on failure, finds the
/// offending line in the file.
pub(super) fn read_raw(
    path: &Path,
    chunk: Chunk,
    first: bool,
    width: usize,
    projection: &[usize],
    cells: &[Cells],
) -> Result<Raw> {
    let plain = match &chunk {
        Chunk::File => std::fs::File::open(path)
            .ok()
            .and_then(|file| MMapSemaphore::new_from_file(&file).ok())
            .and_then(|map| read_plain(map.as_ref(), first, width, projection, cells)),
        Chunk::Mapped(range) => read_plain(range.as_ref(), first, width, projection, cells),
        Chunk::Bytes(bytes) => read_plain(bytes, first, width, projection, cells),
    };
    if let Some(plain) = plain {
        return Ok(Raw::Plain(plain));
    }
    read_text_columns(path, chunk, first, width, projection).map(Raw::Polars)
}

/// Reads the projected columns of one chunk as text with Polars; on failure, finds the
/// offending line in the file.
fn read_text_columns(path: &Path, chunk: Chunk, first: bool, width: usize, projection: &[usize]) -> Result<DataFrame> {
    let schema: Schema = (0..width)
        .map(|i| Field::new(raw_name(i).into(), DataType::String))
        .collect();
    let options = CsvReadOptions::default()
        .with_has_header(false)
        .with_skip_rows(usize::from(first))
        .with_raise_if_empty(false)
        .with_schema(Some(Arc::new(schema)))
        .with_projection(Some(Arc::new(projection.to_vec())))
        .with_parse_options(CsvParseOptions::default().with_missing_is_null(true));
    let result = match chunk {
        Chunk::File => options
            .try_into_reader_with_file_path(Some(path.to_path_buf()))
            .and_then(polars::prelude::SerReader::finish),
        Chunk::Mapped(range) => options
            .into_reader_with_file_handle(std::io::Cursor::new(range))
            .finish(),
        Chunk::Bytes(bytes) => options
            .into_reader_with_file_handle(std::io::Cursor::new(bytes))
            .finish(),
    };
    match result {
        Ok(df) => Ok(df),
        Err(polars_error) => Err(diagnose(path, width).unwrap_or_else(|| Error::NotCsv {
            file: path.into(),
            message: polars_error.to_string(),
        })),
    }
}
