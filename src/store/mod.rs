//! The local store: the canonical tables as Parquet files, replaced atomically.
//!
//! Layout (a stable format; see docs/store.md):
//!
//! ```text
//! .dora/
//!   data -> snapshots/000003      symlink to the current snapshot
//!   snapshots/000003/deployments.parquet, commits.parquet, deployment_commits.parquet,
//!                    incidents.parquet, manifest.json
//!   lock                          held while an import writes
//! ```
//!
//! An import writes a complete new snapshot next to the current one and then switches the
//! `data` link with one `rename`, which is atomic: a reader, or an import killed at any point,
//! sees either the old snapshot or the new one, never a mix.

use std::fs;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use rayon::prelude::*;
use serde::Serialize;

use crate::error::{Error, PolarsContext, Result};
use crate::table::schema::{self, Table};
use crate::table::{Tables, empty_frame};

mod derived;
mod merge;
mod parquet_file;
mod snapshot;

use merge::merge_part;
use snapshot::{current_snapshot_number, finish_snapshot, lock, remove_stale_snapshots};

pub use derived::{DERIVED_COMMITTED_AT, DERIVED_DEPLOYMENT_ROW};
use derived::{DeploymentIndex, with_derived_columns};

use parquet_file::{Dictionary, Layout, PendingFile, Written};

/// Version of the on-disk layout, written to every manifest.
pub const FORMAT_VERSION: u32 = 1;

const DATA: &str = "data";
const SNAPSHOTS: &str = "snapshots";
const LOCK: &str = "lock";

/// An existing store.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

/// What an upsert did to one table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TableChange {
    pub table: &'static str,
    /// Rows whose key was not in the store.
    pub added: usize,
    /// Rows whose key was in the store with other content.
    pub replaced: usize,
    /// Rows already in the store exactly as given.
    pub unchanged: usize,
    /// Rows of the store that the writer owned and did not give again (a deleted tag, say).
    pub removed: usize,
    /// Rows in the table afterwards.
    pub total: usize,
}

#[derive(Serialize)]
struct Manifest<'a> {
    format: &'static str,
    format_version: u32,
    dora_version: &'static str,
    tables: Vec<ManifestTable<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    partitions: Option<Partitions>,
}

/// Where each partition's rows are in the files of `commits` and `deployment_commits` (how a
/// snapshot was written, not part of the format: readers ignore it). The next import that
/// splits the rows the same way reads the old rows of partition `i` as one range of its file,
/// instead of reading, splitting and spilling them all first.
#[derive(Serialize, serde::Deserialize)]
struct Partitions {
    /// How a row's partition was chosen: [`PARTITION_SCHEME`].
    scheme: String,
    count: usize,
    /// Per table, the rows of each partition, in file order.
    rows: std::collections::BTreeMap<String, Vec<usize>>,
}

/// `fold_hash` of the sha (`crate::table::keys::fold_hash`) modulo the number of partitions.
const PARTITION_SCHEME: &str = "fold_hash(sha) % count";

#[derive(Serialize)]
struct ManifestTable<'a> {
    name: &'a str,
    file: String,
    rows: usize,
    /// SHA-256 of the Parquet file, for the fingerprint of results computed from the store.
    sha256: String,
}

/// The parts of a manifest that readers use.
#[derive(serde::Deserialize)]
struct ManifestRead {
    tables: Vec<ManifestTableRead>,
    #[serde(default)]
    partitions: Option<Partitions>,
}

#[derive(serde::Deserialize)]
struct ManifestTableRead {
    name: String,
    file: String,
    sha256: Option<String>,
}

