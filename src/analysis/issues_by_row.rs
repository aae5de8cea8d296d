//! The feedback loop from the store's derived columns (docs/store.md), in one pass over the
//! links: each link carries its commit's time and the rows of the deployments that list it, so
//! the deployment that shipped it is the earliest completed production deployment among those
//! rows, found by position. No join and no group-by on text: the issue id is hashed once per
//! link, and everything else is an index. Joins and group-bys on issue ids and `(repo, sha)`
//! took two thirds of `dora metrics` at 20M commits with 1.9M links (perf).
//!
//! Both passes run inside the plan (a map over the links), so they cost nothing unless a
//! figure or view reads them, and run alongside the other plans of `collect_all`.

use std::sync::Arc;

use polars::prelude::*;

use super::issues::{IN_COMMITS, LAST_COMMIT, LINKED, SHIP_AT, SHIP_GROUP, SHIP_ID, SHIPPED};
use super::production::{COMPLETED, ROW};
use super::{AT, COMMITTED, GROUP, micros};
use crate::table::Tables;
use crate::table::schema::{
    DERIVED_COMMITTED_AT, DERIVED_DEPLOYMENT_ROWS, deployments as d, issue_commits as l, issue_kind, issues as i,
};

/// The row of an issue in `issues`, which [`per_issue`] keys its rows by.
pub const ISSUE_ROW: &str = "issue_row";
/// Distinct bug-fix commits a deployment shipped, by [`fixes`].
pub const FIXES: &str = "fixes";

/// The two outputs of the pass, as plans over one cached run of it: collecting the issues and
/// the shipping deployments and indexing the links is most of its cost.
#[derive(Clone)]
pub struct Passes {
    /// One row per linked issue of `issues` (`ISSUE_ROW`): `linked`, how many of its links are
    /// to commits in `commits` (`in_commits`) and how many of those shipped (`shipped`), the
    /// latest of their shipping deployments (`ship_us`, `ship_id`, `ship_group`, by time then
    /// id) and the latest linked commit (`last_commit_us`).
    pub per_issue: LazyFrame,
    /// The completed production deployments that shipped a commit linked to a `bug` issue of
    /// their repository, with how many distinct such commits they list (`fixes`):
    /// (`deployment_row`, `fixes`). Pairs count as lead time lists them.
    pub fixes: LazyFrame,
}

