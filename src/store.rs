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
use std::io::Write as _;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::Serialize;

use crate::collect::{Tables, empty_frame};
use crate::error::{Error, PolarsContext, Result};
use crate::schema::{self, Table};

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
}

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
        let manifest_path = data.join("manifest.json");
        let text = fs::read_to_string(&manifest_path).map_err(|e| Error::io("read", &manifest_path, e))?;
        let manifest: ManifestRead = serde_json::from_str(&text).map_err(|e| Error::DamagedStore {
            path: self.root.clone(),
            message: format!("`{}` is not a valid manifest: {e}", manifest_path.display()),
        })?;
        let mut parts = Vec::new();
        for t in manifest.tables {
            let hash = match t.sha256 {
                Some(h) => h,
                None => crate::collect::fingerprint::file_sha256(&data.join(&t.file))?,
            };
            parts.push((t.name, hash));
        }
        Ok(crate::collect::fingerprint::combine(
            parts.iter().map(|(n, h)| (n.as_str(), h.as_str())),
        ))
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
        fs::create_dir_all(root.join(SNAPSHOTS)).map_err(|e| Error::io("create store", root, e))?;
        let _lock = lock(root)?;
        remove_stale_snapshots(root);

        let existing = if root.join(DATA).is_dir() {
            Some(Store { root: root.into() }.tables()?)
        } else {
            None
        };

        let mut merged: Vec<(&'static Table, DataFrame)> = Vec::new();
        let mut changes = Vec::new();
        for table in schema::TABLES {
            let old = match &existing {
                // The canonical columns: derived ones are recomputed when the snapshot is written.
                Some(tables) => tables
                    .get(table)
                    .clone()
                    .select(table.column_names().map(col).collect::<Vec<_>>())
                    .collect()
                    .context(|| format!("failed to read table `{}` from the store", table.name))?,
                None => empty_frame(table),
            };
            let Some((_, new)) = updates.iter().find(|(t, _)| t.name == table.name) else {
                let total = old.height();
                merged.push((table, old));
                changes.push(TableChange {
                    table: table.name,
                    total,
                    ..TableChange::default()
                });
                continue;
            };
            let owned = owned.iter().find(|(t, _)| t.name == table.name).map(|(_, e)| e.clone());
            let (frame, change) = merge(table, old, new, owned)?;
            merged.push((table, frame));
            changes.push(change);
        }

        let nothing_changed = existing.is_some()
            && changes
                .iter()
                .all(|c| c.added == 0 && c.replaced == 0 && c.removed == 0);
        if !nothing_changed {
            write_snapshot(root, &mut merged)?;
        }
        Ok((Store { root: root.into() }, changes))
    }
}

fn parquet_name(table: &Table) -> String {
    format!("{}.parquet", table.name)
}

