//! Query parameters: declared with a type, validated, and bound into the parsed query.
//!
//! A parameter is written `$name` in SQL. Binding replaces that node of the syntax tree with a
//! literal built from the validated value, so a value is never read as SQL: `--param
//! repo="x' OR 1=1 --"` is one string literal, whatever it contains.

use std::collections::BTreeMap;
use std::fmt;

use chrono_tz::Tz;
use sqlparser::ast::{Expr, Value};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;

use crate::error::{Error, Result};
use crate::timestamp::{self, Micros};

/// What a parameter holds, which decides how its value is checked and written into the query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    Text,
    Int,
    Float,
    /// A point in time: a date (midnight in `--tz`) or an RFC 3339 timestamp; compares with the
    /// UTC timestamp columns.
    Timestamp,
    /// A calendar date, compares with `period_start`.
    Date,
}

impl ParamType {
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "text" => ParamType::Text,
            "int" => ParamType::Int,
            "float" => ParamType::Float,
            "timestamp" => ParamType::Timestamp,
            "date" => ParamType::Date,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ParamType::Text => "text",
            ParamType::Int => "int",
            ParamType::Float => "float",
            ParamType::Timestamp => "timestamp",
            ParamType::Date => "date",
        }
    }
}

impl fmt::Display for ParamType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One declared parameter of a saved query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamDecl {
    pub name: String,
    pub ty: ParamType,
    /// `None`: the parameter must be given.
    pub default: Option<String>,
    pub doc: String,
}

/// A validated value, ready to become a literal.
#[derive(Debug, Clone, PartialEq)]
pub enum Bound {
    Text(String),
    Int(i64),
    Float(f64),
    Timestamp(Micros),
    Date(chrono::NaiveDate),
}

impl Bound {
    /// Checks `value` against `ty`; `name` is only for the message.
    pub fn parse(name: &str, ty: ParamType, value: &str, zone: Tz) -> Result<Self> {
        let invalid = |expected: &str| Error::Query {
            message: format!("invalid value {value:?} for parameter `{name}`: expected {expected}"),
        };
        Ok(match ty {
            ParamType::Text => Bound::Text(value.to_string()),
            ParamType::Int => Bound::Int(value.trim().parse().map_err(|_| invalid("an integer"))?),
            ParamType::Float => {
                let x: f64 = value.trim().parse().map_err(|_| invalid("a number"))?;
                if !x.is_finite() {
                    return Err(invalid("a finite number"));
                }
                Bound::Float(x)
            }
            ParamType::Timestamp => {
                Bound::Timestamp(timestamp::parse(value, zone).ok_or_else(|| invalid(timestamp::EXPECTED))?)
            }
            ParamType::Date => Bound::Date(
                chrono::NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d")
                    .map_err(|_| invalid("a date YYYY-MM-DD"))?,
            ),
        })
    }

    /// The literal that replaces `$name` in the syntax tree.
    fn to_expr(&self) -> Result<Expr> {
        let value = |v: Value| Expr::Value(v.with_empty_span());
        Ok(match self {
            Bound::Text(s) => value(Value::SingleQuotedString(s.clone())),
            Bound::Int(n) => value(Value::Number(n.to_string(), false)),
            Bound::Float(x) => value(Value::Number(format!("{x:?}"), false)),
            // Polars SQL has no literal for a UTC timestamp; parsing one with an explicit offset
            // gives a UTC datetime, comparable with the timestamp columns. The text is ours
            // (digits from the validated value), never the user's.
            Bound::Timestamp(us) => parse_expr(&format!(
                "STRPTIME('{}', '%Y-%m-%d %H:%M:%S%.f%z')",
                timestamp::naive_from_micros(*us)
                    .map(|t| t.format("%Y-%m-%d %H:%M:%S%.6f+0000").to_string())
                    .unwrap_or_default()
            ))?,
            Bound::Date(d) => parse_expr(&format!("CAST('{}' AS DATE)", d.format("%Y-%m-%d")))?,
        })
    }
}

fn parse_expr(sql: &str) -> Result<Expr> {
    Parser::new(&GenericDialect)
        .try_with_sql(sql)
        .and_then(|mut p| p.parse_expr())
        .map_err(|e| Error::Query {
            message: format!("internal error binding a parameter ({sql}): {e}"),
        })
}

