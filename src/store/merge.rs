//! Merging new rows into a table's old ones by key: which rows are added, replaced or kept.

use std::path::Path;

use polars::prelude::*;

use super::{TableChange, count};
use crate::error::{PolarsContext, Result};
use crate::table::schema::Table;

/// Merges one partition of new rows into the old ones: key check (when asked), then [`merge`].
pub(super) fn merge_part(
    table: &'static Table,
    old: DataFrame,
    new: Option<DataFrame>,
    owned: &[(&'static Table, Expr)],
    check_keys: bool,
) -> Result<(DataFrame, TableChange, crate::table::keys::Problems)> {
    use crate::table::keys::{ROW, check_keys as check};
    let mut problems = crate::table::keys::Problems::default();
    let owned = owned.iter().find(|(t, _)| t.name == table.name).map(|(_, e)| e.clone());
    let Some(mut new) = new else {
        // No new rows in this partition: the old ones stay, but for the writer's stale ones.
        let before = old.height();
        let frame = match owned {
            Some(owned) => old
                .lazy()
                .filter(owned.not())
                .collect()
                .context(|| format!("failed to merge table `{}`", table.name))?,
            None => old,
        };
        let change = TableChange {
            table: table.name,
            removed: before - frame.height(),
            total: frame.height(),
            ..TableChange::default()
        };
        return Ok((frame, change, problems));
    };
    if new.get_column_index(ROW).is_some() {
        if check_keys {
            let (checked, found) = check(new, table, Path::new(table.file))?;
            new = checked;
            problems = found;
        }
        new = new
            .drop(ROW)
            .context(|| format!("failed to merge table `{}`", table.name))?;
    }
    let (frame, change) = merge(table, &old, &new, owned)?;
    Ok((frame, change, problems))
}

/// Merges `new` into `old` by the table's key; a row of `new` wins over a row of `old`. Rows of
/// `old` matching `owned` that `new` does not give again are removed.
pub(super) fn merge(
    table: &'static Table,
    old: &DataFrame,
    new: &DataFrame,
    owned: Option<Expr>,
) -> Result<(DataFrame, TableChange)> {
    let ctx = || format!("failed to merge table `{}`", table.name);
    let keys: Vec<Expr> = table.key.iter().map(|k| col(*k)).collect();
    let new = new.select(table.column_names()).context(ctx)?;
    if old.height() == 0 {
        // A first import (or a new partition): nothing to match, and the joins below would
        // still hash every new key.
        let total = new.height();
        let change = TableChange {
            table: table.name,
            added: total,
            total,
            ..TableChange::default()
        };
        return Ok((new, change));
    }

    let count = |lf: LazyFrame| count(lf, table);
    // The old rows that can share a key with a new row: those whose last key column (the sha,
    // an id, a number) holds one of the new rows' values. When the new rows are few, only these
    // go through the join on the key below, which row-encodes each row it sees (a key of two
    // columns): joining all the old rows was half of an import of 10k commits into a store of
    // 20M (perf). When they are many, a first pass would sift out little.
    let old = old.with_row_index(OLD_ROW.into(), None).context(ctx)?;
    let candidates = match table.key.last() {
        Some(probe) if new.height() * 2 <= old.height() => {
            let values = new
                .column(probe)
                .context(ctx)?
                .as_materialized_series()
                .implode()
                .context(ctx)?
                .into_series();
            old.clone()
                .lazy()
                .filter(col(*probe).is_in(lit(values), true))
                .collect()
                .context(ctx)?
        }
        _ => old.clone(),
    };
    // One join on the key pairs each new row with the old row it replaces; the other columns
    // of each pair are then compared to tell a replaced row from an unchanged one. (Semi joins on
    // the key both ways and on every column cost three hash tables, one of every column
    // row-encoded: most of a re-import of 20M commits that changed nothing.)
    let pairs = candidates
        .lazy()
        .join_builder()
        .with(new.clone().lazy().with_row_index(NEW_ROW, None))
        .left_on(&keys)
        .right_on(&keys)
        .how(JoinType::Inner)
        .join_nulls(true)
        .finish()
        .select([col(OLD_ROW), col(NEW_ROW)])
        .collect()
        .context(ctx)?;
    let old_rows = pairs.column(OLD_ROW).and_then(|c| c.idx().cloned()).context(ctx)?;
    let new_rows = pairs.column(NEW_ROW).and_then(|c| c.idx().cloned()).context(ctx)?;
    // Whether each pair's old and new rows are equal in every column (nulls equal to nulls).
    let mut same = BooleanChunked::full(PlSmallStr::EMPTY, true, pairs.height());
    for name in table.column_names().filter(|c| !table.key.contains(c)) {
        let column = |frame: &DataFrame, rows: &IdxCa| {
            frame
                .column(name)
                .and_then(|c| c.take(rows))
                .map(|c| c.as_materialized_series().clone())
        };
        let equal = column(&old, &old_rows)
            .and_then(|o| column(&new, &new_rows).and_then(|n| o.equal_missing(&n)))
            .context(ctx)?;
        same = &same & &equal;
    }
    let mut keep = vec![true; old.height()];
    let mut known = vec![false; new.height()];
    let mut unchanged = vec![false; new.height()];
    for ((o, n), same) in old_rows
        .into_no_null_iter()
        .zip(new_rows.into_no_null_iter())
        .zip(same.iter())
    {
        keep[o as usize] = false;
        known[n as usize] = true;
        unchanged[n as usize] |= same == Some(true);
    }
    let known = known.iter().filter(|k| **k).count();
    let unchanged = unchanged.iter().filter(|u| **u).count();
    let old = old.drop(OLD_ROW).context(ctx)?;
    let mut kept = old
        .filter(&BooleanChunked::from_slice(PlSmallStr::EMPTY, &keep))
        .context(ctx)?
        .lazy();
    let mut removed = 0;
    if let Some(owned) = owned {
        removed = count(kept.clone().filter(owned.clone()))?;
        kept = kept.filter(owned.not());
    }
    let frame = concat([kept, new.clone().lazy()], UnionArgs::default())
        .and_then(LazyFrame::collect)
        .context(ctx)?;
    let change = TableChange {
        table: table.name,
        added: new.height() - known,
        replaced: known - unchanged,
        unchanged,
        removed,
        total: frame.height(),
    };
    Ok((frame, change))
}

/// The positions of an old and a new row in [`merge`] (no table has columns of these names).
const OLD_ROW: &str = "__dora_old_row";
const NEW_ROW: &str = "__dora_new_row";
