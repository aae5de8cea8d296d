//! `dora badge`: one SVG badge per metric, for a README or a dashboard.

use anyhow::Context as _;

use crate::analysis::{self, GroupBy};
use crate::cli::{BadgeArgs, GlobalArgs};
use crate::commands::resolve::{METRIC_COLUMNS, Scope, Standing, figures_of};
use crate::commands::{ExitStatus, write_atomically};
use crate::output::badge;

pub fn run(global: &GlobalArgs, args: &BadgeArgs) -> anyhow::Result<ExitStatus> {
    let standing = Standing::resolve(&args.standing, None)?;
    let scope = Scope::load(global, &args.scope, Some(METRIC_COLUMNS))?;
    let context = scope.context(scope.window()?, args.repo.as_ref().map(|_| GroupBy::Repo), None);
    let report = analysis::compute(&scope.tables, &context)?;
    let f = figures_of(&report, args.repo.as_deref())?;
    let badges = badge::badges(&f, standing.scale);
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
