//! The writer of a new snapshot: new rows routed to hash partitions of the store's tables, each
//! partition merged with the old rows of the same partition (bounded memory), written as
//! Parquet in a staging folder, then committed by the snapshot's switch.

use std::fs;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use rayon::prelude::*;

use super::derived::{DeploymentIndex, with_derived_columns};
use super::derived_links::{IssueIndex, with_link_columns};
use super::merge::merge_part;
use super::parquet_file::{Dictionary, Layout, PendingFile, Written};
use super::snapshot::{current_snapshot_number, finish_snapshot, lock, remove_stale_snapshots};
use super::{
    DATA, PARTITION_SCHEME, Partitions, SNAPSHOTS, Store, TableChange, is_partitioned, parquet_name, partitioned_counts,
};
use crate::error::{Error, PolarsContext, Result};
use crate::table::schema::{self, Table};
use crate::table::{Tables, empty_frame};

/// Writes a new snapshot: rows are added a frame at a time ([`Writer::add`]), merged with the
/// store's by key ([`Writer::prepare`]) into a staging folder, which [`Prepared::commit`]
/// makes current. Dropped before that, it leaves the store as it was. Holds the store's lock.
pub struct Writer {
    root: PathBuf,
    _lock: fs::File,
    existing: Option<Tables<LazyFrame>>,
    staging: PathBuf,
    parts: usize,
    partition_rows: usize,
    /// Where the store's partitions are, when its rows are split the same way as the new ones.
    pub(super) stored: Option<Partitions>,
    /// New rows per table, in partitions (one for the small tables).
    incoming: Vec<(&'static Table, Vec<Bucket>)>,
    /// Whether the staging folder is still to be removed on drop.
    armed: bool,
    /// Told `(partitions done, partitions)` as [`Writer::prepare`] goes.
    progress: Option<Box<dyn Fn(usize, usize)>>,
}

/// Rows of one partition: in memory, or spilled to a Parquet file.
pub(super) enum Bucket {
    Memory(Vec<DataFrame>),
    Spilled(PendingFile),
}

/// The store's rows of a partitioned table, by partition.
pub(super) enum OldRows {
    /// Read, split and spilled (or kept in memory) like the new rows.
    Routed(Vec<Bucket>),
    /// Ranges of the store's file, one per partition ([`Partitions`]).
    Stored(Vec<LazyFrame>),
}

impl OldRows {
    /// The rows of partition `i`, or `None` when there are none. Rows read by range are
    /// checked to belong there: a manifest that says otherwise would make the merge keep two
    /// rows of one key.
    fn take(&mut self, i: usize, table: &Table, root: &Path) -> Result<Option<DataFrame>> {
        match self {
            OldRows::Routed(buckets) => buckets[i].take(),
            OldRows::Stored(ranges) => {
                let parts = ranges.len();
                let ctx = || format!("failed to read table `{}` from the store", table.name);
                let frame = std::mem::replace(&mut ranges[i], DataFrame::empty().lazy())
                    .collect()
                    .context(ctx)?;
                let shas = frame
                    .column(schema::commits::SHA)
                    .and_then(|c| c.str().cloned())
                    .context(ctx)?;
                let stray = shas.downcast_iter().find_map(|shas| {
                    (0..shas.len())
                        .into_par_iter()
                        .find_first(|&row| partition_of(shas.get(row), parts) != i)
                        .map(|row| shas.get(row).unwrap_or_default().to_string())
                });
                if let Some(sha) = stray {
                    return Err(Error::DamagedStore {
                        path: root.into(),
                        message: format!(
                            "the manifest's partition {i} of `{}` holds sha {sha}, which belongs in another \
                             (remove `partitions` from data/manifest.json and import again)",
                            table.name
                        ),
                    });
                }
                Ok((frame.height() > 0).then_some(frame))
            }
        }
    }
}

/// Spill files are read once, soon, by this process: no compression (LZ4 cost two
/// core-seconds of an import at 10M commits and saved nothing on the hex shas that are most of
/// the bytes: 70 MB against 73 for a million rows of `deployment_commits`), no dictionaries
/// (plain pages are written and read back faster), each frame one row group, no statistics,
/// hash or sync.
pub(super) const SPILL: Layout = Layout {
    compression: ParquetCompression::Uncompressed,
    row_group: usize::MAX,
    lasting: false,
    dictionary: Dictionary::Never,
};

impl Bucket {
    /// The `i`th of `parts` partitions of `table`: in memory when there is only one, else in a
    /// spill file of the staging folder named after `kind` (new or old rows).
    fn new(staging: &Path, kind: &str, table: &Table, i: usize, parts: usize) -> Bucket {
        if parts == 1 {
            Bucket::Memory(Vec::new())
        } else {
            let path = staging.join(format!("{kind}-{}-{i:04}.parquet", table.name));
            Bucket::Spilled(PendingFile::new(path, SPILL))
        }
    }

