//! `dora collect SOURCE`: fill the store from a source other than CSV exports.

use std::io::Write as _;

use crate::cli::{CollectCommand, GitArgs, GlobalArgs};
use crate::collect::git::{self, Options, Repo, TagPattern};
use crate::commands::ExitStatus;
use crate::error::Error;
use crate::store::{Store, TableChange};

pub fn run(global: &GlobalArgs, command: &CollectCommand) -> anyhow::Result<ExitStatus> {
    match command {
        CollectCommand::Git(args) => run_git(global, args),
        CollectCommand::Github(args) => super::collect_github::run(global, args),
    }
}

fn run_git(global: &GlobalArgs, args: &GitArgs) -> anyhow::Result<ExitStatus> {
    let tags = TagPattern::parse(args.tags.as_deref()).map_err(|message| Error::InvalidArgument {
        flag: "--tags",
        value: args.tags.clone().unwrap_or_default(),
        expected: message,
    })?;
    let options = Options {
        repo_name: args.repo_name.clone(),
        tags,
        branch: args.branch.clone(),
        skip_first: args.skip_first,
        environment: args.environment.clone(),
        line_counts: !args.no_line_counts,
        assistants: super::resolve::assistant_rules(args.config.as_deref())?,
    };
    let repo = Repo::open(&args.path)?;
    let name = git::repo_name(&repo, options.repo_name.as_deref());
    let known = match Store::open(&global.store) {
        Ok(store) if !args.full => git::known_commits(&store.tables()?, &name)?,
        _ => Vec::new(),
    };
    let collected = git::collect(&repo, &options, &name, &known)?;
    let (store, changes) =
        Store::upsert_owned(&global.store, &collected.updates, &collected.owned, global.lock_wait())?;
    if !global.quiet {
        let mut err = std::io::stderr().lock();
        for line in summary(&collected, &changes) {
            writeln!(err, "{line}")?;
        }
        writeln!(err, "store: {}", store.root().display())?;
    }
    Ok(ExitStatus::Success)
}

fn commits(n: usize) -> String {
    if n == 1 {
        "1 commit".into()
    } else {
        format!("{n} commits")
    }
}

fn summary(c: &git::Collected, changes: &[TableChange]) -> Vec<String> {
    let mut lines = vec![format!(
        "{}: {} commits on {} ({} read from git this run), {} deployments from tags",
        c.repo,
        c.total_commits,
        c.branch,
        c.new_commits,
        c.deployments.len()
    )];
    if c.shallow {
        lines.push(
            "warning: this is a shallow clone: history is cut at its boundary, so the first \
             deployment after it ships only the commits inside the clone and lead times that \
             reach past it are missing; run `git fetch --unshallow` for exact numbers"
                .into(),
        );
    }
    if let Some(first) = c.deployments.first() {
        lines.push(if c.skip_first {
            format!(
                "the first deployment, {}, would ship {} (the history up to it); --skip-first leaves them out of lead time",
                first.tag,
                commits(first.commits)
            )
        } else {
            format!(
                "note: the first deployment, {}, ships {} (the history up to it), so their lead \
                 times reach back to the repository's start; --skip-first leaves them out",
                first.tag,
                commits(first.commits)
            )
        });
    }
    if !c.skipped.is_empty() {
        let list: Vec<String> = c.skipped.iter().map(|s| format!("{} ({})", s.tag, s.reason)).collect();
        lines.push(format!("skipped {} tag(s): {}", c.skipped.len(), list.join(", ")));
    }
    if c.other_tags > 0 {
        lines.push(format!("{} other tag(s) do not match the pattern", c.other_tags));
    }
    for ch in changes.iter().filter(|ch| ch.table != "incidents") {
        lines.push(format!(
            "{:<19} {} added, {} replaced, {} unchanged, {} removed; {} rows in store",
            ch.table, ch.added, ch.replaced, ch.unchanged, ch.removed, ch.total
        ));
    }
    lines
}
