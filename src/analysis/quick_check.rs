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
//! mean. The 2025 means to compare with are a [`Benchmark`].

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

/// One metric of the Quick Check, in the order it lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    LeadTime,
    DeploymentFrequency,
    FailedDeploymentRecovery,
    ChangeFailureRate,
    ReworkRate,
}

impl Measure {
    pub const ALL: [Measure; 5] = [
        Measure::LeadTime,
        Measure::DeploymentFrequency,
        Measure::FailedDeploymentRecovery,
        Measure::ChangeFailureRate,
        Measure::ReworkRate,
    ];

    /// The catalogue's metric it scores (its name, unit and figures are declared there).
    pub fn metric(self) -> super::catalogue::Metric {
        use super::catalogue::Metric;
        match self {
            Measure::LeadTime => Metric::LeadTime,
            Measure::DeploymentFrequency => Metric::DeploymentFrequency,
            Measure::FailedDeploymentRecovery => Metric::RecoveryTime,
            Measure::ChangeFailureRate => Metric::ChangeFailureRate,
            Measure::ReworkRate => Metric::ReworkRate,
        }
    }

    /// Its key in the JSON artifact's `quick_check` and `quick_check_benchmark`.
    pub fn key(self) -> &'static str {
        match self {
            Measure::LeadTime => "lead_time",
            Measure::DeploymentFrequency => "deployment_frequency",
            Measure::FailedDeploymentRecovery => "failed_deployment_recovery",
            Measure::ChangeFailureRate => "change_failure_rate",
            Measure::ReworkRate => "rework_rate",
        }
    }
}

impl QuickCheck {
    /// Whether any measure has a score (the scope has data to rate).
    pub fn any_score(&self) -> bool {
        Measure::ALL.iter().any(|m| self.rating(*m).1.is_some())
    }

    /// A measure's answer (1 to 6: the three asked as answers; `None` for the two rates) and
    /// its score.
    pub fn rating(&self, measure: Measure) -> (Option<u8>, Option<f64>) {
        let answer = |a: &Answer| (a.choice, a.score);
        match measure {
            Measure::LeadTime => answer(&self.lead_time),
            Measure::DeploymentFrequency => answer(&self.deployment_frequency),
            Measure::FailedDeploymentRecovery => answer(&self.failed_deployment_recovery),
            Measure::ChangeFailureRate => (None, self.change_failure_rate.score),
            Measure::ReworkRate => (None, self.rework_rate.score),
        }
    }
}

/// The label of an answer as the Quick Check words it (`metrics_question_responses.json` of
/// dora.dev's Quick Check, answers 1 to 6); `None` for the rates, which are asked as a
/// percentage.
pub fn answer_label(measure: Measure, choice: u8) -> Option<&'static str> {
    const TIME: [&str; 6] = [
        "More than six months",
        "One to six months",
        "One week to one month",
        "One day to one week",
        "Less than one day",
        "Less than one hour",
    ];
    const FREQUENCY: [&str; 6] = [
        "Less than once per six months",
        "Between once per month and once every six months",
        "Between once per week and once per month",
        "Between once per day and once per week",
        "Between once per hour and once per day",
        "On demand (multiple deploys per day)",
    ];
    let labels = match measure {
        Measure::LeadTime | Measure::FailedDeploymentRecovery => &TIME,
        Measure::DeploymentFrequency => &FREQUENCY,
        Measure::ChangeFailureRate | Measure::ReworkRate => return None,
    };
    labels.get(usize::from(choice).checked_sub(1)?).copied()
}

/// One row of the Quick Check's 2025 means (dora.dev, svelte/quick-check/src/lib/data), as the
/// file stores it: 0-10, the two rates and instability on the instability scale (higher is
/// worse).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Means {
    /// The row's key in the file: `financial_services`.
    pub id: &'static str,
    pub name: &'static str,
    pub lead_time: f64,
    pub deployment_frequency: f64,
    pub failed_deployment_recovery: f64,
    pub change_failure: f64,
    pub rework: f64,
    pub throughput: f64,
    pub instability: f64,
}

/// Which file of means a benchmark row comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Population {
    /// `editions_2025_industry_metrics.json`: `--industry`.
    Industry,
    /// `editions_2025_organization_size_metrics.json`: `--org-size`.
    OrganizationSize,
}