    fn push(&mut self, frame: DataFrame) -> Result<()> {
        match self {
            Bucket::Memory(frames) => frames.push(frame),
            Bucket::Spilled(file) => file.write(frame)?,
        }
        Ok(())
    }

    /// All the rows, or `None` when nothing was added.
    fn take(&mut self) -> Result<Option<DataFrame>> {
        match self {
            Bucket::Memory(frames) => {
                let mut frames = std::mem::take(frames).into_iter();
                let Some(mut all) = frames.next() else {
                    return Ok(None);
                };
                for f in frames {
                    all.vstack_mut(&f).context(|| "failed to gather rows".into())?;
                }
                Ok(Some(all))
            }
            Bucket::Spilled(file) => {
                if file.finish()?.is_none() {
                    return Ok(None);
                }
                let path = file.path();
                let opened = fs::File::open(path).map_err(|e| Error::io("read", path, e))?;
                let frame = ParquetReader::new(opened)
                    .finish()
                    .context(|| format!("failed to read `{}`", path.display()))?;
                let _ = fs::remove_file(path);
                Ok(Some(frame))
            }
        }
    }
}

impl Writer {
    /// Locks the store (creating it if needed) and prepares a staging folder. `big_rows`: about
    /// how many `commits` and `deployment_commits` rows will be added, to size the partitions.
    /// `lock_wait`: how long to wait for another writer to finish.
    pub fn open(root: &Path, big_rows: usize, partition_rows: usize, lock_wait: std::time::Duration) -> Result<Writer> {
        let partition_rows = partition_rows.max(1);
        fs::create_dir_all(root.join(SNAPSHOTS)).map_err(|e| Error::io("create store", root, e))?;
        let lock = lock(root, lock_wait)?;
        remove_stale_snapshots(root);
        // The current snapshot: only writers remove snapshots, and this one holds the lock.
        let current = if root.join(DATA).is_dir() {
            Some(Store::open(root)?)
        } else {
            None
        };
        let existing = current.as_ref().map(Store::tables).transpose()?;
        let (old_rows, stored) = match (&current, &existing) {
            (Some(store), Some(tables)) => {
                let counts = partitioned_counts(tables)?;
                let stored = store.partitions(&counts)?;
                (counts.iter().map(|(_, n)| n).sum(), stored)
            }
            _ => (0, None),
        };
        // The bigger of the two tables sets the count: they share the partitioning. At most
        // `partition_rows` of each (old and new) per partition.
        let rows = old_rows + big_rows;
        let needed = rows.div_ceil(2 * partition_rows).max(1);
        // The store's partitions are kept while they hold no more than that, and are not far
        // smaller: its old rows are then read by range, not read, split and spilled first (most
        // of an import of a few rows into a big store). Split anew, partitions get a quarter of
        // room to grow into, so the imports that follow keep them.
        let stored = stored.filter(|p| p.count >= needed && p.count <= 2 * needed);
        let parts = stored
            .as_ref()
            .map_or_else(|| (rows + rows / 4).div_ceil(2 * partition_rows).max(1), |p| p.count);
        let number = current_snapshot_number(root).map_or(1, |n| n + 1);
        let staging = root
            .join(SNAPSHOTS)
            .join(format!("tmp-{number:06}-{}", std::process::id()));
        fs::create_dir_all(&staging).map_err(|e| Error::io("create", &staging, e))?;
        let incoming = schema::TABLES
            .iter()
            .map(|table| {
                let n = if is_partitioned(table) { parts } else { 1 };
                let buckets = (0..n).map(|i| Bucket::new(&staging, "new", table, i, n)).collect();
                (*table, buckets)
            })
            .collect();
        Ok(Writer {
            root: root.into(),
            _lock: lock,
            existing,
            staging,
            parts,
            partition_rows,
            stored,
            incoming,
            armed: true,
            progress: None,
        })
    }

