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
use std::sync::Arc;

use polars::prelude::*;
use serde::Serialize;

use crate::error::{Error, PolarsContext, Result};
use crate::table::schema::{self, Table};
use crate::table::{Tables, empty_frame};

mod derived;
mod derived_links;
mod merge;
mod parquet_file;
mod snapshot;
mod writer;

use writer::count;
pub use writer::{Prepared, Writer, for_each_slice};

pub use derived::{DERIVED_COMMITTED_AT, DERIVED_DEPLOYMENT_ROW};
use derived::{DeploymentIndex, with_derived_columns};
use derived_links::{IssueIndex, with_link_columns};

/// Version of the on-disk layout, written to every manifest.
pub const FORMAT_VERSION: u32 = 1;

const DATA: &str = "data";
const SNAPSHOTS: &str = "snapshots";
const LOCK: &str = "lock";

/// An existing store, opened on its current snapshot.
///
/// Opening resolves the `data` link once and pins that snapshot (a shared lock on its
/// manifest) for as long as the `Store` or a clone of it lives: every table is read from the
/// same snapshot, and a writer that switches to a new one meanwhile leaves the pinned one in
/// place until its readers are done. Keep the `Store` alive while its lazy tables are read.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
    /// The snapshot folder `data` pointed at when the store was opened.
    snapshot: PathBuf,
    _pin: Option<Arc<fs::File>>,
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

