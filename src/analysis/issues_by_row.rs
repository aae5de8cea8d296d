//! The feedback loop from the store's derived columns (docs/store.md), in one pass over the
//! links: each link carries its issue's row, its commit's row and time, and the rows of the
//! deployments that list it, so the deployment that shipped it is the earliest completed
//! production deployment among those rows, found by position. No join, no hash and no text:
//! joins and group-bys on issue ids and `(repo, sha)` took two thirds of `dora metrics` at 20M
//! commits with 1.9M links, and hashing the links' issue ids and sorting their shas still
//! doubled it (perf).
//!
//! Both passes run inside the plan (a map over the links), so they cost nothing unless a
//! figure or view reads them. Polars fills its caches one after another, so the pass holds up
//! the plans after it: its steps run on every core.

use std::sync::Arc;

use polars::prelude::*;
use rayon::prelude::*;

use super::issues::{IN_COMMITS, LAST_COMMIT, LINKED, SHIP_AT, SHIP_GROUP, SHIP_ID, SHIPPED};
use super::production::{COMPLETED, ROW};
use super::{AT, COMMITTED, GROUP, micros};
use crate::table::Tables;
use crate::table::schema::{
    DERIVED_COMMIT_ROW, DERIVED_COMMITTED_AT, DERIVED_DEPLOYMENT_ROWS, DERIVED_ISSUE_ROW, deployments as d, issue_kind,
    issues as i,
};

/// Distinct bug-fix commits a deployment shipped, by [`fixes`].
pub const FIXES: &str = "fixes";

/// The two outputs of the pass, as plans over one cached run of it: collecting the issues and
/// the shipping deployments and indexing the links is most of its cost.
#[derive(Clone)]
pub struct Passes {
    /// One row per row of `issues`, in its order (to be put beside it, not joined): whether it
    /// has links (`linked`), how many of them are to commits in `commits` (`in_commits`) and
    /// how many of those shipped (`shipped`), the latest of their shipping deployments
    /// (`ship_us`, `ship_id`, `ship_group`, by time then id) and the latest linked commit
    /// (`last_commit_us`).
    pub per_issue: LazyFrame,
    /// The completed production deployments that shipped a commit linked to a `bug` issue of
    /// their repository, with how many distinct such commits they list (`fixes`):
    /// (`deployment_row`, `fixes`). Pairs count as lead time lists them.
    pub fixes: LazyFrame,
}

/// The columns of [`Passes::per_issue`].
const PER_ISSUE: [(&str, DataType); 7] = [
    (LINKED, DataType::Boolean),
    (IN_COMMITS, DataType::UInt32),
    (SHIPPED, DataType::UInt32),
    (SHIP_AT, DataType::Int64),
    (LAST_COMMIT, DataType::Int64),
    (SHIP_ID, DataType::String),
    (SHIP_GROUP, DataType::String),
];
/// The columns of [`Passes::fixes`].
const FIXES_COLUMNS: [(&str, DataType); 2] = [(ROW, DataType::UInt32), (FIXES, DataType::UInt32)];
/// In the pass's output, which of the two a row belongs to: true for [`Passes::fixes`].
const IS_FIX: &str = "is_fix";
/// Per issue, whether it is a bug.
const IS_BUG: &str = "is_bug";

impl Passes {
    /// `production` has the group column.
    pub fn new(tables: &Tables, production: &LazyFrame) -> Passes {
        let both = planned(tables, production).cache();
        let names = |columns: &[(&str, DataType)]| columns.iter().map(|(name, _)| col(*name)).collect::<Vec<_>>();
        Passes {
            per_issue: both.clone().filter(col(IS_FIX).not()).select(names(&PER_ISSUE)),
            fixes: both.filter(col(IS_FIX)).select(names(&FIXES_COLUMNS)),
        }
    }
}

