//! Shields-style SVG badges: a grey label and a value coloured by DORA level.

use super::in_unit;
use crate::analysis::catalogue::Metric;
use crate::analysis::figures::Figures;
use crate::analysis::levels::Level;
use crate::output::shown;

/// One badge per metric of the catalogue: (file name without `.svg`, the SVG). The feedback
/// loop's only with issue data, progressive delivery's only with rollouts.
pub fn badges(f: &Figures) -> Vec<(&'static str, String)> {
    Metric::ALL
        .iter()
        .filter(|m| shown(m.spec().section, f))
        .map(|m| {
            let s = m.spec();
            let value = (s.value)(f).map(|v| in_unit(s.unit, v, |w| format!("{w:.1}/week")));
            (s.id, svg(s.badge, value.as_deref(), (s.level)(f)))
        })
        .collect()
}

/// Colours of shields.io's palette.
fn color(level: Option<Level>, known: bool) -> &'static str {
    match (level, known) {
        (_, false) => "#9f9f9f",
        (Some(Level::Elite), _) => "#44cc11",
        (Some(Level::High), _) => "#97ca00",
        (Some(Level::Medium), _) => "#dfb317",
        (Some(Level::Low), _) => "#e05d44",
        (None, true) => "#007ec6",
    }
}

/// Approximate width in pixels of `text` in 11 px Verdana, the badge font.
fn text_width(text: &str) -> f64 {
    text.chars()
        .map(|c| match c {
            'i' | 'l' | 'j' | '.' | ',' | ':' | ';' | '|' | '!' | '\'' => 3.5,
            ' ' | 'f' | 't' | 'r' | '(' | ')' | '/' => 4.8,
            'm' | 'w' | 'M' | 'W' | '%' => 10.5,
            c if c.is_ascii_uppercase() => 7.8,
            _ => 7.0,
        })
        .sum()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// One badge. `value` is `None` when the figure is unknown (drawn grey as "no data").
pub fn svg(label: &str, value: Option<&str>, level: Option<Level>) -> String {
    let shown = value.unwrap_or("no data");
    let fill = color(level, value.is_some());
    let lw = (text_width(label) + 12.0).round();
    let vw = (text_width(shown) + 12.0).round();
    let w = lw + vw;
    let (label, shown) = (escape(label), escape(shown));
    let (lx, vx) = (lw / 2.0, lw + vw / 2.0);
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="20" role="img" aria-label="{label}: {shown}"><title>{label}: {shown}</title><linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient><clipPath id="r"><rect width="{w}" height="20" rx="3" fill="#fff"/></clipPath><g clip-path="url(#r)"><rect width="{lw}" height="20" fill="#555"/><rect x="{lw}" width="{vw}" height="20" fill="{fill}"/><rect width="{w}" height="20" fill="url(#s)"/></g><g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11"><text x="{lx}" y="15" fill="#010101" fill-opacity=".3">{label}</text><text x="{lx}" y="14">{label}</text><text x="{vx}" y="15" fill="#010101" fill-opacity=".3">{shown}</text><text x="{vx}" y="14">{shown}</text></g></svg>
"##
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_by_level_and_escaping() {
        let b = svg("lead time", Some("17.0 h"), Some(Level::Elite));
        assert!(b.contains(r##"fill="#44cc11""##) && b.contains("lead time: 17.0 h"));
        assert!(svg("x", None, None).contains("no data") && svg("x", None, None).contains("#9f9f9f"));
        assert!(svg("a<b", Some("1"), None).contains("a&lt;b"));
        assert!(svg("rework", Some("5%"), None).contains("#007ec6"));
    }

    #[test]
    fn one_badge_per_metric_valued_in_its_unit() {
        let mut f = Figures::default();
        f.deployment_frequency.per_week = Some(3.3);
        f.lead_time_hours.median = Some(17.0);
        f.levels.lead_time = Some(Level::Elite);
        let all = badges(&f);
        let ids: Vec<&str> = all.iter().map(|(id, _)| *id).collect();
        assert_eq!(
            ids,
            [
                "deployment-frequency",
                "lead-time",
                "change-failure-rate",
                "time-to-restore",
                "recovery-time",
                "rework-rate"
            ]
        );
        assert!(all[0].1.contains("deployments: 3.3/week"), "{}", all[0].1);
        f.issues = Some(crate::analysis::figures::IssueFigures::default());
        f.issues.as_mut().expect("issues").bug.lead_time_hours.median = Some(50.0);
        let with_issues = badges(&f);
        assert_eq!(with_issues.len(), 8, "the feedback loop's, not progressive delivery's");
        assert!(
            with_issues[6].1.contains("bug lead time: 2.1 d"),
            "{}",
            with_issues[6].1
        );
        assert!(with_issues[7].1.contains("open bugs: 0"), "{}", with_issues[7].1);
        assert!(all[1].1.contains("lead time: 17.0 h") && all[1].1.contains("#44cc11"));
        assert!(all[2].1.contains("change failure rate: no data"));
    }
}
