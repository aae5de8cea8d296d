//! `dora explain`'s heading: what is explained, the figure, and what the rows are, as text (table
//! and Markdown) or as the JSON object the rows are written into.

use std::fmt::Write as _;
use std::io::Write;

use polars::prelude::DataFrame;

use super::frame::{self, FrameFormat};
use super::{rating, summary_row};
use crate::analysis::catalogue::Metric;
use crate::analysis::figures::Figures;
use crate::analysis::levels::LevelScale;
use crate::timestamp;

/// What is explained, the figure, and what the rows are.
pub struct Heading<'a> {
    pub metric: Metric,
    /// The one repository explained, or `None` for all.
    pub repo: Option<&'a str>,
    pub figures: &'a Figures,
    pub since: i64,
    pub until: i64,
    pub zone: &'a str,
    pub total: usize,
    pub shown: usize,
}

impl Heading<'_> {
    pub fn text(&self, out: &mut dyn Write, markdown: bool) -> std::io::Result<()> {
        let [name, value, sample, level] = summary_row(self.metric, self.figures, LevelScale::Dora2023);
        let quick_check = rating(self.metric.spec(), self.figures, LevelScale::QuickCheck2025);
        let scope = self.repo.unwrap_or("all repositories");
        let strong = if markdown { "**" } else { "" };
        writeln!(
            out,
            "{strong}{name}{strong}, {scope}, {} to {} ({})",
            timestamp::format_utc(self.since),
            timestamp::format_utc(self.until),
            self.zone
        )?;
        let mut rated = String::new();
        if level != "-" {
            let _ = write!(rated, " · DORA 2023 level {level}");
        }
        if quick_check != "-" {
            let _ = write!(rated, " · Quick Check 2025 score {quick_check}");
        }
        writeln!(out, "{value} · {sample}{rated}")?;
        let more = if self.shown < self.total {
            format!("; first {} shown, `--limit 0` for all", self.shown)
        } else {
            String::new()
        };
        writeln!(out, "\n{} rows: {}{more}\n", self.total, self.metric.rows_description())
    }

    pub fn json(&self, out: &mut dyn Write, rows: &mut DataFrame) -> std::io::Result<()> {
        let head = serde_json::json!({
            "metric": self.metric.as_str(),
            "repo": self.repo,
            "since": timestamp::format_utc(self.since),
            "until": timestamp::format_utc(self.until),
            "time_zone": self.zone,
            "figure": self.metric.figure_json(self.figures),
            "rows_description": self.metric.rows_description(),
            "row_count": self.total,
        });
        let head = serde_json::to_string_pretty(&head).map_err(std::io::Error::other)?;
        // The head object, with the rows (in column order) spliced in as its last member.
        let head = head.trim_end().trim_end_matches('}').trim_end();
        writeln!(out, "{head},\n  \"rows\":")?;
        frame::render(rows, FrameFormat::Json, out)?;
        writeln!(out, "}}")
    }
}

#[cfg(test)]
mod tests {
    use polars::prelude::df;

    use super::*;

    fn heading(figures: &Figures, shown: usize) -> Heading<'_> {
        Heading {
            metric: Metric::ChangeFailureRate,
            repo: Some("acme/api"),
            figures,
            since: 0,
            until: 7 * 86_400_000_000,
            zone: "UTC",
            total: 3,
            shown,
        }
    }

    #[test]
    fn the_text_names_the_figure_the_scope_and_what_is_shown() {
        let mut f = Figures::default();
        (f.deployments, f.failed_deployments, f.change_failure_rate) = (3, 1, Some(1.0 / 3.0));
        let mut out = Vec::new();
        heading(&f, 2).text(&mut out, true).expect("written");
        let text = String::from_utf8(out).expect("utf-8");
        assert_eq!(
            text,
            "**Change failure rate**, acme/api, 1970-01-01T00:00:00Z to 1970-01-08T00:00:00Z (UTC)\n\
             33.3% · 1 of 3 deployments\n\n\
             3 rows: production deployments, failed ones first (most incidents first); first 2 shown, \
             `--limit 0` for all\n\n"
        );
    }

    #[test]
    fn the_json_is_one_object_with_the_rows_last() {
        let f = Figures::default();
        let mut rows = df!("id" => ["d1", "d2"], "failed" => [true, false]).expect("frame");
        let mut out = Vec::new();
        heading(&f, 2).json(&mut out, &mut rows).expect("written");
        let value: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
        assert_eq!(value["metric"], "change-failure-rate");
        assert_eq!(value["repo"], "acme/api");
        assert_eq!(value["row_count"], 3);
        assert_eq!(value["rows"][1]["id"], "d2");
        assert_eq!(value["figure"]["change_failure_rate"], serde_json::Value::Null);
    }
}
