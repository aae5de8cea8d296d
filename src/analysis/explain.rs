//! The rows behind each figure, in the order that matters for it.
//!
//! The rows are the facts `compute` aggregates (through [`super::views`]), so counting or taking
//! the median of them gives back the figure `dora metrics` prints for the same selection.

use chrono_tz::Tz;
use polars::prelude::*;

use super::catalogue::Cell;
pub use super::catalogue::Metric;
use super::views;
use super::{Facts, change_failure, issues, lead_time, rework, time_to_restore};
use crate::analysis::figures::Figures;
use crate::error::{PolarsContext, Result};
use crate::table::schema::{deployments as d, incidents as i};

impl Metric {
    /// The figure as JSON: the numbers `dora metrics` reports for it.
    pub fn figure_json(self, f: &Figures) -> serde_json::Value {
        let spec = self.spec();
        match spec.section {
            // The feedback loop's figures are per kind of issue: all of them.
            super::catalogue::Section::FeedbackLoop => return super::catalogue::issues_json(f),
            super::catalogue::Section::ProgressiveDelivery => return super::catalogue::rollouts_json(f),
            super::catalogue::Section::Dora => {}
        }
        let mut figure = serde_json::Map::new();
        for field in spec.fields.iter().chain(spec.explain_also) {
            let value = match (field.read)(f) {
                Cell::Count(n) => serde_json::Value::from(n),
                Cell::Number(x) => serde_json::Value::from(x),
            };
            figure.insert(field.explain.into(), value);
        }
        if spec.level_key.is_some() {
            figure.insert("level".into(), (spec.level)(f).map(super::levels::Level::as_str).into());
        }
        figure.into()
    }
}

/// The rows behind `metric`, for one repository or all, in the order that matters for it, and
/// how many there are in all; `limit`: only the first so many.
pub fn rows(
    metric: Metric,
    facts: &Facts,
    zone: Tz,
    repo: Option<&str>,
    limit: Option<usize>,
) -> Result<(DataFrame, usize)> {
    let descending = |flags: &[bool]| SortMultipleOptions::default().with_order_descending_multi(flags.to_vec());
    let (frame, keys, order): (LazyFrame, &[&str], SortMultipleOptions) = match metric {
        Metric::LeadTime => (
            views::changes(facts)?.drop(cols(["period_start"])),
            &["counted", lead_time::HOURS, "deployment_id", "sha"],
            descending(&[true, true, false, false]).with_nulls_last(true),
        ),
        Metric::TimeToRestore => (
            views::incident_attribution(facts, zone)?.select([
                col(i::ID),
                col(i::REPO),
                col(i::CREATED_AT),
                col(i::RESOLVED_AT),
                col(time_to_restore::HOURS),
                col("open"),
                col("deployment_id"),
                col("rule"),
            ]),
            &["open", time_to_restore::HOURS, i::ID],
            descending(&[false, true, false]).with_nulls_last(true),
        ),
        Metric::DeploymentFrequency => (
            views::production_deployments(facts, zone)?.select([
                col(d::ID),
                col(d::REPO),
                col(d::DEPLOYED_AT),
                col("deployed_local"),
                col(d::STATUS),
                col(d::KIND),
            ]),
            &[d::DEPLOYED_AT, d::ID],
            SortMultipleOptions::default(),
        ),
        Metric::ChangeFailureRate => (
            views::production_deployments(facts, zone)?.select([
                col(d::ID),
                col(d::REPO),
                col(d::DEPLOYED_AT),
                col(d::STATUS),
                col(change_failure::FAILED),
                col("failure_reason"),
                col("incidents"),
                col("incident_ids"),
            ]),
            &[change_failure::FAILED, "incidents", d::DEPLOYED_AT, d::ID],
            descending(&[true, true, false, false]),
        ),
        Metric::RecoveryTime => (
            views::production_deployments(facts, zone)?
                .filter(col(change_failure::FAILED))
                .select([
                    col(d::ID),
                    col(d::REPO),
                    col(d::DEPLOYED_AT),
                    col("failure_reason"),
                    col("recovered_at"),
                    col(change_failure::RECOVERY_HOURS),
                    col(change_failure::RECOVERY_OPEN),
                ]),
            &[change_failure::RECOVERY_OPEN, change_failure::RECOVERY_HOURS, d::ID],
            descending(&[false, true, false]).with_nulls_last(true),
        ),
        Metric::IssueLeadTime => (
            views::issue_deliveries(facts, zone)?.drop(cols(["delivered_local", "period_start"])),
            &["counted", issues::LEAD_HOURS, i::ID],
            descending(&[true, true, false]).with_nulls_last(true),
        ),
        Metric::OpenBugs => (
            views::open_issues(facts),
            &["age_hours", i::ID],
            descending(&[true, false]),
        ),
        Metric::CatchRate => (
            views::rollouts(facts, zone)?
                .filter(col(change_failure::FAILED))
                .drop(cols(["period_start"])),
            &["caught", d::DEPLOYED_AT, d::ID],
            descending(&[true, false, false]),
        ),
        Metric::RolloutTime => (
            views::rollouts(facts, zone)?
                .filter(col(d::STATUS).neq(lit(crate::table::schema::status::ABORTED)))
                .drop(cols(["period_start"])),
            &[views::ROLLOUT_HOURS, d::ID],
            descending(&[true, false]).with_nulls_last(true),
        ),
        Metric::ReworkRate => (
            views::production_deployments(facts, zone)?.select([
                col(d::ID),
                col(d::REPO),
                col(d::DEPLOYED_AT),
                col(d::KIND),
                col(rework::REWORK),
                col("rework_reason"),
            ]),
            &[rework::REWORK, d::DEPLOYED_AT, d::ID],
            descending(&[true, false, false]),
        ),
    };
    let frame = match repo {
        Some(r) => frame.filter(col(d::REPO).eq(lit(r.to_string()))),
        None => frame,
    };
    let ctx = || format!("failed to list the rows behind {}", metric.as_str());
    let all = frame.collect().context(ctx)?;
    let total = all.height();
    let candidates = match (metric, limit) {
        (Metric::LeadTime, Some(n)) if n < total => longest_lead_times(all, n).context(ctx)?,
        _ => all,
    };
    let sorted = candidates.lazy().sort(keys.iter().copied(), order);
    let first = match limit {
        Some(n) => sorted.limit(n as IdxSize),
        None => sorted,
    };
    Ok((first.collect().context(ctx)?, total))
}