impl Population {
    pub fn file(self) -> &'static str {
        match self {
            Population::Industry => "editions_2025_industry_metrics.json",
            Population::OrganizationSize => "editions_2025_organization_size_metrics.json",
        }
    }

    pub fn flag(self) -> &'static str {
        match self {
            Population::Industry => "--industry",
            Population::OrganizationSize => "--org-size",
        }
    }

    pub fn rows(self) -> &'static [Means] {
        match self {
            Population::Industry => INDUSTRIES_2025,
            Population::OrganizationSize => ORGANIZATION_SIZES_2025,
        }
    }
}

/// `editions_2025_industry_metrics.json`, every row, the file's means as they are.
pub const INDUSTRIES_2025: &[Means] = &[
    Means {
        id: "all",
        name: "All industries",
        lead_time: 5.5,
        deployment_frequency: 4.8,
        failed_deployment_recovery: 7.4,
        change_failure: 1.9,
        rework: 2.2,
        throughput: 6.0,
        instability: 2.1,
    },
    Means {
        id: "consumer",
        name: "Retail/Consumer/e-Commerce",
        lead_time: 5.9,
        deployment_frequency: 5.3,
        failed_deployment_recovery: 7.8,
        change_failure: 1.7,
        rework: 2.0,
        throughput: 6.3,
        instability: 1.8,
    },
    Means {
        id: "media_entertainment",
        name: "Media & Entertainment",
        lead_time: 5.8,
        deployment_frequency: 5.2,
        failed_deployment_recovery: 7.6,
        change_failure: 1.8,
        rework: 1.8,
        throughput: 6.2,
        instability: 1.8,
    },
    Means {
        id: "non_profit",
        name: "Non-profit",
        lead_time: 5.9,
        deployment_frequency: 4.5,
        failed_deployment_recovery: 7.5,
        change_failure: 2.2,
        rework: 2.1,
        throughput: 6.1,
        instability: 2.2,
    },
    Means {
        id: "technology",
        name: "Technology",
        lead_time: 5.7,
        deployment_frequency: 4.9,
        failed_deployment_recovery: 7.4,
        change_failure: 1.9,
        rework: 2.3,
        throughput: 6.1,
        instability: 2.1,
    },
    Means {
        id: "telecommunications",
        name: "Telecommunications",
        lead_time: 5.2,
        deployment_frequency: 4.7,
        failed_deployment_recovery: 7.2,
        change_failure: 2.4,
        rework: 2.6,
        throughput: 5.7,
        instability: 2.5,
    },
    Means {
        id: "other",
        name: "Other",
        lead_time: 5.7,
        deployment_frequency: 5.0,
        failed_deployment_recovery: 7.6,
        change_failure: 1.6,
        rework: 2.0,
        throughput: 6.1,
        instability: 1.8,
    },
    Means {
        id: "education",
        name: "Education",
        lead_time: 5.5,
        deployment_frequency: 4.5,
        failed_deployment_recovery: 6.6,
        change_failure: 2.7,
        rework: 2.9,
        throughput: 5.6,
        instability: 2.7,
    },
    Means {
        id: "financial_services",
        name: "Financial Services",
        lead_time: 5.4,
        deployment_frequency: 5.1,
        failed_deployment_recovery: 7.7,
        change_failure: 1.7,
        rework: 1.9,
        throughput: 6.1,
        instability: 1.8,
    },
    Means {
        id: "healthcare_pharmaceuticals",
        name: "Healthcare & Pharmaceuticals",
        lead_time: 5.0,
        deployment_frequency: 4.3,
        failed_deployment_recovery: 7.1,
        change_failure: 2.5,
        rework: 2.6,
        throughput: 5.6,
        instability: 2.5,
    },
    Means {
        id: "energy",
        name: "Energy",
        lead_time: 5.4,
        deployment_frequency: 4.5,
        failed_deployment_recovery: 7.2,
        change_failure: 1.8,
        rework: 2.1,
        throughput: 5.8,
        instability: 1.9,
    },
    Means {
        id: "government",
        name: "Government",
        lead_time: 4.8,
        deployment_frequency: 4.3,
        failed_deployment_recovery: 7.0,
        change_failure: 2.1,
        rework: 2.4,
        throughput: 5.4,
        instability: 2.3,
    },
    Means {
        id: "insurance",
        name: "Insurance",
        lead_time: 4.8,
        deployment_frequency: 4.4,
        failed_deployment_recovery: 7.5,
        change_failure: 1.7,
        rework: 1.8,
        throughput: 5.7,
        instability: 1.8,
    },
    Means {
        id: "industrials_manufacturing",
        name: "Industrials & Manufacturing",
        lead_time: 4.9,
        deployment_frequency: 3.7,
        failed_deployment_recovery: 6.5,
        change_failure: 2.0,
        rework: 2.4,
        throughput: 5.1,
        instability: 2.2,
    },
];