/// A map over the links that runs the pass with the issues and the shipping deployments,
/// collected when the plan runs: the rows of both outputs, told apart by `IS_FIX`, each with
/// the other's columns null.
fn planned(tables: &Tables, production: &LazyFrame) -> LazyFrame {
    let (issues, production) = (issue_plan(tables), shipping_plan(production));
    let fields = PER_ISSUE
        .iter()
        .chain(&FIXES_COLUMNS)
        .map(|(name, dtype)| Field::new((*name).into(), dtype.clone()))
        .chain([Field::new(IS_FIX.into(), DataType::Boolean)]);
    let schema: SchemaRef = Arc::new(fields.collect());
    let order: Vec<PlSmallStr> = schema.iter_names().cloned().collect();
    link_plan(tables).map(
        move |links| {
            let (issues, production) = (issues.clone().collect()?, production.clone().collect()?);
            let pass = Pass::new(&links, &issues, &production)?;
            let (mut per_issue, mut fixes) = (pass.per_issue(Pass::ISSUES_PER_TASK)?, pass.fixes()?);
            let pad = |frame: &mut DataFrame, missing: &[(&str, DataType)], is_fix: bool| -> PolarsResult<()> {
                let n = frame.height();
                for (name, dtype) in missing {
                    frame.with_column(Column::full_null((*name).into(), n, dtype))?;
                }
                frame.with_column(Column::new(IS_FIX.into(), vec![is_fix; n]))?;
                Ok(())
            };
            pad(&mut per_issue, &FIXES_COLUMNS, false)?;
            pad(&mut fixes, &PER_ISSUE, true)?;
            per_issue.select(order.clone())?.vstack(&fixes.select(order.clone())?)
        },
        OptFlags::empty(),
        Some(Arc::new(move |_: &Schema| Ok(schema.clone()))),
        Some("issue deliveries and bug fixes"),
    )
}

/// Whether `issue_commits` has the derived columns the pass reads.
pub fn readable(tables: &Tables) -> bool {
    super::has_columns(
        &tables.issue_commits,
        &[
            DERIVED_COMMITTED_AT,
            DERIVED_DEPLOYMENT_ROWS,
            DERIVED_ISSUE_ROW,
            DERIVED_COMMIT_ROW,
        ],
    )
}

fn link_plan(tables: &Tables) -> LazyFrame {
    tables.issue_commits.clone().select([
        col(DERIVED_ISSUE_ROW).cast(DataType::UInt32),
        col(DERIVED_COMMIT_ROW).cast(DataType::UInt32),
        micros(DERIVED_COMMITTED_AT).alias(COMMITTED),
        col(DERIVED_DEPLOYMENT_ROWS).cast(DataType::List(Box::new(DataType::UInt32))),
    ])
}

fn issue_plan(tables: &Tables) -> LazyFrame {
    tables.issues.clone().select([col(i::KIND)
        .eq(lit(issue_kind::BUG))
        .fill_null(lit(false))
        .alias(IS_BUG)])
}

fn shipping_plan(production: &LazyFrame) -> LazyFrame {
    production.clone().filter(col(COMPLETED)).select([
        col(ROW).cast(DataType::UInt32),
        col(AT).cast(DataType::Int64),
        col(d::ID),
        col(GROUP).cast(DataType::String),
    ])
}

/// No such row.
const NONE: u32 = u32::MAX;

/// Each link's deployment rows, flattened: link `n`'s are `rows[offsets[n]..offsets[n + 1]]`
/// (none for a null list).
fn deployment_rows(links: &DataFrame) -> PolarsResult<(Vec<usize>, Vec<u32>)> {
    let lists = links.column(DERIVED_DEPLOYMENT_ROWS)?.list()?.rechunk();
    let valid: Vec<bool> = lists.is_not_null().iter().map(|v| v.unwrap_or(false)).collect();
    let bounds = lists.offsets()?;
    let bounds = bounds.as_slice();
    let inner = lists.get_inner();
    let values: Vec<u32> = inner.u32()?.iter().map(|r| r.unwrap_or(NONE)).collect();
    // Offsets index the values of the whole (rechunked) array, which may start past 0.
    let first = bounds.first().copied().unwrap_or(0);
    let offset = |n: usize| {
        bounds
            .get(n)
            .and_then(|&o| usize::try_from(o - first).ok())
            .unwrap_or(0)
    };
    let mut offsets = Vec::with_capacity(valid.len() + 1);
    let mut rows = Vec::with_capacity(values.len());
    offsets.push(0);
    for (n, valid) in valid.iter().enumerate() {
        if *valid {
            rows.extend_from_slice(values.get(offset(n)..offset(n + 1)).unwrap_or_default());
        }
        offsets.push(rows.len());
    }
    Ok((offsets, rows))
}

