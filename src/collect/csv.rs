//! CSV exports -> canonical tables, validated cell by cell.
//!
//! The fast path tokenizes the file on every core (`src/collect/plain_csv.rs` for plain text,
//! Polars' CSV reader for anything else; every column as text), then parses and checks each
//! canonical column. Only when something is wrong does the slow path
//! run: the `csv` crate walks the file to find the exact line of each bad record, so messages
//! point at the right line even when quoted cells span several lines.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono_tz::Tz;
use polars::polars_utils::mmap::MMapSemaphore;
use polars::prelude::*;
use rayon::prelude::*;

use super::mapping::{Mapping, TableMapping};
use super::plain_csv::{Cells, Column as PlainColumn, Number, Plain, read_plain};
use crate::error::{Error, PolarsContext, Problem, Result};
use crate::table::keys::{CellProblem, Problems, ROW, check_keys};
use crate::table::schema::{self, Kind, Table};
use crate::timestamp;

/// How many problems an error message lists before it says "... and N more".
const LISTED_PROBLEMS: usize = 10;

/// How to read a CSV folder.
#[derive(Clone)]
pub struct ReadOptions<'a> {
    /// Zone of timestamps written without an offset.
    pub zone: Tz,
    pub mapping: &'a Mapping,
    /// Import the valid rows and return the invalid ones instead of failing.
    pub skip_invalid: bool,
    /// Only these optional columns, as `(table, column)`, are read; `None` reads all of them.
    /// Required columns are always read and checked. Analysis passes the columns it uses so
    /// that `--input` does not parse what it will not look at.
    pub only: Option<&'a [(&'static str, &'static str)]>,
    /// Told, after each chunk is parsed, how many bytes of the file have been read so far (the
    /// import's progress bar); the last call gives the file's length.
    pub progress: Option<&'a (dyn Fn(u64) + Sync)>,
}

/// A row that was left out, with why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    pub table: &'static str,
    pub problem: Problem,
    /// The record's cells as written in the file.
    pub record: Vec<String>,
}

/// One table read from a file.
#[derive(Debug)]
pub struct TableRead {
    /// The canonical schema, every column present (absent optional columns are null or default).
    pub frame: DataFrame,
    pub rejects: Vec<Reject>,
    /// Records in the file (valid or not), duplicates included.
    pub records: usize,
}

/// The file a table is read from in `dir`, honouring the mapping's `file` override.
pub fn table_path(dir: &Path, table: &Table, mapping: &TableMapping) -> PathBuf {
    dir.join(mapping.file.as_deref().unwrap_or(table.file))
}

/// Reads and validates one canonical table from a CSV file, into memory.
pub fn read_table(path: &Path, table: &'static Table, opts: &ReadOptions) -> Result<TableRead> {
    let mut chunks = Vec::new();
    let scan = read_chunks(path, table, opts, CHUNK_BYTES, &mut |chunk| {
        chunks.push(chunk);
        Ok(())
    })?;
    let frame = match chunks.len() {
        0 => with_row_numbers(crate::table::empty_frame(table), 0)?,
        1 => chunks.pop().unwrap_or_default(),
        _ => {
            let mut all = chunks.remove(0);
            for chunk in &chunks {
                all.vstack_mut(chunk)
                    .context(|| format!("failed to read `{}`", path.display()))?;
            }
            all
        }
    };
    let mut problems = scan.problems;
    // Rows with bad cells are out already, so a duplicate-key check does not pair a row with a
    // bad one.
    let (frame, duplicates) = check_keys(frame, table, path)?;
    problems.extend(duplicates);
    let frame = frame
        .drop(ROW)
        .context(|| format!("failed to read `{}`", path.display()))?;
    let rejects = conclude(path, table, opts.skip_invalid, problems)?;
    Ok(TableRead {
        frame,
        rejects,
        records: scan.records,
    })
}

/// What [`read_chunks`] found besides the rows.
#[derive(Debug)]
pub struct ChunkedRead {
    /// Bad cells (their rows are not in the chunks).
    pub problems: Problems,
    /// Records in the file (valid or not), duplicates included.
    pub records: usize,
}

/// Bytes of CSV parsed at a time by default, so an import's memory does not grow with the
/// file (`--csv-chunk-bytes`, hidden: tests make it tiny to put chunk boundaries everywhere).
pub const CHUNK_BYTES: usize = 256 << 20;

