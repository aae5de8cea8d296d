//! Keys of the canonical tables: the fast hash that spreads shas and ids, and the check that a
//! key names one row (exact copies collapse, conflicting copies are reported).
//!
//! The CSV reader checks each file's keys, the store checks the keys of the rows an import
//! merges: both use this one check, so a conflict reads the same wherever it is found.

use std::collections::BTreeMap;
use std::path::Path;

use polars::prelude::*;
use rayon::prelude::*;

use super::schema::Table;
use crate::error::{PolarsContext, Result};

/// Strings hashed per task when a column's values are hashed on every core.
const HASH_SLICE: usize = 1 << 16;

/// Name of the column the CSV reader adds to each chunk: the record's index in the file
/// (0-based, header excluded), so problems found later (a duplicate key, by the store) can still
/// be located.
pub const ROW: &str = "__dora_row";

/// Problems found in a file, by record index.
#[derive(Debug, Default)]
pub struct Problems {
    pub(crate) rows: BTreeMap<usize, Vec<CellProblem>>,
}

impl Problems {
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn extend(&mut self, other: Problems) {
        for (row, ps) in other.rows {
            self.rows.entry(row).or_default().extend(ps);
        }
    }
}

/// A problem found before line numbers are known (rows are 0-based record indexes).
#[derive(Debug, Clone)]
pub(crate) struct CellProblem {
    pub(crate) column: String,
    pub(crate) value: String,
    pub(crate) reason: String,
    /// Another record the problem is about (the other copy of a duplicate key).
    pub(crate) other_row: Option<usize>,
}

/// Collapses exact duplicate rows and reports keys that appear with different content.
///
/// Exports often repeat a row (overlapping date ranges); that is harmless. The same key with
/// different content is a real conflict: dora cannot know which row is right, so every row of
/// such a key is reported (and, with `--skip-invalid`, left out). `frame` has the [`ROW`] column,
/// in file order; it is kept.
pub fn check_keys(frame: DataFrame, table: &Table, path: &Path) -> Result<(DataFrame, Problems)> {
    let ctx = || format!("failed to check the keys of `{}`", path.display());
    let keys: Vec<Expr> = table.key.iter().map(|k| col(*k)).collect();
    // Cheapest test first: when one key column (the sha, the id) never repeats, the whole key
    // cannot repeat either. Hashing one string column is much cheaper than a key of two.
    if let Some(last) = table.key.last()
        && frame.column(last).is_ok_and(surely_distinct)
    {
        return Ok((frame, Problems::default()));
    }
    let repeated_keys = frame
        .clone()
        .lazy()
        .group_by(keys.clone())
        .agg([len().alias("n")])
        .filter(col("n").gt(lit(1)))
        .select([len().alias("keys")])
        .collect()
        .context(ctx)?;
    if first_u64(&repeated_keys, "keys").unwrap_or(0) == 0 {
        return Ok((frame, Problems::default()));
    }

    // Exact copies of a row are dropped silently (the first is kept).
    let content: Vec<PlSmallStr> = frame
        .get_column_names_owned()
        .into_iter()
        .filter(|c| c.as_str() != ROW)
        .collect();
    let deduplicated = frame
        .lazy()
        .unique_stable(Some(cols(content)), UniqueKeepStrategy::First)
        .collect()
        .context(ctx)?;
    let key_count = len().over(keys).context(ctx)?;
    let conflicts = deduplicated
        .clone()
        .lazy()
        .filter(key_count.gt(lit(1)))
        .sort([ROW], SortMultipleOptions::default())
        .collect()
        .context(ctx)?;
    let rows = conflicts.column(ROW).and_then(|c| c.u64().cloned()).context(ctx)?;
    // Few rows conflict, so the key text is built here rather than in the plan.
    let mut by_key: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (position, row) in rows.iter().enumerate() {
        if let Some(row) = row {
            by_key
                .entry(key_text(&conflicts, table, position))
                .or_default()
                .push(row as usize);
        }
    }
    let mut problems = Problems::default();
    let mut conflicting = std::collections::HashSet::new();
    for (key, rows) in &by_key {
        for (i, &row) in rows.iter().enumerate() {
            conflicting.insert(row as u64);
            let other = if i == 0 { rows[1] } else { rows[0] };
            problems.rows.entry(row).or_default().push(CellProblem {
                column: String::new(),
                value: String::new(),
                reason: format!("the key {key} appears more than once with different content"),
                other_row: Some(other),
            });
        }
    }
    let keep: BooleanChunked = deduplicated
        .column(ROW)
        .and_then(|c| c.u64().cloned())
        .context(ctx)?
        .iter()
        .map(|r| r.is_some_and(|r| !conflicting.contains(&r)))
        .collect();
    // Conflicting rows stay out of the frame either way: without `--skip-invalid` the read fails.
    let frame = deduplicated.filter(&keep).context(ctx)?;
    Ok((frame, problems))
}

