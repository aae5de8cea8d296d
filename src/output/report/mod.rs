//! The delivery report (`dora report`): Markdown and self-contained HTML from templates, and
//! the charts as SVG (and PNG).
//!
//! The templates live in reports/templates and are compiled into the binary; `--template DIR`
//! replaces any of them with a file of the same name, so a team can restyle the report without
//! rebuilding dora. Templates get one context object, documented in docs/report.md.

use std::path::{Path, PathBuf};

use chrono_tz::Tz;
use polars::prelude::{AnyValue, DataFrame};
use serde::Serialize;

pub mod chart;

use super::{duration, in_unit};
use crate::analysis::catalogue::{Metric, Unit};
use crate::analysis::figures::Figures;
use crate::analysis::levels::LevelScale;
use crate::analysis::quick_check::{Measure, answer_label};
use crate::analysis::report_period::Digest;
use chart::{Chart, Scale, Series};

/// The templates compiled in: (name, text).
pub const TEMPLATES: [(&str, &str); 2] = [
    ("report.md.j2", include_str!("../../../reports/templates/report.md.j2")),
    (
        "report.html.j2",
        include_str!("../../../reports/templates/report.html.j2"),
    ),
];

/// Fewer events than this in a period: the change against the previous one is not judged.
pub const SMALL_SAMPLE: u64 = 5;

#[derive(Debug, Serialize)]
pub struct Headline {
    pub metric: &'static str,
    pub value: String,
    pub previous: String,
    /// `▲ 12%`, `▼ 3.0 pp`, `=`, or `-` when either side is unknown.
    pub change: String,
    /// `better`, `worse`, `same`, or empty when not judged (unknown, or too few events).
    pub direction: &'static str,
    pub level: String,
    /// The rating's step for colours, `rating-0` (worst) to `rating-4` (best); empty when not
    /// rated.
    pub rating_class: String,
    /// What the figure is computed over, e.g. `14 deployments`.
    pub sample: String,
    /// Set when the sample is too small to read a change into.
    pub note: Option<String>,
}

/// Why the report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("failed to draw the chart `{chart}`")]
    Chart {
        chart: &'static str,
        #[source]
        source: chart::DrawError,
    },
    #[error("failed to read the template `{}`", path.display())]
    ReadTemplate {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// minijinja's alternate form (`{:#}`) shows the template's lines around the error.
    #[error("template `{origin}`: {error:#}")]
    Template { origin: String, error: minijinja::Error },
}

#[derive(Debug, Serialize)]
pub struct GroupRow {
    pub key: String,
    pub deployments: u64,
    pub deployments_change: String,
    /// Each metric's value, in the order of `group_columns` (the metric catalogue's).
    pub values: Vec<String>,
}

/// One stage of the lead time breakdown.
#[derive(Debug, Serialize)]
pub struct StageRow {
    pub stage: &'static str,
    pub meaning: &'static str,
    pub median: String,
    pub pull_requests: u64,
}

#[derive(Debug, Serialize)]
pub struct ChartRef {
    pub id: &'static str,
    pub title: String,
    /// File name of the SVG next to the report (`charts/ID.svg`).
    pub svg_file: String,
    /// File name of the PNG, with `--png`.
    pub png_file: Option<String>,
    /// The SVG document, for inlining.
    pub svg: String,
}