/// Reads and validates one canonical table from a CSV file a chunk at a time: each chunk is
/// parsed, its bad rows are left out (and recorded), and the rest, in the canonical schema plus
/// [`ROW`], is handed to `sink`. Keys are not checked across chunks: see [`check_keys`].
pub fn read_chunks(
    path: &Path,
    table: &'static Table,
    opts: &ReadOptions,
    chunk_bytes: usize,
    sink: &mut dyn FnMut(DataFrame) -> Result<()>,
) -> Result<ChunkedRead> {
    let mapping = opts.mapping.table(table);
    let header = read_header(path, table)?;

    // Where each canonical column is in the file, if it is there and wanted.
    let mut sources: Vec<Option<usize>> = Vec::with_capacity(table.columns.len());
    for column in table.columns {
        let name = mapping.source_column(column.name);
        let index = header.iter().position(|h| h == name);
        if column.required && index.is_none() {
            let column = if name == column.name {
                name.to_string()
            } else {
                format!("{name}` (mapped to `{}", column.name)
            };
            return Err(Error::MissingColumn {
                file: path.into(),
                column,
                found: header,
            });
        }
        let wanted = column.required || opts.only.is_none_or(|only| only.contains(&(table.name, column.name)));
        sources.push(index.filter(|_| wanted));
    }
    let projection: Vec<usize> = sources.iter().flatten().copied().collect();
    // How the plain reader keeps each projected column: numbers are parsed as tokenized. A file
    // column that a mapping gives to two canonical columns is kept as text (for both).
    let timestamps = |text: &str| number(Kind::Timestamp, text, opts.zone);
    let integers = |text: &str| number(Kind::Integer, text, opts.zone);
    let shared = |index: usize| projection.iter().filter(|&&p| p == index).count() > 1;
    let cells: Vec<Cells> = table
        .columns
        .iter()
        .zip(&sources)
        .filter_map(|(column, source)| source.map(|index| (column, index)))
        .map(|(column, index)| match column.kind {
            _ if shared(index) => Cells::Text,
            Kind::Timestamp => Cells::Numbers(&timestamps),
            Kind::Integer => Cells::Numbers(&integers),
            Kind::Text | Kind::Status | Kind::DeploymentKind => Cells::Text,
        })
        .collect();

    let mut problems = Problems::default();
    let mut records = 0usize;
    let mut chunks = Chunks::open(path, chunk_bytes)?;
    while let Some(chunk) = chunks.next_chunk()? {
        let raw = read_raw(path, chunk, chunks.first(), header.len(), &projection, &cells)?;
        let height = raw.height();
        let mut chunk_problems = BTreeMap::new();
        let mut columns = Vec::with_capacity(table.columns.len());
        for (column, source) in table.columns.iter().zip(&sources) {
            let parsed = match source {
                None => absent_column(column, height),
                Some(index) => {
                    let source_name = &header[*index];
                    match raw.column(*index, &projection) {
                        Ok(RawColumn::Text(cells)) => {
                            parse_column(column, source_name, &cells, &mapping, opts.zone, &mut chunk_problems)
                        }
                        Ok(RawColumn::Numbers { values, bad }) => {
                            Ok(parsed_numbers(column, source_name, values, bad, &mut chunk_problems))
                        }
                        Err(e) => Err(e),
                    }
                    .context(|| format!("failed to read `{}`", path.display()))?
                }
            };
            columns.push(parsed.with_name(PlSmallStr::from_static(column.name)).into_column());
        }
        drop(raw);
        let frame = DataFrame::new(height, columns).context(|| format!("failed to assemble `{}`", path.display()))?;
        let frame = with_row_numbers(frame, records)?;
        let frame = drop_rows(frame, &chunk_problems, path)?;
        for (row, ps) in chunk_problems {
            problems.rows.entry(records + row).or_default().extend(ps);
        }
        records += height;
        if frame.height() > 0 || records == height {
            sink(frame)?;
        }
        if let Some(progress) = opts.progress {
            progress(chunks.position());
        }
    }
    Ok(ChunkedRead { problems, records })
}

