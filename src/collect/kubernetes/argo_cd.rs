//! Argo CD: `kubectl get applications.argoproj.io -A -o json` (a list, or one Application).
//!
//! Each entry of `status.history[]` (`RevisionHistory`: `id`, `revision`, `deployStartedAt`,
//! `deployedAt`, `source`, newest last) is a completed deployment: Argo CD records an entry when a
//! sync succeeds. Its id is `namespace/name#id`, its commit `revision`, `started_at` its
//! `deployStartedAt` (when the sync began: the rollout's start), `deployed_at` its `deployedAt`.
//! The repository is `--repo`, else the `dora.dev/repo` annotation, else `owner/name` of the
//! source's `repoURL` on any host (`https://github.com/acme/api.git` is `acme/api`), else
//! `namespace/name`. The history keeps the last ten syncs by default, so snapshots taken at least
//! every ten syncs miss none; importing one again changes nothing.

use std::path::Path;

use serde_json::Value;

use super::{Options, Read, Row, bad, name_of, objects, time};
use crate::error::Result;
use crate::table::schema::status;

/// The deployments in the history of the Applications in `file`.
pub fn read(file: &Path, options: &Options) -> Result<Read> {
    let mut read = Read::default();
    for (at, object) in objects(file)? {
        let kind = object["kind"].as_str().unwrap_or_default();
        if kind != "Application" {
            read.skipped.push((at, format!("not an Application (kind `{kind}`)")));
            continue;
        }
        let history = match &object["status"]["history"] {
            Value::Array(h) => h.as_slice(),
            Value::Null => &[],
            _ => return Err(bad(file, &format!("{at}.status.history"), "not a list")),
        };
        if history.is_empty() {
            read.skipped
                .push((format!("{} ({at})", name_of(&object)), "no sync in its history".into()));
        }
        for (n, entry) in history.iter().enumerate() {
            let path = format!("{at}.status.history[{n}]");
            let id = match &entry["id"] {
                Value::Number(id) => id.to_string(),
                Value::String(id) => id.clone(),
                _ => return Err(bad(file, &format!("{path}.id"), "missing")),
            };
            let deployed = time(file, &format!("{path}.deployedAt"), &entry["deployedAt"])?
                .ok_or_else(|| bad(file, &format!("{path}.deployedAt"), "missing"))?;
            let started = time(file, &format!("{path}.deployStartedAt"), &entry["deployStartedAt"])?;
            read.rows.push(Row {
                id: format!("{}#{id}", name_of(&object)),
                repo: repo(&object, entry, options),
                status: status::SUCCESS,
                started_at: started,
                deployed_at: deployed,
                exposure: None,
                sha: entry["revision"].as_str().map(str::to_string),
            });
        }
    }
    Ok(read)
}

fn repo(object: &Value, entry: &Value, options: &Options) -> String {
    if let Some(repo) = &options.repo {
        return repo.clone();
    }
    if let Some(repo) = object["metadata"]["annotations"]["dora.dev/repo"].as_str() {
        return repo.to_string();
    }
    let url = entry["source"]["repoURL"]
        .as_str()
        .or_else(|| object["spec"]["source"]["repoURL"].as_str());
    url.and_then(owner_and_name).unwrap_or_else(|| name_of(object))
}

/// `owner/name` of a git URL: `https://github.com/acme/api.git`, `git@github.com:acme/api`.
fn owner_and_name(url: &str) -> Option<String> {
    let path = url.trim_end_matches('/').trim_end_matches(".git");
    let path = path.rsplit_once(':').map_or(path, |(_, p)| p);
    let mut parts = path.rsplit('/');
    let name = parts.next().filter(|n| !n.is_empty())?;
    let owner = parts.next().filter(|o| !o.is_empty() && !o.contains('.'))?;
    Some(format!("{owner}/{name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sync_of_the_history_is_a_deployment() {
        let text = r#"{"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": {"name": "api", "namespace": "argocd"},
            "spec": {"source": {"repoURL": "https://github.com/acme/api.git", "path": "deploy"}},
            "status": {"sync": {"status": "Synced"}, "health": {"status": "Healthy"}, "history": [
                {"id": 11, "revision": "a1b2c3d4", "deployStartedAt": "2026-03-02T09:58:00Z", "deployedAt": "2026-03-02T10:00:00Z",
                 "source": {"repoURL": "https://github.com/acme/api.git"}},
                {"id": 12, "revision": "e5f6a7b8", "deployStartedAt": "2026-03-03T09:50:00Z", "deployedAt": "2026-03-03T10:00:00Z",
                 "source": {"repoURL": "git@github.com:acme/api"}}]}}]}"#;
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("apps.json");
        std::fs::write(&path, text).expect("write");
        let options = Options {
            environment: "production".into(),
            repo: None,
            commit_annotation: None,
        };
        let read = read(&path, &options).expect("read");
        let rows: Vec<(&str, &str, Option<&str>)> = read
            .rows
            .iter()
            .map(|r| (r.id.as_str(), r.repo.as_str(), r.sha.as_deref()))
            .collect();
        assert_eq!(
            rows,
            [
                ("argocd/api#11", "acme/api", Some("a1b2c3d4")),
                ("argocd/api#12", "acme/api", Some("e5f6a7b8"))
            ]
        );
        assert_eq!(
            read.rows[1].started_at,
            crate::timestamp::parse("2026-03-03T09:50:00Z", chrono_tz::UTC)
        );
        assert_eq!(
            owner_and_name("https://gitlab.example.com/group/sub/app.git"),
            Some("sub/app".into())
        );
        assert_eq!(owner_and_name("https://example.com"), None);
    }
}
