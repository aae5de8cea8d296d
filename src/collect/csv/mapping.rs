//! Mapping files: how another tool's export maps onto the canonical tables.
//!
//! A mapping renames columns and translates values, so an export imports without editing it:
//!
//! ```toml
//! [deployments]
//! file = "deploys-export.csv"          # file name in the folder (default: deployments.csv)
//! [deployments.columns]                # canonical name = name in the export
//! id = "Deploy ID"
//! deployed_at = "Finished At"
//! [deployments.values.status]          # value in the export = canonical value
//! SUCCEEDED = "success"
//! FAILED = "failure"
//! REVERTED = "rolled_back"
//! [issues.constants]                   # canonical name = the value of every row
//! repo = "acme/api"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::table::schema::{self, Table};

/// How one table is found and read.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableMapping {
    /// File name in the folder, instead of the canonical one.
    pub file: Option<String>,
    /// Canonical column name -> column name in the export.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
    /// Canonical column name -> (value in the export -> canonical value).
    #[serde(default)]
    pub values: BTreeMap<String, BTreeMap<String, String>>,
    /// Canonical column name -> the value of every row (a tracker's issues have no repository:
    /// the mapping says which one delivers them). Text columns only.
    #[serde(default)]
    pub constants: BTreeMap<String, String>,
}

impl TableMapping {
    /// The header name to look for in the export for a canonical column.
    pub fn source_column<'a>(&'a self, canonical: &'a str) -> &'a str {
        self.columns.get(canonical).map_or(canonical, String::as_str)
    }

    /// Translates a cell of a canonical column; exact match first, then ignoring case.
    pub fn translate<'a>(&'a self, canonical: &str, value: &'a str) -> &'a str {
        let Some(map) = self.values.get(canonical) else {
            return value;
        };
        if let Some(v) = map.get(value) {
            return v;
        }
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(value))
            .map_or(value, |(_, v)| v.as_str())
    }
}

/// A whole mapping file: one optional section per canonical table.
#[derive(Debug, Clone, Default)]
pub struct Mapping {
    tables: BTreeMap<String, TableMapping>,
}

impl Mapping {
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io("read mapping file", path, e))?;
        Self::parse(&text, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let err = |message: String| Error::Mapping {
            path: PathBuf::from(path),
            message,
        };
        let tables: BTreeMap<String, TableMapping> = toml::from_str(text).map_err(|e| err(e.to_string()))?;
        for (name, mapping) in &tables {
            let table = schema::table(name).ok_or_else(|| {
                err(format!(
                    "unknown table `[{name}]`; the tables are {}",
                    schema::TABLES.map(|t| t.name).join(", ")
                ))
            })?;
            for canonical in mapping.constants.keys() {
                if table.column(canonical).is_some_and(|c| c.kind != schema::Kind::Text) {
                    return Err(err(format!(
                        "`{name}.constants.{canonical}`: only text columns take a constant"
                    )));
                }
            }
            for canonical in mapping
                .columns
                .keys()
                .chain(mapping.values.keys())
                .chain(mapping.constants.keys())
            {
                if table.column(canonical).is_none() {
                    return Err(err(format!(
                        "`{name}` has no column `{canonical}`; its columns are {}",
                        table.column_names().collect::<Vec<_>>().join(", ")
                    )));
                }
            }
        }
        Ok(Mapping { tables })
    }

    /// The mapping of one table (empty when the file does not mention it).
    pub fn table(&self, table: &Table) -> TableMapping {
        self.tables.get(table.name).cloned().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_translates() {
        let m = Mapping::parse(
            r#"
            [deployments]
            file = "x.csv"
            columns = { id = "Deploy ID" }
            values.status = { SUCCEEDED = "success", Reverted = "rolled_back" }
            "#,
            Path::new("m.toml"),
        )
        .expect("valid mapping");
        let d = m.table(&schema::DEPLOYMENTS);
        assert_eq!(d.file.as_deref(), Some("x.csv"));
        assert_eq!(d.source_column("id"), "Deploy ID");
        assert_eq!(d.source_column("repo"), "repo");
        assert_eq!(d.translate("status", "SUCCEEDED"), "success");
        assert_eq!(d.translate("status", "reverted"), "rolled_back");
        assert_eq!(d.translate("status", "other"), "other");
    }

    #[test]
    fn names_unknown_tables_and_columns() {
        let e = Mapping::parse("[deploys]\nfile='a'", Path::new("m.toml")).expect_err("unknown table");
        assert!(e.to_string().contains("unknown table `[deploys]`"), "{e}");
        let e = Mapping::parse("[incidents.columns]\nopened='x'", Path::new("m.toml")).expect_err("bad column");
        assert!(e.to_string().contains("no column `opened`"), "{e}");
    }
}
