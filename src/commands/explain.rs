//! `dora explain`: one figure and the rows behind it.

use std::io::Write;

use polars::prelude::*;

use crate::analysis::figures::Figures;
use crate::analysis::{self, Context, GroupBy, explain, window};
use crate::cli::{ExplainArgs, GlobalArgs};
use crate::commands::metrics::{self, METRIC_COLUMNS, load_tables};
use crate::commands::{ExitStatus, print_or_write};
use crate::error::Error;
use crate::output::frame::{self, FrameFormat};
use crate::output::summary_row;
use crate::settings;
use crate::timestamp;

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
        args,
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

/// What is explained, the figure, and what the rows are.
struct Heading<'a> {
    args: &'a ExplainArgs,
    figures: &'a Figures,
    since: i64,
    until: i64,
    zone: &'a str,
    total: usize,
    shown: usize,
}

impl Heading<'_> {
    fn text(&self, out: &mut dyn Write, markdown: bool) -> std::io::Result<()> {
        let [name, value, sample, level] = summary_row(self.args.metric, self.figures);
        let scope = self.args.repo.as_deref().unwrap_or("all repositories");
        let strong = if markdown { "**" } else { "" };
        writeln!(
            out,
            "{strong}{name}{strong}, {scope}, {} to {} ({})",
            timestamp::format_utc(self.since),
            timestamp::format_utc(self.until),
            self.zone
        )?;
        let level = if level == "-" {
            String::new()
        } else {
            format!(" · level {level}")
        };
        writeln!(out, "{value} · {sample}{level}")?;
        let more = if self.shown < self.total {
            format!("; first {} shown, `--limit 0` for all", self.shown)
        } else {
            String::new()
        };
        writeln!(
            out,
            "\n{} rows: {}{more}\n",
            self.total,
            self.args.metric.rows_description()
        )
    }

    fn json(&self, out: &mut dyn Write, rows: &mut DataFrame) -> std::io::Result<()> {
        let head = serde_json::json!({
            "metric": self.args.metric.as_str(),
            "repo": self.args.repo,
            "since": timestamp::format_utc(self.since),
            "until": timestamp::format_utc(self.until),
            "time_zone": self.zone,
            "figure": self.args.metric.figure_json(self.figures),
            "rows_description": self.args.metric.rows_description(),
            "row_count": self.total,
        });
        let head = serde_json::to_string_pretty(&head).map_err(std::io::Error::other)?;
        // The head object, with the rows (in column order) spliced in as its last member.
        let head = head.trim_end().trim_end_matches('}').trim_end();
        writeln!(out, "{head},\n  \"rows\":")?;
        frame::render(rows, FrameFormat::Json, out)?;
        writeln!(out, "}}")
    }
}
