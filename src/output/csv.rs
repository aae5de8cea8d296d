//! CSV export: one row per scope (the overall window, each group, each period, each group in
//! each period), every figure in its own column.

use std::io::Write;

use crate::analysis::figures::{Figures, Scorecard};
use crate::output::level;

const HEADER: [&str; 31] = [
    "scope",
    "group",
    "period_start",
    "period_end",
    "deployments",
    "failed_deployments",
    "change_failure_rate",
    "rework_deployments",
    "rework_rate",
    "lead_time_count",
    "lead_time_median_hours",
    "lead_time_p75_hours",
    "lead_time_p90_hours",
    "lead_time_negative_dropped",
    "time_to_restore_count",
    "time_to_restore_median_hours",
    "time_to_restore_p90_hours",
    "time_to_restore_open",
    "recovery_count",
    "recovery_median_hours",
    "recovery_p90_hours",
    "recovery_open",
    "deployments_per_day",
    "deployments_per_week",
    "days_with_deployments",
    "unattributed_incidents",
    "level_deployment_frequency",
    "level_lead_time",
    "level_change_failure_rate",
    "level_time_to_restore",
    "time_zone",
];

fn opt(v: Option<f64>) -> String {
    v.map_or_else(String::new, |x| x.to_string())
}

fn cells(f: &Figures) -> Vec<String> {
    let lt = &f.lead_time_hours;
    let ttr = &f.time_to_restore_hours;
    let rec = &f.failed_deployment_recovery_hours;
    let lv = |l| level(l).replace('-', "");
    vec![
        f.deployments.to_string(),
        f.failed_deployments.to_string(),
        opt(f.change_failure_rate),
        f.rework_deployments.to_string(),
        opt(f.rework_rate),
        lt.count.to_string(),
        opt(lt.median),
        opt(lt.p75),
        opt(lt.p90),
        lt.negative_dropped.to_string(),
        ttr.count.to_string(),
        opt(ttr.median),
        opt(ttr.p90),
        ttr.open.to_string(),
        rec.count.to_string(),
        opt(rec.median),
        opt(rec.p90),
        rec.open.to_string(),
        opt(f.deployment_frequency.per_day),
        opt(f.deployment_frequency.per_week),
        f.deployment_frequency.days_with_deployments.to_string(),
        f.unattributed_incidents.to_string(),
        lv(f.levels.deployment_frequency),
        lv(f.levels.lead_time),
        lv(f.levels.change_failure_rate),
        lv(f.levels.time_to_restore),
    ]
}

pub fn render(report: &Scorecard, out: &mut dyn Write) -> std::io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(HEADER)?;
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
