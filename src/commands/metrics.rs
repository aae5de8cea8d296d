//! `dora metrics`: load the tables, compute, render.

use crate::analysis::figures::Inputs;
use crate::analysis::{self, Context, GroupBy, PeriodKind};
use crate::cli::{By, DataArgs, GlobalArgs, MetricsArgs, Period, WindowArgs};
use crate::collect::csv::ReadOptions;
use crate::collect::csv::mapping::Mapping;
use crate::collect::{folder_files, read_files, tables_from_inputs};
use crate::commands::{ExitStatus, write_out};
use crate::output;
use crate::settings;
use crate::store::{self, Store};
use crate::table::Tables;
use crate::table::schema::{deployments as d, incidents as i, pull_requests as pr};

/// The optional columns the metrics read; `--input` parses only these (and the required ones).
pub const METRIC_COLUMNS: &[(&str, &str)] = &[
    ("deployments", d::ENVIRONMENT),
    ("deployments", d::STATUS),
    ("deployments", d::SERVICE),
    ("deployments", d::TEAM),
    ("deployments", d::KIND),
    ("incidents", i::RESOLVED_AT),
    ("incidents", i::DEPLOYMENT_ID),
    ("incidents", i::SERVICE),
    ("pull_requests", pr::FIRST_COMMIT_AT),
    ("pull_requests", pr::FIRST_REVIEW_AT),
    ("pull_requests", pr::MERGED_AT),
    ("pull_requests", pr::MERGE_SHA),
];

/// The canonical tables from `--input DIR` or the store.
pub fn load_tables(
    global: &GlobalArgs,
    data: &DataArgs,
    only: Option<&[(&'static str, &'static str)]>,
) -> anyhow::Result<Tables> {
    match &data.input {
        Some(dir) => {
            let zone = settings::time_zone(&data.tz)?;
            let mapping = data
                .mapping
                .as_deref()
                .map(Mapping::load)
                .transpose()?
                .unwrap_or_default();
            let files = folder_files(dir, &mapping)?;
            let options = ReadOptions {
                zone,
                mapping: &mapping,
                skip_invalid: false,
                only,
                progress: None,
            };
            let inputs = read_files(&files, &options)?;
            Ok(store::with_derived_columns_of(tables_from_inputs(&inputs))?.lazy())
        }
        None => Ok(Store::open(&global.store)?.tables()?),
    }
}

/// The source and fingerprint of the data `load_tables` reads.
pub fn inputs(global: &GlobalArgs, data: &DataArgs) -> anyhow::Result<Inputs> {
    use crate::table::fingerprint::{combine, file_sha256};
    match &data.input {
        Some(dir) => {
            let mapping = data
                .mapping
                .as_deref()
                .map(Mapping::load)
                .transpose()?
                .unwrap_or_default();
            let mut parts = Vec::new();
            for (table, path) in folder_files(dir, &mapping)? {
                parts.push((table.name.to_string(), file_sha256(&path)?));
            }
            // The mapping changes what the files mean, so it is part of the input.
            if let Some(path) = &data.mapping {
                parts.push(("mapping".to_string(), file_sha256(path)?));
            }
            Ok(Inputs {
                source: "csv",
                fingerprint: combine(parts.iter().map(|(n, h)| (n.as_str(), h.as_str()))),
            })
        }
        None => Ok(Inputs {
            source: "store",
            fingerprint: Store::open(&global.store)?.fingerprint()?,
        }),
    }
}

/// Loads the tables and computes the report of `dora metrics`.
fn compute(
    global: &GlobalArgs,
    args: &MetricsArgs,
    zone: chrono_tz::Tz,
) -> anyhow::Result<crate::analysis::figures::Scorecard> {
    let tables = load_tables(global, &args.data, Some(METRIC_COLUMNS))?;
    let window = window(&args.window, zone, &tables)?;
    let context = Context {
        window,
        zone,
        environment: args.environment.clone(),
        group_by: args.by.map(group_by),
        period: args.period.map(period_kind),
    };
    Ok(analysis::compute(&tables, &context)?)
}

/// The figures of `--repo` (the report grouped by repository), or the overall figures without
/// it; an unknown repository is an error that lists those there are.
pub fn figures_of(
    report: &crate::analysis::figures::Scorecard,
    repo: Option<&str>,
) -> anyhow::Result<crate::analysis::figures::Figures> {
    let Some(repo) = repo else {
        return Ok(report.overall.clone());
    };
    report
        .groups
        .iter()
        .find(|g| g.key.as_deref() == Some(repo))
        .map(|g| g.figures.clone())
        .ok_or_else(|| {
            let repos: Vec<&str> = report.groups.iter().filter_map(|g| g.key.as_deref()).collect();
            crate::error::Error::InvalidArgument {
                flag: "--repo",
                value: repo.to_string(),
                expected: format!("a repository with production deployments: {}", repos.join(", ")),
            }
            .into()
        })
}

/// The window of `--since`/`--until`/`--all`/`--as-of`.
pub fn window(w: &WindowArgs, zone: chrono_tz::Tz, tables: &Tables) -> anyhow::Result<analysis::Window> {
    Ok(settings::window(
        w.since.as_deref(),
        w.until.as_deref(),
        w.all,
        w.as_of.as_deref(),
        zone,
        || analysis::data_span(tables),
    )?)
}

pub fn group_by(by: By) -> GroupBy {
    match by {
        By::Repo => GroupBy::Repo,
        By::Service => GroupBy::Service,
        By::Team => GroupBy::Team,
    }
}

pub fn period_kind(period: Period) -> PeriodKind {
    match period {
        Period::Day => PeriodKind::Day,
        Period::Week => PeriodKind::Week,
        Period::Month => PeriodKind::Month,
    }
}

pub fn run(global: &GlobalArgs, args: &MetricsArgs) -> anyhow::Result<ExitStatus> {
    let zone = settings::time_zone(&args.data.tz)?;
    // The artifact's fingerprint hashes the input files: done on another thread while they are
    // read and the metrics computed, so it costs (almost) no time.
    let (report, inputs) = std::thread::scope(|scope| {
        let fingerprint = (args.format == output::Format::Json).then(|| scope.spawn(|| inputs(global, &args.data)));
        let report = compute(global, args, zone);
        let inputs = fingerprint.map(|handle| {
            handle
                .join()
                .unwrap_or_else(|_| Err(anyhow::anyhow!("fingerprinting failed")))
        });
        (report, inputs)
    });
    let mut report = report?;
    report.inputs = inputs.transpose()?;
    if args.step_summary.github_step_summary {
        let mut markdown = Vec::new();
        output::render(&report, output::Format::Markdown, &mut markdown)?;
        crate::commands::append_step_summary(&args.step_summary, &String::from_utf8_lossy(&markdown))?;
    }
    write_out(args.out.as_deref(), |out| output::render(&report, args.format, out))?;
    Ok(ExitStatus::Success)
}
