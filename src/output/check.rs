//! The results of `dora check` as a table (any frame format) and as one line per broken limit.

use polars::prelude::{Column, DataFrame, PolarsResult};

use super::in_unit;
use crate::analysis::catalogue::Metric;
use crate::analysis::gates::Outcome;

/// A metric's value as the table and the messages show it.
pub fn format_value(metric: Metric, value: f64) -> String {
    in_unit(metric.spec().unit, value, |w| format!("{w:.2}"))
}

/// "acme/api: lead time (median) is 3.1 d, limit at most 2d".
pub fn describe(o: &Outcome) -> String {
    let scope = o.scope.as_ref().map(|s| format!("{s}: ")).unwrap_or_default();
    match o.value {
        Some(v) => format!(
            "{scope}{} is {}; the limit is {}",
            o.threshold.metric.spec().gate.name,
            format_value(o.threshold.metric, v),
            o.threshold
        ),
        None => format!("{scope}{} has no data (--strict)", o.threshold.metric.spec().gate.name),
    }
}

pub fn results_frame(outcomes: &[Outcome], grouped: bool) -> PolarsResult<DataFrame> {
    let status = |o: &Outcome| match (o.passed, o.value) {
        (true, Some(_)) => "ok",
        (true, None) => "no data",
        (false, _) => "FAILED",
    };
    let mut columns = Vec::new();
    if grouped {
        columns.push(Column::new(
            "scope".into(),
            outcomes
                .iter()
                .map(|o| o.scope.clone().unwrap_or_default())
                .collect::<Vec<_>>(),
        ));
    }
    columns.extend([
        Column::new(
            "metric".into(),
            outcomes
                .iter()
                .map(|o| o.threshold.metric.spec().gate.name)
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "value".into(),
            outcomes
                .iter()
                .map(|o| {
                    o.value
                        .map_or_else(|| "-".to_string(), |v| format_value(o.threshold.metric, v))
                })
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "threshold".into(),
            outcomes.iter().map(|o| o.threshold.to_string()).collect::<Vec<_>>(),
        ),
        Column::new("status".into(), outcomes.iter().map(status).collect::<Vec<_>>()),
    ]);
    DataFrame::new(outcomes.len(), columns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::figures::Figures;
    use crate::analysis::gates::{Threshold, evaluate};

    fn outcomes() -> Vec<Outcome> {
        let mut f = Figures::default();
        f.lead_time_hours.median = Some(50.0);
        f.change_failure_rate = Some(0.125);
        let limits = [
            Threshold::parse(Metric::LeadTime, "2d").expect("limit"),
            Threshold::parse(Metric::ChangeFailureRate, "15%").expect("limit"),
            Threshold::parse(Metric::DeploymentFrequency, "3").expect("limit"),
        ];
        evaluate(Some("acme/api"), &f, &limits, false)
    }

    #[test]
    fn values_read_in_their_unit() {
        assert_eq!(format_value(Metric::LeadTime, 50.0), "2.1 d");
        assert_eq!(format_value(Metric::RecoveryTime, 0.5), "30 min");
        assert_eq!(format_value(Metric::ChangeFailureRate, 0.125), "12.5%");
        assert_eq!(format_value(Metric::DeploymentFrequency, 3.0), "3.00");
    }

    #[test]
    fn a_broken_limit_reads_as_a_sentence() {
        let o = outcomes();
        assert_eq!(
            describe(&o[0]),
            "acme/api: lead time (median) is 2.1 d; the limit is at most 2d"
        );
        let mut strict = o[2].clone();
        strict.passed = false;
        assert_eq!(
            describe(&strict),
            "acme/api: deployments per week has no data (--strict)"
        );
    }

    #[test]
    fn the_table_has_a_row_per_outcome_and_a_scope_when_grouped() {
        let o = outcomes();
        let grouped = results_frame(&o, true).expect("frame");
        let names: Vec<&str> = grouped.get_column_names().iter().map(|n| n.as_str()).collect();
        assert_eq!(names, ["scope", "metric", "value", "threshold", "status"]);
        let status: Vec<Option<&str>> = grouped
            .column("status")
            .expect("status")
            .str()
            .expect("text")
            .iter()
            .collect();
        assert_eq!(status, [Some("FAILED"), Some("ok"), Some("no data")]);
        let value = grouped.column("value").expect("value").str().expect("text").get(2);
        assert_eq!(value, Some("-"));
        assert_eq!(results_frame(&o, false).expect("frame").width(), 4);
    }
}
