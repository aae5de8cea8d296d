//! `dora collect github`: sync repositories from the GitHub API into the store.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use polars::prelude::*;

use crate::cli::{GithubArgs, GlobalArgs};
use crate::collect::empty_frame;
use crate::collect::git::TagPattern;
use crate::collect::github::{self, Client, Known, Options, Source, Synced, client::Cached};
use crate::commands::{ExitStatus, write_atomically};
use crate::error::Error;
use crate::schema;
use crate::settings;
use crate::store::Store;
use crate::timestamp::MICROS_PER_DAY;

/// Conditional-request cache, next to the store's snapshots (not part of them: losing it only
/// costs full requests).
const CACHE_FILE: &str = "github-cache.json";

fn token(args: &GithubArgs) -> anyhow::Result<String> {
    if let Some(path) = &args.token_file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("failed to read the token file `{}`", path.display()))?;
        let token = text.trim().to_string();
        if token.is_empty() {
            anyhow::bail!("the token file `{}` is empty", path.display());
        }
        return Ok(token);
    }
    args.github_token
        .clone()
        .or_else(|| args.gh_token.clone())
        .filter(|t| !t.trim().is_empty())
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

pub fn run(global: &GlobalArgs, args: &GithubArgs) -> anyhow::Result<ExitStatus> {
    let source = Source::parse(&args.deployments_from).map_err(|expected| Error::InvalidArgument {
        flag: "--deployments-from",
        value: args.deployments_from.clone(),
        expected,
    })?;
    let pattern = |flag: &'static str, text: &str| {
        glob::Pattern::new(text).map_err(|e| Error::InvalidArgument {
            flag,
            value: text.to_string(),
            expected: format!("a glob ({e})"),
        })
    };
    let since = match &args.since {
        Some(t) => settings::instant("--since", t, chrono_tz::UTC)?,
        None => chrono::Utc::now().timestamp_micros() - 90 * MICROS_PER_DAY,
    };
    let options = Options {
        source,
        environment: pattern("--environment", &args.environment)?,
        incident_labels: if args.incident_labels.is_empty() {
            vec!["incident".into()]
        } else {
            args.incident_labels.clone()
        },
        since,
        prereleases: args.prereleases,
        tags: TagPattern::parse(args.tags.as_deref()).map_err(|e| Error::InvalidArgument {
            flag: "--tags",
            value: args.tags.clone().unwrap_or_default(),
            expected: e,
        })?,
    };
    let exclude = args
        .exclude
        .iter()
        .map(|e| pattern("--exclude", e))
        .collect::<Result<Vec<_>, _>>()?;
    if args.repos.is_empty() && args.org.is_none() {
        anyhow::bail!("name the repositories: --repo OWNER/NAME (repeatable) or --org ORG");
    }
    if let Some(bad) = args
        .repos
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
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("failed to start the async runtime")?;
    let client = {
        // octocrab's client starts its connection pool on the runtime it is built in. The
        // guard must not outlive this block: Polars, used below, refuses to run inside a
        // single-threaded tokio runtime.
        let _runtime = runtime.enter();
        Arc::new(Client::new(
            &args.api_url,
            Some(token),
            load_cache(&global.store),
            Duration::from_secs(args.max_wait),
        )?)
    };
    let mut repos = args.repos.clone();
    if let Some(org) = &args.org {
        repos.extend(runtime.block_on(github::org_repositories(&client, org, &exclude))?);
    }
    repos.sort();
    repos.dedup();
    // What the store has of each repository, read before the syncs run.
    let stored = Store::open(&global.store).ok().map(|s| s.tables()).transpose()?;
    let mut jobs = Vec::new();
    for repo in repos {
        let known = match &stored {
            Some(t) => github::known(t, &repo)?,
            None => Known::default(),
        };
        jobs.push((repo, known));
    }

    let options = Arc::new(options);
    let (synced, failed) = runtime.block_on(async {
        let limit = Arc::new(tokio::sync::Semaphore::new(args.concurrency.max(1)));
        let mut tasks = tokio::task::JoinSet::new();
        for (repo, known) in jobs {
            let (client, options, limit) = (Arc::clone(&client), Arc::clone(&options), Arc::clone(&limit));
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
            match result {
                Ok(s) => synced.push(s),
                Err(e) => failed.push((repo, e)),
            }
        }
        anyhow::Ok((synced, failed))
    })?;

    // What did sync is written, even when another repository failed: each repository's rows
    // are complete in themselves, and a rerun continues from them.
    let mut updates: Vec<(&'static schema::Table, DataFrame)> = Vec::new();
    for table in schema::TABLES {
        let frames: Vec<DataFrame> = synced.iter().map(|s| s.tables.get(table).clone()).collect();
        let mut merged = empty_frame(table);
        for f in frames {
            anyhow::Context::with_context(merged.vstack_mut(&f), || {
                format!("failed to gather the `{}` rows", table.name)
            })?;
        }
        updates.push((table, merged));
    }
    let changes = if synced.is_empty() {
        Vec::new()
    } else {
        Store::upsert(&global.store, &updates)?.1
    };
    let client = Arc::try_unwrap(client).map_err(|_| anyhow::anyhow!("the GitHub client is still in use"))?;
    let stats = (
        client.stats.requests.load(std::sync::atomic::Ordering::Relaxed),
        client.stats.not_modified.load(std::sync::atomic::Ordering::Relaxed),
        client.stats.rate_limit_waits.load(std::sync::atomic::Ordering::Relaxed),
    );
    if !synced.is_empty() {
        let cache = client.into_cache();
        write_atomically(&global.store.join(CACHE_FILE), |w| {
            serde_json::to_writer(&mut *w, &cache).map_err(std::io::Error::other)
        })?;
    }
    let mut err = std::io::stderr().lock();
    if !global.quiet {
        let mut sorted: Vec<&Synced> = synced.iter().collect();
        sorted.sort_by(|a, b| a.repo.cmp(&b.repo));
        for s in sorted {
            writeln!(
                err,
                "{}: {} commits on {}, {} deployments, {} incidents, {} merged pull requests",
                s.repo, s.commits, s.branch, s.deployments, s.incidents, s.pull_requests
            )?;
            if s.unmapped > 0 {
                writeln!(
                    err,
                    "  {} deployment(s) off the default branch with no earlier deployment to compare with: their commits are unknown",
                    s.unmapped
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
        writeln!(
            err,
            "{} requests ({} answered 304 Not Modified, free of rate limit){}",
            stats.0,
            stats.1,
            if stats.2 > 0 {
                format!(", {} rate-limit waits", stats.2)
            } else {
                String::new()
            }
        )?;
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