/// Everything the templates can use.
#[derive(Debug, Serialize)]
pub struct ReportContext {
    pub title: String,
    pub period: String,
    /// `week`, `month`, `day`, or `period` for a range of days.
    pub period_kind: &'static str,
    /// The granularity of the trend and its charts.
    pub trend_kind: &'static str,
    pub previous_period: String,
    /// First and last local day of the period.
    pub first_day: String,
    pub last_day: String,
    pub time_zone: String,
    pub environment: String,
    pub dora_version: &'static str,
    pub levels_source: &'static str,
    /// The heading of the headline's rating column.
    pub level_heading: &'static str,
    /// "Where you stand (DORA Quick Check, 2025)": the period's five scores and the benchmark.
    pub quick_check: Option<QuickCheckPanel>,
    /// The yearly cost of instability, with a downtime cost per hour.
    pub instability_cost: Option<CostSection>,
    /// Batch size: the period's deployments by the commits each shipped.
    pub batch_size: BatchSection,
    /// With pull request sizes: "lines per pull request: median 25 over 4 (...)".
    pub lines_per_change: Option<String>,
    /// "lines per commit: median ..." over the commits of the period with line counts.
    pub lines_per_commit: Option<String>,
    pub lead_time_source: &'static str,
    pub headline: Vec<Headline>,
    pub group_by: Option<&'static str>,
    pub groups: Vec<GroupRow>,
    /// The header of each metric's column in the table of groups.
    pub group_columns: Vec<&'static str>,
    pub failed_deployments: Vec<Vec<String>>,
    /// Per failed deployment, its link (empty when the source gave none).
    pub failed_deployment_links: Vec<String>,
    pub failed_deployment_columns: Vec<&'static str>,
    pub incidents: Vec<Vec<String>>,
    /// Per incident, its link (empty when the source gave none).
    pub incident_links: Vec<String>,
    pub incident_columns: Vec<&'static str>,
    pub unattributed_incidents: u64,
    /// The lead time breakdown, with pull request data: merged pull requests and the stages.
    pub pull_requests: Option<u64>,
    pub breakdown: Vec<StageRow>,
    pub trend_periods: usize,
    pub charts: Vec<ChartRef>,
    /// "What users reported, and how fast the fix reached them", with issue data.
    pub feedback: Option<FeedbackSection>,
    /// AI-assisted changes of the period (measure, value, sample), when deployed commits have
    /// flags.
    pub ai: Option<Vec<[String; 3]>>,
}

/// One Quick Check measure of the panel.
#[derive(Debug, Serialize)]
pub struct ScoreRow {
    pub measure: &'static str,
    /// The answer the figures give (`Less than one day`); empty for the two rates.
    pub answer: String,
    /// `8.0`, or `-` without data.
    pub score: String,
    pub benchmark: String,
    /// The score and the benchmark as a share of the bar, 0 to 100 (HTML).
    pub bar: Option<f64>,
    pub mean: f64,
}

/// "Where you stand (DORA Quick Check, 2025)".
#[derive(Debug, Serialize)]
pub struct QuickCheckPanel {
    /// The benchmark's row: `All industries`.
    pub benchmark_name: &'static str,
    /// The data file it comes from.
    pub benchmark_file: &'static str,
    pub rows: Vec<ScoreRow>,
    /// Throughput, stability and overall: the team's and the benchmark's.
    pub summary: Vec<ScoreRow>,
    /// The bars (`charts/quick-check.svg`).
    pub chart: String,
}

fn quick_check_panel(digest: &Digest) -> Option<QuickCheckPanel> {
    let q = &digest.current.quick_check;
    if !q.any_score() {
        return None;
    }
    let b = &digest.benchmark;
    let score = |x: Option<f64>| x.map_or_else(|| "-".into(), |x| format!("{x:.1}"));
    let rows = Measure::ALL
        .iter()
        .map(|m| {
            let (choice, s) = q.rating(*m);
            ScoreRow {
                measure: m.metric().spec().name,
                answer: choice.and_then(|c| answer_label(*m, c)).unwrap_or_default().to_string(),
                score: score(s),
                benchmark: format!("{:.1}", b.of_measure(*m)),
                bar: s.map(|s| s * 10.0),
                mean: b.of_measure(*m) * 10.0,
            }
        })
        .collect();
    let summary = [
        ("Throughput", q.throughput, b.throughput),
        ("Stability", q.stability, b.stability),
        ("Overall", q.overall, b.overall),
    ]
    .into_iter()
    .map(|(measure, team, mean)| ScoreRow {
        measure,
        answer: String::new(),
        score: score(team),
        benchmark: format!("{mean:.1}"),
        bar: team.map(|s| s * 10.0),
        mean: mean * 10.0,
    })
    .collect();
    Some(QuickCheckPanel {
        benchmark_name: b.name,
        benchmark_file: b.file,
        rows,
        summary,
        chart: "charts/quick-check.svg".into(),
    })
}

/// One size class of the batch size section.
#[derive(Debug, Serialize)]
pub struct BatchRow {
    /// `2-10 commits`.
    pub size: &'static str,
    pub deployments: u64,
    /// Its share of the deployments, `40%`.
    pub share: String,
}

/// "Batch size": how many commits the period's deployments shipped.
#[derive(Debug, Serialize)]
pub struct BatchSection {
    pub deployments: u64,
    /// Median commits per deployment, or `-`.
    pub median: String,
    pub rows: Vec<BatchRow>,
}

