//! `dora explain`: one figure and the rows behind it.

use crate::analysis::{self, Context, GroupBy, explain, window};
use crate::cli::{ExplainArgs, GlobalArgs};
use crate::commands::metrics::{self, METRIC_COLUMNS, load_tables};
use crate::commands::{ExitStatus, print_or_write};
use crate::error::Error;
use crate::output::explain::Heading;
use crate::output::frame::{self, FrameFormat};
use crate::settings;

pub fn run(global: &GlobalArgs, args: &ExplainArgs) -> anyhow::Result<ExitStatus> {
    let zone = settings::time_zone(&args.data.tz)?;
    let tables = load_tables(global, &args.data, Some(METRIC_COLUMNS))?;
    let window = if let Some(text) = &args.period {
        window::named_period(text, zone)
            .ok_or_else(|| Error::InvalidArgument {
                flag: "--period",
                value: text.clone(),
                expected: "an ISO week (2026-W47), a month (2026-11) or a day (2026-11-23)".into(),
            })?
            .1
    } else {
        metrics::window(&args.window, zone, &tables)?
    };
    let context = Context {
        window,
        zone,
        environment: args.environment.clone(),
        group_by: args.repo.as_ref().map(|_| GroupBy::Repo),
        period: None,
    };

    // The figure comes from the same computation as `dora metrics`; the rows from its facts.
    let report = analysis::compute(&tables, &context)?;
    let figures = metrics::figures_of(&report, args.repo.as_deref())?;
    let facts = analysis::facts(&tables, &context)?;
    let limit = match (args.limit, args.format) {
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
    print_or_write(args.out.as_deref(), args.format, |out| match args.format {
        FrameFormat::Table => {
            heading.text(out, false)?;
            writeln!(out, "{}", frame::table(&rows))
        }
        FrameFormat::Markdown => {
            heading.text(out, true)?;
            frame::render(&mut rows, args.format, out)
        }
        FrameFormat::Json => heading.json(out, &mut rows),
        FrameFormat::Csv | FrameFormat::Parquet => frame::render(&mut rows, args.format, out),
    })
}
