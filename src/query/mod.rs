//! SQL over the delivery data: the canonical tables and the metric views, through Polars SQL.
//!
//! A query is parsed here first (with the parser Polars uses), so that dora can refuse anything
//! but a read, bind `$parameters` into the syntax tree, and point at the position of a syntax
//! error. Polars then plans the query lazily over the store's Parquet files: only the columns
//! and rows the query needs are read.

pub mod catalogue;
pub mod params;
pub mod saved;

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use polars::prelude::*;
use polars::sql::SQLContext;
use sqlparser::ast::Statement;
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::{Parser, ParserOptions};

use crate::error::{Error, Result};
use params::Bindings;

/// A query that parsed, only reads, and has its parameters bound.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The SQL Polars runs (the parsed tree written back, with literals in place of `$names`).
    pub sql: String,
    /// Every table or view name the query reads (lowercase).
    pub relations: BTreeSet<String>,
}

/// Parses `sql`, refuses anything but a query, and binds the parameters.
pub fn prepare(sql: &str, bindings: &Bindings) -> Result<Prepared> {
    let options = ParserOptions {
        trailing_commas: true,
        ..ParserOptions::default()
    };
    let mut statements = Parser::new(&GenericDialect)
        .with_options(options)
        .try_with_sql(sql)
        .and_then(|mut p| p.parse_statements())
        .map_err(|e| syntax_error(sql, &e.to_string()))?;
    let mut statement = match statements.len() {
        1 => statements.remove(0),
        0 => {
            return Err(Error::Query {
                message: "the query is empty".into(),
            });
        }
        n => {
            return Err(Error::Query {
                message: format!("expected one SQL statement, found {n}"),
            });
        }
    };
    if !matches!(statement, Statement::Query(_)) {
        let verb = statement
            .to_string()
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_uppercase();
        return Err(Error::Query {
            message: format!("`{verb}` is not allowed: `dora query` only reads (SELECT or WITH ... SELECT)"),
        });
    }
    params::substitute(&mut statement, bindings)?;
    let mut relations = BTreeSet::new();
    let _ = sqlparser::ast::visit_relations(&statement, |name| {
        if let Some(part) = name.0.last() {
            relations.insert(part.to_string().trim_matches('"').to_lowercase());
        }
        ControlFlow::<()>::Continue(())
    });
    Ok(Prepared {
        sql: statement.to_string(),
        relations,
    })
}

/// The message of a parser error, with the query line and a caret under the position.
fn syntax_error(sql: &str, message: &str) -> Error {
    let message = message.trim_start_matches("sql parser error: ");
    let position = message.rsplit_once(" at Line: ").and_then(|(_, at)| {
        let (line, column) = at.split_once(", Column: ")?;
        Some((line.trim().parse::<usize>().ok()?, column.trim().parse::<usize>().ok()?))
    });
    let mut text = format!("SQL syntax error: {message}");
    if let Some((line, column)) = position
        && let Some(source) = sql.lines().nth(line.saturating_sub(1))
    {
        let pad = " ".repeat(source.chars().take(column.saturating_sub(1)).count());
        text = format!("{text}\n  {source}\n  {pad}^");
    }
    Error::Query { message: text }
}

/// The tables and views a query can read, by name.
#[derive(Clone, Default)]
pub struct Catalog {
    tables: Vec<(String, LazyFrame)>,
    views: Vec<(String, LazyFrame)>,
}

impl Catalog {
    pub fn add_table(&mut self, name: &str, frame: LazyFrame) {
        self.tables.push((name.to_string(), frame));
    }

    pub fn add_view(&mut self, name: &str, frame: LazyFrame) {
        self.views.push((name.to_string(), frame));
    }

    pub fn table_names(&self) -> impl Iterator<Item = &str> {
        self.tables.iter().map(|(n, _)| n.as_str())
    }

    pub fn view_names(&self) -> impl Iterator<Item = &str> {
        self.views.iter().map(|(n, _)| n.as_str())
    }