/// Whether no value of a text column repeats, proven with 64-bit hashes computed on every core:
/// all hashes distinct means all values distinct. A repeated hash (a repeated value, or a rare
/// collision) or a null proves nothing, and the caller runs the exact check. Polars'
/// `n_unique` builds one growing hash set of the strings on one core: at 2M commits it was a
/// quarter of `dora metrics --input` (perf).
/// Other columns (a pull request's number) hash cheaply: Polars counts them.
fn surely_distinct(column: &Column) -> bool {
    let Ok(values) = column.str() else {
        return column.n_unique().is_ok_and(|n| n == column.len());
    };
    if values.null_count() > 0 {
        return false;
    }
    let mut hashes: Vec<u64> = Vec::with_capacity(values.len());
    for array in values.downcast_iter() {
        hashes.par_extend(
            (0..array.len())
                .into_par_iter()
                .with_min_len(HASH_SLICE)
                .map(|i| fold_hash(array.value(i).as_bytes())),
        );
    }
    all_distinct(&hashes)
}

/// Whether 64-bit hashes are all distinct: sorted by parts on every core
/// ([`crate::slices::sort_by_top_bits`]), then compared with their neighbours.
fn all_distinct(hashes: &[u64]) -> bool {
    crate::slices::sort_by_top_bits(hashes, |h| *h)
        .windows(2)
        .all(|w| w[0] != w[1])
}

/// A fast hash of a short string (a sha, an id): spreads them evenly. It picks the partition
/// of a store's row, which its manifest records (`store::PARTITION_SCHEME`): a change to it
/// must come with a new scheme name, or imports would read old rows in the wrong partition.
pub fn fold_hash(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ bytes.len() as u64;
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        let mut word = [0u8; 8];
        word.copy_from_slice(w);
        h = (h ^ u64::from_le_bytes(word))
            .wrapping_mul(0x0100_0000_01b3)
            .rotate_left(23);
    }
    for &b in words.remainder() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    h ^ (h >> 29)
}

/// `id=d1` or `repo=acme/api, sha=abc`: the key of one row, for messages.
fn key_text(frame: &DataFrame, table: &Table, row: usize) -> String {
    table
        .key
        .iter()
        .map(|k| {
            let value = frame
                .column(k)
                .ok()
                .and_then(|c| c.get(row).ok())
                .map(|v| v.str_value().into_owned());
            format!("{k}={}", value.unwrap_or_default())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The first value of a numeric column, if any.
fn first_u64(frame: &DataFrame, column: &str) -> Option<u64> {
    frame.column(column).ok()?.get(0).ok()?.extract::<u64>()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(values: &[Option<&str>]) -> Column {
        Column::new("sha".into(), values)
    }

    #[test]
    fn distinct_values_are_proven_distinct() {
        let many: Vec<String> = (0..200_000).map(|i| format!("{i:040x}")).collect();
        let values: Vec<Option<&str>> = many.iter().map(|s| Some(s.as_str())).collect();
        assert!(surely_distinct(&text(&values)));
        assert!(surely_distinct(&text(&[])));
    }

    #[test]
    fn a_repeat_or_a_null_proves_nothing() {
        assert!(!surely_distinct(&text(&[Some("a"), Some("b"), Some("a")])));
        assert!(!surely_distinct(&text(&[Some("a"), None])));
        // Repeats in different chunks are found too.
        let mut column = text(&[Some("x"), Some("y")]);
        column.append(&text(&[Some("z"), Some("x")])).expect("same dtype");
        assert!(!surely_distinct(&column));
    }

    #[test]
    fn all_distinct_finds_a_repeat_in_any_part() {
        // Spread over every part by the top bits, and repeats within one part.
        let spread: Vec<u64> = (0..100_000u64).map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15)).collect();
        assert!(all_distinct(&spread));
        assert!(all_distinct(&[]));
        for (a, b) in [(0, 99_999), (5, 6), (40_000, 70_000)] {
            let mut repeated = spread.clone();
            repeated[b] = repeated[a];
            assert!(!all_distinct(&repeated), "{a} {b}");
        }
        // All in one part.
        assert!(all_distinct(&(0..5_000).collect::<Vec<u64>>()));
        assert!(!all_distinct(&[7, 3, 7]));
    }

    #[test]
    fn numbers_are_counted() {
        assert!(surely_distinct(&Column::new("number".into(), &[1i64, 2, 3])));
        assert!(!surely_distinct(&Column::new("number".into(), &[1i64, 2, 1])));
    }
}
