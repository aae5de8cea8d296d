//! Input sources. Each one produces the canonical tables of [`crate::table::schema`], so the store and
//! the analysis have exactly one shape to deal with.

pub mod ancestry;
pub mod assistants;
pub mod closing;
pub mod csv;
pub mod git;
pub mod github;
pub mod kubernetes;

use std::path::{Path, PathBuf};

use polars::prelude::{Column, DataFrame, DataType};

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

/// Reads and validates the given files; commits without an `ai_assisted` value get one from
/// their message ([`assistants`], with `rules`).
///
/// The files are read at the same time: each read has stretches on one core (reading the bytes,
/// the key check), which the others fill. The error reported is the first file's in `files`
/// order, whatever finished first.
pub fn read_files(
    files: &[(&'static Table, PathBuf)],
    opts: &csv::ReadOptions,
    rules: &assistants::Rules,
) -> Result<Vec<Input>> {
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
    let mut inputs = reads.into_iter().collect::<Result<Vec<Input>>>()?;
    if let Some(commits) = inputs.iter_mut().find(|i| i.table.name == schema::COMMITS.name) {
        let frame = std::mem::take(&mut commits.read.frame);
        commits.read.frame = assistants::with_flags(frame, rules)?;
    }
    if let Some(pulls) = inputs.iter_mut().find(|i| i.table.name == schema::PULL_REQUESTS.name) {
        let frame = std::mem::take(&mut pulls.read.frame);
        pulls.read.frame = assistants::with_pull_request_flags(frame, rules)?;
    }
    check_issue_links(&mut inputs, opts.skip_invalid)?;
    add_message_links(&mut inputs)?;
    Ok(inputs)
}

/// Adds to `issue_commits` the links that commit messages make (closing keywords, tracker
/// keys: [`closing`]), when there are issues to link to.
fn add_message_links(inputs: &mut Vec<Input>) -> Result<()> {
    if !inputs.iter().any(|i| i.table.name == schema::ISSUES.name) {
        return Ok(());
    }
    let Some(commits) = inputs.iter().find(|i| i.table.name == schema::COMMITS.name) else {
        return Ok(());
    };
    let Some(links) = closing::links_of_commits(&commits.read.frame)? else {
        return Ok(());
    };
    let path = commits.path.clone();
    let no_rows = |n: usize| Column::full_null("rows".into(), n, &DataType::UInt64);
    let failed = |e| Error::Polars {
        context: "failed to add the links of the commit messages".into(),
        source: e,
    };
    // Derived rows have no record of their own in a file: their record index is null.
    if let Some(input) = inputs.iter_mut().find(|i| i.table.name == schema::ISSUE_COMMITS.name) {
        input.read.frame.vstack_mut(&links).map_err(failed)?;
        input.read.rows.append(&no_rows(links.height())).map_err(failed)?;
        return Ok(());
    }
    let height = links.height();
    inputs.push(Input {
        table: &schema::ISSUE_COMMITS,
        path,
        read: csv::TableRead {
            frame: links,
            rejects: Vec::new(),
            records: 0,
            folded: 0,
            rows: no_rows(height),
        },
    });
    Ok(())
}

/// Each `issue_commits` row must name an issue of `issues.csv`: an error naming the line, or
/// with `--skip-invalid` a rejected row.
fn check_issue_links(inputs: &mut [Input], skip_invalid: bool) -> Result<()> {
    let mut known = std::collections::HashSet::new();
    if let Some(issues) = inputs.iter().find(|i| i.table.name == schema::ISSUES.name) {
        csv::links::issue_ids(&issues.read.frame, &mut known)?;
    }
    let Some(links) = inputs.iter_mut().find(|i| i.table.name == schema::ISSUE_COMMITS.name) else {
        return Ok(());
    };
    let problems = csv::links::unknown_issues(&links.read.frame, &links.read.rows, &known)?;
    if problems.is_empty() {
        return Ok(());
    }
    let (frame, rows) = csv::links::without_rows(&links.read.frame, &links.read.rows, &problems)?;
    let rejects = csv::conclude(&links.path, links.table, skip_invalid, problems)?;
    links.read.frame = frame;
    links.read.rows = rows;
    links.read.rejects.extend(rejects);
    Ok(())
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