fn batch_section(f: &Figures) -> BatchSection {
    let b = &f.changes_per_deployment;
    let sizes = [
        "none",
        "1 commit",
        "2-10 commits",
        "11-50 commits",
        "51-100 commits",
        "more than 100",
    ];
    BatchSection {
        deployments: b.deployments,
        median: b.median.map_or_else(|| "-".into(), super::trim_number),
        rows: sizes
            .iter()
            .zip(b.by_size)
            .map(|(size, n)| BatchRow {
                size,
                deployments: n,
                share: if b.deployments == 0 {
                    "-".into()
                } else {
                    format!("{:.0}%", n as f64 * 100.0 / b.deployments as f64)
                },
            })
            .collect(),
    }
}

/// The cost of instability, its inputs as text.
#[derive(Debug, Serialize)]
pub struct CostSection {
    pub yearly_cost: String,
    pub deployments_per_year: String,
    pub change_failure_rate: String,
    pub recovery: String,
    pub downtime_cost_per_hour: String,
}

fn cost_section(c: &crate::analysis::cost::InstabilityCost) -> CostSection {
    let number = |x: Option<f64>| x.map_or_else(|| "-".into(), |x| format!("{x:.0}"));
    CostSection {
        yearly_cost: number(c.yearly_cost),
        deployments_per_year: number(c.deployments_per_year),
        change_failure_rate: super::percent(c.change_failure_rate),
        recovery: duration(c.recovery_hours),
        downtime_cost_per_hour: number(Some(c.downtime_cost_per_hour)),
    }
}

/// The feedback loop's section: from users' reports to fixes in production.
#[derive(Debug, Serialize)]
pub struct FeedbackSection {
    /// `p50 2.3 d · p90 3.6 d over 2 bugs`, and the same for features.
    pub bug_lead_time: String,
    pub feature_lead_time: String,
    pub open_bugs: u64,
    pub open_bugs_age: String,
    /// The bugs delivered in the period, slowest first.
    pub slowest: Vec<Vec<String>>,
    pub slowest_links: Vec<String>,
    pub slowest_columns: Vec<&'static str>,
    /// The bugs open at the period's end, oldest first.
    pub oldest: Vec<Vec<String>>,
    pub oldest_links: Vec<String>,
    pub oldest_columns: Vec<&'static str>,
    /// The chart of bug lead time over the trend (`charts/bug-lead-time.svg`).
    pub chart: String,
}

fn feedback_section(digest: &Digest) -> Option<FeedbackSection> {
    let (slowest, oldest) = digest.bugs.as_ref()?;
    let issues = digest.current.issues.as_ref()?;
    let lead = |k: &crate::analysis::figures::KindFigures, noun: &str| {
        let lt = &k.lead_time_hours;
        format!(
            "p50 {} · p90 {} over {} {noun}",
            duration(lt.median),
            duration(lt.p90),
            lt.count
        )
    };
    Some(FeedbackSection {
        bug_lead_time: lead(&issues.bug, "bugs"),
        feature_lead_time: lead(&issues.feature, "feature requests"),
        open_bugs: issues.bug.open,
        open_bugs_age: duration(issues.bug.open_age_hours_median),
        slowest: display_rows(&without_url(slowest), digest.zone, &["lead_time_hours"]),
        slowest_links: links(slowest),
        slowest_columns: vec![
            "issue",
            "repo",
            "title",
            "reported",
            "in production",
            "waited",
            "deployment",
        ],
        oldest: display_rows(&without_url(oldest), digest.zone, &["age_hours"]),
        oldest_links: links(oldest),
        oldest_columns: vec!["issue", "repo", "title", "reported", "open for", "fix committed"],
        chart: "charts/bug-lead-time.svg".into(),
    })
}

/// How a figure compares with the period before.
fn change(current: Option<f64>, previous: Option<f64>, lower_is_better: bool, points: bool) -> (String, &'static str) {
    let (Some(c), Some(p)) = (current, previous) else {
        return ("-".into(), "");
    };
    let delta = c - p;
    let same = if points {
        delta.abs() < 0.0005
    } else {
        (p == 0.0 && c == 0.0) || (p != 0.0 && (delta / p).abs() < 0.005)
    };
    if same {
        return ("=".into(), "same");
    }
    let arrow = if delta > 0.0 { "▲" } else { "▼" };
    let text = if points {
        format!("{arrow} {:.1} pp", delta.abs() * 100.0)
    } else if p == 0.0 {
        format!("{arrow} from 0")
    } else {
        format!("{arrow} {:.0}%", (delta / p).abs() * 100.0)
    };
    let better = (delta < 0.0) == lower_is_better;
    (text, if better { "better" } else { "worse" })
}

