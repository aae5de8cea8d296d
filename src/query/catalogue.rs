//! What a query can read: the canonical tables (all of history, canonical columns only) and the
//! views of the analysis over the window, registered under their names.

use std::fmt::Write as _;

use polars::prelude::DataFrame;

use super::{Catalog, Prepared};
use crate::analysis::{self, Context, views};
use crate::error::{PolarsContext, Result};
use crate::table::schema;

/// The canonical tables and the views over the window. The views are lazy and cost nothing
/// unless read, except `periods`, which runs the whole metrics computation: it is built only
/// when the query reads it (or `--tables` lists it).
pub fn build(
    tables: &crate::table::Tables,
    context: &Context,
    prepared: Option<&Prepared>,
    all: bool,
) -> Result<Catalog> {
    let mut catalog = Catalog::default();
    for (table, frame) in tables.iter() {
        // The canonical columns only: the store's derived ones are an implementation detail,
        // and a query must read the same from a store and a CSV folder.
        catalog.add_table(
            table.name,
            frame
                .clone()
                .select(table.column_names().map(polars::prelude::col).collect::<Vec<_>>()),
        );
    }
    let facts = analysis::facts(tables, context)?;
    catalog.add_view("changes", views::changes(&facts)?);
    catalog.add_view(
        "production_deployments",
        views::production_deployments(&facts, context.zone)?,
    );
    catalog.add_view(
        "incident_attribution",
        views::incident_attribution(&facts, context.zone)?,
    );
    catalog.add_view("issue_deliveries", views::issue_deliveries(&facts, context.zone)?);
    catalog.add_view("open_issues", views::open_issues(&facts));
    catalog.add_view("rollouts", views::rollouts(&facts, context.zone)?);
    if all || prepared.is_some_and(|p| p.relations.contains("periods")) {
        let report = analysis::compute(tables, context)?;
        catalog.add_view("periods", polars::prelude::IntoLazy::lazy(views::periods(&report)?));
    } else {
        catalog.add_view("periods", polars::prelude::IntoLazy::lazy(DataFrame::empty()));
    }
    Ok(catalog)
}

/// `--tables`: every table and view with its columns and types.
pub fn describe(catalog: &Catalog) -> Result<String> {
    let mut text = String::new();
    let views: Vec<&str> = catalog.view_names().collect();
    for (name, frame) in catalog.entries() {
        let schema = frame
            .clone()
            .collect_schema()
            .context(|| format!("failed to read the columns of `{name}`"))?;
        let kind = if views.contains(&name) {
            "view, over the window"
        } else {
            "table, all of history"
        };
        let _ = writeln!(text, "{name} ({kind})");
        for (column, dtype) in schema.iter() {
            let doc = schema::TABLES
                .iter()
                .find(|t| t.name == name)
                .and_then(|t| t.columns.iter().find(|c| c.name == column.as_str()))
                .map(|c| format!("  {}", c.doc))
                .unwrap_or_default();
            let _ = writeln!(text, "  {column:<26} {:<22}{doc}", dtype.to_string());
        }
        text.push('\n');
    }
    let _ = writeln!(
        text,
        "Every query can use $since and $until, the window's bounds. See docs/query.md."
    );
    Ok(text)
}