/// Adds [`ROW`]: record indexes from `first`.
fn with_row_numbers(mut frame: DataFrame, first: usize) -> Result<DataFrame> {
    let rows = UInt64Chunked::from_vec(
        PlSmallStr::from_static(ROW),
        (first as u64..(first + frame.height()) as u64).collect(),
    );
    frame.with_column(rows.into_column()).map_err(|e| Error::Polars {
        context: "failed to number rows".into(),
        source: e,
    })?;
    Ok(frame)
}

/// The end of a file's problems: an error listing the first of them, or (with
/// `--skip-invalid`) the rejected rows with their lines.
pub fn conclude(path: &Path, table: &'static Table, skip_invalid: bool, problems: Problems) -> Result<Vec<Reject>> {
    let problems = problems.rows;
    let total: usize = problems.values().map(Vec::len).sum();
    if total == 0 {
        return Ok(Vec::new());
    }
    if !skip_invalid {
        let listed: BTreeMap<usize, Vec<CellProblem>> = problems
            .into_iter()
            .scan(0usize, |n, (row, ps)| {
                let before = *n;
                *n += ps.len();
                (before < LISTED_PROBLEMS).then_some((row, ps))
            })
            .collect();
        let rejects = locate(path, table, listed)?;
        let problems = rejects.into_iter().map(|r| r.problem).take(LISTED_PROBLEMS).collect();
        return Err(Error::InvalidRows { problems, total });
    }
    // Bad rows and conflicting keys are already out of the frames.
    locate(path, table, problems)
}

/// A CSV file cut into chunks of whole records: each chunk ends at a line break outside quotes
/// (an even number of `"` since the chunk began), so a quoted cell spanning lines is never
/// split.
struct Chunks {
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
    mapped: bool,
    /// Where the next mapped chunk starts; for a file read in copies, the bytes read so far.
    offset: usize,
    length: u64,
}

