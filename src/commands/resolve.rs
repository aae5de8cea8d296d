//! The flags every analysis command shares, resolved once: the time zone, the tables (from
//! `--input DIR` or the store), the window and the analysis [`Context`]. `badge`, `check`,
//! `explain`, `metrics`, `query` and `report` all start here.

use chrono_tz::Tz;

use crate::analysis::figures::{Figures, Inputs, Scorecard};
use crate::analysis::levels::LevelScale;
use crate::analysis::quick_check::{Benchmark, Population};
use crate::analysis::{self, Context, GroupBy, PeriodKind, Window};
use crate::cli::{By, DataArgs, GlobalArgs, Period, ScopeArgs, StandingArgs, WindowArgs};
use crate::collect::csv::ReadOptions;
use crate::collect::csv::mapping::Mapping;
use crate::collect::{folder_files, read_files, tables_from_inputs};
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
    ("deployments", d::STARTED_AT),
    ("deployments", d::EXPOSURE),
    ("incidents", i::RESOLVED_AT),
    ("incidents", i::DEPLOYMENT_ID),
    ("incidents", i::SERVICE),
    ("pull_requests", pr::FIRST_COMMIT_AT),
    ("pull_requests", pr::FIRST_REVIEW_AT),
    ("pull_requests", pr::MERGED_AT),
    ("pull_requests", pr::MERGE_SHA),
    ("pull_requests", pr::ADDITIONS),
    ("pull_requests", pr::DELETIONS),
    ("pull_requests", pr::AI_ASSISTED),
    ("issues", crate::table::schema::issues::CLOSED_AT),
    ("issues", crate::table::schema::issues::KIND),
    ("issues", crate::table::schema::issues::STATE_REASON),
];

/// An analysis command's scope, resolved: its time zone and tables, ready to build contexts.
pub struct Scope<'a> {
    pub zone: Tz,
    pub tables: Tables,
    /// The store the tables are read from (none with `--input`): it pins their snapshot.
    store: Option<Store>,
    args: &'a ScopeArgs,
}

impl<'a> Scope<'a> {
    /// Resolves the time zone and loads the tables; `only`: the optional columns to read from
    /// `--input` (all without it).
    pub fn load(
        global: &GlobalArgs,
        args: &'a ScopeArgs,
        only: Option<&[(&'static str, &'static str)]>,
    ) -> anyhow::Result<Self> {
        let zone = settings::time_zone(&args.data.tz)?;
        let (tables, store) = if let Some(dir) = &args.data.input {
            (read_folder(dir, &args.data, zone, only)?, None)
        } else {
            let store = Store::open(&global.store)?;
            (store.tables()?, Some(store))
        };
        Ok(Scope {
            zone,
            tables,
            store,
            args,
        })
    }

    /// The source and fingerprint of the store's snapshot the tables are read from; `None`
    /// with `--input` (see [`inputs`]).
    pub fn store_inputs(&self) -> anyhow::Result<Option<Inputs>> {
        Ok(match &self.store {
            Some(store) => Some(Inputs {
                source: "store",
                fingerprint: store.fingerprint()?,
            }),
            None => None,
        })
    }

    /// The window of `--since`/`--until`/`--all`/`--as-of`.
    pub fn window(&self) -> anyhow::Result<Window> {
        self.window_of(&self.args.window)
    }

    /// The window of other window flags than the scope's own (`dora query` takes `--param
    /// since=...` as `--since`).
    pub fn window_of(&self, w: &WindowArgs) -> anyhow::Result<Window> {
        Ok(settings::window(
            w.since.as_deref(),
            w.until.as_deref(),
            w.all,
            w.as_of.as_deref(),
            self.zone,
            || analysis::data_span(&self.tables),
        )?)
    }

    /// The analysis context over `window`, grouped and cut into periods as asked.
    pub fn context(&self, window: Window, by: Option<GroupBy>, period: Option<Period>) -> Context {
        Context {
            window,
            zone: self.zone,
            environment: self.args.environment.clone(),
            group_by: by,
            period: period.map(period_kind),
        }
    }

    pub fn environment(&self) -> &str {
        &self.args.environment
    }
}

/// The canonical tables of the CSV folder of `--input DIR`.
fn read_folder(
    dir: &std::path::Path,
    data: &DataArgs,
    zone: Tz,
    only: Option<&[(&'static str, &'static str)]>,
) -> anyhow::Result<Tables> {
    let mapping = mapping(data)?;
    let files = folder_files(dir, &mapping)?;
    // Commit messages link commits to issues (closing keywords, tracker keys) and, with the
    // author, say which commits are AI-assisted where the file gives no flag; a pull
    // request's labels, which pull requests are.
    let mut wanted = only.map(<[_]>::to_vec);
    if let Some(columns) = &mut wanted {
        use crate::table::schema::commits as c;
        columns.extend([
            ("commits", c::MESSAGE),
            ("commits", c::AUTHOR),
            ("commits", c::AI_ASSISTED),
            ("pull_requests", pr::LABELS),
        ]);
    }
    let options = ReadOptions {
        zone,
        mapping: &mapping,
        skip_invalid: false,
        only: wanted.as_deref(),
        progress: None,
    };
    let inputs = read_files(&files, &options, &assistant_rules(None)?)?;
    Ok(store::with_derived_columns_of(tables_from_inputs(&inputs))?.lazy())
}

