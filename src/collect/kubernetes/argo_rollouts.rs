//! Argo Rollouts: `kubectl get rollouts.argoproj.io -A -o json` (a list, or one Rollout).
//!
//! Fields read (argoproj/argo-rollouts, pkg/apis/rollouts/v1alpha1/types.go):
//! - `metadata.annotations["rollout.argoproj.io/revision"]`: the revision, part of the id;
//! - `status.duration` (newer versions): `rolloutStartedAt`, `finishedAt` and
//!   `completionStatus` (`Promoted`, `FastPromoted`: completed; `Aborted`; `Superseded`: a newer
//!   revision replaced it before it completed, not a deployment of its own);
//! - without `status.duration`: `status.abort` / `status.abortedAt`, and the conditions
//!   (`RolloutCondition`): `Progressing` with reason `RolloutAborted` (aborted, at its
//!   `lastTransitionTime`), `Completed` with status `True` and reason `RolloutCompleted` (completed,
//!   at its `lastTransitionTime`); the start is the `Progressing` condition's
//!   `lastTransitionTime` when its reason is `ReplicaSetUpdated` (the new revision began rolling
//!   out), else unknown;
//! - `status.canary.weights.canary.weight` (`TrafficWeights`): the traffic an aborted canary had
//!   reached; a completed rollout reached 100;
//! - `spec.template.spec.containers[0].image`: the deployed commit, as its tag (or an annotation
//!   named with `--commit-annotation`).

use std::path::Path;

use serde_json::Value;

use super::{Options, Read, Row, bad, name_of, objects, repo_and_sha, time};
use crate::error::Result;
use crate::table::schema::status;

const REVISION: &str = "rollout.argoproj.io/revision";

/// The deployments of the Rollouts in `file`.
pub fn read(file: &Path, options: &Options) -> Result<Read> {
    let mut read = Read::default();
    for (at, object) in objects(file)? {
        let kind = object["kind"].as_str().unwrap_or_default();
        if kind != "Rollout" {
            read.skipped.push((at, format!("not a Rollout (kind `{kind}`)")));
            continue;
        }
        match rollout(file, &at, &object, options)? {
            Ok(row) => read.rows.push(row),
            Err(reason) => read.skipped.push((format!("{} ({at})", name_of(&object)), reason)),
        }
    }
    Ok(read)
}

