//! The JSON artifact: a versioned, stable shape that CI jobs and dashboards can rely on.
//!
//! `schema_version` changes only when a field is removed or changes meaning; new fields may be
//! added within a version.

use std::io::Write;

use serde_json::{Map, Value, json};

use crate::report::{Figures, LEVELS_SOURCE, MetricsReport, PeriodFigures};
use crate::timestamp::format_utc;

pub const SCHEMA_VERSION: u32 = 1;

pub fn to_value(report: &MetricsReport) -> Value {
    let periods = |ps: &[PeriodFigures]| -> Value { serde_json::to_value(ps).unwrap_or(Value::Null) };
    let groups: Vec<Value> = report
        .groups
        .iter()
        .map(|g| {
            let mut entry = Map::new();
            entry.insert(
                report.group_by.unwrap_or("group").into(),
                g.key.clone().map_or(Value::Null, Value::String),
            );
            if let Value::Object(fields) = figures(&g.figures) {
                entry.extend(fields);
            }
            if report.period.is_some() {
                entry.insert("periods".into(), periods(&g.periods));
            }
            Value::Object(entry)
        })
        .collect();
    json!({
        "schema_version": SCHEMA_VERSION,
        "dora_version": env!("CARGO_PKG_VERSION"),
        "window": {
            "since": format_utc(report.since),
            "until": format_utc(report.until),
            "time_zone": report.time_zone,
            "environment": report.environment,
        },
        "group_by": report.group_by,
        "period": report.period,
        "lead_time_source": report.lead_time_source,
        "levels_source": LEVELS_SOURCE,
        "inputs": report.inputs,
        "pull_requests": report.pull_requests,
        "overall": figures(&report.overall),
        "groups": groups,
        "periods": periods(&report.periods),
    })
}

fn figures(f: &Figures) -> Value {
    serde_json::to_value(f).unwrap_or(Value::Null)
}

pub fn render(report: &MetricsReport, out: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &to_value(report))?;
    writeln!(out)
}
