//! Output formats for the metrics report: one enum, one file per format.
//!
//! Renderers write to a `Write` they are given; only `main` decides where that goes.

pub mod badge;
pub mod check;
pub mod csv;
pub mod explain;
pub mod frame;
pub mod json;
pub mod markdown;
pub mod rejects;
pub mod report;
pub mod table;

use std::fmt::Write as _;
use std::io::Write;

use crate::analysis::batch_size::{CLASSES, LINE_CLASSES, classes_text};
use crate::analysis::catalogue::{Metric, Section, Spec, Unit};
use crate::analysis::figures::Scorecard;
use crate::analysis::levels::LevelScale;
use crate::analysis::quick_check::answer_label;

/// How `dora metrics` prints its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A readable table for the terminal.
    Table,
    /// The versioned JSON artifact for CI (see docs/json-artifact.md).
    Json,
    /// One row per scope (overall, group, period), for spreadsheets.
    Csv,
    /// Markdown tables, for pull requests, wikis and chat.
    Markdown,
}

pub fn render(report: &Scorecard, format: Format, out: &mut dyn Write) -> std::io::Result<()> {
    match format {
        Format::Table => table::render(report, out),
        Format::Json => json::render(report, out),
        Format::Csv => csv::render(report, out),
        Format::Markdown => markdown::render(report, out),
    }
}

/// Whether a section's metrics have data to show: the DORA metrics always, the others when
/// their data is there.
pub fn shown(section: Section, f: &crate::analysis::figures::Figures) -> bool {
    match section {
        Section::Dora => true,
        Section::FeedbackLoop => f.issues.is_some(),
        Section::ProgressiveDelivery => f.rollouts.is_some(),
    }
}

/// Hours as a person reads them: minutes under an hour, days over two days.
pub fn duration(hours: Option<f64>) -> String {
    match hours {
        None => "-".into(),
        Some(h) if h.abs() < 1.0 => format!("{:.0} min", h * 60.0),
        Some(h) if h.abs() < 48.0 => format!("{h:.1} h"),
        Some(h) => format!("{:.1} d", h / 24.0),
    }
}

/// A metric's value in its unit: a duration, a percentage, or deployments per week as
/// `per_week` writes them (each output has its precision).
pub fn in_unit(unit: Unit, value: f64, per_week: fn(f64) -> String) -> String {
    match unit {
        Unit::Hours => duration(Some(value)),
        Unit::Share => percent(Some(value)),
        Unit::PerWeek => per_week(value),
        Unit::Count => format!("{value:.0}"),
    }
}

pub fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "-".into(), |r| format!("{:.1}%", r * 100.0))
}

pub fn level(level: Option<crate::analysis::levels::Level>) -> &'static str {
    level.map_or("-", crate::analysis::levels::Level::as_str)
}

/// The group key as shown in tables.
pub fn group_name(key: Option<&str>) -> &str {
    key.unwrap_or("(none)")
}

/// The summary rows (metric, value, sample, level) shared by the table and Markdown formats: one
/// per metric, in [`Metric::ALL`]'s order.
pub fn summary_rows(f: &crate::analysis::figures::Figures, scale: LevelScale) -> Vec<[String; 4]> {
    Metric::of(Section::Dora).map(|m| summary_row(m, f, scale)).collect()
}

/// Progressive delivery's rows (measure, value, sample), under the DORA table; `None` without
/// rollouts.
pub fn rollout_rows(f: &crate::analysis::figures::Figures) -> Option<Vec<[String; 3]>> {
    let r = f.rollouts.as_ref()?;
    let row = |m: Metric| summary_cells(m, f);
    let exposure = &r.exposure_at_abort;
    Some(vec![
        row(Metric::CatchRate),
        row(Metric::RolloutTime),
        [
            "Exposure at abort".into(),
            exposure
                .median
                .map_or_else(|| "-".into(), |m| format!("median {m:.1}%")),
            format!("{} aborted with an exposure", exposure.count),
        ],
        [
            "Aborted without a start".into(),
            r.recovery_unknown.to_string(),
            "left out of the recovery time".into(),
        ],
    ])
}

