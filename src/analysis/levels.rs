//! Performance levels from the DORA 2023 report (Accelerate State of DevOps 2023).

use serde::Serialize;

/// Elite, high, medium or low, as the DORA report clusters teams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Elite,
    High,
    Medium,
    Low,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Elite => "elite",
            Level::High => "high",
            Level::Medium => "medium",
            Level::Low => "low",
        }
    }
}

/// Which scale `dora` rates a team's figures on where it shows a rating (tables, the report,
/// badges): `--levels`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LevelScale {
    /// Elite, high, medium or low: the DORA 2023 report's clusters
    #[value(name = "2023")]
    Dora2023,
    /// DORA's Quick Check (2025): the answer a team's figures give and its score, 0 to 10
    #[default]
    #[value(name = "2025")]
    QuickCheck2025,
}

impl LevelScale {
    /// What the ratings are, printed with them.
    pub fn source(self) -> &'static str {
        match self {
            LevelScale::Dora2023 => crate::analysis::figures::LEVELS_SOURCE,
            LevelScale::QuickCheck2025 => "DORA Quick Check 2025 (dora.dev): scores 0-10",
        }
    }

    /// The heading of the rating column in Markdown and the report.
    pub fn title(self) -> &'static str {
        match self {
            LevelScale::Dora2023 => "Level (DORA 2023)",
            LevelScale::QuickCheck2025 => "Quick Check 2025",
        }
    }

    /// The same in the terminal table, whose headings are lower case.
    pub fn heading(self) -> &'static str {
        match self {
            LevelScale::Dora2023 => "level (DORA 2023)",
            LevelScale::QuickCheck2025 => self.title(),
        }
    }
}

const DAY_HOURS: f64 = 24.0;
const WEEK_HOURS: f64 = 7.0 * DAY_HOURS;

/// Lead time median: under a day elite, under a week high, under 30 days medium.
pub fn lead_time(median_hours: Option<f64>) -> Option<Level> {
    median_hours.map(|h| match h {
        h if h < DAY_HOURS => Level::Elite,
        h if h < WEEK_HOURS => Level::High,
        h if h < 30.0 * DAY_HOURS => Level::Medium,
        _ => Level::Low,
    })
}

/// Deployments per day: at least daily elite, weekly high, monthly medium.
pub fn deployment_frequency(per_day: Option<f64>) -> Option<Level> {
    per_day.map(|d| match d {
        d if d >= 1.0 => Level::Elite,
        d if d >= 1.0 / 7.0 => Level::High,
        d if d >= 1.0 / 30.0 => Level::Medium,
        _ => Level::Low,
    })
}

/// Change failure rate: at most 5% elite, 10% high, 15% medium.
pub fn change_failure_rate(rate: Option<f64>) -> Option<Level> {
    rate.map(|r| match r {
        r if r <= 0.05 => Level::Elite,
        r if r <= 0.10 => Level::High,
        r if r <= 0.15 => Level::Medium,
        _ => Level::Low,
    })
}

/// Time to restore median: under an hour elite, a day high, a week medium.
pub fn time_to_restore(median_hours: Option<f64>) -> Option<Level> {
    median_hours.map(|h| match h {
        h if h < 1.0 => Level::Elite,
        h if h < DAY_HOURS => Level::High,
        h if h < WEEK_HOURS => Level::Medium,
        _ => Level::Low,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries() {
        assert_eq!(lead_time(Some(23.99)), Some(Level::Elite));
        assert_eq!(lead_time(Some(24.0)), Some(Level::High));
        assert_eq!(lead_time(Some(168.0)), Some(Level::Medium));
        assert_eq!(lead_time(Some(720.0)), Some(Level::Low));
        assert_eq!(lead_time(None), None);
        assert_eq!(deployment_frequency(Some(1.0)), Some(Level::Elite));
        assert_eq!(deployment_frequency(Some(1.0 / 7.0)), Some(Level::High));
        assert_eq!(deployment_frequency(Some(1.0 / 30.0)), Some(Level::Medium));
        assert_eq!(deployment_frequency(Some(0.0)), Some(Level::Low));
        assert_eq!(change_failure_rate(Some(0.05)), Some(Level::Elite));
        assert_eq!(change_failure_rate(Some(0.1)), Some(Level::High));
        assert_eq!(change_failure_rate(Some(0.15)), Some(Level::Medium));
        assert_eq!(change_failure_rate(Some(0.151)), Some(Level::Low));
        assert_eq!(time_to_restore(Some(0.99)), Some(Level::Elite));
        assert_eq!(time_to_restore(Some(1.0)), Some(Level::High));
        assert_eq!(time_to_restore(Some(24.0)), Some(Level::Medium));
        assert_eq!(time_to_restore(Some(168.0)), Some(Level::Low));
    }
}
