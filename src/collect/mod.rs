//! Input sources. Each one produces the canonical tables of [`crate::schema`], so the store and
//! the analysis have exactly one shape to deal with.

pub mod ancestry;
pub mod csv;
pub mod fingerprint;
pub mod git;
pub mod github;
pub mod mapping;
mod plain_csv;

use std::path::{Path, PathBuf};

use polars::prelude::{DataFrame, IntoLazy, LazyFrame};

use crate::error::{Error, Result};
use crate::schema::{self, Table};

/// One value per canonical table, in the order of [`schema::TABLES`].
#[derive(Debug, Clone)]
pub struct Tables<T = LazyFrame> {
    pub deployments: T,
    pub commits: T,
    pub deployment_commits: T,
    pub incidents: T,
    pub pull_requests: T,
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
        })
    }

    pub fn get(&self, table: &Table) -> &T {
        match table.name {
            "deployments" => &self.deployments,
            "commits" => &self.commits,
            "deployment_commits" => &self.deployment_commits,
            "incidents" => &self.incidents,
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

/// One file read into one table.
#[derive(Debug)]
pub struct Input {
    pub table: &'static Table,
    pub path: PathBuf,
    pub read: csv::TableRead,
}

/// The canonical files present in a CSV folder. `deployments.csv` must be there.
pub fn folder_files(dir: &Path, mapping: &mapping::Mapping) -> Result<Vec<(&'static Table, PathBuf)>> {
    if !dir.is_dir() {
        return Err(Error::io(
            "read folder",
            dir,
            std::io::Error::new(std::io::ErrorKind::NotFound, "not a directory"),
        ));
    }
    let mut files = Vec::new();
    for table in schema::TABLES {
        let path = csv::table_path(dir, table, &mapping.table(table));
        if path.is_file() {
            files.push((table, path));
        } else if table.required_file {
            return Err(Error::MissingDeployments { dir: path });
        }
    }
    Ok(files)
}

/// Reads and validates the given files.
///
/// The files are read at the same time: each read has stretches on one core (reading the bytes,
/// the key check), which the others fill. The error reported is the first file's in `files`
/// order, whatever finished first.
pub fn read_files(files: &[(&'static Table, PathBuf)], opts: &csv::ReadOptions) -> Result<Vec<Input>> {
    use rayon::prelude::*;
    let reads: Vec<Result<Input>> = files
        .par_iter()
        .map(|(table, path)| {
            Ok(Input {
                table,
                path: path.clone(),
                read: csv::read_table(path, table, opts)?,
            })
        })
        .collect();
    reads.into_iter().collect()
}

/// The tables of a set of inputs; tables without an input are empty.
pub fn tables_from_inputs(inputs: &[Input]) -> Tables<DataFrame> {
    let frame = |table: &'static Table| -> Result<DataFrame, std::convert::Infallible> {
        Ok(inputs
            .iter()
            .find(|i| i.table.name == table.name)
            .map_or_else(|| empty_frame(table), |i| i.read.frame.clone()))
    };
    match Tables::try_from_fn(frame) {
        Ok(t) => t,
        Err(never) => match never {},
    }
}