/// The feedback loop's rows (measure, value, sample), under the DORA table; `None` without
/// issue data.
pub fn feedback_rows(f: &crate::analysis::figures::Figures) -> Option<Vec<[String; 3]>> {
    let issues = f.issues.as_ref()?;
    let lead = |name: &str, noun: &str, k: &crate::analysis::figures::KindFigures| {
        let lt = &k.lead_time_hours;
        let mut sample = format!("{} {noun} delivered", lt.count);
        if lt.negative_dropped > 0 {
            let _ = write!(sample, " ({} negative dropped)", lt.negative_dropped);
        }
        [
            name.to_string(),
            format!("p50 {} · p90 {}", duration(lt.median), duration(lt.p90)),
            sample,
        ]
    };
    let (bug, feature, other) = (&issues.bug, &issues.feature, &issues.other);
    let awaiting = |k: &crate::analysis::figures::KindFigures| {
        format!(
            "p50 {} · p90 {}",
            duration(k.awaiting_deployment_hours.median),
            duration(k.awaiting_deployment_hours.p90)
        )
    };
    Some(vec![
        lead(Metric::IssueLeadTime.spec().name, "bugs", bug),
        lead("Feature lead time", "features", feature),
        [
            "Awaiting deployment (bugs)".into(),
            awaiting(bug),
            format!("{} bugs", bug.awaiting_deployment_hours.count),
        ],
        [
            Metric::OpenBugs.spec().name.into(),
            format!("{} (median age {})", bug.open, duration(bug.open_age_hours_median)),
            format!("{} open features, {} other", feature.open, other.open),
        ],
        [
            "Closed without a fix".into(),
            format!("{} bugs", bug.closed_without_fix),
            format!(
                "{} features, {} other",
                feature.closed_without_fix, other.closed_without_fix
            ),
        ],
    ])
}

/// AI-assisted changes' rows (measure, value, sample), under the DORA table: the deployed
/// commits' split, and the merged pull requests' share; `None` when neither has a flag.
pub fn ai_rows(
    f: &crate::analysis::figures::Figures,
    pulls: Option<&crate::analysis::figures::Breakdown>,
) -> Option<Vec<[String; 3]>> {
    let pulls = pulls.and_then(|b| b.ai_assisted.as_ref()).map(|p| {
        [
            "AI-assisted pull requests".to_string(),
            percent(p.share),
            format!(
                "{} of {} merged pull requests read ({} coverage)",
                p.ai_assisted_pull_requests,
                p.pull_requests_read,
                percent(p.coverage)
            ),
        ]
    });
    let Some(a) = f.ai.as_ref() else {
        return pulls.map(|row| vec![row]);
    };
    let lead = |name: &str, side: &crate::analysis::figures::AiSide| {
        let lt = &side.lead_time_hours;
        [
            name.to_string(),
            format!("p50 {} · p90 {}", duration(lt.median), duration(lt.p90)),
            format!("{} commits", lt.count),
        ]
    };
    let failures = |name: &str, side: &crate::analysis::figures::AiSide| {
        [
            name.to_string(),
            percent(side.change_failure_rate),
            format!("{} of {} deployments", side.failed_deployments, side.deployments),
        ]
    };
    Some(
        [
            [
                "AI-assisted share".into(),
                percent(a.share),
                format!(
                    "{} of {} deployed commits read ({} coverage)",
                    a.ai_assisted_commits,
                    a.commits_read,
                    percent(a.coverage)
                ),
            ],
            lead("Lead time, AI-assisted", &a.ai_assisted),
            lead("Lead time, other", &a.other),
            failures("Change failure rate, AI-assisted", &a.ai_assisted),
            failures("Change failure rate, other", &a.other),
        ]
        .into_iter()
        .chain(pulls)
        .collect(),
    )
}

/// One metric's summary row: its name, its value, what it is computed over, its rating on
/// `scale`.
pub fn summary_row(metric: Metric, f: &crate::analysis::figures::Figures, scale: LevelScale) -> [String; 4] {
    let [name, value, sample] = summary_cells(metric, f);
    [name, value, sample, rating(metric.spec(), f, scale)]
}

/// A metric's rating: its DORA 2023 level, or its Quick Check score and the answer its figures
/// give (`-` where the scale rates no such metric, or without data).
pub fn rating(spec: &Spec, f: &crate::analysis::figures::Figures, scale: LevelScale) -> String {
    match scale {
        LevelScale::Dora2023 => level((spec.level)(f)).into(),
        LevelScale::QuickCheck2025 => {
            let Some(measure) = spec.quick_check else {
                return "-".into();
            };
            match f.quick_check.rating(measure) {
                (_, None) => "-".into(),
                (Some(choice), Some(score)) => match answer_label(measure, choice) {
                    Some(label) => format!("{score:.1} · {label}"),
                    None => format!("{score:.1}"),
                },
                (None, Some(score)) => format!("{score:.1}"),
            }
        }
    }
}