/// How AI-assisted commits are recognised: the known assistants and the `[ai]` section of the
/// settings file (`config`, else dora.toml in the working folder when there is one).
pub fn assistant_rules(config: Option<&std::path::Path>) -> anyhow::Result<crate::collect::assistants::Rules> {
    let (file, _) = crate::config::load(config)?;
    Ok(crate::collect::assistants::Rules::new(
        file.ai.co_authors,
        file.ai.labels,
    ))
}

fn mapping(data: &DataArgs) -> anyhow::Result<Mapping> {
    Ok(data
        .mapping
        .as_deref()
        .map(Mapping::load)
        .transpose()?
        .unwrap_or_default())
}

/// The source and fingerprint of the CSV folder `dir` of `--input` (hashing the files takes a
/// while: `metrics` does it on another thread while they are read). A store's is
/// [`Scope::store_inputs`], of the snapshot the tables are read from.
pub fn csv_inputs(dir: &std::path::Path, data: &DataArgs) -> anyhow::Result<Inputs> {
    use crate::table::fingerprint::{combine, file_sha256};
    let mut parts = Vec::new();
    for (table, path) in folder_files(dir, &mapping(data)?)? {
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

/// The figures of `--repo` (the report grouped by repository), or the overall figures without
/// it; an unknown repository is an error that lists those there are.
pub fn figures_of(report: &Scorecard, repo: Option<&str>) -> anyhow::Result<Figures> {
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

/// How a command rates the figures and what it compares them with: `--levels`, `--industry` or
/// `--org-size`, and the downtime cost; a flag wins over the `[metrics]` section of dora.toml.
#[derive(Debug, Clone, Copy)]
pub struct Standing {
    pub scale: LevelScale,
    pub benchmark: Benchmark,
    pub downtime_cost_per_hour: Option<f64>,
}

impl Standing {
    pub fn resolve(args: &StandingArgs, downtime_cost_per_hour: Option<f64>) -> anyhow::Result<Self> {
        let (file, path) = crate::config::load(args.config.as_deref())?;
        let m = file.metrics;
        let bad = |message: String| crate::error::Error::Config {
            path: path.clone().unwrap_or_default(),
            message,
        };
        let scale = match (args.levels, m.levels.as_deref()) {
            (Some(scale), _) => scale,
            (None, Some(value)) => <LevelScale as clap::ValueEnum>::from_str(value, true)
                .map_err(|_| bad(format!("[metrics] levels = {value:?}: expected \"2023\" or \"2025\"")))?,
            (None, None) => LevelScale::default(),
        };
        let flags = (args.industry.as_deref(), args.org_size.as_deref());
        let row = match flags {
            (None, None) => (m.industry.as_deref(), m.org_size.as_deref()),
            given => given,
        };
        let benchmark = match row {
            (Some(_), Some(_)) => {
                return Err(bad(
                    "[metrics] sets both industry and org_size: the benchmark is one row of one file".into(),
                )
                .into());
            }
            (Some(industry), None) => Benchmark::find(Population::Industry, industry)?,
            (None, Some(size)) => Benchmark::find(Population::OrganizationSize, size)?,
            (None, None) => Benchmark::default(),
        };
        let cost = downtime_cost_per_hour.or(m.downtime_cost_per_hour);
        if let Some(c) = cost.filter(|c| !c.is_finite() || *c < 0.0) {
            return Err(bad(format!(
                "[metrics] downtime_cost_per_hour = {c}: expected a number of at least 0"
            ))
            .into());
        }
        Ok(Standing {
            scale,
            benchmark,
            downtime_cost_per_hour: cost,
        })
    }

    /// Sets the report's scale and benchmark, and its cost of instability (over the whole
    /// window) when a downtime cost is given.
    pub fn apply(&self, report: &mut Scorecard) {
        report.level_scale = self.scale;
        report.benchmark = self.benchmark;
        report.instability_cost = self.cost_of(&report.overall);
    }

    /// The same for the delivery report's digest (its period's figures).
    pub fn apply_to_digest(&self, digest: &mut analysis::report_period::Digest) {
        digest.level_scale = self.scale;
        digest.benchmark = self.benchmark;
        digest.instability_cost = self.cost_of(&digest.current);
    }

    fn cost_of(&self, f: &Figures) -> Option<analysis::cost::InstabilityCost> {
        self.downtime_cost_per_hour
            .map(|per_hour| analysis::cost::of(f, per_hour))
    }
}
