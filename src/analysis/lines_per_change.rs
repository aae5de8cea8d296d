//! Lines per change, DORA 2025's other batch size: lines added plus deleted, per pull request
//! (merged in the window) and per commit (committed in the window), where the source gives
//! both counts. A scope reports how many changes had counts, their median, and how many fall in
//! each of the survey's buckets ([`LINE_CLASSES`]).

use polars::prelude::*;

use super::batch_size::LINE_CLASSES;
use super::{Window, micros};
use crate::analysis::figures::LinesPerChange;
use crate::error::{PolarsContext, Result};
use crate::table::Tables;
use crate::table::schema::commits as c;

/// The aggregates of [`from_row`] over `lines` (null where a change has no counts).
pub fn aggregates(lines: &Expr) -> Vec<Expr> {
    let mut aggs = vec![
        lines.clone().count().cast(DataType::Int64).alias("lines_count"),
        lines
            .clone()
            .cast(DataType::Float64)
            .quantile(lit(0.5), QuantileMethod::Linear)
            .alias("lines_median"),
    ];
    for class in LINE_CLASSES {
        aggs.push(
            lines
                .clone()
                .gt_eq(lit(class.fewest))
                .and(lines.clone().lt_eq(lit(class.most)))
                .sum()
                .cast(DataType::Int64)
                .alias(format!("lines_{}", class.key)),
        );
    }
    aggs
}

/// The figures from the one row of [`aggregates`].
pub fn from_row(frame: &DataFrame) -> LinesPerChange {
    let value = |name: &str| frame.column(name).ok().and_then(|c| c.get(0).ok());
    let count = |name: &str| value(name).and_then(|v| v.extract::<u64>()).unwrap_or(0);
    LinesPerChange {
        count: count("lines_count"),
        median: value("lines_median").and_then(|v| v.extract::<f64>()),
        by_size: LINE_CLASSES
            .iter()
            .map(|class| (class.key, count(&format!("lines_{}", class.key))))
            .collect(),
    }
}

/// Lines per commit over the commits committed in the window with both counts (`collect git`
/// counts them; merges have none); `None` when no such commit.
pub fn per_commit(tables: &Tables, window: Window) -> Result<Option<LinesPerChange>> {
    let ctx = || "failed to compute the lines per commit".to_string();
    let has_counts = tables
        .commits
        .clone()
        .collect_schema()
        .is_ok_and(|s| s.contains(c::ADDITIONS) && s.contains(c::DELETIONS));
    if !has_counts {
        return Ok(None);
    }
    let committed = micros(c::COMMITTED_AT);
    let lines = col(c::ADDITIONS).cast(DataType::Int64) + col(c::DELETIONS).cast(DataType::Int64);
    // Counts first: a store whose commits have none skips every row group by its statistics.
    let frame = tables
        .commits
        .clone()
        .filter(col(c::ADDITIONS).is_not_null().and(col(c::DELETIONS).is_not_null()))
        .filter(
            committed
                .clone()
                .gt_eq(lit(window.since))
                .and(committed.lt(lit(window.until))),
        )
        .select(aggregates(&lines))
        .collect()
        .context(ctx)?;
    let figures = from_row(&frame);
    Ok((figures.count > 0).then_some(figures))
}
