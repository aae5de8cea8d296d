//! Command-line arguments (clap derive). Doc comments are the help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::output::Format;

/// DORA metrics from CSV exports: deployment frequency, lead time, change failure rate, time to
/// restore, failed deployment recovery time and rework rate.
#[derive(Debug, Parser)]
#[command(name = "dora", version, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Store directory
    #[arg(long, global = true, env = "DORA_STORE", default_value = ".dora", value_name = "DIR")]
    pub store: PathBuf,
    /// Print only errors
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate CSV exports and add them to the store (rows with the same key are replaced)
    Import(ImportArgs),
    /// Compute the DORA metrics
    Metrics(MetricsArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Folder with `deployments.csv` and, optionally, `commits.csv`, `deployment_commits.csv`,
    /// `incidents.csv`
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Import this file as the deployments table
    #[arg(long, value_name = "FILE")]
    pub deployments: Option<PathBuf>,
    /// Import this file as the commits table
    #[arg(long, value_name = "FILE")]
    pub commits: Option<PathBuf>,
    /// Import this file as the `deployment_commits` table
    #[arg(long, value_name = "FILE")]
    pub deployment_commits: Option<PathBuf>,
    /// Import this file as the incidents table
    #[arg(long, value_name = "FILE")]
    pub incidents: Option<PathBuf>,
    /// TOML file renaming columns and mapping values of another tool's export
    #[arg(long, value_name = "FILE")]
    pub mapping: Option<PathBuf>,
    /// Time zone of timestamps written without an offset (IANA name)
    #[arg(long, default_value = "UTC", value_name = "ZONE")]
    pub tz: String,
    /// Import the valid rows and write the invalid ones, with the reason, to a CSV file
    #[arg(long)]
    pub skip_invalid: bool,
    /// Where `--skip-invalid` writes rejected rows
    #[arg(long, default_value = "dora-rejects.csv", value_name = "FILE")]
    pub rejects: PathBuf,
}

/// Where analysis reads its data from, and the time zone.
#[derive(Debug, Args)]
pub struct DataArgs {
    /// Read a CSV folder directly instead of the store
    #[arg(long, value_name = "DIR")]
    pub input: Option<PathBuf>,
    /// Mapping file for `--input` (see `dora import --help`)
    #[arg(long, value_name = "FILE", requires = "input")]
    pub mapping: Option<PathBuf>,
    /// Time zone for periods, dates in `--since`/`--until`, and timestamps without an offset
    #[arg(long, default_value = "UTC", value_name = "ZONE")]
    pub tz: String,
}

/// The analysis window `[since, until)`.
#[derive(Debug, Args)]
pub struct WindowArgs {
    /// Start of the window (inclusive): a date or an RFC 3339 timestamp [default: 90 days before
    /// --until]
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// End of the window (exclusive) [default: now]
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// The whole span of the data: from the first local day with a deployment or incident to
    /// the day after the last
    #[arg(long, conflicts_with_all = ["since", "until"])]
    pub all: bool,
    /// Take this instant as "now" (for reproducible reports)
    #[arg(long, value_name = "TIME")]
    pub as_of: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum By {
    Repo,
    Service,
    Team,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Period {
    Day,
    Week,
    Month,
}

#[derive(Debug, Args)]
pub struct MetricsArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub window: WindowArgs,
    /// Environment that counts as production (any case)
    #[arg(long, default_value = "production", value_name = "NAME")]
    pub environment: String,
    /// One group of figures per repository, service or team
    #[arg(long, value_enum)]
    pub by: Option<By>,
    /// One row per day, ISO week (Monday start) or month in `--tz`
    #[arg(long, value_enum)]
    pub period: Option<Period>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write to this file (atomically) instead of standard output
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }
}
