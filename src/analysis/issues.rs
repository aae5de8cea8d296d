//! The feedback loop: from a user's report (a bug or a feature request) to the production
//! deployment that shipped its fix.
//!
//! An issue's linked commits (`issue_commits`, joined on the issue's repository) are shipped by
//! the production deployment lead time gives them. An issue is delivered when every linked
//! commit that is in `commits` has shipped, and at least one is; `delivered_at` is the latest of
//! those deployments. Links to commits not in `commits` are ignored (a squash-merged pull
//! request's own commits never reach the branch). From the delivered issues: issue lead time
//! (`delivered_at - created_at`, negatives dropped and counted) and awaiting deployment
//! (`delivered_at` - the latest linked commit). Besides: the issues open at the scope's end and
//! their age, and those closed without a fix (`not_planned`, or no link at all).
//!
//! The plan yields one row per issue ([`deliveries`]); issues are few next to commits, so the
//! figures are then summarized here in Rust, at every level and period at once ([`summarize`]).

use std::collections::HashMap;

use polars::prelude::*;

use super::figures::{Awaiting, IssueFigures, KindFigures, LeadTime};
use super::window::{Period, Window};
use super::{AT, COMMITTED, CREATED, GROUP, GroupBy, Scope, ScopeKey, issues_by_row, lead_time, micros, null_of};
use crate::error::{PolarsContext, Result};
use crate::table::Tables;
use crate::table::schema::{
    commits as c, deployment_commits as dc, deployments as d, issue_commits as l, issue_kind, issues as i,
};
use crate::timestamp::{MICROS_PER_HOUR, Micros};

pub const CLOSED: &str = "closed_us";
pub const DELIVERED: &str = "delivered_us";
pub const LAST_COMMIT: &str = "last_commit_us";
pub const DELIVERED_BY: &str = "delivered_by";
pub const LINKED: &str = "linked";
pub const REASON: &str = "reason";
pub const COMMITS: &str = "commits";
pub const LEAD_HOURS: &str = "lead_time_hours";
pub const AWAITING_HOURS: &str = "awaiting_deployment_hours";
/// The columns of [`deliveries`] that [`summarize`] reads.
pub const SUMMARIZED: [&str; 8] = [i::KIND, REASON, GROUP, CREATED, CLOSED, DELIVERED, LAST_COMMIT, LINKED];
const ISSUE: &str = "issue_id";
/// What an issue's aggregates are joined on: its row or its id.
const KEY: &str = "issue_key";
// The columns of the per-issue aggregates, by either path.
pub(super) const SHIP_AT: &str = "ship_us";
pub(super) const SHIP_ID: &str = "ship_id";
pub(super) const SHIP_GROUP: &str = "ship_group";
pub(super) const IN_COMMITS: &str = "in_commits";
pub(super) const SHIPPED: &str = "shipped";
const REPO_GROUP: &str = "repo_group";
/// A deployment's pairs, in [`fix_only_by_row`].
const PAIRS: &str = "pairs";

/// Whether the issue tables have rows: without them the figures are `null` (not zeros).
pub fn present(tables: &Tables) -> Result<bool> {
    super::has_rows(&tables.issues, "issues")
}

/// The links of each issue to commits of its repository: `(issue_id, repo, sha)`.
fn links(tables: &Tables) -> LazyFrame {
    tables.issue_commits.clone().join(
        tables.issues.clone().select([col(i::ID), col(i::REPO)]),
        [col(l::ISSUE_ID)],
        [col(i::ID)],
        JoinArgs::new(JoinType::Inner),
    )
}

/// Whether `issue_commits` has the store's derived columns (each link's commit time and the
/// rows of the deployments that list it, docs/store.md).
fn derived(tables: &Tables) -> bool {
    use crate::table::schema::{DERIVED_COMMITTED_AT, DERIVED_DEPLOYMENT_ROWS};
    super::has_columns(&tables.issue_commits, &[DERIVED_COMMITTED_AT, DERIVED_DEPLOYMENT_ROWS])
}