/// A metric's rating as a step from 0 (worst) to 4 (best), for colours: the 2023 levels low,
/// medium, high, elite are 0, 2, 3, 4; a Quick Check score is one step per 2 points (8 and up
/// 4, under 2 0). `None`: not rated.
pub fn rating_step(spec: &Spec, f: &crate::analysis::figures::Figures, scale: LevelScale) -> Option<u8> {
    use crate::analysis::levels::Level;
    match scale {
        LevelScale::Dora2023 => (spec.level)(f).map(|l| match l {
            Level::Elite => 4,
            Level::High => 3,
            Level::Medium => 2,
            Level::Low => 0,
        }),
        LevelScale::QuickCheck2025 => {
            let score = f.quick_check.rating(spec.quick_check?).1?;
            #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "0 to 4")]
            Some((score / 2.0).floor().clamp(0.0, 4.0) as u8)
        }
    }
}

/// One metric's name, value and what it is computed over.
fn summary_cells(metric: Metric, f: &crate::analysis::figures::Figures) -> [String; 3] {
    let lt = &f.lead_time_hours;
    let ttr = &f.time_to_restore_hours;
    let rec = &f.failed_deployment_recovery_hours;
    let df = &f.deployment_frequency;
    let spec = metric.spec();
    match metric {
        Metric::DeploymentFrequency => [
            spec.name.into(),
            df.per_week
                .map_or_else(|| "-".into(), |w| format!("{w:.2}/week ({:.2}/day)", w / 7.0)),
            format!("{} deployments on {} days", f.deployments, df.days_with_deployments),
        ],
        Metric::LeadTime => {
            let mut sample = format!("{} commits", lt.count);
            if lt.negative_dropped > 0 {
                let _ = write!(sample, " ({} negative dropped)", lt.negative_dropped);
            }
            [
                spec.name.into(),
                format!(
                    "median {} · p75 {} · p90 {}",
                    duration(lt.median),
                    duration(lt.p75),
                    duration(lt.p90)
                ),
                sample,
            ]
        }
        Metric::ChangeFailureRate => [
            spec.name.into(),
            percent(f.change_failure_rate),
            format!("{} of {} deployments", f.failed_deployments, f.deployments),
        ],
        Metric::TimeToRestore => [
            spec.name.into(),
            format!("median {} · p90 {}", duration(ttr.median), duration(ttr.p90)),
            format!("{} resolved, {} open", ttr.count, ttr.open),
        ],
        Metric::RecoveryTime => [
            spec.name.into(),
            format!("median {} · p90 {}", duration(rec.median), duration(rec.p90)),
            format!("{} recovered, {} open", rec.count, rec.open),
        ],
        Metric::ReworkRate => [
            spec.name.into(),
            percent(f.rework_rate),
            format!("{} of {} deployments", f.rework_deployments, f.deployments),
        ],
        Metric::IssueLeadTime => {
            let bug = f.issues.as_ref().map(|i| &i.bug.lead_time_hours);
            [
                spec.name.into(),
                format!(
                    "median {} · p90 {}",
                    duration(bug.and_then(|b| b.median)),
                    duration(bug.and_then(|b| b.p90))
                ),
                format!("{} {}", (spec.sample)(f), spec.sample_noun),
            ]
        }
        Metric::CatchRate => [
            spec.name.into(),
            percent((spec.value)(f)),
            f.rollouts.as_ref().map_or_else(String::new, |r| {
                format!("{} caught, {} escaped", r.aborted, r.escaped_failures)
            }),
        ],
        Metric::RolloutTime => {
            let r = f.rollouts.as_ref().map(|r| &r.rollout_time_hours);
            [
                spec.name.into(),
                format!(
                    "median {} · p90 {}",
                    duration(r.and_then(|r| r.median)),
                    duration(r.and_then(|r| r.p90))
                ),
                format!("{} {}", (spec.sample)(f), spec.sample_noun),
            ]
        }
        Metric::OpenBugs => {
            let bug = f.issues.as_ref().map(|i| &i.bug);
            [
                spec.name.into(),
                bug.map_or_else(|| "-".into(), |b| b.open.to_string()),
                format!("median age {}", duration(bug.and_then(|b| b.open_age_hours_median))),
            ]
        }
    }
}