    /// Has [`Writer::prepare`] report `(partitions done, partitions)`: once the small tables
    /// are merged (none done), then as each partition is handed to the file writers.
    pub fn report_progress(&mut self, progress: impl Fn(usize, usize) + 'static) {
        self.progress = Some(Box::new(progress));
    }

    /// Adds new rows of `table` (its canonical columns, and optionally the row numbers of
    /// [`crate::table::keys::ROW`] for [`Writer::prepare`]'s key check).
    pub fn add(&mut self, table: &'static Table, frame: DataFrame) -> Result<()> {
        let Some((_, buckets)) = self.incoming.iter_mut().find(|(t, _)| t.name == table.name) else {
            return Ok(());
        };
        route(frame, table, buckets)
    }

    /// Merges the new rows into the store's, partition by partition, and writes the snapshot
    /// to the staging folder. With `check_keys`, the new rows' keys are checked as
    /// [`crate::table::keys::check_keys`] does (exact copies dropped, conflicts left out and
    /// returned with their row numbers).
    pub fn prepare(mut self, owned: &[(&'static Table, Expr)], check_keys: bool) -> Result<Prepared> {
        let mut changes = Vec::new();
        let mut problems = Vec::new();
        let mut deployments = None;
        let mut issues = None;
        let mut outputs: Vec<(&'static Table, PendingFile)> = Vec::new();
        let incoming = std::mem::take(&mut self.incoming);
        let mut incoming: Vec<(&'static Table, Vec<Bucket>, bool)> =
            incoming.into_iter().map(|(t, b)| (t, b, false)).collect();

        // Old rows of the partitioned tables go through the same partitions as the new ones:
        // read as ranges of the store's files when it is split the same way, else split here.
        let mut old_buckets: Vec<(&'static Table, OldRows)> = Vec::new();
        for table in schema::TABLES.iter().filter(|t| is_partitioned(t)) {
            let ranges = self
                .stored
                .as_ref()
                .and_then(|p| p.rows.get(table.name))
                .zip(self.existing.as_ref());
            let old = if let Some((rows, tables)) = ranges {
                let frame = canonical(tables.get(table).clone(), table);
                let mut offset = 0;
                let mut ranges = Vec::new();
                for &n in rows {
                    ranges.push(frame.clone().slice(offset as i64, n as IdxSize));
                    offset += n;
                }
                OldRows::Stored(ranges)
            } else {
                let mut buckets: Vec<Bucket> = (0..self.parts)
                    .map(|i| Bucket::new(&self.staging, "old", table, i, self.parts))
                    .collect();
                if let Some(tables) = &self.existing {
                    for_each_slice(tables.get(table).clone(), table, self.partition_rows, &mut |slice| {
                        route(slice, table, &mut buckets)
                    })?;
                }
                OldRows::Routed(buckets)
            };
            old_buckets.push((table, old));
        }

        // The small tables, whole (deployments is needed by every partition below).
        for (table, buckets, done) in &mut incoming {
            if is_partitioned(table) {
                continue;
            }
            *done = true;
            let old = match &self.existing {
                Some(tables) => canonical(tables.get(table).clone(), table)
                    .collect()
                    .context(|| format!("failed to read table `{}` from the store", table.name))?,
                None => empty_frame(table),
            };
            let new = buckets[0].take()?;
            let (frame, change, found) = merge_part(table, old, new, owned, check_keys)?;
            changes.push(change);
            problems.push((table.name, found));
            // Written now, on its own thread, while the partitions below are merged.
            let mut output = PendingFile::new(self.staging.join(parquet_name(table)), snapshot_layout());
            if table.name == schema::DEPLOYMENTS.name {
                deployments = Some(frame.clone());
            } else if table.name == schema::ISSUES.name {
                issues = Some(frame.clone());
            }
            output.write(frame)?;
            outputs.push((table, output));
        }
        let deployments = deployments.unwrap_or_else(|| empty_frame(&schema::DEPLOYMENTS));
        let deployment_index = DeploymentIndex::new(&deployments)?;
        let issues = issues.unwrap_or_else(|| empty_frame(&schema::ISSUES));
        let issue_index = IssueIndex::new(&issues)?;
        let report = |done| {
            if let Some(progress) = &self.progress {
                progress(done, self.parts);
            }
        };
        report(0);

        // The partitioned tables, one partition at a time: commits first, then the
        // deployment_commits of the same shas, whose commit times it looks up, then the
        // issue_commits of the same shas, which look up both.
        let mut totals: Vec<TableChange> = Vec::new();
        let mut partitions = Partitions {
            scheme: PARTITION_SCHEME.into(),
            count: self.parts,
            rows: std::collections::BTreeMap::new(),
        };
        let first_partitioned = outputs.len();
        for table in schema::TABLES.iter().filter(|t| is_partitioned(t)) {
            totals.push(TableChange {
                table: table.name,
                ..TableChange::default()
            });
            problems.push((table.name, crate::table::keys::Problems::default()));
            outputs.push((
                table,
                PendingFile::new(self.staging.join(parquet_name(table)), snapshot_layout()),
            ));
        }
        for i in 0..self.parts {
            let mut commits = empty_frame(&schema::COMMITS);
            // Where this partition's commits start in `commits.parquet`: the links' `commit_row`.
            let commit_offset: usize = partitions
                .rows
                .get(schema::COMMITS.name)
                .map_or(0, |rows| rows.iter().sum());
            let mut deployed = None;
            for (table_index, table) in schema::TABLES.iter().filter(|t| is_partitioned(t)).enumerate() {
                let old = old_buckets
                    .iter_mut()
                    .find(|(t, _)| t.name == table.name)
                    .map_or(Ok(None), |(_, b)| b.take(i, table, &self.root))?
                    .unwrap_or_else(|| empty_frame(table));
                let new = incoming
                    .iter_mut()
                    .find(|(t, _, _)| t.name == table.name)
                    .map_or(Ok(None), |(_, b, _)| b[i].take())?;
                let (mut frame, change, found) = merge_part(table, old, new, owned, check_keys)?;
                let total = &mut totals[table_index];
                total.added += change.added;
                total.replaced += change.replaced;
                total.unchanged += change.unchanged;
                total.removed += change.removed;
                total.total += change.total;
                if let Some((_, p)) = problems.iter_mut().find(|(n, _)| *n == table.name) {
                    p.extend(found);
                }
                if table.name == schema::COMMITS.name {
                    commits = frame.clone();
                } else if table.name == schema::DEPLOYMENT_COMMITS.name {
                    frame = with_derived_columns(&frame, &deployment_index, &commits)?;
                    deployed = Some(frame.clone());
                } else {
                    let deployed = match &deployed {
                        Some(frame) => frame.clone(),
                        None => with_derived_columns(
                            &empty_frame(&schema::DEPLOYMENT_COMMITS),
                            &deployment_index,
                            &commits,
                        )?,
                    };
                    frame = with_link_columns(
                        &frame,
                        &issue_index,
                        &deployment_index,
                        &commits,
                        commit_offset,
                        &deployed,
                    )?;
                }
                partitions
                    .rows
                    .entry(table.name.into())
                    .or_default()
                    .push(frame.height());
                outputs[first_partitioned + table_index].1.write(frame)?;
            }
            report(i + 1);
        }
        changes.extend(totals);

        let nothing_changed = self.existing.is_some()
            && changes
                .iter()
                .all(|c| c.added == 0 && c.replaced == 0 && c.removed == 0);
        let mut manifest = Vec::new();
        for (table, output) in outputs {
            manifest.push((table, finish_table(output, table)?));
        }
        // Tables in schema order in the manifest.
        manifest.sort_by_key(|(t, _)| schema::TABLES.iter().position(|x| x.name == t.name));
        changes.sort_by_key(|c| schema::TABLES.iter().position(|x| x.name == c.table));
        Ok(Prepared {
            writer: self,
            changes,
            problems,
            manifest: if nothing_changed { None } else { Some(manifest) },
            partitions: Some(partitions),
        })
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        if self.armed {
            let _ = fs::remove_dir_all(&self.staging);
        }
    }
}

/// A snapshot written to the staging folder, not yet current.
pub struct Prepared {
    writer: Writer,
    pub changes: Vec<TableChange>,
    /// Key conflicts per table (with `check_keys`).
    problems: Vec<(&'static str, crate::table::keys::Problems)>,
    /// The tables' files, or `None` when nothing changed.
    manifest: Option<Vec<(&'static Table, Written)>>,
    pub(super) partitions: Option<Partitions>,
}

impl Prepared {
    /// The key conflicts found in the new rows of `table`.
    pub fn take_problems(&mut self, table: &Table) -> crate::table::keys::Problems {
        self.problems
            .iter_mut()
            .find(|(n, _)| *n == table.name)
            .map(|(_, p)| std::mem::take(p))
            .unwrap_or_default()
    }

    /// Makes the snapshot current (nothing is written when nothing changed).
    pub fn commit(mut self) -> Result<Store> {
        let root = self.writer.root.clone();
        if let Some(tables) = self.manifest.take() {
            finish_snapshot(&root, &self.writer.staging, &tables, self.partitions.take())?;
            self.writer.armed = false;
        }
        Store::open(&root)
    }
}

/// Finishes a table's file in the snapshot; a table that got no frame (zero partitions) still
/// gets one, empty.
pub(super) fn finish_table(mut output: PendingFile, table: &Table) -> Result<Written> {
    if let Some(written) = output.finish()? {
        return Ok(written);
    }
    output.write(empty_frame(table))?;
    output.finish()?.ok_or_else(|| {
        Error::io(
            "write",
            output.path(),
            std::io::Error::other("no frame reached the writer"),
        )
    })
}

pub(super) const ROW_GROUP: usize = 512 * 512;

/// The snapshot's tables: zstd at level 1 (Polars' default level spent a seventh of an
/// import's time compressing, perf at 10M commits; level 1 is about twice as fast, and the files,
/// mostly random hex shas, barely grow), row groups of the size `ParquetWriter::finish` writes,
/// synced to disk before the snapshot becomes current.
pub(super) fn snapshot_layout() -> Layout {
    Layout {
        compression: ParquetCompression::Zstd(polars::polars_utils::compression::ZstdLevel::try_new(1).ok()),
        row_group: ROW_GROUP,
        lasting: true,
        // The shas are unique per row (`commits`) or nearly so; every other text column repeats.
        dictionary: Dictionary::Except(&[schema::commits::SHA]),
    }
}

/// Rows in a lazy frame (from the Parquet metadata, for a scan).
pub(super) fn count(frame: LazyFrame, table: &Table) -> Result<usize> {
    let df = frame
        .select([len().alias("n")])
        .collect()
        .context(|| format!("failed to read table `{}` from the store", table.name))?;
    Ok(df
        .column("n")
        .ok()
        .and_then(|c| c.get(0).ok())
        .and_then(|v| v.extract::<usize>())
        .unwrap_or(0))
}

/// Reads a table of a store a slice of rows at a time (its canonical columns), so a big table
/// never has to fit in memory at once.
pub fn for_each_slice(
    frame: LazyFrame,
    table: &Table,
    step: usize,
    f: &mut dyn FnMut(DataFrame) -> Result<()>,
) -> Result<()> {
    let frame = canonical(frame, table);
    let rows = count(frame.clone(), table)?;
    let step = step.max(1);
    let mut offset = 0;
    while offset < rows {
        let slice = frame
            .clone()
            .slice(offset as i64, step as u32)
            .collect()
            .context(|| format!("failed to read table `{}` from the store", table.name))?;
        f(slice)?;
        offset += step;
    }
    Ok(())
}

/// The canonical columns: derived ones are recomputed when the snapshot is written.
pub(super) fn canonical(frame: LazyFrame, table: &Table) -> LazyFrame {
    frame.select(table.column_names().map(col).collect::<Vec<_>>())
}

/// The partition of a row with this sha, of `count` ([`PARTITION_SCHEME`]).
pub(super) fn partition_of(sha: Option<&str>, count: usize) -> usize {
    sha.map_or(0, |s| {
        (crate::table::keys::fold_hash(s.as_bytes()) % count as u64) as usize
    })
}

/// Splits `frame` over `buckets` by a hash of the sha (one bucket: all of it).
pub(super) fn route(frame: DataFrame, table: &Table, buckets: &mut [Bucket]) -> Result<()> {
    if buckets.len() == 1 {
        return buckets[0].push(frame);
    }
    let ctx = || format!("failed to partition `{}`", table.name);
    let shas = frame
        .column(schema::commits::SHA)
        .and_then(|c| c.str().cloned())
        .context(ctx)?;
    let mut rows: Vec<Vec<IdxSize>> = vec![Vec::new(); buckets.len()];
    for (i, sha) in shas.iter().enumerate() {
        let part = partition_of(sha, buckets.len());
        rows[part].push(i as IdxSize);
    }
    for (bucket, rows) in buckets.iter_mut().zip(rows) {
        if rows.is_empty() {
            continue;
        }
        let part = frame.take(&IdxCa::from_vec(PlSmallStr::EMPTY, rows)).context(ctx)?;
        bucket.push(part)?;
    }
    Ok(())
}