/// The links, resolved to indexes: each one's issue row, commit time and deployment rows; and
/// the completed production deployments by row.
struct Pass<'a> {
    /// Per link: its issue's row in `issues` (NONE when no issue has its id).
    issue: Vec<u32>,
    /// Per link: its commit's row in `commits` (NONE when there is no such commit).
    commit: Vec<u32>,
    committed: Vec<Option<i64>>,
    /// Per link `n`: its deployment rows are `rows[offsets[n]..offsets[n + 1]]`.
    offsets: Vec<usize>,
    rows: Vec<u32>,
    /// Per issue row: whether it is a bug.
    bug: Vec<bool>,
    /// Per deployment row: its position among the completed production deployments (NONE when
    /// it is not one).
    shipping: Vec<u32>,
    at: Vec<i64>,
    ids: Vec<Option<&'a str>>,
    groups: Vec<Option<&'a str>>,
    issues: usize,
}

impl<'a> Pass<'a> {
    fn new(links: &'a DataFrame, issues: &'a DataFrame, production: &'a DataFrame) -> PolarsResult<Self> {
        let text = |frame: &'a DataFrame, name: &str| -> PolarsResult<Vec<Option<&'a str>>> {
            Ok(frame.column(name)?.str()?.iter().collect())
        };
        let index = |name: &str| -> PolarsResult<Vec<u32>> {
            Ok(links.column(name)?.u32()?.iter().map(|r| r.unwrap_or(NONE)).collect())
        };
        let bug = issues
            .column(IS_BUG)?
            .bool()?
            .iter()
            .map(|b| b.unwrap_or(false))
            .collect();
        // The link columns are copied to plain vectors on both cores: the pass runs alone
        // while Polars fills its caches, so a single-core step here is one core idle.
        let ((issue, commit), (committed, lists)) = rayon::join(
            || rayon::join(|| index(DERIVED_ISSUE_ROW), || index(DERIVED_COMMIT_ROW)),
            || {
                rayon::join(
                    || -> PolarsResult<Vec<Option<i64>>> { Ok(links.column(COMMITTED)?.i64()?.iter().collect()) },
                    || deployment_rows(links),
                )
            },
        );
        let (issue, commit, committed, (offsets, rows)) = (issue?, commit?, committed?, lists?);

        let production_rows = production.column(ROW)?.u32()?;
        let mut shipping = vec![NONE; production_rows.max().map_or(0, |m| m as usize + 1)];
        for (position, row) in production_rows.iter().enumerate() {
            if let Some(row) = row {
                shipping[row as usize] = position as u32;
            }
        }
        Ok(Pass {
            issue,
            commit,
            committed,
            offsets,
            rows,
            bug,
            shipping,
            at: production
                .column(AT)?
                .i64()?
                .iter()
                .map(|t| t.unwrap_or(i64::MAX))
                .collect(),
            ids: text(production, d::ID)?,
            groups: text(production, GROUP)?,
            issues: issues.height(),
        })
    }

    /// Bug fixes' (deployment position, commit row) pairs per parallel task of [`Pass::fixes`].
    const LINKS_PER_TASK: usize = 1 << 16;

