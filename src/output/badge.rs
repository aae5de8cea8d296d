//! Shields-style SVG badges: a grey label and a value coloured by its rating: the Quick Check
//! score (2025) or the DORA 2023 level.

use super::in_unit;
use crate::analysis::catalogue::{Metric, Spec};
use crate::analysis::figures::Figures;
use crate::analysis::levels::LevelScale;
use crate::output::{rating_step, shown};

/// One badge per metric of the catalogue: (file name without `.svg`, the SVG). The feedback
/// loop's only with issue data, progressive delivery's only with rollouts.
pub fn badges(f: &Figures, scale: LevelScale) -> Vec<(&'static str, String)> {
    Metric::ALL
        .iter()
        .filter(|m| shown(m.spec().section, f))
        .map(|m| {
            let s = m.spec();
            let value = (s.value)(f).map(|v| in_unit(s.unit, v, |w| format!("{w:.1}/week")));
            let fill = if value.is_some() { color(s, f, scale) } else { NO_DATA };
            (s.id, svg(s.badge, value.as_deref(), fill))
        })
        .collect()
}

/// Colours of shields.io's palette: grey without data, blue for a value the scale does not rate.
const NO_DATA: &str = "#9f9f9f";
const UNRATED: &str = "#007ec6";
const GREEN: &str = "#44cc11";
const YELLOWGREEN: &str = "#97ca00";
const YELLOW: &str = "#dfb317";
const ORANGE: &str = "#fe7d37";
const RED: &str = "#e05d44";

/// The colour of a known value, by its rating's step (see [`rating_step`]).
fn color(spec: &Spec, f: &Figures, scale: LevelScale) -> &'static str {
    match rating_step(spec, f, scale) {
        Some(4) => GREEN,
        Some(3) => YELLOWGREEN,
        Some(2) => YELLOW,
        Some(1) => ORANGE,
        Some(_) => RED,
        None => UNRATED,
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

/// One badge, its value on `fill`. `value` is `None` when the figure is unknown ("no data").
pub fn svg(label: &str, value: Option<&str>, fill: &str) -> String {
    let shown = value.unwrap_or("no data");
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
    use crate::analysis::levels::Level;

    #[test]
    fn fill_text_and_escaping() {
        let b = svg("lead time", Some("17.0 h"), GREEN);
        assert!(b.contains(r##"fill="#44cc11""##) && b.contains("lead time: 17.0 h"));
        assert!(svg("x", None, NO_DATA).contains("no data"));
        assert!(svg("a<b", Some("1"), UNRATED).contains("a&lt;b"));
    }

    #[test]
    fn one_badge_per_metric_valued_in_its_unit() {
        let mut f = Figures::default();
        f.deployment_frequency.per_week = Some(3.3);
        f.deployment_frequency.per_day = Some(3.3 / 7.0);
        f.lead_time_hours.median = Some(17.0);
        f.levels.lead_time = Some(Level::Elite);
        f.quick_check = crate::analysis::quick_check::of(&f);
        let all = badges(&f, LevelScale::Dora2023);
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
        let with_issues = badges(&f, LevelScale::Dora2023);
        assert_eq!(with_issues.len(), 8, "the feedback loop's, not progressive delivery's");
        assert!(
            with_issues[6].1.contains("bug lead time: 2.1 d"),
            "{}",
            with_issues[6].1
        );
        assert!(with_issues[7].1.contains("open bugs: 0"), "{}", with_issues[7].1);
        assert!(all[1].1.contains("lead time: 17.0 h") && all[1].1.contains("#44cc11"));
        assert!(all[2].1.contains("change failure rate: no data") && all[2].1.contains(NO_DATA));
        // 2025: 17 h is "less than one day", score 8: green; 3.3 a week is "between once per
        // day and once per week", score 6; time to restore has no Quick Check score.
        let scored = badges(&f, LevelScale::QuickCheck2025);
        assert!(scored[1].1.contains(GREEN) && scored[0].1.contains(YELLOWGREEN));
        f.time_to_restore_hours.median = Some(2.0);
        assert!(badges(&f, LevelScale::QuickCheck2025)[3].1.contains(UNRATED));
    }
}