/// A range of a memory-mapped file, as Polars' CSV reader takes bytes (`Cursor<impl AsRef<[u8]>>`).
struct MappedRange {
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
enum Chunk {
    /// The whole file, to be read from its path.
    File,
    Mapped(MappedRange),
    Bytes(Vec<u8>),
}

impl Chunks {
    fn open(path: &Path, size: usize) -> Result<Self> {
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
    fn position(&self) -> u64 {
        if self.whole {
            if self.served > 0 { self.length } else { 0 }
        } else if self.mapped {
            self.offset as u64
        } else {
            (self.offset - self.carry.len()) as u64
        }
    }

    /// Whether the chunk served last was the first (the one with the header).
    fn first(&self) -> bool {
        self.served == 1
    }

    fn next_chunk(&mut self) -> Result<Option<Chunk>> {
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

fn raw_name(index: usize) -> String {
    format!("c{index}")
}

/// The header row, with a UTF-8 byte order mark removed.
fn read_header(path: &Path, table: &Table) -> Result<Vec<String>> {
    let mut reader = open_records(path, false)?;
    let mut record = csv::ByteRecord::new();
    let found = reader.read_byte_record(&mut record).map_err(|e| csv_error(path, &e))?;
    if !found || record.iter().all(<[u8]>::is_empty) {
        return Err(Error::NoHeader {
            file: path.into(),
            expected: table
                .columns
                .iter()
                .filter(|c| c.required)
                .map(|c| c.name.into())
                .collect(),
        });
    }
    record
        .iter()
        .enumerate()
        .map(|(i, cell)| {
            let cell = if i == 0 {
                cell.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(cell)
            } else {
                cell
            };
            std::str::from_utf8(cell)
                .map(|s| s.trim().to_string())
                .map_err(|_| Error::NotCsv {
                    file: path.into(),
                    message: format!("line 1: header cell {} is not valid UTF-8", i + 1),
                })
        })
        .collect()
}

/// A record-by-record reader for the slow paths (header, diagnosis, line numbers). `flexible`:
/// rows with a different number of cells are read, so the caller can say what is wrong.
fn open_records(path: &Path, skip_header: bool) -> Result<csv::Reader<std::fs::File>> {
    csv::ReaderBuilder::new()
        .has_headers(skip_header)
        .flexible(true)
        .from_path(path)
        .map_err(|e| csv_error(path, &e))
}

fn csv_error(path: &Path, e: &csv::Error) -> Error {
    if let csv::ErrorKind::Io(io) = e.kind() {
        return Error::io("read", path, std::io::Error::new(io.kind(), io.to_string()));
    }
    let line = e.position().map_or(String::new(), |p| format!("line {}: ", p.line()));
    Error::NotCsv {
        file: path.into(),
        message: format!("{line}{e}"),
    }
}

/// A chunk's projected columns, as read.
enum Raw {
    /// By Polars' reader: text columns named by [`raw_name`].
    Polars(DataFrame),
    /// By the plain reader: in the projection's order, numbers already parsed.
    Plain(Plain),
}

/// One projected column of a [`Raw`] chunk.
enum RawColumn {
    Text(StringChunked),
    /// Parsed (null where blank or bad), with the bad cells: (row in the chunk, text).
    Numbers {
        values: Int64Chunked,
        bad: Vec<(usize, String)>,
    },
}

impl Raw {
    fn height(&self) -> usize {
        match self {
            Raw::Polars(frame) => frame.height(),
            Raw::Plain(plain) => plain.height,
        }
    }

    /// The column of the file's `index`-th cell (one of `projection`).
    fn column(&self, index: usize, projection: &[usize]) -> PolarsResult<RawColumn> {
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
/// (`src/collect/plain_csv.rs`), anything else by Polars' reader as text; on failure, finds the
/// offending line in the file.
fn read_raw(
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

/// Walks the file record by record to say exactly what is wrong and where.
fn diagnose(path: &Path, width: usize) -> Option<Error> {
    let mut reader = open_records(path, true).ok()?;
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => return None,
            Ok(true) => {
                let line = record.position().map_or(0, csv::Position::line);
                if record.len() > width {
                    return Some(Error::NotCsv {
                        file: path.into(),
                        message: format!("line {line} has {} cells but the header has {width}", record.len()),
                    });
                }
                if let Some(i) = record.iter().position(|cell| std::str::from_utf8(cell).is_err()) {
                    return Some(Error::NotCsv {
                        file: path.into(),
                        message: format!("line {line}, cell {}: not valid UTF-8", i + 1),
                    });
                }
            }
            Err(e) => return Some(csv_error(path, &e)),
        }
    }
}

/// An optional column the file does not have: its default, or nulls.
fn absent_column(column: &schema::Column, height: usize) -> Series {
    let name = PlSmallStr::from_static(column.name);
    match (column.kind, column.default) {
        (Kind::Timestamp | Kind::Integer, _) => Series::full_null(name, height, &column.kind.dtype()),
        (_, Some(default)) => StringChunked::full(name, default, height).into_series(),
        (_, None) => Series::full_null(name, height, &DataType::String),
    }
}

/// Rows per slice when a column is parsed in parallel.
const PARSE_SLICE: usize = 1 << 16;

/// `(offset, length)` of the slices of `rows` rows.
fn slices(rows: usize) -> Vec<(usize, usize)> {
    (0..rows)
        .step_by(PARSE_SLICE)
        .map(|offset| (offset, PARSE_SLICE.min(rows - offset)))
        .collect()
}

/// Parses one column's cells, recording a problem for each bad one.
fn parse_column(
    column: &schema::Column,
    source_name: &str,
    cells: &StringChunked,
    mapping: &TableMapping,
    zone: Tz,
    problems: &mut BTreeMap<usize, Vec<CellProblem>>,
) -> PolarsResult<Series> {
    let mut report = |row: usize, value: &str, reason: String| report(problems, row, source_name, value, reason);
    let empty = |v: Option<&str>| v.is_none_or(blank);
    let name = PlSmallStr::from_static(column.name);
    let translates = mapping.values.contains_key(column.name);

    match column.kind {
        // Timestamps and whole numbers: each non-empty cell is parsed, or reported with what
        // was expected.
        Kind::Timestamp | Kind::Integer => {
            let (values, bad) = parse_numbers(cells, column.kind, zone)?;
            Ok(parsed_numbers(column, source_name, values, bad, problems))
        }
        Kind::Status | Kind::DeploymentKind => {
            let (allowed, what): (&[&str], &str) = if column.kind == Kind::Status {
                (&schema::status::ALL, "a deployment status")
            } else {
                (&schema::kind::ALL, "a deployment kind")
            };
            let parsed: StringChunked = cells
                .iter()
                .enumerate()
                .map(|(row, v)| {
                    if empty(v) {
                        return column.default;
                    }
                    let raw = v.unwrap_or_default();
                    let value = mapping.translate(column.name, raw.trim()).to_ascii_lowercase();
                    let known = allowed.iter().find(|a| **a == value).copied();
                    if known.is_none() {
                        report(
                            row,
                            raw,
                            format!("not {what}; expected one of {} (any case)", allowed.join(", ")),
                        );
                    }
                    known
                })
                .collect();
            Ok(parsed.with_name(name).into_series())
        }
        Kind::Text => {
            let needs_rewrite = translates || column.default.is_some() || cells.iter().any(|v| v.is_some_and(blank));
            let cleaned = if needs_rewrite {
                cells
                    .iter()
                    .map(|v| match v {
                        _ if empty(v) => column.default,
                        Some(s) => Some(mapping.translate(column.name, s)),
                        None => None,
                    })
                    .collect::<StringChunked>()
            } else {
                cells.clone()
            };
            if column.required && cleaned.null_count() > 0 {
                for (row, v) in cleaned.iter().enumerate() {
                    if v.is_none() {
                        report(row, "", format!("`{source_name}` is required and empty"));
                    }
                }
            }
            Ok(cleaned.with_name(name).into_series())
        }
    }
}

/// Records a problem with a cell.
fn report(
    problems: &mut BTreeMap<usize, Vec<CellProblem>>,
    row: usize,
    source_name: &str,
    value: &str,
    reason: String,
) {
    problems.entry(row).or_default().push(CellProblem {
        column: source_name.to_string(),
        value: value.to_string(),
        reason,
        other_row: None,
    });
}

/// What a number cell (a timestamp, or a whole number) holds; a timestamp without an offset is
/// read in `zone`.
fn number(kind: Kind, text: &str, zone: Tz) -> Number {
    if blank(text) {
        return Number::Blank;
    }
    let value = if kind == Kind::Timestamp {
        timestamp::parse(text, zone)
    } else {
        text.trim().parse::<i64>().ok()
    };
    value.map_or(Number::Bad, Number::Value)
}

/// Parses a text column of numbers on every core, a slice each (the costliest step of reading
/// a file that the plain reader did not take): the values (null where blank or bad), and the
/// bad cells as (row, text).
fn parse_numbers(cells: &StringChunked, kind: Kind, zone: Tz) -> PolarsResult<(Int64Chunked, Vec<(usize, String)>)> {
    let pieces: Vec<(Int64Chunked, Vec<(usize, String)>)> = slices(cells.len())
        .into_par_iter()
        .map(|(offset, length)| {
            let mut bad = Vec::new();
            let parsed: Int64Chunked = cells
                .slice(offset as i64, length)
                .iter()
                .enumerate()
                .map(|(i, v)| match v.map(|text| (text, number(kind, text, zone))) {
                    None | Some((_, Number::Blank)) => None,
                    Some((_, Number::Value(value))) => Some(value),
                    Some((text, Number::Bad)) => {
                        bad.push((offset + i, text.to_string()));
                        None
                    }
                })
                .collect();
            (parsed, bad)
        })
        .collect();
    let mut values = Int64Chunked::full_null(PlSmallStr::EMPTY, 0);
    let mut all_bad = Vec::new();
    for (piece, bad) in pieces {
        values.append_owned(piece)?;
        all_bad.extend(bad);
    }
    Ok((values, all_bad))
}

/// A parsed number column (`values` null where a cell is blank or bad; `bad`: (row, text) in
/// row order) with its problems recorded: each bad cell, and each blank one if the column is
/// required. Timestamps become UTC microseconds.
fn parsed_numbers(
    column: &schema::Column,
    source_name: &str,
    values: Int64Chunked,
    bad: Vec<(usize, String)>,
    problems: &mut BTreeMap<usize, Vec<CellProblem>>,
) -> Series {
    if column.required && values.null_count() > bad.len() {
        let mut bad_rows = bad.iter().map(|(row, _)| *row).peekable();
        for (row, value) in values.iter().enumerate() {
            if value.is_some() {
                continue;
            }
            if bad_rows.peek() == Some(&row) {
                bad_rows.next();
            } else {
                report(
                    problems,
                    row,
                    source_name,
                    "",
                    format!("`{source_name}` is required and empty"),
                );
            }
        }
    }
    let expected = if column.kind == Kind::Timestamp {
        format!("not a timestamp; expected {}", timestamp::EXPECTED)
    } else {
        "not a whole number".to_string()
    };
    for (row, text) in bad {
        report(problems, row, source_name, &text, expected.clone());
    }
    let values = values.with_name(PlSmallStr::from_static(column.name));
    if column.kind == Kind::Timestamp {
        values
            .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
            .into_series()
    } else {
        values.into_series()
    }
}

/// Whether a cell is empty or only whitespace (as `str::trim` sees it), without trimming the
/// usual cell, which starts with an ASCII character that is not whitespace: millions of cells
/// per file are checked.
fn blank(cell: &str) -> bool {
    match cell.as_bytes().first() {
        None => true,
        Some(&b) if b.is_ascii() && !char::from(b).is_whitespace() => false,
        Some(_) => cell.trim().is_empty(),
    }
}

/// Removes the rows that have problems (`problems` is by row of `frame`).
fn drop_rows(frame: DataFrame, problems: &BTreeMap<usize, Vec<CellProblem>>, path: &Path) -> Result<DataFrame> {
    if problems.is_empty() {
        return Ok(frame);
    }
    let keep: BooleanChunked = (0..frame.height()).map(|r| !problems.contains_key(&r)).collect();
    frame
        .filter(&keep)
        .context(|| format!("failed to filter `{}`", path.display()))
}

/// Turns record indexes into line numbers and raw records, with one pass over the file.
fn locate(path: &Path, table: &'static Table, problems: BTreeMap<usize, Vec<CellProblem>>) -> Result<Vec<Reject>> {
    let mut wanted: std::collections::BTreeSet<usize> = problems.keys().copied().collect();
    wanted.extend(problems.values().flatten().filter_map(|p| p.other_row));
    let mut found: std::collections::HashMap<usize, (u64, Vec<String>)> = std::collections::HashMap::new();
    let mut reader = open_records(path, true)?;
    let mut record = csv::ByteRecord::new();
    let mut pending = wanted.iter().copied().peekable();
    let mut index = 0usize;
    while let Some(&row) = pending.peek() {
        if !reader.read_byte_record(&mut record).map_err(|e| csv_error(path, &e))? {
            break;
        }
        if index == row {
            pending.next();
            let line = record.position().map_or(index as u64 + 2, csv::Position::line);
            let cells = record.iter().map(|c| String::from_utf8_lossy(c).into_owned()).collect();
            found.insert(row, (line, cells));
        }
        index += 1;
    }
    let line_of = |row: usize| found.get(&row).map_or(row as u64 + 2, |(line, _)| *line);
    let mut out = Vec::new();
    for (row, cell_problems) in problems {
        let record = found.get(&row).map(|(_, cells)| cells.clone()).unwrap_or_default();
        for p in cell_problems {
            let reason = match p.other_row {
                Some(other) => format!("{} (also on line {})", p.reason, line_of(other)),
                None => p.reason,
            };
            out.push(Reject {
                table: table.name,
                problem: Problem {
                    file: path.into(),
                    line: line_of(row),
                    column: p.column,
                    value: p.value,
                    reason,
                },
                record: record.clone(),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_cells_are_what_trim_empties() {
        for cell in ["", " ", "\t\n", "\u{a0}", "\u{b}", " \u{2003} "] {
            assert!(blank(cell), "{cell:?}");
        }
        for cell in ["a", " a", "\u{a0}x", "é", "0", "-"] {
            assert!(!blank(cell), "{cell:?}");
        }
    }

    /// The same file read by the plain reader and (its header's first cell quoted, which only
    /// Polars' reader takes) by Polars: the same rows, and the same problems on the same lines.
    #[test]
    fn the_plain_reader_reads_as_polars_does() {
        use proptest::prelude::*;
        let timestamp = prop_oneof![
            Just("2026-03-01T14:05:00Z".to_string()),
            Just("2026-03-01T14:05:00.5+01:00".to_string()),
            Just("2026-03-01 09:00:00".to_string()),
            Just(String::new()),
            Just("  ".to_string()),
            Just("yesterday".to_string()),
            Just("2026-02-30".to_string()),
        ];
        let row = (0u8..4, 0u16..40, timestamp.clone(), timestamp);
        let strategy = (proptest::collection::vec(row, 0..60), 1usize..400, any::<bool>());
        let dir = tempfile::tempdir().expect("temp dir");
        let mapping = Mapping::default();
        proptest!(|((rows, chunk_bytes, crlf) in strategy)| {
            let end = if crlf { "\r\n" } else { "\n" };
            let mut body = String::new();
            for (repo, sha, committed, authored) in &rows {
                let repo = if *repo == 0 { String::new() } else { format!("acme/r{repo}") };
                let line = format!("{repo},{sha:040x},{committed},{authored}{end}");
                body.push_str(&line);
            }
            let plain = dir.path().join("plain.csv");
            let quoted = dir.path().join("quoted.csv");
            std::fs::write(&plain, format!("repo,sha,committed_at,authored_at{end}{body}")).expect("write");
            std::fs::write(&quoted, format!("\"repo\",sha,committed_at,authored_at{end}{body}")).expect("write");
            let options = ReadOptions { zone: chrono_tz::Europe::Paris, mapping: &mapping, skip_invalid: true, only: None, progress: None };
            let read = |path: &Path| {
                let mut chunks = Vec::new();
                let scan = read_chunks(path, &schema::COMMITS, &options, chunk_bytes, &mut |chunk| {
                    chunks.push(chunk);
                    Ok(())
                })
                .expect("read");
                let rejects = conclude(path, &schema::COMMITS, true, scan.problems).expect("rejects");
                let rejects: Vec<(u64, String, String, String)> = rejects
                    .into_iter()
                    .map(|r| (r.problem.line, r.problem.column, r.problem.value, r.problem.reason))
                    .collect();
                (chunks, rejects, scan.records)
            };
            let (plain_chunks, plain_rejects, plain_records) = read(&plain);
            let (polars_chunks, polars_rejects, polars_records) = read(&quoted);
            prop_assert_eq!(plain_records, polars_records);
            prop_assert_eq!(plain_rejects, polars_rejects);
            // The quoted header moves the chunks' bounds: the rows are compared all together.
            let all = |chunks: Vec<DataFrame>| {
                chunks.into_iter().reduce(|mut all, chunk| {
                    all.vstack_mut(&chunk).expect("same columns");
                    all
                })
            };
            match (all(plain_chunks), all(polars_chunks)) {
                (Some(a), Some(b)) => prop_assert!(a.equals_missing(&b), "{}\n{}", a, b),
                (a, b) => prop_assert!(a.is_none() && b.is_none()),
            }
        });
    }

    /// The import's progress bar is told how far into a file the chunks read: always forward,
    /// ending at the file's length (past its blank lines at the end, which are not served),
    /// whether the file is mapped, read in copies (a pipe) or whole.
    #[test]
    fn chunks_report_how_far_they_read() {
        use std::fmt::Write as _;
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("commits.csv");
        let mut text = String::from("repo,sha,committed_at,authored_at\n");
        for i in 0..200 {
            let _ = writeln!(text, "acme/api,{i:040x},2026-03-01T14:05:00Z,");
        }
        text.push_str("\n\n");
        std::fs::write(&path, &text).expect("write");
        let length = text.len() as u64;
        for (chunk_bytes, mapped) in [(700, true), (700, false), (1 << 20, true)] {
            let mut chunks = Chunks::open(&path, chunk_bytes).expect("open");
            if !mapped {
                chunks.mapped = false;
            }
            let mut seen = vec![chunks.position()];
            let mut served = 0;
            while let Some(chunk) = chunks.next_chunk().expect("chunk") {
                seen.push(chunks.position());
                served += match chunk {
                    Chunk::File => text.len(),
                    Chunk::Mapped(range) => range.as_ref().len(),
                    Chunk::Bytes(bytes) => bytes.len(),
                };
            }
            // The blank lines at the end are read past, not served.
            assert_eq!(served, text.trim_end().len() + 1, "{chunk_bytes} {mapped}");
            assert!(seen.windows(2).all(|w| w[0] < w[1]), "{chunk_bytes} {mapped}: {seen:?}");
            assert_eq!(
                (seen[0], *seen.last().unwrap()),
                (0, length),
                "{chunk_bytes} {mapped}: {seen:?}"
            );
            assert!(seen.len() > if chunk_bytes == 700 { 10 } else { 1 }, "{seen:?}");
        }

        let mapping = Mapping::default();
        let reports = std::sync::Mutex::new(Vec::new());
        let report = |bytes| reports.lock().unwrap().push(bytes);
        let options = ReadOptions {
            zone: chrono_tz::UTC,
            mapping: &mapping,
            skip_invalid: false,
            only: None,
            progress: Some(&report),
        };
        let read = read_chunks(&path, &schema::COMMITS, &options, 700, &mut |_| Ok(())).expect("read");
        assert_eq!((read.records, read.problems.rows.len()), (200, 0));
        let reports = reports.into_inner().unwrap();
        assert!(
            reports.len() > 10 && reports.windows(2).all(|w| w[0] < w[1]),
            "{reports:?}"
        );
        assert_eq!(reports.last(), Some(&length));
    }

    /// Blank lines at the end of a file are not records, however the file is read (whole,
    /// mapped in chunks, or in copies) and whichever reader parses it; a blank line between
    /// records still is, an invalid one, with its line number.
    #[test]
    fn blank_lines_at_the_end_are_not_records() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mapping = Mapping::default();
        let options = ReadOptions {
            zone: chrono_tz::UTC,
            mapping: &mapping,
            skip_invalid: true,
            only: None,
            progress: None,
        };
        let header = "id,repo,deployed_at,status";
        let rows = "d1,acme/api,2026-03-01T14:05:00Z,success\nd2,\"acme/api\",2026-03-02T14:05:00Z,failure";
        for (name, text, records, rejected_lines) in [
            ("lf.csv", format!("{header}\n{rows}\n\n\n"), 2, vec![]),
            (
                "crlf.csv",
                format!("{header}\r\n{}\r\n\r\n  \r\n", rows.replace('\n', "\r\n")),
                2,
                vec![],
            ),
            ("no-final-break.csv", format!("{header}\n{rows}"), 2, vec![]),
            ("header-only.csv", format!("{header}\n\n"), 0, vec![]),
            (
                "inside.csv",
                format!(
                    "{header}\nd1,acme/api,2026-03-01T14:05:00Z,success\n\n{}\n\n",
                    &rows[41..]
                ),
                3,
                vec![3],
            ),
        ] {
            let path = dir.path().join(name);
            std::fs::write(&path, &text).expect("write");
            for chunk_bytes in [1 << 20, 16, 50] {
                let mut frames = Vec::new();
                let read = read_chunks(&path, &schema::DEPLOYMENTS, &options, chunk_bytes, &mut |f| {
                    frames.push(f);
                    Ok(())
                })
                .expect("read");
                let rows: usize = frames.iter().map(DataFrame::height).sum();
                let rejects = conclude(&path, &schema::DEPLOYMENTS, true, read.problems).expect("rejects");
                let mut lines: Vec<u64> = rejects.iter().map(|r| r.problem.line).collect();
                lines.dedup();
                assert_eq!(
                    (read.records, lines),
                    (records, rejected_lines.clone()),
                    "{name}, {chunk_bytes}"
                );
                assert_eq!(rows, 2.min(records), "{name}, {chunk_bytes}");
            }
        }
    }

    /// A file column mapped to two canonical columns, one text and one timestamp: each gets
    /// the cells as its kind reads them.
    #[test]
    fn a_column_mapped_twice_is_read_as_each_kind() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("deployments.csv");
        let text = "id,when,repo\nd1,2026-03-01T14:05:00Z,acme/api\nd2,2026-03-02T00:00:00Z,acme/api\n";
        std::fs::write(&path, text).expect("write");
        // `deployed_at` comes before `service` in the table: the shared column's first reader
        // is the timestamp.
        let mapping = Mapping::parse(
            "[deployments]\ncolumns = { deployed_at = \"when\", service = \"when\" }\n",
            Path::new("mapping.toml"),
        )
        .expect("mapping");
        let options = ReadOptions {
            zone: chrono_tz::UTC,
            mapping: &mapping,
            skip_invalid: false,
            only: None,
            progress: None,
        };
        let read = read_table(&path, &schema::DEPLOYMENTS, &options).expect("read");
        let services = read.frame.column("service").expect("service").str().expect("text");
        let services: Vec<Option<&str>> = services.iter().collect();
        assert_eq!(services, [Some("2026-03-01T14:05:00Z"), Some("2026-03-02T00:00:00Z")]);
        let deployed = read.frame.column("deployed_at").expect("deployed_at");
        let deployed = deployed.as_materialized_series().to_physical_repr();
        assert_eq!(deployed.i64().expect("micros").get(0), Some(1_772_373_900_000_000));
    }
}