/// The links, with each linked commit's time (`committed_us`, null when the commit is not in
/// `commits`), and the tables reduced to the linked commits, planned once for the deliveries
/// and the fix-only deployments: finding the linked shas among millions of commits and
/// deployed commits is most of the feedback loop's cost, unless the store derived them.
#[derive(Clone)]
pub struct Linked {
    links: LazyFrame,
    /// With the store's derived columns ([`by_rows`]): the deliveries and bug fixes from one
    /// pass over the links.
    passes: Option<issues_by_row::Passes>,
    /// `commits` and `deployment_commits` of the linked shas only: the pairs of lead time over
    /// them are the same as over all commits (a commit's deployment does not depend on the
    /// others), and thousands instead of millions.
    tables: Tables,
}

impl Linked {
    /// `production` has the group column.
    pub fn new(tables: &Tables, production: &LazyFrame, mapped: bool) -> Linked {
        if derived(tables) {
            let mut linked = Linked::from_derived(tables);
            linked.passes = by_rows(tables, mapped).then(|| issues_by_row::Passes::new(tables, production));
            return linked;
        }
        let links = links(tables)
            .select([col(l::ISSUE_ID).alias(ISSUE), col(i::REPO), col(l::SHA)])
            .unique(None, UniqueKeepStrategy::Any)
            .cache();
        let shas = links
            .clone()
            .select([col(l::SHA)])
            .unique(None, UniqueKeepStrategy::Any);
        let semi = |frame: &LazyFrame, on: &str| {
            frame
                .clone()
                .join(shas.clone(), [col(on)], [col(l::SHA)], JoinArgs::new(JoinType::Semi))
                .cache()
        };
        let mut linked = tables.clone();
        linked.commits = semi(&tables.commits, c::SHA);
        linked.deployment_commits = semi(&tables.deployment_commits, dc::SHA);
        let links = links
            .join(
                linked
                    .commits
                    .clone()
                    .select([col(c::REPO), col(c::SHA), micros(c::COMMITTED_AT).alias(COMMITTED)]),
                [col(i::REPO), col(l::SHA)],
                [col(c::REPO), col(c::SHA)],
                JoinArgs::new(JoinType::Left),
            )
            .cache();
        Linked {
            links,
            passes: None,
            tables: linked,
        }
    }

    /// From the derived columns: the links alone give the linked commits (their time) and
    /// deployed commits (their deployments' rows), without reading `commits` or
    /// `deployment_commits`. A sha linked by two issues of one repository appears twice in the
    /// reduced tables; what reads them takes the first deployment or counts distinct shas.
    fn from_derived(tables: &Tables) -> Linked {
        use crate::table::schema::{DERIVED_COMMITTED_AT, DERIVED_DEPLOYMENT_ROW, DERIVED_DEPLOYMENT_ROWS};
        let links = links(tables).cache();
        let known = links.clone().filter(col(DERIVED_COMMITTED_AT).is_not_null());
        let mut linked = tables.clone();
        linked.commits = known
            .clone()
            .select([col(i::REPO).alias(c::REPO), col(l::SHA), col(DERIVED_COMMITTED_AT)])
            .unique(None, UniqueKeepStrategy::Any);
        linked.deployment_commits = known
            .select([
                null_of(DataType::String).alias(dc::DEPLOYMENT_ID),
                col(l::SHA),
                col(DERIVED_COMMITTED_AT),
                col(DERIVED_DEPLOYMENT_ROWS).alias(DERIVED_DEPLOYMENT_ROW),
            ])
            .explode(
                cols([DERIVED_DEPLOYMENT_ROW]),
                ExplodeOptions {
                    empty_as_null: false,
                    keep_nulls: false,
                },
            )
            .cache();
        let links = links.select([
            col(l::ISSUE_ID).alias(ISSUE),
            col(i::REPO),
            col(l::SHA),
            micros(DERIVED_COMMITTED_AT).alias(COMMITTED),
        ]);
        Linked {
            links,
            passes: None,
            tables: linked,
        }
    }
}

