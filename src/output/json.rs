//! The JSON artifact: a versioned, stable shape that CI jobs and dashboards can rely on.
//!
//! `schema_version` changes only when a field is removed or changes meaning; new fields may be
//! added within a version. Every object lists its keys in alphabetical order, so two artifacts
//! diff cleanly.
//!
//! The report is serialized straight to the writer: grouped by repository and week at 20M
//! commits it holds 54,000 period objects (66 MB), and building a `serde_json::Value` tree first
//! (with `#[serde(flatten)]` for the periods) took longer than computing the figures (perf).

use std::io::Write;

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::json;

use crate::analysis::figures::{
    Figures, Frequency, Group, LEVELS_SOURCE, LeadTime, Levels, PeriodFigures, Recovery, Scorecard, TimeToRestore,
};
use crate::analysis::levels::Level;
use crate::timestamp::format_utc;

pub const SCHEMA_VERSION: u32 = 1;

pub fn render(report: &Scorecard, out: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &Artifact(report))?;
    writeln!(out)
}

/// One value of an object; objects are lists of `(key, Entry)` sorted by key when written.
#[derive(Clone, Copy)]
enum Entry<'a> {
    Count(u64),
    Number(Option<f64>),
    Text(Option<&'a str>),
    Date(chrono::NaiveDate),
    Level(Option<Level>),
    Object(&'a Sorted<'a>),
    Frequency(&'a Frequency),
    LeadTime(&'a LeadTime),
    TimeToRestore(&'a TimeToRestore),
    Recovery(&'a Recovery),
    Levels(&'a Levels),
    Periods(&'a [PeriodFigures]),
    Groups(&'a Scorecard),
    /// Small, rarely written parts (window, inputs, pull requests) go through `serde_json`.
    Value(&'a serde_json::Value),
}

impl Serialize for Entry<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match *self {
            Entry::Count(n) => s.serialize_u64(n),
            Entry::Number(x) => x.serialize(s),
            Entry::Text(t) => t.serialize(s),
            Entry::Date(d) => s.collect_str(&format_args!("{}", d.format("%Y-%m-%d"))),
            Entry::Level(l) => l.map(Level::as_str).serialize(s),
            Entry::Object(entries) => entries.serialize(s),
            Entry::Frequency(f) => object(
                s,
                vec![
                    ("days_with_deployments", Entry::Count(f.days_with_deployments)),
                    ("per_day", Entry::Number(f.per_day)),
                    ("per_week", Entry::Number(f.per_week)),
                ],
            ),
            Entry::LeadTime(l) => object(
                s,
                vec![
                    ("count", Entry::Count(l.count)),
                    ("median", Entry::Number(l.median)),
                    ("negative_dropped", Entry::Count(l.negative_dropped)),
                    ("p75", Entry::Number(l.p75)),
                    ("p90", Entry::Number(l.p90)),
                ],
            ),
            Entry::TimeToRestore(t) => object(
                s,
                vec![
                    ("count", Entry::Count(t.count)),
                    ("median", Entry::Number(t.median)),
                    ("open", Entry::Count(t.open)),
                    ("p90", Entry::Number(t.p90)),
                ],
            ),
            Entry::Recovery(r) => object(
                s,
                vec![
                    ("count", Entry::Count(r.count)),
                    ("median", Entry::Number(r.median)),
                    ("open", Entry::Count(r.open)),
                    ("p90", Entry::Number(r.p90)),
                ],
            ),
            Entry::Levels(l) => object(
                s,
                vec![
                    ("change_failure_rate", Entry::Level(l.change_failure_rate)),
                    ("deployment_frequency", Entry::Level(l.deployment_frequency)),
                    ("lead_time", Entry::Level(l.lead_time)),
                    ("time_to_restore", Entry::Level(l.time_to_restore)),
                ],
            ),
            Entry::Periods(periods) => s.collect_seq(periods.iter().map(|p| {
                let mut entries = figures(&p.figures);
                entries.extend([("start", Entry::Date(p.start)), ("end", Entry::Date(p.end))]);
                Sorted::new(entries)
            })),
            Entry::Groups(report) => s.collect_seq(report.groups.iter().map(|g| group(report, g))),
            Entry::Value(v) => v.serialize(s),
        }
    }
}

/// An object whose keys are written in alphabetical order.
struct Sorted<'a>(Vec<(&'a str, Entry<'a>)>);

impl<'a> Sorted<'a> {
    fn new(mut entries: Vec<(&'a str, Entry<'a>)>) -> Self {
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
        Sorted(entries)
    }
}

impl Serialize for Sorted<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

fn object<S: Serializer>(s: S, entries: Vec<(&str, Entry<'_>)>) -> Result<S::Ok, S::Error> {
    Sorted::new(entries).serialize(s)
}

/// The figures of one scope as object entries (unsorted).
fn figures(f: &Figures) -> Vec<(&'static str, Entry<'_>)> {
    let mut entries = Vec::with_capacity(16);
    entries.extend([
        ("deployments", Entry::Count(f.deployments)),
        ("failed_deployments", Entry::Count(f.failed_deployments)),
        ("change_failure_rate", Entry::Number(f.change_failure_rate)),
        ("rework_deployments", Entry::Count(f.rework_deployments)),
        ("rework_rate", Entry::Number(f.rework_rate)),
        ("lead_time_hours", Entry::LeadTime(&f.lead_time_hours)),
        ("time_to_restore_hours", Entry::TimeToRestore(&f.time_to_restore_hours)),
        (
            "failed_deployment_recovery_hours",
            Entry::Recovery(&f.failed_deployment_recovery_hours),
        ),
        ("deployment_frequency", Entry::Frequency(&f.deployment_frequency)),
        ("unattributed_incidents", Entry::Count(f.unattributed_incidents)),
        ("levels", Entry::Levels(&f.levels)),
    ]);
    entries
}

/// One group: its key under the name of the `--by` dimension, its figures, its periods.
fn group<'a>(report: &'a Scorecard, g: &'a Group) -> Sorted<'a> {
    let mut entries = figures(&g.figures);
    entries.push((report.group_by.unwrap_or("group"), Entry::Text(g.key.as_deref())));
    if report.period.is_some() {
        entries.push(("periods", Entry::Periods(&g.periods)));
    }
    Sorted::new(entries)
}

/// The whole artifact.
struct Artifact<'a>(&'a Scorecard);

impl Serialize for Artifact<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let report = self.0;
        let window = json!({
            "since": format_utc(report.since),
            "until": format_utc(report.until),
            "time_zone": report.time_zone,
            "environment": report.environment,
        });
        let inputs = json!(report.inputs);
        let pull_requests = json!(report.pull_requests);
        let overall = Sorted::new(figures(&report.overall));
        object(
            s,
            vec![
                ("schema_version", Entry::Count(u64::from(SCHEMA_VERSION))),
                ("dora_version", Entry::Text(Some(env!("CARGO_PKG_VERSION")))),
                ("window", Entry::Value(&window)),
                ("group_by", Entry::Text(report.group_by)),
                ("period", Entry::Text(report.period)),
                ("lead_time_source", Entry::Text(Some(report.lead_time_source))),
                ("levels_source", Entry::Text(Some(LEVELS_SOURCE))),
                ("inputs", Entry::Value(&inputs)),
                ("pull_requests", Entry::Value(&pull_requests)),
                ("overall", Entry::Object(&overall)),
                ("groups", Entry::Groups(report)),
                ("periods", Entry::Periods(&report.periods)),
            ],
        )
    }
}
