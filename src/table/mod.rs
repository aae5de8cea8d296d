//! The ground floor: the canonical tables every layer speaks (their schema, keys and the hash
//! that spreads them). It imports nothing above it: collectors produce these tables, the store
//! keeps them, analysis reads them.

pub mod fingerprint;
pub mod keys;
pub mod schema;

use polars::prelude::{DataFrame, IntoLazy, LazyFrame};

use crate::error::{Error, Result};
use schema::Table;

/// One value per canonical table, in the order of [`schema::TABLES`].
#[derive(Debug, Clone)]
pub struct Tables<T = LazyFrame> {
    pub deployments: T,
    pub commits: T,
    pub deployment_commits: T,
    pub incidents: T,
    pub pull_requests: T,
    pub issues: T,
    pub issue_commits: T,
}

impl<T> Tables<T> {
    /// Builds the set by calling `f` for each table.
    pub fn try_from_fn<E>(mut f: impl FnMut(&'static Table) -> Result<T, E>) -> Result<Self, E> {
        Ok(Tables {
            deployments: f(&schema::DEPLOYMENTS)?,
            commits: f(&schema::COMMITS)?,
            deployment_commits: f(&schema::DEPLOYMENT_COMMITS)?,
            incidents: f(&schema::INCIDENTS)?,
            pull_requests: f(&schema::PULL_REQUESTS)?,
            issues: f(&schema::ISSUES)?,
            issue_commits: f(&schema::ISSUE_COMMITS)?,
        })
    }

    pub fn get(&self, table: &Table) -> &T {
        match table.name {
            "deployments" => &self.deployments,
            "commits" => &self.commits,
            "deployment_commits" => &self.deployment_commits,
            "incidents" => &self.incidents,
            "issues" => &self.issues,
            "issue_commits" => &self.issue_commits,
            _ => &self.pull_requests,
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&'static Table, &T)> {
        schema::TABLES.iter().map(move |t| (*t, self.get(t)))
    }
}

impl Tables<DataFrame> {
    pub fn lazy(&self) -> Tables<LazyFrame> {
        Tables {
            deployments: self.deployments.clone().lazy(),
            commits: self.commits.clone().lazy(),
            deployment_commits: self.deployment_commits.clone().lazy(),
            incidents: self.incidents.clone().lazy(),
            pull_requests: self.pull_requests.clone().lazy(),
            issues: self.issues.clone().lazy(),
            issue_commits: self.issue_commits.clone().lazy(),
        }
    }
}

/// An empty frame with a table's schema.
pub fn empty_frame(table: &Table) -> DataFrame {
    DataFrame::empty_with_schema(&table.schema())
}

/// A frame in `table`'s schema from the columns a collector has; every other column is null.
/// Timestamp columns may be given as UTC microseconds (`i64`).
pub fn frame_from(table: &'static Table, height: usize, given: &[polars::prelude::Column]) -> Result<DataFrame> {
    use polars::prelude::{Column, NamedFrom, Series};
    let ctx = || format!("failed to build the `{}` table", table.name);
    let columns = table
        .columns
        .iter()
        .map(|c| {
            let dtype = c.kind.dtype();
            match given.iter().find(|g| g.name().as_str() == c.name) {
                Some(g) => g.cast(&dtype).map_err(|e| Error::Polars {
                    context: ctx(),
                    source: e,
                }),
                None => Ok(Column::from(
                    Series::new(c.name.into(), vec![None::<&str>; height])
                        .cast(&dtype)
                        .unwrap_or_else(|_| Series::new_null(c.name.into(), height)),
                )),
            }
        })
        .collect::<Result<Vec<Column>>>()?;
    DataFrame::new(height, columns).map_err(|e| Error::Polars {
        context: ctx(),
        source: e,
    })
}