/// `editions_2025_organization_size_metrics.json`, every row, the file's means as they are.
/// Its `failurerecovery` is on the instability scale, unlike the industry file's: see
/// [`Benchmark::of`].
pub const ORGANIZATION_SIZES_2025: &[Means] = &[
    Means {
        id: "all",
        name: "All organizations",
        lead_time: 5.5,
        deployment_frequency: 4.8,
        failed_deployment_recovery: 2.6,
        change_failure: 1.9,
        rework: 2.2,
        throughput: 6.0,
        instability: 2.1,
    },
    Means {
        id: "solo",
        name: "1 employee",
        lead_time: 6.4,
        deployment_frequency: 5.1,
        failed_deployment_recovery: 2.8,
        change_failure: 3.0,
        rework: 3.3,
        throughput: 6.3,
        instability: 3.1,
    },
    Means {
        id: "fewer_than_10",
        name: "2 to 9 employees",
        lead_time: 6.4,
        deployment_frequency: 4.8,
        failed_deployment_recovery: 2.3,
        change_failure: 1.9,
        rework: 2.3,
        throughput: 6.3,
        instability: 2.1,
    },
    Means {
        id: "fewer_than_100",
        name: "20 to 99 employees",
        lead_time: 5.8,
        deployment_frequency: 4.4,
        failed_deployment_recovery: 2.4,
        change_failure: 1.7,
        rework: 2.3,
        throughput: 5.9,
        instability: 2.1,
    },
    Means {
        id: "fewer_than_500",
        name: "100 to 499 employees",
        lead_time: 5.6,
        deployment_frequency: 4.8,
        failed_deployment_recovery: 2.6,
        change_failure: 1.9,
        rework: 2.3,
        throughput: 6.0,
        instability: 2.1,
    },
    Means {
        id: "fewer_than_1000",
        name: "500 to 999 employees",
        lead_time: 5.5,
        deployment_frequency: 4.7,
        failed_deployment_recovery: 2.7,
        change_failure: 1.8,
        rework: 2.2,
        throughput: 6.0,
        instability: 2.1,
    },
    Means {
        id: "fewer_than_5000",
        name: "1,000 to 4,999 employees",
        lead_time: 5.3,
        deployment_frequency: 4.7,
        failed_deployment_recovery: 2.6,
        change_failure: 1.9,
        rework: 2.1,
        throughput: 5.8,
        instability: 2.0,
    },
    Means {
        id: "fewer_than_10000",
        name: "5,000 to 9,999 employees",
        lead_time: 5.4,
        deployment_frequency: 4.8,
        failed_deployment_recovery: 2.5,
        change_failure: 1.8,
        rework: 2.0,
        throughput: 6.0,
        instability: 1.9,
    },
    Means {
        id: "more_than_9999",
        name: "10,000 or more employees",
        lead_time: 5.2,
        deployment_frequency: 4.9,
        failed_deployment_recovery: 2.8,
        change_failure: 1.9,
        rework: 2.1,
        throughput: 5.9,
        instability: 2.0,
    },
];

/// The means a team is compared with, on the Quick Check's scale (higher is better), as dora.dev's
/// Quick Check shows them, and the row they come from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Benchmark {
    /// The Quick Check's data file.
    pub file: &'static str,
    /// The row's key in it, and its name.
    pub row: &'static str,
    pub name: &'static str,
    pub lead_time: f64,
    pub deployment_frequency: f64,
    pub failed_deployment_recovery: f64,
    pub change_failure_rate: f64,
    pub rework_rate: f64,
    pub throughput: f64,
    pub stability: f64,
    pub overall: f64,
}

