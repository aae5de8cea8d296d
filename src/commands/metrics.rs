//! `dora metrics`: load the tables, compute, render.

use std::io::Write as _;

use crate::analysis::{self, Context, GroupBy, PeriodKind};
use crate::cli::{By, DataArgs, GlobalArgs, MetricsArgs, Period, WindowArgs};
use crate::collect::csv::ReadOptions;
use crate::collect::mapping::Mapping;
use crate::collect::{Tables, folder_files, read_files, tables_from_inputs};
use crate::commands::{ExitStatus, write_atomically};
use crate::output;
use crate::schema::{deployments as d, incidents as i};
use crate::settings;
use crate::store::Store;

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
            };
            let inputs = read_files(&files, &options)?;
            Ok(tables_from_inputs(&inputs).lazy())
        }
        None => Ok(Store::open(&global.store)?.tables()?),
    }
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
    let tables = load_tables(global, &args.data, Some(METRIC_COLUMNS))?;
    let window = window(&args.window, zone, &tables)?;
    let context = Context {
        window,
        zone,
        environment: args.environment.clone(),
        group_by: args.by.map(group_by),
        period: args.period.map(period_kind),
    };
    let report = analysis::compute(&tables, &context)?;
    if let Some(path) = &args.out {
        write_atomically(path, |out| output::render(&report, args.format, out))?;
    } else {
        let mut stdout = std::io::stdout().lock();
        output::render(&report, args.format, &mut stdout)?;
        stdout.flush()?;
    }
    Ok(ExitStatus::Success)
}
