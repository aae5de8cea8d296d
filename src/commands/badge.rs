//! `dora badge`: one SVG badge per metric, for a README or a dashboard.

use anyhow::Context as _;

use crate::analysis::{self, Context, GroupBy};
use crate::cli::{BadgeArgs, GlobalArgs};
use crate::commands::metrics::{METRIC_COLUMNS, load_tables, window};
use crate::commands::{ExitStatus, write_atomically};
use crate::output::badge;
use crate::settings;

pub fn run(global: &GlobalArgs, args: &BadgeArgs) -> anyhow::Result<ExitStatus> {
    let zone = settings::time_zone(&args.data.tz)?;
    let tables = load_tables(global, &args.data, Some(METRIC_COLUMNS))?;
    let context = Context {
        window: window(&args.window, zone, &tables)?,
        zone,
        environment: args.environment.clone(),
        group_by: args.repo.as_ref().map(|_| GroupBy::Repo),
        period: None,
    };
    let report = analysis::compute(&tables, &context)?;
    let f = crate::commands::metrics::figures_of(&report, args.repo.as_deref())?;
    let badges = badge::badges(&f);
    std::fs::create_dir_all(&args.out).with_context(|| format!("failed to create `{}`", args.out.display()))?;
    for (file, svg) in &badges {
        write_atomically(&args.out.join(format!("{file}.svg")), |w| w.write_all(svg.as_bytes()))?;
    }
    if !global.quiet {
        #[expect(clippy::print_stderr, reason = "the command's progress line")]
        {
            eprintln!("{} badges in {}", badges.len(), args.out.display());
        }
    }
    Ok(ExitStatus::Success)
}
