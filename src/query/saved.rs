//! Saved queries: `queries/*.sql`, compiled into the binary, plus a folder of the user's own.
//!
//! A saved query starts with a comment header:
//!
//! ```sql
//! -- Repositories ranked by change failure rate.
//! -- More lines of description.
//! -- @param min_deployments int = 5 -- leave out repositories with fewer deployments
//! SELECT ...
//! ```
//!
//! The first line is the summary `dora query --list` shows. Each `@param` line declares a
//! parameter: name, type (`text`, `int`, `float`, `timestamp`, `date`), an optional default, and
//! a description after ` -- `. Every query also has `$since` and `$until`, the window's bounds.

use std::path::{Path, PathBuf};

use super::params::{ParamDecl, ParamType};
use crate::error::{Error, Result};

/// The queries shipped with dora (the files of queries/, embedded at build time).
pub const BUILT_IN: &[(&str, &str)] = &[
    (
        "change-failure-by-repo",
        include_str!("../../queries/change-failure-by-repo.sql"),
    ),
    (
        "deployments-per-week",
        include_str!("../../queries/deployments-per-week.sql"),
    ),
    (
        "failed-deployments",
        include_str!("../../queries/failed-deployments.sql"),
    ),
    (
        "failures-caught-during-rollout",
        include_str!("../../queries/failures-caught-during-rollout.sql"),
    ),
    (
        "fixes-waiting-for-a-deployment",
        include_str!("../../queries/fixes-waiting-for-a-deployment.sql"),
    ),
    ("oldest-open-bugs", include_str!("../../queries/oldest-open-bugs.sql")),
    ("slowest-bug-fixes", include_str!("../../queries/slowest-bug-fixes.sql")),
    (
        "incidents-without-cause",
        include_str!("../../queries/incidents-without-cause.sql"),
    ),
    (
        "lead-time-by-batch-size",
        include_str!("../../queries/lead-time-by-batch-size.sql"),
    ),
    (
        "lead-time-by-commit-size",
        include_str!("../../queries/lead-time-by-commit-size.sql"),
    ),
    (
        "lead-time-by-pr-size",
        include_str!("../../queries/lead-time-by-pr-size.sql"),
    ),
    (
        "lead-time-trend-by-repo",
        include_str!("../../queries/lead-time-trend-by-repo.sql"),
    ),
    ("longest-incidents", include_str!("../../queries/longest-incidents.sql")),
    (
        "rework-deployments",
        include_str!("../../queries/rework-deployments.sql"),
    ),
    ("slowest-changes", include_str!("../../queries/slowest-changes.sql")),
    (
        "time-to-first-review",
        include_str!("../../queries/time-to-first-review.sql"),
    ),
    (
        "undeployed-commits",
        include_str!("../../queries/undeployed-commits.sql"),
    ),
    (
        "weekend-deployments",
        include_str!("../../queries/weekend-deployments.sql"),
    ),
    ("deployment-hours", include_str!("../../queries/deployment-hours.sql")),
    (
        "deployment-outcomes",
        include_str!("../../queries/deployment-outcomes.sql"),
    ),
];

/// One saved query.
#[derive(Debug, Clone)]
pub struct SavedQuery {
    pub name: String,
    /// The first line of the header.
    pub summary: String,
    /// The whole description (header lines that are not `@param`).
    pub description: String,
    pub params: Vec<ParamDecl>,
    pub sql: String,
    /// Where it came from: `None` for a built-in query.
    pub path: Option<PathBuf>,
}

/// Parses a query's header; `origin` names it in errors.
pub fn parse(name: &str, text: &str, origin: &str) -> Result<SavedQuery> {
    let mut description = Vec::new();
    let mut params = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let Some(comment) = line.trim_start().strip_prefix("--") else {
            if line.trim().is_empty() {
                continue;
            }
            break;
        };
        let comment = comment.trim();
        if let Some(decl) = comment.strip_prefix("@param") {
            params.push(parse_param(decl).map_err(|reason| Error::Query {
                message: format!("{origin}:{}: invalid `@param` line: {reason}\n  {line}", n + 1),
            })?);
        } else {
            description.push(comment.to_string());
        }
    }
    while description.last().is_some_and(String::is_empty) {
        description.pop();
    }
    Ok(SavedQuery {
        name: name.to_string(),
        summary: description.first().cloned().unwrap_or_default(),
        description: description.join("\n"),
        params,
        sql: text.to_string(),
        path: None,
    })
}

