//! DORA's Quick Check (dora.dev, 2025): each metric scored 0 to 10 the way the Quick Check
//! scores a team's answers, from the measured figures instead of a survey.
//!
//! The Quick Check asks for each time metric one of six answers, and for the two rates a
//! percentage. Its scoring (dora-team/dora.dev, svelte/quick-check): an answer c of 1..6 scores
//! `(c - 1) * 2`, a percentage p scores `10 - p / 10`, both clamped to 0..10. dora picks the
//! answer a team's figures give:
//! - lead time and failed deployment recovery time (their medians): under an hour 6, a day 5,
//!   a week 4, 30 days 3, 182.5 days 2, else 1;
//! - deployment frequency, production deployments per local day of the scope: more than 1 a
//!   day 6 ("on demand"); at least 5 a week 5 ("between once per hour and once per day", dora's
//!   reading of an answer the survey words by hours); at least 1 a week 4; 1 a month (1/30 a
//!   day) 3; 1 per six months (1/182.5) 2; otherwise, none included, 1.
//!
//! throughput is the mean of the three throughput scores (lead time, frequency, recovery),
//! stability of the two rates', overall of all five; a metric without data is left out of a
//! mean. The 2025 industry means to compare with are [`BENCHMARK_2025`].

use serde::Serialize;

use super::figures::Figures;

/// An answer of the Quick Check and its score.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Answer {
    /// 1 to 6; `None` without data.
    pub choice: Option<u8>,
    pub score: Option<f64>,
}

/// A percentage's score.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Score {
    pub score: Option<f64>,
}

/// The Quick Check of one scope.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct QuickCheck {
    pub lead_time: Answer,
    pub deployment_frequency: Answer,
    pub failed_deployment_recovery: Answer,
    pub change_failure_rate: Score,
    pub rework_rate: Score,
    pub throughput: Option<f64>,
    pub stability: Option<f64>,
    pub overall: Option<f64>,
}

/// Deployments a day from which the frequency's answer is 5: at least 5 a week.
pub const DAILY_ANSWER_5: f64 = 5.0 / 7.0;

/// The answer to "how long" questions from a median in hours.
pub fn time_choice(hours: Option<f64>) -> Option<u8> {
    let h = hours?;
    let limits = [
        (6, 1.0),
        (5, 24.0),
        (4, 24.0 * 7.0),
        (3, 24.0 * 30.0),
        (2, 24.0 * 182.5),
    ];
    Some(limits.iter().find(|(_, limit)| h < *limit).map_or(1, |(c, _)| *c))
}

/// The answer to "how often" from production deployments per day.
pub fn frequency_choice(per_day: Option<f64>) -> Option<u8> {
    let r = per_day?;
    if r > 1.0 {
        return Some(6);
    }
    let limits = [(5, DAILY_ANSWER_5), (4, 1.0 / 7.0), (3, 1.0 / 30.0), (2, 1.0 / 182.5)];
    Some(limits.iter().find(|(_, limit)| r >= *limit).map_or(1, |(c, _)| *c))
}

fn answer(choice: Option<u8>) -> Answer {
    Answer {
        choice,
        score: choice.map(|c| (f64::from(c) - 1.0) * 2.0),
    }
}

/// A share (0 to 1) as the Quick Check scores a percentage.
fn percentage(rate: Option<f64>) -> Score {
    Score {
        score: rate.map(|r| (10.0 - r * 100.0 / 10.0).clamp(0.0, 10.0)),
    }
}

fn mean(scores: &[Option<f64>]) -> Option<f64> {
    let known: Vec<f64> = scores.iter().flatten().copied().collect();
    (!known.is_empty()).then(|| known.iter().sum::<f64>() / known.len() as f64)
}

