//! Everything the periodic delivery report shows: one period's figures, the period before, the
//! trend over the periods before that, the figures per group, and the rows a manager wants to
//! see (failed deployments, incidents, lead times).
//!
//! Every figure comes from [`super::compute`] over the matching window, so the report says
//! exactly what `dora metrics` says for the same window.

use chrono::NaiveDate;
use chrono_tz::Tz;
use polars::prelude::*;

use super::window::{PeriodKind, Window};
use super::{Context, GroupBy, views};
use crate::analysis::figures::{Figures, Group, PeriodFigures};
use crate::error::{PolarsContext, Result};
use crate::table::Tables;
use crate::table::schema::incidents as i;
use crate::timestamp::{self, Micros};

/// Which period the report covers: a calendar period (ISO week, month, day) in the report's time
/// zone, or any range of local days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportPeriod {
    /// The calendar period, or for a range of days the granularity of the trend (weeks).
    pub kind: PeriodKind,
    /// First local day.
    pub start: NaiveDate,
    /// First local day after the period.
    pub end: NaiveDate,
    /// A calendar period (`true`) or a range of days.
    pub calendar: bool,
}

impl ReportPeriod {
    pub fn calendar(kind: PeriodKind, start: NaiveDate) -> Self {
        ReportPeriod {
            kind,
            start,
            end: kind.next(start),
            calendar: true,
        }
    }

    /// The local days `[start, end)`, with a weekly trend.
    pub fn days(start: NaiveDate, end: NaiveDate) -> Self {
        ReportPeriod {
            kind: PeriodKind::Week,
            start,
            end: end.max(start + chrono::Days::new(1)),
            calendar: false,
        }
    }

    /// The last complete period (ISO week or month) before `now` in `zone`.
    pub fn last_complete(kind: PeriodKind, now: Micros, zone: Tz) -> Self {
        let this = kind.start_of(timestamp::local_date(now, zone));
        Self::calendar(kind, this).earlier(1)
    }

    /// `n` periods earlier (`n` = 1: the period before); a range of days moves by its length.
    #[must_use]
    pub fn earlier(self, n: u32) -> Self {
        if !self.calendar {
            let days = u64::try_from((self.end - self.start).num_days()).unwrap_or(1) * u64::from(n);
            return ReportPeriod {
                start: self.start - chrono::Days::new(days),
                end: self.end - chrono::Days::new(days),
                ..self
            };
        }
        let start = match self.kind {
            PeriodKind::Day => self.start - chrono::Days::new(u64::from(n)),
            PeriodKind::Week => self.start - chrono::Days::new(7 * u64::from(n)),
            PeriodKind::Month => self.start - chrono::Months::new(n),
        };
        Self::calendar(self.kind, start)
    }

    pub fn window(self, zone: Tz) -> Window {
        Window {
            since: timestamp::local_midnight(self.start, zone),
            until: timestamp::local_midnight(self.end, zone),
        }
    }

    /// `2026-W47`, `2026-11`, `2026-11-23`, or `2026-11-01 to 2026-11-14`.
    pub fn label(self) -> String {
        if !self.calendar {
            let last = self.end - chrono::Days::new(1);
            return format!("{} to {}", self.start.format("%Y-%m-%d"), last.format("%Y-%m-%d"));
        }
        match self.kind {
            PeriodKind::Week => {
                let w = chrono::Datelike::iso_week(&self.start);
                format!("{}-W{:02}", w.year(), w.week())
            }
            PeriodKind::Month => self.start.format("%Y-%m").to_string(),
            PeriodKind::Day => self.start.format("%Y-%m-%d").to_string(),
        }
    }

    /// The start of the trend: `trend` periods (weeks, for a range of days) before this one.
    fn trend_start(self, trend: u32) -> NaiveDate {
        if self.calendar {
            self.earlier(trend).start
        } else {
            self.kind.start_of(self.start) - chrono::Days::new(7 * u64::from(trend))
        }
    }
}

/// The report's data.
#[derive(Debug, Clone)]
pub struct Digest {
    pub period: ReportPeriod,
    pub zone: Tz,
    pub environment: String,
    pub lead_time_source: &'static str,
    pub current: Figures,
    pub previous: Figures,
    /// The trend periods, oldest first, ending with the report's period.
    pub trend: Vec<PeriodFigures>,
    pub group_by: Option<GroupBy>,
    /// Per group: this period's figures and the period before's.
    pub groups: Vec<(Group, Figures)>,
    /// The period's failed production deployments (see `views::production_deployments`).
    pub failed_deployments: DataFrame,
    /// The period's incidents with title, attribution and restore time.
    pub incidents: DataFrame,
    /// Lead times (hours) of the period's counted changes, for the distribution.
    pub lead_times: Vec<f64>,
    /// The lead time breakdown of the period's merged pull requests, with pull request data.
    pub pull_requests: Option<crate::analysis::figures::Breakdown>,
    /// Lines per commit over the period's commits with line counts.
    pub lines_per_commit: Option<crate::analysis::figures::LinesPerChange>,
    /// With issue data: the bugs delivered in the period, slowest first, and the bugs open at
    /// its end, oldest first (the first [`LISTED_BUGS`] of each).
    pub bugs: Option<(DataFrame, DataFrame)>,
    /// The Quick Check means the period's scores are compared with.
    pub benchmark: super::quick_check::Benchmark,
    /// The scale the headline rates the figures on.
    pub level_scale: super::levels::LevelScale,
    /// The period's cost of instability, when a downtime cost per hour is given.
    pub instability_cost: Option<super::cost::InstabilityCost>,
}