/// The columns of [`Passes::per_issue`].
const PER_ISSUE: [(&str, DataType); 8] = [
    (ISSUE_ROW, DataType::UInt32),
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
            let (mut per_issue, mut fixes) = (pass.per_issue()?, pass.fixes()?);
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

fn link_plan(tables: &Tables) -> LazyFrame {
    tables.issue_commits.clone().select([
        col(l::ISSUE_ID),
        col(l::SHA),
        micros(DERIVED_COMMITTED_AT).alias(COMMITTED),
        col(DERIVED_DEPLOYMENT_ROWS).cast(DataType::List(Box::new(DataType::UInt32))),
    ])
}

fn issue_plan(tables: &Tables) -> LazyFrame {
    tables.issues.clone().select([col(i::ID), col(i::KIND)])
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

/// The links, resolved to indexes: each one's issue row, commit time and deployment rows; and
/// the completed production deployments by row.
struct Pass<'a> {
    /// Per link: its issue's row in `issues` (NONE when no issue has its id).
    issue: Vec<u32>,
    committed: Vec<Option<i64>>,
    /// Per link `n`: its deployment rows are `rows[offsets[n]..offsets[n + 1]]`.
    offsets: Vec<usize>,
    rows: Vec<u32>,
    shas: Vec<Option<&'a str>>,
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
        let issue_ids = text(issues, i::ID)?;
        let mut row_of: PlHashMap<&str, u32> = PlHashMap::with_capacity(issue_ids.len());
        for (row, id) in issue_ids.iter().enumerate() {
            if let Some(id) = id {
                row_of.entry(id).or_insert(row as u32);
            }
        }
        let bug = text(issues, i::KIND)?
            .iter()
            .map(|k| *k == Some(issue_kind::BUG))
            .collect();
        let issue = text(links, l::ISSUE_ID)?
            .iter()
            .map(|id| id.and_then(|id| row_of.get(id).copied()).unwrap_or(NONE))
            .collect();
        let committed = links.column(COMMITTED)?.i64()?.iter().collect();
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

        let production_rows = production.column(ROW)?.u32()?;
        let mut shipping = vec![NONE; production_rows.max().map_or(0, |m| m as usize + 1)];
        for (position, row) in production_rows.iter().enumerate() {
            if let Some(row) = row {
                shipping[row as usize] = position as u32;
            }
        }
        Ok(Pass {
            issue,
            committed,
            offsets,
            rows,
            shas: text(links, l::SHA)?,
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

    fn per_issue(&self) -> PolarsResult<DataFrame> {
        #[derive(Clone, Copy, Default)]
        struct Delivery {
            linked: bool,
            in_commits: u32,
            shipped: u32,
            last_commit: Option<i64>,
            ship: Option<u32>,
        }
        let mut of_issue = vec![Delivery::default(); self.issues];
        for link in 0..self.issue.len() {
            let Some(delivery) = of_issue.get_mut(self.issue[link] as usize) else {
                continue;
            };
            delivery.linked = true;
            let Some(committed) = self.committed[link] else {
                continue;
            };
            delivery.in_commits += 1;
            delivery.last_commit = delivery.last_commit.max(Some(committed));
            // The first deployment to list the commit shipped it; the issue's last one delivered it.
            let shipped_by = self
                .deployments_of(link)
                .reduce(|a, b| if self.before(b, a) { b } else { a });
            if let Some(ship) = shipped_by {
                delivery.shipped += 1;
                if delivery.ship.is_none_or(|last| self.before(last, ship)) {
                    delivery.ship = Some(ship);
                }
            }
        }
        let linked: Vec<(u32, Delivery)> = of_issue
            .into_iter()
            .enumerate()
            .filter(|(_, d)| d.linked)
            .map(|(row, d)| (row as u32, d))
            .collect();
        let ship = |f: &dyn Fn(usize) -> Option<&'a str>| -> Vec<Option<&'a str>> {
            linked.iter().map(|(_, d)| d.ship.and_then(|p| f(p as usize))).collect()
        };
        DataFrame::new(
            linked.len(),
            vec![
                Column::new(ISSUE_ROW.into(), linked.iter().map(|(row, _)| *row).collect::<Vec<_>>()),
                Column::new(LINKED.into(), vec![true; linked.len()]),
                Column::new(
                    IN_COMMITS.into(),
                    linked.iter().map(|(_, d)| d.in_commits).collect::<Vec<_>>(),
                ),
                Column::new(
                    SHIPPED.into(),
                    linked.iter().map(|(_, d)| d.shipped).collect::<Vec<_>>(),
                ),
                Column::new(
                    SHIP_AT.into(),
                    linked
                        .iter()
                        .map(|(_, d)| d.ship.map(|p| self.at[p as usize]))
                        .collect::<Vec<_>>(),
                ),
                Column::new(
                    LAST_COMMIT.into(),
                    linked.iter().map(|(_, d)| d.last_commit).collect::<Vec<_>>(),
                ),
                Column::new(SHIP_ID.into(), ship(&|p| self.ids[p])),
                Column::new(SHIP_GROUP.into(), ship(&|p| self.groups[p])),
            ],
        )
    }

    fn fixes(&self) -> PolarsResult<DataFrame> {
        // (deployment position, sha) of every bug link's listed commit, once each: two bugs
        // may link the same commit.
        let mut listed: Vec<(u32, &str)> = Vec::new();
        for link in 0..self.issue.len() {
            let is_bug = self.bug.get(self.issue[link] as usize).copied().unwrap_or(false);
            let (Some(_), Some(sha), true) = (self.committed[link], self.shas[link], is_bug) else {
                continue;
            };
            listed.extend(self.deployments_of(link).map(|p| (p, sha)));
        }
        listed.sort_unstable();
        listed.dedup();
        let mut rows: Vec<u32> = Vec::new();
        let mut counts: Vec<u32> = Vec::new();
        let positions: Vec<u32> = self.position_rows();
        for (position, _) in listed {
            let row = positions[position as usize];
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
