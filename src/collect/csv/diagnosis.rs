//! The slow path: the `csv` crate walks the file record by record to say exactly what is wrong
//! and on which line, even when quoted cells span several lines.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::Reject;
use crate::error::{Error, Problem, Result};
use crate::table::keys::CellProblem;
use crate::table::schema::Table;

/// A record-by-record reader for the slow paths (header, diagnosis, line numbers). `flexible`:
/// rows with a different number of cells are read, so the caller can say what is wrong.
pub(super) fn open_records(path: &Path, skip_header: bool) -> Result<csv::Reader<std::fs::File>> {
    csv::ReaderBuilder::new()
        .has_headers(skip_header)
        .flexible(true)
        .from_path(path)
        .map_err(|e| csv_error(path, &e))
}

pub(super) fn csv_error(path: &Path, e: &csv::Error) -> Error {
    if let csv::ErrorKind::Io(io) = e.kind() {
        return Error::io("read", path, std::io::Error::new(io.kind(), io.to_string()));
    }
    let line = e.position().map_or(String::new(), |p| format!("line {}: ", p.line()));
    Error::NotCsv {
        file: path.into(),
        message: format!("{line}{e}"),
    }
}

/// Walks the file record by record to say exactly what is wrong and where.
pub(super) fn diagnose(path: &Path, width: usize) -> Option<Error> {
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

/// Turns record indexes into line numbers and raw records, with one pass over the file.
pub(super) fn locate(
    path: &Path,
    table: &'static Table,
    problems: BTreeMap<usize, Vec<CellProblem>>,
) -> Result<Vec<Reject>> {
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
