//! `dora check`: thresholds on the metrics, exit 1 when one is broken.

use polars::prelude::{Column, DataFrame};

use crate::analysis::gates::{self, Bound, Gauge, Outcome, Threshold};
use crate::analysis::{self, Context};
use crate::cli::{CheckArgs, GlobalArgs};
use crate::commands::metrics::{METRIC_COLUMNS, group_by, load_tables, window};
use crate::commands::{ExitStatus, print_or_write};
use crate::error::Error;
use crate::output::frame;
use crate::settings;

/// The thresholds given, in a fixed order.
fn thresholds(args: &CheckArgs) -> anyhow::Result<Vec<Threshold>> {
    let given: [(&'static str, Gauge, Bound, &Option<String>); 6] = [
        ("--max-lead-time", Gauge::LeadTime, Bound::Max, &args.max_lead_time),
        (
            "--max-change-failure-rate",
            Gauge::ChangeFailureRate,
            Bound::Max,
            &args.max_change_failure_rate,
        ),
        (
            "--min-deployments-per-week",
            Gauge::DeploymentsPerWeek,
            Bound::Min,
            &args.min_deployments_per_week,
        ),
        (
            "--max-time-to-restore",
            Gauge::TimeToRestore,
            Bound::Max,
            &args.max_time_to_restore,
        ),
        (
            "--max-recovery-time",
            Gauge::RecoveryTime,
            Bound::Max,
            &args.max_recovery_time,
        ),
        (
            "--max-rework-rate",
            Gauge::ReworkRate,
            Bound::Max,
            &args.max_rework_rate,
        ),
    ];
    let mut list = Vec::new();
    for (flag, gauge, bound, value) in given {
        if let Some(v) = value {
            list.push(
                Threshold::parse(gauge, bound, v).map_err(|expected| Error::InvalidArgument {
                    flag,
                    value: v.clone(),
                    expected,
                })?,
            );
        }
    }
    if list.is_empty() {
        anyhow::bail!(
            "no threshold given; use any of --max-lead-time, --max-change-failure-rate, \
             --min-deployments-per-week, --max-time-to-restore, --max-recovery-time, --max-rework-rate"
        );
    }
    Ok(list)
}

pub fn run(global: &GlobalArgs, args: &CheckArgs) -> anyhow::Result<ExitStatus> {
    let thresholds = thresholds(args)?;
    let zone = settings::time_zone(&args.data.tz)?;
    let tables = load_tables(global, &args.data, Some(METRIC_COLUMNS))?;
    let context = Context {
        window: window(&args.window, zone, &tables)?,
        zone,
        environment: args.environment.clone(),
        group_by: args.by.map(group_by),
        period: None,
    };
    let report = analysis::compute(&tables, &context)?;
    let outcomes: Vec<Outcome> = if args.by.is_some() {
        report
            .groups
            .iter()
            .flat_map(|g| {
                let key = crate::output::group_name(g.key.as_deref());
                gates::evaluate(Some(key), &g.figures, &thresholds, args.strict)
            })
            .collect()
    } else {
        gates::evaluate(None, &report.overall, &thresholds, args.strict)
    };
    let broken = outcomes.iter().filter(|o| !o.passed).count();

    let mut table = results_frame(&outcomes, args.by.is_some())?;
    if args.step_summary.github_step_summary {
        let mut markdown = format!(
            "### dora check: {}\n\n",
            if broken == 0 {
                format!("all {} check(s) passed", outcomes.len())
            } else {
                format!("{broken} of {} check(s) failed", outcomes.len())
            }
        )
        .into_bytes();
        frame::render(&mut table, frame::FrameFormat::Markdown, &mut markdown)?;
        crate::commands::append_step_summary(&args.step_summary, &String::from_utf8_lossy(&markdown))?;
    }
    print_or_write(args.out.as_deref(), args.format, |out| {
        if args.format == frame::FrameFormat::Table {
            writeln!(
                out,
                "dora check, {} to {} ({})",
                crate::timestamp::format_utc(report.since),
                crate::timestamp::format_utc(report.until),
                report.time_zone
            )?;
            writeln!(out, "{}", frame::table(&table))?;
            if broken == 0 {
                writeln!(out, "all {} check(s) passed", outcomes.len())
            } else {
                writeln!(out, "{broken} of {} check(s) failed:", outcomes.len())?;
                for o in outcomes.iter().filter(|o| !o.passed) {
                    writeln!(out, "  {}", describe(o))?;
                }
                Ok(())
            }
        } else {
            frame::render(&mut table, args.format, out)
        }
    })?;
    Ok(if broken == 0 {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}

/// "acme/api: lead time (median) is 3.1 d, limit at most 2d".
fn describe(o: &Outcome) -> String {
    let scope = o.scope.as_ref().map(|s| format!("{s}: ")).unwrap_or_default();
    match o.value {
        Some(v) => format!(
            "{scope}{} is {}; the limit is {}",
            o.threshold.gauge.name(),
            o.threshold.format_value(v),
            o.threshold
        ),
        None => format!("{scope}{} has no data (--strict)", o.threshold.gauge.name()),
    }
}

fn results_frame(outcomes: &[Outcome], grouped: bool) -> anyhow::Result<DataFrame> {
    let status = |o: &Outcome| match (o.passed, o.value) {
        (true, Some(_)) => "ok",
        (true, None) => "no data",
        (false, _) => "FAILED",
    };
    let mut columns = Vec::new();
    if grouped {
        columns.push(Column::new(
            "scope".into(),
            outcomes
                .iter()
                .map(|o| o.scope.clone().unwrap_or_default())
                .collect::<Vec<_>>(),
        ));
    }
    columns.extend([
        Column::new(
            "metric".into(),
            outcomes.iter().map(|o| o.threshold.gauge.name()).collect::<Vec<_>>(),
        ),
        Column::new(
            "value".into(),
            outcomes
                .iter()
                .map(|o| o.value.map_or_else(|| "-".to_string(), |v| o.threshold.format_value(v)))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "threshold".into(),
            outcomes.iter().map(|o| o.threshold.to_string()).collect::<Vec<_>>(),
        ),
        Column::new("status".into(), outcomes.iter().map(status).collect::<Vec<_>>()),
    ]);
    Ok(DataFrame::new(outcomes.len(), columns)?)
}
