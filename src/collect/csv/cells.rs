//! Each canonical column's cells parsed and checked, in parallel slices: numbers, timestamps
//! and enums; the problems found, by record index.

use std::collections::BTreeMap;
use std::path::Path;

use chrono_tz::Tz;
use polars::prelude::*;
use rayon::prelude::*;

use super::mapping::TableMapping;
use super::plain::Number;
use crate::error::{PolarsContext, Result};
use crate::table::keys::CellProblem;
use crate::table::schema::{self, Kind};
use crate::timestamp;

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
pub(super) fn parse_column(
    column: &schema::Column,
    source_name: &str,
    cells: &StringChunked,
    mapping: &TableMapping,
    zone: Tz,
    problems: &mut BTreeMap<usize, Vec<CellProblem>>,
    folded: &mut usize,
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
        // Not an error: trackers have more kinds than dora tells apart. The import summary
        // counts the values read as `other`.
        Kind::IssueKind => {
            let parsed: StringChunked = cells
                .iter()
                .map(|v| {
                    if empty(v) {
                        return column.default;
                    }
                    let value = mapping
                        .translate(column.name, v.unwrap_or_default().trim())
                        .to_ascii_lowercase();
                    let known = schema::issue_kind::ALL.iter().find(|a| **a == value).copied();
                    if known.is_none() {
                        *folded += 1;
                    }
                    Some(known.unwrap_or(schema::issue_kind::OTHER))
                })
                .collect();
            Ok(parsed.with_name(name).into_series())
        }
        Kind::Percent => {
            let parsed: Float64Chunked = cells
                .iter()
                .enumerate()
                .map(|(row, v)| {
                    if empty(v) {
                        return None;
                    }
                    let raw = v.unwrap_or_default();
                    let value = raw.trim().trim_end_matches('%').trim().parse::<f64>().ok();
                    match value {
                        Some(x) if (0.0..=100.0).contains(&x) => Some(x),
                        _ => {
                            report(row, raw, "not a percentage from 0 to 100".into());
                            None
                        }
                    }
                })
                .collect();
            Ok(parsed.with_name(name).into_series())
        }
        Kind::Boolean => {
            let parsed: BooleanChunked = cells
                .iter()
                .enumerate()
                .map(|(row, v)| {
                    if empty(v) {
                        return None;
                    }
                    let raw = v.unwrap_or_default();
                    let value = mapping.translate(column.name, raw.trim());
                    let truth = |words: [&str; 3]| words.iter().any(|w| value.eq_ignore_ascii_case(w));
                    if truth(["true", "yes", "1"]) {
                        Some(true)
                    } else if truth(["false", "no", "0"]) {
                        Some(false)
                    } else {
                        report(
                            row,
                            raw,
                            "not true or false; expected true, false, yes, no, 1 or 0 (any case)".into(),
                        );
                        None
                    }
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
pub(super) fn report(
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
pub(super) fn number(kind: Kind, text: &str, zone: Tz) -> Number {
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
pub(super) fn parsed_numbers(
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
pub(super) fn blank(cell: &str) -> bool {
    match cell.as_bytes().first() {
        None => true,
        Some(&b) if b.is_ascii() && !char::from(b).is_whitespace() => false,
        Some(_) => cell.trim().is_empty(),
    }
}

/// Removes the rows that have problems (`problems` is by row of `frame`).
pub(super) fn drop_rows(
    frame: DataFrame,
    problems: &BTreeMap<usize, Vec<CellProblem>>,
    path: &Path,
) -> Result<DataFrame> {
    if problems.is_empty() {
        return Ok(frame);
    }
    let keep: BooleanChunked = (0..frame.height()).map(|r| !problems.contains_key(&r)).collect();
    frame
        .filter(&keep)
        .context(|| format!("failed to filter `{}`", path.display()))
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
}
