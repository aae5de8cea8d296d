//! `dora report`: the delivery report of one period, as Markdown, HTML and charts.

use std::path::Path;

use anyhow::Context as _;

use crate::analysis::report_period::{self, ReportPeriod};
use crate::analysis::{PeriodKind, window};
use crate::cli::{GlobalArgs, ReportArgs};
use crate::commands::resolve::{Scope, Standing, group_by};
use crate::commands::{ExitStatus, append_step_summary, write_atomically};
use crate::error::Error;
use crate::output::report;
use crate::settings;
use crate::timestamp;

pub fn run(global: &GlobalArgs, args: &ReportArgs) -> anyhow::Result<ExitStatus> {
    let standing = Standing::resolve(&args.standing, args.downtime_cost_per_hour)?;
    let scope = Scope::load(global, &args.scope, None)?;
    let period = period(args, &scope)?;
    let mut digest = report_period::digest(
        &scope.tables,
        period,
        args.trend,
        scope.zone,
        scope.environment(),
        args.by.map(group_by),
    )?;
    standing.apply_to_digest(&mut digest);
    let context = report::context(&digest, args.png)?;
    let (markdown, html) = report::render(&context, args.template.as_deref())?;

    let out = &args.out;
    let charts_dir = out.join("charts");
    std::fs::create_dir_all(&charts_dir).with_context(|| format!("failed to create `{}`", charts_dir.display()))?;
    for chart in &context.charts {
        write_atomically(&out.join(&chart.svg_file), |w| w.write_all(chart.svg.as_bytes()))?;
    }
    if args.png {
        for (id, chart) in report::charts(&digest) {
            let path = charts_dir.join(format!("{id}.png"));
            // plotters writes the file itself; draw to a temporary name and rename, so a
            // reader never sees half a picture.
            let tmp = charts_dir.join(format!(".{id}.tmp-{}.png", std::process::id()));
            chart
                .png(&tmp)
                .with_context(|| format!("failed to draw `{}`", path.display()))?;
            std::fs::rename(&tmp, &path).with_context(|| format!("failed to write `{}`", path.display()))?;
        }
    }
    write_atomically(&out.join("report.md"), |w| w.write_all(markdown.as_bytes()))?;
    write_atomically(&out.join("report.html"), |w| w.write_all(html.as_bytes()))?;
    append_step_summary(&args.step_summary, &markdown)?;
    if !global.quiet {
        eprintln_report(out, &digest.period.label(), context.charts.len(), args.png);
    }
    Ok(ExitStatus::Success)
}

#[expect(clippy::print_stderr, reason = "the command's progress line")]
fn eprintln_report(out: &Path, label: &str, charts: usize, png: bool) {
    eprintln!(
        "report {label}: {} and {}, {charts} charts (SVG{}) in {}",
        out.join("report.md").display(),
        out.join("report.html").display(),
        if png { " and PNG" } else { "" },
        out.join("charts").display()
    );
}

/// The report's period from `--week`, `--month`, `--since`/`--until`, or the last complete week.
fn period(args: &ReportArgs, scope: &Scope) -> anyhow::Result<ReportPeriod> {
    let zone = scope.zone;
    let named = |flag: &'static str, text: &str, kind: PeriodKind| -> anyhow::Result<ReportPeriod> {
        match window::named_period(text, zone) {
            Some((k, w)) if k == kind => Ok(ReportPeriod::calendar(kind, timestamp::local_date(w.since, zone))),
            _ => Err(Error::InvalidArgument {
                flag,
                value: text.to_string(),
                expected: match kind {
                    PeriodKind::Week => "an ISO week such as 2026-W47".into(),
                    _ => "a month such as 2026-11".into(),
                },
            }
            .into()),
        }
    };
    if let Some(w) = &args.week {
        return named("--week", w, PeriodKind::Week);
    }
    if let Some(m) = &args.month {
        return named("--month", m, PeriodKind::Month);
    }
    let w = &args.scope.window;
    if w.since.is_some() || w.until.is_some() || w.all {
        let window = scope.window()?;
        return Ok(ReportPeriod::days(
            timestamp::local_date(window.since, zone),
            // The window's end is exclusive: a day starting exactly at it is not in it.
            timestamp::local_date(window.until - 1, zone) + chrono::Days::new(1),
        ));
    }
    let now = settings::now(w.as_of.as_deref(), zone)?;
    Ok(ReportPeriod::last_complete(PeriodKind::Week, now, zone))
}