/// The deployment of one Rollout's latest revision, or why there is none yet.
fn rollout(file: &Path, at: &str, object: &Value, options: &Options) -> Result<Result<Row, String>> {
    let status = &object["status"];
    let revision = object["metadata"]["annotations"][REVISION]
        .as_str()
        .ok_or_else(|| bad(file, &format!("{at}.metadata.annotations"), format!("no `{REVISION}`")))?;
    let (repo, sha) = repo_and_sha(object, &object["spec"]["template"]["spec"]["containers"], options);
    let conditions: Vec<&Value> = status["conditions"]
        .as_array()
        .map(|c| c.iter().collect())
        .unwrap_or_default();
    let condition = |kind: &str| conditions.iter().position(|c| c["type"] == kind);
    let condition_time = |n: usize| {
        time(
            file,
            &format!("{at}.status.conditions[{n}].lastTransitionTime"),
            &conditions[n]["lastTransitionTime"],
        )
    };
    let weight = status["canary"]["weights"]["canary"]["weight"].as_f64();

    let (state, started, ended) = if let Some(duration) = status.get("duration").filter(|d| !d.is_null()) {
        let path = format!("{at}.status.duration");
        let started = time(file, &format!("{path}.rolloutStartedAt"), &duration["rolloutStartedAt"])?;
        let finished = time(file, &format!("{path}.finishedAt"), &duration["finishedAt"])?;
        let state = match duration["completionStatus"].as_str() {
            None => return Ok(Err("still rolling out".into())),
            Some("Promoted" | "FastPromoted") => status::SUCCESS,
            Some("Aborted") => status::ABORTED,
            Some("Superseded") => return Ok(Err("superseded by a newer revision before it completed".into())),
            Some(other) => {
                return Err(bad(
                    file,
                    &format!("{path}.completionStatus"),
                    format!(
                        "`{other}` is not a completion status; expected Promoted, FastPromoted, Aborted or Superseded"
                    ),
                ));
            }
        };
        let Some(finished) = finished else {
            return Err(bad(
                file,
                &format!("{path}.finishedAt"),
                "a completed rollout has no finishedAt",
            ));
        };
        (state, started, finished)
    } else {
        // Versions without `status.duration`: the conditions tell.
        let started = match condition("Progressing") {
            Some(n) if conditions[n]["reason"] == "ReplicaSetUpdated" => condition_time(n)?,
            _ => None,
        };
        let aborted_by_condition = condition("Progressing").filter(|&n| conditions[n]["reason"] == "RolloutAborted");
        if status["abort"].as_bool() == Some(true) || aborted_by_condition.is_some() {
            let at_abort = time(file, &format!("{at}.status.abortedAt"), &status["abortedAt"])?;
            let ended = match (at_abort, aborted_by_condition) {
                (Some(t), _) => t,
                (None, Some(n)) => condition_time(n)?.unwrap_or_default(),
                (None, None) => {
                    return Err(bad(
                        file,
                        &format!("{at}.status.abortedAt"),
                        "an aborted rollout has no time",
                    ));
                }
            };
            (status::ABORTED, started, ended)
        } else {
            let completed = condition("Completed")
                .filter(|&n| conditions[n]["status"] == "True" && conditions[n]["reason"] == "RolloutCompleted");
            match completed {
                Some(n) => match condition_time(n)? {
                    Some(t) => (status::SUCCESS, started, t),
                    None => return Ok(Err("completed without a time".into())),
                },
                None => return Ok(Err("still rolling out".into())),
            }
        }
    };
    let exposure = if state == status::ABORTED { weight } else { Some(100.0) };
    if let Some(w) = exposure.filter(|w| !(0.0..=100.0).contains(w)) {
        return Err(bad(
            file,
            &format!("{at}.status.canary.weights.canary.weight"),
            format!("{w} is not a percentage from 0 to 100"),
        ));
    }
    if state == status::ABORTED && started.is_some_and(|s| s > ended) {
        return Err(bad(
            file,
            &format!("{at}.status"),
            "the rollout was aborted before it started",
        ));
    }
    Ok(Ok(Row {
        id: format!("{}@{revision}", name_of(object)),
        repo,
        status: state,
        started_at: started,
        deployed_at: ended,
        exposure,
        sha,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> Options {
        Options {
            environment: "production".into(),
            repo: None,
            commit_annotation: None,
        }
    }

    fn read_text(text: &str) -> Result<Read> {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("rollouts.json");
        std::fs::write(&path, text).expect("write");
        read(&path, &options())
    }

    /// A Rollout as the API serves it, with `status` given.
    fn rollout(name: &str, revision: u32, status: &str) -> String {
        format!(
            r#"{{"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
                "metadata": {{"name": "{name}", "namespace": "shop", "annotations": {{"rollout.argoproj.io/revision": "{revision}"}}}},
                "spec": {{"template": {{"spec": {{"containers": [{{"name": "app", "image": "ghcr.io/acme/{name}:3f2a9c1"}}]}}}}}},
                "status": {status}}}"#
        )
    }

    #[test]
    fn revisions_by_their_duration_or_their_conditions() {
        let promoted = rollout(
            "checkout",
            7,
            r#"{"phase": "Healthy", "duration": {"rolloutStartedAt": "2026-03-02T09:00:00Z", "finishedAt": "2026-03-02T10:00:00Z", "completionStatus": "Promoted"}}"#,
        );
        let aborted = rollout(
            "search",
            3,
            r#"{"abort": true, "abortedAt": "2026-03-03T09:30:00Z", "phase": "Degraded",
                "canary": {"weights": {"canary": {"weight": 20}, "stable": {"weight": 80}}},
                "conditions": [{"type": "Progressing", "status": "False", "reason": "RolloutAborted", "lastTransitionTime": "2026-03-03T09:30:00Z", "lastUpdateTime": "2026-03-03T09:30:00Z", "message": ""}]}"#,
        );
        let completed = rollout(
            "cart",
            2,
            r#"{"conditions": [
                {"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated", "lastTransitionTime": "2026-03-04T08:00:00Z", "lastUpdateTime": "2026-03-04T08:00:00Z", "message": ""},
                {"type": "Completed", "status": "True", "reason": "RolloutCompleted", "lastTransitionTime": "2026-03-04T08:40:00Z", "lastUpdateTime": "2026-03-04T08:40:00Z", "message": ""}]}"#,
        );
        let progressing = rollout(
            "api",
            9,
            r#"{"phase": "Progressing", "duration": {"rolloutStartedAt": "2026-03-05T09:00:00Z"}}"#,
        );
        let text = format!(
            r#"{{"apiVersion": "v1", "kind": "List", "items": [{promoted}, {aborted}, {completed}, {progressing}, {{"kind": "Deployment", "metadata": {{"name": "x"}}}}]}}"#
        );
        let read = read_text(&text).expect("read");
        let ids: Vec<(&str, &str, Option<f64>)> = read
            .rows
            .iter()
            .map(|r| (r.id.as_str(), r.status, r.exposure))
            .collect();
        assert_eq!(
            ids,
            [
                ("shop/checkout@7", "success", Some(100.0)),
                ("shop/search@3", "aborted", Some(20.0)),
                ("shop/cart@2", "success", Some(100.0))
            ]
        );
        assert_eq!(read.rows[0].sha.as_deref(), Some("3f2a9c1"));
        assert_eq!(read.rows[0].repo, "shop/checkout");
        assert_eq!(
            read.rows[2].started_at,
            crate::timestamp::parse("2026-03-04T08:00:00Z", chrono_tz::UTC)
        );
        assert_eq!(read.rows[1].started_at, None);
        let skipped: Vec<&str> = read.skipped.iter().map(|(_, why)| why.as_str()).collect();
        assert_eq!(skipped, ["still rolling out", "not a Rollout (kind `Deployment`)"]);
    }

    #[test]
    fn bad_objects_are_named_with_their_path() {
        let unknown = rollout(
            "checkout",
            7,
            r#"{"duration": {"rolloutStartedAt": "2026-03-02T09:00:00Z", "finishedAt": "2026-03-02T10:00:00Z", "completionStatus": "Paused"}}"#,
        );
        let e = read_text(&unknown).expect_err("unknown status").to_string();
        assert!(
            e.contains("at $.status.duration.completionStatus") && e.contains("`Paused`"),
            "{e}"
        );
        let e = read_text("[1, 2").expect_err("not JSON").to_string();
        assert!(e.contains("not JSON"), "{e}");
        let no_revision = r#"{"kind": "Rollout", "metadata": {"name": "a"}, "status": {}}"#;
        let e = read_text(no_revision).expect_err("no revision").to_string();
        assert!(e.contains("$.metadata.annotations") && e.contains(REVISION), "{e}");
    }
}
