//! Any result table (a query's, or the rows behind a figure) in each output format.
//!
//! Cells are written the same way everywhere: UTC timestamps in RFC 3339, local wall-clock
//! times without an offset, dates as `YYYY-MM-DD`, lists joined with `, ` in text formats and as
//! arrays in JSON. Tables and Markdown round numbers for reading; CSV and JSON keep them whole.

use std::io::Write;

use comfy_table::{CellAlignment, Table, presets::UTF8_FULL_CONDENSED};
use polars::prelude::*;

use crate::timestamp;

/// How `dora query` and `dora explain` print rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FrameFormat {
    /// A readable table for the terminal.
    Table,
    /// Comma-separated values with a header row.
    Csv,
    /// An array of objects, one per row, keys in column order.
    Json,
    /// A Parquet file (needs `--out`).
    Parquet,
    /// A Markdown table.
    Markdown,
}

/// A cell as text; `round` keeps two decimals of floats (for people, not for machines).
pub fn cell_text(value: &AnyValue, round: bool) -> String {
    match value {
        AnyValue::Null => String::new(),
        AnyValue::Float64(x) => float_text(*x, round),
        AnyValue::Float32(x) => float_text(f64::from(*x), round),
        AnyValue::Date(days) => (chrono::NaiveDate::default() + chrono::Days::new(u64::try_from(*days).unwrap_or(0)))
            .format("%Y-%m-%d")
            .to_string(),
        AnyValue::Datetime(v, unit, tz) => datetime_text(*v, *unit, tz.is_some()),
        AnyValue::DatetimeOwned(v, unit, tz) => datetime_text(*v, *unit, tz.is_some()),
        AnyValue::List(items) => items
            .iter()
            .map(|v| cell_text(&v, round))
            .collect::<Vec<_>>()
            .join(", "),
        AnyValue::String(s) => (*s).to_string(),
        AnyValue::StringOwned(s) => s.to_string(),
        other => other.to_string(),
    }
}

fn float_text(x: f64, round: bool) -> String {
    if round {
        let text = format!("{x:.2}");
        // "12.50" -> "12.5", "3.00" -> "3": the digits that say something.
        let text = text.trim_end_matches('0').trim_end_matches('.');
        if text == "-0" { "0".into() } else { text.to_string() }
    } else {
        x.to_string()
    }
}

fn micros(v: i64, unit: TimeUnit) -> i64 {
    match unit {
        TimeUnit::Nanoseconds => v / 1000,
        TimeUnit::Microseconds => v,
        TimeUnit::Milliseconds => v.saturating_mul(1000),
    }
}

/// UTC datetimes in RFC 3339; naive ones (local wall-clock times) without an offset.
fn datetime_text(v: i64, unit: TimeUnit, zoned: bool) -> String {
    let us = micros(v, unit);
    if zoned {
        timestamp::format_utc(us)
    } else {
        timestamp::naive_from_micros(us)
            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_default()
    }
}

fn json_value(value: &AnyValue) -> serde_json::Value {
    use serde_json::Value;
    match value {
        AnyValue::Null => Value::Null,
        AnyValue::Boolean(b) => Value::Bool(*b),
        AnyValue::Int8(_)
        | AnyValue::Int16(_)
        | AnyValue::Int32(_)
        | AnyValue::Int64(_)
        | AnyValue::UInt8(_)
        | AnyValue::UInt16(_)
        | AnyValue::UInt32(_)
        | AnyValue::UInt64(_) => value.extract::<i64>().map_or(Value::Null, |n| Value::Number(n.into())),
        AnyValue::Float32(_) | AnyValue::Float64(_) => value
            .extract::<f64>()
            .and_then(serde_json::Number::from_f64)
            .map_or(Value::Null, Value::Number),
        AnyValue::List(items) => Value::Array(items.iter().map(|v| json_value(&v)).collect()),
        other => Value::String(cell_text(other, false)),
    }
}

fn rows(frame: &DataFrame) -> impl Iterator<Item = Vec<AnyValue<'_>>> {
    (0..frame.height()).map(move |row| {
        frame
            .columns()
            .iter()
            .map(|c| c.get(row).unwrap_or(AnyValue::Null))
            .collect()
    })
}

fn is_numeric(frame: &DataFrame, index: usize) -> bool {
    frame
        .columns()
        .get(index)
        .is_some_and(|c| c.dtype().is_primitive_numeric())
}

/// The terminal table of a frame, without the row count.
pub fn table(frame: &DataFrame) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(frame.get_column_names_owned().into_iter().map(|n| n.to_string()));
    for row in rows(frame) {
        t.add_row(row.iter().map(|v| cell_text(v, true)));
    }
    for i in 0..frame.width() {
        if is_numeric(frame, i)
            && let Some(c) = t.column_mut(i)
        {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    t
}

pub fn render(frame: &mut DataFrame, format: FrameFormat, out: &mut dyn Write) -> std::io::Result<()> {
    let names: Vec<String> = frame
        .get_column_names_owned()
        .into_iter()
        .map(|n| n.to_string())
        .collect();
    match format {
        FrameFormat::Table => {
            let mut t = Table::new();
            t.load_preset(UTF8_FULL_CONDENSED);
            t.set_header(names.clone());
            for row in rows(frame) {
                t.add_row(row.iter().map(|v| cell_text(v, true)));
            }
            for i in 0..names.len() {
                if is_numeric(frame, i)
                    && let Some(c) = t.column_mut(i)
                {
                    c.set_cell_alignment(CellAlignment::Right);
                }
            }
            writeln!(out, "{t}")?;
            writeln!(
                out,
                "{} row{}",
                frame.height(),
                if frame.height() == 1 { "" } else { "s" }
            )
        }
        FrameFormat::Markdown => {
            let cells = rows(frame)
                .map(|row| row.iter().map(|v| cell_text(v, true)).collect())
                .collect();
            super::markdown::aligned_table(out, names, cells, |i| is_numeric(frame, i))
        }
        FrameFormat::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(&names)?;
            for row in rows(frame) {
                w.write_record(row.iter().map(|v| cell_text(v, false)))?;
            }
            w.flush()
        }
        FrameFormat::Json => {
            writeln!(out, "[")?;
            for (n, row) in rows(frame).enumerate() {
                // An object per row with keys in column order (serde_json's map would sort them).
                let fields: Vec<String> = names
                    .iter()
                    .zip(&row)
                    .map(|(name, v)| format!("{}: {}", serde_json::Value::String(name.clone()), json_value(v)))
                    .collect();
                let comma = if n + 1 < frame.height() { "," } else { "" };
                writeln!(out, "  {{{}}}{comma}", fields.join(", "))?;
            }
            writeln!(out, "]")
        }
        FrameFormat::Parquet => ParquetWriter::new(out)
            .finish(frame)
            .map(|_| ())
            .map_err(std::io::Error::other),
    }
}
