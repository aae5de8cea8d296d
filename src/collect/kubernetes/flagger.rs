//! Flagger: `kubectl get canaries -A -o json` (a list, or one Canary).
//!
//! Fields read (fluxcd/flagger, pkg/apis/flagger/v1beta1 `CanaryStatus`): `phase` (`Succeeded`:
//! the canary was promoted; `Failed`: the analysis failed and the canary was rolled back, an
//! aborted rollout; the other phases are a rollout under way or none), `lastTransitionTime` (when
//! it ended), `lastAppliedSpec` (the hash of the revision: part of the id) and `canaryWeight`
//! (the traffic the canary had when the snapshot was taken). Flagger's status has no start
//! time: these deployments have no `started_at` (an aborted one counts in `recovery_unknown`).
//! Flagger sets the weight back to 0 when a canary fails; a weight of 0 is read as unknown.

use std::path::Path;

use serde_json::Value;

use super::{Options, Read, Row, bad, name_of, objects, repo_and_sha, time};
use crate::error::Result;
use crate::table::schema::status;

const UNDER_WAY: [&str; 9] = [
    "Initializing",
    "Initialized",
    "Waiting",
    "Progressing",
    "WaitingPromotion",
    "Promoting",
    "Finalising",
    "Terminating",
    "Terminated",
];

/// The deployments of the Canaries in `file`.
pub fn read(file: &Path, options: &Options) -> Result<Read> {
    let mut read = Read::default();
    for (at, object) in objects(file)? {
        let kind = object["kind"].as_str().unwrap_or_default();
        if kind != "Canary" {
            read.skipped.push((at, format!("not a Canary (kind `{kind}`)")));
            continue;
        }
        let status = &object["status"];
        let phase = status["phase"].as_str().unwrap_or_default();
        let state = match phase {
            "Succeeded" => status::SUCCESS,
            "Failed" => status::ABORTED,
            p if UNDER_WAY.contains(&p) || p.is_empty() => {
                read.skipped.push((
                    format!("{} ({at})", name_of(&object)),
                    format!("phase `{p}`: no finished rollout"),
                ));
                continue;
            }
            other => {
                return Err(bad(
                    file,
                    &format!("{at}.status.phase"),
                    format!("`{other}` is not a Canary phase"),
                ));
            }
        };
        let spec = status["lastAppliedSpec"]
            .as_str()
            .ok_or_else(|| bad(file, &format!("{at}.status.lastAppliedSpec"), "missing"))?;
        let ended = time(
            file,
            &format!("{at}.status.lastTransitionTime"),
            &status["lastTransitionTime"],
        )?
        .ok_or_else(|| bad(file, &format!("{at}.status.lastTransitionTime"), "missing"))?;
        let weight = status["canaryWeight"].as_f64().filter(|w| *w > 0.0);
        if let Some(w) = weight.filter(|w| *w > 100.0) {
            return Err(bad(
                file,
                &format!("{at}.status.canaryWeight"),
                format!("{w} is not a percentage from 0 to 100"),
            ));
        }
        let (repo, sha) = repo_and_sha(&object, &Value::Null, options);
        read.rows.push(Row {
            id: format!("{}@{spec}", name_of(&object)),
            repo,
            status: state,
            started_at: None,
            deployed_at: ended,
            exposure: if state == status::SUCCESS { Some(100.0) } else { weight },
            sha,
        });
    }
    Ok(read)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn succeeded_and_failed_canaries_are_deployments() {
        let canary = |name: &str, phase: &str, weight: u32| {
            format!(
                r#"{{"apiVersion": "flagger.app/v1beta1", "kind": "Canary",
                    "metadata": {{"name": "{name}", "namespace": "shop", "annotations": {{"dora.dev/repo": "acme/{name}"}}}},
                    "status": {{"phase": "{phase}", "canaryWeight": {weight}, "failedChecks": 0, "iterations": 0,
                               "lastAppliedSpec": "5b8c9d", "lastTransitionTime": "2026-03-02T10:00:00Z"}}}}"#
            )
        };
        let text = format!(
            r#"{{"kind": "List", "items": [{}, {}, {}]}}"#,
            canary("checkout", "Succeeded", 0),
            canary("search", "Failed", 10),
            canary("cart", "Progressing", 30)
        );
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("canaries.json");
        std::fs::write(&path, &text).expect("write");
        let options = Options {
            environment: "production".into(),
            repo: None,
            commit_annotation: None,
        };
        let read = read(&path, &options).expect("read");
        let rows: Vec<(&str, &str, &str, Option<f64>)> = read
            .rows
            .iter()
            .map(|r| (r.id.as_str(), r.repo.as_str(), r.status, r.exposure))
            .collect();
        assert_eq!(
            rows,
            [
                ("shop/checkout@5b8c9d", "acme/checkout", "success", Some(100.0)),
                ("shop/search@5b8c9d", "acme/search", "aborted", Some(10.0))
            ]
        );
        assert_eq!(read.skipped.len(), 1);
        std::fs::write(&path, canary("x", "Exploded", 0)).expect("write");
        let e = super::read(&path, &options).expect_err("unknown phase").to_string();
        assert!(e.contains("at $.status.phase") && e.contains("`Exploded`"), "{e}");
    }
}