/// The aggregates of each issue's links (`issue_id`), by joins: each link's shipping deployment
/// from lead time's pairs on `(repo, sha)`, then per issue. As [`issues_by_row::per_issue`].
fn per_issue_by_joins(linked: &Linked, production: &LazyFrame, mapped: bool) -> LazyFrame {
    let links = linked.links.clone();
    // Of a commit's pairs, the first deployment ships it.
    // Sorted once, so that each group's first row is its earliest: a group-by keeps the rows
    // of a group in order, and a sort within each of 2M groups took seconds (perf, 20M commits).
    let shipped = lead_time::pairs(&linked.tables, production, mapped, false)
        .sort([AT, d::ID], SortMultipleOptions::default())
        .group_by([col(d::REPO), col(l::SHA)])
        .agg([
            col(AT).first().alias(SHIP_AT),
            col(d::ID).first().alias(SHIP_ID),
            col(GROUP).cast(DataType::String).first().alias(SHIP_GROUP),
        ]);
    links
        .join(
            shipped,
            [col(i::REPO), col(l::SHA)],
            [col(d::REPO), col(l::SHA)],
            JoinArgs::new(JoinType::Left),
        )
        .with_columns([
            col(COMMITTED).is_not_null().alias(IN_COMMITS),
            col(COMMITTED)
                .is_not_null()
                .and(col(SHIP_AT).is_not_null())
                .alias(SHIPPED),
        ])
        // In delivery order: an issue's last shipped row is the deployment that delivered it.
        .sort(
            [SHIP_AT, SHIP_ID],
            SortMultipleOptions::default().with_nulls_last(false),
        )
        .group_by([col(ISSUE)])
        .agg([
            lit(true).first().alias(LINKED),
            col(IN_COMMITS).sum().alias(IN_COMMITS),
            col(SHIPPED).sum().alias(SHIPPED),
            col(SHIP_AT).filter(col(SHIPPED)).max().alias(SHIP_AT),
            col(COMMITTED).max().alias(LAST_COMMIT),
            col(SHIP_ID).filter(col(SHIPPED)).last().alias(SHIP_ID),
            col(SHIP_GROUP).filter(col(SHIPPED)).last().alias(SHIP_GROUP),
        ])
}

/// Each linked issue's commits that are in `commits`, sorted and joined by spaces (`commits`),
/// by `issue_id`.
pub fn commits_of(linked: &Linked) -> LazyFrame {
    linked
        .links
        .clone()
        .filter(col(COMMITTED).is_not_null())
        .group_by([col(ISSUE)])
        .agg([col(l::SHA)
            .unique()
            .sort(SortOptions::default())
            .str()
            .join(" ", true)
            .alias(COMMITS)])
        .rename([ISSUE], [i::ID], true)
}

/// One row per issue: its columns, whether it has links (`linked`), and when delivered, by which
/// production deployment (`delivered_by`) and that deployment's group. `production` has the
/// group column; `group_by` decides the group of an issue: its repository, or the delivering
/// deployment's service or team (the repository's latest deployment's when not delivered).
pub fn deliveries(
    tables: &Tables,
    linked: &Linked,
    production: &LazyFrame,
    mapped: bool,
    group_by: Option<GroupBy>,
) -> Result<LazyFrame> {
    let delivered = col(IN_COMMITS)
        .gt(lit(0))
        .and(col(SHIPPED).eq(col(IN_COMMITS)))
        .fill_null(lit(false));
    let repo_group = production.clone().group_by([col(d::REPO)]).agg([col(GROUP)
        .cast(DataType::String)
        .sort_by([col(AT)], SortMultipleOptions::default())
        .last()
        .alias(REPO_GROUP)]);
    // The group of an issue: its repository, or the service or team of the deployment that
    // delivered it (of the repository's latest production deployment while not delivered).
    let group = match group_by {
        None => null_of(DataType::String),
        Some(GroupBy::Repo) => col(i::REPO),
        Some(_) => when(delivered.clone()).then(col(SHIP_GROUP)).otherwise(col(REPO_GROUP)),
    };
    let columns = tables.issues.clone().select([
        col(i::ID),
        col(i::REPO),
        col(i::KIND),
        col(i::TITLE),
        col(i::URL),
        micros(i::CREATED_AT).alias(CREATED),
        micros(i::CLOSED_AT).alias(CLOSED),
        col(i::STATE_REASON)
            .str()
            .to_lowercase()
            .fill_null(lit(""))
            .alias(REASON),
    ]);
    // The aggregates' columns, dropped once read.
    let mut dropped = vec![IN_COMMITS, SHIPPED, SHIP_AT, SHIP_ID, SHIP_GROUP];
    // The aggregates of each issue's links: from the derived columns, one row per issue in
    // its order, put beside it (a join of 1.1M rows on the row number cost more than the pass
    // that computed them); else by the issue id.
    let mut with_links = if let Some(passes) = &linked.passes {
        concat_lf_horizontal(
            [columns, passes.per_issue.clone()],
            HConcatOptions {
                strict: true,
                ..HConcatOptions::default()
            },
        )
        .context(|| "failed to plan the feedback loop".to_string())?
    } else {
        dropped.push(KEY);
        columns.with_column(col(i::ID).alias(KEY)).join(
            per_issue_by_joins(linked, production, mapped).rename([ISSUE], [KEY], true),
            [col(KEY)],
            [col(KEY)],
            JoinArgs::new(JoinType::Left),
        )
    };
    if matches!(group_by, Some(GroupBy::Service | GroupBy::Team)) {
        dropped.push(REPO_GROUP);
        with_links = with_links.join(
            repo_group,
            [col(i::REPO)],
            [col(d::REPO)],
            JoinArgs::new(JoinType::Left),
        );
    }
    Ok(with_links
        .with_columns([
            when(delivered.clone())
                .then(col(SHIP_AT))
                .otherwise(null_of(DataType::Int64))
                .alias(DELIVERED),
            when(delivered.clone())
                .then(col(SHIP_ID))
                .otherwise(null_of(DataType::String))
                .alias(DELIVERED_BY),
            col(LINKED).fill_null(lit(false)),
            group.alias(GROUP),
        ])
        .drop(cols(dropped)))
}

