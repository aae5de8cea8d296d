//! One file per subcommand. Commands turn arguments into library calls and print the results.

pub mod badge;
pub mod check;
pub mod collect;
pub mod collect_github;
pub mod docs;
pub mod explain;
pub mod generate;
pub mod hint;
pub mod import;
pub mod metrics;
pub mod query;
pub mod report;
pub mod resolve;

use std::io::Write;
use std::path::Path;

use crate::cli::{Cli, Command};

/// A progress bar on stderr, hidden with `-q` (indicatif hides it, too, when stderr is not a
/// terminal).
fn progress_bar(quiet: bool) -> indicatif::ProgressBar {
    if quiet {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr())
    }
}

/// How a command ended, mapped to the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: everything worked.
    Success,
    /// 1: the command ran, but a check or gate failed.
    Failure,
    /// 2: an error stopped the command.
    Error,
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(status: ExitStatus) -> Self {
        match status {
            ExitStatus::Success => Self::SUCCESS,
            ExitStatus::Failure => Self::from(1),
            ExitStatus::Error => Self::from(2),
        }
    }
}

pub fn run(cli: Cli) -> anyhow::Result<ExitStatus> {
    match cli.command {
        Command::Import(args) => import::run(&cli.global, &args),
        Command::Check(args) => check::run(&cli.global, &args),
        Command::Collect(command) => collect::run(&cli.global, &command),
        Command::Metrics(args) => metrics::run(&cli.global, &args),
        Command::Query(args) => query::run(&cli.global, &args),
        Command::Report(args) => report::run(&cli.global, &args),
        Command::Badge(args) => badge::run(&cli.global, &args),
        Command::Explain(args) => explain::run(&cli.global, &args),
        Command::Generate(args) => generate::run(&cli.global, &args),
        Command::Completions(args) => docs::completions(&args),
        Command::Man(args) => docs::man(&args),
    }
}

/// Writes a file so that readers see the old content or the new, never half of it.
pub fn write_atomically(path: &Path, write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut builder = tempfile::Builder::new();
    // A temporary file is private (0600) by default; the file it becomes is an ordinary one.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
    let mut tmp = builder
        .tempfile_in(dir)
        .with_context(|| format!("failed to create a temporary file in `{}`", dir.display()))?;
    {
        let mut buffered = std::io::BufWriter::new(tmp.as_file_mut());
        write(&mut buffered)
            .and_then(|()| buffered.flush())
            .with_context(|| format!("failed to write `{}`", path.display()))?;
    }
    tmp.as_file()
        .sync_all()
        .with_context(|| format!("failed to write `{}`", path.display()))?;
    tmp.persist(path)
        .with_context(|| format!("failed to write `{}`", path.display()))?;
    Ok(())
}

/// Writes a command's output to `out` (atomically) or to standard output. Parquet is binary
/// and goes to a file only.
pub fn print_or_write(
    out: Option<&Path>,
    format: crate::output::frame::FrameFormat,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> anyhow::Result<ExitStatus> {
    if out.is_none() && format == crate::output::frame::FrameFormat::Parquet {
        anyhow::bail!("`--format parquet` writes a file: add `--out FILE`");
    }
    write_out(out, write)?;
    Ok(ExitStatus::Success)
}

/// Writes to `out` (atomically) or to standard output.
pub fn write_out(out: Option<&Path>, write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> anyhow::Result<()> {
    if let Some(path) = out {
        write_atomically(path, write)?;
    } else {
        // Buffered: standard output flushes at every line break, a system call per line of
        // output (seconds for the 60 MB JSON of 2,000 repositories by week).
        let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
        write(&mut stdout)?;
        stdout.flush()?;
    }
    Ok(())
}

/// `--github-step-summary`: appends `markdown` to the file GitHub Actions names in
/// `GITHUB_STEP_SUMMARY` (the job's summary page).
pub fn append_step_summary(args: &crate::cli::StepSummaryArgs, markdown: &str) -> anyhow::Result<()> {
    use anyhow::Context as _;
    if !args.github_step_summary {
        return Ok(());
    }
    let Some(path) = &args.file else {
        anyhow::bail!("--github-step-summary: GITHUB_STEP_SUMMARY is not set (it is, in a GitHub Actions job)");
    };
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("failed to open the step summary `{}`", path.display()))?;
    // One write, so concurrent steps appending to the same file do not interleave lines.
    let mut text = markdown.trim_end().to_string();
    text.push_str("\n\n");
    file.write_all(text.as_bytes())
        .with_context(|| format!("failed to append to the step summary `{}`", path.display()))
}
