//! `dora explain`: one figure and the rows behind it.

use crate::analysis::{self, GroupBy, explain, window};
use crate::cli::{ExplainArgs, GlobalArgs};
use crate::commands::resolve::{METRIC_COLUMNS, Scope, figures_of};
use crate::commands::{ExitStatus, print_or_write};
use crate::error::Error;
use crate::output::explain::Heading;
use crate::output::frame::{self, FrameFormat};

pub fn run(global: &GlobalArgs, args: &ExplainArgs) -> anyhow::Result<ExitStatus> {
    let scope = Scope::load(global, &args.scope, Some(METRIC_COLUMNS))?;
    let (zone, tables) = (scope.zone, &scope.tables);
    let window = if let Some(text) = &args.period {
        window::named_period(text, zone)
            .ok_or_else(|| Error::InvalidArgument {
                flag: "--period",
                value: text.clone(),
                expected: "an ISO week (2026-W47), a month (2026-11) or a day (2026-11-23)".into(),
            })?
            .1
    } else {
        scope.window()?
    };
    let context = scope.context(window, args.repo.as_ref().map(|_| GroupBy::Repo), None);

    // The figure comes from the same computation as `dora metrics`; the rows from its facts.
    let report = analysis::compute(tables, &context)?;
    let figures = figures_of(&report, args.repo.as_deref())?;
    let facts = analysis::facts(tables, &context)?;
    let limit = match (args.limit, args.output.format) {
        (Some(0), _) => None,
        (Some(n), _) => Some(n),
        (None, FrameFormat::Table | FrameFormat::Markdown) => Some(20),
        (None, _) => None,
    };
    let (mut rows, total) = explain::rows(args.metric, &facts, zone, args.repo.as_deref(), limit)?;

    let heading = Heading {
        metric: args.metric,
        repo: args.repo.as_deref(),
        figures: &figures,
        since: window.since,
        until: window.until,
        zone: zone.name(),
        total,
        shown: rows.height(),
    };
    print_or_write(args.output.out.as_deref(), args.output.format, |out| {
        match args.output.format {
            FrameFormat::Table => {
                heading.text(out, false)?;
                writeln!(out, "{}", frame::table(&rows))
            }
            FrameFormat::Markdown => {
                heading.text(out, true)?;
                frame::render(&mut rows, args.output.format, out)
            }
            FrameFormat::Json => heading.json(out, &mut rows),
            FrameFormat::Csv | FrameFormat::Parquet => frame::render(&mut rows, args.output.format, out),
        }
    })
}
