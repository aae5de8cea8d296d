//! CSV export: one row per scope (the overall window, each group, each period, each group in
//! each period), every figure in its own column, in the order of the metric catalogue.

use std::io::Write;

use crate::analysis::catalogue::{Cell, Field, Metric, SCOPE_FIELDS, Spec};
use crate::analysis::figures::{Figures, Scorecard};
use crate::output::level;

/// The columns of every row: its scope, then each metric's fields and the scope's own, then the
/// levels, from the metric catalogue.
fn header() -> Vec<String> {
    let mut header: Vec<String> = ["scope", "group", "period_start", "period_end"]
        .map(String::from)
        .into();
    header.extend(fields().map(|field| field.csv.to_string()));
    header.extend(level_keys().map(|(key, _)| format!("level_{key}")));
    header.push("time_zone".into());
    header
}

fn fields() -> impl Iterator<Item = &'static Field> {
    Metric::ALL.iter().flat_map(|m| m.spec().fields).chain(SCOPE_FIELDS)
}

fn level_keys() -> impl Iterator<Item = (&'static str, &'static Spec)> {
    Metric::ALL
        .iter()
        .filter_map(|m| m.spec().level_key.map(|key| (key, m.spec())))
}

fn cells(f: &Figures) -> impl Iterator<Item = String> + '_ {
    let values = fields().map(|field| match (field.read)(f) {
        Cell::Count(n) => n.to_string(),
        Cell::Number(v) => v.map_or_else(String::new, |x| x.to_string()),
    });
    values.chain(level_keys().map(|(_, spec)| level((spec.level)(f)).replace('-', "")))
}

pub fn render(report: &Scorecard, out: &mut dyn Write) -> std::io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(header())?;
    let mut row = |scope: &str, group: &str, start: String, end: String, f: &Figures| -> std::io::Result<()> {
        let mut record = vec![scope.to_string(), group.to_string(), start, end];
        record.extend(cells(f));
        record.push(report.time_zone.clone());
        w.write_record(&record).map_err(std::io::Error::other)
    };
    row("overall", "", String::new(), String::new(), &report.overall)?;
    for g in &report.groups {
        let name = g.key.as_deref().unwrap_or("");
        row("group", name, String::new(), String::new(), &g.figures)?;
        for p in &g.periods {
            row("group_period", name, p.start.to_string(), p.end.to_string(), &p.figures)?;
        }
    }
    for p in &report.periods {
        row("period", "", p.start.to_string(), p.end.to_string(), &p.figures)?;
    }
    w.flush()
}
