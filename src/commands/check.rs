//! `dora check`: thresholds on the metrics, exit 1 when one is broken.

use crate::analysis;
use crate::analysis::catalogue::Metric;
use crate::analysis::gates::{self, Outcome, Threshold};
use crate::cli::{CheckArgs, GlobalArgs};
use crate::commands::resolve::{METRIC_COLUMNS, Scope, group_by};
use crate::commands::{ExitStatus, print_or_write};
use crate::error::Error;
use crate::output::check::{describe, results_frame};
use crate::output::frame;

/// The thresholds given, in the catalogue's order.
fn thresholds(args: &CheckArgs) -> anyhow::Result<Vec<Threshold>> {
    let mut list = Vec::new();
    for (metric, value) in &args.limits.given {
        list.push(Threshold::parse(*metric, value).map_err(|e| Error::InvalidArgument {
            flag: metric.spec().gate.flag,
            value: value.clone(),
            expected: e.expected.to_string(),
        })?);
    }
    if list.is_empty() {
        let flags: Vec<&str> = Metric::ALL.iter().map(|m| m.spec().gate.flag).collect();
        anyhow::bail!("no threshold given; use any of {}", flags.join(", "));
    }
    Ok(list)
}

pub fn run(global: &GlobalArgs, args: &CheckArgs) -> anyhow::Result<ExitStatus> {
    let thresholds = thresholds(args)?;
    let scope = Scope::load(global, &args.scope, Some(METRIC_COLUMNS))?;
    let context = scope.context(scope.window()?, args.by.map(group_by), None);
    let report = analysis::compute(&scope.tables, &context)?;
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
    print_or_write(args.output.out.as_deref(), args.output.format, |out| {
        if args.output.format == frame::FrameFormat::Table {
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
            frame::render(&mut table, args.output.format, out)
        }
    })?;
    Ok(if broken == 0 {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}
