//! `dora collect github`: sync repositories from the GitHub API into the store.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use polars::prelude::*;

use crate::cli::{GithubArgs, GlobalArgs};
use crate::collect::git::TagPattern;
use crate::collect::github::client::{Cached, Event};
use crate::collect::github::token::Token;
use crate::collect::github::{self, Client, Known, Options, Source, Synced};
use crate::commands::{ExitStatus, write_atomically};
use crate::config::{self, RepoSettings};
use crate::error::Error;
use crate::settings;
use crate::store::Store;
use crate::table::empty_frame;
use crate::table::schema;
use crate::timestamp::MICROS_PER_DAY;
use indicatif::{ProgressBar, ProgressStyle};
use std::sync::atomic::{AtomicU64, Ordering};

/// Conditional-request cache, next to the store's snapshots (not part of them: losing it only
/// costs full requests).
const CACHE_FILE: &str = "github-cache.json";

fn token(args: &GithubArgs) -> anyhow::Result<Token> {
    if let Some(path) = &args.token_file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("failed to read the token file `{}`", path.display()))?;
        return Token::new(&text).ok_or_else(|| anyhow::anyhow!("the token file `{}` is empty", path.display()));
    }
    args.github_token
        .iter()
        .chain(&args.gh_token)
        .find_map(|t| Token::new(t.expose()))
        .ok_or_else(|| {
            anyhow::anyhow!(
                "no GitHub token: set GITHUB_TOKEN (or GH_TOKEN), or pass --token-file FILE; it needs {}",
                github::client::PERMISSIONS
            )
        })
}

fn load_cache(store: &Path) -> HashMap<String, Cached> {
    std::fs::read_to_string(store.join(CACHE_FILE))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

/// One repository's options: the flag, else its section of the settings file, else
/// `[github]`, else the default.
fn repo_options(
    args: &GithubArgs,
    settings: &RepoSettings,
    since: i64,
    ai: &crate::collect::assistants::Rules,
) -> anyhow::Result<Options> {
    let pattern = |flag: &'static str, text: &str| {
        glob::Pattern::new(text).map_err(|e| Error::InvalidArgument {
            flag,
            value: text.to_string(),
            expected: format!("a glob ({e})"),
        })
    };
    let from = args
        .deployments_from
        .clone()
        .or_else(|| settings.deployments_from.clone())
        .unwrap_or_else(|| "deployments".into());
    let source = Source::parse(&from).map_err(|expected| Error::InvalidArgument {
        flag: "--deployments-from",
        value: from.clone(),
        expected,
    })?;
    let environment = args
        .environment
        .clone()
        .or_else(|| settings.environment.clone())
        .unwrap_or_else(|| "production".into());
    let labels = if args.incident_labels.is_empty() {
        settings
            .incident_labels
            .clone()
            .unwrap_or_else(|| vec!["incident".into()])
    } else {
        args.incident_labels.clone()
    };
    let tags = args.tags.clone().or_else(|| settings.tags.clone());
    let or_default = |given: &[String], file: &Option<Vec<String>>, default: &[&str]| {
        if given.is_empty() {
            file.clone()
                .unwrap_or_else(|| default.iter().map(|l| (*l).to_string()).collect())
        } else {
            given.to_vec()
        }
    };
    let canary = args
        .canary_environment
        .clone()
        .or_else(|| settings.canary_environment.clone());
    Ok(Options {
        source,
        environment: pattern("--environment", &environment)?,
        canary_environment: canary
            .as_deref()
            .map(|c| pattern("--canary-environment", c))
            .transpose()?,
        incident_labels: labels,
        bug_labels: or_default(&args.bug_labels, &settings.bug_labels, &["bug"]),
        feature_labels: or_default(
            &args.feature_labels,
            &settings.feature_labels,
            &["enhancement", "feature"],
        ),
        since,
        prereleases: args.prereleases || settings.prereleases.unwrap_or(false),
        tags: TagPattern::parse(tags.as_deref()).map_err(|e| Error::InvalidArgument {
            flag: "--tags",
            value: tags.clone().unwrap_or_default(),
            expected: e,
        })?,
        revert_as_failure: args.revert_as_failure || settings.revert_as_failure.unwrap_or(false),
        assistants: ai.clone(),
    })
}

