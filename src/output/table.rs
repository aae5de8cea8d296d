//! The terminal table: the default output of `dora metrics`.

use std::io::Write;

use comfy_table::{Cell, CellAlignment, Table, presets::UTF8_FULL_CONDENSED};

use crate::analysis::figures::Scorecard;
use crate::output::{
    ai_rows, batch_line, breakdown_cells, breakdown_headings, cost_line, feedback_rows, group_name, rollout_rows,
    standing_line, summary_rows, window_line,
};

fn new_table(headings: impl IntoIterator<Item = String>) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(headings);
    t
}

fn right_align(t: &mut Table, from: usize) {
    for i in from..t.column_count() {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
}

pub fn render(report: &Scorecard, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "DORA metrics, {}", window_line(report))?;
    let scale = report.level_scale;
    let mut t = new_table(["metric", "value", "sample", scale.heading()].map(String::from));
    for row in summary_rows(&report.overall, scale) {
        t.add_row(row.map(Cell::new));
    }
    writeln!(out, "{t}")?;
    writeln!(out, "{}", standing_line(report))?;
    writeln!(out, "{}", batch_line(&report.overall))?;
    if let Some(line) = crate::output::commit_lines_line(report) {
        writeln!(out, "{line}")?;
    }
    if let Some(line) = cost_line(report) {
        writeln!(out, "{line}")?;
    }
    for (heading, rows) in [
        ("progressive delivery", rollout_rows(&report.overall)),
        ("feedback loop", feedback_rows(&report.overall)),
        (
            "AI-assisted changes",
            ai_rows(&report.overall, report.pull_requests.as_ref()),
        ),
    ] {
        let Some(rows) = rows else { continue };
        let mut t = new_table([heading, "value", "sample"].map(String::from));
        for row in rows {
            t.add_row(row.map(Cell::new));
        }
        writeln!(out, "{t}")?;
    }
    if let Some(line) = crate::output::breakdown_line(report) {
        writeln!(out, "{line}")?;
    }
    if report.overall.unattributed_incidents > 0 {
        writeln!(
            out,
            "note: {} incident(s) could not be attributed to a production deployment",
            report.overall.unattributed_incidents
        )?;
    }

    if let Some(dimension) = report.group_by {
        let mut t = new_table(std::iter::once(dimension.to_string()).chain(breakdown_headings(report)));
        for g in &report.groups {
            let cells = breakdown_cells(&g.figures);
            t.add_row(std::iter::once(group_name(g.key.as_deref()).to_string()).chain(cells));
        }
        right_align(&mut t, 1);
        writeln!(out, "\nby {dimension}\n{t}")?;
    }
    if let Some(period) = report.period {
        let mut t = new_table(std::iter::once(format!("{period} of")).chain(breakdown_headings(report)));
        for p in &report.periods {
            t.add_row(std::iter::once(p.start.to_string()).chain(breakdown_cells(&p.figures)));
        }
        right_align(&mut t, 1);
        writeln!(out, "\nby {period}\n{t}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_summary_lists_every_metric_and_the_groups_by_name() {
        let text = crate::output::sample_rendered(crate::output::Format::Table);
        for m in crate::analysis::catalogue::Metric::ALL {
            assert!(text.contains(m.spec().name), "{}: {text}", m.spec().name);
        }
        // The feedback loop, under the DORA table: bugs' lead time and the open ones.
        assert!(
            text.contains("feedback loop") && text.contains("p50 25.0 h") && text.contains("2 (median age 3.0 d)"),
            "{text}"
        );
        // A group without a key is shown as `(none)`; a key is shown as it is.
        assert!(text.contains("(none)") && text.contains("acme/a|b"), "{text}");
        assert!(text.contains("2.5 h"), "{text}");
    }
}