/// The Quick Check of a scope's figures (its deployment frequency already per day).
pub fn of(f: &Figures) -> QuickCheck {
    let lead_time = answer(time_choice(f.lead_time_hours.median));
    let deployment_frequency = answer(frequency_choice(f.deployment_frequency.per_day));
    let failed_deployment_recovery = answer(time_choice(f.failed_deployment_recovery_hours.median));
    let change_failure_rate = percentage(f.change_failure_rate);
    let rework_rate = percentage(f.rework_rate);
    let throughput = [
        lead_time.score,
        deployment_frequency.score,
        failed_deployment_recovery.score,
    ];
    let stability = [change_failure_rate.score, rework_rate.score];
    QuickCheck {
        lead_time,
        deployment_frequency,
        failed_deployment_recovery,
        change_failure_rate,
        rework_rate,
        throughput: mean(&throughput),
        stability: mean(&stability),
        overall: mean(&[throughput.as_slice(), stability.as_slice()].concat()),
    }
}

/// The 2025 industry means on the Quick Check's scale, as dora.dev's Quick Check shows them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Benchmark {
    pub lead_time: f64,
    pub deployment_frequency: f64,
    pub failed_deployment_recovery: f64,
    pub change_failure_rate: f64,
    pub rework_rate: f64,
    pub throughput: f64,
    pub stability: f64,
    pub overall: f64,
}

/// All industries, 2025: dora.dev's `editions_2025_industry_metrics.json`, row `all`
/// (`leadtime` 5.5, `deployfreq` 4.8, `failurerecovery` 7.4, `changefailure` 1.9, `rework` 2.2,
/// `software_delivery_throughput` 6.0, `software_delivery_instability` 2.1). The file stores the
/// two rates and instability as instability (higher is worse): the Quick Check shows them as
/// `10 - x`, and dora does too. Its `performance_average` (4.3) mixes both scales, so overall is
/// the mean of the five scores, as the Quick Check's `transformMetrics` computes it: 6.72.
pub const BENCHMARK_2025: Benchmark = Benchmark {
    lead_time: 5.5,
    deployment_frequency: 4.8,
    failed_deployment_recovery: 7.4,
    change_failure_rate: 10.0 - 1.9,
    rework_rate: 10.0 - 2.2,
    throughput: 6.0,
    stability: 10.0 - 2.1,
    overall: (5.5 + 4.8 + 7.4 + (10.0 - 1.9) + (10.0 - 2.2)) / 5.0,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_at_their_bounds() {
        assert_eq!(time_choice(Some(0.99)), Some(6));
        assert_eq!(time_choice(Some(1.0)), Some(5));
        assert_eq!(time_choice(Some(24.0)), Some(4));
        assert_eq!(time_choice(Some(167.9)), Some(4));
        assert_eq!(time_choice(Some(720.0)), Some(2));
        assert_eq!(time_choice(Some(4380.0)), Some(1));
        assert_eq!(time_choice(None), None);
        assert_eq!(frequency_choice(Some(1.01)), Some(6));
        assert_eq!(frequency_choice(Some(1.0)), Some(5));
        assert_eq!(frequency_choice(Some(5.0 / 7.0)), Some(5));
        assert_eq!(frequency_choice(Some(4.9 / 7.0)), Some(4));
        assert_eq!(frequency_choice(Some(1.0 / 30.0)), Some(3));
        assert_eq!(frequency_choice(Some(0.0)), Some(1));
        assert_eq!(frequency_choice(None), None);
    }

    #[test]
    fn scores_and_means_leave_unknown_metrics_out() {
        let mut f = Figures::default();
        f.lead_time_hours.median = Some(30.0); // a day to a week: 4, score 6
        f.deployment_frequency.per_day = Some(2.0); // 6, score 10
        f.change_failure_rate = Some(0.15); // 10 - 1.5
        let q = of(&f);
        assert_eq!(
            q.lead_time,
            Answer {
                choice: Some(4),
                score: Some(6.0)
            }
        );
        assert_eq!(q.failed_deployment_recovery, Answer::default());
        assert_eq!(q.change_failure_rate.score, Some(8.5));
        assert_eq!(q.rework_rate.score, None);
        assert_eq!(q.throughput, Some(8.0));
        assert_eq!(q.stability, Some(8.5));
        assert_eq!(q.overall, Some((6.0 + 10.0 + 8.5) / 3.0));
        assert!((BENCHMARK_2025.overall - 6.72).abs() < 1e-9);
    }
}
