//! Markdown tables, for pull requests, wikis and chat.

use std::io::Write;

use crate::analysis::figures::Scorecard;
use crate::output::{
    ai_rows, breakdown_cells, breakdown_headings, cost_line, feedback_rows, group_name, rollout_rows, standing_line,
    summary_rows, window_line,
};

/// Escapes the characters that would break a table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn table<I: IntoIterator<Item = String>>(
    out: &mut dyn Write,
    headings: I,
    rows: Vec<Vec<String>>,
    right_from: usize,
) -> std::io::Result<()> {
    aligned_table(out, headings, rows, |i| i >= right_from)
}

/// A Markdown table; `right(i)` says whether column `i` is right-aligned (numbers).
pub(crate) fn aligned_table<I: IntoIterator<Item = String>>(
    out: &mut dyn Write,
    headings: I,
    rows: Vec<Vec<String>>,
    right: impl Fn(usize) -> bool,
) -> std::io::Result<()> {
    let headings: Vec<String> = headings.into_iter().collect();
    writeln!(
        out,
        "| {} |",
        headings.iter().map(|h| cell(h)).collect::<Vec<_>>().join(" | ")
    )?;
    let rule: Vec<&str> = (0..headings.len())
        .map(|i| if right(i) { "---:" } else { "---" })
        .collect();
    writeln!(out, "| {} |", rule.join(" | "))?;
    for row in rows {
        writeln!(
            out,
            "| {} |",
            row.iter().map(|c| cell(c)).collect::<Vec<_>>().join(" | ")
        )?;
    }
    Ok(())
}

pub fn render(report: &Scorecard, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "## DORA metrics\n\n{}\n", window_line(report))?;
    let scale = report.level_scale;
    let rows = summary_rows(&report.overall, scale)
        .into_iter()
        .map(Vec::from)
        .collect();
    table(
        out,
        ["Metric", "Value", "Sample", scale.title()].map(String::from),
        rows,
        4,
    )?;
    writeln!(out, "\n{}.", standing_line(report))?;
    writeln!(out, "\n{}.", crate::output::batch_line(&report.overall))?;
    if let Some(line) = crate::output::commit_lines_line(report) {
        writeln!(out, "\n{line}.")?;
    }
    if let Some(line) = cost_line(report) {
        writeln!(out, "\n{line}.")?;
    }
    if let Some(rows) = rollout_rows(&report.overall) {
        writeln!(out, "\n### Progressive delivery: failures caught during rollout\n")?;
        let rows = rows.into_iter().map(Vec::from).collect();
        table(out, ["Measure", "Value", "Sample"].map(String::from), rows, 3)?;
    }
    if let Some(rows) = feedback_rows(&report.overall) {
        writeln!(out, "\n### Feedback loop: from users' reports to fixes in production\n")?;
        let rows = rows.into_iter().map(Vec::from).collect();
        table(out, ["Measure", "Value", "Sample"].map(String::from), rows, 3)?;
    }
    if let Some(rows) = ai_rows(&report.overall, report.pull_requests.as_ref()) {
        writeln!(out, "\n### AI-assisted changes\n")?;
        let rows = rows.into_iter().map(Vec::from).collect();
        table(out, ["Measure", "Value", "Sample"].map(String::from), rows, 3)?;
    }
    if let Some(line) = crate::output::breakdown_line(report) {
        writeln!(out, "\n{line}.")?;
    }
    if let Some(dimension) = report.group_by {
        writeln!(out, "\n### By {dimension}\n")?;
        let rows = report
            .groups
            .iter()
            .map(|g| {
                std::iter::once(group_name(g.key.as_deref()).to_string())
                    .chain(breakdown_cells(&g.figures))
                    .collect()
            })
            .collect();
        table(
            out,
            std::iter::once(dimension.to_string()).chain(breakdown_headings(report)),
            rows,
            1,
        )?;
    }
    if let Some(period) = report.period {
        writeln!(out, "\n### By {period}\n")?;
        let rows = report
            .periods
            .iter()
            .map(|p| {
                std::iter::once(p.start.to_string())
                    .chain(breakdown_cells(&p.figures))
                    .collect()
            })
            .collect();
        table(
            out,
            std::iter::once(format!("{period} of")).chain(breakdown_headings(report)),
            rows,
            1,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_table_row_has_the_heading_s_cells_and_pipes_are_escaped() {
        let text = crate::output::sample_rendered(crate::output::Format::Markdown);
        assert!(text.contains("acme/a\\|b"), "{text}");
        // Each table's rows split into as many cells as its heading (escaped pipes excepted).
        for table in text.split("\n\n").filter(|block| block.starts_with('|')) {
            let cells = |line: &str| line.replace("\\|", "").matches('|').count();
            let mut lines = table.lines();
            let width = cells(lines.next().expect("a heading"));
            assert!(lines.all(|l| cells(l) == width), "{table}");
        }
        assert!(text.contains("### By repo"), "{text}");
    }
}