/// The deployments of `window_deployments` (ids) that are fix-only: they shipped at least one
/// commit, and every commit they shipped is linked to a `bug` issue of their repository. Pairs
/// are counted as lead time lists them, negative ones included.
///
/// `deployed` is [`lead_time::deployed_by_row`], read when `deployment_commits` has the
/// derived columns.
pub fn fix_only(
    tables: &Tables,
    deployed: &LazyFrame,
    linked: &Linked,
    production: &LazyFrame,
    mapped: bool,
) -> LazyFrame {
    if let Some(passes) = &linked.passes {
        return fix_only_by_row(deployed, production, passes.fixes.clone());
    }
    let bug_links = bug_links(tables, linked);
    if mapped && lead_time::by_row(tables) {
        return fix_only_by_row(deployed, production, fixes_by_joins(linked, production, bug_links));
    }
    fix_only_by_pairs(tables, linked, production, mapped, bug_links)
}

/// Whether the links and the deployed commits both have the store's derived columns: then the
/// feedback loop is one pass over the links ([`issues_by_row`]).
fn by_rows(tables: &Tables, mapped: bool) -> bool {
    mapped && issues_by_row::readable(tables) && lead_time::by_row(tables)
}

/// `(repo, sha)` of the commits linked to a `bug` issue, once each, flagged `bug_fix`.
fn bug_links(tables: &Tables, linked: &Linked) -> LazyFrame {
    linked
        .links
        .clone()
        .join(
            tables
                .issues
                .clone()
                .filter(col(i::KIND).eq(lit(issue_kind::BUG)))
                .select([col(i::ID).alias("bug")]),
            [col(ISSUE)],
            [col("bug")],
            JoinArgs::new(JoinType::Semi),
        )
        .select([col(i::REPO), col(l::SHA)])
        .unique(None, UniqueKeepStrategy::Any)
        .with_column(lit(true).alias("bug_fix"))
}

/// As [`issues_by_row::fixes`], by joins: the deployed commits reduced to the linked shas,
/// joined with the bug links on the sha and checked against the deployment's repository.
fn fixes_by_joins(linked: &Linked, production: &LazyFrame, bug_links: LazyFrame) -> LazyFrame {
    use super::production::ROW;
    use crate::table::schema::{DERIVED_COMMITTED_AT, DERIVED_DEPLOYMENT_ROW};
    linked
        .tables
        .deployment_commits
        .clone()
        .filter(col(DERIVED_COMMITTED_AT).is_not_null())
        .select([
            col(DERIVED_DEPLOYMENT_ROW).cast(DataType::UInt32).alias(ROW),
            col(l::SHA),
        ])
        .join(
            bug_links.select([col(i::REPO).alias("bug_repo"), col(l::SHA)]),
            [col(l::SHA)],
            [col(l::SHA)],
            JoinArgs::new(JoinType::Inner),
        )
        .join(
            production
                .clone()
                .select([col(ROW).cast(DataType::UInt32), col(d::REPO)]),
            [col(ROW)],
            [col(ROW)],
            JoinArgs::new(JoinType::Inner),
        )
        .filter(col(d::REPO).eq(col("bug_repo")))
        .group_by([col(ROW)])
        .agg([col(l::SHA).n_unique().alias(issues_by_row::FIXES)])
}