    /// The completed production deployments among a link's deployment rows (positions).
    fn deployments_of(&self, link: usize) -> impl Iterator<Item = u32> + '_ {
        self.rows[self.offsets[link]..self.offsets[link + 1]]
            .iter()
            .filter_map(|&row| self.shipping.get(row as usize).copied().filter(|&p| p != NONE))
    }

    /// Whether deployment `a` is before `b`: by time, then id, as lead time orders them.
    fn before(&self, a: u32, b: u32) -> bool {
        let (a, b) = (a as usize, b as usize);
        (self.at[a], self.ids[a]) < (self.at[b], self.ids[b])
    }

    /// Issues per parallel task of [`Pass::per_issue`].
    const ISSUES_PER_TASK: usize = 1 << 18;

    /// By ranges of `per_task` issue rows, in parallel: each task reads every link but writes
    /// only its issues, whose aggregates then stay in cache (the links are in sha order).
    fn per_issue(&self, per_task: usize) -> PolarsResult<DataFrame> {
        let tasks = self.issues.div_ceil(per_task).max(1);
        let parts: Vec<DataFrame> = (0..tasks)
            .into_par_iter()
            .map(|task| {
                let start = task * per_task;
                self.per_issue_of(start..start.saturating_add(per_task).min(self.issues))
            })
            .collect::<PolarsResult<_>>()?;
        let mut parts = parts.into_iter();
        let mut frame = parts.next().unwrap_or_default();
        for part in parts {
            frame.vstack_mut_owned(part)?;
        }
        Ok(frame)
    }

    /// [`Pass::per_issue`] of the issues in `rows`.
    fn per_issue_of(&self, rows: std::ops::Range<usize>) -> PolarsResult<DataFrame> {
        #[derive(Clone, Copy)]
        struct Delivery {
            linked: bool,
            in_commits: u32,
            shipped: u32,
            /// NONE when none shipped.
            ship: u32,
            /// `i64::MIN` when no linked commit is in `commits`.
            last_commit: i64,
        }
        let none = Delivery {
            linked: false,
            in_commits: 0,
            shipped: 0,
            ship: NONE,
            last_commit: i64::MIN,
        };
        let mut of_issue = vec![none; rows.len()];
        for link in 0..self.issue.len() {
            let row = self.issue[link] as usize;
            if !rows.contains(&row) {
                continue;
            }
            let delivery = &mut of_issue[row - rows.start];
            delivery.linked = true;
            let Some(committed) = self.committed[link] else {
                continue;
            };
            delivery.in_commits += 1;
            delivery.last_commit = delivery.last_commit.max(committed);
            // The first deployment to list the commit shipped it; the issue's last one delivered it.
            let shipped_by = self
                .deployments_of(link)
                .reduce(|a, b| if self.before(b, a) { b } else { a });
            if let Some(ship) = shipped_by {
                delivery.shipped += 1;
                if delivery.ship == NONE || self.before(delivery.ship, ship) {
                    delivery.ship = ship;
                }
            }
        }
        let ship = |d: &Delivery| (d.ship != NONE).then_some(d.ship as usize);
        let of = |f: &dyn Fn(&Delivery) -> Option<&'a str>| of_issue.iter().map(f).collect::<Vec<_>>();
        DataFrame::new(
            of_issue.len(),
            vec![
                Column::new(LINKED.into(), of_issue.iter().map(|d| d.linked).collect::<Vec<_>>()),
                Column::new(
                    IN_COMMITS.into(),
                    of_issue.iter().map(|d| d.in_commits).collect::<Vec<_>>(),
                ),
                Column::new(SHIPPED.into(), of_issue.iter().map(|d| d.shipped).collect::<Vec<_>>()),
                Column::new(
                    SHIP_AT.into(),
                    of_issue.iter().map(|d| ship(d).map(|p| self.at[p])).collect::<Vec<_>>(),
                ),
                Column::new(
                    LAST_COMMIT.into(),
                    of_issue
                        .iter()
                        .map(|d| (d.last_commit != i64::MIN).then_some(d.last_commit))
                        .collect::<Vec<_>>(),
                ),
                Column::new(SHIP_ID.into(), of(&|d| ship(d).and_then(|p| self.ids[p]))),
                Column::new(SHIP_GROUP.into(), of(&|d| ship(d).and_then(|p| self.groups[p]))),
            ],
        )
    }

    fn fixes(&self) -> PolarsResult<DataFrame> {
        // (deployment position, commit row) of every bug link's listed commit, packed in one
        // number and counted once each: two bugs may link the same commit.
        let mut listed: Vec<u64> = (0..self.issue.len())
            .into_par_iter()
            .with_min_len(Self::LINKS_PER_TASK)
            .flat_map_iter(|link| {
                let is_bug = self.bug.get(self.issue[link] as usize).copied().unwrap_or(false);
                let commit = self.commit[link];
                let fix = is_bug && commit != NONE && self.committed[link].is_some();
                self.deployments_of(link)
                    .filter(move |_| fix)
                    .map(move |p| (u64::from(p) << 32) | u64::from(commit))
            })
            .collect();
        listed.par_sort_unstable();
        listed.dedup();
        let mut rows: Vec<u32> = Vec::new();
        let mut counts: Vec<u32> = Vec::new();
        let positions: Vec<u32> = self.position_rows();
        for pair in listed {
            let row = positions[(pair >> 32) as usize];
            match (rows.last(), counts.last_mut()) {
                (Some(&last), Some(count)) if last == row => *count += 1,
                _ => {
                    rows.push(row);
                    counts.push(1);
                }
            }
        }
        DataFrame::new(
            rows.len(),
            vec![Column::new(ROW.into(), rows), Column::new(FIXES.into(), counts)],
        )
    }

    /// Per position among the completed production deployments: its deployment row.
    fn position_rows(&self) -> Vec<u32> {
        let mut rows = vec![NONE; self.at.len()];
        for (row, &position) in self.shipping.iter().enumerate() {
            if position != NONE {
                rows[position as usize] = row as u32;
            }
        }
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A link: `(issue row, commit row, commit time, deployment rows)`.
    type Link<'a> = (Option<u32>, Option<u32>, Option<i64>, &'a [u32]);

    fn links(rows: &[Link]) -> DataFrame {
        let lists: Vec<Series> = rows.iter().map(|r| Series::new("".into(), r.3)).collect();
        df!(
            DERIVED_ISSUE_ROW => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            DERIVED_COMMIT_ROW => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            COMMITTED => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
            DERIVED_DEPLOYMENT_ROWS => lists,
        )
        .unwrap()
    }

    #[test]
    fn deliveries_and_fixes_by_position() {
        // Issues: a bug, a feature, a bug. Deployment rows 0 and 2 are completed production
        // deployments (at 100 and 200); row 1 is not.
        let issues = df!(IS_BUG => [true, false, true]).unwrap();
        let production = df!(
            ROW => [0u32, 2],
            AT => [100i64, 200],
            d::ID => ["d0", "d2"],
            GROUP => ["g0", "g2"],
        )
        .unwrap();
        let links = links(&[
            (Some(0), Some(10), Some(5), &[1, 2]), // shipped by d2 (row 1 does not count)
            (Some(0), Some(11), Some(7), &[0]),    // shipped by d0
            (Some(1), Some(10), Some(5), &[2]),    // the feature, the same commit
            (Some(0), None, None, &[]),            // a commit not in `commits`: linked only
            (None, Some(13), Some(9), &[0]),       // no such issue
            (Some(2), Some(10), Some(5), &[2]),    // the other bug, the same commit
        ]);
        let pass = Pass::new(&links, &issues, &production).unwrap();
        let whole = pass.per_issue(usize::MAX).unwrap();
        assert!(
            whole.equals_missing(&pass.per_issue(1).unwrap()),
            "one issue per task: {whole}"
        );
        let expected = df!(
            LINKED => [true, true, true],
            IN_COMMITS => [2u32, 1, 1],
            SHIPPED => [2u32, 1, 1],
            SHIP_AT => [Some(200i64), Some(200), Some(200)],
            LAST_COMMIT => [Some(7i64), Some(5), Some(5)],
            SHIP_ID => [Some("d2"), Some("d2"), Some("d2")],
            SHIP_GROUP => [Some("g2"), Some("g2"), Some("g2")],
        )
        .unwrap();
        assert!(whole.equals_missing(&expected), "{whole}");
        // d0 shipped commit 11 of a bug; d2 commit 10, which two bugs link: once.
        let fixes = pass.fixes().unwrap();
        let expected = df!(ROW => [0u32, 2], FIXES => [1u32, 1]).unwrap();
        assert!(fixes.equals_missing(&expected), "{fixes}");
    }

    #[test]
    fn an_issue_without_links_is_not_linked() {
        let issues = df!(IS_BUG => [false, true]).unwrap();
        let production = df!(ROW => [0u32], AT => [1i64], d::ID => ["d0"], GROUP => [None::<&str>]).unwrap();
        let links = links(&[(Some(1), Some(0), Some(0), &[5])]);
        let pass = Pass::new(&links, &issues, &production).unwrap();
        let per_issue = pass.per_issue(1).unwrap();
        let linked: Vec<Option<bool>> = per_issue.column(LINKED).unwrap().bool().unwrap().iter().collect();
        assert_eq!(linked, [Some(false), Some(true)]);
        // Row 5 is no deployment: linked and in `commits`, not shipped.
        let shipped: Vec<Option<u32>> = per_issue.column(SHIPPED).unwrap().u32().unwrap().iter().collect();
        assert_eq!(shipped, [Some(0), Some(0)]);
        assert_eq!(pass.fixes().unwrap().height(), 0);
    }
}