/// Merges `new` into `old` by the table's key; a row of `new` wins over a row of `old`. Rows of
/// `old` matching `owned` that `new` does not give again are removed.
fn merge(
    table: &'static Table,
    old: DataFrame,
    new: &DataFrame,
    owned: Option<Expr>,
) -> Result<(DataFrame, TableChange)> {
    let ctx = || format!("failed to merge table `{}`", table.name);
    let keys: Vec<Expr> = table.key.iter().map(|k| col(*k)).collect();
    let all: Vec<Expr> = table.column_names().map(col).collect();
    let new = new.select(table.column_names()).context(ctx)?;

    let count = |lf: LazyFrame| -> Result<usize> {
        let df = lf.select([len().alias("n")]).collect().context(ctx)?;
        Ok(df
            .column("n")
            .ok()
            .and_then(|c| c.get(0).ok())
            .and_then(|v| v.extract::<usize>())
            .unwrap_or(0))
    };
    let known = count(keyed(new.clone().lazy(), old.clone().lazy(), &keys, JoinType::Semi))?;
    let unchanged = count(keyed(new.clone().lazy(), old.clone().lazy(), &all, JoinType::Semi))?;
    let mut kept = keyed(old.lazy(), new.clone().lazy(), &keys, JoinType::Anti);
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

/// A semi or anti join on several columns, nulls matching nulls.
fn keyed(left: LazyFrame, right: LazyFrame, on: &[Expr], how: JoinType) -> LazyFrame {
    left.join_builder()
        .with(right)
        .left_on(on)
        .right_on(on)
        .how(how)
        .join_nulls(true)
        .finish()
}

/// Writes every table to a new snapshot, then points `data` at it.
/// The name of the column the store adds to `deployment_commits`: the commit time of each
/// deployed commit, looked up once when the snapshot is written (docs/store.md).
pub const DERIVED_COMMITTED_AT: &str = "committed_at";

/// `deployment_commits` with `committed_at`: the time of the commit `sha` in the deployment's
/// repository (null when the store has no such commit). Lead time then needs no join on the
/// 40-character sha at analysis time, which was most of its cost.
fn with_commit_times(tables: &[(&'static Table, DataFrame)]) -> Result<Option<DataFrame>> {
    use crate::schema::{commits as c, deployment_commits as dc, deployments as d};
    let frame = |name: &str| {
        tables
            .iter()
            .find(|(t, _)| t.name == name)
            .map(|(_, f)| f.clone().lazy())
    };
    let (Some(pairs), Some(deployments), Some(commits)) = (
        frame(schema::DEPLOYMENT_COMMITS.name),
        frame(schema::DEPLOYMENTS.name),
        frame(schema::COMMITS.name),
    ) else {
        return Ok(None);
    };
    let derived = pairs
        .join(
            deployments.select([col(d::ID), col(d::REPO)]),
            [col(dc::DEPLOYMENT_ID)],
            [col(d::ID)],
            JoinArgs::new(JoinType::Left),
        )
        .join(
            commits.select([
                col(c::REPO),
                col(c::SHA),
                col(c::COMMITTED_AT).alias(DERIVED_COMMITTED_AT),
            ]),
            [col(d::REPO), col(dc::SHA)],
            [col(c::REPO), col(c::SHA)],
            JoinArgs::new(JoinType::Left),
        )
        .select([col(dc::DEPLOYMENT_ID), col(dc::SHA), col(DERIVED_COMMITTED_AT)])
        .collect()
        .context(|| "failed to look up the commit times of deployment_commits".into())?;
    Ok(Some(derived))
}

fn write_snapshot(root: &Path, tables: &mut [(&'static Table, DataFrame)]) -> Result<()> {
    if let Some(derived) = with_commit_times(tables)? {
        for (table, frame) in tables.iter_mut() {
            if table.name == schema::DEPLOYMENT_COMMITS.name {
                *frame = derived.clone();
            }
        }
    }
    let snapshots = root.join(SNAPSHOTS);
    let number = current_snapshot_number(root).map_or(1, |n| n + 1);
    let name = format!("{number:06}");
    let staging = snapshots.join(format!("tmp-{name}-{}", std::process::id()));
    fs::create_dir_all(&staging).map_err(|e| Error::io("create", &staging, e))?;

    let mut manifest = Manifest {
        format: "dora-store",
        format_version: FORMAT_VERSION,
        dora_version: env!("CARGO_PKG_VERSION"),
        tables: Vec::new(),
    };
    for (table, frame) in tables.iter_mut() {
        let path = staging.join(parquet_name(table));
        let file = fs::File::create(&path).map_err(|e| Error::io("create", &path, e))?;
        ParquetWriter::new(&file)
            .finish(frame)
            .context(|| format!("failed to write `{}`", path.display()))?;
        file.sync_all().map_err(|e| Error::io("write", &path, e))?;
        manifest.tables.push(ManifestTable {
            name: table.name,
            file: parquet_name(table),
            rows: frame.height(),
            sha256: crate::collect::fingerprint::file_sha256(&path)?,
        });
    }
    let manifest_path = staging.join("manifest.json");
    let mut file = fs::File::create(&manifest_path).map_err(|e| Error::io("create", &manifest_path, e))?;
    serde_json::to_writer_pretty(&mut file, &manifest)
        .map_err(std::io::Error::from)
        .and_then(|()| file.write_all(b"\n"))
        .and_then(|()| file.sync_all())
        .map_err(|e| Error::io("write", &manifest_path, e))?;

    let final_dir = snapshots.join(&name);
    fs::rename(&staging, &final_dir).map_err(|e| Error::io("rename", &staging, e))?;
    switch_data_link(root, &Path::new(SNAPSHOTS).join(&name))?;
    remove_stale_snapshots(root);
    Ok(())
}

#[cfg(unix)]
fn switch_data_link(root: &Path, target: &Path) -> Result<()> {
    let tmp = root.join(format!("{DATA}.tmp-{}", std::process::id()));
    let _ = fs::remove_file(&tmp);
    std::os::unix::fs::symlink(target, &tmp).map_err(|e| Error::io("create link", &tmp, e))?;
    // rename(2) replaces the old link atomically.
    fs::rename(&tmp, root.join(DATA)).map_err(|e| Error::io("switch", root.join(DATA), e))?;
    if let Ok(dir) = fs::File::open(root) {
        let _ = dir.sync_all();
    }
    Ok(())
}

#[cfg(not(unix))]
fn switch_data_link(root: &Path, target: &Path) -> Result<()> {
    // Without symlinks, `data` is a copy-free directory rename: not atomic against a crash
    // between the two renames, which `remove_stale_snapshots` cannot repair. Unix is the
    // supported platform for the store.
    let data = root.join(DATA);
    let old = root.join(format!("{DATA}.old"));
    let _ = fs::remove_dir_all(&old);
    if data.exists() {
        fs::rename(&data, &old).map_err(|e| Error::io("switch", &data, e))?;
    }
    fs::rename(root.join(target), &data).map_err(|e| Error::io("switch", &data, e))?;
    let _ = fs::remove_dir_all(&old);
    Ok(())
}

fn current_snapshot_number(root: &Path) -> Option<u64> {
    let target = fs::read_link(root.join(DATA)).ok()?;
    target.file_name()?.to_str()?.parse().ok()
}

/// Removes snapshots other than the current one, and the staging folders and unswitched links
/// of killed imports. Only called with the lock held.
fn remove_stale_snapshots(root: &Path) {
    if let Ok(entries) = fs::read_dir(root) {
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with(&format!("{DATA}.tmp-")) {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
    let current = current_snapshot_number(root).map(|n| format!("{n:06}"));
    let Ok(entries) = fs::read_dir(root.join(SNAPSHOTS)) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if Some(&name) != current.as_ref() {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// Holds the store's lock file for as long as it lives.
fn lock(root: &Path) -> Result<fs::File> {
    let path = root.join(LOCK);
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Error::io("open", &path, e))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(fs::TryLockError::WouldBlock) => Err(Error::StoreLocked { path: root.into() }),
        Err(fs::TryLockError::Error(e)) => Err(Error::io("lock", &path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store written before a column existed still reads, with that column empty.
    #[test]
    fn old_stores_read_new_columns_as_empty() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("store");
        let mut deployments = empty_frame(&schema::DEPLOYMENTS);
        let (store, _) = Store::upsert(&root, &[(&schema::DEPLOYMENTS, deployments.clone())]).unwrap();
        // Rewrite the file without `url`, as dora 0.1.0 of the first session wrote it.
        deployments = deployments.drop(schema::deployments::URL).unwrap();
        let file = fs::File::create(store.table_path(&schema::DEPLOYMENTS)).unwrap();
        ParquetWriter::new(&file).finish(&mut deployments).unwrap();
        let read = store.tables().unwrap().deployments.collect().unwrap();
        let url = read.column(schema::deployments::URL).unwrap();
        assert_eq!(url.dtype(), &DataType::String);
    }
}