/// Everything a sync needs from the flags and the settings file, checked before any request.
#[derive(Debug)]
struct Plan {
    file: config::GithubSettings,
    since: i64,
    /// How AI-assisted commits are recognised: `[ai]` of the settings file, `--ai-label`.
    ai: crate::collect::assistants::Rules,
    defaults: Options,
    exclude: Vec<glob::Pattern>,
    org: Option<String>,
    named: Vec<String>,
    token: Token,
    api_url: String,
    concurrency: usize,
    max_wait: u64,
}

fn plan(args: &GithubArgs) -> anyhow::Result<Plan> {
    let (file, _) = config::load(args.config.as_deref())?;
    let ai = crate::collect::assistants::Rules::new(
        file.ai.co_authors,
        if args.ai_labels.is_empty() {
            file.ai.labels
        } else {
            args.ai_labels.clone()
        },
    );
    let file = file.github;
    let since = match args.since.as_ref().or(file.since.as_ref()) {
        Some(t) => settings::instant("--since", t, chrono_tz::UTC)?,
        None => settings::now(None, chrono_tz::UTC)? - 90 * MICROS_PER_DAY,
    };
    let defaults = repo_options(args, &file.defaults, since, &ai)?;
    let exclude = args
        .exclude
        .iter()
        .chain(&file.exclude)
        .map(|e| {
            glob::Pattern::new(e).map_err(|err| Error::InvalidArgument {
                flag: "--exclude",
                value: e.clone(),
                expected: format!("a glob ({err})"),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let org = args.org.clone().or_else(|| file.org.clone());
    let mut named: Vec<String> = args.repos.clone();
    if named.is_empty() && args.org.is_none() {
        named.extend(file.repos.iter().cloned());
    }
    if named.is_empty() && org.is_none() {
        anyhow::bail!("name the repositories: --repo OWNER/NAME (repeatable), --org ORG, or `repos` in dora.toml");
    }
    if let Some(bad) = named
        .iter()
        .find(|r| r.split('/').filter(|p| !p.is_empty()).count() != 2)
    {
        return Err(Error::InvalidArgument {
            flag: "--repo",
            value: bad.clone(),
            expected: "OWNER/NAME".into(),
        }
        .into());
    }
    let token = token(args)?;
    let api_url = args
        .api_url
        .clone()
        .or_else(|| file.api_url.clone())
        .unwrap_or_else(|| "https://api.github.com".into());
    let concurrency = args.concurrency.or(file.concurrency).unwrap_or(4).max(1);
    let max_wait = args.max_wait.or(file.max_wait).unwrap_or(900);
    Ok(Plan {
        file,
        since,
        ai,
        defaults,
        exclude,
        org,
        named,
        token,
        api_url,
        concurrency,
        max_wait,
    })
}

/// What the user sees while a sync runs: a spinner on a terminal; in CI (not a terminal) it
/// hides itself and waits and finished repositories are logged as plain lines instead.
#[derive(Clone)]
struct Progress {
    bar: ProgressBar,
    on_terminal: bool,
    quiet: bool,
}

impl Progress {
    fn new(quiet: bool) -> Self {
        let bar = super::progress_bar(quiet);
        bar.set_style(
            ProgressStyle::with_template("{spinner} {elapsed} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        let on_terminal = !bar.is_hidden();
        Progress {
            bar,
            on_terminal,
            quiet,
        }
    }

    /// A line above the spinner, or on its own in CI.
    fn line(&self, line: String) {
        if self.on_terminal {
            self.bar.println(line);
        } else if !self.quiet {
            #[expect(clippy::print_stderr, reason = "the log line CI shows instead of a progress bar")]
            {
                eprintln!("{line}");
            }
        }
    }

    /// The client's events: requests counted on the spinner, waits logged.
    fn notify(&self) -> github::client::Notify {
        let progress = self.clone();
        let (requests, not_modified) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        Box::new(move |event: Event| match event {
            Event::Response { not_modified: nm } => {
                let n = requests.fetch_add(1, Ordering::Relaxed) + 1;
                let m = not_modified.fetch_add(u64::from(nm), Ordering::Relaxed) + u64::from(nm);
                progress.bar.set_message(format!("{n} requests ({m} not modified)"));
            }
            Event::Waiting { reason, seconds, first } => {
                let line = format!("waiting {seconds} s: {reason}");
                if progress.on_terminal {
                    progress.bar.set_message(line);
                } else if first {
                    progress.line(line);
                }
            }
        })
    }
}

pub fn run(global: &GlobalArgs, args: &GithubArgs) -> anyhow::Result<ExitStatus> {
    // Checked now, so a bad flag or file stops before any request.
    let plan = plan(args)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("failed to start the async runtime")?;
    let progress = Progress::new(global.quiet);
    let client = {
        // octocrab's client starts its connection pool on the runtime it is built in. The
        // guard must not outlive this block: Polars, used below, refuses to run inside a
        // single-threaded tokio runtime.
        let _runtime = runtime.enter();
        Arc::new(
            Client::new(
                &plan.api_url,
                Some(&plan.token),
                load_cache(&global.store),
                Duration::from_secs(plan.max_wait),
            )?
            .with_notify(progress.notify()),
        )
    };
    let mut repos = plan.named.clone();
    if let Some(org) = &plan.org {
        repos.extend(runtime.block_on(github::org_repositories(&client, org, &plan.exclude))?);
    }
    repos.sort();
    repos.dedup();
    let jobs = jobs(global, args, &plan, repos)?;
    let (synced, failed) = runtime.block_on(sync_all(&client, jobs, plan.concurrency, &progress))?;

    // What did sync is written, even when another repository failed: each repository's rows
    // are complete in themselves, and a rerun continues from them.
    let changes = if synced.is_empty() {
        Vec::new()
    } else {
        Store::upsert(&global.store, &gathered(&synced)?, global.lock_wait())?.1
    };
    progress.bar.finish_and_clear();
    let client = Arc::try_unwrap(client).map_err(|_| anyhow::anyhow!("the GitHub client is still in use"))?;
    let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
    let stats = Stats {
        repositories: synced.len() + failed.len(),
        requests: load(&client.stats.requests),
        not_modified: load(&client.stats.not_modified),
        rate_limit_waits: load(&client.stats.rate_limit_waits),
        retries: load(&client.stats.retries),
        waited_ms: load(&client.stats.waited_ms),
    };
    if !synced.is_empty() {
        let cache = client.into_cache();
        write_atomically(&global.store.join(CACHE_FILE), |w| {
            serde_json::to_writer(&mut *w, &cache).map_err(std::io::Error::other)
        })?;
    }
    let mut err = std::io::stderr().lock();
    if !global.quiet {
        summary(&mut err, &synced, &changes, &stats)?;
    }
    for (repo, e) in &failed {
        writeln!(err, "error: {repo}: {e}")?;
    }
    Ok(if failed.is_empty() {
        ExitStatus::Success
    } else {
        ExitStatus::Error
    })
}

/// One sync job per repository: what the store already has of it, and its options.
fn jobs(
    global: &GlobalArgs,
    args: &GithubArgs,
    plan: &Plan,
    repos: Vec<String>,
) -> anyhow::Result<Vec<(String, Known, Arc<Options>)>> {
    // Kept open while its rows are read: it pins the snapshot.
    let store = Store::open(&global.store).ok();
    let stored = store.as_ref().map(Store::tables).transpose()?;
    let mut jobs = Vec::new();
    for repo in repos {
        let known = match &stored {
            Some(t) => github::known(t, &repo)?,
            None => Known::default(),
        };
        let options = match plan.file.repo.get(&repo) {
            Some(own) => repo_options(args, &own.or(&plan.file.defaults), plan.since, &plan.ai)?,
            None => plan.defaults.clone(),
        };
        jobs.push((repo, known, Arc::new(options)));
    }
    Ok(jobs)
}

/// Syncs the repositories, `concurrency` at a time; each one's outcome is logged as it ends.
async fn sync_all(
    client: &Arc<Client>,
    jobs: Vec<(String, Known, Arc<Options>)>,
    concurrency: usize,
    progress: &Progress,
) -> anyhow::Result<(Vec<Synced>, Vec<(String, Error)>)> {
    let limit = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let mut tasks = tokio::task::JoinSet::new();
    for (repo, known, options) in jobs {
        let (client, limit) = (Arc::clone(client), Arc::clone(&limit));
        tasks.spawn(async move {
            let _permit = limit.acquire().await;
            let result = github::sync(&client, &repo, &options, &known).await;
            (repo, result)
        });
    }
    let mut synced: Vec<Synced> = Vec::new();
    let mut failed: Vec<(String, Error)> = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (repo, result) = joined.context("a sync task failed")?;
        progress.line(match &result {
            Ok(s) => format!("{repo}: done ({} commits, {} deployments)", s.commits, s.deployments),
            Err(_) => format!("{repo}: failed"),
        });
        match result {
            Ok(s) => synced.push(s),
            Err(e) => failed.push((repo, e)),
        }
    }
    // In repository order, not the order the syncs finished in: the same data writes the same
    // files (a snapshot's bytes do not depend on which repository answered first).
    synced.sort_by(|a, b| a.repo.cmp(&b.repo));
    failed.sort_by(|a, b| a.0.cmp(&b.0));
    Ok((synced, failed))
}

/// The synced repositories' rows, one frame per table.
fn gathered(synced: &[Synced]) -> anyhow::Result<Vec<(&'static schema::Table, DataFrame)>> {
    let mut updates = Vec::new();
    for table in schema::TABLES {
        let mut merged = empty_frame(table);
        for s in synced {
            anyhow::Context::with_context(merged.vstack_mut(s.tables.get(table)), || {
                format!("failed to gather the `{}` rows", table.name)
            })?;
        }
        updates.push((table, merged));
    }
    Ok(updates)
}

/// What the client did, for the summary line.
struct Stats {
    repositories: usize,
    requests: u64,
    not_modified: u64,
    rate_limit_waits: u64,
    retries: u64,
    waited_ms: u64,
}

/// Per repository what was read, the store's changes, and the requests it took.
fn summary(
    err: &mut dyn std::io::Write,
    synced: &[Synced],
    changes: &[crate::store::TableChange],
    stats: &Stats,
) -> std::io::Result<()> {
    let mut sorted: Vec<&Synced> = synced.iter().collect();
    sorted.sort_by(|a, b| a.repo.cmp(&b.repo));
    for s in sorted {
        writeln!(
            err,
            "{}: {} commits on {}, {} deployments, {} incidents, {} issues, {} merged pull requests",
            s.repo, s.commits, s.branch, s.deployments, s.incidents, s.issues, s.pull_requests
        )?;
        if s.unmapped > 0 {
            writeln!(
                err,
                "  {} deployment(s) off the default branch with no earlier deployment to compare with: their commits are unknown",
                s.unmapped
            )?;
        }
        if s.reverted > 0 {
            writeln!(
                err,
                "  {} deployment(s) marked rolled back: a merged pull request reverted their change",
                s.reverted
            )?;
        }
        if s.unknown_causes > 0 {
            writeln!(
                err,
                "  {} incident(s) name a cause dora could not find; they are attributed by time",
                s.unknown_causes
            )?;
        }
    }
    for c in changes.iter().filter(|c| c.added + c.replaced > 0) {
        writeln!(
            err,
            "{:<19} {} added, {} replaced; {} rows in store",
            c.table, c.added, c.replaced, c.total
        )?;
    }
    let optional = |n: u64, what: &str| if n > 0 { format!(", {n} {what}") } else { String::new() };
    writeln!(
        err,
        "{} repositories, {} requests ({} answered 304 Not Modified, free of rate limit){}{}, {:.1} s spent waiting",
        stats.repositories,
        stats.requests,
        stats.not_modified,
        optional(stats.rate_limit_waits, "rate-limit waits"),
        optional(stats.retries, "retries"),
        stats.waited_ms as f64 / 1000.0
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    #[test]
    fn no_struct_that_holds_the_token_prints_it() {
        const SECRET: &str = "ghp_secret_never_printed_0123456789";
        let cli = crate::cli::Cli::try_parse_from([
            "dora",
            "collect",
            "github",
            "--repo",
            "acme/api",
            "--github-token",
            SECRET,
        ])
        .expect("arguments");
        let crate::cli::Command::Collect(crate::cli::CollectCommand::Github(args)) = &cli.command else {
            panic!("not collect github: {cli:?}");
        };
        let plan = plan(args).expect("a plan");
        assert_eq!(plan.token.expose(), SECRET);
        for printed in [
            format!("{cli:?}"),
            format!("{args:?}"),
            format!("{plan:?}"),
            format!("{:#?}", plan.token),
        ] {
            assert!(
                !printed.contains(SECRET) && !printed.contains("0123456789"),
                "{printed}"
            );
        }
    }
}
