//! Command-line arguments (clap derive). Doc comments are the help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::analysis::catalogue::Metric;
use crate::collect::github::token::Token;
use crate::output::Format;
use crate::output::frame::FrameFormat;

/// DORA metrics from git, GitHub and CSV exports: deployment frequency, lead time, change failure
/// rate, time to restore, failed deployment recovery time and rework rate.
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
    /// How long a writer (`import`, `collect`) waits for another one to finish with the store
    #[arg(
        long,
        global = true,
        env = "DORA_LOCK_WAIT",
        default_value_t = 60,
        value_name = "SECONDS"
    )]
    pub lock_wait: u64,
}

impl GlobalArgs {
    pub fn lock_wait(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.lock_wait)
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate CSV exports and add them to the store (rows with the same key are replaced)
    Import(ImportArgs),
    /// Fill the store from a local git clone or the GitHub API
    #[command(subcommand)]
    Collect(CollectCommand),
    /// Compute the DORA metrics
    Metrics(MetricsArgs),
    /// Fail (exit 1) when a metric breaks a threshold: a gate for CI
    Check(CheckArgs),
    /// Run SQL, or a saved query, over the tables and the metric views
    Query(QueryArgs),
    /// Write the delivery report of a week or month: Markdown, HTML and charts
    Report(ReportArgs),
    /// Write one SVG badge per metric, coloured by level
    Badge(BadgeArgs),
    /// Show a figure and the rows behind it
    Explain(ExplainArgs),
    /// Write synthetic CSV exports of any size (benchmarks, trying dora at scale)
    Generate(GenerateArgs),
    /// Print the completion script of a shell
    Completions(CompletionsArgs),
    /// Print dora's man page, or write one page per command to a folder
    Man(ManArgs),
}

#[derive(Debug, Args)]
#[command(after_long_help = "\
Examples:
  source <(dora completions bash)                      # this bash session
  dora completions bash > ~/.local/share/bash-completion/completions/dora
  dora completions zsh > \"${fpath[1]}/_dora\"
  dora completions fish > ~/.config/fish/completions/dora.fish
  dora completions powershell >> $PROFILE")]
