//! `dora import`: validate CSV exports and merge them into the store.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

use anyhow::bail;

use crate::cli::{GlobalArgs, ImportArgs};
use crate::collect::csv::{ReadOptions, Reject};
use crate::collect::mapping::Mapping;
use crate::collect::{folder_files, read_files};
use crate::commands::{ExitStatus, write_atomically};
use crate::schema::{self, Table};
use crate::settings;
use crate::store::Store;

pub fn run(global: &GlobalArgs, args: &ImportArgs) -> anyhow::Result<ExitStatus> {
    // Another store (a shard written by a CI matrix job, say): merge its tables by key.
    if let Some(dir) = &args.dir
        && let Ok(shard) = Store::open(dir)
    {
        return merge_store(global, &shard);
    }
    let zone = settings::time_zone(&args.tz)?;
    let mapping = args
        .mapping
        .as_deref()
        .map(Mapping::load)
        .transpose()?
        .unwrap_or_default();
    let mut files: Vec<(&'static Table, PathBuf)> = match &args.dir {
        Some(dir) => folder_files(dir, &mapping)?,
        None => Vec::new(),
    };
    let flags: [(&'static Table, &Option<PathBuf>); 4] = [
        (&schema::DEPLOYMENTS, &args.deployments),
        (&schema::COMMITS, &args.commits),
        (&schema::DEPLOYMENT_COMMITS, &args.deployment_commits),
        (&schema::INCIDENTS, &args.incidents),
    ];
    for (table, path) in flags {
        if let Some(path) = path {
            files.retain(|(t, _)| t.name != table.name);
            files.push((table, path.clone()));
        }
    }
    if files.is_empty() {
        bail!(
            "nothing to import\n\nhint: name a folder (`dora import exports/`) or files (`--deployments deploys.csv`)"
        );
    }

    let options = ReadOptions {
        zone,
        mapping: &mapping,
        skip_invalid: args.skip_invalid,
        only: None,
    };
    let inputs = read_files(&files, &options)?;
    let rejects: Vec<&Reject> = inputs.iter().flat_map(|i| &i.read.rejects).collect();
    if !rejects.is_empty() {
        write_atomically(&args.rejects, |out| {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(["table", "file", "line", "column", "value", "reason", "record"])?;
            for r in &rejects {
                let record = r.record.join(",");
                let line = r.problem.line.to_string();
                let file = r.problem.file.display().to_string();
                w.write_record([
                    r.table,
                    &file,
                    &line,
                    &r.problem.column,
                    &r.problem.value,
                    &r.problem.reason,
                    &record,
                ])?;
            }
            w.flush()
        })?;
    }

    let updates: Vec<(&'static Table, polars::prelude::DataFrame)> =
        inputs.iter().map(|i| (i.table, i.read.frame.clone())).collect();
    let (store, changes) = Store::upsert(&global.store, &updates)?;

    if !global.quiet {
        let mut lines = Vec::new();
        for input in &inputs {
            let change = changes.iter().find(|c| c.table == input.table.name);
            if let Some(c) = change {
                let rejected = input
                    .read
                    .rejects
                    .iter()
                    .map(|r| r.problem.line)
                    .collect::<std::collections::BTreeSet<_>>()
                    .len();
                let mut line = format!(
                    "{:<19} {:>9} records: {} added, {} replaced, {} unchanged; {} rows in store",
                    input.table.name, input.read.records, c.added, c.replaced, c.unchanged, c.total
                );
                if rejected > 0 {
                    let _ = write!(line, "; {rejected} rejected");
                }
                lines.push(line);
            }
        }
        let mut err = std::io::stderr().lock();
        for line in lines {
            writeln!(err, "{line}")?;
        }
        if !rejects.is_empty() {
            writeln!(
                err,
                "warning: {} invalid row(s) skipped; see `{}`",
                rejects.len(),
                args.rejects.display()
            )?;
        }
        writeln!(err, "store: {}", store.root().display())?;
    }
    Ok(ExitStatus::Success)
}

/// `dora import OTHER_STORE`: the other store's rows are merged by key, like a CSV import's
/// (its data is valid already: it was validated when it entered that store).
fn merge_store(global: &GlobalArgs, shard: &Store) -> anyhow::Result<ExitStatus> {
    use polars::prelude::LazyFrame;
    if shard.root().canonicalize().ok() == global.store.canonicalize().ok() {
        bail!("`{}` is the store itself", shard.root().display());
    }
    let tables = shard.tables()?;
    let mut updates = Vec::new();
    for (table, frame) in tables.iter() {
        let frame = LazyFrame::collect(frame.clone())
            .map_err(|e| anyhow::anyhow!("failed to read `{}` from `{}`: {e}", table.name, shard.root().display()))?;
        updates.push((table, frame));
    }
    let (store, changes) = Store::upsert(&global.store, &updates)?;
    if !global.quiet {
        let mut err = std::io::stderr().lock();
        for c in &changes {
            writeln!(
                err,
                "{:<19} {} added, {} replaced, {} unchanged; {} rows in store",
                c.table, c.added, c.replaced, c.unchanged, c.total
            )?;
        }
        writeln!(
            err,
            "merged `{}` into {}",
            shard.root().display(),
            store.root().display()
        )?;
    }
    Ok(ExitStatus::Success)
}