/// Where each partition's rows are in the files of the tables split by sha (how a
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
        // A writer may switch `data` and remove the old snapshot between the link being read
        // and the pin being taken: then read the link again.
        for _ in 0..100 {
            if !root.join(DATA).is_dir() {
                return Err(Error::NoStore { path: root.into() });
            }
            let snapshot = match fs::read_link(root.join(DATA)) {
                Ok(target) => root.join(target),
                // Not a link (a store written where links are not supported): the folder itself.
                Err(_) => root.join(DATA),
            };
            let Ok(manifest) = fs::File::open(snapshot.join("manifest.json")) else {
                continue;
            };
            // Shared: readers do not block each other; the writer's cleanup takes it exclusively.
            if manifest.lock_shared().is_err() || !snapshot.join("manifest.json").is_file() {
                continue;
            }
            return Ok(Store {
                root: root.into(),
                snapshot,
                _pin: Some(Arc::new(manifest)),
            });
        }
        Err(Error::DamagedStore {
            path: root.into(),
            message: "its current snapshot kept changing or has no manifest".into(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Path of a table's Parquet file in the snapshot this store was opened on.
    pub fn table_path(&self, table: &Table) -> PathBuf {
        self.snapshot.join(parquet_name(table))
    }

    /// `sha256:<hex>` identifying the current snapshot's content: from the hashes the manifest
    /// records (computed once, when the snapshot was written), or from the files for a store
    /// written before manifests had them.
    pub fn fingerprint(&self) -> Result<String> {
        let data = &self.snapshot;
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
        let manifest_path = self.snapshot.join("manifest.json");
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

    /// Rows of the tables that grow with commits (`commits`, `deployment_commits`, `issue_commits`).
    pub fn partitioned_rows(&self) -> Result<usize> {
        Ok(partitioned_counts(&self.tables()?)?.iter().map(|(_, n)| n).sum())
    }

    /// Lazy scans of every table.
    pub fn tables(&self) -> Result<Tables<LazyFrame>> {
        Tables::try_from_fn(|table| {
            let path = self.table_path(table);
            // Stores written before these tables existed have no file for them.
            let newer = [
                schema::PULL_REQUESTS.name,
                schema::ISSUES.name,
                schema::ISSUE_COMMITS.name,
            ];
            if !path.is_file() && newer.contains(&table.name) {
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
    pub fn upsert(
        root: &Path,
        updates: &[(&'static Table, DataFrame)],
        lock_wait: std::time::Duration,
    ) -> Result<(Store, Vec<TableChange>)> {
        Self::upsert_owned(root, updates, &[], lock_wait)
    }

    /// Like [`Store::upsert`], and also removes the rows of the store that match a table's
    /// `owned` predicate but are not among the new rows: a collector that re-reads everything
    /// it wrote (the git collector's rows of one repository, say) replaces its rows exactly,
    /// so a deleted tag or a commit shipped by another deployment leaves no stale row.
    pub fn upsert_owned(
        root: &Path,
        updates: &[(&'static Table, DataFrame)],
        owned: &[(&'static Table, Expr)],
        lock_wait: std::time::Duration,
    ) -> Result<(Store, Vec<TableChange>)> {
        let big_rows = updates
            .iter()
            .filter(|(t, _)| is_partitioned(t))
            .map(|(_, f)| f.height())
            .sum();
        let mut writer = Writer::open(root, big_rows, PARTITION_ROWS, lock_wait)?;
        for (table, frame) in updates {
            writer.add(table, frame.clone())?;
        }
        let prepared = writer.prepare(owned, false)?;
        let changes = prepared.changes.clone();
        let store = prepared.commit()?;
        Ok((store, changes))
    }
}

/// Rows of each table split by sha (`commits`, `deployment_commits`, `issue_commits`) merged in memory at a time when a snapshot is
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

/// The tables that grow with commits, split by sha: merged partition by partition.
fn is_partitioned(table: &Table) -> bool {
    [
        schema::COMMITS.name,
        schema::DEPLOYMENT_COMMITS.name,
        schema::ISSUE_COMMITS.name,
    ]
    .contains(&table.name)
}

fn parquet_name(table: &Table) -> String {
    format!("{}.parquet", table.name)
}

/// The tables with the derived columns of `deployment_commits` a snapshot stores (docs/store.md),
/// for tables read from CSV (`--input`): every analysis then reads the same columns whether its
/// tables come from a store or not, and lead time finds deployments and commit times by row
/// instead of two hash joins of every deployed commit.
pub fn with_derived_columns_of(mut tables: Tables<DataFrame>) -> Result<Tables<DataFrame>> {
    let (deployed, links) = {
        let index = DeploymentIndex::new(&tables.deployments)?;
        let deployed = with_derived_columns(&tables.deployment_commits, &index, &tables.commits)?;
        let issues = IssueIndex::new(&tables.issues)?;
        let links = with_link_columns(&tables.issue_commits, &issues, &index, &tables.commits, 0, &deployed)?;
        (deployed, links)
    };
    tables.deployment_commits = deployed;
    tables.issue_commits = links;
    Ok(tables)
}

#[cfg(test)]
mod tests {
    use super::merge::merge;
    use super::*;

    /// The given columns of `table`, the others null.
    fn frame_of(table: &Table, given: &[Column]) -> DataFrame {
        let height = given.first().map_or(0, Column::len);
        let columns = empty_frame(table)
            .columns()
            .iter()
            .map(|c| match given.iter().find(|g| g.name() == c.name()) {
                Some(g) => g.cast(c.dtype()).unwrap(),
                None => Column::full_null(c.name().clone(), height, c.dtype()),
            })
            .collect();
        DataFrame::new_infer_height(columns).unwrap()
    }

    /// Commits with these repositories, shas and commit times (the other columns empty).
    fn commits(rows: &[(&str, &str, i64)]) -> DataFrame {
        use schema::commits as c;
        frame_of(
            &schema::COMMITS,
            &[
                Column::new(c::REPO.into(), rows.iter().map(|r| r.0).collect::<Vec<_>>()),
                Column::new(c::SHA.into(), rows.iter().map(|r| r.1).collect::<Vec<_>>()),
                Column::new(c::COMMITTED_AT.into(), rows.iter().map(|r| r.2).collect::<Vec<_>>()),
            ],
        )
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
        let mut writer = Writer::open(root, rows.len(), partition_rows, std::time::Duration::ZERO).unwrap();
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
        let mut writer = Writer::open(dir.path(), rows.len(), 4, std::time::Duration::ZERO).unwrap();
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

    /// A disk that fills while a snapshot is written, at any point: a clear error naming the
    /// file, the old snapshot intact and readable, and the next write (with room) completes.
    #[test]
    fn a_disk_that_fills_leaves_the_old_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("store");
        let old: Vec<(String, String, i64)> = (0..30).map(|i| ("r".to_string(), format!("{i:040x}"), i)).collect();
        let old: Vec<(&str, &str, i64)> = old.iter().map(|(r, s, t)| (r.as_str(), s.as_str(), *t)).collect();
        import_commits(&root, &old, 8);
        let before = sorted_commits(&root);
        let new: Vec<(String, String, i64)> = (0..300).map(|i| ("q".to_string(), format!("{i:040x}"), i)).collect();
        let new: Vec<(&str, &str, i64)> = new.iter().map(|(r, s, t)| (r.as_str(), s.as_str(), *t)).collect();
        let mut failures = 0;
        for room in [0, 100, 1_000, 3_000, 6_000, 12_000, 30_000] {
            super::parquet_file::disk::fill_after(&root, room);
            let attempt = Writer::open(&root, new.len(), 8, std::time::Duration::ZERO).and_then(|mut w| {
                w.add(&schema::COMMITS, commits(&new))?;
                w.prepare(&[], false)?.commit()
            });
            super::parquet_file::disk::empty(&root);
            if let Err(e) = attempt {
                failures += 1;
                let text = format!("{e:#}");
                let source = std::error::Error::source(&e)
                    .map(ToString::to_string)
                    .unwrap_or_default();
                assert!(text.contains(".parquet"), "room {room}: {text}");
                assert!(source.contains("No space left"), "room {room}: {text}: {source}");
                assert!(
                    sorted_commits(&root).equals_missing(&before),
                    "room {room}: the old snapshot changed"
                );
            } else {
                // Enough room: the write went through; start again from the old store.
                fs::remove_dir_all(&root).unwrap();
                import_commits(&root, &old, 8);
            }
        }
        assert!(failures >= 4, "{failures}");
        // With room again, the write completes and no staging folder is left.
        import_commits(&root, &new, 8);
        assert_eq!(sorted_commits(&root).height(), old.len() + new.len());
        assert_eq!(fs::read_dir(root.join(SNAPSHOTS)).unwrap().count(), 1);
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

        let mut writer = Writer::open(&root, 1, 4, std::time::Duration::ZERO).unwrap();
        assert!(writer.stored.is_some());
        writer.add(&schema::COMMITS, commits(&[("r", "s00", 0)])).unwrap();
        let error = writer.prepare(&[], false).map(|_| ()).unwrap_err().to_string();
        assert!(
            error.contains("manifest's partition") && error.contains("store"),
            "{error}"
        );
    }

    /// In a store split into many partitions, each link's `issue_row` and `commit_row` are the
    /// rows of its issue and commit in the snapshot's files: the commit rows count the commits
    /// of the partitions before.
    #[test]
    fn links_name_the_rows_of_their_issue_and_commit_in_every_partition() {
        use schema::{DERIVED_COMMIT_ROW, DERIVED_ISSUE_ROW, commits as c, issue_commits as l, issues as i};
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("store");
        let names: Vec<(String, String, i64)> = (0..40)
            .map(|n| (format!("r{}", n % 2), format!("s{n:02}"), n))
            .collect();
        let rows: Vec<(&str, &str, i64)> = names.iter().map(|(r, s, t)| (r.as_str(), s.as_str(), *t)).collect();
        let issues = frame_of(
            &schema::ISSUES,
            &[
                Column::new(i::ID.into(), ["r0#1", "r1#1", "r0#2"]),
                Column::new(i::REPO.into(), ["r0", "r1", "r0"]),
                Column::new(i::CREATED_AT.into(), [0i64; 3]),
            ],
        );
        // Each issue links every third commit, of its repository or not, and one sha no commit has.
        let mut link_rows: Vec<(String, String)> = (0..40)
            .map(|n| (["r0#1", "r1#1", "r0#2"][n % 3].to_string(), format!("s{n:02}")))
            .collect();
        link_rows.push(("r1#1".into(), "s99".into()));
        let links = frame_of(
            &schema::ISSUE_COMMITS,
            &[
                Column::new(
                    l::ISSUE_ID.into(),
                    link_rows.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(),
                ),
                Column::new(
                    l::SHA.into(),
                    link_rows.iter().map(|r| r.1.as_str()).collect::<Vec<_>>(),
                ),
            ],
        );
        let mut writer = Writer::open(&root, 80, 4, std::time::Duration::ZERO).unwrap();
        writer.add(&schema::COMMITS, commits(&rows)).unwrap();
        writer.add(&schema::ISSUES, issues).unwrap();
        writer.add(&schema::ISSUE_COMMITS, links).unwrap();
        writer.prepare(&[], false).unwrap().commit().unwrap();

        let store = Store::open(&root).unwrap();
        assert!(store.manifest().unwrap().partitions.unwrap().count > 4);
        let read = |table: &Table| {
            LazyFrame::scan_parquet(
                PlRefPath::new(store.table_path(table).to_str().unwrap()),
                ScanArgsParquet::default(),
            )
            .unwrap()
            .collect()
            .unwrap()
        };
        let (commits, issues, links) = (
            read(&schema::COMMITS),
            read(&schema::ISSUES),
            read(&schema::ISSUE_COMMITS),
        );
        let text = derived_links::tests::strings;
        let index = |name: &str| -> Vec<Option<u32>> { links.column(name).unwrap().u32().unwrap().iter().collect() };
        let (commit_repos, commit_shas) = (text(&commits, c::REPO), text(&commits, c::SHA));
        let (issue_ids, issue_repos) = (text(&issues, i::ID), text(&issues, i::REPO));
        let (link_issues, link_shas) = (text(&links, l::ISSUE_ID), text(&links, l::SHA));
        let (issue_rows, commit_rows) = (index(DERIVED_ISSUE_ROW), index(DERIVED_COMMIT_ROW));
        let mut found = 0;
        for n in 0..links.height() {
            let issue = issue_rows[n].expect("every issue is known") as usize;
            assert_eq!(issue_ids[issue], link_issues[n]);
            let commit = (0..commits.height())
                .find(|&k| commit_shas[k] == link_shas[n] && commit_repos[k] == issue_repos[issue])
                .map(|k| k as u32);
            assert_eq!(commit_rows[n], commit, "link {n}: {} {}", link_issues[n], link_shas[n]);
            found += usize::from(commit.is_some());
        }
        // The others are to a commit of another repository (n % 6 of 3, 4, 5), or to none.
        assert_eq!(found, 21);
    }

    /// A store written before a column existed still reads, with that column empty.
    #[test]
    fn old_stores_read_new_columns_as_empty() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("store");
        let mut deployments = empty_frame(&schema::DEPLOYMENTS);
        let (store, _) = Store::upsert(
            &root,
            &[(&schema::DEPLOYMENTS, deployments.clone())],
            std::time::Duration::ZERO,
        )
        .unwrap();
        // Rewrite the file without `url`, as the first versions of dora wrote it.
        deployments = deployments.drop(schema::deployments::URL).unwrap();
        let file = fs::File::create(store.table_path(&schema::DEPLOYMENTS)).unwrap();
        ParquetWriter::new(&file).finish(&mut deployments).unwrap();
        let read = store.tables().unwrap().deployments.collect().unwrap();
        let url = read.column(schema::deployments::URL).unwrap();
        assert_eq!(url.dtype(), &DataType::String);
    }
}