impl Store {
    /// Opens the store at `root`; fails with a hint when there is none.
    pub fn open(root: &Path) -> Result<Self> {
        if !root.join(DATA).is_dir() {
            return Err(Error::NoStore { path: root.into() });
        }
        Ok(Store { root: root.into() })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Path of a table's Parquet file in the current snapshot.
    pub fn table_path(&self, table: &Table) -> PathBuf {
        self.root.join(DATA).join(parquet_name(table))
    }

    /// `sha256:<hex>` identifying the current snapshot's content: from the hashes the manifest
    /// records (computed once, when the snapshot was written), or from the files for a store
    /// written before manifests had them.
    pub fn fingerprint(&self) -> Result<String> {
        let data = self.root.join(DATA);
        let manifest = self.manifest()?;
        let mut parts = Vec::new();
        for t in manifest.tables {
            let hash = match t.sha256 {
                Some(h) => h,
                None => crate::table::fingerprint::file_sha256(&data.join(&t.file))?,
            };
            parts.push((t.name, hash));
        }
        Ok(crate::table::fingerprint::combine(
            parts.iter().map(|(n, h)| (n.as_str(), h.as_str())),
        ))
    }

    fn manifest(&self) -> Result<ManifestRead> {
        let manifest_path = self.root.join(DATA).join("manifest.json");
        let text = fs::read_to_string(&manifest_path).map_err(|e| Error::io("read", &manifest_path, e))?;
        serde_json::from_str(&text).map_err(|e| Error::DamagedStore {
            path: self.root.clone(),
            message: format!("`{}` is not a valid manifest: {e}", manifest_path.display()),
        })
    }

    /// Where the partitions of the current snapshot are, if its manifest says and the row
    /// counts agree with the files' (`rows`: [`partitioned_counts`]).
    fn partitions(&self, rows: &[(&'static str, usize)]) -> Result<Option<Partitions>> {
        let Some(partitions) = self.manifest()?.partitions else {
            return Ok(None);
        };
        if partitions.scheme != PARTITION_SCHEME {
            return Ok(None);
        }
        for (table, in_file) in rows {
            let Some(rows) = partitions.rows.get(*table) else {
                return Ok(None);
            };
            if rows.len() != partitions.count || rows.iter().sum::<usize>() != *in_file {
                return Ok(None);
            }
        }
        Ok(Some(partitions))
    }

    /// Rows of the tables that grow with commits (`commits`, `deployment_commits`).
    pub fn partitioned_rows(&self) -> Result<usize> {
        Ok(partitioned_counts(&self.tables()?)?.iter().map(|(_, n)| n).sum())
    }

    /// Lazy scans of every table.
    pub fn tables(&self) -> Result<Tables<LazyFrame>> {
        Tables::try_from_fn(|table| {
            let path = self.table_path(table);
            // Stores written before the `pull_requests` table existed have no file for it.
            if !path.is_file() && table.name == schema::PULL_REQUESTS.name {
                return Ok(empty_frame(table).lazy());
            }
            if !path.is_file() {
                return Err(Error::DamagedStore {
                    path: self.root.clone(),
                    message: format!("`{}` is missing", path.display()),
                });
            }
            let text = path.to_str().ok_or_else(|| Error::DamagedStore {
                path: self.root.clone(),
                message: "the store path is not valid UTF-8".into(),
            })?;
            let scan = LazyFrame::scan_parquet(PlRefPath::new(text), ScanArgsParquet::default())
                .context(|| format!("failed to read `{}`", path.display()))?;
            // A store written by an earlier dora lacks the optional columns added since (`url`,
            // say): they read as empty, so old stores keep working.
            let present = scan
                .clone()
                .collect_schema()
                .context(|| format!("failed to read `{}`", path.display()))?;
            let missing: Vec<Expr> = table
                .columns
                .iter()
                .filter(|c| !present.contains(c.name))
                .map(|c| lit(Null {}).cast(c.kind.dtype()).alias(c.name))
                .collect();
            Ok(if missing.is_empty() {
                scan
            } else {
                scan.with_columns(missing)
            })
        })
    }

    /// Adds or replaces rows by key, and writes a new snapshot if anything changed.
    ///
    /// `updates` holds the tables to merge; tables not named are kept as they are. Creates the
    /// store when there is none.
    pub fn upsert(root: &Path, updates: &[(&'static Table, DataFrame)]) -> Result<(Store, Vec<TableChange>)> {
        Self::upsert_owned(root, updates, &[])
    }

    /// Like [`Store::upsert`], and also removes the rows of the store that match a table's
    /// `owned` predicate but are not among the new rows: a collector that re-reads everything
    /// it wrote (the git collector's rows of one repository, say) replaces its rows exactly,
    /// so a deleted tag or a commit shipped by another deployment leaves no stale row.
    pub fn upsert_owned(
        root: &Path,
        updates: &[(&'static Table, DataFrame)],
        owned: &[(&'static Table, Expr)],
    ) -> Result<(Store, Vec<TableChange>)> {
        let big_rows = updates
            .iter()
            .filter(|(t, _)| is_partitioned(t))
            .map(|(_, f)| f.height())
            .sum();
        let mut writer = Writer::open(root, big_rows, PARTITION_ROWS)?;
        for (table, frame) in updates {
            writer.add(table, frame.clone())?;
        }
        let prepared = writer.prepare(owned, false)?;
        let changes = prepared.changes.clone();
        let store = prepared.commit()?;
        Ok((store, changes))
    }
}

/// Rows of `commits` and `deployment_commits` merged in memory at a time when a snapshot is
/// written, by default. Larger tables are split by a hash of the sha into partitions of at most
/// this size (old and new rows), spilled to the staging folder and merged one partition at a
/// time, so writing a snapshot needs memory for one partition, not for the whole store (100M
/// commits on 24 GB). The store's own rows are read by partition when its manifest says where
/// they are ([`Partitions`]).
/// `dora import --partition-rows` (hidden) changes it: tests make it tiny.
pub const PARTITION_ROWS: usize = 4_000_000;

/// Rows of each table that grows with commits, in these scans of a store.
fn partitioned_counts(tables: &Tables<LazyFrame>) -> Result<Vec<(&'static str, usize)>> {
    tables
        .iter()
        .filter(|(t, _)| is_partitioned(t))
        .map(|(table, frame)| Ok((table.name, count(frame.clone(), table)?)))
        .collect()
}

/// The tables that grow with commits: merged partition by partition.
fn is_partitioned(table: &Table) -> bool {
    table.name == schema::COMMITS.name || table.name == schema::DEPLOYMENT_COMMITS.name
}

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
    stored: Option<Partitions>,
    /// New rows per table, in partitions (one for the small tables).
    incoming: Vec<(&'static Table, Vec<Bucket>)>,
    /// Whether the staging folder is still to be removed on drop.
    armed: bool,
    /// Told `(partitions done, partitions)` as [`Writer::prepare`] goes.
    progress: Option<Box<dyn Fn(usize, usize)>>,
}

/// Rows of one partition: in memory, or spilled to a Parquet file.
enum Bucket {
    Memory(Vec<DataFrame>),
    Spilled(PendingFile),
}

/// The store's rows of a partitioned table, by partition.
enum OldRows {
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
const SPILL: Layout = Layout {
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
    pub fn open(root: &Path, big_rows: usize, partition_rows: usize) -> Result<Writer> {
        let partition_rows = partition_rows.max(1);
        fs::create_dir_all(root.join(SNAPSHOTS)).map_err(|e| Error::io("create store", root, e))?;
        let lock = lock(root)?;
        remove_stale_snapshots(root);
        let existing = if root.join(DATA).is_dir() {
            Some(Store { root: root.into() }.tables()?)
        } else {
            None
        };
        let (old_rows, stored) = match &existing {
            Some(tables) => {
                let counts = partitioned_counts(tables)?;
                let stored = Store { root: root.into() }.partitions(&counts)?;
                (counts.iter().map(|(_, n)| n).sum(), stored)
            }
            None => (0, None),
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
            }
            output.write(frame)?;
            outputs.push((table, output));
        }
        let deployments = deployments.unwrap_or_else(|| empty_frame(&schema::DEPLOYMENTS));
        let deployment_index = DeploymentIndex::new(&deployments)?;
        let report = |done| {
            if let Some(progress) = &self.progress {
                progress(done, self.parts);
            }
        };
        report(0);

        // The partitioned tables, one partition at a time: commits first, then the
        // deployment_commits of the same shas, whose commit times it looks up.
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
            let mut commits = None;
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
                    commits = Some(frame.clone());
                } else {
                    let commits = commits.take().unwrap_or_else(|| empty_frame(&schema::COMMITS));
                    frame = with_derived_columns(&frame, &deployment_index, &commits)?;
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
    partitions: Option<Partitions>,
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
        Ok(Store { root })
    }
}

/// Finishes a table's file in the snapshot; a table that got no frame (zero partitions) still
/// gets one, empty.
fn finish_table(mut output: PendingFile, table: &Table) -> Result<Written> {
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

const ROW_GROUP: usize = 512 * 512;

/// The snapshot's tables: zstd at level 1 (Polars' default level spent a seventh of an
/// import's time compressing, perf at 10M commits; level 1 is about twice as fast, and the files,
/// mostly random hex shas, barely grow), row groups of the size `ParquetWriter::finish` writes,
/// synced to disk before the snapshot becomes current.
fn snapshot_layout() -> Layout {
    Layout {
        compression: ParquetCompression::Zstd(polars::polars_utils::compression::ZstdLevel::try_new(1).ok()),
        row_group: ROW_GROUP,
        lasting: true,
        // The shas are unique per row (`commits`) or nearly so; every other text column repeats.
        dictionary: Dictionary::Except(&[schema::commits::SHA]),
    }
}

/// Rows in a lazy frame (from the Parquet metadata, for a scan).
fn count(frame: LazyFrame, table: &Table) -> Result<usize> {
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
fn canonical(frame: LazyFrame, table: &Table) -> LazyFrame {
    frame.select(table.column_names().map(col).collect::<Vec<_>>())
}

/// The partition of a row with this sha, of `count` ([`PARTITION_SCHEME`]).
fn partition_of(sha: Option<&str>, count: usize) -> usize {
    sha.map_or(0, |s| {
        (crate::table::keys::fold_hash(s.as_bytes()) % count as u64) as usize
    })
}

/// Splits `frame` over `buckets` by a hash of the sha (one bucket: all of it).
fn route(frame: DataFrame, table: &Table, buckets: &mut [Bucket]) -> Result<()> {
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

fn parquet_name(table: &Table) -> String {
    format!("{}.parquet", table.name)
}

/// The tables with the derived columns of `deployment_commits` a snapshot stores (docs/store.md),
/// for tables read from CSV (`--input`): every analysis then reads the same columns whether its
/// tables come from a store or not, and lead time finds deployments and commit times by row
/// instead of two hash joins of every deployed commit.
pub fn with_derived_columns_of(mut tables: Tables<DataFrame>) -> Result<Tables<DataFrame>> {
    let derived = {
        let index = DeploymentIndex::new(&tables.deployments)?;
        with_derived_columns(&tables.deployment_commits, &index, &tables.commits)?
    };
    tables.deployment_commits = derived;
    Ok(tables)
}

#[cfg(test)]
mod tests {
    use super::merge::merge;
    use super::*;

    /// Commits with these repositories, shas and commit times (the other columns empty).
    fn commits(rows: &[(&str, &str, i64)]) -> DataFrame {
        let columns = empty_frame(&schema::COMMITS)
            .columns()
            .iter()
            .map(|c| {
                let name = c.name().clone();
                match name.as_str() {
                    schema::commits::REPO => Column::new(name, rows.iter().map(|r| r.0).collect::<Vec<_>>()),
                    schema::commits::SHA => Column::new(name, rows.iter().map(|r| r.1).collect::<Vec<_>>()),
                    schema::commits::COMMITTED_AT => Column::new(name, rows.iter().map(|r| r.2).collect::<Vec<_>>())
                        .cast(c.dtype())
                        .unwrap(),
                    _ => Column::full_null(name, rows.len(), c.dtype()),
                }
            })
            .collect();
        DataFrame::new_infer_height(columns).unwrap()
    }

    /// A few new rows among many old ones (where `merge` only joins the old rows that share a
    /// sha with a new one): the same counts and rows as a merge of equals, old rows in order.
    #[test]
    fn few_new_rows_merge_by_the_whole_key() {
        let old_rows: Vec<(String, String, i64)> =
            (0..20).map(|i| (format!("r{}", i % 2), format!("s{i}"), i)).collect();
        let old_rows: Vec<(&str, &str, i64)> = old_rows.iter().map(|(r, s, t)| (r.as_str(), s.as_str(), *t)).collect();
        let old = commits(&old_rows);
        let new = commits(&[
            ("r1", "s3", 3),     // as in the store
            ("r1", "s5", 500),   // same key, another time: replaces
            ("r0", "s100", 100), // a new sha
            ("other", "s7", 7),  // a known sha in another repository: a new key
        ]);
        let (frame, change) = merge(&schema::COMMITS, &old, &new, None).unwrap();
        assert_eq!(
            (
                change.added,
                change.replaced,
                change.unchanged,
                change.removed,
                change.total
            ),
            (2, 1, 1, 0, 22)
        );
        let mut expected: Vec<(&str, &str, i64)> = old_rows
            .iter()
            .copied()
            .filter(|r| r.1 != "s3" && r.1 != "s5")
            .collect();
        expected.extend([
            ("r1", "s3", 3),
            ("r1", "s5", 500),
            ("r0", "s100", 100),
            ("other", "s7", 7),
        ]);
        assert!(frame.equals_missing(&commits(&expected)), "{frame}");

        // Rows the writer owns and does not give again are removed, the others kept.
        let owned = col(schema::commits::REPO).eq(lit("r1"));
        let (frame, change) = merge(&schema::COMMITS, &old, &new, Some(owned)).unwrap();
        assert_eq!((change.removed, change.total), (8, 14));
        assert_eq!(
            frame
                .column(schema::commits::REPO)
                .unwrap()
                .str()
                .unwrap()
                .iter()
                .filter(|r| *r == Some("r1"))
                .count(),
            2
        );
    }

    /// As many new rows as old (every old row a candidate): a null equals a null, and a value
    /// where there was a null replaces the row.
    #[test]
    fn many_new_rows_tell_replaced_from_unchanged_rows_with_nulls() {
        let old = commits(&[("r", "a", 1), ("r", "b", 2), ("r", "c", 3)]);
        let mut new = commits(&[("r", "a", 1), ("r", "b", 2), ("r", "d", 4)]);
        let author = Column::new(schema::commits::AUTHOR.into(), [None, Some("ann"), None]);
        new.with_column(author).unwrap();
        let (frame, change) = merge(&schema::COMMITS, &old, &new, None).unwrap();
        assert_eq!(
            (change.added, change.replaced, change.unchanged, change.total),
            (1, 1, 1, 4)
        );
        let shas: Vec<_> = frame
            .column(schema::commits::SHA)
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .flatten()
            .collect();
        assert_eq!(shas, ["c", "a", "b", "d"], "the kept old row, then the new rows");
    }

    /// Imports `rows` into the store at `root` with partitions of `partition_rows`; returns whether
    /// the store's rows were read by partition (its split kept).
    fn import_commits(root: &Path, rows: &[(&str, &str, i64)], partition_rows: usize) -> bool {
        let mut writer = Writer::open(root, rows.len(), partition_rows).unwrap();
        let kept = writer.stored.is_some();
        writer.add(&schema::COMMITS, commits(rows)).unwrap();
        writer.prepare(&[], false).unwrap().commit().unwrap();
        kept
    }

    fn sorted_commits(root: &Path) -> DataFrame {
        let store = Store::open(root).unwrap();
        store
            .tables()
            .unwrap()
            .commits
            .sort([schema::commits::SHA], SortMultipleOptions::default())
            .collect()
            .unwrap()
    }

    /// A small import into a partitioned store reads the old rows by partition, as ranges of
    /// the file the manifest points out, and gives what splitting them anew gives.
    #[test]
    fn a_small_import_keeps_the_stores_partitions() {
        let dir = tempfile::tempdir().unwrap();
        let names: Vec<(String, String, i64)> = (0..40)
            .map(|i| (format!("r{}", i % 3), format!("s{i:02}"), i))
            .collect();
        let rows: Vec<(&str, &str, i64)> = names.iter().map(|(r, s, t)| (r.as_str(), s.as_str(), *t)).collect();
        let more = [("r1", "s01", 100), ("r0", "s99", 99)];

        let kept = dir.path().join("kept");
        assert!(!import_commits(&kept, &rows, 4));
        let manifest = Store::open(&kept).unwrap().manifest().unwrap();
        let partitions = manifest.partitions.unwrap();
        // 40 rows, 4 of each partitioned table per partition, a quarter more room: 50 / 8.
        assert_eq!(partitions.count, 7);
        assert_eq!(partitions.rows["commits"].iter().sum::<usize>(), 40);
        assert!(import_commits(&kept, &more, 4));

        // The same rows, the store split anew (its manifest's rows do not add up).
        let anew = dir.path().join("anew");
        import_commits(&anew, &rows, 4);
        let path = anew.join(DATA).join("manifest.json");
        let text = fs::read_to_string(&path).unwrap();
        fs::write(
            &path,
            text.replacen("\"commits\": [\n", "\"commits\": [\n      1,\n", 1),
        )
        .unwrap();
        let store = Store::open(&anew).unwrap();
        let counts = partitioned_counts(&store.tables().unwrap()).unwrap();
        assert!(store.partitions(&counts).unwrap().is_none());
        assert!(!import_commits(&anew, &more, 4));

        let (a, b) = (sorted_commits(&kept), sorted_commits(&anew));
        assert_eq!(a.height(), 41);
        assert!(a.equals_missing(&b), "{a}\n{b}");
        let times = a
            .column(schema::commits::COMMITTED_AT)
            .unwrap()
            .cast(&DataType::Int64)
            .unwrap();
        assert_eq!(times.i64().unwrap().get(1), Some(100), "s01 replaced");
    }

    /// The import's progress bar hears of each partition once, in order, then of the end.
    #[test]
    fn prepare_reports_each_partition() {
        let dir = tempfile::tempdir().unwrap();
        let rows: Vec<(String, String, i64)> = (0..40)
            .map(|i| ("acme/api".to_string(), format!("{i:040x}"), i))
            .collect();
        let rows: Vec<(&str, &str, i64)> = rows.iter().map(|(r, s, t)| (r.as_str(), s.as_str(), *t)).collect();
        let mut writer = Writer::open(dir.path(), rows.len(), 4).unwrap();
        let reports = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let seen = reports.clone();
        writer.report_progress(move |done, parts| seen.borrow_mut().push((done, parts)));
        writer.add(&schema::COMMITS, commits(&rows)).unwrap();
        let prepared = writer.prepare(&[], false).unwrap();
        let parts = prepared.partitions.as_ref().unwrap().count;
        assert!(parts > 1, "{parts}");
        let expected: Vec<(usize, usize)> = (0..=parts).map(|done| (done, parts)).collect();
        assert_eq!(*reports.borrow(), expected);
    }

    /// A manifest whose partitions add up but are not where the rows are: the import fails,
    /// naming the store, rather than keeping two rows of one key.
    #[test]
    fn partitions_that_do_not_hold_their_rows_are_a_damaged_store() {
        let dir = tempfile::tempdir().unwrap();
        let names: Vec<(String, String, i64)> = (0..40).map(|i| ("r".to_string(), format!("s{i:02}"), i)).collect();
        let rows: Vec<(&str, &str, i64)> = names.iter().map(|(r, s, t)| (r.as_str(), s.as_str(), *t)).collect();
        let root = dir.path().join("store");
        import_commits(&root, &rows, 4);
        let path = root.join(DATA).join("manifest.json");
        let mut manifest: serde_json::Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        let counts = manifest["partitions"]["rows"]["commits"].as_array_mut().unwrap();
        let j = counts.iter().position(|c| c.as_u64().unwrap() > 0).unwrap();
        let k = (j + 1) % counts.len();
        counts[j] = (counts[j].as_u64().unwrap() - 1).into();
        counts[k] = (counts[k].as_u64().unwrap() + 1).into();
        fs::write(&path, serde_json::to_string(&manifest).unwrap()).unwrap();

        let mut writer = Writer::open(&root, 1, 4).unwrap();
        assert!(writer.stored.is_some());
        writer.add(&schema::COMMITS, commits(&[("r", "s00", 0)])).unwrap();
        let error = writer.prepare(&[], false).map(|_| ()).unwrap_err().to_string();
        assert!(
            error.contains("manifest's partition") && error.contains("store"),
            "{error}"
        );
    }

    /// A store written before a column existed still reads, with that column empty.
    #[test]
    fn old_stores_read_new_columns_as_empty() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("store");
        let mut deployments = empty_frame(&schema::DEPLOYMENTS);
        let (store, _) = Store::upsert(&root, &[(&schema::DEPLOYMENTS, deployments.clone())]).unwrap();
        // Rewrite the file without `url`, as the first versions of dora wrote it.
        deployments = deployments.drop(schema::deployments::URL).unwrap();
        let file = fs::File::create(store.table_path(&schema::DEPLOYMENTS)).unwrap();
        ParquetWriter::new(&file).finish(&mut deployments).unwrap();
        let read = store.tables().unwrap().deployments.collect().unwrap();
        let url = read.column(schema::deployments::URL).unwrap();
        assert_eq!(url.dtype(), &DataType::String);
    }
}