/// [`fix_only`] from the store's derived columns: each completed deployment's pairs counted by
/// its position (in `deployed`, [`lead_time::deployed_by_row`]), against its bug fixes
/// (`deployment_row`, `fixes`). Joining every pair with the links on (repo, sha) took most of
/// the feedback loop's time at 2M commits (perf).
fn fix_only_by_row(deployed: &LazyFrame, production: &LazyFrame, fixes: LazyFrame) -> LazyFrame {
    use super::production::{COMPLETED, ROW};
    use crate::table::schema::DERIVED_DEPLOYMENT_ROW;
    // Every pair, counted by its deployment's position in an array: a group-by of the 20M
    // positions was most of the feedback loop's cost in Polars (perf, 20M commits).
    let pairs = deployed
        .clone()
        .filter(col(COMMITTED).is_not_null())
        .select([col(DERIVED_DEPLOYMENT_ROW).alias(ROW)])
        .map(
            |frame| {
                let mut counts: Vec<u32> = Vec::new();
                for row in frame.column(ROW)?.u32()?.iter().flatten() {
                    let row = row as usize;
                    if counts.len() <= row {
                        counts.resize(row + 1, 0);
                    }
                    counts[row] += 1;
                }
                let (rows, counts): (Vec<u32>, Vec<u32>) = (0u32..).zip(counts).filter(|(_, count)| *count > 0).unzip();
                DataFrame::new(
                    rows.len(),
                    vec![Column::new(ROW.into(), rows), Column::new(PAIRS.into(), counts)],
                )
            },
            OptFlags::empty(),
            Some(std::sync::Arc::new(|_: &Schema| {
                Ok(std::sync::Arc::new(Schema::from_iter([
                    Field::new(ROW.into(), DataType::UInt32),
                    Field::new(PAIRS.into(), DataType::UInt32),
                ])))
            })),
            Some("pairs by deployment"),
        );
    production
        .clone()
        .filter(col(COMPLETED))
        .select([col(d::ID), col(ROW).cast(DataType::UInt32)])
        .join(fixes, [col(ROW)], [col(ROW)], JoinArgs::new(JoinType::Inner))
        .join(pairs, [col(ROW)], [col(ROW)], JoinArgs::new(JoinType::Inner))
        .filter(
            col(PAIRS)
                .cast(DataType::UInt64)
                .eq(col(issues_by_row::FIXES).cast(DataType::UInt64)),
        )
        .select([col(d::ID), lit(true).alias(super::rework::FIX_ONLY)])
}

/// [`fix_only`] from lead time's pairs, for data without the derived columns.
fn fix_only_by_pairs(
    tables: &Tables,
    linked: &Linked,
    production: &LazyFrame,
    mapped: bool,
    bug_links: LazyFrame,
) -> LazyFrame {
    // Only deployments that shipped a bug fix can be fix-only: their pairs are counted in full.
    let candidates = lead_time::pairs(&linked.tables, production, mapped, false)
        .join(
            bug_links.clone(),
            [col(d::REPO), col(l::SHA)],
            [col(i::REPO), col(l::SHA)],
            JoinArgs::new(JoinType::Semi),
        )
        .select([col(d::ID)])
        .unique(None, UniqueKeepStrategy::Any);
    let mut of_candidates = tables.clone();
    of_candidates.deployment_commits = tables.deployment_commits.clone().join(
        candidates.clone(),
        [col(dc::DEPLOYMENT_ID)],
        [col(d::ID)],
        JoinArgs::new(JoinType::Semi),
    );
    let candidate_production =
        production
            .clone()
            .join(candidates, [col(d::ID)], [col(d::ID)], JoinArgs::new(JoinType::Semi));
    // Without `deployment_commits` a deployment's commits depend on the one before it: every
    // production deployment takes part in the as-of join, and only the candidates' pairs are kept.
    let pairs = if mapped {
        lead_time::pairs(&of_candidates, &candidate_production, mapped, false)
    } else {
        lead_time::pairs(tables, production, mapped, false).join(
            candidate_production.select([col(d::ID)]),
            [col(d::ID)],
            [col(d::ID)],
            JoinArgs::new(JoinType::Semi),
        )
    };
    pairs
        .join(
            bug_links,
            [col(d::REPO), col(l::SHA)],
            [col(i::REPO), col(l::SHA)],
            JoinArgs::new(JoinType::Left),
        )
        .group_by([col(d::ID)])
        .agg([len().alias("pairs"), col("bug_fix").count().alias("fixes")])
        .filter(col("pairs").eq(col("fixes")).and(col("pairs").gt(lit(0))))
        .select([col(d::ID), lit(true).alias(super::rework::FIX_ONLY)])
}

