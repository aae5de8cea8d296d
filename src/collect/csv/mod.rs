//! CSV exports -> canonical tables, validated cell by cell.
//!
//! The fast path tokenizes the file on every core (`plain.rs` for plain text,
//! Polars' CSV reader for anything else; every column as text), then parses and checks each
//! canonical column. Only when something is wrong does the slow path
//! run: the `csv` crate walks the file to find the exact line of each bad record, so messages
//! point at the right line even when quoted cells span several lines.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono_tz::Tz;
use polars::prelude::*;

mod cells;
mod chunks;
mod diagnosis;
pub mod links;
pub mod mapping;
mod plain;

use crate::error::{Error, PolarsContext, Reject, Result};
use crate::table::keys::{CellProblem, Problems, ROW, check_keys};
use crate::table::schema::{self, Kind, Table};
use cells::{drop_rows, number, parse_column, parsed_numbers};
use chunks::{Chunks, RawColumn, read_raw};
use diagnosis::{csv_error, locate, open_records};
use mapping::{Mapping, TableMapping};
use plain::Cells;

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

/// One table read from a file.
#[derive(Debug)]
pub struct TableRead {
    /// The canonical schema, every column present (absent optional columns are null or default).
    pub frame: DataFrame,
    pub rejects: Vec<Reject>,
    /// Records in the file (valid or not), duplicates included.
    pub records: usize,
    /// Values of an enumerated column read as its catch-all (issue kinds read as `other`).
    pub folded: usize,
    /// The record index of each row of `frame`.
    pub rows: Column,
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
    let (mut frame, duplicates) = check_keys(frame, table, path)?;
    problems.extend(duplicates);
    let rows = frame
        .drop_in_place(ROW)
        .context(|| format!("failed to read `{}`", path.display()))?;
    let rejects = conclude(path, table, opts.skip_invalid, problems)?;
    Ok(TableRead {
        frame,
        rejects,
        records: scan.records,
        folded: scan.folded,
        rows,
    })
}

/// What [`read_chunks`] found besides the rows.
#[derive(Debug)]
pub struct ChunkedRead {
    /// Bad cells (their rows are not in the chunks).
    pub problems: Problems,
    /// Records in the file (valid or not), duplicates included.
    pub records: usize,
    /// Values read as their column's catch-all ([`TableRead::folded`]).
    pub folded: usize,
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
        let constant = mapping.constants.contains_key(column.name);
        if column.required && index.is_none() && !constant {
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
        sources.push(index.filter(|_| wanted && !constant));
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
            Kind::Text | Kind::Status | Kind::DeploymentKind | Kind::IssueKind | Kind::Percent | Kind::Boolean => {
                Cells::Text
            }
        })
        .collect();

    let mut problems = Problems::default();
    let mut records = 0usize;
    let mut folded = 0usize;
    let mut chunks = Chunks::open(path, chunk_bytes)?;
    while let Some(chunk) = chunks.next_chunk()? {
        let raw = read_raw(path, chunk, chunks.first(), header.len(), &projection, &cells)?;
        let height = raw.height();
        let mut chunk_problems = BTreeMap::new();
        let mut columns = Vec::with_capacity(table.columns.len());
        for (column, source) in table.columns.iter().zip(&sources) {
            let parsed = match source {
                None => match mapping.constants.get(column.name) {
                    Some(value) => {
                        StringChunked::full(PlSmallStr::from_static(column.name), value, height).into_series()
                    }
                    None => absent_column(column, height),
                },
                Some(index) => {
                    let source_name = &header[*index];
                    match raw.column(*index, &projection) {
                        Ok(RawColumn::Text(cells)) => parse_column(
                            column,
                            source_name,
                            &cells,
                            &mapping,
                            opts.zone,
                            &mut chunk_problems,
                            &mut folded,
                        ),
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
        check_order(&frame, table, &header, &mapping, &mut chunk_problems)?;
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
    Ok(ChunkedRead {
        problems,
        records,
        folded,
    })
}

/// Reports each row whose timestamps are out of the table's [`Table::order`] (an issue closed
/// before it was opened), on the later column.
fn check_order(
    frame: &DataFrame,
    table: &Table,
    header: &[String],
    mapping: &TableMapping,
    problems: &mut BTreeMap<usize, Vec<crate::table::keys::CellProblem>>,
) -> Result<()> {
    for order in table.order {
        let (earlier, later) = (order.earlier, order.later);
        let micros = |name: &str| -> Result<Int64Chunked> {
            let c = frame
                .column(name)
                .and_then(|c| c.as_materialized_series().to_physical_repr().i64().cloned())
                .context(|| format!("failed to check `{name}`"))?;
            Ok(c)
        };
        let (first, then) = (micros(earlier)?, micros(later)?);
        let applies: Option<BooleanChunked> = match order.when {
            None => None,
            Some((column, value)) => Some(
                frame
                    .column(column)
                    .and_then(|c| c.str().cloned())
                    .context(|| format!("failed to check `{column}`"))?
                    .equal(value),
            ),
        };
        let source = mapping.source_column(later);
        if !header.iter().any(|h| h == source) {
            continue;
        }
        for (row, (a, b)) in first.iter().zip(then.iter()).enumerate() {
            if let (Some(a), Some(b)) = (a, b)
                && b < a
                && applies.as_ref().is_none_or(|w| w.get(row).unwrap_or(false))
            {
                cells::report(
                    problems,
                    row,
                    source,
                    &crate::timestamp::format_utc(b),
                    match order.when {
                        None => format!(
                            "`{later}` is before `{earlier}` ({}; both in UTC)",
                            crate::timestamp::format_utc(a)
                        ),
                        Some((column, value)) => format!(
                            "`{later}` is before `{earlier}` ({}; both in UTC), which a row with `{column}` {value} cannot be",
                            crate::timestamp::format_utc(a)
                        ),
                    },
                );
            }
        }
    }
    Ok(())
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

/// An optional column the file does not have: its default, or nulls.
fn absent_column(column: &schema::Column, height: usize) -> Series {
    let name = PlSmallStr::from_static(column.name);
    match (column.kind, column.default) {
        (Kind::Timestamp | Kind::Integer | Kind::Percent | Kind::Boolean, _) => {
            Series::full_null(name, height, &column.kind.dtype())
        }
        (_, Some(default)) => StringChunked::full(name, default, height).into_series(),
        (_, None) => Series::full_null(name, height, &DataType::String),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chunks::Chunk;

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