/// The metrics the report shows: the DORA metrics, the feedback loop's with issue data, and
/// progressive delivery's with rollouts.
fn shown(f: &Figures) -> Vec<Metric> {
    Metric::ALL
        .into_iter()
        .filter(|m| super::shown(m.spec().section, f))
        .collect()
}

fn headline(current: &Figures, previous: &Figures, scale: LevelScale) -> Vec<Headline> {
    let show =
        |unit: Unit, v: Option<f64>| v.map_or_else(|| "-".into(), |v| in_unit(unit, v, |w| format!("{w:.2}/week")));
    shown(current)
        .iter()
        .map(|m| {
            let s = m.spec();
            // Rates change by percentage points, the others by a share of their value.
            let points = s.unit == Unit::Share;
            let (c, p) = ((s.value)(current), (s.value)(previous));
            let (mut text, mut direction) = change(c, p, s.lower_is_better, points);
            let n = (s.sample)(current);
            let note = (n < SMALL_SAMPLE && c.is_some()).then(|| {
                direction = "";
                format!("only {n} {}: too few to read a change into", s.sample_noun)
            });
            if note.is_some() && text != "-" {
                text = format!("({text})");
            }
            Headline {
                metric: s.headline,
                value: show(s.unit, c),
                previous: show(s.unit, p),
                change: text,
                direction,
                level: super::rating(s, current, scale),
                rating_class: super::rating_step(s, current, scale)
                    .map_or_else(String::new, |step| format!("rating-{step}")),
                sample: format!("{n} {}", s.sample_noun),
                note,
            }
        })
        .collect()
}

