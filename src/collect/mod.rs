//! Input sources. Each one produces the canonical tables of [`crate::table::schema`], so the store and
//! the analysis have exactly one shape to deal with.

pub mod ancestry;
pub mod csv;
pub mod git;
pub mod github;

use std::path::{Path, PathBuf};

use polars::prelude::DataFrame;

use crate::error::{Error, Result};
use crate::table::schema::{self, Table};
use crate::table::{Tables, empty_frame};

/// One file read into one table.
#[derive(Debug)]
pub struct Input {
    pub table: &'static Table,
    pub path: PathBuf,
    pub read: csv::TableRead,
}

/// The canonical files present in a CSV folder. `deployments.csv` must be there.
pub fn folder_files(dir: &Path, mapping: &csv::mapping::Mapping) -> Result<Vec<(&'static Table, PathBuf)>> {
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