/// `NAME TYPE [= DEFAULT] [-- DESCRIPTION]`.
fn parse_param(decl: &str) -> std::result::Result<ParamDecl, String> {
    let (spec, doc) = decl.split_once(" -- ").unwrap_or((decl, ""));
    let (head, default) = match spec.split_once('=') {
        Some((head, default)) => (head, Some(default.trim().to_string())),
        None => (spec, None),
    };
    let mut words = head.split_whitespace();
    let name = words
        .next()
        .ok_or("expected `@param NAME TYPE [= DEFAULT] [-- DESCRIPTION]`")?;
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!("`{name}` is not a valid parameter name (letters, digits, _)"));
    }
    let ty = words
        .next()
        .ok_or("missing the type (text, int, float, timestamp, date)")?;
    let ty = ParamType::parse(ty).ok_or_else(|| format!("unknown type `{ty}` (text, int, float, timestamp, date)"))?;
    if let Some(extra) = words.next() {
        return Err(format!("unexpected `{extra}` after the type"));
    }
    Ok(ParamDecl {
        name: name.to_string(),
        ty,
        default,
        doc: doc.trim().to_string(),
    })
}

/// Every saved query: the built-in ones, then those of `dir` (which replace built-ins of the
/// same name), sorted by name.
pub fn all(dir: Option<&Path>) -> Result<Vec<SavedQuery>> {
    let mut queries: Vec<SavedQuery> = BUILT_IN
        .iter()
        .map(|(name, text)| parse(name, text, &format!("queries/{name}.sql")))
        .collect::<Result<_>>()?;
    if let Some(dir) = dir {
        let entries = std::fs::read_dir(dir).map_err(|e| Error::io("read the queries folder", dir, e))?;
        for entry in entries {
            let path = entry.map_err(|e| Error::io("read the queries folder", dir, e))?.path();
            if path.extension().is_none_or(|e| e != "sql") {
                continue;
            }
            let Some(name) = path.file_stem().and_then(|s| s.to_str()).map(str::to_string) else {
                continue;
            };
            let text = std::fs::read_to_string(&path).map_err(|e| Error::io("read", &path, e))?;
            let mut query = parse(&name, &text, &path.display().to_string())?;
            query.path = Some(path);
            queries.retain(|q| q.name != name);
            queries.push(query);
        }
    }
    queries.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(queries)
}

/// The saved query called `name`, or an error listing the names there are.
pub fn find(name: &str, dir: Option<&Path>) -> Result<SavedQuery> {
    let queries = all(dir)?;
    let names: Vec<String> = queries.iter().map(|q| q.name.clone()).collect();
    queries
        .into_iter()
        .find(|q| q.name == name)
        .ok_or_else(|| Error::UnknownSavedQuery {
            name: name.to_string(),
            known: names,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_declares_parameters() {
        let q = parse(
            "x",
            "-- Slowest changes.\n-- More.\n-- @param limit int = 20 -- how many\n-- @param repo text\nSELECT 1",
            "x.sql",
        )
        .unwrap();
        assert_eq!(q.summary, "Slowest changes.");
        assert_eq!(q.description, "Slowest changes.\nMore.");
        assert_eq!(q.params.len(), 2);
        assert_eq!(q.params[0].default.as_deref(), Some("20"));
        assert_eq!(q.params[0].doc, "how many");
        assert_eq!(q.params[1].default, None);
    }

    #[test]
    fn bad_parameter_lines_name_the_line() {
        let e = parse("x", "-- S\n-- @param n integer\nSELECT 1", "x.sql").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("x.sql:2: invalid `@param` line: unknown type `integer`")
        );
    }

    #[test]
    fn every_file_in_queries_is_built_in() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("queries");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| {
                let p = e.unwrap().path();
                (p.extension()? == "sql").then(|| p.file_stem().unwrap().to_string_lossy().into_owned())
            })
            .collect();
        files.sort();
        let mut built_in: Vec<String> = BUILT_IN.iter().map(|(n, _)| (*n).to_string()).collect();
        built_in.sort();
        assert_eq!(files, built_in);
    }

    #[test]
    fn the_readme_names_every_query() {
        let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("queries/README.md")).unwrap();
        for (name, _) in BUILT_IN {
            assert!(
                readme.contains(&format!("[`{name}`]({name}.sql)")),
                "queries/README.md misses {name}"
            );
        }
    }
}