/// What the ratings are: the 2023 report's levels, or the Quick Check's scores with the team's
/// overall, throughput and stability against the benchmark's.
pub fn standing_line(report: &Scorecard) -> String {
    match report.level_scale {
        LevelScale::Dora2023 => format!("levels: {}", crate::analysis::figures::LEVELS_SOURCE),
        LevelScale::QuickCheck2025 => {
            let q = &report.overall.quick_check;
            let b = &report.benchmark;
            let score = |x: Option<f64>| x.map_or_else(|| "-".into(), |x| format!("{x:.1}"));
            format!(
                "scores: DORA Quick Check 2025 (dora.dev), 0-10: overall {} · throughput {} · stability {}; {} {:.1} · {:.1} · {:.1}",
                score(q.overall),
                score(q.throughput),
                score(q.stability),
                b.name,
                b.overall,
                b.throughput,
                b.stability
            )
        }
    }
}

/// Batch size (DORA 2025): "batch size: median 3 commits per deployment over 120 deployments
/// (1: 10 · 2-10: 80 · ...)".
pub fn batch_line(f: &crate::analysis::figures::Figures) -> String {
    let b = &f.changes_per_deployment;
    let median = match b.median {
        None => "-".to_string(),
        Some(1.0) => "1 commit".into(),
        Some(m) => format!("{} commits", trim_number(m)),
    };
    format!(
        "batch size: median {median} per deployment over {} deployments ({})",
        b.deployments,
        classes_text(&CLASSES, b.by_size)
    )
}

/// "lines per pull request: median 25 over 4 (none: 0 · 1-10: 2 · ...)" (`noun`: `pull
/// request`, `commit`); `None` without sizes.
pub fn lines_line(lines: &crate::analysis::figures::LinesPerChange, noun: &str) -> Option<String> {
    let median = lines.median?;
    let counts = LINE_CLASSES
        .iter()
        .map(|c| lines.by_size.get(c.key).copied().unwrap_or(0));
    Some(format!(
        "lines per {noun}: median {} over {} ({})",
        trim_number(median),
        lines.count,
        classes_text(&LINE_CLASSES, counts)
    ))
}

/// "lines per commit: median 12 over 40 (...)", over the window's commits with line counts.
pub fn commit_lines_line(report: &Scorecard) -> Option<String> {
    lines_line(report.lines_per_commit.as_ref()?, "commit")
}

/// A number without a needless fraction: `3`, `2.5`.
pub(crate) fn trim_number(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.1}")
    }
}

/// The yearly cost of instability and its inputs, with a downtime cost per hour.
pub fn cost_line(report: &Scorecard) -> Option<String> {
    let c = report.instability_cost.as_ref()?;
    let number = |x: Option<f64>, digits: usize| x.map_or_else(|| "-".into(), |x| format!("{x:.digits$}"));
    Some(format!(
        "cost of instability: {} a year = {} deployments a year x {} failing x {} to recover x {} an hour of downtime (DORA's ROI model)",
        number(c.yearly_cost, 0),
        number(c.deployments_per_year, 0),
        percent(c.change_failure_rate),
        duration(c.recovery_hours),
        number(Some(c.downtime_cost_per_hour), 0)
    ))
}

/// "Lead time breakdown over 12 pull requests: coding 5.0 h, pickup 2.0 h, ..." or `None`.
pub fn breakdown_line(report: &Scorecard) -> Option<String> {
    let b = report.pull_requests.as_ref()?;
    let stage =
        |name: &str, s: &crate::analysis::figures::Stage| format!("{name} {} (n={})", duration(s.median), s.count);
    let mut line = format!(
        "Lead time breakdown over {} merged pull requests (medians): {}, {}, {}, {}",
        b.pull_requests,
        stage("coding", &b.coding),
        stage("pickup", &b.pickup),
        stage("review", &b.review),
        stage("deploy", &b.deploy)
    );
    if let Some(lines) = lines_line(&b.lines_per_change, "pull request") {
        let _ = write!(line, "; {lines}");
    }
    Some(line)
}

/// Column headings of one row per group or period, shared by table and Markdown; with issue
/// data, the feedback loop's columns too.
pub fn breakdown_headings(report: &Scorecard) -> Vec<String> {
    let mut headings: Vec<String> = [
        "deploys",
        "per week",
        "lead time p50",
        "lead time p90",
        "change fail",
        "restore p50",
        "recovery p50",
        "rework",
    ]
    .map(String::from)
    .into();
    if report.overall.issues.is_some() {
        headings.extend(["bug lead p50", "bug lead p90", "open bugs"].map(String::from));
    }
    if report.overall.rollouts.is_some() {
        headings.extend(["caught", "escaped", "rollout p50"].map(String::from));
    }
    if report.overall.ai.is_some() {
        headings.push("AI share".into());
    }
    headings
}