/// A UTC instant as local wall-clock time, for people reading the report.
fn local_time(us: i64, zone: Tz) -> String {
    chrono::DateTime::from_timestamp_micros(us)
        .map(|t| t.with_timezone(&zone).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

/// Rows of a frame as display strings: datetimes in local time, hours as durations.
fn display_rows(frame: &DataFrame, zone: Tz, hours_columns: &[&str]) -> Vec<Vec<String>> {
    (0..frame.height())
        .map(|row| {
            frame
                .columns()
                .iter()
                .map(|c| {
                    let v = c.get(row).unwrap_or(AnyValue::Null);
                    match v {
                        AnyValue::Datetime(x, _, _) | AnyValue::DatetimeOwned(x, _, _) => local_time(x, zone),
                        AnyValue::Float64(h) if hours_columns.contains(&c.name().as_str()) => duration(Some(h)),
                        AnyValue::Boolean(b) => if b { "yes" } else { "no" }.into(),
                        other => super::frame::cell_text(&other, true),
                    }
                })
                .collect()
        })
        .collect()
}

fn without_url(frame: &DataFrame) -> DataFrame {
    frame.drop("url").unwrap_or_else(|_| frame.clone())
}

/// The `url` column as strings, empty where there is none.
fn links(frame: &DataFrame) -> Vec<String> {
    let urls = frame.column("url").ok().and_then(|c| c.str().ok().cloned());
    (0..frame.height())
        .map(|row| {
            urls.as_ref()
                .and_then(|u| u.get(row))
                .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

/// The charts of the report, from the trend and the period's lead times.
pub fn charts(digest: &Digest) -> Vec<(&'static str, Chart)> {
    let kind = digest.period.kind.as_str();
    let labels: Vec<String> = digest
        .trend
        .iter()
        .map(|p| match digest.period.kind {
            crate::analysis::PeriodKind::Month => p.start.format("%Y-%m").to_string(),
            _ => p.start.format("%b %d").to_string(),
        })
        .collect();
    let values = |f: fn(&Figures) -> Option<f64>| digest.trend.iter().map(|p| f(&p.figures)).collect::<Vec<_>>();
    let series = |name: &str, color, values| Series {
        name: name.into(),
        color,
        values,
    };
    // A duration's median (in `color`) and p90 per period.
    let spread = |title: String, y_label: &str, color, median: Vec<Option<f64>>, p90: Vec<Option<f64>>| Chart::Lines {
        title,
        y_label: y_label.into(),
        scale: Scale::Hours,
        labels: labels.clone(),
        series: vec![series("median", color, median), series("p90", chart::ORANGE, p90)],
    };
    let mut charts = vec![
        (
            "deployments",
            Chart::StackedBars {
                title: format!("Production deployments per {kind}"),
                y_label: "deployments".into(),
                labels: labels.clone(),
                series: vec![
                    series(
                        "succeeded",
                        chart::BLUE,
                        values(|f| Some((f.deployments - f.failed_deployments) as f64)),
                    ),
                    series(
                        "failed",
                        chart::VERMILLION,
                        values(|f| Some(f.failed_deployments as f64)),
                    ),
                ],
            },
        ),
        (
            "lead-time",
            spread(
                format!("Lead time for changes per {kind}"),
                "lead time",
                chart::BLUE,
                values(|f| f.lead_time_hours.median),
                values(|f| f.lead_time_hours.p90),
            ),
        ),
        (
            "change-failure-rate",
            Chart::Lines {
                title: format!("Change failure rate per {kind}"),
                y_label: "failed deployments".into(),
                scale: Scale::Percent,
                labels: labels.clone(),
                series: vec![series(
                    "change failure rate",
                    chart::VERMILLION,
                    values(|f| f.change_failure_rate),
                )],
            },
        ),
        (
            "time-to-restore",
            spread(
                format!("Time to restore service per {kind}"),
                "time to restore",
                chart::GREEN,
                values(|f| f.time_to_restore_hours.median),
                values(|f| f.time_to_restore_hours.p90),
            ),
        ),
        (
            "lead-time-distribution",
            Chart::LogHistogram {
                title: format!("Lead time distribution, {}", digest.period.label()),
                x_label: "lead time (log scale)".into(),
                values: digest.lead_times.clone(),
            },
        ),
    ];
    if digest.current.ai.is_some() {
        let ai = |f: fn(&crate::analysis::figures::AiAssisted) -> Option<f64>| {
            digest
                .trend
                .iter()
                .map(|p| p.figures.ai.as_ref().and_then(f))
                .collect::<Vec<_>>()
        };
        charts.push((
            "ai-assisted",
            Chart::Lines {
                title: format!("AI-assisted share of deployed commits per {kind}, and coverage"),
                y_label: "deployed commits".into(),
                scale: Scale::Percent,
                labels: labels.clone(),
                series: vec![
                    series("AI-assisted (of those read)", chart::BLUE, ai(|a| a.share)),
                    series("coverage (read)", chart::ORANGE, ai(|a| a.coverage)),
                ],
            },
        ));
    }
    if digest.current.rollouts.is_some() {
        let rollouts = |f: fn(&crate::analysis::figures::Rollouts) -> Option<f64>| {
            digest
                .trend
                .iter()
                .map(|p| p.figures.rollouts.as_ref().and_then(f))
                .collect::<Vec<_>>()
        };
        charts.push((
            "rollout-failures",
            Chart::StackedBars {
                title: format!("Failed deployments per {kind}: caught during rollout, or reaching everyone"),
                y_label: "failed deployments".into(),
                labels: labels.clone(),
                series: vec![
                    series("caught (aborted)", chart::GREEN, rollouts(|r| Some(r.aborted as f64))),
                    series(
                        "escaped",
                        chart::VERMILLION,
                        rollouts(|r| Some(r.escaped_failures as f64)),
                    ),
                ],
            },
        ));
        charts.push((
            "rollout-time",
            spread(
                format!("Rollout time per {kind}"),
                "rollout time",
                chart::BLUE,
                rollouts(|r| r.rollout_time_hours.median),
                rollouts(|r| r.rollout_time_hours.p90),
            ),
        ));
    }
    let scores = &digest.current.quick_check;
    if scores.any_score() {
        charts.push((
            "quick-check",
            Chart::Scores {
                title: format!("DORA Quick Check scores, {}", digest.period.label()),
                labels: Measure::ALL.iter().map(|m| short_name(*m).to_string()).collect(),
                scores: Measure::ALL.iter().map(|m| scores.rating(*m).1).collect(),
                benchmark_name: format!("{} (2025 mean)", digest.benchmark.name),
                benchmark: Measure::ALL.iter().map(|m| digest.benchmark.of_measure(*m)).collect(),
            },
        ));
    }
    if digest.bugs.is_some() {
        let bug = |f: &Figures, q: fn(&crate::analysis::figures::LeadTime) -> Option<f64>| {
            f.issues.as_ref().and_then(|i| q(&i.bug.lead_time_hours))
        };
        charts.push((
            "bug-lead-time",
            spread(
                format!("Bug lead time, from the report to the fix in production, per {kind}"),
                "bug lead time",
                chart::BLUE,
                digest.trend.iter().map(|p| bug(&p.figures, |l| l.median)).collect(),
                digest.trend.iter().map(|p| bug(&p.figures, |l| l.p90)).collect(),
            ),
        ));
    }
    charts
}

/// A Quick Check measure's name under its bar.
fn short_name(m: Measure) -> &'static str {
    match m {
        Measure::LeadTime => "lead time",
        Measure::DeploymentFrequency => "deployment frequency",
        Measure::FailedDeploymentRecovery => "recovery time",
        Measure::ChangeFailureRate => "change failure rate",
        Measure::ReworkRate => "rework rate",
    }
}

fn title_of(chart: &Chart) -> String {
    match chart {
        Chart::StackedBars { title, .. }
        | Chart::Lines { title, .. }
        | Chart::LogHistogram { title, .. }
        | Chart::Scores { title, .. } => title.clone(),
    }
}

/// The template context; `png` says whether PNG files are written next to the SVGs.
pub fn context(digest: &Digest, png: bool) -> Result<ReportContext, ReportError> {
    let zone = digest.zone;
    let charts = charts(digest)
        .into_iter()
        .map(|(id, c)| {
            Ok(ChartRef {
                id,
                title: title_of(&c),
                svg_file: format!("charts/{id}.svg"),
                png_file: png.then(|| format!("charts/{id}.png")),
                svg: c.svg().map_err(|source| ReportError::Chart { chart: id, source })?,
            })
        })
        .collect::<Result<Vec<_>, ReportError>>()?;
    let groups = digest
        .groups
        .iter()
        .map(|(g, before)| {
            let f = &g.figures;
            GroupRow {
                key: super::group_name(g.key.as_deref()).to_string(),
                deployments: f.deployments,
                deployments_change: change(
                    Some(f.deployments as f64),
                    Some(before.deployments as f64),
                    false,
                    false,
                )
                .0,
                values: shown(&digest.current)
                    .iter()
                    .map(|m| {
                        let spec = m.spec();
                        (spec.value)(f).map_or_else(|| "-".into(), |v| in_unit(spec.unit, v, |w| format!("{w:.2}")))
                    })
                    .collect(),
            }
        })
        .collect();
    let last_day = digest.period.end - chrono::Days::new(1);
    Ok(ReportContext {
        title: format!("Delivery report {}", digest.period.label()),
        period: digest.period.label(),
        period_kind: if digest.period.calendar {
            digest.period.kind.as_str()
        } else {
            "period"
        },
        trend_kind: digest.period.kind.as_str(),
        previous_period: digest.period.earlier(1).label(),
        first_day: digest.period.start.format("%Y-%m-%d").to_string(),
        last_day: last_day.format("%Y-%m-%d").to_string(),
        time_zone: zone.name().to_string(),
        environment: digest.environment.clone(),
        dora_version: env!("CARGO_PKG_VERSION"),
        levels_source: digest.level_scale.source(),
        lead_time_source: digest.lead_time_source,
        headline: headline(&digest.current, &digest.previous, digest.level_scale),
        level_heading: digest.level_scale.title(),
        quick_check: quick_check_panel(digest),
        instability_cost: digest.instability_cost.as_ref().map(cost_section),
        batch_size: batch_section(&digest.current),
        lines_per_change: digest
            .pull_requests
            .as_ref()
            .and_then(|b| super::lines_line(&b.lines_per_change, "pull request")),
        lines_per_commit: digest
            .lines_per_commit
            .as_ref()
            .and_then(|l| super::lines_line(l, "commit")),
        group_by: digest.group_by.map(crate::analysis::GroupBy::as_str),
        groups,
        group_columns: shown(&digest.current).iter().map(|m| m.spec().column).collect(),
        failed_deployments: display_rows(&without_url(&digest.failed_deployments), zone, &["recovery_hours"]),
        failed_deployment_links: links(&digest.failed_deployments),
        failed_deployment_columns: vec![
            "id",
            "repo",
            "deployed",
            "why",
            "incidents",
            "recovery",
            "still failing",
        ],
        incidents: display_rows(&without_url(&digest.incidents), zone, &["restore_hours"]),
        incident_links: links(&digest.incidents),
        incident_columns: vec![
            "id",
            "repo",
            "title",
            "severity",
            "created",
            "resolved",
            "restore",
            "open",
            "caused by",
            "attributed by",
        ],
        unattributed_incidents: digest.current.unattributed_incidents,
        pull_requests: digest.pull_requests.as_ref().map(|b| b.pull_requests),
        breakdown: digest
            .pull_requests
            .as_ref()
            .map(|b| {
                [
                    ("Coding", "first commit to opened", &b.coding),
                    ("Pickup", "opened to first review", &b.pickup),
                    ("Review", "first review to merged", &b.review),
                    ("Deploy", "merged to production", &b.deploy),
                ]
                .into_iter()
                .map(|(stage, meaning, s)| StageRow {
                    stage,
                    meaning,
                    median: duration(s.median),
                    pull_requests: s.count,
                })
                .collect()
            })
            .unwrap_or_default(),
        trend_periods: digest.trend.len(),
        charts,
        feedback: feedback_section(digest),
        ai: super::ai_rows(&digest.current, digest.pull_requests.as_ref()),
    })
}

/// Renders the Markdown and HTML reports with the compiled-in templates, or those of
/// `template_dir` where it has a file of the same name.
pub fn render(context: &ReportContext, template_dir: Option<&Path>) -> Result<(String, String), ReportError> {
    let mut env = minijinja::Environment::new();
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html.j2") {
            minijinja::AutoEscape::Html
        } else {
            minijinja::AutoEscape::None
        }
    });
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    // Markdown table cells: a `|` or a line break in a title would break the table.
    env.add_filter("md", |text: String| text.replace('|', "\\|").replace(['\n', '\r'], " "));
    let mut sources: Vec<(String, String, String)> = Vec::new();
    for (name, text) in TEMPLATES {
        let custom: Option<PathBuf> = template_dir.map(|d| d.join(name)).filter(|p| p.is_file());
        let (text, origin) = match custom {
            Some(path) => (
                std::fs::read_to_string(&path).map_err(|source| ReportError::ReadTemplate {
                    path: path.clone(),
                    source,
                })?,
                path.display().to_string(),
            ),
            None => (text.to_string(), format!("reports/templates/{name}")),
        };
        sources.push((name.to_string(), text, origin));
    }
    for (name, text, origin) in &sources {
        env.add_template_owned(name.clone(), text.clone())
            .map_err(|error| ReportError::Template {
                origin: origin.clone(),
                error,
            })?;
    }
    let render = |name: &str| {
        let origin = sources
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, _, o)| o.clone())
            .unwrap_or_default();
        env.get_template(name)
            .and_then(|t| t.render(context))
            .map_err(|error| ReportError::Template { origin, error })
    };
    Ok((render("report.md.j2")?, render("report.html.j2")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_judged_by_direction() {
        assert_eq!(change(Some(10.0), Some(20.0), true, false), ("▼ 50%".into(), "better"));
        assert_eq!(change(Some(30.0), Some(20.0), true, false), ("▲ 50%".into(), "worse"));
        assert_eq!(change(Some(3.0), Some(2.0), false, false), ("▲ 50%".into(), "better"));
        assert_eq!(
            change(Some(0.25), Some(0.10), true, true),
            ("▲ 15.0 pp".into(), "worse")
        );
        assert_eq!(change(Some(5.0), Some(5.0), true, false), ("=".into(), "same"));
        assert_eq!(change(None, Some(5.0), true, false), ("-".into(), ""));
        assert_eq!(
            change(Some(2.0), Some(0.0), false, false),
            ("▲ from 0".into(), "better")
        );
    }

    #[test]
    fn small_samples_are_not_judged() {
        let figures = |n: u64| {
            let mut f = Figures {
                deployments: n,
                ..Figures::default()
            };
            f.deployment_frequency.per_week = Some(n as f64);
            f
        };
        let (now, before) = (figures(2), figures(10));
        let h = headline(&now, &before, LevelScale::default());
        assert_eq!(h[0].change, "(▼ 80%)");
        assert_eq!(h[0].direction, "");
        assert_eq!(
            h[0].note.as_deref(),
            Some("only 2 deployments: too few to read a change into")
        );
    }
}
