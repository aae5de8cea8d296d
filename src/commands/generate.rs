//! `dora generate`: synthetic CSV exports of any size.

use std::io::Write as _;
use std::time::Instant;

use crate::cli::{GenerateArgs, GlobalArgs};
use crate::commands::ExitStatus;
use crate::generate::{Spec, generate};

pub fn run(global: &GlobalArgs, args: &GenerateArgs) -> anyhow::Result<ExitStatus> {
    let spec = Spec {
        commits: args.commits,
        repos: args.repos,
        days: args.days,
        seed: args.seed,
        mapping: !args.no_mapping,
    };
    let started = Instant::now();
    let counts = generate(&spec, &args.out)?;
    if !global.quiet {
        writeln!(
            std::io::stderr().lock(),
            "wrote {} commits, {} deployments, {} deployment_commits rows, {} incidents to {} in {:.1} s",
            counts.commits,
            counts.deployments,
            counts.deployment_commits,
            counts.incidents,
            args.out.display(),
            started.elapsed().as_secs_f64()
        )?;
    }
    Ok(ExitStatus::Success)
}
