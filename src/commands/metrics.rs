//! `dora metrics`: load the tables, compute, render.

use crate::analysis;
use crate::cli::{GlobalArgs, MetricsArgs};
use crate::commands::resolve::{METRIC_COLUMNS, Scope, Standing, csv_inputs, group_by};
use crate::commands::{ExitStatus, write_out};
use crate::output;

pub fn run(global: &GlobalArgs, args: &MetricsArgs) -> anyhow::Result<ExitStatus> {
    // The artifact's fingerprint of CSV input hashes the files: done on another thread while
    // they are read and the metrics computed, so it costs (almost) no time. A store's is the
    // fingerprint of the snapshot the figures come from.
    let json = args.format == output::Format::Json;
    let standing = Standing::resolve(&args.standing, args.downtime_cost_per_hour)?;
    let (report, inputs) = std::thread::scope(|threads| {
        let fingerprint = args
            .scope
            .data
            .input
            .as_deref()
            .filter(|_| json)
            .map(|dir| threads.spawn(|| csv_inputs(dir, &args.scope.data)));
        let report = Scope::load(global, &args.scope, Some(METRIC_COLUMNS)).and_then(|scope| {
            let context = scope.context(scope.window()?, args.by.map(group_by), args.period);
            let mut report = analysis::compute(&scope.tables, &context)?;
            if json {
                report.inputs = scope.store_inputs()?;
            }
            Ok(report)
        });
        let inputs = fingerprint.map(|handle| {
            handle
                .join()
                .unwrap_or_else(|_| Err(anyhow::anyhow!("fingerprinting failed")))
        });
        (report, inputs)
    });
    let mut report = report?;
    standing.apply(&mut report);
    if let Some(inputs) = inputs {
        report.inputs = Some(inputs?);
    }
    if args.step_summary.github_step_summary {
        let mut markdown = Vec::new();
        output::render(&report, output::Format::Markdown, &mut markdown)?;
        crate::commands::append_step_summary(&args.step_summary, &String::from_utf8_lossy(&markdown))?;
    }
    write_out(args.out.as_deref(), |out| output::render(&report, args.format, out))?;
    Ok(ExitStatus::Success)
}