/// Samples of one kind in one scope.
#[derive(Default)]
struct KindSamples {
    delivered: u64,
    lead: Vec<f64>,
    negative: u64,
    awaiting: Vec<f64>,
    open_ages: Vec<f64>,
    closed_without_fix: u64,
}

/// Samples of every kind in one scope.
#[derive(Default)]
struct Samples([KindSamples; 3]);

fn kind_index(kind: Option<&str>) -> usize {
    match kind {
        Some(issue_kind::BUG) => 0,
        Some(issue_kind::FEATURE) => 1,
        _ => 2,
    }
}

fn hours(later: Micros, earlier: Micros) -> f64 {
    later.wrapping_sub(earlier) as f64 * (1.0 / MICROS_PER_HOUR as f64)
}

/// The figures of every scope from the collected [`deliveries`]: the whole window and each
/// period, overall and per group (`grouped`).
pub(super) fn summarize(
    frame: &DataFrame,
    window: Window,
    periods: &[Period],
    grouped: bool,
) -> Result<HashMap<ScopeKey, IssueFigures>> {
    let ctx = || "failed to compute the feedback loop".to_string();
    // One chunk each: `get` on a column of many chunks searches them (seconds over 1.1M issues
    // joined from many pieces, perf).
    let text = |name: &str| {
        frame
            .column(name)
            .and_then(|c| c.str().map(|c| c.rechunk().into_owned()))
            .context(ctx)
    };
    let int = |name: &str| {
        frame
            .column(name)
            .and_then(|c| c.i64().map(|c| c.rechunk().into_owned()))
            .context(ctx)
    };
    let (kinds, reasons, groups) = (text(i::KIND)?, text(REASON)?, text(GROUP)?);
    let (created, closed, delivered, last) = (int(CREATED)?, int(CLOSED)?, int(DELIVERED)?, int(LAST_COMMIT)?);
    let linked = frame
        .column(LINKED)
        .and_then(|c| c.bool().map(|c| c.rechunk().into_owned()))
        .context(ctx)?;
    let period_of = |t: Micros| {
        periods
            .partition_point(|p| p.start_utc <= t)
            .checked_sub(1)
            .map(|p| p as i64)
    };
    let in_window = |t: Micros| t >= window.since && t < window.until;
    // The window's end, and each period's (or the window's, when sooner): where issues are open.
    let mut ends = vec![(None, window.until)];
    ends.extend(
        periods
            .iter()
            .enumerate()
            .map(|(n, p)| (Some(n as i64), p.end_utc.min(window.until))),
    );
    // Samples by scope index: the window's and each period's, overall then per group (see
    // `Scopes`). An issue open over many periods adds a sample to each: indexes, not a map of
    // string keys (1.1M issues over 26 weeks were 60M hashed, cloned keys).
    let n_periods = periods.len();
    let mut scopes = Scopes {
        per_group: n_periods + 1,
        samples: Vec::new(),
        touched: Vec::new(),
    };
    scopes.grow(1);
    let mut group_index: HashMap<Option<&str>, usize> = HashMap::new();
    let mut group_names: Vec<Option<&str>> = Vec::new();
    let mut keys: Vec<usize> = Vec::with_capacity(4);
    for row in 0..frame.height() {
        let kind = kind_index(kinds.get(row));
        let group = grouped.then(|| {
            let name = groups.get(row);
            *group_index.entry(name).or_insert_with(|| {
                group_names.push(name);
                group_names.len()
            })
        });
        if let Some(g) = group {
            scopes.grow(g + 1);
        }
        let keys_of = |keys: &mut Vec<usize>, period: Option<usize>| {
            keys.clear();
            keys.push(Scopes::index(0, period, n_periods));
            if let Some(g) = group {
                keys.push(Scopes::index(g, period, n_periods));
            }
        };
        let with_period = |keys: &mut Vec<usize>, period: Option<i64>| {
            keys_of(keys, None);
            if let Some(p) = period.and_then(|p| usize::try_from(p).ok()) {
                let overall = keys.clone();
                keys_of(keys, Some(p));
                keys.extend(overall);
            }
        };
        let Some(created) = created.get(row) else { continue };
        if let Some(at) = delivered.get(row).filter(|t| in_window(*t)) {
            let lead = hours(at, created);
            let awaiting = last.get(row).map(|c| hours(at, c));
            with_period(&mut keys, period_of(at));
            for &key in &keys {
                let s = scopes.kind(key, kind);
                s.delivered += 1;
                if lead >= 0.0 {
                    s.lead.push(lead);
                } else {
                    s.negative += 1;
                }
                s.awaiting.extend(awaiting);
            }
        }
        let closed_at = closed.get(row);
        if let Some(at) = closed_at.filter(|t| in_window(*t))
            && (reasons.get(row) == Some("not_planned") || !linked.get(row).unwrap_or(false))
        {
            with_period(&mut keys, period_of(at));
            for &key in &keys {
                scopes.kind(key, kind).closed_without_fix += 1;
            }
        }
        // Open at the end of the window, and of each period (or at the window's end, if sooner).
        let open_at = |end: Micros| created < end && closed_at.is_none_or(|c| c >= end);
        for &(period, end) in &ends {
            if !open_at(end) {
                continue;
            }
            keys_of(&mut keys, period.and_then(|p| usize::try_from(p).ok()));
            for &key in &keys {
                scopes.kind(key, kind).open_ages.push(hours(end, created));
            }
        }
    }
    let key_of = |index: usize| {
        let (group, slot) = (index / scopes.per_group, index % scopes.per_group);
        let scope = if group == 0 {
            Scope::All
        } else {
            Scope::Group(group_names[group - 1].map(str::to_string))
        };
        (scope, slot.checked_sub(1).map(|p| p as i64))
    };
    let touched = std::mem::take(&mut scopes.touched);
    Ok(scopes
        .samples
        .into_iter()
        .zip(touched)
        .enumerate()
        .filter(|(_, (_, touched))| *touched)
        .map(|(index, (Samples(kinds), _))| {
            let [bug, feature, other] = kinds.map(figures_of);
            (key_of(index), IssueFigures { bug, feature, other })
        })
        .collect())
}

