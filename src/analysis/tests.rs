//! Unit tests of `compute` and `data_span` on a scenario small enough to compute by hand.

use super::*;
use crate::table::schema::{self, commits as c};
use crate::table::{empty_frame, frame_from};

fn at(text: &str) -> Micros {
    crate::timestamp::parse(text, chrono_tz::UTC).expect("a timestamp")
}

fn texts(name: &str, values: &[&str]) -> Column {
    Column::new(name.into(), values)
}

fn times(name: &str, values: &[Option<&str>]) -> Column {
    Column::new(name.into(), values.iter().map(|v| v.map(at)).collect::<Vec<_>>())
}

/// Two repositories over two ISO weeks, small enough to compute by hand:
/// - `a/x`: d1 (Mon 10:00) ships c1 (08:00, 2 h); d2 (Tue 10:00) ships c2 (Mon 12:00, 22 h)
///   and is the cause of incident i1 (Tue 12:00 to 15:00: restored in 3 h);
/// - `b/y`: d3 (the next Tuesday 10:00) ships c3 (09:00, 1 h);
/// - a staging deployment; an open incident of `c/z`, which has no deployment to attribute
///   it to.
fn scenario() -> Tables {
    let deployments = frame_from(
        &schema::DEPLOYMENTS,
        4,
        &[
            texts(d::ID, &["d1", "d2", "d3", "s1"]),
            texts(d::REPO, &["a/x", "a/x", "b/y", "a/x"]),
            texts(d::ENVIRONMENT, &["production", "production", "production", "staging"]),
            texts(d::STATUS, &["success"; 4]),
            times(
                d::DEPLOYED_AT,
                &[
                    Some("2026-03-02T10:00:00Z"),
                    Some("2026-03-03T10:00:00Z"),
                    Some("2026-03-10T10:00:00Z"),
                    Some("2026-03-02T11:00:00Z"),
                ],
            ),
        ],
    )
    .expect("deployments");
    let commits = frame_from(
        &schema::COMMITS,
        3,
        &[
            texts(c::REPO, &["a/x", "a/x", "b/y"]),
            texts(c::SHA, &["c1", "c2", "c3"]),
            times(
                c::COMMITTED_AT,
                &[
                    Some("2026-03-02T08:00:00Z"),
                    Some("2026-03-02T12:00:00Z"),
                    Some("2026-03-10T09:00:00Z"),
                ],
            ),
        ],
    )
    .expect("commits");
    let incidents = frame_from(
        &schema::INCIDENTS,
        2,
        &[
            texts(i::ID, &["i1", "i2"]),
            texts(i::REPO, &["a/x", "c/z"]),
            times(
                i::CREATED_AT,
                &[Some("2026-03-03T12:00:00Z"), Some("2026-03-11T12:00:00Z")],
            ),
            times(i::RESOLVED_AT, &[Some("2026-03-03T15:00:00Z"), None]),
            Column::new(i::DEPLOYMENT_ID.into(), [Some("d2"), None]),
        ],
    )
    .expect("incidents");
    Tables {
        deployments,
        commits,
        deployment_commits: empty_frame(&schema::DEPLOYMENT_COMMITS),
        incidents,
        pull_requests: empty_frame(&schema::PULL_REQUESTS),
        issues: empty_frame(&schema::ISSUES),
        issue_commits: empty_frame(&schema::ISSUE_COMMITS),
    }
    .lazy()
}

fn context(group_by: Option<GroupBy>, period: Option<PeriodKind>) -> Context {
    Context {
        window: Window {
            since: at("2026-03-02T00:00:00Z"),
            until: at("2026-03-16T00:00:00Z"),
        },
        zone: chrono_tz::UTC,
        environment: "production".into(),
        group_by,
        period,
    }
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

#[test]
fn the_overall_figures_are_the_hand_computed_ones() {
    let report = compute(&scenario(), &context(None, None)).expect("figures");
    let f = &report.overall;
    assert_eq!((f.deployments, f.failed_deployments), (3, 1));
    assert!(close(f.change_failure_rate, 1.0 / 3.0));
    assert_eq!(f.lead_time_hours.count, 3);
    assert!(close(f.lead_time_hours.median, 2.0), "{:?}", f.lead_time_hours);
    // Time to restore counts every incident of the window, attributed or not: i2 is open.
    assert_eq!((f.time_to_restore_hours.count, f.time_to_restore_hours.open), (1, 1));
    assert!(close(f.time_to_restore_hours.median, 3.0));
    assert_eq!(f.unattributed_incidents, 1);
    // 3 deployments over 14 days, on 3 days.
    assert!(close(f.deployment_frequency.per_week, 1.5));
    assert_eq!(f.deployment_frequency.days_with_deployments, 3);
    assert!(report.groups.is_empty() && report.periods.is_empty());
}

#[test]
fn groups_and_periods_split_the_same_events() {
    let report = compute(&scenario(), &context(Some(GroupBy::Repo), Some(PeriodKind::Week))).expect("figures");
    let group = |key: &str| {
        report
            .groups
            .iter()
            .find(|g| g.key.as_deref() == Some(key))
            .expect("a group")
    };
    let (ax, by) = (group("a/x"), group("b/y"));
    assert_eq!((ax.figures.deployments, ax.figures.failed_deployments), (2, 1));
    assert_eq!((by.figures.deployments, by.figures.failed_deployments), (1, 0));
    assert!(close(by.figures.lead_time_hours.median, 1.0));
    // Two ISO weeks; each group has both, empty or not.
    let weekly: Vec<u64> = report.periods.iter().map(|p| p.figures.deployments).collect();
    assert_eq!(weekly, [2, 1]);
    let ax_weekly: Vec<u64> = ax.periods.iter().map(|p| p.figures.deployments).collect();
    assert_eq!(ax_weekly, [2, 0]);
    assert_eq!(report.periods[0].start.to_string(), "2026-03-02");
}

#[test]
fn another_environment_and_an_empty_window_have_no_figures() {
    let mut staging = context(None, None);
    staging.environment = "STAGING".into();
    let f = compute(&scenario(), &staging).expect("figures").overall;
    assert_eq!((f.deployments, f.lead_time_hours.count), (1, 1));
    let mut empty = context(None, None);
    empty.window.until = empty.window.since;
    let f = compute(&scenario(), &empty).expect("figures").overall;
    assert_eq!(f.deployments, 0);
    assert_eq!((f.change_failure_rate, f.lead_time_hours.median), (None, None));
}

#[test]
fn the_span_covers_deployments_and_incidents() {
    let span = data_span(&scenario()).expect("span");
    assert_eq!(span, Some((at("2026-03-02T10:00:00Z"), at("2026-03-11T12:00:00Z"))));
    let none = Tables::try_from_fn(|t| Ok::<_, crate::error::Error>(empty_frame(t)))
        .expect("tables")
        .lazy();
    assert_eq!(data_span(&none).expect("span"), None);
}

#[test]
fn every_combination_of_grouping_and_periods_is_a_level() {
    assert_eq!(scope_levels(&context(None, None)), [(false, false)]);
    assert_eq!(
        scope_levels(&context(Some(GroupBy::Team), Some(PeriodKind::Day))),
        [(false, false), (true, false), (false, true), (true, true)]
    );
}