impl Benchmark {
    /// A row of means on the Quick Check's scale. The files store the two rates and instability
    /// as instability (higher is worse): the Quick Check shows them as `10 - x`, and so does
    /// dora. The file's `performance_average` mixes both scales, so overall is the mean of the
    /// five scores, as the Quick Check's `transformMetrics` computes it (6.72 for all
    /// industries).
    ///
    /// The organization-size file's recovery means are `10 -` the industry file's for the same
    /// population (all organizations 2.6, all industries 7.4; every size 2.3 to 2.8, every
    /// industry 6.5 to 7.8): stored on the instability scale like the rates. dora reads them as
    /// such, `10 - x`, so that both files give the same benchmark for everyone.
    pub fn of(population: Population, m: &Means) -> Benchmark {
        let recovery = match population {
            Population::Industry => m.failed_deployment_recovery,
            Population::OrganizationSize => 10.0 - m.failed_deployment_recovery,
        };
        let scores = [
            m.lead_time,
            m.deployment_frequency,
            recovery,
            10.0 - m.change_failure,
            10.0 - m.rework,
        ];
        Benchmark {
            file: population.file(),
            row: m.id,
            name: m.name,
            lead_time: m.lead_time,
            deployment_frequency: m.deployment_frequency,
            failed_deployment_recovery: recovery,
            change_failure_rate: 10.0 - m.change_failure,
            rework_rate: 10.0 - m.rework,
            throughput: m.throughput,
            stability: 10.0 - m.instability,
            overall: scores.iter().sum::<f64>() / 5.0,
        }
    }

    /// The benchmark of a measure.
    pub fn of_measure(&self, measure: Measure) -> f64 {
        match measure {
            Measure::LeadTime => self.lead_time,
            Measure::DeploymentFrequency => self.deployment_frequency,
            Measure::FailedDeploymentRecovery => self.failed_deployment_recovery,
            Measure::ChangeFailureRate => self.change_failure_rate,
            Measure::ReworkRate => self.rework_rate,
        }
    }

    /// The row `id` of a population's file, by its key or its name (any case).
    pub fn find(population: Population, id: &str) -> Result<Benchmark, UnknownRow> {
        let rows = population.rows();
        rows.iter()
            .find(|m| m.id.eq_ignore_ascii_case(id) || m.name.eq_ignore_ascii_case(id))
            .map(|m| Benchmark::of(population, m))
            .ok_or_else(|| UnknownRow {
                flag: population.flag(),
                value: id.to_string(),
                known: rows.iter().map(|m| m.id).collect::<Vec<_>>().join(", "),
            })
    }
}

impl Default for Benchmark {
    /// All industries.
    fn default() -> Self {
        Benchmark::of(Population::Industry, &INDUSTRIES_2025[0])
    }
}

/// A `--industry` or `--org-size` value that names no row of the Quick Check's file.
#[derive(Debug, thiserror::Error)]
#[error("{flag} `{value}`: the DORA Quick Check has no such row; one of: {known}")]
pub struct UnknownRow {
    pub flag: &'static str,
    pub value: String,
    pub known: String,
}

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
        assert!((Benchmark::default().overall - 6.72).abs() < 1e-9);
    }
}

#[cfg(test)]
mod benchmark_tests {
    use super::*;

    #[test]
    fn every_row_is_found_by_key_or_name_and_the_two_files_agree_on_everyone() {
        let industry = Benchmark::find(Population::Industry, "all").unwrap();
        let size = Benchmark::find(Population::OrganizationSize, "All organizations").unwrap();
        assert_eq!(industry, Benchmark::default());
        for m in Measure::ALL {
            assert!((industry.of_measure(m) - size.of_measure(m)).abs() < 1e-9, "{m:?}");
        }
        let finance = Benchmark::find(Population::Industry, "FINANCIAL_SERVICES").unwrap();
        assert_eq!(finance.name, "Financial Services");
        assert!((finance.change_failure_rate - 8.3).abs() < 1e-9);
        let err = Benchmark::find(Population::OrganizationSize, "huge")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("--org-size `huge`") && err.contains("more_than_9999"),
            "{err}"
        );
    }

    #[test]
    fn each_measure_is_its_metrics_in_the_catalogue() {
        for m in Measure::ALL {
            assert_eq!(m.metric().spec().quick_check, Some(m), "{m:?}");
        }
    }

    #[test]
    fn answer_labels_are_the_quick_checks() {
        assert_eq!(answer_label(Measure::LeadTime, 5), Some("Less than one day"));
        assert_eq!(
            answer_label(Measure::DeploymentFrequency, 6),
            Some("On demand (multiple deploys per day)")
        );
        assert_eq!(answer_label(Measure::LeadTime, 0), None);
        assert_eq!(answer_label(Measure::ReworkRate, 3), None);
    }
}