    /// Every entry, tables first.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &LazyFrame)> {
        self.tables.iter().chain(&self.views).map(|(n, f)| (n.as_str(), f))
    }

    fn names(&self) -> String {
        let list = |names: Vec<&str>| names.join(", ");
        format!(
            "tables: {}; views: {}",
            list(self.table_names().collect()),
            list(self.view_names().collect())
        )
    }

    /// Runs a prepared query and collects the result.
    pub fn run(&self, prepared: &Prepared) -> Result<DataFrame> {
        let mut context = SQLContext::new();
        for (name, frame) in self.entries() {
            context.register(name, frame.clone());
        }
        let plan = context.execute(&prepared.sql).map_err(|e| self.query_error(&e))?;
        // Polars can panic on a plan it built itself (seen: common subexpression elimination
        // on some CTEs in 0.55). A query is user input, and input must never crash dora:
        // contain the panic and report it as the query's error.
        let (result, panic) = contained(|| plan.with_comm_subexpr_elim(false).collect());
        match (result, panic) {
            (Some(Ok(frame)), _) => Ok(frame),
            (Some(Err(e)), _) => Err(self.query_error(&e)),
            (None, message) => Err(Error::Query {
                message: format!(
                    "Polars failed on this query ({}); rewriting it (a subquery instead of a CTE, say) usually helps",
                    message.unwrap_or_else(|| "internal error".into())
                ),
            }),
        }
    }

    fn query_error(&self, error: &PolarsError) -> Error {
        let text = error.to_string();
        // Polars appends the plan it resolved; the user's question is about their query.
        let text = text
            .split("\n\nResolved plan until failure")
            .next()
            .unwrap_or_default()
            .trim();
        if let Some(name) = text
            .strip_prefix("relation '")
            .and_then(|rest| rest.strip_suffix("' was not found"))
        {
            return Error::Query {
                message: format!("unknown table `{name}`; {}", self.names()),
            };
        }
        let text = text.strip_prefix("not found: ").unwrap_or(text);
        Error::Query {
            message: format!("the query failed: {text}"),
        }
    }
}

/// Runs `f`, turning a panic into `None` plus its message, without printing it.
fn contained<T>(f: impl FnOnce() -> T) -> (Option<T>, Option<String>) {
    use std::sync::{Arc, Mutex};
    let message = Arc::new(Mutex::new(None));
    let previous = std::panic::take_hook();
    let slot = Arc::clone(&message);
    std::panic::set_hook(Box::new(move |info| {
        let text = info
            .payload()
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| info.payload().downcast_ref::<&str>().map(|s| (*s).to_string()));
        if let Ok(mut slot) = slot.lock() {
            *slot = text;
        }
    }));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).ok();
    std::panic::set_hook(previous);
    let text = message.lock().ok().and_then(|mut m| m.take());
    (result, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(sql: &str) -> String {
        prepare(sql, &Bindings::new()).unwrap_err().to_string()
    }

    #[test]
    fn only_reads() {
        assert!(error("DROP TABLE deployments").contains("`DROP` is not allowed"));
        assert!(error("DELETE FROM deployments").contains("`DELETE` is not allowed"));
        assert!(error("SELECT 1; SELECT 2").contains("one SQL statement"));
    }

    #[test]
    fn syntax_errors_point_at_the_position() {
        // `FRM` reads as an alias of `id`; the parser stops at the word after it.
        let message = error("SELECT id\nFRM deployments");
        assert!(
            message.contains("found: deployments at Line: 2, Column: 5"),
            "{message}"
        );
        assert!(message.ends_with("\n  FRM deployments\n      ^"), "{message}");
    }

    #[test]
    fn lists_the_relations_read() {
        let p = prepare(
            "WITH x AS (SELECT * FROM changes) SELECT * FROM x JOIN Deployments d ON x.deployment_id = d.id",
            &Bindings::new(),
        )
        .unwrap();
        assert!(p.relations.contains("changes") && p.relations.contains("deployments"));
    }
}
