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

use crate::analysis::catalogue::{
    Cell, JsonKey, Metric, SCOPE_FIELDS, Spec, ai_json, batch_json, issues_json, rollouts_json,
};
use crate::analysis::figures::{Figures, Group, LEVELS_SOURCE, PeriodFigures, Scorecard};
use crate::analysis::levels::Level;
use crate::timestamp::format_utc;

pub const SCHEMA_VERSION: u32 = 3;

pub fn render(report: &Scorecard, out: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &Artifact(report))?;
    writeln!(out)
}

/// One value of an object; objects are lists of `(key, Entry)` sorted by key when written.
#[derive(Clone, Copy)]
enum Entry<'a> {
    Text(Option<&'a str>),
    Date(chrono::NaiveDate),
    Level(Option<Level>),
    Object(&'a Sorted<'a>),
    Cell(Cell),
    /// A metric's own object of figures: `lead_time_hours`.
    Nested(&'static Spec, &'a Figures),
    /// The levels of the metrics that have one.
    Levels(&'a Figures),
    /// The feedback loop per kind of issue (`null` without issue data).
    Issues(&'a Figures),
    /// Progressive delivery (`null` without rollouts).
    Rollouts(&'a Figures),
    QuickCheck(&'a Figures),
    /// Batch size.
    Batch(&'a Figures),
    /// AI-assisted changes (`null` when no deployed commit has a flag).
    Ai(&'a Figures),
    Periods(&'a [PeriodFigures]),
    Groups(&'a Scorecard),
    /// Small, rarely written parts (window, inputs, pull requests) go through `serde_json`.
    Value(&'a serde_json::Value),
}

impl Serialize for Entry<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match *self {
            Entry::Text(t) => t.serialize(s),
            Entry::Date(d) => s.collect_str(&format_args!("{}", d.format("%Y-%m-%d"))),
            Entry::Level(l) => l.map(Level::as_str).serialize(s),
            Entry::Object(entries) => entries.serialize(s),
            Entry::Cell(Cell::Count(n)) => s.serialize_u64(n),
            Entry::Cell(Cell::Number(x)) => x.serialize(s),
            Entry::Nested(spec, f) => object(
                s,
                spec.fields
                    .iter()
                    .filter_map(|field| match field.json {
                        JsonKey::Nested(key) => Some((key, Entry::Cell((field.read)(f)))),
                        JsonKey::Top(_) => None,
                    })
                    .collect(),
            ),
            Entry::Levels(f) => object(
                s,
                Metric::ALL
                    .iter()
                    .filter_map(|m| {
                        let spec = m.spec();
                        spec.level_key.map(|key| (key, Entry::Level((spec.level)(f))))
                    })
                    .collect(),
            ),
            Entry::Issues(f) => issues_json(f).serialize(s),
            Entry::Rollouts(f) => rollouts_json(f).serialize(s),
            Entry::Batch(f) => batch_json(f).serialize(s),
            Entry::Ai(f) => ai_json(f).serialize(s),
            // Through a `Value`, whose objects list their keys in order.
            Entry::QuickCheck(f) => serde_json::to_value(f.quick_check)
                .map_err(serde::ser::Error::custom)?
                .serialize(s),
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

/// The figures of one scope as object entries (unsorted), from the metric catalogue.
fn figures(f: &Figures) -> Vec<(&'static str, Entry<'_>)> {
    let mut entries = Vec::with_capacity(16);
    for m in Metric::ALL {
        let spec = m.spec();
        for field in spec.fields {
            if let JsonKey::Top(key) = field.json {
                entries.push((key, Entry::Cell((field.read)(f))));
            }
        }
        if let Some(object) = spec.json_object {
            entries.push((object, Entry::Nested(spec, f)));
        }
    }
    for field in SCOPE_FIELDS {
        if let JsonKey::Top(key) = field.json {
            entries.push((key, Entry::Cell((field.read)(f))));
        }
    }
    entries.push(("levels", Entry::Levels(f)));
    entries.push(("issues", Entry::Issues(f)));
    entries.push(("rollouts", Entry::Rollouts(f)));
    entries.push(("batch_size", Entry::Batch(f)));
    entries.push(("ai", Entry::Ai(f)));
    entries.push(("quick_check", Entry::QuickCheck(f)));
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
        let lines_per_commit = json!(report.lines_per_commit);
        let benchmark = json!(report.benchmark);
        let cost = json!(report.instability_cost);
        let overall = Sorted::new(figures(&report.overall));
        object(
            s,
            vec![
                ("schema_version", Entry::Cell(Cell::Count(u64::from(SCHEMA_VERSION)))),
                ("dora_version", Entry::Text(Some(env!("CARGO_PKG_VERSION")))),
                ("window", Entry::Value(&window)),
                ("group_by", Entry::Text(report.group_by)),
                ("period", Entry::Text(report.period)),
                ("lead_time_source", Entry::Text(Some(report.lead_time_source))),
                ("levels_source", Entry::Text(Some(LEVELS_SOURCE))),
                ("inputs", Entry::Value(&inputs)),
                ("pull_requests", Entry::Value(&pull_requests)),
                ("lines_per_commit", Entry::Value(&lines_per_commit)),
                ("quick_check_benchmark", Entry::Value(&benchmark)),
                ("instability_cost", Entry::Value(&cost)),
                ("overall", Entry::Object(&overall)),
                ("groups", Entry::Groups(report)),
                ("periods", Entry::Periods(&report.periods)),
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn figures_sit_under_their_catalogue_keys_in_sorted_objects() {
        let text = crate::output::sample_rendered(crate::output::Format::Json);
        let json: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        let overall = &json["overall"];
        assert_eq!(overall["deployments"], 4);
        assert_eq!(overall["change_failure_rate"], 0.25);
        assert_eq!(overall["lead_time_hours"]["median"], 2.5);
        assert_eq!(overall["levels"]["lead_time"], "high");
        assert_eq!(overall["levels"]["change_failure_rate"], serde_json::Value::Null);
        assert_eq!(json["groups"][0]["repo"], "acme/a|b");
        assert_eq!(json["groups"][1]["periods"][1]["start"], "2026-03-09");
        // Keys are written in alphabetical order, so artifacts diff cleanly (the top level's
        // here).
        let keys: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("  \"") && !l.starts_with("   "))
            .filter_map(|l| l.trim().split('"').nth(1))
            .collect();
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        assert!(!keys.is_empty());
        assert_eq!(keys, sorted);
    }
}
