//! CSV export: one row per scope (the overall window, each group, each period, each group in
//! each period), every figure in its own column, in the order of the metric catalogue.

use std::io::Write;

use crate::analysis::catalogue::{
    AI_FIELDS, BATCH_FIELDS, Cell, Field, ISSUE_FIELDS, Metric, ROLLOUT_FIELDS, SCOPE_FIELDS, Spec,
};
use crate::analysis::figures::{Figures, Scorecard};
use crate::analysis::quick_check::Measure;
use crate::output::level;
use crate::table::schema;

/// The columns of every row: its scope, then each metric's fields and the scope's own, then the
/// levels, from the metric catalogue.
fn header() -> Vec<String> {
    let mut header: Vec<String> = ["scope", "group", "period_start", "period_end"]
        .map(String::from)
        .into();
    header.extend(fields().map(|field| field.csv.to_string()));
    header.extend(level_keys().map(|(key, _)| format!("level_{key}")));
    // The feedback loop, per kind of issue: `bug_lead_time_median_hours`, ...; the rollouts.
    for kind in schema::issue_kind::ALL {
        header.extend(ISSUE_FIELDS.iter().map(|field| format!("{kind}_{}", field.csv)));
    }
    header.extend(ROLLOUT_FIELDS.iter().map(|field| format!("rollouts_{}", field.csv)));
    header.extend(BATCH_FIELDS.iter().map(|field| format!("batch_{}", field.csv)));
    // The Quick Check (2025): each measure's score, then throughput, stability and overall.
    header.extend(Measure::ALL.iter().map(|m| format!("quick_check_{}_score", m.key())));
    header.extend(["quick_check_throughput", "quick_check_stability", "quick_check_overall"].map(String::from));
    // AI-assisted changes: empty when no deployed commit has a flag.
    header.extend(AI_FIELDS.iter().map(|field| format!("ai_{}", field.csv)));
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

fn cell(cell: Cell) -> String {
    match cell {
        Cell::Count(n) => n.to_string(),
        Cell::Number(v) => v.map_or_else(String::new, |x| x.to_string()),
    }
}

fn cells(f: &Figures) -> impl Iterator<Item = String> + '_ {
    let values = fields().map(|field| cell((field.read)(f)));
    let levels = level_keys().map(|(_, spec)| level((spec.level)(f)).replace('-', ""));
    // Empty without issue data (not zeros: nothing was measured).
    let issues = f.issues.as_ref().map(crate::analysis::figures::IssueFigures::kinds);
    let feedback = (0..3).flat_map(move |n| {
        ISSUE_FIELDS.iter().map(move |field| {
            issues
                .as_ref()
                .map_or_else(String::new, |kinds| cell((field.read)(kinds[n].1)))
        })
    });
    let rollouts = ROLLOUT_FIELDS
        .iter()
        .map(|field| f.rollouts.as_ref().map_or_else(String::new, |r| cell((field.read)(r))));
    let q = &f.quick_check;
    let scores = Measure::ALL
        .iter()
        .map(|m| q.rating(*m).1)
        .chain([q.throughput, q.stability, q.overall])
        .map(|s| cell(Cell::Number(s)));
    let batch = BATCH_FIELDS
        .iter()
        .map(|field| cell((field.read)(&f.changes_per_deployment)));
    let ai = AI_FIELDS
        .iter()
        .map(|field| f.ai.as_ref().map_or_else(String::new, |a| cell((field.read)(a))));
    values
        .chain(levels)
        .chain(feedback)
        .chain(rollouts)
        .chain(batch)
        .chain(scores)
        .chain(ai)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> Vec<csv::StringRecord> {
        let text = crate::output::sample_rendered(crate::output::Format::Csv);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(text.as_bytes());
        reader.records().map(|r| r.expect("a record")).collect()
    }

    #[test]
    fn every_row_has_the_header_s_width_and_scope() {
        let rows = rows();
        let width = header().len();
        assert!(rows.iter().all(|r| r.len() == width));
        let scopes: Vec<&str> = rows[1..].iter().map(|r| &r[0]).collect();
        // overall, then each group followed by its periods, then the periods.
        assert_eq!(
            scopes,
            [
                "overall",
                "group",
                "group_period",
                "group_period",
                "group",
                "group_period",
                "group_period",
                "period",
                "period"
            ]
        );
        // A group key with a `|` is written as it is; a group without one is empty.
        assert_eq!((&rows[2][1], &rows[5][1]), ("acme/a|b", ""));
    }

    #[test]
    fn cells_are_the_figures_under_their_catalogue_column() {
        let rows = rows();
        let column = |name: &str| rows[0].iter().position(|h| h == name).expect("a column");
        let overall = &rows[1];
        assert_eq!(&overall[column("deployments")], "4");
        assert_eq!(&overall[column("change_failure_rate")], "0.25");
        assert_eq!(&overall[column("lead_time_median_hours")], "2.5");
        assert_eq!(&overall[column("level_lead_time")], "high");
        assert_eq!(&overall[column("time_zone")], "UTC");
        // No data: an empty cell, not 0 or NaN.
        let empty_week = &rows[4];
        assert_eq!(
            (
                &empty_week[column("change_failure_rate")],
                &empty_week[column("level_lead_time")]
            ),
            ("", "")
        );
    }
}