/// Values by parameter name (without the `$`).
pub type Bindings = BTreeMap<String, Bound>;

/// Checks the given `name=value` pairs against the declarations and fills in defaults.
pub fn bind(decls: &[ParamDecl], given: &[(String, String)], zone: Tz) -> Result<Bindings> {
    let mut bound = Bindings::new();
    for (name, value) in given {
        let Some(decl) = decls.iter().find(|d| &d.name == name) else {
            return Err(Error::Query {
                message: format!("unknown parameter `{name}`; this query takes: {}", describe(decls)),
            });
        };
        bound.insert(name.clone(), Bound::parse(name, decl.ty, value, zone)?);
    }
    for decl in decls {
        if bound.contains_key(&decl.name) {
            continue;
        }
        let Some(default) = &decl.default else {
            return Err(Error::Query {
                message: format!(
                    "missing parameter `{}` ({}); pass `--param {}=VALUE`",
                    decl.name, decl.ty, decl.name
                ),
            });
        };
        bound.insert(decl.name.clone(), Bound::parse(&decl.name, decl.ty, default, zone)?);
    }
    Ok(bound)
}

fn describe(decls: &[ParamDecl]) -> String {
    if decls.is_empty() {
        return "no parameters".into();
    }
    decls
        .iter()
        .map(|d| format!("{} ({})", d.name, d.ty))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Replaces every `$name` in `statement` by its bound literal.
pub fn substitute(statement: &mut sqlparser::ast::Statement, bindings: &Bindings) -> Result<()> {
    let mut failure = None;
    let _ = sqlparser::ast::visit_expressions_mut(statement, |expr| {
        if let Expr::Value(v) = expr
            && let Value::Placeholder(placeholder) = &v.value
        {
            let name = placeholder.trim_start_matches(['$', ':', '?']);
            match bindings.get(name).map(Bound::to_expr) {
                Some(Ok(literal)) => *expr = literal,
                Some(Err(e)) => {
                    failure = Some(e);
                    return std::ops::ControlFlow::Break(());
                }
                None => {
                    failure = Some(Error::Query {
                        message: format!(
                            "the query uses `{placeholder}`, which is not a parameter; parameters: {}",
                            if bindings.is_empty() {
                                "none".to_string()
                            } else {
                                bindings.keys().map(|k| format!("${k}")).collect::<Vec<_>>().join(", ")
                            }
                        ),
                    });
                    return std::ops::ControlFlow::Break(());
                }
            }
        }
        std::ops::ControlFlow::Continue(())
    });
    failure.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bind_into(sql: &str, bindings: &Bindings) -> String {
        let mut statements = Parser::parse_sql(&GenericDialect, sql).unwrap();
        substitute(&mut statements[0], bindings).unwrap();
        statements[0].to_string()
    }

    #[test]
    fn text_is_one_literal_whatever_it_contains() {
        let mut b = Bindings::new();
        b.insert("repo".into(), Bound::Text("x' OR 1=1 --".into()));
        let sql = bind_into("SELECT * FROM deployments WHERE repo = $repo", &b);
        assert_eq!(sql, "SELECT * FROM deployments WHERE repo = 'x'' OR 1=1 --'");
    }

    #[test]
    fn placeholders_inside_strings_are_left_alone() {
        let mut b = Bindings::new();
        b.insert("n".into(), Bound::Int(3));
        let sql = bind_into("SELECT '$n' AS a, $n AS b", &b);
        assert_eq!(sql, "SELECT '$n' AS a, 3 AS b");
    }

    #[test]
    fn values_are_checked_against_the_type() {
        let zone = chrono_tz::UTC;
        assert!(Bound::parse("n", ParamType::Int, "12x", zone).is_err());
        assert!(Bound::parse("x", ParamType::Float, "NaN", zone).is_err());
        assert!(Bound::parse("t", ParamType::Timestamp, "yesterday", zone).is_err());
        assert_eq!(
            Bound::parse("t", ParamType::Timestamp, "2026-01-01", zone).unwrap(),
            Bound::Timestamp(1_767_225_600_000_000)
        );
    }
}