pub struct CompletionsArgs {
    /// The shell
    #[arg(value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
#[command(after_long_help = "\
Examples:
  dora man | man -l -
  dora man --out /usr/local/share/man/man1   # dora.1, dora-metrics.1, dora-collect-git.1, ...")]
pub struct ManArgs {
    /// Write `dora.1` and a page per command and subcommand to this folder instead
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
#[command(after_long_help = "\
The data has the layout and distributions of the DORA benchmark's reference generator (gen.py):
per-repository deploy cadence and failure rate, staging deployments, failed deployments and
rollbacks, incidents with and without a cause, mixed UTC offsets. The same seed writes the same
files.

Example:
  dora generate bench-data --commits 20000000 --repos 2000 && dora import bench-data")]
pub struct GenerateArgs {
    /// Folder to write `deployments.csv`, `commits.csv`, `deployment_commits.csv` and `incidents.csv` to
    #[arg(value_name = "DIR")]
    pub out: PathBuf,
    /// Commits in all, split evenly over the repositories
    #[arg(long, default_value_t = 200_000, value_name = "N")]
    pub commits: u64,
    /// Repositories
    #[arg(long, default_value_t = 20, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub repos: u32,
    /// Days of history, from 2026-01-05
    #[arg(long, default_value_t = 180, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=36500))]
    pub days: u32,
    /// Seed of the random generator
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Leave out `deployment_commits.csv` (commits are then matched to deployments by time)
    #[arg(long)]
    pub no_mapping: bool,
}

/// The tools whose objects `dora import --from` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FromTool {
    ArgoRollouts,
    Flagger,
    /// Argo CD Applications' sync history.
    Argocd,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Folder with `deployments.csv` and, optionally, `commits.csv`, `deployment_commits.csv`,
    /// `incidents.csv`, `pull_requests.csv`, `issues.csv`, `issue_commits.csv`; or another dora
    /// store, whose rows are merged; with --from, the tool's JSON file
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
    /// Read FILE as this tool's objects (`kubectl get ... -o json`): `argo-rollouts` (Rollouts),
    /// `flagger` (Canaries) or `argocd` (Applications' sync history); each finished revision is
    /// a deployment
    #[arg(long, value_enum, value_name = "TOOL", conflicts_with_all = ["deployments", "commits", "deployment_commits", "incidents", "mapping"])]
    pub from: Option<FromTool>,
    /// With --from: the environment of the deployments
    #[arg(long, default_value = "production", value_name = "NAME", requires = "from")]
    pub environment: String,
    /// With --from: the repository of every deployment [default: the object's `dora.dev/repo`
    /// annotation, else namespace/name]
    #[arg(long, value_name = "OWNER/NAME", requires = "from")]
    pub repo: Option<String>,
    /// With --from: the annotation naming the deployed commit [default: the first container
    /// image's tag]
    #[arg(long, value_name = "NAME", requires = "from")]
    pub commit_annotation: Option<String>,
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
    /// Bytes of CSV parsed at a time (memory use; tests make it tiny)
    #[arg(long, hide = true, env = "DORA_CSV_CHUNK_BYTES", default_value_t = crate::collect::csv::CHUNK_BYTES)]
    pub csv_chunk_bytes: usize,
    /// Rows of commits merged in memory at a time (memory use; tests make it tiny)
    #[arg(long, hide = true, env = "DORA_PARTITION_ROWS", default_value_t = crate::store::PARTITION_ROWS)]
    pub partition_rows: usize,
    /// Settings file whose `[ai] co_authors` mark more commits AI-assisted [default:
    /// dora.toml, when there is one]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Args)]
#[command(after_long_help = "\
Durations take a unit: 90m, 36h, 2d, 1w. Rates: 15% or 0.15. Times are medians.
Exit status: 0 every threshold holds, 1 one or more is broken (all are listed), 2 usage error.
A metric without data (no deployments in the window, say) does not fail unless --strict.

Example:
  dora check --since 2026-11-01 --max-lead-time 2d --max-change-failure-rate 15% \\
             --min-deployments-per-week 3 --max-time-to-restore 1d")]
pub struct CheckArgs {
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Check each repository, service or team instead of the overall figures
    #[arg(long, value_enum)]
    pub by: Option<By>,
    #[command(flatten)]
    pub limits: LimitArgs,
    /// A threshold on a metric without data fails instead of passing
    #[arg(long)]
    pub strict: bool,
    #[command(flatten)]
    pub output: FrameOutputArgs,
    #[command(flatten)]
    pub step_summary: StepSummaryArgs,
}

#[derive(Debug, Args)]
#[command(after_long_help = "\
Writes DIR/report.md, DIR/report.html (self-contained: inline SVG charts and CSS, nothing
fetched) and DIR/charts/*.svg (and *.png with --png). The period is the last complete ISO week
in --tz unless --week, --month or --since/--until says otherwise; it is compared with the
period before, with a trend over the --trend periods before it. See docs/report.md.

Examples:
  dora report --out weekly/
  dora report --week 2026-W47 --by team --png --out weekly/
  dora report --month 2026-11 --template my-templates/ --out monthly/")]
pub struct ReportArgs {
    /// Output folder (created if needed)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// An ISO week in --tz, e.g. 2026-W47 [default: the last complete week]
    #[arg(long, value_name = "WEEK", conflicts_with_all = ["month", "since", "until", "all"])]
    pub week: Option<String>,
    /// A month in --tz, e.g. 2026-11
    #[arg(long, value_name = "MONTH", conflicts_with_all = ["since", "until", "all"])]
    pub month: Option<String>,
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// A table of figures per repository, service or team
    #[arg(long, value_enum)]
    pub by: Option<By>,
    /// Periods of trend before the report's period
    #[arg(long, default_value_t = 12, value_name = "N")]
    pub trend: u32,
    /// Also write each chart as PNG
    #[arg(long)]
    pub png: bool,
    /// Folder with templates (`report.md.j2`, `report.html.j2`) replacing the built-in ones
    #[arg(long, value_name = "DIR")]
    pub template: Option<PathBuf>,
    #[command(flatten)]
    pub standing: StandingArgs,
    /// Estimate the yearly cost of instability at this cost of an hour of downtime
    #[arg(long, value_name = "AMOUNT", value_parser = positive_amount)]
    pub downtime_cost_per_hour: Option<f64>,
    #[command(flatten)]
    pub step_summary: StepSummaryArgs,
}

/// `--github-step-summary`: append Markdown to the file GitHub Actions names in
/// `GITHUB_STEP_SUMMARY`.
#[derive(Debug, Args)]
pub struct StepSummaryArgs {
    /// Append the Markdown summary to the file named by `GITHUB_STEP_SUMMARY` (GitHub Actions)
    #[arg(long)]
    pub github_step_summary: bool,
    #[arg(
        long = "github-step-summary-file",
        env = "GITHUB_STEP_SUMMARY",
        hide = true,
        value_name = "FILE"
    )]
    pub file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct BadgeArgs {
    /// Output folder (created if needed)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Badges of one repository only
    #[arg(long, value_name = "OWNER/NAME")]
    pub repo: Option<String>,
    #[command(flatten)]
    pub standing: StandingArgs,
}

#[derive(Debug, Subcommand)]
pub enum CollectCommand {
    /// Commits, deployments from tags, and the commits each deployment shipped (by ancestry),
    /// from a local clone
    #[command(after_long_help = "\
Each matching tag is a production deployment of the tagged commit, at the tagger date of an
annotated tag or the commit date of a lightweight one. Deployment k ships the commits its tag
contains that no earlier deployment contained: `git rev-list tag_k --not tag_1 .. tag_(k-1)`.
A rerun reads only commits and tags the store does not have. See docs/git.md.

Examples:
  dora collect git .
  dora collect git ../api --repo-name acme/api --tags 'release-*' --branch main")]
    Git(GitArgs),
    /// Deployments, commits (by ancestry) and incidents from the GitHub API
    #[command(after_long_help = "\
The token comes from --token-file, GITHUB_TOKEN or GH_TOKEN, and is never printed or stored. It
needs read access to the repositories: a classic token with `repo` (`public_repo` for public
ones), or a fine-grained token with Contents, Metadata, Deployments, Issues, Pull requests and
Actions read. A rerun reads only what changed (conditional requests). See docs/github.md.

Examples:
  dora collect github --repo acme/api --repo acme/web --since 2026-09-01
  dora collect github --org acme --exclude 'sandbox-*' --deployments-from releases
  dora collect github --repo acme/api --deployments-from workflow:deploy.yml --incident-label sev1")]
    Github(Box<GithubArgs>),
}

#[derive(Debug, Args)]
pub struct GithubArgs {
    /// A repository, `owner/name` (repeatable)
    #[arg(long = "repo", value_name = "OWNER/NAME")]
    pub repos: Vec<String>,
    /// Every repository of an organization that is not archived
    #[arg(long, value_name = "ORG")]
    pub org: Option<String>,
    /// Leave out repositories of --org whose name matches (repeatable)
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Read nothing older than this (a date or RFC 3339 time, UTC) [default: 90 days ago]
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// API root, for GitHub Enterprise Server (`https://HOST/api/v3`) [default:
    /// `https://api.github.com`]
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
    /// Read the token from this file
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    #[arg(long, env = "GITHUB_TOKEN", hide = true, hide_env_values = true)]
    pub github_token: Option<Token>,
    #[arg(long, env = "GH_TOKEN", hide = true, hide_env_values = true)]
    pub gh_token: Option<Token>,
    /// Repositories synced at the same time [default: 4]
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    /// What counts as a deployment: deployments, releases, tags, workflow:<file or id>,
    /// merged-prs [default: deployments]
    #[arg(long, value_name = "SOURCE")]
    pub deployments_from: Option<String>,
    /// Environments that count, for --deployments-from deployments (a glob) [default:
    /// production]
    #[arg(long, value_name = "PATTERN")]
    pub environment: Option<String>,
    /// Environments that are a production rollout's first stage, for --deployments-from
    /// deployments (a glob, e.g. `canary`): a production deployment of a sha a canary deployed
    /// started at the canary; a failed canary never promoted is an aborted rollout
    #[arg(long, value_name = "PATTERN")]
    pub canary_environment: Option<String>,
    /// Issues with this label are incidents (repeatable) [default: incident]
    #[arg(long = "incident-label", value_name = "LABEL")]
    pub incident_labels: Vec<String>,
    /// Issues with this label are bug reports (repeatable; the issue type Bug counts too)
    /// [default: bug]
    #[arg(long = "bug-label", value_name = "LABEL")]
    pub bug_labels: Vec<String>,
    /// Issues with this label are feature requests (repeatable; the issue type Feature counts
    /// too) [default: enhancement, feature]
    #[arg(long = "feature-label", value_name = "LABEL")]
    pub feature_labels: Vec<String>,
    /// A merged pull request with this label is AI-assisted: its merge commit is marked so
    /// (repeatable; also `[ai] labels` in dora.toml)
    #[arg(long = "ai-label", value_name = "LABEL")]
    pub ai_labels: Vec<String>,
    /// Count pre-releases as deployments (--deployments-from releases)
    #[arg(long)]
    pub prereleases: bool,
    /// Tags that mark deployments (--deployments-from tags) [default: release versions]
    #[arg(long, value_name = "GLOB")]
    pub tags: Option<String>,
    /// A merged pull request that reverts another marks the deployment that shipped the
    /// reverted change as rolled back
    #[arg(long)]
    pub revert_as_failure: bool,
    /// Longest wait, in seconds, for a rate limit to reset before stopping [default: 900]
    #[arg(long, value_name = "SECONDS")]
    pub max_wait: Option<u64>,
    /// Settings file (`[github]`, and `[github.repo."owner/name"]` per repository) [default:
    /// dora.toml, when there is one]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct GitArgs {
    /// The clone to read (any folder inside it)
    #[arg(value_name = "PATH", default_value = ".")]
    pub path: PathBuf,
    /// Repository name in the store [default: `owner/name` of the `origin` remote, else the
    /// folder's name]
    #[arg(long, value_name = "OWNER/NAME")]
    pub repo_name: Option<String>,
    /// Tags that mark deployments (a glob such as `v*` or `release-*`) [default: release
    /// versions: 1.2, v1.2.3, v1.2.3+build; not pre-releases]
    #[arg(long, value_name = "GLOB")]
    pub tags: Option<String>,
    /// Branch whose history is read [default: the branch HEAD points at]
    #[arg(long, value_name = "BRANCH")]
    pub branch: Option<String>,
    /// Leave the first tag's commits (all history before it) out of lead time
    #[arg(long)]
    pub skip_first: bool,
    /// Environment of the deployments
    #[arg(long, default_value = "production", value_name = "NAME")]
    pub environment: String,
    /// Read the whole history again instead of only what the store lacks
    #[arg(long)]
    pub full: bool,
    /// Do not count the lines each commit changes (git diffs every new commit for it, the
    /// slowest part of reading a long history)
    #[arg(long)]
    pub no_line_counts: bool,
    /// Settings file whose `[ai] co_authors` mark more commits AI-assisted [default:
    /// dora.toml, when there is one]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// What every analysis command reads and over what: the data, the window and the environment
/// that counts as production. Resolved once, by `commands::resolve`.
#[derive(Debug, Args)]
pub struct ScopeArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub window: WindowArgs,
    /// Environment that counts as production (any case)
    #[arg(long, default_value = "production", value_name = "NAME")]
    pub environment: String,
}

/// Where a table of rows goes (`check`, `explain`, `query`), and in what format.
#[derive(Debug, Args)]
pub struct FrameOutputArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = FrameFormat::Table)]
    pub format: FrameFormat,
    /// Write to this file (atomically) instead of standard output; required by `--format
    /// parquet`
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
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

/// How figures are rated and what they are compared with (`metrics`, `report`, `badge`). A flag
/// wins over the `[metrics]` section of dora.toml.
#[derive(Debug, Args)]
pub struct StandingArgs {
    /// Rate figures by DORA's Quick Check (2025: its answer and a score of 0-10) or by the 2023
    /// report's levels (elite, high, medium, low) [default: 2025]
    #[arg(long, value_enum, value_name = "YEAR")]
    pub levels: Option<crate::analysis::levels::LevelScale>,
    #[arg(
        long,
        value_name = "NAME",
        conflicts_with = "org_size",
        help = "Compare the Quick Check scores with one industry's 2025 means: technology, \
                financial_services, ... (docs/metrics.md lists them) [default: all industries]"
    )]
    pub industry: Option<String>,
    #[arg(
        long,
        value_name = "NAME",
        help = "Compare the Quick Check scores with one organization size's 2025 means: solo, \
                fewer_than_10, fewer_than_100, fewer_than_500, fewer_than_1000, fewer_than_5000, \
                fewer_than_10000, more_than_9999"
    )]
    pub org_size: Option<String>,
    /// Settings file with a `[metrics]` section [default: dora.toml, when there is one]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
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
    pub scope: ScopeArgs,
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
    #[command(flatten)]
    pub standing: StandingArgs,
    /// Estimate the yearly cost of instability at this cost of an hour of downtime (DORA's ROI
    /// model): deployments a year x change failure rate x recovery hours x this
    #[arg(long, value_name = "AMOUNT", value_parser = positive_amount)]
    pub downtime_cost_per_hour: Option<f64>,
    #[command(flatten)]
    pub step_summary: StepSummaryArgs,
}

/// A cost: a finite number, at least 0.
fn positive_amount(value: &str) -> Result<f64, String> {
    match value.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
        _ => Err(format!(
            "expected an amount of money, a number of at least 0, like 10000 (got `{value}`)"
        )),
    }
}

#[derive(Debug, Args)]
#[command(after_long_help = "\
Tables: deployments, commits, deployment_commits, incidents, pull_requests, issues,
issue_commits (all of history).
Views (the window, computed as `dora metrics` does): changes, production_deployments,
incident_attribution, issue_deliveries, open_issues, periods. `--tables` lists their columns; docs/query.md describes them.

Examples:
  dora query \"SELECT repo, COUNT(*) AS n FROM production_deployments GROUP BY repo\"
  dora query --list
  dora query slowest-changes --param limit=5 --since 2026-11-01")]
pub struct QueryArgs {
    /// SQL text (one SELECT), or the name of a saved query
    #[arg(value_name = "SQL|NAME", required_unless_present_any = ["list", "file", "tables"])]
    pub query: Option<String>,
    /// Read the SQL from this file (a header may declare parameters, as in queries/)
    #[arg(long, value_name = "FILE", conflicts_with = "query")]
    pub file: Option<PathBuf>,
    /// A parameter of the query, `$NAME` in SQL (repeatable); `since` and `until` set the window
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_param)]
    pub params: Vec<(String, String)>,
    /// List the saved queries and their parameters
    #[arg(long, conflicts_with_all = ["query", "file", "tables"])]
    pub list: bool,
    /// List the tables and views with their columns
    #[arg(long)]
    pub tables: bool,
    /// Folder of your own saved queries (`NAME.sql`); they replace built-in ones of the same name
    #[arg(long, env = "DORA_QUERIES", value_name = "DIR")]
    pub queries: Option<PathBuf>,
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Rows of the `periods` view per repository, service or team
    #[arg(long, value_enum)]
    pub by: Option<By>,
    /// The periods of the views: day, ISO week (Monday start) or month in `--tz`
    #[arg(long, value_enum, default_value_t = Period::Week)]
    pub period: Period,
    #[command(flatten)]
    pub output: FrameOutputArgs,
}

fn parse_param(text: &str) -> Result<(String, String), String> {
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| format!("expected NAME=VALUE, got `{text}`"))?;
    let name = name.trim().trim_start_matches('$');
    if name.is_empty() {
        return Err(format!("expected NAME=VALUE, got `{text}`"));
    }
    Ok((name.to_string(), value.to_string()))
}

#[derive(Debug, Args)]
#[command(after_long_help = "\
Examples:
  dora explain lead-time --repo acme/api --period 2026-W47
  dora explain change-failure-rate --all --format csv --out failures.csv")]
pub struct ExplainArgs {
    /// The figure to explain
    #[arg(value_enum)]
    pub metric: Metric,
    /// Only this repository
    #[arg(long, value_name = "OWNER/NAME")]
    pub repo: Option<String>,
    /// One period in `--tz`: an ISO week (2026-W47), a month (2026-11) or a day (2026-11-23)
    #[arg(long, value_name = "PERIOD", conflicts_with_all = ["since", "until", "all"])]
    pub period: Option<String>,
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Rows to print; 0 for all [default: 20 for table and markdown, all otherwise]
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    #[command(flatten)]
    pub output: FrameOutputArgs,
}

/// The limits of `dora check`: one flag per metric of the catalogue (`--max-lead-time`,
/// `--min-deployments-per-week`, ...), made from its gates, so a new metric brings its flag.
#[derive(Debug, Clone, Default)]
pub struct LimitArgs {
    /// The limits given, in the catalogue's order.
    pub given: Vec<(Metric, String)>,
}

impl clap::FromArgMatches for LimitArgs {
    fn from_arg_matches(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
        let mut args = LimitArgs::default();
        args.update_from_arg_matches(matches)?;
        Ok(args)
    }

    fn update_from_arg_matches(&mut self, matches: &clap::ArgMatches) -> Result<(), clap::Error> {
        for metric in Metric::ALL {
            if let Some(value) = matches.get_one::<String>(arg_id(metric)) {
                self.given.retain(|(m, _)| *m != metric);
                self.given.push((metric, value.clone()));
            }
        }
        Ok(())
    }
}

/// A gate's flag without its dashes: its clap id and long name.
fn arg_id(metric: Metric) -> &'static str {
    metric.spec().gate.flag.trim_start_matches('-')
}

impl Args for LimitArgs {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        Metric::ALL.iter().fold(cmd, |cmd, metric| {
            let gate = metric.spec().gate;
            cmd.arg(
                clap::Arg::new(arg_id(*metric))
                    .long(arg_id(*metric))
                    .value_name(gate.value_name)
                    .help(gate.help),
            )
        })
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn every_gate_of_the_catalogue_is_a_check_flag() {
        let cli =
            Cli::try_parse_from(["dora", "check", "--max-rework-rate", "5%", "--max-lead-time", "2d"]).expect("parses");
        let Command::Check(args) = cli.command else {
            panic!("check")
        };
        assert_eq!(
            args.limits.given,
            [
                (Metric::LeadTime, "2d".to_string()),
                (Metric::ReworkRate, "5%".to_string())
            ]
        );
        for metric in Metric::ALL {
            let flag = metric.spec().gate.flag;
            let cli = Cli::try_parse_from(["dora", "check", flag, "1"]).expect("parses");
            let Command::Check(args) = cli.command else {
                panic!("check")
            };
            assert_eq!(args.limits.given, [(metric, "1".to_string())], "{flag}");
        }
    }

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }
}