/// The cells of one row under [`breakdown_headings`].
pub fn breakdown_cells(f: &crate::analysis::figures::Figures) -> Vec<String> {
    let mut cells = vec![
        f.deployments.to_string(),
        f.deployment_frequency
            .per_week
            .map_or_else(|| "-".into(), |w| format!("{w:.2}")),
        duration(f.lead_time_hours.median),
        duration(f.lead_time_hours.p90),
        percent(f.change_failure_rate),
        duration(f.time_to_restore_hours.median),
        duration(f.failed_deployment_recovery_hours.median),
        percent(f.rework_rate),
    ];
    if let Some(issues) = &f.issues {
        cells.extend([
            duration(issues.bug.lead_time_hours.median),
            duration(issues.bug.lead_time_hours.p90),
            issues.bug.open.to_string(),
        ]);
    }
    if let Some(r) = &f.rollouts {
        cells.extend([
            r.aborted.to_string(),
            r.escaped_failures.to_string(),
            duration(r.rollout_time_hours.median),
        ]);
    }
    if let Some(a) = &f.ai {
        cells.push(percent(a.share));
    }
    cells
}

/// "2026-01-01T00:00:00Z to 2026-04-01T00:00:00Z (UTC), environment production".
pub fn window_line(report: &Scorecard) -> String {
    format!(
        "{} to {} ({}), environment {}; lead time from {}",
        crate::timestamp::format_utc(report.since),
        crate::timestamp::format_utc(report.until),
        report.time_zone,
        report.environment,
        report.lead_time_source,
    )
}

/// [`sample_scorecard`] rendered in `format`, for the renderers' unit tests.
#[cfg(test)]
pub(crate) fn sample_rendered(format: Format) -> String {
    let mut out = Vec::new();
    render(&sample_scorecard(), format, &mut out).expect("render");
    String::from_utf8(out).expect("UTF-8")
}

/// A small scorecard for the renderers' unit tests: two repositories (one without a key) over
/// two weeks, with a cell that needs escaping.
#[cfg(test)]
pub(crate) fn sample_scorecard() -> Scorecard {
    use crate::analysis::figures::{Figures, Group, PeriodFigures};
    use crate::analysis::levels::Level;
    let figures = |deployments: u64, failed: u64, median: Option<f64>| {
        let mut f = Figures {
            deployments,
            failed_deployments: failed,
            change_failure_rate: (deployments > 0).then(|| failed as f64 / deployments as f64),
            ..Figures::default()
        };
        f.lead_time_hours.count = deployments * 2;
        f.lead_time_hours.median = median;
        f.deployment_frequency.per_week = Some(deployments as f64 / 2.0);
        f.levels.lead_time = median.map(|_| Level::High);
        let mut issues = crate::analysis::figures::IssueFigures::default();
        issues.bug.delivered = deployments;
        issues.bug.lead_time_hours.count = deployments;
        issues.bug.lead_time_hours.median = median.map(|m| m * 10.0);
        issues.bug.open = failed + 1;
        issues.bug.open_age_hours_median = Some(72.0);
        f.issues = Some(issues);
        f.rollouts = Some(crate::analysis::figures::Rollouts {
            aborted: failed,
            escaped_failures: 1,
            catch_rate: Some(failed as f64 / (failed + 1) as f64),
            ..Default::default()
        });
        f
    };
    let week = |day: u32, f: Figures| PeriodFigures {
        start: chrono::NaiveDate::from_ymd_opt(2026, 3, day).expect("a date"),
        end: chrono::NaiveDate::from_ymd_opt(2026, 3, day + 7).expect("a date"),
        figures: f,
    };
    Scorecard {
        since: 1_772_409_600_000_000,
        until: 1_773_619_200_000_000,
        time_zone: "UTC".into(),
        environment: "production".into(),
        group_by: Some("repo"),
        period: Some("week"),
        lead_time_source: "deployment_commits",
        overall: figures(4, 1, Some(2.5)),
        groups: vec![
            Group {
                key: Some("acme/a|b".into()),
                figures: figures(3, 1, Some(2.0)),
                periods: vec![week(2, figures(3, 1, Some(2.0))), week(9, figures(0, 0, None))],
            },
            Group {
                key: None,
                figures: figures(1, 0, Some(30.0)),
                periods: vec![week(2, figures(0, 0, None)), week(9, figures(1, 0, Some(30.0)))],
            },
        ],
        periods: vec![week(2, figures(3, 1, Some(2.0))), week(9, figures(1, 0, Some(30.0)))],
        inputs: None,
        pull_requests: None,
        lines_per_commit: None,
        benchmark: crate::analysis::quick_check::Benchmark::default(),
        level_scale: crate::analysis::levels::LevelScale::default(),
        instability_cost: None,
    }
}
