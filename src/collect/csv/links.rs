//! Checks between the issue tables: a row of `issue_commits` must name an issue that dora
//! knows (in the same import, or already in the store). A typo in an issue id would otherwise
//! drop the link without a word.

use std::collections::HashSet;

use polars::prelude::*;

use crate::error::{PolarsContext, Result};
use crate::table::keys::{CellProblem, Problems};
use crate::table::schema::issue_commits;

/// The rows of `links` (an `issue_commits` frame) whose issue is not in `known`, by record
/// index; `rows` holds each row's record index in its file.
pub fn unknown_issues<S: std::hash::BuildHasher>(
    links: &DataFrame,
    rows: &Column,
    known: &HashSet<String, S>,
) -> Result<Problems> {
    let ctx = || "failed to check the issues of `issue_commits`".to_string();
    let ids = links
        .column(issue_commits::ISSUE_ID)
        .and_then(|c| c.str().cloned())
        .context(ctx)?;
    let rows = rows.cast(&DataType::UInt64).context(ctx)?;
    let rows = rows.u64().context(ctx)?;
    let mut problems = Problems::default();
    for (id, row) in ids.iter().zip(rows.iter()) {
        if let (Some(id), Some(row)) = (id, row)
            && !known.contains(id)
        {
            problems.rows.entry(row as usize).or_default().push(CellProblem {
                column: issue_commits::ISSUE_ID.into(),
                value: id.into(),
                reason: "no issue has this id (in `issues.csv` or the store)".into(),
                other_row: None,
            });
        }
    }
    Ok(problems)
}

/// The ids of an `issues` frame.
pub fn issue_ids<S: std::hash::BuildHasher>(issues: &DataFrame, into: &mut HashSet<String, S>) -> Result<()> {
    let ids = issues
        .column(crate::table::schema::issues::ID)
        .and_then(|c| c.str().cloned())
        .context(|| "failed to read the issue ids".into())?;
    into.extend(ids.iter().flatten().map(str::to_string));
    Ok(())
}

/// `frame` without the rows whose record index (in `rows`) has a problem.
pub fn without_rows(frame: &DataFrame, rows: &Column, problems: &Problems) -> Result<(DataFrame, Column)> {
    let ctx = || "failed to filter `issue_commits`".to_string();
    let indexes = rows.cast(&DataType::UInt64).context(ctx)?;
    let keep: BooleanChunked = indexes
        .u64()
        .context(ctx)?
        .iter()
        .map(|r| r.is_none_or(|r| !problems.rows.contains_key(&(r as usize))))
        .collect();
    let frame = frame.filter(&keep).context(ctx)?;
    let rows = rows.filter(&keep).context(ctx)?;
    Ok((frame, rows))
}
