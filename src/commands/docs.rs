//! `dora completions` and `dora man`: the shell completions and man pages, generated from the
//! same command definition as `--help`, so they cannot drift from it.

use std::io::Write;

use anyhow::Context as _;
use clap::CommandFactory;

use super::{ExitStatus, write_atomically};
use crate::cli::{Cli, CompletionsArgs, ManArgs};

pub fn completions(args: &CompletionsArgs) -> anyhow::Result<ExitStatus> {
    let mut command = Cli::command();
    // Into memory first: clap_complete panics when its writer fails (`| head` closing the pipe).
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "dora", &mut script);
    let mut out = std::io::stdout().lock();
    out.write_all(&script)
        .and_then(|()| out.flush())
        .context("failed to write the completion script")?;
    Ok(ExitStatus::Success)
}

pub fn man(args: &ManArgs) -> anyhow::Result<ExitStatus> {
    let mut command = Cli::command().disable_help_subcommand(true);
    command.build();
    let Some(dir) = &args.out else {
        let mut out = std::io::stdout().lock();
        clap_mangen::Man::new(command)
            .render(&mut out)
            .and_then(|()| out.flush())
            .context("failed to write the man page")?;
        return Ok(ExitStatus::Success);
    };
    std::fs::create_dir_all(dir).with_context(|| format!("failed to create `{}`", dir.display()))?;
    // One page per command, as `git` has: dora.1, dora-metrics.1, dora-collect-git.1...
    let mut pending = vec![command];
    while let Some(command) = pending.pop() {
        pending.extend(command.get_subcommands().filter(|s| !s.is_hide_set()).cloned());
        // Each page names dora's version, not the subcommand's (it has none).
        let page = clap_mangen::Man::new(command).source(concat!("dora ", env!("CARGO_PKG_VERSION")));
        let path = dir.join(page.get_filename());
        write_atomically(&path, |out| page.render(out))?;
    }
    Ok(ExitStatus::Success)
}
