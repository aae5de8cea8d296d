//! `dora.toml`: settings a team writes once, so a weekly job is one command: those of
//! `dora collect github`, and how `dora metrics`, `report` and `badge` rate the figures.
//!
//! ```toml
//! [github]
//! repos = ["acme/api", "acme/web"]     # and/or
//! org = "acme"
//! exclude = ["sandbox-*"]
//! since = "2026-01-01"
//! api_url = "https://github.example.com/api/v3"
//! concurrency = 4
//! deployments_from = "deployments"
//! environment = "production"
//! canary_environment = "canary"
//! incident_labels = ["incident", "sev1"]
//! bug_labels = ["bug"]
//! feature_labels = ["enhancement", "feature"]
//! max_wait = 900
//!
//! [github.repo."acme/web"]             # per repository
//! deployments_from = "releases"
//! prereleases = false
//!
//! [metrics]
//! levels = "2025"                      # or "2023"
//! industry = "technology"              # or org_size = "fewer_than_1000"
//! downtime_cost_per_hour = 10000
//!
//! [ai]                                 # AI-assisted changes (docs/metrics.md)
//! co_authors = ["agent@acme.dev", "Acme Agent"]
//! labels = ["ai-generated"]
//! ```
//!
//! A flag on the command line wins over the file; a repository's section wins over `[github]`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};

/// What a repository's sync can override.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepoSettings {
    pub deployments_from: Option<String>,
    pub environment: Option<String>,
    pub canary_environment: Option<String>,
    pub incident_labels: Option<Vec<String>>,
    pub bug_labels: Option<Vec<String>>,
    pub feature_labels: Option<Vec<String>>,
    pub prereleases: Option<bool>,
    pub tags: Option<String>,
    pub revert_as_failure: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GithubSettings {
    #[serde(default)]
    pub repos: Vec<String>,
    pub org: Option<String>,
    #[serde(default)]
    pub exclude: Vec<String>,
    pub since: Option<String>,
    pub api_url: Option<String>,
    pub concurrency: Option<usize>,
    pub max_wait: Option<u64>,
    #[serde(flatten)]
    pub defaults: RepoSettings,
    /// Per repository, by `owner/name`.
    #[serde(default)]
    pub repo: BTreeMap<String, RepoSettings>,
}

/// How the figures are rated and costed (`dora metrics`, `report`, `badge`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSettings {
    /// `2023` or `2025`.
    pub levels: Option<String>,
    pub industry: Option<String>,
    pub org_size: Option<String>,
    pub downtime_cost_per_hour: Option<f64>,
}

/// How AI-assisted changes are recognised, beyond the assistants dora knows.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AiSettings {
    /// `Co-authored-by:` addresses or names that mark a commit AI-assisted.
    #[serde(default)]
    pub co_authors: Vec<String>,
    /// Pull request labels that mark a pull request AI-assisted (`--ai-label`).
    #[serde(default)]
    pub labels: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    #[serde(default)]
    pub github: GithubSettings,
    #[serde(default)]
    pub metrics: MetricsSettings,
    #[serde(default)]
    pub ai: AiSettings,
}

/// The settings file: `path` when given (it must exist), else `dora.toml` in the working
/// folder when there is one, else nothing.
pub fn load(path: Option<&Path>) -> Result<(FileConfig, Option<PathBuf>)> {
    let (path, required) = match path {
        Some(p) => (p.to_path_buf(), true),
        None => (PathBuf::from("dora.toml"), false),
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => return Ok((FileConfig::default(), None)),
        Err(e) => return Err(Error::io("read", &path, e)),
    };
    let config = toml::from_str(&text).map_err(|e| Error::Config {
        path: path.clone(),
        message: e.to_string(),
    })?;
    Ok((config, Some(path)))
}

impl RepoSettings {
    /// `self` where set, else `fallback`.
    #[must_use]
    pub fn or(&self, fallback: &RepoSettings) -> RepoSettings {
        RepoSettings {
            deployments_from: self
                .deployments_from
                .clone()
                .or_else(|| fallback.deployments_from.clone()),
            environment: self.environment.clone().or_else(|| fallback.environment.clone()),
            canary_environment: self
                .canary_environment
                .clone()
                .or_else(|| fallback.canary_environment.clone()),
            incident_labels: self
                .incident_labels
                .clone()
                .or_else(|| fallback.incident_labels.clone()),
            bug_labels: self.bug_labels.clone().or_else(|| fallback.bug_labels.clone()),
            feature_labels: self.feature_labels.clone().or_else(|| fallback.feature_labels.clone()),
            prereleases: self.prereleases.or(fallback.prereleases),
            tags: self.tags.clone().or_else(|| fallback.tags.clone()),
            revert_as_failure: self.revert_as_failure.or(fallback.revert_as_failure),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_and_repository_sections() {
        let config: FileConfig = toml::from_str(
            r#"
            [github]
            repos = ["acme/api", "acme/web"]
            deployments_from = "deployments"
            incident_labels = ["incident"]
            [github.repo."acme/web"]
            deployments_from = "releases"
            "#,
        )
        .unwrap();
        let g = &config.github;
        assert_eq!(g.repos, ["acme/api", "acme/web"]);
        let web = g.repo["acme/web"].or(&g.defaults);
        assert_eq!(web.deployments_from.as_deref(), Some("releases"));
        assert_eq!(web.incident_labels, Some(vec!["incident".to_string()]));
        assert!(
            toml::from_str::<FileConfig>("[github]\nrepoz = []").is_err(),
            "typos are errors"
        );
        let metrics: FileConfig =
            toml::from_str("[metrics]\nlevels = \"2023\"\ndowntime_cost_per_hour = 2500.5").unwrap();
        assert_eq!(metrics.metrics.levels.as_deref(), Some("2023"));
        assert_eq!(metrics.metrics.downtime_cost_per_hour, Some(2500.5));
        assert!(toml::from_str::<FileConfig>("[metric]\nlevels = \"2023\"").is_err());
    }
}
