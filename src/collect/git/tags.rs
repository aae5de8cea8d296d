//! Which tags are deployments, and in which order deployments at the same instant go.

use std::cmp::Ordering;

/// Which tag names count as deployments.
#[derive(Debug, Clone)]
pub enum TagPattern {
    /// `1.2`, `1.2.3`, `v1.2.3`, `v1.2.3+build`: release versions. Pre-releases (`v2.0.0-rc.1`)
    /// rarely reach production and are left out; `--tags 'v*'` takes them in.
    Release,
    /// A glob (`*`, `?`, `[...]`), as `--tags` gives it.
    Glob(glob::Pattern),
}

impl TagPattern {
    pub fn parse(glob_text: Option<&str>) -> Result<Self, String> {
        match glob_text {
            None => Ok(TagPattern::Release),
            Some(g) => glob::Pattern::new(g)
                .map(TagPattern::Glob)
                .map_err(|e| format!("invalid --tags pattern `{g}`: {e}")),
        }
    }

    pub fn matches(&self, name: &str) -> bool {
        match self {
            TagPattern::Glob(p) => p.matches(name),
            TagPattern::Release => is_release(name),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            TagPattern::Release => "release versions (v1.2.3, 1.2)".into(),
            TagPattern::Glob(p) => format!("`{}`", p.as_str()),
        }
    }
}

fn is_release(name: &str) -> bool {
    let version = name.strip_prefix(['v', 'V']).unwrap_or(name);
    let core = version.split_once('+').map_or(version, |(core, _)| core);
    let parts: Vec<&str> = core.split('.').collect();
    (2..=3).contains(&parts.len())
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// Version order: runs of digits compare as numbers (`v1.10` after `v1.9`), the rest as text.
pub fn version_cmp(a: &str, b: &str) -> Ordering {
    let chunks = |s: &str| -> Vec<(bool, String)> {
        let mut out: Vec<(bool, String)> = Vec::new();
        for c in s.chars() {
            let digit = c.is_ascii_digit();
            match out.last_mut() {
                Some((d, text)) if *d == digit => text.push(c),
                _ => out.push((digit, c.to_string())),
            }
        }
        out
    };
    let (ca, cb) = (chunks(a), chunks(b));
    for ((da, ta), (db, tb)) in ca.iter().zip(&cb) {
        let ord = if *da && *db {
            let (na, nb) = (ta.trim_start_matches('0'), tb.trim_start_matches('0'));
            na.len().cmp(&nb.len()).then_with(|| na.cmp(nb))
        } else {
            ta.cmp(tb)
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    ca.len().cmp(&cb.len()).then_with(|| a.cmp(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_versions() {
        for yes in ["v1.2.3", "1.2.3", "V10.0", "v1.2.3+build.7", "2026.11.27"] {
            assert!(is_release(yes), "{yes}");
        }
        for no in ["v1", "v1.2.3-rc.1", "latest", "v1..2", "release-1.2", "v1.2.3.4"] {
            assert!(!is_release(no), "{no}");
        }
    }

    #[test]
    fn globs() {
        let p = TagPattern::parse(Some("deploy-*")).unwrap();
        assert!(p.matches("deploy-2026-11-27") && !p.matches("v1.0.0"));
        assert!(TagPattern::parse(Some("[")).is_err());
    }

    #[test]
    fn numeric_order() {
        let mut tags = vec!["v1.10.0", "v1.9.0", "v1.9.10", "v1.9.2", "v2.0.0"];
        tags.sort_by(|a, b| version_cmp(a, b));
        assert_eq!(tags, ["v1.9.0", "v1.9.2", "v1.9.10", "v1.10.0", "v2.0.0"]);
    }
}
