//! A snapshot's last steps: its manifest, the atomic switch of the `data` link, the removal of
//! snapshots no reader uses, and the lock an import holds while it writes.

use std::fs;
use std::io::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use super::parquet_file::Written;
use super::{DATA, FORMAT_VERSION, LOCK, Manifest, ManifestTable, Partitions, SNAPSHOTS, parquet_name};
use crate::error::{Error, Result};
use crate::table::schema::Table;

/// Writes the manifest of the tables in `staging`, then points `data` at it.
pub(super) fn finish_snapshot(
    root: &Path,
    staging: &Path,
    tables: &[(&'static Table, Written)],
    partitions: Option<Partitions>,
) -> Result<()> {
    let mut manifest = Manifest {
        format: "dora-store",
        format_version: FORMAT_VERSION,
        dora_version: env!("CARGO_PKG_VERSION"),
        tables: Vec::new(),
        partitions,
    };
    for (table, written) in tables {
        manifest.tables.push(ManifestTable {
            name: table.name,
            file: parquet_name(table),
            rows: written.rows,
            sha256: written.sha256.clone(),
        });
    }
    let manifest_path = staging.join("manifest.json");
    let mut file = fs::File::create(&manifest_path).map_err(|e| Error::io("create", &manifest_path, e))?;
    serde_json::to_writer_pretty(&mut file, &manifest)
        .map_err(std::io::Error::from)
        .and_then(|()| file.write_all(b"\n"))
        .and_then(|()| file.sync_all())
        .map_err(|e| Error::io("write", &manifest_path, e))?;

    let number = current_snapshot_number(root).map_or(1, |n| n + 1);
    let name = format!("{number:06}");
    let final_dir = root.join(SNAPSHOTS).join(&name);
    fs::rename(staging, &final_dir).map_err(|e| Error::io("rename", staging, e))?;
    switch_data_link(root, &Path::new(SNAPSHOTS).join(&name))?;
    remove_stale_snapshots(root);
    Ok(())
}

#[cfg(unix)]
pub(super) fn switch_data_link(root: &Path, target: &Path) -> Result<()> {
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
pub(super) fn switch_data_link(root: &Path, target: &Path) -> Result<()> {
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

pub(super) fn current_snapshot_number(root: &Path) -> Option<u64> {
    let target = fs::read_link(root.join(DATA)).ok()?;
    target.file_name()?.to_str()?.parse().ok()
}

/// Removes snapshots other than the current one, and the staging folders and unswitched links
/// of killed imports. Only called with the lock held.
pub(super) fn remove_stale_snapshots(root: &Path) {
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
        if Some(&name) == current.as_ref() {
            continue;
        }
        // A snapshot a reader still pins (a shared lock on its manifest) stays until a later
        // writer finds it unpinned; staging folders of killed writers have no manifest yet.
        let manifest = entry.path().join("manifest.json");
        let pin = fs::File::open(&manifest).ok();
        if let Some(pin) = &pin
            && pin.try_lock().is_err()
        {
            continue;
        }
        let _ = fs::remove_dir_all(entry.path());
    }
}

/// Holds the store's lock file for as long as it lives; waits up to `wait` for another writer
/// to finish. The lock is the operating system's (`flock`): a killed writer's lock is released
/// with its process, so a stale lock file never blocks the next writer. The file names its
/// holder (pid and start time) for the message of a writer that gives up waiting.
pub(super) fn lock(root: &Path, wait: Duration) -> Result<fs::File> {
    let path = root.join(LOCK);
    let mut file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .map_err(|e| Error::io("open", &path, e))?;
    let deadline = Instant::now() + wait;
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(fs::TryLockError::WouldBlock) => {
                let holder = fs::read_to_string(&path).unwrap_or_default();
                return Err(Error::StoreLocked {
                    path: root.into(),
                    holder: holder.lines().next().unwrap_or_default().trim().to_string(),
                    waited_secs: wait.as_secs(),
                });
            }
            Err(fs::TryLockError::Error(e)) => return Err(Error::io("lock", &path, e)),
        }
    }
    let holder = format!(
        "pid {}, started {}\n",
        std::process::id(),
        crate::timestamp::format_utc(chrono::Utc::now().timestamp_micros())
    );
    file.set_len(0)
        .and_then(|()| file.write_all(holder.as_bytes()))
        .map_err(|e| Error::io("write", &path, e))?;
    Ok(file)
}