/// How many delivered and open bugs the report lists.
pub const LISTED_BUGS: u32 = 10;

/// Builds the digest of `period`, with `trend` periods before it.
pub fn digest(
    tables: &Tables,
    period: ReportPeriod,
    trend: u32,
    zone: Tz,
    environment: &str,
    group_by: Option<GroupBy>,
) -> Result<Digest> {
    let context = |window: Window, kind: Option<PeriodKind>, group_by: Option<GroupBy>| Context {
        window,
        zone,
        environment: environment.to_string(),
        group_by,
        period: kind,
    };
    let current_window = period.window(zone);
    let previous_window = period.earlier(1).window(zone);
    let trend_window = Window {
        since: timestamp::local_midnight(period.trend_start(trend), zone),
        until: current_window.until,
    };

    let trend_report = super::compute(tables, &context(trend_window, Some(period.kind), None))?;
    let current = super::compute(tables, &context(current_window, None, group_by))?;
    let previous = super::compute(tables, &context(previous_window, None, group_by))?;
    let groups = current
        .groups
        .iter()
        .map(|g| {
            let before = previous
                .groups
                .iter()
                .find(|p| p.key == g.key)
                .map(|p| p.figures.clone())
                .unwrap_or_default();
            (g.clone(), before)
        })
        .collect();

    let facts = super::facts(tables, &context(current_window, None, None))?;
    let failed_deployments = views::production_deployments(&facts, zone)?
        .filter(col(super::change_failure::FAILED))
        .select([
            col("id"),
            col("repo"),
            col("deployed_at"),
            col("failure_reason"),
            col("incident_ids"),
            col(super::change_failure::RECOVERY_HOURS),
            col(super::change_failure::RECOVERY_OPEN),
            col("url"),
        ])
        .sort(["deployed_at", "id"], SortMultipleOptions::default())
        .collect()
        .context(|| "failed to list the failed deployments".into())?;
    let titles = tables
        .incidents
        .clone()
        .select([col(i::ID).alias("incident"), col(i::TITLE), col(i::SEVERITY)]);
    let incidents = views::incident_attribution(&facts, zone)?
        .join(titles, [col(i::ID)], [col("incident")], JoinArgs::new(JoinType::Left))
        .select([
            col(i::ID),
            col(i::REPO),
            col(i::TITLE),
            col(i::SEVERITY),
            col(i::CREATED_AT),
            col(i::RESOLVED_AT),
            col(super::time_to_restore::HOURS),
            col("open"),
            col("deployment_id"),
            col("rule"),
            col(i::URL),
        ])
        .sort([i::CREATED_AT, i::ID], SortMultipleOptions::default())
        .collect()
        .context(|| "failed to list the incidents".into())?;
    let lead = views::changes(&facts)?
        .filter(col("counted"))
        .select([col(super::lead_time::HOURS)])
        .collect()
        .context(|| "failed to list the lead times".into())?;
    let lead_times = lead
        .column(super::lead_time::HOURS)
        .and_then(|c| c.f64().cloned())
        .map(|c| c.into_no_null_iter().collect())
        .unwrap_or_default();

    let bugs = if facts.with_issues {
        let is_bug = || col(crate::table::schema::issues::KIND).eq(lit(crate::table::schema::issue_kind::BUG));
        let slowest = views::issue_deliveries(&facts, zone)?
            .filter(is_bug().and(col("counted")))
            .select([
                col("id"),
                col("repo"),
                col("title"),
                col("created_at"),
                col("delivered_at"),
                col(super::issues::LEAD_HOURS),
                col("deployment_id"),
                col("url"),
            ])
            .sort_by_exprs(
                [col(super::issues::LEAD_HOURS), col("id")],
                SortMultipleOptions::default().with_order_descending_multi([true, false]),
            )
            .limit(LISTED_BUGS)
            .collect()
            .context(|| "failed to list the delivered bugs".into())?;
        let oldest = views::open_issues(&facts)
            .filter(is_bug())
            .select([
                col("id"),
                col("repo"),
                col("title"),
                col("created_at"),
                col("age_hours"),
                col("linked"),
                col("url"),
            ])
            .sort_by_exprs(
                [col("age_hours"), col("id")],
                SortMultipleOptions::default().with_order_descending_multi([true, false]),
            )
            .limit(LISTED_BUGS)
            .collect()
            .context(|| "failed to list the open bugs".into())?;
        Some((slowest, oldest))
    } else {
        None
    };

    Ok(Digest {
        period,
        bugs,
        zone,
        environment: environment.to_string(),
        lead_time_source: current.lead_time_source,
        pull_requests: current.pull_requests.clone(),
        lines_per_commit: current.lines_per_commit.clone(),
        current: current.overall,
        previous: previous.overall,
        trend: trend_report.periods,
        group_by,
        groups,
        failed_deployments,
        incidents,
        lead_times,
        benchmark: super::quick_check::Benchmark::default(),
        level_scale: super::levels::LevelScale::default(),
        instability_cost: None,
    })
}