/// The rows with the `n` longest lead times, ties at the last one included: the first `n` rows
/// of lead time's order are among them (it is by lead time, longest first, then by deployment
/// and sha: counted rows, at or above zero hours, come first anyway). Sorting 10M deployed
/// commits by four columns, two of them text, to show 20 took most of `dora explain
/// lead-time` (perf); the n-th longest is found by selection instead. All rows when a lead time
/// is missing.
fn longest_lead_times(rows: DataFrame, n: usize) -> PolarsResult<DataFrame> {
    let hours = rows.column(lead_time::HOURS)?.f64()?;
    if n == 0 || hours.null_count() > 0 {
        return Ok(rows);
    }
    let mut values: Vec<f64> = hours.into_no_null_iter().collect();
    let (_, nth, _) = values.select_nth_unstable_by(n - 1, |a, b| b.total_cmp(a));
    let nth = *nth;
    let keep = hours
        .into_no_null_iter()
        .map(|h| h.total_cmp(&nth).is_ge())
        .collect::<BooleanChunked>();
    rows.filter(&keep)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_lead_times_keep_ties_and_negatives_when_needed() {
        let rows = df!(lead_time::HOURS => [5.0, 3.0, -1.0, 3.0, 7.0, 3.0, -2.0]).expect("frame");
        let kept = |n: usize| -> Vec<f64> {
            let mut hours: Vec<f64> = longest_lead_times(rows.clone(), n)
                .expect("filter")
                .column(lead_time::HOURS)
                .expect("hours")
                .f64()
                .expect("f64")
                .into_no_null_iter()
                .collect();
            hours.sort_by(|a, b| b.total_cmp(a));
            hours
        };
        assert_eq!(kept(1), [7.0]);
        assert_eq!(kept(2), [7.0, 5.0]);
        // The third longest ties with two more: all three are kept.
        assert_eq!(kept(3), [7.0, 5.0, 3.0, 3.0, 3.0]);
        assert_eq!(kept(6), [7.0, 5.0, 3.0, 3.0, 3.0, -1.0]);
        assert_eq!(kept(7).len(), 7);
        let with_null = df!(lead_time::HOURS => [Some(1.0), None]).expect("frame");
        assert_eq!(longest_lead_times(with_null, 1).expect("filter").height(), 2);
    }
}
