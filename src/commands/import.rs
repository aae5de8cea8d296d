//! `dora import`: validate CSV exports and merge them into the store.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::bail;
use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::{FromTool, GlobalArgs, ImportArgs};
use crate::collect::csv::mapping::Mapping;
use crate::collect::csv::{ReadOptions, conclude, links, read_chunks};
use crate::collect::folder_files;
use crate::collect::{assistants, closing};
use crate::commands::{ExitStatus, write_atomically};
use crate::error::Reject;
use crate::settings;
use crate::store::{self, Store};
use crate::table::keys::ROW;
use crate::table::schema::{self, Table};

pub fn run(global: &GlobalArgs, args: &ImportArgs) -> anyhow::Result<ExitStatus> {
    if let Some(tool) = args.from {
        return import_objects(global, args, tool);
    }
    // Another store (a shard written by a CI matrix job, say): merge its tables by key.
    if let Some(dir) = &args.dir
        && let Ok(shard) = Store::open(dir)
    {
        return merge_store(global, args, &shard);
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

    let rules = super::resolve::assistant_rules(args.config.as_deref())?;
    let options = ReadOptions {
        zone,
        mapping: &mapping,
        skip_invalid: args.skip_invalid,
        only: None,
        progress: None,
    };
    // Files are read a chunk at a time straight into the store's writer, which merges them
    // partition by partition: memory stays bounded whatever the size of the exports.
    let sizes: Vec<u64> = files
        .iter()
        .map(|(_, p)| std::fs::metadata(p).map_or(0, |m| m.len()))
        .collect();
    let big_rows = files
        .iter()
        .zip(&sizes)
        .filter(|((t, _), _)| t.name == schema::COMMITS.name || t.name == schema::DEPLOYMENT_COMMITS.name)
        .map(|(_, &size)| estimated_rows(size))
        .sum();
    let mut writer = store::Writer::open(&global.store, big_rows, args.partition_rows, global.lock_wait())?;
    let progress = Progress::new(global.quiet);
    progress.reading(sizes.iter().sum());
    let mut reads = Vec::new();
    let mut read_before = 0;
    let mut issue_ids = std::collections::HashSet::new();
    let mut held_links = Vec::new();
    let mut message_links = Vec::new();
    for ((table, path), size) in files.iter().zip(&sizes) {
        progress.file(path);
        let report = |bytes| progress.read(read_before + bytes);
        let options = ReadOptions {
            progress: Some(&report),
            ..options
        };
        let read = read_chunks(path, table, &options, args.csv_chunk_bytes, &mut |mut chunk| {
            if table.name == schema::ISSUES.name {
                links::issue_ids(&chunk, &mut issue_ids)?;
            }
            if table.name == schema::ISSUE_COMMITS.name {
                // Held back until every issue is known (a small table).
                held_links.push(chunk);
                return Ok(());
            }
            if table.name == schema::COMMITS.name {
                chunk = assistants::with_flags(chunk, &rules)?;
            }
            if table.name == schema::PULL_REQUESTS.name {
                chunk = assistants::with_pull_request_flags(chunk, &rules)?;
            }
            if table.name == schema::COMMITS.name
                && let Some(links) = closing::links_of_commits(&chunk)?
            {
                // Links from closing keywords and tracker keys in the messages: not checked
                // against the issues (they may be imported later; unknown ids never match).
                message_links.push(links);
            }
            writer.add(table, chunk)
        })?;
        read_before += size;
        reads.push((*table, path.clone(), read));
    }
    if !held_links.is_empty() {
        if let Ok(store) = Store::open(&global.store) {
            let issues = store
                .tables()?
                .issues
                .select([polars::prelude::col(schema::issues::ID)]);
            let issues = issues.collect().map_err(|e| crate::error::Error::Polars {
                context: "failed to read the store's issues".into(),
                source: e,
            })?;
            links::issue_ids(&issues, &mut issue_ids)?;
        }
        for chunk in held_links {
            let rows = chunk
                .column(ROW)
                .map_err(|e| crate::error::Error::Polars {
                    context: "failed to read `issue_commits`".into(),
                    source: e,
                })?
                .clone();
            let problems = links::unknown_issues(&chunk, &rows, &issue_ids)?;
            let (chunk, _) = links::without_rows(&chunk, &rows, &problems)?;
            if let Some((_, _, read)) = reads.iter_mut().find(|(t, _, _)| t.name == schema::ISSUE_COMMITS.name) {
                read.problems.extend(problems);
            }
            // Every column of `issue_commits` is its key: two rows of one key are copies, so
            // there is no conflict to locate, and the rows go without their numbers (as the
            // links from messages do).
            writer.add(&schema::ISSUE_COMMITS, chunk.drop(ROW).unwrap_or(chunk))?;
        }
    }
    let derived_links: usize = message_links.iter().map(polars::prelude::DataFrame::height).sum();
    for links in message_links {
        writer.add(&schema::ISSUE_COMMITS, links)?;
    }
    // Keys are checked while merging (a key can repeat across chunks); the import fails, with
    // every kind of problem listed, before the new snapshot becomes current.
    progress.merging(&mut writer);
    let mut prepared = writer.prepare(&[], true)?;
    drop(progress);
    let mut inputs = Vec::new();
    for (table, path, read) in reads {
        let mut problems = read.problems;
        problems.extend(prepared.take_problems(table));
        let rejects = conclude(&path, table, args.skip_invalid, problems)?;
        inputs.push((table, read.records, read.folded, rejects));
    }
    let rejects: Vec<&Reject> = inputs.iter().flat_map(|(_, _, _, r)| r).collect();
    if !rejects.is_empty() {
        write_atomically(&args.rejects, |out| crate::output::rejects::render(&rejects, out))?;
    }
    let changes = prepared.changes.clone();
    let store = prepared.commit()?;

    if !global.quiet {
        let mut lines = Vec::new();
        let unknown_commits = if inputs.iter().any(|(t, ..)| t.name == schema::ISSUE_COMMITS.name) {
            links_to_unknown_commits(&store)?
        } else {
            0
        };
        for (table, records, folded, table_rejects) in &inputs {
            let change = changes.iter().find(|c| c.table == table.name);
            if let Some(c) = change {
                let rejected = table_rejects
                    .iter()
                    .map(|r| r.problem.line)
                    .collect::<std::collections::BTreeSet<_>>()
                    .len();
                let mut line = format!(
                    "{:<19} {:>9} records: {} added, {} replaced, {} unchanged; {} rows in store",
                    table.name, records, c.added, c.replaced, c.unchanged, c.total
                );
                if rejected > 0 {
                    let _ = write!(line, "; {rejected} rejected");
                }
                if *folded > 0 {
                    let _ = write!(line, "; {folded} kind(s) read as `other`");
                }
                if table.name == schema::ISSUE_COMMITS.name && derived_links > 0 {
                    let _ = write!(line, "; {derived_links} from commit messages");
                }
                if table.name == schema::ISSUE_COMMITS.name && unknown_commits > 0 {
                    let _ = write!(
                        line,
                        "; {unknown_commits} link(s) to commits not in `commits` (ignored for delivery)"
                    );
                }
                lines.push(line);
            }
        }
        // Links from commit messages, without an `issue_commits` file.
        if derived_links > 0
            && !inputs.iter().any(|(t, ..)| t.name == schema::ISSUE_COMMITS.name)
            && let Some(c) = changes.iter().find(|c| c.table == schema::ISSUE_COMMITS.name)
        {
            lines.push(format!(
                "{:<19} {:>9} links from commit messages: {} added, {} unchanged; {} rows in store",
                c.table, derived_links, c.added, c.unchanged, c.total
            ));
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

/// `dora import --from TOOL FILE`: a controller's objects, each finished revision a deployment,
/// merged by id (so snapshots taken every few minutes build the history).
fn import_objects(global: &GlobalArgs, args: &ImportArgs, tool: FromTool) -> anyhow::Result<ExitStatus> {
    use crate::collect::kubernetes::{self, Options, argo_cd, argo_rollouts, flagger};
    let Some(file) = &args.dir else {
        bail!("name the file: `dora import --from {} FILE`", tool_name(tool));
    };
    let options = Options {
        environment: args.environment.clone(),
        repo: args.repo.clone(),
        commit_annotation: args.commit_annotation.clone(),
    };
    let read = match tool {
        FromTool::ArgoRollouts => argo_rollouts::read(file, &options)?,
        FromTool::Flagger => flagger::read(file, &options)?,
        FromTool::Argocd => argo_cd::read(file, &options)?,
    };
    let frame = kubernetes::frame(&read.rows, &options)?;
    let mut writer = store::Writer::open(&global.store, 0, args.partition_rows, global.lock_wait())?;
    writer.add(&schema::DEPLOYMENTS, frame)?;
    let prepared = writer.prepare(&[], false)?;
    let changes = prepared.changes.clone();
    let store = prepared.commit()?;
    if !global.quiet {
        let mut err = std::io::stderr().lock();
        if let Some(c) = changes.iter().find(|c| c.table == schema::DEPLOYMENTS.name) {
            writeln!(
                err,
                "{:<19} {:>9} finished revisions: {} added, {} replaced, {} unchanged; {} rows in store",
                c.table,
                read.rows.len(),
                c.added,
                c.replaced,
                c.unchanged,
                c.total
            )?;
        }
        for (object, why) in &read.skipped {
            writeln!(err, "skipped {object}: {why}")?;
        }
        writeln!(err, "store: {}", store.root().display())?;
    }
    Ok(ExitStatus::Success)
}

fn tool_name(tool: FromTool) -> &'static str {
    match tool {
        FromTool::ArgoRollouts => "argo-rollouts",
        FromTool::Flagger => "flagger",
        FromTool::Argocd => "argocd",
    }
}

/// Links of `issue_commits` whose commit is not in `commits` (of the issue's repository): a
/// squash-merged pull request's own commits never reach the branch. Not an error; counted.
fn links_to_unknown_commits(store: &Store) -> anyhow::Result<usize> {
    use polars::prelude::*;
    use schema::{commits as c, issue_commits as l, issues as i};
    let tables = store.tables()?;
    let linked = tables
        .issue_commits
        .join(
            tables.issues.select([col(i::ID), col(i::REPO)]),
            [col(l::ISSUE_ID)],
            [col(i::ID)],
            JoinArgs::new(JoinType::Inner),
        )
        .join(
            tables.commits.select([col(c::REPO), col(c::SHA)]),
            [col(i::REPO), col(l::SHA)],
            [col(c::REPO), col(c::SHA)],
            JoinArgs::new(JoinType::Anti),
        )
        .select([len().alias("n")])
        .collect()?;
    Ok(linked
        .column("n")
        .ok()
        .and_then(|c| c.get(0).ok())
        .and_then(|v| v.extract::<usize>())
        .unwrap_or(0))
}

/// `dora import OTHER_STORE`: the other store's rows are merged by key, like a CSV import's
/// (its data is valid already: it was validated when it entered that store).
fn merge_store(global: &GlobalArgs, args: &ImportArgs, shard: &Store) -> anyhow::Result<ExitStatus> {
    if shard.root().canonicalize().ok() == global.store.canonicalize().ok() {
        bail!("`{}` is the store itself", shard.root().display());
    }
    let tables = shard.tables()?;
    let mut writer = store::Writer::open(
        &global.store,
        shard.partitioned_rows()?,
        args.partition_rows,
        global.lock_wait(),
    )?;
    let progress = Progress::new(global.quiet);
    progress.reading_store(shard.root());
    for (table, frame) in tables.iter() {
        store::for_each_slice(frame.clone(), table, args.partition_rows, &mut |slice| {
            writer.add(table, slice)
        })?;
    }
    progress.merging(&mut writer);
    let prepared = writer.prepare(&[], false)?;
    drop(progress);
    let changes = prepared.changes.clone();
    let store = prepared.commit()?;
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

/// What an import shows on a terminal while it works: the bytes of the files read, then the
/// store's partitions merged and written (a first import of 100M commits takes minutes). Hidden
/// with `-q`, and when stderr is not a terminal: CI logs get the summary lines only.
struct Progress {
    bar: ProgressBar,
}

impl Progress {
    fn new(quiet: bool) -> Self {
        let bar = super::progress_bar(quiet);
        if !bar.is_hidden() {
            bar.enable_steady_tick(Duration::from_millis(120));
        }
        Progress { bar }
    }

    fn style(&self, template: &str) {
        if let Some(style) = bar_style(template) {
            self.bar.set_style(style);
        }
    }

    fn reading(&self, total_bytes: u64) {
        self.style("{spinner} {elapsed:>4} [{bar:25}] {bytes}/{total_bytes} {wide_msg}");
        self.bar.set_length(total_bytes);
    }

    fn file(&self, path: &Path) {
        let name = path.file_name().unwrap_or(path.as_os_str()).to_string_lossy();
        self.bar.set_message(format!("reading {name}"));
    }

    fn reading_store(&self, root: &Path) {
        self.style("{spinner} {elapsed:>4} {wide_msg}");
        self.bar.set_message(format!("reading the store {}", root.display()));
    }

    fn read(&self, bytes: u64) {
        self.bar.set_position(bytes);
    }

    /// From here on the bar counts the store's partitions.
    fn merging(&self, writer: &mut store::Writer) {
        // No counts until the writer says how many partitions there are (drawn in between,
        // the bar would show bytes of partitions).
        self.style("{spinner} {elapsed:>4} {wide_msg}");
        self.bar.set_message("merging into the store");
        let bar = self.bar.clone();
        let style = bar_style("{spinner} {elapsed:>4} [{bar:25}] {pos}/{len} partitions: {wide_msg}");
        writer.report_progress(move |done, parts| {
            bar.set_length(parts as u64);
            bar.set_position(done as u64);
            if done == 0
                && let Some(style) = &style
            {
                bar.set_style(style.clone());
            }
            if done == parts {
                bar.set_message("writing the last files");
            }
        });
    }
}

/// Gone, the bar is cleared: before the summary, or before the error of an import that fails.
impl Drop for Progress {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

fn bar_style(template: &str) -> Option<ProgressStyle> {
    ProgressStyle::with_template(template)
        .ok()
        .map(|style| style.progress_chars("=> "))
}

/// About how many records a CSV file of `size` bytes holds (an overestimate: a commit row is
/// about 110 bytes), to size the store's partitions before reading it.
fn estimated_rows(size: u64) -> usize {
    (size / 48) as usize
}