/// The samples of every scope, by index: group 0 is the whole data, group `g` the `g`-th group
/// met; within a group, slot 0 is the window and slot `1 + p` period `p`.
struct Scopes {
    per_group: usize,
    samples: Vec<Samples>,
    touched: Vec<bool>,
}

impl Scopes {
    fn index(group: usize, period: Option<usize>, periods: usize) -> usize {
        group * (periods + 1) + period.map_or(0, |p| p + 1)
    }

    /// Makes room for `groups` groups (the whole data included).
    fn grow(&mut self, groups: usize) {
        let len = groups * self.per_group;
        if self.samples.len() < len {
            self.samples.resize_with(len, Samples::default);
            self.touched.resize(len, false);
        }
    }

    fn kind(&mut self, index: usize, kind: usize) -> &mut KindSamples {
        self.touched[index] = true;
        &mut self.samples[index].0[kind]
    }
}

fn figures_of(mut s: KindSamples) -> KindFigures {
    let lead = super::quantiles::summarize(&mut s.lead, &lead_time::QUANTILES);
    let awaiting = super::quantiles::summarize(&mut s.awaiting, &[0.5, 0.9]);
    let age = super::quantiles::summarize(&mut s.open_ages, &[0.5]);
    let q = |s: &super::quantiles::Summary, n: usize| s.quantiles.get(n).copied().flatten();
    KindFigures {
        delivered: s.delivered,
        lead_time_hours: LeadTime {
            count: lead.count as u64,
            median: q(&lead, 0),
            p75: q(&lead, 1),
            p90: q(&lead, 2),
            negative_dropped: s.negative,
        },
        awaiting_deployment_hours: Awaiting {
            count: awaiting.count as u64,
            median: q(&awaiting, 0),
            p90: q(&awaiting, 1),
        },
        open: age.count as u64,
        open_age_hours_median: q(&age, 0),
        closed_without_fix: s.closed_without_fix,
    }
}
